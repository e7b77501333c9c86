//! The engine API: `send`, `sr1`, `sr`, `sniff` over wire bytes, with routes, capture,
//! matching and `--pcap` recording. The language (and anything else) wraps this; it works
//! on IP packets as bytes so that what is matched is exactly what left.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::capture::{Capture, Frame};
use super::filter::{Filter, FilterError};
use super::matching::{AnswerKind, Matcher, Outcome};
use super::route::{self, Route};
use super::send::{Path as SendPath, Sender};
pub use super::sniff::Sniffed;
use super::sniff::{LiveCapture, SniffError};
use super::sys;
use super::wire;
use crate::pcap;

/// Everything that can go wrong in the engine.
#[derive(Debug)]
pub enum NetError {
    /// No CAP_NET_RAW: the message names the capability and the fix.
    Permission(String),
    /// A syscall failed; `what` says what tcpcraft was doing.
    Io { what: String, source: io::Error },
    /// libpcap refused a capture filter.
    Filter(FilterError),
    /// A packet that cannot be sent as given (not IPv4/IPv6, no destination…).
    BadPacket(String),
}

impl NetError {
    /// The process exit status for this error (3: system problem, 2: user input).
    pub fn exit_code(&self) -> u8 {
        match self {
            NetError::Permission(_) | NetError::Io { .. } => crate::exit::SYSTEM,
            NetError::Filter(_) | NetError::BadPacket(_) => crate::exit::USAGE,
        }
    }

    fn io(what: impl Into<String>, source: io::Error) -> NetError {
        if source.raw_os_error() == Some(libc::EPERM) || source.raw_os_error() == Some(libc::EACCES)
        {
            return NetError::Permission(permission_message());
        }
        NetError::Io {
            what: what.into(),
            source,
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Permission(m) | NetError::BadPacket(m) => f.write_str(m),
            NetError::Io { what, source } => write!(f, "{what}: {source}"),
            NetError::Filter(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for NetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NetError::Io { source, .. } => Some(source),
            NetError::Filter(e) => Some(e),
            _ => None,
        }
    }
}

/// The one message for missing privileges.
pub fn permission_message() -> String {
    "sending and capturing raw packets needs the CAP_NET_RAW capability: run tcpcraft with \
     sudo, or grant it once with `sudo setcap cap_net_raw,cap_net_admin+ep $(which tcpcraft)` \
     (or use --dry-run to only print what would be sent)"
        .to_string()
}

/// Check privileges up front, before any packet is built or any socket opened.
pub fn check_privileges() -> Result<(), NetError> {
    if sys::effective_caps() & (1u64 << sys::CAP_NET_RAW) == 0 {
        return Err(NetError::Permission(permission_message()));
    }
    Ok(())
}

/// One packet to send: IP bytes (IPv4 or IPv6 header first) and where it may leave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub bytes: Vec<u8>,
    /// `iface=`: leave through this interface.
    pub iface: Option<String>,
    /// Send as an Ethernet frame with this header (scapy's sendp/srp), on the route's
    /// interface; answers are still matched on the IP packet.
    pub link: Option<LinkHeader>,
    /// IP fragments to send instead of `bytes` (which is then the datagram they make,
    /// to match answers against); empty: send `bytes`.
    pub fragments: Vec<Vec<u8>>,
}

impl Probe {
    pub fn new(bytes: Vec<u8>) -> Probe {
        Probe {
            bytes,
            iface: None,
            link: None,
            fragments: Vec::new(),
        }
    }
}

/// The Ethernet header of a frame to send; what is unset is filled in from the route:
/// the interface's own address, the next hop's address (resolved as the kernel does),
/// the IP version's ethertype.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkHeader {
    pub dst: Option<[u8; 6]>,
    pub src: Option<[u8; 6]>,
    pub ethertype: Option<u16>,
}

/// A reply matched to its probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The reply's IP bytes.
    pub bytes: Vec<u8>,
    /// Index of the probe it answers (in the list given to `sr`).
    pub probe: usize,
    /// From the probe leaving (last transmission) to the kernel receiving the reply, on
    /// CLOCK_MONOTONIC.
    pub rtt: Duration,
    /// Wall-clock receive time (since the Unix epoch).
    pub time: Duration,
    pub kind: AnswerKind,
}

