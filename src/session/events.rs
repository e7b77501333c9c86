//! What a received segment brings to the person driving the session, and how
//! `expect` matches it. Pure: no I/O, no clock.
//!
//! A segment carries **events**: the peer's SYN, an advance of its acknowledgement,
//! new data, its FIN, a RST. A retransmission of something already taken carries none.
//! `expect("FA")` waits for the events its flags name (S: SYN, P: data, F: FIN, R: RST;
//! A: an acknowledgement); events of a segment that an earlier `expect` did not ask for
//! stay pending for the next one. So the article's teardown, `expect("A");
//! expect("FA")`, passes whether the peer's ACK and FIN came apart or in one segment,
//! and `expect("A"); expect("PA")` whether the answer came with the ACK or after it.
//! Segments carrying nothing asked for are passed over; a RST not asked for fails the
//! expectation at once. `strict` (packetdrill's rule) checks exactly the next segment.

use std::collections::VecDeque;

use super::state::{seq_ge, seq_gt, Step};
use crate::packet::{Packet, TcpFlags};

/// What a segment acknowledges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AckEvent {
    /// Nothing to match: no ACK bit, or an ACK riding on other news.
    #[default]
    None,
    /// Acknowledges something of ours not acknowledged before, up to this number.
    Advance(u32),
    /// A segment with nothing but an ACK that acknowledges nothing new: a duplicate
    /// ACK, a challenge ACK, a window update, the answer to a probe.
    Bare,
}

/// The events of one received segment still waiting for an `expect`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Events {
    pub syn: bool,
    pub ack: AckEvent,
    /// Bytes not received before (a retransmission brings none).
    pub data: Vec<u8>,
    pub fin: bool,
    pub rst: bool,
}

impl Events {
    pub fn is_empty(&self) -> bool {
        !self.syn && self.ack == AckEvent::None && self.data.is_empty() && !self.fin && !self.rst
    }

    /// `SYN, ACK, 5 bytes, FIN`: for `s.pending` and messages.
    pub fn describe(&self) -> String {
        let mut v = Vec::new();
        if self.syn {
            v.push("SYN".to_string());
        }
        match self.ack {
            AckEvent::Advance(a) => v.push(format!("ACK {a}")),
            AckEvent::Bare => v.push("ACK (nothing new)".to_string()),
            AckEvent::None => {}
        }
        if !self.data.is_empty() {
            v.push(format!("{} bytes", self.data.len()));
        }
        if self.fin {
            v.push("FIN".to_string());
        }
        if self.rst {
            v.push("RST".to_string());
        }
        if v.is_empty() {
            "nothing new".to_string()
        } else {
            v.join(", ")
        }
    }
}

/// A received segment no `expect` has taken yet, with its remaining events.
#[derive(Clone, Debug)]
pub struct Pending {
    pub step: Step,
    pub packet: Packet,
    pub events: Events,
    /// When the session's segment before this one was sent or received (`after=` and
    /// `before=` time a segment from it).
    pub prev_at: Option<std::time::Instant>,
    /// Arrival number in the session (1, 2, …), so a wait can tell new arrivals.
    pub serial: u64,
}

/// What an expectation's flags ask for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Want {
    pub syn: bool,
    pub ack: bool,
    pub data: bool,
    pub fin: bool,
    pub rst: bool,
}

impl Want {
    /// `None` (no flags given): any segment.
    pub fn from_flags(flags: Option<TcpFlags>) -> Option<Want> {
        let f = flags?;
        Some(Want {
            syn: f.contains(TcpFlags::SYN),
            ack: f.contains(TcpFlags::ACK),
            data: f.contains(TcpFlags::PSH),
            fin: f.contains(TcpFlags::FIN),
            rst: f.contains(TcpFlags::RST),
        })
    }

    /// Anything but the acknowledgement named.
    fn news(&self) -> bool {
        self.syn || self.data || self.fin || self.rst
    }
}

/// The outcome of looking through the pending segments.
#[derive(Debug)]
pub enum Found {
    /// The events asked for are there; the segment at this index completed them.
    Match(usize),
    /// A RST (not asked for) came first, at this index.
    Reset(usize),
    /// Not (yet) there.
    NotYet,
}

