//! The one-line summary, identical to `tcpdump -n -t -S` (tcpdump 4.99).
//!
//! tcpdump's output is a function of the bytes, including their oddities (a data offset
//! that lies, an option length that overruns the header, a capture cut short), so this
//! printer works on the wire bytes and follows tcpdump's printers step by step: the same
//! checks in the same order, the same truncation markers. Two kinds of truncation exist in
//! tcpdump and both are kept apart here: a failed bounds-checked read unwinds the whole
//! packet and prints ` [|proto]` (that is [`Jump`]), while an explicit check lets the
//! printer print its own marker and stop (`[bad opt]`, ` [|tcp]>`).
//!
//! Covered as tcpdump prints them: Ethernet (with VLAN tags), Linux cooked, raw IP (the
//! other link types are in `link.rs` and `wifi.rs`); ARP; IPv4 (also in IPv4/IPv6
//! tunnels), IPv6 with hop-by-hop (Jumbo Payload too), routing (`ip6ext.rs`),
//! destination-options, fragment and mobility headers; AH and ESP; TCP with every option tcpdump
//! names (MPTCP too); UDP; ICMP and ICMPv6 (errors, echo, neighbour discovery, MLD);
//! SCTP, DCCP, PIM, OSPF, VRRP, IGMP, EIGRP, IPComp (`iproto.rs`); GRE, MPLS, VXLAN,
//! Geneve (`tunnel.rs`); the first line of HTTP, RTSP, FTP, SMTP, whois, SSH banners and
//! DNS, and the names tcpdump gives BGP, OpenFlow, RPKI-RTR, BEEP and RESP (`apps.rs`).
//! Checked against tcpdump 4.99.3 on scapy-made and randomly damaged captures
//! (tests/display_tcpdump.rs, tests/cli_decode.rs).
//!
//! Not decoded (the line ends after the transport layer, where tcpdump goes on): other
//! UDP applications (NTP, DHCP, SNMP, TFTP, … — the ports are listed in
//! scripts/gen_decode_fixture.py), TCP applications such as telnet, PPTP, SMB or LDP,
//! ICMPv6 node information, router renumbering and RPL messages, IP protocols beyond
//! those above (RSVP, PGM, …), ERSPAN, and LLC frames other than SNAP.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::packet::{Layer, LinkType, Packet};

/// A bounds-checked read ran past the captured bytes: tcpdump's `longjmp` to its
/// truncation handler, which prints ` [|proto]` for the protocol being printed.
pub(super) struct Jump;

pub(super) type R<T = ()> = Result<T, Jump>;

