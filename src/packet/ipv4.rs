//! IPv4 header (RFC 791), lossless: options kept as raw bytes, reserved flag bit kept.

use std::net::Ipv4Addr;

use super::{get16, put16, Error, Note};

/// The IPv4 header's byte ranges (RFC 791 §3.1), written once: the view, the lossless
/// parser and emitter, the reply matcher and the probe builder all read them from here.
pub mod field {
    use crate::packet::Field;
    /// Version (high nibble) and IHL (low nibble).
    pub const VER_IHL: usize = 0;
    /// Type of service: DSCP (6 bits) and ECN (2 bits).
    pub const TOS: usize = 1;
    pub const LENGTH: Field = 2..4;
    pub const IDENT: Field = 4..6;
    /// Flags (3 bits) and fragment offset (13 bits).
    pub const FLG_OFF: Field = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Field = 10..12;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;
    pub const HEADER_LEN: usize = 20;

    /// The options of a header `header_len` bytes long.
    #[allow(non_snake_case)]
    pub const fn OPTIONS(header_len: usize) -> Field {
        HEADER_LEN..header_len
    }
}

/// Bytes of the IPv4 header without options.
pub const HEADER_LEN: usize = field::HEADER_LEN;

/// IP protocol numbers tcpcraft dissects.
pub mod proto {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const IPV6: u8 = 41;
    pub const ICMPV6: u8 = 58;
    pub const NONE6: u8 = 59;
}

/// IPv4 flag bits as they sit in the 3-bit field.
pub mod flag {
    pub const EVIL: u8 = 0b100;
    pub const DF: u8 = 0b010;
    pub const MF: u8 = 0b001;
}

/// A zero-copy view of an IPv4 header and what follows it.
///
/// `new_checked` verifies that the fixed header and the options (by the ihl) are present
/// and that the ihl is at least 5: then no accessor can panic. The total length is not
/// trusted: [`Packet::payload`] clamps it to the buffer and to the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without checks: the caller makes sure the header is there (accessors index
    /// the buffer and panic otherwise).
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// A view of untrusted bytes; see [`Packet::check_len`].
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// `Truncated` when fewer than 20 bytes or fewer than the ihl says are present;
    /// `Malformed` when the ihl is below 5.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < field::HEADER_LEN {
            return Err(Error::Truncated);
        }
        let hlen = self.header_len();
        if hlen < field::HEADER_LEN {
            Err(Error::Malformed)
        } else if hlen > len {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }
    /// The header length in 32-bit words, as on the wire (4 bits).
    #[inline]
    pub fn ihl(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] & 0x0f
    }
    /// The header length in bytes (ihl × 4).
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }
    #[inline]
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }
    #[inline]
    pub fn total_len(&self) -> u16 {
        get16(self.buffer.as_ref(), field::LENGTH)
    }
    #[inline]
    pub fn ident(&self) -> u16 {
        get16(self.buffer.as_ref(), field::IDENT)
    }
    /// The three flag bits: reserved (0b100), DF (0b010), MF (0b001).
    #[inline]
    pub fn flags(&self) -> u8 {
        (get16(self.buffer.as_ref(), field::FLG_OFF) >> 13) as u8
    }
    #[inline]
    pub fn dont_frag(&self) -> bool {
        self.flags() & flag::DF != 0
    }
    #[inline]
    pub fn more_frags(&self) -> bool {
        self.flags() & flag::MF != 0
    }
    /// The fragment offset in 8-byte units.
    #[inline]
    pub fn frag_offset(&self) -> u16 {
        get16(self.buffer.as_ref(), field::FLG_OFF) & 0x1fff
    }
    #[inline]
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }
    #[inline]
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }
    #[inline]
    pub fn checksum(&self) -> u16 {
        get16(self.buffer.as_ref(), field::CHECKSUM)
    }
    #[inline]
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::SRC_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }
    #[inline]
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::DST_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }
    /// Does the header checksum verify (over `header_len` bytes)? False when the ihl is
    /// below 5 or beyond the buffer.
    #[inline]
    pub fn verify_checksum(&self) -> bool {
        let hlen = self.header_len();
        match self.buffer.as_ref().get(..hlen) {
            Some(h) if hlen >= field::HEADER_LEN => header_sum(h) == 0,
            _ => false,
        }
    }
    /// The end of the datagram: the total length, clamped to the header and the buffer.
    #[inline]
    pub fn payload_end(&self) -> usize {
        let len = self.buffer.as_ref().len();
        usize::from(self.total_len()).clamp(self.header_len().min(len), len)
    }
}

