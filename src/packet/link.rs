//! Link-layer framing seen in captures: Ethernet II and Linux cooked capture (SLL, v1).

use super::{get16, put16, read16, Error, Note};

pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad (QinQ) outer tag.
    pub const QINQ: u16 = 0x88a8;
    pub const IPV6: u16 = 0x86dd;
}

/// The Ethernet II header's byte ranges, written once.
pub mod field {
    use crate::packet::{Field, Rest};
    pub const DESTINATION: Field = 0..6;
    pub const SOURCE: Field = 6..12;
    pub const ETHERTYPE: Field = 12..14;
    pub const PAYLOAD: Rest = 14..;
}

/// The Linux cooked capture (SLL v1) header's byte ranges, written once.
pub mod sll_field {
    use crate::packet::{Field, Rest};
    /// 0 to us, 1 broadcast, 2 multicast, 3 to someone else, 4 sent by us.
    pub const PKTTYPE: Field = 0..2;
    /// ARPHRD_ type.
    pub const HATYPE: Field = 2..4;
    pub const HALEN: Field = 4..6;
    /// The link-layer address, zero-padded to 8 bytes.
    pub const ADDR: Field = 6..14;
    pub const PROTOCOL: Field = 14..16;
    pub const PAYLOAD: Rest = 16..;
}

pub const ETHER_LEN: usize = field::PAYLOAD.start;
pub const SLL_LEN: usize = sll_field::PAYLOAD.start;

/// Bytes of an 802.1Q / 802.1ad tag (TPID, then TCI) before the inner ethertype.
pub const VLAN_TAG_LEN: usize = 4;

/// The ethertype of an Ethernet frame past its VLAN tags (802.1Q, 802.1ad), and where
/// its payload starts; `(None, frame.len())` when the frame ends inside the tags.
pub fn past_vlan_tags(frame: &[u8]) -> (Option<u16>, usize) {
    let mut at = field::ETHERTYPE.start;
    while let Some(t) = read16(frame, at..at + 2) {
        if t == ethertype::VLAN || t == ethertype::QINQ {
            at += VLAN_TAG_LEN;
        } else {
            return (Some(t), at + 2);
        }
    }
    (None, frame.len())
}

/// A zero-copy view of an Ethernet II frame. `new_checked` verifies that the 14-byte
/// header is present: then no accessor can panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    pub const fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }

    /// `Truncated` when fewer than 14 bytes are present.
    pub fn new_checked(buffer: T) -> Result<Frame<T>, Error> {
        let f = Frame::new_unchecked(buffer);
        f.check_len()?;
        Ok(f)
    }

    pub fn check_len(&self) -> Result<(), Error> {
        if self.buffer.as_ref().len() < ETHER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn dst_addr(&self) -> [u8; 6] {
        let mut a = [0u8; 6];
        a.copy_from_slice(&self.buffer.as_ref()[field::DESTINATION]);
        a
    }
    pub fn src_addr(&self) -> [u8; 6] {
        let mut a = [0u8; 6];
        a.copy_from_slice(&self.buffer.as_ref()[field::SOURCE]);
        a
    }
    #[inline]
    pub fn ethertype(&self) -> u16 {
        get16(self.buffer.as_ref(), field::ETHERTYPE)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Frame<&'a T> {
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    pub fn set_dst_addr(&mut self, a: [u8; 6]) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&a);
    }
    pub fn set_src_addr(&mut self, a: [u8; 6]) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&a);
    }
    pub fn set_ethertype(&mut self, v: u16) {
        put16(self.buffer.as_mut(), field::ETHERTYPE, v);
    }
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

