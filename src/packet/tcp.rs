//! TCP header (RFC 9293 §3.1) and options, lossless.
//!
//! Options are kept in wire order, NOP/EOL included; unknown kinds keep their bytes; a
//! malformed tail (bad length) is kept verbatim as `TcpOption::Raw`. Bytes after an EOL are
//! kept in `padding` so that `emit(parse(b)) == b` even when they are not zero.

use super::flags::TcpFlags;
use super::{get16, get32, put16, put32, Error, Note};
use std::net::IpAddr;

/// The TCP header's byte ranges (RFC 9293 §3.1), written once.
pub mod field {
    use crate::packet::{Field, Rest};
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const SEQ_NUM: Field = 4..8;
    pub const ACK_NUM: Field = 8..12;
    /// Data offset (high nibble), three reserved bits and NS (low bit).
    pub const DATA_OFF: usize = 12;
    /// The eight flag bits CWR ECE URG ACK PSH RST SYN FIN.
    pub const FLAGS: usize = 13;
    pub const WIN_SIZE: Field = 14..16;
    pub const CHECKSUM: Field = 16..18;
    pub const URGENT: Field = 18..20;
    pub const HEADER_LEN: usize = 20;

    /// The options of a header `header_len` bytes long.
    #[allow(non_snake_case)]
    pub const fn OPTIONS(header_len: usize) -> Field {
        HEADER_LEN..header_len
    }
    /// The payload of a segment whose header is `header_len` bytes long.
    #[allow(non_snake_case)]
    pub const fn PAYLOAD(header_len: usize) -> Rest {
        header_len..
    }
}

/// Bytes of the TCP header without options.
pub const HEADER_LEN: usize = field::HEADER_LEN;

/// Option kinds with a name (IANA "TCP Option Kind Numbers").
pub mod kind {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WSCALE: u8 = 3;
    pub const SACK_OK: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMP: u8 = 8;
    pub const MD5: u8 = 19;
    pub const USER_TIMEOUT: u8 = 28;
    pub const TCP_AO: u8 = 29;
    pub const MPTCP: u8 = 30;
    pub const TFO: u8 = 34;
}

/// One TCP option as it appears on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpOption {
    Eol,
    Nop,
    Mss(u16),
    Wscale(u8),
    SackOk,
    /// 1–4 blocks of (left edge, right edge); more are emitted if asked (a crafted oddity).
    Sack(Vec<(u32, u32)>),
    /// (TSval, TSecr)
    Timestamp(u32, u32),
    /// Any other kind (TFO cookie, MD5 signature, …): kind, then data (length byte implied).
    Unknown {
        kind: u8,
        data: Vec<u8>,
    },
    /// Bytes that do not form a well-formed option, sent verbatim.
    Raw(Vec<u8>),
}

impl TcpOption {
    pub fn kind(&self) -> Option<u8> {
        Some(match self {
            TcpOption::Eol => kind::EOL,
            TcpOption::Nop => kind::NOP,
            TcpOption::Mss(_) => kind::MSS,
            TcpOption::Wscale(_) => kind::WSCALE,
            TcpOption::SackOk => kind::SACK_OK,
            TcpOption::Sack(_) => kind::SACK,
            TcpOption::Timestamp(..) => kind::TIMESTAMP,
            TcpOption::Unknown { kind, .. } => *kind,
            TcpOption::Raw(_) => return None,
        })
    }