/// The checksum of a header: the fixed part (a constant length the
/// compiler unrolls) and the options.
#[inline(always)]
fn header_sum(h: &[u8]) -> u16 {
    use super::checksum::{checksum, combine, fold, sum};
    match h.split_at_checked(field::HEADER_LEN) {
        Some((fixed, options)) => fold(combine(sum(fixed), sum(options))),
        None => checksum(h),
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The option bytes (with their padding).
    #[inline]
    pub fn options(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::OPTIONS(self.header_len())]
    }
    /// What the total length covers after the header (clamped to the buffer).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        let end = self.payload_end();
        &self.buffer.as_ref()[self.header_len()..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version and ihl (each 4 bits).
    #[inline]
    pub fn set_version_ihl(&mut self, version: u8, ihl: u8) {
        self.buffer.as_mut()[field::VER_IHL] = ((version & 0x0f) << 4) | (ihl & 0x0f);
    }
    #[inline]
    pub fn set_tos(&mut self, v: u8) {
        self.buffer.as_mut()[field::TOS] = v;
    }
    #[inline]
    pub fn set_total_len(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::LENGTH, v);
    }
    #[inline]
    pub fn set_ident(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::IDENT, v);
    }
    /// Sets the three flag bits and the 13-bit fragment offset.
    #[inline]
    pub fn set_flags_frag(&mut self, flags: u8, offset: u16) {
        let v = (u16::from(flags & 7) << 13) | (offset & 0x1fff);
        put16(self.buffer.as_mut(), field::FLG_OFF, v);
    }
    #[inline]
    pub fn set_ttl(&mut self, v: u8) {
        self.buffer.as_mut()[field::TTL] = v;
    }
    #[inline]
    pub fn set_protocol(&mut self, v: u8) {
        self.buffer.as_mut()[field::PROTOCOL] = v;
    }
    #[inline]
    pub fn set_checksum(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::CHECKSUM, v);
    }
    #[inline]
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&a.octets());
    }
    #[inline]
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&a.octets());
    }
    /// The option bytes, to write.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let r = field::OPTIONS(self.header_len());
        &mut self.buffer.as_mut()[r]
    }
    /// The bytes after the header, to write (to the end of the buffer).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let h = self.header_len();
        &mut self.buffer.as_mut()[h..]
    }
    /// Computes the header checksum (over `header_len` bytes) and writes it.
    #[inline]
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let h = self.header_len();
        let c = header_sum(&self.buffer.as_ref()[..h]);
        self.set_checksum(c);
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv4Repr {
    /// 4 bits; anything but 4 is a crafted oddity.
    pub version: u8,
    /// Header length in 32-bit words; `None`: computed from the options.
    pub ihl: Option<u8>,
    pub tos: u8,
    /// Total length; `None`: header + payload.
    pub len: Option<u16>,
    pub id: u16,
    /// 3 bits: reserved (0b100), DF (0b010), MF (0b001).
    pub flags: u8,
    /// Fragment offset in 8-byte units (13 bits).
    pub frag: u16,
    pub ttl: u8,
    /// `None`: from the next layer (TCP 6, UDP 17, ICMP 1, IPv6 41; else 0).
    pub proto: Option<u8>,
    pub chksum: Option<u16>,
    /// `None`: 0.0.0.0 when built; the engine fills in the route's source when sending.
    pub src: Option<Ipv4Addr>,
    pub dst: Ipv4Addr,
    /// Option bytes (with their padding), verbatim.
    pub options: Vec<u8>,
}

impl Default for Ipv4Repr {
    /// scapy's defaults: id 1, ttl 64, dst 127.0.0.1.
    fn default() -> Self {
        Ipv4Repr {
            version: 4,
            ihl: None,
            tos: 0,
            len: None,
            id: 1,
            flags: 0,
            frag: 0,
            ttl: 64,
            proto: None,
            chksum: None,
            src: None,
            dst: Ipv4Addr::LOCALHOST,
            options: Vec::new(),
        }
    }
}

