//! Byte vectors (made once with scapy by scripts/gen_vectors.py) and round trips.

use super::*;
use std::net::Ipv4Addr;

const VECTORS: &str = include_str!("../../tests/fixtures/vectors.txt");

fn vectors() -> Vec<(&'static str, bool, Vec<u8>)> {
    VECTORS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut it = l.split_whitespace();
            let name = it.next().unwrap();
            let ok = it.next().unwrap() == "ok";
            (name, ok, hex::decode(it.next().unwrap()).unwrap())
        })
        .collect()
}

fn link_of(name: &str) -> LinkType {
    if name.starts_with("ether_") || name.starts_with("arp_") {
        LinkType::Ethernet
    } else if name.starts_with("sll_") {
        LinkType::Sll
    } else {
        LinkType::RawIp
    }
}

/// Sets every computed field back to `None` ("fill in when building").
fn clear_computed(p: &mut Packet) {
    for l in &mut p.layers {
        match l {
            Layer::Ether(e) => e.ethertype = None,
            Layer::Sll(s) => s.proto = None,
            Layer::Ipv4(ip) => {
                ip.ihl = None;
                ip.len = None;
                ip.chksum = None;
            }
            Layer::Ipv6(ip) => {
                ip.plen = None;
                ip.nh = None;
            }
            Layer::Tcp(t) => {
                t.dataofs = None;
                t.chksum = None;
            }
            Layer::Udp(u) => {
                u.len = None;
                u.chksum = None;
            }
            Layer::Icmp(c) | Layer::Icmpv6(c) => c.chksum = None,
            Layer::Arp(_) | Layer::Raw(_) | Layer::Padding(_) => {}
        }
    }
}

#[test]
fn there_are_enough_vectors() {
    assert!(vectors().len() >= 30);
}

#[test]
fn every_vector_round_trips() {
    for (name, _, bytes) in vectors() {
        let (p, _) = Packet::parse(&bytes, link_of(name));
        assert_eq!(
            hex::encode(p.to_bytes()),
            hex::encode(&bytes),
            "{name}: {p:#?}"
        );
    }
}

#[test]
fn well_formed_vectors_rebuild_from_cleared_fields() {
    for (name, ok, bytes) in vectors() {
        if !ok || name.starts_with("arp_") {
            continue;
        }
        let (mut p, notes) = Packet::parse(&bytes, link_of(name));
        // Quoted packets in ICMP errors keep their (truncated) lengths: clear the outer only.
        let quoted = p
            .layers
            .iter()
            .position(|l| matches!(l, Layer::Icmp(_) | Layer::Icmpv6(_)));
        let keep = match quoted {
            Some(i) if !matches!(p.layers.get(i + 1), None | Some(Layer::Raw(_))) => {
                p.layers.split_off(i + 1)
            }
            _ => Vec::new(),
        };
        clear_computed(&mut p);
        // The protocol number is computed only when a known layer follows.
        let next_is_raw = matches!(p.layers.get(1), Some(Layer::Raw(_)));
        if let Some(Layer::Ipv4(ip)) = p.layers.first_mut() {
            if !next_is_raw {
                ip.proto = None;
            }
        }
        p.layers.extend(keep);
        assert_eq!(hex::encode(p.to_bytes()), hex::encode(&bytes), "{name}");
        assert!(notes.is_empty(), "{name}: {notes:?}");
        // And `filled` restores exactly the parsed fields.
        assert_eq!(p.filled(), Packet::parse(&bytes, link_of(name)).0, "{name}");
    }
}

fn get(name: &str) -> (Packet, Vec<Note>) {
    let (n, _, b) = vectors().into_iter().find(|v| v.0 == name).unwrap();
    Packet::parse(&b, link_of(n))
}

#[test]
fn syn_with_five_options_parses_every_field() {
    let (p, notes) = get("syn_5opts");
    assert!(notes.is_empty());
    let ip = p.ipv4().unwrap();
    assert_eq!(ip.src, Some(Ipv4Addr::new(198, 18, 0, 1)));
    assert_eq!(ip.dst, Ipv4Addr::new(198, 18, 0, 2));
    assert_eq!((ip.ttl, ip.id, ip.proto), (64, 1, Some(6)));
    let t = p.tcp().unwrap();
    assert_eq!(
        (t.sport, t.dport, t.seq, t.ack, t.window),
        (40000, 80, 1000, 0, 64240)
    );
    assert_eq!(t.flags, TcpFlags(TcpFlags::SYN));
    assert_eq!(
        t.options,
        vec![
            TcpOption::Mss(1460),
            TcpOption::SackOk,
            TcpOption::Timestamp(1, 0),
            TcpOption::Nop,
            TcpOption::Wscale(7)
        ]
    );
    assert_eq!(t.dataofs, Some(10));
}