    /// Bytes this option takes on the wire.
    pub fn wire_len(&self) -> usize {
        match self {
            TcpOption::Eol | TcpOption::Nop => 1,
            TcpOption::Mss(_) => 4,
            TcpOption::Wscale(_) => 3,
            TcpOption::SackOk => 2,
            TcpOption::Sack(b) => 2 + 8 * b.len(),
            TcpOption::Timestamp(..) => 10,
            TcpOption::Unknown { data, .. } => 2 + data.len(),
            TcpOption::Raw(b) => b.len(),
        }
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        match self {
            TcpOption::Eol => out.push(kind::EOL),
            TcpOption::Nop => out.push(kind::NOP),
            TcpOption::Mss(v) => {
                out.extend_from_slice(&[kind::MSS, 4]);
                out.extend_from_slice(&v.to_be_bytes());
            }
            TcpOption::Wscale(v) => out.extend_from_slice(&[kind::WSCALE, 3, *v]),
            TcpOption::SackOk => out.extend_from_slice(&[kind::SACK_OK, 2]),
            TcpOption::Sack(blocks) => {
                out.extend_from_slice(&[kind::SACK, (2 + 8 * blocks.len()) as u8]);
                for (l, r) in blocks {
                    out.extend_from_slice(&l.to_be_bytes());
                    out.extend_from_slice(&r.to_be_bytes());
                }
            }
            TcpOption::Timestamp(a, b) => {
                out.extend_from_slice(&[kind::TIMESTAMP, 10]);
                out.extend_from_slice(&a.to_be_bytes());
                out.extend_from_slice(&b.to_be_bytes());
            }
            TcpOption::Unknown { kind, data } => {
                out.push(*kind);
                out.push((2 + data.len()) as u8);
                out.extend_from_slice(data);
            }
            TcpOption::Raw(b) => out.extend_from_slice(b),
        }
    }
}

/// Parses an options area. Returns the options (up to and including an EOL) and the bytes
/// after the EOL (padding), plus a note if something was malformed. Never panics.
pub fn parse_options(mut b: &[u8]) -> (Vec<TcpOption>, Vec<u8>, Option<String>) {
    let mut opts = Vec::new();
    while let Some(&k) = b.first() {
        match k {
            kind::EOL => {
                opts.push(TcpOption::Eol);
                return (opts, b[1..].to_vec(), None);
            }
            kind::NOP => {
                opts.push(TcpOption::Nop);
                b = &b[1..];
            }
            _ => {
                let len = match b.get(1) {
                    Some(&l) if l >= 2 && usize::from(l) <= b.len() => usize::from(l),
                    Some(&l) => {
                        let msg = format!("option kind {k} has bad length {l}");
                        opts.push(TcpOption::Raw(b.to_vec()));
                        return (opts, Vec::new(), Some(msg));
                    }
                    None => {
                        opts.push(TcpOption::Raw(b.to_vec()));
                        return (opts, Vec::new(), Some(format!("option kind {k} truncated")));
                    }
                };
                let data = &b[2..len];
                let o = match (k, data.len()) {
                    (kind::MSS, 2) => TcpOption::Mss(u16::from_be_bytes([data[0], data[1]])),
                    (kind::WSCALE, 1) => TcpOption::Wscale(data[0]),
                    (kind::SACK_OK, 0) => TcpOption::SackOk,
                    (kind::SACK, n) if n % 8 == 0 && n > 0 => TcpOption::Sack(
                        data.chunks_exact(8)
                            .map(|c| {
                                (
                                    u32::from_be_bytes([c[0], c[1], c[2], c[3]]),
                                    u32::from_be_bytes([c[4], c[5], c[6], c[7]]),
                                )
                            })
                            .collect(),
                    ),
                    (kind::TIMESTAMP, 8) => TcpOption::Timestamp(
                        u32::from_be_bytes([data[0], data[1], data[2], data[3]]),
                        u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
                    ),
                    _ => TcpOption::Unknown {
                        kind: k,
                        data: data.to_vec(),
                    },
                };
                opts.push(o);
                b = &b[len..];
            }
        }
    }
    (opts, Vec::new(), None)
}

