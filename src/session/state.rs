//! The TCP state machine of a hand-driven session: pure, no I/O, time passed in.
//!
//! A person drives the connection, so nothing here ever refuses a segment. Each
//! segment we send or receive is run through two [`Endpoint`]s: ours, driven by
//! what we send and what we receive, and an inferred model of the peer, driven by
//! the same segments seen from the other end. The peer model is what tells the
//! user that a segment will not be accepted ("seq 5000 outside the peer's receive
//! window [1001, 65536)"): the warning is the peer model's receive check.
//!
//! Every state change goes through `Endpoint::goto`, which records `A → B` with
//! the reason; the changes themselves are one `match` on (state, event) in
//! `Endpoint::transition`, with the RFC 9293 reason beside each arm.

use std::fmt;
use std::time::{Duration, Instant};

use crate::packet::display::option_pattern_text;
pub use crate::packet::display::option_text;
use crate::packet::{TcpFlags, TcpOption};

/// The eleven connection states of RFC 9293 §3.3.2, displayed with their RFC names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    Closing,
    TimeWait,
    CloseWait,
    LastAck,
}

impl State {
    /// Every state, in the RFC's order; handy for tests and completion.
    pub const ALL: [State; 11] = [
        State::Closed,
        State::Listen,
        State::SynSent,
        State::SynReceived,
        State::Established,
        State::FinWait1,
        State::FinWait2,
        State::Closing,
        State::TimeWait,
        State::CloseWait,
        State::LastAck,
    ];

    /// The RFC's name with an underscore, as `ss` and the literature print it.
    pub fn name(self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::Listen => "LISTEN",
            State::SynSent => "SYN_SENT",
            State::SynReceived => "SYN_RECEIVED",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN_WAIT_1",
            State::FinWait2 => "FIN_WAIT_2",
            State::Closing => "CLOSING",
            State::TimeWait => "TIME_WAIT",
            State::CloseWait => "CLOSE_WAIT",
            State::LastAck => "LAST_ACK",
        }
    }

    /// States in which both ISNs are known and acknowledged (RFC 9293 "synchronized").
    pub fn is_synchronized(self) -> bool {
        !matches!(
            self,
            State::Closed | State::Listen | State::SynSent | State::SynReceived
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Flag tests the state machine asks all the time, on the packet model's flag set.
trait FlagBits {
    fn syn(self) -> bool;
    fn ack(self) -> bool;
    fn fin(self) -> bool;
    fn rst(self) -> bool;
}

impl FlagBits for TcpFlags {
    fn syn(self) -> bool {
        self.contains(TcpFlags::SYN)
    }
    fn ack(self) -> bool {
        self.contains(TcpFlags::ACK)
    }
    fn fin(self) -> bool {
        self.contains(TcpFlags::FIN)
    }
    fn rst(self) -> bool {
        self.contains(TcpFlags::RST)
    }
}

/// The TCP options that matter to the state machine, parsed from a segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegOptions {
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sackok: bool,
    pub ts: Option<(u32, u32)>,
}

impl fmt::Display for SegOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(m) = self.mss {
            parts.push(format!("mss {m}"));
        }
        if let Some(w) = self.wscale {
            parts.push(format!("wscale {w}"));
        }
        if self.sackok {
            parts.push("sackOK".to_string());
        }
        if let Some((v, e)) = self.ts {
            parts.push(format!("TS val {v} ecr {e}"));
        }
        f.write_str(&parts.join(", "))
    }
}

/// A TCP segment as the state machine sees it: header fields and payload length.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    pub flags: TcpFlags,
    pub seq: u32,
    pub ack: u32,
    /// Payload length in bytes (SYN and FIN not counted).
    pub len: u32,
    /// The window field as on the wire (unscaled).
    pub window: u16,
    pub options: SegOptions,
}

impl Segment {
    /// Length in sequence space: the payload plus one for SYN and one for FIN.
    pub fn seq_len(&self) -> u32 {
        self.len
            .saturating_add(u32::from(self.flags.syn()))
            .saturating_add(u32::from(self.flags.fin()))
    }
}

/// `a < b` in sequence space (RFC 9293 §3.4, modulo 2^32).
pub fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}
/// `a <= b` in sequence space.
pub fn seq_le(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) <= 0
}
/// `a > b` in sequence space.
pub fn seq_gt(a: u32, b: u32) -> bool {
    seq_lt(b, a)
}
/// `a >= b` in sequence space.
pub fn seq_ge(a: u32, b: u32) -> bool {
    seq_le(b, a)
}

/// Which end of the connection an [`Endpoint`] models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Us,
    Peer,
}

impl Side {
    fn whose(self) -> &'static str {
        match self {
            Side::Us => "our",
            Side::Peer => "the peer's",
        }
    }
    fn other(self) -> &'static str {
        match self {
            Side::Us => "the peer",
            Side::Peer => "we",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Us => "us",
            Side::Peer => "peer",
        })
    }
}

/// One recorded state change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub side: Side,
    pub from: State,
    pub to: State,
    pub reason: &'static str,
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} → {} ({})", self.from, self.to, self.reason)
    }
}

/// What the receiver of an unacceptable segment answers with, remembered on the
/// peer model so that the answer can be recognised when it comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owed {
    /// A plain ACK repeating rcv_nxt (RFC 9293 §3.10.7.4: unacceptable segment).
    Ack,
    /// An ACK answering a zero-window probe.
    ProbeAck,
    /// A challenge ACK (RFC 5961 §3.2 RST, §4.2 SYN, §5.2 old ACK).
    ChallengeAck,
    /// A RST (segment for no connection, bad ACK of a SYN).
    Rst,
}

