//! Zero-copy dissection for hot paths (reply matching, the scanner, benchmarks): finds the
//! IP and transport headers in a frame and reads fields in place, without allocating.
//! Every accessor is bounds-checked once in `Dissection::new`; none can panic afterwards.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{ipv4::proto, link, LinkType, TcpFlags};

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

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl<'a> Dissection<'a> {
    /// Finds IP + transport headers; `None` when the frame is not IP or the transport
    /// header (TCP 20 + options, UDP 8, ICMP 8) is not wholly present.
    pub fn new(bytes: &'a [u8], link: LinkType) -> Option<Dissection<'a>> {
        let (l3, et) = match link {
            LinkType::Ethernet => (link::ETHER_LEN, Some(be16(bytes.get(..14)?, 12))),
            LinkType::Sll => (link::SLL_LEN, Some(be16(bytes.get(..16)?, 14))),
            LinkType::RawIp => (0, None),
        };
        let ip = bytes.get(l3..)?;
        let version = ip.first()? >> 4;
        match (et, version) {
            (None | Some(link::ethertype::IPV4), 4) | (None | Some(link::ethertype::IPV6), 6) => {}
            _ => return None,
        }
        let (l4, proto, end) = if version == 4 {
            let h = ip.get(..20)?;
            let ihl = usize::from(h[0] & 0x0f) * 4;
            if ihl < 20 || ip.len() < ihl || be16(h, 6) & 0x1fff != 0 {
                return None;
            }
            let total = usize::from(be16(h, 2)).clamp(ihl, ip.len());
            (l3 + ihl, h[9], l3 + total)
        } else {
            let h = ip.get(..40)?;
            let total = (40 + usize::from(be16(h, 4))).min(ip.len());
            // Extension headers (hop-by-hop, routing, fragment, destination options,
            // AH) are walked to the transport header.
            let w = super::ipv6::walk(ip.get(..total)?)?;
            if !w.first_fragment {
                return None;
            }
            (l3 + w.at, w.proto, l3 + total)
        };
        let t = bytes.get(l4..end)?;
        let hlen = match proto {
            proto::TCP => {
                let off = usize::from(t.get(12)? >> 4) * 4;
                if off < 20 || off > t.len() {
                    return None;
                }
                off
            }
            proto::UDP | proto::ICMP | proto::ICMPV6 => {
                if t.len() < 8 {
                    return None;
                }
                8
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

    pub fn src(&self) -> IpAddr {
        let b = self.bytes;
        if self.version == 4 {
            IpAddr::V4(Ipv4Addr::new(
                b[self.l3 + 12],
                b[self.l3 + 13],
                b[self.l3 + 14],
                b[self.l3 + 15],
            ))
        } else {
            let mut a = [0u8; 16];
            a.copy_from_slice(&b[self.l3 + 8..self.l3 + 24]);
            IpAddr::V6(Ipv6Addr::from(a))
        }
    }

    pub fn dst(&self) -> IpAddr {
        let b = self.bytes;
        if self.version == 4 {
            IpAddr::V4(Ipv4Addr::new(
                b[self.l3 + 16],
                b[self.l3 + 17],
                b[self.l3 + 18],
                b[self.l3 + 19],
            ))
        } else {
            let mut a = [0u8; 16];
            a.copy_from_slice(&b[self.l3 + 24..self.l3 + 40]);
            IpAddr::V6(Ipv6Addr::from(a))
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
            proto::TCP | proto::UDP => (be16(self.bytes, self.l4), be16(self.bytes, self.l4 + 2)),
            _ => (0, 0),
        }
    }
    /// TCP sequence number (0 if not TCP).
    pub fn seq(&self) -> u32 {
        if self.is_tcp() {
            be32(self.bytes, self.l4 + 4)
        } else {
            0
        }
    }
    pub fn ack(&self) -> u32 {
        if self.is_tcp() {
            be32(self.bytes, self.l4 + 8)
        } else {
            0
        }
    }
    pub fn flags(&self) -> TcpFlags {
        if self.is_tcp() {
            let b = self.bytes;
            TcpFlags((u16::from(b[self.l4 + 12] & 1) << 8) | u16::from(b[self.l4 + 13]))
        } else {
            TcpFlags(0)
        }
    }
    pub fn window(&self) -> u16 {
        if self.is_tcp() {
            be16(self.bytes, self.l4 + 14)
        } else {
            0
        }
    }
    /// ICMP/ICMPv6 type and code.
    pub fn icmp_type_code(&self) -> Option<(u8, u8)> {
        match self.proto {
            proto::ICMP | proto::ICMPV6 => Some((self.bytes[self.l4], self.bytes[self.l4 + 1])),
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
            super::icmp::v4::is_error(t)
        } else {
            super::icmp::v6::is_error(t)
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
            let h = b.get(..20)?;
            let ihl = usize::from(h[0] & 0x0f) * 4;
            (
                IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15])),
                IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19])),
                h[9],
                b.get(ihl.max(20)..)?,
            )
        } else if v == 6 {
            let h = b.get(..40)?;
            let mut s = [0u8; 16];
            s.copy_from_slice(&h[8..24]);
            let mut d = [0u8; 16];
            d.copy_from_slice(&h[24..40]);
            (
                IpAddr::V6(Ipv6Addr::from(s)),
                IpAddr::V6(Ipv6Addr::from(d)),
                h[6],
                b.get(40..)?,
            )
        } else {
            return None;
        };
        let t = l4.get(..8)?;
        Some(QuotedFlow {
            src,
            dst,
            proto,
            sport: be16(t, 0),
            dport: be16(t, 2),
            seq: be32(t, 4),
        })
    }
}
