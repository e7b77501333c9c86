//! IPv6 as tcpdump 4.99 prints it (print-ip6.c): the fixed header, then the extension
//! headers it walks itself (hop-by-hop with the Jumbo Payload option, destination
//! options, fragment; routing and mobility in [`super::print_ip6ext`]) before handing
//! the first other header to [`super::print_ip_demux`].

use std::fmt::Write as _;

use super::nd::{
    IpRef, Jump, Nd, IPPROTO_DCCP, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS,
    IPPROTO_MOBILITY, IPPROTO_ROUTING, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, R,
};
use super::print_ip6ext::{mobility_print, rt6_print};
use super::print_ip_demux::demux;
use crate::packet::ipv6::{ext, field};

/// The Fragment header's length (RFC 8200 §4.5): it ends with the identification.
const FRAG_LEN: usize = ext::field::FRAG_IDENT.end;

pub(super) fn ip6_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "ip6";
    if !nd.ttest(bp, field::HEADER_LEN) {
        return Err(Jump);
    }
    nd.p("IP6 ");
    if length < field::HEADER_LEN {
        let _ = write!(nd.out, "truncated-ip6 {length}");
        return Ok(());
    }
    let ver = nd.u8(bp + field::VER_TC_FLOW.start)? >> 4;
    if ver != 6 {
        let _ = write!(nd.out, "version error: {ver} != 6");
        return Ok(());
    }
    let payload_len = usize::from(nd.be16(bp + field::LENGTH.start)?);
    let mut nh = nd.u8(bp + field::NXT_HDR)?;
    // A zero payload length announces a jumbogram (RFC 2675) whose length is in a
    // hop-by-hop option; without that header tcpdump reads no payload at all.
    let jumbo_pending = payload_len == 0 && nh == IPPROTO_HOPOPTS;
    let mut len = if jumbo_pending {
        length
    } else {
        payload_len + field::HEADER_LEN
    };
    if payload_len != 0 && length < len {
        let _ = write!(nd.out, "truncated-ip6 - {} bytes missing!", len - length);
    }
    let saved = nd.snapend;
    nd.snapend = nd.snapend.min(bp + len);
    let ip = IpRef { at: bp, v6: true };
    let mut cp = bp;
    let mut advance = field::HEADER_LEN;
    let mut fragmented = false;
    let mut found_hbh = false;
    // tcpdump walks the extension headers it knows, printing a word for each, and hands
    // the first other header to the protocol printers.
    while cp < nd.snapend && advance > 0 {
        if len < advance {
            return Err(Jump);
        }
        cp += advance;
        len -= advance;
        if cp == bp + field::HEADER_LEN
            && !matches!(nh, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP | IPPROTO_DCCP)
        {
            let (s, d) = (ip.src(nd)?, ip.dst(nd)?);
            let _ = write!(nd.out, "{s} > {d}: ");
        }
        match nh {
            IPPROTO_HOPOPTS => {
                if found_hbh {
                    nd.p("[The Hop-by-Hop Options header was already found] (invalid)");
                    break;
                }
                if cp != bp + field::HEADER_LEN {
                    nd.p("[The Hop-by-Hop Options header don't follow the IPv6 header] (invalid)");
                    break;
                }
                nd.proto = "hbhopt";
                let mut jumbo = None;
                let ok = match nd.u8(cp + ext::field::LENGTH) {
                    Ok(l) => {
                        advance = (usize::from(l) + 1) << 3;
                        if nd.ttest(cp, advance) {
                            nd.p("HBH ");
                            ip6_opts_ok(nd, cp + 2, advance - 2, payload_len, &mut jumbo)?
                        } else {
                            false
                        }
                    }
                    Err(_) => false,
                };
                if !ok {
                    nd.trunc();
                }
                if payload_len == 0 && jumbo.is_none() {
                    nd.p("[No valid Jumbo Payload Hop-by-Hop option found] (invalid)");
                    break;
                }
                if !ok {
                    break;
                }
                if let Some(j) = jumbo {
                    let total = j as usize + field::HEADER_LEN;
                    if length < total {
                        let _ = write!(nd.out, "truncated-ip6 - {} bytes missing!", total - length);
                    }
                    nd.snapend = saved.min(bp + total);
                    len = total - field::HEADER_LEN;
                }
                found_hbh = true;
                nh = nd.u8(cp + ext::field::NXT_HDR)?;
            }
            IPPROTO_DSTOPTS => {
                nd.proto = "dstopt";
                let optlen = (usize::from(nd.u8(cp + ext::field::LENGTH)?) + 1) << 3;
                if !nd.ttest(cp, optlen) {
                    return Err(Jump);
                }
                // Destination options are walked only with -v.
                nd.p("DSTOPT ");
                advance = optlen;
                nh = nd.u8(cp + ext::field::NXT_HDR)?;
            }
            IPPROTO_ROUTING => {
                let _ = nd.u8(cp + ext::field::NXT_HDR)?;
                match rt6_print(nd, cp)? {
                    Some(a) => advance = a,
                    None => break,
                }
                nh = nd.u8(cp + ext::field::NXT_HDR)?;
            }
            IPPROTO_MOBILITY => {
                mobility_print(nd, cp)?;
                break;
            }
            IPPROTO_FRAGMENT => {
                nd.proto = "frag6";
                let off = nd.be16(cp + ext::field::FRAG_OFF_M.start)? & 0xfff8;
                // tcpdump computes this in `u_int`; a lying payload length wraps.
                let rest = (field::HEADER_LEN as u32 + payload_len as u32)
                    .wrapping_sub((cp - bp) as u32)
                    .wrapping_sub(FRAG_LEN as u32);
                let _ = write!(nd.out, "frag ({off}|{rest})");
                if off != 0 {
                    break;
                }
                nd.p(" ");
                advance = FRAG_LEN;
                if nd.snapend <= cp + advance {
                    break;
                }
                nh = nd.u8(cp + ext::field::NXT_HDR)?;
                fragmented = true;
            }
            _ => {
                demux(nd, cp, len, ip, fragmented, nh)?;
                break;
            }
        }
        nd.proto = "ip6";
    }
    nd.snapend = saved;
    Ok(())
}

