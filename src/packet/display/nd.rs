//! The byte reader every printer stands on (tcpdump's netdissect.h: `ND_TTEST`, the
//! `GET_` macros and their `longjmp` on truncation), the printing state, the table of
//! printers an upper layer hands bytes back down to, and the small helpers the printers
//! share (address text, IP protocol numbers, the enclosing IP header).
//!
//! Imports no printer: every `print_*.rs` imports this module.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::packet::ipv6::ext;
use crate::packet::{ipv4, ipv6};

/// A bounds-checked read ran past the captured bytes: tcpdump's `longjmp` to its
/// truncation handler, which prints ` [|proto]` for the protocol being printed.
pub(super) struct Jump;

pub(super) type R<T = ()> = Result<T, Jump>;

/// Printing state: the bytes, where the readable part ends (tcpdump's `snapend`, moved
/// in by IP length fields), the protocol being printed (for ` [|proto]`), and the line.
pub(super) struct Nd<'a> {
    b: &'a [u8],
    pub(super) snapend: usize,
    pub(super) proto: &'static str,
    pub(super) out: String,
    /// IP headers inside IP headers so far (tunnels recurse; see [`MAX_IP_DEPTH`]).
    pub(super) depth: usize,
    /// Where IP in IP and a tunnel's payload go back down (`None`: a reader that prints
    /// no lower layer, whose re-entries are truncations).
    lower: Option<&'static Lower>,
}

/// A printer of one layer: the bytes at `bp`, `length` of them on the wire.
pub(super) type Printer = fn(&mut Nd, usize, usize) -> R;

/// The printers an upper layer hands bytes back down to: IPv4 and IPv6 inside IP, and
/// what a tunnel carries (Ethernet, an ethertype, PPP, IP). tcpdump's print-*.c files
/// reach these through the declarations in netdissect.h; here they are function pointers
/// that the entry points (`summary.rs`) fill in, so that no printer module imports a
/// module that imports it back (tests/it/structure.rs checks there is no circle).
pub(super) struct Lower {
    /// `ip_print` (print_ip.rs).
    pub(super) ip: Printer,
    /// `ip6_print` (print_ip6.rs).
    pub(super) ip6: Printer,
    /// `ether_print_at` (print_ether.rs).
    pub(super) ether: Printer,
    /// `ppp_print` (print_link.rs).
    pub(super) ppp: Printer,
    /// `link_payload` (print_ether.rs): what an ethertype announces; `false` if unknown.
    pub(super) ethertype: fn(&mut Nd, u16, usize, usize) -> R<bool>,
}

/// How many IP headers deep (IP in IP in IPv6 …) the printer follows. tcpdump has no
/// limit, but a crafted 64 KiB packet of nested headers would exhaust the stack; past
/// this depth the line ends with the truncation marker.
pub(super) const MAX_IP_DEPTH: usize = 32;

