//! The raw-socket scan engine: sender threads (one per CPU, each with its own packet
//! socket) walk their part of the permutation and send frames built from a template in
//! sendmmsg batches over AF_PACKET with qdisc bypass (a raw IP socket where the next
//! hop's link address is unknown); one capture thread reads a BPF-filtered TPACKET_V3
//! ring and records cookie-validated answers in the shared table. Unanswered probes are
//! retried in rounds (a new TCP source port each) until the measured loss says no answer
//! is still missing; the rate drops when the ring drops packets or when the target
//! answers only part of what it is sent (see [`RetryPolicy`]).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter};
use std::net::IpAddr;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::banner::{BannerConfig, GrabStats, Grabber};
use super::banner_tx::BannerTx;
use super::perm::Cycle;
use super::probe::{Prober, MAX_PROBE, TCP_PORTS, UDP_PORTS};
use super::result::{Reason, ScanResults, ScanType};
use super::targets::Targets;
use super::ScanError;
use crate::net::bpf::{Asm, ABS, AND, B, H, IND, JEQ, JMP, K, LD, LDX, MSH, RET};
use crate::net::guard::ReplyDrop;
use crate::net::ring::{Ring, RingConfig};
use crate::net::route::{self, Route};
use crate::net::send::{Path, Sender};
use crate::net::sys::{self, SockFilter};
use crate::net::txring::{self, TxRing};
use crate::net::{netlink, wire};
use crate::pcap;

/// Set by Ctrl-C, SIGTERM or SIGHUP: the program's one cancellation flag.
pub use crate::cancel::INTERRUPTED;

/// Scans of at least this many pairs install the reply filter ([`ReplyDrop`]): below,
/// starting `nft` costs more than it saves.
const REPLY_DROP_MIN: u64 = 4096;

/// Frames per sendmmsg call.
const BATCH: usize = 64;
/// Frames in each sender's transmit ring (256 bytes each: 512 KiB; at 1 M frames/s
/// that is 2 ms of frames in flight, where veth frees each at once and a NIC within
/// tens of microseconds).
const TX_RING_SLOTS: usize = 2048;
/// Steps of the permutation a sender thread takes at a time.
const WALK_PIECE: u64 = 1024;
/// Above this many hosts, routes are looked up per /24 (IPv4) or /64 (IPv6).
pub(super) const PER_HOST_ROUTES: u64 = 4096;
/// The rate a scan starts at when the user gives none (probes/s, all threads).
pub const DEFAULT_RATE: u64 = 1_000_000;
/// The rate a scan with `--banners` starts at: every SYN-ACK brings a connection to
/// read (several segments each way), so the capture thread has more to do.
pub const DEFAULT_BANNER_RATE: u64 = 250_000;
/// The lowest rate back-off goes to (capture drops).
const MIN_RATE: u64 = 500;
/// The lowest rate a target's measured answer rate slows a scan to.
const MIN_LIMITED_RATE: u64 = 2;
/// Default cap on retry rounds: the loss seen decides how many are used (none more
/// than one without loss; about 30 at 40% loss each way).
pub const DEFAULT_RETRIES: u32 = 50;
/// Slots of the per-round histogram of answer arrivals.
const HIST_SLOTS: usize = 4096;
/// Width of a histogram slot, µs.
const HIST_SLOT_US: u64 = 10_000;
/// Below this rate (probes/s) a round is sent by one thread, one probe per call, so
/// that its probes are spread evenly in time (a rate limiter is measured against it).
const PACED_RATE: u64 = 50_000;
/// Receive ring: blocks of 128 KiB, handed over after at most 2 ms; as many as the
/// whole scan's answers would fill (about 128 bytes each, so even a stalled capture
/// thread loses none), from 8 (1 MiB) to 128 (16 MiB, about 140,000 answers). Mapping
/// and locking the ring is most of a small scan's start-up time.
const RING_BLOCK: u32 = 128 << 10;
const RING_BLOCKS_MIN: u64 = 8;
const RING_BLOCKS_MAX: u64 = 128;

fn ring_blocks(pairs: u64) -> u32 {
    (pairs.saturating_mul(128) / u64::from(RING_BLOCK)).clamp(RING_BLOCKS_MIN, RING_BLOCKS_MAX)
        as u32
}
const RING_RETIRE_MS: u32 = 2;

/// With banners, each open port brings a few segments more (its answer, FIN, ACKs) of a
/// few hundred bytes: about 1 KiB of ring per pair, up to 256 blocks (32 MiB).
fn banner_ring_blocks(pairs: u64) -> u32 {
    (pairs.saturating_mul(1024) / u64::from(RING_BLOCK)).clamp(RING_BLOCKS_MIN, 256) as u32
}

/// How to run a scan. `Default` is a SYN scan at an adaptive rate.
#[derive(Clone, Debug)]
pub struct ScanConfig {
    pub kind: ScanType,
    /// Probes per second over all threads; `None` starts at [`DEFAULT_RATE`] and adapts.
    pub rate: Option<u64>,
    /// At most this many retries of an unanswered probe.
    pub max_retries: u32,
    /// Time to wait for answers after each round; `None` derives it from measured RTTs.
    pub wait: Option<Duration>,
    /// Permutation seed (shards of one scan must share it).
    pub seed: u64,
    /// `(I, N)`: this machine scans shard I of N (0-based).
    pub shard: (u64, u64),
    /// TCP source port (UDP uses the 1024 ports from here); `None` picks one.
    pub source_port: Option<u16>,
    /// Sender threads; 0 means one per CPU.
    pub threads: usize,
    /// Leave through this interface.
    pub interface: Option<String>,
    /// Record every probe and every answer here.
    pub pcap: Option<PathBuf>,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// Let the kernel process the RSTs that answer the probes (no nftables reply
    /// filter, see [`ReplyDrop`]).
    pub keep_rsts: bool,
    /// Every TCP retry reuses the first probe's source port and sequence number (the
    /// same 4-tuple, as a client's kernel retransmits a SYN). By default retries
    /// alternate: odd retries reuse it, even ones take a fresh source port.
    pub retransmit_same_port: bool,
    /// Read what each open port says (`--banners`, see [`super::banner`]).
    pub banners: Option<BannerConfig>,
}

impl Default for ScanConfig {
    fn default() -> ScanConfig {
        ScanConfig {
            kind: ScanType::Syn,
            rate: None,
            max_retries: DEFAULT_RETRIES,
            wait: None,
            seed: 0,
            shard: (0, 1),
            source_port: None,
            threads: 0,
            interface: None,
            pcap: None,
            progress: false,
            keep_rsts: false,
            retransmit_same_port: false,
            banners: None,
        }
    }
}

/// Where probes to one host (or prefix) leave.
pub(super) struct Slot {
    pub(super) route: Route,
    pub(super) path: Path,
    /// For `Path::Link`: the interface, ethertype and next hop's MAC.
    pub(super) ll: Option<libc::sockaddr_ll>,
    /// For `Path::Link` on an Ethernet interface: the frame header (next hop's MAC, ours,
    /// ethertype), written before each probe so that the kernel adds none.
    pub(super) eth: Option<[u8; ETH_HLEN]>,
}

pub(super) const ETH_HLEN: usize = 14;

/// Slots by host or prefix: looked up once per probe, so a fast hash (the keys are our
/// own targets, not an attacker's).
pub(super) type Slots = HashMap<IpAddr, Arc<Slot>, foldhash::fast::FixedState>;

/// State shared by every thread of one scan.
pub(super) struct Ctx<'a> {
    pub(super) res: &'a ScanResults,
    cfg: &'a ScanConfig,
    prober: Prober,
    cycle: Cycle,
    start: Instant,
    rate: AtomicU64,
    sent: AtomicU64,
    replies: AtomicU64,
    drops: AtomicU64,
    max_rtt_us: AtomicU64,
    /// Retransmission timeout from the RTT estimate, µs.
    rto_us: AtomicU64,
    /// When the last new answer came, µs since the start.
    last_reply_us: AtomicU64,
    /// Every answer that reached the ring before this time (µs since the start) has
    /// been read: the capture thread's own progress, so that a capture thread kept off
    /// the CPU (a loaded machine) does not make its answers late.
    rx_drained_us: AtomicU64,
    /// The next piece of the walk to send in this round.
    next_piece: AtomicU64,
    /// The source-port try number of this round's TCP probes (0: the first probe's).
    port_try: AtomicU32,
    /// This round sends at most this many probes (a sample), and has sent so many.
    round_cap: AtomicU64,
    round_probes: AtomicU64,
    /// When this round began, µs since the start.
    round_start_us: AtomicU64,
    /// This round's new answers per 10 ms since it began (a rate limiter shows as a
    /// flat count per slot while probes go out faster).
    hist: Vec<AtomicU32>,
    /// This round's new answers by kind (see [`kind_of`]).
    kinds: [AtomicU64; KINDS],
    /// Sender threads in this round, and frames per send call.
    active_threads: AtomicU64,
    batch: AtomicUsize,
    /// TCPCRAFT_SCAN_DEBUG is set: trace rounds and threads on stderr for whoever tunes
    /// the engine (not a user option).
    debug: bool,
    stop_send: AtomicBool,
    stop_rx: AtomicBool,
    pcap: Option<Mutex<pcap::Writer<BufWriter<File>>>>,
    ours: Vec<IpAddr>,
    error: Mutex<Option<ScanError>>,
    /// Connections the banner reader follows now (the senders wait while it is full),
    /// and SYN-ACKs it had no room for (each halves the rate, as capture drops do).
    banner_live: AtomicUsize,
    banner_refused: AtomicU64,
}

impl Ctx<'_> {
    fn now_us(&self) -> u32 {
        self.start.elapsed().as_micros() as u32
    }

    fn fail(&self, e: ScanError) {
        if let Ok(mut g) = self.error.lock() {
            g.get_or_insert(e);
        }
        self.stop_send.store(true, Ordering::Relaxed);
    }

    pub(super) fn record(&self, data: &[u8]) {
        if let Some(p) = &self.pcap {
            if let Ok(mut w) = p.lock() {
                let _ = w.write(sys::clocks().0, data);
            }
        }
    }
}

