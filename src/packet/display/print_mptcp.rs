//! Multipath TCP options as tcpdump 4.99 prints them (print-mptcp.c), called from the
//! TCP options loop with the readable end moved in to the option.

use std::fmt::Write as _;

use super::nd::{Nd, R};

/// Multipath TCP options (RFC 6824, RFC 8684) the way tcpdump's `mptcp_print` writes
/// them: length, subtype, details. `false`: the option does not fit its subtype
/// (`[bad opt]`).
pub(super) fn mptcp_print(nd: &mut Nd, opt: usize, len: usize, syn: bool, ack: bool) -> R<bool> {
    nd.proto = "mptcp";
    if len < 3 {
        return Ok(false);
    }
    let subtype = (nd.u8(opt + 2)? >> 4).min(8);
    let name = [
        "capable",
        "join",
        "dss",
        "add-addr",
        "rem-addr",
        "prio",
        "fail",
        "fast-close",
        "unknown",
    ][usize::from(subtype)];
    let _ = write!(nd.out, " {len} {name}");
    let be64 = |nd: &Nd, at: usize| -> R<u64> {
        Ok(u64::from(nd.be32(at)?) << 32 | u64::from(nd.be32(at + 4)?))
    };
    match subtype {
        0 => {
            let fits =
                ((len == 12 || len == 4) && syn) || ((len == 20 || len == 22) && ack && !syn);
            if !fits {
                return Ok(false);
            }
            let version = nd.u8(opt + 2)? & 0x0f;
            if version > 1 {
                let _ = write!(nd.out, " Unknown Version ({version})");
                return Ok(true);
            }
            let _ = write!(nd.out, " v{version}");
            if nd.u8(opt + 3)? & 0x80 != 0 {
                nd.p(" csum");
            }
            if len == 12 || len >= 20 {
                let k = be64(nd, opt + 4)?;
                let _ = write!(nd.out, " {{0x{k:x}");
                if len >= 20 {
                    let k2 = be64(nd, opt + 12)?;
                    let _ = write!(nd.out, ",0x{k2:x}");
                }
                nd.p("}");
            }
        }
        1 => {
            let fits = (len == 12 && syn) || (len == 16 && syn && ack) || (len == 24 && ack);
            if !fits {
                return Ok(false);
            }
            if len != 24 {
                if nd.u8(opt + 2)? & 0x01 != 0 {
                    nd.p(" backup");
                }
                let id = nd.u8(opt + 3)?;
                let _ = write!(nd.out, " id {id}");
            }
            match len {
                12 => {
                    let (token, nonce) = (nd.be32(opt + 4)?, nd.be32(opt + 8)?);
                    let _ = write!(nd.out, " token 0x{token:x} nonce 0x{nonce:x}");
                }
                16 => {
                    let (mac, nonce) = (be64(nd, opt + 4)?, nd.be32(opt + 12)?);
                    let _ = write!(nd.out, " hmac 0x{mac:x} nonce 0x{nonce:x}");
                }
                _ => {
                    nd.p(" hmac 0x");
                    for i in 0..20 {
                        let v = nd.u8(opt + 4 + i)?;
                        let _ = write!(nd.out, "{v:02x}");
                    }
                }
            }
        }
        2 => {
            if len < 4 || syn {
                return Ok(false);
            }
            let f = nd.u8(opt + 3)?;
            if f & 0x10 != 0 {
                nd.p(" fin");
            }
            let mut at = opt + 4;
            let mut left = len - 4;
            // A DSS number is 4 or 8 bytes (by its flag bit); too few bytes end the option.
            let num = |nd: &mut Nd, at: &mut usize, left: &mut usize, wide: bool| -> R<bool> {
                let n = if wide { 8 } else { 4 };
                if *left < n {
                    return Ok(false);
                }
                let v = if wide {
                    be64(nd, *at)?
                } else {
                    u64::from(nd.be32(*at)?)
                };
                let _ = write!(nd.out, "{v}");
                *at += n;
                *left -= n;
                Ok(true)
            };
            if f & 0x01 != 0 {
                nd.p(" ack ");
                if !num(nd, &mut at, &mut left, f & 0x02 != 0)? {
                    return Ok(false);
                }
            }
            if f & 0x04 != 0 {
                nd.p(" seq ");
                if !num(nd, &mut at, &mut left, f & 0x08 != 0)? {
                    return Ok(false);
                }
                if left < 4 {
                    return Ok(false);
                }
                let sub = nd.be32(at)?;
                let _ = write!(nd.out, " subseq {sub}");
                at += 4;
                left -= 4;
                if left < 2 {
                    return Ok(false);
                }
                let l = nd.be16(at)?;
                let _ = write!(nd.out, " len {l}");
                at += 2;
                left -= 2;
                if left >= 2 {
                    let c = nd.be16(at)?;
                    let _ = write!(nd.out, " csum 0x{c:x}");
                    left -= 2;
                }
            }
            if left != 0 {
                return Ok(false);
            }
        }
        3 => {
            if ![8, 10, 16, 18, 20, 22, 28, 30].contains(&len) {
                return Ok(false);
            }
            let echo = match nd.u8(opt + 2)? & 0x0f {
                0x6 => "v0-ip6",
                0x4 => "v0-ip4",
                0x1 => "v1-echo",
                0x0 => "v1",
                _ => "[bad version/echo]",
            };
            let id = nd.u8(opt + 3)?;
            let _ = write!(nd.out, " {echo} id {id}");
            if matches!(len, 8 | 10 | 16 | 18) {
                let a = nd.ip4(opt + 4)?;
                let _ = write!(nd.out, " {a}");
                if len == 10 || len == 18 {
                    let port = nd.be16(opt + 8)?;
                    let _ = write!(nd.out, ":{port}");
                }
                if len == 16 {
                    let mac = be64(nd, opt + 8)?;
                    let _ = write!(nd.out, " hmac 0x{mac:x}");
                }
                if len == 18 {
                    let mac = be64(nd, opt + 10)?;
                    let _ = write!(nd.out, " hmac 0x{mac:x}");
                }
            } else {
                let a = nd.ip6(opt + 4)?;
                let _ = write!(nd.out, " {a}");
                if len == 22 || len == 30 {
                    let port = nd.be16(opt + 20)?;
                    let _ = write!(nd.out, ":{port}");
                }
                if len == 28 {
                    let mac = be64(nd, opt + 20)?;
                    let _ = write!(nd.out, " hmac 0x{mac:x}");
                }
                if len == 30 {
                    let mac = be64(nd, opt + 22)?;
                    let _ = write!(nd.out, " hmac 0x{mac:x}");
                }
            }
        }
        4 => {
            if len < 4 {
                return Ok(false);
            }
            nd.p(" id");
            for i in 0..len - 3 {
                let v = nd.u8(opt + 3 + i)?;
                let _ = write!(nd.out, " {v}");
            }
        }
        5 => {
            if len != 3 && len != 4 {
                return Ok(false);
            }
            if nd.u8(opt + 2)? & 0x01 != 0 {
                nd.p(" backup");
            } else {
                nd.p(" non-backup");
            }
            if len == 4 {
                let id = nd.u8(opt + 3)?;
                let _ = write!(nd.out, " id {id}");
            }
        }
        6 | 7 => {
            if len != 12 {
                return Ok(false);
            }
            let v = be64(nd, opt + 4)?;
            if subtype == 6 {
                let _ = write!(nd.out, " seq {v}");
            } else {
                let _ = write!(nd.out, " key 0x{v:x}");
            }
        }
        _ => {}
    }
    Ok(true)
}
