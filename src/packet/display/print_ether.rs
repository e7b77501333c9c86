//! Ethernet (with VLAN tags) and Linux cooked captures (v1), as tcpdump 4.99 prints them
//! without -e (print-ether.c, print-sll.c): the line starts with what the frame carries;
//! a frame whose ethertype tcpdump would not know gets the link header's line instead.
//! [`link_payload`] is the ethertype switch the other link layers and the tunnels share.

use std::fmt::Write as _;

use super::ethertype::{
    ethertype_name, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_VLANS,
};
use super::nd::{mac, Jump, Nd, MAX_IP_DEPTH, R};
use super::print_arp::arp_print;
use super::print_ip::ip_print;
use super::print_ip6::ip6_print;
use super::print_tunnel::{is_mpls, mpls_print};
use crate::packet::link::{field, sll_field};

pub(super) fn ether_print(nd: &mut Nd, length: usize) -> R {
    ether_print_at(nd, 0, length)
}

/// An Ethernet frame at `bp` (inside a tunnel: GRE, VXLAN, Geneve).
pub(super) fn ether_print_at(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "ether";
    if !nd.ttest(bp, field::PAYLOAD.start) {
        return Err(Jump);
    }
    let mut et = nd.be16(bp + field::ETHERTYPE.start)?;
    let mut at = bp + field::PAYLOAD.start;
    while ETHERTYPE_VLANS.contains(&et) {
        nd.proto = "vlan";
        et = nd.be16(at + 2)?;
        at += 4;
    }
    if et < 0x0600 && !nd.ttest(at, 3) {
        // An 802.3 length field: LLC follows, and not even its header is there.
        nd.proto = "llc";
        return Err(Jump);
    }
    if !link_payload(nd, et, at, length.saturating_sub(at - bp))? {
        let dst = mac(nd.slice(bp + field::DESTINATION.start, field::DESTINATION.len())?);
        let src = mac(nd.slice(bp + field::SOURCE.start, field::SOURCE.len())?);
        let what = if et < 0x0600 {
            "802.3".to_string()
        } else {
            format!(
                "ethertype {} (0x{et:04x})",
                ethertype_name(et).unwrap_or("Unknown")
            )
        };
        let _ = write!(nd.out, "{src} > {dst}, {what}, length {length}: ");
    }
    Ok(())
}

pub(super) fn sll_print(nd: &mut Nd, length: usize) -> R {
    nd.proto = "sll";
    let payload = sll_field::PAYLOAD.start;
    if !nd.ttest(0, payload) {
        return Err(Jump);
    }
    let et = nd.be16(sll_field::PROTOCOL.start)?;
    if !link_payload(nd, et, payload, length - payload)? {
        // tcpdump's `sll_print`, used when it cannot dissect what follows.
        let dir = sll_dir(u8::try_from(nd.be16(sll_field::PKTTYPE.start)?).unwrap_or(u8::MAX));
        let _ = write!(nd.out, "{dir:>3} ");
        // An Ethernet address: 6 of the 8 address bytes.
        if nd.be16(sll_field::HALEN.start)? == 6 {
            let m = mac(nd.slice(sll_field::ADDR.start, 6)?);
            let _ = write!(nd.out, "{m} ");
        }
        sll_protocol(nd, et, length);
    }
    Ok(())
}

/// A cooked capture's packet type as tcpdump names it (sockaddr_ll's PACKET_*).
pub(super) fn sll_dir(t: u8) -> &'static str {
    match t {
        0 => "In",
        1 => "B",
        2 => "M",
        3 => "P",
        4 => "Out",
        _ => "?",
    }
}

/// The end of a cooked capture's line when what follows is not dissected: the protocol
/// by name and the length.
pub(super) fn sll_protocol(nd: &mut Nd, et: u16, length: usize) {
    match et {
        0x0001 => nd.p("802.3"),
        0x0004 => nd.p("802.2"),
        _ => {
            let name = ethertype_name(et).unwrap_or("Unknown");
            let _ = write!(nd.out, "ethertype {name} (0x{et:04x})");
        }
    }
    let _ = write!(nd.out, ", length {length}: ");
}

/// Prints what a link header carries; `false` if tcpdump would not know the type.
pub(super) fn link_payload(nd: &mut Nd, et: u16, at: usize, length: usize) -> R<bool> {
    match et {
        ETHERTYPE_IPV4 => ip_print(nd, at, length)?,
        ETHERTYPE_IPV6 => ip6_print(nd, at, length)?,
        ETHERTYPE_ARP => arp_print(nd, at, length)?,
        _ if is_mpls(et) => {
            nd.depth += 1;
            if nd.depth > MAX_IP_DEPTH {
                return Err(Jump);
            }
            mpls_print(nd, at, length)?
        }
        _ => return Ok(false),
    }
    Ok(true)
}
