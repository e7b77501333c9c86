//! Zero-copy dissection for hot paths (reply matching, the scanner, benchmarks): finds the
//! IP and transport headers in a frame and reads fields in place, without allocating.
//! Every accessor is bounds-checked once in `Dissection::new`; none can panic afterwards.
//!
//! Also the reply matcher's [`Summary`]: the same headers read tolerantly (a quote inside
//! an ICMP error may carry as little as 8 transport bytes). Both stand on the protocol
//! views ([`Ipv4Packet`], [`TcpPacket`], …) and their `field` ranges: there is no other
//! header reader outside the tcpdump printer.

use std::net::IpAddr;

use super::ipv4::proto;
use super::{
    icmp, ipv6, read16, read32, tcp, udp, EthernetFrame, IcmpPacket, Ipv4Packet, Ipv6Packet,
    LinkType, SllFrame, TcpFlags, TcpPacket, UdpPacket,
};

/// Offsets of the layers found in one frame.
#[derive(Clone, Copy, Debug)]
pub struct Dissection<'a> {
    pub bytes: &'a [u8],
    /// Offset of the IP header.
    pub l3: usize,
    /// 4 or 6.
    pub version: u8,
    /// Offset of the transport header.
    pub l4: usize,
    /// IP protocol / next header of the transport header.
    pub proto: u8,
    /// Offset of the transport payload (after TCP options, UDP or ICMP header).
    pub payload: usize,
    /// End of the IP datagram (by its length field, clamped to the frame).
    pub end: usize,
}

impl<'a> Dissection<'a> {
    /// Finds IP + transport headers; `None` when the frame is not IP or the transport
    /// header (TCP 20 + options, UDP 8, ICMP 8) is not wholly present.
    pub fn new(bytes: &'a [u8], link: LinkType) -> Option<Dissection<'a>> {
        let (l3, et) = match link {
            LinkType::Ethernet => {
                let f = EthernetFrame::new_checked(bytes).ok()?;
                (super::link::ETHER_LEN, Some(f.ethertype()))
            }
            LinkType::Sll => {
                let f = SllFrame::new_checked(bytes).ok()?;
                (super::link::SLL_LEN, Some(f.protocol()))
            }
            LinkType::RawIp => (0, None),
        };
        let ip = bytes.get(l3..)?;
        let version = ip.first()? >> 4;
        match (et, version) {
            (None | Some(super::link::ethertype::IPV4), 4)
            | (None | Some(super::link::ethertype::IPV6), 6) => {}
            _ => return None,
        }
        let (l4, proto, end) = if version == 4 {
            let h = Ipv4Packet::new_checked(ip).ok()?;
            if h.frag_offset() != 0 {
                return None;
            }
            (l3 + h.header_len(), h.protocol(), l3 + h.payload_end())
        } else {
            let h = Ipv6Packet::new_checked(ip).ok()?;
            let total = h.payload_end();
            // Extension headers (hop-by-hop, routing, fragment, destination options,
            // AH) are walked to the transport header.
            let w = ipv6::walk(ip.get(..total)?)?;
            if !w.first_fragment {
                return None;
            }
            (l3 + w.at, w.proto, l3 + total)
        };
        let t = bytes.get(l4..end)?;
        let hlen = match proto {
            proto::TCP => TcpPacket::new_checked(t).ok()?.header_len(),
            proto::UDP => {
                UdpPacket::new_checked(t).ok()?;
                udp::HEADER_LEN
            }
            proto::ICMP | proto::ICMPV6 => {
                IcmpPacket::new_checked(t).ok()?;
                icmp::HEADER_LEN
            }
            _ => 0,
        };
        Some(Dissection {
            bytes,
            l3,
            version,
            l4,
            proto,
            payload: l4 + hlen,
            end,
        })
    }

    /// The IP header's view (checked in `new`).
    #[inline]
    fn ip(&self) -> &'a [u8] {
        &self.bytes[self.l3..]
    }
    /// The transport header's view (checked in `new`).
    #[inline]
    fn l4(&self) -> &'a [u8] {
        &self.bytes[self.l4..self.end]
    }

    pub fn src(&self) -> IpAddr {
        if self.version == 4 {
            IpAddr::V4(Ipv4Packet::new_unchecked(self.ip()).src_addr())
        } else {
            IpAddr::V6(Ipv6Packet::new_unchecked(self.ip()).src_addr())
        }
    }

    pub fn dst(&self) -> IpAddr {
        if self.version == 4 {
            IpAddr::V4(Ipv4Packet::new_unchecked(self.ip()).dst_addr())
        } else {
            IpAddr::V6(Ipv6Packet::new_unchecked(self.ip()).dst_addr())
        }
    }

    pub fn is_tcp(&self) -> bool {
        self.proto == proto::TCP
    }
    pub fn is_udp(&self) -> bool {
        self.proto == proto::UDP
    }

    /// Source and destination port (TCP/UDP), else zeros.
    pub fn ports(&self) -> (u16, u16) {
        match self.proto {
            proto::TCP => {
                let t = TcpPacket::new_unchecked(self.l4());
                (t.src_port(), t.dst_port())
            }
            proto::UDP => {
                let u = UdpPacket::new_unchecked(self.l4());
                (u.src_port(), u.dst_port())
            }
            _ => (0, 0),
        }
    }
    /// TCP sequence number (0 if not TCP).
    pub fn seq(&self) -> u32 {
        if self.is_tcp() {
            TcpPacket::new_unchecked(self.l4()).seq_number()
        } else {
            0
        }
    }
    pub fn ack(&self) -> u32 {
        if self.is_tcp() {
            TcpPacket::new_unchecked(self.l4()).ack_number()
        } else {
            0
        }
    }
    pub fn flags(&self) -> TcpFlags {
        if self.is_tcp() {
            TcpPacket::new_unchecked(self.l4()).flags()
        } else {
            TcpFlags(0)
        }
    }
    pub fn window(&self) -> u16 {
        if self.is_tcp() {
            TcpPacket::new_unchecked(self.l4()).window_len()
        } else {
            0
        }
    }
    /// ICMP/ICMPv6 type and code.
    pub fn icmp_type_code(&self) -> Option<(u8, u8)> {
        match self.proto {
            proto::ICMP | proto::ICMPV6 => {
                let c = IcmpPacket::new_unchecked(self.l4());
                Some((c.msg_type(), c.msg_code()))
            }
            _ => None,
        }
    }
    /// The transport payload.
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[self.payload.min(self.end)..self.end]
    }
    /// For an ICMP error: the quoted datagram, dissected as raw IP (as far as it goes).
    pub fn quoted(&self) -> Option<QuotedFlow> {
        let (t, _) = self.icmp_type_code()?;
        let is_err = if self.proto == proto::ICMP {
            icmp::v4::is_error(t)
        } else {
            icmp::v6::is_error(t)
        };
        if !is_err {
            return None;
        }
        QuotedFlow::parse(self.payload())
    }
}

