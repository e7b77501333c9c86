//! What the engine does to built bytes before they leave, and the names its callers
//! match replies by. The header reading itself is the wire layer's: [`Summary`] and
//! [`summarize`] live in [`crate::packet::view`] beside the hot-path dissection, and the
//! functions here stand on the same views ([`Ipv4Packet`], …) and `field` ranges. Pure:
//! bytes in, facts out; never panics on any input.

use crate::packet::checksum;
use crate::packet::ipv4::{self, proto};
use crate::packet::view::Transport;
use crate::packet::{read16, Field, Ipv4Packet, Ipv6Packet, TcpFlags};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use crate::packet::view::{is_icmp_error, summarize, version, Summary, L4};

pub const PROTO_ICMP: u8 = proto::ICMP;
pub const PROTO_TCP: u8 = proto::TCP;
pub const PROTO_UDP: u8 = proto::UDP;
pub const PROTO_ICMPV6: u8 = proto::ICMPV6;

pub const TCP_FIN: u16 = TcpFlags::FIN;
pub const TCP_SYN: u16 = TcpFlags::SYN;
pub const TCP_RST: u16 = TcpFlags::RST;
pub const TCP_ACK: u16 = TcpFlags::ACK;

/// Does the IPv4 header checksum verify?
pub fn ipv4_header_ok(b: &[u8]) -> bool {
    Ipv4Packet::new_checked(b).is_ok_and(|p| p.verify_checksum())
}

/// What the kernel would change in an IPv4 packet sent on a raw IP_HDRINCL socket:
/// it writes the total length and the header checksum, picks an id when it is 0 and a
/// source when it is 0.0.0.0. Returns the reason when the packet must go out at the link
/// layer instead to leave exactly as built.
pub fn kernel_would_rewrite_v4(b: &[u8]) -> Option<&'static str> {
    if version(b) != Some(4) {
        return None;
    }
    if read16(b, ipv4::field::LENGTH).map(usize::from) != Some(b.len()) {
        return Some("total length differs from the packet's size");
    }
    if !ipv4_header_ok(b) {
        return Some("the IP header checksum is deliberately wrong");
    }
    // The header verified: the view's accessors cannot panic.
    let p = Ipv4Packet::new_unchecked(b);
    if p.ident() == 0 {
        return Some("the IP id is 0");
    }
    if p.src_addr() == Ipv4Addr::UNSPECIFIED {
        return Some("the source address is 0.0.0.0");
    }
    None
}

