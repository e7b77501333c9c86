//! `sniff` with callbacks (scapy's `prn=`, `lfilter=`, `stop_filter=`) and the
//! background capture `sniffer()` (scapy's `AsyncSniffer`): a capture that runs while the
//! script sends, stopped with `c.stop()`.
//!
//! Both drive a [`LiveSniff`] the backend opened ([`Net::open_sniff`](super::Net)): its
//! own packet socket, armed when the call is made, which the kernel keeps filling while
//! the script does something else; packets carry the kernel's capture time.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::call::{Args, Interp, Object, Value};
use super::error::Result;
use super::helpers::net_err;
use super::net::{interrupted, LiveSniff, SniffOpts};
use crate::packet::Packet;

/// The most packets a `sniff` with callbacks (without `store=`) or a `sniffer` keeps in
/// memory, as plain `sniff` keeps at most 100,000 by default.
const MAX_KEPT: usize = 100_000;

/// The callbacks of one `sniff` call.
pub struct Callbacks {
    /// Called with each packet kept; a result other than `none` is printed.
    pub prn: Option<Value>,
    /// Keep only packets for which it is true (they count toward `count`).
    pub lfilter: Option<Value>,
    /// Stop after the first packet for which it is true (that packet is kept).
    pub stop_filter: Option<Value>,
}

impl Callbacks {
    /// Take `prn=`, `lfilter=`, `stop_filter=` from the arguments; each must be callable.
    pub fn take(a: &mut Args) -> Result<Callbacks> {
        let mut one = |name: &str| -> Result<Option<Value>> {
            match a.kw(name) {
                None | Some(Value::None) => Ok(None),
                Some(v @ (Value::Func(_) | Value::Builtin(_))) => Ok(Some(v)),
                Some(v) => Err(a.err(format!(
                    "sniff(): {name} must be a function (fn (p) {{ … }} or a function's name), not {}",
                    v.type_name()
                ))),
            }
        };
        Ok(Callbacks {
            prn: one("prn")?,
            lfilter: one("lfilter")?,
            stop_filter: one("stop_filter")?,
        })
    }

    pub fn any(&self) -> bool {
        self.prn.is_some() || self.lfilter.is_some() || self.stop_filter.is_some()
    }
}

fn call(it: &mut Interp, f: &Value, name: &str, p: &Value, span: super::Span) -> Result<Value> {
    let mut a = Args::new(name, vec![p.clone()], span);
    it.call_value(f, &mut a)
}

/// `sniff(…)` with callbacks, in scapy's order for each packet the filter keeps:
/// `lfilter` (false: skipped, not counted), counted, stored, `prn` (its result printed
/// unless `none`), `stop_filter` (true: stop), then the `count` check. Ends at `count`,
/// `timeout`, `stop_filter` or Ctrl-C; returns the packets kept (at most `store`).
pub fn sniff_with_callbacks(
    it: &mut Interp,
    opts: &SniffOpts,
    cb: &Callbacks,
    span: super::Span,
) -> Result<Value> {
    if it.net.is_dry_run() {
        // Nothing is captured in a dry run (as plain sniff() returns []).
        return Ok(Value::list(Vec::new()));
    }
    let mut cap = it.net.open_sniff(opts).map_err(|e| net_err(span, e))?;
    let start = Instant::now();
    let limit = opts.store.unwrap_or(MAX_KEPT);
    let mut kept = Vec::new();
    let mut counted = 0usize;
    loop {
        if interrupted() {
            break;
        }
        let wait = match opts.timeout {
            Some(t) => {
                let total = Duration::from_secs_f64(t.clamp(0.0, 1e9));
                match total.checked_sub(start.elapsed()) {
                    Some(r) if !r.is_zero() => r.min(Duration::from_millis(50)),
                    _ => break,
                }
            }
            None => Duration::from_millis(50),
        };
        let Some(p) = cap.next(wait).map_err(|e| net_err(span, e))? else {
            continue;
        };
        let v = Value::packet(p);
        if let Some(f) = &cb.lfilter {
            if !call(it, f, "lfilter", &v, span)?.truthy() {
                continue;
            }
        }
        counted += 1;
        if kept.len() < limit {
            kept.push(v.clone());
        }
        if let Some(f) = &cb.prn {
            let r = call(it, f, "prn", &v, span)?;
            if !matches!(r, Value::None) {
                let mut s = r.to_display();
                s.push('\n');
                let _ = std::io::Write::write_all(&mut it.out, s.as_bytes());
            }
        }
        if let Some(f) = &cb.stop_filter {
            if call(it, f, "stop_filter", &v, span)?.truthy() {
                break;
            }
        }
        if opts.count > 0 && counted >= opts.count {
            break;
        }
    }
    if cap.drops() > 0 {
        eprintln!(
            "tcpcraft: sniff: the kernel dropped {} packets (capture buffer full)",
            cap.drops()
        );
    }
    Ok(Value::list(kept))
}

