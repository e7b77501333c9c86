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
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
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
    /// `--lesson NAME`: the inner tcpcraft runs the lesson (src/lesson/).
    pub lesson: Option<LabLesson>,
}

/// A lesson to run in the lab, as resolved by the command line.
#[derive(Clone, Debug, Default)]
pub struct LabLesson {
    pub name: String,
    /// `en` or `zh`.
    pub lang: String,
    /// The server namespace's `net.ipv4.tcp_synack_retries` for this lesson (set before
    /// the inner tcpcraft starts, so that the peer model gives up when the server does).
    pub synack_retries: Option<u32>,
    /// The one line that says so.
    pub note: Option<String>,
}

/// The variables the inner tcpcraft predefines (`--lab-inner`): the server's addresses.
pub fn predefined() -> Vec<(String, String)> {
    vec![
        ("target".into(), SERVER_V4.to_string()),
        ("target6".into(), SERVER_V6.to_string()),
    ]
}

/// The welcome printed before the REPL.
pub fn welcome() -> String {
    format!(
        "tcpcraft lab: a practice network. You are in the client (198.18.0.1); the server \
         {SERVER_V4} / {SERVER_V6}\nruns real Linux listeners: TCP 80 (HTTP), TCP 7 and UDP 7 \
         (echo), TCP 9 (answers only after your FIN), TCP 13 (greets, then closes first),\n\
         TCP 17 (closes 1 s after your FIN), TCP 19 (\"pong\" to each line); TCP 8443 is \
         silently dropped; every other port is closed.\n\
         `target` and `target6` hold its addresses. Three things to try:\n  \
         r = sr1(IP(dst=target)/TCP(dport=80, flags=\"S\"), timeout=1)      # a SYN-ACK: open\n  \
         sr1(IP(dst=target)/TCP(dport=8443, flags=\"S\"), timeout=1)         # none: filtered\n  \
         s = session(target, 80); s.send(\"S\"); s.expect(\"SA\"); s.send(\"A\")   # a handshake by hand\n\
         Guided lessons: tcpcraft lab --lesson handshake | teardown | why-three | why-four | reset \
         | simultaneous-close (--lang zh: 中文).\n\
         Leave with Ctrl-D; the network is removed when you do.\n"
    )
}

/// `tcp_synack_retries,tcp_fin_timeout` of the namespace this thread is in.
fn server_timers() -> Option<String> {
    let read = |name: &str| {
        std::fs::read_to_string(format!("/proc/sys/net/ipv4/{name}"))
            .ok()
            .map(|s| s.trim().to_string())
    };
    Some(format!(
        "{},{}",
        read("tcp_synack_retries")?,
        read("tcp_fin_timeout")?
    ))
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
        return crate::exit::SYSTEM;
    }
    for id in remove_stale() {
        eprintln!(
            "tcpcraft: lab: removed a practice network left behind by an earlier run (tcpc-{id}-c, tcpc-{id}-s)"
        );
    }
    // Signals first, so a SIGTERM during setup still leads to cleanup.
    super::signals::install_supervisor();
    let id = format!("lab{}", std::process::id());
    let bed = match Bed::up(&BedConfig::lab(&id)) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("tcpcraft: lab: building the practice network failed: {e}");
            return crate::exit::SYSTEM;
        }
    };
    let early = super::signals::take_any();
    if early != 0 {
        drop(bed);
        sys::default_signals(&[libc::SIGTERM, libc::SIGHUP, libc::SIGINT]);
        eprintln!(
            "tcpcraft: lab: stopped by a signal while the network was being built; removed it"
        );
        return (128 + early).clamp(0, 255) as u8;
    }
    super::signals::take_forward();
    let interactive = args.code.is_none()
        && args.file.is_none()
        && args.lesson.is_none()
        && io::stdin().is_terminal();
    let code = run_inside(&bed, args, say);
    let (client, server, id) = (bed.client.clone(), bed.server.clone(), bed.id.clone());
    drop(bed);
    if interactive && !args.quiet {
        // The terminal may be gone (a hang-up): a failed write must not panic.
        let _ = writeln!(io::stderr(), "{}", removal_note(&id, &client, &server));
    }
    sys::default_signals(&[libc::SIGTERM, libc::SIGHUP, libc::SIGINT]);
    let _ = io::stderr().flush();
    code
}

/// What leaving the shell removed (or, if some of it is still there, what is left).
fn removal_note(id: &str, client: &str, server: &str) -> String {
    if testbed::bed_ids("lab").iter().any(|b| b == id) {
        return format!(
            "tcpcraft lab: could not remove all of the practice network: {client} / {server} remain (the next `tcpcraft lab` removes them)"
        );
    }
    format!(
        "tcpcraft lab: removed the practice network: network namespaces {client} and {server} \
         (with the veth pair tc0 between them, their addresses and routes, the firewall tables \
         in them: the server's tcpcraft_faults and any RST guard), the server's listeners \
         and /run/tcpcraft/{id}"
    )
}

