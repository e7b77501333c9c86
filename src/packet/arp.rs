//! ARP for IPv4 over Ethernet (RFC 826): the 28-byte form every Linux host sends, with
//! scapy's field names. Other hardware or protocol sizes stay raw bytes.

use std::net::Ipv4Addr;

use super::{get16, put16, Error};

/// The byte ranges of ARP for IPv4 over Ethernet (RFC 826), written once.
pub mod field {
    use crate::packet::Field;
    pub const HTYPE: Field = 0..2;
    pub const PTYPE: Field = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;
    pub const SHA: Field = 8..14;
    pub const SPA: Field = 14..18;
    pub const THA: Field = 18..24;
    pub const TPA: Field = 24..28;
    pub const LEN: usize = 28;
}

/// Bytes of an Ethernet/IPv4 ARP packet.
pub const LEN: usize = field::LEN;

/// A zero-copy view of an ARP packet in its Ethernet/IPv4 form. `new_checked` verifies
/// that 28 bytes are present (`Truncated`) and that the hardware and protocol lengths are
/// 6 and 4 (`Malformed`): then no accessor can panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    pub fn check_len(&self) -> Result<(), Error> {
        let b = self.buffer.as_ref();
        if b.len() < field::LEN {
            Err(Error::Truncated)
        } else if b[field::HLEN] != 6 || b[field::PLEN] != 4 {
            Err(Error::Malformed)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn mac(&self, f: crate::packet::Field) -> [u8; 6] {
        let mut m = [0u8; 6];
        m.copy_from_slice(&self.buffer.as_ref()[f]);
        m
    }
    fn ip(&self, f: crate::packet::Field) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[f];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }
    pub fn hardware_type(&self) -> u16 {
        get16(self.buffer.as_ref(), field::HTYPE)
    }
    pub fn protocol_type(&self) -> u16 {
        get16(self.buffer.as_ref(), field::PTYPE)
    }
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }
    pub fn operation(&self) -> u16 {
        get16(self.buffer.as_ref(), field::OPER)
    }
    pub fn source_hardware_addr(&self) -> [u8; 6] {
        self.mac(field::SHA)
    }
    pub fn source_protocol_addr(&self) -> Ipv4Addr {
        self.ip(field::SPA)
    }
    pub fn target_hardware_addr(&self) -> [u8; 6] {
        self.mac(field::THA)
    }
    pub fn target_protocol_addr(&self) -> Ipv4Addr {
        self.ip(field::TPA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_hardware_type(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::HTYPE, v);
    }
    pub fn set_protocol_type(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::PTYPE, v);
    }
    pub fn set_hardware_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::HLEN] = v;
    }
    pub fn set_protocol_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::PLEN] = v;
    }
    pub fn set_operation(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::OPER, v);
    }
    pub fn set_source_hardware_addr(&mut self, a: [u8; 6]) {
        self.buffer.as_mut()[field::SHA].copy_from_slice(&a);
    }
    pub fn set_source_protocol_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SPA].copy_from_slice(&a.octets());
    }
    pub fn set_target_hardware_addr(&mut self, a: [u8; 6]) {
        self.buffer.as_mut()[field::THA].copy_from_slice(&a);
    }
    pub fn set_target_protocol_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::TPA].copy_from_slice(&a.octets());
    }
}

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
        let start = out.len();
        out.resize(start + LEN, 0);
        let mut p = Packet::new_unchecked(&mut out[start..]);
        p.set_hardware_type(self.hwtype);
        p.set_protocol_type(self.ptype);
        p.set_hardware_len(self.hwlen);
        p.set_protocol_len(self.plen);
        p.set_operation(self.op);
        p.set_source_hardware_addr(self.hwsrc);
        p.set_source_protocol_addr(self.psrc);
        p.set_target_hardware_addr(self.hwdst);
        p.set_target_protocol_addr(self.pdst);
    }

    /// The 28-byte Ethernet/IPv4 form (hardware length 6, protocol length 4), else `None`.
    pub fn parse(b: &[u8]) -> Option<ArpRepr> {
        let p = Packet::new_checked(b.get(..LEN)?).ok()?;
        Some(ArpRepr {
            hwtype: p.hardware_type(),
            ptype: p.protocol_type(),
            hwlen: 6,
            plen: 4,
            op: p.operation(),
            hwsrc: p.source_hardware_addr(),
            psrc: p.source_protocol_addr(),
            hwdst: p.target_hardware_addr(),
            pdst: p.target_protocol_addr(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Error;

    /// Who has 198.18.0.2, tell 198.18.0.1 (02:00:00:00:00:01), by scapy.
    static PACKET_BYTES: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc6,
        0x12, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x12, 0x00, 0x02,
    ];

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(p.hardware_type(), 1);
        assert_eq!(p.protocol_type(), 0x0800);
        assert_eq!((p.hardware_len(), p.protocol_len()), (6, 4));
        assert_eq!(p.operation(), 1);
        assert_eq!(p.source_hardware_addr(), [2, 0, 0, 0, 0, 1]);
        assert_eq!(p.source_protocol_addr(), Ipv4Addr::new(198, 18, 0, 1));
        assert_eq!(p.target_hardware_addr(), [0; 6]);
        assert_eq!(p.target_protocol_addr(), Ipv4Addr::new(198, 18, 0, 2));
    }

    #[test]
    fn construct() {
        let mut bytes = [0xa5u8; 28];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_hardware_type(1);
        p.set_protocol_type(0x0800);
        p.set_hardware_len(6);
        p.set_protocol_len(4);
        p.set_operation(1);
        p.set_source_hardware_addr([2, 0, 0, 0, 0, 1]);
        p.set_source_protocol_addr(Ipv4Addr::new(198, 18, 0, 1));
        p.set_target_hardware_addr([0; 6]);
        p.set_target_protocol_addr(Ipv4Addr::new(198, 18, 0, 2));
        assert_eq!(bytes, PACKET_BYTES);
    }

    #[test]
    fn truncated_and_malformed() {
        for n in 0..28 {
            assert_eq!(
                Packet::new_checked(&PACKET_BYTES[..n]),
                Err(Error::Truncated)
            );
        }
        let mut b = PACKET_BYTES;
        b[field::HLEN] = 8;
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Malformed));
        assert_eq!(ArpRepr::parse(&b), None);
    }

    #[test]
    fn parse_emit() {
        let a = ArpRepr::parse(&PACKET_BYTES).unwrap();
        let mut out = vec![0xa5];
        a.emit(&mut out);
        assert_eq!(&out[1..], &PACKET_BYTES[..]);
    }
}
