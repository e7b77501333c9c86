//! UDP as tcpdump 4.99 prints it (print-udp.c): ports beside the enclosing IP header's
//! addresses, then DNS ([`super::print_dns`]) and the tunnels over UDP (VXLAN, Geneve,
//! MPLS; [`super::print_tunnel`]) by port, else the length.

use std::fmt::Write as _;

use super::nd::{IpRef, Jump, Nd, IPPROTO_UDP, MAX_IP_DEPTH, R};
use super::print_dns::domain_print;
use super::print_tunnel::{geneve_print, mpls_print, vxlan_print};
use crate::packet::udp::field;

pub(super) fn udp_print(
    nd: &mut Nd,
    bp: usize,
    length: usize,
    ip: Option<IpRef>,
    fragmented: bool,
) -> R {
    nd.proto = "udp";
    if !nd.ttest(bp + field::DST_PORT.start, field::DST_PORT.len()) {
        udpipaddr_print(nd, ip, None)?;
        return Err(Jump);
    }
    let sport = nd.be16(bp + field::SRC_PORT.start)?;
    let dport = nd.be16(bp + field::DST_PORT.start)?;
    if length < field::HEADER_LEN {
        udpipaddr_print(nd, ip, Some((sport, dport)))?;
        let _ = write!(nd.out, "truncated-udp {length}");
        return Ok(());
    }
    if !nd.ttest(bp + field::LENGTH.start, field::LENGTH.len()) {
        udpipaddr_print(nd, ip, Some((sport, dport)))?;
        return Err(Jump);
    }
    let mut ulen = usize::from(nd.be16(bp + field::LENGTH.start)?);
    if ulen == 0 && length > 65535 {
        ulen = length;
    }
    if ulen < field::HEADER_LEN {
        udpipaddr_print(nd, ip, Some((sport, dport)))?;
        let _ = write!(nd.out, "truncated-udplength {ulen}");
        return Ok(());
    }
    ulen -= field::HEADER_LEN;
    let mut length = length - field::HEADER_LEN;
    if ulen < length {
        length = ulen;
    }
    udpipaddr_print(nd, ip, Some((sport, dport)))?;
    if bp + field::HEADER_LEN > nd.snapend {
        return Err(Jump);
    }
    if sport == 53 || dport == 53 {
        return domain_print(nd, bp + field::HEADER_LEN, length, false);
    }
    let port = |p: u16| sport == p || dport == p;
    if port(4789) {
        return vxlan_print(nd, bp + field::HEADER_LEN, length);
    }
    if port(6081) {
        return geneve_print(nd, bp + field::HEADER_LEN, length);
    }
    if port(6635) {
        nd.depth += 1;
        if nd.depth > MAX_IP_DEPTH {
            return Err(Jump);
        }
        return mpls_print(nd, bp + field::HEADER_LEN, length);
    }
    if ulen > length && !fragmented {
        let _ = write!(nd.out, "UDP, bad length {ulen} > {length}");
    } else {
        let _ = write!(nd.out, "UDP, length {ulen}");
    }
    Ok(())
}

fn udpipaddr_print(nd: &mut Nd, ip: Option<IpRef>, ports: Option<(u16, u16)>) -> R {
    let in_ip = match ip {
        Some(ip) if ip.proto(nd)? == IPPROTO_UDP => Some(ip),
        _ => None,
    };
    match (in_ip, ports) {
        (Some(ip), None) => {
            let (s, d) = (ip.src(nd)?, ip.dst(nd)?);
            let _ = write!(nd.out, "{s} > {d}: ");
        }
        (Some(ip), Some((sp, dp))) => ip.push_ports(nd, sp, dp)?,
        (None, Some((sp, dp))) => {
            let _ = write!(nd.out, "{sp} > {dp}: ");
        }
        (None, None) => {}
    }
    Ok(())
}
