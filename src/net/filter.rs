//! Capture filters in the whole tcpdump filter language (pcap-filter(7)), compiled by
//! libpcap's own compiler (the reference implementation, through the `pcap` crate's
//! compile-only path on a "dead" handle) into classic BPF. The program is attached to
//! tcpcraft's AF_PACKET sockets (SO_ATTACH_FILTER) and run in user space by
//! [`super::bpf::run`] on packets read from files, so an expression keeps the same
//! packets as `tcpdump -r FILE EXPR` and `tcpdump -i IFACE EXPR`.
//!
//! A program is compiled for one link type (Ethernet, Linux cooked, raw IP …): offsets
//! in it count from the start of that link layer. Live captures on a datagram socket
//! (packets start at the network header) use a program compiled for Linux cooked
//! capture, rewritten as libpcap rewrites it for its own cooked sockets
//! ([`Filter::cooked_kernel_program`]).

use std::fmt;

use super::bpf::{self, ABS, IND, LD, LDX, MSH};
use super::sys::SockFilter;
use crate::pcap::linktype;

/// A filter libpcap refused: its message, and the filter it was about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    /// The filter text as given.
    pub filter: String,
    /// libpcap's message ("syntax error", "unknown host 'x'" …), or ours.
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad filter {:?}: {}", self.filter, self.message)
    }
}

impl std::error::Error for FilterError {}

/// The longest filter text taken (libpcap's own limits are far beyond any typed filter;
/// this bounds the compiler's work on hostile input).
const MAX_TEXT: usize = 64 * 1024;

/// The most `and`/`or` operators taken: libpcap's optimizer grows much faster than the
/// filter (200 ports joined by `or` take it about 2 s, 300 about 15 s, as in tcpdump).
const MAX_TERMS: usize = 128;

/// Where the kernel's ancillary loads start (SKF_AD_OFF, -0x1000).
const SKF_AD_OFF: u32 = 0xffff_f000;

/// The kernel's limit on a classic BPF program (BPF_MAXINSNS).
const MAX_INSNS: usize = 4096;

/// libpcap's data link type (DLT_*) for a capture file's link type (LINKTYPE_*): they
/// differ only for raw IP, whose DLT number depends on the platform.
fn dlt_of(lt: u32) -> i32 {
    match lt {
        linktype::RAW | linktype::RAW_OLD | linktype::RAW_OLD2 => 12, // DLT_RAW on Linux
        other => i32::try_from(other).unwrap_or(i32::MAX),
    }
}

/// A filter compiled for one link type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// The text as given.
    pub text: String,
    /// The capture-file link type (LINKTYPE_*) the program's offsets are for.
    pub linktype: u32,
    /// The classic BPF program libpcap compiled.
    pub program: Vec<SockFilter>,
}

/// A program that keeps every packet whole.
pub fn accept_all() -> Vec<SockFilter> {
    vec![SockFilter {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: bpf::SNAPLEN,
    }]
}

impl Filter {
    /// Compile `text` for packets of link type `linktype` (a capture file's LINKTYPE_*
    /// number: 1 Ethernet, 101 raw IP, 113 Linux cooked …) read from a file, as
    /// `tcpdump -r` does. Empty text keeps everything.
    pub fn new(text: &str, linktype: u32) -> Result<Filter, FilterError> {
        let f = Filter::new_live(text, linktype)?;
        // What only the kernel knows of a live packet (its direction, its interface):
        // libpcap compiles it to the kernel's ancillary loads, which a file cannot answer.
        let ancillary = f.program.iter().any(|i| {
            matches!(i.code & 0x07, LD | LDX) && i.code & 0xe0 == ABS && i.k >= SKF_AD_OFF
        });
        if ancillary {
            let desc = pcap::Linktype(dlt_of(linktype))
                .get_description()
                .unwrap_or_else(|_| format!("link type {linktype}"));
            let what = if text.contains("inbound") || text.contains("outbound") {
                "inbound/outbound"
            } else {
                "ifindex"
            };
            return Err(FilterError {
                filter: text.to_string(),
                message: format!("{what} not supported on {desc} when reading savefiles"),
            });
        }
        Ok(f)
    }

