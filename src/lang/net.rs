//! The one door from the language to the network.
//!
//! The evaluator never touches a socket: `send`, `sr1`, `sr` and `sniff` call a
//! [`Net`]. [`DryRun`] prints what would be sent and receives nothing; the engine in
//! `src/net/` implements the same trait over raw sockets and is handed to
//! [`Interp::new`](super::Interp::new) by the command line. [`Recorder`] wraps
//! any `Net` and keeps every packet sent and received for `--pcap`.
//!
//! Implementations must return promptly when [`interrupted`] becomes true (Ctrl-C),
//! with [`NetError::Interrupted`].

use crate::packet::{Layer, Packet};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Whether Ctrl-C (or SIGTERM, SIGHUP) asked the script to stop: loops, `sleep` and
/// network waits check this. The state lives in [`crate::cancel`].
pub use crate::cancel::{clear as clear_interrupt, interrupted, request as request_interrupt};

/// A received packet matched to the probe that caused it.
#[derive(Debug, Clone)]
pub struct Reply {
    /// What came back.
    pub packet: Packet,
    /// What was sent (as sent: computed fields and the source address filled in).
    pub probe: Packet,
    /// Seconds from sending the probe to receiving the reply.
    pub rtt: f64,
}

/// Result of [`Net::sr`]: probes that got an answer, and those that did not.
#[derive(Debug, Clone, Default)]
pub struct SrResult {
    pub answered: Vec<Reply>,
    pub unanswered: Vec<Packet>,
    /// Packets captured while waiting that answered no probe, each with the reason
    /// ("ack 1 ≠ expected 1001", "ports differ"), so a user can see why nothing matched.
    pub unmatched: Vec<(Packet, String)>,
}

/// Options common to the sending calls (`send(p, count=3, inter=0.5)`).
#[derive(Debug, Clone)]
pub struct SendOpts {
    /// How many times to send the whole list.
    pub count: u32,
    /// Seconds between two packets.
    pub inter: f64,
    /// Interface name; `None`: chosen by the route.
    pub iface: Option<String>,
}

impl Default for SendOpts {
    fn default() -> Self {
        SendOpts {
            count: 1,
            inter: 0.0,
            iface: None,
        }
    }
}

/// Options of `sr1`/`sr`.
#[derive(Debug, Clone)]
pub struct SrOpts {
    pub send: SendOpts,
    /// Seconds to wait for answers after the last probe.
    pub timeout: f64,
    /// Extra rounds for unanswered probes.
    pub retry: u32,
}

impl Default for SrOpts {
    fn default() -> Self {
        SrOpts {
            send: SendOpts::default(),
            timeout: 2.0,
            retry: 0,
        }
    }
}

/// Options of `sniff`.
#[derive(Debug, Clone, Default)]
pub struct SniffOpts {
    /// Stop after this many packets (0: no limit).
    pub count: usize,
    /// Stop after this many seconds (`None`: only `count` stops).
    pub timeout: Option<f64>,
    /// A pcap-filter expression (`"tcp and port 80"`).
    pub filter: Option<String>,
    pub iface: Option<String>,
    /// Keep at most this many packets in the returned list (`store=`); `Some(0)` keeps
    /// none (scapy's `store=False`) while every packet is still captured, counted
    /// toward `count` and written to `--pcap`. `None`: the backend's default limit.
    pub store: Option<usize>,
}

/// A running capture (see [`Net::open_sniff`]).
pub trait LiveSniff {
    /// The next packet the filter keeps, waiting at most `wait`; `None` when none came.
    fn next(&mut self, wait: Duration) -> Result<Option<Packet>, NetError>;
    /// Packets the kernel dropped (capture buffer full) so far.
    fn drops(&self) -> u64 {
        0
    }
}

/// The dry run's capture: nothing ever arrives.
pub struct NoPackets;

impl LiveSniff for NoPackets {
    fn next(&mut self, wait: Duration) -> Result<Option<Packet>, NetError> {
        interruptible_sleep(wait.as_secs_f64().min(0.05))?;
        Ok(None)
    }
}

