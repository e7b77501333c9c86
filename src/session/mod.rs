//! Hand-driven TCP sessions: a person sends each segment of a connection and sees
//! the peer's real answers and both sides' RFC 9293 states.
//!
//! - [`state`]: the pure state machine (both ends, warnings, `expect` matching);
//! - [`ladder`]: the history drawn as a ladder diagram (text or SVG);
//! - this module: [`Session`], which glues the machine to a [`SegmentIo`] transport
//!   (the engine implements it over raw sockets; [`mock::MockIo`] plays a scripted
//!   peer in memory), builds the packets, and prints every step.
//!
//! Every step prints one line for the segment (`> ` sent, `< ` received, the
//! packet's tcpdump-style summary), one line per state change (`SYN_SENT →
//! ESTABLISHED`), and one line per warning or note.

pub mod cli;
pub mod handshake;
pub mod ladder;
pub mod lang;
pub mod mock;
pub mod rawio;
pub mod state;

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::net::guard::RstGuard;
use crate::packet::{display, Ipv4Repr, Ipv6Repr, Layer, Packet, TcpFlags, TcpOption, TcpRepr};
use ladder::LadderOptions;
use state::{Dir, Expectation, Machine, SegOptions, Segment, SendSpec, Side, State, Step};

/// The transport under a session: sends whole packets, returns the next received
/// packet of the connection. The engine implements it over raw sockets (capturing
/// what arrives for the session's local port); tests use [`mock::MockIo`].
pub trait SegmentIo {
    /// Sends `pkt` as given (computed fields left `None` are filled in, and a `None`
    /// source address is chosen by the route). Returns the packet as it went out.
    fn send(&mut self, pkt: &Packet) -> Result<Packet, SessionError>;
    /// The next TCP packet addressed to the session's local port, with the time it
    /// arrived, or `None` when `timeout` passes first. Packets of other flows may be
    /// returned; the session ignores them.
    fn recv(&mut self, timeout: Duration) -> Result<Option<(Packet, Instant)>, SessionError>;
}

/// Why a session step failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionError {
    /// The transport failed (no permission, no route …).
    Io(String),
    /// Nothing came within the timeout.
    Timeout(String),
    /// A segment came but is not the one expected; the text says field by field.
    Mismatch(String),
    /// The call makes no sense in this state (e.g. `recv` before a peer is known).
    Usage(String),
    /// The cancel hook (Ctrl-C) stopped a wait.
    Interrupted,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Io(m)
            | SessionError::Timeout(m)
            | SessionError::Mismatch(m)
            | SessionError::Usage(m) => f.write_str(m),
            SessionError::Interrupted => f.write_str("interrupted"),
        }
    }
}

impl std::error::Error for SessionError {}

/// Where a session's step lines go (the REPL's output, stdout, a test's buffer).
pub type Sink = Box<dyn FnMut(&str)>;

/// The optional arguments of `session(...)` and `listen(...)`.
#[derive(Clone, Debug, Default)]
pub struct SessionOptions {
    /// Our port; `None`: a random port outside the kernel's ephemeral range.
    pub sport: Option<u16>,
    /// Our ISN; `None`: random.
    pub isn: Option<u32>,
    /// The window we advertise (the header field); `None`: 64240, as Linux.
    pub window: Option<u16>,
    /// Options of our SYN (or SYN-ACK); `None`: mss 1460, sackOK, wscale 7 in Linux's
    /// order (no timestamps: they would need a clock on every segment).
    pub options: Option<Vec<TcpOption>>,
    /// Our address; `None`: the engine picks it by route.
    pub src: Option<IpAddr>,
    /// IP TTL / hop limit.
    pub ttl: Option<u8>,
    /// The kernel-RST guard to register our port with (none in dry-run or with
    /// `--no-rst-guard`).
    pub guard: Option<Arc<Mutex<RstGuard>>>,
}

/// What `s.send(...)` asks for; unset fields are filled in from the session.
#[derive(Clone, Debug, Default)]
pub struct SendRequest {
    pub flags: TcpFlags,
    pub data: Vec<u8>,
    pub seq: Option<u32>,
    pub ack: Option<u32>,
    pub window: Option<u16>,
    /// TCP options; `None`: the session's SYN options on a SYN, none otherwise.
    pub options: Option<Vec<TcpOption>>,
}

