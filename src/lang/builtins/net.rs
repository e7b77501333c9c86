//! The network: `send`, `sr1`, `sr`, `sniff`, and scapy's frame names for them.

use crate::lang::call::*;
use crate::lang::error::Result;
use crate::lang::helpers::{net_err, packet_line, send_opts, sr_opts, to_packets, write_out};
use crate::lang::net::SniffOpts;
use std::rc::Rc;

const BUILTINS: &[BuiltinEntry] = &[
    ("send", "send(p or [p…], count=1, inter=0, iface=none): send packets, no answers awaited", send),
    ("sr1", "sr1(p, timeout=2, retry=0): send one probe, return its reply or none", sr1),
    ("sr", "sr(packets, timeout=2, retry=0): send probes; result .answered (replies), .unanswered, .unmatched ({packet, reason})", sr),
    ("sniff", "sniff(count=0, timeout=none, filter=none, iface=none, store=true, prn=none, lfilter=none, stop_filter=none): capture packets, outgoing ones too (filter: tcpdump's language); prn(p) runs on each, lfilter(p) picks, stop_filter(p) ends", sniff),
];

pub fn install(it: &mut Interp) {
    it.register_all(BUILTINS);
    it.register_alias("sendp", "send", "sendp(frame or [frame…], count=1, inter=0, iface=none): send Ether()/IP(...) frames (send() takes them too)");
    it.register_alias(
        "srp",
        "sr",
        "srp(frames, timeout=2, retry=0): sr() for Ether()/IP(...) frames (sr() takes them too)",
    );
    it.register_alias(
        "srp1",
        "sr1",
        "srp1(frame, timeout=2, retry=0): sr1() for an Ether()/IP(...) frame (sr1() takes one too)",
    );
}

fn send(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let v = a.require(0, "packets")?;
    let opts = send_opts(a)?;
    a.finish(1)?;
    let pkts = to_packets(&v, a.span_of(0))?;
    let n = crate::lang::fuzz::send(it, &pkts, &opts).map_err(|e| net_err(a.span, e))?;
    Ok(Value::Int(n as i64))
}

fn sr1(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let v = a.require(0, "packet")?;
    let opts = sr_opts(a)?;
    a.finish(1)?;
    let pkts = crate::lang::fuzz::drawn(it, to_packets(&v, a.span_of(0))?);
    // The fragments of one datagram: sent as they are, the datagram's answer.
    if let Some(r) = crate::lang::fragment::sr1(it, &pkts, &opts).map_err(|e| net_err(a.span, e))? {
        return Ok(r);
    }
    let [p] = pkts.as_slice() else {
        return Err(a.err(format!(
            "sr1() sends one packet, got {} (use sr() for many)",
            pkts.len()
        )));
    };
    let t0 = std::time::Instant::now();
    let r = it.net.sr1(p, &opts).map_err(|e| net_err(a.span, e))?;
    let answered = usize::from(r.is_some());
    // Without an answer every retry went out too.
    let sent = if answered == 1 {
        1
    } else {
        1 + opts.retry as usize
    };
    sr_counts(it, "sr1", sent, answered, 0, t0);
    Ok(r.map_or(Value::None, |r| Value::Reply(Rc::new(r))))
}

fn sr(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let v = a.require(0, "packets")?;
    let opts = sr_opts(a)?;
    a.finish(1)?;
    let pkts = crate::lang::fuzz::drawn(it, to_packets(&v, a.span_of(0))?);
    let t0 = std::time::Instant::now();
    let r = crate::lang::fragment::sr(it, &pkts, &opts).map_err(|e| net_err(a.span, e))?;
    sr_counts(
        it,
        "sr",
        pkts.len(),
        r.answered.len(),
        r.unmatched.len(),
        t0,
    );
    Ok(Value::Handle(Rc::new(SrAnswer {
        answered: Value::list(
            r.answered
                .into_iter()
                .map(|x| Value::Reply(Rc::new(x)))
                .collect(),
        ),
        unanswered: Value::list(r.unanswered.into_iter().map(Value::packet).collect()),
        unmatched: Value::list(
            r.unmatched
                .into_iter()
                .map(|(p, why)| {
                    Value::dict(vec![
                        ("packet", Value::packet(p)),
                        ("reason", Value::Str(why.into())),
                    ])
                })
                .collect(),
        ),
    })))
}

