//! Sending: IPv4 over a raw IP_HDRINCL socket, IPv6 over a raw IPv6 socket (which takes
//! the whole header as given), and anything at the link layer over AF_PACKET when the
//! kernel must not touch the IP header. Sockets are opened once and reused.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::os::fd::OwnedFd;

use super::route::{self, Route};
use super::sys::{self, RawSockAddr, ETH_P_IP, ETH_P_IPV6};

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
    macs: HashMap<(u32, IpAddr), Option<[u8; 6]>>,
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

    /// The link-layer destination for a route (cached per next hop).
    pub fn link_addr(&mut self, route: &Route) -> io::Result<RawSockAddr> {
        let key = (route.ifindex, route.next_hop);
        let mac = match self.macs.get(&key) {
            Some(m) => *m,
            None => {
                let m = route::next_hop_mac(route)?;
                self.macs.insert(key, m);
                m
            }
        };
        let proto = if route.dst.is_ipv6() {
            ETH_P_IPV6
        } else {
            ETH_P_IP
        };
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

    /// Send many IP packets to one route at the link layer with sendmmsg(2).
    pub fn send_batch(&mut self, frames: &[&[u8]], route: &Route) -> io::Result<usize> {
        let addr = self.link_addr(route)?;
        let fd = self.link_socket()?;
        sys::sendmmsg(fd, frames, Some(&addr))
    }
}

/// A link-layer sender bound to one route, for bulk traffic (the scanner): prebuilt IP
/// packets go out in sendmmsg(2) batches on an AF_PACKET socket that skips the qdisc.
pub struct BatchSender {
    fd: OwnedFd,
    addr: RawSockAddr,
}

impl BatchSender {
    /// Resolve the next hop of `route` and open the socket.
    pub fn new(route: &Route) -> io::Result<BatchSender> {
        let mac = route::next_hop_mac(route)?;
        let proto = if route.dst.is_ipv6() {
            ETH_P_IPV6
        } else {
            ETH_P_IP
        };
        let fd = sys::socket(libc::AF_PACKET, libc::SOCK_DGRAM, 0)?;
        let one: libc::c_int = 1;
        // Straight to the driver: no queueing discipline in the way at high rates.
        let _ = sys::setsockopt(&fd, libc::SOL_PACKET, sys::PACKET_QDISC_BYPASS, &one);
        let big: libc::c_int = 8 << 20;
        let _ = sys::setsockopt(&fd, libc::SOL_SOCKET, sys::SO_SNDBUFFORCE, &big);
        Ok(BatchSender {
            fd,
            addr: RawSockAddr::from_ll(sys::sockaddr_ll(route.ifindex, proto, mac)),
        })
    }

    /// Send every packet (bytes start at the IP header); returns how many left.
    pub fn send(&self, packets: &[&[u8]]) -> io::Result<usize> {
        sys::sendmmsg(&self.fd, packets, Some(&self.addr))
    }
}
