//! Golden tests for `display::show` (scapy's `show2()` layout) on scapy-made vectors.

use std::net::Ipv4Addr;

use tcpcraft::packet::display::show;
use tcpcraft::packet::{Ipv4Repr, Layer, LinkType, Packet, TcpFlags, TcpOption, TcpRepr};

/// A vector from tests/fixtures/vectors.txt (made with scapy by scripts/gen_vectors.py).
fn vector(name: &str) -> Vec<u8> {
    let text = include_str!("../fixtures/vectors.txt");
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no vector {name}"));
    hex::decode(line.split_whitespace().nth(2).expect("hex")).expect("hex")
}

fn parsed(name: &str, link: LinkType) -> Packet {
    Packet::parse(&vector(name), link).0
}

#[test]
fn synack_tree() {
    let want = "\
###[ IP ]###
  version   = 4
  ihl       = 5
  tos       = 0x0
  len       = 52
  id        = 0
  flags     = DF
  frag      = 0
  ttl       = 64
  proto     = 6 (tcp)
  chksum    = 0xae9c (correct)
  src       = 198.18.0.2
  dst       = 198.18.0.1
  options   = []
###[ TCP ]###
     sport     = 80
     dport     = 40000
     seq       = 5000
     ack       = 1001
     dataofs   = 8
     reserved  = 0
     flags     = SA (SYN,ACK)
     window    = 65160
     chksum    = 0x304f (correct)
     urgptr    = 0
     options   = [('MSS', 1460), ('NOP', None), ('NOP', None), ('SAckOK', b''), ('NOP', None), ('WScale', 7)]
";
    assert_eq!(show(&parsed("synack", LinkType::RawIp)), want);
}

#[test]
fn icmp_error_nests_the_quote_like_scapy() {
    let want = "\
###[ IP ]###
  version   = 4
  ihl       = 5
  tos       = 0x0
  len       = 60
  id        = 1
  flags     = 0 (none)
  frag      = 0
  ttl       = 64
  proto     = 1 (icmp)
  chksum    = 0xee98 (correct)
  src       = 198.18.0.2
  dst       = 198.18.0.1
  options   = []
###[ ICMP ]###
     type      = 3 (dest-unreach)
     code      = 3 (port-unreachable)
     chksum    = 0x8942 (correct)
     id        = 0
     seq       = 0
###[ IP in ICMP ]###
        version   = 4
        ihl       = 5
        tos       = 0x0
        len       = 32
        id        = 1
        flags     = 0 (none)
        frag      = 0
        ttl       = 64
        proto     = 17 (udp)
        chksum    = 0xeea4 (correct)
        src       = 198.18.0.1
        dst       = 198.18.0.2
        options   = []
###[ UDP in ICMP ]###
           sport     = 40000
           dport     = 5555
           len       = 12
           chksum    = 0xe2e9 (correct)
###[ Raw ]###
              load      = 'ping'
";
    assert_eq!(
        show(&parsed("icmp_port_unreach_udp", LinkType::RawIp)),
        want
    );
}

#[test]
fn ipv6_icmpv6_echo_tree() {
    let want = "\
###[ IPv6 ]###
  version   = 6
  tc        = 0x0
  fl        = 0x0
  plen      = 18
  nh        = 58 (ipv6-icmp)
  hlim      = 64
  src       = 2001:db8:198:18::1
  dst       = 2001:db8:198:18::2
###[ ICMPv6 ]###
     type      = 128 (Echo Request)
     code      = 0
     chksum    = 0x1bc9 (correct)
     id        = 5
     seq       = 6
###[ Raw ]###
        load      = '0123456789'
";
    assert_eq!(show(&parsed("ipv6_icmp_echo", LinkType::RawIp)), want);
}