/// Why the network refused. Becomes exit status 3 except `Interrupted`.
#[derive(Debug, Clone, PartialEq)]
pub enum NetError {
    /// Missing privileges (CAP_NET_RAW); the message says how to get them.
    Permission(String),
    /// Anything else from the system (no route, no such interface …).
    System(String),
    /// Not allowed by tcpcraft's own rules (e.g. a destination outside the allowed ranges).
    Refused(String),
    /// Ctrl-C during a wait.
    Interrupted,
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetError::Permission(m) | NetError::System(m) | NetError::Refused(m) => f.write_str(m),
            NetError::Interrupted => f.write_str("interrupted"),
        }
    }
}

/// What `send`, `sr1`, `sr` and `sniff` do. Small on purpose: the engine implements
/// these four; everything else (pcap recording, printing) is layered around it.
pub trait Net {
    /// Send every packet `opts.count` times; return how many packets went out.
    fn send(&mut self, pkts: &[Packet], opts: &SendOpts) -> Result<usize, NetError>;
    /// Send the probes and collect the replies matched to each.
    fn sr(&mut self, pkts: &[Packet], opts: &SrOpts) -> Result<SrResult, NetError>;
    /// Send one probe and wait for its first reply. The default goes through `sr`.
    fn sr1(&mut self, pkt: &Packet, opts: &SrOpts) -> Result<Option<Reply>, NetError> {
        let res = self.sr(std::slice::from_ref(pkt), opts)?;
        Ok(res.answered.into_iter().next())
    }
    /// `sr` of datagrams sent as IP fragments: each entry is the datagram (answers are
    /// matched against it, and it is the answered reply's `probe`) and the fragments
    /// that go out for it (none: the datagram itself). The default sends every
    /// fragment through `sr` (the dry run shows each).
    fn sr_datagrams(
        &mut self,
        groups: &[(Packet, Vec<Packet>)],
        opts: &SrOpts,
    ) -> Result<SrResult, NetError> {
        let wire: Vec<Packet> = groups
            .iter()
            .flat_map(|(w, f)| {
                if f.is_empty() {
                    vec![w.clone()]
                } else {
                    f.clone()
                }
            })
            .collect();
        self.sr(&wire, opts)
    }
    /// Capture packets.
    fn sniff(&mut self, opts: &SniffOpts) -> Result<Vec<Packet>, NetError>;
    /// Start a capture the caller drives packet by packet (`sniff(prn=…)`, `sniffer()`):
    /// it captures from now on, beside any `send`/`sr`, until dropped. `opts.count`,
    /// `timeout` and `store` are the caller's business. The default (dry run) captures
    /// nothing.
    fn open_sniff(&mut self, opts: &SniffOpts) -> Result<Box<dyn LiveSniff>, NetError> {
        let _ = opts;
        Ok(Box::new(NoPackets))
    }
    /// Short name for messages ("dry-run", "raw sockets").
    fn name(&self) -> &'static str;
    /// True for backends that send nothing (receives then return nothing, and
    /// scripts that wait for answers can say why none came).
    fn is_dry_run(&self) -> bool {
        false
    }
    /// The source address the route would give a packet to `dst`, when the backend
    /// can tell without sending (the dry run fills unset sources with it); `None`
    /// otherwise.
    fn route_source(&mut self, _dst: IpAddr) -> Option<IpAddr> {
        None
    }
    /// The `--pcap` log of a dry run, for parts that send without this trait (the
    /// sessions of `session()` and `listen()`); `None` otherwise.
    fn pcap_log(&self) -> Option<PcapLog> {
        None
    }
}

/// Chooses the source address the route would give a packet to a destination (the
/// kernel's choice), or `None` when there is no route. The command line hands one to
/// the dry run, so that the language needs no socket of its own.
#[derive(Clone)]
pub struct RouteSource(pub Arc<dyn Fn(IpAddr) -> Option<IpAddr> + Send + Sync>);

impl std::fmt::Debug for RouteSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RouteSource")
    }
}

