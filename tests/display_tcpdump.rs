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
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decode");
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
fn ethernet_capture_matches_tcpdump() {
    run("ether.pcap");
}

#[test]
fn linux_cooked_capture_matches_tcpdump() {
    run("sll.pcap");
}

#[test]
fn the_varied_capture_is_varied() {
    // Every combination of the eight flags is in it, and more than that.
    let (n, _) = check("varied.pcap");
    assert!(n >= 256 + 200, "{n}");
}
