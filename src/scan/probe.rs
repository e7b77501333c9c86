//! Probe frames and reply classification. Pure: a probe is written into a caller's buffer
//! from a fixed template (no allocation per probe), and a captured packet is turned into
//! "(host, port) answered with this reason" only if it carries our cookie.

use std::net::IpAddr;

use super::cookie::{self, Key};
use super::result::{Reason, ScanType};
use crate::packet::ipv4::proto::{ICMP as PROTO_ICMP, ICMPV6 as PROTO_ICMPV6};
use crate::packet::ipv4::proto::{TCP as PROTO_TCP, UDP as PROTO_UDP};
use crate::packet::view::{summarize, L4};
use crate::packet::{icmp, ipv4, ipv6, tcp, udp};
use crate::packet::{Ipv4Packet, Ipv6Packet, TcpFlags, TcpPacket, UdpPacket};

/// Largest probe: IPv6 (40) + UDP (8) + the longest payload (NTP, 48).
pub const MAX_PROBE: usize = 96;

/// UDP payloads for services that ignore an empty datagram (after nmap's
/// nmap-payloads): an answer to any of them means open.
pub fn udp_payload(port: u16) -> &'static [u8] {
    match port {
        // DNS: a status request (opcode 2, no questions); servers answer, if only NOTIMP.
        53 => &[0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        // NTP: a version 4 client request.
        123 => &[
            0xe3, 0, 4, 0xfa, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
        // SNMP v1 get-request for sysDescr.0, community "public".
        161 => &[
            0x30, 0x29, 0x02, 0x01, 0x00, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', 0xa0,
            0x1c, 0x02, 0x04, 0, 0, 0, 1, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30,
            0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00,
        ],
        _ => &[],
    }
}
/// How many source ports a UDP scan spreads over (its cookie lives in the port).
pub const UDP_PORTS: u16 = 1024;
/// TCP probes change source port with each try (round), so a retry is a new connection
/// to the target: a listener that still holds a half-open connection from a lost
/// SYN-ACK (or a lost RST of ours) would otherwise ignore the retry as a duplicate SYN
/// for up to a second (Linux rate-limits its answers to those). As nmap does.
pub const TCP_PORTS: u16 = 32;

/// What every probe of one scan shares.
#[derive(Clone, Debug)]
pub struct Prober {
    pub kind: ScanType,
    pub key: Key,
    /// The first TCP source port (of `TCP_PORTS`, one per try), or of `UDP_PORTS` for UDP.
    pub sport: u16,
}

/// The TCP probe's only option: MSS 1460 (as `TcpOption::Mss(1460)` emits it).
const MSS_OPTION: [u8; 4] = [tcp::kind::MSS, 4, 0x05, 0xb4];
/// Bytes of the TCP probe's header: 20 and the MSS option (data offset 6).
const TCP_PROBE_LEN: usize = tcp::HEADER_LEN + MSS_OPTION.len();

impl Prober {
    fn proto(&self) -> u8 {
        match self.kind {
            ScanType::Udp => PROTO_UDP,
            _ => PROTO_TCP,
        }
    }

    fn tcp_flags(&self) -> u8 {
        match self.kind {
            ScanType::Ack => TcpFlags::ACK as u8,
            ScanType::Flags(f) => f,
            _ => TcpFlags::SYN as u8,
        }
    }

    /// The cookie for a probe to (dst, dport) from src.
    pub fn cookie(&self, src: IpAddr, dst: IpAddr, dport: u16) -> u32 {
        cookie::cookie(self.key, src, dst, dport, self.proto())
    }

    /// The UDP source port that carries the cookie.
    pub fn udp_sport(&self, c: u32) -> u16 {
        self.sport.wrapping_add((c % u32::from(UDP_PORTS)) as u16)
    }

    /// The TCP source port of try number `try_no` (0 = the first pass).
    pub fn tcp_sport(&self, try_no: u32) -> u16 {
        self.sport
            .wrapping_add((try_no % u32::from(TCP_PORTS)) as u16)
    }

    pub(crate) fn is_our_tcp_port(&self, p: u16) -> bool {
        p.wrapping_sub(self.sport) < TCP_PORTS
    }

    /// Write try `try_no` of the probe into `buf`; returns its length (0 if the
    /// families differ).
    pub fn build(
        &self,
        src: IpAddr,
        dst: IpAddr,
        dport: u16,
        try_no: u32,
        buf: &mut [u8; MAX_PROBE],
    ) -> usize {
        let c = self.cookie(src, dst, dport);
        let proto = self.proto();
        let payload = if proto == PROTO_UDP {
            udp_payload(dport)
        } else {
            &[]
        };
        let l4len: usize = if proto == PROTO_TCP {
            TCP_PROBE_LEN
        } else {
            udp::HEADER_LEN + payload.len()
        };
        let ip_len = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let mut ip = Ipv4Packet::new_unchecked(&mut buf[..ipv4::HEADER_LEN]);
                ip.set_version_ihl(4, 5);
                ip.set_tos(0);
                ip.set_total_len((ipv4::HEADER_LEN + l4len) as u16);
                ip.set_ident((c >> 16) as u16); // IP id: varies, never zero-patterned
                ip.set_flags_frag(0, 0);
                ip.set_ttl(64);
                ip.set_protocol(proto);
                ip.set_src_addr(s);
                ip.set_dst_addr(d);
                ip.fill_checksum();
                ipv4::HEADER_LEN
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let mut ip = Ipv6Packet::new_unchecked(&mut buf[..ipv6::HEADER_LEN]);
                ip.set_ver_tc_flow(6, 0, 0);
                ip.set_payload_len(l4len as u16);
                ip.set_next_header(proto);
                ip.set_hop_limit(64);
                ip.set_src_addr(s);
                ip.set_dst_addr(d);
                ipv6::HEADER_LEN
            }
            _ => return 0,
        };
        // At most 40 + 8 + 48 bytes: within MAX_PROBE.
        let l4 = &mut buf[ip_len..ip_len + l4len];
        if proto == PROTO_TCP {
            let flags = self.tcp_flags();
            let mut t = TcpPacket::new_unchecked(l4);
            t.set_src_port(self.tcp_sport(try_no));
            t.set_dst_port(dport);
            // The cookie is the sequence number; an ACK probe carries it in the ack
            // field too, because the RST it draws has seq = our ack.
            t.set_seq_number(c);
            t.set_ack_number(if u16::from(flags) & TcpFlags::ACK != 0 {
                c
            } else {
                0
            });
            t.set_offset_flags((TCP_PROBE_LEN / 4) as u8, 0, TcpFlags(u16::from(flags)));
            t.set_window_len(1024);
            t.set_urgent_at(0);
            t.options_mut().copy_from_slice(&MSS_OPTION);
            t.fill_checksum(src, dst);
        } else {
            let mut u = UdpPacket::new_unchecked(l4);
            u.set_src_port(self.udp_sport(c));
            u.set_dst_port(dport);
            u.set_len(l4len as u16);
            u.payload_mut().copy_from_slice(payload);
            u.fill_checksum(src, dst);
        }
        ip_len + l4len
    }

    /// What TCP's reply must acknowledge: the cookie plus the SYN and FIN we sent.
    fn expected_ack(&self, c: u32) -> u32 {
        let f = self.tcp_flags();
        let f = u16::from(f);
        c.wrapping_add(u32::from(f & TcpFlags::SYN != 0) + u32::from(f & TcpFlags::FIN != 0))
    }

    /// Classify a captured IP packet: `(target, port, reason)` when it answers one of our
    /// probes sent from one of `ours` addresses, else `None` (not ours, forged, or stale).
    pub fn classify(
        &self,
        pkt: &[u8],
        ours: impl Fn(IpAddr) -> bool,
    ) -> Option<(IpAddr, u16, Reason)> {
        let s = summarize(pkt)?;
        match (&s.l4, self.kind) {
            (
                L4::Tcp {
                    sport,
                    dport,
                    seq,
                    ack,
                    flags,
                    ..
                },
                k,
            ) if k != ScanType::Udp => {
                if !self.is_our_tcp_port(*dport) || !ours(s.dst) {
                    return None;
                }
                let c = self.cookie(s.dst, s.src, *sport);
                let syn = flags & TcpFlags::SYN != 0;
                let ackf = flags & TcpFlags::ACK != 0;
                let rst = flags & TcpFlags::RST != 0;
                let reason = if k == ScanType::Ack {
                    if rst && *seq == c {
                        Reason::Reset
                    } else {
                        return None;
                    }
                } else if ackf && *ack == self.expected_ack(c) {
                    if rst {
                        Reason::Reset
                    } else if syn {
                        Reason::SynAck
                    } else {
                        return None;
                    }
                } else if rst && !ackf && *seq == self.expected_ack(c) {
                    // A RST without ACK whose seq is what we would have acked next.
                    Reason::Reset
                } else if syn && !ackf && k == ScanType::Syn {
                    // A bare SYN (split handshake): no cookie to check; nmap calls it open.
                    Reason::Syn
                } else {
                    return None;
                };
                Some((s.src, *sport, reason))
            }
            (L4::Udp { sport, dport }, ScanType::Udp) => {
                if !ours(s.dst) {
                    return None;
                }
                let c = self.cookie(s.dst, s.src, *sport);
                (*dport == self.udp_sport(c)).then_some((s.src, *sport, Reason::UdpResponse))
            }
            (
                L4::Icmp {
                    ty,
                    code,
                    quoted: Some(q),
                    ..
                },
                k,
            ) => {
                let reason = match (s.proto, ty) {
                    (PROTO_ICMP, &icmp::v4::DEST_UNREACH) => Reason::IcmpUnreach(*code),
                    (PROTO_ICMPV6, &icmp::v6::DEST_UNREACH) => Reason::Icmp6Unreach(*code),
                    _ => return None,
                };
                let target = q.dst;
                if !ours(q.src) {
                    return None;
                }
                match (&q.l4, k) {
                    (
                        L4::Tcp {
                            sport, dport, seq, ..
                        },
                        k,
                    ) if k != ScanType::Udp => {
                        let c = self.cookie(q.src, target, *dport);
                        (self.is_our_tcp_port(*sport) && *seq == c)
                            .then_some((target, *dport, reason))
                    }
                    (L4::Udp { sport, dport }, ScanType::Udp) => {
                        let c = self.cookie(q.src, target, *dport);
                        (*sport == self.udp_sport(c)).then_some((target, *dport, reason))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::view::Dissection;
    use crate::packet::LinkType;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn prober(kind: ScanType) -> Prober {
        Prober {
            kind,
            key: Key(7, 9),
            sport: 40000,
        }
    }

    /// A reply built by swapping the probe's addresses/ports with the given TCP fields.
    fn tcp_reply(probe: &[u8], v6: bool, flags: u8, seq: u32, ack: u32) -> Vec<u8> {
        let mut r = probe.to_vec();
        let ih = if v6 {
            let mut ip = Ipv6Packet::new_checked(&mut r[..]).unwrap();
            let (s, d) = (ip.src_addr(), ip.dst_addr());
            ip.set_src_addr(d);
            ip.set_dst_addr(s);
            ipv6::HEADER_LEN
        } else {
            let mut ip = Ipv4Packet::new_checked(&mut r[..]).unwrap();
            let (s, d) = (ip.src_addr(), ip.dst_addr());
            ip.set_src_addr(d);
            ip.set_dst_addr(s);
            ip.header_len()
        };
        let mut t = TcpPacket::new_checked(&mut r[ih..]).unwrap();
        let (sp, dp) = (t.src_port(), t.dst_port());
        t.set_src_port(dp);
        t.set_dst_port(sp);
        t.set_seq_number(seq);
        t.set_ack_number(ack);
        t.set_offset_flags(t.data_offset(), 0, TcpFlags(u16::from(flags)));
        r
    }

    fn tcp_ok(seg: &[u8], src: IpAddr, dst: IpAddr) -> bool {
        TcpPacket::new_checked(seg)
            .unwrap()
            .verify_checksum(src, dst)
    }

    #[test]
    fn probes_fit_the_send_ring_small_slots() {
        const { assert!(crate::net::txring::SMALL_FRAME_MAX >= 14 + MAX_PROBE) };
    }

    #[test]
    fn syn_probe_is_a_valid_packet() {
        let p = prober(ScanType::Syn);
        let mut buf = [0xa5u8; MAX_PROBE];
        let n = p.build(ip("198.18.0.1"), ip("198.18.0.2"), 80, 0, &mut buf);
        assert_eq!(n, 44);
        let d = Dissection::new(&buf[..n], LinkType::RawIp).unwrap();
        assert_eq!(d.ports(), (40000, 80));
        assert_eq!(d.seq(), p.cookie(ip("198.18.0.1"), ip("198.18.0.2"), 80));
        assert!(Ipv4Packet::new_checked(&buf[..n])
            .unwrap()
            .verify_checksum());
        // The TCP checksum verifies: the pseudo-header sum plus the segment folds to 0.
        assert!(tcp_ok(&buf[20..44], ip("198.18.0.1"), ip("198.18.0.2")));
        assert_eq!(
            TcpPacket::new_checked(&buf[20..44]).unwrap().options(),
            &[2, 4, 0x05, 0xb4],
            "MSS 1460"
        );
        let n6 = p.build(
            ip("2001:db8:198:18::1"),
            ip("2001:db8:198:18::2"),
            443,
            3,
            &mut buf,
        );
        assert_eq!(n6, 64);
        let t = TcpPacket::new_checked(&buf[40..64]).unwrap();
        assert_eq!(t.src_port(), 40003, "try 3's source port");
        assert!(tcp_ok(
            &buf[40..64],
            ip("2001:db8:198:18::1"),
            ip("2001:db8:198:18::2")
        ));
        assert_eq!(
            p.build(ip("198.18.0.1"), ip("2001:db8:198:18::2"), 1, 0, &mut buf),
            0
        );
    }

    #[test]
    fn syn_replies_validate_by_cookie() {
        let p = prober(ScanType::Syn);
        let (me, them) = (ip("198.18.0.1"), ip("198.18.0.2"));
        let src_of = |a: IpAddr| a == me;
        let mut buf = [0u8; MAX_PROBE];
        let n = p.build(me, them, 80, 0, &mut buf);
        let c = p.cookie(me, them, 80);
        let sa = tcp_reply(&buf[..n], false, 0x12, 777, c.wrapping_add(1));
        assert_eq!(p.classify(&sa, src_of), Some((them, 80, Reason::SynAck)));
        let ra = tcp_reply(&buf[..n], false, 0x14, 0, c.wrapping_add(1));
        assert_eq!(p.classify(&ra, src_of), Some((them, 80, Reason::Reset)));
        let forged = tcp_reply(&buf[..n], false, 0x12, 777, c.wrapping_add(2));
        assert_eq!(p.classify(&forged, src_of), None);
        let not_ours = tcp_reply(&buf[..n], false, 0x12, 777, c.wrapping_add(1));
        assert_eq!(
            p.classify(&not_ours, |a: IpAddr| a == ip("198.18.0.9")),
            None
        );
        // An answer to a retry (another source port of ours) validates too.
        let n1 = p.build(me, them, 80, 5, &mut buf);
        let sa1 = tcp_reply(&buf[..n1], false, 0x12, 778, c.wrapping_add(1));
        assert_eq!(p.classify(&sa1, src_of), Some((them, 80, Reason::SynAck)));
        let n = p.build(me, them, 80, 0, &mut buf);
        let bare = tcp_reply(&buf[..n], false, 0x02, 5, 0);
        assert_eq!(p.classify(&bare, src_of), Some((them, 80, Reason::Syn)));
        // Our own probe, seen on the wire, is not a reply.
        assert_eq!(p.classify(&buf[..n], src_of), None);
        assert_eq!(p.classify(&[0x45, 0, 1], src_of), None);
    }

    #[test]
    fn ack_and_fin_replies() {
        let (me, them) = (ip("2001:db8:198:18::1"), ip("2001:db8:198:18::2"));
        let src_of = |a: IpAddr| a == me;
        let mut buf = [0u8; MAX_PROBE];
        let a = prober(ScanType::Ack);
        let n = a.build(me, them, 22, 0, &mut buf);
        let c = a.cookie(me, them, 22);
        let rst = tcp_reply(&buf[..n], true, 0x04, c, 0);
        assert_eq!(a.classify(&rst, src_of), Some((them, 22, Reason::Reset)));
        let f = prober(ScanType::Flags(0x29));
        let n = f.build(me, them, 22, 0, &mut buf);
        let c = f.cookie(me, them, 22);
        let ra = tcp_reply(&buf[..n], true, 0x14, 0, c.wrapping_add(1));
        assert_eq!(f.classify(&ra, src_of), Some((them, 22, Reason::Reset)));
    }

    fn icmp_error(v6: bool, me: IpAddr, them: IpAddr, ty: u8, code: u8, quote: &[u8]) -> Vec<u8> {
        use crate::packet::{IcmpRepr, Ipv4Repr, Ipv6Repr, Layer, Packet};
        let icmp = IcmpRepr {
            r#type: ty,
            code,
            chksum: Some(0),
            ..Default::default()
        };
        let layers = match (them, me) {
            (IpAddr::V4(s), IpAddr::V4(d)) if !v6 => vec![
                Layer::Ipv4(Ipv4Repr {
                    id: 0,
                    ttl: 64,
                    chksum: Some(0),
                    src: Some(s),
                    dst: d,
                    ..Default::default()
                }),
                Layer::Icmp(icmp),
            ],
            (IpAddr::V6(s), IpAddr::V6(d)) => vec![
                Layer::Ipv6(Ipv6Repr {
                    src: Some(s),
                    dst: d,
                    ..Default::default()
                }),
                Layer::Icmpv6(icmp),
            ],
            _ => unreachable!(),
        };
        let mut layers = layers;
        layers.push(Layer::Raw(quote.to_vec()));
        Packet::new(layers).to_bytes()
    }

    #[test]
    fn icmp_errors_quote_our_probe() {
        let (me, them) = (ip("198.18.0.1"), ip("198.18.0.2"));
        let src_of = |a: IpAddr| a == me;
        let mut buf = [0u8; MAX_PROBE];
        let u = prober(ScanType::Udp);
        let n = u.build(me, them, 53, 0, &mut buf);
        let e = icmp_error(false, me, them, 3, 3, &buf[..n]);
        assert_eq!(
            u.classify(&e, src_of),
            Some((them, 53, Reason::IcmpUnreach(3)))
        );
        // Quotes cut to 8 bytes of transport header still match.
        let e = icmp_error(false, me, them, 3, 13, &buf[..28]);
        assert_eq!(
            u.classify(&e, src_of),
            Some((them, 53, Reason::IcmpUnreach(13)))
        );
        let mut other = buf;
        let mut t = UdpPacket::new_checked(&mut other[20..n]).unwrap();
        t.set_src_port(t.src_port() ^ 1); // a different source port: not our cookie
        let e = icmp_error(false, me, them, 3, 3, &other[..n]);
        assert_eq!(u.classify(&e, src_of), None);
        let s = prober(ScanType::Syn);
        let n = s.build(me, them, 8443, 0, &mut buf);
        let e = icmp_error(false, me, them, 3, 13, &buf[..n]);
        assert_eq!(
            s.classify(&e, src_of),
            Some((them, 8443, Reason::IcmpUnreach(13)))
        );
        let (me6, them6) = (ip("2001:db8:198:18::1"), ip("2001:db8:198:18::2"));
        let n = u.build(me6, them6, 161, 0, &mut buf);
        let e = icmp_error(true, me6, them6, 1, 4, &buf[..n]);
        assert_eq!(
            u.classify(&e, |a: IpAddr| a == me6),
            Some((them6, 161, Reason::Icmp6Unreach(4)))
        );
    }

    #[test]
    fn udp_payloads_for_services_that_ignore_empty_datagrams() {
        let u = prober(ScanType::Udp);
        let mut buf = [0xa5u8; MAX_PROBE];
        let (me, them) = (ip("2001:db8:198:18::1"), ip("2001:db8:198:18::2"));
        for (port, len) in [(53u16, 12usize), (123, 48), (161, 43), (7, 0)] {
            let n = u.build(me, them, port, 0, &mut buf);
            assert_eq!(n, 40 + 8 + len, "port {port}");
            assert_eq!(udp_payload(port).len(), len);
            let u = UdpPacket::new_checked(&buf[40..n]).unwrap();
            assert_eq!(u.payload(), udp_payload(port));
            assert!(u.verify_checksum(me, them), "checksum, port {port}");
        }
        // The SNMP message's BER lengths add up.
        let snmp = udp_payload(161);
        assert_eq!(usize::from(snmp[1]) + 2, snmp.len());
        assert_eq!(usize::from(snmp[14]) + 15, snmp.len());
    }

    #[test]
    fn udp_answers_come_back_to_the_cookie_port() {
        let (me, them) = (ip("198.18.0.1"), ip("198.18.0.2"));
        let u = prober(ScanType::Udp);
        let mut buf = [0u8; MAX_PROBE];
        let n = u.build(me, them, 7, 0, &mut buf);
        let mut r = buf[..n].to_vec();
        let mut h = Ipv4Packet::new_checked(&mut r[..]).unwrap();
        h.set_src_addr([198, 18, 0, 2].into());
        h.set_dst_addr([198, 18, 0, 1].into());
        let mut t = UdpPacket::new_checked(&mut r[20..]).unwrap();
        let (sp, dp) = (t.src_port(), t.dst_port());
        t.set_src_port(dp);
        t.set_dst_port(sp);
        assert_eq!(
            u.classify(&r, |a: IpAddr| a == me),
            Some((them, 7, Reason::UdpResponse))
        );
        let mut t = UdpPacket::new_checked(&mut r[20..]).unwrap();
        t.set_dst_port(t.dst_port() ^ 1);
        assert_eq!(u.classify(&r, |a: IpAddr| a == me), None);
    }
}
