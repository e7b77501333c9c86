//! IP fragmentation and reassembly, pure (no I/O).
//!
//! - [`fragment`]: split an IPv4 packet (RFC 791: offsets in 8-byte units, MF on all
//!   but the last) or an IPv6 packet (RFC 8200 §4.5: a Fragment header, next header 44,
//!   after the IPv6 header) into fragments; every fragment is an ordinary packet
//!   (`IP/Raw`, or `IPv6(nh=44)/Raw(fragment header + data)`) to edit as one likes.
//! - [`defragment`]: what a receiver makes of a list of packets: the datagrams it could
//!   reassemble, the packets that were no fragments, and the fragments left over.
//!   Overlaps are handled as Linux does by default ([`Overlap::Linux`]): a fragment lying
//!   wholly inside one already queued is a duplicate and ignored; any other overlap
//!   discards the whole datagram (RFC 5722 for IPv6; Linux does the same for IPv4).

use super::ipv4::{self, flag, Ipv4Repr};
use super::ipv6::ext::field as ext;
use super::{get16, get32, ipv6, put16, put32, Ipv4Packet, Ipv6Packet, Layer, LinkType, Packet};
use std::collections::HashMap;
use std::net::IpAddr;

/// Next-header number of the IPv6 Fragment header.
pub const NH_FRAGMENT: u8 = 44;
/// Bytes of the IPv6 Fragment header.
pub const FRAG6_LEN: usize = 8;

/// The IPv6 Fragment header's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frag6 {
    pub nh: u8,
    /// Offset in 8-byte units (13 bits).
    pub offset: u16,
    /// More fragments.
    pub m: bool,
    pub id: u32,
}

impl Frag6 {
    pub fn bytes(&self) -> [u8; FRAG6_LEN] {
        let om = ((self.offset & 0x1fff) << 3) | u16::from(self.m);
        let mut b = [0u8; FRAG6_LEN];
        b[ext::NXT_HDR] = self.nh;
        put16(&mut b, ext::FRAG_OFF_M, om);
        put32(&mut b, ext::FRAG_IDENT, self.id);
        b
    }
    pub fn parse(b: &[u8]) -> Option<Frag6> {
        let b = b.get(..FRAG6_LEN)?;
        let om = get16(b, ext::FRAG_OFF_M);
        Some(Frag6 {
            nh: b[ext::NXT_HDR],
            offset: om >> 3,
            m: om & 1 != 0,
            id: get32(b, ext::FRAG_IDENT),
        })
    }
}

/// Why a packet cannot be fragmented.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FragError {
    NotIp,
    /// The size is below 8 bytes of payload per fragment.
    TooSmall(usize),
}

impl std::fmt::Display for FragError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FragError::NotIp => f.write_str("only an IP or IPv6 packet can be fragmented"),
            FragError::TooSmall(n) => write!(
                f,
                "{n} bytes per fragment: a fragment carries at least 8 bytes (offsets count 8-byte units)"
            ),
        }
    }
}