/// What happens to a connection: the events of the (state, event) match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    /// Sent a SYN without ACK.
    SendSyn,
    /// Sent a SYN-ACK, or a plain ACK of the peer's SYN during simultaneous open.
    SendSynAck,
    /// Sent the first FIN; `crossed` when it does not acknowledge the other FIN that
    /// this model already counts as received (the FINs crossed on the wire).
    SendFin { crossed: bool },
    /// Sent a RST; `accepted` is whether the receiver takes it.
    SendRst { accepted: bool },
    /// Received a SYN-ACK acknowledging our SYN.
    RecvSynAck,
    /// Received the ACK of our SYN(-ACK) in SYN_RECEIVED.
    RecvAckOfSyn,
    /// Received the ACK of our FIN.
    RecvAckOfFin,
    /// Received the FIN, in order.
    RecvFin,
    /// Received an acceptable RST.
    RecvRst,
    /// 2 MSL passed in TIME_WAIT.
    TimeWaitExpired,
    /// SYN_RECEIVED too long: the SYN-ACK was retransmitted as often as allowed.
    SynAckGiveUp,
    /// FIN_WAIT_2 too long with the application gone (Linux's tcp_fin_timeout).
    FinWait2Timeout,
}

/// One end of the connection: its state and the RFC 9293 §3.3.1 variables.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub side: Side,
    pub state: State,
    /// Opened by LISTEN: a RST in SYN_RECEIVED returns to LISTEN, not CLOSED.
    pub passive: bool,
    /// Initial send sequence number (what the SYN carries, or will carry).
    pub iss: u32,
    /// Whether our SYN went out (and `iss` is final).
    pub syn_sent: bool,
    pub snd_una: u32,
    pub snd_nxt: u32,
    /// The other side's receive window in bytes, scaled once scaling is negotiated.
    pub snd_wnd: u32,
    /// The largest window the other side offered (RFC 5961 §5.2 ACK check).
    pub max_snd_wnd: u32,
    /// Initial receive sequence number: the other side's ISN, once its SYN came.
    pub irs: Option<u32>,
    pub rcv_nxt: u32,
    /// Our receive window in bytes as last advertised (scaled).
    pub rcv_wnd: u32,
    /// The window field this side advertises by default.
    pub window: u16,
    /// Sequence number of this side's FIN, once sent.
    pub fin_seq: Option<u32>,
    /// Whether this side's FIN has been acknowledged.
    pub fin_acked: bool,
    /// Options this side sent in its SYN.
    pub own_opts: SegOptions,
    /// Options the other side sent in its SYN.
    pub other_opts: SegOptions,
    /// What this side would answer to the last segment it received, if it was not
    /// accepted normally.
    pub owes: Option<Owed>,
    /// When TIME_WAIT began.
    pub time_wait_since: Option<Instant>,
    /// When the current state began (the peer model's timers count from it).
    pub state_since: Option<Instant>,
}

/// What an endpoint made of a received segment.
#[derive(Clone, Debug, Default)]
struct RecvResult {
    /// The segment was accepted (processed past the acceptability checks).
    accepted: bool,
    /// Why the receiver does not (fully) accept it.
    problems: Vec<String>,
    /// Things worth knowing that are not problems.
    info: Vec<String>,
}

impl Endpoint {
    /// A closed endpoint that will send `iss` as its ISN and advertise `window`.
    pub fn new(side: Side, state: State, iss: u32, window: u16) -> Endpoint {
        Endpoint {
            side,
            state,
            passive: state == State::Listen,
            iss,
            syn_sent: false,
            snd_una: iss,
            snd_nxt: iss,
            snd_wnd: 0,
            max_snd_wnd: 0,
            irs: None,
            rcv_nxt: 0,
            rcv_wnd: u32::from(window),
            window,
            fin_seq: None,
            fin_acked: false,
            own_opts: SegOptions::default(),
            other_opts: SegOptions::default(),
            owes: None,
            time_wait_since: None,
            state_since: None,
        }
    }

    /// Window scaling shifts `(snd, rcv)`, once both SYNs carried the option
    /// (RFC 7323 §2.2); the other side's shift applies to windows it advertises.
    pub fn scaling(&self) -> Option<(u8, u8)> {
        if !self.syn_sent || self.irs.is_none() {
            return None;
        }
        match (self.other_opts.wscale, self.own_opts.wscale) {
            (Some(s), Some(r)) => Some((s.min(14), r.min(14))),
            _ => None,
        }
    }

    /// The one place where the state changes; records `from → to` and the reason.
    fn goto(&mut self, to: State, reason: &'static str, now: Instant, out: &mut Vec<Transition>) {
        if to == self.state {
            return;
        }
        out.push(Transition {
            side: self.side,
            from: self.state,
            to,
            reason,
        });
        self.state = to;
        self.state_since = Some(now);
        self.time_wait_since = (to == State::TimeWait).then_some(now);
    }

