//! Sending: IPv4 over a raw IP_HDRINCL socket, IPv6 over a raw IPv6 socket (which takes
//! the whole header as given), and anything at the link layer over AF_PACKET when the
//! kernel must not touch the IP header. Sockets are opened once and reused.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::os::fd::OwnedFd;

use super::route::{self, Route};
use super::sys::{self, RawSockAddr, ETH_P_IP, ETH_P_IPV6};
use super::txring::{TxRing, MTU_SLOT};
use crate::packet::link::ETHER_LEN;
use crate::packet::EthernetFrame;

/// Which way a packet leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    /// A raw IP socket: the kernel routes it (and may fill a few IPv4 fields).
    RawIp,
    /// AF_PACKET at the link layer: it leaves byte for byte as built.
    Link,
}

/// Reusable send sockets.
#[derive(Default)]
pub struct Sender {
    raw: HashMap<(bool, String), OwnedFd>,
    link: Option<OwnedFd>,
    /// For whole Ethernet frames the user built.
    frame: Option<OwnedFd>,
    macs: HashMap<(u32, IpAddr), Option<[u8; 6]>>,
    /// Each interface's hardware type and own address (cached).
    hwaddrs: HashMap<String, (u16, [u8; 6])>,
    /// Transmit rings for bulk sends, per Ethernet interface (None: not to be had there).
    rings: HashMap<u32, Option<LinkRing>>,
}

/// A transmit ring on an Ethernet interface and that interface's own address.
struct LinkRing {
    ring: TxRing,
    mac: [u8; 6],
}

/// Slots of each bulk-send ring: 512 of 2 KiB (1 MiB), kept while the sender lives.
const RING_SLOTS: usize = 512;

/// Whether bulk frames must go by sendmmsg(2) rather than a transmit ring
/// (`TCPCRAFT_SENDMMSG` set, for comparison or a driver that mishandles the ring).
pub fn sendmmsg_only() -> bool {
    std::env::var_os("TCPCRAFT_SENDMMSG").is_some()
}

impl Sender {
    pub fn new() -> Sender {
        Sender::default()
    }

    fn raw_socket(&mut self, v6: bool, bind: Option<&str>) -> io::Result<&OwnedFd> {
        let key = (v6, bind.unwrap_or("").to_string());
        if !self.raw.contains_key(&key) {
            let domain = if v6 { libc::AF_INET6 } else { libc::AF_INET };
            // IPPROTO_RAW implies IP_HDRINCL (and IPV6_HDRINCL on Linux).
            let fd = sys::socket(domain, libc::SOCK_RAW, libc::IPPROTO_RAW)?;
            let big: libc::c_int = 4 << 20;
            let _ = sys::setsockopt(&fd, libc::SOL_SOCKET, sys::SO_SNDBUFFORCE, &big);
            // The user's own RSTs must pass the kernel-RST guard of a live session (best
            // effort: marking needs CAP_NET_ADMIN, and without a guard it changes nothing).
            let _ = super::guard::mark_socket(std::os::fd::AsRawFd::as_raw_fd(&fd));
            if let Some(name) = bind {
                sys::bind_to_device(&fd, name)?;
            }
            self.raw.insert(key.clone(), fd);
        }
        self.raw
            .get(&key)
            .ok_or_else(|| io::Error::other("raw socket vanished"))
    }

    fn link_socket(&mut self) -> io::Result<&OwnedFd> {
        if self.link.is_none() {
            // Protocol 0: this socket only sends, it never receives a copy of anything.
            let fd = sys::socket(libc::AF_PACKET, libc::SOCK_DGRAM, 0)?;
            let one: libc::c_int = 1;
            // Straight to the driver: no queueing discipline in the way at high rates.
            let _ = sys::setsockopt(&fd, libc::SOL_PACKET, sys::PACKET_QDISC_BYPASS, &one);
            let big: libc::c_int = 4 << 20;
            let _ = sys::setsockopt(&fd, libc::SOL_SOCKET, sys::SO_SNDBUFFORCE, &big);
            self.link = Some(fd);
        }
        self.link
            .as_ref()
            .ok_or_else(|| io::Error::other("packet socket vanished"))
    }

    /// The next hop's MAC address (cached; None where the link has none).
    pub fn next_hop_mac(&mut self, route: &Route) -> io::Result<Option<[u8; 6]>> {
        let key = (route.ifindex, route.next_hop);
        Ok(match self.macs.get(&key) {
            Some(m) => *m,
            None => {
                let m = route::next_hop_mac(route)?;
                self.macs.insert(key, m);
                m
            }
        })
    }

    /// An interface's hardware type (ARPHRD_*) and own address (cached).
    pub fn own_link(&mut self, ifname: &str) -> io::Result<(u16, [u8; 6])> {
        if let Some(h) = self.hwaddrs.get(ifname) {
            return Ok(*h);
        }
        let h = sys::if_hwaddr(ifname)?;
        self.hwaddrs.insert(ifname.to_string(), h);
        Ok(h)
    }