impl Ipv4Repr {
    pub fn header_len(&self) -> usize {
        // Options shorter than a multiple of 4 are zero-padded (as scapy does) unless the
        // header length was given (or parsed): then the bytes go out exactly as they are.
        match self.ihl {
            None => field::HEADER_LEN + self.options.len().div_ceil(4) * 4,
            Some(_) => field::HEADER_LEN + self.options.len(),
        }
    }

    pub fn wire_ihl(&self) -> u8 {
        self.ihl.unwrap_or(((self.header_len() / 4) & 0x0f) as u8)
    }

    /// The destination a TCP/UDP checksum's pseudo-header uses: with one loose or strict
    /// source route option (LSRR 131, SSRR 137) naming at least one address, the last
    /// address of the route (the final destination, RFC 791 and RFC 9293 §3.1), as scapy
    /// does; otherwise (no route, or more than one) the header's destination.
    pub fn pseudo_dst(&self) -> Ipv4Addr {
        let mut found = None;
        let mut count = 0;
        let o = &self.options;
        let mut i = 0;
        while i < o.len() {
            let kind = o[i];
            if kind == 0 {
                break;
            }
            if kind == 1 {
                i += 1;
                continue;
            }
            let Some(&len) = o.get(i + 1) else { break };
            let len = usize::from(len);
            if len < 2 || i + len > o.len() {
                break;
            }
            if kind == 131 || kind == 137 {
                count += 1;
                let route = &o[i + 3.min(len)..i + len];
                if route.len() >= 4 {
                    let last = &route[(route.len() / 4 - 1) * 4..][..4];
                    found = Some(Ipv4Addr::new(last[0], last[1], last[2], last[3]));
                }
            }
            i += len;
        }
        match (count, found) {
            (1, Some(a)) => a,
            _ => self.dst,
        }
    }

    pub fn dscp(&self) -> u8 {
        self.tos >> 2
    }
    pub fn ecn(&self) -> u8 {
        self.tos & 3
    }
    pub fn df(&self) -> bool {
        self.flags & flag::DF != 0
    }
    pub fn mf(&self) -> bool {
        self.flags & flag::MF != 0
    }

    /// Writes the header; `len`, `proto` and `chksum` are the resolved values.
    pub fn emit_header(&self, out: &mut Vec<u8>, len: u16, proto: u8) {
        let start = out.len();
        let hlen = self.header_len();
        out.resize(start + hlen, 0);
        let mut p = Packet::new_unchecked(&mut out[start..]);
        p.set_version_ihl(self.version, self.wire_ihl());
        p.set_tos(self.tos);
        p.set_total_len(len);
        p.set_ident(self.id);
        p.set_flags_frag(self.flags, self.frag);
        p.set_ttl(self.ttl);
        p.set_protocol(proto);
        p.set_checksum(self.chksum.unwrap_or(0));
        p.set_src_addr(self.src.unwrap_or(Ipv4Addr::UNSPECIFIED));
        p.set_dst_addr(self.dst);
        // Options, then zero padding (already there) up to the header length.
        let b = p.into_inner();
        b[field::OPTIONS(field::HEADER_LEN + self.options.len())].copy_from_slice(&self.options);
        if self.chksum.is_none() {
            let c = super::checksum::checksum(b);
            put16(b, field::CHECKSUM, c);
        }
    }