/// A captured packet that answered no probe, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmatched {
    pub bytes: Vec<u8>,
    pub time: Duration,
    pub reason: String,
}

/// The result of `sr`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SrResult {
    /// Answers, in the order they arrived.
    pub answered: Vec<Reply>,
    /// Indices of probes nothing answered.
    pub unanswered: Vec<usize>,
    /// Captured candidates that answered nothing (capped at 10,000).
    pub unmatched: Vec<Unmatched>,
    /// Each probe's bytes as they left (source filled in).
    pub sent: Vec<Vec<u8>>,
    /// The Ethernet header each probe sent as a frame left with (addresses filled in);
    /// `None` for IP probes.
    pub sent_link: Vec<Option<[u8; 14]>>,
    /// Packets the capture socket dropped (buffer full); non-zero means answers may be lost.
    pub drops: u32,
    /// When each probe last left (wall clock, since the Unix epoch; zero: never sent).
    pub sent_time: Vec<Duration>,
}

/// Engine settings.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// Record every packet sent and received here (pcap, raw IP link type).
    pub pcap: Option<std::path::PathBuf>,
    /// An already open `--pcap` writer shared with other writers of the same file
    /// (sessions); used instead of opening `pcap`.
    pub pcap_writer: Option<pcap::SharedWriter>,
}

struct Prepared {
    bytes: Vec<u8>,
    route: Route,
    path: SendPath,
    /// A frame's Ethernet header, filled in.
    link: Option<[u8; 14]>,
    /// The fragments that go out instead of `bytes`, prepared.
    frags: Vec<Prepared>,
}

/// Send a prepared probe, or its fragments.
fn send_all(sender: &mut Sender, p: &Prepared, iface: Option<&str>) -> std::io::Result<()> {
    if p.frags.is_empty() {
        return send_one(sender, p, iface);
    }
    for f in &p.frags {
        send_one(sender, f, iface)?;
    }
    Ok(())
}

/// Send one prepared probe: as a frame with its Ethernet header, or as an IP packet.
fn send_one(sender: &mut Sender, p: &Prepared, iface: Option<&str>) -> std::io::Result<()> {
    match &p.link {
        Some(h) => sender.send_frame(h, &p.bytes, &p.route),
        None => sender.send(&p.bytes, &p.route, p.path, iface),
    }
}

/// The engine. One per process is enough; it caches routes and sockets.
pub struct Engine {
    sender: Sender,
    routes: HashMap<(IpAddr, Option<IpAddr>, Option<String>), Route>,
    pcap: Option<pcap::SharedWriter>,
    /// Why packets went out at the link layer (shown once per reason by callers).
    pub notes: Vec<String>,
    /// Capture sockets kept open per interface index (0 = all): opening and closing an
    /// AF_PACKET socket waits for an RCU grace period (~10 ms), which would dominate sr1.
    captures: HashMap<u32, Capture>,
    /// `sr`'s capture filters, compiled once each (libpcap's compiler is not free).
    programs: HashMap<String, Vec<sys::SockFilter>>,
}

/// A filter that accepts nothing: parked capture sockets cost nothing while idle.
const REJECT_ALL: [sys::SockFilter; 1] = [sys::SockFilter {
    code: 0x06,
    jt: 0,
    jf: 0,
    k: 0,
}];

/// Capture buffer for `sr`/`sniff`: 64 MiB holds ~80,000 replies of stall.
const RCVBUF: usize = 64 << 20;

fn hash_bytes(b: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    b.hash(&mut h);
    h.finish()
}

fn addrs(bytes: &[u8]) -> Option<(IpAddr, IpAddr)> {
    use crate::packet::{ipv4, Ipv4Packet, Ipv6Packet};
    match wire::version(bytes)? {
        4 => {
            // The addresses end the fixed header (the ihl is not needed for them).
            let h = Ipv4Packet::new_unchecked(bytes.get(..ipv4::field::HEADER_LEN)?);
            Some((IpAddr::V4(h.src_addr()), IpAddr::V4(h.dst_addr())))
        }
        6 => {
            let h = Ipv6Packet::new_checked(bytes).ok()?;
            Some((IpAddr::V6(h.src_addr()), IpAddr::V6(h.dst_addr())))
        }
        _ => None,
    }
}

