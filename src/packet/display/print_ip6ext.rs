//! IPv6 routing headers and IPsec headers as tcpdump 4.99 prints them (print-rt6.c,
//! print-ah.c, print-esp.c without -v). Header lengths come from the one extension
//! header walker, [`crate::packet::ipv6::ext_len`].

use std::fmt::Write as _;

use super::nd::{Jump, Nd, R};
use crate::packet::ipv6;
use crate::packet::ipv6::ext::field;

/// The routing header at `bp`: `RT6 (len=…, type=…, segleft=…, [0]addr…) `. Returns the
/// header's length, or `None` when tcpdump calls it invalid and stops.
pub(super) fn rt6_print(nd: &mut Nd, bp: usize) -> R<Option<usize>> {
    nd.proto = "rt6";
    nd.p("RT6");
    let len = nd.u8(bp + field::LENGTH)?;
    let _ = write!(nd.out, " (len={len}");
    let ty = nd.u8(bp + 2)?;
    let _ = write!(nd.out, ", type={ty}");
    if ty == 0 {
        nd.p(" [Deprecated]");
    }
    let segleft = nd.u8(bp + 3)?;
    let _ = write!(nd.out, ", segleft={segleft}");
    let (first, count) = match ty {
        0 | 2 => {
            let rsv = nd.be32(bp + 4)?;
            if rsv != 0 {
                let _ = write!(nd.out, ", rsv=0x{rsv:x}");
            }
            if len % 2 == 1 {
                let _ = write!(nd.out, " (invalid length {len})");
                nd.p(" (invalid)");
                return Ok(None);
            }
            (bp + 8, usize::from(len >> 1))
        }
        4 => {
            let last = nd.u8(bp + 4)?;
            let _ = write!(nd.out, ", last-entry={last}");
            let flags = nd.u8(bp + 5)?;
            if flags != 0 {
                let _ = write!(nd.out, ", flags=0x{flags:x}");
            }
            let tag = nd.be16(bp + 6)?;
            let _ = write!(nd.out, ", tag={tag:x}");
            (bp + 8, usize::from(last) + 1)
        }
        _ => {
            nd.p(" (unknown type) (invalid)");
            return Ok(None);
        }
    };
    for i in 0..count {
        let a = nd.ip6(first + 16 * i)?;
        let _ = write!(nd.out, ", [{i}]{a}");
    }
    nd.p(") ");
    Ok(ipv6::ext_len(ipv6::ext::ROUTING, &[0, len]))
}

/// The authentication header at `bp`: `AH(spi=…,seq=…,icv=0x…): `; returns its length.
pub(super) fn ah_print(nd: &mut Nd, bp: usize) -> R<usize> {
    nd.proto = "ah";
    nd.p("AH(");
    let spi = nd.be32(bp + 4)?;
    let _ = write!(nd.out, "spi=0x{spi:08x},");
    let seq = nd.be32(bp + 8)?;
    let _ = write!(nd.out, "seq=0x{seq:x},icv=0x");
    let len = nd.u8(bp + field::LENGTH)?;
    let total = ipv6::ext_len(ipv6::ext::AH, &[0, len]).unwrap_or(8);
    for at in bp + 12..bp + total {
        let b = nd.u8(at)?;
        let _ = write!(nd.out, "{b:02x}");
    }
    nd.p("): ");
    Ok(total)
}

/// The outer part of ESP (what follows is encrypted): `ESP(spi=…,seq=…), length N`.
pub(super) fn esp_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "esp";
    if !nd.ttest(bp, 9) {
        return Err(Jump);
    }
    let (spi, seq) = (nd.be32(bp)?, nd.be32(bp + 4)?);
    let _ = write!(
        nd.out,
        "ESP(spi=0x{spi:08x},seq=0x{seq:x}), length {length}"
    );
    Ok(())
}

/// The mobility header (RFC 6275) without -v: its message type and first fields. It
/// ends tcpdump's walk over the extension headers.
pub(super) fn mobility_print(nd: &mut Nd, bp: usize) -> R {
    nd.proto = "mobility";
    let len = nd.u8(bp + field::LENGTH)?;
    let mhlen = (usize::from(len) + 1) << 3;
    let ty = nd.u8(bp + 2)?;
    let min = [8, 16, 16, 24, 24, 12, 12, 24];
    if let Some(&m) = min.get(usize::from(ty)) {
        if mhlen < m {
            let _ = write!(nd.out, "(header length {mhlen} is too small for type {ty})");
            return Err(Jump);
        }
    }
    let names = ["BRR", "HoTI", "CoTI", "HoT", "CoT", "BU", "BA", "BE"];
    match names.get(usize::from(ty)) {
        Some(n) => {
            let _ = write!(nd.out, "mobility: {n}");
        }
        None => {
            let _ = write!(nd.out, "mobility: type-#{ty}");
        }
    }
    match ty {
        3 | 4 => {
            let id = nd.be16(bp + 6)?;
            let _ = write!(nd.out, " nonce id=0x{id:x}");
        }
        5 => {
            let seq = nd.be16(bp + 6)?;
            let _ = write!(nd.out, " seq#={seq}");
            let f = nd.u8(bp + 8)?;
            if f & 0xf0 != 0 {
                nd.p(" ");
                for (bit, c) in [(0x80, "A"), (0x40, "H"), (0x20, "L"), (0x10, "K")] {
                    if f & bit != 0 {
                        nd.p(c);
                    }
                }
            }
            let life = u32::from(nd.be16(bp + 10)?) << 2;
            let _ = write!(nd.out, " lifetime={life}");
        }
        6 => {
            let status = nd.u8(bp + 6)?;
            let _ = write!(nd.out, " status={status}");
            if nd.u8(bp + 7)? & 0x80 != 0 {
                nd.p(" K");
            }
            let seq = nd.be16(bp + 8)?;
            let life = u32::from(nd.be16(bp + 10)?) << 2;
            let _ = write!(nd.out, " seq#={seq} lifetime={life}");
        }
        7 => {
            let status = nd.u8(bp + 6)?;
            let _ = write!(nd.out, " status={status}");
            let a = nd.ip6(bp + 8)?;
            let _ = write!(nd.out, " homeaddr {a}");
        }
        0..=2 => {}
        _ => {
            let _ = write!(nd.out, " len={len}");
        }
    }
    Ok(())
}