impl SendRequest {
    /// A request with just flags (`s.send("A")`).
    pub fn flags(flags: TcpFlags) -> SendRequest {
        SendRequest {
            flags,
            ..SendRequest::default()
        }
    }
}

/// A hand-driven TCP connection.
pub struct Session {
    io: Box<dyn SegmentIo>,
    machine: Machine,
    local_port: u16,
    /// The peer's address and port (known from the start when active, from its SYN
    /// when listening).
    remote: Option<(IpAddr, u16)>,
    src: Option<IpAddr>,
    ttl: u8,
    syn_options: Vec<TcpOption>,
    guard: Option<Arc<Mutex<RstGuard>>>,
    sink: Sink,
    /// Packets as sent and received, in order (for `--pcap` and `s.history`).
    packets: Vec<Packet>,
    /// Asked between short waits; true stops the wait (Ctrl-C in the REPL).
    cancel: Option<Box<dyn Fn() -> bool>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("local_port", &self.local_port)
            .field("remote", &self.remote)
            .field("state", &self.state())
            .field("peer_state", &self.peer_state())
            .finish_non_exhaustive()
    }
}

/// Linux's SYN options without timestamps, in Linux's order (12 bytes, no padding).
pub fn default_syn_options() -> Vec<TcpOption> {
    vec![
        TcpOption::Mss(1460),
        TcpOption::Nop,
        TcpOption::Nop,
        TcpOption::SackOk,
        TcpOption::Nop,
        TcpOption::Wscale(7),
    ]
}

const DEFAULT_WINDOW: u16 = 64240;

impl Session {
    /// `session(dst, dport, …)`: an active opener, CLOSED until the user sends a SYN.
    pub fn connect(
        io: Box<dyn SegmentIo>,
        dst: IpAddr,
        dport: u16,
        opts: SessionOptions,
        sink: Sink,
    ) -> Result<Session, SessionError> {
        let isn = opts.isn.unwrap_or_else(|| random_u32(dport.into()));
        let machine = Machine::active(isn, opts.window.unwrap_or(DEFAULT_WINDOW));
        let local_port = match opts.sport {
            Some(p) => p,
            None => pick_port(ephemeral_range(), random_u32(isn)),
        };
        let mut s = Session::new(io, machine, local_port, opts, sink);
        s.remote = Some((dst, dport));
        s.guard_port()?;
        Ok(s)
    }

    /// `listen(port, timeout=…)`: waits for a SYN to `port` and records it; the
    /// session stays in LISTEN until the user answers with `send("SA")`. With a zero
    /// timeout it returns at once, still listening: the first SYN to `port` that
    /// `recv`/`expect` sees then becomes the peer (a script can start its own client
    /// after the listener).
    pub fn listen(
        io: Box<dyn SegmentIo>,
        port: u16,
        timeout: Duration,
        opts: SessionOptions,
        sink: Sink,
    ) -> Result<Session, SessionError> {
        let isn = opts.isn.unwrap_or_else(|| random_u32(port.into()));
        let machine = Machine::passive(isn, opts.window.unwrap_or(DEFAULT_WINDOW));
        let mut s = Session::new(io, machine, port, opts, sink);
        s.guard_port()?;
        if timeout.is_zero() {
            return Ok(s);
        }
        match s.recv(timeout)? {
            Some(_) => Ok(s),
            None => Err(SessionError::Timeout(format!(
                "no SYN to port {port} within {}",
                seconds(timeout)
            ))),
        }
    }

    fn new(
        io: Box<dyn SegmentIo>,
        machine: Machine,
        local_port: u16,
        opts: SessionOptions,
        sink: Sink,
    ) -> Session {
        Session {
            io,
            machine,
            local_port,
            remote: None,
            src: opts.src,
            ttl: opts.ttl.unwrap_or(64),
            syn_options: opts.options.unwrap_or_else(default_syn_options),
            guard: opts.guard,
            sink,
            packets: Vec::new(),
            cancel: None,
        }
    }

