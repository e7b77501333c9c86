//! IPv4 header (RFC 791), lossless: options kept as raw bytes, reserved flag bit kept.

use std::net::Ipv4Addr;

use super::Note;

pub mod field {
    use std::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLG_OFF: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC: Range<usize> = 12..16;
    pub const DST: Range<usize> = 16..20;
    pub const HEADER_LEN: usize = 20;
}

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
        out.push(((self.version & 0x0f) << 4) | (self.wire_ihl() & 0x0f));
        out.push(self.tos);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.id.to_be_bytes());
        let fo = (u16::from(self.flags & 7) << 13) | (self.frag & 0x1fff);
        out.extend_from_slice(&fo.to_be_bytes());
        out.push(self.ttl);
        out.push(proto);
        out.extend_from_slice(&self.chksum.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&self.src.unwrap_or(Ipv4Addr::UNSPECIFIED).octets());
        out.extend_from_slice(&self.dst.octets());
        out.extend_from_slice(&self.options);
        let pad = self.header_len() - field::HEADER_LEN - self.options.len();
        out.extend(std::iter::repeat_n(0u8, pad));
        if self.chksum.is_none() {
            let c = super::checksum::checksum(&out[start..]);
            out[start + field::CHECKSUM.start..start + field::CHECKSUM.end]
                .copy_from_slice(&c.to_be_bytes());
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
        let ihl = b[field::VER_IHL] & 0x0f;
        let hlen = usize::from(ihl) * 4;
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
        let len = u16::from_be_bytes([b[2], b[3]]);
        let fo = u16::from_be_bytes([b[6], b[7]]);
        let repr = Ipv4Repr {
            version: b[0] >> 4,
            ihl: Some(ihl),
            tos: b[field::TOS],
            len: Some(len),
            id: u16::from_be_bytes([b[4], b[5]]),
            flags: (fo >> 13) as u8,
            frag: fo & 0x1fff,
            ttl: b[field::TTL],
            proto: Some(b[field::PROTOCOL]),
            chksum: Some(u16::from_be_bytes([b[10], b[11]])),
            src: Some(Ipv4Addr::new(b[12], b[13], b[14], b[15])),
            dst: Ipv4Addr::new(b[16], b[17], b[18], b[19]),
            options: b[field::HEADER_LEN..end].to_vec(),
        };
        let total = usize::from(len);
        let payload = if total < end {
            notes.push(Note::new(
                base + 2,
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