impl<'a> Nd<'a> {
    pub(super) fn new(b: &'a [u8], lower: &'static Lower) -> Nd<'a> {
        Nd::with_buf(b, String::with_capacity(160), lower)
    }

    /// Printing into a buffer reused from packet to packet (emptied first).
    pub(super) fn with_buf(b: &'a [u8], mut out: String, lower: &'static Lower) -> Nd<'a> {
        out.clear();
        Nd {
            b,
            snapend: b.len(),
            proto: "",
            out,
            depth: 0,
            lower: Some(lower),
        }
    }

    /// Reading only (a link header's length, say): nothing below is printed.
    pub(super) fn reader(b: &'a [u8]) -> Nd<'a> {
        Nd {
            b,
            snapend: b.len(),
            proto: "",
            out: String::new(),
            depth: 0,
            lower: None,
        }
    }

    /// IPv4 at `bp` (IP in IP, a tunnel's payload).
    pub(super) fn print_ip(&mut self, bp: usize, length: usize) -> R {
        let f = self.lower.ok_or(Jump)?.ip;
        f(self, bp, length)
    }

    /// IPv6 at `bp`.
    pub(super) fn print_ip6(&mut self, bp: usize, length: usize) -> R {
        let f = self.lower.ok_or(Jump)?.ip6;
        f(self, bp, length)
    }

    /// An Ethernet frame at `bp` (GRE's TEB, VXLAN, Geneve).
    pub(super) fn print_ether(&mut self, bp: usize, length: usize) -> R {
        let f = self.lower.ok_or(Jump)?.ether;
        f(self, bp, length)
    }

    /// PPP at `bp` (GRE version 1).
    pub(super) fn print_ppp(&mut self, bp: usize, length: usize) -> R {
        let f = self.lower.ok_or(Jump)?.ppp;
        f(self, bp, length)
    }

    /// What ethertype `et` announces at `at`; `false` if tcpdump would not know it.
    pub(super) fn print_ethertype(&mut self, et: u16, at: usize, length: usize) -> R<bool> {
        let f = self.lower.ok_or(Jump)?.ethertype;
        f(self, et, at, length)
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

/// IP protocol numbers (IANA), as tcpdump's ipproto.h names them; those the packet
/// model knows are its constants.
pub(super) const IPPROTO_HOPOPTS: u8 = ext::HOPOPTS;
pub(super) const IPPROTO_ICMP: u8 = ipv4::proto::ICMP;
pub(super) const IPPROTO_IPV4: u8 = 4;
pub(super) const IPPROTO_TCP: u8 = ipv4::proto::TCP;
pub(super) const IPPROTO_UDP: u8 = ipv4::proto::UDP;
pub(super) const IPPROTO_DCCP: u8 = 33;
pub(super) const IPPROTO_IPV6: u8 = ipv4::proto::IPV6;
pub(super) const IPPROTO_ROUTING: u8 = ext::ROUTING;
pub(super) const IPPROTO_FRAGMENT: u8 = ext::FRAGMENT;
pub(super) const IPPROTO_ESP: u8 = ext::ESP;
pub(super) const IPPROTO_MOBILITY: u8 = ext::MOBILITY;
pub(super) const IPPROTO_AH: u8 = ext::AH;
pub(super) const IPPROTO_ICMPV6: u8 = ipv4::proto::ICMPV6;
pub(super) const IPPROTO_NONE: u8 = ipv4::proto::NONE6;
pub(super) const IPPROTO_DSTOPTS: u8 = ext::DSTOPTS;
pub(super) const IPPROTO_SCTP: u8 = 132;
pub(super) const IPPROTO_IGMP: u8 = 2;
pub(super) const IPPROTO_GRE: u8 = 47;
pub(super) const IPPROTO_EIGRP: u8 = 88;
pub(super) const IPPROTO_OSPF: u8 = 89;
pub(super) const IPPROTO_PIM: u8 = 103;
pub(super) const IPPROTO_VRRP: u8 = 112;
pub(super) const IPPROTO_IPCOMP: u8 = 108;

/// Where the enclosing IP header is and which version it is: TCP and UDP print its
/// addresses beside their ports.
#[derive(Clone, Copy)]
pub(super) struct IpRef {
    pub(super) at: usize,
    pub(super) v6: bool,
}

impl IpRef {
    /// The protocol field of the IP header itself (IPv6: the fixed header's next header).
    pub(super) fn proto(self, nd: &Nd) -> R<u8> {
        nd.u8(self.at
            + if self.v6 {
                ipv6::field::NXT_HDR
            } else {
                ipv4::field::PROTOCOL
            })
    }
    /// Writes `src.sport > dst.dport: ` (the TCP and UDP line's start).
    pub(super) fn push_ports(self, nd: &mut Nd, sport: u16, dport: u16) -> R {
        if self.v6 {
            let (s, d) = (self.src(nd)?, self.dst(nd)?);
            nd.p(&s);
            nd.out.push('.');
            nd.num(sport.into());
            nd.p(" > ");
            nd.p(&d);
        } else {
            // Both addresses are read before anything is written, as above.
            let both = ipv4::field::SRC_ADDR.start..ipv4::field::DST_ADDR.end;
            nd.slice(self.at + both.start, both.len())?;
            nd.push_ip4(self.at + ipv4::field::SRC_ADDR.start)?;
            nd.out.push('.');
            nd.num(sport.into());
            nd.p(" > ");
            nd.push_ip4(self.at + ipv4::field::DST_ADDR.start)?;
        }
        nd.out.push('.');
        nd.num(dport.into());
        nd.p(": ");
        Ok(())
    }

    pub(super) fn src(self, nd: &Nd) -> R<String> {
        if self.v6 {
            nd.ip6(self.at + ipv6::field::SRC_ADDR.start)
        } else {
            nd.ip4(self.at + ipv4::field::SRC_ADDR.start)
        }
    }
    pub(super) fn dst(self, nd: &Nd) -> R<String> {
        if self.v6 {
            nd.ip6(self.at + ipv6::field::DST_ADDR.start)
        } else {
            nd.ip4(self.at + ipv4::field::DST_ADDR.start)
        }
    }
}