/// Replace a zero source address with `src`, adjusting the IPv4 header checksum and the
/// TCP/UDP/ICMPv6 checksum incrementally (RFC 1624) so that a checksum the user made wrong
/// on purpose stays wrong by the same amount. Returns false when nothing was changed.
pub fn fill_source(b: &mut [u8], src: IpAddr) -> bool {
    let Some(Transport {
        at: off,
        proto,
        first_fragment: first,
        ..
    }) = crate::packet::view::locate(b)
    else {
        return false;
    };
    // `locate` found the whole fixed header: the views' accessors cannot panic.
    let added = match (version(b), src) {
        (Some(4), IpAddr::V4(a)) => {
            let mut p = Ipv4Packet::new_unchecked(&mut *b);
            if p.src_addr() != Ipv4Addr::UNSPECIFIED {
                return false;
            }
            p.set_src_addr(a);
            checksum::sum(&a.octets())
        }
        (Some(6), IpAddr::V6(a)) => {
            let mut p = Ipv6Packet::new_unchecked(&mut *b);
            if p.src_addr() != Ipv6Addr::UNSPECIFIED {
                return false;
            }
            p.set_src_addr(a);
            checksum::sum(&a.octets())
        }
        _ => return false,
    };
    // The checksum at `f` (which a transport header cut short may not hold).
    let adjust = |b: &mut [u8], f: Field| {
        if let Some(old) = read16(b, f.clone()) {
            // HC' = ~(~HC + m') where the old words were all zero (RFC 1624 eqn. 3).
            let sum = u32::from(!old) + added;
            let mut new = checksum::fold(sum);
            if old == 0xffff && new == 0 {
                new = 0xffff;
            }
            if let Some(s) = b.get_mut(f) {
                s.copy_from_slice(&new.to_be_bytes());
            }
        }
    };
    let at = |f: Field| off + f.start..off + f.end;
    if version(b) == Some(4) {
        adjust(b, ipv4::field::CHECKSUM);
    }
    if first {
        use crate::packet::{icmp, tcp, udp};
        match proto {
            proto::TCP => adjust(b, at(tcp::field::CHECKSUM)),
            // A zero UDP checksum over IPv4 means "none": leave it alone.
            proto::UDP if read16(b, at(udp::field::CHECKSUM)) != Some(0) => {
                adjust(b, at(udp::field::CHECKSUM))
            }
            proto::ICMPV6 => adjust(b, at(icmp::field::CHECKSUM)),
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::TcpPacket;

    /// 198.18.0.1:40000 → 198.18.0.2:80 SYN seq 1000, correct checksums.
    pub(crate) fn syn_v4() -> Vec<u8> {
        let mut p = vec![
            0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2, //
            0x9c, 0x40, 0, 80, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x50, 0x02, 0x20, 0, 0, 0, 0, 0,
        ];
        fill_checksums(&mut p);
        p
    }

    /// Recomputes the IPv4 header and TCP checksums of an IPv4/TCP packet.
    fn fill_checksums(p: &mut [u8]) {
        let mut ip = Ipv4Packet::new_checked(&mut *p).unwrap();
        ip.fill_checksum();
        let (src, dst) = (ip.src_addr().into(), ip.dst_addr().into());
        TcpPacket::new_checked(ip.payload_mut())
            .unwrap()
            .fill_checksum(src, dst);
    }

    #[test]
    fn summarizes_a_syn() {
        let s = summarize(&syn_v4()).unwrap();
        assert_eq!(s.src, "198.18.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(
            s.l4,
            L4::Tcp {
                sport: 40000,
                dport: 80,
                seq: 1000,
                ack: 0,
                flags: TCP_SYN,
                payload_len: 0
            }
        );
        assert_eq!(kernel_would_rewrite_v4(&syn_v4()), None);
    }

    #[test]
    fn ipv6_extension_headers_are_walked_to_the_transport_header() {
        // A TCP segment behind hop-by-hop, routing (type 0, two addresses), destination
        // options and AH headers, as the one walker (packet::ipv6::walk) reads them.
        let tcp = crate::net::matching::tests::tcp(9000, 40000, 1, 2, 0x12, b"");
        let mut ext = vec![43, 0, 1, 4, 0, 0, 0, 0]; // hop-by-hop: PadN
        ext.extend_from_slice(&[60, 4, 0, 2, 0, 0, 0, 0]); // routing type 0
        ext.extend_from_slice(&[0u8; 32]);
        ext.extend_from_slice(&[51, 0, 1, 4, 0, 0, 0, 0]); // destination options
        ext.extend_from_slice(&[6, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 3]); // AH, 12-byte ICV
        ext.extend_from_slice(&[0xaa; 12]);
        ext.extend_from_slice(&tcp);
        let mut p = crate::net::matching::tests::ip6(2, 1, 0, &ext);
        let s = summarize(&p).expect("summary");
        assert_eq!(s.proto, 6);
        assert!(
            matches!(
                s.l4,
                L4::Tcp {
                    sport: 9000,
                    dport: 40000,
                    ..
                }
            ),
            "{s:?}"
        );
        // A later fragment is not a transport header.
        Ipv6Packet::new_checked(&mut p[..])
            .unwrap()
            .set_next_header(crate::packet::ipv6::ext::FRAGMENT);
        p.splice(40..40, [6u8, 0, 0, 8, 0, 0, 0, 1]);
        assert!(matches!(summarize(&p).map(|s| s.l4), Some(L4::Other)));
    }

    #[test]
    fn truncated_and_garbage_never_panic() {
        let p = syn_v4();
        for n in 0..p.len() {
            let _ = summarize(&p[..n]);
            let mut c = p[..n].to_vec();
            let _ = fill_source(&mut c, "198.18.0.1".parse().unwrap());
        }
        assert!(summarize(&[0x45; 3]).is_none());
        assert!(summarize(&[0x4f; 80]).is_some() || summarize(&[0x4f; 80]).is_none());
    }

    #[test]
    fn kernel_rewrite_reasons() {
        let mut p = syn_v4();
        let mut h = Ipv4Packet::new_checked(&mut p[..]).unwrap();
        h.set_checksum(h.checksum() ^ 0xff00);
        assert_eq!(
            kernel_would_rewrite_v4(&p),
            Some("the IP header checksum is deliberately wrong")
        );
        let mut p = syn_v4();
        Ipv4Packet::new_checked(&mut p[..])
            .unwrap()
            .set_total_len(60);
        assert!(kernel_would_rewrite_v4(&p).is_some());
    }

    #[test]
    fn fill_source_keeps_checksums_right_and_wrong_ones_wrong() {
        let good = syn_v4();
        // The same packet built with source 0.0.0.0 and checksums computed for that.
        let mut zero = good.clone();
        Ipv4Packet::new_checked(&mut zero[..])
            .unwrap()
            .set_src_addr(Ipv4Addr::UNSPECIFIED);
        fill_checksums(&mut zero);
        let mut filled = zero.clone();
        assert!(fill_source(&mut filled, "198.18.0.1".parse().unwrap()));
        assert_eq!(filled, good);
        // A TCP checksum off by 0x0100 stays off by exactly that.
        let mut bad = zero.clone();
        let ck = |b: &[u8]| TcpPacket::new_checked(&b[20..]).unwrap().checksum();
        let mut t = TcpPacket::new_checked(&mut bad[20..]).unwrap();
        t.set_checksum(t.checksum().wrapping_add(0x0100));
        assert!(fill_source(&mut bad, "198.18.0.1".parse().unwrap()));
        assert_eq!(ck(&bad), ck(&good).wrapping_add(0x0100));
        let tcp_ck = crate::packet::tcp::field::CHECKSUM;
        assert_eq!(bad[..20 + tcp_ck.start], good[..20 + tcp_ck.start]);
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::net::matching::{answers, Matcher};
    use proptest::prelude::*;

    proptest! {
        /// Anything captured: parsing, matching and source filling never panic.
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200), v in 0u8..2) {
            let mut b = b;
            if let Some(first) = b.first_mut() {
                *first = if v == 0 { 0x45 | (*first & 0x0f) } else { 0x60 };
            }
            let s = summarize(&b);
            if let Some(s) = &s {
                let _ = answers(s, s);
                let m = Matcher::new(vec![Some(s.clone())]);
                let _ = m.classify(s, |_| false);
            }
            let _ = kernel_would_rewrite_v4(&b);
            let _ = fill_source(&mut b, "198.18.0.1".parse().unwrap());
            let _ = fill_source(&mut b, "2001:db8:198:18::1".parse().unwrap());
        }

        /// Any filter text: an error or a program, and the program runs on any bytes.
        #[test]
        fn arbitrary_filters_never_panic(text in "[a-z0-9 ().:/!&|]{0,40}", pkt in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(f) = crate::net::filter::Filter::new(&text, crate::pcap::linktype::RAW) {
                let _ = f.matches(&pkt);
            }
        }
    }
}