/// A background capture: `c = sniffer(filter=…)`, then `c.stop()`.
struct Sniffer {
    cap: RefCell<Option<Box<dyn LiveSniff>>>,
    caught: RefCell<Vec<Packet>>,
    count: usize,
    /// Packets captured after this wall-clock time are not taken (`timeout=`).
    until: Option<Duration>,
    started: Instant,
    timeout: Option<Duration>,
    filter: String,
}

impl std::fmt::Debug for Sniffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

impl Sniffer {
    /// Take what the kernel queued so far; close the capture when `stop`, when `count`
    /// packets were caught, or when the timeout has passed.
    fn collect(&self, stop: bool) -> std::result::Result<(), super::net::NetError> {
        let mut slot = self.cap.borrow_mut();
        let Some(cap) = slot.as_mut() else {
            return Ok(());
        };
        let mut caught = self.caught.borrow_mut();
        let mut done = stop;
        let most = if self.count == 0 {
            MAX_KEPT
        } else {
            self.count.min(MAX_KEPT)
        };
        while caught.len() < most {
            let Some(p) = cap.next(Duration::ZERO)? else {
                break;
            };
            if let (Some(until), Some(t)) = (self.until, p.time) {
                if t > until {
                    done = true;
                    break;
                }
            }
            caught.push(p);
        }
        if caught.len() >= most {
            done = true;
        }
        if self.timeout.is_some_and(|t| self.started.elapsed() >= t) {
            done = true;
        }
        if done {
            *slot = None;
        }
        Ok(())
    }

    fn running(&self) -> bool {
        self.cap.borrow().is_some()
    }

    fn packets(&self) -> Value {
        Value::list(self.caught_values())
    }

    fn caught_values(&self) -> Vec<Value> {
        self.caught
            .borrow()
            .iter()
            .cloned()
            .map(Value::packet)
            .collect()
    }
}

impl Object for Sniffer {
    fn type_name(&self) -> &'static str {
        "sniffer"
    }
    fn display(&self) -> String {
        let state = if self.running() { "running" } else { "stopped" };
        let filter = if self.filter.is_empty() {
            String::new()
        } else {
            format!(" filter {:?}", self.filter)
        };
        format!(
            "<sniffer{filter}: {state}, {} packets>",
            self.caught.borrow().len()
        )
    }
    fn get(&self, _: &mut Interp, name: &str) -> Option<Result<Value>> {
        match name {
            "results" => Some(
                self.collect(false)
                    .map(|_| self.packets())
                    .map_err(|e| net_err(super::Span::default(), e)),
            ),
            "running" => Some(
                self.collect(false)
                    .map(|_| Value::Bool(self.running()))
                    .map_err(|e| net_err(super::Span::default(), e)),
            ),
            _ => None,
        }
    }
    fn call(&self, _: &mut Interp, method: &str, a: &mut Args) -> Option<Result<Value>> {
        match method {
            "stop" => Some(a.finish(0).and_then(|_| {
                self.collect(true)
                    .map(|_| self.packets())
                    .map_err(|e| net_err(a.span, e))
            })),
            "wait" => Some((|| {
                // Wait until count= packets came, the timeout passed, or `timeout`
                // seconds (scapy's join()).
                let t = a.float(0, "timeout")?;
                a.finish(1)?;
                let until = t.map(|t| Instant::now() + Duration::from_secs_f64(t.clamp(0.0, 1e9)));
                if until.is_none() && self.count == 0 && self.timeout.is_none() {
                    return Err(a.err(
                        "wait() on a sniffer without count= or timeout= needs a timeout (it would wait forever)",
                    ));
                }
                loop {
                    self.collect(false).map_err(|e| net_err(a.span, e))?;
                    if !self.running()
                        || interrupted()
                        || until.is_some_and(|u| Instant::now() >= u)
                    {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(self.packets())
            })()),
            _ => None,
        }
    }
    fn names(&self) -> Vec<&'static str> {
        vec!["stop", "wait", "results", "running"]
    }
    fn items(&self) -> Option<Vec<Value>> {
        let _ = self.collect(false);
        Some(self.caught_values())
    }
}