/// A zero-copy view of a TCP segment (header, options, payload).
///
/// `new_checked` verifies that the 20-byte header and the options (by the data offset)
/// are present and that the data offset is at least 5: then no accessor can panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without checks: the caller makes sure the header is there.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// A view of untrusted bytes; see [`Packet::check_len`].
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// `Truncated` when fewer than 20 bytes or fewer than the data offset says are
    /// present; `Malformed` when the data offset is below 5.
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
    pub fn src_port(&self) -> u16 {
        get16(self.buffer.as_ref(), field::SRC_PORT)
    }
    #[inline]
    pub fn dst_port(&self) -> u16 {
        get16(self.buffer.as_ref(), field::DST_PORT)
    }
    #[inline]
    pub fn seq_number(&self) -> u32 {
        get32(self.buffer.as_ref(), field::SEQ_NUM)
    }
    #[inline]
    pub fn ack_number(&self) -> u32 {
        get32(self.buffer.as_ref(), field::ACK_NUM)
    }
    /// The data offset in 32-bit words, as on the wire (4 bits).
    #[inline]
    pub fn data_offset(&self) -> u8 {
        self.buffer.as_ref()[field::DATA_OFF] >> 4
    }
    /// The header length in bytes (data offset × 4).
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset()) * 4
    }
    /// The three reserved bits between the data offset and NS.
    #[inline]
    pub fn reserved(&self) -> u8 {
        (self.buffer.as_ref()[field::DATA_OFF] >> 1) & 7
    }
    /// The nine flag bits (NS and the eight of byte 13).
    #[inline]
    pub fn flags(&self) -> TcpFlags {
        let b = self.buffer.as_ref();
        TcpFlags((u16::from(b[field::DATA_OFF] & 1) << 8) | u16::from(b[field::FLAGS]))
    }
    #[inline]
    pub fn window_len(&self) -> u16 {
        get16(self.buffer.as_ref(), field::WIN_SIZE)
    }
    #[inline]
    pub fn checksum(&self) -> u16 {
        get16(self.buffer.as_ref(), field::CHECKSUM)
    }
    #[inline]
    pub fn urgent_at(&self) -> u16 {
        get16(self.buffer.as_ref(), field::URGENT)
    }
    /// Does the checksum verify over the whole buffer with this pseudo-header?
    #[inline]
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        let b = self.buffer.as_ref();
        let pseudo = super::checksum::pseudo(src, dst, super::ipv4::proto::TCP, b.len() as u32);
        super::checksum::fold(super::checksum::combine(pseudo, super::checksum::sum(b))) == 0
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The option bytes (after the 20-byte header, up to the data offset).
    #[inline]
    pub fn options(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::OPTIONS(self.header_len())]
    }
    /// The bytes after the header.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD(self.header_len())]
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
    pub fn set_seq_number(&mut self, v: u32) {
        put32(self.buffer.as_mut(), field::SEQ_NUM, v);
    }
    #[inline]
    pub fn set_ack_number(&mut self, v: u32) {
        put32(self.buffer.as_mut(), field::ACK_NUM, v);
    }
    /// Writes the data offset (4 bits), the reserved bits (3) and the nine flag bits
    /// (bytes 12 and 13 together).
    #[inline]
    pub fn set_offset_flags(&mut self, data_offset: u8, reserved: u8, flags: TcpFlags) {
        let b = self.buffer.as_mut();
        let f = flags.0;
        b[field::DATA_OFF] = (data_offset << 4) | ((reserved & 7) << 1) | ((f >> 8) as u8 & 1);
        b[field::FLAGS] = f as u8;
    }
    #[inline]
    pub fn set_window_len(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::WIN_SIZE, v);
    }
    #[inline]
    pub fn set_checksum(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::CHECKSUM, v);
    }
    #[inline]
    pub fn set_urgent_at(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::URGENT, v);
    }
    /// The option bytes, to write.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let r = field::OPTIONS(self.header_len());
        &mut self.buffer.as_mut()[r]
    }
    /// The payload, to write.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let r = field::PAYLOAD(self.header_len());
        &mut self.buffer.as_mut()[r]
    }
    /// Computes the checksum over the whole buffer with this pseudo-header and writes it.
    #[inline]
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        self.set_checksum(0);
        let b = self.buffer.as_ref();
        let pseudo = super::checksum::pseudo(src, dst, super::ipv4::proto::TCP, b.len() as u32);
        let c = super::checksum::fold(super::checksum::combine(pseudo, super::checksum::sum(b)));
        self.set_checksum(c);
    }
}

