//! Hand-driven TCP sessions: a person sends each segment of a connection and sees
//! the peer's real answers and both sides' RFC 9293 states.
//!
//! - [`state`]: the pure state machine (both ends, warnings, `expect` matching);
//! - [`ladder`]: the history drawn as a ladder diagram (text or SVG);
//! - this module: [`Session`], which glues the machine to a [`SegmentIo`] transport
//!   (the socket layer's face for sessions, `net::segio`: raw sockets out, the shared
//!   background receiver in; [`mock::MockIo`] plays a scripted peer in memory for unit
//!   tests), builds the packets, and prints every step.
//!
//! Every step prints one line for the segment (`> ` sent, `< ` received, the
//! packet's tcpdump-style summary), one line per state change (`SYN_SENT →
//! ESTABLISHED`), and one line per warning or note.

pub mod cli;
pub mod events;
pub mod handshake;
pub mod kernel;
pub mod ladder;
pub mod mock;
pub mod state;

use std::collections::VecDeque;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::net::guard::RstGuard;
use crate::net::segrx::{Subscriber, Subscription};
use crate::packet::{display, Ipv4Repr, Ipv6Repr, Layer, Packet, TcpFlags, TcpOption, TcpRepr};
use events::{Events, Found, Pending, Want};
use ladder::LadderOptions;
use state::{
    seq_gt, seq_le, seq_lt, Dir, Expectation, Machine, SegOptions, Segment, SendSpec, Side, State,
    Step,
};

pub use crate::net::segio::{SegmentIo, TransportError};

impl From<TransportError> for SessionError {
    fn from(e: TransportError) -> SessionError {
        SessionError::Io(e.0)
    }
}

/// The peer kernel's real socket state, where tcpcraft can read it (the lab owns the
/// server's namespace and asks sock_diag there, as `ss` does).
pub trait KernelView: Send {
    /// The state of the peer's socket for the connection `peer` ↔ `us`, as `ss` names
    /// it; `Ok(None)` when the kernel holds no such socket.
    fn state(&mut self, peer: SocketAddr, us: SocketAddr) -> Result<Option<KernelState>, String>;
    /// Whether this view sees the kernel of `peer` (the lab sees its server only).
    fn covers(&self, peer: IpAddr) -> bool;
}

/// A kernel socket state: `ss`'s name and the RFC state it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelState {
    pub ss: &'static str,
    pub rfc: State,
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

/// Where a session's step lines go (the REPL's external printer, stdout, a test's
/// buffer). Lines of received segments are written from the background receiver, so
/// the sink is shared between threads.
pub type Sink = Arc<dyn Fn(&str) + Send + Sync>;

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
    /// Leave the peer's side open when the session ends (no RST).
    pub keep_open: bool,
    /// Nothing is really sent (dry run): no RST at the end either.
    pub dry_run: bool,
    /// Sequence numbers relative to each side's ISN, as packetdrill and tcpdump
    /// (without -S) write them: in `send(seq=, ack=)`, `expect(seq=, ack=)` and the
    /// printed lines.
    pub relative: bool,
}

