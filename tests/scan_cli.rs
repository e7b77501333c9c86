//! `tcpcraft scan` argument errors: each bad value gets a message that names it and exit
//! status 2, before anything is sent (no privileges or network needed).

use std::process::Command;

fn scan(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .arg("scan")
        .args(args)
        .output()
        .expect("run tcpcraft");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_values_say_what_is_wrong() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["198.18.0.2", "-p", "70000"],
            "port 70000 out of range 1-65535",
        ),
        (&["198.18.0.2", "-p", "0"], "port 0 out of range 1-65535"),
        (&["198.18.0.2", "-p", "1-"], "bad range 1-"),
        (&["198.18.0.2", "-p", "a"], "not a port: a"),
        (&["300.1.1.1"], "octet 300 out of range 0-255"),
        (&["::g"], "not an IPv6 address: ::g"),
        (&["198.18.0.0/33"], "prefix /33 is longer than 32 bits"),
        (&["198.18.0.2", "--shard", "3/3"], "need 0 <= I < N"),
        (
            &["198.18.0.2", "--rate", "0"],
            "--rate takes probes per second",
        ),
        (&["198.18.0.2", "--wait", "soon"], "--wait takes seconds"),
        (
            &["198.18.0.2", "--flags", "S"],
            "SYN and ACK have scans of their own",
        ),
        (
            &["198.18.0.2", "--top-ports", "0"],
            "--top-ports takes a number 1-65535",
        ),
        (&["198.18.0.2", "--udp", "--ack"], "cannot be used with"),
        (
            &["198.18.0.0/15", "-p-"],
            "pairs is more than one scan holds",
        ),
        (
            &["-iL", "/nonexistent/targets"],
            "cannot read target list /nonexistent/targets",
        ),
    ];
    for (args, want) in cases {
        let (code, err) = scan(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: expected {want:?} in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_udp_only_port_list_for_a_tcp_scan_is_an_error() {
    let (code, err) = scan(&["198.18.0.2", "-p", "U:53"]);
    // Without raw-socket privileges this is a connect scan; either way: no TCP ports.
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no tcp ports in the port list"), "{err}");
}

#[test]
fn the_language_scan_in_a_dry_run_sends_nothing() {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args([
            "--dry-run",
            "-c",
            "r = scan(\"198.18.0.0/24\", \"80,443\")\nprint(r.open, len(r))",
        ])
        .output()
        .expect("run tcpcraft");
    let s = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        s.contains("would scan 256 hosts x 2 tcp ports (syn scan)"),
        "{s}"
    );
    assert!(s.contains("[] 0"), "{s}");
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["--dry-run", "-c", "scan(\"198.18.0.2\", ports=\"1-\")"])
        .output()
        .expect("run tcpcraft");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad range 1-"));
}