    /// The transition table: (state, event) → next state and the RFC reason.
    /// `None` means the event does not change the state.
    fn transition(&self, event: Event) -> Option<(State, &'static str)> {
        use Event::*;
        use State::*;
        match (self.state, event) {
            // RFC 9293 §3.10.1 OPEN (active): send SYN, enter SYN-SENT.
            (Closed, SendSyn) => Some((SynSent, "active open: SYN sent")),
            // §3.10.2 SEND in LISTEN: a SYN goes out and the connection turns active.
            (Listen, SendSyn) => Some((SynSent, "SYN sent from LISTEN: now an active open")),
            // §3.10.7.2 LISTEN, SYN arrives: send SYN,ACK, enter SYN-RECEIVED.
            // Hand-driven, the change waits for the user's SYN-ACK.
            (Listen, SendSynAck) => Some((SynReceived, "SYN received and SYN-ACK sent")),
            // §3.10.7.3 SYN-SENT, SYN without ACK arrives (simultaneous open):
            // send SYN,ACK, enter SYN-RECEIVED.
            (SynSent, SendSynAck) if self.irs.is_some() => Some((
                SynReceived,
                "simultaneous open: the peer's SYN acknowledged",
            )),
            // §3.10.7.3 SYN-SENT, SYN-ACK acknowledging our SYN: enter ESTABLISHED.
            (SynSent, RecvSynAck) => Some((
                Established,
                "our SYN acknowledged and the other SYN received",
            )),
            // §3.10.7.4 fifth check, SYN-RECEIVED: SND.UNA < SEG.ACK =< SND.NXT.
            (SynReceived, RecvAckOfSyn) => Some((Established, "our SYN-ACK acknowledged")),
            // §3.10.4 CLOSE in SYN-RECEIVED or ESTABLISHED: send FIN, enter FIN-WAIT-1.
            (SynReceived | Established, SendFin { .. }) => Some((FinWait1, "close: FIN sent")),
            // §3.10.4 CLOSE in CLOSE-WAIT: send FIN, enter LAST-ACK.
            (CloseWait, SendFin { crossed: false }) => {
                Some((LastAck, "close after the other FIN: FIN sent"))
            }
            // A FIN that does not acknowledge the other FIN says it left before that FIN
            // arrived: ESTABLISHED → FIN-WAIT-1 → CLOSING (§3.6 simultaneous close). RFC
            // 9293 would put a TCP that had the other FIN in LAST-ACK, but such a TCP
            // never sends this segment: our state follows what our segments claim, and
            // the peer (which also sees the FINs cross) goes to CLOSING too.
            (CloseWait, SendFin { crossed: true }) => {
                Some((Closing, "simultaneous close: the FINs crossed"))
            }
            // §3.10.7.4 eighth check, ESTABLISHED: FIN received, enter CLOSE-WAIT.
            (SynReceived | Established, RecvFin) => Some((
                CloseWait,
                "FIN received: the other side has finished sending",
            )),
            // §3.10.7.4 fifth check, FIN-WAIT-1: our FIN acknowledged, enter FIN-WAIT-2.
            (FinWait1, RecvAckOfFin) => Some((FinWait2, "our FIN acknowledged")),
            // §3.10.7.4 eighth check, FIN-WAIT-1, FIN not yet acknowledged: CLOSING.
            (FinWait1, RecvFin) => Some((Closing, "simultaneous close: FIN received")),
            // §3.10.7.4 eighth check, FIN-WAIT-2: FIN received, enter TIME-WAIT.
            (FinWait2, RecvFin) => Some((TimeWait, "FIN received after ours was acknowledged")),
            // §3.10.7.4 fifth check, CLOSING: our FIN acknowledged, enter TIME-WAIT.
            (Closing, RecvAckOfFin) => Some((TimeWait, "our FIN acknowledged")),
            // §3.10.7.4 fifth check, LAST-ACK: our FIN acknowledged, delete the TCB.
            (LastAck, RecvAckOfFin) => Some((Closed, "our FIN acknowledged")),
            // §3.10.8 time-wait timeout: 2 MSL passed, delete the TCB.
            (TimeWait, TimeWaitExpired) => Some((Closed, "2 MSL passed")),
            // §3.8.3 (R2): the SYN-ACK retransmitted until the limit, then the
            // half-open connection is dropped (Linux: net.ipv4.tcp_synack_retries).
            (SynReceived, SynAckGiveUp) => Some((
                Closed,
                "gave up: its SYN-ACK was never acknowledged (Linux: 5 retransmissions, about 63 s; other systems differ)",
            )),
            // Linux drops an orphaned FIN-WAIT-2 socket after tcp_fin_timeout (60 s).
            (FinWait2, FinWait2Timeout) => Some((
                Closed,
                "gave up waiting for your FIN (Linux: net.ipv4.tcp_fin_timeout, 60 s, once its application closed)",
            )),
            // §3.10.7.4 second check, SYN-RECEIVED from a passive OPEN: back to LISTEN.
            (SynReceived, RecvRst) if self.passive => {
                Some((Listen, "RST received: back to listening"))
            }
            // §3.10.7.4 (and §3.10.7.1/.2): a RST never changes CLOSED or LISTEN.
            (Closed | Listen, RecvRst) => None,
            // §3.10.7.3 SYN-SENT, acceptable RST: "connection reset" (refused).
            (SynSent, RecvRst) => Some((Closed, "RST received: connection refused")),
            // §3.10.7.4 second check, any other state: connection reset.
            (_, RecvRst) => Some((Closed, "RST received: connection reset")),
            // A listener does not answer a SYN with a RST: whoever did has no listener
            // on that port (how a closed port looks from outside).
            (Listen, SendRst { .. }) if self.side == Side::Peer => {
                Some((Closed, "RST sent: nothing listens on that port"))
            }
            // §3.10.7.2: a RST answering a bad segment leaves LISTEN (and CLOSED) as is.
            (Closed | Listen, SendRst { .. }) => None,
            // §3.10.5 ABORT: send RST, delete the TCB — once the receiver takes it.
            (_, SendRst { accepted: true }) => Some((Closed, "RST sent: connection aborted")),
            _ => None,
        }
    }

    fn step(&mut self, event: Event, now: Instant, out: &mut Vec<Transition>) {
        if let Some((to, reason)) = self.transition(event) {
            self.goto(to, reason, now, out);
        }
    }

    /// The receive window as `[rcv_nxt, rcv_nxt + rcv_wnd)`, for messages.
    fn window_text(&self) -> String {
        format!(
            "[{}, {})",
            self.rcv_nxt,
            self.rcv_nxt.wrapping_add(self.rcv_wnd)
        )
    }

    /// RFC 9293 §3.10.7.4 first check: is the segment's sequence range acceptable?
    fn seq_acceptable(&self, seg: &Segment) -> bool {
        let (nxt, wnd, len) = (self.rcv_nxt, self.rcv_wnd, seg.seq_len());
        let in_window = |s: u32| seq_le(nxt, s) && seq_lt(s, nxt.wrapping_add(wnd));
        match (len, wnd) {
            (0, 0) => seg.seq == nxt,
            (0, _) => in_window(seg.seq),
            (_, 0) => false,
            (_, _) => in_window(seg.seq) || in_window(seg.seq.wrapping_add(len - 1)),
        }
    }