/// What `s.send(...)` asks for; unset fields are filled in from the session.
#[derive(Clone, Debug, Default)]
pub struct SendRequest {
    pub flags: TcpFlags,
    pub data: Vec<u8>,
    pub seq: Option<u32>,
    pub ack: Option<u32>,
    pub window: Option<u16>,
    /// The window in bytes (shifted by our window scale once it is agreed).
    pub rwnd: Option<u32>,
    /// TCP options; `None`: the session's SYN options on a SYN; otherwise the
    /// timestamps option when both SYNs carried it, else none.
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

/// How `expect` waits and matches.
#[derive(Clone, Copy, Debug)]
pub struct ExpectOptions {
    pub timeout: Duration,
    /// Send our last segment again when nothing comes in `timeout`, up to this often.
    pub retry: u32,
    /// packetdrill's rule: exactly the next segment, flags and all.
    pub strict: bool,
}

impl ExpectOptions {
    pub fn timeout(timeout: Duration) -> ExpectOptions {
        ExpectOptions {
            timeout,
            retry: 0,
            strict: false,
        }
    }
}

/// A segment an `expect` or `recv` took: its history entry, the packet, and the new
/// data it (and the segments passed over to reach it) brought.
#[derive(Clone, Debug)]
pub struct Got {
    pub step: Step,
    pub packet: Packet,
    pub data: Vec<u8>,
}

/// A session keeps at most this many segments in its history (`s.history`, the ladder);
/// beyond it the oldest tenth is dropped at a time, so a session that runs for hours
/// (a loop sending data) uses bounded memory.
pub const MAX_HISTORY: usize = 50_000;

/// At most this many received segments wait for an `expect` (the oldest go first).
const MAX_PENDING: usize = 10_000;

/// Where the peer's retransmissions are counted from.
#[derive(Clone, Copy, Debug, Default)]
struct Repeats {
    /// The peer's SYN (or SYN-ACK): its sequence number, first arrival, copies since.
    syn: Option<(u32, Instant, u32)>,
    /// The peer's FIN: its sequence number, first arrival, copies since.
    fin: Option<(u32, Instant, u32)>,
}

/// Everything about the connection, shared by the person's thread and the background
/// receiver (which moves it the moment a segment arrives).
struct Core {
    machine: Machine,
    /// Packets as sent and received, in order (for `--pcap` and `s.history`).
    packets: Vec<Packet>,
    local_port: u16,
    /// The peer's address and port (known from the start when active, from its SYN
    /// when listening).
    remote: Option<(IpAddr, u16)>,
    src: Option<IpAddr>,
    sink: Sink,
    /// Received segments with events no `expect` has taken yet.
    pending: VecDeque<Pending>,
    /// Time zero of the printed offsets: the first segment.
    epoch: Option<Instant>,
    /// The last segment we sent, for `expect(…, retry=N)` to send again…
    last_sent: Option<Packet>,
    /// …unless one that takes sequence space (SYN, FIN, data) is still unacknowledged:
    /// TCP retransmits that one, never a bare ACK sent after it.
    last_unacked: Option<Packet>,
    /// History entries dropped to keep a long session's memory bounded.
    dropped: usize,
    repeats: Repeats,
    /// The peer kernel's truth, where it can be read.
    kernel: Option<Box<dyn KernelView>>,
    /// The model's and the kernel's state shown last (a line is printed when they change).
    kernel_last: Option<(State, &'static str)>,
    /// A step happened since the kernel was last read.
    kernel_due: bool,
    /// Print time offsets (not in a dry run, where nothing is timed).
    timed: bool,
    /// Leave the peer's side open at the end (also for [`reset_open_sessions`]).
    keep_open: bool,
    /// Sequence numbers relative to the ISNs ([`SessionOptions::relative`]).
    relative: bool,
    /// Received segments so far (numbers the pending ones).
    serial: u64,
    /// The peer's latest TSval, echoed in our TSecr (RFC 7323 §4.3).
    peer_tsval: Option<u32>,
    /// Our timestamp clock: TSval = base + milliseconds since the session began.
    ts_base: u32,
}

/// The shared core and the condition `expect` waits on.
struct Shared {
    core: Mutex<Core>,
    arrived: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Subscriber for Shared {
    fn deliver(&self, pkt: Packet, at: Instant, record: &dyn Fn()) -> bool {
        let mut c = self.lock();
        let took = c.on_packet(pkt, at);
        if took {
            record();
            drop(c);
            self.arrived.notify_all();
        }
        took
    }
    fn settled(&self) {
        // Everything that arrived is taken: the kernel's state now matches the model,
        // unless a segment is still on the wire (a few tries, 2 ms apart).
        for i in 0..3 {
            let mut c = self.lock();
            if !c.kernel_due || c.check_kernel(i == 2) {
                return;
            }
            drop(c);
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    fn tick(&self, now: Instant) {
        let mut c = self.lock();
        let changed = c.tick(now);
        if c.kernel_due {
            c.check_kernel(true);
        }
        drop(c);
        if changed {
            self.arrived.notify_all();
        }
    }
}

/// A hand-driven TCP connection.
pub struct Session {
    io: Box<dyn SegmentIo>,
    shared: Arc<Shared>,
    /// The background receiver's registration (`None`: the transport is pulled).
    sub: Option<Subscription>,
    local_port: u16,
    ttl: u8,
    syn_options: Vec<TcpOption>,
    guard: Option<Arc<Mutex<RstGuard>>>,
    /// Asked between short waits; true stops the wait (Ctrl-C in the REPL).
    cancel: Option<Box<dyn Fn() -> bool>>,
    keep_open: bool,
    dry_run: bool,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("local_port", &self.local_port)
            .field("remote", &self.remote())
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

/// Waits are cut into slices this long, so Ctrl-C is noticed.
const SLICE: Duration = Duration::from_millis(100);

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
        s.shared.lock().remote = Some((dst, dport));
        s.guard_port()?;
        s.go_live()?;
        Ok(s)
    }

    /// `listen(port, timeout=…)`: waits for a SYN to `port` and records it; the
    /// session stays in LISTEN until the user answers with `send("SA")`. With a zero
    /// timeout it returns at once, still listening: the first SYN to `port` that
    /// arrives then becomes the peer (a script can start its own client after the
    /// listener).
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
        s.go_live()?;
        if !timeout.is_zero() {
            s.wait_peer(timeout)?;
        }
        Ok(s)
    }

    /// A listener waits (at most `timeout`) for the SYN that makes its peer. It says
    /// so first, in one line a test harness can wait for before it starts its client.
    pub fn wait_peer(&mut self, timeout: Duration) -> Result<(), SessionError> {
        let port = self.local_port;
        {
            let c = self.shared.lock();
            if c.remote.is_none() {
                c.say(&format!(
                    "listening on port {port}: waiting up to {} for a SYN",
                    seconds(timeout)
                ));
            }
        }
        match self.wait(timeout, |c| c.remote.map(Ok))? {
            Some(_) => Ok(()),
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
        let core = Core {
            machine,
            packets: Vec::new(),
            local_port,
            remote: None,
            src: opts.src,
            sink,
            pending: VecDeque::new(),
            epoch: None,
            last_sent: None,
            last_unacked: None,
            dropped: 0,
            repeats: Repeats::default(),
            kernel: None,
            kernel_last: None,
            kernel_due: false,
            timed: !opts.dry_run,
            keep_open: opts.keep_open,
            relative: opts.relative,
            serial: 0,
            peer_tsval: None,
            ts_base: random_u32(local_port.into()) & 0x0fff_ffff,
        };
        Session {
            io,
            shared: Arc::new(Shared {
                core: Mutex::new(core),
                arrived: Condvar::new(),
            }),
            sub: None,
            local_port,
            ttl: opts.ttl.unwrap_or(64),
            syn_options: opts.options.unwrap_or_else(default_syn_options),
            guard: opts.guard,
            cancel: None,
            keep_open: opts.keep_open,
            dry_run: opts.dry_run,
        }
    }

    /// Asks the transport to push this connection's packets from now on.
    fn go_live(&mut self) -> Result<(), SessionError> {
        let weak: Weak<Shared> = Arc::downgrade(&self.shared);
        let sub: Weak<dyn Subscriber> = weak.clone();
        self.sub = self.io.subscribe(self.local_port, sub)?;
        if self.sub.is_some() && !self.dry_run {
            let mut open = open_sessions();
            open.retain(|w| w.strong_count() > 0);
            open.push(weak);
        }
        Ok(())
    }

    /// Whether segments are taken in the background as they arrive.
    pub fn is_live(&self) -> bool {
        self.sub.is_some()
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
            let sink = self.shared.lock().sink.clone();
            for l in lines {
                sink(&l);
            }
        }
        Ok(())
    }

    /// Replaces where the step lines go.
    pub fn set_sink(&mut self, sink: Sink) {
        self.shared.lock().sink = sink;
    }

    /// Shows the peer kernel's real state beside the model after every step.
    pub fn set_kernel(&mut self, view: Box<dyn KernelView>) {
        self.shared.lock().kernel = Some(view);
    }

    /// The peer model's timers (the lab sets them from the server's settings).
    pub fn set_peer_timers(&mut self, timers: state::PeerTimers) {
        self.shared.lock().machine.timers = timers;
    }

    /// Waits are cut into slices of at most 100 ms, and `cancel` is asked between
    /// them: when it says true the wait ends with [`SessionError::Interrupted`].
    pub fn set_cancel(&mut self, cancel: Box<dyn Fn() -> bool>) {
        self.cancel = Some(cancel);
    }

    /// Leave (or not) the peer's side open when the session ends.
    pub fn set_keep_open(&mut self, keep: bool) {
        self.keep_open = keep;
        self.shared.lock().keep_open = keep;
    }

    /// `s.send(flags, data=, seq=, ack=, window=, options=)`: fills in what is not
    /// given from everything received so far, sends exactly that, prints it, and
    /// returns the step (with warnings when the peer will not take the segment as it is).
    pub fn send(&mut self, req: SendRequest) -> Result<Step, SessionError> {
        let now = Instant::now();
        let step = {
            let mut c = self.shared.lock();
            let (dst, dport) = c.remote.ok_or_else(|| {
                SessionError::Usage("no peer yet: listen() has not seen a SYN".into())
            })?;
            c.tick(now);
            let (req_seq, req_ack) = if c.relative {
                let us = &c.machine.us;
                (
                    req.seq.map(|s| us.iss.wrapping_add(s)),
                    req.ack.map(|a| us.irs.unwrap_or(0).wrapping_add(a)),
                )
            } else {
                (req.seq, req.ack)
            };
            let syn = req.flags.contains(TcpFlags::SYN);
            let options = req.options.clone().unwrap_or_else(|| {
                if syn {
                    self.syn_options.clone()
                } else if req.flags.contains(TcpFlags::RST) {
                    // As Linux sends them: a RST carries no options.
                    Vec::new()
                } else {
                    c.timestamps(now)
                }
            });
            // rwnd= is in bytes: the field carries it shifted once scaling is agreed.
            let window = req.window.or_else(|| {
                req.rwnd.map(|bytes| {
                    let shift = c.machine.us.scaling().map_or(0, |(_, r)| r);
                    u16::try_from(bytes >> shift).unwrap_or(u16::MAX)
                })
            });
            let seg = c.machine.fill(&SendSpec {
                flags: req.flags,
                len: u32::try_from(req.data.len()).unwrap_or(u32::MAX),
                seq: req_seq,
                ack: req_ack,
                window,
                options: seg_options(&options),
            });
            let pkt = build(
                c.src,
                self.local_port,
                self.ttl,
                dst,
                dport,
                &seg,
                &req.data,
                options,
            );
            // Sent under the lock: the answer cannot be taken before the segment it
            // answers is recorded.
            let sent = self.io.send(&pkt)?;
            c.on_sent(sent, seg, req.data, Instant::now())
        };
        self.shared.arrived.notify_all();
        self.settle_kernel();
        Ok(step)
    }

    /// After a send, the peer's kernel takes our segment a moment later: wait (at most
    /// 30 ms, while answers are taken meanwhile) for it to agree with the model, then
    /// show its state.
    fn settle_kernel(&self) {
        let deadline = Instant::now() + Duration::from_millis(30);
        let mut c = self.shared.lock();
        while c.kernel_due {
            let last = Instant::now() >= deadline;
            if c.check_kernel(last) || last {
                break;
            }
            c = self
                .shared
                .arrived
                .wait_timeout(c, Duration::from_millis(2))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// Segments dropped from the history to bound memory (see [`MAX_HISTORY`]).
    pub fn dropped(&self) -> usize {
        self.shared.lock().dropped
    }

    /// Sends a segment again, exactly as it left (a retransmission: the state machine
    /// does not count it twice, and it is not a new history entry): the last one that
    /// takes sequence space while the peer has not acknowledged all we sent, else the
    /// last one.
    pub fn resend(&mut self, attempt: u32, of: u32) -> Result<(), SessionError> {
        let pick = {
            let c = self.shared.lock();
            let unacked = c.machine.us.snd_una != c.machine.us.snd_nxt;
            match (&c.last_unacked, unacked) {
                (Some(p), true) => Some(p.clone()),
                _ => c.last_sent.clone(),
            }
        };
        let Some(pkt) = pick else {
            return Err(SessionError::Usage(
                "nothing to send again: no segment sent yet".into(),
            ));
        };
        let c = self.shared.lock();
        let sent = self.io.send(&pkt)?;
        c.show(Dir::Sent, &sent, Instant::now());
        c.say(&format!(
            "  note: sent again, no answer in time (retry {attempt} of {of})"
        ));
        Ok(())
    }

    /// Waits until `f` (asked under the lock, after every arrival) returns something,
    /// for at most `timeout`. Pulled transports are read here; live ones fill the core
    /// in the background.
    fn wait<T>(
        &mut self,
        timeout: Duration,
        mut f: impl FnMut(&mut Core) -> Option<Result<T, SessionError>>,
    ) -> Result<Option<T>, SessionError> {
        let deadline = Instant::now() + timeout;
        let shared = self.shared.clone();
        let live = self.sub.is_some();
        let mut c = shared.lock();
        loop {
            if let Some(r) = f(&mut c) {
                return r.map(Some);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                c.tick(Instant::now());
                return match f(&mut c) {
                    Some(r) => r.map(Some),
                    None => Ok(None),
                };
            }
            if self.cancel.as_ref().is_some_and(|cancel| cancel()) {
                return Err(SessionError::Interrupted);
            }
            let slice = if self.cancel.is_some() {
                left.min(SLICE)
            } else {
                left
            };
            if live {
                c = shared
                    .arrived
                    .wait_timeout(c, slice)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|e| e.into_inner().0);
            } else {
                drop(c);
                let got = self.io.recv(slice)?;
                c = shared.lock();
                if let Some((pkt, at)) = got {
                    c.on_packet(pkt, at);
                }
            }
        }
    }

    /// `s.expect(flags, timeout=, seq=, …)`: waits for the events the flags name (see
    /// [`events`]) and checks the other fields on the segment that brought them.
    pub fn expect(&mut self, exp: &Expectation, timeout: Duration) -> Result<Got, SessionError> {
        self.expect_with(exp, ExpectOptions::timeout(timeout))
    }

    /// `s.expect(…, retry=N)`: when nothing comes in `timeout`, the last segment we
    /// sent is sent again, up to `retry` times.
    pub fn expect_retry(
        &mut self,
        exp: &Expectation,
        timeout: Duration,
        retry: u32,
    ) -> Result<Got, SessionError> {
        self.expect_with(
            exp,
            ExpectOptions {
                timeout,
                retry,
                strict: false,
            },
        )
    }

    /// `expect` with every option.
    pub fn expect_with(
        &mut self,
        exp: &Expectation,
        o: ExpectOptions,
    ) -> Result<Got, SessionError> {
        let mut want = Want::from_flags(exp.flags);
        if let (Some(w), Some(_)) = (want.as_mut(), &exp.data) {
            // `data=` names data even when the flags do not (`expect("A", data=…)`).
            w.data = true;
        }
        let mut attempt = 0;
        loop {
            let got = self.wait(o.timeout, |c| c.try_expect(exp, want, o.strict))?;
            if let Some(g) = got {
                return Ok(g);
            }
            let has_sent = self.shared.lock().last_sent.is_some();
            if attempt < o.retry && has_sent {
                attempt += 1;
                self.resend(attempt, o.retry)?;
                continue;
            }
            let c = self.shared.lock();
            return Err(SessionError::Timeout(c.timeout_text(exp, o, attempt)));
        }
    }

    /// `s.expect_none(timeout)`: passes when no segment bringing anything (SYN, an
    /// acknowledgement, data, FIN, RST) arrives for `timeout`; fails naming what came.
    pub fn expect_none(&mut self, timeout: Duration) -> Result<(), SessionError> {
        let since = self.shared.lock().serial;
        let came = self.wait(timeout, |c| {
            c.pending
                .iter()
                .find(|p| p.serial > since && !p.events.is_empty())
                .map(|p| Ok(format!("{} ({})", p.step.seg.flags, p.events.describe())))
        })?;
        match came {
            None => Ok(()),
            Some(what) => Err(SessionError::Mismatch(format!(
                "expected nothing for {}, got {what}",
                seconds(timeout)
            ))),
        }
    }

    /// `s.recv(timeout=)`: the next segment of this connection that no `expect` took,
    /// unchecked; `None` when nothing came in time.
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<Got>, SessionError> {
        self.wait(timeout, |c| {
            if c.pending.is_empty() {
                return None;
            }
            events::take(&mut c.pending, None, 0).map(|(p, data)| {
                Ok(Got {
                    step: p.step,
                    packet: p.packet,
                    data,
                })
            })
        })
    }

    /// Our state (`s.state`).
    pub fn state(&self) -> State {
        self.shared.lock().machine.state()
    }
    /// The peer's state as inferred from the exchange (`s.peer_state`).
    pub fn peer_state(&self) -> State {
        self.shared.lock().machine.peer_state()
    }
    pub fn snd_nxt(&self) -> u32 {
        self.shared.lock().machine.us.snd_nxt
    }
    pub fn snd_una(&self) -> u32 {
        self.shared.lock().machine.us.snd_una
    }
    pub fn rcv_nxt(&self) -> u32 {
        self.shared.lock().machine.us.rcv_nxt
    }
    /// Our ISN (what our SYN carried, or will carry).
    pub fn isn(&self) -> u32 {
        self.shared.lock().machine.us.iss
    }
    /// The peer's ISN, once its SYN came.
    pub fn peer_isn(&self) -> Option<u32> {
        self.shared.lock().machine.us.irs
    }
    /// The peer's SYN options (MSS, window scale, SACK-permitted, timestamps).
    pub fn peer_options(&self) -> SegOptions {
        self.shared.lock().machine.us.other_opts
    }
    pub fn local_port(&self) -> u16 {
        self.local_port
    }
    pub fn remote(&self) -> Option<(IpAddr, u16)> {
        self.shared.lock().remote
    }
    /// Our address, once known.
    pub fn src(&self) -> Option<IpAddr> {
        self.shared.lock().src
    }
    /// Our timestamp clock now (`s.tsval`: what TSval a segment sent now carries).
    pub fn tsval(&self) -> u32 {
        self.shared.lock().ts_value(Instant::now())
    }
    /// The peer's latest TSval (`s.peer_tsval`), which our TSecr echoes.
    pub fn peer_tsval(&self) -> Option<u32> {
        self.shared.lock().peer_tsval
    }
    /// Every segment with the states after it (`s.history`).
    pub fn history(&self) -> Vec<Step> {
        self.shared.lock().machine.history.clone()
    }
    /// Every packet as sent or received, in order.
    pub fn packets(&self) -> Vec<Packet> {
        self.shared.lock().packets.clone()
    }
    /// The received segments no `expect` has taken, with what they still bring.
    pub fn pending(&self) -> Vec<(Packet, Events)> {
        self.shared
            .lock()
            .pending
            .iter()
            .map(|p| (p.packet.clone(), p.events.clone()))
            .collect()
    }
    /// Whether a received segment waits for an `expect` or `recv`.
    pub fn has_pending(&self) -> bool {
        !self.shared.lock().pending.is_empty()
    }
    /// A copy of the state machine, for callers that want all the variables.
    pub fn machine(&self) -> Machine {
        self.shared.lock().machine.clone()
    }

    /// `s.ladder()`: the exchange as a ladder diagram, titled with the two ends.
    pub fn ladder(&self, absolute: bool, ascii: bool) -> String {
        let opts = self.ladder_options(absolute, ascii);
        ladder::text(&self.shared.lock().machine, &opts)
    }

    /// `s.ladder(file="x.svg")`: the same as a standalone SVG.
    pub fn ladder_svg(&self, absolute: bool, by_time: bool) -> String {
        let mut opts = self.ladder_options(absolute, false);
        opts.by_time = by_time;
        ladder::svg(&self.shared.lock().machine, &opts)
    }

    /// The ladder options this session draws with (titles from its two ends), for
    /// callers that change some of them.
    pub fn ladder_options(&self, absolute: bool, ascii: bool) -> LadderOptions {
        let end = |addr: Option<IpAddr>, port: u16| match addr {
            Some(IpAddr::V6(a)) => format!("[{a}]:{port}"),
            Some(a) => format!("{a}:{port}"),
            None => format!("port {port}"),
        };
        let c = self.shared.lock();
        LadderOptions {
            absolute,
            ascii,
            left: end(c.src, self.local_port),
            right: c
                .remote
                .map_or_else(|| "peer".to_string(), |(a, p)| end(Some(a), p)),
            warnings: true,
            times: true,
            ..LadderOptions::default()
        }
    }

    /// Whether something received (data, a FIN) is not yet acknowledged by a segment
    /// we sent: live sessions take segments before a loop looks at them, so one ACK may
    /// already cover several.
    pub fn ack_owed(&self) -> bool {
        let c = self.shared.lock();
        let rcv_nxt = c.machine.us.rcv_nxt;
        let last_ack = c
            .machine
            .history
            .iter()
            .rev()
            .find(|h| h.dir == Dir::Sent && h.seg.flags.contains(TcpFlags::ACK))
            .map(|h| h.seg.ack);
        last_ack.is_none_or(|a| seq_lt(a, rcv_nxt))
    }

    /// Whether the peer (as modelled) still holds a connection with us.
    pub fn peer_open(&self) -> bool {
        peer_holds(self.peer_state())
    }

    /// Resets the peer's side when it is still open (the end of a session that was not
    /// closed, unless told to keep it). Says so in one line. Returns whether a RST went.
    pub fn reset_if_open(&mut self, why: &str) -> bool {
        if self.dry_run || self.keep_open || !self.peer_open() {
            return false;
        }
        let peer = self.peer_state();
        // seq is filled in: snd_nxt, where the peer takes a RST.
        let rst = SendRequest::flags(TcpFlags(TcpFlags::RST));
        let sink = self.shared.lock().sink.clone();
        sink(&format!(
            "reset: {why}, the peer's side was still open ({peer}): sent a RST so that it is not left behind (keep_open=true keeps it)"
        ));
        self.send(rst).is_ok()
    }
}

/// The live sessions of this process, so that an ending that does not unwind the
/// thread that owns them (a SIGTERM at the shell's prompt) can still reset their peers.
fn open_sessions() -> MutexGuard<'static, Vec<Weak<Shared>>> {
    static OPEN: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());
    OPEN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Resets the peer's side of every live session still open (not `keep_open`), from any
/// thread, through the shared raw sockets; says so for each. For endings that skip the
/// sessions' own clean-up (tcpcraft ends while the shell waits at its prompt).
pub fn reset_open_sessions(why: &str) {
    let open: Vec<Arc<Shared>> = open_sessions().iter().filter_map(Weak::upgrade).collect();
    for shared in open {
        let mut c = shared.lock();
        let peer = c.machine.peer_state();
        let (Some((dst, dport)), Some(src)) = (c.remote, c.src) else {
            continue;
        };
        if c.keep_open || !peer_holds(peer) {
            continue;
        }
        let seg = c.machine.fill(&SendSpec {
            flags: TcpFlags(TcpFlags::RST),
            seq: Some(c.machine.us.snd_nxt),
            ..SendSpec::default()
        });
        let pkt = build(
            Some(src),
            c.local_port,
            64,
            dst,
            dport,
            &seg,
            &[],
            Vec::new(),
        );
        let sent = crate::net::segrx::tx().and_then(|tx| tx.send(&pkt.to_bytes(), dst));
        if sent.is_ok() {
            c.say(&format!(
                "reset: {why}, the peer's side was still open ({peer}): sent a RST so that it is not left behind"
            ));
            c.on_sent(pkt.filled(), seg, Vec::new(), Instant::now());
        }
    }
}

/// States in which the peer holds a socket for this connection.
fn peer_holds(s: State) -> bool {
    matches!(
        s,
        State::SynReceived
            | State::Established
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait
            | State::LastAck
            | State::Closing
    )
}

impl Drop for Session {
    fn drop(&mut self) {
        self.reset_if_open("the session ended");
        self.sub = None;
        if let Some(g) = &self.guard {
            if let Ok(mut g) = g.lock() {
                let _ = g.remove_port(self.local_port);
            }
        }
    }
}

impl Core {
    /// The options of a segment we send without naming any: the timestamps option
    /// (NOP, NOP, TS) when both SYNs carried it, with TSval from the session's clock
    /// and TSecr the peer's latest TSval (RFC 7323).
    fn timestamps(&self, now: Instant) -> Vec<TcpOption> {
        let us = &self.machine.us;
        if us.own_opts.ts.is_none() || us.other_opts.ts.is_none() {
            return Vec::new();
        }
        vec![
            TcpOption::Nop,
            TcpOption::Nop,
            TcpOption::Timestamp(self.ts_value(now), self.peer_tsval.unwrap_or(0)),
        ]
    }

