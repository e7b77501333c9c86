//! UDP header (RFC 768).

use super::Note;

pub const HEADER_LEN: usize = 8;

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
        out.extend_from_slice(&self.sport.to_be_bytes());
        out.extend_from_slice(&self.dport.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.chksum.unwrap_or(0).to_be_bytes());
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
        let len = u16::from_be_bytes([b[4], b[5]]);
        let avail = b.len() - HEADER_LEN;
        let payload = usize::from(len).saturating_sub(HEADER_LEN);
        if usize::from(len) < HEADER_LEN {
            notes.push(Note::new(base + 4, format!("UDP length {len} < 8")));
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
                sport: u16::from_be_bytes([b[0], b[1]]),
                dport: u16::from_be_bytes([b[2], b[3]]),
                len: Some(len),
                chksum: Some(u16::from_be_bytes([b[6], b[7]])),
            },
            payload,
        ))
    }
}
