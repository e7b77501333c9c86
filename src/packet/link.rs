//! Link-layer framing seen in captures: Ethernet II and Linux cooked capture (SLL, v1).

use super::Note;

pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const VLAN: u16 = 0x8100;
    pub const IPV6: u16 = 0x86dd;
}

pub const ETHER_LEN: usize = 14;
pub const SLL_LEN: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EtherRepr {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    /// `None`: from the next layer (IPv4 0x0800, IPv6 0x86dd).
    pub ethertype: Option<u16>,
}

impl EtherRepr {
    pub fn emit_header(&self, out: &mut Vec<u8>, ethertype: u16) {
        out.extend_from_slice(&self.dst);
        out.extend_from_slice(&self.src);
        out.extend_from_slice(&ethertype.to_be_bytes());
    }

    pub fn parse(b: &[u8], notes: &mut Vec<Note>) -> Option<EtherRepr> {
        if b.len() < ETHER_LEN {
            notes.push(Note::new(
                0,
                format!("Ethernet header truncated: {} of 14 bytes", b.len()),
            ));
            return None;
        }
        let mut dst = [0u8; 6];
        dst.copy_from_slice(&b[0..6]);
        let mut src = [0u8; 6];
        src.copy_from_slice(&b[6..12]);
        Some(EtherRepr {
            dst,
            src,
            ethertype: Some(u16::from_be_bytes([b[12], b[13]])),
        })
    }
}

/// Linux cooked capture header (DLT_LINUX_SLL).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SllRepr {
    /// 0 to us, 1 broadcast, 2 multicast, 3 to someone else, 4 sent by us.
    pub pkttype: u16,
    /// ARPHRD_ type (1 Ethernet, 772 loopback).
    pub hatype: u16,
    pub halen: u16,
    pub addr: [u8; 8],
    /// `None`: from the next layer.
    pub proto: Option<u16>,
}

impl SllRepr {
    pub fn emit_header(&self, out: &mut Vec<u8>, proto: u16) {
        out.extend_from_slice(&self.pkttype.to_be_bytes());
        out.extend_from_slice(&self.hatype.to_be_bytes());
        out.extend_from_slice(&self.halen.to_be_bytes());
        out.extend_from_slice(&self.addr);
        out.extend_from_slice(&proto.to_be_bytes());
    }

    pub fn parse(b: &[u8], notes: &mut Vec<Note>) -> Option<SllRepr> {
        if b.len() < SLL_LEN {
            notes.push(Note::new(
                0,
                format!("Linux cooked header truncated: {} of 16 bytes", b.len()),
            ));
            return None;
        }
        let mut addr = [0u8; 8];
        addr.copy_from_slice(&b[6..14]);
        Some(SllRepr {
            pkttype: u16::from_be_bytes([b[0], b[1]]),
            hatype: u16::from_be_bytes([b[2], b[3]]),
            halen: u16::from_be_bytes([b[4], b[5]]),
            addr,
            proto: Some(u16::from_be_bytes([b[14], b[15]])),
        })
    }
}
