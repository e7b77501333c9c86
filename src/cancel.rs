//! One cancellation state for the whole program: what the signals asked for.
//!
//! The handlers (`net::signals`, the one place that installs any) only record here;
//! whatever runs — the evaluator's loops, `sleep`, network waits, a scan, a session's
//! `expect` — looks at [`interrupted`] and stops. Every command ends with
//! [`exit_status`], so a run a signal cut short reports 128 + its number, as shells do
//! (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
//!
//! Signal handlers can reach only statics, so this state is process-wide by nature;
//! it is kept here, in one place, and nowhere else.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Set by Ctrl-C, SIGTERM or SIGHUP (or by [`request`]): stop what runs. The scanner's
/// hot loops read it directly.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether a SIGINT arrived. A script that a Ctrl-C stopped in `sniff` (which keeps what
/// it caught and lets the script go on, as scapy does) still ends with 130, so that
/// whoever ran it knows it was cut short. The REPL clears it at each prompt.
static GOT_SIGINT: AtomicBool = AtomicBool::new(false);

/// The signal that should end tcpcraft (SIGTERM or SIGHUP), or 0. SIGINT is not kept
/// here: it only stops what runs (a script then ends with 130, the REPL goes on).
static ENDING_SIGNAL: AtomicI32 = AtomicI32::new(0);

const SIGINT: i32 = 2;

/// Whether something asked the running work to stop since the last [`clear`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Ask the running work to stop. Async-signal-safe.
pub fn request() {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// Let work run again after a stop (`sniff` keeps what it caught and lets the script go
/// on); the Ctrl-C is still remembered for the exit status.
pub fn clear() {
    INTERRUPTED.store(false, Ordering::Relaxed);
}

/// Forget an earlier Ctrl-C altogether (the REPL, before each input).
pub fn clear_all() {
    clear();
    GOT_SIGINT.store(false, Ordering::SeqCst);
}

/// Record a signal (called from the handler; async-signal-safe): SIGINT stops what
/// runs, any other (SIGTERM, SIGHUP) stops it and ends tcpcraft.
pub fn record_signal(sig: i32) {
    if sig == SIGINT {
        GOT_SIGINT.store(true, Ordering::SeqCst);
    } else {
        ENDING_SIGNAL.store(sig, Ordering::SeqCst);
    }
    request();
}

/// SIGTERM or SIGHUP received since start, if any: tcpcraft should finish up and end.
pub fn ending_signal() -> Option<i32> {
    match ENDING_SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The exit status for `code` once signals are taken into account: 128 + the signal's
/// number, as shells report a process a signal ended (143 SIGTERM, 129 SIGHUP, 130 SIGINT).
pub fn exit_status(code: u8) -> u8 {
    match ending_signal() {
        Some(sig) => (128 + sig).clamp(0, 255) as u8,
        None if GOT_SIGINT.load(Ordering::SeqCst) => crate::exit::SIGINT,
        None => code,
    }
}
