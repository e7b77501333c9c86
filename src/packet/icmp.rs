//! ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) headers: type, code, checksum and the four
//! "rest of header" bytes, kept as `id`/`seq` (echo), unused/next-hop MTU (unreachable),
//! MTU (packet too big) or pointer (parameter problem). The body follows as layers: for
//! errors, the quoted packet; otherwise raw bytes.

use std::net::IpAddr;

use super::{get16, get32, put16, Error, Note};

/// The ICMP/ICMPv6 header's byte ranges (RFC 792, RFC 4443 §2.1), written once.
pub mod field {
    use crate::packet::{Field, Rest};
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    /// Echo identifier (bytes 4..6 of the rest of the header).
    pub const ECHO_IDENT: Field = 4..6;
    /// Echo sequence number (bytes 6..8).
    pub const ECHO_SEQNO: Field = 6..8;
    /// The four "rest of header" bytes as one (unused, next-hop MTU, MTU, pointer, gateway).
    pub const REST: Field = 4..8;
    pub const HEADER_LEN: usize = 8;
    /// The body: echo data, or the datagram an error quotes.
    pub const PAYLOAD: Rest = 8..;
}

/// Bytes of the ICMP header.
pub const HEADER_LEN: usize = field::HEADER_LEN;

/// A zero-copy view of an ICMP or ICMPv6 message (same layout; the type keeps them apart).
///
/// `new_checked` verifies that the 8-byte header is present: then no accessor can panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without checks: the caller makes sure the header is there.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// A view of untrusted bytes: `Truncated` when fewer than 8 bytes are present.
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
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }
    #[inline]
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }
    #[inline]
    pub fn checksum(&self) -> u16 {
        get16(self.buffer.as_ref(), field::CHECKSUM)
    }
    #[inline]
    pub fn echo_ident(&self) -> u16 {
        get16(self.buffer.as_ref(), field::ECHO_IDENT)
    }
    #[inline]
    pub fn echo_seq_no(&self) -> u16 {
        get16(self.buffer.as_ref(), field::ECHO_SEQNO)
    }
    /// Bytes 4..8 as one 32-bit value.
    #[inline]
    pub fn rest(&self) -> u32 {
        get32(self.buffer.as_ref(), field::REST)
    }
    /// Does an ICMPv4 checksum verify over the whole buffer?
    #[inline]
    pub fn verify_checksum(&self) -> bool {
        super::checksum::checksum(self.buffer.as_ref()) == 0
    }
    /// Does an ICMPv6 checksum verify over the whole buffer with this pseudo-header?
    #[inline]
    pub fn verify_checksum_v6(&self, src: IpAddr, dst: IpAddr) -> bool {
        let b = self.buffer.as_ref();
        let pseudo = super::checksum::pseudo(src, dst, super::ipv4::proto::ICMPV6, b.len() as u32);
        super::checksum::fold(super::checksum::combine(pseudo, super::checksum::sum(b))) == 0
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The body after the 8-byte header.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    #[inline]
    pub fn set_msg_type(&mut self, v: u8) {
        self.buffer.as_mut()[field::TYPE] = v;
    }
    #[inline]
    pub fn set_msg_code(&mut self, v: u8) {
        self.buffer.as_mut()[field::CODE] = v;
    }
    #[inline]
    pub fn set_checksum(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::CHECKSUM, v);
    }
    #[inline]
    pub fn set_echo_ident(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::ECHO_IDENT, v);
    }
    #[inline]
    pub fn set_echo_seq_no(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::ECHO_SEQNO, v);
    }
    /// The body, to write.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
    /// Computes an ICMPv4 checksum over the whole buffer and writes it.
    #[inline]
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = super::checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }
    /// Computes an ICMPv6 checksum over the whole buffer with this pseudo-header and
    /// writes it.
    #[inline]
    pub fn fill_checksum_v6(&mut self, src: IpAddr, dst: IpAddr) {
        self.set_checksum(0);
        let b = self.buffer.as_ref();
        let pseudo = super::checksum::pseudo(src, dst, super::ipv4::proto::ICMPV6, b.len() as u32);
        let c = super::checksum::fold(super::checksum::combine(pseudo, super::checksum::sum(b)));
        self.set_checksum(c);
    }
}

/// ICMPv4 types with names.
pub mod v4 {
    pub const ECHO_REPLY: u8 = 0;
    pub const DEST_UNREACH: u8 = 3;
    pub const SOURCE_QUENCH: u8 = 4;
    pub const REDIRECT: u8 = 5;
    pub const ECHO_REQUEST: u8 = 8;
    pub const TIME_EXCEEDED: u8 = 11;
    pub const PARAM_PROBLEM: u8 = 12;
    pub const TIMESTAMP: u8 = 13;
    pub const TIMESTAMP_REPLY: u8 = 14;