    /// Our timestamp clock: milliseconds since the first segment, from a random base.
    pub fn ts_value(&self, now: Instant) -> u32 {
        let ms = self
            .epoch
            .map_or(0, |e| now.saturating_duration_since(e).as_millis() as u32);
        self.ts_base.wrapping_add(ms)
    }

    /// One line to wherever the session's lines go.
    fn say(&self, line: &str) {
        (self.sink)(line);
    }

    /// Seconds since the session's first segment.
    fn offset(&mut self, at: Instant) -> f64 {
        let epoch = *self.epoch.get_or_insert(at);
        at.saturating_duration_since(epoch).as_secs_f64()
    }

    fn show(&self, dir: Dir, pkt: &Packet, at: Instant) {
        let arrow = match dir {
            Dir::Sent => ">",
            Dir::Received => "<",
        };
        let shown;
        let pkt = if self.relative {
            shown = self.relative_copy(dir, pkt);
            &shown
        } else {
            pkt
        };
        if !self.timed {
            self.say(&format!("{arrow} {}", display::summary(pkt)));
            return;
        }
        let t = self
            .epoch
            .map_or(0.0, |e| at.saturating_duration_since(e).as_secs_f64());
        self.say(&format!("{arrow} {t:.3}s {}", display::summary(pkt)));
    }

