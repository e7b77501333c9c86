//! Which captured packet answers which probe, and — when one answers none — why not.
//!
//! Pure: works on [`Summary`] values parsed from bytes, so every rule is unit-tested with
//! byte vectors. The rules:
//! - TCP: the reply's 4-tuple is the probe's reversed, and its sequence numbers relate:
//!   an ACK-bearing reply acknowledges exactly the probe's sequence space
//!   (`ack = seq + len`, SYN and FIN counting one); a RST without ACK answers a probe that
//!   carried ACK with `seq = probe ack` (RFC 9293 §3.10.7.1); a bare SYN answers a SYN
//!   (simultaneous open).
//! - UDP: reversed 4-tuple.
//! - ICMP / ICMPv6 echo: reply type, same id and sequence, reversed addresses.
//! - ICMP / ICMPv6 errors: the quoted header is the probe (addresses, protocol, ports,
//!   and for TCP the sequence number; for echo the id and sequence).

use std::collections::HashMap;
use std::net::IpAddr;

use crate::packet::ipv4::proto::{ICMP as PROTO_ICMP, ICMPV6 as PROTO_ICMPV6};
use crate::packet::view::{is_icmp_error, Summary, L4};
use crate::packet::TcpFlags;

const TCP_FIN: u16 = TcpFlags::FIN;
const TCP_SYN: u16 = TcpFlags::SYN;
const TCP_RST: u16 = TcpFlags::RST;
const TCP_ACK: u16 = TcpFlags::ACK;

/// Sequence space a TCP segment occupies: payload, plus one each for SYN and FIN.
pub fn seg_len(flags: u16, payload_len: usize) -> u32 {
    let mut n = payload_len as u32;
    if flags & TCP_SYN != 0 {
        n = n.wrapping_add(1);
    }
    if flags & TCP_FIN != 0 {
        n = n.wrapping_add(1);
    }
    n
}

/// How a reply answered its probe (for display and for scanners).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerKind {
    /// A TCP/UDP/echo reply from the peer.
    Direct,
    /// An ICMP or ICMPv6 error quoting the probe.
    IcmpError,
}