    /// Registers our port with the RST guard; says so once per guard.
    fn guard_port(&mut self) -> Result<(), SessionError> {
        let Some(guard) = &self.guard else {
            return Ok(());
        };
        let mut g = guard
            .lock()
            .map_err(|_| SessionError::Io("RST guard unusable after a panic".into()))?;
        let first = g.ports().is_empty();
        g.add_port(self.local_port)
            .map_err(|e| SessionError::Io(e.to_string()))?;
        if first {
            let lines: Vec<String> = g.notes().iter().cloned().chain([g.summary()]).collect();
            drop(g);
            for l in lines {
                (self.sink)(&l);
            }
        }
        Ok(())
    }

    /// Replaces where the step lines go.
    pub fn set_sink(&mut self, sink: Sink) {
        self.sink = sink;
    }

    /// Waits are cut into slices of at most 100 ms, and `cancel` is asked between
    /// them: when it says true the wait ends with [`SessionError::Interrupted`].
    pub fn set_cancel(&mut self, cancel: Box<dyn Fn() -> bool>) {
        self.cancel = Some(cancel);
    }

    /// `s.send(flags, data=, seq=, ack=, window=, options=)`: fills in what is not
    /// given, sends exactly that, prints it, and returns the step (with warnings when
    /// the peer will not take the segment as it is).
    pub fn send(&mut self, req: SendRequest) -> Result<Step, SessionError> {
        let (dst, dport) = self.remote.ok_or_else(|| {
            SessionError::Usage("no peer yet: listen() has not seen a SYN".into())
        })?;
        self.tick(Instant::now());
        let syn = req.flags.contains(TcpFlags::SYN);
        let options = req.options.clone().unwrap_or_else(|| {
            if syn {
                self.syn_options.clone()
            } else {
                Vec::new()
            }
        });
        let seg = self.machine.fill(&SendSpec {
            flags: req.flags,
            len: u32::try_from(req.data.len()).unwrap_or(u32::MAX),
            seq: req.seq,
            ack: req.ack,
            window: req.window,
            options: seg_options(&options),
        });
        let pkt = self.build(dst, dport, &seg, &req.data, options);
        let sent = self.io.send(&pkt)?;
        let now = Instant::now();
        if self.src.is_none() {
            self.src = sent.addrs().and_then(|(src, _)| src);
        }
        self.show(Dir::Sent, &sent);
        self.packets.push(sent);
        let step = self.machine.sent(seg, req.data, now).clone();
        self.show_step(&step);
        Ok(step)
    }

