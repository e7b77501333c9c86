//! `sniff`'s capture: a packet socket on one interface (or all), with the user's
//! tcpdump filter compiled by libpcap for the socket's link type, keeping outgoing
//! packets as tcpdump does, and handing out each packet with its kernel timestamp.
//!
//! On an Ethernet interface (or `lo`) the socket is raw and the filter is compiled for
//! Ethernet, as `tcpdump -i IFACE` compiles it (so `ether host …` works). On every
//! interface at once, on other link types, and for filters only Linux cooked capture
//! knows (`inbound`, `outbound`), it is a datagram socket and the filter is compiled
//! for Linux cooked capture, as `tcpdump -i any` does; the kernel runs the program
//! rewritten for packets that start at the network header, or, when it cannot be
//! rewritten, keeps everything and the program runs here on the rebuilt cooked header.

use std::collections::HashMap;
use std::io;
use std::time::Duration;

use std::collections::VecDeque;

use super::capture::Frame;
use super::filter::{self, Filter, FilterError};
use super::ring::{Ring, RingConfig};
use super::sys::{self, SockFilter, ARPHRD_ETHER, ARPHRD_LOOPBACK};
use crate::pcap::linktype;

/// A packet seen by `sniff`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sniffed {
    /// The network-layer packet (IP header first for IP; the ARP packet for ARP …).
    pub bytes: Vec<u8>,
    /// The packet with its link-layer header (Ethernet, or the Linux cooked header
    /// tcpcraft rebuilt), as tcpdump would save it.
    pub frame: Vec<u8>,
    /// The link type of `frame` (LINKTYPE_ETHERNET or LINKTYPE_LINUX_SLL).
    pub linktype: u32,
    /// The ethertype (0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP …).
    pub protocol: u16,
    /// Wall-clock capture time from the kernel (since the Unix epoch).
    pub time: Duration,
    pub iface: String,
    /// Sent by this host (PACKET_OUTGOING).
    pub outgoing: bool,
}

impl Sniffed {
    /// An IPv4 or IPv6 packet.
    pub fn is_ip(&self) -> bool {
        matches!(self.protocol, sys::ETH_P_IP | sys::ETH_P_IPV6)
    }
}

/// How a filter is run on one capture.
struct Plan {
    /// Raw socket with the Ethernet header (else a datagram socket, cooked).
    ethernet: bool,
    filter: Filter,
    kernel: Vec<SockFilter>,
    /// The kernel program is not the whole filter: run `filter` here too.
    check_here: bool,
    /// Run `filter` here on frames that came with a VLAN tag (put back).
    recheck_tagged: bool,
}

fn plan(text: &str, ifindex: u32) -> Result<Plan, FilterError> {
    let hw = if ifindex == 0 {
        None
    } else {
        sys::if_indextoname(ifindex)
            .and_then(|name| sys::if_hwaddr(&name).ok())
            .map(|(kind, _)| kind)
    };
    let mut ether_err = None;
    if matches!(hw, Some(ARPHRD_ETHER | ARPHRD_LOOPBACK)) {
        match Filter::new_live(text, linktype::ETHERNET) {
            Ok(f) => {
                // The kernel runs the program on frames whose VLAN tag it has taken off.
                // It keeps every tagged frame; those are judged here, with their tag put
                // back (the frame tcpdump saves and `tcpdump -r` filters); untagged frames
                // are the same on both sides, and the kernel's verdict stands. A program
                // with the kernel's ancillary loads (`inbound`) can only run there.
                let (kernel, recheck_tagged) = if uses_ancillary(&f.program) {
                    (f.program.clone(), false)
                } else {
                    (keep_tagged_then(&f.program), true)
                };
                return Ok(Plan {
                    ethernet: true,
                    kernel,
                    filter: f,
                    check_here: false,
                    recheck_tagged,
                });
            }
            Err(e) => ether_err = Some(e),
        }
    }
    match Filter::new_live(text, linktype::LINUX_SLL) {
        Ok(f) => {
            let (kernel, check_here) = match f.cooked_kernel_program() {
                Some(k) => (k, false),
                None => (filter::accept_all(), true),
            };
            Ok(Plan {
                ethernet: false,
                kernel,
                filter: f,
                check_here,
                recheck_tagged: false,
            })
        }
        Err(e) => Err(ether_err.unwrap_or(e)),
    }
}

