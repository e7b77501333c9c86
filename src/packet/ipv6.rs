//! IPv6 fixed header (RFC 8200 §3). Extension headers are carried as raw payload; [`walk`]
//! finds the transport header behind them.

use std::net::Ipv6Addr;

use super::Note;

pub const HEADER_LEN: usize = 40;

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
        let w = (u32::from(self.version & 0x0f) << 28)
            | (u32::from(self.tc) << 20)
            | (self.fl & 0x000f_ffff);
        out.extend_from_slice(&w.to_be_bytes());
        out.extend_from_slice(&plen.to_be_bytes());
        out.push(nh);
        out.push(self.hlim);
        out.extend_from_slice(&self.src.unwrap_or(Ipv6Addr::UNSPECIFIED).octets());
        out.extend_from_slice(&self.dst.octets());
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
        let w = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let plen = u16::from_be_bytes([b[4], b[5]]);
        let mut src = [0u8; 16];
        src.copy_from_slice(&b[8..24]);
        let mut dst = [0u8; 16];
        dst.copy_from_slice(&b[24..40]);
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
                version: (w >> 28) as u8,
                tc: ((w >> 20) & 0xff) as u8,
                fl: w & 0x000f_ffff,
                plen: Some(plen),
                nh: Some(b[6]),
                hlim: b[7],
                src: Some(Ipv6Addr::from(src)),
                dst: Ipv6Addr::from(dst),
            },
            payload,
        ))
    }
}

/// IPv6 extension headers (RFC 8200 §4, RFC 4302 AH, RFC 6275 mobility): the one walker
/// over them, used by the tcpdump printer, the packet view and the reply matcher.
pub mod ext {
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
            Some((usize::from(*h.get(1)?) + 1) * 8)
        }
        ext::FRAGMENT => Some(8),
        ext::AH => Some((usize::from(*h.get(1)?) + 2) * 4),
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
    let mut nh = *b.get(6)?;
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
            first_fragment = u16::from_be_bytes([h[2], h[3]]) & 0xfff8 == 0;
        }
        nh = h[0];
        at += len;
    }
    Some(ExtWalk {
        at,
        proto: nh,
        first_fragment,
    })
}
