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

/// `--dry-run` sends nothing: it says what it would scan and exits 0 (it used to be
/// ignored by `scan`, which then really scanned).
#[test]
fn a_dry_run_says_what_it_would_scan_and_sends_nothing() {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["--dry-run", "scan", "198.18.0.0/24", "-p", "80,443"])
        .output()
        .expect("run tcpcraft");
    assert_eq!(out.status.code(), Some(0));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains("would scan 256 hosts (198.18.0.0 … 198.18.0.255) x 2 tcp ports")
            && s.contains("nothing sent"),
        "{s}"
    );
}

/// What an nmap user types first works: the scan types, -Pn, -n, -T4, --open, -F, -e,
/// -g, --max-rate; what tcpcraft has no counterpart for is an error that says what to
/// use instead, and a value it takes is not mistaken for a target.
#[test]
fn nmap_spellings() {
    let dry = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
            .arg("--dry-run")
            .arg("scan")
            .args(args)
            .output()
            .expect("run tcpcraft");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let works: &[(&[&str], &str)] = &[
        (
            &["-sS", "-Pn", "-n", "-T4", "--open", "-p", "80"],
            "1 tcp port (syn scan)",
        ),
        (&["-sT", "-p", "80"], "(connect scan)"),
        (&["-sA", "-p", "80"], "(ack scan)"),
        (&["-sU", "-p", "53"], "1 udp port (udp scan)"),
        (&["-sN", "-p", "80"], "(null scan)"),
        (&["-sF", "-p", "80"], "(fin scan)"),
        (&["-sX", "-p", "80"], "(xmas scan)"),
        (&["--scanflags", "FPU", "-p", "80"], "(xmas scan)"),
        (&["-F"], "100 tcp ports"),
        (&["-T", "4", "-p", "80"], "1 tcp port"),
        (&["-Taggressive", "-p", "80"], "1 tcp port"),
        (
            &["-g", "5353", "--max-rate", "100", "-p", "80"],
            "1 tcp port",
        ),
        (&["-e", "lo", "-p", "80"], "1 tcp port"),
        (&["-6", "-p", "80"], "1 tcp port"),
    ];
    for (args, want) in works {
        let mut a = args.to_vec();
        a.push(if args.contains(&"-6") {
            "::1"
        } else {
            "198.18.0.2"
        });
        let (code, out) = dry(&a);
        assert_eq!(code, Some(0), "{a:?}: {out}");
        assert!(out.contains(want), "{a:?}: expected {want:?} in {out}");
    }
    let refused: &[(&[&str], &str)] = &[
        (&["-sV"], "-sV: service, version and OS detection"),
        (&["-O"], "-O: service, version and OS detection"),
        (
            &["-oS", "out.txt"],
            "-oS: nmap's script-kiddie and machine output",
        ),
        (&["-oM", "out.txt"], "use -oX, -oN, -oG, -oA or --json"),
        (
            &["--min-rate", "1000"],
            "--min-rate: tcpcraft has no rate floor",
        ),
        (&["--min-rate=1000"], "--rate N sets the rate"),
        (&["-T2"], "-T2: for a slow scan, set the rate"),
        (&["-T", "polite"], "-T2: for a slow scan"),
        (&["-sn"], "-sn: there is no host discovery"),
        (&["-sM"], "Maimon"),
        (&["--script", "vuln"], "scripts are nmap's"),
        (&["-sS", "-sU"], "'--syn' cannot be used with '--udp'"),
        (
            &["--banners", "-sU"],
            "--banners reads banners in a SYN scan",
        ),
        (&["--banners", "--ack"], "not an ack scan"),
        (
            &["--banners", "--banner-timeout", "forever"],
            "--banner-timeout takes seconds from 0.1 to 60",
        ),
        (
            &["--banners", "--banner-connections", "3"],
            "--banner-connections takes a number from 16",
        ),
    ];
    for (args, want) in refused {
        let mut a = args.to_vec();
        a.push("198.18.0.2");
        let (code, out) = dry(&a);
        assert_eq!(code, Some(2), "{a:?}: {out}");
        assert!(out.contains(want), "{a:?}: expected {want:?} in {out}");
        assert!(!out.contains("would scan"), "{a:?}: {out}");
    }
}