/// Does `reply` answer `probe`? `Err` says why not, in words a user can act on.
pub fn answers(probe: &Summary, reply: &Summary) -> Result<AnswerKind, String> {
    if let L4::Icmp {
        quoted: Some(q), ..
    } = &reply.l4
    {
        return quote_matches(probe, q).map(|()| AnswerKind::IcmpError);
    }
    if probe.proto != reply.proto {
        return Err(format!(
            "protocol {} does not answer a protocol {} probe",
            reply.proto, probe.proto
        ));
    }
    if reply.src != probe.dst || reply.dst != probe.src {
        return Err(format!(
            "addresses differ: reply {} → {}, probe {} → {}",
            reply.src, reply.dst, probe.src, probe.dst
        ));
    }
    match (&probe.l4, &reply.l4) {
        (
            L4::Tcp {
                sport,
                dport,
                seq,
                ack,
                flags,
                payload_len,
            },
            L4::Tcp {
                sport: rs,
                dport: rd,
                seq: rseq,
                ack: rack,
                flags: rflags,
                ..
            },
        ) => {
            if rs != dport || rd != sport {
                return Err(format!(
                    "ports differ: reply {rs} → {rd}, probe {sport} → {dport}"
                ));
            }
            let expected = seq.wrapping_add(seg_len(*flags, *payload_len));
            if rflags & TCP_ACK != 0 {
                if *rack == expected {
                    return Ok(AnswerKind::Direct);
                }
                if rflags & TCP_RST != 0 && flags & TCP_ACK != 0 && rseq == ack {
                    return Ok(AnswerKind::Direct);
                }
                // A partial acknowledgement of a data probe still answers it.
                let into = rack.wrapping_sub(*seq);
                if *payload_len > 0 && into > 0 && into <= seg_len(*flags, *payload_len) {
                    return Ok(AnswerKind::Direct);
                }
                return Err(format!("ack {rack} ≠ expected {expected}"));
            }
            if rflags & TCP_RST != 0 {
                if flags & TCP_ACK != 0 {
                    if rseq == ack {
                        return Ok(AnswerKind::Direct);
                    }
                    return Err(format!("RST seq {rseq} ≠ probe ack {ack}"));
                }
                return Err("RST without ACK answers only a probe that carried ACK".into());
            }
            if rflags & TCP_SYN != 0 && flags & TCP_SYN != 0 && flags & TCP_ACK == 0 {
                // Both sides sent SYN: simultaneous open (RFC 9293 §3.5, figure 8).
                return Ok(AnswerKind::Direct);
            }
            Err(format!(
                "reply flags {} carry neither ACK nor RST",
                flag_letters(*rflags)
            ))
        }
        (
            L4::Udp { sport, dport },
            L4::Udp {
                sport: rs,
                dport: rd,
            },
        ) => {
            if rs == dport && rd == sport {
                Ok(AnswerKind::Direct)
            } else {
                Err(format!(
                    "ports differ: reply {rs} → {rd}, probe {sport} → {dport}"
                ))
            }
        }
        (
            L4::Icmp { ty, id, seq, .. },
            L4::Icmp {
                ty: rty,
                id: rid,
                seq: rseq,
                ..
            },
        ) => {
            let want = match (probe.proto, ty) {
                (PROTO_ICMP, 8) => 0,
                (PROTO_ICMP, 13) => 14,
                (PROTO_ICMP, 15) => 16,
                (PROTO_ICMP, 17) => 18,
                (PROTO_ICMPV6, 128) => 129,
                _ => return Err(format!("ICMP type {ty} expects no reply")),
            };
            if *rty != want {
                return Err(format!("ICMP type {rty} ≠ expected {want}"));
            }
            if rid != id || rseq != seq {
                return Err(format!("echo id/seq {rid}/{rseq} ≠ probe {id}/{seq}"));
            }
            Ok(AnswerKind::Direct)
        }
        _ => Err("transport header missing or cut short".into()),
    }
}

fn quote_matches(probe: &Summary, q: &Summary) -> Result<(), String> {
    if q.src != probe.src || q.dst != probe.dst || q.proto != probe.proto {
        return Err(format!(
            "ICMP error quotes {} → {} proto {}, not the probe {} → {} proto {}",
            q.src, q.dst, q.proto, probe.src, probe.dst, probe.proto
        ));
    }
    match (&probe.l4, &q.l4) {
        (
            L4::Tcp {
                sport, dport, seq, ..
            },
            L4::Tcp {
                sport: qs,
                dport: qd,
                seq: qseq,
                ..
            },
        ) => {
            if (qs, qd) != (sport, dport) {
                return Err(format!(
                    "quoted ports {qs} → {qd} ≠ probe {sport} → {dport}"
                ));
            }
            if qseq != seq {
                return Err(format!("quoted seq {qseq} ≠ probe seq {seq}"));
            }
            Ok(())
        }
        (
            L4::Udp { sport, dport },
            L4::Udp {
                sport: qs,
                dport: qd,
            },
        ) => {
            if (qs, qd) == (sport, dport) {
                Ok(())
            } else {
                Err(format!(
                    "quoted ports {qs} → {qd} ≠ probe {sport} → {dport}"
                ))
            }
        }
        (
            L4::Icmp { id, seq, .. },
            L4::Icmp {
                id: qi, seq: qs, ..
            },
        ) => {
            if (qi, qs) == (id, seq) {
                Ok(())
            } else {
                Err(format!("quoted echo id/seq {qi}/{qs} ≠ probe {id}/{seq}"))
            }
        }
        (_, L4::Other) | (L4::Other, _) => {
            // Nothing more to compare: the addresses and protocol agree.
            Ok(())
        }
        _ => Err("quoted transport header differs".into()),
    }
}

