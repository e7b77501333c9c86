//! What each step checks: the connection as the session saw it (segments sent and
//! received, both sides' states, what no `expect` has taken yet) and the server kernel's
//! real state (sock_diag in the lab's server namespace, as `ss` shows it). Never the
//! text typed: any statement that makes the thing happen meets the goal.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::lang::{Interp, Value};
use crate::packet::TcpFlags;
use crate::session::events::{AckEvent, Events};
use crate::session::state::{Dir, State, Step};
use crate::session::Session;

/// why-three's server gives up after 2 SYN-ACK retransmissions (1 s, 3 s; dropped at 7 s)
/// instead of Linux's 5 (63 s).
pub const WHY_THREE_SYNACK_RETRIES: u32 = 2;

/// What the kernel says when it holds no socket for the connection.
pub const NO_SOCKET: &str = "no socket";

/// One session as the lesson sees it after a statement.
pub struct Snap {
    /// Creation order among the interpreter's sessions (higher: newer).
    pub order: usize,
    pub dport: Option<u16>,
    pub us: State,
    pub peer: State,
    pub isn: u32,
    pub peer_isn: Option<u32>,
    pub steps: Vec<Step>,
    /// The events of the received segments no `expect` has taken yet.
    pub pending: Vec<Events>,
    /// The server kernel's state now (`ss`'s name, or [`NO_SOCKET`]); `None`: unreadable.
    pub kernel_now: Option<&'static str>,
    /// The server's and our ends, for the kernel watch.
    pub ends: Option<(SocketAddr, SocketAddr)>,
}

fn snap_of(s: &Session, order: usize) -> Snap {
    let ends = match (s.remote(), s.src()) {
        (Some((peer, pport)), Some(src)) => Some((
            SocketAddr::new(peer, pport),
            SocketAddr::new(src, s.local_port()),
        )),
        _ => None,
    };
    Snap {
        order,
        dport: s.remote().map(|(_, p)| p),
        us: s.state(),
        peer: s.peer_state(),
        isn: s.isn(),
        peer_isn: s.peer_isn(),
        steps: s.history(),
        pending: s.pending().into_iter().map(|(_, e)| e).collect(),
        kernel_now: ends.and_then(|(peer, us)| kernel_state(peer, us)),
        ends,
    }
}

/// The lab server kernel's state of one connection, now.
pub fn kernel_state(peer: SocketAddr, us: SocketAddr) -> Option<&'static str> {
    let mut view = crate::session::kernel::lab_view()?;
    if !view.covers(peer.ip()) {
        return None;
    }
    match view.state(peer, us) {
        Ok(Some(k)) => Some(k.ss),
        Ok(None) => Some(NO_SOCKET),
        Err(_) => None,
    }
}

/// Every session among the interpreter's globals, newest first.
pub fn sessions(it: &Interp) -> Vec<Snap> {
    let mut seen = Vec::new();
    let mut out: Vec<Snap> = Vec::new();
    for name in it.global_names() {
        let Some(v) = it.get_var(&name) else { continue };
        let vals: Vec<Value> = match &v {
            Value::List(l) => l.borrow().clone(),
            _ => vec![v.clone()],
        };
        for v in vals {
            if let Some(snap) = crate::app::lang_session::with_session(&v, snap_of) {
                if !seen.contains(&snap.order) {
                    seen.push(snap.order);
                    out.push(snap);
                }
            }
        }
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.order));
    out
}

/// Watches the server kernel's state of every connection it is given, every 10 ms, in
/// the background: when the kernel drops a half-open connection no segment says so.
pub struct KernelWatch {
    inner: Arc<Mutex<WatchState>>,
    stop: Arc<AtomicBool>,
}

/// A connection: the server's end and ours.
type Ends = (SocketAddr, SocketAddr);

