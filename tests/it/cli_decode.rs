//! `tcpcraft decode` and the command line around it: formats, inputs, errors, exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn tcpcraft(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tcpcraft");
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const SYN: &str = "4500003c000100004006ee93c6120001c61200029c400050000003e800000000a002faf0206e0000020405b40402080a000000010000000001030307";

fn vectors_pcap(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("v.pcap");
    let mut w = tcpcraft::pcap::Writer::create(&path, tcpcraft::pcap::linktype::RAW).unwrap();
    for line in include_str!("../fixtures/vectors.txt").lines() {
        let mut it = line.split_whitespace();
        let name = it.next().unwrap();
        let hx = it.nth(1).unwrap();
        if name.starts_with("ether_") || name.starts_with("sll_") || name.starts_with("arp_") {
            continue;
        }
        w.write(std::time::Duration::from_secs(1), &hex::decode(hx).unwrap())
            .unwrap();
    }
    w.flush().unwrap();
    path
}

#[test]
fn hex_decodes_to_one_line() {
    let o = tcpcraft(&["decode", "--hex", SYN], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with("IP 198.18.0.1.40000 > 198.18.0.2.80"),
        "{out}"
    );
}

#[test]
fn hex_on_stdin_and_dash() {
    for args in [&["decode"][..], &["decode", "--hex", "-"][..]] {
        let o = tcpcraft(args, Some(&format!("{SYN}\n")));
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(text(&o.stdout).starts_with("IP 198.18.0.1.40000"));
    }
}

#[test]
fn formats_switch() {
    let show = text(&tcpcraft(&["decode", "--show", "--hex", SYN], None).stdout);
    assert!(
        show.contains("TCP") && show.contains("sport") && show.contains("40000"),
        "{show}"
    );
    let hd = text(&tcpcraft(&["decode", "--hexdump", "--hex", SYN], None).stdout);
    assert!(hd.contains("0000") && hd.contains("45 00 00 3c"), "{hd}");
    let js = text(&tcpcraft(&["decode", "--json", "--hex", SYN], None).stdout);
    let v: serde_json::Value = serde_json::from_str(js.trim()).unwrap();
    assert!(v["layers"].is_array(), "{js}");
}

#[test]
fn one_line_per_packet_in_a_pcap() {
    let dir = tempfile::tempdir().unwrap();
    let path = vectors_pcap(dir.path());
    let o = tcpcraft(&["decode", path.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let n = include_str!("../fixtures/vectors.txt")
        .lines()
        .filter(|l| !(l.starts_with("ether_") || l.starts_with("sll_") || l.starts_with("arp_")))
        .count();
    assert_eq!(text(&o.stdout).lines().count(), n);
}

#[test]
fn bad_input_exits_2_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["decode".into(), "--hex".into(), "450".into()],
            "odd number of hex digits (3)",
        ),
        (
            vec!["decode".into(), "--hex".into(), "45zz".into()],
            "not a hex digit: 'z'",
        ),
        (
            vec!["decode".into(), "/nonexistent.pcap".into()],
            "/nonexistent.pcap: No such file",
        ),
        (
            vec!["decode".into(), "Cargo.toml".into()],
            "not a pcap or pcapng capture",
        ),
    ];
    for (args, want) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = tcpcraft(&args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            text(&o.stderr).contains(want),
            "{args:?}: {}",
            text(&o.stderr)
        );
        assert!(!text(&o.stderr).contains("panicked"));
    }
    // Empty and truncated captures.
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let o = tcpcraft(&["decode", empty.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("empty file"),
        "{}",
        text(&o.stderr)
    );
    let full = std::fs::read(vectors_pcap(dir.path())).unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &full[..full.len() - 3]).unwrap();
    let o = tcpcraft(&["decode", cut.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("truncated in record"),
        "{}",
        text(&o.stderr)
    );
    // What was readable before the cut was still printed.
    assert!(text(&o.stdout).lines().count() > 10);
}

#[test]
fn malformed_packets_print_and_exit_0() {
    let o = tcpcraft(&["decode", "--hex", "4500003c00010000400600"], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).lines().count(), 1);
}