    /// `s.recv(timeout=)`: the next segment of this connection, unchecked; `None`
    /// when nothing came in time.
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<Step>, SessionError> {
        const SLICE: Duration = Duration::from_millis(100);
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let wait = match &self.cancel {
                Some(cancel) if cancel() => return Err(SessionError::Interrupted),
                Some(_) => left.min(SLICE),
                None => left,
            };
            let Some((pkt, at)) = self.io.recv(wait)? else {
                if wait < left {
                    continue;
                }
                self.tick(Instant::now());
                return Ok(None);
            };
            if self.take(&pkt) {
                self.tick(at);
                return Ok(Some(self.record_received(pkt, at)));
            }
        }
    }

    /// Whether a received packet belongs to this connection. A listener without a
    /// peer takes the first SYN to its port, and that SYN's sender becomes the peer.
    fn take(&mut self, pkt: &Packet) -> bool {
        let (Some(t), Some((src, dst))) = (pkt.tcp(), pkt.addrs()) else {
            return false;
        };
        if t.dport != self.local_port {
            return false;
        }
        match (self.remote, src) {
            (Some((peer, pport)), src) => t.sport == pport && src.is_none_or(|s| s == peer),
            (None, Some(src)) => {
                let syn_only = t.flags.contains(TcpFlags::SYN) && !t.flags.contains(TcpFlags::ACK);
                if syn_only {
                    self.remote = Some((src, t.sport));
                    self.src = self.src.or(Some(dst));
                }
                syn_only
            }
            (None, None) => false,
        }
    }

    /// `s.expect(flags, timeout=, seq=, …)`: the next segment, checked. A timeout or
    /// a mismatch is an error whose text says what was expected and what came; a
    /// mismatching segment is still recorded in the history.
    pub fn expect(&mut self, exp: &Expectation, timeout: Duration) -> Result<Step, SessionError> {
        let Some(step) = self.recv(timeout)? else {
            let what = exp
                .flags
                .map_or_else(|| "a segment".to_string(), |f| format!("{f}"));
            return Err(SessionError::Timeout(format!(
                "expected {what} within {}, nothing came",
                seconds(timeout)
            )));
        };
        state::check(exp, &step.seg, &step.data).map_err(SessionError::Mismatch)?;
        Ok(step)
    }

    fn record_received(&mut self, pkt: Packet, at: Instant) -> Step {
        let seg = segment_of(&pkt);
        let data = pkt.payload().to_vec();
        self.show(Dir::Received, &pkt);
        self.packets.push(pkt);
        let step = self.machine.received(seg, data, at).clone();
        self.show_step(&step);
        step
    }

    /// Runs the timers (TIME_WAIT) and prints what they changed.
    fn tick(&mut self, now: Instant) {
        for t in self.machine.tick(now) {
            let line = transition_line(&t);
            (self.sink)(&line);
        }
    }

    fn build(
        &self,
        dst: IpAddr,
        dport: u16,
        seg: &Segment,
        data: &[u8],
        options: Vec<TcpOption>,
    ) -> Packet {
        let ip = match dst {
            IpAddr::V4(d) => Layer::Ipv4(Ipv4Repr {
                dst: d,
                src: match self.src {
                    Some(IpAddr::V4(s)) => Some(s),
                    _ => None,
                },
                ttl: self.ttl,
                flags: 0b010, // DF, as Linux sends TCP
                ..Ipv4Repr::default()
            }),
            IpAddr::V6(d) => Layer::Ipv6(Ipv6Repr {
                dst: d,
                src: match self.src {
                    Some(IpAddr::V6(s)) => Some(s),
                    _ => None,
                },
                hlim: self.ttl,
                ..Ipv6Repr::default()
            }),
        };
        let tcp = Layer::Tcp(TcpRepr {
            sport: self.local_port,
            dport,
            seq: seg.seq,
            ack: seg.ack,
            flags: seg.flags,
            window: seg.window,
            options,
            ..TcpRepr::default()
        });
        let mut layers = vec![ip, tcp];
        if !data.is_empty() {
            layers.push(Layer::Raw(data.to_vec()));
        }
        Packet::new(layers)
    }

    fn show(&mut self, dir: Dir, pkt: &Packet) {
        let arrow = match dir {
            Dir::Sent => ">",
            Dir::Received => "<",
        };
        let line = format!("{arrow} {}", display::summary(pkt));
        (self.sink)(&line);
    }

    fn show_step(&mut self, step: &Step) {
        let mut lines: Vec<String> = step.transitions.iter().map(transition_line).collect();
        lines.extend(step.warnings.iter().map(|w| format!("  warning: {w}")));
        lines.extend(step.notes.iter().map(|n| format!("  note: {n}")));
        for l in lines {
            (self.sink)(&l);
        }
    }

    /// Our state (`s.state`).
    pub fn state(&self) -> State {
        self.machine.state()
    }
    /// The peer's state as inferred from the exchange (`s.peer_state`).
    pub fn peer_state(&self) -> State {
        self.machine.peer_state()
    }
    pub fn snd_nxt(&self) -> u32 {
        self.machine.us.snd_nxt
    }
    pub fn snd_una(&self) -> u32 {
        self.machine.us.snd_una
    }
    pub fn rcv_nxt(&self) -> u32 {
        self.machine.us.rcv_nxt
    }
    /// Our ISN (what our SYN carried, or will carry).
    pub fn isn(&self) -> u32 {
        self.machine.us.iss
    }
    /// The peer's ISN, once its SYN came.
    pub fn peer_isn(&self) -> Option<u32> {
        self.machine.us.irs
    }
    /// The peer's SYN options (MSS, window scale, SACK-permitted, timestamps).
    pub fn peer_options(&self) -> SegOptions {
        self.machine.us.other_opts
    }
    pub fn local_port(&self) -> u16 {
        self.local_port
    }
    pub fn remote(&self) -> Option<(IpAddr, u16)> {
        self.remote
    }
    /// Every segment with the states after it (`s.history`).
    pub fn history(&self) -> &[Step] {
        &self.machine.history
    }
    /// Every packet as sent or received, in order.
    pub fn packets(&self) -> &[Packet] {
        &self.packets
    }
    /// The state machine, for callers that want all the variables.
    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    /// `s.ladder()`: the exchange as a ladder diagram, titled with the two ends.
    pub fn ladder(&self, absolute: bool, ascii: bool) -> String {
        ladder::text(&self.machine, &self.ladder_options(absolute, ascii))
    }

    /// `s.ladder(file="x.svg")`: the same as a standalone SVG.
    pub fn ladder_svg(&self, absolute: bool) -> String {
        ladder::svg(&self.machine, &self.ladder_options(absolute, false))
    }

    /// The ladder options this session draws with (titles from its two ends), for
    /// callers that change some of them.
    pub fn ladder_options(&self, absolute: bool, ascii: bool) -> LadderOptions {
        let end = |addr: Option<IpAddr>, port: u16| match addr {
            Some(IpAddr::V6(a)) => format!("[{a}]:{port}"),
            Some(a) => format!("{a}:{port}"),
            None => format!("port {port}"),
        };
        LadderOptions {
            absolute,
            ascii,
            left: end(self.src, self.local_port),
            right: self
                .remote
                .map_or_else(|| "peer".to_string(), |(a, p)| end(Some(a), p)),
            warnings: true,
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(g) = &self.guard {
            if let Ok(mut g) = g.lock() {
                let _ = g.remove_port(self.local_port);
            }
        }
    }
}

