//! `tcpcraft handshake` end to end: the real binary in a client namespace against
//! Linux listeners in a server namespace (198.18.0.0/15 only) and on loopback.
//! Needs root: fails under CI=true when it cannot run, skips elsewhere.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Output};

use crate::session_bed;
use session_bed::{can_run, in_netns, Bed};

/// A Linux server on `addr` in namespace `ns` for one connection: echoes what it
/// reads; on EOF closes (`close_after_answer` closes right after the first answer).
fn serve(ns: &str, addr: SocketAddr, close_after_answer: bool) {
    let l = in_netns(ns, move || TcpListener::bind(addr).expect("bind"));
    std::thread::spawn(move || {
        let Ok((mut c, _)) = l.accept() else { return };
        let mut buf = [0u8; 256];
        while let Ok(n) = c.read(&mut buf) {
            if n == 0 || c.write_all(&buf[..n]).is_err() || close_after_answer {
                break;
            }
        }
    });
}

fn handshake(bed: &Bed, args: &[&str]) -> Output {
    Command::new("ip")
        .args([
            "netns",
            "exec",
            &bed.client,
            env!("CARGO_BIN_EXE_tcpcraft"),
            "handshake",
        ])
        .args(args)
        .output()
        .expect("tcpcraft runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn handshake_command_end_to_end() {
    if !can_run("tcpcraft handshake") {
        return;
    }
    let bed = Bed::new();

    // Active close with data, IPv4 over the veth pair.
    serve(&bed.server, "198.18.0.2:7".parse().expect("addr"), false);
    let out = handshake(
        &bed,
        &[
            "198.18.0.2:7",
            "--data",
            r"ping\n",
            "--sport",
            "61300",
            "--isn",
            "1000",
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    eprintln!("{stdout}");
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("rst-guard: nftables table inet tcpcraft_"),
        "{stdout}"
    );
    assert!(stdout.contains("answer (5 bytes):\nping\n"), "{stdout}");
    for s in [
        "SYN_SENT → ESTABLISHED",
        "ESTABLISHED → FIN_WAIT_1",
        "→ TIME_WAIT",
    ] {
        assert!(stdout.contains(s), "{s}: {stdout}");
    }
    assert!(stdout.contains("    198.18.0.1:61300"), "{stdout}");
    assert!(
        stdout.contains("---- S seq 0 ---"),
        "ASCII ladder off a terminal: {stdout}"
    );
    assert!(
        !bed.tables().contains("tcpcraft_"),
        "the guard is gone with the process"
    );

    // Passive close over IPv6, against a server that closes after its answer.
    serve(
        &bed.server,
        "[2001:db8:198:18::2]:80".parse().expect("addr"),
        true,
    );
    let out = handshake(
        &bed,
        &[
            "[2001:db8:198:18::2]:80",
            "--data",
            r"GET / HTTP/1.0\r\n\r\n",
            "--close",
            "passive",
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("CLOSE_WAIT → LAST_ACK"), "{stdout}");
    assert!(stdout.contains("LAST_ACK → CLOSED"), "{stdout}");

    // RST close on loopback, with an SVG.
    let svg = std::env::temp_dir().join(format!("tcpcraft-ladder-{}.svg", std::process::id()));
    serve(&bed.client, "127.0.0.1:7".parse().expect("addr"), false);
    let out = handshake(
        &bed,
        &[
            "127.0.0.1:7",
            "--close",
            "rst",
            "--svg",
            &svg.to_string_lossy(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("ESTABLISHED → CLOSED (RST sent: connection aborted)"));
    let picture = std::fs::read_to_string(&svg).expect("svg written");
    let _ = std::fs::remove_file(&svg);
    assert!(picture.starts_with("<svg"), "{picture}");

    // A closed port: exit status 1 and the mismatch on stderr.
    let out = handshake(&bed, &["198.18.0.2:9", "--timeout", "1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("expected SA, got RA: the port is closed"),
        "{}",
        text(&out.stderr)
    );

    // A usage error: exit status 2.
    let out = handshake(&bed, &["198.18.0.2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected HOST:PORT"));
}

#[test]
fn handshake_dry_run_sends_nothing() {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args([
            "--dry-run",
            "handshake",
            "198.18.0.2:80",
            "--sport",
            "61400",
        ])
        // Pinned: the route's source for 198.18.0.2 depends on the machine.
        .env("TCPCRAFT_DRYRUN_SRC", "none")
        .output()
        .expect("tcpcraft runs");
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("would send: IP 0.0.0.0.61400 > 198.18.0.2.80: Flags [S]"),
        "{stdout}"
    );
    assert_eq!(lines[1], "  CLOSED → SYN_SENT (active open: SYN sent)");
    assert_eq!(
        lines[2],
        "dry run: nothing is received, so the exchange stops after the SYN"
    );
    assert!(!stdout.contains("rst-guard"), "nothing installed: {stdout}");
}