#[test]
fn unknown_flag_names_the_flag() {
    let o = tcpcraft(&["decode", "--bogus"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--bogus"));
    let o = tcpcraft(&["decode", "--link", "token-ring", "--hex", SYN], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("possible values: ether, ip, sll"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn completions_for_each_shell() {
    for sh in ["bash", "zsh", "fish"] {
        let o = tcpcraft(&["completions", sh], None);
        assert!(o.status.success());
        assert!(text(&o.stdout).contains("decode"), "{sh}");
    }
}

#[test]
fn broken_pipe_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = vectors_pcap(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["decode", path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(!text(&o.stderr).contains("panicked"), "{}", text(&o.stderr));
}

#[test]
fn pcapng_reads_like_pcap() {
    // tests/fixtures/vectors.pcapng was written by Wireshark's editcap from a raw-IP pcap
    // of the vectors; both formats must give the same lines.
    let dir = tempfile::tempdir().unwrap();
    let pcap = vectors_pcap(dir.path());
    let a = tcpcraft(&["decode", pcap.to_str().unwrap()], None);
    let b = tcpcraft(
        &[
            "decode",
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors.pcapng"),
        ],
        None,
    );
    assert!(b.status.success(), "{}", text(&b.stderr));
    assert_eq!(text(&a.stdout), text(&b.stdout));
    assert_eq!(text(&b.stdout).lines().count(), 51);
}

#[test]
fn decode_agrees_with_tcpdump_line_for_line() {
    // Captures made by scripts/gen_decode_fixture.py with scapy (every flag combination,
    // option kinds, SACK blocks, RST+ACK, ICMP echo and errors quoting TCP/UDP, IPv6,
    // damaged frames), each with `tcpdump -n -t -S -r` output committed beside it.
    // tcpdump's continuation lines (hex dumps, OpenFlow's header line: a tab first) are
    // not summaries.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/decode");
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("pcap") {
            continue;
        }
        let want = std::fs::read_to_string(path.with_extension("pcap.txt")).unwrap();
        let want: Vec<&str> = want.lines().filter(|l| !l.starts_with('\t')).collect();
        let o = tcpcraft(&["decode", path.to_str().unwrap()], None);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let got = text(&o.stdout);
        let got: Vec<&str> = got.lines().collect();
        assert_eq!(got.len(), want.len(), "{}", path.display());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "{} packet {}", path.display(), i + 1);
        }
        total += got.len();
    }
    assert!(total > 6000, "{total}");
}

#[test]
fn other_link_types_show_the_ip_packet_inside() {
    // A BSD loopback capture (link type 0): the summary is tcpdump's line, the field
    // tree and JSON show the IP packet the frame carries.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/decode/links_null.pcap"
    );
    let o = tcpcraft(&["decode", "--show", path], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let show = text(&o.stdout);
    assert!(
        show.contains("###[ IP ]###") && show.contains("sport"),
        "{show}"
    );
    let o = tcpcraft(&["decode", "--json", path], None);
    let first = text(&o.stdout);
    let v: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(v["linktype"], 0);
    assert_eq!(v["layers"][0]["layer"], "IP", "{v}");
    assert!(v["summary"]
        .as_str()
        .unwrap()
        .starts_with("IP 198.18.0.1.40000 > 198.18.0.2.9000: Flags [S]"));
}

#[test]
fn source_routed_checksums_are_scapys() {
    // scapy builds the TCP checksum of a packet with a loose source route over the
    // route's last address (RFC 791, RFC 9293 §3.1); decode calls it correct.
    let line = include_str!("../fixtures/lang_scapy.txt")
        .lines()
        .find(|l| l.starts_with("lsrr_tcp_checksum\t"))
        .unwrap();
    let hex = line.rsplit('\t').next().unwrap();
    let o = tcpcraft(&["decode", "--show", "--hex", hex], None);
    let show = text(&o.stdout);
    let checks: Vec<&str> = show.lines().filter(|l| l.contains("chksum")).collect();
    assert_eq!(checks.len(), 2, "{show}");
    assert!(checks.iter().all(|l| l.contains("(correct)")), "{show}");
    // The option shows as the builder that makes it.
    assert!(
        show.contains(r#"options   = [lsrr(["198.18.0.3", "198.18.0.4"])]"#),
        "{show}"
    );
}
