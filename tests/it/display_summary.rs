//! `display::summary` on packets built by hand (the language's `print(p)`), on bare
//! layers, and on arbitrary bytes: it never panics and is always one ASCII line.

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use tcpcraft::packet::display::{hexdump, json, show, summary, summary_bytes, summary_captured};
use tcpcraft::packet::{
    EtherRepr, IcmpRepr, Ipv4Repr, Ipv6Repr, Layer, LinkType, Packet, TcpFlags, TcpOption, TcpRepr,
    UdpRepr,
};

const S: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const D: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

fn ip(src: Ipv4Addr, dst: Ipv4Addr) -> Layer {
    Layer::Ipv4(Ipv4Repr {
        src: Some(src),
        dst,
        ..Default::default()
    })
}

fn v6(last: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 0, last)
}

#[test]
fn the_designs_examples() {
    let syn = Packet::new(vec![
        ip(S, D),
        Layer::Tcp(TcpRepr {
            sport: 40000,
            dport: 80,
            seq: 1000,
            window: 64240,
            options: vec![
                TcpOption::Mss(1460),
                TcpOption::SackOk,
                TcpOption::Timestamp(1, 0),
                TcpOption::Nop,
                TcpOption::Wscale(7),
            ],
            ..Default::default()
        }),
    ]);
    assert_eq!(
        summary(&syn),
        "IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 1000, win 64240, options \
         [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0"
    );
    let unreach = Packet::new(vec![
        ip(D, S),
        Layer::Icmp(IcmpRepr {
            r#type: 3,
            code: 3,
            ..Default::default()
        }),
        ip(S, D),
        Layer::Udp(UdpRepr {
            sport: 40000,
            dport: 5555,
            ..Default::default()
        }),
        Layer::Raw(b"ping".to_vec()),
    ]);
    assert_eq!(
        summary(&unreach),
        "IP 198.18.0.2 > 198.18.0.1: ICMP 198.18.0.2 udp port 5555 unreachable, length 40"
    );
    let echo = Packet::new(vec![
        Layer::Ipv6(Ipv6Repr {
            src: Some(v6(1)),
            dst: v6(2),
            ..Default::default()
        }),
        Layer::Icmpv6(IcmpRepr {
            id: 5,
            seq: 6,
            ..IcmpRepr::default_v6()
        }),
        Layer::Raw(b"0123456789".to_vec()),
    ]);
    assert_eq!(
        summary(&echo),
        "IP6 2001:db8:198:18::1 > 2001:db8:198:18::2: ICMP6, echo request, id 5, seq 6, length 18"
    );
}

#[test]
fn handshake_and_teardown_lines() {
    let seg = |flags: &str, seq: u32, ack: u32, data: &[u8]| {
        let mut l = vec![
            ip(S, D),
            Layer::Tcp(TcpRepr {
                sport: 40000,
                dport: 8000,
                seq,
                ack,
                flags: TcpFlags::parse(flags).expect("flags"),
                window: 502,
                ..Default::default()
            }),
        ];
        if !data.is_empty() {
            l.push(Layer::Raw(data.to_vec()));
        }
        summary(&Packet::new(l))
    };
    let pre = "IP 198.18.0.1.40000 > 198.18.0.2.8000: ";
    assert_eq!(
        seg("A", 1001, 5001, b""),
        format!("{pre}Flags [.], ack 5001, win 502, length 0")
    );
    assert_eq!(
        seg("PA", 1001, 5001, b"hello"),
        format!("{pre}Flags [P.], seq 1001:1006, ack 5001, win 502, length 5")
    );
    assert_eq!(
        seg("FA", 1006, 5001, b""),
        format!("{pre}Flags [F.], seq 1006, ack 5001, win 502, length 0")
    );
    assert_eq!(
        seg("R", 1006, 0, b""),
        format!("{pre}Flags [R], seq 1006, win 502, length 0")
    );
    assert_eq!(
        seg("FSRPAUEC", 1, 2, b""),
        format!("{pre}Flags [FSRP.UEW], seq 1, ack 2, win 502, urg 0, length 0")
    );
    // NS is not printed by tcpdump.
    assert_eq!(
        seg("N", 1, 2, b""),
        format!("{pre}Flags [none], win 502, length 0")
    );
}

#[test]
fn http_on_port_80_as_tcpdump_prints_it() {
    let p = Packet::new(vec![
        ip(S, D),
        Layer::Tcp(TcpRepr {
            sport: 40000,
            dport: 80,
            seq: 1,
            ack: 1,
            flags: TcpFlags::parse("PA").expect("flags"),
            ..Default::default()
        }),
        Layer::Raw(b"GET / HTTP/1.0\r\n\r\n".to_vec()),
    ]);
    assert!(
        summary(&p).ends_with("length 18: HTTP: GET / HTTP/1.0"),
        "{}",
        summary(&p)
    );
}

