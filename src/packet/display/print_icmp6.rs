//! ICMPv6 as tcpdump 4.99 prints it without -v (print-icmp6.c): errors with the quoted
//! packet's addresses and ports, echo, neighbour discovery, multicast listener discovery
//! (MLDv1, MLDv2) and mobile IPv6 solicitations.

use std::fmt::Write as _;

use super::nd::{
    Jump, Nd, IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ROUTING,
    IPPROTO_TCP, IPPROTO_UDP, R,
};
use crate::packet::icmp::field;
use crate::packet::ipv6::{self, ext};
use crate::packet::tcp;

fn icmp6_type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        1 => "destination unreachable",
        2 => "packet too big",
        3 => "time exceeded in-transit",
        4 => "parameter problem",
        128 => "echo request",
        129 => "echo reply",
        130 => "multicast listener query",
        131 => "multicast listener report",
        132 => "multicast listener done",
        133 => "router solicitation",
        134 => "router advertisement",
        135 => "neighbor solicitation",
        136 => "neighbor advertisement",
        137 => "redirect",
        138 => "router renumbering",
        139 => "who-are-you request",
        140 => "who-are-you reply",
        141 => "inverse neighbor solicitation",
        142 => "inverse neighbor advertisement",
        143 => "multicast listener report v2",
        144 => "ha discovery request",
        145 => "ha discovery reply",
        146 => "mobile router solicitation",
        147 => "mobile router advertisement",
        155 => "RPL",
        200 => "mtrace response",
        201 => "mtrace message",
        _ => return None,
    })
}

pub(super) fn icmp6_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "icmp6";
    if length == 0 {
        nd.p("ICMP6, length 0 (invalid)");
        return Ok(());
    }
    let t = nd.u8(bp + field::TYPE)?;
    nd.p("ICMP6, ");
    match icmp6_type_name(t) {
        Some(n) => nd.p(n),
        None => {
            let _ = write!(nd.out, "unknown icmp6 type ({t})");
        }
    }
    // Read after the type is printed, as tcpdump does: a one-byte message still names it.
    let code = nd.u8(bp + field::CODE)?;
    // The packet an error quotes.
    let oip = bp + field::PAYLOAD.start;
    match t {
        1 => {
            match code {
                0 => nd.p(", unreachable route"),
                1 => nd.p(",  unreachable prohibited"),
                2 => nd.p(", beyond scope"),
                3 => nd.p(", unreachable address"),
                4 => nd.p(", unreachable port"),
                _ => {
                    // tcpdump follows this with a hex dump of the message on more lines.
                    let _ = write!(nd.out, ", unknown unreach code ({code})");
                    return Ok(());
                }
            }
            match code {
                0 | 1 | 3 => {
                    let d = nd.ip6(oip + ipv6::field::DST_ADDR.start)?;
                    let _ = write!(nd.out, " {d}");
                }
                2 => {
                    let d = nd.ip6(oip + ipv6::field::DST_ADDR.start)?;
                    let s = nd.ip6(oip + ipv6::field::SRC_ADDR.start)?;
                    let _ = write!(nd.out, " {d}, source address {s}");
                }
                _ => {
                    let Some((uh, prot)) = get_upperlayer(nd, oip)? else {
                        return Err(Jump);
                    };
                    let dport = nd.be16(uh + tcp::field::DST_PORT.start)?;
                    let d = nd.ip6(oip + ipv6::field::DST_ADDR.start)?;
                    match prot {
                        IPPROTO_TCP => {
                            let _ = write!(nd.out, ", {d} tcp port {dport}");
                        }
                        IPPROTO_UDP => {
                            let _ = write!(nd.out, ", {d} udp port {dport}");
                        }
                        _ => {
                            let _ =
                                write!(nd.out, ", {d} protocol {prot} port {dport} unreachable");
                        }
                    }
                }
            }
        }
        2 => {
            let mtu = nd.be32(bp + field::REST.start)?;
            let _ = write!(nd.out, ", mtu {mtu}");
        }
        3 => match code {
            0 => {
                let d = nd.ip6(oip + ipv6::field::DST_ADDR.start)?;
                let _ = write!(nd.out, " for {d}");
            }
            1 => nd.p(" (reassembly)"),
            _ => {
                let _ = write!(nd.out, ", unknown code ({code})");
            }
        },
        4 => {
            if !nd.ttest(
                oip + ipv6::field::DST_ADDR.start,
                ipv6::field::DST_ADDR.len(),
            ) {
                return Err(Jump);
            }
            let what = match code {
                0 => "erroneous",
                1 => "next header",
                2 => "option",
                3 => "incomplete header chain",
                _ => "",
            };
            if what.is_empty() {
                let _ = write!(nd.out, ", code-#{code}");
            } else {
                let ptr = nd.be32(bp + field::REST.start)?;
                let _ = write!(nd.out, ", {what} - octet {ptr}");
            }
        }
        128 | 129 => {
            let (id, seq) = (
                nd.be16(bp + field::ECHO_IDENT.start)?,
                nd.be16(bp + field::ECHO_SEQNO.start)?,
            );
            let _ = write!(nd.out, ", id {id}, seq {seq}");
        }
        133 | 134 => {}
        // Multicast listener discovery (RFC 2710, RFC 3810).
        130 => {
            if length == 24 {
                mld6_print(nd, bp)?;
            } else if length >= 28 {
                nd.p(" v2");
                mldv2_query_print(nd, bp, length)?;
            } else {
                let _ = write!(nd.out, " unknown-version (len {length}) ");
            }
        }
        131 | 132 => mld6_print(nd, bp)?,
        143 => {
            if length < 8 {
                let _ = write!(nd.out, " [invalid len {length}]");
            } else {
                let n = nd.be16(bp + 6)?;
                let _ = write!(nd.out, ", {n} group record(s)");
            }
        }
        // Mobile IPv6 (RFC 6275) solicitations: the identifier.
        144 | 146 => {
            let id = nd.be16(bp + 4)?;
            let _ = write!(nd.out, ", id 0x{id:04x}");
        }
        137 => {
            let dst = nd.ip6(bp + 24)?;
            let tgt = nd.ip6(bp + 8)?;
            let _ = write!(nd.out, ", {dst} to {tgt}");
        }
        135 => {
            let tgt = nd.ip6(bp + 8)?;
            let _ = write!(nd.out, ", who has {tgt}");
        }
        136 => {
            let tgt = nd.ip6(bp + 8)?;
            let _ = write!(nd.out, ", tgt is {tgt}");
        }
        _ => {
            // Types tcpcraft does not dissect: tcpdump prints a hex dump on more lines
            // for most of these; the first line is the same.
        }
    }
    let _ = write!(nd.out, ", length {length}");
    Ok(())
}