/// A TCP header. Computed fields are `Option`: `None` is filled in when building.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpRepr {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    /// Header length in 32-bit words; `None`: computed from the options.
    pub dataofs: Option<u8>,
    /// The three reserved bits (between data offset and NS).
    pub reserved: u8,
    pub flags: TcpFlags,
    pub window: u16,
    pub chksum: Option<u16>,
    pub urgptr: u16,
    pub options: Vec<TcpOption>,
    /// Bytes after the options up to the header end. `None`: zeros up to a multiple of 4.
    pub padding: Option<Vec<u8>>,
}

impl Default for TcpRepr {
    /// scapy's defaults: sport 20, dport 80, flags S, window 8192.
    fn default() -> Self {
        TcpRepr {
            sport: 20,
            dport: 80,
            seq: 0,
            ack: 0,
            dataofs: None,
            reserved: 0,
            flags: TcpFlags(TcpFlags::SYN),
            window: 8192,
            chksum: None,
            urgptr: 0,
            options: Vec::new(),
            padding: None,
        }
    }
}

impl TcpRepr {
    fn options_len(&self) -> usize {
        self.options.iter().map(TcpOption::wire_len).sum()
    }

    /// Bytes of header that `emit` writes (20 + options + padding).
    pub fn header_len(&self) -> usize {
        let o = self.options_len();
        let pad = match &self.padding {
            Some(p) => p.len(),
            None => (4 - o % 4) % 4,
        };
        field::HEADER_LEN + o + pad
    }

    /// The data offset that goes on the wire (given, or computed; 4 bits).
    pub fn wire_dataofs(&self) -> u8 {
        self.dataofs
            .unwrap_or(((self.header_len() / 4) & 0x0f) as u8)
    }

