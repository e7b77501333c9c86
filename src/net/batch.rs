//! Batch I/O for the port scanner: where frames to a destination leave ([`Egress`]:
//! route, path, link address, Ethernet header), per-thread senders that put batches of
//! frames on the wire ([`LinkSenders`]: a transmit ring or sendmmsg over AF_PACKET with
//! qdisc bypass, or a raw IP socket), the fan-out receive rings that read the answers
//! ([`RxRings`]), and closing many packet sockets at once ([`close_together`]). The
//! scanner plans, paces and retries; everything here touches sockets.
//!
//! The capture program itself is [`super::bpf::port_window_filter`].

use std::io;
use std::net::IpAddr;
use std::os::fd::{OwnedFd, RawFd};
use std::time::Duration;

use super::netlink;
use super::ring::{Ring, RingConfig};
use super::route::{self, Route};
use super::send::{Path, Sender};
use super::sys::{self, SockFilter};
use super::txring::{self, TxRing};

pub use super::sys::ephemeral_range;

/// Bytes of an Ethernet header (destination MAC, source MAC, ethertype).
pub const ETH_HLEN: usize = 14;

/// Frames in each sender's transmit ring (256 bytes each: 512 KiB; at 1 M frames/s
/// that is 2 ms of frames in flight, where veth frees each at once and a NIC within
/// tens of microseconds).
const TX_RING_SLOTS: usize = 2048;

/// The wall-clock time now (since the epoch), as capture files stamp packets.
pub fn wall_clock() -> Duration {
    sys::clocks().0
}

/// Where packets to one host (or prefix) leave.
pub struct Egress {
    pub route: Route,
    pub path: Path,
    /// For `Path::Link`: the interface, ethertype and next hop's MAC.
    pub ll: Option<libc::sockaddr_ll>,
    /// For `Path::Link` on an Ethernet interface: the frame header (next hop's MAC, ours,
    /// ethertype), written before each packet so that the kernel adds none.
    pub eth: Option<[u8; ETH_HLEN]>,
}

impl Egress {
    /// Look up how to reach `host`. Packets go out over AF_PACKET (batched, byte for
    /// byte) when the next hop's link address is in the kernel's neighbour table, else
    /// over a raw IP socket so the kernel routes and resolves them itself (loopback,
    /// tunnels, targets whose address does not resolve). Returns the egress and whether
    /// resolving the next hop is worth a try (it is not in the table yet).
    pub fn resolve(host: IpAddr, iface: Option<&str>) -> io::Result<(Egress, bool)> {
        let route = route::resolve(host, None, iface)?;
        if route.loopback {
            return Ok((
                Egress {
                    route,
                    path: Path::RawIp,
                    ll: None,
                    eth: None,
                },
                false,
            ));
        }
        let mut e = Egress {
            route,
            path: Path::RawIp,
            ll: None,
            eth: None,
        };
        let found = e.find_link()?;
        Ok((e, !found))
    }

    /// Fill in the link-layer destination from the neighbour table; `true` if found.
    pub fn find_link(&mut self) -> io::Result<bool> {
        let r = &self.route;
        let Some(mac) = netlink::neighbour(r.next_hop, r.ifindex)? else {
            return Ok(false);
        };
        let proto = if r.dst.is_ipv6() {
            sys::ETH_P_IPV6
        } else {
            sys::ETH_P_IP
        };
        self.ll = Some(sys::sockaddr_ll(r.ifindex, proto, Some(mac)));
        self.eth = match sys::if_hwaddr(&r.ifname) {
            Ok((sys::ARPHRD_ETHER, ours)) => {
                let mut h = [0u8; ETH_HLEN];
                h[..6].copy_from_slice(&mac);
                h[6..12].copy_from_slice(&ours);
                h[12..].copy_from_slice(&proto.to_be_bytes());
                Some(h)
            }
            _ => None,
        };
        self.path = Path::Link;
        Ok(true)
    }

    /// Ask the kernel to resolve the next hop (the answer shows in the neighbour table,
    /// see [`Egress::find_link`]).
    pub fn poke_neighbour(&self) -> io::Result<()> {
        sys::poke_neighbour(self.route.next_hop, self.route.ifindex)
    }

    /// Frames to this egress leave whole (Ethernet header included) by a
    /// [`FrameSender`] of its interface.
    pub fn whole_frames(&self) -> bool {
        self.path == Path::Link && self.eth.is_some()
    }
}

/// One AF_PACKET socket per sender thread, bypassing the qdisc layer: SOCK_RAW for frames
/// built whole (Ethernet), SOCK_DGRAM where the kernel adds the link header.
fn link_socket(kind: libc::c_int) -> io::Result<OwnedFd> {
    let fd = sys::socket(libc::AF_PACKET, kind, 0)?;
    let big: libc::c_int = 4 << 20;
    let _ = sys::setsockopt(&fd, libc::SOL_SOCKET, sys::SO_SNDBUFFORCE, &big);
    let one: libc::c_int = 1;
    let _ = sys::setsockopt(&fd, libc::SOL_PACKET, sys::PACKET_QDISC_BYPASS, &one);
    Ok(fd)
}

