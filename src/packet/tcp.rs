//! TCP header (RFC 9293 §3.1) and options, lossless.
//!
//! Options are kept in wire order, NOP/EOL included; unknown kinds keep their bytes; a
//! malformed tail (bad length) is kept verbatim as `TcpOption::Raw`. Bytes after an EOL are
//! kept in `padding` so that `emit(parse(b)) == b` even when they are not zero.

use super::flags::TcpFlags;
use super::Note;

pub mod field {
    use std::ops::Range;
    pub const SPORT: Range<usize> = 0..2;
    pub const DPORT: Range<usize> = 2..4;
    pub const SEQ: Range<usize> = 4..8;
    pub const ACK: Range<usize> = 8..12;
    /// Data offset (high nibble), reserved bits and NS (low nibble).
    pub const OFF: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
    pub const HEADER_LEN: usize = 20;
}

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
        out.extend_from_slice(&self.sport.to_be_bytes());
        out.extend_from_slice(&self.dport.to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.ack.to_be_bytes());
        let f = self.flags.0;
        out.push((self.wire_dataofs() << 4) | ((self.reserved & 7) << 1) | ((f >> 8) as u8 & 1));
        out.push(f as u8);
        out.extend_from_slice(&self.window.to_be_bytes());
        out.extend_from_slice(&self.chksum.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&self.urgptr.to_be_bytes());
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
        let be16 = |r: std::ops::Range<usize>| u16::from_be_bytes([b[r.start], b[r.start + 1]]);
        let be32 = |r: std::ops::Range<usize>| {
            u32::from_be_bytes([b[r.start], b[r.start + 1], b[r.start + 2], b[r.start + 3]])
        };
        let off = b[field::OFF];
        let dataofs = off >> 4;
        let hlen = usize::from(dataofs) * 4;
        let end = if hlen < field::HEADER_LEN {
            notes.push(Note::new(
                base + field::OFF,
                format!("TCP data offset {dataofs} < 5"),
            ));
            field::HEADER_LEN
        } else if hlen > b.len() {
            notes.push(Note::new(
                base + field::OFF,
                format!(
                    "TCP data offset {dataofs} ({hlen} bytes) beyond the {} bytes present",
                    b.len()
                ),
            ));
            b.len()
        } else {
            hlen
        };
        let (options, padding, bad) = parse_options(&b[field::HEADER_LEN..end]);
        if let Some(m) = bad {
            notes.push(Note::new(base + field::HEADER_LEN, m));
        }
        let repr = TcpRepr {
            sport: be16(field::SPORT),
            dport: be16(field::DPORT),
            seq: be32(field::SEQ),
            ack: be32(field::ACK),
            dataofs: Some(dataofs),
            reserved: (off >> 1) & 7,
            flags: TcpFlags((u16::from(off & 1) << 8) | u16::from(b[field::FLAGS])),
            window: be16(field::WINDOW),
            chksum: Some(be16(field::CHECKSUM)),
            urgptr: be16(field::URGENT),
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