    /// Parses an IPv4 header. Returns it, the header length taken, and the number of bytes
    /// the total length field says the payload has (clamped to what is present).
    pub fn parse(b: &[u8], notes: &mut Vec<Note>, base: usize) -> Option<(Ipv4Repr, usize, usize)> {
        if b.len() < field::HEADER_LEN {
            notes.push(Note::new(
                base,
                format!("IPv4 header truncated: {} of 20 bytes", b.len()),
            ));
            return None;
        }
        // The fixed header is present: the view's accessors of it cannot panic.
        let p = Packet::new_unchecked(b);
        let ihl = p.ihl();
        let hlen = p.header_len();
        let end = if hlen < field::HEADER_LEN {
            notes.push(Note::new(base, format!("IPv4 ihl {ihl} < 5")));
            field::HEADER_LEN
        } else if hlen > b.len() {
            notes.push(Note::new(
                base,
                format!(
                    "IPv4 ihl {ihl} ({hlen} bytes) beyond the {} present",
                    b.len()
                ),
            ));
            b.len()
        } else {
            hlen
        };
        let len = p.total_len();
        let repr = Ipv4Repr {
            version: p.version(),
            ihl: Some(ihl),
            tos: p.tos(),
            len: Some(len),
            id: p.ident(),
            flags: p.flags(),
            frag: p.frag_offset(),
            ttl: p.ttl(),
            proto: Some(p.protocol()),
            chksum: Some(p.checksum()),
            src: Some(p.src_addr()),
            dst: p.dst_addr(),
            options: b[field::OPTIONS(end)].to_vec(),
        };
        let total = usize::from(len);
        let payload = if total < end {
            notes.push(Note::new(
                base + field::LENGTH.start,
                format!("IPv4 total length {total} < header length {end}"),
            ));
            b.len() - end
        } else if total > b.len() {
            notes.push(Note::new(
                base + b.len(),
                format!(
                    "truncated: IPv4 total length {total}, {} bytes captured",
                    b.len()
                ),
            ));
            b.len() - end
        } else {
            total - end
        };
        Some((repr, end, payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Error;

    /// 198.18.0.1 → 198.18.0.2 UDP, tos 0xb8, id 0x1234, DF, a router alert option, two
    /// bytes of payload (by scapy).
    static PACKET_BYTES: [u8; 34] = [
        0x46, 0xb8, 0x00, 0x22, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x06, 0xb3, 0xc6, 0x12, 0x00,
        0x01, 0xc6, 0x12, 0x00, 0x02, 0x94, 0x04, 0x00, 0x00, 0x9c, 0x40, 0x00, 0x35, 0x00, 0x0a,
        0x2c, 0x81, 0xaa, 0xbb,
    ];
    static OPTION_BYTES: [u8; 4] = [0x94, 0x04, 0x00, 0x00];

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.ihl(), 6);
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.tos(), 0xb8);
        assert_eq!(p.total_len(), 34);
        assert_eq!(p.ident(), 0x1234);
        assert!(p.dont_frag());
        assert!(!p.more_frags());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), proto::UDP);
        assert_eq!(p.checksum(), 0x06b3);
        assert_eq!(p.src_addr(), Ipv4Addr::new(198, 18, 0, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(198, 18, 0, 2));
        assert!(p.verify_checksum());
        assert_eq!(p.options(), &OPTION_BYTES[..]);
        assert_eq!(p.payload(), &PACKET_BYTES[24..]);
    }

    #[test]
    fn construct() {
        let mut bytes = [0xa5u8; 34];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_version_ihl(4, 6);
        p.set_tos(0xb8);
        p.set_total_len(34);
        p.set_ident(0x1234);
        p.set_flags_frag(flag::DF, 0);
        p.set_ttl(64);
        p.set_protocol(proto::UDP);
        p.set_src_addr(Ipv4Addr::new(198, 18, 0, 1));
        p.set_dst_addr(Ipv4Addr::new(198, 18, 0, 2));
        p.options_mut().copy_from_slice(&OPTION_BYTES);
        p.payload_mut().copy_from_slice(&PACKET_BYTES[24..]);
        p.fill_checksum();
        assert_eq!(&bytes[..], &PACKET_BYTES[..]);
    }

    #[test]
    fn truncated_and_malformed() {
        for n in 0..24 {
            assert_eq!(
                Packet::new_checked(&PACKET_BYTES[..n]),
                Err(Error::Truncated),
                "{n} bytes"
            );
        }
        let mut b = PACKET_BYTES;
        b[field::VER_IHL] = 0x44;
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Malformed));
        // A total length past the capture, or below the header, is clamped, not trusted.
        let mut b = PACKET_BYTES;
        b[field::LENGTH.start..field::LENGTH.end].copy_from_slice(&[0xff, 0xff]);
        assert_eq!(Packet::new_checked(&b[..]).unwrap().payload().len(), 10);
        b[field::LENGTH.start..field::LENGTH.end].copy_from_slice(&[0, 3]);
        assert_eq!(Packet::new_checked(&b[..]).unwrap().payload(), &[] as &[u8]);
    }

    #[test]
    fn parse_emit() {
        let (repr, hlen, plen) = Ipv4Repr::parse(&PACKET_BYTES, &mut Vec::new(), 0).unwrap();
        assert_eq!((hlen, plen), (24, 10));
        assert_eq!(repr.options, OPTION_BYTES);
        let mut out = vec![0xa5];
        repr.emit_header(&mut out, 34, proto::UDP);
        assert_eq!(&out[1..], &PACKET_BYTES[..24]);
    }
}
