//! Source address, interface and next hop for a destination: the kernel's own routing
//! decision (netlink RTM_GETROUTE, like `ip route get`), and the next hop's link-layer
//! address from the neighbour table, resolved on demand.

use std::io;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::{netlink, sys};

/// Where a packet to `dst` leaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub dst: IpAddr,
    pub src: IpAddr,
    pub ifindex: u32,
    pub ifname: String,
    /// The gateway, or `dst` itself when it is on the link.
    pub next_hop: IpAddr,
    /// Delivered over the loopback interface (127/8, ::1, or one of our own addresses).
    pub loopback: bool,
}

/// Ask the kernel how it would reach `dst`; `src`/`iface` constrain the answer as the
/// user's `src=`/`iface=` do.
pub fn resolve(dst: IpAddr, src: Option<IpAddr>, iface: Option<&str>) -> io::Result<Route> {
    let oif = match iface {
        Some(name) => Some(sys::if_nametoindex(name).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no interface named {name}"),
            )
        })?),
        None => None,
    };
    let info = netlink::route_get(dst, src, oif)?;
    let ifindex = if info.oif != 0 {
        info.oif
    } else {
        oif.unwrap_or(0)
    };
    let ifname = sys::if_indextoname(ifindex).unwrap_or_default();
    let src = match src.or(info.prefsrc) {
        Some(s) => s,
        None => sys::udp_source_for(dst, iface)?,
    };
    let loopback = info.local || ifname == "lo" || dst.is_loopback();
    Ok(Route {
        dst,
        src,
        ifindex,
        ifname,
        next_hop: info.gateway.unwrap_or(dst),
        loopback,
    })
}

/// The ARPHRD type of an interface (1 Ethernet, 772 loopback, 65534 none), asked of the
/// kernel in this thread's network namespace.
pub fn hw_type(ifname: &str) -> Option<u16> {
    sys::if_hwaddr(ifname).ok().map(|(t, _)| t)
}

/// The next hop's MAC address for link-layer sending: `Ok(None)` when the interface has no
/// link-layer addresses (loopback, tun); otherwise from the neighbour table, asking the
/// kernel to resolve it (one empty UDP datagram to the discard port) when it is missing.
pub fn next_hop_mac(route: &Route) -> io::Result<Option<[u8; 6]>> {
    if route.loopback || hw_type(&route.ifname) != Some(sys::ARPHRD_ETHER) {
        return Ok(None);
    }
    if let Some(m) = netlink::neighbour(route.next_hop, route.ifindex)? {
        return Ok(Some(m));
    }
    sys::poke_neighbour(route.next_hop, route.ifindex)?;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(2));
        if let Some(m) = netlink::neighbour(route.next_hop, route.ifindex)? {
            return Ok(Some(m));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!(
            "the next hop {} on {} did not answer address resolution",
            route.next_hop, route.ifname
        ),
    ))
}

/// The source address the kernel would give a packet to `dst`, found without
/// privileges and without sending anything (a UDP socket's connect + getsockname), so
/// that `--dry-run` shows the packet as it would leave, as scapy does. `None` when there
/// is no route, for an unspecified destination, or when the environment sets
/// `TCPCRAFT_DRYRUN_SRC=none` (tests pin their output with it: which source a route
/// gives depends on the machine).
pub fn dry_run_source(dst: IpAddr) -> Option<IpAddr> {
    if dst.is_unspecified() || std::env::var_os("TCPCRAFT_DRYRUN_SRC").is_some_and(|v| v == "none")
    {
        return None;
    }
    sys::udp_source_for(dst, None).ok()
}
