//! Arbitrary bytes → dissect (every link type) → every display, and the round trip.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tcpcraft::packet::{display, view::Dissection, LinkType, Packet};

fuzz_target!(|data: &[u8]| {
    for link in [LinkType::Ethernet, LinkType::RawIp, LinkType::Sll] {
        let (p, _notes) = Packet::parse(data, link);
        assert_eq!(p.to_bytes(), data, "parse/emit must be lossless");
        let _ = display::summary(&p);
        let _ = display::show(&p);
        let _ = display::json(&p);
        let _ = display::hexdump(data);
        let _ = p.filled();
        if let Some(d) = Dissection::new(data, link) {
            let _ = (d.src(), d.dst(), d.ports(), d.seq(), d.flags(), d.payload(), d.quoted());
        }
    }
    // Every other link type the decoder reads (BSD loopback, PPP, Cisco HDLC, cooked v2,
    // IPNET, IP over InfiniBand, 802.11 radiotap), with the first byte choosing the wire
    // length (shorter or longer than what was captured), and ARP without a link header.
    let extra = usize::from(data.first().copied().unwrap_or(0));
    for dlt in [0, 9, 50, 104, 108, 127, 226, 228, 229, 242, 276, 147] {
        let _ = display::summary_dlt(data, data.len() + extra, dlt);
        let _ = display::summary_dlt(data, data.len().saturating_sub(extra), dlt);
        if let Some(at) = display::ip_offset(data, dlt) {
            assert!(at < data.len());
        }
    }
    let a = Packet::parse_arp(data);
    assert_eq!(a.to_bytes(), data, "ARP parse/emit must be lossless");
    let _ = display::summary(&a);
    let _ = display::show(&a);
});