/// `ip6_opt_process` without -v: walks the options of a hop-by-hop or destination
/// options header, printing only complaints; `false` when they do not fit. A Jumbo
/// Payload option (RFC 2675) in a packet whose payload length is 0 gives its length.
fn ip6_opts_ok(
    nd: &mut Nd,
    bp: usize,
    len: usize,
    payload_len: usize,
    jumbo: &mut Option<u32>,
) -> R<bool> {
    let mut i = 0usize;
    while i < len {
        let t = nd.u8(bp + i)?;
        if t == 0 {
            i += 1;
            continue;
        }
        if i + 1 >= len {
            return Ok(false);
        }
        let optlen = usize::from(nd.u8(bp + i + 1)?) + 2;
        if i + optlen > len {
            return Ok(false);
        }
        match t {
            // PadN.
            1 => {}
            // Router alert.
            5 => {
                if len - i < 4 {
                    nd.p("(rtalert: trunc)");
                    return Ok(false);
                }
                let l = nd.u8(bp + i + 1)?;
                if l != 2 {
                    let _ = write!(nd.out, "(rtalert: invalid len {l})");
                    return Ok(false);
                }
            }
            // Jumbo payload.
            0xc2 => {
                if len - i < 6 {
                    nd.p("(jumbo: trunc)");
                    return Ok(false);
                }
                let l = nd.u8(bp + i + 1)?;
                if l != 4 {
                    let _ = write!(nd.out, "(jumbo: invalid len {l})");
                    return Ok(false);
                }
                let j = nd.be32(bp + i + 2)?;
                if payload_len == 0 && j >= 65536 && jumbo.is_none() {
                    *jumbo = Some(j);
                }
            }
            _ => {
                if len - i < 2 {
                    let _ = write!(nd.out, "(type {t}: trunc)");
                    return Ok(false);
                }
            }
        }
        i += optlen;
    }
    Ok(true)
}
