//! Just enough of IPv4/IPv6/TCP/UDP/ICMP to match replies to probes and to patch a
//! source address into a built packet. Pure: bytes in, facts out; never panics on any
//! input (every read goes through `get`).
//!
//! This is deliberately not the packet model: matching must be fast (no allocation per
//! captured packet) and must work on quoted headers cut short inside ICMP errors.

use crate::packet::checksum;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ICMPV6: u8 = 58;

pub const TCP_FIN: u16 = 0x001;
pub const TCP_SYN: u16 = 0x002;
pub const TCP_RST: u16 = 0x004;
pub const TCP_ACK: u16 = 0x010;

/// The transport part of a packet, as far as it was present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum L4 {
    Tcp {
        sport: u16,
        dport: u16,
        seq: u32,
        /// Zero when the header was cut short (an 8-byte quote in an ICMP error).
        ack: u32,
        flags: u16,
        /// Payload bytes (0 when unknown).
        payload_len: usize,
    },
    Udp {
        sport: u16,
        dport: u16,
    },
    Icmp {
        ty: u8,
        code: u8,
        id: u16,
        seq: u16,
        /// For error messages: the packet quoted inside.
        quoted: Option<Box<Summary>>,
    },
    /// Another protocol, a later fragment, or a transport header cut short.
    Other,
}

