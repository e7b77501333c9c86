//! `tcpcraft ping` against the test bed: hping3's lines for TCP, UDP and ICMP answers
//! over IPv4 and IPv6, the statistics, and exit status 1 when nothing answers.

use crate::testbed;

use std::process::{Command, Output};

fn ping(bed: &testbed::Bed, args: &[&str]) -> (Option<i32>, String) {
    let out: Output = bed
        .client_cmd(env!("CARGO_BIN_EXE_tcpcraft"))
        .arg("ping")
        .args(args)
        .output()
        .expect("run tcpcraft");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{args:?}:\n{text}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

#[test]
fn ping_answers_statistics_and_silence() {
    let Some(bed) = testbed::standard("ping") else {
        return;
    };
    // SYN to the HTTP listener: SYN-ACKs, one per probe, each from the next source port.
    let (code, out) = ping(
        &bed,
        &["198.18.0.2", "-S", "-p", "80", "-c", "3", "-i", "0.05"],
    );
    assert_eq!(code, Some(0));
    for i in 0..3 {
        assert!(
            out.contains(&format!(
                "ip=198.18.0.2 ttl=64 DF id=0 sport=80 flags=SA seq={i} win="
            )),
            "{out}"
        );
    }
    assert!(
        out.contains("--- 198.18.0.2 tcpcraft ping statistics ---"),
        "{out}"
    );
    assert!(
        out.contains("3 packets transmitted, 3 packets received, 0% packet loss"),
        "{out}"
    );
    assert!(out.contains("round-trip min/avg/max = "), "{out}");
    // ACK to a closed port over IPv6: a bare RST.
    let (code, out) = ping(
        &bed,
        &[
            "2001:db8:198:18::2",
            "-A",
            "-p",
            "2",
            "-c",
            "2",
            "-i",
            "0.05",
        ],
    );
    assert_eq!(code, Some(0));
    assert!(out.contains("hlim=64 sport=2 flags=R seq=1 win=0"), "{out}");
    // UDP to a closed port: ICMP port unreachable. The rejected TCP port 81: code 13.
    let (_, out) = ping(&bed, &["198.18.0.2", "-2", "-p", "9", "-c", "1"]);
    assert!(
        out.contains("ICMP type 3 code 3 from ip=198.18.0.2 seq=0"),
        "{out}"
    );
    let (_, out) = ping(&bed, &["198.18.0.2", "-p", "81", "-c", "1"]);
    assert!(
        out.contains("ICMP type 3 code 13 from ip=198.18.0.2 seq=0"),
        "{out}"
    );
    // ICMP echo with 56 bytes of data, both families.
    let (_, out) = ping(
        &bed,
        &["198.18.0.2", "-1", "-d", "56", "-c", "2", "-i", "u50000"],
    );
    assert!(
        out.contains("len=84 ip=198.18.0.2 ttl=64") && out.contains("icmp_seq=1"),
        "{out}"
    );
    let (_, out) = ping(&bed, &["2001:db8:198:18::2", "-1", "-c", "1"]);
    assert!(
        out.contains("len=48 ip=2001:db8:198:18::2 hlim=64 icmp_seq=0"),
        "{out}"
    );
    // The silently dropped port: no answer line, 100% loss, exit status 1.
    let (code, out) = ping(
        &bed,
        &[
            "198.18.0.2",
            "-p",
            "8443",
            "-c",
            "2",
            "-i",
            "0.05",
            "--timeout",
            "0.2",
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(!out.contains("len="), "{out}");
    assert!(
        out.contains("2 packets transmitted, 0 packets received, 100% packet loss"),
        "{out}"
    );
}

/// Without privileges or network: a dry run prints what it would send, bad values are
/// named with exit status 2.
#[test]
fn ping_dry_run_and_bad_values() {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args([
            "--dry-run",
            "ping",
            "198.18.0.2",
            "-F",
            "-P",
            "-U",
            "-p",
            "443",
            "-c",
            "2",
            "-i",
            "0",
        ])
        .output()
        .expect("run tcpcraft");
    let s = String::from_utf8_lossy(&out.stdout);
    assert_eq!(s.matches("would send: ").count(), 2, "{s}");
    assert!(s.contains("> 198.18.0.2.443: Flags [FPU]"), "{s}");
    assert!(
        s.contains("2 packets transmitted, 0 packets received, 100% packet loss"),
        "{s}"
    );
    for (args, want) in [
        (
            &["ping", "198.18.0.2", "--flags", "SX"][..],
            "--flags takes letters",
        ),
        (
            &["ping", "198.18.0.2", "-s", "65535", "-c", "2"],
            "run past port 65535",
        ),
        (&["ping", "198.18.0.2", "-1", "-2"], "cannot be used with"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
            .args(args)
            .output()
            .expect("run tcpcraft");
        let e = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(want), "{args:?}: {e}");
    }
}