/// The flow of a datagram quoted in an ICMP error: addresses, protocol, ports and (for
/// TCP) the sequence number — what matching needs, from as little as 8 transport bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotedFlow {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
    /// TCP seq, or ICMP echo id<<16|seq.
    pub seq: u32,
}

impl QuotedFlow {
    pub fn parse(b: &[u8]) -> Option<QuotedFlow> {
        let v = b.first()? >> 4;
        let (src, dst, proto, l4) = if v == 4 {
            b.get(..super::ipv4::HEADER_LEN)?;
            // The fixed header is there; the ihl is not trusted to be.
            let h = Ipv4Packet::new_unchecked(b);
            (
                IpAddr::V4(h.src_addr()),
                IpAddr::V4(h.dst_addr()),
                h.protocol(),
                b.get(h.header_len().max(super::ipv4::HEADER_LEN)..)?,
            )
        } else if v == 6 {
            let h = Ipv6Packet::new_checked(b).ok()?;
            (
                IpAddr::V6(h.src_addr()),
                IpAddr::V6(h.dst_addr()),
                h.next_header(),
                b.get(ipv6::HEADER_LEN..)?,
            )
        } else {
            return None;
        };
        // Ports and sequence number (UDP's length and checksum, ICMP's rest of header)
        // sit at TCP's offsets in the first 8 bytes.
        Some(QuotedFlow {
            src,
            dst,
            proto,
            sport: read16(l4, tcp::field::SRC_PORT)?,
            dport: read16(l4, tcp::field::DST_PORT)?,
            seq: read32(l4, tcp::field::SEQ_NUM)?,
        })
    }
}

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

/// The facts of one IP packet that reply matching needs, read tolerantly: an IP packet
/// (starting at the IP header) whose transport header may be cut short.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The transport protocol (after IPv6 extension headers).
    pub proto: u8,
    pub l4: L4,
}

/// Where an IP packet's transport header is (see [`locate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transport {
    /// Offset of the transport header.
    pub at: usize,
    /// Its protocol (after IPv6 extension headers).
    pub proto: u8,
    /// Not a fragment, or the first one.
    pub first_fragment: bool,
    /// The end of the datagram: its length field when it fits in the buffer (link-layer
    /// padding is not payload), else the buffer's end.
    pub end: usize,
}