/// How whole Ethernet frames leave: a transmit ring (see [`TxRing`]: about a third
/// faster), or, where the kernel has none to give, sendmmsg on a socket bound to the
/// interface with protocol 0 (no capture hook; sent without an address, so the kernel
/// copies none per frame). `TCPCRAFT_SENDMMSG=1` chooses the second.
pub enum FrameSender {
    Ring(TxRing),
    Socket(OwnedFd),
}

impl FrameSender {
    fn open(ifindex: u32) -> io::Result<FrameSender> {
        FrameSender::open_sized(ifindex, TX_RING_SLOTS, txring::SMALL_SLOT)
    }

    /// A sender on interface `ifindex`; a transmit ring has `slots` slots of
    /// `slot_size` bytes.
    pub fn open_sized(ifindex: u32, slots: usize, slot_size: usize) -> io::Result<FrameSender> {
        if !super::send::sendmmsg_only() {
            if let Ok(r) = TxRing::open(ifindex, slots, slot_size) {
                return Ok(FrameSender::Ring(r));
            }
        }
        let fd = link_socket(libc::SOCK_RAW)?;
        sys::bind_packet(&fd, ifindex, 0)?;
        Ok(FrameSender::Socket(fd))
    }

    /// Hand frames to the kernel; returns how many it took (0: the ring is full).
    pub fn send(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
        match self {
            FrameSender::Ring(r) => r.send(frames),
            FrameSender::Socket(fd) => sys::sendmmsg(fd, frames, None),
        }
    }

    /// At the end of a round: every frame handed to the kernel.
    fn flush(&mut self) -> io::Result<()> {
        match self {
            FrameSender::Ring(r) => r.flush(Duration::from_secs(1)),
            FrameSender::Socket(_) => Ok(()),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            FrameSender::Ring(_) => "transmit ring",
            FrameSender::Socket(_) => "sendmmsg",
        }
    }
}

/// A sender thread's sockets. Its packet sockets are kept for the whole scan: closing
/// one waits for an RCU grace period (tens of milliseconds on a busy machine), so they
/// are opened once and closed together at the end (see [`close_together`]). Its raw IP
/// sockets (opened on first use) last a round.
pub struct LinkSenders {
    /// For frames the kernel gives a link header (non-Ethernet links).
    dgram: OwnedFd,
    /// For whole Ethernet frames, one sender per interface.
    raw: Vec<(u32, FrameSender)>,
    /// For packets the kernel routes ([`Path::RawIp`]).
    ip: Sender,
}

impl LinkSenders {
    /// Sockets for one thread: a frame sender for each Ethernet interface in
    /// `ifindexes` (see [`Egress::whole_frames`]), and one for other links.
    pub fn open(ifindexes: &[u32]) -> io::Result<LinkSenders> {
        let raw = ifindexes
            .iter()
            .map(|&i| Ok((i, FrameSender::open(i)?)))
            .collect::<io::Result<_>>()?;
        Ok(LinkSenders {
            dgram: link_socket(libc::SOCK_DGRAM)?,
            raw,
            ip: Sender::new(),
        })
    }

