//! The segment transport of hand-driven sessions: one background receiver and one pair
//! of raw send sockets per process, shared by every session.
//!
//! Why a background receiver: a person types one step at a time, and the peer does not
//! wait for them. Its SYN-ACK is retransmitted after a second, its FIN comes when its
//! application closes. Each segment must be taken the moment it arrives (shown, and the
//! state machine moved) so that whatever the person sends next is judged against
//! everything already received. The receiver thread owns one AF_PACKET socket (opened
//! by the first subscriber, so a missing CAP_NET_RAW is reported at once and nothing is
//! lost between the socket's bind and the first send) and hands every TCP packet to
//! the [`Subscriber`] registered for its destination port. It also calls
//! [`Subscriber::tick`] about ten times a second, so the sessions' timers (the peer
//! giving up, TIME_WAIT ending) run while nobody calls into them.
//!
//! Why shared: opening and closing packet sockets per session costs milliseconds
//! (closing one waits for the kernel); a script that drives hundreds of sessions pays
//! one socket and one thread in all.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use super::guard::mark_socket;
use super::sys;
use crate::packet::{LinkType, Packet};
use crate::pcap::SharedWriter;

/// What the receiver hands packets to (a session's shared state).
pub trait Subscriber: Send + Sync {
    /// A TCP packet for the subscribed port arrived at `at`. Returns whether the
    /// subscriber took it as a segment of its connection; if it does, it calls
    /// `record` (which writes it to `--pcap`) before anyone can answer it, so that the
    /// file keeps the order of the exchange.
    fn deliver(&self, pkt: Packet, at: Instant, record: &dyn Fn()) -> bool;
    /// Everything queued was delivered (a batch ended): a moment to look at
    /// slower sources of truth.
    fn settled(&self) {}
    /// About every 100 ms: timers.
    fn tick(&self, now: Instant);
}

struct Entry {
    id: u64,
    /// The network namespace the subscriber's session lives in (a test process drives
    /// sessions in several): each namespace has its own receiver.
    netns: u64,
    port: u16,
    sub: Weak<dyn Subscriber>,
    pcap: Option<SharedWriter>,
}

#[derive(Default)]
struct Registry {
    entries: Vec<Entry>,
    /// The namespaces whose receiver thread runs (started with their first subscription).
    running: Vec<u64>,
}

/// The network namespace of the calling thread (its inode), 0 when unknown.
fn netns_id() -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/thread-self/ns/net").map_or(0, |m| m.ino())
}

fn registry() -> &'static Mutex<Registry> {
    static R: OnceLock<Mutex<Registry>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(Registry::default()))
}

fn lock() -> std::sync::MutexGuard<'static, Registry> {
    registry().lock().unwrap_or_else(|e| e.into_inner())
}

/// A registration with the receiver; dropping it ends the deliveries.
#[derive(Debug)]
pub struct Subscription {
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        lock().entries.retain(|e| e.id != self.id);
    }
}

/// Starts delivering TCP packets addressed to `port` (on any interface, any address)
/// to `sub`, until the returned subscription is dropped. Received segments that `sub`
/// takes are written to `pcap` with the kernel's receive time.
pub fn subscribe(
    port: u16,
    sub: Weak<dyn Subscriber>,
    pcap: Option<SharedWriter>,
) -> io::Result<Subscription> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let netns = netns_id();
    let mut reg = lock();
    if !reg.running.contains(&netns) {
        // Made here, so it lives in the caller's namespace (the thread need not).
        let fd = capture_socket()?;
        std::thread::Builder::new()
            .name("tcpcraft-segrx".into())
            .spawn(move || run(fd, netns))?;
        reg.running.push(netns);
    }
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    reg.entries.push(Entry {
        id,
        netns,
        port,
        sub,
        pcap,
    });
    Ok(Subscription { id })
}

/// AF_PACKET, cooked (IP packets without link headers), every protocol, every
/// interface, with kernel receive times.
pub fn capture_socket() -> io::Result<OwnedFd> {
    let all = libc::ETH_P_ALL as u16;
    let fd = sys::socket(libc::AF_PACKET, libc::SOCK_DGRAM, i32::from(all.to_be()))?;
    let one: libc::c_int = 1;
    sys::setsockopt(&fd, libc::SOL_SOCKET, sys::SO_TIMESTAMPNS, &one)?;
    sys::bind_packet(&fd, 0, all)?;
    Ok(fd)
}