/// Splits `p` (IPv4 or IPv6 first) into fragments of at most `size` payload bytes each
/// (rounded down to a multiple of 8). `id` is the IPv6 Fragment header's identification
/// (IPv4 keeps the packet's own id). A packet whose payload fits is one fragment all the
/// same for IPv6 (an atomic fragment), and returned as it is for IPv4.
pub fn fragment(p: &Packet, size: usize, id: u32) -> Result<Vec<Packet>, FragError> {
    let chunk = size / 8 * 8;
    if chunk < 8 {
        return Err(FragError::TooSmall(size));
    }
    let bytes = p.to_bytes();
    match p.layers.first() {
        Some(Layer::Ipv4(ip)) => {
            let hlen = ip.header_len().min(bytes.len());
            // An IPv4 layer emits at least its 20-byte fixed header.
            let h = Ipv4Packet::new_unchecked(&bytes[..]);
            let total = usize::from(h.total_len()).min(bytes.len());
            let payload = bytes.get(hlen..total.max(hlen)).unwrap_or(&[]);
            let proto = h.protocol();
            if payload.len() <= chunk && ip.frag == 0 && !ip.mf() {
                return Ok(vec![p.clone()]);
            }
            let base = usize::from(ip.frag) * 8;
            let last_mf = ip.mf();
            let pieces: Vec<&[u8]> = payload.chunks(chunk).collect();
            let n = pieces.len();
            Ok(pieces
                .into_iter()
                .enumerate()
                .map(|(i, data)| {
                    let mut h = Ipv4Repr {
                        ihl: None,
                        len: None,
                        chksum: None,
                        proto: Some(proto),
                        frag: (((base + i * chunk) / 8) & 0x1fff) as u16,
                        ..ip.clone()
                    };
                    h.flags &= !(flag::DF | flag::MF);
                    if i > 0 || base > 0 {
                        // RFC 791: only options with the copied flag go past the first.
                        h.options = copied_options(&ip.options);
                    }
                    if i + 1 < n || last_mf {
                        h.flags |= flag::MF;
                    }
                    Packet::new(vec![Layer::Ipv4(h), Layer::Raw(data.to_vec())])
                })
                .collect())
        }
        Some(Layer::Ipv6(ip)) => {
            let payload = bytes.get(ipv6::HEADER_LEN..).unwrap_or(&[]);
            // An IPv6 layer emits its 40-byte fixed header.
            let nh = Ipv6Packet::new_unchecked(&bytes[..]).next_header();
            let pieces: Vec<&[u8]> = if payload.is_empty() {
                vec![&[]]
            } else {
                payload.chunks(chunk).collect()
            };
            let n = pieces.len();
            Ok(pieces
                .into_iter()
                .enumerate()
                .map(|(i, data)| {
                    let h = ipv6::Ipv6Repr {
                        plen: None,
                        nh: Some(NH_FRAGMENT),
                        ..ip.clone()
                    };
                    let fh = Frag6 {
                        nh,
                        offset: ((i * chunk / 8) & 0x1fff) as u16,
                        m: i + 1 < n,
                        id,
                    };
                    let mut load = fh.bytes().to_vec();
                    load.extend_from_slice(data);
                    Packet::new(vec![Layer::Ipv6(h), Layer::Raw(load)])
                })
                .collect())
        }
        _ => Err(FragError::NotIp),
    }
}

/// The IPv4 options whose copied flag (0x80) is set, as RFC 791 wants them in every
/// fragment after the first (source routes and security are; record route and
/// timestamps are not). Stops at end-of-list or at a length that does not fit.
pub fn copied_options(opts: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&t) = opts.get(i) {
        match t {
            0 => break,
            1 => i += 1,
            _ => {
                let len = usize::from(opts.get(i + 1).copied().unwrap_or(0));
                if len < 2 || i + len > opts.len() {
                    break;
                }
                if t & 0x80 != 0 {
                    out.extend_from_slice(&opts[i..i + len]);
                }
                i += len;
            }
        }
    }
    out
}

/// What a receiver does with overlapping fragments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlap {
    /// Linux: a fragment inside one already queued is a duplicate (ignored); any other
    /// overlap discards the whole datagram.
    Linux,
    /// The data that arrived first stays (BSD-like).
    First,
    /// Later data overwrites earlier data (RFC 791's reassembly procedure as written).
    Last,
}

impl Overlap {
    pub fn parse(s: &str) -> Option<Overlap> {
        match s {
            "linux" | "drop" => Some(Overlap::Linux),
            "first" => Some(Overlap::First),
            "last" => Some(Overlap::Last),
            _ => None,
        }
    }
}

/// One fragment as the reassembler sees it.
struct Piece {
    /// Byte offset of its data.
    off: usize,
    data: Vec<u8>,
    more: bool,
}

