//! `tcpcraft lab`: a practice network with a real server, and tcpcraft running inside it.
//!
//! Process model (why): this process stays in the host's namespace as a supervisor. It
//! builds the network (namespaces tcpc-labPID-c / -s, veth, addresses, the Python server
//! with HTTP on 80, echo on TCP/UDP 7, and 8443 silently dropped), then runs tcpcraft
//! itself again inside the client namespace (`ip netns exec … tcpcraft -c/run/repl`) with
//! `target` and `target6` predefined. Whatever way that child ends — exit, Ctrl-C (which
//! the terminal delivers to the child; the supervisor ignores it), SIGTERM or SIGHUP to
//! the supervisor (forwarded) — the supervisor removes everything it made. If the
//! supervisor itself is killed, the server dies with it (PR_SET_PDEATHSIG) and the next
//! `tcpcraft lab` removes the leftover namespaces, saying so in one line.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use super::sys;
use super::testbed::{self, Bed, BedConfig, SERVER_V4, SERVER_V6};

/// What to run in the lab.
#[derive(Clone, Debug, Default)]
pub struct LabArgs {
    /// `-c CODE`
    pub code: Option<String>,
    /// `run FILE [ARGS…]`
    pub file: Option<PathBuf>,
    pub file_args: Vec<OsString>,
    /// Global options to pass on to the inner tcpcraft (`--pcap`, `-v`, `--color` …).
    pub global: Vec<OsString>,
    /// `-q`: no welcome, no notes.
    pub quiet: bool,
}

/// Statements run before the user's code inside the lab.
pub fn prelude() -> String {
    format!("target = \"{SERVER_V4}\"\ntarget6 = \"{SERVER_V6}\"\n")
}

/// The welcome printed before the REPL.
pub fn welcome() -> String {
    format!(
        "tcpcraft lab: a practice network. You are in the client (198.18.0.1); the server \
         {SERVER_V4} / {SERVER_V6}\nruns real Linux listeners: TCP 80 (HTTP), TCP 7 and UDP 7 \
         (echo); TCP 8443 is silently dropped; every other port is closed.\n\
         `target` and `target6` hold its addresses. Three things to try:\n  \
         r = sr1(IP(dst=target)/TCP(dport=80, flags=\"S\"), timeout=1)      # a SYN-ACK: open\n  \
         sr1(IP(dst=target)/TCP(dport=8443, flags=\"S\"), timeout=1)         # none: filtered\n  \
         s = session(target, 80); s.send(\"S\"); s.expect(\"SA\"); s.send(\"A\")   # a handshake by hand\n\
         Leave with Ctrl-D; the network is removed when you do.\n"
    )
}

static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    SIGNAL.store(sig, Ordering::Relaxed);
}

fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Remove labs left behind by a tcpcraft that was killed. Returns the ids removed.
pub fn remove_stale() -> Vec<String> {
    let mut removed = Vec::new();
    for id in testbed::bed_ids("lab") {
        let owner = id.strip_prefix("lab").and_then(|p| p.parse::<u32>().ok());
        let stale = match owner {
            Some(pid) => pid != std::process::id() && !pid_alive(pid),
            None => false,
        };
        if stale && testbed::remove_by_id(&id) {
            removed.push(id);
        }
    }
    removed
}

/// Run the lab; returns the exit status (the inner tcpcraft's, or 3 for a system error).
pub fn run(args: &LabArgs) -> u8 {
    let say = |m: &str| {
        if !args.quiet {
            eprintln!("{m}");
        }
    };
    if let Err(why) = testbed::can_build() {
        eprintln!("tcpcraft: lab: {why}: run it with sudo (`sudo tcpcraft lab`)");
        return 3;
    }
    for id in remove_stale() {
        eprintln!(
            "tcpcraft: lab: removed a practice network left behind by an earlier run (tcpc-{id}-c, tcpc-{id}-s)"
        );
    }
    // Signals first, so a SIGTERM during setup still leads to cleanup.
    sys::on_signals(&[libc::SIGTERM, libc::SIGHUP, libc::SIGINT], on_signal);
    let id = format!("lab{}", std::process::id());
    let bed = match Bed::up(&BedConfig::standard(&id)) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("tcpcraft: lab: building the practice network failed: {e}");
            return 3;
        }
    };
    let code = run_inside(&bed, args, say);
    drop(bed);
    sys::default_signals(&[libc::SIGTERM, libc::SIGHUP, libc::SIGINT]);
    let _ = io::stderr().flush();
    code
}

fn run_inside(bed: &Bed, args: &LabArgs, say: impl Fn(&str)) -> u8 {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("tcpcraft: lab: cannot find my own executable: {e}");
            return 3;
        }
    };
    let mut cmd = bed.client_cmd(&exe.to_string_lossy());
    cmd.args(&args.global);
    cmd.env("TCPCRAFT_PRELUDE", prelude());
    cmd.env("TCPCRAFT_LAB", &bed.id);
    match (&args.code, &args.file) {
        (Some(code), _) => {
            cmd.arg("-c").arg(code);
        }
        (None, Some(file)) => {
            cmd.arg("run").arg(file).args(&args.file_args);
        }
        (None, None) => {
            use std::io::IsTerminal;
            // On a terminal: the REPL with a welcome; piped: statements from stdin.
            if io::stdin().is_terminal() {
                say(&welcome());
                cmd.arg("repl");
            }
        }
    }
    // The inner tcpcraft must not outlive the supervisor, even if it is killed.
    #[allow(unsafe_code)] // reason: prctl is async-signal-safe, as pre_exec requires
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tcpcraft: lab: starting tcpcraft in the client namespace: {e}");
            return 3;
        }
    };
    let mut forwarded = false;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return status.code().map(|c| c.clamp(0, 255) as u8).unwrap_or(130);
            }
            Ok(None) => {}
            Err(e) => {
                eprintln!("tcpcraft: lab: waiting for tcpcraft: {e}");
                let _ = child.kill();
                return 3;
            }
        }
        let sig = SIGNAL.swap(0, Ordering::Relaxed);
        // Ctrl-C reaches the child straight from the terminal; only pass on what the
        // terminal does not (SIGTERM, SIGHUP, or a SIGINT sent to us alone).
        if sig != 0 && !forwarded {
            if sig != libc::SIGINT {
                sys::kill(child.id(), libc::SIGTERM);
                forwarded = true;
            } else {
                // Give the child a moment to handle its own Ctrl-C; if it is gone by then
                // the loop ends, otherwise it is still running its REPL.
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