impl Engine {
    /// Check privileges and open the pcap file, if any. Sockets open on first use.
    pub fn new(opts: EngineOptions) -> Result<Engine, NetError> {
        check_privileges()?;
        let pcap = match (&opts.pcap_writer, &opts.pcap) {
            (Some(w), _) => Some(w.clone()),
            (None, Some(p)) => Some(
                pcap::SharedWriter::create(p)
                    .map_err(|e| NetError::io(format!("creating {}", p.display()), e))?,
            ),
            (None, None) => None,
        };
        Ok(Engine {
            sender: Sender::new(),
            routes: HashMap::new(),
            pcap,
            notes: Vec::new(),
            captures: HashMap::new(),
            programs: HashMap::new(),
        })
    }

    /// A capture socket on `ifindex` armed with `program` and emptied: what it returns
    /// from now on passed this filter. Reused across calls.
    fn armed_capture(
        &mut self,
        ifindex: u32,
        program: &[sys::SockFilter],
    ) -> Result<Capture, NetError> {
        let mut cap = match self.captures.remove(&ifindex) {
            Some(mut c) => {
                c.set_filter(program)
                    .map_err(|e| NetError::io("arming the capture filter", e))?;
                c
            }
            None => Capture::open(ifindex, program, RCVBUF)
                .map_err(|e| NetError::io("opening the capture socket", e))?,
        };
        cap.drain().map_err(|e| NetError::io("capturing", e))?;
        let _ = cap.drops(); // reset the kernel's drop counter
        Ok(cap)
    }

    /// Park a capture socket for the next call, accepting nothing meanwhile.
    fn park_capture(&mut self, ifindex: u32, mut cap: Capture) {
        if cap.set_filter(&REJECT_ALL).is_ok() && cap.drain().is_ok() {
            self.captures.insert(ifindex, cap);
        }
    }

    /// The route to `dst` (cached), as `ip route get` would say.
    pub fn route(
        &mut self,
        dst: IpAddr,
        src: Option<IpAddr>,
        iface: Option<&str>,
    ) -> Result<Route, NetError> {
        let key = (dst, src, iface.map(str::to_string));
        if let Some(r) = self.routes.get(&key) {
            return Ok(r.clone());
        }
        let r = route::resolve(dst, src, iface)
            .map_err(|e| NetError::io(format!("no route to {dst}"), e))?;
        self.routes.insert(key, r.clone());
        Ok(r)
    }