/// What [`defragment`] found.
#[derive(Clone, Debug, Default)]
pub struct Defragmented {
    /// Reassembled datagrams, then the packets that were not fragments, in input order
    /// of their first packet.
    pub packets: Vec<Packet>,
    /// Fragments of datagrams that never completed.
    pub incomplete: Vec<Packet>,
    /// Datagrams discarded for overlapping fragments (their fragments).
    pub discarded: Vec<Vec<Packet>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key(IpAddr, IpAddr, u32, u8, bool);

/// A fragment's key, its piece, and its header to rebuild the datagram from.
fn as_fragment(p: &Packet) -> Option<(Key, Piece, Packet)> {
    match (p.layers.first(), p.layers.get(1..)) {
        (Some(Layer::Ipv4(ip)), Some(rest)) if ip.mf() || ip.frag != 0 => {
            let data = Packet::new(rest.to_vec()).to_bytes();
            let proto = ip.proto.unwrap_or_else(|| {
                let b = p.to_bytes();
                b.get(ipv4::field::PROTOCOL).copied().unwrap_or(0)
            });
            let key = Key(
                IpAddr::V4(ip.src.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED)),
                IpAddr::V4(ip.dst),
                u32::from(ip.id),
                proto,
                false,
            );
            let head = Ipv4Repr {
                len: None,
                chksum: None,
                ihl: None,
                frag: 0,
                flags: ip.flags & !flag::MF,
                proto: Some(proto),
                ..ip.clone()
            };
            Some((
                key,
                Piece {
                    off: usize::from(ip.frag) * 8,
                    data,
                    more: ip.mf(),
                },
                Packet::new(vec![Layer::Ipv4(head)]),
            ))
        }
        (Some(Layer::Ipv6(ip)), Some(rest))
            if p.to_bytes().get(ipv6::field::NXT_HDR) == Some(&NH_FRAGMENT) =>
        {
            let load = Packet::new(rest.to_vec()).to_bytes();
            let fh = Frag6::parse(&load)?;
            let key = Key(
                IpAddr::V6(ip.src.unwrap_or(std::net::Ipv6Addr::UNSPECIFIED)),
                IpAddr::V6(ip.dst),
                fh.id,
                0,
                true,
            );
            let head = ipv6::Ipv6Repr {
                plen: None,
                nh: Some(fh.nh),
                ..ip.clone()
            };
            Some((
                key,
                Piece {
                    off: usize::from(fh.offset) * 8,
                    data: load[FRAG6_LEN..].to_vec(),
                    more: fh.m,
                },
                Packet::new(vec![Layer::Ipv6(head)]),
            ))
        }
        _ => None,
    }
}

/// A queue of one datagram's fragments.
struct Queue {
    head: Packet,
    pieces: Vec<Piece>,
    /// The fragments as given, to hand back when it never completes.
    given: Vec<Packet>,
    /// Where its result goes among the output.
    order: usize,
    bad: bool,
}

impl Queue {
    /// Adds a piece as the policy says; false: the datagram is to be discarded.
    fn insert(&mut self, p: Piece, policy: Overlap) -> bool {
        let end = p.off + p.data.len();
        if policy == Overlap::Linux {
            for q in &self.pieces {
                let qend = q.off + q.data.len();
                if end <= q.off || p.off >= qend {
                    continue;
                }
                if p.off >= q.off && end <= qend {
                    // A duplicate: dropped, the queue kept.
                    return true;
                }
                return false;
            }
        }
        self.pieces.push(p);
        true
    }

    /// The datagram, if every byte up to the last fragment's end is there.
    fn assemble(&self, policy: Overlap) -> Option<Packet> {
        let last = self.pieces.iter().find(|p| !p.more)?;
        let total = last.off + last.data.len();
        let mut buf = vec![0u8; total];
        let mut have = vec![false; total];
        for p in &self.pieces {
            if p.off + p.data.len() > total {
                return None;
            }
            for (k, b) in p.data.iter().enumerate() {
                let at = p.off + k;
                if !have[at] || policy == Overlap::Last {
                    buf[at] = *b;
                }
                have[at] = true;
            }
        }
        if have.iter().any(|h| !h) {
            return None;
        }
        let mut bytes = self.head.to_bytes();
        // The header's own lengths are rebuilt by parsing the whole.
        match self.head.layers.first() {
            Some(Layer::Ipv4(_)) => {
                let len = (bytes.len() + total).min(0xffff) as u16;
                let mut h = Ipv4Packet::new_unchecked(&mut bytes[..]);
                h.set_total_len(len);
                h.set_checksum(0);
                // Over the header as its ihl says (at least 20 bytes, at most what is there).
                let hlen = h.header_len().max(ipv4::field::HEADER_LEN);
                let c = super::checksum::checksum(&bytes[..hlen.min(bytes.len())]);
                put16(&mut bytes, ipv4::field::CHECKSUM, c);
            }
            Some(Layer::Ipv6(_)) => {
                let len = total.min(0xffff) as u16;
                Ipv6Packet::new_unchecked(&mut bytes[..]).set_payload_len(len);
            }
            _ => return None,
        }
        bytes.extend_from_slice(&buf);
        Some(Packet::parse(&bytes, LinkType::RawIp).0)
    }
}