#[test]
fn bare_layers_print_without_addresses() {
    let tcp = Packet::new(vec![Layer::Tcp(TcpRepr::default())]);
    assert_eq!(
        summary(&tcp),
        "20 > 80: Flags [S], seq 0, win 8192, length 0"
    );
    let udp = Packet::new(vec![
        Layer::Udp(UdpRepr {
            sport: 1,
            dport: 2,
            ..Default::default()
        }),
        Layer::Raw(b"x".to_vec()),
    ]);
    assert_eq!(summary(&udp), "1 > 2: UDP, length 1");
    let icmp = Packet::new(vec![Layer::Icmp(IcmpRepr::default())]);
    assert_eq!(summary(&icmp), "ICMP echo request, id 0, seq 0, length 8");
    let icmp6 = Packet::new(vec![Layer::Icmpv6(IcmpRepr::default_v6())]);
    assert_eq!(
        summary(&icmp6),
        "ICMP6, echo request, id 0, seq 0, length 8"
    );
    assert_eq!(summary(&Packet::default()), "empty packet");
    assert_eq!(
        summary(&Packet::new(vec![Layer::Raw(b"\x10abc".to_vec())])),
        "unknown ip 1"
    );
}

#[test]
fn unset_computed_fields_and_addresses_are_filled_in() {
    // scapy's IP() / TCP(): no source yet (the route's, when sent), dst 127.0.0.1.
    let p = Packet::new(vec![
        Layer::Ipv4(Ipv4Repr::default()),
        Layer::Tcp(TcpRepr::default()),
    ]);
    assert_eq!(
        summary(&p),
        "IP 0.0.0.0.20 > 127.0.0.1.80: Flags [S], seq 0, win 8192, length 0"
    );
    // (Not scapy's default ports 53/53: tcpdump would decode DNS there.)
    let p6 = Packet::new(vec![
        Layer::Ipv6(Ipv6Repr::default()),
        Layer::Udp(UdpRepr {
            sport: 40000,
            dport: 9000,
            ..Default::default()
        }),
    ]);
    assert_eq!(summary(&p6), "IP6 ::.40000 > ::1.9000: UDP, length 0");
    // An Ethernet frame prints the same line as the IP packet inside it.
    let mut framed = vec![Layer::Ether(EtherRepr::default())];
    framed.extend(p.layers.clone());
    assert_eq!(summary(&Packet::new(framed)), summary(&p));
}

#[test]
fn crafted_oddities_print_as_tcpdump_would() {
    let p = Packet::new(vec![
        ip(S, D),
        Layer::Tcp(TcpRepr {
            sport: 1,
            dport: 2,
            dataofs: Some(3),
            ..Default::default()
        }),
    ]);
    assert_eq!(
        summary(&p),
        "IP 198.18.0.1.1 > 198.18.0.2.2:  tcp 8 [bad hdr length 12 - too short, < 20]"
    );
    let p = Packet::new(vec![
        Layer::Ipv4(Ipv4Repr {
            src: Some(S),
            dst: D,
            len: Some(200),
            ..Default::default()
        }),
        Layer::Udp(UdpRepr {
            sport: 1,
            dport: 2,
            ..Default::default()
        }),
    ]);
    assert_eq!(
        summary(&p),
        "IP truncated-ip - 172 bytes missing! 198.18.0.1.1 > 198.18.0.2.2: UDP, length 0"
    );
}

#[test]
fn caplen_shorter_than_the_wire() {
    let b = hex::decode(
        "4500003c000100004006ee93c6120001c61200029c400050000003e800000000\
         a002faf0206e0000020405b40402080a000000010000000001030307",
    )
    .expect("hex");
    assert_eq!(
        summary_captured(&b[..44], 60, LinkType::RawIp),
        "IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 1000, win 64240, options [mss 1460, [|tcp]"
    );
    assert_eq!(
        summary_bytes(&b, LinkType::RawIp),
        summary_captured(&b, 0, LinkType::RawIp)
    );
}

fn link() -> impl Strategy<Value = LinkType> {
    prop_oneof![
        Just(LinkType::RawIp),
        Just(LinkType::Ethernet),
        Just(LinkType::Sll)
    ]
}