/// `program`, after a prologue that keeps every frame the kernel took a VLAN tag off
/// (SKF_AD_VLAN_TAG_PRESENT), for user space to judge with the tag put back.
fn keep_tagged_then(program: &[SockFilter]) -> Vec<SockFilter> {
    const SKF_AD_VLAN_TAG_PRESENT: u32 = 44;
    let ins = |code, jt, jf, k| SockFilter { code, jt, jf, k };
    let mut out = vec![
        // ld [vlan tag present]; jeq #0 → the program; else keep.
        ins(0x20, 0, 0, 0xffff_f000 + SKF_AD_VLAN_TAG_PRESENT),
        ins(0x15, 1, 0, 0),
        ins(0x06, 0, 0, super::bpf::SNAPLEN),
    ];
    out.extend_from_slice(program);
    out
}

/// Does a program use the kernel's ancillary loads (`inbound`, `ifindex`)?
fn uses_ancillary(prog: &[SockFilter]) -> bool {
    prog.iter()
        .any(|i| i.code & 0x07 <= 0x01 && i.code & 0xe0 == super::bpf::ABS && i.k >= 0xffff_f000)
}

/// Why a live capture could not start.
#[derive(Debug)]
pub enum SniffError {
    Filter(FilterError),
    /// No such interface (the name as given).
    NoInterface(String),
    Io(io::Error),
}

/// A running capture for `sniff` / `sniffer`: a TPACKET_V3 ring, whose packets carry
/// the time the kernel delivered them (never the time they were read, which a plain
/// socket gives in the first moments after timestamps are switched on).
pub struct LiveCapture {
    ring: Ring,
    queue: VecDeque<Frame>,
    plan: Plan,
    names: HashMap<u32, String>,
}

/// The ring of a sniff: 32 blocks of 1 MiB (about 200,000 small packets of headroom
/// while a script is busy sending), blocks handed over after 2 ms.
const SNIFF_RING: RingConfig = RingConfig {
    block_size: 1 << 20,
    block_count: 32,
    frame_size: 2048,
    retire_ms: 2,
    ignore_outgoing: false,
};

impl LiveCapture {
    /// Open a capture on `iface` (None: every interface) keeping what `filter` keeps.
    pub fn open(filter: &str, iface: Option<&str>) -> Result<LiveCapture, SniffError> {
        let ifindex = match iface {
            Some(name) => {
                sys::if_nametoindex(name).ok_or_else(|| SniffError::NoInterface(name.into()))?
            }
            None => 0,
        };
        let plan = plan(filter, ifindex).map_err(SniffError::Filter)?;
        // 1 MiB blocks need contiguous kernel memory; on a fragmented machine fall back to
        // 64 blocks of 128 KiB.
        let ring = Ring::open_sniff(ifindex, &plan.kernel, SNIFF_RING, plan.ethernet)
            .or_else(|e| {
                if e.raw_os_error() != Some(libc::ENOMEM) {
                    return Err(e);
                }
                let small = RingConfig {
                    block_size: 128 << 10,
                    block_count: 64,
                    ..SNIFF_RING
                };
                Ring::open_sniff(ifindex, &plan.kernel, small, plan.ethernet)
            })
            .map_err(SniffError::Io)?;
        Ok(LiveCapture {
            ring,
            queue: VecDeque::new(),
            plan,
            names: HashMap::new(),
        })
    }

    /// Move what the ring holds into the queue, waiting up to `wait` when it is empty.
    fn fill(&mut self, wait: Duration) -> io::Result<()> {
        let queue = &mut self.queue;
        let clocks = sys::clocks();
        self.ring
            .poll(wait, |rf| queue.push_back(rf.to_frame(clocks)))?;
        Ok(())
    }