/// `p` with an unset IPv4/IPv6 source address filled in by `route` (checksums the
/// user left unset are then computed over it; any the user set stay as given).
pub fn fill_source(p: &Packet, mut route: impl FnMut(IpAddr) -> Option<IpAddr>) -> Packet {
    let mut p = p.clone();
    // The IP layer: first, or after the Ethernet header of a frame.
    let at = usize::from(matches!(p.layers.first(), Some(Layer::Ether(_))));
    match p.layers.get_mut(at) {
        Some(Layer::Ipv4(ip)) if ip.src.is_none() => {
            if let Some(IpAddr::V4(s)) = route(IpAddr::V4(ip.dst)) {
                ip.src = Some(s);
            }
        }
        Some(Layer::Ipv6(ip)) if ip.src.is_none() => {
            if let Some(IpAddr::V6(s)) = route(IpAddr::V6(ip.dst)) {
                ip.src = Some(s);
            }
        }
        _ => {}
    }
    p
}

/// Where `DryRun` writes the "would send" lines.
pub type Sink = Box<dyn FnMut(&Packet)>;

/// Sends nothing: every packet that would be sent is shown by `sink` (one summary
/// line), and every receive returns nothing (`sr1` → none, `sniff` → []).
pub struct DryRun {
    sink: Sink,
    /// Fills unset source addresses as the route would (none: they stay 0.0.0.0 / ::).
    route: Option<RouteSource>,
    /// The route's answer per destination, asked once each.
    sources: HashMap<IpAddr, Option<IpAddr>>,
}

impl DryRun {
    pub fn new(sink: Sink) -> DryRun {
        DryRun {
            sink,
            route: None,
            sources: HashMap::new(),
        }
    }

    /// Show packets whose source is unset with the source `route` chooses.
    pub fn with_route_source(mut self, route: Option<RouteSource>) -> DryRun {
        self.route = route;
        self
    }

    /// The packet as it would leave: source address filled in when the route knows it.
    fn as_sent(&mut self, p: &Packet) -> Packet {
        fill_source(p, |dst| self.route_source(dst))
    }
}

impl Net for DryRun {
    fn send(&mut self, pkts: &[Packet], opts: &SendOpts) -> Result<usize, NetError> {
        let mut n = 0;
        for _ in 0..opts.count {
            for p in pkts {
                if interrupted() {
                    return Err(NetError::Interrupted);
                }
                let p = self.as_sent(p);
                (self.sink)(&p);
                n += 1;
            }
        }
        Ok(n)
    }
    fn sr(&mut self, pkts: &[Packet], opts: &SrOpts) -> Result<SrResult, NetError> {
        self.send(pkts, &opts.send)?;
        Ok(SrResult {
            answered: Vec::new(),
            unanswered: pkts.iter().map(|p| self.as_sent(p)).collect(),
            unmatched: Vec::new(),
        })
    }
    fn sniff(&mut self, _opts: &SniffOpts) -> Result<Vec<Packet>, NetError> {
        Ok(Vec::new())
    }
    fn name(&self) -> &'static str {
        "dry-run"
    }
    fn is_dry_run(&self) -> bool {
        true
    }
    fn route_source(&mut self, dst: IpAddr) -> Option<IpAddr> {
        let route = self.route.as_ref()?;
        *self.sources.entry(dst).or_insert_with(|| (route.0)(dst))
    }
}

/// Wraps a [`Net`] and records everything sent and received, with timestamps,
/// to write as a pcap file (`--pcap`).
pub struct Recorder {
    inner: Box<dyn Net>,
    log: PcapLog,
}

/// Packets recorded by a [`Recorder`]: (wall-clock time, wire bytes).
pub type PcapLog = std::rc::Rc<std::cell::RefCell<Vec<(Duration, Vec<u8>)>>>;