    /// The packet with its seq and ack relative to each side's ISN (for the lines of a
    /// `relative=true` session).
    fn relative_copy(&self, dir: Dir, pkt: &Packet) -> Packet {
        let mut p = pkt.clone();
        let us = &self.machine.us;
        let ours = Some(us.iss);
        let theirs = us.irs;
        for l in &mut p.layers {
            if let Layer::Tcp(t) = l {
                let syn = t.flags.contains(TcpFlags::SYN);
                let (seq_base, ack_base) = match dir {
                    Dir::Sent => (ours, theirs),
                    Dir::Received => (theirs.or(syn.then_some(t.seq)), ours),
                };
                if let Some(b) = seq_base {
                    t.seq = t.seq.wrapping_sub(b);
                }
                if let (Some(b), true) = (ack_base, t.flags.contains(TcpFlags::ACK)) {
                    t.ack = t.ack.wrapping_sub(b);
                }
            }
        }
        p
    }

    /// An expectation's seq and ack made absolute (a `relative=true` session).
    fn absolute(&self, exp: &Expectation) -> Expectation {
        let mut e = exp.clone();
        if self.relative {
            let us = &self.machine.us;
            e.seq = e.seq.map(|s| us.irs.unwrap_or(0).wrapping_add(s));
            e.ack = e.ack.map(|a| us.iss.wrapping_add(a));
        }
        e
    }