    /// Writes the header with the checksum field as given (or zero if `None`).
    pub fn emit_header(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + field::HEADER_LEN, 0);
        let mut p = Packet::new_unchecked(&mut out[start..]);
        p.set_src_port(self.sport);
        p.set_dst_port(self.dport);
        p.set_seq_number(self.seq);
        p.set_ack_number(self.ack);
        p.set_offset_flags(self.wire_dataofs(), self.reserved, self.flags);
        p.set_window_len(self.window);
        p.set_checksum(self.chksum.unwrap_or(0));
        p.set_urgent_at(self.urgptr);
        let start = out.len();
        for o in &self.options {
            o.emit(out);
        }
        match &self.padding {
            Some(p) => out.extend_from_slice(p),
            None => {
                let n = (4 - (out.len() - start) % 4) % 4;
                out.extend(std::iter::repeat_n(0u8, n));
            }
        }
    }

    /// Parses a TCP header from `b`. Returns the header and the number of bytes it took
    /// (the payload starts there). `None` when fewer than 20 bytes are present.
    pub fn parse(b: &[u8], notes: &mut Vec<Note>, base: usize) -> Option<(TcpRepr, usize)> {
        if b.len() < field::HEADER_LEN {
            notes.push(Note::new(
                base,
                format!("TCP header truncated: {} of 20 bytes", b.len()),
            ));
            return None;
        }
        // The fixed header is present: the view's accessors of it cannot panic.
        let p = Packet::new_unchecked(b);
        let dataofs = p.data_offset();
        let hlen = p.header_len();
        let end = if hlen < field::HEADER_LEN {
            notes.push(Note::new(
                base + field::DATA_OFF,
                format!("TCP data offset {dataofs} < 5"),
            ));
            field::HEADER_LEN
        } else if hlen > b.len() {
            notes.push(Note::new(
                base + field::DATA_OFF,
                format!(
                    "TCP data offset {dataofs} ({hlen} bytes) beyond the {} bytes present",
                    b.len()
                ),
            ));
            b.len()
        } else {
            hlen
        };
        let (options, padding, bad) = parse_options(&b[field::OPTIONS(end)]);
        if let Some(m) = bad {
            notes.push(Note::new(base + field::HEADER_LEN, m));
        }
        let repr = TcpRepr {
            sport: p.src_port(),
            dport: p.dst_port(),
            seq: p.seq_number(),
            ack: p.ack_number(),
            dataofs: Some(dataofs),
            reserved: p.reserved(),
            flags: p.flags(),
            window: p.window_len(),
            chksum: Some(p.checksum()),
            urgptr: p.urgent_at(),
            options,
            padding: Some(padding),
        };
        Some((repr, end))
    }

    /// The options as `kind` lookup helpers.
    pub fn mss(&self) -> Option<u16> {
        self.options.iter().find_map(|o| {
            if let TcpOption::Mss(v) = o {
                Some(*v)
            } else {
                None
            }
        })
    }
    pub fn wscale(&self) -> Option<u8> {
        self.options.iter().find_map(|o| {
            if let TcpOption::Wscale(v) = o {
                Some(*v)
            } else {
                None
            }
        })
    }
    pub fn sack_ok(&self) -> bool {
        self.options.contains(&TcpOption::SackOk)
    }
    pub fn timestamp(&self) -> Option<(u32, u32)> {
        self.options.iter().find_map(|o| {
            if let TcpOption::Timestamp(a, b) = o {
                Some((*a, *b))
            } else {
                None
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Error;
    use std::net::IpAddr;

    const SRC: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 0, 1));
    const DST: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 0, 2));

    /// 48896 → 80, FIN RST ACK URG, window scale 12 and a NOP, 4 bytes of payload
    /// (198.18.0.1 → 198.18.0.2; checksum by scapy).
    static PACKET_BYTES: [u8; 28] = [
        0xbf, 0x00, 0x00, 0x50, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x60, 0x35, 0x01,
        0x23, 0xf8, 0xe1, 0x02, 0x01, 0x03, 0x03, 0x0c, 0x01, 0xaa, 0x00, 0x00, 0xff,
    ];
    static OPTION_BYTES: [u8; 4] = [0x03, 0x03, 0x0c, 0x01];
    static PAYLOAD_BYTES: [u8; 4] = [0xaa, 0x00, 0x00, 0xff];

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(p.src_port(), 48896);
        assert_eq!(p.dst_port(), 80);
        assert_eq!(p.seq_number(), 0x0123_4567);
        assert_eq!(p.ack_number(), 0x89ab_cdef);
        assert_eq!(p.data_offset(), 6);
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.reserved(), 0);
        assert_eq!(
            p.flags(),
            TcpFlags(TcpFlags::FIN | TcpFlags::RST | TcpFlags::ACK | TcpFlags::URG)
        );
        assert_eq!(p.window_len(), 0x0123);
        assert_eq!(p.checksum(), 0xf8e1);
        assert_eq!(p.urgent_at(), 0x0201);
        assert_eq!(p.options(), &OPTION_BYTES[..]);
        assert_eq!(p.payload(), &PAYLOAD_BYTES[..]);
        assert!(p.verify_checksum(SRC, DST));
        assert!(!p.verify_checksum(DST, DST));
    }

    #[test]
    fn construct() {
        let mut bytes = [0xa5u8; 28];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_src_port(48896);
        p.set_dst_port(80);
        p.set_seq_number(0x0123_4567);
        p.set_ack_number(0x89ab_cdef);
        p.set_offset_flags(
            6,
            0,
            TcpFlags(TcpFlags::FIN | TcpFlags::RST | TcpFlags::ACK | TcpFlags::URG),
        );
        p.set_window_len(0x0123);
        p.set_urgent_at(0x0201);
        p.options_mut().copy_from_slice(&OPTION_BYTES);
        p.payload_mut().copy_from_slice(&PAYLOAD_BYTES);
        p.fill_checksum(SRC, DST);
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
        b[field::DATA_OFF] = 0x40;
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Malformed));
    }

    #[test]
    fn parse_emit() {
        let (repr, hlen) = TcpRepr::parse(&PACKET_BYTES, &mut Vec::new(), 0).unwrap();
        assert_eq!(hlen, 24);
        assert_eq!(repr.wscale(), Some(12));
        assert_eq!(repr.options, [TcpOption::Wscale(12), TcpOption::Nop]);
        let mut out = vec![0xa5];
        repr.emit_header(&mut out);
        assert_eq!(&out[1..], &PACKET_BYTES[..24]);
    }
}