    /// The next packet the filter keeps, waiting at most `wait` — and, even with no
    /// wait, for a packet that has already arrived but sits in the block the kernel is
    /// still filling (handed over within the ring's 2 ms).
    pub fn next(&mut self, wait: Duration) -> io::Result<Option<Sniffed>> {
        let wait = if wait < Duration::from_millis(100) && self.ring.filling() {
            Duration::from_millis(100)
        } else {
            wait
        };
        let until = std::time::Instant::now() + wait;
        loop {
            while let Some(f) = self.queue.pop_front() {
                if let Some(s) = self.take(f) {
                    return Ok(Some(s));
                }
            }
            let left = until.saturating_duration_since(std::time::Instant::now());
            self.fill(left)?;
            if self.queue.is_empty() && left.is_zero() {
                return Ok(None);
            }
            if self.queue.is_empty() && std::time::Instant::now() >= until {
                return Ok(None);
            }
        }
    }

    /// The next packet already queued, without waiting.
    pub fn try_next(&mut self) -> io::Result<Option<Sniffed>> {
        self.next(Duration::ZERO)
    }

    /// Packets the kernel dropped (ring full) since the last call.
    pub fn drops(&self) -> u32 {
        self.ring.stats().1
    }

    fn take(&mut self, f: Frame) -> Option<Sniffed> {
        let (frame, linktype, net_off) = if self.plan.ethernet {
            let mut data = f.data;
            // The kernel took the tag out; it goes back before the ethertype.
            let at = crate::packet::link::field::ETHERTYPE.start;
            if let (Some((tpid, tci)), true) = (f.vlan, data.len() >= at) {
                let mut tag = [0u8; crate::packet::link::VLAN_TAG_LEN];
                tag[..2].copy_from_slice(&tpid.to_be_bytes());
                tag[2..].copy_from_slice(&tci.to_be_bytes());
                data.splice(at..at, tag);
            }
            let off = ether_payload(&data);
            (data, linktype::ETHERNET, off)
        } else {
            let halen = usize::from(f.halen).min(8);
            let h = filter::cooked_header(f.pkttype, f.hatype, &f.addr[..halen], f.protocol);
            let mut frame = Vec::with_capacity(16 + f.data.len());
            frame.extend_from_slice(&h);
            frame.extend_from_slice(&f.data);
            (frame, linktype::LINUX_SLL, 16)
        };
        let judge_here = self.plan.check_here || (self.plan.recheck_tagged && f.vlan.is_some());
        if judge_here && !self.plan.filter.matches(&frame) {
            return None;
        }
        let iface = self
            .names
            .entry(f.ifindex)
            .or_insert_with(|| sys::if_indextoname(f.ifindex).unwrap_or_default())
            .clone();
        let bytes = frame.get(net_off..).unwrap_or_default().to_vec();
        let protocol = if linktype == linktype::ETHERNET {
            ether_type(&frame).unwrap_or(f.protocol)
        } else {
            f.protocol
        };
        Some(Sniffed {
            bytes,
            frame,
            linktype,
            protocol,
            time: f.time,
            iface,
            outgoing: f.pkttype == sys::PACKET_OUTGOING,
        })
    }
}

/// The ethertype of an Ethernet frame, past VLAN tags.
fn ether_type(frame: &[u8]) -> Option<u16> {
    crate::packet::link::past_vlan_tags(frame).0
}

/// Where an Ethernet frame's payload starts (past VLAN tags).
fn ether_payload(frame: &[u8]) -> usize {
    crate::packet::link::past_vlan_tags(frame).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_past_vlan_tags() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x81, 0x00, 0, 5, 0x08, 0x00, 0x45]);
        assert_eq!(ether_payload(&f), 18);
        assert_eq!(ether_type(&f), Some(0x0800));
        assert_eq!(ether_payload(&[0; 5]), 5);
        assert_eq!(ether_type(&[0; 5]), None);
    }
}