    /// Types whose body quotes the offending datagram.
    pub fn is_error(t: u8) -> bool {
        matches!(
            t,
            DEST_UNREACH | SOURCE_QUENCH | REDIRECT | TIME_EXCEEDED | PARAM_PROBLEM
        )
    }
}

/// ICMPv6 types with names.
pub mod v6 {
    pub const DEST_UNREACH: u8 = 1;
    pub const PACKET_TOO_BIG: u8 = 2;
    pub const TIME_EXCEEDED: u8 = 3;
    pub const PARAM_PROBLEM: u8 = 4;
    pub const ECHO_REQUEST: u8 = 128;
    pub const ECHO_REPLY: u8 = 129;
    pub const ROUTER_SOLICIT: u8 = 133;
    pub const ROUTER_ADVERT: u8 = 134;
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    pub const NEIGHBOR_ADVERT: u8 = 136;

    pub fn is_error(t: u8) -> bool {
        t < 128
    }
}

/// One ICMP header; the same shape serves ICMPv4 and ICMPv6.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IcmpRepr {
    pub r#type: u8,
    pub code: u8,
    pub chksum: Option<u16>,
    /// Header bytes 4..6.
    pub id: u16,
    /// Header bytes 6..8.
    pub seq: u16,
}

/// ICMPv6 has the same header layout; the type keeps the layers apart.
pub type Icmpv6Repr = IcmpRepr;

impl Default for IcmpRepr {
    /// scapy's default: echo request (type 8 for ICMP; ICMPv6 layers use 128).
    fn default() -> Self {
        IcmpRepr {
            r#type: v4::ECHO_REQUEST,
            code: 0,
            chksum: None,
            id: 0,
            seq: 0,
        }
    }
}

impl IcmpRepr {
    pub fn default_v6() -> Self {
        IcmpRepr {
            r#type: v6::ECHO_REQUEST,
            ..Default::default()
        }
    }

    /// Bytes 4..8 as one 32-bit value (MTU for packet-too-big, gateway for redirect).
    pub fn rest(&self) -> u32 {
        (u32::from(self.id) << 16) | u32::from(self.seq)
    }

    pub fn emit_header(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + HEADER_LEN, 0);
        let mut p = Packet::new_unchecked(&mut out[start..]);
        p.set_msg_type(self.r#type);
        p.set_msg_code(self.code);
        p.set_checksum(self.chksum.unwrap_or(0));
        p.set_echo_ident(self.id);
        p.set_echo_seq_no(self.seq);
    }

    pub fn parse(b: &[u8], notes: &mut Vec<Note>, base: usize, v6: bool) -> Option<IcmpRepr> {
        if b.len() < HEADER_LEN {
            let what = if v6 { "ICMPv6" } else { "ICMP" };
            notes.push(Note::new(
                base,
                format!("{what} header truncated: {} of 8 bytes", b.len()),
            ));
            return None;
        }
        // The header is present: the view's accessors cannot panic.
        let p = Packet::new_unchecked(b);
        Some(IcmpRepr {
            r#type: p.msg_type(),
            code: p.msg_code(),
            chksum: Some(p.checksum()),
            id: p.echo_ident(),
            seq: p.echo_seq_no(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Error;

    /// An echo request, id 0x1234, seq 0xabcd, 4 bytes of data (by scapy).
    static PACKET_BYTES: [u8; 12] = [
        0x08, 0x00, 0x8e, 0xfe, 0x12, 0x34, 0xab, 0xcd, 0xaa, 0x00, 0x00, 0xff,
    ];

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(p.msg_type(), v4::ECHO_REQUEST);
        assert_eq!(p.msg_code(), 0);
        assert_eq!(p.checksum(), 0x8efe);
        assert_eq!(p.echo_ident(), 0x1234);
        assert_eq!(p.echo_seq_no(), 0xabcd);
        assert_eq!(p.rest(), 0x1234_abcd);
        assert_eq!(p.payload(), &PACKET_BYTES[8..]);
        assert!(p.verify_checksum());
    }

    #[test]
    fn construct() {
        let mut bytes = [0xa5u8; 12];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_msg_type(v4::ECHO_REQUEST);
        p.set_msg_code(0);
        p.set_echo_ident(0x1234);
        p.set_echo_seq_no(0xabcd);
        p.payload_mut().copy_from_slice(&PACKET_BYTES[8..]);
        p.fill_checksum();
        assert_eq!(&bytes[..], &PACKET_BYTES[..]);
    }

    #[test]
    fn truncated() {
        for n in 0..8 {
            assert_eq!(
                Packet::new_checked(&PACKET_BYTES[..n]),
                Err(Error::Truncated)
            );
        }
    }

    #[test]
    fn parse_emit() {
        let repr = IcmpRepr::parse(&PACKET_BYTES, &mut Vec::new(), 0, false).unwrap();
        let mut out = vec![0xa5];
        repr.emit_header(&mut out);
        assert_eq!(&out[1..], &PACKET_BYTES[..8]);
    }
}