/// A zero-copy view of a Linux cooked capture (v1) frame. `new_checked` verifies that the
/// 16-byte header is present: then no accessor can panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SllFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> SllFrame<T> {
    pub const fn new_unchecked(buffer: T) -> SllFrame<T> {
        SllFrame { buffer }
    }

    /// `Truncated` when fewer than 16 bytes are present.
    pub fn new_checked(buffer: T) -> Result<SllFrame<T>, Error> {
        let f = SllFrame::new_unchecked(buffer);
        f.check_len()?;
        Ok(f)
    }

    pub fn check_len(&self) -> Result<(), Error> {
        if self.buffer.as_ref().len() < SLL_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn pkttype(&self) -> u16 {
        get16(self.buffer.as_ref(), sll_field::PKTTYPE)
    }
    pub fn hatype(&self) -> u16 {
        get16(self.buffer.as_ref(), sll_field::HATYPE)
    }
    pub fn halen(&self) -> u16 {
        get16(self.buffer.as_ref(), sll_field::HALEN)
    }
    pub fn addr(&self) -> [u8; 8] {
        let mut a = [0u8; 8];
        a.copy_from_slice(&self.buffer.as_ref()[sll_field::ADDR]);
        a
    }
    #[inline]
    pub fn protocol(&self) -> u16 {
        get16(self.buffer.as_ref(), sll_field::PROTOCOL)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> SllFrame<&'a T> {
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[sll_field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> SllFrame<T> {
    pub fn set_pkttype(&mut self, v: u16) {
        put16(self.buffer.as_mut(), sll_field::PKTTYPE, v);
    }
    pub fn set_hatype(&mut self, v: u16) {
        put16(self.buffer.as_mut(), sll_field::HATYPE, v);
    }
    pub fn set_halen(&mut self, v: u16) {
        put16(self.buffer.as_mut(), sll_field::HALEN, v);
    }
    pub fn set_addr(&mut self, a: [u8; 8]) {
        self.buffer.as_mut()[sll_field::ADDR].copy_from_slice(&a);
    }
    pub fn set_protocol(&mut self, v: u16) {
        put16(self.buffer.as_mut(), sll_field::PROTOCOL, v);
    }
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[sll_field::PAYLOAD]
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EtherRepr {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    /// `None`: from the next layer (IPv4 0x0800, IPv6 0x86dd).
    pub ethertype: Option<u16>,
}

impl EtherRepr {
    pub fn emit_header(&self, out: &mut Vec<u8>, ethertype: u16) {
        let start = out.len();
        out.resize(start + ETHER_LEN, 0);
        let mut f = Frame::new_unchecked(&mut out[start..]);
        f.set_dst_addr(self.dst);
        f.set_src_addr(self.src);
        f.set_ethertype(ethertype);
    }

    pub fn parse(b: &[u8], notes: &mut Vec<Note>) -> Option<EtherRepr> {
        if b.len() < ETHER_LEN {
            notes.push(Note::new(
                0,
                format!("Ethernet header truncated: {} of 14 bytes", b.len()),
            ));
            return None;
        }
        let f = Frame::new_unchecked(b);
        Some(EtherRepr {
            dst: f.dst_addr(),
            src: f.src_addr(),
            ethertype: Some(f.ethertype()),
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
        let start = out.len();
        out.resize(start + SLL_LEN, 0);
        let mut f = SllFrame::new_unchecked(&mut out[start..]);
        f.set_pkttype(self.pkttype);
        f.set_hatype(self.hatype);
        f.set_halen(self.halen);
        f.set_addr(self.addr);
        f.set_protocol(proto);
    }

    pub fn parse(b: &[u8], notes: &mut Vec<Note>) -> Option<SllRepr> {
        if b.len() < SLL_LEN {
            notes.push(Note::new(
                0,
                format!("Linux cooked header truncated: {} of 16 bytes", b.len()),
            ));
            return None;
        }
        let f = SllFrame::new_unchecked(b);
        Some(SllRepr {
            pkttype: f.pkttype(),
            hatype: f.hatype(),
            halen: f.halen(),
            addr: f.addr(),
            proto: Some(f.protocol()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Error;

    /// 02:00:00:00:00:01 → 02:00:00:00:00:02, IPv4, then two payload bytes.
    static FRAME_BYTES: [u8; 16] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0xaa,
        0xbb,
    ];
    /// Sent by us (4) on loopback (772), no address, IPv6, then two payload bytes.
    static SLL_BYTES: [u8; 18] = [
        0x00, 0x04, 0x03, 0x04, 0x00, 0x06, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x86,
        0xdd, 0xaa, 0xbb,
    ];

    #[test]
    fn ethernet_deconstruct_construct() {
        let f = Frame::new_checked(&FRAME_BYTES[..]).unwrap();
        assert_eq!(f.dst_addr(), [2, 0, 0, 0, 0, 2]);
        assert_eq!(f.src_addr(), [2, 0, 0, 0, 0, 1]);
        assert_eq!(f.ethertype(), ethertype::IPV4);
        assert_eq!(f.payload(), &[0xaa, 0xbb]);
        let mut bytes = [0xa5u8; 16];
        let mut f = Frame::new_unchecked(&mut bytes[..]);
        f.set_dst_addr([2, 0, 0, 0, 0, 2]);
        f.set_src_addr([2, 0, 0, 0, 0, 1]);
        f.set_ethertype(ethertype::IPV4);
        f.payload_mut().copy_from_slice(&[0xaa, 0xbb]);
        assert_eq!(bytes, FRAME_BYTES);
        for n in 0..14 {
            assert_eq!(Frame::new_checked(&FRAME_BYTES[..n]), Err(Error::Truncated));
        }
        let e = EtherRepr::parse(&FRAME_BYTES, &mut Vec::new()).unwrap();
        let mut out = vec![0xa5];
        e.emit_header(&mut out, ethertype::IPV4);
        assert_eq!(&out[1..], &FRAME_BYTES[..14]);
    }

    #[test]
    fn sll_deconstruct_construct() {
        let f = SllFrame::new_checked(&SLL_BYTES[..]).unwrap();
        assert_eq!(f.pkttype(), 4);
        assert_eq!(f.hatype(), 772);
        assert_eq!(f.halen(), 6);
        assert_eq!(f.addr(), [2, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(f.protocol(), ethertype::IPV6);
        assert_eq!(f.payload(), &[0xaa, 0xbb]);
        let mut bytes = [0xa5u8; 18];
        let mut f = SllFrame::new_unchecked(&mut bytes[..]);
        f.set_pkttype(4);
        f.set_hatype(772);
        f.set_halen(6);
        f.set_addr([2, 0, 0, 0, 0, 1, 0, 0]);
        f.set_protocol(ethertype::IPV6);
        f.payload_mut().copy_from_slice(&[0xaa, 0xbb]);
        assert_eq!(bytes, SLL_BYTES);
        for n in 0..16 {
            assert_eq!(
                SllFrame::new_checked(&SLL_BYTES[..n]),
                Err(Error::Truncated)
            );
        }
        let s = SllRepr::parse(&SLL_BYTES, &mut Vec::new()).unwrap();
        let mut out = vec![0xa5];
        s.emit_header(&mut out, ethertype::IPV6);
        assert_eq!(&out[1..], &SLL_BYTES[..16]);
    }
}