#[derive(Default)]
struct WatchState {
    /// Connection → (the last state seen, when the socket went away).
    conns: HashMap<Ends, (Option<&'static str>, Option<Instant>)>,
}

impl KernelWatch {
    pub fn start() -> KernelWatch {
        let inner = Arc::new(Mutex::new(WatchState::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (i, s) = (inner.clone(), stop.clone());
        let _ = std::thread::Builder::new()
            .name("tcpcraft-lesson-watch".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    let keys: Vec<_> = {
                        let w = i.lock().unwrap_or_else(|e| e.into_inner());
                        w.conns.keys().copied().collect()
                    };
                    for (peer, us) in keys {
                        let now = kernel_state(peer, us);
                        let at = Instant::now();
                        let mut w = i.lock().unwrap_or_else(|e| e.into_inner());
                        if let Some(entry) = w.conns.get_mut(&(peer, us)) {
                            let was_open = entry.0.is_some_and(|k| k != NO_SOCKET);
                            if now == Some(NO_SOCKET) && was_open {
                                entry.1 = Some(at);
                            }
                            if now.is_some() {
                                entry.0 = now;
                            }
                        }
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            });
        KernelWatch { inner, stop }
    }

    /// Starts watching a connection (once).
    pub fn watch(&self, ends: (SocketAddr, SocketAddr), now: Option<&'static str>) {
        let mut w = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        w.conns.entry(ends).or_insert((now, None));
    }

    /// When the kernel's socket for this connection went away (after it was seen open).
    pub fn gone_at(&self, ends: (SocketAddr, SocketAddr)) -> Option<Instant> {
        let w = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        w.conns.get(&ends).and_then(|e| e.1)
    }
}

impl Drop for KernelWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// What a check sees: the sessions (newest first) and the kernel watch.
pub struct World<'a> {
    pub snaps: &'a [Snap],
    pub watch: &'a KernelWatch,
}

/// Placeholders and their values.
pub type Vars = Vec<(&'static str, String)>;

fn has(flags: TcpFlags, bit: u16) -> bool {
    flags.contains(bit)
}

/// `1.234` (seconds, three decimals).
pub fn secs(d: f64) -> String {
    format!("{d:.3}")
}

impl Snap {
    /// The placeholders most explanations use: step `i`'s time, our state after it,
    /// and the kernel's state.
    fn vars(&self, i: usize, kernel: &str) -> Vars {
        vec![
            ("t", secs(self.t(i))),
            ("us", self.steps[i].us.name().to_string()),
            ("kernel", kernel.to_string()),
        ]
    }

    fn t(&self, i: usize) -> f64 {
        match (self.steps.first(), self.steps.get(i)) {
            (Some(a), Some(b)) => b.at.saturating_duration_since(a.at).as_secs_f64(),
            _ => 0.0,
        }
    }

    fn at(&self, when: Instant) -> f64 {
        self.steps
            .first()
            .map_or(0.0, |a| when.saturating_duration_since(a.at).as_secs_f64())
    }

    /// The first step at or after `from` in direction `dir` whose segment passes `f`.
    fn find(&self, from: usize, dir: Dir, f: impl Fn(&Step) -> bool) -> Option<usize> {
        (from..self.steps.len()).find(|&i| self.steps[i].dir == dir && f(&self.steps[i]))
    }

    /// The kernel's state while the server was in the state it had after step `i`, as
    /// the session read it (the reading is kept on the steps that left the server in
    /// the state read). A state that lasted less than a reading takes (data and a FIN
    /// right after an ACK) has none: then the model's state, in `ss`'s words (the
    /// session flags any disagreement between the two).
    fn kernel_at(&self, i: usize) -> Option<&'static str> {
        let Some(step) = self.steps.get(i) else {
            return self.kernel_now;
        };
        let same = |j: &usize| self.steps[*j].peer == step.peer;
        let back = (0..=i)
            .rev()
            .take_while(same)
            .find_map(|j| self.steps[j].kernel);
        let fwd = (i..self.steps.len())
            .take_while(same)
            .find_map(|j| self.steps[j].kernel);
        back.or(fwd).or_else(|| ss_name(step.peer))
    }

    fn pending_has(&self, f: impl Fn(&Events) -> bool) -> bool {
        self.pending.iter().any(f)
    }

    /// Our SYN (no ACK bit).
    fn syn(&self) -> Option<usize> {
        self.find(0, Dir::Sent, |s| {
            has(s.seg.flags, TcpFlags::SYN) && !has(s.seg.flags, TcpFlags::ACK)
        })
    }

    /// The peer's SYN-ACK.
    fn synack(&self) -> Option<usize> {
        self.find(0, Dir::Received, |s| {
            has(s.seg.flags, TcpFlags::SYN) && has(s.seg.flags, TcpFlags::ACK)
        })
    }

    /// Our ACK of the peer's SYN (the third step), after step `j`.
    fn third(&self, j: usize) -> Option<usize> {
        let want = self.peer_isn?.wrapping_add(1);
        self.find(j + 1, Dir::Sent, |s| {
            let f = s.seg.flags;
            has(f, TcpFlags::ACK)
                && !has(f, TcpFlags::SYN)
                && !has(f, TcpFlags::RST)
                && s.seg.ack == want
        })
    }

    /// Our FIN.
    fn our_fin(&self) -> Option<usize> {
        self.find(0, Dir::Sent, |s| has(s.seg.flags, TcpFlags::FIN))
    }

    /// The first received segment that acknowledges our FIN (step `f`).
    fn fin_acked(&self, f: usize) -> Option<usize> {
        let s = self.steps.get(f)?;
        let end = s.seg.seq.wrapping_add(s.seg.seq_len());
        self.find(f + 1, Dir::Received, |r| {
            has(r.seg.flags, TcpFlags::ACK) && r.seg.ack == end
        })
    }

    /// The peer's first FIN.
    fn peer_fin(&self) -> Option<usize> {
        self.find(0, Dir::Received, |s| has(s.seg.flags, TcpFlags::FIN))
    }

    /// Our ACK of the peer's FIN (step `r`).
    fn acks_peer_fin(&self, r: usize) -> Option<usize> {
        let s = self.steps.get(r)?;
        let end = s.seg.seq.wrapping_add(s.seg.seq_len());
        self.find(r + 1, Dir::Sent, |x| {
            has(x.seg.flags, TcpFlags::ACK) && !has(x.seg.flags, TcpFlags::RST) && x.seg.ack == end
        })
    }

    /// The handshake completed (our ACK of the server's SYN, step `a`), with the server
    /// kernel's first reading from then on: ESTAB, or a later state when the server
    /// moved on before it could be read (port 13 closes at once). Without any reading
    /// since, the model's state in `ss`'s words.
    fn opened(&self) -> Option<(usize, &'static str)> {
        const OPEN: [&str; 7] = [
            "ESTAB",
            "FIN-WAIT-1",
            "FIN-WAIT-2",
            "CLOSE-WAIT",
            "LAST-ACK",
            "CLOSING",
            "TIME-WAIT",
        ];
        let j = self.synack()?;
        let a = self.third(j)?;
        let read = (a..self.steps.len()).find_map(|i| self.steps[i].kernel);
        match read.or(self.kernel_now) {
            Some(k) if OPEN.contains(&k) => Some((a, k)),
            Some(_) => None,
            None => ss_name(self.steps[a].peer).map(|k| (a, k)),
        }
    }
}

/// A state as `ss` names it.
fn ss_name(s: State) -> Option<&'static str> {
    Some(match s {
        State::Closed => NO_SOCKET,
        State::Listen => "LISTEN",
        State::SynSent => "SYN-SENT",
        State::SynReceived => "SYN-RECV",
        State::Established => "ESTAB",
        State::FinWait1 => "FIN-WAIT-1",
        State::FinWait2 => "FIN-WAIT-2",
        State::CloseWait => "CLOSE-WAIT",
        State::Closing => "CLOSING",
        State::LastAck => "LAST-ACK",
        State::TimeWait => "TIME-WAIT",
        #[allow(unreachable_patterns)] // reason: State may grow
        _ => return None,
    })
}

/// The lesson's session: the newest one (to `port`, when given).
fn pick<'a>(w: &'a World, port: Option<u16>) -> Option<&'a Snap> {
    w.snaps.iter().find(|s| port.is_none() || s.dport == port)
}

