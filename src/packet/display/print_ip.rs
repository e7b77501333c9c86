//! IPv4 as tcpdump 4.99 prints it (print-ip.c), and the raw-IP entry point that picks
//! IPv4 or IPv6 by the version nibble. What the header carries goes to
//! [`super::print_ip_demux`].

use std::fmt::Write as _;

use super::nd::{IpRef, Jump, Nd, IPPROTO_DCCP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, R};
use super::print_ip6::ip6_print;
use super::print_ip_demux::demux;
use crate::packet::ipv4::field;

/// tcpdump's raw-IP entry point: IPv4 or IPv6 by the version nibble.
pub(super) fn ipn_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "ipn";
    if length < 1 {
        let _ = write!(nd.out, "truncated-ip {length}");
        return Ok(());
    }
    match nd.u8(bp)? & 0xf0 {
        0x40 => ip_print(nd, bp, length),
        0x60 => ip6_print(nd, bp, length),
        v => {
            let _ = write!(nd.out, "unknown ip {}", v >> 4);
            Ok(())
        }
    }
}

pub(super) fn ip_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "ip";
    let ver = nd.u8(bp + field::VER_IHL)? >> 4;
    if ver != 4 {
        if ver == 6 {
            nd.p("IP6, wrong link-layer encapsulation");
        } else {
            let _ = write!(nd.out, "IP{ver}");
        }
        nd.p(" (invalid)");
        return Ok(());
    }
    nd.p("IP ");
    if !nd.ttest(bp, field::HEADER_LEN) {
        return Err(Jump);
    }
    if length < field::HEADER_LEN {
        let _ = write!(nd.out, "truncated-ip {length}");
        return Ok(());
    }
    let hlen = usize::from(nd.u8(bp + field::VER_IHL)? & 0x0f) * 4;
    if hlen < field::HEADER_LEN {
        let _ = write!(nd.out, "bad-hlen {hlen}");
        return Ok(());
    }
    let len = usize::from(nd.be16(bp + field::LENGTH.start)?);
    if length < len {
        let _ = write!(nd.out, "truncated-ip - {} bytes missing! ", len - length);
    }
    if len < hlen {
        let _ = write!(nd.out, "bad-len {len}");
        return Ok(());
    }
    let saved = nd.snapend;
    nd.snapend = nd.snapend.min(bp + len);
    let plen = len - hlen;
    let off = nd.be16(bp + field::FLG_OFF.start)?;
    let proto = nd.u8(bp + field::PROTOCOL)?;
    let ip = IpRef { at: bp, v6: false };
    if off & 0x1fff == 0 {
        if !matches!(
            proto,
            IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP | IPPROTO_DCCP
        ) {
            let (s, d) = (ip.src(nd)?, ip.dst(nd)?);
            let _ = write!(nd.out, "{s} > {d}: ");
        }
        if !nd.ttest(bp, hlen) {
            let avail = nd.snapend.saturating_sub(bp);
            let _ = write!(
                nd.out,
                " [remaining caplen({avail}) < header length({hlen})]"
            );
            return Err(Jump);
        }
        demux(nd, bp + hlen, plen, ip, off & 0x2000 != 0, proto)?;
    } else {
        let (s, d) = (ip.src(nd)?, ip.dst(nd)?);
        let _ = write!(nd.out, "{s} > {d}: ip-proto-{proto}");
    }
    nd.snapend = saved;
    Ok(())
}