fn flag_letters(f: u16) -> String {
    const LETTERS: [(u16, char); 9] = [
        (0x001, 'F'),
        (0x002, 'S'),
        (0x004, 'R'),
        (0x008, 'P'),
        (0x010, 'A'),
        (0x020, 'U'),
        (0x040, 'E'),
        (0x080, 'C'),
        (0x100, 'N'),
    ];
    let s: String = LETTERS
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, c)| *c)
        .collect();
    if s.is_empty() {
        "none".into()
    } else {
        s
    }
}

/// A flow key as seen from the probe's side: (proto, local, remote, local port, remote port).
/// For ICMP echo the ports are the id and the sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key(u8, IpAddr, IpAddr, u16, u16);

fn probe_key(p: &Summary) -> Option<Key> {
    match &p.l4 {
        L4::Tcp { sport, dport, .. } | L4::Udp { sport, dport } => {
            Some(Key(p.proto, p.src, p.dst, *sport, *dport))
        }
        L4::Icmp { id, seq, .. } => Some(Key(p.proto, p.src, p.dst, *id, *seq)),
        L4::Other => None,
    }
}

fn reply_key(r: &Summary) -> Option<Key> {
    match &r.l4 {
        L4::Tcp { sport, dport, .. } | L4::Udp { sport, dport } => {
            Some(Key(r.proto, r.dst, r.src, *dport, *sport))
        }
        L4::Icmp {
            quoted: Some(q), ..
        } => probe_key(q),
        L4::Icmp { id, seq, .. } => Some(Key(r.proto, r.dst, r.src, *id, *seq)),
        L4::Other => None,
    }
}

/// What became of one captured packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It answers probe number `.0` (the first unanswered probe it fits).
    Answer(usize, AnswerKind),
    /// It answers a probe that already has its answer (a retransmission, a duplicate).
    Duplicate(usize),
    /// It answers no probe, for this reason.
    Unmatched(String),
}

/// An index over many probes so that each captured packet is classified in O(1).
pub struct Matcher {
    probes: Vec<Option<Summary>>,
    by_key: HashMap<Key, Vec<usize>>,
}

impl Matcher {
    /// Index `probes` (None for a probe that could not be parsed: it is never answered).
    pub fn new(probes: Vec<Option<Summary>>) -> Matcher {
        let mut by_key: HashMap<Key, Vec<usize>> = HashMap::new();
        for (i, p) in probes.iter().enumerate() {
            if let Some(k) = p.as_ref().and_then(probe_key) {
                by_key.entry(k).or_default().push(i);
            }
        }
        Matcher { probes, by_key }
    }

    pub fn len(&self) -> usize {
        self.probes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.probes.is_empty()
    }

    /// Classify a captured packet; `answered(i)` tells whether probe i already has a reply.
    pub fn classify(&self, reply: &Summary, answered: impl Fn(usize) -> bool) -> Outcome {
        let Some(key) = reply_key(reply) else {
            return Outcome::Unmatched("not TCP, UDP or ICMP (nothing to match on)".into());
        };
        let Some(cands) = self.by_key.get(&key) else {
            return Outcome::Unmatched(self.explain_miss(reply, key));
        };
        let mut first_err = None;
        let mut dup = None;
        for &i in cands {
            let Some(p) = self.probes.get(i).and_then(|p| p.as_ref()) else {
                continue;
            };
            match answers(p, reply) {
                Ok(kind) if !answered(i) => return Outcome::Answer(i, kind),
                Ok(_) => dup = dup.or(Some(i)),
                Err(e) => first_err = first_err.or(Some(e)),
            }
        }
        match (dup, first_err) {
            (Some(i), _) => Outcome::Duplicate(i),
            (None, Some(e)) => Outcome::Unmatched(e),
            (None, None) => Outcome::Unmatched("no probe".into()),
        }
    }