/// Whether a check exists for `lesson`'s step `id` (the data files name them).
pub fn known(lesson: &str, id: &str) -> bool {
    matches!(
        (lesson, id),
        ("handshake", "syn" | "synack" | "ack")
            | ("teardown", "open" | "fin" | "ack" | "peer_fin" | "last_ack")
            | ("why-three", "syn" | "synack" | "wait" | "late_ack")
            | ("why-four", "open9" | "fin9" | "close9" | "together7")
            | ("reset", "open" | "rst" | "closed")
            | (
                "simultaneous-close",
                "open13" | "cross" | "ack13" | "last13"
            )
    )
}

/// Whether step `id` of `lesson` is met; if so, the values of its placeholders.
pub fn check(lesson: &str, id: &str, w: &World) -> Option<Vars> {
    let k = |x: Option<&'static str>| x.unwrap_or("?").to_string();
    match (lesson, id) {
        ("handshake" | "why-three", "syn") => {
            let s = pick(w, None)?;
            let i = s.syn()?;
            let j = s.synack()?;
            let kernel = s.kernel_at(j)?;
            (kernel != NO_SOCKET).then(|| {
                vec![
                    ("t", secs(s.t(i))),
                    ("us", s.steps[i].us.name().to_string()),
                    ("kernel", kernel.to_string()),
                    ("port", s.dport.unwrap_or(0).to_string()),
                ]
            })
        }
        ("handshake" | "why-three", "synack") => {
            let s = pick(w, None)?;
            let j = s.synack()?;
            let answered = s.third(j).is_some();
            if lesson == "why-three" && answered {
                return None;
            }
            let taken = !s.pending_has(|e| e.syn);
            (taken || answered).then(|| {
                vec![
                    ("t", secs(s.t(j))),
                    ("us", s.steps[j].us.name().to_string()),
                    ("kernel", k(s.kernel_at(j))),
                    ("isn", s.isn.to_string()),
                    ("peer_isn", s.peer_isn.unwrap_or(0).to_string()),
                    ("ack", s.steps[j].seg.ack.to_string()),
                ]
            })
        }
        ("handshake", "ack") => {
            let s = pick(w, None)?;
            let j = s.synack()?;
            let a = s.third(j)?;
            let kernel = s.kernel_at(a)?;
            (kernel == "ESTAB").then(|| {
                vec![
                    ("t", secs(s.t(a))),
                    ("us", s.steps[a].us.name().to_string()),
                    ("peer", s.steps[a].peer.name().to_string()),
                    ("kernel", kernel.to_string()),
                    ("ack", s.steps[a].seg.ack.to_string()),
                ]
            })
        }
        ("teardown", "open") | ("why-four", "open9") => {
            let port = if lesson == "teardown" { 17 } else { 9 };
            let s = pick(w, Some(port))?;
            s.opened()?;
            Some(vec![
                ("kernel", "ESTAB".to_string()),
                ("us", "ESTABLISHED".into()),
            ])
        }
        ("teardown", "fin") => {
            let s = pick(w, Some(17))?;
            s.opened()?;
            let f = s.our_fin()?;
            let kernel = s.kernel_at(f)?;
            (kernel == "CLOSE-WAIT" || kernel == "LAST-ACK").then(|| s.vars(f, kernel))
        }
        ("teardown", "ack") => {
            let s = pick(w, Some(17))?;
            let f = s.our_fin()?;
            let a = s.fin_acked(f)?;
            let taken = !s.pending_has(|e| matches!(e.ack, AckEvent::Advance(_)));
            taken.then(|| s.vars(a, &k(s.kernel_at(a))))
        }
        ("teardown", "peer_fin") => {
            let s = pick(w, Some(17))?;
            let f = s.our_fin()?;
            let a = s.fin_acked(f)?;
            let r = s.peer_fin()?;
            let taken = !s.pending_has(|e| e.fin);
            taken.then(|| {
                vec![
                    ("t", secs(s.t(r))),
                    ("gap", format!("{:.1}", s.t(r) - s.t(a))),
                    ("us", s.steps[r].us.name().to_string()),
                    ("kernel", k(s.kernel_at(r))),
                ]
            })
        }
        ("teardown", "last_ack") | ("why-four", "close9") => {
            let port = if lesson == "teardown" { 17 } else { 9 };
            let s = pick(w, Some(port))?;
            let f = s.our_fin()?;
            let r = s.peer_fin()?;
            let z = s.acks_peer_fin(r)?;
            let kernel = s.kernel_at(z)?;
            if kernel != NO_SOCKET {
                return None;
            }
            let data: u32 = s.steps[f..]
                .iter()
                .filter(|x| x.dir == Dir::Received)
                .map(|x| x.seg.len)
                .sum();
            Some(vec![
                ("t", secs(s.t(z))),
                ("t_fin", secs(s.t(r))),
                ("us", s.steps[z].us.name().to_string()),
                ("kernel", kernel.to_string()),
                ("bytes", data.to_string()),
            ])
        }
        ("why-three", "wait") => {
            let s = pick(w, None)?;
            let j = s.synack()?;
            if s.third(j).is_some() || s.kernel_now != Some(NO_SOCKET) {
                return None;
            }
            three_numbers(s, w)
        }
        ("why-three", "late_ack") => {
            let s = pick(w, None)?;
            let gone = s.ends.and_then(|e| w.watch.gone_at(e))?;
            let a = s.find(0, Dir::Sent, |x| {
                x.at >= gone && has(x.seg.flags, TcpFlags::ACK) && !has(x.seg.flags, TcpFlags::RST)
            })?;
            let r = s.find(a + 1, Dir::Received, |x| has(x.seg.flags, TcpFlags::RST))?;
            Some(vec![("t", secs(s.t(r))), ("kernel", k(s.kernel_now))])
        }
        ("why-four", "fin9") => {
            let s = pick(w, Some(9))?;
            s.opened()?;
            let f = s.our_fin()?;
            let a = s.fin_acked(f)?;
            if has(s.steps[a].seg.flags, TcpFlags::FIN) {
                return None;
            }
            Some(vec![
                ("t_fin", secs(s.t(f))),
                ("t", secs(s.t(a))),
                ("kernel", k(s.kernel_at(a))),
            ])
        }
        ("why-four", "together7") => {
            let s = pick(w, Some(7))?;
            let f = s.our_fin()?;
            let a = s.fin_acked(f)?;
            let r = s.peer_fin()?;
            Some(together(s, a, r))
        }
        ("reset", "open") => {
            let s = pick(w, Some(80))?;
            s.opened()?;
            Some(vec![
                ("kernel", "ESTAB".to_string()),
                ("us", "ESTABLISHED".into()),
            ])
        }
        ("reset", "rst") => {
            let s = pick(w, Some(80))?;
            let (a, _) = s.opened()?;
            let i = s.find(a + 1, Dir::Sent, |x| has(x.seg.flags, TcpFlags::RST))?;
            let kernel = s.kernel_at(i)?;
            (kernel == NO_SOCKET).then(|| s.vars(i, kernel))
        }
        ("reset", "closed") => w.snaps.iter().find_map(|s| {
            let i = s.syn()?;
            let j = s.find(i + 1, Dir::Received, |x| has(x.seg.flags, TcpFlags::RST))?;
            Some(vec![
                ("port", s.dport.unwrap_or(0).to_string()),
                ("t", secs(s.t(j))),
                ("ms", format!("{:.2}", (s.t(j) - s.t(i)) * 1000.0)),
                (
                    "flags",
                    if has(s.steps[j].seg.flags, TcpFlags::ACK) {
                        "RST+ACK"
                    } else {
                        "RST"
                    }
                    .to_string(),
                ),
                ("us", s.steps[j].us.name().to_string()),
            ])
        }),
        ("simultaneous-close", "open13") => {
            let s = pick(w, Some(13))?;
            s.opened()?;
            let r = s.peer_fin()?;
            let bytes: u32 = s.steps[..r]
                .iter()
                .filter(|x| x.dir == Dir::Received)
                .map(|x| x.seg.len)
                .sum();
            Some(vec![
                ("t", secs(s.t(r))),
                ("bytes", bytes.to_string()),
                ("kernel", k(s.kernel_at(r))),
                ("us", s.steps[r].us.name().to_string()),
            ])
        }
        ("simultaneous-close", "cross") => {
            let s = pick(w, Some(13))?;
            let r = s.peer_fin()?;
            let f = s.our_fin()?;
            let end = s.steps[r].seg.seq.wrapping_add(s.steps[r].seg.seq_len());
            if s.steps[f].seg.ack == end {
                return None;
            }
            let kernel = s.kernel_at(f)?;
            (kernel == "CLOSING").then(|| s.vars(f, kernel))
        }
        ("simultaneous-close", "ack13") => {
            let s = pick(w, Some(13))?;
            let f = s.our_fin()?;
            let a = s.fin_acked(f)?;
            let taken = !s.pending_has(|e| matches!(e.ack, AckEvent::Advance(_)));
            taken.then(|| s.vars(a, &k(s.kernel_at(a))))
        }
        ("simultaneous-close", "last13") => {
            let s = pick(w, Some(13))?;
            let f = s.our_fin()?;
            s.fin_acked(f)?;
            let r = s.peer_fin()?;
            let z = s.acks_peer_fin(r)?;
            let kernel = s.kernel_at(z)?;
            (kernel == "TIME-WAIT").then(|| s.vars(z, kernel))
        }
        _ => None,
    }
}

