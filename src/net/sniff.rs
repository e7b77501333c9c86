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

use super::capture::{Capture, Frame};
use super::filter::{self, Filter, FilterError};
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

/// Capture buffer: 64 MiB holds a long burst while a script is busy sending.
const RCVBUF: usize = 64 << 20;

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

/// A running capture for `sniff` / `sniffer`.
pub struct LiveCapture {
    cap: Capture,
    plan: Plan,
    names: HashMap<u32, String>,
}

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
        let cap = Capture::open_with(ifindex, &plan.kernel, RCVBUF, plan.ethernet, true)
            .map_err(SniffError::Io)?;
        Ok(LiveCapture {
            cap,
            plan,
            names: HashMap::new(),
        })
    }

    /// The next packet the filter keeps, waiting at most `wait`.
    pub fn next(&mut self, wait: Duration) -> io::Result<Option<Sniffed>> {
        let until = std::time::Instant::now() + wait;
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            let Some(f) = self.cap.next(left)? else {
                return Ok(None);
            };
            if let Some(s) = self.take(f) {
                return Ok(Some(s));
            }
            if left.is_zero() {
                return Ok(None);
            }
        }
    }

    /// The next packet already queued, without waiting.
    pub fn try_next(&mut self) -> io::Result<Option<Sniffed>> {
        while let Some(f) = self.cap.try_next()? {
            if let Some(s) = self.take(f) {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }

    /// Packets the kernel dropped (buffer full) since the last call.
    pub fn drops(&self) -> u32 {
        self.cap.drops()
    }

    fn take(&mut self, f: Frame) -> Option<Sniffed> {
        let (frame, linktype, net_off) = if self.plan.ethernet {
            let mut data = f.data;
            if let (Some((tpid, tci)), true) = (f.vlan, data.len() >= 12) {
                let mut tag = [0u8; 4];
                tag[..2].copy_from_slice(&tpid.to_be_bytes());
                tag[2..].copy_from_slice(&tci.to_be_bytes());
                data.splice(12..12, tag);
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
    let mut at = 12;
    loop {
        let t = u16::from_be_bytes(frame.get(at..at + 2)?.try_into().ok()?);
        if t == 0x8100 || t == 0x88a8 {
            at += 4;
            continue;
        }
        return Some(t);
    }
}

/// Where an Ethernet frame's payload starts (past VLAN tags).
fn ether_payload(frame: &[u8]) -> usize {
    let mut at = 12;
    while let Some(t) = frame.get(at..at + 2) {
        if t == [0x81, 0x00] || t == [0x88, 0xa8] {
            at += 4;
        } else {
            return (at + 2).min(frame.len());
        }
    }
    frame.len()
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
