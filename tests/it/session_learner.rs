//! Live sessions as a learner uses them (issue 11, "Tests"): the scripts a learner writes
//! from the article, word for word (tests/learner/*.tcs), against every legal behaviour
//! of a real Linux server (scripts/testbed_server.py: http, echo, pingpong, greet,
//! lateclose, halfclose, acceptclose, slowack), over IPv4 and IPv6, at script speed and at
//! a person's pace (`sleep(1.6)` between steps, while Linux retransmits its SYN-ACK); in
//! the lab, the server kernel's state shown at every step equals what `ss` says in the
//! server namespace; after a failed expectation, a script error and Ctrl-C the server's
//! socket is gone, not ESTABLISHED; and the welcome flow typed into the REPL in a pty at a
//! person's pace gets the page.
//!
//! Two tests here fail on purpose until tcpcraft is fixed (see their comments, marked
//! BUG): `repl_lines_sent_at_once_or_typed_ahead_are_read` (input stuck in the line
//! editor since the REPL has an external printer) and
//! `note_on_retransmitted_data_and_fin_reads_as_english` ("the peer's its 6 bytes").
//!
//! Everything runs in namespaces made here (198.18.0.0/15 and 2001:db8:198:18::/64 only)
//! or by `tcpcraft lab` itself. Needs root, ip, nft, ss and python3: fails under CI=true
//! when it cannot run, skips elsewhere (and says so).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use tcpcraft::net::testbed::{Bed, BedConfig, Faults};

const EXE: &str = env!("CARGO_BIN_EXE_tcpcraft");
const V4: &str = "198.18.0.2";
const V6: &str = "2001:db8:198:18::2";
/// The pace of a person: longer than Linux's first SYN-ACK retransmission (1 s).
const PACE: &str = "sleep(1.6)";
const SYNACK_RETRANSMISSION: &str = "retransmission 1 of the peer's SYN-ACK";

/// The server kinds of the bed, one port each.
const LISTEN: [&str; 8] = [
    "http:80",
    "echo:7",
    "pingpong:9",
    "greet:10",
    "lateclose:11",
    "halfclose:12",
    "acceptclose:13",
    "slowack:14",
];

/// True when the test can run; false (after saying why) when it may skip. Under CI=true
/// it fails instead.
fn can_run(what: &str) -> bool {
    let tool = |t: &str, arg: &str| {
        Command::new(t)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    let why = match tcpcraft::net::testbed::can_build() {
        Err(why) => Some(why),
        Ok(()) if !tool("ss", "-V") => Some("`ss` is missing (iproute2)".to_string()),
        Ok(()) if !tool("python3", "-V") => Some("`python3` is missing".to_string()),
        Ok(()) => None,
    };
    let Some(why) = why else { return true };
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what}: cannot run under CI=true: {why}");
    }
    eprintln!("skipping {what}: {why}");
    false
}

/// A bed with every server kind listening.
fn bed(what: &str) -> Option<Bed> {
    if !can_run(what) {
        return None;
    }
    static N: AtomicUsize = AtomicUsize::new(0);
    let cfg = BedConfig {
        id: format!(
            "lrn{}x{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ),
        listen: LISTEN.iter().map(|s| s.to_string()).collect(),
        faults: Faults::default(),
    };
    Some(Bed::up(&cfg).unwrap_or_else(|e| panic!("{what}: building the test bed: {e}")))
}

/// A learner script from tests/learner/.
fn learner(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/learner")
        .join(name)
}

/// Whether a script line is one of the learner's steps (a send or an expect).
fn is_step(line: &str) -> bool {
    line.starts_with("s.send(") || line.starts_with("s.expect(") || line.starts_with("r = s.")
}

/// The script with `sleep(1.6)` after each step (`pace`) and `print("STEP", n)` right
/// after step n (`markers`); the learner's lines themselves are unchanged.
fn paced(script: &str, pace: bool, markers: bool) -> String {
    let mut out = String::new();
    let mut n = 0;
    for line in script.lines() {
        out.push_str(line);
        out.push('\n');
        if is_step(line) {
            n += 1;
            if markers {
                out.push_str(&format!("print(\"STEP\", {n})\n"));
            }
            if pace {
                out.push_str(PACE);
                out.push('\n');
            }
        }
    }
    out
}

/// A scratch directory for one test, removed when it ends.
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("tcpcraft-learner-")
        .tempdir()
        .expect("scratch dir")
}