#[test]
fn link_layers_use_scapy_names() {
    let s = show(&parsed("sll_ipv4", LinkType::Sll));
    assert!(s.starts_with(
        "###[ cooked linux ]###\n  pkttype   = 0 (unicast)\n  lladdrtype= 0x304\n  lladdrlen = 6\n"
    ), "{s}");
    assert!(
        s.contains("\n  proto     = 0x0800 (IPv4)\n###[ IP ]###\n     version   = 4\n"),
        "{s}"
    );
    let e = show(&parsed("ether_ipv6", LinkType::Ethernet));
    assert!(e.starts_with("###[ Ethernet ]###\n  dst       = 02:00:00:00:00:02\n  src       = 02:00:00:00:00:01\n  type      = 0x86dd (IPv6)\n###[ IPv6 ]###\n"), "{e}");
}

#[test]
fn wrong_checksums_and_lying_lengths_say_what_is_right() {
    let s = show(&parsed("bad_tcp_chksum", LinkType::RawIp));
    assert!(
        s.contains("\n     chksum    = 0xdead (wrong, should be 0x0357)\n"),
        "{s}"
    );
    assert!(s.contains("\n  chksum    = 0xeea7 (correct)\n"), "{s}");
    let s = show(&parsed("bad_ip_chksum", LinkType::RawIp));
    assert!(
        s.contains("\n  chksum    = 0x1234 (wrong, should be 0xeea7)\n"),
        "{s}"
    );
    let s = show(&parsed("lying_dataofs", LinkType::RawIp));
    assert!(
        s.contains("\n     dataofs   = 8 (wrong, should be 5)\n"),
        "{s}"
    );
    let s = show(&parsed("lying_ip_len", LinkType::RawIp));
    assert!(
        s.contains("\n  len       = 100 (wrong, should be 40)\n"),
        "{s}"
    );
    // The header checksum is right for the header as sent, lie included.
    assert!(s.contains("\n  chksum    = 0xee6b (correct)\n"), "{s}");
    let s = show(&parsed("udp_zero_chksum", LinkType::RawIp));
    assert!(s.contains("\n     chksum    = 0x0000 (none)\n"), "{s}");
}

#[test]
fn a_hand_built_packet_shows_its_computed_fields() {
    let p = Packet::new(vec![
        Layer::Ipv4(Ipv4Repr {
            dst: Ipv4Addr::new(198, 18, 0, 2),
            ..Default::default()
        }),
        Layer::Tcp(TcpRepr {
            sport: 40000,
            flags: TcpFlags(TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR),
            options: vec![
                TcpOption::Mss(1460),
                TcpOption::Sack(vec![(1, 2)]),
                TcpOption::Unknown {
                    kind: 99,
                    data: b"a'\\\x00".to_vec(),
                },
            ],
            ..Default::default()
        }),
        Layer::Raw(b"GET / HTTP/1.0\r\n\r\n".to_vec()),
    ]);
    let s = show(&p);
    for line in [
        "  ihl       = 5",
        "  len       = 78",
        "  proto     = 6 (tcp)",
        "  src       = 0.0.0.0 (unset: the route's source when sent)",
        "     dataofs   = 10",
        "     flags     = SEC (SYN,ECE,CWR)",
        "     options   = [('MSS', 1460), ('SAck', (1, 2)), (99, b'a\\'\\\\\\x00')]",
        "        load      = 'GET / HTTP/1.0\\r\\n\\r\\n'",
    ] {
        assert!(s.lines().any(|l| l == line), "missing {line:?} in\n{s}");
    }
    assert!(s.contains("chksum    = 0x"), "{s}");
    assert!(!s.contains("wrong"), "{s}");
    assert!(s.lines().all(|l| l == l.trim_end()), "no trailing blanks");
}

#[test]
fn every_vector_shows_every_layer_without_panicking() {
    for line in include_str!("../fixtures/vectors.txt").lines() {
        let mut it = line.split_whitespace();
        let (Some(name), Some(_), Some(h)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        let link = if name.starts_with("ether_") || name.starts_with("arp_") {
            LinkType::Ethernet
        } else if name.starts_with("sll_") {
            LinkType::Sll
        } else {
            LinkType::RawIp
        };
        let b = hex::decode(h).expect("hex");
        for n in 0..=b.len() {
            let (p, _) = Packet::parse(&b[..n], link);
            let s = show(&p);
            assert_eq!(s.matches("###[ ").count(), p.layers.len(), "{name}[..{n}]");
            assert!(s.is_ascii());
        }
    }
}