/// `mld6_print`: an MLDv1 message (nothing when it is not all captured).
fn mld6_print(nd: &mut Nd, bp: usize) -> R {
    if !nd.ttest(bp, 24) {
        return Ok(());
    }
    let delay = nd.be16(bp + 4)?;
    let addr = nd.ip6(bp + 8)?;
    let _ = write!(nd.out, "max resp delay: {delay} addr: {addr}");
    Ok(())
}

/// `mldv2_query_print` without -v: the group and how many sources.
fn mldv2_query_print(nd: &mut Nd, bp: usize, len: usize) -> R {
    let gaddr = nd.ip6(bp + 8)?;
    let _ = write!(nd.out, " [gaddr {gaddr}");
    let nsrcs = usize::from(nd.be16(bp + 26)?);
    if nsrcs > 0 {
        if len < 28 + nsrcs * 16 {
            nd.p(" [invalid number of sources]");
        } else {
            let _ = write!(nd.out, ", {nsrcs} source(s)");
        }
    }
    nd.p("]");
    Ok(())
}

/// `get_upperlayer`: the TCP/UDP header quoted in an ICMPv6 error, past extension
/// headers; `None` when it is something else or not captured.
fn get_upperlayer(nd: &Nd, ip6: usize) -> R<Option<(usize, u8)>> {
    if !nd.ttest(ip6, ipv6::field::HEADER_LEN) {
        return Ok(None);
    }
    let mut nh = nd.u8(ip6 + ipv6::field::NXT_HDR)?;
    let mut hlen = ipv6::field::HEADER_LEN;
    let mut bp = ip6;
    while bp < nd.snapend {
        bp += hlen;
        match nh {
            IPPROTO_TCP | IPPROTO_UDP => {
                let port = tcp::field::DST_PORT;
                return Ok(if nd.ttest(bp + port.start, port.len()) {
                    Some((bp, nh))
                } else {
                    None
                });
            }
            IPPROTO_HOPOPTS | IPPROTO_DSTOPTS | IPPROTO_ROUTING => {
                if !nd.ttest(bp + ext::field::LENGTH, 1) {
                    return Ok(None);
                }
                nh = nd.u8(bp + ext::field::NXT_HDR)?;
                hlen = (usize::from(nd.u8(bp + ext::field::LENGTH)?) + 1) << 3;
            }
            IPPROTO_FRAGMENT => {
                if !nd.ttest(
                    bp + ext::field::FRAG_OFF_M.start,
                    ext::field::FRAG_OFF_M.len(),
                ) {
                    return Ok(None);
                }
                if nd.be16(bp + ext::field::FRAG_OFF_M.start)? & 0xfff8 != 0 {
                    return Ok(None);
                }
                nh = nd.u8(bp + ext::field::NXT_HDR)?;
                hlen = ext::field::FRAG_IDENT.end;
            }
            IPPROTO_AH => {
                if !nd.ttest(bp + ext::field::LENGTH, 1) {
                    return Ok(None);
                }
                nh = nd.u8(bp + ext::field::NXT_HDR)?;
                hlen = (usize::from(nd.u8(bp + ext::field::LENGTH)?) + 2) << 2;
            }
            _ => return Ok(None),
        }
    }
    Ok(None)
}
