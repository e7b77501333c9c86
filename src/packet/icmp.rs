//! ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) headers: type, code, checksum and the four
//! "rest of header" bytes, kept as `id`/`seq` (echo), unused/next-hop MTU (unreachable),
//! MTU (packet too big) or pointer (parameter problem). The body follows as layers: for
//! errors, the quoted packet; otherwise raw bytes.

use super::Note;

pub const HEADER_LEN: usize = 8;

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
        out.push(self.r#type);
        out.push(self.code);
        out.extend_from_slice(&self.chksum.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
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
        Some(IcmpRepr {
            r#type: b[0],
            code: b[1],
            chksum: Some(u16::from_be_bytes([b[2], b[3]])),
            id: u16::from_be_bytes([b[4], b[5]]),
            seq: u16::from_be_bytes([b[6], b[7]]),
        })
    }
}