/// Reassembles what can be reassembled, as a receiver would.
pub fn defragment(pkts: &[Packet], policy: Overlap) -> Defragmented {
    let mut queues: HashMap<Key, Queue> = HashMap::new();
    let mut order: Vec<Option<Packet>> = Vec::new();
    let mut keys_in_order: Vec<Key> = Vec::new();
    for p in pkts {
        let Some((key, piece, head)) = as_fragment(p) else {
            order.push(Some(p.clone()));
            continue;
        };
        let q = queues.entry(key.clone()).or_insert_with(|| {
            order.push(None);
            keys_in_order.push(key.clone());
            Queue {
                head,
                pieces: Vec::new(),
                given: Vec::new(),
                order: order.len() - 1,
                bad: false,
            }
        });
        if piece.off == 0 {
            // The first fragment's header is the datagram's (RFC 8200 §4.5).
            if let Some((_, _, h)) = as_fragment(p) {
                q.head = h;
            }
        }
        q.given.push(p.clone());
        if !q.bad && !q.insert(piece, policy) {
            q.bad = true;
        }
    }
    let mut out = Defragmented::default();
    for key in keys_in_order {
        let Some(q) = queues.remove(&key) else {
            continue;
        };
        if q.bad {
            out.discarded.push(q.given);
            continue;
        }
        match q.assemble(policy) {
            Some(whole) => {
                if let Some(slot) = order.get_mut(q.order) {
                    *slot = Some(whole);
                }
            }
            None => out.incomplete.extend(q.given),
        }
    }
    out.packets = order.into_iter().flatten().collect();
    out
}

