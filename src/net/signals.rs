//! The one place that installs signal handlers. They only record what arrived — in
//! [`crate::cancel`] for commands, in this module's statics for the lab's supervisor —
//! and everything else reads that state.
//!
//! - [`install_cancel`]: SIGINT, SIGTERM and SIGHUP stop what runs (scripts, `-c`, the
//!   REPL, `handshake`, `scan`); a second Ctrl-C before it stops restores the default,
//!   so a third ends tcpcraft even if something does not look at the flag. Handlers are
//!   installed without SA_RESTART, so blocking calls return EINTR and loops look.
//! - [`install_supervisor`]: the lab's supervisor, which passes signals on to the
//!   tcpcraft it runs inside the practice network.

use std::sync::atomic::{AtomicI32, Ordering};

use super::sys;

extern "C" fn on_cancel(sig: libc::c_int) {
    if sig == libc::SIGINT && crate::cancel::interrupted() {
        sys::default_signals(&[libc::SIGINT]);
    }
    crate::cancel::record_signal(sig);
}

/// Record a hang-up as SIGHUP would have (the terminal went away before its signal came).
pub fn record_hangup() {
    crate::cancel::record_signal(libc::SIGHUP);
}

/// Route SIGINT, SIGTERM and SIGHUP to [`crate::cancel`].
pub fn install_cancel() {
    sys::on_signals(&[libc::SIGINT, libc::SIGTERM, libc::SIGHUP], on_cancel);
}

/// A signal for the lab's supervisor to pass on to the inner tcpcraft, or 0.
static FORWARD: AtomicI32 = AtomicI32::new(0);

/// Any signal at all (from the terminal too): while the network is being built there is
/// no inner tcpcraft to receive it, so the lab is torn down instead of started.
static ANY: AtomicI32 = AtomicI32::new(0);

/// Signals the terminal sends (Ctrl-C, hang-up) reach the whole foreground process
/// group, the inner tcpcraft included, so only those another process sent to the
/// supervisor alone (`kill`, SI_USER) are passed on, as the same signal.
extern "C" fn on_supervisor(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    ANY.store(sig, Ordering::Relaxed);
    let from_user = info.is_null() || {
        #[allow(unsafe_code)] // reason: the kernel hands an SA_SIGINFO handler a valid siginfo_t
        let code = unsafe { (*info).si_code };
        sys::signal_from_user(code)
    };
    if from_user {
        FORWARD.store(sig, Ordering::Relaxed);
    }
}

/// The lab supervisor's handlers for SIGTERM, SIGHUP and SIGINT.
pub fn install_supervisor() {
    sys::on_signals_info(&[libc::SIGTERM, libc::SIGHUP, libc::SIGINT], on_supervisor);
}

/// The last signal of any origin since the last call (0: none).
pub fn take_any() -> i32 {
    ANY.swap(0, Ordering::Relaxed)
}

/// The last signal to pass on since the last call (0: none).
pub fn take_forward() -> i32 {
    FORWARD.swap(0, Ordering::Relaxed)
}