/// Bytes that look like the start of real packets more often than uniform noise does.
fn frame() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..120),
        (
            proptest::collection::vec(any::<u8>(), 0..100),
            prop_oneof![Just(0x45u8), Just(0x46), Just(0x4f), Just(0x60)],
            prop_oneof![Just(1u8), Just(6), Just(17), Just(58), Just(4), Just(41)]
        )
            .prop_map(|(mut v, first, proto)| {
                v.insert(0, first);
                if v.len() > 9 {
                    v[9] = proto;
                }
                if v.len() > 6 && first == 0x60 {
                    v[6] = proto;
                }
                v
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn never_panics_and_stays_one_ascii_line(b in frame(), link in link(), cut in 0usize..200) {
        let s = summary_bytes(&b, link);
        prop_assert!(s.is_ascii() && !s.contains('\n'), "{s:?}");
        let s = summary_captured(&b[..cut.min(b.len())], b.len(), link);
        prop_assert!(s.is_ascii() && !s.contains('\n'), "{s:?}");
        let (p, _) = Packet::parse(&b, link);
        let s = summary(&p);
        prop_assert!(s.is_ascii() && !s.contains('\n'), "{s:?}");
        let _ = show(&p);
        let _ = json(&p);
        let _ = hexdump(&b);
    }
}

/// A chain of IPv6-in-IPv6 headers filling a packet: dissecting and printing it must not
/// recurse once per header (1,600 levels overflowed the stack in `Packet::parse`).
#[test]
fn deep_tunnels_do_not_exhaust_the_stack() {
    let n = 1600usize;
    let mut b = Vec::with_capacity(n * 40);
    for i in 0..n {
        let plen = u16::try_from((n - i - 1) * 40).expect("fits");
        b.extend_from_slice(&[0x60, 0, 0, 0]);
        b.extend_from_slice(&plen.to_be_bytes());
        b.extend_from_slice(&[41, 64]);
        b.extend_from_slice(&[0u8; 32]);
    }
    let s = summary_bytes(&b, LinkType::RawIp);
    assert!(s.starts_with("IP6 :: > ::: IP6 :: > ::: "), "{s}");
    assert!(s.ends_with(" [|ip6]"), "{s}");
    let (p, _) = Packet::parse(&b, LinkType::RawIp);
    assert_eq!(p.to_bytes(), b);
    assert_eq!(summary(&p), s);
    let _ = show(&p);
    let _ = json(&p);
    // IPv4 in IPv4 too (the model keeps those as raw; the printer follows them).
    let v4: Vec<u8> = (0..3000usize)
        .flat_map(|i| {
            let len = u16::try_from((3000 - i) * 20).expect("fits");
            let mut h = vec![0x45, 0];
            h.extend_from_slice(&len.to_be_bytes());
            h.extend_from_slice(&[0, 0, 0, 0, 64, 4, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2]);
            h
        })
        .collect();
    let s = summary_bytes(&v4, LinkType::RawIp);
    assert!(s.ends_with(" [|ip]"), "{s}");
}

/// Any layer, with any field values, set or left to be computed.
fn any_layer() -> impl Strategy<Value = Layer> {
    let opt = prop_oneof![
        Just(TcpOption::Nop),
        Just(TcpOption::Eol),
        any::<u16>().prop_map(TcpOption::Mss),
        any::<u8>().prop_map(TcpOption::Wscale),
        Just(TcpOption::SackOk),
        proptest::collection::vec(any::<(u32, u32)>(), 0..6).prop_map(TcpOption::Sack),
        any::<(u32, u32)>().prop_map(|(a, b)| TcpOption::Timestamp(a, b)),
        (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..20))
            .prop_map(|(kind, data)| TcpOption::Unknown { kind, data }),
        proptest::collection::vec(any::<u8>(), 0..5).prop_map(TcpOption::Raw),
    ];
    prop_oneof![
        (
            any::<(u8, Option<u8>, u8, Option<u16>, u16, u8, u16, u8)>(),
            any::<(Option<u8>, Option<u16>, Option<[u8; 4]>, [u8; 4])>(),
            proptest::collection::vec(any::<u8>(), 0..12)
        )
            .prop_map(
                |(
                    (version, ihl, tos, len, id, flags, frag, ttl),
                    (proto, chksum, src, dst),
                    options,
                )| {
                    Layer::Ipv4(Ipv4Repr {
                        version,
                        ihl,
                        tos,
                        len,
                        id,
                        flags: flags & 7,
                        frag: frag & 0x1fff,
                        ttl,
                        proto,
                        chksum,
                        src: src.map(Ipv4Addr::from),
                        dst: Ipv4Addr::from(dst),
                        options,
                    })
                }
            ),
        any::<(
            u8,
            u8,
            u32,
            Option<u16>,
            Option<u8>,
            u8,
            Option<[u8; 16]>,
            [u8; 16]
        )>()
        .prop_map(
            |(version, tc, fl, plen, nh, hlim, src, dst)| Layer::Ipv6(Ipv6Repr {
                version,
                tc,
                fl: fl & 0xfffff,
                plen,
                nh,
                hlim,
                src: src.map(Ipv6Addr::from),
                dst: Ipv6Addr::from(dst),
            })
        ),
        (
            any::<(u16, u16, u32, u32, Option<u8>, u8, u16, u16)>(),
            any::<(Option<u16>, u16)>(),
            proptest::collection::vec(opt, 0..6),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..6))
        )
            .prop_map(
                |(
                    (sport, dport, seq, ack, dataofs, reserved, flags, window),
                    (chksum, urgptr),
                    options,
                    padding,
                )| {
                    Layer::Tcp(TcpRepr {
                        sport,
                        dport,
                        seq,
                        ack,
                        dataofs: dataofs.map(|d| d & 0x0f),
                        reserved: reserved & 7,
                        flags: TcpFlags(flags & 0x1ff),
                        window,
                        chksum,
                        urgptr,
                        options,
                        padding,
                    })
                }
            ),
        any::<(u16, u16, Option<u16>, Option<u16>)>().prop_map(|(sport, dport, len, chksum)| {
            Layer::Udp(UdpRepr {
                sport,
                dport,
                len,
                chksum,
            })
        }),
        any::<(u8, u8, Option<u16>, u16, u16, bool)>().prop_map(
            |(t, code, chksum, id, seq, v6)| {
                let c = IcmpRepr {
                    r#type: t,
                    code,
                    chksum,
                    id,
                    seq,
                };
                if v6 {
                    Layer::Icmpv6(c)
                } else {
                    Layer::Icmp(c)
                }
            }
        ),
        proptest::collection::vec(any::<u8>(), 0..30).prop_map(Layer::Raw),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Layer::Padding),
        any::<([u8; 6], [u8; 6], Option<u16>)>().prop_map(|(dst, src, ethertype)| {
            Layer::Ether(EtherRepr {
                dst,
                src,
                ethertype,
            })
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// What a script can build (any layers in any order, any values) displays without
    /// panicking, and the summary is one ASCII line.
    #[test]
    fn hand_built_stacks_never_panic(layers in proptest::collection::vec(any_layer(), 0..6)) {
        let p = Packet::new(layers);
        let s = summary(&p);
        prop_assert!(s.is_ascii() && !s.contains('\n'), "{s:?}");
        let t = show(&p);
        prop_assert_eq!(t.matches("###[ ").count(), p.layers.len());
        let j = json(&p);
        prop_assert_eq!(j["layers"].as_array().map_or(0, Vec::len), p.layers.len());
        let _ = hexdump(&p.to_bytes());
    }
}

/// DNS messages: a header with small counts, then names, pointers and records made of
/// random bytes, so every path of the DNS printer is walked.
fn dns_payload() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<[u8; 4]>(),
        proptest::collection::vec(0u8..4, 4),
        proptest::collection::vec(
            prop_oneof![
                Just(vec![0u8]),
                Just(vec![0xc0, 12]),
                Just(vec![0, 41, 4, 0xd0, 0, 0, 0x80, 0]),
                proptest::collection::vec(any::<u8>(), 1..12),
                (0u8..64).prop_map(|n| {
                    let mut v = vec![n];
                    v.extend(std::iter::repeat_n(b'a', usize::from(n)));
                    v
                }),
            ],
            0..12,
        ),
    )
        .prop_map(|(head, counts, parts)| {
            let mut v = head.to_vec();
            for c in counts {
                v.extend_from_slice(&[0, c]);
            }
            for p in parts {
                v.extend(p);
            }
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn dns_never_panics(payload in dns_payload(), over_tcp in any::<bool>(), cut in 0usize..80) {
        let mut l = vec![ip(S, D)];
        if over_tcp {
            l.push(Layer::Tcp(TcpRepr {
                sport: 40000,
                dport: 53,
                flags: TcpFlags::parse("PA").expect("flags"),
                ..Default::default()
            }));
            let mut framed = u16::try_from(payload.len()).unwrap_or(0).to_be_bytes().to_vec();
            framed.extend(&payload);
            l.push(Layer::Raw(framed));
        } else {
            l.push(Layer::Udp(UdpRepr {
                sport: 53,
                dport: 40000,
                ..Default::default()
            }));
            l.push(Layer::Raw(payload));
        }
        let p = Packet::new(l);
        let s = summary(&p);
        prop_assert!(s.is_ascii() && !s.contains('\n'), "{s:?}");
        let b = p.to_bytes();
        let cut = b.len().saturating_sub(cut);
        let s = summary_captured(&b[..cut], b.len(), LinkType::RawIp);
        prop_assert!(s.is_ascii() && !s.contains('\n'), "{s:?}");
    }
}