    fn show_step(&self, step: &Step) {
        for t in &step.transitions {
            self.say(&transition_line(t));
        }
        for w in &step.warnings {
            self.say(&format!("  warning: {w}"));
        }
        for n in &step.notes {
            self.say(&format!("  note: {n}"));
        }
    }

    /// Runs the timers (TIME_WAIT, the peer giving up) and prints what they changed.
    /// Returns whether anything changed.
    fn tick(&mut self, now: Instant) -> bool {
        let changes = self.machine.tick(now);
        for t in &changes {
            self.say(&transition_line(t));
        }
        if !changes.is_empty() && self.kernel.is_some() {
            self.kernel_due = true;
        }
        !changes.is_empty()
    }

    /// Records a segment we sent; prints it and what it changed.
    fn on_sent(&mut self, sent: Packet, seg: Segment, data: Vec<u8>, now: Instant) -> Step {
        self.tick(now);
        if self.src.is_none() {
            self.src = sent.addrs().and_then(|(src, _)| src);
        }
        self.offset(now);
        if let (true, Some((tsval, _))) = (seg.flags.contains(TcpFlags::SYN), seg.options.ts) {
            // A TSval given in our SYN sets the session's clock: later segments go on
            // from it, as a stack's would (packetdrill's numbers stay usable).
            let ms = self
                .epoch
                .map_or(0, |e| now.saturating_duration_since(e).as_millis() as u32);
            self.ts_base = tsval.wrapping_sub(ms);
        }
        self.show(Dir::Sent, &sent, now);
        self.last_sent = Some(sent.clone());
        let f = seg.flags;
        if f.contains(TcpFlags::SYN) || f.contains(TcpFlags::FIN) || !data.is_empty() {
            self.last_unacked = Some(sent.clone());
        }
        self.packets.push(sent);
        let step = self.machine.sent(seg, data, now).clone();
        self.show_step(&step);
        self.kernel_due = self.kernel.is_some();
        self.bound_history();
        step
    }

