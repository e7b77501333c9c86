//! Displays of a packet: the one-line tcpdump summary, scapy's `show2()` field tree, a
//! hexdump and JSON. Pure functions returning text (or a JSON value); none can panic,
//! whatever the packet holds.
//!
//! # The tcpdump line
//!
//! Identical to `tcpdump -n -t -S` (tcpdump 4.99). tcpdump's output is a function of the
//! bytes, including their oddities (a data offset that lies, an option length that
//! overruns the header, a capture cut short), so the printer works on the wire bytes and
//! follows tcpdump's printers step by step: the same checks in the same order, the same
//! truncation markers. Two kinds of truncation exist in tcpdump and both are kept apart
//! here: a failed bounds-checked read unwinds the whole packet and prints ` [|proto]`
//! (that is `nd::Jump`), while an explicit check lets the printer print its own marker
//! and stop (`[bad opt]`, ` [|tcp]>`). Checked against tcpdump 4.99.3 on scapy-made and
//! randomly damaged captures (tests/it/display_tcpdump.rs, tests/it/cli_decode.rs).
//!
//! As tcpdump's printers are one `print-*.c` file per protocol, each taking the bytes
//! left by the layer below, so are these:
//!
//! | file | prints (tcpdump's file) |
//! |---|---|
//! | `summary.rs` | the public entry points: [`summary()`], [`summary_bytes`], [`summary_captured`], [`summary_dlt`] |
//! | `nd.rs` | the truncation-aware byte reader `Nd` (netdissect.h's `GET_` macros), the line, the lower-printer table, address text, IP protocol numbers, the enclosing IP header (`IpRef`) |
//! | `ethertype.rs` | ethertype numbers and names (ethertype.h) |
//! | `print_link.rs` | pcap link types ([`dlt`]), NULL/LOOP, PPP, Cisco HDLC, SLL2, IPNET, IPoIB (print-null.c, print-ppp.c, print-chdlc.c, …) |
//! | `print_wifi.rs` | radiotap and 802.11 (print-802_11.c) |
//! | `print_ether.rs` | Ethernet with VLAN tags, Linux cooked v1, the ethertype switch (print-ether.c, print-sll.c) |
//! | `print_arp.rs` | ARP (print-arp.c) |
//! | `print_ip.rs` | IPv4 and the raw-IP entry point (print-ip.c) |
//! | `print_ip6.rs` | IPv6, hop-by-hop (Jumbo), destination options, fragment (print-ip6.c) |
//! | `print_ip6ext.rs` | routing, mobility, AH, ESP (print-rt6.c, print-mobility.c, print-ah.c, print-esp.c) |
//! | `print_ip_demux.rs` | the protocol inside IP (print-ip-demux.c) |
//! | `print_tcp.rs` | TCP, its options, TCP Fast Open, the payload by port (print-tcp.c) |
//! | `print_mptcp.rs` | Multipath TCP options (print-mptcp.c) |
//! | `print_txt.rs` | first lines of HTTP, RTSP, FTP, SMTP, whois; SSH banners (util-print.c, print-ssh.c) |
//! | `print_apps.rs` | BGP, OpenFlow, RPKI-RTR names; BEEP, RESP |
//! | `print_dns.rs` | DNS over UDP and TCP (print-domain.c) |
//! | `print_udp.rs` | UDP (print-udp.c) |
//! | `print_icmp.rs` | ICMP (print-icmp.c) |
//! | `print_icmp6.rs` | ICMPv6 and MLD (print-icmp6.c) |
//! | `print_iproto.rs` | SCTP, DCCP, PIM, OSPF, VRRP, IGMP, EIGRP |
//! | `print_tunnel.rs` | GRE, MPLS, VXLAN, Geneve |
//!
//! A printer calls the printers of the layers above it (a link layer calls IP, IP calls
//! the demux, the demux TCP, TCP the applications) and the helpers (`nd.rs`,
//! `ethertype.rs`). Going back down — IP in IP, what a tunnel carries — goes through the
//! table of lower printers in `Nd` (tcpdump's netdissect.h declarations), filled in by
//! `summary.rs`; so no module imports one that imports it back (checked by
//! tests/it/structure.rs).
//!
//! Not decoded (the line ends after the transport layer, where tcpdump goes on): other
//! UDP applications (NTP, DHCP, SNMP, TFTP, … — the ports are listed in
//! scripts/gen_decode_fixture.py), TCP applications such as telnet, PPTP, SMB or LDP,
//! ICMPv6 node information, router renumbering and RPL messages, IP protocols beyond
//! those above (RSVP, PGM, …), ERSPAN, and LLC frames other than SNAP.
//!
//! # The other displays
//!
//! `fields.rs` describes each layer's fields once, for `show.rs` (scapy's `show2()`) and
//! `json.rs`; `hexdump.rs`; `literal.rs` (how the language writes bytes and TCP options).

mod ethertype;
mod fields;
mod hexdump;
mod json;
mod literal;
mod nd;
mod print_apps;
mod print_arp;
mod print_dns;
mod print_ether;
mod print_icmp;
mod print_icmp6;
mod print_ip;
mod print_ip6;
mod print_ip6ext;
mod print_ip_demux;
mod print_iproto;
mod print_link;
mod print_mptcp;
mod print_tcp;
mod print_tunnel;
mod print_txt;
mod print_udp;
mod print_wifi;
mod show;
mod summary;

pub use hexdump::hexdump;
pub use json::json;
pub use literal::{bytes_repr, option_pattern_text, option_text};
pub use nd::ip6_string;
pub use print_link::{dlt, dlt_known, ip_offset};
pub use show::show;
pub use summary::{summary, summary_bytes, summary_captured, summary_dlt, summary_dlt_into};