    /// This side sends `seg`; `accepted` is whether the receiver takes it.
    /// Returns problems with sending it from this state.
    fn on_send(
        &mut self,
        seg: &Segment,
        accepted: bool,
        now: Instant,
        out: &mut Vec<Transition>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let f = seg.flags;
        self.owes = None;
        if f.rst() {
            self.step(Event::SendRst { accepted }, now, out);
            return problems;
        }
        // SYN_RECEIVED may send data on an ACK: the other side is already ESTABLISHED.
        let before_handshake = !(self.state.is_synchronized()
            || (self.state == State::SynReceived && f.ack() && !f.syn()));
        if seg.len > 0 && before_handshake {
            problems.push(if self.state == State::Closed && self.syn_sent {
                "data after the connection closed (CLOSED)".to_string()
            } else {
                format!("data before the handshake completed ({})", self.state)
            });
        }
        if f.syn() {
            if !self.syn_sent {
                self.iss = seg.seq;
                self.snd_una = seg.seq;
                self.snd_nxt = seg.seq.wrapping_add(seg.seq_len());
                self.own_opts = seg.options;
                self.syn_sent = true;
            } else if seg.seq != self.iss {
                problems.push(format!(
                    "SYN seq {} is not {} ISN {}",
                    seg.seq,
                    self.side.whose(),
                    self.iss
                ));
            }
        } else {
            // Advance snd_nxt for in-order (or overlapping) data; a segment the user
            // placed elsewhere on purpose leaves it alone.
            let end = seg.seq.wrapping_add(seg.seq_len());
            if seq_le(seg.seq, self.snd_nxt) && seq_gt(end, self.snd_nxt) {
                self.snd_nxt = end;
            }
        }
        if f.fin() && self.fin_seq.is_none() {
            self.fin_seq = Some(seg.seq.wrapping_add(seg.seq_len() - 1));
        }
        let shift = match self.scaling() {
            Some((_, r)) if !f.syn() => r,
            _ => 0,
        };
        self.rcv_wnd = u32::from(seg.window) << shift;

        if f.syn() && f.ack() {
            self.step(Event::SendSynAck, now, out);
        } else if f.syn() {
            self.step(Event::SendSyn, now, out);
        } else if f.ack() && self.state == State::SynSent && self.irs.is_some() {
            self.step(Event::SendSynAck, now, out);
        }
        if f.fin()
            && seg.seq_len() > 0
            && Some(seg.seq.wrapping_add(seg.seq_len() - 1)) == self.fin_seq
        {
            let crossed = f.ack() && seq_lt(seg.ack, self.rcv_nxt);
            self.step(Event::SendFin { crossed }, now, out);
        }
        problems
    }

    /// Records the other side's SYN: its ISN, options and (unscaled) window.
    fn take_syn(&mut self, seg: &Segment) {
        self.irs = Some(seg.seq);
        self.rcv_nxt = seg.seq.wrapping_add(1);
        self.other_opts = seg.options;
        self.snd_wnd = u32::from(seg.window);
        self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
    }

