//! tcpdump's print-ip-demux.c: the protocol inside an IPv4 header, an IPv6 header or an
//! AH header, by its number. IPv4 and IPv6 inside IP go back down through [`Nd`]'s
//! table of lower printers (this module is what print_ip.rs and print_ip6.rs import).

use std::fmt::Write as _;

use super::nd::{
    IpRef, Jump, Nd, IPPROTO_AH, IPPROTO_DCCP, IPPROTO_EIGRP, IPPROTO_ESP, IPPROTO_GRE,
    IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IGMP, IPPROTO_IPCOMP, IPPROTO_IPV4, IPPROTO_IPV6,
    IPPROTO_NONE, IPPROTO_OSPF, IPPROTO_PIM, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_VRRP,
    MAX_IP_DEPTH, R,
};
use super::print_icmp::icmp_print;
use super::print_icmp6::icmp6_print;
use super::print_ip6ext::{ah_print, esp_print};
use super::print_iproto::{
    dccp_print, eigrp_print, igmp_print, ospf_print, pim_print, sctp_print, vrrp_print,
};
use super::print_tcp::tcp_print;
use super::print_tunnel::gre_print;
use super::print_udp::udp_print;
use crate::packet::ipv6::ext;
use crate::packet::{ipv4, ipv6};

/// tcpdump's `ip_demux_print`: the protocol inside an IP header.
pub(super) fn demux(
    nd: &mut Nd,
    bp: usize,
    length: usize,
    ip: IpRef,
    fragmented: bool,
    nh: u8,
) -> R {
    match nh {
        IPPROTO_TCP => tcp_print(nd, bp, length, Some(ip)),
        IPPROTO_UDP => udp_print(nd, bp, length, Some(ip), fragmented),
        IPPROTO_ICMP if !ip.v6 => icmp_print(nd, bp, length),
        IPPROTO_ICMP => {
            nd.p("[ICMP requires IPv4] (invalid)");
            Ok(())
        }
        IPPROTO_ICMPV6 if ip.v6 => icmp6_print(nd, bp, length),
        IPPROTO_ICMPV6 => {
            nd.p("[ICMPv6 requires IPv6] (invalid)");
            Ok(())
        }
        IPPROTO_IPV4 | IPPROTO_IPV6 => {
            nd.depth += 1;
            if nd.depth > MAX_IP_DEPTH {
                return Err(Jump);
            }
            if nh == IPPROTO_IPV4 {
                nd.print_ip(bp, length)
            } else {
                nd.print_ip6(bp, length)
            }
        }
        IPPROTO_NONE => {
            nd.p("no next header");
            Ok(())
        }
        IPPROTO_AH => {
            nd.depth += 1;
            if nd.depth > MAX_IP_DEPTH {
                return Err(Jump);
            }
            let advance = ah_print(nd, bp)?;
            let next = nd.u8(bp + ext::field::NXT_HDR)?;
            demux(
                nd,
                bp + advance,
                length.saturating_sub(advance),
                ip,
                fragmented,
                next,
            )
        }
        IPPROTO_ESP => esp_print(nd, bp, length),
        IPPROTO_IPCOMP => {
            nd.proto = "ipcomp";
            let cpi = nd.be16(bp + 2)?;
            let _ = write!(nd.out, "IPComp(cpi=0x{cpi:04x})");
            Ok(())
        }
        IPPROTO_SCTP => sctp_print(nd, bp, length, ip),
        IPPROTO_DCCP => dccp_print(nd, bp, length, ip),
        IPPROTO_GRE => gre_print(nd, bp, length),
        IPPROTO_IGMP => igmp_print(nd, bp, length),
        IPPROTO_PIM => pim_print(nd, bp, length),
        IPPROTO_OSPF => ospf_print(nd, bp, length),
        IPPROTO_EIGRP => eigrp_print(nd, bp, length),
        IPPROTO_VRRP => {
            let ttl = nd.u8(ip.at
                + if ip.v6 {
                    ipv6::field::HOP_LIMIT
                } else {
                    ipv4::field::TTL
                })?;
            vrrp_print(nd, bp, length, ttl)
        }
        _ => {
            let _ = write!(nd.out, " ip-proto-{nh} {length}");
            Ok(())
        }
    }
}