/// Writes `text` to a file named `name` in `dir`.
fn scratch_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("scratch file");
    p
}

/// One learner script against one server.
#[derive(Clone, Copy, Debug)]
struct Case {
    kind: &'static str,
    port: u16,
    script: &'static str,
    /// The `print(r.payload)` line the server's answer gives, when the script reads one.
    answer: Option<&'static str>,
    /// The `print(s.state, s.peer_state)` line.
    last: &'static str,
}

const ACTIVE: &str = "TIME_WAIT CLOSED";
const PASSIVE: &str = "CLOSED TIME_WAIT";
const PAGE: &str = r#"b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 20\r\nConnection: close\r\n\r\nhello from tcpcraft\n""#;

const CASES: [Case; 10] = [
    // Active close; ACK and FIN in one segment (the application closes at once).
    Case {
        kind: "echo",
        port: 7,
        script: "active_close.tcs",
        answer: Some(r#"b"ping\n""#),
        last: ACTIVE,
    },
    Case {
        kind: "pingpong",
        port: 9,
        script: "active_close.tcs",
        answer: Some(r#"b"pong\n""#),
        last: ACTIVE,
    },
    // Active close; ACK and FIN 1 s apart.
    Case {
        kind: "lateclose",
        port: 11,
        script: "active_close.tcs",
        answer: Some(r#"b"ping\n""#),
        last: ACTIVE,
    },
    // The ACK of the data goes alone, the answer 300 ms later.
    Case {
        kind: "slowack",
        port: 14,
        script: "active_close.tcs",
        answer: Some(r#"b"ping\n""#),
        last: ACTIVE,
    },
    // Passive close: the HTTP/1.0 server closes after its answer.
    Case {
        kind: "http",
        port: 80,
        script: "http.tcs",
        answer: Some(PAGE),
        last: PASSIVE,
    },
    // Active close before any request: the server answers after our FIN (the ACK of the
    // FIN rides on its data), then sends its FIN apart.
    Case {
        kind: "http",
        port: 80,
        script: "open_active_close.tcs",
        answer: None,
        last: ACTIVE,
    },
    Case {
        kind: "greet",
        port: 10,
        script: "greet.tcs",
        answer: Some(r#"b"hello\n""#),
        last: PASSIVE,
    },
    // The greeting is passed over by expect("FA").
    Case {
        kind: "greet",
        port: 10,
        script: "passive_close.tcs",
        answer: None,
        last: PASSIVE,
    },
    Case {
        kind: "acceptclose",
        port: 13,
        script: "passive_close.tcs",
        answer: None,
        last: PASSIVE,
    },
    // Our FIN first, then the server's data, then its FIN.
    Case {
        kind: "halfclose",
        port: 12,
        script: "halfclose.tcs",
        answer: Some(r#"b"got 5 bytes\n""#),
        last: ACTIVE,
    },
];

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Lines tcpcraft prints for segments (`< `, `> `) and under them (indented).
fn is_trace(line: &str) -> bool {
    line.starts_with("< ") || line.starts_with("> ") || line.starts_with(' ')
}

/// Runs one case in the bed's client namespace; `Err` says what went wrong.
fn run_case(bed: &Bed, case: &Case, dst: &str, slow: bool, dir: &Path) -> Result<Duration, String> {
    let script = if slow {
        let src = std::fs::read_to_string(learner(case.script)).expect("learner script");
        let name = format!(
            "slow-{}-{}-{}",
            case.kind,
            if dst == V4 { "v4" } else { "v6" },
            case.script
        );
        scratch_file(dir, &name, &paced(&src, true, false))
    } else {
        learner(case.script)
    };
    let start = Instant::now();
    let out = bed
        .client_cmd(EXE)
        .arg("run")
        .arg(&script)
        .args([dst, &case.port.to_string()])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("tcpcraft: {e}"))?;
    let took = start.elapsed();
    let (stdout, stderr) = text(&out);
    let show = || format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    if !out.status.success() {
        return Err(format!("exit {:?}\n{}", out.status.code(), show()));
    }
    // The final print is the last line that is not a segment or a note under one.
    let last = stdout.lines().rev().find(|l| !is_trace(l));
    if last != Some(case.last) {
        return Err(format!(
            "final line {last:?}, wanted {:?}\n{}",
            case.last,
            show()
        ));
    }
    if let Some(answer) = case.answer {
        if !stdout.lines().any(|l| l == answer) {
            return Err(format!("no answer line {answer}\n{}", show()));
        }
    }
    if stderr.to_lowercase().contains("error") || stdout.contains("reset:") {
        return Err(format!("an error or a reset\n{}", show()));
    }
    if slow && !stdout.contains(SYNACK_RETRANSMISSION) {
        return Err(format!("no note {SYNACK_RETRANSMISSION:?}\n{}", show()));
    }
    Ok(took)
}

/// Runs the cases (each on its own thread when `parallel`), prints a table of results
/// and fails naming every failure.
fn run_cases(bed: &Bed, cases: &[(Case, &'static str)], slow: bool, parallel: bool) {
    let scratch = scratch();
    let dir = scratch.path();
    let pace = if slow {
        "person's pace"
    } else {
        "script speed"
    };
    let results: Vec<(String, Result<Duration, String>)> = if parallel {
        std::thread::scope(|sc| {
            let handles: Vec<_> = cases
                .iter()
                .map(|(c, dst)| sc.spawn(move || run_case(bed, c, dst, slow, dir)))
                .collect();
            cases
                .iter()
                .zip(handles)
                .map(|((c, dst), h)| {
                    (
                        label(c, dst),
                        h.join().unwrap_or_else(|_| Err("panicked".into())),
                    )
                })
                .collect()
        })
    } else {
        cases
            .iter()
            .map(|(c, dst)| (label(c, dst), run_case(bed, c, dst, slow, dir)))
            .collect()
    };
    let passed = results.iter().filter(|(_, r)| r.is_ok()).count();
    for (name, r) in &results {
        match r {
            Ok(t) => eprintln!("PASS {pace:14} {name} ({:.1} s)", t.as_secs_f64()),
            Err(_) => eprintln!("FAIL {pace:14} {name}"),
        }
    }
    eprintln!(
        "{passed}/{} learner scripts passed at {pace}",
        results.len()
    );
    let failed: Vec<String> = results
        .into_iter()
        .filter_map(|(name, r)| r.err().map(|e| format!("=== {name} at {pace}: {e}")))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

fn label(c: &Case, dst: &str) -> String {
    let family = if dst == V4 { "IPv4" } else { "IPv6" };
    format!("{} {} ({family})", c.kind, c.script)
}

#[test]
fn learner_scripts_at_script_speed_v4_and_v6() {
    let Some(bed) = bed("learner scripts at script speed") else {
        return;
    };
    let cases: Vec<(Case, &str)> = [V4, V6]
        .into_iter()
        .flat_map(|dst| CASES.iter().map(move |c| (*c, dst)))
        .collect();
    run_cases(&bed, &cases, false, false);
}

#[test]
fn learner_scripts_at_a_persons_pace() {
    let Some(bed) = bed("learner scripts at a person's pace") else {
        return;
    };
    // Every script over IPv4 and IPv6, all at once: each mostly sleeps, and the wall
    // time stays that of the longest script (about 15 s).
    let cases: Vec<(Case, &str)> = [V4, V6]
        .into_iter()
        .flat_map(|dst| CASES.iter().map(move |c| (*c, dst)))
        .collect();
    run_cases(&bed, &cases, true, true);
}

/// The server's TCP sockets other than listeners, in `ns`: (state, local, peer).
fn server_sockets(ns: &str) -> Option<Vec<(String, String, String)>> {
    let out = Command::new("ss")
        .args(["-N", ns, "-tanH"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() >= 5 && f[0] != "LISTEN")
                    .then(|| (f[0].to_string(), f[3].to_string(), f[4].to_string()))
            })
            .collect(),
    )
}

/// The state `ss` gives the connection from our port `sport`, or "no socket".
fn ss_state(ns: &str, sport: u16) -> Option<String> {
    let tail = format!(":{sport}");
    let socks = server_sockets(ns)?;
    Some(
        socks
            .into_iter()
            .find(|(_, _, peer)| peer.ends_with(&tail))
            .map_or_else(|| "no socket".to_string(), |(s, _, _)| s),
    )
}

/// The kernel state named in a `  peer: X (kernel: Y)` line.
fn kernel_name(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("peer: ")?;
    let k = rest.split("(kernel: ").nth(1)?;
    k.split(')').next()
}

/// Our source port, from the first segment we sent (`> 0.000s IP 198.18.0.1.PORT > …`).
fn our_port(lines: &[String]) -> Option<u16> {
    lines.iter().find(|l| l.starts_with("> ")).and_then(|l| {
        let src = l.split(" > ").next()?.split_whitespace().last()?;
        src.rsplit('.').next()?.parse().ok()
    })
}

/// A running tcpcraft whose output lines (stdout and stderr) arrive on a channel.
struct Run {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Run {
    fn start(mut cmd: Command) -> Run {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tcpcraft starts");
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
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

    /// The next line, if one comes within `t`.
    fn next(&mut self, t: Duration) -> Option<String> {
        let l = self.lines.recv_timeout(t).ok()?;
        self.seen.push(l.clone());
        Some(l)
    }

    /// Waits for a line containing `what` (fails after `t`).
    fn wait_for(&mut self, what: &str, t: Duration) {
        let deadline = Instant::now() + t;
        while Instant::now() < deadline {
            if let Some(l) = self.next(Duration::from_millis(50)) {
                if l.contains(what) {
                    return;
                }
            }
        }
        panic!(
            "no line with {what:?} within {t:?}:\n{}",
            self.seen.join("\n")
        );
    }

    /// The exit code (128 + signal when a signal ended it), and every line.
    fn finish(&mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                use std::os::unix::process::ExitStatusExt;
                // The readers end at EOF: take every line.
                while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(2)) {
                    self.seen.push(l);
                }
                return st.code().or(st.signal().map(|s| 128 + s)).unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "tcpcraft did not end:\n{}",
                self.seen.join("\n")
            );
            let _ = self.next(Duration::from_millis(20));
        }
    }

    fn all(&self) -> String {
        self.seen.join("\n")
    }
}

/// The distinct states in order (repeats folded).
fn fold(states: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for s in states {
        if v.last() != Some(&s) {
            v.push(s);
        }
    }
    v
}

/// The learner's http script in the lab at a person's pace, with a marker after each
/// step. At each marker, the kernel state shown so far must equal `ss` in the server
/// namespace before the next step begins (the script pauses 1.6 s there: a retransmission
/// or a FIN still on its way may be shown meanwhile, and is taken into account); and the
/// whole sequence of states `ss` went through equals the sequence shown.
#[test]
fn lab_shows_the_kernel_state_ss_sees_at_every_step() {
    if !can_run("lab kernel state against ss") {
        return;
    }
    let src = std::fs::read_to_string(learner("http.tcs")).expect("learner script");
    let steps = src.lines().filter(|l| is_step(l)).count();
    let scratch = scratch();
    let script = scratch_file(
        scratch.path(),
        "lab-http-slow.tcs",
        &paced(&src, true, true),
    );
    let mut cmd = Command::new(EXE);
    cmd.args(["--color", "never", "lab", "run"])
        .arg(&script)
        .args([V4, "80"]);
    let mut run = Run::start(cmd);
    let ns = format!("tcpc-lab{}-s", run.child.id());
    // Sample `ss` in the server namespace all along: the states the connection goes
    // through (each lasts at least the 1.6 s pause, or the server's own 1 s timers).
    let stop = Arc::new(AtomicBool::new(false));
    let port = Arc::new(Mutex::new(None::<u16>));
    let sampler = {
        let (stop, port, ns) = (stop.clone(), port.clone(), ns.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let p = *port.lock().unwrap();
                if let Some(p) = p {
                    if let Some(s) = ss_state(&ns, p) {
                        seen.push(s);
                    }
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            seen
        })
    };
    let mut shown = "no socket".to_string();
    let mut shown_all = Vec::new();
    let mut sport = None;
    let mut step = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    let observe = |l: &str, shown: &mut String, shown_all: &mut Vec<String>| {
        // A disagreement (`≠`) is allowed here: it is the truth beside the model. At this
        // pace Linux retransmitted its SYN-ACK twice, so it starts with a congestion window
        // of one segment, and the HTTP server's FIN waits behind the unacknowledged answer:
        // the kernel is in FIN-WAIT-1 before any FIN is on the wire. What is checked is
        // that the kernel state shown is the one `ss` sees.
        if l.contains('≠') {
            eprintln!("flagged: {l}");
        }
        assert!(!l.contains("cannot read"), "{l}");
        if let Some(k) = kernel_name(l) {
            *shown = k.to_string();
            shown_all.push(k.to_string());
        }
    };
    while step < steps {
        assert!(
            Instant::now() < deadline,
            "the lab did not finish:\n{}",
            run.all()
        );
        let Some(l) = run.next(Duration::from_millis(50)) else {
            if let Ok(Some(st)) = run.child.try_wait() {
                panic!("the lab ended ({st}) at step {step}:\n{}", run.all());
            }
            continue;
        };
        observe(&l, &mut shown, &mut shown_all);
        if sport.is_none() {
            sport = our_port(&run.seen);
            *port.lock().unwrap() = sport;
        }
        let Some(n) = l.strip_prefix("STEP ") else {
            continue;
        };
        step = n.trim().parse().expect("step number");
        let p = sport.expect("a segment sent before the first marker");
        // Until the next step begins (our next segment or marker), the shown state and
        // `ss` must come to agree.
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let now = ss_state(&ns, p).expect("ss in the lab's server namespace");
            if now == shown {
                break;
            }
            assert!(
                Instant::now() < until,
                "step {step}: the lab showed kernel state {shown}, ss said {now}:\n{}",
                run.all()
            );
            if let Some(l) = run.next(Duration::from_millis(10)) {
                observe(&l, &mut shown, &mut shown_all);
                assert!(
                    !(l.starts_with("> ") || l.starts_with("STEP ")),
                    "step {step}: the lab showed kernel state {shown}, ss said {now}, \
                     and the next step began:\n{}",
                    run.all()
                );
            }
        }
        eprintln!("step {step}: kernel {shown} = ss");
    }
    let code = run.finish();
    stop.store(true, Ordering::Relaxed);
    let sampled = sampler.join().expect("sampler");
    let out = run.all();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(SYNACK_RETRANSMISSION), "{out}");
    assert!(out.lines().any(|l| l == PASSIVE), "{out}");
    // The states ss went through, as the lab showed them, in the article's order.
    let sampled = fold(sampled.into_iter().filter(|s| s != "no socket"));
    let shown_all = fold(shown_all);
    let article = ["SYN-RECV", "ESTAB", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"];
    assert_eq!(shown_all, article, "{out}");
    assert_eq!(sampled, article, "ss saw other states than shown:\n{out}");
}

/// The same script at script speed in the lab: every kernel state shown, in the
/// article's order, and never a disagreement.
#[test]
fn lab_at_script_speed_shows_the_articles_kernel_states() {
    if !can_run("lab kernel states at script speed") {
        return;
    }
    let out = Command::new(EXE)
        .args(["--color", "never", "lab", "run"])
        .arg(learner("http.tcs"))
        .args([V4, "80"])
        .stdin(Stdio::null())
        .output()
        .expect("tcpcraft lab");
    let (stdout, stderr) = text(&out);
    let all = format!("{stdout}\n{stderr}");
    assert!(out.status.success(), "{all}");
    assert!(!all.contains('≠'), "{all}");
    assert!(stdout.lines().any(|l| l == PAGE), "{all}");
    let shown = fold(stdout.lines().filter_map(kernel_name).map(str::to_string));
    assert_eq!(
        shown,
        ["SYN-RECV", "ESTAB", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"],
        "{all}"
    );
}

/// Waits (up to `t`) until the server's socket for our port is not ESTABLISHED (gone or
/// closing); returns what `ss` said last.
fn wait_not_established(ns: &str, sport: u16, t: Duration) -> Result<String, String> {
    let deadline = Instant::now() + t;
    loop {
        let s = ss_state(ns, sport).ok_or("ss failed in the server namespace")?;
        if s != "ESTAB" {
            return Ok(s);
        }
        if Instant::now() >= deadline {
            return Err(format!("still {s} after {t:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// After a failed expectation, a script error and Ctrl-C in `expect`, the connection is
/// reset (and tcpcraft says so): the server's socket is gone or closing, well before the
/// echo server's own 5 s idle timeout could close it.
#[test]
fn nothing_left_open_after_failure_error_and_ctrl_c() {
    let Some(bed) = bed("nothing left open") else {
        return;
    };
    let open = "s = session(\"198.18.0.2\", 7)\ns.send(\"S\")\ns.expect(\"SA\")\ns.send(\"A\")\n";
    let cases = [
        ("a failed expectation", "s.expect(\"F\", timeout=0.5)\n", 1),
        ("a script error", "undefined_name\n", 2),
        (
            "Ctrl-C in expect",
            "print(\"waiting\")\ns.expect(\"F\", timeout=30)\n",
            130,
        ),
    ];
    let scratch = scratch();
    for (what, tail, want) in cases {
        let file = scratch_file(
            scratch.path(),
            &format!("open-{}.tcs", what.replace(' ', "-")),
            &format!("{open}{tail}"),
        );
        let started = Instant::now();
        let mut cmd = bed.client_cmd(EXE);
        cmd.args(["--color", "never", "run"]).arg(&file);
        let mut run = Run::start(cmd);
        if want == 130 {
            run.wait_for("waiting", Duration::from_secs(10));
            let sport = our_port(&run.seen).expect("our port");
            // The connection is really open while the script waits.
            let deadline = Instant::now() + Duration::from_secs(3);
            while ss_state(&bed.server, sport).as_deref() != Some("ESTAB") {
                assert!(
                    Instant::now() < deadline,
                    "{what}: never ESTABLISHED:\n{}",
                    run.all()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            let ok = Command::new("kill")
                .args(["-INT", &run.child.id().to_string()])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "kill -INT");
        }
        let code = run.finish();
        let out = run.all();
        assert_eq!(code, want, "{what}:\n{out}");
        assert!(
            out.lines().any(|l| l.starts_with("reset: ")),
            "{what}: no reset line:\n{out}"
        );
        assert!(
            out.lines()
                .any(|l| l.starts_with("> ") && l.contains("Flags [R]")),
            "{what}: no RST sent:\n{out}"
        );
        let sport = our_port(&run.seen).expect("our port");
        let left = wait_not_established(&bed.server, sport, Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("{what}: the server's socket: {e}\n{out}"));
        // The echo server closes an idle connection after 5 s by itself: this must be
        // the RST's doing.
        assert!(
            started.elapsed() < Duration::from_secs(if want == 130 { 15 } else { 4 }),
            "{what}: too slow to tell the RST from the server's idle timeout"
        );
        eprintln!("{what}: exit {code}, server socket {left}");
    }
}

/// Types lines into the REPL in a pty, then waits (up to 10 s) for `WANT` and leaves
/// with Ctrl-D. `keys`: each line key by key, 40 ms apart (a quick typist), then 1.2 s
/// before the next line (a person reading what came); `lines`: each line written at
/// once (as `tmux send-keys`, `expect` or a terminal without bracketed paste deliver
/// it), 1.2 s apart; `ahead`: key by key with no pause after Enter, so the next line is
/// typed while the previous command still runs (type-ahead). Prints everything, then
/// WANT_BEFORE_EOF and STATUS.
const PTY_DRIVER: &str = r#"
import os, pty, sys, time, select
MODE = sys.argv[1]
WANT = sys.argv[2].encode()
lines = sys.argv[3].split("\n")
argv = sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out = b""
def read(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.02)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return
def until(what, t):
    end = time.time() + t
    while what not in out and time.time() < end:
        read(0.05)
    return what in out
until(b">>> ", 15)
for line in lines:
    if MODE == "lines":
        os.write(fd, line.encode() + b"\r")
    else:
        for ch in line.encode() + b"\r":
            os.write(fd, bytes([ch]))
            read(0.04)
    if MODE != "ahead":
        read(1.2)
seen = until(WANT, 10)
os.write(fd, b"\x04")
read(2.0)
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
print()
print("WANT_BEFORE_EOF", seen)
print("STATUS", os.waitstatus_to_exitcode(st))
"#;

/// The lab's welcome flow (with the server's address for `target`).
const WELCOME_FLOW: [&str; 7] = [
    r#"s = session("198.18.0.2", 80)"#,
    r#"s.send("S")"#,
    r#"s.expect("SA")"#,
    r#"s.send("A")"#,
    r#"s.send("PA", data="GET / HTTP/1.0\r\n\r\n")"#,
    r#"r = s.expect("PA")"#,
    r#"print(r.payload)"#,
];

/// Runs the REPL in the bed's client namespace under the pty driver; returns the output.
fn drive_repl(bed: &Bed, mode: &str, flow: &[&str]) -> String {
    let home = scratch();
    let mut child = Command::new("python3")
        .args([
            "-c",
            PTY_DRIVER,
            mode,
            "hello from tcpcraft",
            &flow.join("\n"),
        ])
        .args(["ip", "netns", "exec", &bed.client, EXE, "--color", "never"])
        .arg("repl")
        .env("HOME", home.path())
        .env("TERM", "xterm")
        .env_remove("XDG_STATE_HOME")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3");
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read");
    let _ = child.wait();
    eprintln!("{out}");
    let status = out
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("STATUS "))
        .and_then(|s| s.trim().parse::<i32>().ok());
    assert_eq!(status, Some(0), "{mode}: {out}");
    out
}

/// The lab's welcome flow typed into the REPL at a person's pace (key by key, 1.2 s
/// between lines): the page comes on the first try, before the person leaves; arrivals
/// (Linux's retransmitted SYN-ACK) are shown above the prompt as they happen; nothing is
/// an error.
#[test]
fn repl_welcome_flow_at_a_persons_pace() {
    let Some(bed) = bed("the REPL at a person's pace") else {
        return;
    };
    let out = drive_repl(&bed, "keys", &WELCOME_FLOW);
    assert!(
        out.contains("WANT_BEFORE_EOF True"),
        "no page before Ctrl-D:\n{out}"
    );
    assert!(
        !out.to_lowercase().contains("error"),
        "an error at a person's pace:\n{out}"
    );
    assert!(
        out.contains(SYNACK_RETRANSMISSION),
        "no retransmission shown while the person typed:\n{out}"
    );
}

/// BUG (found here, not fixed in src/): input that reaches the REPL several bytes at a
/// time is left unread after its first key until another key comes. Since live
/// sessions, the REPL has an external printer, and rustyline 14's `PosixRawReader::select`
/// (used for every key once one exists) waits on the terminal's fd without looking at
/// the bytes its own BufReader already holds (upstream kkawakam/rustyline#976). A line
/// written at once (tmux send-keys, expect, a terminal without bracketed paste) or typed
/// ahead while a command runs (the next line typed during a `s.expect`) stalls: here the
/// page never comes until Ctrl-D is pressed. Reproduction without any network:
/// `printf` a whole line `print("MARK")\r` into `tcpcraft repl` on a pty: nothing runs
/// until the next key. This test fails until that is fixed.
#[test]
fn repl_lines_sent_at_once_or_typed_ahead_are_read() {
    let Some(bed) = bed("the REPL with lines sent at once") else {
        return;
    };
    // Type-ahead: the last line is typed while `sleep(2)` runs.
    let mut ahead: Vec<&str> = WELCOME_FLOW[..6].to_vec();
    ahead.extend(["sleep(2)", WELCOME_FLOW[6]]);
    let mut stuck = Vec::new();
    for (mode, flow) in [("lines", WELCOME_FLOW.to_vec()), ("ahead", ahead)] {
        let out = drive_repl(&bed, mode, &flow);
        assert!(!out.to_lowercase().contains("error"), "{mode}:\n{out}");
        if !out.contains("WANT_BEFORE_EOF True") {
            stuck.push(mode);
        }
    }
    assert!(
        stuck.is_empty(),
        "input stuck in the line editor (the page came only after Ctrl-D) with {stuck:?}"
    );
}

/// BUG (found here, not fixed in src/): the note on a retransmission of the peer's data
/// and FIN in one segment reads "retransmission 1 of the peer's its 6 bytes and FIN, …"
/// (src/session/mod.rs builds "the peer's {what}" with what = "its N bytes and FIN").
/// The greet server sends "hello\n" and its FIN at once; left unacknowledged for a
/// moment, Linux sends them again in one segment. Every note must read as English.
/// This test fails until that is fixed.
#[test]
fn note_on_retransmitted_data_and_fin_reads_as_english() {
    let Some(bed) = bed("notes on retransmitted data and FIN") else {
        return;
    };
    let scratch = scratch();
    let script = scratch_file(
        scratch.path(),
        "greet-unacked.tcs",
        "s = session(args[0], 10)\ns.send(\"S\")\ns.expect(\"SA\")\ns.send(\"A\")\n\
         s.expect(\"FA\")\ns.expect(\"F\", timeout=3)\n",
    );
    // The last expect times out (the FIN was taken): meanwhile Linux retransmits the
    // unacknowledged data and FIN together (about 0.2 s, 0.6 s and 1.5 s on).
    let mut cmd = bed.client_cmd(EXE);
    cmd.args(["--color", "never", "run"]).arg(&script).arg(V4);
    let mut run = Run::start(cmd);
    assert_eq!(run.finish(), 1, "{}", run.all());
    let out = run.all();
    let notes: Vec<&str> = out.lines().filter(|l| l.contains("note: ")).collect();
    assert!(
        notes.iter().any(|n| n.contains("bytes and FIN")),
        "no retransmission of data and FIN:\n{out}"
    );
    let bad: Vec<&&str> = notes.iter().filter(|n| n.contains("peer's its ")).collect();
    assert!(
        bad.is_empty(),
        "notes that do not read as English: {bad:#?}"
    );
}