    fn prepare(&mut self, p: &Probe) -> Result<Prepared, NetError> {
        let (src, dst) = addrs(&p.bytes).ok_or_else(|| {
            NetError::BadPacket("only IPv4 and IPv6 packets can be sent (no IP header)".into())
        })?;
        let given = (!src.is_unspecified()).then_some(src);
        let route = self.route(dst, given, p.iface.as_deref())?;
        let mut bytes = p.bytes.clone();
        if given.is_none() {
            wire::fill_source(&mut bytes, route.src);
        }
        let link = match &p.link {
            Some(h) => Some(self.link_header(h, &route, dst)?),
            None => None,
        };
        if link.is_some() && matches!(dst, IpAddr::V4(d) if d.is_loopback()) {
            let note = "Linux drops IPv4 frames to 127.0.0.0/8 that arrive on lo as martians \
                        (unless net.ipv4.conf.lo.route_localnet=1): send IP(...) without Ether()"
                .to_string();
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
        }
        let path = match wire::kernel_would_rewrite_v4(&bytes) {
            _ if link.is_some() => SendPath::Link,
            Some(why) => {
                let note = format!("sent at the link layer so that it leaves as built: {why}");
                if !self.notes.contains(&note) {
                    self.notes.push(note);
                }
                SendPath::Link
            }
            None => SendPath::RawIp,
        };
        let frags = p
            .fragments
            .iter()
            .map(|f| {
                self.prepare(&Probe {
                    bytes: f.clone(),
                    iface: p.iface.clone(),
                    link: p.link.clone(),
                    fragments: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Prepared {
            bytes,
            route,
            path,
            link,
            frags,
        })
    }

    /// A frame's Ethernet header with what the user left unset filled in.
    fn link_header(
        &mut self,
        h: &LinkHeader,
        route: &Route,
        dst: IpAddr,
    ) -> Result<[u8; 14], NetError> {
        let (kind, ours) = self
            .sender
            .own_link(&route.ifname)
            .map_err(|e| NetError::io(format!("reading {}'s address", route.ifname), e))?;
        if kind != sys::ARPHRD_ETHER && kind != sys::ARPHRD_LOOPBACK {
            return Err(NetError::BadPacket(format!(
                "Ether() frames go out on Ethernet interfaces; {} is not one (send the IP packet instead)",
                route.ifname
            )));
        }
        let next_hop = match h.dst {
            Some(m) => m,
            None => self
                .sender
                .next_hop_mac(route)
                .map_err(|e| NetError::io(format!("resolving the MAC address for {dst}"), e))?
                .unwrap_or([0; 6]),
        };
        let ethertype = h.ethertype.unwrap_or(if dst.is_ipv6() {
            sys::ETH_P_IPV6
        } else {
            sys::ETH_P_IP
        });
        let mut out = [0u8; crate::packet::link::ETHER_LEN];
        let mut f = crate::packet::EthernetFrame::new_unchecked(&mut out[..]);
        f.set_dst_addr(next_hop);
        f.set_src_addr(h.src.unwrap_or(ours));
        f.set_ethertype(ethertype);
        Ok(out)
    }

    /// The bytes a probe will leave with (source filled in from the route).
    pub fn finished_bytes(&mut self, p: &Probe) -> Result<Vec<u8>, NetError> {
        self.prepare(p).map(|x| x.bytes)
    }

    fn record(&mut self, time: Duration, bytes: &[u8]) {
        if let Some(w) = self.pcap.as_ref() {
            // A failing pcap write must not lose the exchange; it shows at flush.
            let _ = w.write(time, bytes);
        }
    }

    /// The `--pcap` writer, for captures that run beside the engine.
    pub fn pcap_writer(&self) -> Option<pcap::SharedWriter> {
        self.pcap.clone()
    }

    /// Flush the pcap file.
    pub fn flush(&mut self) -> Result<(), NetError> {
        if let Some(w) = self.pcap.as_ref() {
            w.flush()
                .map_err(|e| NetError::io("writing the pcap file", e))?;
        }
        Ok(())
    }

    fn transmit(&mut self, p: &Prepared, iface: Option<&str>) -> Result<Duration, NetError> {
        let t = sys::clocks().0;
        send_one(&mut self.sender, p, iface)
            .map_err(|e| NetError::io(format!("sending to {}", p.route.dst), e))?;
        self.record(t, &p.bytes);
        Ok(t)
    }

    /// Whether a burst of [`send`](Self::send) went out through a transmit ring.
    pub fn bursts_use_a_ring(&self) -> bool {
        self.sender.ring_in_use()
    }

    /// Send packets, `count` rounds of the whole list, waiting `inter` between packets.
    /// A long burst without `inter` goes out in batches at the link layer, through a
    /// transmit ring on Ethernet (sendmmsg(2) elsewhere).
    /// Returns how many packets left.
    pub fn send(
        &mut self,
        probes: &[Probe],
        count: usize,
        inter: Duration,
    ) -> Result<usize, NetError> {
        let prepared: Vec<Prepared> = probes
            .iter()
            .map(|p| self.prepare(p))
            .collect::<Result<_, _>>()?;
        let total = prepared.len().saturating_mul(count);
        let same_route = prepared.windows(2).all(|w| w[0].route == w[1].route)
            && probes.iter().all(|p| p.iface.is_none() && p.link.is_none());
        if inter.is_zero() && total >= 64 && same_route && self.pcap.is_none() {
            if let Some(first) = prepared.first() {
                let route = first.route.clone();
                // Batches of up to 1,024 frames, cycling through the list `count` times.
                let len = prepared.len();
                let mut sent = 0;
                while sent < total {
                    let n = (total - sent).min(1024);
                    let batch: Vec<&[u8]> = (sent..sent + n)
                        .filter_map(|k| prepared.get(k % len).map(|p| p.bytes.as_slice()))
                        .collect();
                    let done = self
                        .sender
                        .send_batch(&batch, &route)
                        .map_err(|e| NetError::io(format!("sending to {}", route.dst), e))?;
                    if done == 0 {
                        break;
                    }
                    sent += done;
                }
                self.sender
                    .flush()
                    .map_err(|e| NetError::io(format!("sending to {}", route.dst), e))?;
                return Ok(sent);
            }
        }
        let mut sent = 0;
        for round in 0..count {
            for (i, (p, probe)) in prepared.iter().zip(probes).enumerate() {
                if !inter.is_zero() && (round > 0 || i > 0) {
                    std::thread::sleep(inter);
                }
                self.transmit(p, probe.iface.as_deref())?;
                sent += 1;
            }
        }
        self.flush()?;
        Ok(sent)
    }

    /// Send one probe and wait up to `timeout` for its answer.
    pub fn sr1(&mut self, probe: &Probe, timeout: Duration) -> Result<Option<Reply>, NetError> {
        let r = self.sr(
            std::slice::from_ref(probe),
            timeout,
            0,
            Duration::ZERO,
            &|| false,
        )?;
        Ok(r.answered.into_iter().next())
    }

    /// Send probes, capture and match their answers. Each unanswered probe is sent again
    /// up to `retry` more times; the wait ends `timeout` after the last probe left, or as
    /// soon as every probe has its answer. `stop` (e.g. "was Ctrl-C pressed?") is asked
    /// every 50 ms at most and ends it early.
    pub fn sr(
        &mut self,
        probes: &[Probe],
        timeout: Duration,
        retry: usize,
        inter: Duration,
        stop: &dyn Fn() -> bool,
    ) -> Result<SrResult, NetError> {
        let prepared: Vec<Prepared> = probes
            .iter()
            .map(|p| self.prepare(p))
            .collect::<Result<_, _>>()?;
        let mut result = SrResult {
            sent: prepared.iter().map(|p| p.bytes.clone()).collect(),
            sent_link: prepared.iter().map(|p| p.link).collect(),
            sent_time: vec![Duration::ZERO; prepared.len()],
            ..SrResult::default()
        };
        if prepared.is_empty() {
            return Ok(result);
        }
        let matcher = Matcher::new(prepared.iter().map(|p| wire::summarize(&p.bytes)).collect());
        let own: HashSet<u64> = prepared
            .iter()
            .flat_map(|p| std::iter::once(p).chain(p.frags.iter()))
            .map(|p| hash_bytes(&p.bytes))
            .collect();
        let ifindex = {
            let first = prepared.first().map(|p| p.route.ifindex).unwrap_or(0);
            if prepared.iter().all(|p| p.route.ifindex == first) {
                first
            } else {
                0
            }
        };
        let filter = candidate_filter(&prepared);
        let program = match self.programs.get(&filter) {
            Some(p) => p.clone(),
            None => {
                let p = Filter::new(&filter, pcap::linktype::RAW)
                    .map_err(NetError::Filter)?
                    .program;
                if self.programs.len() > 256 {
                    self.programs.clear();
                }
                self.programs.insert(filter, p.clone());
                p
            }
        };
        let mut cap = self.armed_capture(ifindex, &program)?;

        let n = prepared.len();
        let mut answered = vec![false; n];
        let mut left = n;
        let mut sent_at = vec![Duration::ZERO; n];
        let mut state = Collect {
            matcher: &matcher,
            own: &own,
            answered: &mut answered,
            left: &mut left,
            sent_at: &mut sent_at,
            result: &mut result,
            pcap: self.pcap.as_ref(),
        };
        let stopped = || stop();
        'rounds: for _round in 0..=retry {
            let todo: Vec<usize> = (0..n).filter(|&i| !state.answered[i]).collect();
            if todo.is_empty() {
                break;
            }
            for (k, &i) in todo.iter().enumerate() {
                if stopped() {
                    break 'rounds;
                }
                if state.answered[i] {
                    continue;
                }
                if k > 0 && !inter.is_zero() {
                    let until = Instant::now() + inter;
                    while let Some(left_t) = until.checked_duration_since(Instant::now()) {
                        if left_t.is_zero() {
                            break;
                        }
                        match cap.next(left_t).map_err(|e| NetError::io("capturing", e))? {
                            Some(f) => state.take(f),
                            None => break,
                        }
                    }
                }
                let p = &prepared[i];
                let (t, t_mono) = sys::clocks();
                if let Err(e) = send_all(&mut self.sender, p, probes[i].iface.as_deref()) {
                    if e.raw_os_error() == Some(libc::ENOBUFS) {
                        // The queue is full: drain replies, then try once more.
                        std::thread::sleep(Duration::from_micros(200));
                        send_all(&mut self.sender, p, probes[i].iface.as_deref())
                            .map_err(|e| NetError::io(format!("sending to {}", p.route.dst), e))?;
                    } else {
                        return Err(NetError::io(format!("sending to {}", p.route.dst), e));
                    }
                }
                state.sent_at[i] = t_mono;
                if let Some(st) = state.result.sent_time.get_mut(i) {
                    *st = t;
                }
                if let Some(w) = state.pcap {
                    if p.frags.is_empty() {
                        let _ = w.write(t, &p.bytes);
                    }
                    for f in &p.frags {
                        let _ = w.write(t, &f.bytes);
                    }
                }
                // Keep the socket buffer drained during long bursts.
                if k % 64 == 63 {
                    while let Some(f) = cap.try_next().map_err(|e| NetError::io("capturing", e))? {
                        state.take(f);
                    }
                }
            }
            let deadline = Instant::now() + timeout;
            while *state.left > 0 && !stopped() {
                let Some(rest) = deadline.checked_duration_since(Instant::now()) else {
                    break;
                };
                if rest.is_zero() {
                    break;
                }
                // Wake at least every 50 ms to look at `stop`.
                match cap
                    .next(rest.min(Duration::from_millis(50)))
                    .map_err(|e| NetError::io("capturing", e))?
                {
                    Some(f) => state.take(f),
                    None => continue,
                }
            }
        }
        // Whatever is already queued still counts.
        while let Some(f) = cap.try_next().map_err(|e| NetError::io("capturing", e))? {
            state.take(f);
        }
        result.unanswered = (0..n).filter(|&i| !answered[i]).collect();
        result.drops = cap.drops();
        self.park_capture(ifindex, cap);
        self.flush()?;
        Ok(result)
    }

    /// Open a live capture on `iface` (None: every interface) keeping what the tcpdump
    /// filter `filter` keeps, outgoing packets included (see [`super::sniff`]). It runs
    /// beside the engine: `send`/`sr` may go on while it captures.
    pub fn live_capture(
        &mut self,
        filter: Option<&str>,
        iface: Option<&str>,
    ) -> Result<LiveCapture, NetError> {
        LiveCapture::open(filter.unwrap_or(""), iface).map_err(|e| match e {
            SniffError::Filter(f) => NetError::Filter(f),
            SniffError::NoInterface(name) => NetError::io(
                format!("sniffing on {name}"),
                io::Error::new(io::ErrorKind::NotFound, "no such interface"),
            ),
            SniffError::Io(e) => NetError::io("opening the capture socket", e),
        })
    }

    /// Write a sniffed packet to `--pcap` (raw IP: only IP packets go there).
    pub fn record_sniffed(&mut self, s: &Sniffed) {
        if s.is_ip() {
            self.record(s.time, &s.bytes);
        }
    }

    /// Capture packets matching `filter` (tcpdump syntax subset) on `iface` (None: every
    /// interface) until `count` packets (0: no limit), `timeout`, or `stop` is set.
    /// Keeps at most [`StoreLimit::default`] of them in memory (see [`Engine::sniff_bounded`]).
    pub fn sniff(
        &mut self,
        count: usize,
        timeout: Option<Duration>,
        filter: Option<&str>,
        iface: Option<&str>,
        stop: &dyn Fn() -> bool,
    ) -> Result<Vec<Sniffed>, NetError> {
        self.sniff_bounded(count, timeout, filter, iface, stop, StoreLimit::default())
            .map(|(got, _)| got)
    }

    /// [`Engine::sniff`] with a bound on what is kept in memory: once `store` is full,
    /// capture goes on (every packet still counts toward `count` and is written to
    /// `--pcap`) but no more are kept. A one-minute sniff of a flood therefore uses
    /// bounded memory. Returns the kept packets and how many were captured in all.
    pub fn sniff_bounded(
        &mut self,
        count: usize,
        timeout: Option<Duration>,
        filter: Option<&str>,
        iface: Option<&str>,
        stop: &dyn Fn() -> bool,
        store: StoreLimit,
    ) -> Result<(Vec<Sniffed>, SniffStats), NetError> {
        let mut cap = self.live_capture(filter, iface)?;
        let start = Instant::now();
        let mut out = Vec::new();
        let mut stats = SniffStats::default();
        while count == 0 || stats.captured < count {
            if stop() {
                break;
            }
            let wait = match timeout {
                Some(t) => match t.checked_sub(start.elapsed()) {
                    Some(r) if !r.is_zero() => r.min(Duration::from_millis(50)),
                    _ => break,
                },
                None => Duration::from_millis(50),
            };
            if let Some(s) = cap.next(wait).map_err(|e| NetError::io("capturing", e))? {
                if s.is_ip() {
                    self.record(s.time, &s.bytes);
                }
                stats.captured += 1;
                if out.len() >= store.packets || stats.bytes + s.bytes.len() > store.bytes {
                    stats.not_kept += 1;
                    continue;
                }
                stats.bytes += s.bytes.len();
                out.push(s);
            }
        }
        stats.drops = cap.drops();
        self.flush()?;
        Ok((out, stats))
    }
}

/// How much a `sniff` keeps in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreLimit {
    /// At most this many packets…
    pub packets: usize,
    /// …and at most this many bytes of packet data.
    pub bytes: usize,
}

impl Default for StoreLimit {
    /// 100,000 packets or 64 MiB of packet data, whichever comes first.
    fn default() -> Self {
        StoreLimit {
            packets: 100_000,
            bytes: 64 << 20,
        }
    }
}

/// What a `sniff` saw beyond what it kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SniffStats {
    /// Packets captured (kept or not).
    pub captured: usize,
    /// Packets captured but not kept (the store limit was reached).
    pub not_kept: usize,
    /// Bytes of packet data kept.
    pub bytes: usize,
    /// Packets the kernel dropped because the capture buffer was full.
    pub drops: u32,
}