/// The next packet that arrived at this host (loopback shows every packet twice: the
/// outgoing copy is skipped), without waiting: its length in `buf` and its kernel
/// receive time. `None` when nothing is queued.
pub fn recv_arriving(
    fd: &OwnedFd,
    buf: &mut [u8],
) -> io::Result<Option<(usize, Option<Duration>)>> {
    loop {
        let Some(got) = sys::recv_packet(fd, buf)? else {
            return Ok(None);
        };
        if got.pkttype != libc::PACKET_OUTGOING {
            return Ok(Some((got.len, got.stamp)));
        }
    }
}

const TICK: Duration = Duration::from_millis(100);

fn run(fd: OwnedFd, netns: u64) {
    let mut buf = vec![0u8; 65536];
    let mut next_tick = Instant::now() + TICK;
    loop {
        let wait = next_tick.saturating_duration_since(Instant::now());
        if matches!(sys::poll_in(fd.as_raw_fd(), wait), Ok(true)) {
            // Drain what is queued, then look at the clock again.
            let mut delivered: Vec<Arc<dyn Subscriber>> = Vec::new();
            for _ in 0..256 {
                match recv_arriving(&fd, &mut buf) {
                    Ok(Some((len, stamp))) => {
                        let Some(bytes) = buf.get(..len) else {
                            continue;
                        };
                        if let Some(sub) = dispatch(bytes, stamp, netns) {
                            if !delivered.iter().any(|d| Arc::ptr_eq(d, &sub)) {
                                delivered.push(sub);
                            }
                        }
                    }
                    Ok(None) => break,
                    Err(_) => break,
                }
            }
            for sub in delivered {
                sub.settled();
            }
        }
        let now = Instant::now();
        if now >= next_tick {
            next_tick = now + TICK;
            let subs: Vec<Arc<dyn Subscriber>> = lock()
                .entries
                .iter()
                .filter(|e| e.netns == netns)
                .filter_map(|e| e.sub.upgrade())
                .collect();
            for s in subs {
                s.tick(now);
            }
        }
    }
}

/// Hands one captured IP packet to the subscribers of its TCP destination port;
/// returns the one that took it.
fn dispatch(bytes: &[u8], stamp: Option<Duration>, netns: u64) -> Option<Arc<dyn Subscriber>> {
    let at = Instant::now();
    let port = match crate::packet::view::Dissection::new(bytes, LinkType::RawIp) {
        Some(d) if d.is_tcp() => d.ports().1,
        _ => return None,
    };
    let subs: Vec<(Arc<dyn Subscriber>, Option<SharedWriter>)> = lock()
        .entries
        .iter()
        .filter(|e| e.port == port && e.netns == netns)
        .filter_map(|e| e.sub.upgrade().map(|s| (s, e.pcap.clone())))
        .collect();
    if subs.is_empty() {
        return None;
    }
    let (pkt, _) = Packet::parse(bytes, LinkType::RawIp);
    for (sub, pcap) in subs {
        let record = || {
            if let Some(w) = &pcap {
                let time = stamp.unwrap_or_else(|| sys::clocks().0);
                let _ = w.write_now(time, bytes);
            }
        };
        if sub.deliver(pkt.clone(), at, &record) {
            return Some(sub);
        }
    }
    None
}

/// Raw IPv4 and IPv6 send sockets (IP_HDRINCL), marked so that the RST guard lets
/// tcpcraft's own RSTs pass; opened once per process.
#[derive(Debug)]
pub struct Tx {
    v4: OwnedFd,
    v6: OwnedFd,
}

/// The process's send sockets, opened on first use (an error is not remembered: a
/// later call tries again).
pub fn tx() -> io::Result<Arc<Tx>> {
    static TX: Mutex<Vec<(u64, Arc<Tx>)>> = Mutex::new(Vec::new());
    let netns = netns_id();
    let mut slot = TX.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, t)) = slot.iter().find(|(n, _)| *n == netns) {
        return Ok(t.clone());
    }
    let raw = |domain| -> io::Result<OwnedFd> {
        let fd = sys::socket(domain, libc::SOCK_RAW, libc::IPPROTO_RAW)?;
        mark_socket(fd.as_raw_fd())?;
        Ok(fd)
    };
    let t = Arc::new(Tx {
        v4: raw(libc::AF_INET)?,
        v6: raw(libc::AF_INET6)?,
    });
    slot.push((netns, t.clone()));
    Ok(t)
}

impl Tx {
    /// Sends one whole IP packet (header included) to `dst`.
    pub fn send(&self, bytes: &[u8], dst: IpAddr) -> io::Result<()> {
        let fd = if dst.is_ipv4() { &self.v4 } else { &self.v6 };
        sys::sendto(fd, bytes, &sys::RawSockAddr::from_ip(dst, 0, 0)).map(|_| ())
    }
}
