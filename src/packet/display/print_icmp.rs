//! ICMP as tcpdump 4.99 prints it without -v (print-icmp.c): the message by type and
//! code, with the quoted datagram's destination for errors.

use std::fmt::Write as _;

use super::nd::{Jump, Nd, IPPROTO_TCP, IPPROTO_UDP, R};
use crate::packet::icmp::field;
use crate::packet::{ipv4, tcp};

/// `HH:MM:SS.mmm` from milliseconds since midnight UT (hours are not wrapped).
fn icmp_tstamp(t: u32) -> String {
    let ms = t % 1000;
    let sec = t / 1000;
    let min = sec / 60;
    let hrs = min / 60;
    format!("{:02}:{:02}:{:02}.{:03}", hrs, min % 60, sec % 60, ms)
}

pub(super) fn icmp_print(nd: &mut Nd, bp: usize, plen: usize) -> R {
    nd.proto = "icmp";
    let t = nd.u8(bp + field::TYPE)?;
    let code = nd.u8(bp + field::CODE)?;
    // The datagram an error quotes.
    let quoted = bp + field::PAYLOAD.start;
    let quoted_dst = |nd: &Nd| nd.ip4(quoted + ipv4::field::DST_ADDR.start);
    let s = match t {
        0 | 8 => format!(
            "echo {}, id {}, seq {}",
            if t == 8 { "request" } else { "reply" },
            nd.be16(bp + field::ECHO_IDENT.start)?,
            nd.be16(bp + field::ECHO_SEQNO.start)?
        ),
        3 => {
            let dst = quoted_dst(nd)?;
            match code {
                2 => format!(
                    "{dst} protocol {} unreachable",
                    nd.u8(quoted + ipv4::field::PROTOCOL)?
                ),
                3 => {
                    let proto = nd.u8(quoted + ipv4::field::PROTOCOL)?;
                    let hlen = usize::from(nd.u8(quoted + ipv4::field::VER_IHL)? & 0x0f) * 4;
                    let dport = nd.be16(quoted + hlen + tcp::field::DST_PORT.start)?;
                    match proto {
                        IPPROTO_TCP => format!("{dst} tcp port {dport} unreachable"),
                        IPPROTO_UDP => format!("{dst} udp port {dport} unreachable"),
                        _ => format!("{dst} protocol {proto} port {dport} unreachable"),
                    }
                }
                4 => match nd.be16(bp + 6)? {
                    0 => format!("{dst} unreachable - need to frag"),
                    mtu => format!("{dst} unreachable - need to frag (mtu {mtu})"),
                },
                0 => format!("net {dst} unreachable"),
                1 => format!("host {dst} unreachable"),
                5 => format!("{dst} unreachable - source route failed"),
                6 => format!("net {dst} unreachable - unknown"),
                7 => format!("host {dst} unreachable - unknown"),
                8 => format!("{dst} unreachable - source host isolated"),
                9 => format!("net {dst} unreachable - admin prohibited"),
                10 => format!("host {dst} unreachable - admin prohibited"),
                11 => format!("net {dst} unreachable - tos prohibited"),
                12 => format!("host {dst} unreachable - tos prohibited"),
                13 => format!("host {dst} unreachable - admin prohibited filter"),
                14 => format!("host {dst} unreachable - host precedence violation"),
                15 => format!("host {dst} unreachable - precedence cutoff"),
                _ => format!("{dst} unreachable - #{code}"),
            }
        }
        5 => {
            let dst = quoted_dst(nd)?;
            let gw = nd.ip4(bp + field::REST.start)?;
            match code {
                0 => format!("redirect {dst} to net {gw}"),
                1 => format!("redirect {dst} to host {gw}"),
                2 => format!("redirect-tos {dst} to net {gw}"),
                3 => format!("redirect-tos {dst} to host {gw}"),
                _ => format!("redirect-#{code} {dst} to {gw}"),
            }
        }
        9 => {
            let num = nd.u8(bp + 4)?;
            let size = nd.u8(bp + 5)?;
            let lifetime = u32::from(nd.be16(bp + 6)?);
            let mut s = String::from("router advertisement lifetime ");
            if lifetime < 60 {
                let _ = write!(s, "{lifetime}");
            } else if lifetime < 3600 {
                let _ = write!(s, "{}:{:02}", lifetime / 60, lifetime % 60);
            } else {
                let _ = write!(
                    s,
                    "{}:{:02}:{:02}",
                    lifetime / 3600,
                    (lifetime % 3600) / 60,
                    lifetime % 60
                );
            }
            let _ = write!(s, " {num}:");
            if size != 2 {
                let _ = write!(s, " [size {size}]");
            } else {
                for i in 0..usize::from(num) {
                    let at = bp + field::PAYLOAD.start + 8 * i;
                    if !nd.ttest(at, 8) {
                        return Err(Jump);
                    }
                    let _ = write!(s, " {{{} {}}}", nd.ip4(at)?, nd.be32(at + 4)?);
                }
            }
            s
        }
        11 => {
            quoted_dst(nd)?;
            match code {
                0 => "time exceeded in-transit".to_string(),
                1 => "ip reassembly time exceeded".to_string(),
                _ => format!("time exceeded-#{code}"),
            }
        }
        12 => {
            if code != 0 {
                format!("parameter problem - code {code}")
            } else {
                format!(
                    "parameter problem - octet {}",
                    nd.u8(bp + field::REST.start)?
                )
            }
        }
        13 => format!(
            "time stamp query id {} seq {}",
            nd.be16(bp + field::ECHO_IDENT.start)?,
            nd.be16(bp + field::ECHO_SEQNO.start)?
        ),
        14 => {
            let (id, seq) = (
                nd.be16(bp + field::ECHO_IDENT.start)?,
                nd.be16(bp + field::ECHO_SEQNO.start)?,
            );
            let (o, r, x) = (nd.be32(bp + 8)?, nd.be32(bp + 12)?, nd.be32(bp + 16)?);
            format!(
                "time stamp reply id {id} seq {seq}: org {}, recv {}, xmit {}",
                icmp_tstamp(o),
                icmp_tstamp(r),
                icmp_tstamp(x)
            )
        }
        18 => format!("address mask is 0x{:08x}", nd.be32(bp + 8)?),
        4 => "source quench".to_string(),
        10 => "router solicitation".to_string(),
        15 => "information request".to_string(),
        16 => "information reply".to_string(),
        17 => "address mask request".to_string(),
        _ => format!("type-#{t}"),
    };
    let _ = write!(nd.out, "ICMP {s}, length {plen}");
    Ok(())
}
