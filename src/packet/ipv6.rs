//! IPv6 fixed header (RFC 8200 §3). Extension headers are carried as raw payload; [`walk`]
//! finds the transport header behind them.

use std::net::Ipv6Addr;

use super::{get16, get32, put16, put32, Error, Note};

/// The IPv6 fixed header's byte ranges (RFC 8200 §3), written once.
pub mod field {
    use crate::packet::Field;
    /// Version (4 bits), traffic class (8) and flow label (20).
    pub const VER_TC_FLOW: Field = 0..4;
    pub const LENGTH: Field = 4..6;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Field = 8..24;
    pub const DST_ADDR: Field = 24..40;
    pub const HEADER_LEN: usize = 40;
}

/// Bytes of the IPv6 fixed header.
pub const HEADER_LEN: usize = field::HEADER_LEN;

/// A zero-copy view of an IPv6 packet (fixed header and what follows it).
///
/// `new_checked` verifies that the 40-byte fixed header is present: then no accessor can
/// panic. The payload length is not trusted: [`Packet::payload`] clamps it to the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without checks: the caller makes sure the header is there.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// A view of untrusted bytes: `Truncated` when fewer than 40 bytes are present.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    pub fn check_len(&self) -> Result<(), Error> {
        if self.buffer.as_ref().len() < field::HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    #[inline]
    fn word0(&self) -> u32 {
        get32(self.buffer.as_ref(), field::VER_TC_FLOW)
    }
    #[inline]
    pub fn version(&self) -> u8 {
        (self.word0() >> 28) as u8
    }
    #[inline]
    pub fn traffic_class(&self) -> u8 {
        ((self.word0() >> 20) & 0xff) as u8
    }
    #[inline]
    pub fn flow_label(&self) -> u32 {
        self.word0() & 0x000f_ffff
    }
    #[inline]
    pub fn payload_len(&self) -> u16 {
        get16(self.buffer.as_ref(), field::LENGTH)
    }
    #[inline]
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NXT_HDR]
    }
    #[inline]
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }
    #[inline]
    pub fn src_addr(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field::SRC_ADDR]);
        Ipv6Addr::from(a)
    }
    #[inline]
    pub fn dst_addr(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field::DST_ADDR]);
        Ipv6Addr::from(a)
    }
    /// The end of the packet: 40 + the payload length, clamped to the buffer.
    #[inline]
    pub fn payload_end(&self) -> usize {
        (field::HEADER_LEN + usize::from(self.payload_len())).min(self.buffer.as_ref().len())
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// What the payload length covers (clamped to the buffer): extension headers and the
    /// upper layer.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        let end = self.payload_end();
        &self.buffer.as_ref()[field::HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes version (4 bits), traffic class and flow label (20 bits).
    #[inline]
    pub fn set_ver_tc_flow(&mut self, version: u8, tc: u8, flow: u32) {
        let w = (u32::from(version & 0x0f) << 28) | (u32::from(tc) << 20) | (flow & 0x000f_ffff);
        put32(self.buffer.as_mut(), field::VER_TC_FLOW, w);
    }
    #[inline]
    pub fn set_payload_len(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::LENGTH, v);
    }
    #[inline]
    pub fn set_next_header(&mut self, v: u8) {
        self.buffer.as_mut()[field::NXT_HDR] = v;
    }
    #[inline]
    pub fn set_hop_limit(&mut self, v: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = v;
    }
    #[inline]
    pub fn set_src_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&a.octets());
    }
    #[inline]
    pub fn set_dst_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&a.octets());
    }
    /// The bytes after the fixed header, to write (to the end of the buffer).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::HEADER_LEN..]
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv6Repr {
    pub version: u8,
    /// Traffic class.
    pub tc: u8,
    /// Flow label (20 bits).
    pub fl: u32,
    /// Payload length; `None`: computed.
    pub plen: Option<u16>,
    /// Next header; `None`: from the next layer.
    pub nh: Option<u8>,
    /// Hop limit.
    pub hlim: u8,
    /// `None`: `::` when built; the engine fills in the route's source when sending.
    pub src: Option<Ipv6Addr>,
    pub dst: Ipv6Addr,
}