/// The capture filter: answers to our source port(s) and ICMP errors. Packets start at
/// the IP header (AF_PACKET SOCK_DGRAM); our own outgoing copies are skipped by the
/// capture (PACKET_OUTGOING), and fail the port test anyway.
pub fn capture_filter(proto: u8, sport: u16) -> Result<Vec<SockFilter>, String> {
    const JGT: u16 = 0x20;
    const JGE: u16 = 0x30;
    const JSET: u16 = 0x40;
    let mut a = Asm::new();
    let (accept, reject) = (a.label(), a.label());
    let (v4, v6, v4l4, port) = (a.label(), a.label(), a.label(), a.label());
    let next = |a: &mut Asm| a.label();
    a.op(LD | B | ABS, 0);
    a.op(0x04 | AND | K, 0xf0);
    let l = next(&mut a);
    a.jump_if(JMP | JEQ | K, 0x40, v4, l);
    a.place(l);
    a.jump_if(JMP | JEQ | K, 0x60, v6, reject);
    // IPv4
    a.place(v4);
    a.op(LD | B | ABS, 9);
    let l = next(&mut a);
    a.jump_if(JMP | JEQ | K, u32::from(wire::PROTO_ICMP), accept, l);
    a.place(l);
    a.jump_if(JMP | JEQ | K, u32::from(proto), v4l4, reject);
    a.place(v4l4);
    a.op(LD | H | ABS, 6);
    let l = next(&mut a);
    a.jump_if(JMP | JSET | K, 0x1fff, reject, l);
    a.place(l);
    a.op(LDX | B | MSH, 0);
    a.op(LD | H | IND, 2);
    a.ja(port);
    // IPv6 (extension headers are not walked: scan answers carry none)
    a.place(v6);
    a.op(LD | B | ABS, 6);
    let l = next(&mut a);
    a.jump_if(JMP | JEQ | K, u32::from(wire::PROTO_ICMPV6), accept, l);
    a.place(l);
    let l = next(&mut a);
    a.jump_if(JMP | JEQ | K, u32::from(proto), l, reject);
    a.place(l);
    a.op(LD | H | ABS, 42);
    // The destination port is in A.
    a.place(port);
    // Our ports: the UDP cookie window, or one TCP source port per try.
    let span = if proto == wire::PROTO_UDP {
        UDP_PORTS
    } else {
        TCP_PORTS
    };
    let l = next(&mut a);
    a.jump_if(JMP | JGE | K, u32::from(sport), l, reject);
    a.place(l);
    a.jump_if(
        JMP | JGT | K,
        u32::from(sport) + u32::from(span) - 1,
        reject,
        accept,
    );
    a.place(accept);
    a.op(RET | K, 0xffff);
    a.place(reject);
    a.op(RET | K, 0);
    a.finish()
}

pub(super) fn route_key(host: IpAddr, per_host: bool) -> IpAddr {
    if per_host {
        return host;
    }
    match host {
        IpAddr::V4(v) => IpAddr::V4((u32::from(v) & 0xffff_ff00).into()),
        IpAddr::V6(v) => IpAddr::V6((u128::from(v) & !0xffff_ffff_ffff_ffffu128).into()),
    }
}

/// Look up how to reach `host`. Probes go out over AF_PACKET (batched, byte for byte)
/// when the next hop's link address is in the kernel's neighbour table, else over a raw
/// IP socket so the kernel routes and resolves them itself (loopback, tunnels, targets
/// whose address does not resolve). Returns the slot and whether resolving the next hop
/// is worth a try (it is not in the table yet).
fn slot_for(host: IpAddr, iface: Option<&str>) -> io::Result<(Slot, bool)> {
    let route = route::resolve(host, None, iface)?;
    if route.loopback {
        return Ok((
            Slot {
                route,
                path: Path::RawIp,
                ll: None,
                eth: None,
            },
            false,
        ));
    }
    let mut slot = Slot {
        route,
        path: Path::RawIp,
        ll: None,
        eth: None,
    };
    let found = link_of(&mut slot)?;
    Ok((slot, !found))
}