/// Whether `p` is a fragment (IPv4 MF or offset, or an IPv6 Fragment header).
pub fn is_fragment(p: &Packet) -> bool {
    as_fragment(p).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{Ipv6Repr, TcpRepr};

    fn syn4() -> Packet {
        Packet::new(vec![
            Layer::Ipv4(Ipv4Repr {
                src: Some("198.18.1.1".parse().unwrap()),
                dst: "198.18.3.2".parse().unwrap(),
                id: 77,
                ..Ipv4Repr::default()
            }),
            Layer::Tcp(TcpRepr {
                sport: 40000,
                seq: 1000,
                ..TcpRepr::default()
            }),
            Layer::Raw(b"0123456789abcdefghij".to_vec()),
        ])
    }

    fn syn6() -> Packet {
        let mut p = syn4();
        p.layers[0] = Layer::Ipv6(Ipv6Repr {
            src: Some("2001:db8:198:18::1:1".parse().unwrap()),
            dst: "2001:db8:198:18::3:2".parse().unwrap(),
            ..Ipv6Repr::default()
        });
        p
    }

    #[test]
    fn ipv4_offsets_mf_and_round_trip() {
        let p = syn4();
        let f = fragment(&p, 16, 0).unwrap();
        assert_eq!(f.len(), 3, "40 bytes of TCP in 16-byte pieces");
        let ips: Vec<&Ipv4Repr> = f.iter().map(|x| x.ipv4().unwrap()).collect();
        assert_eq!(ips.iter().map(|i| i.frag).collect::<Vec<_>>(), [0, 2, 4]);
        assert_eq!(
            ips.iter().map(|i| i.mf()).collect::<Vec<_>>(),
            [true, true, false]
        );
        assert!(ips
            .iter()
            .all(|i| !i.df() && i.id == 77 && i.proto == Some(6)));
        let d = defragment(&f, Overlap::Linux);
        assert_eq!(d.packets.len(), 1);
        assert_eq!(d.packets[0].to_bytes(), p.to_bytes());
        // Out of order makes no difference.
        let rev: Vec<Packet> = f.iter().rev().cloned().collect();
        let d = defragment(&rev, Overlap::Linux);
        assert_eq!(d.packets[0].to_bytes(), p.to_bytes());
        // Missing the middle: incomplete, handed back.
        let d = defragment(&[f[0].clone(), f[2].clone()], Overlap::Linux);
        assert!(d.packets.is_empty());
        assert_eq!(d.incomplete.len(), 2);
        assert!(matches!(fragment(&p, 7, 0), Err(FragError::TooSmall(7))));
        // DF goes: a datagram sent in fragments may be fragmented.
        let mut df = p.clone();
        if let Some(ip) = df.ipv4_mut() {
            ip.flags = flag::DF;
        }
        assert!(fragment(&df, 16, 0)
            .unwrap()
            .iter()
            .all(|x| !x.ipv4().unwrap().df()));
    }

    #[test]
    fn ipv6_fragment_header_and_round_trip() {
        let p = syn6();
        let f = fragment(&p, 24, 0xabcd).unwrap();
        assert_eq!(f.len(), 2);
        let b = f[0].to_bytes();
        assert_eq!(b[6], NH_FRAGMENT);
        let fh = Frag6::parse(&b[40..]).unwrap();
        assert_eq!(
            fh,
            Frag6 {
                nh: 6,
                offset: 0,
                m: true,
                id: 0xabcd
            }
        );
        let fh = Frag6::parse(&f[1].to_bytes()[40..]).unwrap();
        assert_eq!((fh.offset, fh.m), (3, false));
        let d = defragment(&f, Overlap::Linux);
        assert_eq!(d.packets[0].to_bytes(), p.to_bytes());
    }

    #[test]
    fn overlaps_as_linux_and_the_other_policies() {
        let p = syn4();
        let mut f = fragment(&p, 16, 0).unwrap();
        // A fragment that rewrites bytes 8..24 (offset 1) with other data.
        let mut evil = f[1].clone();
        if let Some(Layer::Ipv4(ip)) = evil.layers.first_mut() {
            ip.frag = 1;
        }
        evil.layers[1] = Layer::Raw(vec![b'X'; 16]);
        f.push(evil);
        let d = defragment(&f, Overlap::Linux);
        assert!(d.packets.is_empty(), "a partial overlap discards it all");
        assert_eq!(d.discarded.len(), 1);
        let first = defragment(&f, Overlap::First);
        assert_eq!(first.packets[0].to_bytes(), p.to_bytes());
        let last = defragment(&f, Overlap::Last);
        assert_ne!(last.packets[0].to_bytes(), p.to_bytes());
        // A duplicate of a queued fragment is ignored.
        let mut g = fragment(&p, 16, 0).unwrap();
        g.insert(1, g[0].clone());
        let d = defragment(&g, Overlap::Linux);
        assert_eq!(d.packets[0].to_bytes(), p.to_bytes());
    }

    #[test]
    fn only_copied_options_follow_the_first_fragment() {
        // NOP, record route (7: not copied), loose source route (131: copied).
        let opts = [1, 7, 7, 4, 0, 0, 0, 0, 131, 7, 4, 198, 18, 3, 2, 0];
        assert_eq!(copied_options(&opts), [131, 7, 4, 198, 18, 3, 2]);
        let mut p = syn4();
        if let Some(ip) = p.ipv4_mut() {
            ip.options = opts.to_vec();
        }
        let f = fragment(&p, 16, 0).unwrap();
        assert_eq!(f[0].ipv4().unwrap().options, opts);
        assert_eq!(f[1].ipv4().unwrap().options, [131, 7, 4, 198, 18, 3, 2]);
        assert_eq!(f[1].ipv4().unwrap().header_len(), 28);
        assert_eq!(copied_options(&[68, 40, 5]), Vec::<u8>::new(), "bad length");
    }

    #[test]
    fn non_fragments_pass_through() {
        let p = syn4();
        let d = defragment(std::slice::from_ref(&p), Overlap::Linux);
        assert_eq!(d.packets, vec![p]);
    }
}