/// `SYN_SENT → ESTABLISHED (reason)`, or `peer: LISTEN → SYN_RECEIVED (reason)`.
fn transition_line(t: &state::Transition) -> String {
    match t.side {
        Side::Us => format!("  {t}"),
        Side::Peer => format!("  peer: {t}"),
    }
}

/// The state machine's view of a packet's TCP layer (an empty segment if none).
pub fn segment_of(pkt: &Packet) -> Segment {
    let Some(tcp) = pkt.tcp() else {
        return Segment::default();
    };
    Segment {
        flags: tcp.flags,
        seq: tcp.seq,
        ack: tcp.ack,
        len: u32::try_from(pkt.payload().len()).unwrap_or(u32::MAX),
        window: tcp.window,
        options: seg_options(&tcp.options),
    }
}

/// The options that matter to the state machine, from a full option list.
pub fn seg_options(options: &[TcpOption]) -> SegOptions {
    let mut o = SegOptions::default();
    for opt in options {
        match opt {
            TcpOption::Mss(m) => o.mss = Some(*m),
            TcpOption::Wscale(w) => o.wscale = Some(*w),
            TcpOption::SackOk => o.sackok = true,
            TcpOption::Timestamp(v, e) => o.ts = Some((*v, *e)),
            _ => {}
        }
    }
    o
}

fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// The kernel's ephemeral port range (`net.ipv4.ip_local_port_range`), where it
/// picks ports for its own connections; Linux's default when unreadable.
pub fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|v| v.parse::<u16>().ok());
            Some((it.next()??, it.next()??))
        })
        .filter(|(lo, hi)| lo <= hi)
        .unwrap_or((32768, 60999))
}

/// A port outside the ephemeral range `(lo, hi)` (so no kernel connection can be
/// handed the same port): above it when there is room, else between 1024 and it.
pub fn pick_port((lo, hi): (u16, u16), random: u32) -> u16 {
    let above = 65535u32.saturating_sub(u32::from(hi));
    let below = u32::from(lo).saturating_sub(1024);
    let r = random;
    let port = if above >= 64 || above >= below {
        u32::from(hi) + 1 + r % above.max(1)
    } else {
        1024 + r % below.max(1)
    };
    u16::try_from(port).unwrap_or(u16::MAX)
}

/// A random-enough number for ISNs and ports: the clock's nanoseconds mixed with
/// the process id and a caller's value (not for security; a person drives this).
fn random_u32(salt: u32) -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut x = nanos ^ (u64::from(std::process::id()) << 32) ^ u64::from(salt);
    // splitmix64 finaliser
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (x ^ (x >> 31)) as u32
}

#[cfg(test)]
mod tests;