/// The per-`sr` state that classifies captured frames.
struct Collect<'a> {
    matcher: &'a Matcher,
    own: &'a HashSet<u64>,
    answered: &'a mut Vec<bool>,
    left: &'a mut usize,
    sent_at: &'a mut Vec<Duration>,
    result: &'a mut SrResult,
    pcap: Option<&'a pcap::SharedWriter>,
}

impl Collect<'_> {
    fn take(&mut self, f: Frame) {
        // On loopback our own probe comes back in as an incoming packet: not an answer.
        if self.own.contains(&hash_bytes(&f.data)) {
            return;
        }
        if let Some(w) = self.pcap {
            let _ = w.write(f.time, &f.data);
        }
        let Some(s) = wire::summarize(&f.data) else {
            return;
        };
        let answered = &*self.answered;
        match self
            .matcher
            .classify(&s, |i| answered.get(i).copied().unwrap_or(true))
        {
            Outcome::Answer(i, kind) => {
                if let Some(a) = self.answered.get_mut(i) {
                    *a = true;
                }
                *self.left = self.left.saturating_sub(1);
                let sent = self.sent_at.get(i).copied().unwrap_or_default();
                self.result.answered.push(Reply {
                    rtt: f.mono.saturating_sub(sent),
                    time: f.time,
                    bytes: f.data,
                    probe: i,
                    kind,
                });
            }
            Outcome::Duplicate(i) => self.keep(f, format!("another answer to probe #{i}")),
            Outcome::Unmatched(why) => self.keep(f, why),
        }
    }

    fn keep(&mut self, f: Frame, reason: String) {
        if self.result.unmatched.len() < 10_000 {
            self.result.unmatched.push(Unmatched {
                bytes: f.data,
                time: f.time,
                reason,
            });
        }
    }
}

/// A capture filter for the answers to these probes: anything from their destinations,
/// and ICMP errors from anywhere (a router on the path may send them). Many destinations
/// widen it to every IP packet. Compiled for raw IP: `sr`'s socket hands out packets that
/// start at the IP header.
fn candidate_filter(probes: &[Prepared]) -> String {
    let mut hosts: Vec<IpAddr> = probes.iter().map(|p| p.route.dst).collect();
    hosts.sort();
    hosts.dedup();
    if hosts.len() > 16 {
        return "ip or ip6".into();
    }
    let mut f = String::from("icmp or icmp6");
    for h in hosts {
        f.push_str(&format!(" or src host {h}"));
    }
    f
}
