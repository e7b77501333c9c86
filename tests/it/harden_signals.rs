//! Clean exits on every path: SIGINT, SIGTERM and SIGHUP while tcpcraft waits in a
//! session's `expect`, in `sniff`, in `sr`, in `tcpcraft handshake`, inside `tcpcraft lab`
//! and at the REPL prompt (driven in a pty) end it with 130 / 143 / 129 and leave no
//! nftables table, namespace, veth link or child process behind; `--pcap` files stay
//! readable. After SIGKILL the next `tcpcraft lab` removes what the killed one left and
//! says so in one line.
//!
//! Everything runs in namespaces made here (198.18.0.0/15 only; 198.19.0.0/16 is routed
//! into the server namespace, where nothing answers). Needs root: fails under CI=true when
//! it cannot run, skips elsewhere.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::testbed;
use testbed::Bed;

const EXE: &str = env!("CARGO_BIN_EXE_tcpcraft");

const SIGNALS: [(&str, i32, i32); 3] = [
    ("INT", libc::SIGINT, 130),
    ("TERM", libc::SIGTERM, 143),
    ("HUP", libc::SIGHUP, 129),
];

/// A running tcpcraft whose stdout lines arrive on a channel.
struct Run {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Run {
    fn start(mut cmd: Command) -> Run {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("tcpcraft starts");
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let err = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx2.send(format!("stderr: {l}"));
            }
        });
        Run {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `what` (panics after 20 s).
    fn wait_for(&mut self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(100)) {
                let hit = l.contains(what);
                self.seen.push(l);
                if hit {
                    return;
                }
            }
        }
        panic!("no line with {what:?}; saw {:#?}", self.seen);
    }

    fn signal(&self, sig: i32) {
        assert_eq!(
            unsafe_free_kill(self.child.id(), sig),
            0,
            "kill {sig} {}",
            self.child.id()
        );
    }

    /// The exit status as a shell reports it (128 + signal when a signal ended it).
    fn status(&mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                use std::os::unix::process::ExitStatusExt;
                while let Ok(l) = self.lines.try_recv() {
                    self.seen.push(l);
                }
                return st.code().or(st.signal().map(|s| 128 + s)).unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "tcpcraft did not end: {:#?}",
                self.seen
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `kill(1)` instead of libc, so the test needs no unsafe code.
fn unsafe_free_kill(pid: u32, sig: i32) -> i32 {
    let ok = Command::new("kill")
        .args([format!("-{sig}"), pid.to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ok {
        0
    } else {
        -1
    }
}

/// Every descendant of `pid` (walking /proc's parent links).
fn descendants(pid: u32) -> BTreeSet<u32> {
    let mut parent = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                continue;
            };
            // pid (comm) state ppid …: the comm may hold spaces, so cut after ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|s| s.parse::<u32>().ok());
            if let Some(pp) = ppid {
                parent.push((p, pp));
            }
        }
    }
    let mut out = BTreeSet::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for &(c, pp) in &parent {
            if pp == p && out.insert(c) {
                frontier.push(c);
            }
        }
    }
    out
}