impl Default for Ipv6Repr {
    /// scapy's defaults: hlim 64, dst ::1.
    fn default() -> Self {
        Ipv6Repr {
            version: 6,
            tc: 0,
            fl: 0,
            plen: None,
            nh: None,
            hlim: 64,
            src: None,
            dst: Ipv6Addr::LOCALHOST,
        }
    }
}

impl Ipv6Repr {
    pub fn emit_header(&self, out: &mut Vec<u8>, plen: u16, nh: u8) {
        let start = out.len();
        out.resize(start + HEADER_LEN, 0);
        let mut p = Packet::new_unchecked(&mut out[start..]);
        p.set_ver_tc_flow(self.version, self.tc, self.fl);
        p.set_payload_len(plen);
        p.set_next_header(nh);
        p.set_hop_limit(self.hlim);
        p.set_src_addr(self.src.unwrap_or(Ipv6Addr::UNSPECIFIED));
        p.set_dst_addr(self.dst);
    }

    /// Parses the fixed header; returns it and the payload length present (clamped).
    pub fn parse(b: &[u8], notes: &mut Vec<Note>, base: usize) -> Option<(Ipv6Repr, usize)> {
        if b.len() < HEADER_LEN {
            notes.push(Note::new(
                base,
                format!("IPv6 header truncated: {} of 40 bytes", b.len()),
            ));
            return None;
        }
        // The fixed header is present: the view's accessors cannot panic.
        let p = Packet::new_unchecked(b);
        let plen = p.payload_len();
        let avail = b.len() - HEADER_LEN;
        let payload = if usize::from(plen) > avail {
            notes.push(Note::new(
                base + b.len(),
                format!("truncated: IPv6 payload length {plen}, {avail} bytes captured"),
            ));
            avail
        } else {
            usize::from(plen)
        };
        Some((
            Ipv6Repr {
                version: p.version(),
                tc: p.traffic_class(),
                fl: p.flow_label(),
                plen: Some(plen),
                nh: Some(p.next_header()),
                hlim: p.hop_limit(),
                src: Some(p.src_addr()),
                dst: p.dst_addr(),
            },
            payload,
        ))
    }
}

/// IPv6 extension headers (RFC 8200 §4, RFC 4302 AH, RFC 6275 mobility): the one walker
/// over them, used by the tcpdump printer, the packet view and the reply matcher.
pub mod ext {
    /// The byte ranges every walked extension header starts with (RFC 8200 §4.2), and
    /// the Fragment header's (§4.5).
    pub mod field {
        use crate::packet::Field;
        pub const NXT_HDR: usize = 0;
        /// Length in 8-octet units past the first 8 (AH: 4-octet units past the first 2).
        pub const LENGTH: usize = 1;
        /// Fragment header: offset (13 bits), two reserved bits, M.
        pub const FRAG_OFF_M: Field = 2..4;
        /// Fragment header: identification.
        pub const FRAG_IDENT: Field = 4..8;
    }

    pub const HOPOPTS: u8 = 0;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const ESP: u8 = 50;
    pub const AH: u8 = 51;
    pub const DSTOPTS: u8 = 60;
    pub const MOBILITY: u8 = 135;
}

/// The length of extension header `nh` whose first bytes are `h` (two are enough), or
/// `None` when `nh` is not an extension header that can be walked over (ESP ends the
/// walk: what follows is encrypted) or `h` is too short.
pub fn ext_len(nh: u8, h: &[u8]) -> Option<usize> {
    match nh {
        ext::HOPOPTS | ext::ROUTING | ext::DSTOPTS | ext::MOBILITY => {
            Some((usize::from(*h.get(ext::field::LENGTH)?) + 1) * 8)
        }
        ext::FRAGMENT => Some(8),
        ext::AH => Some((usize::from(*h.get(ext::field::LENGTH)?) + 2) * 4),
        _ => None,
    }
}