/// The IP version nibble of a packet that starts at the IP header.
pub fn version(b: &[u8]) -> Option<u8> {
    b.first().map(|v| v >> 4)
}

/// Where the transport header of the IP packet `b` starts. IPv6 extension headers are
/// walked; an IPv4 total length shorter than the buffer trims it, as does an IPv6
/// payload length (other than 0, a jumbogram's).
pub fn locate(b: &[u8]) -> Option<Transport> {
    ip_parts(b).map(|(_, _, t)| t)
}

/// The addresses of the IP packet `b` and where its transport header is, in one pass.
fn ip_parts(b: &[u8]) -> Option<(IpAddr, IpAddr, Transport)> {
    match version(b)? {
        4 => {
            let h = Ipv4Packet::new_checked(b).ok()?;
            let ihl = h.header_len();
            let total = usize::from(h.total_len());
            let end = if total >= ihl && total <= b.len() {
                total
            } else {
                b.len()
            };
            let t = Transport {
                at: ihl,
                proto: h.protocol(),
                first_fragment: h.frag_offset() == 0,
                end,
            };
            Some((IpAddr::V4(h.src_addr()), IpAddr::V4(h.dst_addr()), t))
        }
        6 => {
            let h = Ipv6Packet::new_checked(b).ok()?;
            let plen = usize::from(h.payload_len());
            let end = if ipv6::HEADER_LEN + plen <= b.len() && plen != 0 {
                ipv6::HEADER_LEN + plen
            } else {
                b.len()
            };
            let w = ipv6::walk(b)?;
            let t = Transport {
                at: w.at,
                proto: w.proto,
                first_fragment: w.first_fragment,
                end,
            };
            Some((IpAddr::V6(h.src_addr()), IpAddr::V6(h.dst_addr()), t))
        }
        _ => None,
    }
}

/// Summarizes an IP packet (IPv4 or IPv6, starting at the IP header).
pub fn summarize(b: &[u8]) -> Option<Summary> {
    summarize_inner(b, 0)
}

fn summarize_inner(b: &[u8], depth: u8) -> Option<Summary> {
    let (
        src,
        dst,
        Transport {
            at,
            proto,
            first_fragment,
            end,
        },
    ) = ip_parts(b)?;
    let t = b.get(at..end).unwrap_or_default();
    let l4 = if !first_fragment {
        L4::Other
    } else {
        match proto {
            proto::TCP => tcp_summary(t),
            proto::UDP => match (
                read16(t, udp::field::SRC_PORT),
                read16(t, udp::field::DST_PORT),
            ) {
                (Some(sport), Some(dport)) => L4::Udp { sport, dport },
                _ => L4::Other,
            },
            proto::ICMP | proto::ICMPV6 => {
                match (t.get(icmp::field::TYPE), t.get(icmp::field::CODE)) {
                    (Some(&ty), Some(&code)) => {
                        let error = if proto == proto::ICMP {
                            icmp::v4::is_error(ty)
                        } else {
                            icmp::v6::is_error(ty)
                        };
                        let quoted = if error && depth == 0 {
                            t.get(icmp::field::PAYLOAD)
                                .and_then(|q| summarize_inner(q, depth + 1))
                                .map(Box::new)
                        } else {
                            None
                        };
                        L4::Icmp {
                            ty,
                            code,
                            id: read16(t, icmp::field::ECHO_IDENT).unwrap_or(0),
                            seq: read16(t, icmp::field::ECHO_SEQNO).unwrap_or(0),
                            quoted,
                        }
                    }
                    _ => L4::Other,
                }
            }
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

/// A TCP header as far as it goes: ports and sequence number from 8 bytes; the ack,
/// flags and payload length when present.
fn tcp_summary(t: &[u8]) -> L4 {
    use tcp::field;
    if let Ok(p) = TcpPacket::new_checked(t) {
        return L4::Tcp {
            sport: p.src_port(),
            dport: p.dst_port(),
            seq: p.seq_number(),
            ack: p.ack_number(),
            flags: p.flags().0,
            payload_len: p.payload().len(),
        };
    }
    let (Some(sport), Some(dport), Some(seq)) = (
        read16(t, field::SRC_PORT),
        read16(t, field::DST_PORT),
        read32(t, field::SEQ_NUM),
    ) else {
        return L4::Other;
    };
    let flags = match (t.get(field::DATA_OFF), t.get(field::FLAGS)) {
        (Some(&off), Some(&f)) => (u16::from(off & 1) << 8) | u16::from(f),
        _ => 0,
    };
    L4::Tcp {
        sport,
        dport,
        seq,
        ack: read32(t, field::ACK_NUM).unwrap_or(0),
        flags,
        payload_len: 0,
    }
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
