//! The printer's public entry points: the line `tcpdump -n -t -S` prints for a packet
//! (built, or captured with a link type), and the table of lower printers every [`Nd`]
//! carries. The printers themselves are one file per protocol (see the module map in
//! `display/mod.rs`).

use crate::packet::{Layer, LinkType, Packet};

use super::nd::{Lower, Nd};
use super::print_arp::arp_print;
use super::print_ether::{ether_print, ether_print_at, link_payload, sll_print};
use super::print_icmp::icmp_print;
use super::print_icmp6::icmp6_print;
use super::print_ip::{ip_print, ipn_print};
use super::print_ip6::ip6_print;
use super::print_link::{dlt_print, ppp_print};
use super::print_tcp::tcp_print;
use super::print_udp::udp_print;

/// Where IP in IP and the tunnels' payloads go back down to (see [`Lower`]).
static LOWER: Lower = Lower {
    ip: ip_print,
    ip6: ip6_print,
    ether: ether_print_at,
    ppp: ppp_print,
    ethertype: link_payload,
};

/// One line identical to `tcpdump -n -t -S` for the bytes this packet builds to.
///
/// The link type comes from the first layer (Ethernet, Linux cooked, else raw IP).
/// A packet without an IP layer (a bare `TCP()`, `UDP()`, `ICMP()`) prints what tcpdump
/// prints for that header inside IP, without the addresses; a bare `ARP()` prints
/// tcpdump's ARP line. Where tcpdump breaks the line before a tunnel's inner packet
/// (VXLAN), the two parts are joined by a space: a packet's summary is one line
/// (`decode` keeps tcpdump's lines as they are).
pub fn summary(p: &Packet) -> String {
    let s = summary_lines(p);
    if s.contains('\n') {
        s.split('\n')
            .map(str::trim_start)
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        s
    }
}

/// [`summary`] with tcpdump's line breaks.
fn summary_lines(p: &Packet) -> String {
    let bytes = p.to_bytes();
    match p.layers.first() {
        None => "empty packet".to_string(),
        Some(Layer::Ether(_)) => summary_bytes(&bytes, LinkType::Ethernet),
        Some(Layer::Sll(_)) => summary_bytes(&bytes, LinkType::Sll),
        Some(Layer::Ipv4(_) | Layer::Ipv6(_) | Layer::Raw(_) | Layer::Padding(_)) => {
            summary_bytes(&bytes, LinkType::RawIp)
        }
        Some(first) => {
            let mut nd = Nd::new(&bytes, &LOWER);
            let len = bytes.len();
            let r = match first {
                // ARP without a link header (sniffed on a packet socket, or built bare).
                Layer::Arp(_) => arp_print(&mut nd, 0, len),
                Layer::Tcp(_) => tcp_print(&mut nd, 0, len, None),
                Layer::Udp(_) => udp_print(&mut nd, 0, len, None, false),
                Layer::Icmp(_) => icmp_print(&mut nd, 0, len),
                _ => icmp6_print(&mut nd, 0, len),
            };
            nd.finish(r)
        }
    }
}

/// The tcpdump line for one captured frame whose bytes were all captured.
pub fn summary_bytes(bytes: &[u8], link: LinkType) -> String {
    summary_captured(bytes, bytes.len(), link)
}

/// The tcpdump line for a frame of which `bytes` were captured out of `wire_len` on the
/// wire (a pcap record's `caplen` and `len`): lengths come from the wire, reads stop at
/// the capture.
pub fn summary_captured(bytes: &[u8], wire_len: usize, link: LinkType) -> String {
    let wire_len = wire_len.max(bytes.len());
    let mut nd = Nd::new(bytes, &LOWER);
    let r = match link {
        LinkType::RawIp => ipn_print(&mut nd, 0, wire_len),
        LinkType::Ethernet => ether_print(&mut nd, wire_len),
        LinkType::Sll => sll_print(&mut nd, wire_len),
    };
    nd.finish(r)
}

/// The tcpdump line for a captured frame of any link type tcpcraft reads.
pub fn summary_dlt(bytes: &[u8], wire_len: usize, linktype: u32) -> String {
    let mut s = String::with_capacity(160);
    summary_dlt_into(&mut s, bytes, wire_len, linktype);
    s
}

/// [`summary_dlt`] into `line` (replacing what it held), so that a loop over a capture
/// reuses one buffer.
pub fn summary_dlt_into(line: &mut String, bytes: &[u8], wire_len: usize, linktype: u32) {
    if bytes.is_empty() {
        // tcpdump checks the record before any printer runs.
        line.clear();
        line.push_str(if wire_len == 0 {
            "[Invalid header: caplen==0, len==0]"
        } else {
            "[Invalid header: caplen==0]"
        });
        return;
    }
    let length = wire_len.max(bytes.len());
    let mut nd = Nd::with_buf(bytes, std::mem::take(line), &LOWER);
    let r = dlt_print(&mut nd, linktype, length);
    *line = nd.finish(r);
}