    fn explain_miss(&self, reply: &Summary, key: Key) -> String {
        let Key(proto, local, remote, lport, rport) = key;
        let same_hosts = self
            .by_key
            .keys()
            .find(|k| k.0 == proto && k.1 == local && k.2 == remote);
        match same_hosts {
            Some(k) if proto == PROTO_ICMP || proto == PROTO_ICMPV6 => {
                format!("echo id/seq {lport}/{rport} ≠ probe {}/{}", k.3, k.4)
            }
            Some(k) => format!(
                "ports differ: reply {rport} → {lport}, probe {} → {}",
                k.3, k.4
            ),
            None if is_icmp_error(reply) => {
                format!("ICMP error quotes {local} → {remote}, to which no probe went")
            }
            None => {
                if self.by_key.keys().any(|k| k.2 == remote) {
                    format!("protocol {proto} or addresses differ from every probe to {remote}")
                } else {
                    format!("no probe went to {remote}")
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::packet::view::summarize;
    use crate::packet::{icmp, ipv4, ipv6, tcp, udp};
    use crate::packet::{IcmpPacket, Ipv4Packet, Ipv6Packet, TcpPacket, UdpPacket};
    use std::net::Ipv6Addr;

    pub fn ip4(src: [u8; 4], dst: [u8; 4], proto: u8, l4: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; ipv4::HEADER_LEN + l4.len()];
        let mut h = Ipv4Packet::new_unchecked(&mut p[..]);
        h.set_version_ihl(4, 5);
        h.set_total_len((ipv4::HEADER_LEN + l4.len()) as u16);
        h.set_ident(1);
        h.set_flags_frag(ipv4::flag::DF, 0);
        h.set_ttl(64);
        h.set_protocol(proto);
        h.set_src_addr(src.into());
        h.set_dst_addr(dst.into());
        h.fill_checksum();
        h.payload_mut().copy_from_slice(l4);
        p
    }

    pub fn ip6(src: u8, dst: u8, nh: u8, l4: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; ipv6::HEADER_LEN + l4.len()];
        let mut h = Ipv6Packet::new_unchecked(&mut p[..]);
        h.set_ver_tc_flow(6, 0, 0);
        h.set_payload_len(l4.len() as u16);
        h.set_next_header(nh);
        h.set_hop_limit(64);
        let a = |last: u8| Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 0, last.into());
        h.set_src_addr(a(src));
        h.set_dst_addr(a(dst));
        h.payload_mut().copy_from_slice(l4);
        p
    }

    pub fn tcp(sport: u16, dport: u16, seq: u32, ack: u32, flags: u16, payload: &[u8]) -> Vec<u8> {
        let mut t = vec![0u8; tcp::HEADER_LEN + payload.len()];
        let mut p = TcpPacket::new_unchecked(&mut t[..]);
        p.set_src_port(sport);
        p.set_dst_port(dport);
        p.set_seq_number(seq);
        p.set_ack_number(ack);
        p.set_offset_flags(5, 0, TcpFlags(flags));
        p.set_window_len(0x2000);
        p.payload_mut().copy_from_slice(payload);
        t
    }

    pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut t = vec![0u8; udp::HEADER_LEN + payload.len()];
        let mut p = UdpPacket::new_unchecked(&mut t[..]);
        p.set_src_port(sport);
        p.set_dst_port(dport);
        p.set_len((udp::HEADER_LEN + payload.len()) as u16);
        p.payload_mut().copy_from_slice(payload);
        t
    }

    pub fn icmp(ty: u8, code: u8, id: u16, seq: u16, rest: &[u8]) -> Vec<u8> {
        let mut t = vec![0u8; icmp::HEADER_LEN + rest.len()];
        let mut p = IcmpPacket::new_unchecked(&mut t[..]);
        p.set_msg_type(ty);
        p.set_msg_code(code);
        p.set_echo_ident(id);
        p.set_echo_seq_no(seq);
        p.payload_mut().copy_from_slice(rest);
        t
    }

    const C: [u8; 4] = [198, 18, 0, 1];
    const S: [u8; 4] = [198, 18, 0, 2];