/// One line identical to `tcpdump -n -t -S` for the bytes this packet builds to.
///
/// The link type comes from the first layer (Ethernet, Linux cooked, else raw IP).
/// A packet without an IP layer (a bare `TCP()`, `UDP()`, `ICMP()`) prints what tcpdump
/// prints for that header inside IP, without the addresses; a bare `ARP()` prints
/// tcpdump's ARP line.
pub fn summary(p: &Packet) -> String {
    let bytes = p.to_bytes();
    match p.layers.first() {
        None => "empty packet".to_string(),
        Some(Layer::Ether(_)) => summary_bytes(&bytes, LinkType::Ethernet),
        Some(Layer::Sll(_)) => summary_bytes(&bytes, LinkType::Sll),
        Some(Layer::Ipv4(_) | Layer::Ipv6(_) | Layer::Raw(_) | Layer::Padding(_)) => {
            summary_bytes(&bytes, LinkType::RawIp)
        }
        Some(first) => {
            let mut nd = Nd::new(&bytes);
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
    let mut nd = Nd::new(bytes);
    let r = match link {
        LinkType::RawIp => ipn_print(&mut nd, 0, wire_len),
        LinkType::Ethernet => ether_print(&mut nd, wire_len),
        LinkType::Sll => sll_print(&mut nd, wire_len),
    };
    nd.finish(r)
}

/// Printing state: the bytes, where the readable part ends (tcpdump's `snapend`, moved
/// in by IP length fields), the protocol being printed (for ` [|proto]`), and the line.
pub(super) struct Nd<'a> {
    b: &'a [u8],
    pub(super) snapend: usize,
    pub(super) proto: &'static str,
    pub(super) out: String,
    /// IP headers inside IP headers so far (tunnels recurse; see [`MAX_IP_DEPTH`]).
    pub(super) depth: usize,
}

/// How many IP headers deep (IP in IP in IPv6 …) the printer follows. tcpdump has no
/// limit, but a crafted 64 KiB packet of nested headers would exhaust the stack; past
/// this depth the line ends with the truncation marker.
pub(super) const MAX_IP_DEPTH: usize = 32;

impl<'a> Nd<'a> {
    pub(super) fn new(b: &'a [u8]) -> Nd<'a> {
        Nd::with_buf(b, String::with_capacity(160))
    }

    /// Printing into a buffer reused from packet to packet (emptied first).
    pub(super) fn with_buf(b: &'a [u8], mut out: String) -> Nd<'a> {
        out.clear();
        Nd {
            b,
            snapend: b.len(),
            proto: "",
            out,
            depth: 0,
        }
    }

    pub(super) fn finish(mut self, r: R) -> String {
        if r.is_err() {
            self.trunc();
        }
        self.out
    }

    /// `ND_TTEST_LEN(at, len)`: are `len` bytes from `at` readable?
    pub(super) fn ttest(&self, at: usize, len: usize) -> bool {
        at.checked_add(len).is_some_and(|end| end <= self.snapend)
    }

    pub(super) fn u8(&self, at: usize) -> R<u8> {
        if self.ttest(at, 1) {
            self.b.get(at).copied().ok_or(Jump)
        } else {
            Err(Jump)
        }
    }

    pub(super) fn be16(&self, at: usize) -> R<u16> {
        Ok(u16::from_be_bytes([self.u8(at)?, self.u8(at + 1)?]))
    }

    pub(super) fn be32(&self, at: usize) -> R<u32> {
        Ok(u32::from(self.be16(at)?) << 16 | u32::from(self.be16(at + 2)?))
    }

    pub(super) fn slice(&self, at: usize, len: usize) -> R<&'a [u8]> {
        if self.ttest(at, len) {
            self.b.get(at..at + len).ok_or(Jump)
        } else {
            Err(Jump)
        }
    }

    pub(super) fn ip4(&self, at: usize) -> R<String> {
        let s = self.slice(at, 4)?;
        Ok(Ipv4Addr::new(s[0], s[1], s[2], s[3]).to_string())
    }

    pub(super) fn ip6(&self, at: usize) -> R<String> {
        let s = self.slice(at, 16)?;
        let mut a = [0u8; 16];
        a.copy_from_slice(s);
        Ok(ip6_string(&a))
    }

    pub(super) fn p(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// A number in decimal, without going through `core::fmt` (the hot path).
    pub(super) fn num(&mut self, mut n: u64) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        // Only ASCII digits: the check cannot fail.
        self.out
            .push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
    }

    /// The IPv4 address at `at`, dotted, written straight into the line.
    pub(super) fn push_ip4(&mut self, at: usize) -> R {
        let a = self.slice(at, 4)?;
        for (i, &x) in a.iter().enumerate() {
            if i > 0 {
                self.out.push('.');
            }
            self.num(x.into());
        }
        Ok(())
    }

    /// `nd_print_trunc`.
    pub(super) fn trunc(&mut self) {
        let _ = write!(self.out, " [|{}]", self.proto);
    }
}

/// An IPv6 address the way tcpdump writes it (`addrtostr6`, after BIND's `inet_ntop`):
/// the first longest run of two or more zero words as `::`, an embedded IPv4 address
/// for `::a.b.c.d` and `::ffff:a.b.c.d`.
pub fn ip6_string(a: &[u8; 16]) -> String {
    let mut w = [0u16; 8];
    for (i, word) in w.iter_mut().enumerate() {
        *word = u16::from_be_bytes([a[2 * i], a[2 * i + 1]]);
    }
    // (base, len) of the best run of zero words.
    let mut best: Option<(usize, usize)> = None;
    let mut cur: Option<(usize, usize)> = None;
    for (i, &word) in w.iter().enumerate() {
        if word == 0 {
            cur = Some(match cur {
                None => (i, 1),
                Some((b, l)) => (b, l + 1),
            });
        } else if let Some(c) = cur.take() {
            if best.is_none_or(|b| c.1 > b.1) {
                best = Some(c);
            }
        }
    }
    if let Some(c) = cur {
        if best.is_none_or(|b| c.1 > b.1) {
            best = Some(c);
        }
    }
    let best = best.filter(|b| b.1 >= 2);
    let mut s = String::with_capacity(40);
    for i in 0..8 {
        if let Some((base, len)) = best {
            if i >= base && i < base + len {
                if i == base {
                    s.push(':');
                }
                continue;
            }
        }
        if i != 0 {
            s.push(':');
        }
        if i == 6 {
            if let Some((0, len)) = best {
                if len == 6 || (len == 5 && w[5] == 0xffff) {
                    let _ = write!(s, "{}", Ipv4Addr::new(a[12], a[13], a[14], a[15]));
                    break;
                }
            }
        }
        let _ = write!(s, "{:x}", w[i]);
    }
    if let Some((base, len)) = best {
        if base + len == 8 {
            s.push(':');
        }
    }
    s
}

pub(super) fn mac(b: &[u8]) -> String {
    let mut s = String::with_capacity(17);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{x:02x}");
    }
    s
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_TRAIL: u16 = 0x1000;
/// 802.1Q VLAN tags (and the QinQ variants): tcpdump without -e prints nothing for them.
const ETHERTYPE_VLANS: [u16; 4] = [0x8100, 0x88a8, 0x9100, 0x9200];

/// tcpdump's names for ethertypes (its `ethertype_values`, read back from its output).
pub(super) fn ethertype_name(et: u16) -> Option<&'static str> {
    Some(match et {
        0x0600 => "NS",
        0x0707 => "GeoNet (old)",
        0x0800 => "IPv4",
        0x0806 => "ARP",
        0x1000 => "Trail",
        0x1111 => "CALM FAST",
        0x6001 => "MOP DL",
        0x6002 => "MOP RC",
        0x6003 => "DN",
        0x6004 => "LAT",
        0x6007 => "SCA",
        0x6558 => "TEB",
        0x8035 => "Reverse ARP",
        0x8038 => "Lanbridge",
        0x803c => "DEC DNS",
        0x803e => "DEC DTS",
        0x805b => "VEXP",
        0x805c => "VPROD",
        0x809b => "Appletalk",
        0x80f3 => "Appletalk ARP",
        0x8100 => "802.1Q",
        0x8137 => "IPX",
        0x86dd => "IPv6",
        0x8808 => "MPCP",
        0x8809 => "Slow Protocols",
        0x880b => "PPP",
        0x8847 => "MPLS unicast",
        0x8848 => "MPLS multicast",
        0x8863 => "PPPoE D",
        0x8864 => "PPPoE S",
        0x886f => "MS NLB heartbeat",
        0x8870 => "Jumbo",
        0x888e => "EAPOL",
        0x8899 => "Realtek protocols",
        0x88a2 => "AoE",
        0x88a8 => "802.1Q-QinQ",
        0x88ca => "TIPC",
        0x88cc => "LLDP",
        0x88e5 => "802.1AE MACsec",
        0x88f7 => "PTP",
        0x8902 => "CFM",
        0x893a => "IEEE1905.1",
        0x8947 => "GeoNet",
        0x894f => "NSH",
        0x9000 => "Loopback",
        0x9100 => "802.1Q-9100",
        0x9200 => "802.1Q-9200",
        0xabcd => "CFM (old)",
        0xd28b => "Arista Vendor Specific Protocol",
        0xfefe => "OSI",
        _ => return None,
    })
}

pub(super) fn ether_print(nd: &mut Nd, length: usize) -> R {
    ether_print_at(nd, 0, length)
}

/// An Ethernet frame at `bp` (inside a tunnel: GRE, VXLAN, Geneve).
pub(super) fn ether_print_at(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "ether";
    if !nd.ttest(bp, 14) {
        return Err(Jump);
    }
    let mut et = nd.be16(bp + 12)?;
    let mut at = bp + 14;
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
        let dst = mac(nd.slice(bp, 6)?);
        let src = mac(nd.slice(bp + 6, 6)?);
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
    if !nd.ttest(0, 16) {
        return Err(Jump);
    }
    let et = nd.be16(14)?;
    if !link_payload(nd, et, 16, length - 16)? {
        // tcpdump's `sll_print`, used when it cannot dissect what follows.
        let dir = sll_dir(u8::try_from(nd.be16(0)?).unwrap_or(u8::MAX));
        let _ = write!(nd.out, "{dir:>3} ");
        if nd.be16(4)? == 6 {
            let m = mac(nd.slice(6, 6)?);
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
        _ if super::tunnel::is_mpls(et) => {
            nd.depth += 1;
            if nd.depth > MAX_IP_DEPTH {
                return Err(Jump);
            }
            super::tunnel::mpls_print(nd, at, length)?
        }
        _ => return Ok(false),
    }
    Ok(true)
}

pub(super) fn arp_print(nd: &mut Nd, ap: usize, length: usize) -> R {
    nd.proto = "arp";
    if !nd.ttest(ap, 8) {
        return Err(Jump);
    }
    let hrd = nd.be16(ap)?;
    let pro = nd.be16(ap + 2)?;
    let hln = usize::from(nd.u8(ap + 4)?);
    let pln = usize::from(nd.u8(ap + 5)?);
    let op = nd.be16(ap + 6)?;
    let sha = ap + 8;
    let spa = sha + hln;
    let tha = spa + pln;
    let tpa = tha + hln;
    if !nd.ttest(tpa, pln) {
        return Err(Jump);
    }
    nd.p("ARP, ");
    if (pro != ETHERTYPE_IPV4 && pro != ETHERTYPE_TRAIL) || pln != 4 || hln == 0 {
        let hw = match hrd {
            1 => "Ethernet".to_string(),
            6 => "TokenRing".to_string(),
            _ => format!("Unknown Hardware ({hrd})"),
        };
        let proto = match ethertype_name(pro) {
            Some(n) => n.to_string(),
            None => format!("Unknown Protocol (0x{pro:04x})"),
        };
        let _ = write!(
            nd.out,
            "{hw} (len {hln}), {proto} (len {pln}), length {length}"
        );
        return Ok(());
    }
    let opname = match op {
        1 => "Request".to_string(),
        2 => "Reply".to_string(),
        3 => "Reverse Request".to_string(),
        4 => "Reverse Reply".to_string(),
        8 => "Inverse Request".to_string(),
        9 => "Inverse Reply".to_string(),
        10 => "NACK Reply".to_string(),
        _ => format!("Unknown ({op})"),
    };
    let _ = write!(nd.out, "{opname} ");
    let paddr = |nd: &Nd, at: usize| -> R<String> { nd.ip4(at) };
    let hwaddr = |nd: &Nd, at: usize| -> R<String> { Ok(mac(nd.slice(at, hln)?)) };
    match op {
        1 => {
            let t = paddr(nd, tpa)?;
            let _ = write!(nd.out, "who-has {t}");
            let th = nd.slice(tha, hln)?;
            if th.iter().any(|&b| b != 0) {
                let _ = write!(nd.out, " ({})", mac(th));
            }
            let s = paddr(nd, spa)?;
            let _ = write!(nd.out, " tell {s}");
        }
        2 => {
            let (s, m) = (paddr(nd, spa)?, hwaddr(nd, sha)?);
            let _ = write!(nd.out, "{s} is-at {m}");
        }
        3 | 8 => {
            let (t, s) = (hwaddr(nd, tha)?, hwaddr(nd, sha)?);
            let _ = write!(nd.out, "who-is {t} tell {s}");
        }
        4 => {
            let (m, t) = (hwaddr(nd, tha)?, paddr(nd, tpa)?);
            let _ = write!(nd.out, "{m} at {t}");
        }
        9 => {
            let (m, s) = (hwaddr(nd, sha)?, paddr(nd, spa)?);
            let _ = write!(nd.out, "{m} at {s}");
        }
        // tcpdump follows these with a hex dump on lines of their own.
        _ => return Ok(()),
    }
    let _ = write!(nd.out, ", length {length}");
    Ok(())
}

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

const IPPROTO_HOPOPTS: u8 = 0;
const IPPROTO_ICMP: u8 = 1;
const IPPROTO_IPV4: u8 = 4;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_DCCP: u8 = 33;
const IPPROTO_IPV6: u8 = 41;
const IPPROTO_ROUTING: u8 = 43;
const IPPROTO_FRAGMENT: u8 = 44;
const IPPROTO_ESP: u8 = 50;
const IPPROTO_MOBILITY: u8 = 135;
const IPPROTO_AH: u8 = 51;
const IPPROTO_ICMPV6: u8 = 58;
const IPPROTO_NONE: u8 = 59;
const IPPROTO_DSTOPTS: u8 = 60;
const IPPROTO_SCTP: u8 = 132;
const IPPROTO_IGMP: u8 = 2;
const IPPROTO_GRE: u8 = 47;
const IPPROTO_EIGRP: u8 = 88;
const IPPROTO_OSPF: u8 = 89;
const IPPROTO_PIM: u8 = 103;
const IPPROTO_VRRP: u8 = 112;
const IPPROTO_IPCOMP: u8 = 108;

/// Where the enclosing IP header is and which version it is: TCP and UDP print its
/// addresses beside their ports.
#[derive(Clone, Copy)]
pub(super) struct IpRef {
    at: usize,
    v6: bool,
}

impl IpRef {
    /// The protocol field of the IP header itself (IPv6: the fixed header's next header).
    fn proto(self, nd: &Nd) -> R<u8> {
        nd.u8(self.at + if self.v6 { 6 } else { 9 })
    }
    /// Writes `src.sport > dst.dport: ` (the TCP and UDP line's start).
    fn push_ports(self, nd: &mut Nd, sport: u16, dport: u16) -> R {
        if self.v6 {
            let (s, d) = (self.src(nd)?, self.dst(nd)?);
            nd.p(&s);
            nd.out.push('.');
            nd.num(sport.into());
            nd.p(" > ");
            nd.p(&d);
        } else {
            // Both addresses are read before anything is written, as above.
            nd.slice(self.at + 12, 8)?;
            nd.push_ip4(self.at + 12)?;
            nd.out.push('.');
            nd.num(sport.into());
            nd.p(" > ");
            nd.push_ip4(self.at + 16)?;
        }
        nd.out.push('.');
        nd.num(dport.into());
        nd.p(": ");
        Ok(())
    }

    pub(super) fn src(self, nd: &Nd) -> R<String> {
        if self.v6 {
            nd.ip6(self.at + 8)
        } else {
            nd.ip4(self.at + 12)
        }
    }
    pub(super) fn dst(self, nd: &Nd) -> R<String> {
        if self.v6 {
            nd.ip6(self.at + 24)
        } else {
            nd.ip4(self.at + 16)
        }
    }
}

pub(super) fn ip_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "ip";
    let ver = nd.u8(bp)? >> 4;
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
    if !nd.ttest(bp, 20) {
        return Err(Jump);
    }
    if length < 20 {
        let _ = write!(nd.out, "truncated-ip {length}");
        return Ok(());
    }
    let hlen = usize::from(nd.u8(bp)? & 0x0f) * 4;
    if hlen < 20 {
        let _ = write!(nd.out, "bad-hlen {hlen}");
        return Ok(());
    }
    let len = usize::from(nd.be16(bp + 2)?);
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
    let off = nd.be16(bp + 6)?;
    let proto = nd.u8(bp + 9)?;
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

pub(super) fn ip6_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "ip6";
    if !nd.ttest(bp, 40) {
        return Err(Jump);
    }
    nd.p("IP6 ");
    if length < 40 {
        let _ = write!(nd.out, "truncated-ip6 {length}");
        return Ok(());
    }
    let ver = nd.u8(bp)? >> 4;
    if ver != 6 {
        let _ = write!(nd.out, "version error: {ver} != 6");
        return Ok(());
    }
    let payload_len = usize::from(nd.be16(bp + 4)?);
    let mut nh = nd.u8(bp + 6)?;
    // A zero payload length announces a jumbogram (RFC 2675) whose length is in a
    // hop-by-hop option; without that header tcpdump reads no payload at all.
    let jumbo_pending = payload_len == 0 && nh == IPPROTO_HOPOPTS;
    let mut len = if jumbo_pending {
        length
    } else {
        payload_len + 40
    };
    if payload_len != 0 && length < len {
        let _ = write!(nd.out, "truncated-ip6 - {} bytes missing!", len - length);
    }
    let saved = nd.snapend;
    nd.snapend = nd.snapend.min(bp + len);
    let ip = IpRef { at: bp, v6: true };
    let mut cp = bp;
    let mut advance = 40usize;
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
        if cp == bp + 40 && !matches!(nh, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP | IPPROTO_DCCP) {
            let (s, d) = (ip.src(nd)?, ip.dst(nd)?);
            let _ = write!(nd.out, "{s} > {d}: ");
        }
        match nh {
            IPPROTO_HOPOPTS => {
                if found_hbh {
                    nd.p("[The Hop-by-Hop Options header was already found] (invalid)");
                    break;
                }
                if cp != bp + 40 {
                    nd.p("[The Hop-by-Hop Options header don't follow the IPv6 header] (invalid)");
                    break;
                }
                nd.proto = "hbhopt";
                let mut jumbo = None;
                let ok = match nd.u8(cp + 1) {
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
                    let total = j as usize + 40;
                    if length < total {
                        let _ = write!(nd.out, "truncated-ip6 - {} bytes missing!", total - length);
                    }
                    nd.snapend = saved.min(bp + total);
                    len = total - 40;
                }
                found_hbh = true;
                nh = nd.u8(cp)?;
            }
            IPPROTO_DSTOPTS => {
                nd.proto = "dstopt";
                let optlen = (usize::from(nd.u8(cp + 1)?) + 1) << 3;
                if !nd.ttest(cp, optlen) {
                    return Err(Jump);
                }
                // Destination options are walked only with -v.
                nd.p("DSTOPT ");
                advance = optlen;
                nh = nd.u8(cp)?;
            }
            IPPROTO_ROUTING => {
                let _ = nd.u8(cp)?;
                match super::ip6ext::rt6_print(nd, cp)? {
                    Some(a) => advance = a,
                    None => break,
                }
                nh = nd.u8(cp)?;
            }
            IPPROTO_MOBILITY => {
                super::ip6ext::mobility_print(nd, cp)?;
                break;
            }
            IPPROTO_FRAGMENT => {
                nd.proto = "frag6";
                let off = nd.be16(cp + 2)? & 0xfff8;
                // tcpdump computes this in `u_int`; a lying payload length wraps.
                let rest = (40 + payload_len as u32)
                    .wrapping_sub((cp - bp) as u32)
                    .wrapping_sub(8);
                let _ = write!(nd.out, "frag ({off}|{rest})");
                if off != 0 {
                    break;
                }
                nd.p(" ");
                advance = 8;
                if nd.snapend <= cp + advance {
                    break;
                }
                nh = nd.u8(cp)?;
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

/// tcpdump's `ip_demux_print`: the protocol inside an IP header.
fn demux(nd: &mut Nd, bp: usize, length: usize, ip: IpRef, fragmented: bool, nh: u8) -> R {
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
                ip_print(nd, bp, length)
            } else {
                ip6_print(nd, bp, length)
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
            let advance = super::ip6ext::ah_print(nd, bp)?;
            let next = nd.u8(bp)?;
            demux(
                nd,
                bp + advance,
                length.saturating_sub(advance),
                ip,
                fragmented,
                next,
            )
        }
        IPPROTO_ESP => super::ip6ext::esp_print(nd, bp, length),
        IPPROTO_IPCOMP => {
            nd.proto = "ipcomp";
            let cpi = nd.be16(bp + 2)?;
            let _ = write!(nd.out, "IPComp(cpi=0x{cpi:04x})");
            Ok(())
        }
        IPPROTO_SCTP => super::iproto::sctp_print(nd, bp, length, ip),
        IPPROTO_DCCP => super::iproto::dccp_print(nd, bp, length, ip),
        IPPROTO_GRE => super::tunnel::gre_print(nd, bp, length),
        IPPROTO_IGMP => super::iproto::igmp_print(nd, bp, length),
        IPPROTO_PIM => super::iproto::pim_print(nd, bp, length),
        IPPROTO_OSPF => super::iproto::ospf_print(nd, bp, length),
        IPPROTO_EIGRP => super::iproto::eigrp_print(nd, bp, length),
        IPPROTO_VRRP => {
            let ttl = nd.u8(ip.at + if ip.v6 { 7 } else { 8 })?;
            super::iproto::vrrp_print(nd, bp, length, ttl)
        }
        _ => {
            let _ = write!(nd.out, " ip-proto-{nh} {length}");
            Ok(())
        }
    }
}

/// What tcpdump does with a TCP payload, by port, in the order it checks the ports.
#[derive(Clone, Copy)]
enum TcpApp {
    /// A protocol tcpdump decodes and tcpcraft does not (telnet, PPTP, NetBIOS, SMB,
    /// MSDP, LDP): the line ends after `length N`, where tcpdump would go on.
    NotDecoded,
    Smtp,
    Whois,
    Bgp,
    Resp,
    Beep,
    OpenFlow,
    RpkiRtr,
    Ssh,
    Ftp,
    Http,
    Rtsp,
    Dns,
}

const TCP_APPS: [(u16, TcpApp); 21] = [
    (23, TcpApp::NotDecoded),
    (25, TcpApp::Smtp),
    (43, TcpApp::Whois),
    (179, TcpApp::Bgp),
    (1723, TcpApp::NotDecoded),
    (6379, TcpApp::Resp),
    (22, TcpApp::Ssh),
    (139, TcpApp::NotDecoded),
    (445, TcpApp::NotDecoded),
    (10288, TcpApp::Beep),
    (6633, TcpApp::OpenFlow),
    (6653, TcpApp::OpenFlow),
    (21, TcpApp::Ftp),
    (80, TcpApp::Http),
    (8080, TcpApp::Http),
    (554, TcpApp::Rtsp),
    (8554, TcpApp::Rtsp),
    (53, TcpApp::Dns),
    (639, TcpApp::NotDecoded),
    (323, TcpApp::RpkiRtr),
    (646, TcpApp::NotDecoded),
];

const TH_FIN: u8 = 0x01;
const TH_SYN: u8 = 0x02;
const TH_RST: u8 = 0x04;
const TH_ACK: u8 = 0x10;
const TH_URG: u8 = 0x20;

fn tcp_print(nd: &mut Nd, bp: usize, length: usize, ip: Option<IpRef>) -> R {
    nd.proto = "tcp";
    if !nd.ttest(bp + 2, 2) {
        if let Some(ip) = ip {
            let (s, d) = (ip.src(nd)?, ip.dst(nd)?);
            let _ = write!(nd.out, "{s} > {d}:");
        }
        return Err(Jump);
    }
    let sport = nd.be16(bp)?;
    let dport = nd.be16(bp + 2)?;
    match ip {
        Some(ip) if ip.proto(nd)? == IPPROTO_TCP => ip.push_ports(nd, sport, dport)?,
        _ => {
            let _ = write!(nd.out, "{sport} > {dport}: ");
        }
    }
    if !nd.ttest(bp, 20) {
        return Err(Jump);
    }
    // tcpdump does this arithmetic in `u_int`; keep its wrap-around.
    let length = length as u32;
    let mut hlen = u32::from(nd.u8(bp + 12)? >> 4) * 4;
    if hlen < 20 {
        let _ = write!(
            nd.out,
            " tcp {} [bad hdr length {hlen} - too short, < 20]",
            length.wrapping_sub(hlen)
        );
        return Ok(());
    }
    let seq = nd.be32(bp + 4)?;
    let ack = nd.be32(bp + 8)?;
    let win = nd.be16(bp + 14)?;
    let urp = nd.be16(bp + 18)?;
    let flags = nd.u8(bp + 13)?;
    nd.p("Flags [");
    push_tcp_flags(&mut nd.out, flags);
    nd.out.push(']');
    if hlen > length {
        let _ = write!(nd.out, " [bad hdr length {hlen} - too long, > {length}]");
        return Ok(());
    }
    let length = length - hlen;
    if length > 0 || flags & (TH_SYN | TH_FIN | TH_RST) != 0 {
        nd.p(", seq ");
        nd.num(seq.into());
        if length > 0 {
            nd.out.push(':');
            nd.num(seq.wrapping_add(length).into());
        }
    }
    if flags & TH_ACK != 0 {
        nd.p(", ack ");
        nd.num(ack.into());
    }
    nd.p(", win ");
    nd.num(win.into());
    if flags & TH_URG != 0 {
        let _ = write!(nd.out, ", urg {urp}");
    }
    if hlen > 20 {
        hlen -= 20;
        nd.p(", options [");
        match tcp_options(nd, bp, bp + 20, hlen, length)? {
            Opts::Done => nd.p("]"),
            Opts::Bad { ch } => {
                nd.p("[bad opt]");
                if ch {
                    nd.p("]");
                }
                return Ok(());
            }
            Opts::Trunc { ch } => {
                nd.trunc();
                if ch {
                    nd.p(">");
                }
                return Ok(());
            }
        }
    }
    nd.p(", length ");
    nd.num(length.into());
    if length == 0 {
        return Ok(());
    }
    let header_len = usize::from(nd.u8(bp + 12)? >> 4) * 4;
    if !nd.ttest(bp, header_len) {
        let avail = nd.snapend.saturating_sub(bp);
        let _ = write!(
            nd.out,
            " [remaining caplen({avail}) < header length({header_len})]"
        );
        return Err(Jump);
    }
    let data = bp + header_len;
    let app = TCP_APPS
        .iter()
        .find(|(p, _)| sport == *p || dport == *p)
        .map(|(_, a)| *a);
    let len = length as usize;
    match app {
        None | Some(TcpApp::NotDecoded) => Ok(()),
        Some(TcpApp::Bgp) => super::apps::name_only(nd, ": BGP"),
        Some(TcpApp::OpenFlow) => super::apps::name_only(nd, ": OpenFlow"),
        Some(TcpApp::RpkiRtr) => super::apps::name_only(nd, ", RPKI-RTR"),
        Some(TcpApp::Beep) => super::apps::beep_print(nd, data, len),
        Some(TcpApp::Resp) => super::apps::resp_print(nd, data, len),
        Some(TcpApp::Ssh) => ssh_print(nd, data, len),
        Some(TcpApp::Dns) => super::dns::domain_print(nd, data, len, true),
        Some(TcpApp::Whois) => {
            nd.p(": ");
            txtproto_print(nd, data, len, "whois", None)
        }
        Some(TcpApp::Smtp) => {
            nd.p(": ");
            txtproto_print(nd, data, len, "smtp", None)
        }
        Some(TcpApp::Ftp) => {
            nd.p(": ");
            txtproto_print(nd, data, len, "ftp", None)
        }
        Some(TcpApp::Http) => {
            nd.p(": ");
            txtproto_print(nd, data, len, "http", Some(&HTTP_CMDS))
        }
        Some(TcpApp::Rtsp) => {
            nd.p(": ");
            txtproto_print(nd, data, len, "rtsp", Some(&RTSP_CMDS))
        }
    }
}

/// tcpdump's flag letters (`bittok2str_nosep` over the flags byte): F S R P . U E W.
fn push_tcp_flags(s: &mut String, flags: u8) {
    let start = s.len();
    for (bit, c) in [
        (0x01, 'F'),
        (0x02, 'S'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x10, '.'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'W'),
    ] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    if s.len() == start {
        s.push_str("none");
    }
}

/// How the options loop ended; `ch`: whether an option was printed (tcpdump's `ch`).
enum Opts {
    Done,
    Bad { ch: bool },
    Trunc { ch: bool },
}

fn tcp_option_name(opt: u8) -> Option<&'static str> {
    Some(match opt {
        0 => "eol",
        1 => "nop",
        2 => "mss",
        3 => "wscale",
        4 => "sackOK",
        5 => "sack",
        6 => "echo",
        7 => "echoreply",
        8 => "TS",
        11 => "cc",
        12 => "ccnew",
        13 => "",
        19 => "md5",
        20 => "scps",
        28 => "uto",
        29 => "tcp-ao",
        30 => "mptcp",
        34 => "tfo",
        254 => "exp",
        _ => return None,
    })
}

/// The options loop of `tcp_print`, with its `LENCHECK`: an option whose data would run
/// past the header is `[bad opt]`, past the capture is a truncation.
fn tcp_options(nd: &mut Nd, tp: usize, mut cp: usize, mut hlen: u32, length: u32) -> R<Opts> {
    let mut ch = false;
    macro_rules! lencheck {
        ($l:expr) => {{
            let l: u32 = $l;
            if l > hlen {
                return Ok(Opts::Bad { ch });
            }
            if !nd.ttest(cp, l as usize) {
                return Ok(Opts::Trunc { ch });
            }
        }};
    }
    while hlen > 0 {
        if ch {
            nd.p(",");
        }
        let opt = nd.u8(cp)?;
        cp += 1;
        let zerolen = opt == 0 || opt == 1;
        let len: u32 = if zerolen {
            1
        } else {
            let l = u32::from(nd.u8(cp)?);
            cp += 1;
            if l < 2 || l > hlen {
                return Ok(Opts::Bad { ch });
            }
            hlen -= 1;
            l
        };
        hlen -= 1;
        let mut datalen: u32 = 0;
        match tcp_option_name(opt) {
            Some(n) => nd.p(n),
            None => {
                let _ = write!(nd.out, "unknown-{opt}");
            }
        }
        match opt {
            2 => {
                datalen = 2;
                lencheck!(datalen);
                let v = nd.be16(cp)?;
                let _ = write!(nd.out, " {v}");
            }
            3 => {
                datalen = 1;
                lencheck!(datalen);
                let v = nd.u8(cp)?;
                let _ = write!(nd.out, " {v}");
            }
            5 => {
                datalen = len - 2;
                if datalen % 8 != 0 {
                    nd.p(" invalid sack");
                } else {
                    let _ = write!(nd.out, " {} ", datalen / 8);
                    let mut i = 0;
                    while i < datalen {
                        lencheck!(i + 4);
                        let s = nd.be32(cp + i as usize)?;
                        lencheck!(i + 8);
                        let e = nd.be32(cp + i as usize + 4)?;
                        let _ = write!(nd.out, "{{{s}:{e}}}");
                        i += 8;
                    }
                }
            }
            6 | 7 | 11 | 12 | 13 => {
                datalen = 4;
                lencheck!(datalen);
                let v = nd.be32(cp)?;
                let _ = write!(nd.out, " {v}");
            }
            8 => {
                datalen = 8;
                lencheck!(datalen);
                let (a, b) = (nd.be32(cp)?, nd.be32(cp + 4)?);
                let _ = write!(nd.out, " val {a} ecr {b}");
            }
            19 => {
                datalen = 16;
                lencheck!(datalen);
                nd.p(" ");
                // tcpdump (built with OpenSSL) tries to verify the signature; it has no
                // secret without -M, so it says so and prints the digest.
                let data = tp + usize::from(nd.u8(tp + 12)? >> 4) * 4;
                if !nd.ttest(data, length as usize) {
                    nd.p("snaplen too short, ");
                } else {
                    nd.p("shared secret not supplied with -M, ");
                }
                nd.p("can't check - ");
                for i in 0..16 {
                    let v = nd.u8(cp + i)?;
                    let _ = write!(nd.out, "{v:02x}");
                }
            }
            20 => {
                datalen = 2;
                lencheck!(datalen);
                let (a, b) = (nd.u8(cp)?, nd.u8(cp + 1)?);
                let _ = write!(nd.out, " cap {a:02x} id {b}");
            }
            29 => {
                datalen = len - 2;
                if datalen < 2 {
                    nd.p(" (invalid)");
                } else {
                    lencheck!(1);
                    let k = nd.u8(cp)?;
                    let _ = write!(nd.out, " keyid {k}");
                    lencheck!(2);
                    let r = nd.u8(cp + 1)?;
                    let _ = write!(nd.out, " rnextkeyid {r}");
                    if datalen > 2 {
                        nd.p(" mac 0x");
                        for i in 2..datalen {
                            lencheck!(i + 1);
                            let v = nd.u8(cp + i as usize)?;
                            let _ = write!(nd.out, "{v:02x}");
                        }
                    }
                }
            }
            0 | 1 | 4 => {}
            28 => {
                datalen = 2;
                lencheck!(datalen);
                let v = u32::from(nd.be16(cp)?);
                let secs = if v & 1 != 0 { (v >> 1) * 60 } else { v >> 1 };
                let _ = write!(nd.out, " 0x{v:x} {secs}");
            }
            34 => {
                datalen = len - 2;
                lencheck!(datalen);
                nd.p(" ");
                tfo(nd, cp, datalen, false)?;
            }
            30 => {
                datalen = len - 2;
                lencheck!(datalen);
                // MPTCP reads only its own option: the readable end moves in to it.
                let saved = nd.snapend;
                nd.snapend = nd.snapend.min(cp - 2 + len as usize);
                let flags = nd.u8(tp + 13)?;
                let ok = mptcp_print(nd, cp - 2, len as usize, flags)?;
                nd.snapend = saved;
                if !ok {
                    return Ok(Opts::Bad { ch });
                }
            }
            254 => {
                datalen = len - 2;
                lencheck!(datalen);
                if datalen < 2 {
                    return Ok(Opts::Bad { ch });
                }
                let magic = nd.be16(cp)?;
                nd.p("-");
                if magic == 0xf989 {
                    tfo(nd, cp + 2, datalen - 2, true)?;
                } else {
                    let _ = write!(nd.out, "{magic:04x}");
                }
            }
            _ => {
                // Unknown kinds (and MPTCP, which tcpcraft does not dissect) as hex.
                datalen = len - 2;
                if datalen > 0 {
                    nd.p(" 0x");
                }
                for i in 0..datalen {
                    lencheck!(i + 1);
                    let v = nd.u8(cp + i as usize)?;
                    let _ = write!(nd.out, "{v:02x}");
                }
            }
        }
        cp += datalen as usize;
        hlen -= datalen;
        let mut seen = datalen + 1;
        if !zerolen {
            seen += 1;
        }
        if seen != len {
            let _ = write!(nd.out, "[len {len}]");
        }
        ch = true;
        if opt == 0 {
            break;
        }
    }
    Ok(Opts::Done)
}

/// Multipath TCP options (RFC 6824, RFC 8684) the way tcpdump's `mptcp_print` writes
/// them: length, subtype, details. `false`: the option does not fit its subtype
/// (`[bad opt]`).
fn mptcp_print(nd: &mut Nd, opt: usize, len: usize, flags: u8) -> R<bool> {
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
    let syn = flags & TH_SYN != 0;
    let ack = flags & TH_ACK != 0;
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

/// TCP Fast Open (RFC 7413), as kind 34 or as experiment 254 with magic 0xf989.
fn tfo(nd: &mut Nd, cp: usize, datalen: u32, exp: bool) -> R {
    if exp {
        nd.p("tfo");
    }
    if datalen == 0 {
        nd.p(" cookiereq");
    } else if datalen % 2 != 0 || !(4..=16).contains(&datalen) {
        nd.p(" (invalid)");
    } else {
        nd.p(" cookie ");
        for i in 0..datalen as usize {
            let v = nd.u8(cp + i)?;
            let _ = write!(nd.out, "{v:02x}");
        }
    }
    Ok(())
}

/// HTTP request methods tcpdump recognises (print-http.c).
const HTTP_CMDS: [&str; 38] = [
    "GET",
    "PUT",
    "COPY",
    "HEAD",
    "LOCK",
    "MOVE",
    "POLL",
    "POST",
    "BCOPY",
    "BMOVE",
    "MKCOL",
    "TRACE",
    "LABEL",
    "MERGE",
    "DELETE",
    "SEARCH",
    "UNLOCK",
    "REPORT",
    "UPDATE",
    "NOTIFY",
    "BDELETE",
    "CONNECT",
    "OPTIONS",
    "CHECKIN",
    "PROPFIND",
    "CHECKOUT",
    "CCM_POST",
    "SUBSCRIBE",
    "PROPPATCH",
    "BPROPFIND",
    "BPROPPATCH",
    "UNCHECKOUT",
    "MKACTIVITY",
    "MKWORKSPACE",
    "UNSUBSCRIBE",
    "RPC_CONNECT",
    "VERSION-CONTROL",
    "BASELINE-CONTROL",
];

/// RTSP request methods tcpdump recognises (print-rtsp.c).
const RTSP_CMDS: [&str; 11] = [
    "DESCRIBE",
    "ANNOUNCE",
    "GET_PARAMETER",
    "OPTIONS",
    "PAUSE",
    "PLAY",
    "RECORD",
    "REDIRECT",
    "SETUP",
    "SET_PARAMETER",
    "TEARDOWN",
];

/// tcpdump's `txtproto_print`: the protocol's name in capitals, then `: ` and the first
/// line of text. With a list of commands (HTTP, RTSP) only a payload that starts with a
/// command, or whose second token is a 3-digit status code, is a line worth printing;
/// without one (FTP, SMTP, whois) every payload is.
fn txtproto_print(
    nd: &mut Nd,
    bp: usize,
    len: usize,
    proto: &'static str,
    cmds: Option<&[&str]>,
) -> R {
    nd.proto = proto;
    let print_this = match cmds {
        None => true,
        Some(cmds) => {
            let mut yes = false;
            let (idx, tok) = fetch_token(nd, bp, 0, len);
            if idx != 0 {
                if cmds.iter().any(|c| c.eq_ignore_ascii_case(&tok)) {
                    yes = true;
                }
                let (idx2, tok2) = fetch_token(nd, bp, idx, len);
                let t = tok2.as_bytes();
                if idx2 != 0 && t.len() == 3 && t.iter().all(u8::is_ascii_digit) {
                    yes = true;
                }
            }
            yes
        }
    };
    nd.p(&proto.to_ascii_uppercase());
    if print_this {
        print_txt_line(nd, ": ", bp, 0, len)?;
    }
    Ok(())
}

/// tcpdump's `ssh_print`: the version banner (`SSH-2.0-…`) when the payload is one,
/// nothing otherwise.
fn ssh_print(nd: &mut Nd, bp: usize, len: usize) -> R {
    nd.proto = "ssh";
    for (i, c) in b"SSH-".iter().enumerate() {
        if nd.u8(bp + i)? != *c {
            return Ok(());
        }
    }
    let mut idx = 4;
    while idx < len {
        let c = nd.u8(bp + idx)?;
        if c == b'\n' {
            break;
        } else if c == b'\r' {
            if idx + 1 >= len || nd.u8(bp + idx + 1)? != b'\n' {
                return Ok(());
            }
            break;
        } else if !(0x20..=0x7e).contains(&c) {
            return Ok(());
        }
        idx += 1;
    }
    if idx >= len {
        // No line end in this segment.
        return Ok(());
    }
    print_line(nd, ": SSH: ", bp, idx)
}

/// `fetch_token`: the token at `idx` and the index after it and the blanks that follow;
/// index 0 when there is no token (binary data, the capture ends, too long).
fn fetch_token(nd: &Nd, bp: usize, mut idx: usize, len: usize) -> (usize, String) {
    const TOKEN_BUF: usize = 129;
    let mut tok = String::new();
    while idx < len {
        let Ok(c) = nd.u8(bp + idx) else {
            return (0, tok);
        };
        if !c.is_ascii() {
            return (0, tok);
        }
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            break;
        }
        if !(0x20..=0x7e).contains(&c) || tok.len() + 2 > TOKEN_BUF {
            return (0, tok);
        }
        tok.push(char::from(c));
        idx += 1;
    }
    if tok.is_empty() {
        return (0, tok);
    }
    while idx < len {
        let Ok(c) = nd.u8(bp + idx) else {
            break;
        };
        if c == b'\r' || c == b'\n' || !(0x20..=0x7e).contains(&c) || (c != b' ' && c != b'\t') {
            break;
        }
        idx += 1;
    }
    (idx, tok)
}

/// `print_txt_line`: one line of printable ASCII (tabs allowed) ended by LF or CRLF;
/// nothing if it holds anything else; the marker if it runs to the end unended.
fn print_txt_line(nd: &mut Nd, prefix: &str, bp: usize, mut idx: usize, len: usize) -> R {
    let start = idx;
    while idx < len {
        let c = nd.u8(bp + idx)?;
        if c == b'\n' {
            return print_line(nd, prefix, bp + start, idx - start);
        } else if c == b'\r' {
            if idx + 1 >= len {
                return Ok(());
            }
            if nd.u8(bp + idx + 1)? == b'\n' {
                return print_line(nd, prefix, bp + start, idx - start);
            }
            return Ok(());
        } else if !(0x20..=0x7e).contains(&c) && c != b'\t' {
            return Ok(());
        }
        idx += 1;
    }
    print_line(nd, prefix, bp + start, idx - start)?;
    nd.trunc();
    Ok(())
}

fn print_line(nd: &mut Nd, prefix: &str, at: usize, n: usize) -> R {
    let line = nd.slice(at, n)?;
    nd.out.push_str(prefix);
    // Only printable ASCII and tabs reach here.
    nd.out.extend(line.iter().map(|&b| char::from(b)));
    Ok(())
}

fn udp_print(nd: &mut Nd, bp: usize, length: usize, ip: Option<IpRef>, fragmented: bool) -> R {
    nd.proto = "udp";
    if !nd.ttest(bp + 2, 2) {
        udpipaddr_print(nd, ip, None)?;
        return Err(Jump);
    }
    let sport = nd.be16(bp)?;
    let dport = nd.be16(bp + 2)?;
    if length < 8 {
        udpipaddr_print(nd, ip, Some((sport, dport)))?;
        let _ = write!(nd.out, "truncated-udp {length}");
        return Ok(());
    }
    if !nd.ttest(bp + 4, 2) {
        udpipaddr_print(nd, ip, Some((sport, dport)))?;
        return Err(Jump);
    }
    let mut ulen = usize::from(nd.be16(bp + 4)?);
    if ulen == 0 && length > 65535 {
        ulen = length;
    }
    if ulen < 8 {
        udpipaddr_print(nd, ip, Some((sport, dport)))?;
        let _ = write!(nd.out, "truncated-udplength {ulen}");
        return Ok(());
    }
    ulen -= 8;
    let mut length = length - 8;
    if ulen < length {
        length = ulen;
    }
    udpipaddr_print(nd, ip, Some((sport, dport)))?;
    if bp + 8 > nd.snapend {
        return Err(Jump);
    }
    if sport == 53 || dport == 53 {
        return super::dns::domain_print(nd, bp + 8, length, false);
    }
    let port = |p: u16| sport == p || dport == p;
    if port(4789) {
        return super::tunnel::vxlan_print(nd, bp + 8, length);
    }
    if port(6081) {
        return super::tunnel::geneve_print(nd, bp + 8, length);
    }
    if port(6635) {
        nd.depth += 1;
        if nd.depth > MAX_IP_DEPTH {
            return Err(Jump);
        }
        return super::tunnel::mpls_print(nd, bp + 8, length);
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

/// `HH:MM:SS.mmm` from milliseconds since midnight UT (hours are not wrapped).
fn icmp_tstamp(t: u32) -> String {
    let ms = t % 1000;
    let sec = t / 1000;
    let min = sec / 60;
    let hrs = min / 60;
    format!("{:02}:{:02}:{:02}.{:03}", hrs, min % 60, sec % 60, ms)
}

fn icmp_print(nd: &mut Nd, bp: usize, plen: usize) -> R {
    nd.proto = "icmp";
    let t = nd.u8(bp)?;
    let code = nd.u8(bp + 1)?;
    // The quoted datagram of an error starts at bp + 8; its destination is at bp + 24.
    let quoted_dst = |nd: &Nd| nd.ip4(bp + 24);
    let s = match t {
        0 | 8 => format!(
            "echo {}, id {}, seq {}",
            if t == 8 { "request" } else { "reply" },
            nd.be16(bp + 4)?,
            nd.be16(bp + 6)?
        ),
        3 => {
            let dst = quoted_dst(nd)?;
            match code {
                2 => format!("{dst} protocol {} unreachable", nd.u8(bp + 17)?),
                3 => {
                    let proto = nd.u8(bp + 17)?;
                    let hlen = usize::from(nd.u8(bp + 8)? & 0x0f) * 4;
                    let dport = nd.be16(bp + 8 + hlen + 2)?;
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
            let gw = nd.ip4(bp + 4)?;
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
                    let at = bp + 8 + 8 * i;
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
                format!("parameter problem - octet {}", nd.u8(bp + 4)?)
            }
        }
        13 => format!(
            "time stamp query id {} seq {}",
            nd.be16(bp + 4)?,
            nd.be16(bp + 6)?
        ),
        14 => {
            let (id, seq) = (nd.be16(bp + 4)?, nd.be16(bp + 6)?);
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

fn icmp6_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "icmp6";
    if length == 0 {
        nd.p("ICMP6, length 0 (invalid)");
        return Ok(());
    }
    let t = nd.u8(bp)?;
    nd.p("ICMP6, ");
    match icmp6_type_name(t) {
        Some(n) => nd.p(n),
        None => {
            let _ = write!(nd.out, "unknown icmp6 type ({t})");
        }
    }
    // Read after the type is printed, as tcpdump does: a one-byte message still names it.
    let code = nd.u8(bp + 1)?;
    // The quoted packet of an error starts at bp + 8.
    let oip = bp + 8;
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
                    let d = nd.ip6(oip + 24)?;
                    let _ = write!(nd.out, " {d}");
                }
                2 => {
                    let d = nd.ip6(oip + 24)?;
                    let s = nd.ip6(oip + 8)?;
                    let _ = write!(nd.out, " {d}, source address {s}");
                }
                _ => {
                    let Some((uh, prot)) = get_upperlayer(nd, oip)? else {
                        return Err(Jump);
                    };
                    let dport = nd.be16(uh + 2)?;
                    let d = nd.ip6(oip + 24)?;
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
            let mtu = nd.be32(bp + 4)?;
            let _ = write!(nd.out, ", mtu {mtu}");
        }
        3 => match code {
            0 => {
                let d = nd.ip6(oip + 24)?;
                let _ = write!(nd.out, " for {d}");
            }
            1 => nd.p(" (reassembly)"),
            _ => {
                let _ = write!(nd.out, ", unknown code ({code})");
            }
        },
        4 => {
            if !nd.ttest(oip + 24, 16) {
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
                let ptr = nd.be32(bp + 4)?;
                let _ = write!(nd.out, ", {what} - octet {ptr}");
            }
        }
        128 | 129 => {
            let (id, seq) = (nd.be16(bp + 4)?, nd.be16(bp + 6)?);
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
    if !nd.ttest(ip6, 40) {
        return Ok(None);
    }
    let mut nh = nd.u8(ip6 + 6)?;
    let mut hlen = 40usize;
    let mut bp = ip6;
    while bp < nd.snapend {
        bp += hlen;
        match nh {
            IPPROTO_TCP | IPPROTO_UDP => {
                return Ok(if nd.ttest(bp + 2, 2) {
                    Some((bp, nh))
                } else {
                    None
                });
            }
            0 | 60 | 43 => {
                if !nd.ttest(bp + 1, 1) {
                    return Ok(None);
                }
                nh = nd.u8(bp)?;
                hlen = (usize::from(nd.u8(bp + 1)?) + 1) << 3;
            }
            44 => {
                if !nd.ttest(bp + 2, 2) {
                    return Ok(None);
                }
                if nd.be16(bp + 2)? & 0xfff8 != 0 {
                    return Ok(None);
                }
                nh = nd.u8(bp)?;
                hlen = 8;
            }
            51 => {
                if !nd.ttest(bp + 1, 1) {
                    return Ok(None);
                }
                nh = nd.u8(bp)?;
                hlen = (usize::from(nd.u8(bp + 1)?) + 2) << 2;
            }
            _ => return Ok(None),
        }
    }
    Ok(None)
}