/// Registers `sniffer`.
pub fn install(it: &mut Interp) {
    it.register(
        "sniffer",
        "sniffer(filter=none, count=0, timeout=none, iface=none): start a capture in the background (scapy's AsyncSniffer); c.stop() returns what it caught, c.results / len(c) so far, c.wait() until count/timeout",
        |it, a| {
            let count = a.int(usize::MAX, "count")?.unwrap_or(0);
            let timeout = a.float(usize::MAX, "timeout")?;
            let filter = a.string(usize::MAX, "filter")?;
            let iface = a.string(usize::MAX, "iface")?;
            a.finish(0)?;
            if count < 0 {
                return Err(a.err("sniffer(): count must not be negative"));
            }
            if let Some(t) = timeout {
                if !(t.is_finite() && t >= 0.0) {
                    return Err(a.err("sniffer(): timeout is seconds, 0 or more"));
                }
            }
            let opts = SniffOpts {
                count: count as usize,
                timeout,
                filter: filter.clone(),
                iface,
                store: None,
            };
            // A dry run catches nothing: the sniffer starts stopped (wait() returns at once).
            let cap = if it.net.is_dry_run() {
                None
            } else {
                Some(it.net.open_sniff(&opts).map_err(|e| net_err(a.span, e))?)
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let timeout = timeout.map(|t| Duration::from_secs_f64(t.min(1e9)));
            Ok(Value::Handle(Rc::new(Sniffer {
                cap: RefCell::new(cap),
                caught: RefCell::new(Vec::new()),
                count: count as usize,
                until: timeout.map(|t| now + t),
                started: Instant::now(),
                timeout,
                filter: filter.unwrap_or_default(),
            })))
        },
    );
}

#[cfg(test)]
mod tests {
    use super::super::net::DryRun;
    use super::super::Interp;

    fn run(src: &str) -> String {
        let mut it = Interp::new(
            Box::new(DryRun::new(Box::new(|_| {}))),
            Box::new(std::io::sink()),
        );
        match it.run_source("<t>", src, 1) {
            Ok(v) => v.map(|v| v.repr()).unwrap_or_default(),
            Err(e) => format!("error: {}", e.kind),
        }
    }

    #[test]
    fn dry_runs_catch_nothing_and_never_wait_forever() {
        assert_eq!(run("c = sniffer(count=3); c.wait()"), "[]");
        assert_eq!(run("c = sniffer(); len(c)"), "0");
        assert_eq!(run("c = sniffer(); c.running"), "false");
        assert_eq!(run("sniff(prn=print, count=2)"), "[]");
        assert_eq!(run("fn s(p) { return true }; sniff(stop_filter=s)"), "[]");
    }

    #[test]
    fn callbacks_must_be_functions() {
        let e = run("sniff(prn=3, count=1)");
        assert!(e.contains("prn must be a function"), "{e}");
        let e = run("sniffer(count=-1)");
        assert!(e.contains("count must not be negative"), "{e}");
        let e = run("p = IP(); p.time = \"x\"");
        assert!(e.contains("seconds since 1970"), "{e}");
        assert_eq!(
            run("p = IP(); p.time = 1700000000.5; p.time"),
            "1700000000.5"
        );
    }
}