    fn s(b: &[u8]) -> Summary {
        summarize(b).unwrap()
    }

    #[test]
    fn syn_ack_and_rst_ack_answer_a_syn() {
        let probe = s(&ip4(C, S, 6, &tcp(40000, 80, 1000, 0, TCP_SYN, b"")));
        let synack = s(&ip4(
            S,
            C,
            6,
            &tcp(80, 40000, 7, 1001, TCP_SYN | TCP_ACK, b""),
        ));
        assert_eq!(answers(&probe, &synack), Ok(AnswerKind::Direct));
        let rst = s(&ip4(
            S,
            C,
            6,
            &tcp(80, 40000, 0, 1001, TCP_RST | TCP_ACK, b""),
        ));
        assert_eq!(answers(&probe, &rst), Ok(AnswerKind::Direct));
        let bad = s(&ip4(S, C, 6, &tcp(80, 40000, 7, 1, TCP_SYN | TCP_ACK, b"")));
        assert_eq!(answers(&probe, &bad), Err("ack 1 ≠ expected 1001".into()));
        let ports = s(&ip4(
            S,
            C,
            6,
            &tcp(81, 40000, 7, 1001, TCP_SYN | TCP_ACK, b""),
        ));
        assert_eq!(
            answers(&probe, &ports),
            Err("ports differ: reply 81 → 40000, probe 40000 → 80".into())
        );
        // Simultaneous open: the peer's own SYN.
        let syn = s(&ip4(S, C, 6, &tcp(80, 40000, 5, 0, TCP_SYN, b"")));
        assert_eq!(answers(&probe, &syn), Ok(AnswerKind::Direct));
    }

    #[test]
    fn rst_answers_a_non_syn_probe_and_data_acks_wrap() {
        let probe = s(&ip4(C, S, 6, &tcp(40000, 80, 5, 777, TCP_ACK, b"")));
        let rst = s(&ip4(S, C, 6, &tcp(80, 40000, 777, 0, TCP_RST, b"")));
        assert_eq!(answers(&probe, &rst), Ok(AnswerKind::Direct));
        let wrong = s(&ip4(S, C, 6, &tcp(80, 40000, 778, 0, TCP_RST, b"")));
        assert_eq!(
            answers(&probe, &wrong),
            Err("RST seq 778 ≠ probe ack 777".into())
        );
        // Data across the 2^32 wrap, then FIN counting one.
        let data = s(&ip4(
            C,
            S,
            6,
            &tcp(40000, 80, u32::MAX - 1, 1, TCP_ACK | 0x8, b"abcd"),
        ));
        let ack = s(&ip4(S, C, 6, &tcp(80, 40000, 1, 2, TCP_ACK, b"")));
        assert_eq!(answers(&data, &ack), Ok(AnswerKind::Direct));
        let fin = s(&ip4(
            C,
            S,
            6,
            &tcp(40000, 80, 10, 1, TCP_ACK | TCP_FIN, b""),
        ));
        let finack = s(&ip4(S, C, 6, &tcp(80, 40000, 1, 11, TCP_ACK, b"")));
        assert_eq!(answers(&fin, &finack), Ok(AnswerKind::Direct));
    }

    #[test]
    fn udp_echo_and_icmp_errors() {
        let probe = s(&ip4(C, S, 17, &udp(5000, 7, b"hi")));
        let reply = s(&ip4(S, C, 17, &udp(7, 5000, b"hi")));
        assert_eq!(answers(&probe, &reply), Ok(AnswerKind::Direct));
        // Port unreachable quoting the whole probe.
        let quoted = ip4(C, S, 17, &udp(5000, 7, b"hi"));
        let unreach = s(&ip4(S, C, 1, &icmp(3, 3, 0, 0, &quoted)));
        assert_eq!(answers(&probe, &unreach), Ok(AnswerKind::IcmpError));
        // A TCP quote cut to 8 bytes still carries ports and seq.
        let syn = ip4(C, S, 6, &tcp(40000, 8443, 99, 0, TCP_SYN, b""));
        let probe = s(&syn);
        let unreach = s(&ip4(S, C, 1, &icmp(3, 13, 0, 0, &syn[..28])));
        assert_eq!(answers(&probe, &unreach), Ok(AnswerKind::IcmpError));
        let other = ip4(C, S, 6, &tcp(40000, 8443, 98, 0, TCP_SYN, b""));
        let unreach = s(&ip4(S, C, 1, &icmp(3, 13, 0, 0, &other[..28])));
        assert_eq!(
            answers(&probe, &unreach),
            Err("quoted seq 98 ≠ probe seq 99".into())
        );
    }