#[test]
fn all_nine_flags_and_reserved_bits() {
    let (p, _) = get("all_flags");
    assert_eq!(p.tcp().unwrap().flags, TcpFlags(0x1ff));
    let (p, _) = get("reserved_bits");
    assert_eq!(p.tcp().unwrap().reserved, 5);
}

#[test]
fn unknown_options_keep_kind_and_bytes() {
    let (p, _) = get("unknown_kind_99");
    assert!(p.tcp().unwrap().options.contains(&TcpOption::Unknown {
        kind: 99,
        data: b"ab".to_vec()
    }));
    let (p, _) = get("tfo_cookie");
    assert!(matches!(
        p.tcp().unwrap().options[1],
        TcpOption::Unknown { kind: 34, .. }
    ));
    let (p, _) = get("sack_4");
    assert_eq!(
        p.tcp().unwrap().options[0],
        TcpOption::Sack(vec![(1, 2), (3, 4), (5, 6), (7, 8)])
    );
}

#[test]
fn icmp_error_quotes_are_dissected() {
    let (p, _) = get("icmp_port_unreach_udp");
    let names: Vec<&str> = p.layers.iter().map(Layer::name).collect();
    assert_eq!(names, ["IP", "ICMP", "IP", "UDP", "Raw"]);
    let (p, _) = get("icmp_host_unreach_tcp");
    let names: Vec<&str> = p.layers.iter().map(Layer::name).collect();
    assert_eq!(names, ["IP", "ICMP", "IP", "TCP"]);
    // An 8-byte TCP quote (what routers send) is not a whole header: it stays raw, and the
    // view still reads its ports and sequence number.
    let (_, _, b) = vectors()
        .into_iter()
        .find(|v| v.0 == "icmp_host_unreach_tcp")
        .unwrap();
    let short = &b[..20 + 8 + 20 + 8];
    let (p, _) = Packet::parse(short, LinkType::RawIp);
    let names: Vec<&str> = p.layers.iter().map(Layer::name).collect();
    assert_eq!(names, ["IP", "ICMP", "IP", "Raw"]);
    let q = view::Dissection::new(short, LinkType::RawIp)
        .unwrap()
        .quoted()
        .unwrap();
    assert_eq!((q.sport, q.dport, q.seq, q.proto), (40000, 8443, 1000, 6));
}

#[test]
fn truncation_is_noted_not_fatal() {
    let (p, notes) = get("truncated_tcp");
    assert!(!notes.is_empty());
    assert_eq!(p.layers[0].name(), "IP");
    let (_, notes) = get("truncated_ip");
    assert!(
        notes[0].message.contains("IPv4 header truncated"),
        "{notes:?}"
    );
    let (_, notes) = get("lying_dataofs");
    assert!(
        notes.iter().any(|n| n.message.contains("data offset 8")),
        "{notes:?}"
    );
}

#[test]
fn padding_beyond_ip_length_is_kept_apart() {
    let (p, _) = get("ether_padded");
    assert!(matches!(p.layers.last(), Some(Layer::Padding(b)) if b.len() == 6));
    assert!(p.payload().is_empty());
}

#[test]
fn deliberate_wrong_fields_go_out_as_given() {
    let p = Packet::new(vec![
        Layer::Ipv4(Ipv4Repr {
            chksum: Some(0x1234),
            len: Some(100),
            ..Default::default()
        }),
        Layer::Tcp(TcpRepr {
            chksum: Some(0xdead),
            dataofs: Some(15),
            ..Default::default()
        }),
    ]);
    let b = p.to_bytes();
    assert_eq!(b.len(), 40);
    assert_eq!(&b[2..4], &100u16.to_be_bytes());
    assert_eq!(&b[10..12], &[0x12, 0x34]);
    assert_eq!(b[32] >> 4, 15);
    assert_eq!(&b[36..38], &[0xde, 0xad]);
}