/// Where the extension headers of an IPv6 packet lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtWalk {
    /// Offset of the first header that is not an extension header.
    pub at: usize,
    /// Its protocol number (59: no next header; 50: ESP).
    pub proto: u8,
    /// Not a fragment, or the first one (offset 0).
    pub first_fragment: bool,
}

/// Walks the extension headers of the IPv6 packet `b` (from its fixed header), at most
/// 16 of them; `None` if one runs past the bytes.
pub fn walk(b: &[u8]) -> Option<ExtWalk> {
    let mut nh = *b.get(field::NXT_HDR)?;
    let mut at = HEADER_LEN;
    let mut first_fragment = true;
    for _ in 0..16 {
        let h = b.get(at..)?;
        let Some(len) = ext_len(nh, h) else {
            break;
        };
        if h.len() < len.min(8) {
            return None;
        }
        if nh == ext::FRAGMENT {
            first_fragment = get16(h, ext::field::FRAG_OFF_M) & 0xfff8 == 0;
        }
        nh = h[ext::field::NXT_HDR];
        at += len;
    }
    Some(ExtWalk {
        at,
        proto: nh,
        first_fragment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Error;

    /// 2001:db8:198:18::1 → ::2, traffic class 0x12, flow 0x34567, an ICMPv6 echo request
    /// with 4 bytes of data (by scapy).
    static PACKET_BYTES: [u8; 52] = [
        0x61, 0x23, 0x45, 0x67, 0x00, 0x0c, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x98, 0x00,
        0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x98,
        0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x80, 0x00, 0x63, 0xaf, 0x12,
        0x34, 0x00, 0x01, 0xaa, 0x00, 0x00, 0xff,
    ];

    fn addr(last: u16) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 0, last)
    }

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0x12);
        assert_eq!(p.flow_label(), 0x34567);
        assert_eq!(p.payload_len(), 12);
        assert_eq!(p.next_header(), 58);
        assert_eq!(p.hop_limit(), 64);
        assert_eq!(p.src_addr(), addr(1));
        assert_eq!(p.dst_addr(), addr(2));
        assert_eq!(p.payload(), &PACKET_BYTES[40..]);
        let icmp = crate::packet::IcmpPacket::new_checked(p.payload()).unwrap();
        assert!(icmp.verify_checksum_v6(addr(1).into(), addr(2).into()));
    }

    #[test]
    fn construct() {
        let mut bytes = [0xa5u8; 52];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_ver_tc_flow(6, 0x12, 0x34567);
        p.set_payload_len(12);
        p.set_next_header(58);
        p.set_hop_limit(64);
        p.set_src_addr(addr(1));
        p.set_dst_addr(addr(2));
        p.payload_mut().copy_from_slice(&PACKET_BYTES[40..]);
        assert_eq!(&bytes[..], &PACKET_BYTES[..]);
    }

    #[test]
    fn truncated() {
        for n in 0..40 {
            assert_eq!(
                Packet::new_checked(&PACKET_BYTES[..n]),
                Err(Error::Truncated)
            );
        }
        // A payload length past the capture is clamped.
        let p = Packet::new_checked(&PACKET_BYTES[..45]).unwrap();
        assert_eq!(p.payload(), &PACKET_BYTES[40..45]);
    }

    #[test]
    fn parse_emit() {
        let (repr, plen) = Ipv6Repr::parse(&PACKET_BYTES, &mut Vec::new(), 0).unwrap();
        assert_eq!(plen, 12);
        let mut out = vec![0xa5];
        repr.emit_header(&mut out, 12, 58);
        assert_eq!(&out[1..], &PACKET_BYTES[..40]);
    }
}
