//! ARP for IPv4 over Ethernet (RFC 826): the 28-byte form every Linux host sends, with
//! scapy's field names. Other hardware or protocol sizes stay raw bytes.

use std::net::Ipv4Addr;

pub const LEN: usize = 28;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArpRepr {
    pub hwtype: u16,
    pub ptype: u16,
    pub hwlen: u8,
    pub plen: u8,
    /// 1 who-has (request), 2 is-at (reply), 3/4 RARP, 8/9 InARP.
    pub op: u16,
    pub hwsrc: [u8; 6],
    pub psrc: Ipv4Addr,
    pub hwdst: [u8; 6],
    pub pdst: Ipv4Addr,
}

impl Default for ArpRepr {
    /// scapy's defaults, with the addresses left zero (scapy fills in the interface's).
    fn default() -> Self {
        ArpRepr {
            hwtype: 1,
            ptype: 0x0800,
            hwlen: 6,
            plen: 4,
            op: 1,
            hwsrc: [0; 6],
            psrc: Ipv4Addr::UNSPECIFIED,
            hwdst: [0; 6],
            pdst: Ipv4Addr::UNSPECIFIED,
        }
    }
}

impl ArpRepr {
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.hwtype.to_be_bytes());
        out.extend_from_slice(&self.ptype.to_be_bytes());
        out.push(self.hwlen);
        out.push(self.plen);
        out.extend_from_slice(&self.op.to_be_bytes());
        out.extend_from_slice(&self.hwsrc);
        out.extend_from_slice(&self.psrc.octets());
        out.extend_from_slice(&self.hwdst);
        out.extend_from_slice(&self.pdst.octets());
    }

    /// The 28-byte Ethernet/IPv4 form (hardware length 6, protocol length 4), else `None`.
    pub fn parse(b: &[u8]) -> Option<ArpRepr> {
        let b = b.get(..LEN)?;
        if b[4] != 6 || b[5] != 4 {
            return None;
        }
        let be = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
        let mac = |at: usize| {
            let mut m = [0u8; 6];
            m.copy_from_slice(&b[at..at + 6]);
            m
        };
        let ip = |at: usize| Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3]);
        Some(ArpRepr {
            hwtype: be(0),
            ptype: be(2),
            hwlen: 6,
            plen: 4,
            op: be(6),
            hwsrc: mac(8),
            psrc: ip(14),
            hwdst: mac(18),
            pdst: ip(24),
        })
    }

    /// scapy's names for the operation.
    pub fn op_name(op: u16) -> Option<&'static str> {
        Some(match op {
            1 => "who-has",
            2 => "is-at",
            3 => "RARP-req",
            4 => "RARP-rep",
            5 => "Dyn-RARP-req",
            6 => "Dyn-RAR-rep",
            7 => "Dyn-RARP-err",
            8 => "InARP-req",
            9 => "InARP-rep",
            _ => return None,
        })
    }
}