    /// [`Filter::new`] for a live capture on a packet socket: the program may use the
    /// kernel's ancillary loads (`inbound`, `outbound` and `ifindex` on Ethernet).
    pub fn new_live(text: &str, linktype: u32) -> Result<Filter, FilterError> {
        let err = |message: String| FilterError {
            filter: text.to_string(),
            message,
        };
        if text.len() > MAX_TEXT {
            return Err(err(format!("longer than {MAX_TEXT} bytes")));
        }
        if text.contains('\0') {
            return Err(err("contains a NUL byte".into()));
        }
        let terms = text
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
            .map(|w| {
                if matches!(w, "and" | "or") {
                    1
                } else {
                    w.matches("&&").count() + w.matches("||").count()
                }
            })
            .sum::<usize>();
        if terms > MAX_TERMS {
            return Err(err(format!(
                "{terms} `and`/`or` operators, more than the {MAX_TERMS} tcpcraft takes \
                 (libpcap's optimizer would take minutes); use `net`, `portrange` or \
                 several captures"
            )));
        }
        if text.trim().is_empty() {
            return Ok(Filter {
                text: text.to_string(),
                linktype,
                program: accept_all(),
            });
        }
        let dead = pcap::Capture::dead(pcap::Linktype(dlt_of(linktype)))
            .map_err(|e| err(pcap_message(e)))?;
        let prog = dead.compile(text, true).map_err(|e| err(pcap_message(e)))?;
        let program = prog
            .get_instructions()
            .iter()
            .map(|i| parse_insn(&i.to_string()))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| err("libpcap gave an instruction tcpcraft cannot read".into()))?;
        if program.len() > MAX_INSNS {
            return Err(err(format!(
                "compiles to {} instructions; the kernel takes at most {MAX_INSNS}",
                program.len()
            )));
        }
        Ok(Filter {
            text: text.to_string(),
            linktype,
            program,
        })
    }

    /// Does a packet (starting at this filter's link-layer header) pass?
    pub fn matches(&self, pkt: &[u8]) -> bool {
        bpf::run(&self.program, pkt) != 0
    }

    /// Whether the filter keeps everything (no text).
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
    }

    /// For a program compiled for Linux cooked capture (LINKTYPE_LINUX_SLL), the same
    /// program for an AF_PACKET datagram socket, where the kernel runs it on packets that
    /// start at the network header: loads past the 16-byte cooked header move back by 16,
    /// loads of its packet type and protocol fields become the kernel's ancillary loads
    /// (SKF_AD_PKTTYPE, SKF_AD_PROTOCOL), as libpcap's own `fix_program` does. `None` when
    /// the program reads something else of the header, or the packet length (which the
    /// kernel counts without the header): then the kernel keeps everything and the
    /// program runs in user space on the rebuilt cooked header.
    pub fn cooked_kernel_program(&self) -> Option<Vec<SockFilter>> {
        const SLL_HDR_LEN: u32 = 16;
        const SKF_AD_PROTOCOL: u32 = 0;
        const SKF_AD_PKTTYPE: u32 = 4;
        if self.linktype != linktype::LINUX_SLL {
            return None;
        }
        let mut out = self.program.clone();
        for ins in &mut out {
            let class = ins.code & 0x07;
            let mode = ins.code & 0xe0;
            if class != LD && class != LDX {
                continue;
            }
            match mode {
                ABS | IND | MSH => {
                    if ins.k >= SLL_HDR_LEN {
                        ins.k -= SLL_HDR_LEN;
                    } else if mode == ABS && ins.k == 0 && ins.code & 0x18 == bpf::H {
                        ins.k = SKF_AD_OFF + SKF_AD_PKTTYPE;
                    } else if mode == ABS && ins.k == 14 && ins.code & 0x18 == bpf::H {
                        ins.k = SKF_AD_OFF + SKF_AD_PROTOCOL;
                    } else {
                        return None;
                    }
                }
                0x80 => return None, // BPF_LEN
                _ => {}
            }
        }
        Some(out)
    }
}

/// The text of a libpcap error without the crate's wrapping.
fn pcap_message(e: pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(m) => m,
        other => other.to_string(),
    }
}

/// One instruction from the `pcap` crate's "code jt jf k" rendering (its fields are
/// private).
fn parse_insn(s: &str) -> Option<SockFilter> {
    let mut it = s.split_whitespace();
    let ins = SockFilter {
        code: it.next()?.parse().ok()?,
        jt: it.next()?.parse().ok()?,
        jf: it.next()?.parse().ok()?,
        k: it.next()?.parse().ok()?,
    };
    it.next().is_none().then_some(ins)
}

