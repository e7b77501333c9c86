//! The RST guard leaves nothing behind however tcpcraft ends: a failed expectation
//! (exit 1), Ctrl-C while waiting (exit 130) and SIGTERM, each checked in a client
//! namespace made here (198.18.0.0/15 only). SIGKILL is covered in session_guard.rs.
//! Needs root: fails under CI=true when it cannot run, skips elsewhere.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::session_bed;
use session_bed::{can_run, Bed};

/// Starts a script in the client namespace and waits until its guard is installed.
fn start(bed: &Bed, code: &str) -> Child {
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &bed.client,
            env!("CARGO_BIN_EXE_tcpcraft"),
            "-c",
            code,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tcpcraft runs");
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(first.starts_with("rst-guard: "), "{first}");
    assert!(bed.tables().contains("tcpcraft_"), "the guard is installed");
    // Keep reading so that the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

fn wait(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            use std::os::unix::process::ExitStatusExt;
            return status.code().or(status.signal().map(|s| 128 + s));
        }
        assert!(Instant::now() < deadline, "tcpcraft did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[test]
fn nothing_remains_after_error_ctrl_c_and_sigterm() {
    if !can_run("guard cleanup on signals") {
        return;
    }
    let bed = Bed::new();
    // 198.18.0.3 is nobody in the bed: nothing ever answers.
    let waiting = r#"s = session("198.18.0.3", 80)
s.send("S")
s.expect("SA", timeout=30)"#;

    // A failed expectation: the server's kernel answers port 9 with RST.
    let mut child = start(
        &bed,
        r#"s = session("198.18.0.2", 9)
s.send("S")
sleep(0.5)
s.expect("SA", timeout=2)"#,
    );
    assert_eq!(wait(&mut child), Some(1));
    assert!(!bed.tables().contains("tcpcraft_"), "{}", bed.tables());

    // Ctrl-C while waiting in expect.
    let mut child = start(&bed, waiting);
    signal(&child, "-INT");
    assert_eq!(wait(&mut child), Some(130));
    assert!(!bed.tables().contains("tcpcraft_"), "{}", bed.tables());

    // SIGTERM while waiting.
    let mut child = start(&bed, waiting);
    signal(&child, "-TERM");
    let code = wait(&mut child);
    assert!(code.is_some_and(|c| c != 0), "{code:?}");
    let deadline = Instant::now() + Duration::from_secs(3);
    while bed.tables().contains("tcpcraft_") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!bed.tables().contains("tcpcraft_"), "{}", bed.tables());
}