    /// Send the first `lens.len()` of `frames` toward `to`: each holds [`ETH_HLEN`] bytes
    /// of room, then an IP packet of its `lens` bytes. Whole Ethernet frames (the
    /// interface's frame sender, found once per batch) get the egress's header in that
    /// room; everything else leaves from the IP header. `record` sees each IP packet
    /// first. For a packet by raw IP socket, an unreachable or unresolvable target is
    /// silence, not a failure.
    pub fn send<const N: usize>(
        &mut self,
        to: &Egress,
        frames: &mut [[u8; N]],
        lens: &[usize],
        mut record: impl FnMut(&[u8]),
    ) -> io::Result<()> {
        let n = lens.len();
        let LinkSenders { dgram, raw, ip } = self;
        let mut frame_sender = match to.eth {
            Some(h) if to.path == Path::Link => raw
                .iter_mut()
                .find(|(i, _)| *i == to.route.ifindex)
                .map(|(_, s)| (h, s)),
            _ => None,
        };
        let eth = frame_sender.as_ref().map(|(h, _)| *h);
        if let Some(h) = eth {
            for f in frames.iter_mut().take(n) {
                f[..ETH_HLEN].copy_from_slice(&h);
            }
        }
        let start = if eth.is_some() { 0 } else { ETH_HLEN };
        let refs: Vec<&[u8]> = frames
            .iter()
            .zip(lens)
            .take(n)
            .map(|(f, &l)| f.get(start..ETH_HLEN + l).unwrap_or_default())
            .collect();
        for r in &refs {
            record(r.get(ETH_HLEN - start..).unwrap_or_default());
        }
        match to.path {
            Path::Link => {
                let Some(ll) = to.ll else {
                    return Err(io::Error::other("no link-layer route"));
                };
                let addr = sys::RawSockAddr::from_ll(ll);
                let mut done = 0;
                while done < refs.len() {
                    let rest = refs.get(done..).unwrap_or_default();
                    let sent = match frame_sender.as_mut() {
                        Some((_, s)) => s.send(rest)?,
                        None => sys::sendmmsg(dgram, rest, Some(&addr))?,
                    };
                    match sent {
                        0 => std::thread::yield_now(),
                        k => done += k,
                    }
                }
            }
            Path::RawIp => {
                for r in &refs {
                    if let Err(e) = ip.send(r, &to.route, Path::RawIp, None) {
                        if !matches!(
                            e.raw_os_error(),
                            Some(libc::EHOSTUNREACH | libc::ENETUNREACH | libc::EINVAL)
                        ) {
                            return Err(e);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// At the end of a round: every frame in a transmit ring handed to the kernel, and
    /// the round's raw IP sockets closed.
    pub fn end_round(&mut self) -> io::Result<()> {
        self.ip = Sender::new();
        let mut res = Ok(());
        for (_, s) in &mut self.raw {
            if let Err(e) = s.flush() {
                if res.is_ok() {
                    res = Err(e);
                }
            }
        }
        res
    }

    /// How Ethernet frames leave, per interface (for a trace).
    pub fn ways(&self) -> Vec<&'static str> {
        self.raw.iter().map(|(_, s)| s.name()).collect()
    }

    /// The sockets and rings, to be closed with [`close_together`].
    pub fn into_closing(self) -> Vec<Box<dyn Send>> {
        let mut v: Vec<Box<dyn Send>> = vec![Box::new(self.dgram)];
        v.extend(
            self.raw
                .into_iter()
                .map(|(_, fd)| Box::new(fd) as Box<dyn Send>),
        );
        v
    }
}

/// The receive side: TPACKET_V3 rings on every interface, one per CPU (up to `count`)
/// in a fan-out group, each taking the packets that CPU receives.
pub struct RxRings {
    rings: Vec<Ring>,
    fds: Vec<RawFd>,
}

impl RxRings {
    /// Open the rings with `filter` armed; `cfg` is each ring's geometry.
    pub fn open(filter: &[SockFilter], cfg: RingConfig, count: usize) -> io::Result<RxRings> {
        let rings = Ring::open_per_cpu(0, filter, cfg, count)?;
        let fds = rings.iter().map(Ring::raw_fd).collect();
        Ok(RxRings { rings, fds })
    }

    /// Hand every packet waiting in the rings to `f` (bytes from the IP header); returns
    /// how many there were.
    pub fn drain(&mut self, mut f: impl FnMut(&[u8])) -> usize {
        let mut seen = 0;
        for r in self.rings.iter_mut() {
            seen += r.drain(|fr| f(fr.data));
        }
        seen
    }

    /// Wait until a ring has a block to read, or `timeout`.
    pub fn wait(&self, timeout: Duration) -> io::Result<bool> {
        sys::poll_any(&self.fds, timeout)
    }

    /// Packets the kernel dropped (rings full) since the last call.
    pub fn drops(&self) -> u64 {
        self.rings.iter().map(|r| u64::from(r.stats().1)).sum()
    }

    /// The rings, to be closed with [`close_together`].
    pub fn into_closing(self) -> Vec<Box<dyn Send>> {
        self.rings
            .into_iter()
            .map(|r| Box::new(r) as Box<dyn Send>)
            .collect()
    }
}

/// Close packet sockets (and rings) at once, each in its own thread, so that their
/// grace periods overlap instead of adding up.
pub fn close_together(items: Vec<Box<dyn Send>>) {
    std::thread::scope(|s| {
        for it in items {
            s.spawn(move || drop(it));
        }
    });
}

/// What a full TCP handshake with one address found (the connect() scan's probe, for
/// users without raw-socket privileges).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handshake {
    /// The connection was made (and is closed at once).
    Accepted,
    /// The target answered with a RST.
    Refused,
    /// No answer within the timeout.
    TimedOut,
    /// Any other error (unreachable host or network, …).
    Failed,
}

/// Connect to `addr` through the kernel's own TCP stack, waiting at most `timeout`.
pub fn handshake(addr: std::net::SocketAddr, timeout: Duration) -> Handshake {
    match std::net::TcpStream::connect_timeout(&addr, timeout) {
        Ok(_) => Handshake::Accepted,
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Handshake::Refused,
        Err(e) if e.kind() == io::ErrorKind::TimedOut || e.kind() == io::ErrorKind::WouldBlock => {
            Handshake::TimedOut
        }
        Err(_) => Handshake::Failed,
    }
}