    /// This side receives `seg` (RFC 9293 §3.10.7, "SEGMENT ARRIVES").
    fn on_recv(&mut self, seg: &Segment, now: Instant, out: &mut Vec<Transition>) -> RecvResult {
        let mut r = RecvResult::default();
        let f = seg.flags;
        let whose = self.side.whose();
        self.owes = None;
        match self.state {
            // §3.10.7.1: everything is for no connection; a RST answers anything but a RST.
            State::Closed => {
                // A hand-driven session that has not sent its SYN yet keeps the peer's
                // SYN, so that sending one now makes a simultaneous open (a kernel in
                // CLOSED would answer it with a RST).
                if self.side == Side::Us && !self.syn_sent && f.syn() && !f.ack() && !f.rst() {
                    self.take_syn(seg);
                    r.info.push(
                        "SYN while you are CLOSED: kept, so that your SYN makes this a simultaneous open (a kernel would answer with RST)"
                            .to_string(),
                    );
                    r.accepted = true;
                    return r;
                }
                if !f.rst() {
                    r.problems
                        .push(format!("{whose} side is CLOSED: it answers with RST"));
                    self.owes = Some(Owed::Rst);
                }
                return r;
            }
            // §3.10.7.2 LISTEN.
            State::Listen => {
                if f.rst() {
                    r.info.push("RST in LISTEN is ignored".to_string());
                } else if f.ack() {
                    r.problems.push(format!(
                        "{whose} side is in LISTEN: an ACK is answered with RST"
                    ));
                    self.owes = Some(Owed::Rst);
                } else if f.syn() {
                    self.take_syn(seg);
                    if seg.len > 0 {
                        r.info
                            .push("data on the SYN is not acknowledged".to_string());
                    }
                    r.accepted = true;
                } else {
                    r.problems
                        .push("neither SYN nor RST in LISTEN: dropped".to_string());
                }
                return r;
            }
            // §3.10.7.3 SYN-SENT.
            State::SynSent => {
                let ack_ok = f.ack() && seq_gt(seg.ack, self.iss) && seq_le(seg.ack, self.snd_nxt);
                if f.ack() && !ack_ok {
                    r.problems.push(format!(
                        "ack {} does not acknowledge {whose} SYN (expected {})",
                        seg.ack, self.snd_nxt
                    ));
                    if !f.rst() {
                        self.owes = Some(Owed::Rst);
                    }
                    return r;
                }
                if f.rst() {
                    if ack_ok {
                        r.accepted = true;
                        self.step(Event::RecvRst, now, out);
                    } else {
                        r.problems
                            .push("RST without an ACK of the SYN is ignored in SYN_SENT".into());
                    }
                    return r;
                }
                if !f.syn() {
                    r.problems
                        .push("neither SYN nor RST in SYN_SENT: dropped".to_string());
                    return r;
                }
                self.take_syn(seg);
                r.accepted = true;
                if ack_ok {
                    self.snd_una = seg.ack;
                    self.step(Event::RecvSynAck, now, out);
                } else {
                    r.info
                        .push("simultaneous open: SYN received while in SYN_SENT".into());
                }
                return r;
            }
            _ => {}
        }

        // §3.10.7.4: SYN-RECEIVED and the synchronized states.
        // Linux takes the SYN-ACK of a simultaneous open in SYN-RECEIVED, although its
        // sequence number lies before RCV.NXT.
        let simultaneous_synack = self.state == State::SynReceived
            && f.syn()
            && f.ack()
            && Some(seg.seq) == self.irs
            && seq_gt(seg.ack, self.snd_una)
            && seq_le(seg.ack, self.snd_nxt);
        let zero_window_probe =
            self.rcv_wnd == 0 && seg.len > 0 && seg.seq == self.rcv_nxt && !f.syn() && !f.rst();
        // First: the sequence number.
        if !simultaneous_synack && !self.seq_acceptable(seg) {
            let old =
                seq_le(seg.seq.wrapping_add(seg.seq_len()), self.rcv_nxt) && seg.seq_len() > 0;
            if f.syn() && !f.rst() {
                // RFC 5961 §4.2: a SYN gets a challenge ACK whatever its number.
                r.problems.push(format!(
                    "SYN in {}: answered with a challenge ACK (RFC 5961 §4.2)",
                    self.state
                ));
                self.owes = Some(Owed::ChallengeAck);
            } else if seg.len == 0
                && !f.fin()
                && !f.rst()
                && f.ack()
                && seg.seq == self.rcv_nxt.wrapping_sub(1)
            {
                // Linux probes a zero window (and keeps a connection alive) with an
                // empty segment one before RCV.NXT, which forces an ACK.
                let what = if self.rcv_wnd == 0 {
                    "zero-window probe"
                } else {
                    "keep-alive probe"
                };
                r.info.push(format!(
                    "{what}: seq {} is rcv_nxt - 1, an ACK answers (window {})",
                    seg.seq, self.rcv_wnd
                ));
                self.owes = Some(Owed::ProbeAck);
            } else if old && !f.rst() {
                r.info.push(format!(
                    "retransmission: {whose} side already has it (rcv_nxt {}), an ACK answers",
                    self.rcv_nxt
                ));
                if self.state == State::TimeWait && f.fin() {
                    // §3.10.7.4 eighth check: a FIN in TIME-WAIT restarts the 2 MSL timeout.
                    r.info
                        .push("FIN again in TIME_WAIT: the timer restarts".to_string());
                    self.time_wait_since = Some(now);
                }
                self.owes = Some(Owed::Ack);
            } else if zero_window_probe {
                r.info.push(format!(
                    "zero-window probe: {whose} window is 0, the data is not taken and an ACK answers"
                ));
                self.owes = Some(Owed::ProbeAck);
            } else if f.rst() {
                r.problems.push(format!(
                    "RST seq {} outside {whose} receive window {}: dropped",
                    seg.seq,
                    self.window_text()
                ));
            } else {
                r.problems.push(format!(
                    "seq {} outside {whose} receive window {}: answered with an ACK",
                    seg.seq,
                    self.window_text()
                ));
                self.owes = Some(Owed::Ack);
            }
            return r;
        }
        // Second: RST (RFC 5961 §3.2: only an exact match resets).
        if f.rst() {
            if seg.seq == self.rcv_nxt {
                r.accepted = true;
                self.step(Event::RecvRst, now, out);
            } else {
                r.problems.push(format!(
                    "RST seq {} is in {whose} window but not rcv_nxt {}: answered with a challenge ACK (RFC 5961 §3.2)",
                    seg.seq, self.rcv_nxt
                ));
                self.owes = Some(Owed::ChallengeAck);
            }
            return r;
        }
        // Fourth: SYN (RFC 5961 §4.2).
        if f.syn() && !simultaneous_synack {
            r.problems.push(format!(
                "SYN in {}: answered with a challenge ACK (RFC 5961 §4.2)",
                self.state
            ));
            self.owes = Some(Owed::ChallengeAck);
            return r;
        }
        // Fifth: ACK.
        if !f.ack() {
            r.problems
                .push("no ACK bit where one is needed: dropped".to_string());
            return r;
        }
        if seq_gt(seg.ack, self.snd_nxt) {
            r.problems.push(format!(
                "ack {} acknowledges data never sent ({} snd_nxt {})",
                seg.ack, whose, self.snd_nxt
            ));
            self.owes = Some(if self.state == State::SynReceived {
                Owed::Rst
            } else {
                Owed::Ack
            });
            return r;
        }
        if seq_lt(seg.ack, self.snd_una.wrapping_sub(self.max_snd_wnd)) {
            r.problems.push(format!(
                "ack {} is older than {whose} snd_una {} minus the window: answered with a challenge ACK (RFC 5961 §5.2)",
                seg.ack, self.snd_una
            ));
            self.owes = Some(Owed::ChallengeAck);
            return r;
        }
        if self.state == State::SynReceived {
            if !seq_gt(seg.ack, self.snd_una) {
                r.problems.push(format!(
                    "ack {} does not acknowledge {whose} SYN-ACK (expected {}): answered with RST",
                    seg.ack, self.snd_nxt
                ));
                self.owes = Some(Owed::Rst);
                return r;
            }
            self.snd_una = seg.ack;
            self.step(Event::RecvAckOfSyn, now, out);
        } else if seq_gt(seg.ack, self.snd_una) {
            self.snd_una = seg.ack;
        }
        r.accepted = true;
        if !simultaneous_synack {
            let shift = self.scaling().map_or(0, |(s, _)| s);
            self.snd_wnd = u32::from(seg.window) << shift;
            self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
        }
        if let Some(fin) = self.fin_seq {
            if !self.fin_acked && seq_gt(self.snd_una, fin) {
                self.fin_acked = true;
                self.step(Event::RecvAckOfFin, now, out);
            }
        }
        // Seventh: segment text.
        if seg.len > 0 && !simultaneous_synack {
            let end = seg.seq.wrapping_add(seg.len);
            let takes_data = matches!(
                self.state,
                State::Established | State::FinWait1 | State::FinWait2
            );
            if !takes_data {
                r.problems.push(format!(
                    "data in {}: {} already sent FIN, the data is ignored",
                    self.state,
                    self.side.other()
                ));
            } else if seq_gt(seg.seq, self.rcv_nxt) {
                r.info.push(format!(
                    "out of order: {} bytes missing before seq {}",
                    seg.seq.wrapping_sub(self.rcv_nxt),
                    seg.seq
                ));
                self.owes = Some(Owed::Ack);
            } else if seq_gt(end, self.rcv_nxt) {
                if self.rcv_wnd == 0 {
                    // Only reachable for a zero-window probe with other bits; keep rcv_nxt.
                } else {
                    let limit = self.rcv_nxt.wrapping_add(self.rcv_wnd);
                    self.rcv_nxt = if seq_gt(end, limit) { limit } else { end };
                }
            } else {
                r.info
                    .push("retransmitted data: already received".to_string());
                self.owes = Some(Owed::Ack);
            }
        }
        // Eighth: FIN, taken only in order.
        if f.fin() && !simultaneous_synack {
            let fin_at = seg.seq.wrapping_add(seg.len);
            if fin_at == self.rcv_nxt {
                match self.state {
                    State::CloseWait | State::Closing | State::LastAck => {}
                    State::TimeWait => {
                        r.info
                            .push("retransmitted FIN: TIME_WAIT restarts".to_string());
                        self.time_wait_since = Some(now);
                        self.owes = Some(Owed::Ack);
                    }
                    _ => {
                        self.rcv_nxt = self.rcv_nxt.wrapping_add(1);
                        self.step(Event::RecvFin, now, out);
                    }
                }
            } else if seq_lt(fin_at, self.rcv_nxt) {
                r.info
                    .push("retransmitted FIN: already received".to_string());
                self.owes = Some(Owed::Ack);
            } else {
                r.info.push(format!(
                    "FIN at {fin_at} after a gap (rcv_nxt {}): not taken yet",
                    self.rcv_nxt
                ));
            }
        }
        r
    }