/// Fill in the link-layer destination from the neighbour table; `true` if found.
fn link_of(slot: &mut Slot) -> io::Result<bool> {
    let r = &slot.route;
    let Some(mac) = netlink::neighbour(r.next_hop, r.ifindex)? else {
        return Ok(false);
    };
    let proto = if r.dst.is_ipv6() {
        sys::ETH_P_IPV6
    } else {
        sys::ETH_P_IP
    };
    slot.ll = Some(sys::sockaddr_ll(r.ifindex, proto, Some(mac)));
    slot.eth = match sys::if_hwaddr(&r.ifname) {
        Ok((sys::ARPHRD_ETHER, ours)) => {
            let mut h = [0u8; ETH_HLEN];
            h[..6].copy_from_slice(&mac);
            h[6..12].copy_from_slice(&ours);
            h[12..].copy_from_slice(&proto.to_be_bytes());
            Some(h)
        }
        _ => None,
    };
    slot.path = Path::Link;
    Ok(true)
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

/// Keeps one thread at its share of the rate without sleeping for less than a
/// millisecond (short sleeps overshoot on a busy machine and would cap the rate): it
/// compares what was sent with what the rate allows since a checkpoint, and lets a
/// thread that fell behind catch up by at most 10 ms worth of probes.
struct Pacer {
    since: Instant,
    base: u64,
    rate: u64,
}

impl Pacer {
    fn new() -> Pacer {
        Pacer {
            since: Instant::now(),
            base: 0,
            rate: 0,
        }
    }

    fn pace(&mut self, rate: u64, sent: u64, batch: u64) {
        let rate = rate.max(1);
        if rate != self.rate {
            *self = Pacer {
                since: Instant::now(),
                base: sent,
                rate,
            };
            return;
        }
        loop {
            let el = self.since.elapsed();
            let allowed = (el.as_secs_f64() * rate as f64) as u64;
            let done = sent - self.base;
            if done + batch <= allowed {
                if allowed - done - batch > (rate / 100).max(batch) {
                    // Fell behind by more than 10 ms: forget the debt.
                    *self = Pacer {
                        since: Instant::now(),
                        base: sent,
                        rate,
                    };
                }
                return;
            }
            let ahead = Duration::from_secs_f64((done + batch - allowed) as f64 / rate as f64);
            if ahead < Duration::from_millis(1) {
                std::hint::spin_loop();
                std::thread::yield_now();
            } else {
                std::thread::sleep(ahead);
            }
        }
    }
}

/// A sender thread's packet sockets, kept for the whole scan: closing one waits for an
/// RCU grace period (tens of milliseconds on a busy machine), so they are opened once
/// and closed together at the end (see [`close_together`]).
struct LinkSockets {
    /// For frames the kernel gives a link header (non-Ethernet links).
    dgram: OwnedFd,
    /// For whole Ethernet frames, one sender per interface.
    raw: Vec<(u32, FrameSender)>,
}

/// How whole Ethernet frames leave: a transmit ring (see [`TxRing`]: about a third
/// faster), or, where the kernel has none to give, sendmmsg on a socket bound to the
/// interface with protocol 0 (no capture hook; sent without an address, so the kernel
/// copies none per frame). `TCPCRAFT_SENDMMSG=1` chooses the second.
pub(super) enum FrameSender {
    Ring(TxRing),
    Socket(OwnedFd),
}

impl FrameSender {
    fn open(ifindex: u32) -> io::Result<FrameSender> {
        FrameSender::open_sized(ifindex, TX_RING_SLOTS, txring::SMALL_SLOT)
    }

    pub(super) fn open_sized(
        ifindex: u32,
        slots: usize,
        slot_size: usize,
    ) -> io::Result<FrameSender> {
        if !crate::net::send::sendmmsg_only() {
            if let Ok(r) = TxRing::open(ifindex, slots, slot_size) {
                return Ok(FrameSender::Ring(r));
            }
        }
        let fd = link_socket(libc::SOCK_RAW)?;
        sys::bind_packet(&fd, ifindex, 0)?;
        Ok(FrameSender::Socket(fd))
    }

    pub(super) fn send(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
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

impl LinkSockets {
    fn open(ifindexes: &[u32]) -> io::Result<LinkSockets> {
        let raw = ifindexes
            .iter()
            .map(|&i| Ok((i, FrameSender::open(i)?)))
            .collect::<io::Result<_>>()?;
        Ok(LinkSockets {
            dgram: link_socket(libc::SOCK_DGRAM)?,
            raw,
        })
    }
}

/// Close packet sockets (and rings) at once, each in its own thread, so that their
/// grace periods overlap instead of adding up.
fn close_together(items: Vec<Box<dyn Send>>) {
    std::thread::scope(|s| {
        for it in items {
            s.spawn(move || drop(it));
        }
    });
}

/// One sender thread's round: walk its part of the permutation and send every probe not
/// yet answered (all of them in round 0).
fn send_round(ctx: &Ctx<'_>, t: u64, round: u32, slots: &Slots, socks: &Mutex<LinkSockets>) {
    // Each thread has its own sockets; the lock is only for handing them over per round.
    let Ok(mut socks) = socks.lock() else {
        return;
    };
    let socks = &mut *socks;
    let res = ctx.res;
    let np = res.ports.len() as u64;
    let per_host = res.targets.len() <= PER_HOST_ROUTES;
    let mut sender = Sender::new();
    // Each frame: room for an Ethernet header, then the probe as built.
    let mut frames = vec![[0u8; ETH_HLEN + MAX_PROBE]; BATCH];
    let mut lens = [0usize; BATCH];
    let mut n = 0usize;
    let mut cur: Option<Arc<Slot>> = None;
    let mut pacer = Pacer::new();
    let mut n_sent = 0u64;
    let mut batch_us = ctx.now_us();
    let mut since_check = 0usize;
    let (shard, shards) = ctx.cfg.shard;
    let batch = ctx.batch.load(Ordering::Relaxed).clamp(1, BATCH);
    let active = ctx.active_threads.load(Ordering::Relaxed).max(1);
    let cap = ctx.round_cap.load(Ordering::Relaxed);
    let port_try = ctx.port_try.load(Ordering::Relaxed);

    let flush = |sender: &mut Sender,
                 socks: &mut LinkSockets,
                 frames: &mut [[u8; ETH_HLEN + MAX_PROBE]],
                 lens: &[usize],
                 n: usize,
                 slot: &Slot|
     -> io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        // Whole Ethernet frames (the interface's frame sender, found once per batch)
        // start at 0 with the slot's header; everything else at the IP header.
        let LinkSockets { dgram, raw } = socks;
        let mut frame_sender = match slot.eth {
            Some(h) if slot.path == Path::Link => raw
                .iter_mut()
                .find(|(i, _)| *i == slot.route.ifindex)
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
            ctx.record(r.get(ETH_HLEN - start..).unwrap_or_default());
        }
        match slot.path {
            Path::Link => {
                let Some(ll) = slot.ll else {
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
                    if let Err(e) = sender.send(r, &slot.route, Path::RawIp, None) {
                        // An unreachable or unresolvable target is silence, not a failure.
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
        ctx.sent.fetch_add(n as u64, Ordering::Relaxed);
        Ok(())
    };

    // The shard's walk in pieces of WALK_PIECE steps, taken by whichever thread is free:
    // threads slowed down by the capture thread or the peer's work (it runs on our CPUs
    // over veth) do less, and all of them finish together.
    let steps = ctx.cycle.shard_steps(shard, shards);
    let mut walk = std::iter::from_fn(|| {
        let from = ctx
            .next_piece
            .fetch_add(1, Ordering::Relaxed)
            .checked_mul(WALK_PIECE)?;
        (from < steps).then(|| ctx.cycle.shard_range(shard, shards, from, WALK_PIECE))
    })
    .flatten();
    let began = Instant::now();
    // The walk in chunks: each chunk's table entries are read once first, all at once,
    // so that their cache misses (random places in a large table) overlap instead of
    // stalling one probe at a time.
    let mut chunk: Vec<u64> = Vec::with_capacity(BATCH);
    let mut touched = 0u32;
    let walk = std::iter::from_fn(move || {
        if chunk.is_empty() {
            chunk.extend(walk.by_ref().take(BATCH));
            chunk.reverse();
            for &idx in &chunk {
                let i = usize::try_from(idx).unwrap_or(usize::MAX);
                let a = res
                    .table
                    .answer
                    .get(i)
                    .map_or(0, |a| a.load(Ordering::Relaxed));
                let t = res
                    .table
                    .time
                    .get(i)
                    .map_or(0, |t| t.load(Ordering::Relaxed));
                touched = touched.wrapping_add(u32::from(a) ^ t);
            }
            std::hint::black_box(touched);
        }
        chunk.pop()
    });
    for idx in walk {
        let Ok(i) = usize::try_from(idx) else {
            continue;
        };
        if round > 0 && res.table.answered(i) {
            continue;
        }
        let (Some(host), Some(&port)) = (
            res.targets.get(idx / np),
            res.ports.get((idx % np) as usize),
        ) else {
            continue;
        };
        let Some(slot) = slots.get(&route_key(host, per_host)) else {
            continue;
        };
        let same = cur.as_ref().is_some_and(|c| {
            c.route.ifindex == slot.route.ifindex
                && c.route.next_hop == slot.route.next_hop
                && c.path == slot.path
                && c.route.dst.is_ipv6() == host.is_ipv6()
        });
        if !same || n >= batch {
            if let Some(c) = &cur {
                if let Err(e) = flush(&mut sender, socks, &mut frames, &lens, n, c) {
                    ctx.fail(ScanError::System(format!("sending probes: {e}")));
                    return;
                }
            }
            n_sent += n as u64;
            n = 0;
            cur = Some(slot.clone());
            // Banners: no more new connections than the reader's table holds.
            if let Some(b) = &ctx.cfg.banners {
                while ctx.banner_live.load(Ordering::Relaxed) >= (b.connections / 32).max(8)
                    && !ctx.stop_send.load(Ordering::Relaxed)
                    && !INTERRUPTED.load(Ordering::Relaxed)
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            pacer.pace(
                ctx.rate.load(Ordering::Relaxed) / active,
                n_sent,
                batch as u64,
            );
            // One timestamp per batch, taken before it is built: an RTT measured from
            // it is never shorter than the real one.
            batch_us = ctx.now_us();
            since_check += 1;
            if since_check % 16 == 0
                && (ctx.stop_send.load(Ordering::Relaxed) || INTERRUPTED.load(Ordering::Relaxed))
            {
                return;
            }
        }
        let (Some(frame), Some(len)) = (frames.get_mut(n), lens.get_mut(n)) else {
            continue;
        };
        let Some(buf) = frame
            .get_mut(ETH_HLEN..)
            .and_then(|b| <&mut [u8; MAX_PROBE]>::try_from(b).ok())
        else {
            continue;
        };
        if ctx.round_probes.fetch_add(1, Ordering::Relaxed) >= cap {
            break;
        }
        *len = ctx.prober.build(slot.route.src, host, port, port_try, buf);
        if *len == 0 {
            continue;
        }
        if let Some(tm) = res.table.time.get(i) {
            tm.store(batch_us, Ordering::Relaxed);
        }
        res.table.probed(i);
        n += 1;
    }
    if let Some(c) = &cur {
        if let Err(e) = flush(&mut sender, socks, &mut frames, &lens, n, c) {
            ctx.fail(ScanError::System(format!("sending probes: {e}")));
        }
    }
    for (_, s) in &mut socks.raw {
        if let Err(e) = s.flush() {
            ctx.fail(ScanError::System(format!("sending probes: {e}")));
        }
    }
    if ctx.debug {
        let secs = began.elapsed().as_secs_f64();
        let k = n_sent + n as u64;
        let mut via: Vec<&str> = socks.raw.iter().map(|(_, s)| s.name()).collect();
        if via.is_empty() {
            via.push("raw IP or link-layer sendmmsg (no Ethernet interface)");
        }
        eprintln!(
            "thread {t}: {k} probes in {:.1} ms after {:.1} ms, {:.0}/s (frames by {})",
            secs * 1e3,
            began.duration_since(ctx.start).as_secs_f64() * 1e3,
            k as f64 / secs,
            via.join(", ")
        );
    }
}

/// Banners read, by pair index, and the reader's counters.
type Banners = (HashMap<usize, Vec<u8>>, GrabStats);

/// The capture thread: record every validated answer until told to stop; with
/// `banner`, also read what the open ports say (returned at the end).
fn receive<'a>(
    ctx: &Ctx<'a>,
    mut rings: Vec<Ring>,
    mut banner: Option<(Grabber<'a>, BannerTx<'_>)>,
) -> (Vec<Ring>, Option<Banners>) {
    let res = ctx.res;
    let np = res.ports.len() as u64;
    let mut last_drops = Instant::now();
    let ours = |a: IpAddr| ctx.ours.contains(&a);
    let mut rtt = Rtt::default();
    let now_ms = || ctx.start.elapsed().as_millis() as u32;
    let mut handle = |data: &[u8], banner: &mut Option<(Grabber<'a>, BannerTx<'_>)>| {
        if let Some((g, tx)) = banner.as_mut() {
            let taken = g.on_packet(data, now_ms(), tx);
            // Before the answer is recorded: once the main thread sees every probe
            // answered, it sees the connections being read too.
            ctx.banner_live.store(g.live(), Ordering::SeqCst);
            tx.flush_if_full();
            if !taken {
                // A SYN-ACK the banner reader had no room for: asked again later.
                return;
            }
        }
        let Some((host, port, reason)) = ctx.prober.classify(data, ours) else {
            return;
        };
        let (Some(h), Ok(p)) = (res.targets.index_of(host), res.ports.binary_search(&port)) else {
            return;
        };
        let Ok(i) = usize::try_from(h * np + p as u64) else {
            return;
        };
        ctx.record(data);
        let now = ctx.now_us();
        if res.table.record(i, reason, now) {
            ctx.replies.fetch_add(1, Ordering::Relaxed);
            if let Some(k) = ctx.kinds.get(kind_of(reason)) {
                k.fetch_add(1, Ordering::Relaxed);
            }
            let since = u64::from(now).saturating_sub(ctx.round_start_us.load(Ordering::Relaxed));
            let slot = usize::try_from(since / HIST_SLOT_US)
                .map_or(HIST_SLOTS - 1, |s| s.min(HIST_SLOTS - 1));
            if let Some(h) = ctx.hist.get(slot) {
                h.fetch_add(1, Ordering::Relaxed);
            }
            ctx.last_reply_us.store(u64::from(now), Ordering::Relaxed);
            if let Some(t) = res.table.time.get(i) {
                let sample = u64::from(t.load(Ordering::Relaxed));
                ctx.max_rtt_us.fetch_max(sample, Ordering::Relaxed);
                ctx.rto_us.store(rtt.sample(sample), Ordering::Relaxed);
            }
        }
    };
    // A frame is handed over when its block retires (after RING_RETIRE_MS), so a poll
    // that starts at t has read everything that arrived before t minus that (and a
    // margin for the kernel's timer).
    let lag_us = u64::from(RING_RETIRE_MS) * 1000 + 1000;
    let fds: Vec<_> = rings.iter().map(Ring::raw_fd).collect();
    let drops = |rings: &[Ring]| rings.iter().map(|r| u64::from(r.stats().1)).sum::<u64>();
    while !ctx.stop_rx.load(Ordering::Relaxed) {
        let t0 = u64::from(ctx.now_us());
        let mut seen = 0;
        for r in rings.iter_mut() {
            seen += r.drain(|f| handle(f.data, &mut banner));
        }
        if seen == 0 {
            if let Err(e) = sys::poll_any(&fds, Duration::from_millis(2)) {
                ctx.fail(ScanError::System(format!("capturing answers: {e}")));
                return (rings, None);
            }
            for r in rings.iter_mut() {
                r.drain(|f| handle(f.data, &mut banner));
            }
        }
        if let Some((g, tx)) = banner.as_mut() {
            let ours = tx.sources();
            // Twice the scan's retransmission timeout (answers wait in our own ring too).
            g.set_rto((ctx.rto_us.load(Ordering::Relaxed) / 500).max(250) as u32);
            g.tick(now_ms(), tx, &ours);
            tx.flush();
            ctx.banner_live.store(g.live(), Ordering::Relaxed);
            ctx.banner_refused
                .store(g.stats.table_full, Ordering::Relaxed);
        }
        ctx.rx_drained_us
            .fetch_max(t0.saturating_sub(lag_us), Ordering::Relaxed);
        if last_drops.elapsed() > Duration::from_millis(10) {
            ctx.drops.fetch_add(drops(&rings), Ordering::Relaxed);
            last_drops = Instant::now();
        }
    }
    // Whatever is still in the rings.
    while rings
        .iter_mut()
        .map(|r| r.drain(|f| handle(f.data, &mut banner)))
        .sum::<usize>()
        > 0
    {}
    ctx.drops.fetch_add(drops(&rings), Ordering::Relaxed);
    let banners = banner.map(|(g, mut tx)| {
        let ours = tx.sources();
        let b = g.into_banners(now_ms(), &mut tx, &ours);
        tx.flush();
        ctx.banner_live.store(0, Ordering::Relaxed);
        b
    });
    (rings, banners)
}

/// Kinds of answers a target may limit separately: SYN-ACKs (and bare SYNs), RSTs, ICMP
/// errors, UDP answers.
const KINDS: usize = 4;
const KIND_NAMES: [&str; KINDS] = ["SYN-ACKs", "RSTs", "ICMP errors", "UDP answers"];

fn kind_of(r: Reason) -> usize {
    match r {
        Reason::SynAck | Reason::Syn => 0,
        Reason::Reset | Reason::ConnRefused => 1,
        Reason::UdpResponse => 3,
        _ => 2,
    }
}

/// Round-trip estimate as TCP keeps it (RFC 6298): smoothed RTT and its variation; the
/// time to wait for a late answer is `srtt + 4·rttvar`.
#[derive(Default)]
struct Rtt {
    srtt: f64,
    var: f64,
    n: u64,
}

impl Rtt {
    /// Add a sample (µs); returns the new timeout in µs.
    fn sample(&mut self, us: u64) -> u64 {
        let r = us as f64;
        if self.n == 0 {
            self.srtt = r;
            self.var = r / 2.0;
        } else {
            self.var = 0.75 * self.var + 0.25 * (self.srtt - r).abs();
            self.srtt = 0.875 * self.srtt + 0.125 * r;
        }
        self.n += 1;
        (self.srtt + 4.0 * self.var) as u64
    }
}

/// Wait after a round: `fixed` if given; otherwise until one timeout has passed since
/// the last probe and since the last answer (answers still arriving mean the path or
/// our capture is still catching up) and the capture thread has read everything that
/// came in that timeout, at most 4 timeouts or 1 s, whichever is more. Never less than
/// `floor` (a confirming round's wait, sized from the slowest answers seen). Over as
/// soon as every one of the `probed` pairs has its answer.
fn wait_for_answers(
    ctx: &Ctx<'_>,
    fixed: Option<Duration>,
    sent_at: Instant,
    floor: Duration,
    probed: u64,
) -> Duration {
    if let Some(w) = fixed {
        let until = sent_at + w;
        while Instant::now() < until && !INTERRUPTED.load(Ordering::Relaxed) {
            std::thread::sleep(
                Duration::from_millis(2).min(until.saturating_duration_since(Instant::now())),
            );
        }
        return sent_at.elapsed();
    }
    loop {
        if ctx.replies.load(Ordering::Relaxed) >= probed {
            return sent_at.elapsed();
        }
        let rto = if ctx.replies.load(Ordering::Relaxed) == 0 {
            Duration::from_millis(500)
        } else {
            Duration::from_micros(ctx.rto_us.load(Ordering::Relaxed).clamp(5_000, 1_000_000))
        };
        let waited = sent_at.elapsed();
        let last = Duration::from_micros(ctx.last_reply_us.load(Ordering::Relaxed));
        let quiet = ctx.start.elapsed().saturating_sub(last);
        // Interrupted: still give the probes in flight a short while to be answered.
        let stopping = INTERRUPTED.load(Ordering::Relaxed);
        let deadline = sent_at.saturating_duration_since(ctx.start) + rto;
        let drained = Duration::from_micros(ctx.rx_drained_us.load(Ordering::Relaxed)) >= deadline;
        if (stopping && (waited >= rto.min(Duration::from_millis(200))))
            || (waited >= rto.max(floor) && quiet >= rto && drained)
            || waited >= (4 * rto).max(Duration::from_secs(1)).max(floor + rto)
        {
            return waited;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Decides, after each full retry round, whether another is worth it.
///
/// Loss: with a constant per-try loss `q`, each retry round finds `q` times the answers
/// of the round before (whatever the number of silent, filtered pairs), so `q` is
/// estimated as `a_k / a_(k-1)`, the answering pairs still missing as `a_k·q/(1-q)`,
/// and rounds go on until fewer than 0.001 are expected (at most `max_retries`): the
/// budget follows the loss measured (one retry without loss, about 30 at 40% each way).
/// A target that answers only part of what it is sent (a rate limit) is not loss: the
/// [`Planner`] finds it and keeps those rounds away from this estimate.
#[derive(Clone, Debug, Default)]
pub struct RetryPolicy {
    answers: Vec<u64>,
    q: f64,
    missing: f64,
    /// Unanswered pairs after the last round: what the next round retries.
    unanswered: u64,
}

/// What to do after a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Stop,
    Retry,
}

/// Retries stop when fewer answering pairs than this are expected to be still missing.
const MISSING_OK: f64 = 0.001;

impl RetryPolicy {
    /// Record that a round found `answers` new answers, with `unanswered` probed pairs
    /// left and `rounds_done` rounds behind us.
    pub fn next(
        &mut self,
        answers: u64,
        unanswered: u64,
        rounds_done: u32,
        max_retries: u32,
    ) -> Next {
        let k = self.answers.len();
        let prev = k.checked_sub(1).and_then(|i| self.answers.get(i)).copied();
        let retried = std::mem::replace(&mut self.unanswered, unanswered);
        self.answers.push(answers);
        if let Some(prev) = prev {
            // Of the pairs retried, the share answered now; and the answers relative to
            // the round before.
            let got = if retried > 0 {
                answers as f64 / retried as f64
            } else {
                1.0
            };
            let ratio = if prev > 0 {
                answers as f64 / prev as f64
            } else {
                0.0
            };
            // The highest loss seen in a round with enough answers to tell: an
            // estimate that is too low stops the retries too early.
            if prev >= 20 || k == 1 {
                self.q = self.q.max(ratio.min(1.0 - got).clamp(0.0, 0.9));
            }
            self.missing = if answers > 0 {
                answers as f64 * self.q / (1.0 - self.q)
            } else {
                self.missing * self.q
            };
        }
        if unanswered == 0 || rounds_done > max_retries {
            return Next::Stop;
        }
        if k == 0 || self.missing >= MISSING_OK {
            // Always one retry (a lost probe to a filtered-looking port); then by the estimate.
            Next::Retry
        } else {
            Next::Stop
        }
    }

    /// A round the policy does not judge (a sample, a rate-limited or confirming round)
    /// left `unanswered` pairs: the next full round starts a fresh series of estimates.
    pub fn skip(&mut self, unanswered: u64) {
        self.unanswered = unanswered;
        self.answers.clear();
    }

    /// The loss is at most `q`: rounds that looked lossy were a rate limit's doing.
    pub fn cap_loss(&mut self, q: f64) {
        self.q = self.q.min(q.max(0.0));
    }

    /// The estimated per-try loss.
    pub fn loss(&self) -> f64 {
        self.q
    }

    /// Consecutive silent rounds after which the loss seen explains a still-missing
    /// answer less than once in 1,000 (1 without loss, 16 at 40% each way).
    fn silent_rounds_needed(&self) -> u32 {
        if self.q <= 0.0 {
            return 1;
        }
        (MISSING_OK.ln() / self.q.min(0.9).ln())
            .ceil()
            .clamp(1.0, 40.0) as u32
    }
}

/// What one round did, as the [`Planner`] sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RoundReport {
    /// The rate the round ended at, when it changed during the round.
    pub rate: Option<f64>,
    pub probes: u64,
    pub answers: u64,
    /// From the first probe to the last, s.
    pub send_secs: f64,
    /// Sending and waiting, s.
    pub secs: f64,
    /// Answers per second while the probes went out (the second half of a round that
    /// lasted long enough to tell), from the arrival histogram.
    pub steady_rate: Option<f64>,
    /// Probed pairs still unanswered after the round, and probed pairs in all.
    pub unanswered: u64,
    pub probed: u64,
    /// The slowest round trip seen so far.
    pub max_rtt: Duration,
}

/// The kinds of rounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Every unanswered pair at the scan's rate (the first pass and loss retries).
    Full,
    /// A few unanswered pairs, slower than the round before could be answered: does
    /// slowing down bring answers that speed did not (a rate limit), or not (loss)?
    Sample,
    /// The target limits its answers: every unanswered pair, paced at the answer rate
    /// measured. Unanswered pairs are unknown here, not filtered.
    Limited,
    /// Before calling silence filtered: after an idle gap that lets a rate limiter's
    /// bucket fill, the silent pairs once more, spread out, with a wait sized from the
    /// slowest answers seen (late answers count until the scan ends).
    Confirm,
}

/// The next round.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    pub phase: Phase,
    /// Probes per second; `None`: the scan's own rate.
    pub rate: Option<f64>,
    /// At most this many probes.
    pub cap: Option<u64>,
    /// Idle time before the round.
    pub gap: Duration,
    /// Least wait after it.
    pub floor: Duration,
    /// The share of probes expected to be answered below a limit (loss and silent
    /// pairs take the rest): a paced round that gets it may go faster.
    pub expect: f64,
}

impl Plan {
    fn full() -> Plan {
        Plan {
            phase: Phase::Full,
            rate: None,
            cap: None,
            gap: Duration::ZERO,
            floor: Duration::ZERO,
            expect: 1.0,
        }
    }
}

/// At most this many rounds at a limited rate, and so many confirming rounds.
const MAX_LIMITED_ROUNDS: u32 = 60;
const MAX_CONFIRMS: u32 = 3;
/// At most this many samples that find no rate limit (each halves what counts as low).
const MAX_NEGATIVE_SAMPLES: u32 = 3;

/// Plans the rounds of a scan: full rounds while loss explains what is missing, a
/// sample when a retry round is answered far less than the rounds before, paced rounds
/// at the measured answer rate while the target limits its answers, and a confirming
/// round before any silence is called filtered. Pure: the engine reports each round.
#[derive(Clone, Debug)]
pub struct Planner {
    pub policy: RetryPolicy,
    udp: bool,
    max_retries: u32,
    phase: Phase,
    /// The rate of the last round when it was paced, and its least wait.
    last_rate: Option<f64>,
    last_floor: Duration,
    /// What a round below the limit gets (the sample's answered share).
    expect: f64,
    /// Answered share below which a full retry round looks limited.
    s_ref: f64,
    /// The answered share of the round a sample was taken after.
    s_before: f64,
    negative_samples: u32,
    limited_rounds: u32,
    silent_rounds: u32,
    confirms: u32,
    full_rounds: u32,
    /// The answer rate a limit was measured at (answers/s), and the rate last used.
    pub limit: Option<f64>,
    pub slowed_to: Option<f64>,
    /// Unanswered pairs when a limit was first found.
    pub limited_pairs: u64,
}

impl Planner {
    pub fn new(udp: bool, max_retries: u32) -> Planner {
        Planner {
            policy: RetryPolicy::default(),
            udp,
            max_retries,
            phase: Phase::Full,
            last_rate: None,
            last_floor: Duration::ZERO,
            expect: 1.0,
            s_ref: 1.0,
            s_before: 1.0,
            negative_samples: 0,
            limited_rounds: 0,
            silent_rounds: 0,
            confirms: 0,
            full_rounds: 0,
            limit: None,
            slowed_to: None,
            limited_pairs: 0,
        }
    }

    /// Full rounds after the first pass (retries).
    pub fn retries(&self) -> u32 {
        self.full_rounds.saturating_sub(1)
    }

    fn limited(&mut self, rate: f64, floor: Duration) -> Option<Plan> {
        let rate = rate.max(MIN_LIMITED_RATE as f64);
        // The slowest the scan went for the limit.
        self.slowed_to = Some(self.slowed_to.map_or(rate, |s| s.min(rate)));
        Some(self.go(Plan {
            phase: Phase::Limited,
            rate: Some(rate),
            cap: None,
            gap: Duration::ZERO,
            floor,
            expect: self.expect,
        }))
    }

    fn go(&mut self, p: Plan) -> Plan {
        self.phase = p.phase;
        self.last_rate = p.rate;
        self.last_floor = p.floor;
        p
    }

    /// The pause before a confirming round: long enough for a rate limiter of a few
    /// answers a second to refill (Linux's ICMP default is 1/s per host: a second for UDP).
    fn confirm_gap(&self) -> Duration {
        if self.udp {
            Duration::from_secs(1)
        } else {
            Duration::from_millis(100)
        }
    }

    /// Decide the next round from the report of the last; `None`: the scan is done.
    pub fn next(&mut self, r: &RoundReport) -> Option<Plan> {
        if r.rate.is_some() {
            self.last_rate = r.rate;
        }
        let s = if r.probes > 0 {
            r.answers as f64 / r.probes as f64
        } else {
            0.0
        };
        let ar = r.steady_rate.unwrap_or(r.answers as f64 / r.secs.max(1e-3));
        // A paced round waits at least one slowest round trip (late answers).
        let slow_wait = r.max_rtt.mul_f64(1.5).min(Duration::from_secs(3));
        if r.unanswered == 0 {
            return None;
        }
        match self.phase {
            Phase::Full => {
                self.full_rounds += 1;
                let next =
                    self.policy
                        .next(r.answers, r.unanswered, self.full_rounds, self.max_retries);
                if self.full_rounds >= 2
                    && r.answers >= 3
                    && r.probes >= 16
                    && s < 0.5 * self.s_ref
                    && self.negative_samples < MAX_NEGATIVE_SAMPLES
                {
                    self.s_before = s;
                    let rate = (ar * 0.9).max(MIN_LIMITED_RATE as f64);
                    // 32 to 64 probes, fewer (down to 8) where that would take over 1 s.
                    let cap = (r.probes / 4).clamp(32, 64).min((rate as u64).max(8));
                    return Some(self.go(Plan {
                        phase: Phase::Sample,
                        rate: Some(rate),
                        cap: Some(cap),
                        gap: Duration::ZERO,
                        floor: slow_wait,
                        expect: 1.0,
                    }));
                }
                if next == Next::Stop {
                    return self.confirm_or_stop(r);
                }
                Some(self.go(Plan::full()))
            }
            Phase::Sample => {
                self.policy.skip(r.unanswered);
                let before = self.s_before;
                // Far more answered than the round before, beyond chance (4 standard
                // deviations of the count that round's share predicts).
                let n = r.probes as f64;
                let p0 = before.clamp(0.01, 0.99);
                let z = (r.answers as f64 - n * p0) / (n * p0 * (1.0 - p0)).sqrt().max(1e-9);
                if r.answers >= 3 && s >= (2.0 * before).max(before + 0.25) && z >= 4.0 {
                    // Slower brought answers that speed did not: a limit.
                    let used = self.last_rate.unwrap_or(ar);
                    let l = ar.max(used * s);
                    self.limit = Some(l);
                    // The retries before the sample lost to the limit, not to the path;
                    // what the sample got is what a round below the limit gets.
                    self.policy.cap_loss(1.0 - s);
                    self.expect = s.clamp(0.2, 1.0);
                    self.limited_pairs = r.unanswered + r.answers;
                    return self.limited(l * 0.95, slow_wait);
                }
                self.negative_samples += 1;
                self.s_ref = s.max(before);
                Some(self.go(Plan::full()))
            }
            Phase::Limited => {
                self.policy.skip(r.unanswered);
                self.limited_rounds += 1;
                let used = self.last_rate.unwrap_or(ar);
                if r.answers == 0 {
                    self.silent_rounds += 1;
                    if self.silent_rounds >= self.policy.silent_rounds_needed()
                        || self.limited_rounds >= MAX_LIMITED_ROUNDS
                    {
                        // A round that began after a confirming round's pause and waited
                        // as long as one would is a confirmation already.
                        if self.last_floor >= self.confirm_gap().max(Duration::from_millis(250)) {
                            return None;
                        }
                        return self.confirm_or_stop(r);
                    }
                    return self.limited(used, slow_wait);
                }
                self.silent_rounds = 0;
                if self.limited_rounds >= MAX_LIMITED_ROUNDS {
                    return self.confirm_or_stop(r);
                }
                if r.answers >= 3 && s < 0.75 * self.expect {
                    // Still faster than the target answers: its rate, measured again.
                    self.limit = Some(ar);
                    return self.limited((ar * 0.95).min(used), slow_wait);
                }
                let faster = if s >= 0.9 * self.expect {
                    used * 1.25
                } else {
                    used
                };
                self.limited(faster, slow_wait)
            }
            Phase::Confirm => {
                self.policy.skip(r.unanswered);
                if r.answers == 0 {
                    // Silence after silence, with time for any limiter to refill: filtered.
                    return None;
                }
                // Only late answers (to earlier probes: no limit, most of the round
                // answered), and the silent pairs had a wait longer than the slowest
                // answer after their last probe: they are silent, not late.
                let waited = r.secs - r.send_secs;
                let late = r.max_rtt > Duration::from_millis(100);
                if late
                    && self.limit.is_none()
                    && (r.answers < 3 || s >= 0.5)
                    && waited >= 1.25 * r.max_rtt.as_secs_f64()
                {
                    return None;
                }
                // Answers after an idle gap: what was missing was unknown, not filtered.
                self.silent_rounds = 0;
                let used = self.last_rate.unwrap_or(ar);
                if self.limited_pairs == 0 {
                    self.limited_pairs = r.unanswered + r.answers;
                }
                if r.answers >= 3 && s < 0.5 {
                    self.limit = Some(ar);
                    return self.limited((ar * 0.95).min(used), slow_wait);
                }
                self.limited(used, slow_wait)
            }
        }
    }

    /// Silence is filtered only after a confirming round, when the silence is more than
    /// a few pairs in a thousand, or rate limits or late answers were seen; else done.
    fn confirm_or_stop(&mut self, r: &RoundReport) -> Option<Plan> {
        let late = r.max_rtt > Duration::from_millis(100);
        // Nothing answered at all: no limiter (one passes its burst first), only silence.
        let any = r.unanswered < r.probed;
        let suspicious =
            any && (r.unanswered.saturating_mul(1000) >= r.probed || self.limit.is_some() || late);
        if !suspicious || self.confirms >= MAX_CONFIRMS {
            return None;
        }
        self.confirms += 1;
        // The gap lets a token bucket of a few answers per second refill (Linux's ICMP
        // default is 1/s per host, so a UDP scan waits a second); the silent pairs then go
        // out over 200 ms, and the wait covers the slowest answer seen.
        let gap = self.confirm_gap();
        let floor = r
            .max_rtt
            .mul_f64(1.5)
            .clamp(Duration::from_millis(250), Duration::from_secs(3));
        let rate = (r.unanswered as f64 / 0.2).max(20.0);
        Some(self.go(Plan {
            phase: Phase::Confirm,
            rate: Some(rate),
            cap: None,
            gap,
            floor,
            expect: 1.0,
        }))
    }
}

pub use crate::net::sys::ephemeral_range;

/// The first of `span` consecutive source ports for a scan, all outside the ephemeral
/// range `(lo, hi)`, so that no connection the kernel makes for another program shares
/// a port with the scan (whose answers the reply filter drops): above the range when
/// `span` ports fit there, else between 1024 and the range, else (a range that leaves
/// no room) just above it, as high as fits.
pub fn source_window((lo, hi): (u16, u16), span: u16, random: u64) -> u16 {
    let span = u32::from(span.max(1));
    let (lo, hi) = (u32::from(lo), u32::from(hi));
    // Window starts that keep [start, start + span) inside [from, to].
    let starts = |from: u32, to: u32| (to + 1).saturating_sub(from).saturating_sub(span - 1);
    let above = starts(hi + 1, 65535);
    let below = starts(1024, lo.saturating_sub(1));
    let start = if above > 0 && (above >= 64 || above >= below) {
        hi + 1 + (random % u64::from(above)) as u32
    } else if below > 0 {
        1024 + (random % u64::from(below)) as u32
    } else {
        65536u32.saturating_sub(span).max(1024)
    };
    u16::try_from(start).unwrap_or(u16::MAX)
}

/// Answers per second in the second half of a round's sending, from its arrival
/// histogram, when the round sent for at least 100 ms (a shorter burst says nothing
/// about a rate).
fn steady_rate(hist: &[AtomicU32], send_secs: f64) -> Option<f64> {
    let slot = HIST_SLOT_US as f64 / 1e6;
    let end = (send_secs / slot) as usize;
    if send_secs < 0.1 || end < 4 {
        return None;
    }
    let from = end / 2;
    let n: u64 = hist
        .get(from..end.min(hist.len()))?
        .iter()
        .map(|h| u64::from(h.load(Ordering::Relaxed)))
        .sum();
    Some(n as f64 / ((end - from) as f64 * slot))
}

/// Probed pairs (this shard's, reached before any Ctrl-C).
fn probed(res: &ScanResults) -> u64 {
    res.table
        .answer
        .iter()
        .filter(|a| a.load(Ordering::Relaxed) != super::result::NOT_PROBED)
        .count() as u64
}

/// Probed pairs still without an answer (another shard's pairs are not probed here).
fn unanswered(res: &ScanResults) -> u64 {
    res.table
        .answer
        .iter()
        .filter(|a| a.load(Ordering::Relaxed) == 0)
        .count() as u64
}

/// Run a raw-socket scan of `targets` × `ports`.
pub fn run(targets: Targets, ports: Vec<u16>, cfg: &ScanConfig) -> Result<ScanResults, ScanError> {
    crate::net::check_privileges().map_err(|e| ScanError::Permission(e.to_string()))?;
    let mut res = ScanResults::new(cfg.kind, targets, ports);
    let n = res.targets.len().saturating_mul(res.ports.len() as u64);
    let started = Instant::now();
    let span = if cfg.kind == ScanType::Udp {
        UDP_PORTS
    } else {
        TCP_PORTS
    };
    let sport = cfg.source_port.unwrap_or_else(|| {
        source_window(
            ephemeral_range(),
            span,
            cfg.seed.wrapping_add(super::cookie::Key::random().0),
        )
    });
    let prober = Prober {
        kind: cfg.kind,
        key: super::cookie::Key::random(),
        sport,
    };
    // Routes: once per host, or per /24 and /64 for large scans.
    let per_host = res.targets.len() <= PER_HOST_ROUTES;
    let mut slots = Slots::default();
    let mut ours: Vec<IpAddr> = Vec::new();
    let mut unresolved: Vec<(IpAddr, Slot)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for host in res.targets.iter() {
        let key = route_key(host, per_host);
        if !seen.insert(key) {
            continue;
        }
        let (slot, resolve) = slot_for(host, cfg.interface.as_deref())
            .map_err(|e| ScanError::System(format!("no route to {host}: {e}")))?;
        if !ours.contains(&slot.route.src) {
            ours.push(slot.route.src);
        }
        // A next hop shared by a prefix (a gateway) or a single host's own address.
        let own_hop = slot.route.next_hop == host;
        if resolve && (per_host || !own_hop) {
            unresolved.push((key, slot));
        } else {
            slots.insert(key, Arc::new(slot));
        }
    }
    // Ask the kernel to resolve the missing next hops all at once, wait up to 300 ms;
    // those still unresolved go by raw IP socket (the kernel keeps trying).
    for (_, s) in &unresolved {
        let _ = sys::poke_neighbour(s.route.next_hop, s.route.ifindex);
    }
    let deadline = Instant::now() + Duration::from_millis(300);
    while !unresolved.is_empty() {
        let mut left = Vec::new();
        for (key, mut s) in unresolved {
            if link_of(&mut s).unwrap_or(false) || Instant::now() >= deadline {
                slots.insert(key, Arc::new(s));
            } else {
                left.push((key, s));
            }
        }
        unresolved = left;
        if !unresolved.is_empty() {
            std::thread::sleep(Duration::from_millis(3));
        }
    }
    // The reply filter, installed while the scan starts (nft takes ~20 ms; until it is
    // in place the kernel just sees the RSTs as before).
    let mut devices: Vec<String> = slots.values().map(|s| s.route.ifname.clone()).collect();
    devices.sort();
    devices.dedup();
    let drop_ports = (sport, sport.saturating_add(TCP_PORTS - 1));
    let from: Vec<(IpAddr, IpAddr)> = res.targets.ranges().collect();
    // Banners: every TCP segment of the targets to our ports is dropped once captured,
    // before the first probe leaves (else the kernel resets what it has no socket for).
    let banner_drop = match cfg.banners {
        Some(_) if cfg.kind == ScanType::Syn => Some(
            ReplyDrop::install_for(&devices, drop_ports, &from, true).map_err(|e| {
                ScanError::Permission(format!(
                    "--banners needs its nftables filter (CAP_NET_ADMIN) so that the kernel does \
                     not reset the connections it reads: {e}"
                ))
            })?,
        ),
        Some(_) => {
            return Err(ScanError::Usage(
                "--banners reads banners in a SYN scan only (not --udp, --ack, --flags)".into(),
            ))
        }
        None => None,
    };
    let reply_drop = (cfg.kind != ScanType::Udp
        && !cfg.keep_rsts
        && banner_drop.is_none()
        && n >= REPLY_DROP_MIN)
        .then(|| std::thread::spawn(move || ReplyDrop::install(&devices, drop_ports, &from).ok()));
    let proto = match cfg.kind {
        ScanType::Udp => wire::PROTO_UDP,
        _ => wire::PROTO_TCP,
    };
    let filter = capture_filter(proto, sport).map_err(ScanError::System)?;
    // One ring per CPU (up to 4), each for the answers that CPU receives, sharing the
    // memory one ring would have.
    let cpus = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    let cap = Ring::open_per_cpu(
        0,
        &filter,
        RingConfig {
            block_size: RING_BLOCK,
            block_count: (if cfg.banners.is_some() {
                banner_ring_blocks(n)
            } else {
                ring_blocks(n)
            } / cpus as u32)
                .max(RING_BLOCKS_MIN as u32),
            frame_size: 2048,
            retire_ms: RING_RETIRE_MS,
            ignore_outgoing: true,
        },
        cpus,
    )
    .map_err(|e| ScanError::from_io("opening the capture socket", e))?;
    let pcap = match &cfg.pcap {
        Some(p) => Some(Mutex::new(
            pcap::Writer::create(p, pcap::linktype::RAW)
                .map_err(|e| ScanError::System(format!("cannot write {}: {e}", p.display())))?,
        )),
        None => None,
    };
    let threads = if cfg.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        cfg.threads
    }
    .clamp(1, 64) as u64;
    let mut ifindexes: Vec<u32> = slots
        .values()
        .filter(|s| s.path == Path::Link && s.eth.is_some())
        .map(|s| s.route.ifindex)
        .collect();
    ifindexes.sort_unstable();
    ifindexes.dedup();
    let socks = (0..threads)
        .map(|_| LinkSockets::open(&ifindexes).map(Mutex::new))
        .collect::<io::Result<Vec<_>>>()
        .map_err(|e| ScanError::from_io("opening a packet socket", e))?;
    let ctx = Ctx {
        res: &res,
        cfg,
        prober,
        cycle: Cycle::new(n, cfg.seed),
        start: Instant::now(),
        rate: AtomicU64::new(
            cfg.rate
                .unwrap_or(if cfg.banners.is_some() {
                    DEFAULT_BANNER_RATE
                } else {
                    DEFAULT_RATE
                })
                .max(1),
        ),
        sent: AtomicU64::new(0),
        replies: AtomicU64::new(0),
        drops: AtomicU64::new(0),
        max_rtt_us: AtomicU64::new(0),
        rto_us: AtomicU64::new(0),
        last_reply_us: AtomicU64::new(0),
        rx_drained_us: AtomicU64::new(0),
        next_piece: AtomicU64::new(0),
        port_try: AtomicU32::new(0),
        round_cap: AtomicU64::new(u64::MAX),
        round_probes: AtomicU64::new(0),
        round_start_us: AtomicU64::new(0),
        hist: (0..HIST_SLOTS).map(|_| AtomicU32::new(0)).collect(),
        kinds: Default::default(),
        active_threads: AtomicU64::new(threads),
        batch: AtomicUsize::new(BATCH),
        debug: std::env::var_os("TCPCRAFT_SCAN_DEBUG").is_some(),
        stop_send: AtomicBool::new(false),
        stop_rx: AtomicBool::new(false),
        pcap,
        ours,
        error: Mutex::new(None),
        banner_live: AtomicUsize::new(0),
        banner_refused: AtomicU64::new(0),
    };
    let bar = super::output::progress_bar(cfg.progress, Some(n / cfg.shard.1.max(1)));
    let mut planner = Planner::new(cfg.kind == ScanType::Udp, cfg.max_retries);
    let mut rounds = 0u32;
    let mut first_pass_rate = 0u64;
    // The answers of the rounds that measured a limit, by kind (which kind was limited).
    let mut limited_kinds = [0u64; KINDS];
    let ring = std::thread::scope(|s| {
        let banner = match cfg.banners {
            Some(b) => Some((
                Grabber::new(ctx.prober.clone(), &res.targets, &res.ports, b),
                BannerTx::open(&ctx, &slots, &ifindexes)
                    .map_err(|e| ScanError::from_io("opening a packet socket", e))?,
            )),
            None => None,
        };
        let rx = s.spawn(|| receive(&ctx, cap, banner));
        let mut round = 0u32;
        let mut plan = Plan::full();
        // The scan's own rate: halved on capture drops; paced rounds go slower.
        let mut full_rate = ctx.rate.load(Ordering::Relaxed);
        let mut last_end = Instant::now();
        loop {
            rounds = round;
            // An idle gap before a confirming round (interruptible).
            let idle_until = last_end + plan.gap;
            while Instant::now() < idle_until && !INTERRUPTED.load(Ordering::Relaxed) {
                std::thread::sleep(
                    Duration::from_millis(5)
                        .min(idle_until.saturating_duration_since(Instant::now())),
                );
            }
            let rate = match plan.rate {
                Some(r) => (r as u64).clamp(MIN_LIMITED_RATE, full_rate.max(MIN_LIMITED_RATE)),
                None => full_rate,
            };
            let paced = rate < PACED_RATE;
            ctx.rate.store(rate, Ordering::Relaxed);
            ctx.active_threads
                .store(if paced { 1 } else { threads }, Ordering::Relaxed);
            ctx.batch
                .store(if paced { 1 } else { BATCH }, Ordering::Relaxed);
            ctx.round_cap
                .store(plan.cap.unwrap_or(u64::MAX), Ordering::Relaxed);
            ctx.round_probes.store(0, Ordering::Relaxed);
            // Odd retries go out again from the first probe's port with its sequence
            // number (a real retransmission: "first SYN drop" defences answer it); even
            // ones from a fresh port (a listener holding a half-open connection of ours
            // answers a new one at once).
            let port_try = if cfg.retransmit_same_port || round % 2 == 1 {
                0
            } else {
                round / 2
            };
            ctx.port_try.store(port_try, Ordering::Relaxed);
            for h in &ctx.hist {
                h.store(0, Ordering::Relaxed);
            }
            for k in &ctx.kinds {
                k.store(0, Ordering::Relaxed);
            }
            let round_start = Instant::now();
            ctx.round_start_us
                .store(u64::from(ctx.now_us()), Ordering::Relaxed);
            let replies_before = ctx.replies.load(Ordering::Relaxed);
            let drops_before =
                ctx.drops.load(Ordering::Relaxed) + ctx.banner_refused.load(Ordering::Relaxed);
            let sent_before = ctx.sent.load(Ordering::Relaxed);
            ctx.next_piece.store(0, Ordering::Relaxed);
            let active = if paced { 1 } else { threads };
            let handles: Vec<_> = (0..active)
                .zip(&socks)
                .map(|(t, socks)| {
                    let (ctx, slots) = (&ctx, &slots);
                    s.spawn(move || send_round(ctx, t, round, slots, socks))
                })
                .collect();
            // Watch the round: progress, Ctrl-C, and capture drops (halve the rate).
            let mut seen_drops = drops_before;
            // A round at a limited rate speeds up while every probe sent one round trip
            // ago has its answer (the measured rate was low); the planner slows it down
            // again from what the round measured if that overshoots.
            let mut sent_log: std::collections::VecDeque<(Instant, u64)> =
                std::collections::VecDeque::new();
            let mut last_raise = Instant::now();
            while handles.iter().any(|h| !h.is_finished()) {
                std::thread::sleep(Duration::from_millis(2));
                if INTERRUPTED.load(Ordering::Relaxed) {
                    ctx.stop_send.store(true, Ordering::Relaxed);
                }
                if plan.phase == Phase::Limited && cfg.rate.is_none() {
                    let now = Instant::now();
                    let sent = ctx.sent.load(Ordering::Relaxed) - sent_before;
                    sent_log.push_back((now, sent));
                    let lag = Duration::from_micros(ctx.rto_us.load(Ordering::Relaxed))
                        .clamp(Duration::from_millis(20), Duration::from_secs(1));
                    while sent_log.len() > 1 && sent_log.get(1).is_some_and(|e| now - e.0 >= lag) {
                        sent_log.pop_front();
                    }
                    let then = sent_log.front().map_or(0, |e| e.1);
                    let answered = ctx.replies.load(Ordering::Relaxed) - replies_before;
                    if now - last_raise >= Duration::from_millis(250)
                        && then >= 10
                        && answered as f64 >= 0.9 * plan.expect * then as f64
                    {
                        let r = ctx.rate.load(Ordering::Relaxed);
                        // At most half again the limit measured (a measurement that low
                        // is off by little; one far too low is corrected over rounds).
                        let cap = planner
                            .limit
                            .map_or(full_rate, |l| ((l * 1.5) as u64).clamp(r, full_rate));
                        ctx.rate.store((r + r / 5 + 1).min(cap), Ordering::Relaxed);
                        last_raise = now;
                    }
                }
                let d =
                    ctx.drops.load(Ordering::Relaxed) + ctx.banner_refused.load(Ordering::Relaxed);
                if d > seen_drops && cfg.rate.is_none() {
                    let r = ctx.rate.load(Ordering::Relaxed);
                    ctx.rate
                        .store((r / 2).max(MIN_RATE.min(r)), Ordering::Relaxed);
                    seen_drops = d;
                }
                if let Some(b) = &bar {
                    b.set_position(ctx.sent.load(Ordering::Relaxed));
                }
            }
            for h in handles {
                let _ = h.join();
            }
            // Wait for the round's last answers: a fixed --wait, or until nothing has
            // come for one retransmission timeout (srtt + 4·rttvar) after the last probe,
            // and at least the plan's floor.
            let sent_at = Instant::now();
            let send_secs = sent_at.duration_since(round_start).as_secs_f64().max(1e-6);
            if round == 0 {
                first_pass_rate = (ctx.sent.load(Ordering::Relaxed) as f64 / send_secs) as u64;
            }
            let waited = wait_for_answers(&ctx, cfg.wait, sent_at, plan.floor, probed(&res));
            last_end = Instant::now();
            let answers = ctx.replies.load(Ordering::Relaxed) - replies_before;
            let probes = ctx.sent.load(Ordering::Relaxed) - sent_before;
            if ctx.debug {
                eprintln!(
                    "round {round} ({:?}, rate {rate}/s, port try {port_try}): {probes} probes in {:.3} s, {answers} answers, rto {} us, max rtt {} us, waited {:?}",
                    plan.phase,
                    send_secs,
                    ctx.rto_us.load(Ordering::Relaxed),
                    ctx.max_rtt_us.load(Ordering::Relaxed),
                    waited
                );
            }
            if let Some(b) = &bar {
                b.set_position(ctx.sent.load(Ordering::Relaxed));
            }
            if ctx.stop_send.load(Ordering::Relaxed) || INTERRUPTED.load(Ordering::Relaxed) {
                break;
            }
            // Capture drops: the scan's own rate halves.
            if cfg.rate.is_none()
                && ctx.drops.load(Ordering::Relaxed) + ctx.banner_refused.load(Ordering::Relaxed)
                    > drops_before
            {
                full_rate = (full_rate / 2).max(MIN_RATE);
            }
            let kinds: Vec<u64> = ctx
                .kinds
                .iter()
                .map(|k| k.load(Ordering::Relaxed))
                .collect();
            let report = RoundReport {
                rate: (rate != ctx.rate.load(Ordering::Relaxed))
                    .then(|| ctx.rate.load(Ordering::Relaxed) as f64),
                probes,
                answers,
                send_secs,
                secs: round_start.elapsed().as_secs_f64(),
                steady_rate: steady_rate(&ctx.hist, send_secs),
                unanswered: unanswered(&res),
                probed: probed(&res),
                max_rtt: Duration::from_micros(ctx.max_rtt_us.load(Ordering::Relaxed)),
            };
            let had_limit = planner.limit;
            let next = planner.next(&report);
            if planner.limit.is_some() && planner.limit != had_limit {
                for (l, k) in limited_kinds.iter_mut().zip(&kinds) {
                    *l += k;
                }
            }
            round += 1;
            let Some(p) = next else {
                break;
            };
            plan = p;
            if let Some(b) = &bar {
                let left = report.unanswered;
                let msg = match (plan.phase, planner.limit) {
                    (Phase::Limited, Some(l)) => format!(
                        "target answers only {:.0}/s: re-probing {left} unknown ports at {:.0}/s",
                        l,
                        plan.rate.unwrap_or(l)
                    ),
                    (Phase::Confirm, _) if cfg.kind == ScanType::Udp => format!(
                        "{left} silent: waiting out ICMP rate limits before calling them open|filtered"
                    ),
                    (Phase::Confirm, _) => {
                        format!("{left} silent: one more try after a pause before calling them filtered")
                    }
                    (Phase::Sample, _) => format!("retry {round}: few answers, testing for a rate limit"),
                    _ => format!("retry {round}: {left} unanswered"),
                };
                b.set_message(msg);
            }
        }
        // Banners: the connections still being read finish (each within its timeout).
        if let Some(b) = &cfg.banners {
            let until = Instant::now() + Duration::from_millis(u64::from(b.timeout_ms) + 1000);
            while ctx.banner_live.load(Ordering::SeqCst) > 0
                && Instant::now() < until
                && !INTERRUPTED.load(Ordering::Relaxed)
            {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        ctx.stop_rx.store(true, Ordering::Relaxed);
        Ok(rx.join().ok())
    })?;
    let (ring, banners) = match ring {
        Some((r, b)) => (Some(r), b),
        None => (None, None),
    };
    // The rings, the packet sockets and the reply filter, closed at once (each close
    // waits for the kernel, or for nft).
    let reply_drop = reply_drop
        .and_then(|h| h.join().ok().flatten())
        .or(banner_drop);
    let reply_filter = reply_drop.as_ref().map(ReplyDrop::summary);
    let mut closing: Vec<Box<dyn Send>> = Vec::new();
    closing.extend(
        ring.into_iter()
            .flatten()
            .map(|r| Box::new(r) as Box<dyn Send>),
    );
    for l in socks.into_iter().filter_map(|l| l.into_inner().ok()) {
        closing.push(Box::new(l.dgram));
        closing.extend(
            l.raw
                .into_iter()
                .map(|(_, fd)| Box::new(fd) as Box<dyn Send>),
        );
    }
    closing.extend(reply_drop.map(|r| Box::new(r) as Box<dyn Send>));
    close_together(closing);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let Some(p) = &ctx.pcap {
        if let Ok(mut w) = p.lock() {
            let _ = w.flush();
        }
    }
    if let Some(e) = ctx.error.lock().ok().and_then(|mut g| g.take()) {
        return Err(e);
    }
    let stats = super::result::ScanStats {
        sent: ctx.sent.load(Ordering::Relaxed),
        rounds,
        replies: ctx.replies.load(Ordering::Relaxed),
        capture_drops: ctx.drops.load(Ordering::Relaxed),
        loss: planner.policy.loss(),
        final_rate: ctx.rate.load(Ordering::Relaxed),
        first_pass_rate,
        reply_filter,
        elapsed: started.elapsed(),
        source_ports: (sport, sport.saturating_add(span - 1)),
        max_rtt: Duration::from_micros(ctx.max_rtt_us.load(Ordering::Relaxed)),
        rate_limit: planner.limit.map(|l| {
            let k = (0..KINDS)
                .max_by_key(|&i| limited_kinds.get(i).copied().unwrap_or(0))
                .unwrap_or(1);
            super::result::RateLimit {
                kind: KIND_NAMES.get(k).copied().unwrap_or("answers"),
                answers_per_sec: l,
                slowed_to: planner.slowed_to.unwrap_or(l),
                ports: planner.limited_pairs,
            }
        }),
        banners: None,
    };
    let interrupted = INTERRUPTED.load(Ordering::Relaxed);
    drop(ctx);
    res.stats = stats;
    if let Some((b, st)) = banners {
        res.banners = b;
        res.stats.banners = Some(st);
    }
    res.interrupted = interrupted;
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::bpf;

    #[test]
    fn filter_accepts_answers_only() {
        let prog = capture_filter(wire::PROTO_TCP, 40000).unwrap();
        let mut syn_ack = vec![
            0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1,
        ];
        syn_ack.extend_from_slice(&[
            0, 80, 0x9c, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x12, 0, 0, 0, 0, 0, 0,
        ]);
        assert_ne!(bpf::run(&prog, &syn_ack), 0);
        let mut other = syn_ack.clone();
        other[22..24].copy_from_slice(&(40000u16 + TCP_PORTS).to_be_bytes());
        assert_eq!(bpf::run(&prog, &other), 0);
        other[22..24].copy_from_slice(&(40000u16 + TCP_PORTS - 1).to_be_bytes());
        assert_ne!(bpf::run(&prog, &other), 0, "the last try's port");
        other[22..24].copy_from_slice(&39999u16.to_be_bytes());
        assert_eq!(bpf::run(&prog, &other), 0);
        let mut icmp = syn_ack.clone();
        icmp[9] = 1;
        assert_ne!(bpf::run(&prog, &icmp), 0);
        let mut v6 = vec![0x60, 0, 0, 0, 0, 20, 6, 64];
        v6.extend_from_slice(&[0; 32]);
        v6.extend_from_slice(&syn_ack[20..]);
        assert_ne!(bpf::run(&prog, &v6), 0);
        let udp = capture_filter(wire::PROTO_UDP, 40000).unwrap();
        let mut u = vec![
            0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1,
        ];
        u.extend_from_slice(&[0, 53, 0, 0, 0, 8, 0, 0]);
        u[22..24].copy_from_slice(&(40000u16 + 200).to_be_bytes());
        // 40000 + 200 is inside the cookie window; 40000 + 1024 is not.
        assert_ne!(bpf::run(&udp, &u), 0);
        u[22..24].copy_from_slice(&(40000u16 + 1024).to_be_bytes());
        assert_eq!(bpf::run(&udp, &u), 0);
        assert_eq!(bpf::run(&prog, &u), 0);
    }

    #[test]
    fn source_ports_stay_out_of_the_ephemeral_range() {
        for r in [0u64, 1, 77, 4535, 99_999, u64::MAX] {
            for (range, span) in [
                ((32768, 60999), TCP_PORTS),
                ((32768, 60999), UDP_PORTS),
                ((1024, 65000), TCP_PORTS),
                ((40000, 65535), UDP_PORTS),
                ((40000, 65535), TCP_PORTS),
            ] {
                let s = source_window(range, span, r);
                let end = u32::from(s) + u32::from(span) - 1;
                assert!(s >= 1024 && end <= 65535, "{range:?} {span}: {s}");
                assert!(
                    end < u32::from(range.0) || u32::from(s) > u32::from(range.1),
                    "{range:?} {span} {r}: {s}..={end} overlaps"
                );
            }
        }
        // Linux's default range: above it.
        assert!(source_window((32768, 60999), TCP_PORTS, 5) > 60999);
        // No room anywhere: the top of the port space.
        assert_eq!(source_window((1024, 65535), TCP_PORTS, 5), 65535 - 31);
    }

    #[test]
    fn ring_size_follows_the_scan() {
        assert_eq!(ring_blocks(1), 8);
        assert_eq!(ring_blocks(65_535), 63);
        assert_eq!(ring_blocks(655_360), 128);
    }

    #[test]
    fn retry_policy_without_loss_retries_once() {
        let mut p = RetryPolicy::default();
        assert_eq!(p.next(65530, 5, 1, 10), Next::Retry); // 5 filtered ports left
        assert_eq!(p.next(0, 5, 2, 10), Next::Stop);
        assert_eq!(p.loss(), 0.0);
    }

    /// Rounds of a simulated scan: `answering` pairs answer each try with probability
    /// `1 - q`, `silent` never do. Returns (rounds, estimated loss).
    fn simulate(answering: f64, silent: u64, q: f64, max_retries: u32) -> (u32, f64) {
        let mut p = RetryPolicy::default();
        let mut missing = answering;
        let mut round = 0;
        loop {
            let answers = (missing * (1.0 - q)).round() as u64;
            missing -= answers as f64;
            round += 1;
            if p.next(answers, missing as u64 + silent, round, max_retries) == Next::Stop {
                return (round, p.loss());
            }
        }
    }

    #[test]
    fn retry_policy_under_loss_keeps_going_until_nothing_is_expected() {
        // 10% loss each way: 19% of tries fail; 131,070 answering pairs.
        let (rounds, q) = simulate(131_070.0, 4, 0.19, 20);
        assert!(rounds >= 9, "stopped after {rounds} rounds");
        assert!((q - 0.19).abs() < 0.05, "loss {q}");
        assert_eq!(simulate(131_070.0, 4, 0.19, 3).0, 4, "the cap holds");
        assert_eq!(simulate(1000.0, 0, 0.0, 10).0, 1, "nothing left: no retry");
    }

    fn report(probes: u64, answers: u64, send_secs: f64, unanswered: u64) -> RoundReport {
        RoundReport {
            rate: None,
            probes,
            answers,
            send_secs,
            secs: send_secs + 0.01,
            steady_rate: (send_secs >= 0.1).then(|| answers as f64 / send_secs),
            unanswered,
            probed: 1000,
            max_rtt: Duration::from_millis(1),
        }
    }

    #[test]
    fn planner_finds_a_rate_limit_and_slows_to_it() {
        // 1,000 closed ports behind RSTs limited to 200/s: the first pass gets the
        // bucket's 100, the immediate retry a few.
        let mut p = Planner::new(false, 50);
        let r = p.next(&report(1000, 100, 0.001, 900)).unwrap();
        assert_eq!(r.phase, Phase::Full);
        let r = p.next(&report(900, 5, 0.001, 895)).unwrap();
        assert_eq!(r.phase, Phase::Sample, "{r:?}");
        let rate = r.rate.unwrap();
        // Slower, most of the sample is answered (the bucket keeps up): a limit.
        let r = p.next(&report(64, 60, 64.0 / rate, 835)).unwrap();
        assert_eq!(r.phase, Phase::Limited, "{r:?}");
        assert!(p.limit.is_some());
        // Still too fast: the rate measured again, lower.
        let r = p
            .next(&report(835, 400, 835.0 / r.rate.unwrap(), 435))
            .unwrap();
        assert_eq!(r.phase, Phase::Limited);
        // Everything answered but 5 filtered ports: silence, then a confirming round.
        let r = p.next(&report(435, 430, 2.0, 5)).unwrap();
        assert_eq!(r.phase, Phase::Limited);
        // Silent rounds until the loss seen (the few answers of the burst-fed retry
        // count as some loss) explains nothing more, then a confirming round.
        let mut r = p.next(&report(5, 0, 0.03, 5)).unwrap();
        for _ in 0..3 {
            if r.phase == Phase::Confirm {
                break;
            }
            r = p.next(&report(5, 0, 0.03, 5)).unwrap();
        }
        assert_eq!(r.phase, Phase::Confirm);
        assert_eq!(r.gap, Duration::from_millis(100));
        assert_eq!(
            p.next(&report(5, 0, 0.2, 5)),
            None,
            "silence twice: filtered"
        );
        assert_eq!(p.limited_pairs, 895);
    }

    #[test]
    fn planner_under_loss_samples_once_and_finds_no_limit() {
        // 40% loss each way: 36% of tries are answered, whatever the rate.
        let mut p = Planner::new(false, 50);
        let mut missing = 1000.0f64;
        let mut rounds = 0;
        let mut plan = Plan::full();
        loop {
            let probes = missing.round() as u64;
            let answers = (missing * 0.36).round() as u64;
            let answers = if plan.phase == Phase::Sample {
                (plan.cap.unwrap() as f64 * 0.36).round() as u64
            } else {
                answers
            };
            missing -= answers as f64;
            rounds += 1;
            let send = if plan.phase == Phase::Full {
                0.001
            } else {
                probes as f64 / plan.rate.unwrap_or(1e6)
            };
            match p.next(&report(probes, answers, send, missing as u64)) {
                Some(next) => plan = next,
                None => break,
            }
            assert!(rounds < 80);
        }
        assert!(p.limit.is_none(), "loss is not a limit");
        // (The simulation rounds: its last port is answered 0.36 times a round.)
        assert!(missing <= 1.0, "{missing} left");
    }

    #[test]
    fn planner_confirms_silence_only_when_it_is_suspicious() {
        // 65,535 ports, 2 silent: no confirming round (friendly targets stay fast).
        let mut p = Planner::new(false, 50);
        let mut r = report(65535, 65533, 0.2, 2);
        r.probed = 65535;
        assert_eq!(p.next(&r).unwrap().phase, Phase::Full);
        let mut r = report(2, 0, 0.0001, 2);
        r.probed = 65535;
        assert_eq!(p.next(&r), None);
        // 300 ports, 35 silent (a SYN-ACK limit looks exactly like this): confirm first.
        let mut p = Planner::new(false, 50);
        p.next(&report(300, 265, 0.001, 35));
        let c = p.next(&report(35, 0, 0.001, 35)).unwrap();
        assert_eq!(c.phase, Phase::Confirm);
        // Answers after the pause: unknown, re-probed at a measured rate.
        let r = p.next(&report(35, 9, 0.2, 26)).unwrap();
        assert_eq!(r.phase, Phase::Limited);
        // UDP waits out Linux's ICMP limit of one a second.
        let mut u = Planner::new(true, 50);
        u.next(&report(300, 200, 0.001, 100));
        assert_eq!(
            u.next(&report(100, 0, 0.001, 100)).unwrap().gap,
            Duration::from_secs(1)
        );
    }
}