/// The facts of one IP packet that matching needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The transport protocol (after IPv6 extension headers).
    pub proto: u8,
    pub l4: L4,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_be_bytes([s[0], s[1]]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn v4(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(Ipv4Addr::from)
}

fn v6(b: &[u8], at: usize) -> Option<Ipv6Addr> {
    b.get(at..at + 16)
        .and_then(|s| <[u8; 16]>::try_from(s).ok())
        .map(Ipv6Addr::from)
}

/// The IP version nibble of a packet that starts at the IP header.
pub fn version(b: &[u8]) -> Option<u8> {
    b.first().map(|v| v >> 4)
}

/// Where the transport header starts, the protocol, and whether this is a first (or only)
/// fragment. IPv6 extension headers are walked; an IPv4 total length shorter than the
/// buffer trims it (link-layer padding is not payload).
fn locate(b: &[u8]) -> Option<(usize, u8, bool, usize)> {
    match version(b)? {
        4 => {
            let ihl = usize::from(b.first()? & 0x0f) * 4;
            if ihl < 20 || b.len() < ihl {
                return None;
            }
            let total = usize::from(be16(b, 2)?);
            let end = if total >= ihl && total <= b.len() {
                total
            } else {
                b.len()
            };
            let first = be16(b, 6)? & 0x1fff == 0;
            Some((ihl, *b.get(9)?, first, end))
        }
        6 => {
            let plen = usize::from(be16(b, 4)?);
            let end = if 40 + plen <= b.len() && plen != 0 {
                40 + plen
            } else {
                b.len()
            };
            let w = crate::packet::ipv6::walk(b)?;
            let (at, nh, first) = (w.at, w.proto, w.first_fragment);
            Some((at, nh, first, end))
        }
        _ => None,
    }
}

/// Parse an IP packet (IPv4 or IPv6, starting at the IP header).
pub fn summarize(b: &[u8]) -> Option<Summary> {
    summarize_inner(b, 0)
}

fn summarize_inner(b: &[u8], depth: u8) -> Option<Summary> {
    let (src, dst) = match version(b)? {
        4 => (IpAddr::V4(v4(b, 12)?), IpAddr::V4(v4(b, 16)?)),
        6 => (IpAddr::V6(v6(b, 8)?), IpAddr::V6(v6(b, 24)?)),
        _ => return None,
    };
    let (off, proto, first, end) = locate(b)?;
    let t = b.get(off..end).unwrap_or_default();
    let l4 = if !first {
        L4::Other
    } else {
        match proto {
            PROTO_TCP => match (be16(t, 0), be16(t, 2), be32(t, 4)) {
                (Some(sport), Some(dport), Some(seq)) => {
                    let ack = be32(t, 8).unwrap_or(0);
                    let flags = be16(t, 12).map(|f| f & 0x01ff).unwrap_or(0);
                    let hlen = t.get(12).map(|d| usize::from(d >> 4) * 4).unwrap_or(0);
                    let payload_len = if hlen >= 20 && t.len() >= hlen {
                        t.len() - hlen
                    } else {
                        0
                    };
                    L4::Tcp {
                        sport,
                        dport,
                        seq,
                        ack,
                        flags,
                        payload_len,
                    }
                }
                _ => L4::Other,
            },
            PROTO_UDP => match (be16(t, 0), be16(t, 2)) {
                (Some(sport), Some(dport)) => L4::Udp { sport, dport },
                _ => L4::Other,
            },
            PROTO_ICMP | PROTO_ICMPV6 => match (t.first(), t.get(1)) {
                (Some(&ty), Some(&code)) => {
                    let error = if proto == PROTO_ICMP {
                        matches!(ty, 3 | 4 | 5 | 11 | 12)
                    } else {
                        ty < 128
                    };
                    let quoted = if error && depth == 0 {
                        t.get(8..)
                            .and_then(|q| summarize_inner(q, depth + 1))
                            .map(Box::new)
                    } else {
                        None
                    };
                    L4::Icmp {
                        ty,
                        code,
                        id: be16(t, 4).unwrap_or(0),
                        seq: be16(t, 6).unwrap_or(0),
                        quoted,
                    }
                }
                _ => L4::Other,
            },
            _ => L4::Other,
        }
    };
    Some(Summary {
        src,
        dst,
        proto,
        l4,
    })
}

/// Is this ICMP/ICMPv6 message an error (one that quotes the packet that caused it)?
pub fn is_icmp_error(s: &Summary) -> bool {
    matches!(
        &s.l4,
        L4::Icmp {
            quoted: Some(_),
            ..
        }
    )
}

/// Does the IPv4 header checksum verify?
pub fn ipv4_header_ok(b: &[u8]) -> bool {
    let ihl = b.first().map(|v| usize::from(v & 0x0f) * 4).unwrap_or(0);
    match b.get(..ihl) {
        Some(h) if ihl >= 20 => checksum::fold(checksum::sum(h)) == 0,
        _ => false,
    }
}

/// What the kernel would change in an IPv4 packet sent on a raw IP_HDRINCL socket:
/// it writes the total length and the header checksum, picks an id when it is 0 and a
/// source when it is 0.0.0.0. Returns the reason when the packet must go out at the link
/// layer instead to leave exactly as built.
pub fn kernel_would_rewrite_v4(b: &[u8]) -> Option<&'static str> {
    if version(b) != Some(4) {
        return None;
    }
    if be16(b, 2).map(usize::from) != Some(b.len()) {
        return Some("total length differs from the packet's size");
    }
    if !ipv4_header_ok(b) {
        return Some("the IP header checksum is deliberately wrong");
    }
    if be16(b, 4) == Some(0) {
        return Some("the IP id is 0");
    }
    if v4(b, 12) == Some(Ipv4Addr::UNSPECIFIED) {
        return Some("the source address is 0.0.0.0");
    }
    None
}