/// How the ACK of our FIN (step `a`) and the peer's FIN (step `r`) came: in one
/// segment, or apart and how far (`how`: a text of the ui table, by its key).
fn together(s: &Snap, a: usize, r: usize) -> Vars {
    let how = if a == r {
        "ui:together_one"
    } else {
        "ui:together_two"
    };
    vec![
        ("t", secs(s.t(r))),
        ("kernel", s.kernel_at(r).unwrap_or("?").to_string()),
        ("gap_ms", format!("{:.1}", (s.t(r) - s.t(a)) * 1000.0)),
        ("how", how.to_string()),
    ]
}

/// why-three's numbers: the SYN-ACK's retransmissions and when the kernel dropped the
/// half-open connection.
fn three_numbers(s: &Snap, w: &World) -> Option<Vars> {
    let j = s.synack()?;
    let retx: Vec<String> = (j + 1..s.steps.len())
        .filter(|&i| {
            s.steps[i].dir == Dir::Received
                && has(s.steps[i].seg.flags, TcpFlags::SYN)
                && !has(s.steps[i].seg.flags, TcpFlags::RST)
        })
        .map(|i| format!("{:.1} s", s.t(i)))
        .collect();
    if retx.is_empty() {
        return None;
    }
    let gone = s.ends.and_then(|e| w.watch.gone_at(e))?;
    Some(vec![
        ("retx", retx.join(", ")),
        ("n", retx.len().to_string()),
        ("dropped", format!("{:.1}", s.at(gone))),
        ("retries", WHY_THREE_SYNACK_RETRIES.to_string()),
    ])
}

