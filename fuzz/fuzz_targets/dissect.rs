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
});