/// Replace a zero source address with `src`, adjusting the IPv4 header checksum and the
/// TCP/UDP/ICMPv6 checksum incrementally (RFC 1624) so that a checksum the user made wrong
/// on purpose stays wrong by the same amount. Returns false when nothing was changed.
pub fn fill_source(b: &mut [u8], src: IpAddr) -> bool {
    let Some((off, proto, first, _)) = locate(b) else {
        return false;
    };
    let (at, new): (usize, Vec<u8>) = match (version(b), src) {
        (Some(4), IpAddr::V4(a)) if v4(b, 12) == Some(Ipv4Addr::UNSPECIFIED) => {
            (12, a.octets().to_vec())
        }
        (Some(6), IpAddr::V6(a)) if v6(b, 8) == Some(Ipv6Addr::UNSPECIFIED) => {
            (8, a.octets().to_vec())
        }
        _ => return false,
    };
    let added = checksum::sum(&new);
    if let Some(s) = b.get_mut(at..at + new.len()) {
        s.copy_from_slice(&new);
    }
    let adjust = |b: &mut [u8], ck_at: usize| {
        if let Some(old) = be16(b, ck_at) {
            // HC' = ~(~HC + m') where the old words were all zero (RFC 1624 eqn. 3).
            let sum = u32::from(!old) + added;
            let mut new = checksum::fold(sum);
            if old == 0xffff && new == 0 {
                new = 0xffff;
            }
            if let Some(s) = b.get_mut(ck_at..ck_at + 2) {
                s.copy_from_slice(&new.to_be_bytes());
            }
        }
    };
    if version(b) == Some(4) {
        adjust(b, 10);
    }
    if first {
        match proto {
            PROTO_TCP => adjust(b, off + 16),
            // A zero UDP checksum over IPv4 means "none": leave it alone.
            PROTO_UDP if be16(b, off + 6) != Some(0) => adjust(b, off + 6),
            PROTO_ICMPV6 => adjust(b, off + 2),
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 198.18.0.1:40000 → 198.18.0.2:80 SYN seq 1000, correct checksums.
    pub(crate) fn syn_v4() -> Vec<u8> {
        let mut p = vec![
            0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2, //
            0x9c, 0x40, 0, 80, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x50, 0x02, 0x20, 0, 0, 0, 0, 0,
        ];
        let ck = checksum::fold(checksum::sum(&p[..20]));
        p[10..12].copy_from_slice(&ck.to_be_bytes());
        let mut pseudo = p[12..20].to_vec();
        pseudo.extend_from_slice(&[0, 6, 0, 20]);
        pseudo.extend_from_slice(&p[20..]);
        let ck = checksum::fold(checksum::sum(&pseudo));
        p[36..38].copy_from_slice(&ck.to_be_bytes());
        p
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
        p[6] = 44;
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
        p[10] ^= 0xff;
        assert_eq!(
            kernel_would_rewrite_v4(&p),
            Some("the IP header checksum is deliberately wrong")
        );
        let mut p = syn_v4();
        p[3] = 60;
        assert!(kernel_would_rewrite_v4(&p).is_some());
    }

    #[test]
    fn fill_source_keeps_checksums_right_and_wrong_ones_wrong() {
        let good = syn_v4();
        // The same packet built with source 0.0.0.0 and checksums computed for that.
        let mut zero = good.clone();
        zero[12..16].fill(0);
        zero[10..12].fill(0);
        zero[36..38].fill(0);
        let ck = checksum::fold(checksum::sum(&zero[..20]));
        zero[10..12].copy_from_slice(&ck.to_be_bytes());
        let mut pseudo = zero[12..20].to_vec();
        pseudo.extend_from_slice(&[0, 6, 0, 20]);
        pseudo.extend_from_slice(&zero[20..]);
        let ck = checksum::fold(checksum::sum(&pseudo));
        zero[36..38].copy_from_slice(&ck.to_be_bytes());
        let mut filled = zero.clone();
        assert!(fill_source(&mut filled, "198.18.0.1".parse().unwrap()));
        assert_eq!(filled, good);
        // A TCP checksum off by 0x0100 stays off by exactly that.
        let mut bad = zero.clone();
        bad[36] = bad[36].wrapping_add(1);
        assert!(fill_source(&mut bad, "198.18.0.1".parse().unwrap()));
        assert_ne!(bad[36..38], good[36..38]);
        assert_eq!(bad[..36], good[..36]);
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