#[test]
fn nothing_panics_on_prefixes_of_any_vector() {
    for (name, _, bytes) in vectors() {
        for n in 0..bytes.len() {
            for link in [LinkType::Ethernet, LinkType::RawIp, LinkType::Sll] {
                let (p, _) = Packet::parse(&bytes[..n], link);
                assert_eq!(p.to_bytes(), &bytes[..n], "{name}[..{n}] {link:?}");
                let _ = view::Dissection::new(&bytes[..n], link);
            }
        }
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn tcp_option() -> impl Strategy<Value = TcpOption> {
        prop_oneof![
            Just(TcpOption::Nop),
            any::<u16>().prop_map(TcpOption::Mss),
            any::<u8>().prop_map(TcpOption::Wscale),
            Just(TcpOption::SackOk),
            proptest::collection::vec((any::<u32>(), any::<u32>()), 1..=4)
                .prop_map(TcpOption::Sack),
            (any::<u32>(), any::<u32>()).prop_map(|(a, b)| TcpOption::Timestamp(a, b)),
            (9u8..=255, proptest::collection::vec(any::<u8>(), 0..6))
                .prop_map(|(kind, data)| TcpOption::Unknown { kind, data }),
        ]
    }

    fn tcp() -> impl Strategy<Value = TcpRepr> {
        (
            any::<(u16, u16, u32, u32)>(),
            0u16..0x200,
            any::<(u16, u16)>(),
            proptest::collection::vec(tcp_option(), 0..4),
        )
            .prop_filter("options fit in 40 bytes", |(_, _, _, o)| {
                o.iter().map(TcpOption::wire_len).sum::<usize>() <= 40
            })
            .prop_map(
                |((sport, dport, seq, ack), flags, (window, urgptr), options)| TcpRepr {
                    sport,
                    dport,
                    seq,
                    ack,
                    flags: TcpFlags(flags),
                    window,
                    urgptr,
                    options,
                    ..Default::default()
                },
            )
    }

    proptest! {
        #[test]
        fn random_tcp_over_ipv4_survives_emit_parse_emit(
            t in tcp(), src in any::<[u8; 4]>(), dst in any::<[u8; 4]>(), ttl in any::<u8>(),
            payload in proptest::collection::vec(any::<u8>(), 0..64)
        ) {
            let mut layers = vec![
                Layer::Ipv4(Ipv4Repr { src: Some(src.into()), dst: dst.into(), ttl, ..Default::default() }),
                Layer::Tcp(t),
            ];
            if !payload.is_empty() { layers.push(Layer::Raw(payload)); }
            let p = Packet::new(layers);
            let b = p.to_bytes();
            let (q, notes) = Packet::parse(&b, LinkType::RawIp);
            prop_assert!(notes.is_empty(), "{:?}", notes);
            prop_assert_eq!(q.to_bytes(), b);
            // Zero padding reads back as EOL: compare options as a prefix, the rest exactly.
            let (mut q, mut f) = (q, p.filled());
            let (qt, ft) = (q.tcp_mut().unwrap(), f.tcp_mut().unwrap());
            prop_assert!(qt.options.starts_with(&ft.options));
            prop_assert!(qt.options[ft.options.len()..].iter().all(|o| *o == TcpOption::Eol));
            qt.options.clear();
            qt.padding = None;
            ft.options.clear();
            ft.padding = None;
            prop_assert_eq!(q, f);
        }

        #[test]
        fn random_udp_over_ipv6_survives(
            sport in any::<u16>(), dport in any::<u16>(), fl in 0u32..0x100000, tc in any::<u8>(),
            payload in proptest::collection::vec(any::<u8>(), 0..64)
        ) {
            let p = Packet::new(vec![
                Layer::Ipv6(Ipv6Repr { src: Some("2001:db8:198:18::1".parse().unwrap()), fl, tc, ..Default::default() }),
                Layer::Udp(UdpRepr { sport, dport, ..Default::default() }),
                Layer::Raw(payload),
            ]);
            let b = p.to_bytes();
            let (q, _) = Packet::parse(&b, LinkType::RawIp);
            prop_assert_eq!(q.to_bytes(), b);
        }

        /// pnet_packet reads every header field of what tcpcraft builds as tcpcraft does.
        #[test]
        fn pnet_agrees_on_built_packets(
            t in tcp(), src in any::<[u8; 4]>(), dst in any::<[u8; 4]>(),
            (ttl, tos, id, flags, frag) in (any::<u8>(), any::<u8>(), any::<u16>(), 0u8..8, 0u16..0x2000),
            sport in any::<u16>(), dport in any::<u16>(), fl in 0u32..0x100000,
            (itype, icode) in any::<(u8, u8)>(),
            payload in proptest::collection::vec(any::<u8>(), 0..64)
        ) {
            let ip4 = Ipv4Repr { src: Some(src.into()), dst: dst.into(), ttl, tos, id, flags, frag, ..Default::default() };
            let ip6 = Ipv6Repr { src: Some("2001:db8:198:18::1".parse().unwrap()), fl, ..Default::default() };
            let udp = UdpRepr { sport, dport, ..Default::default() };
            let icmp = IcmpRepr { r#type: itype, code: icode, ..Default::default() };
            for layers in [
                vec![Layer::Ipv4(ip4.clone()), Layer::Tcp(t.clone())],
                vec![Layer::Ipv6(ip6.clone()), Layer::Tcp(t)],
                vec![Layer::Ipv4(ip4.clone()), Layer::Udp(udp.clone())],
                vec![Layer::Ipv6(ip6), Layer::Udp(udp)],
                vec![Layer::Ipv4(ip4), Layer::Icmp(icmp)],
            ] {
                let mut layers = layers;
                if !payload.is_empty() { layers.push(Layer::Raw(payload.clone())); }
                let b = Packet::new(layers).to_bytes();
                let wrong = super::super::oracle::disagreements(&b);
                prop_assert!(wrong.is_empty(), "{:?} in {}", wrong, hex::encode(&b));
            }
        }

        /// … and of arbitrary bytes that start like an IP header.
        #[test]
        fn pnet_agrees_on_arbitrary_ip_bytes(
            v in prop_oneof![Just(0x45u8), Just(0x46), Just(0x4f), Just(0x60), any::<u8>()],
            proto in prop_oneof![Just(6u8), Just(17), Just(1), any::<u8>()],
            mut b in proptest::collection::vec(any::<u8>(), 0..120)
        ) {
            if let Some(x) = b.get_mut(0) { *x = v; }
            if let Some(x) = b.get_mut(9) { *x = proto; }
            if let Some(x) = b.get_mut(6) { if v >> 4 == 6 { *x = proto; } }
            let wrong = super::super::oracle::disagreements(&b);
            prop_assert!(wrong.is_empty(), "{:?} in {}", wrong, hex::encode(&b));
        }

        /// After `new_checked`, every accessor of every view answers without panicking.
        #[test]
        fn views_never_panic_once_checked(b in proptest::collection::vec(any::<u8>(), 0..120)) {
            use crate::packet::*;
            if let Ok(p) = Ipv4Packet::new_checked(&b[..]) {
                let _ = (p.version(), p.tos(), p.total_len(), p.ident(), p.flags(), p.frag_offset());
                let _ = (p.ttl(), p.protocol(), p.checksum(), p.src_addr(), p.dst_addr());
                let _ = (p.options(), p.payload(), p.verify_checksum());
            }
            if let Ok(p) = Ipv6Packet::new_checked(&b[..]) {
                let _ = (p.version(), p.traffic_class(), p.flow_label(), p.payload_len());
                let _ = (p.next_header(), p.hop_limit(), p.src_addr(), p.dst_addr(), p.payload());
            }
            if let Ok(p) = TcpPacket::new_checked(&b[..]) {
                let _ = (p.src_port(), p.dst_port(), p.seq_number(), p.ack_number(), p.flags());
                let _ = (p.window_len(), p.checksum(), p.urgent_at(), p.options(), p.payload());
            }
            if let Ok(p) = UdpPacket::new_checked(&b[..]) {
                let _ = (p.src_port(), p.dst_port(), p.len(), p.checksum(), p.payload());
            }
            if let Ok(p) = IcmpPacket::new_checked(&b[..]) {
                let _ = (p.msg_type(), p.msg_code(), p.checksum(), p.rest(), p.payload());
            }
            if let Ok(p) = ArpPacket::new_checked(&b[..]) {
                let _ = (p.operation(), p.source_protocol_addr(), p.target_hardware_addr());
            }
            if let Ok(f) = EthernetFrame::new_checked(&b[..]) {
                let _ = (f.dst_addr(), f.src_addr(), f.ethertype(), f.payload());
            }
            if let Ok(f) = SllFrame::new_checked(&b[..]) {
                let _ = (f.pkttype(), f.addr(), f.protocol(), f.payload());
            }
        }

        /// The hot-path dissection and the lossless parser read the same TCP header.
        #[test]
        fn dissection_agrees_with_the_parser(t in tcp(), payload in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut layers = vec![Layer::Ipv4(Ipv4Repr::default()), Layer::Tcp(t)];
            if !payload.is_empty() { layers.push(Layer::Raw(payload.clone())); }
            let b = Packet::new(layers).to_bytes();
            let (p, _) = Packet::parse(&b, LinkType::RawIp);
            let d = crate::packet::view::Dissection::new(&b, LinkType::RawIp);
            prop_assert!(d.is_some() && p.tcp().is_some(), "{}", hex::encode(&b));
            if let (Some(d), Some(t)) = (d, p.tcp()) {
                prop_assert_eq!(d.ports(), (t.sport, t.dport));
                prop_assert_eq!((d.seq(), d.ack(), d.flags(), d.window()), (t.seq, t.ack, t.flags, t.window));
                prop_assert_eq!(d.payload(), p.payload());
            }
        }

        #[test]
        fn arbitrary_bytes_round_trip(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            for link in [LinkType::Ethernet, LinkType::RawIp, LinkType::Sll] {
                let (p, _) = Packet::parse(&b, link);
                prop_assert_eq!(p.to_bytes(), b.clone());
            }
        }
    }
}