    /// Whether a received packet belongs to this connection. A listener without a
    /// peer takes the first SYN to its port, and that SYN's sender becomes the peer.
    fn takes(&mut self, pkt: &Packet) -> bool {
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

    /// A packet arrived (from the background receiver or a pulled transport): if it is
    /// ours, the state machine takes it now, it is shown with what it means, and its
    /// events wait for an `expect`.
    fn on_packet(&mut self, pkt: Packet, at: Instant) -> bool {
        if !self.takes(&pkt) {
            return false;
        }
        self.tick(at);
        let seg = segment_of(&pkt);
        if let Some((tsval, _)) = seg.options.ts {
            self.peer_tsval = Some(tsval);
        }
        let payload = pkt.payload().to_vec();
        let before = self.machine.us.clone();
        let peer_before = self.machine.peer.state;
        let repeat = self.repeat_note(&seg, at);
        let mut step = self.machine.received(seg, payload.clone(), at).clone();
        let after = &self.machine.us;
        let events = events_of(&seg, &payload, &before, after);
        let fin_acked = !before.fin_acked && after.fin_acked;
        let fin_taken = events.fin;
        if repeat.is_some() {
            step.marks.push("retransmission");
        } else if fin_acked && fin_taken {
            step.marks.push("ACK+FIN");
        } else if fin_taken && before.fin_seq.is_some() && !after.fin_acked {
            step.marks.push("crossed");
        }
        if let Some(note) = repeat {
            // A copy of something already taken: say what it is and why it came,
            // instead of what a receiver would do with an unexpected segment.
            step.notes = vec![note];
        } else {
            step.notes
                .extend(explain(&seg, &before, after, peer_before, &self.machine));
        }
        if let Some(last) = self.machine.history.last_mut() {
            last.notes = step.notes.clone();
            last.marks = step.marks.clone();
        }
        self.offset(at);
        self.show(Dir::Received, &pkt, at);
        self.show_step(&step);
        self.kernel_due = self.kernel.is_some();
        if self.kernel_due {
            // The peer's kernel sent this, so it is usually in the state the model now
            // says: read it at once (a script may move on before the batch settles);
            // when it is already ahead (more is on its way), the batch's end reads it.
            self.check_kernel(false);
        }
        self.packets.push(pkt.clone());
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
        }
        self.serial += 1;
        let prev_at = self.machine.history.iter().rev().nth(1).map(|h| h.at);
        self.pending.push_back(Pending {
            step,
            packet: pkt,
            events,
            prev_at,
            serial: self.serial,
        });
        self.bound_history();
        true
    }

    /// Recognises the peer's retransmission of its SYN (SYN-ACK), FIN or data, and says
    /// why it came. Counts them.
    fn repeat_note(&mut self, seg: &Segment, at: Instant) -> Option<String> {
        let f = seg.flags;
        if f.contains(TcpFlags::RST) {
            return None;
        }
        let (irs, rcv_nxt) = (self.machine.us.irs, self.machine.us.rcv_nxt);
        if f.contains(TcpFlags::SYN) {
            let what = if f.contains(TcpFlags::ACK) {
                "SYN-ACK"
            } else {
                "SYN"
            };
            let acks_new = f.contains(TcpFlags::ACK)
                && seq_gt(seg.ack, self.machine.us.snd_una)
                && seq_le(seg.ack, self.machine.us.snd_nxt);
            if irs != Some(seg.seq) || acks_new {
                if irs.is_none() {
                    self.repeats.syn = Some((seg.seq, at, 0));
                }
                return None;
            }
            let (_, first, n) = self.repeats.syn.get_or_insert((seg.seq, at, 0));
            *n += 1;
            let (first, n) = (*first, *n);
            let dt = at.saturating_duration_since(first).as_secs_f64();
            let answer = if what == "SYN" { "SYN-ACK" } else { "ACK" };
            let why = if acked_since(&self.machine, first, seg.seq) {
                format!("it has not received your {answer} (lost, or crossed it on the wire)")
            } else {
                format!("it is waiting for your {answer}: you have not sent it yet")
            };
            return Some(format!(
                "retransmission {n} of the peer's {what}, {dt:.1} s after the first: {why}"
            ));
        }
        if f.contains(TcpFlags::FIN) {
            let fin_at = seg.seq.wrapping_add(seg.len);
            match self.repeats.fin {
                Some((seq, first, n)) if seq == fin_at => {
                    self.repeats.fin = Some((seq, first, n + 1));
                    let dt = at.saturating_duration_since(first).as_secs_f64();
                    let why = if acked_since(&self.machine, first, fin_at) {
                        "it has not received your ACK of it (lost, or crossed it on the wire)"
                    } else {
                        "it is waiting for your ACK of it: you have not sent one yet"
                    };
                    let what = if seg.len > 0 {
                        format!("{} bytes and FIN", seg.len)
                    } else {
                        "FIN".to_string()
                    };
                    return Some(format!(
                        "retransmission {} of the peer's {what}, {dt:.1} s after the first: {why}",
                        n + 1
                    ));
                }
                _ if seq_le(rcv_nxt, fin_at) => {
                    self.repeats.fin = Some((fin_at, at, 0));
                }
                _ => {}
            }
        }
        let end = seg.seq.wrapping_add(seg.len);
        if seg.len > 0 && irs.is_some() && seq_le(end, rcv_nxt) {
            let why = if acked_since(&self.machine, self.epoch.unwrap_or(at), end.wrapping_sub(1)) {
                "it has not received your ACK of them (lost, or crossed it on the wire)"
            } else {
                "it is waiting for your ACK of them: you have not sent one yet"
            };
            return Some(format!(
                "retransmission of {} bytes you already have: {why}",
                seg.len
            ));
        }
        None
    }

    /// Reads the peer kernel's state for this connection and compares it with the
    /// model. When they agree (or `last` says not to wait any more) the step is done: a
    /// line shows both (when they changed since the last one, or disagree, flagged) and
    /// the latest history entry keeps the kernel's state. Returns whether it is done.
    fn check_kernel(&mut self, last: bool) -> bool {
        let (Some((peer, pport)), Some(src), Some(view)) =
            (self.remote, self.src, self.kernel.as_mut())
        else {
            self.kernel_due = false;
            return true;
        };
        if !view.covers(peer) {
            self.kernel_due = false;
            return true;
        }
        let model = self.machine.peer.state;
        let got = view.state(
            SocketAddr::new(peer, pport),
            SocketAddr::new(src, self.local_port),
        );
        let k = match got {
            Err(e) => {
                self.kernel_due = false;
                self.say(&format!(
                    "  kernel: cannot read the server's socket state: {e}"
                ));
                return true;
            }
            Ok(k) => k,
        };
        let agrees = kernel_agrees(model, k);
        if !agrees && !last {
            return false;
        }
        self.kernel_due = false;
        let name = k.map_or("no socket", |k| k.ss);
        // The steps since the last reading that left the model where it is now.
        for h in self.machine.history.iter_mut().rev() {
            if h.kernel.is_some() || h.peer != model {
                break;
            }
            h.kernel = Some(name);
        }
        if !agrees {
            self.say(&format!(
                "  peer: {model} (kernel: {name}) ≠ the model and the server's kernel disagree: the kernel is right"
            ));
        } else if self.kernel_last != Some((model, name)) {
            self.say(&format!("  peer: {model} (kernel: {name})"));
        }
        self.kernel_last = Some((model, name));
        true
    }