    #[test]
    fn icmp_echo_and_ipv6() {
        let probe = s(&ip4(C, S, 1, &icmp(8, 0, 42, 7, b"x")));
        let reply = s(&ip4(S, C, 1, &icmp(0, 0, 42, 7, b"x")));
        assert_eq!(answers(&probe, &reply), Ok(AnswerKind::Direct));
        let wrong = s(&ip4(S, C, 1, &icmp(0, 0, 42, 8, b"x")));
        assert!(answers(&probe, &wrong).is_err());
        let p6 = s(&ip6(1, 2, 6, &tcp(40000, 80, 1000, 0, TCP_SYN, b"")));
        let r6 = s(&ip6(
            2,
            1,
            6,
            &tcp(80, 40000, 5, 1001, TCP_SYN | TCP_ACK, b""),
        ));
        assert_eq!(answers(&p6, &r6), Ok(AnswerKind::Direct));
        let q = ip6(1, 2, 6, &tcp(40000, 80, 1000, 0, TCP_SYN, b""));
        let e6 = s(&ip6(2, 1, 58, &icmp(1, 1, 0, 0, &q)));
        assert_eq!(answers(&p6, &e6), Ok(AnswerKind::IcmpError));
        let echo6 = s(&ip6(1, 2, 58, &icmp(128, 0, 1, 2, b"")));
        let reply6 = s(&ip6(2, 1, 58, &icmp(129, 0, 1, 2, b"")));
        assert_eq!(answers(&echo6, &reply6), Ok(AnswerKind::Direct));
    }

    #[test]
    fn matcher_classifies_and_explains() {
        let probes: Vec<Option<Summary>> = (0..4u16)
            .map(|i| Some(s(&ip4(C, S, 6, &tcp(40000, 80 + i, 1000, 0, TCP_SYN, b"")))))
            .collect();
        let m = Matcher::new(probes);
        let r = s(&ip4(
            S,
            C,
            6,
            &tcp(82, 40000, 1, 1001, TCP_SYN | TCP_ACK, b""),
        ));
        assert_eq!(
            m.classify(&r, |_| false),
            Outcome::Answer(2, AnswerKind::Direct)
        );
        assert_eq!(m.classify(&r, |_| true), Outcome::Duplicate(2));
        let r = s(&ip4(
            S,
            C,
            6,
            &tcp(90, 40000, 1, 1001, TCP_SYN | TCP_ACK, b""),
        ));
        match m.classify(&r, |_| false) {
            Outcome::Unmatched(why) => assert!(why.starts_with("ports differ"), "{why}"),
            o => panic!("{o:?}"),
        }
        let r = s(&ip4(S, C, 6, &tcp(81, 40000, 1, 1, TCP_SYN | TCP_ACK, b"")));
        assert_eq!(
            m.classify(&r, |_| false),
            Outcome::Unmatched("ack 1 ≠ expected 1001".into())
        );
        let r = s(&ip4(
            [198, 18, 0, 9],
            C,
            6,
            &tcp(80, 40000, 1, 1001, TCP_ACK, b""),
        ));
        assert_eq!(
            m.classify(&r, |_| false),
            Outcome::Unmatched("no probe went to 198.18.0.9".into())
        );
    }
}