    /// The TIME_WAIT timer, and for the peer model the give-up timers of its half-open
    /// and its orphaned FIN_WAIT_2 connection (time passed in).
    fn tick(&mut self, now: Instant, timers: &PeerTimers, out: &mut Vec<Transition>) {
        if let (State::TimeWait, Some(since)) = (self.state, self.time_wait_since) {
            if now.saturating_duration_since(since) >= timers.time_wait {
                self.step(Event::TimeWaitExpired, now, out);
            }
        }
        if self.side != Side::Peer {
            return;
        }
        let Some(since) = self.state_since else {
            return;
        };
        let held = now.saturating_duration_since(since);
        match self.state {
            State::SynReceived if held >= timers.synack_give_up => {
                self.step(Event::SynAckGiveUp, now, out)
            }
            State::FinWait2 if held >= timers.fin_timeout => {
                self.step(Event::FinWait2Timeout, now, out)
            }
            _ => {}
        }
    }
}

/// Direction of a segment, from our point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Sent,
    Received,
}

/// One segment of the session and what it did: the history entry the ladder draws.
#[derive(Clone, Debug)]
pub struct Step {
    pub dir: Dir,
    pub seg: Segment,
    /// The payload, kept for `recv`/`expect` and the history.
    pub data: Vec<u8>,
    pub at: Instant,
    /// Our state and the peer's (inferred) after this segment.
    pub us: State,
    pub peer: State,
    pub transitions: Vec<Transition>,
    /// Reasons the receiver will not take this segment as sent (for our sends).
    pub warnings: Vec<String>,
    /// Everything else worth saying (a challenge ACK recognised, a probe …).
    pub notes: Vec<String>,
    /// The peer kernel's real state after this segment (`ss`'s name), where tcpcraft
    /// can read it (the lab's server namespace).
    pub kernel: Option<&'static str>,
    /// What the ladder marks on this segment's arrow: `retransmission`, `ACK+FIN`
    /// (the peer acknowledged our FIN and sent its own in one segment), `crossed` (the
    /// FINs crossed on the wire).
    pub marks: Vec<&'static str>,
}

/// What the user asks to send; `None` fields are filled in from the session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SendSpec {
    pub flags: TcpFlags,
    pub len: u32,
    pub seq: Option<u32>,
    pub ack: Option<u32>,
    pub window: Option<u16>,
    pub options: SegOptions,
}

/// Both ends of a hand-driven connection, and its history.
#[derive(Clone, Debug)]
pub struct Machine {
    pub us: Endpoint,
    pub peer: Endpoint,
    pub history: Vec<Step>,
    /// Our state and the peer's before the first segment (row 0 of the ladder).
    pub initial: (State, State),
    /// How long TIME_WAIT lasts, and when the peer model gives up.
    pub timers: PeerTimers,
}

/// The peer model's timers: what Linux does by default. Another system, or other
/// settings, give up at other times; the notes say so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerTimers {
    /// TIME_WAIT (2 MSL; Linux: 60 s).
    pub time_wait: Duration,
    /// A half-open connection is dropped after its SYN-ACK went unacknowledged this long
    /// (Linux: tcp_synack_retries = 5 retransmissions at 1, 3, 7, 15, 31 s, dropped at 63 s).
    pub synack_give_up: Duration,
    /// An orphaned FIN_WAIT_2 is dropped after this (Linux: tcp_fin_timeout, 60 s).
    pub fin_timeout: Duration,
}

impl Default for PeerTimers {
    fn default() -> Self {
        PeerTimers {
            time_wait: Duration::from_secs(60),
            synack_give_up: Duration::from_secs(63),
            fin_timeout: Duration::from_secs(60),
        }
    }
}