    /// Drops the oldest tenth of the history once it holds [`MAX_HISTORY`] segments.
    fn bound_history(&mut self) {
        if self.packets.len() <= MAX_HISTORY {
            return;
        }
        let n = MAX_HISTORY / 10;
        self.packets.drain(..n.min(self.packets.len()));
        let h = &mut self.machine.history;
        h.drain(..n.min(h.len()));
        if self.dropped == 0 {
            self.say(&format!(
                "  note: the history keeps the last {MAX_HISTORY} segments; older ones are dropped"
            ));
        }
        self.dropped += n;
    }

    /// One attempt of `expect`: `None` while the events are not there yet.
    fn try_expect(
        &mut self,
        exp: &Expectation,
        want: Option<Want>,
        strict: bool,
    ) -> Option<Result<Got, SessionError>> {
        let absolute = self.absolute(exp);
        let exp = &absolute;
        if strict {
            let p = self.pending.front()?;
            if let Err(m) = check_all(exp, p) {
                let _ = events::take(&mut self.pending, None, 0);
                return Some(Err(SessionError::Mismatch(m)));
            }
            let (p, data) = events::take(&mut self.pending, None, 0)?;
            return Some(Ok(Got {
                step: p.step,
                packet: p.packet,
                data,
            }));
        }
        let found = match exp.len {
            Some(n) => match events::find_len(&self.pending, n) {
                None => Found::NotYet,
                Some(Ok(i)) => Found::Match(i),
                Some(Err(i)) => Found::Reset(i),
            },
            None => events::find(&self.pending, want, self.machine.us.snd_nxt),
        };
        match found {
            Found::NotYet => None,
            Found::Reset(i) => {
                let p = self.pending.get(i)?.clone();
                let _ = events::take(&mut self.pending, None, i);
                let what = exp
                    .flags
                    .map_or_else(|| "a segment".to_string(), |f| f.to_string());
                let refused = self
                    .machine
                    .history
                    .iter()
                    .any(|h| h.dir == Dir::Sent && h.seg.flags.contains(TcpFlags::SYN))
                    && self.machine.us.irs.is_none();
                let why = if refused {
                    "the port is closed: the peer refused the connection"
                } else {
                    "the peer reset the connection"
                };
                Some(Err(SessionError::Mismatch(format!(
                    "expected {what}, got {}: {why}",
                    p.step.seg.flags
                ))))
            }
            Found::Match(i) => {
                // The fields are checked on the segment that brought the events (the
                // flags by their events, unless exact); a mismatch leaves them pending.
                let p = self.pending.get(i)?;
                let mut check_exp = exp.clone();
                if !exp.exact {
                    check_exp.flags = None;
                }
                let mut first_seq = None;
                if exp.len.is_some() {
                    // The data is checked whole, below; seq= names where it starts.
                    check_exp.data = None;
                    first_seq = check_exp.seq.take();
                }
                if let Err(m) = check_all(&check_exp, p) {
                    let flags = p.step.seg.flags;
                    return Some(Err(SessionError::Mismatch(format!(
                        "{m} (in the {flags} segment that brought what was expected)"
                    ))));
                }
                if let Some(want) = first_seq {
                    let start = self
                        .pending
                        .iter()
                        .find(|p| !p.events.data.is_empty())
                        .map(|p| p.step.seg.seq);
                    if let Some(got) = start.filter(|got| *got != want) {
                        return Some(Err(SessionError::Mismatch(format!(
                            "expected seq {want}, got {got} (where the data starts)"
                        ))));
                    }
                }
                let (p, data) = if exp.len.is_some() {
                    events::take_data(&mut self.pending, i)?
                } else {
                    events::take(&mut self.pending, want, i)?
                };
                if let (Some(n), Some(want)) = (exp.len, &exp.data) {
                    let got = data.get(..n.min(data.len())).unwrap_or(&[]);
                    if got != want.as_slice() {
                        return Some(Err(SessionError::Mismatch(format!(
                            "the {n} bytes that came differ from data= (first {} bytes: {:?})",
                            got.len().min(40),
                            String::from_utf8_lossy(got.get(..got.len().min(40)).unwrap_or(&[]))
                        ))));
                    }
                }
                Some(Ok(Got {
                    step: p.step,
                    packet: p.packet,
                    data,
                }))
            }
        }
    }

