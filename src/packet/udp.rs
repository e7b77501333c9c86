//! UDP header (RFC 768).

use std::net::IpAddr;

use super::{get16, put16, Error, Note};

/// The UDP header's byte ranges (RFC 768), written once.
pub mod field {
    use crate::packet::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
    pub const HEADER_LEN: usize = 8;
}

/// Bytes of the UDP header.
pub const HEADER_LEN: usize = field::HEADER_LEN;

/// A zero-copy view of a UDP datagram.
///
/// `new_checked` verifies that the 8-byte header is present: then no accessor can panic.
/// The length field is not trusted: [`Packet::payload`] clamps it to the buffer.
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
    pub fn src_port(&self) -> u16 {
        get16(self.buffer.as_ref(), field::SRC_PORT)
    }
    #[inline]
    pub fn dst_port(&self) -> u16 {
        get16(self.buffer.as_ref(), field::DST_PORT)
    }
    /// The length field (header and payload), as on the wire.
    #[inline]
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u16 {
        get16(self.buffer.as_ref(), field::LENGTH)
    }
    #[inline]
    pub fn checksum(&self) -> u16 {
        get16(self.buffer.as_ref(), field::CHECKSUM)
    }
    /// Does the checksum verify over the whole buffer with this pseudo-header? (A zero
    /// checksum over IPv4 means "none" and verifies.)
    #[inline]
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        if src.is_ipv4() && self.checksum() == 0 {
            return true;
        }
        let b = self.buffer.as_ref();
        let pseudo = super::checksum::pseudo(src, dst, super::ipv4::proto::UDP, b.len() as u32);
        super::checksum::fold(super::checksum::combine(pseudo, super::checksum::sum(b))) == 0
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// What the length field covers after the header, clamped to the buffer (a length
    /// below 8 covers nothing).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        let b = self.buffer.as_ref();
        let end = usize::from(self.len()).clamp(field::HEADER_LEN, b.len());
        &b[field::HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    #[inline]
    pub fn set_src_port(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::SRC_PORT, v);
    }
    #[inline]
    pub fn set_dst_port(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::DST_PORT, v);
    }
    #[inline]
    pub fn set_len(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::LENGTH, v);
    }
    #[inline]
    pub fn set_checksum(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::CHECKSUM, v);
    }
    /// The bytes after the header, to write (to the end of the buffer).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::HEADER_LEN..]
    }
    /// Computes the checksum over the whole buffer with this pseudo-header and writes it
    /// (a computed zero goes out as 0xffff, RFC 768).
    #[inline]
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        self.set_checksum(0);
        let b = self.buffer.as_ref();
        let pseudo = super::checksum::pseudo(src, dst, super::ipv4::proto::UDP, b.len() as u32);
        let c = super::checksum::fold(super::checksum::combine(pseudo, super::checksum::sum(b)));
        self.set_checksum(if c == 0 { 0xffff } else { c });
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpRepr {
    pub sport: u16,
    pub dport: u16,
    /// Header + payload length; `None`: computed.
    pub len: Option<u16>,
    /// `None`: computed (over IPv4 a computed zero is sent as 0xffff, RFC 768).
    pub chksum: Option<u16>,
}

impl Default for UdpRepr {
    /// scapy's defaults: ports 53/53.
    fn default() -> Self {
        UdpRepr {
            sport: 53,
            dport: 53,
            len: None,
            chksum: None,
        }
    }
}

impl UdpRepr {
    pub fn emit_header(&self, out: &mut Vec<u8>, len: u16) {
        let start = out.len();
        out.resize(start + HEADER_LEN, 0);
        let mut p = Packet::new_unchecked(&mut out[start..]);
        p.set_src_port(self.sport);
        p.set_dst_port(self.dport);
        p.set_len(len);
        p.set_checksum(self.chksum.unwrap_or(0));
    }

    /// Parses the header; returns it and the payload length the length field allows
    /// (clamped to what is present).
    pub fn parse(b: &[u8], notes: &mut Vec<Note>, base: usize) -> Option<(UdpRepr, usize)> {
        if b.len() < HEADER_LEN {
            notes.push(Note::new(
                base,
                format!("UDP header truncated: {} of 8 bytes", b.len()),
            ));
            return None;
        }
        // The header is present: the view's accessors cannot panic.
        let p = Packet::new_unchecked(b);
        let len = p.len();
        let avail = b.len() - HEADER_LEN;
        let payload = usize::from(len).saturating_sub(HEADER_LEN);
        if usize::from(len) < HEADER_LEN {
            notes.push(Note::new(
                base + field::LENGTH.start,
                format!("UDP length {len} < 8"),
            ));
        } else if payload > avail {
            notes.push(Note::new(
                base + b.len(),
                format!("truncated: UDP length {len}, {} bytes present", b.len()),
            ));
        }
        let payload = if usize::from(len) < HEADER_LEN {
            avail
        } else {
            payload.min(avail)
        };
        Some((
            UdpRepr {
                sport: p.src_port(),
                dport: p.dst_port(),
                len: Some(len),
                chksum: Some(p.checksum()),
            },
            payload,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Error;

    const SRC: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 0, 1));
    const DST: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 0, 2));

    /// 48896 → 53 with 4 bytes of payload (198.18.0.1 → 198.18.0.2; checksum by scapy).
    static PACKET_BYTES: [u8; 12] = [
        0xbf, 0x00, 0x00, 0x35, 0x00, 0x0c, 0x09, 0x79, 0xaa, 0x00, 0x00, 0xff,
    ];

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(p.src_port(), 48896);
        assert_eq!(p.dst_port(), 53);
        assert_eq!(p.len(), 12);
        assert_eq!(p.checksum(), 0x0979);
        assert_eq!(p.payload(), &PACKET_BYTES[8..]);
        assert!(p.verify_checksum(SRC, DST));
    }

    #[test]
    fn construct() {
        let mut bytes = [0xa5u8; 12];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_src_port(48896);
        p.set_dst_port(53);
        p.set_len(12);
        p.payload_mut().copy_from_slice(&PACKET_BYTES[8..]);
        p.fill_checksum(SRC, DST);
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
        // Lengths past the buffer or below the header are clamped.
        let p = Packet::new_checked(&PACKET_BYTES[..10]).unwrap();
        assert_eq!(p.payload(), &PACKET_BYTES[8..10]);
        let mut b = PACKET_BYTES;
        b[field::LENGTH.start..field::LENGTH.end].copy_from_slice(&[0, 3]);
        assert!(Packet::new_checked(&b[..]).unwrap().payload().is_empty());
    }

    #[test]
    fn parse_emit() {
        let (repr, plen) = UdpRepr::parse(&PACKET_BYTES, &mut Vec::new(), 0).unwrap();
        assert_eq!(plen, 4);
        let mut out = vec![0xa5];
        repr.emit_header(&mut out, 12);
        assert_eq!(&out[1..], &PACKET_BYTES[..8]);
    }
}