/// A Linux cooked (LINKTYPE_LINUX_SLL) header for a packet read from a datagram socket:
/// what libpcap puts in front of such packets, so that user-space filtering and capture
/// files see what `tcpdump -i any` sees.
pub fn cooked_header(pkttype: u8, hatype: u16, addr: &[u8], protocol: u16) -> [u8; 16] {
    let mut h = [0u8; crate::packet::link::SLL_LEN];
    let mut f = crate::packet::SllFrame::new_unchecked(&mut h[..]);
    f.set_pkttype(u16::from(pkttype));
    f.set_hatype(hatype);
    let n = addr.len().min(8);
    f.set_halen(n as u16);
    let mut a = [0u8; 8];
    a[..n].copy_from_slice(&addr[..n]);
    f.set_addr(a);
    f.set_protocol(protocol);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp_syn() -> Vec<u8> {
        use crate::packet::{Ipv4Packet, TcpFlags, TcpPacket};
        let mut p = vec![0u8; 40];
        let mut ip = Ipv4Packet::new_unchecked(&mut p[..]);
        ip.set_version_ihl(4, 5);
        ip.set_total_len(40);
        ip.set_ttl(64);
        ip.set_protocol(6);
        ip.set_src_addr([198, 18, 0, 1].into());
        ip.set_dst_addr([198, 18, 0, 2].into());
        let mut t = TcpPacket::new_unchecked(ip.payload_mut());
        t.set_src_port(40000);
        t.set_dst_port(80);
        t.set_offset_flags(5, 0, TcpFlags(TcpFlags::SYN));
        p
    }

    #[test]
    fn the_idioms_compile_and_select() {
        let syn = tcp_syn();
        let mut ack = syn.clone();
        ack[33] = 0x10;
        for (text, want_syn, want_ack) in [
            ("tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn", true, false),
            ("tcp[13] & 2 != 0", true, false),
            ("portrange 1-1024", true, true),
            ("greater 100", false, false),
            ("less 100", true, true),
            ("src host 198.18.0.1 and dst port 80", true, true),
            ("udp or icmp", false, false),
            ("", true, true),
        ] {
            let f = Filter::new(text, linktype::RAW).unwrap();
            assert_eq!(f.matches(&syn), want_syn, "{text} on a SYN");
            assert_eq!(f.matches(&ack), want_ack, "{text} on an ACK");
        }
    }

    #[test]
    fn libpcap_messages_name_the_filter() {
        let e = Filter::new("tcp and and", linktype::RAW).unwrap_err();
        assert!(
            e.to_string().starts_with("bad filter \"tcp and and\": "),
            "{e}"
        );
        assert!(e.message.contains("syntax error"), "{e}");
        let e = Filter::new("ether host 1:2:3:4:5:6", linktype::RAW).unwrap_err();
        assert!(e.message.contains("ethernet addresses"), "{e}");
        assert!(Filter::new("ether host 1:2:3:4:5:6", linktype::ETHERNET).is_ok());
        assert!(Filter::new("a\0b", linktype::RAW).is_err());
    }

    #[test]
    fn cooked_programs_move_to_the_network_header() {
        let syn = tcp_syn();
        let f = Filter::new("tcp dst port 80 and ip", linktype::LINUX_SLL).unwrap();
        let mut framed = cooked_header(0, 1, &[0; 6], 0x0800).to_vec();
        framed.extend_from_slice(&syn);
        assert!(f.matches(&framed));
        let k = f.cooked_kernel_program().unwrap();
        // `ip` reads the cooked header's protocol: the kernel's ancillary protocol load.
        assert!(k.iter().any(|i| i.k == SKF_AD_OFF));
        // The header-length and port loads moved back by the 16 bytes of the cooked header:
        // `ldxb 4*([16]&0xf)`, `ldh [x + 18]` become `4*([0]&0xf)`, `[x + 2]`.
        let at = |p: &[SockFilter], code: u16| p.iter().find(|i| i.code == code).map(|i| i.k);
        assert_eq!(at(&f.program, LDX | bpf::B | MSH), Some(16));
        assert_eq!(at(&k, LDX | bpf::B | MSH), Some(0));
        assert_eq!(at(&f.program, LD | bpf::H | IND), Some(18));
        assert_eq!(at(&k, LD | bpf::H | IND), Some(2));
        let len = Filter::new("greater 100", linktype::LINUX_SLL).unwrap();
        assert_eq!(len.cooked_kernel_program(), None);
    }
}