impl Recorder {
    /// Wrap `inner`; the returned log fills as packets pass.
    pub fn new(inner: Box<dyn Net>) -> (Recorder, PcapLog) {
        let log = PcapLog::default();
        (
            Recorder {
                inner,
                log: log.clone(),
            },
            log,
        )
    }
    /// Keeps `p` as it would leave (the source the route chooses, as the dry run
    /// shows it).
    fn record(&mut self, p: &Packet) {
        let ts = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let mut p = fill_source(p, |dst| self.inner.route_source(dst));
        // The log is raw IP: a frame is recorded from its IP header on.
        if matches!(p.layers.first(), Some(Layer::Ether(_))) {
            p.layers.remove(0);
        }
        self.log.borrow_mut().push((ts, p.to_bytes()));
    }
}

impl Net for Recorder {
    fn send(&mut self, pkts: &[Packet], opts: &SendOpts) -> Result<usize, NetError> {
        let n = self.inner.send(pkts, opts)?;
        for _ in 0..opts.count {
            for p in pkts {
                self.record(p);
            }
        }
        Ok(n)
    }
    fn sr(&mut self, pkts: &[Packet], opts: &SrOpts) -> Result<SrResult, NetError> {
        let res = self.inner.sr(pkts, opts)?;
        for p in pkts {
            self.record(p);
        }
        for r in &res.answered {
            let pk = r.packet.clone();
            self.record(&pk);
        }
        Ok(res)
    }
    fn sr1(&mut self, pkt: &Packet, opts: &SrOpts) -> Result<Option<Reply>, NetError> {
        let res = self.inner.sr1(pkt, opts)?;
        self.record(pkt);
        if let Some(r) = &res {
            let pk = r.packet.clone();
            self.record(&pk);
        }
        Ok(res)
    }
    fn sr_datagrams(
        &mut self,
        groups: &[(Packet, Vec<Packet>)],
        opts: &SrOpts,
    ) -> Result<SrResult, NetError> {
        let res = self.inner.sr_datagrams(groups, opts)?;
        for (w, f) in groups {
            if f.is_empty() {
                self.record(w);
            }
            for p in f {
                self.record(p);
            }
        }
        for r in &res.answered {
            let pk = r.packet.clone();
            self.record(&pk);
        }
        Ok(res)
    }
    fn sniff(&mut self, opts: &SniffOpts) -> Result<Vec<Packet>, NetError> {
        let res = self.inner.sniff(opts)?;
        for p in &res {
            self.record(p);
        }
        Ok(res)
    }
    fn open_sniff(&mut self, opts: &SniffOpts) -> Result<Box<dyn LiveSniff>, NetError> {
        self.inner.open_sniff(opts)
    }
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn is_dry_run(&self) -> bool {
        self.inner.is_dry_run()
    }
    fn route_source(&mut self, dst: IpAddr) -> Option<IpAddr> {
        self.inner.route_source(dst)
    }
    fn pcap_log(&self) -> Option<PcapLog> {
        Some(self.log.clone())
    }
}

/// Write raw-IP packets (LINKTYPE_RAW) as a pcap file readable by tcpdump/Wireshark.
pub fn write_pcap(path: &std::path::Path, packets: &[(Duration, Vec<u8>)]) -> std::io::Result<()> {
    write_pcap_as(path, crate::pcap::linktype::RAW, packets)
}

/// [`write_pcap`] with another link type (LINKTYPE_ETHERNET for frames).
pub fn write_pcap_as(
    path: &std::path::Path,
    linktype: u32,
    packets: &[(Duration, Vec<u8>)],
) -> std::io::Result<()> {
    let mut w = crate::pcap::Writer::create(path, linktype)?;
    for (ts, data) in packets {
        w.write(*ts, data)?;
    }
    w.flush()
}

/// Wait `secs` seconds in small steps, giving up early on Ctrl-C.
pub fn interruptible_sleep(secs: f64) -> Result<(), NetError> {
    if !secs.is_finite() || secs <= 0.0 {
        return Ok(());
    }
    let end = Instant::now() + Duration::from_secs_f64(secs.min(1e9));
    loop {
        if interrupted() {
            return Err(NetError::Interrupted);
        }
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        std::thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}