impl PeerTimers {
    /// Linux's give-up time for `retries` SYN-ACK retransmissions: the timer starts at
    /// 1 s and doubles, and the last one is waited out too: 2^(retries+1) - 1 seconds.
    pub fn synack_give_up_for(retries: u32) -> Duration {
        Duration::from_secs((1u64 << (retries.min(20) + 1)) - 1)
    }
}

impl Machine {
    /// An active opener: we are CLOSED and will send `isn`; the peer is assumed to listen.
    pub fn active(isn: u32, window: u16) -> Machine {
        Machine {
            us: Endpoint::new(Side::Us, State::Closed, isn, window),
            peer: Endpoint::new(Side::Peer, State::Listen, 0, 0),
            history: Vec::new(),
            initial: (State::Closed, State::Listen),
            timers: PeerTimers::default(),
        }
    }

    /// A passive opener: we listen and will answer with `isn`; the peer is CLOSED.
    pub fn passive(isn: u32, window: u16) -> Machine {
        Machine {
            us: Endpoint::new(Side::Us, State::Listen, isn, window),
            peer: Endpoint::new(Side::Peer, State::Closed, 0, 0),
            history: Vec::new(),
            initial: (State::Listen, State::Closed),
            timers: PeerTimers::default(),
        }
    }

    pub fn state(&self) -> State {
        self.us.state
    }
    pub fn peer_state(&self) -> State {
        self.peer.state
    }

    /// Fills in what the user left out: seq = snd_nxt (the ISN for a SYN, the FIN's
    /// own number when a FIN is sent again), ack = rcv_nxt when ACK is set, and our
    /// window. Whatever the user gave is kept exactly.
    pub fn fill(&self, spec: &SendSpec) -> Segment {
        let us = &self.us;
        let f = spec.flags;
        let auto_seq = if f.syn() {
            us.iss
        } else if let (true, Some(fin), 0) = (f.fin(), us.fin_seq, spec.len) {
            fin
        } else if f.rst() && us.state == State::Listen {
            // A RST refusing a SYN carries seq 0 and acknowledges the SYN.
            0
        } else {
            us.snd_nxt
        };
        Segment {
            flags: f,
            seq: spec.seq.unwrap_or(auto_seq),
            ack: spec.ack.unwrap_or(if f.ack() { us.rcv_nxt } else { 0 }),
            len: spec.len,
            // Our default window is in bytes: once scaling is agreed (RFC 7323 §2.2),
            // the field carries it shifted, as a kernel advertises it.
            window: spec.window.unwrap_or(match (f.syn(), us.scaling()) {
                (false, Some((_, shift))) => (us.window >> shift).max(1),
                _ => us.window,
            }),
            options: spec.options,
        }
    }

    /// Records that we sent `seg` (with `data`) at `now`. Never refuses: the step
    /// carries the warnings.
    pub fn sent(&mut self, seg: Segment, data: Vec<u8>, now: Instant) -> &Step {
        let (mut transitions, mut theirs) = (Vec::new(), Vec::new());
        let r = self.peer.on_recv(&seg, now, &mut theirs);
        // Once the peer is known (its SYN seen and ours taken), a segment with data or
        // a FIN that it will drop does not move our side either: what we believe the
        // connection is stays what the peer believes (a test of a stack sends such
        // segments on purpose, and the next ones must still be judged right).
        let judged = self.peer.syn_sent && self.peer.irs.is_some();
        let f = seg.flags;
        let dropped = judged
            && !r.accepted
            && !r.problems.is_empty()
            && !f.rst()
            && !f.syn()
            && (seg.len > 0 || f.fin());
        let mut warnings = if dropped {
            Vec::new()
        } else {
            self.us.on_send(&seg, r.accepted, now, &mut transitions)
        };
        transitions.extend(theirs);
        warnings.extend(r.problems);
        if dropped {
            warnings.push(
                "not counted: the peer drops this segment, so our snd_nxt and state stay as they were"
                    .to_string(),
            );
        }
        let notes = r.info;
        self.push(Dir::Sent, seg, data, now, transitions, warnings, notes)
    }

    /// Records that we received `seg` (with `data`) at `now`.
    pub fn received(&mut self, seg: Segment, data: Vec<u8>, now: Instant) -> &Step {
        let mut transitions = Vec::new();
        let mut notes = Vec::new();
        if let Some(owed) = self.peer.owes {
            if let Some(text) = recognise(owed, &seg) {
                notes.push(text);
            }
        }
        let r = self.us.on_recv(&seg, now, &mut transitions);
        notes.extend(r.problems);
        notes.extend(r.info);
        for p in self.peer.on_send(&seg, r.accepted, now, &mut transitions) {
            notes.push(format!("the peer sent {p}"));
        }
        self.push(
            Dir::Received,
            seg,
            data,
            now,
            transitions,
            Vec::new(),
            notes,
        )
    }

    /// Advances timers (TIME_WAIT) to `now`; returns the changes.
    pub fn tick(&mut self, now: Instant) -> Vec<Transition> {
        let mut out = Vec::new();
        self.us.tick(now, &self.timers, &mut out);
        self.peer.tick(now, &self.timers, &mut out);
        out
    }

    #[allow(clippy::too_many_arguments)] // one private constructor of a plain record
    fn push(
        &mut self,
        dir: Dir,
        seg: Segment,
        data: Vec<u8>,
        at: Instant,
        transitions: Vec<Transition>,
        warnings: Vec<String>,
        notes: Vec<String>,
    ) -> &Step {
        self.history.push(Step {
            dir,
            seg,
            data,
            at,
            us: self.us.state,
            peer: self.peer.state,
            transitions,
            warnings,
            notes,
            kernel: None,
            marks: Vec::new(),
        });
        let last = self.history.len() - 1;
        &self.history[last]
    }
}