/// The variables passed on to the inner tcpcraft.
fn inner_env(name: &str) -> bool {
    matches!(
        name,
        "TERM"
            | "COLORTERM"
            | "NO_COLOR"
            | "COLUMNS"
            | "LINES"
            | "LANG"
            | "LC_ALL"
            | "LC_CTYPE"
            | "HOME"
            | "XDG_STATE_HOME"
            | "SUDO_UID"
            | "SUDO_GID"
            | "SUDO_USER"
            | "CI"
    ) || name.starts_with("TCPCRAFT_")
}

fn run_inside(bed: &Bed, args: &LabArgs, say: impl Fn(&str)) -> u8 {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("tcpcraft: lab: cannot find my own executable: {e}");
            return crate::exit::SYSTEM;
        }
    };
    let mut cmd = bed.client_cmd(&exe.to_string_lossy());
    // A fixed environment: the terminal's, the sudo user's ids (the inner tcpcraft becomes
    // that user, src/privileges.rs) and tcpcraft's own switches; nothing else of the
    // caller's reaches the programs run as root.
    cmd.env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    for (k, v) in std::env::vars_os() {
        if k.to_str().is_some_and(inner_env) {
            cmd.env(k, v);
        }
    }
    // `target` and `target6` by an explicit option, never as code in the environment.
    cmd.arg("--lab-inner");
    cmd.args(&args.global);
    cmd.env("TCPCRAFT_LAB", &bed.id);
    // The truth beside the model: a sock_diag socket made inside the server's namespace,
    // inherited by the inner tcpcraft (kept open here until it ends), and the server's
    // give-up timers for the peer model.
    let diag_fd = match super::diag::open_in_netns(&bed.server) {
        Ok(fd) => match sys::set_inherited(&fd, true) {
            Ok(()) => {
                use std::os::fd::AsRawFd;
                cmd.env(crate::net::diag::DIAG_FD_ENV, fd.as_raw_fd().to_string());
                Some(fd)
            }
            Err(_) => None,
        },
        Err(e) => {
            say(&format!(
                "tcpcraft: lab: the server's socket states cannot be shown ({e})"
            ));
            None
        }
    };
    if let Some(retries) = args.lesson.as_ref().and_then(|l| l.synack_retries) {
        // In the server's namespace only: its sysctl, not the host's.
        let set = bed.in_server(move || {
            std::fs::write("/proc/sys/net/ipv4/tcp_synack_retries", retries.to_string())
        });
        match set {
            Ok(Ok(())) => {
                if let Some(note) = args.lesson.as_ref().and_then(|l| l.note.as_deref()) {
                    say(note);
                }
            }
            Ok(Err(e)) | Err(e) => say(&format!(
                "tcpcraft: lab: cannot set the server's tcp_synack_retries: {e}"
            )),
        }
    }
    if let Ok(Some(timers)) = bed.in_server(server_timers) {
        cmd.env(crate::net::diag::TIMERS_ENV, timers);
    }
    match (&args.code, &args.file) {
        _ if args.lesson.is_some() => {
            if let Some(l) = &args.lesson {
                cmd.args(["repl", "--lesson", &l.name, "--lang", &l.lang]);
            }
        }
        (Some(code), _) => {
            cmd.arg("-c").arg(code);
        }
        (None, Some(file)) => {
            cmd.arg("run").arg(file).args(&args.file_args);
        }
        (None, None) => {
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
            return crate::exit::SYSTEM;
        }
    };
    // The child has its own copy now.
    drop(diag_fd);
    let mut forwarded: Vec<libc::c_int> = Vec::new();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                use std::os::unix::process::ExitStatusExt;
                // A child a signal ended reports as a shell would: 128 + the signal.
                let code = status.code().or(status.signal().map(|s| 128 + s));
                return code
                    .map(|c| c.clamp(0, 255) as u8)
                    .unwrap_or(crate::exit::SYSTEM);
            }
            Ok(None) => {}
            Err(e) => {
                eprintln!("tcpcraft: lab: waiting for tcpcraft: {e}");
                let _ = child.kill();
                return crate::exit::SYSTEM;
            }
        }
        let sig = super::signals::take_forward();
        // The inner tcpcraft stops what it runs on SIGINT (and, in the REPL, goes on),
        // and ends with 143 / 129 on SIGTERM / SIGHUP: pass each on once.
        if sig != 0 && !forwarded.contains(&sig) {
            sys::kill(child.id(), sig);
            forwarded.push(sig);
            if sig == libc::SIGINT {
                // Further Ctrl-Cs are passed on too (a second one lets the default act).
                forwarded.pop();
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