    /// The link-layer destination for a route (cached per next hop).
    pub fn link_addr(&mut self, route: &Route) -> io::Result<RawSockAddr> {
        let mac = self.next_hop_mac(route)?;
        let proto = ethertype(route);
        Ok(RawSockAddr::from_ll(sys::sockaddr_ll(
            route.ifindex,
            proto,
            mac,
        )))
    }

    /// Send one IP packet (bytes start at the IP header).
    pub fn send(
        &mut self,
        bytes: &[u8],
        route: &Route,
        path: Path,
        bind: Option<&str>,
    ) -> io::Result<()> {
        match path {
            Path::RawIp => {
                let v6 = route.dst.is_ipv6();
                let scope = match route.dst {
                    IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80 => route.ifindex,
                    _ => 0,
                };
                let addr = RawSockAddr::from_ip(route.dst, 0, scope);
                let fd = self.raw_socket(v6, bind)?;
                sys::sendto(fd, bytes, &addr).map(|_| ())
            }
            Path::Link => {
                let addr = self.link_addr(route)?;
                let fd = self.link_socket()?;
                sys::sendto(fd, bytes, &addr).map(|_| ())
            }
        }
    }

    /// Send one Ethernet frame, `header` then the IP packet `bytes`, on the route's
    /// interface, exactly as given.
    pub fn send_frame(&mut self, header: &[u8; 14], bytes: &[u8], route: &Route) -> io::Result<()> {
        if self.frame.is_none() {
            // Protocol 0: sends only. The kernel adds nothing to a SOCK_RAW frame.
            self.frame = Some(sys::socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?);
        }
        let fd = self
            .frame
            .as_ref()
            .ok_or_else(|| io::Error::other("packet socket vanished"))?;
        let mut frame = Vec::with_capacity(header.len() + bytes.len());
        frame.extend_from_slice(header);
        frame.extend_from_slice(bytes);
        // A whole Ethernet header by its type.
        let eth = EthernetFrame::new_unchecked(&header[..]);
        let (dst, proto) = (eth.dst_addr(), eth.ethertype());
        let addr = RawSockAddr::from_ll(sys::sockaddr_ll(route.ifindex, proto, Some(dst)));
        sys::sendto(fd, &frame, &addr).map(|_| ())
    }

    /// Send many IP packets to one route at the link layer: through a transmit ring
    /// on an Ethernet interface (see [`TxRing`]), else with sendmmsg(2). Returns how
    /// many left; call [`flush`](Self::flush) after the last batch.
    pub fn send_batch(&mut self, frames: &[&[u8]], route: &Route) -> io::Result<usize> {
        if let Some(dst) = self.next_hop_mac(route)? {
            if let Some(lr) = self.ring(route) {
                if frames.iter().all(|f| f.len() + 14 <= lr.ring.frame_max()) {
                    let mut h = [0u8; ETHER_LEN];
                    let mut f = EthernetFrame::new_unchecked(&mut h[..]);
                    f.set_dst_addr(dst);
                    f.set_src_addr(lr.mac);
                    f.set_ethertype(ethertype(route));
                    return lr.ring.send_with_header(&h, frames);
                }
            }
        }
        let addr = self.link_addr(route)?;
        let fd = self.link_socket()?;
        sys::sendmmsg(fd, frames, Some(&addr))
    }

    /// The bulk-send ring of the route's interface, opened on first use.
    fn ring(&mut self, route: &Route) -> Option<&mut LinkRing> {
        if !self.rings.contains_key(&route.ifindex) {
            let ring = match self.own_link(&route.ifname) {
                Ok((sys::ARPHRD_ETHER, mac)) if !sendmmsg_only() => {
                    TxRing::open(route.ifindex, RING_SLOTS, MTU_SLOT)
                        .ok()
                        .map(|ring| LinkRing { ring, mac })
                }
                _ => None,
            };
            self.rings.insert(route.ifindex, ring);
        }
        self.rings.get_mut(&route.ifindex)?.as_mut()
    }

    /// Wait (up to a second) until every frame queued in a transmit ring has been
    /// taken by the kernel.
    pub fn flush(&mut self) -> io::Result<()> {
        for lr in self.rings.values_mut().flatten() {
            lr.ring.flush(std::time::Duration::from_secs(1))?;
        }
        Ok(())
    }

    /// Whether some bulk send went through a transmit ring.
    pub fn ring_in_use(&self) -> bool {
        self.rings.values().any(Option::is_some)
    }
}

fn ethertype(route: &Route) -> u16 {
    if route.dst.is_ipv6() {
        ETH_P_IPV6
    } else {
        ETH_P_IP
    }
}