/// Looks for `want` in `pending` without taking anything. `snd_nxt` is what we have
/// sent so far: a bare "A" waits for an acknowledgement of all of it (or for an ACK
/// that acknowledges nothing new, which answers something of ours).
pub fn find(pending: &VecDeque<Pending>, want: Option<Want>, snd_nxt: u32) -> Found {
    let Some(want) = want else {
        return if pending.is_empty() {
            Found::NotYet
        } else {
            Found::Match(0)
        };
    };
    let (mut syn, mut data, mut fin) = (!want.syn, !want.data, !want.fin);
    for (i, p) in pending.iter().enumerate() {
        let e = &p.events;
        let has_ack = p.step.seg.flags.contains(TcpFlags::ACK);
        if e.rst {
            if want.rst {
                return Found::Match(i);
            }
            return Found::Reset(i);
        }
        if want.rst {
            continue;
        }
        if !want.news() {
            let answers = match e.ack {
                AckEvent::Advance(a) => seq_ge(a, snd_nxt),
                AckEvent::Bare => true,
                AckEvent::None => false,
            };
            if want.ack && answers {
                return Found::Match(i);
            }
            continue;
        }
        // "SA" is a SYN that acknowledges ours; "S" a SYN without ACK (simultaneous open).
        if e.syn && !syn && has_ack == want.ack {
            syn = true;
        }
        if !e.data.is_empty() && !data {
            data = true;
        }
        if e.fin && !fin {
            fin = true;
        }
        if syn && data && fin {
            return Found::Match(i);
        }
    }
    Found::NotYet
}

/// Takes what `want` matched at `last` (see [`find`]): the named events from the
/// segments that provided them, and the acknowledgements of every segment up to
/// `last` (passed over, they are seen). Segments left with no events are removed.
/// Returns the segment that completed the match and the new data taken.
pub fn take(
    pending: &mut VecDeque<Pending>,
    want: Option<Want>,
    last: usize,
) -> Option<(Pending, Vec<u8>)> {
    let matched = pending.get(last)?.clone();
    let mut data = Vec::new();
    match want {
        None => {
            data = std::mem::take(&mut pending.get_mut(last)?.events.data);
            if let Some(p) = pending.get_mut(last) {
                p.events = Events::default();
            }
        }
        Some(w) => {
            let (mut syn, mut dat, mut fin) = (w.syn, w.data, w.fin);
            for p in pending.iter_mut().take(last + 1) {
                let e = &mut p.events;
                if syn && e.syn {
                    e.syn = false;
                    syn = false;
                }
                if dat && !e.data.is_empty() {
                    data = std::mem::take(&mut e.data);
                    dat = false;
                }
                if fin && e.fin {
                    e.fin = false;
                    fin = false;
                }
                if w.rst && e.rst {
                    e.rst = false;
                }
                e.ack = AckEvent::None;
            }
        }
    }
    drop_spent(pending, last);
    Some((matched, data))
}

/// Where `len` bytes of new data are complete: the index of the segment that brings
/// the last of them, `Err(i)` for a RST before that, `None` while they are not all here.
pub fn find_len(pending: &VecDeque<Pending>, len: usize) -> Option<Result<usize, usize>> {
    let mut have = 0usize;
    for (i, p) in pending.iter().enumerate() {
        if p.events.rst {
            return Some(Err(i));
        }
        have += p.events.data.len();
        if have >= len && !p.events.data.is_empty() {
            return Some(Ok(i));
        }
    }
    None
}

/// Takes the data (and the acknowledgements) of every segment up to `last`, in order;
/// segments left with no events are removed. Returns the last segment and the data.
pub fn take_data(pending: &mut VecDeque<Pending>, last: usize) -> Option<(Pending, Vec<u8>)> {
    let matched = pending.get(last)?.clone();
    let mut data = Vec::new();
    for p in pending.iter_mut().take(last + 1) {
        data.append(&mut p.events.data);
        p.events.ack = AckEvent::None;
    }
    drop_spent(pending, last);
    Some((matched, data))
}

/// Removes the segments up to `last` that have no events left.
fn drop_spent(pending: &mut VecDeque<Pending>, last: usize) {
    let mut index = 0;
    pending.retain(|p| {
        let keep = index > last || !p.events.is_empty();
        index += 1;
        keep
    });
}

/// The acknowledgement event of a segment: `snd_una` and `snd_nxt` are ours before it.
pub fn ack_event(flags: TcpFlags, ack: u32, len: u32, snd_una: u32, snd_nxt: u32) -> AckEvent {
    if !flags.contains(TcpFlags::ACK) || flags.contains(TcpFlags::RST) {
        return AckEvent::None;
    }
    if seq_gt(ack, snd_una) && seq_ge(snd_nxt, ack) {
        return AckEvent::Advance(ack);
    }
    let pure = len == 0 && !flags.contains(TcpFlags::SYN) && !flags.contains(TcpFlags::FIN);
    if pure {
        AckEvent::Bare
    } else {
        AckEvent::None
    }
}
