//! `display::summary` against real tcpdump: each fixture pcap in tests/fixtures/decode/
//! was written by scripts/gen_decode_fixture.py, and `tcpdump -n -t -S -r FILE` output sits
//! beside it as FILE.txt. Every packet is dissected into a `Packet` (so the lossless
//! round trip is exercised too) and its summary must equal tcpdump's line.
//!
//! tcpdump follows a few lines (unknown ethertypes, unknown ICMPv6 codes) with a hex dump
//! on lines of their own, starting with a tab; the summary is the first line, so those
//! continuation lines are skipped.

use std::fs::File;
use std::path::Path;

use pcap_file::pcap::PcapReader;
use pcap_file::DataLink;
use tcpcraft::packet::display::{summary, summary_captured};
use tcpcraft::packet::{Layer, LinkType, Packet};

fn check(name: &str) -> (usize, Vec<String>) {
    check_at(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decode"),
        name,
    )
}

fn check_at(dir: &Path, name: &str) -> (usize, Vec<String>) {
    let file = File::open(dir.join(name)).expect("fixture pcap");
    let mut reader = PcapReader::new(file).expect("pcap header");
    let link = match reader.header().datalink {
        DataLink::ETHERNET => LinkType::Ethernet,
        DataLink::LINUX_SLL => LinkType::Sll,
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => LinkType::RawIp,
        other => panic!("{name}: link type {other:?}"),
    };
    let text = std::fs::read_to_string(dir.join(format!("{name}.txt"))).expect("tcpdump text");
    let expected: Vec<&str> = text.lines().filter(|l| !l.starts_with('\t')).collect();
    let mut mismatches = Vec::new();
    let mut n = 0;
    while let Some(pkt) = reader.next_packet() {
        let pkt = pkt.expect("pcap record");
        assert_eq!(
            pkt.data.len(),
            pkt.orig_len as usize,
            "fixtures are captured whole"
        );
        let (p, _notes) = Packet::parse(&pkt.data, link);
        assert_eq!(p.to_bytes(), pkt.data.as_ref(), "{name} #{n}: round trip");
        // The bytes with their link type is what `tcpcraft decode` prints; a `Packet`
        // prints the same unless parsing lost the link layer (a frame shorter than its
        // link header parses as raw bytes).
        let got = summary_captured(&pkt.data, pkt.orig_len as usize, link);
        let link_kept = match link {
            LinkType::Ethernet => matches!(p.layers.first(), Some(Layer::Ether(_))),
            LinkType::Sll => matches!(p.layers.first(), Some(Layer::Sll(_))),
            LinkType::RawIp => true,
        };
        if link_kept {
            assert_eq!(summary(&p), got, "{name} #{n}: Packet vs bytes");
        }
        let want = expected.get(n).copied().unwrap_or("<no line>");
        assert!(got.is_ascii(), "{name} #{n}: not ASCII: {got:?}");
        if got != want {
            mismatches.push(format!(
                "{name} #{n} ({}):\n  tcpdump: {want}\n  summary: {got}",
                hex::encode(&pkt.data)
            ));
        }
        n += 1;
    }
    assert_eq!(n, expected.len(), "{name}: packets vs tcpdump lines");
    (n, mismatches)
}

fn run(name: &str) {
    let (n, bad) = check(name);
    assert!(n > 0);
    assert!(
        bad.is_empty(),
        "{} of {n} lines differ from tcpdump:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn varied_raw_ip_capture_matches_tcpdump() {
    run("varied.pcap");
}

#[test]
fn mutated_capture_matches_tcpdump() {
    // Damaged copies of the varied capture: bad lengths, cut headers, odd values
    // everywhere, the way real captures of crafted packets look.
    run("mutated.pcap");
}

#[test]
fn random_dns_capture_matches_tcpdump() {
    run("dns_random.pcap");
}

#[test]
fn ethernet_capture_matches_tcpdump() {
    run("ether.pcap");
}

#[test]
fn mutated_ethernet_and_sll_captures_match_tcpdump() {
    run("ether_mutated.pcap");
    run("sll_mutated.pcap");
}

#[test]
fn linux_cooked_capture_matches_tcpdump() {
    run("sll.pcap");
}

#[test]
fn other_ip_protocols_and_application_names_match_tcpdump() {
    // scripts/gen_decode_protos.py: SCTP, DCCP, PIM, OSPF, VRRP, IGMP, EIGRP; BGP,
    // OpenFlow, RPKI-RTR, BEEP, RESP. (Link types, extension headers cut short and
    // tunnels are compared by tests/cli_decode.rs: VXLAN prints two lines a packet.)
    run("protos.pcap");
    run("apps.pcap");
}

#[test]
fn the_varied_capture_is_varied() {
    // Every combination of the eight flags is in it, and more than that.
    let (n, _) = check("varied.pcap");
    assert!(n >= 256 + 200, "{n}");
}

/// Any capture against its tcpdump text, for exploring: `TCPCRAFT_PCAP=/path/x.pcap
/// cargo test --test it display_tcpdump -- --ignored` (with `/path/x.pcap.txt` beside it,
/// from `tcpdump -n -t -S -r`).
#[test]
#[ignore = "needs TCPCRAFT_PCAP"]
fn external_capture_matches_tcpdump() {
    let Ok(path) = std::env::var("TCPCRAFT_PCAP") else {
        println!("TCPCRAFT_PCAP is not set");
        return;
    };
    let path = Path::new(&path);
    let (dir, name) = (
        path.parent().unwrap_or(Path::new(".")),
        path.file_name()
            .and_then(|n| n.to_str())
            .expect("file name"),
    );
    let (n, bad) = check_at(dir, name);
    for b in bad.iter().take(60) {
        println!("{b}");
    }
    println!("{} of {n} lines differ", bad.len());
    assert!(bad.is_empty());
}

/// The "done when": `tcpcraft decode FILE` agrees with `tcpdump -n -t -S -r FILE`
/// line for line (raw-IP captures; see `summary_captured` for frames whose link header
/// is cut short).
#[test]
fn tcpcraft_decode_agrees_with_tcpdump() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decode");
    for name in ["varied.pcap", "mutated.pcap"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
            .arg("decode")
            .arg(dir.join(name))
            .output()
            .expect("run tcpcraft decode");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = String::from_utf8_lossy(&out.stdout);
        let want = std::fs::read_to_string(dir.join(format!("{name}.txt"))).expect("tcpdump text");
        let want: Vec<&str> = want.lines().filter(|l| !l.starts_with('\t')).collect();
        let got: Vec<&str> = got.lines().collect();
        assert_eq!(got.len(), want.len(), "{name}: line count");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "{name} line {}", i + 1);
        }
    }
}