    /// What a timed-out `expect` says: what it waited for and what came meanwhile.
    fn timeout_text(&self, exp: &Expectation, o: ExpectOptions, attempt: u32) -> String {
        let what = exp
            .flags
            .map_or_else(|| "a segment".to_string(), |f| format!("{f}"));
        let tries = if o.retry > 0 {
            format!(" ({} tries)", attempt + 1)
        } else {
            String::new()
        };
        let came: Vec<String> = self
            .pending
            .iter()
            .filter(|p| !p.events.is_empty())
            .map(|p| format!("{} ({})", p.step.seg.flags, p.events.describe()))
            .collect();
        let mut text = if came.is_empty() {
            format!(
                "expected {what} within {}{tries}, nothing came",
                seconds(o.timeout)
            )
        } else {
            format!(
                "expected {what} within {}{tries}; came meanwhile, not taken: {}",
                seconds(o.timeout),
                came.join("; ")
            )
        };
        let want = Want::from_flags(exp.flags);
        if want.is_some_and(|w| w.ack && !w.syn && !w.data && !w.fin && !w.rst) {
            let us = &self.machine.us;
            if us.snd_una != us.snd_nxt {
                text.push_str(&format!(
                    " (waiting for an ACK of everything sent, {}; the peer acknowledged up to {})",
                    us.snd_nxt, us.snd_una
                ));
            }
        }
        text
    }
}

/// Whether we sent, at or after `since`, an ACK of everything up to and including `seq`.
fn acked_since(m: &Machine, since: Instant, seq: u32) -> bool {
    m.history.iter().any(|h| {
        h.dir == Dir::Sent
            && h.at >= since
            && h.seg.flags.contains(TcpFlags::ACK)
            && !h.seg.flags.contains(TcpFlags::RST)
            && seq_gt(h.seg.ack, seq)
    })
}

/// An IPv4 or IPv6 packet with our TCP segment.
#[allow(clippy::too_many_arguments)] // the header fields a session fills, one to one
fn build(
    src: Option<IpAddr>,
    sport: u16,
    ttl: u8,
    dst: IpAddr,
    dport: u16,
    seg: &Segment,
    data: &[u8],
    options: Vec<TcpOption>,
) -> Packet {
    let ip = match dst {
        IpAddr::V4(d) => Layer::Ipv4(Ipv4Repr {
            dst: d,
            src: match src {
                Some(IpAddr::V4(s)) => Some(s),
                _ => None,
            },
            ttl,
            flags: 0b010, // DF, as Linux sends TCP
            ..Ipv4Repr::default()
        }),
        IpAddr::V6(d) => Layer::Ipv6(Ipv6Repr {
            dst: d,
            src: match src {
                Some(IpAddr::V6(s)) => Some(s),
                _ => None,
            },
            hlim: ttl,
            ..Ipv6Repr::default()
        }),
    };
    let tcp = Layer::Tcp(TcpRepr {
        sport,
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

/// The field checks of `expect` on one pending segment, its arrival time included.
fn check_all(exp: &Expectation, p: &Pending) -> Result<(), String> {
    let options = p.packet.tcp().map(|t| t.options.as_slice()).unwrap_or(&[]);
    let mut result = state::check(exp, &p.step.seg, p.packet.payload(), options);
    if exp.after.is_some() || exp.before.is_some() {
        let gap = p
            .prev_at
            .map(|prev| p.step.at.saturating_duration_since(prev));
        let mut late = Vec::new();
        if let Some(gap) = gap {
            if exp.after.is_some_and(|a| gap < a) {
                late.push(format!(
                    "came {:.3} s after the segment before it, earlier than after={}",
                    gap.as_secs_f64(),
                    exp.after.map_or(0.0, |a| a.as_secs_f64())
                ));
            }
            if exp.before.is_some_and(|b| gap > b) {
                late.push(format!(
                    "came {:.3} s after the segment before it, later than before={}",
                    gap.as_secs_f64(),
                    exp.before.map_or(0.0, |b| b.as_secs_f64())
                ));
            }
        }
        if !late.is_empty() {
            let text = late.join("; ");
            result = match result {
                Ok(()) => Err(text),
                Err(m) => Err(format!("{m}; {text}")),
            };
        }
    }
    result
}

/// Whether an `ss` state name is what the model's state is (for the ladder).
pub fn kernel_name_agrees(model: State, ss: &str) -> bool {
    let rfc = match ss {
        "ESTAB" => State::Established,
        "SYN-SENT" => State::SynSent,
        "SYN-RECV" => State::SynReceived,
        "FIN-WAIT-1" => State::FinWait1,
        "FIN-WAIT-2" => State::FinWait2,
        "TIME-WAIT" => State::TimeWait,
        "CLOSE-WAIT" => State::CloseWait,
        "LAST-ACK" => State::LastAck,
        "LISTEN" => State::Listen,
        "CLOSING" => State::Closing,
        _ => return matches!(model, State::Closed | State::Listen),
    };
    rfc == model
}

/// Whether the kernel's socket state is what the model says.
fn kernel_agrees(model: State, k: Option<KernelState>) -> bool {
    match k {
        None => matches!(model, State::Closed | State::Listen),
        Some(k) => k.rfc == model,
    }
}

/// The events a received segment brings: `before` and `after` are our endpoint around it.
fn events_of(
    seg: &Segment,
    payload: &[u8],
    before: &state::Endpoint,
    after: &state::Endpoint,
) -> Events {
    let f = seg.flags;
    // A SYN not seen before (a retransmission repeats the ISN already taken), or the
    // SYN-ACK of a simultaneous open, which repeats the SYN but acknowledges ours.
    let acks_new = f.contains(TcpFlags::ACK) && seq_gt(seg.ack, before.snd_una);
    let syn = f.contains(TcpFlags::SYN)
        && !f.contains(TcpFlags::RST)
        && (before.irs != Some(seg.seq) || acks_new);
    let _ = after.irs;
    let fin_at = seg.seq.wrapping_add(seg.len);
    let fin = f.contains(TcpFlags::FIN)
        && !f.contains(TcpFlags::RST)
        && before.rcv_nxt != after.rcv_nxt
        && after.rcv_nxt == fin_at.wrapping_add(1);
    let mut data = Vec::new();
    if seg.len > 0 && after.irs.is_some() && before.irs.is_some() {
        let data_end = after.rcv_nxt.wrapping_sub(u32::from(fin));
        let start = if seq_gt(before.rcv_nxt, seg.seq) {
            before.rcv_nxt
        } else {
            seg.seq
        };
        if seq_gt(data_end, start) {
            let from = start.wrapping_sub(seg.seq) as usize;
            let to = data_end.wrapping_sub(seg.seq) as usize;
            if let Some(bytes) = payload.get(from..to.min(payload.len())) {
                data = bytes.to_vec();
            }
        }
    }
    Events {
        syn,
        ack: events::ack_event(f, seg.ack, seg.len, before.snd_una, before.snd_nxt),
        data,
        fin,
        rst: f.contains(TcpFlags::RST),
    }
}

/// Notes that say what a received segment means for the person.
fn explain(
    seg: &Segment,
    before: &state::Endpoint,
    after: &state::Endpoint,
    peer_before: State,
    m: &Machine,
) -> Vec<String> {
    let mut notes = Vec::new();
    let f = seg.flags;
    if f.contains(TcpFlags::RST) {
        return notes;
    }
    let acked = f.contains(TcpFlags::ACK) && seq_gt(seg.ack, before.snd_una);
    let fin_acked = acked && !before.fin_acked && after.fin_acked;
    let fin_new = f.contains(TcpFlags::FIN) && after.rcv_nxt != before.rcv_nxt;
    if fin_acked && fin_new {
        notes.push(
            "the peer acknowledged your FIN and sent its own in one segment: its application closed at once, so this close takes three segments, not four"
                .to_string(),
        );
    } else if fin_acked && m.peer.state == State::CloseWait {
        notes.push(
            "acknowledges your FIN: the peer is in CLOSE_WAIT, and its FIN comes when its application closes"
                .to_string(),
        );
    } else if fin_new && peer_before == State::Established {
        notes.push(
            "the peer closed its side first (its application called close()): you are in CLOSE_WAIT until you send your FIN"
                .to_string(),
        );
    }
    if acked && !f.contains(TcpFlags::SYN) && seg.len == 0 && !f.contains(TcpFlags::FIN) {
        let mut bytes = seg.ack.wrapping_sub(before.snd_una);
        if before
            .fin_seq
            .is_some_and(|fs| seq_gt(seg.ack, fs) && !before.fin_acked)
        {
            bytes = bytes.saturating_sub(1);
        }
        if bytes > 0 && !fin_acked {
            notes.push(format!(
                "acknowledges your {bytes} byte{}; the answer may follow",
                if bytes == 1 { "" } else { "s" }
            ));
        }
    }
    notes
}

/// `SYN_SENT → ESTABLISHED (reason)`, or `peer: LISTEN → SYN_RECEIVED (reason)`.
fn transition_line(t: &state::Transition) -> String {
    match t.side {
        Side::Us => format!("  {t}"),
        // The reasons are written from the changing side's point of view ("our FIN
        // acknowledged"); on the peer's line "our" would read as tcpcraft's.
        Side::Peer => format!(
            "  peer: {} → {} ({})",
            t.from,
            t.to,
            t.reason.replace("ours", "its own").replace("our ", "its ")
        ),
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

pub use crate::net::ephemeral_range;

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