/// Names the peer's answer to an unacceptable segment of ours, when it is one.
fn recognise(owed: Owed, seg: &Segment) -> Option<String> {
    let f = seg.flags;
    let pure_ack = f.ack() && !f.syn() && !f.fin() && !f.rst() && seg.len == 0;
    match owed {
        Owed::ChallengeAck if pure_ack => {
            Some("challenge ACK (RFC 5961): the peer did not take our segment".to_string())
        }
        Owed::ProbeAck if pure_ack => Some(format!(
            "ACK answering our zero-window probe (window {})",
            seg.window
        )),
        Owed::Ack if pure_ack => {
            Some("duplicate ACK: the peer did not take our segment".to_string())
        }
        Owed::Rst if f.rst() => Some("RST answering our unacceptable segment".to_string()),
        _ => None,
    }
}

/// What `expect` checks; `None` fields are not checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expectation {
    pub flags: Option<TcpFlags>,
    pub seq: Option<u32>,
    pub ack: Option<u32>,
    pub data: Option<Vec<u8>>,
    pub window: Option<u16>,
    /// Options the segment must carry, each with its value (NOPs and EOLs counted; a
    /// value may be `any`); an empty list: no options at all. With `exact`, the whole
    /// list in wire order.
    pub options: Option<Vec<OptPat>>,
    /// The flags exactly as named (PSH included), the options exactly as listed.
    pub exact: bool,
    /// New data to collect, however the peer's stack segmented it (bytes).
    pub len: Option<usize>,
    /// When the segment must arrive, after the session's segment before it.
    pub after: Option<Duration>,
    pub before: Option<Duration>,
}

/// Checks a received segment against an expectation (its `options` as received, in
/// wire order). PSH need not be named unless `exact`: a segment with PSH matches flags
/// without it. The error lists each field that differs: `expected flags SA, got RA;
/// expected ack 1001, got 1`.
pub fn check(
    exp: &Expectation,
    seg: &Segment,
    data: &[u8],
    options: &[TcpOption],
) -> Result<(), String> {
    let mut diffs = Vec::new();
    if let Some(flags) = exp.flags {
        let got = seg.flags;
        let psh_free = !exp.exact && TcpFlags(got.0 & !TcpFlags::PSH) == flags;
        if got != flags && !psh_free {
            diffs.push(format!("expected flags {flags}, got {got}"));
        }
    }
    let mut num = |name: &str, want: Option<u32>, got: u32| {
        if let Some(w) = want {
            if w != got {
                diffs.push(format!("expected {name} {w}, got {got}"));
            }
        }
    };
    num("seq", exp.seq, seg.seq);
    num("ack", exp.ack, seg.ack);
    num("window", exp.window.map(u32::from), u32::from(seg.window));
    if let Some(want) = &exp.data {
        if want.as_slice() != data {
            diffs.push(format!(
                "expected data {}, got {}",
                show_bytes(want),
                show_bytes(data)
            ));
        }
    }
    if let Some(want) = &exp.options {
        if let Err(m) = check_options(want, options, exp.exact) {
            diffs.push(m);
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.join("; "))
    }
}

/// An option an expectation names: its kind and values, each value possibly `any`
/// (`ts(any, 5)`: any TSval, TSecr 5; `sack(any)`: any blocks; `opt(99, any)`: any data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptPat {
    pub opt: TcpOption,
    /// Which of the option's (up to two) values are wildcards.
    pub wild: [bool; 2],
}

impl OptPat {
    /// The option exactly, no wildcard.
    pub fn exact(opt: TcpOption) -> OptPat {
        OptPat {
            opt,
            wild: [false, false],
        }
    }

    /// Whether a received option is this one.
    pub fn matches(&self, got: &TcpOption) -> bool {
        let [w0, w1] = self.wild;
        match (&self.opt, got) {
            (TcpOption::Mss(a), TcpOption::Mss(b)) => w0 || a == b,
            (TcpOption::Wscale(a), TcpOption::Wscale(b)) => w0 || a == b,
            (TcpOption::Timestamp(a, e), TcpOption::Timestamp(b, f)) => {
                (w0 || a == b) && (w1 || e == f)
            }
            (TcpOption::Sack(a), TcpOption::Sack(b)) => w0 || a == b,
            (TcpOption::Unknown { kind: k, data: d }, TcpOption::Unknown { kind: l, data: e }) => {
                k == l && (w1 || d == e)
            }
            (a, b) => a == b,
        }
    }

    /// As the language writes it, `any` where a value is free.
    pub fn text(&self) -> String {
        option_pattern_text(&self.opt, self.wild)
    }
}

/// The options check: `exact` (or an empty list) compares the whole list in order;
/// otherwise each wanted option must be present with its value, once per mention.
pub fn check_options(want: &[OptPat], got: &[TcpOption], exact: bool) -> Result<(), String> {
    let list = |o: &[TcpOption]| {
        if o.is_empty() {
            "none".to_string()
        } else {
            o.iter().map(option_text).collect::<Vec<_>>().join(", ")
        }
    };
    let wanted = |w: &[OptPat]| {
        if w.is_empty() {
            "none".to_string()
        } else {
            w.iter().map(OptPat::text).collect::<Vec<_>>().join(", ")
        }
    };
    if exact || want.is_empty() {
        let same = want.len() == got.len() && want.iter().zip(got).all(|(w, g)| w.matches(g));
        if !same {
            return Err(format!(
                "expected options exactly [{}], got [{}]",
                wanted(want),
                list(got)
            ));
        }
        return Ok(());
    }
    let mut left: Vec<&TcpOption> = got.iter().collect();
    let mut missing = Vec::new();
    for w in want {
        match left.iter().position(|g| w.matches(g)) {
            Some(i) => {
                left.remove(i);
            }
            None => missing.push(w.text()),
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "expected option{} {} (got [{}])",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            list(got)
        ))
    }
}

/// Short printable form of payload bytes for mismatch messages.
fn show_bytes(b: &[u8]) -> String {
    const MAX: usize = 40;
    let text: String = b
        .iter()
        .take(MAX)
        .flat_map(|&c| std::ascii::escape_default(c))
        .map(char::from)
        .collect();
    let more = if b.len() > MAX { "…" } else { "" };
    format!("\"{text}{more}\" ({} bytes)", b.len())
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