/// The numbers of the final answer: times of the lesson's milestones.
pub fn answer_vars(lesson: &str, w: &World) -> Vars {
    let mut v: Vars = Vec::new();
    let time = |v: &mut Vars, name: &'static str, s: Option<&Snap>, i: Option<usize>| {
        let t = s
            .zip(i)
            .map_or_else(|| "?".to_string(), |(s, i)| secs(s.t(i)));
        v.push((name, t));
    };
    match lesson {
        "handshake" => {
            let s = pick(w, None);
            let j = s.and_then(Snap::synack);
            time(&mut v, "t_syn", s, s.and_then(Snap::syn));
            time(&mut v, "t_synack", s, j);
            time(&mut v, "t_ack", s, s.zip(j).and_then(|(s, j)| s.third(j)));
            if let Some(s) = s {
                v.push(("isn", s.isn.to_string()));
                v.push(("peer_isn", s.peer_isn.unwrap_or(0).to_string()));
            }
        }
        "teardown" | "why-four" => {
            let port = if lesson == "teardown" { 17 } else { 9 };
            let s = pick(w, Some(port));
            let f = s.and_then(Snap::our_fin);
            let a = s.zip(f).and_then(|(s, f)| s.fin_acked(f));
            let r = s.and_then(Snap::peer_fin);
            time(&mut v, "t_fin", s, f);
            time(&mut v, "t_ack", s, a);
            time(&mut v, "t_peer_fin", s, r);
            time(
                &mut v,
                "t_last",
                s,
                s.zip(r).and_then(|(s, r)| s.acks_peer_fin(r)),
            );
            if let (Some(s), Some(a), Some(r)) = (s, a, r) {
                v.push(("gap", format!("{:.3}", s.t(r) - s.t(a))));
            }
            if let Some(s7) = pick(w, Some(7)) {
                let f7 = s7.our_fin();
                let a7 = f7.and_then(|f| s7.fin_acked(f));
                if let (Some(a7), Some(r7)) = (a7, s7.peer_fin()) {
                    v.extend(together(s7, a7, r7));
                }
            }
        }
        "reset" | "simultaneous-close" => {
            let steps: &[&str] = if lesson == "reset" {
                &["rst", "closed"]
            } else {
                &["open13", "cross", "ack13", "last13"]
            };
            for id in steps {
                let vars = check(lesson, id, w).unwrap_or_default();
                for (k, val) in vars {
                    if k == "t" {
                        let name: &'static str = match *id {
                            "rst" => "t_rst",
                            "closed" => "t_closed",
                            "open13" => "t_fin",
                            "cross" => "t_cross",
                            "ack13" => "t_ack",
                            _ => "t_last",
                        };
                        v.push((name, val));
                    } else {
                        v.push((k, val));
                    }
                }
            }
        }
        "why-three" => {
            if let Some(vars) = pick(w, None).and_then(|s| three_numbers(s, w)) {
                v.extend(vars);
            }
        }
        _ => {}
    }
    v
}