/// Waits (up to 3 s) until none of `pids` is alive; panics naming the survivors.
fn assert_gone(pids: &BTreeSet<u32>, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let alive: Vec<String> = pids
            .iter()
            .filter(|p| Path::new(&format!("/proc/{p}")).exists())
            .filter_map(|p| std::fs::read(format!("/proc/{p}/cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .filter(|c| !c.is_empty())
            .collect();
        if alive.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: child processes left: {alive:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn tables(ns: &str) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "nft", "list", "tables"])
        .output()
        .expect("nft");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits (up to 3 s) for the client namespace to hold no table of tcpcraft's guard.
fn assert_no_guard(bed: &Bed, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while tables(&bed.client).contains("tcpcraft_") {
        assert!(
            Instant::now() < deadline,
            "{what}: guard table left: {}",
            tables(&bed.client)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Checks that `path` is a capture tcpdump (when installed) and tcpcraft both read.
fn assert_readable_pcap(path: &Path, what: &str) {
    let bytes = std::fs::read(path).unwrap_or_default();
    assert!(
        bytes.len() >= 24,
        "{what}: {} has no pcap header",
        path.display()
    );
    let mut r = tcpcraft::pcap::Reader::new(&bytes[..]).expect("a pcap header");
    while let Some(rec) = r.next_record() {
        assert!(rec.is_ok(), "{what}: a broken record in {}", path.display());
    }
    if let Ok(out) = Command::new("tcpdump")
        .args(["-nr"])
        .arg(path)
        .stdout(Stdio::null())
        .output()
    {
        assert!(
            out.status.success(),
            "{what}: tcpdump cannot read {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// This test's scratch directory (tests run in parallel: one per test thread).
fn temp_dir() -> PathBuf {
    let test = std::thread::current()
        .name()
        .unwrap_or("main")
        .replace("::", "-");
    std::env::temp_dir().join(format!("tcpcraft-harden-{}-{test}", std::process::id()))
}

fn temp(name: &str) -> PathBuf {
    let dir = temp_dir();
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

/// Removes this test's scratch directory (left in place when a test fails, to look at).
fn cleanup() {
    let _ = std::fs::remove_dir_all(temp_dir());
}

/// One script in the client namespace, signalled once `marker` is printed.
fn script_case(bed: &Bed, name: &str, code: &str, marker: &str) {
    for (sname, sig, want) in SIGNALS {
        let what = format!("{name} + SIG{sname}");
        let pcap = temp(&format!("{name}-{sname}.pcap"));
        let mut cmd = bed.client_cmd(EXE);
        cmd.arg("--pcap").arg(&pcap).args(["-c", code]);
        let mut run = Run::start(cmd);
        run.wait_for(marker);
        // Let the wait begin (capture armed, probe out).
        std::thread::sleep(Duration::from_millis(400));
        let kids = descendants(run.child.id());
        run.signal(sig);
        assert_eq!(run.status(), want, "{what}: {:#?}", run.seen);
        assert_no_guard(bed, &what);
        assert_gone(&kids, &what);
        assert_readable_pcap(&pcap, &what);
    }
}

#[test]
fn signals_in_expect_sniff_and_sr() {
    let Some(bed) = testbed::standard("signals in expect, sniff and sr") else {
        return;
    };
    // 198.19.0.5 is routed into the server namespace, where nothing answers.
    script_case(
        &bed,
        "expect",
        r#"s = session("198.19.0.5", 80)
s.send("S")
print("waiting")
s.expect("SA", timeout=60)"#,
        "waiting",
    );
    script_case(
        &bed,
        "sniff",
        r#"sr1(IP(dst="198.18.0.2")/TCP(dport=80, flags="S"), timeout=1)
print("waiting")
p = sniff(timeout=60)
print("caught", len(p))"#,
        "waiting",
    );
    script_case(
        &bed,
        "sr",
        r#"print("waiting")
ans = sr([IP(dst="198.19.0.5")/TCP(dport=80, flags="S"), IP(dst="198.19.0.5")/TCP(dport=81, flags="S")], timeout=60, retry=3)"#,
        "waiting",
    );
    cleanup();
}

#[test]
fn signals_in_handshake() {
    let Some(bed) = testbed::standard("signals in handshake") else {
        return;
    };
    for (sname, sig, want) in SIGNALS {
        let what = format!("handshake + SIG{sname}");
        let mut cmd = bed.client_cmd(EXE);
        cmd.args(["handshake", "198.19.0.7:80", "--timeout", "60"]);
        let mut run = Run::start(cmd);
        // The SYN line is printed before the wait for the SYN-ACK.
        run.wait_for("Flags [S]");
        std::thread::sleep(Duration::from_millis(300));
        let kids = descendants(run.child.id());
        run.signal(sig);
        assert_eq!(run.status(), want, "{what}: {:#?}", run.seen);
        assert_no_guard(&bed, &what);
        assert_gone(&kids, &what);
    }
}

fn lab_namespaces() -> BTreeSet<String> {
    std::fs::read_dir("/run/netns")
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("tcpc-lab"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn signals_in_the_lab_and_sigkill_then_rerun() {
    if testbed::standard("signals in the lab").is_none() {
        return;
    }
    let code = r#"s = session(target, 80)
s.send("S")
print("waiting")
p = sniff(timeout=60)"#;
    for (sname, sig, want) in SIGNALS {
        let what = format!("lab + SIG{sname}");
        let mut cmd = Command::new(EXE);
        cmd.args(["lab", "-c", code]);
        let mut run = Run::start(cmd);
        run.wait_for("waiting");
        std::thread::sleep(Duration::from_millis(300));
        let pid = run.child.id();
        let mine = format!("tcpc-lab{pid}-c");
        assert!(lab_namespaces().contains(&mine), "{what}: the lab is up");
        let kids = descendants(pid);
        run.signal(sig);
        assert_eq!(run.status(), want, "{what}: {:#?}", run.seen);
        let left: Vec<String> = lab_namespaces()
            .into_iter()
            .filter(|n| n.starts_with(&format!("tcpc-lab{pid}-")))
            .collect();
        assert!(left.is_empty(), "{what}: namespaces left: {left:?}");
        assert!(
            !Path::new(&format!("/run/tcpcraft/lab{pid}")).exists(),
            "{what}: state directory left"
        );
        assert_gone(&kids, &what);
    }

    // SIGKILL: nothing can clean up at once; the next run removes it and says so.
    let mut cmd = Command::new(EXE);
    cmd.args(["lab", "-c", code]);
    let mut run = Run::start(cmd);
    run.wait_for("waiting");
    let pid = run.child.id();
    let kids = descendants(pid);
    run.signal(libc::SIGKILL);
    assert_eq!(run.status(), 128 + libc::SIGKILL);
    // The inner tcpcraft and the server die with the supervisor (PR_SET_PDEATHSIG).
    assert_gone(&kids, "lab after SIGKILL");
    assert!(lab_namespaces().contains(&format!("tcpc-lab{pid}-c")));
    let out = Command::new(EXE)
        .args(["lab", "-c", "print(target)"])
        .stdin(Stdio::null())
        .output()
        .expect("lab");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let notes: Vec<&str> = err
        .lines()
        .filter(|l| l.contains(&format!("lab{pid}")))
        .collect();
    assert_eq!(notes.len(), 1, "one line about the leftover: {err}");
    assert!(notes[0].contains("removed"), "{err}");
    let left: Vec<String> = lab_namespaces()
        .into_iter()
        .filter(|n| n.starts_with(&format!("tcpc-lab{pid}-")))
        .collect();
    assert!(left.is_empty(), "namespaces left after the rerun: {left:?}");
}

/// Drives the REPL in a pseudo-terminal with python3's pty module: types a session
/// and a sniff, Ctrl-C stops the sniff (the REPL goes on), then the signal arrives at
/// the prompt. Prints the exit status on its last line.
const PTY_DRIVER: &str = r#"
import os, pty, sys, time, select, signal
argv = sys.argv[2:]
sig = int(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out = b""
def read(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return
def until(what, t=15):
    end = time.time() + t
    while what not in out and time.time() < end:
        read(0.1)
until(b">>> ")
os.write(fd, b's = session("198.19.0.5", 80); s.send("S")\r'); until(b"SYN_SENT")
os.write(fd, b'print("sniffing"); p = sniff(timeout=60)\r'); until(b"sniffing")
time.sleep(0.5)
os.write(fd, b"\x03"); read(1.0)
if sig == 0:
    os.write(fd, b'print("still here")\r'); until(b"still here")
    os.write(fd, b"exit\r")
else:
    os.write(fd, b'print("still here")\r'); until(b"still here"); read(0.3)
    os.kill(pid, sig)
read(1.0)
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
print()
print("STATUS", os.waitstatus_to_exitcode(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st))
"#;

fn python3() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import pty"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    })
}

#[test]
fn signals_at_the_repl_prompt() {
    let Some(bed) = testbed::standard("signals at the REPL prompt") else {
        return;
    };
    let py = python3().expect("python3 with the pty module");
    let home = temp("home");
    // SIGINT as Ctrl-C typed at the terminal: the running sniff stops, the REPL goes on,
    // `exit` leaves with 0. SIGTERM and SIGHUP at the prompt end it with 143 / 129.
    for (name, sig, want) in [
        ("Ctrl-C then exit", 0, 0),
        ("SIGTERM", libc::SIGTERM, 143),
        ("SIGHUP", libc::SIGHUP, 129),
    ] {
        let pcap = temp(&format!("repl-{sig}.pcap"));
        let mut cmd = Command::new(py);
        cmd.args(["-c", PTY_DRIVER, &sig.to_string()])
            .args(["ip", "netns", "exec", &bed.client, EXE, "--pcap"])
            .arg(&pcap)
            .arg("repl")
            .env("HOME", &home)
            .env_remove("XDG_STATE_HOME");
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3");
        let mut text = String::new();
        child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut text)
            .expect("read");
        let _ = child.wait();
        let status = text
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("STATUS "))
            .and_then(|s| s.trim().parse::<i32>().ok());
        assert_eq!(status, Some(want), "REPL {name}: {text}");
        assert!(text.contains("still here"), "REPL {name}: {text}");
        assert_no_guard(&bed, &format!("REPL {name}"));
        assert_readable_pcap(&pcap, &format!("REPL {name}"));
        // History is appended line by line, so a signal at the prompt keeps it.
        let hist =
            std::fs::read_to_string(home.join(".local/state/tcpcraft/history")).unwrap_or_default();
        assert!(
            hist.contains("print(\"still here\")"),
            "REPL {name}: {hist}"
        );
    }
    cleanup();
}

#[test]
fn sigkill_in_expect_leaves_no_guard_and_no_child() {
    let Some(bed) = testbed::standard("SIGKILL in expect") else {
        return;
    };
    let mut cmd = bed.client_cmd(EXE);
    cmd.args([
        "-c",
        r#"s = session("198.19.0.5", 80)
s.send("S")
print("waiting")
s.expect("SA", timeout=60)"#,
    ]);
    let mut run = Run::start(cmd);
    run.wait_for("waiting");
    assert!(tables(&bed.client).contains("tcpcraft_"), "the guard is up");
    let kids = descendants(run.child.id());
    // The guard's table is made over netlink by tcpcraft itself: no helper program.
    assert!(kids.is_empty(), "no helper program runs: {kids:?}");
    run.signal(libc::SIGKILL);
    assert_eq!(run.status(), 128 + libc::SIGKILL);
    // The guard's table is an owner table: the kernel removes it with tcpcraft's socket.
    assert_no_guard(&bed, "SIGKILL in expect");
    assert_gone(&kids, "SIGKILL in expect");
    // The next run starts clean and has nothing to report about the killed one.
    let out = bed
        .client_cmd(EXE)
        .args(["-c", r#"s = session("198.19.0.5", 80)"#])
        .output()
        .expect("tcpcraft");
    assert!(out.status.success(), "{out:?}");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("left behind"),
        "{out:?}"
    );
}

/// The lab's REPL in a pty: SIGTERM sent to the lab alone (passed on), or the terminal
/// closing (the kernel's SIGHUP to the foreground group). Prints the lab's pid and its
/// exit status.
const LAB_PTY_DRIVER: &str = r#"
import os, pty, sys, time, select, signal
how = sys.argv[1]
argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out = b""
def read(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return
def until(what, t=20):
    end = time.time() + t
    while what not in out and time.time() < end:
        read(0.1)
until(b">>> ")
os.write(fd, b's = session(target, 80); s.send("S")\r'); until(b"SYN_SENT")
read(0.5)
if how == "term":
    os.kill(pid, signal.SIGTERM)
    read(2.0)
else:
    os.close(fd)
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
print()
print("PID", pid)
print("STATUS", os.waitstatus_to_exitcode(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st))
"#;

#[test]
fn the_lab_repl_ends_cleanly_on_sigterm_and_hang_up() {
    if testbed::standard("the lab's REPL and signals").is_none() {
        return;
    }
    let py = python3().expect("python3 with the pty module");
    let home = temp("labhome");
    for (how, want) in [("term", 143), ("hangup", 129)] {
        let out = Command::new(py)
            .args(["-c", LAB_PTY_DRIVER, how, EXE, "lab"])
            .env("HOME", &home)
            .env_remove("XDG_STATE_HOME")
            .output()
            .expect("python3");
        let text = String::from_utf8_lossy(&out.stdout);
        let field = |k: &str| {
            text.lines()
                .rev()
                .find_map(|l| l.strip_prefix(k))
                .and_then(|s| s.trim().parse::<i32>().ok())
        };
        assert_eq!(field("STATUS "), Some(want), "lab REPL {how}: {text}");
        let pid = field("PID ").expect("pid");
        // The supervisor removed its namespaces before it ended.
        let left: Vec<String> = lab_namespaces()
            .into_iter()
            .filter(|n| n.starts_with(&format!("tcpc-lab{pid}-")))
            .collect();
        assert!(left.is_empty(), "lab REPL {how}: namespaces left: {left:?}");
    }
    cleanup();
}

/// `tcpcraft scan` under each signal: partial results written, 130 / 143 / 129.
#[test]
fn signals_in_scan() {
    let Some(bed) = testbed::standard("signals in scan") else {
        return;
    };
    for (sname, sig, want) in SIGNALS {
        let what = format!("scan + SIG{sname}");
        let out = temp(&format!("scan-{sname}.gnmap"));
        let mut cmd = bed.client_cmd(EXE);
        // 198.19.0.0/24 is silent: the scan waits on every probe.
        cmd.args(["scan", "198.19.0.0/24", "-p", "1-2000", "-oG"])
            .arg(&out);
        let mut run = Run::start(cmd);
        std::thread::sleep(Duration::from_millis(1500));
        let kids = descendants(run.child.id());
        run.signal(sig);
        assert_eq!(run.status(), want, "{what}: {:#?}", run.seen);
        assert_gone(&kids, &what);
        assert!(
            std::fs::metadata(&out)
                .map(|m| m.len() > 0)
                .unwrap_or(false),
            "{what}: the partial greppable output was written"
        );
    }
    cleanup();
}
