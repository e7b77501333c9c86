//! `tcpcraft lab` end to end: the language drives the engine inside the practice network,
//! and nothing is left behind — after a normal exit, after SIGTERM, and after a crash.

mod testbed;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn tcpcraft() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
}

fn netns_named(prefix: &str) -> Vec<String> {
    std::fs::read_dir("/run/netns")
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// Only one lab test at a time: they share the "lab" tag and the stale-lab sweep.
static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn ready(test: &str) -> bool {
    // The lab builds its own network; the helper only decides skip vs fail.
    match tcpcraft::net::testbed::can_build() {
        Ok(()) => true,
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{test}: cannot run under CI=true: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED {test}: {why}");
            false
        }
    }
}

#[test]
fn lab_runs_code_against_the_real_server_and_cleans_up() {
    if !ready("lab_code") {
        return;
    }
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let code = r#"
r = sr1(IP(dst=target)/TCP(sport=40000, dport=80, flags="S", seq=1000), timeout=1)
assert r != none && r.flags == "SA", "SYN-ACK from port 80"
assert r.ack == 1001, "ack = seq + 1"
r = sr1(IPv6(dst=target6)/TCP(dport=81, flags="S", seq=5), timeout=1)
assert r.flags == "RA", "RST-ACK from a closed port over IPv6"
assert sr1(IP(dst=target)/TCP(dport=8443, flags="S"), timeout=0.3) == none, "8443 filtered"
e = sr1(IP(dst=target)/UDP(dport=7)/"pong\n", timeout=1)
assert e.payload == "pong\n", "UDP echo"
print("lab ok")
"#;
    // Labs a person has open elsewhere on this machine are not ours to judge.
    let before = netns_named("tcpc-lab");
    let ours = || -> Vec<String> {
        netns_named("tcpc-lab")
            .into_iter()
            .filter(|n| !before.contains(n))
            .collect()
    };
    let out = tcpcraft().args(["-q", "lab", "-c", code]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("lab ok"), "{stdout}");
    assert!(ours().is_empty(), "left behind: {:?}", ours());
    // `lab run FILE ARGS`: the same predefined names, the script's args, its line numbers.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("probe.tcs");
    std::fs::write(
        &file,
        "r = sr1(IP(dst=target)/TCP(dport=int(args[0]), flags=\"S\"), timeout=1)\nprint(r.flags)\n",
    )
    .unwrap();
    let out = tcpcraft()
        .args(["-q", "lab", "run"])
        .arg(&file)
        .arg("7")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "SA");
    // The script's failure is the lab's exit status.
    let out = tcpcraft()
        .args(["-q", "lab", "-c", "assert 1 == 2, \"no\""])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(ours().is_empty(), "left behind: {:?}", ours());
}

#[test]
fn lab_cleans_up_after_sigterm_and_after_a_crash() {
    if !ready("lab_signals") {
        return;
    }
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let wait_for_lab = |pid: u32| {
        let start = Instant::now();
        while netns_named(&format!("tcpc-lab{pid}-")).len() < 2 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "lab never came up"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Give the inner tcpcraft time to start its loop.
        std::thread::sleep(Duration::from_millis(300));
    };
    let mut child = tcpcraft()
        .args(["-q", "lab", "-c", "while true { sleep(0.05) }"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    wait_for_lab(pid);
    assert!(tcpcraft::net::sys::kill(pid, libc::SIGTERM));
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(
        netns_named(&format!("tcpc-lab{pid}-")).is_empty(),
        "SIGTERM left namespaces"
    );

    // SIGKILL: nothing can clean up at once; the server dies with its parent, and the
    // next lab removes the namespaces, saying so.
    let mut child = tcpcraft()
        .args(["-q", "lab", "-c", "while true { sleep(0.05) }"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    wait_for_lab(pid);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(netns_named(&format!("tcpc-lab{pid}-")).len(), 2);
    let out = tcpcraft()
        .args(["-q", "lab", "-c", "print(1)"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("removed a practice network left behind"),
        "{err}"
    );
    assert!(netns_named(&format!("tcpc-lab{pid}-")).is_empty());
}
