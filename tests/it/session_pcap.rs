//! `--pcap` holds a session's segments next to the engine's traffic: the real binary in
//! a client namespace against Linux listeners in a server namespace (198.18.0.0/15
//! only). One file, in order, readable by tcpdump after a normal exit and after
//! SIGTERM/SIGINT; also for `tcpcraft handshake`.
//! Needs root and tcpdump: fails under CI=true when it cannot run, skips elsewhere.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::session_bed;
use session_bed::{can_run, in_netns, Bed};

/// Root, ip/nft/ss, and tcpdump to read the file back.
fn ready(what: &str) -> bool {
    if !can_run(what) {
        return false;
    }
    let tcpdump = Command::new("tcpdump")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !tcpdump {
        let why = format!("{what}: needs tcpdump");
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{why}");
        }
        eprintln!("skipping {why}");
    }
    tcpdump
}

/// A Linux server on `addr` in namespace `ns` for `conns` connections: echoes what it
/// reads and closes on EOF.
fn serve(ns: &str, addr: SocketAddr, conns: usize) {
    let l = in_netns(ns, move || TcpListener::bind(addr).expect("bind"));
    std::thread::spawn(move || {
        for _ in 0..conns {
            let Ok((mut c, _)) = l.accept() else { return };
            let mut buf = [0u8; 256];
            while let Ok(n) = c.read(&mut buf) {
                if n == 0 || c.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    });
}

/// A scratch directory, removed when the test passes.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tcpcraft-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// `tcpdump -n -tt -r FILE`: the lines, after checking tcpdump read the whole file.
fn tcpdump(file: &Path) -> Vec<String> {
    let out = Command::new("tcpdump")
        .args(["-n", "-tt", "-r"])
        .arg(file)
        .output()
        .expect("tcpdump runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tcpdump failed: {stderr}");
    assert!(
        !stderr.contains("truncated") && !stderr.contains("bogus"),
        "tcpdump: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The timestamps are in order, and each line's flags, for lines between these ports.
fn flags_between(lines: &[String], a: &str, b: &str) -> Vec<String> {
    let stamps: Vec<f64> = lines
        .iter()
        .map(|l| {
            l.split_whitespace()
                .next()
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(|| panic!("no timestamp: {l}"))
        })
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] <= w[1]),
        "out of order:\n{}",
        lines.join("\n")
    );
    lines
        .iter()
        .filter(|l| {
            (l.contains(&format!("{a} > {b}:")) || l.contains(&format!("{b} > {a}:")))
                && l.contains("Flags [")
        })
        .map(|l| {
            let dir = if l.contains(&format!("{a} > {b}:")) {
                ">"
            } else {
                "<"
            };
            let f = l
                .split("Flags [")
                .nth(1)
                .and_then(|r| r.split(']').next())
                .unwrap_or("?");
            format!("{dir}{f}")
        })
        .collect()
}

const CLIENT: &str = "198.18.0.1";
const SERVER: &str = "198.18.0.2";

/// sr1 on port 61400, then a session from 61401: handshake and active close.
const SCRIPT: &str = r#"
dst = "198.18.0.2"
r = sr1(IP(dst=dst) / TCP(sport=61400, dport=7, flags="S", seq=1000), timeout=2)
assert r != none && r.flags == "SA", "no SYN-ACK to the probe"
s = session(dst, 7, sport=61401, isn=5000)
s.send("S")
s.expect("SA", timeout=2)
s.send("A")
s.send("PA", data="ping\n")
s.expect("PA", data="ping\n", timeout=3)
s.send("A")
s.send("FA")
s.expect("A", timeout=3)
s.expect("FA", timeout=3)
s.send("A")
assert s.state == "TIME_WAIT", "in " + s.state
print("segments", len(s.history))
"#;

fn run_script(bed: &Bed, dir: &Path, script: &str) -> (PathBuf, std::process::Output) {
    let file = dir.join("probe.tcs");
    std::fs::write(&file, script).expect("script");
    let pcap = dir.join("out.pcap");
    let out = Command::new("ip")
        .args(["netns", "exec", &bed.client, env!("CARGO_BIN_EXE_tcpcraft")])
        .args(["--color", "never", "--pcap"])
        .arg(&pcap)
        .arg("run")
        .arg(&file)
        .output()
        .expect("tcpcraft runs");
    (pcap, out)
}

#[test]
fn script_sr1_and_session_share_one_pcap() {
    if !ready("session --pcap") {
        return;
    }
    let bed = Bed::new();
    let dir = scratch("session-pcap");
    serve(&bed.server, format!("{SERVER}:7").parse().expect("addr"), 1);
    let (pcap, out) = run_script(&bed, &dir, SCRIPT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let n: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("segments "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no segment count: {stdout}"));

    let lines = tcpdump(&pcap);
    let all = lines.join("\n");
    // The engine's probe and its answer come first.
    let probe = flags_between(&lines, &format!("{CLIENT}.61400"), &format!("{SERVER}.7"));
    assert_eq!(probe.first().map(String::as_str), Some(">S"), "{all}");
    assert_eq!(probe.get(1).map(String::as_str), Some("<S."), "{all}");
    let first_session = lines
        .iter()
        .position(|l| l.contains(".61401"))
        .unwrap_or_else(|| panic!("no session segment in the pcap:\n{all}"));
    let probe_answer = lines
        .iter()
        .position(|l| l.contains(&format!("{SERVER}.7 > {CLIENT}.61400")))
        .unwrap_or(usize::MAX);
    assert!(probe_answer < first_session, "{all}");

    // Every session segment, each once, in the order the session saw them.
    let sess = flags_between(&lines, &format!("{CLIENT}.61401"), &format!("{SERVER}.7"));
    assert_eq!(sess.len(), n, "session history has {n} segments:\n{all}");
    assert_eq!(
        sess.get(..4),
        Some(&[">S", "<S.", ">.", ">P."].map(String::from)[..]),
        "{all}"
    );
    assert!(sess.contains(&">F.".to_string()), "{all}");
    assert!(sess.iter().any(|f| f.starts_with("<F")), "{all}");
    assert_eq!(sess.last().map(String::as_str), Some(">."), "{all}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A script stopped by a signal in the middle of its session: what was sent and
/// received so far is in the file, and the file reads cleanly.
#[test]
fn pcap_is_whole_after_sigterm_and_sigint() {
    if !ready("session --pcap after signals") {
        return;
    }
    let bed = Bed::new();
    let dir = scratch("session-pcap-sig");
    serve(&bed.server, format!("{SERVER}:7").parse().expect("addr"), 2);
    for (i, sig) in [libc::SIGTERM, libc::SIGINT].into_iter().enumerate() {
        let sport = 61410 + i;
        let script = format!(
            r#"
r = sr1(IP(dst="{SERVER}") / TCP(sport={probe}, dport=7, flags="S"), timeout=2)
s = session("{SERVER}", 7, sport={sport})
s.send("S")
s.expect("SA", timeout=2)
s.send("A")
print("ready")
sleep(60)
"#,
            probe = sport + 100
        );
        let file = dir.join(format!("sig{i}.tcs"));
        std::fs::write(&file, script).expect("script");
        let pcap = dir.join(format!("sig{i}.pcap"));
        let mut child = Command::new("ip")
            .args(["netns", "exec", &bed.client, env!("CARGO_BIN_EXE_tcpcraft")])
            .args(["--color", "never", "--pcap"])
            .arg(&pcap)
            .arg("run")
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tcpcraft runs");
        let stdout = child.stdout.take().expect("stdout");
        let mut seen = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap_or_default();
            seen.push_str(&line);
            seen.push('\n');
            if line == "ready" {
                break;
            }
        }
        assert!(seen.contains("ready"), "never ready: {seen}");
        // `ip netns exec` runs tcpcraft in its own process (exec): the pid is tcpcraft's.
        let pid = i32::try_from(child.id()).expect("pid");
        #[allow(unsafe_code)] // reason: kill(2) on the child this test started
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0);
        let until = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            assert!(
                Instant::now() < until,
                "tcpcraft did not end after signal {sig}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(status.code(), Some(128 + sig), "signal {sig}");
        let lines = tcpdump(&pcap);
        let all = lines.join("\n");
        let probe = flags_between(
            &lines,
            &format!("{CLIENT}.{}", sport + 100),
            &format!("{SERVER}.7"),
        );
        assert_eq!(probe, [">S", "<S."].map(String::from), "{all}");
        let sess = flags_between(&lines, &format!("{CLIENT}.{sport}"), &format!("{SERVER}.7"));
        // The session was open when the signal came: tcpcraft resets the peer's side.
        assert_eq!(
            sess,
            [">S", "<S.", ">.", ">R"].map(String::from),
            "signal {sig}:\n{all}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn handshake_command_writes_pcap() {
    if !ready("tcpcraft handshake --pcap") {
        return;
    }
    let bed = Bed::new();
    let dir = scratch("handshake-pcap");
    serve(&bed.server, format!("{SERVER}:7").parse().expect("addr"), 1);
    let pcap = dir.join("hs.pcap");
    let out = Command::new("ip")
        .args(["netns", "exec", &bed.client, env!("CARGO_BIN_EXE_tcpcraft")])
        .arg("--pcap")
        .arg(&pcap)
        .args([
            "handshake",
            "198.18.0.2:7",
            "--data",
            r"ping\n",
            "--sport",
            "61420",
        ])
        .output()
        .expect("tcpcraft runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = tcpdump(&pcap);
    let all = lines.join("\n");
    let sess = flags_between(&lines, &format!("{CLIENT}.61420"), &format!("{SERVER}.7"));
    // Each step line of the command ("> …" sent, "< …" received) is one record.
    let steps = stdout
        .lines()
        .filter(|l| l.starts_with("> ") || l.starts_with("< "))
        .count();
    assert_eq!(sess.len(), steps, "{stdout}\n{all}");
    assert_eq!(
        sess.get(..3),
        Some(&[">S", "<S.", ">."].map(String::from)[..]),
        "{all}"
    );
    assert_eq!(sess.last().map(String::as_str), Some(">."), "{all}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A dry run sends nothing, but `--pcap` still holds what it would have sent, for
/// sessions as for `send()` (scripts) and for `tcpcraft handshake`. No privileges.
#[test]
fn dry_run_sessions_record_what_they_would_send() {
    let dir = scratch("dry_pcap");
    let decode = |file: &Path| -> Vec<String> {
        let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
            .arg("decode")
            .arg(file)
            .output()
            .expect("decode");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    };
    let script = dir.join("s.tcs");
    std::fs::write(
        &script,
        "send(IP(dst=\"198.18.0.2\")/TCP(dport=80, sport=1111, flags=\"S\"))\n\
         s = session(\"198.18.0.2\", 7, sport=2222)\n\
         s.send(\"S\")\ns.send(\"A\")\ns.send(\"FA\")\n",
    )
    .unwrap();
    let pcap = dir.join("script.pcap");
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["--dry-run", "--pcap"])
        .arg(&pcap)
        .arg("run")
        .arg(&script)
        .output()
        .expect("run");
    assert!(out.status.success(), "{out:?}");
    let lines = decode(&pcap);
    let flags: Vec<&str> = lines
        .iter()
        .map(|l| {
            l.split("Flags [")
                .nth(1)
                .and_then(|f| f.split(']').next())
                .unwrap_or("")
        })
        .collect();
    assert_eq!(flags, ["S", "S", ".", "F."], "{lines:#?}");
    assert!(lines[0].contains(".1111 > 198.18.0.2.80:"), "{lines:#?}");
    assert!(lines[1].contains(".2222 > 198.18.0.2.7:"), "{lines:#?}");

    let pcap = dir.join("handshake.pcap");
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["--dry-run", "--pcap"])
        .arg(&pcap)
        .args(["handshake", "198.18.0.2:80"])
        .output()
        .expect("handshake");
    assert!(out.status.success(), "{out:?}");
    let lines = decode(&pcap);
    assert!(
        lines
            .first()
            .is_some_and(|l| l.contains("> 198.18.0.2.80: Flags [S]")),
        "{lines:#?}"
    );
}