fn sniff(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let callbacks = crate::lang::sniff::Callbacks::take(a)?;
    let count = a.int(usize::MAX, "count")?.unwrap_or(0);
    let timeout = a.float(usize::MAX, "timeout")?;
    let filter = a.string(usize::MAX, "filter")?;
    let iface = a.string(usize::MAX, "iface")?;
    // scapy's store=False/True, or how many packets to keep at most.
    let store = match a.kw("store") {
        None | Some(Value::None) | Some(Value::Bool(true)) => None,
        Some(Value::Bool(false)) => Some(0),
        Some(Value::Int(n)) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        Some(Value::Int(n)) => {
            return Err(a.err(format!(
                "sniff(): store must be true, false or a number of packets (0 or more), got {n}"
            )))
        }
        Some(v) => {
            return Err(a.err(format!(
                "sniff(): store must be true, false or a number of packets, not {}",
                v.type_name()
            )))
        }
    };
    a.finish(0)?;
    if count < 0 {
        return Err(a.err("sniff(): count must not be negative"));
    }
    if count == 0 && timeout.is_none() && callbacks.stop_filter.is_none() && !it.net.is_dry_run() {
        return Err(a.err("sniff() needs count=, timeout= or stop_filter= (it would wait forever)"));
    }
    let opts = SniffOpts {
        count: count as usize,
        timeout,
        filter,
        iface,
        store,
    };
    if callbacks.any() {
        return crate::lang::sniff::sniff_with_callbacks(it, &opts, &callbacks, a.span);
    }
    let r = it.net.sniff(&opts).map_err(|e| net_err(a.span, e))?;
    Ok(Value::list(r.into_iter().map(Value::packet).collect()))
}

/// In the shell (or with `-v`), what `sr`/`sr1` did, as scapy's "Received 1 packets,
/// got 1 answers" does: on standard error, so that it is no part of the value.
fn sr_counts(
    it: &mut Interp,
    name: &str,
    sent: usize,
    answered: usize,
    unmatched: usize,
    t0: std::time::Instant,
) {
    if !(it.opts.interactive || it.opts.verbose) || it.opts.quiet || it.net.is_dry_run() {
        return;
    }
    let secs = t0.elapsed().as_secs_f64();
    let other = if unmatched > 0 {
        format!(", {unmatched} other packets seen")
    } else {
        String::new()
    };
    let _ = std::io::Write::flush(&mut it.out);
    eprintln!(
        "{name}: {sent} sent, {answered} answered in {} s{other}",
        fmt_secs(secs)
    );
}

/// Seconds as people read them: `2`, `0.25`, `0.003`.
fn fmt_secs(s: f64) -> String {
    if s < 0.1 {
        format!("{s:.3}")
    } else if s >= 10.0 || (s - s.round()).abs() < 0.05 {
        format!("{s:.0}")
    } else {
        format!("{s:.1}")
    }
}

/// What `sr` returns: `.answered` (replies, each with `.probe`) and `.unanswered`
/// (packets); it also unpacks as scapy's pair: `ans, unans = sr(probes)`.
#[derive(Debug)]
struct SrAnswer {
    answered: Value,
    unanswered: Value,
    /// `{packet, reason}` records: captured, but answering no probe.
    unmatched: Value,
}

impl Object for SrAnswer {
    fn type_name(&self) -> &'static str {
        "sr result"
    }
    fn display(&self) -> String {
        let n = |v: &Value| match v {
            Value::List(l) => l.borrow().len(),
            _ => 0,
        };
        format!(
            "<sr: {} answered, {} unanswered>",
            n(&self.answered),
            n(&self.unanswered)
        )
    }
    fn get(&self, _: &mut Interp, name: &str) -> Option<Result<Value>> {
        match name {
            "answered" => Some(Ok(self.answered.clone())),
            "unanswered" => Some(Ok(self.unanswered.clone())),
            "unmatched" => Some(Ok(self.unmatched.clone())),
            _ => None,
        }
    }
    fn call(&self, it: &mut Interp, method: &str, a: &mut Args) -> Option<Result<Value>> {
        match method {
            // scapy's `ans.summary()`: one line per probe, "probe ==> reply", then
            // the probes nothing answered.
            "summary" | "nsummary" | "show" => Some(a.finish(0).map(|()| {
                let mut text = String::new();
                let mut items: Vec<Value> = Vec::new();
                for v in [&self.answered, &self.unanswered] {
                    if let Value::List(l) = v {
                        items.extend(l.borrow().iter().cloned());
                    }
                }
                for (i, x) in items.iter().enumerate() {
                    if method != "summary" {
                        text.push_str(&format!("{i:04} "));
                    }
                    text.push_str(&packet_line(x));
                    if matches!(x, Value::Packet(_)) {
                        text.push_str("   (no answer)");
                    }
                    text.push('\n');
                }
                text.push_str(&self.display());
                write_out(it, &text);
                Value::None
            })),
            _ => None,
        }
    }
    fn names(&self) -> Vec<&'static str> {
        vec!["answered", "unanswered", "unmatched", "summary", "nsummary"]
    }
    fn help(&self, name: &str) -> Option<String> {
        Some(
            match name {
                "" => "sr()'s result; `ans, unans = sr(…)` unpacks it as scapy's pair",
                "summary" => "res.summary(): one line per probe, `probe ==> reply`, then those without an answer",
                "nsummary" => "res.nsummary(): summary() with numbered lines",
                _ => return None,
            }
            .to_string(),
        )
    }
    fn items(&self) -> Option<Vec<Value>> {
        Some(vec![self.answered.clone(), self.unanswered.clone()])
    }
}
