//! `scan()` in the language:
//! `res = scan(target, ports="1-1024", type="syn", rate=, retries=, wait=)`.
//!
//! The result prints as the command's table; `res.open` (also `closed`, `filtered`,
//! `unfiltered`, `open_filtered`) lists port numbers when one host was scanned and
//! `{host, port}` records otherwise; `res.results` has one record per port
//! (host, port, proto, state, reason, rtt_ms); `res.state(port)` / `res.state(host,
//! port)` give one port's state. `len(res)` and `for p in res` go over `res.open`.
//! With `--dry-run` nothing is sent: it says what it would scan and returns an empty
//! result. Ctrl-C stops the scan and the script.

use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::lang::error::{error, ErrorKind, Result};
use crate::lang::{Args, Interp, Object, Value};
use crate::scan::result::{PortResult, ScanResults, ScanType, State};
use crate::scan::{ports, targets, ScanConfig, ScanError, INTERRUPTED};

/// Adds `scan()` to an interpreter.
pub fn install(it: &mut Interp) {
    it.register(
        "scan",
        "scan(target, ports=\"1-1024\", type=\"syn\", rate=, retries=, wait=): which ports are open \
         (types: syn ack udp connect null fin xmas); res.open, res.results, res.state(port)",
        run,
    );
}

fn run(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let span = a.span;
    let value = |m: String| error(span, ErrorKind::Value(m));
    let target = a.string(0, "target")?.ok_or_else(|| {
        error(
            span,
            ErrorKind::Arguments("scan() needs the argument `target`".into()),
        )
    })?;
    let port_spec = a.string(1, "ports")?.unwrap_or_else(|| "1-1024".into());
    let kind = a.string(2, "type")?.unwrap_or_else(|| "syn".into());
    let rate = a.int(usize::MAX, "rate")?;
    let retries = a.int(usize::MAX, "retries")?;
    let wait = a.float(usize::MAX, "wait")?;
    a.finish(3)?;
    let mut kind = ScanType::parse(&kind).map_err(value)?;
    let specs = target
        .split_whitespace()
        .map(targets::parse_target)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(value)?;
    let t = targets::resolve(&specs, &[]).map_err(value)?;
    let p = ports::parse_ports(&port_spec)
        .map_err(value)?
        .for_proto(kind.proto());
    if p.is_empty() || t.is_empty() {
        return Err(value(
            "scan(): nothing to scan (no ports or no targets)".into(),
        ));
    }
    let rate = match rate {
        None => None,
        Some(r) if r > 0 => Some(r as u64),
        Some(r) => return Err(value(format!("scan(): rate must be positive, not {r}"))),
    };
    let wait = match wait {
        None => None,
        Some(w) if w.is_finite() && (0.0..=3600.0).contains(&w) => Some(Duration::from_secs_f64(w)),
        Some(w) => {
            return Err(value(format!(
                "scan(): wait must be 0 to 3600 seconds, not {w}"
            )))
        }
    };
    if t.len().saturating_mul(p.len() as u64) > crate::scan::MAX_PAIRS {
        return Err(value(format!(
            "scan(): more than {} (host, port) pairs in one scan",
            crate::scan::MAX_PAIRS
        )));
    }
    if it.net.is_dry_run() {
        it.println(&format!(
            "would scan {} host{} x {} {} port{} ({} scan)",
            t.len(),
            if t.len() == 1 { "" } else { "s" },
            p.len(),
            kind.proto(),
            if p.len() == 1 { "" } else { "s" },
            kind.name()
        ));
        let res = ScanResults::new(kind, t, p);
        return Ok(Value::Handle(std::rc::Rc::new(ScanValue { res })));
    }
    if kind == ScanType::Syn && !crate::scan::privileged() {
        kind = ScanType::Connect;
    }
    let cfg = ScanConfig {
        kind,
        rate,
        max_retries: retries.map_or(crate::scan::ctx::DEFAULT_RETRIES, |r| {
            r.clamp(0, 100) as u32
        }),
        wait,
        seed: crate::scan::cookie::Key::random().0,
        // A script changes no firewall behind its author's back.
        keep_rsts: true,
        ..ScanConfig::default()
    };
    // The scan runs on its own thread (a panic there is reported, not fatal); Ctrl-C
    // reaches it through the one cancellation flag, which the script then sees too.
    let outcome = std::thread::scope(|s| s.spawn(|| crate::scan::run(t, p, &cfg)).join());
    let stopped = INTERRUPTED.load(Ordering::Relaxed);
    let res = match outcome {
        Ok(Ok(res)) => res,
        Ok(Err(ScanError::Usage(m))) => return Err(value(m)),
        Ok(Err(e)) => return Err(error(span, ErrorKind::System(e.to_string()))),
        Err(_) => {
            return Err(error(
                span,
                ErrorKind::System("the scan thread failed".into()),
            ))
        }
    };
    if stopped {
        return Err(error(span, ErrorKind::Interrupted));
    }
    Ok(Value::Handle(std::rc::Rc::new(ScanValue { res })))
}

/// A scan result as a script value.
struct ScanValue {
    res: ScanResults,
}

impl fmt::Debug for ScanValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.res)
    }
}

fn record(r: &PortResult) -> Value {
    Value::dict(vec![
        ("host", Value::str(&r.host.to_string())),
        ("port", Value::Int(i64::from(r.port))),
        ("proto", Value::str(r.proto.as_str())),
        ("state", Value::str(r.state.as_str())),
        ("reason", Value::str(&r.reason.to_string())),
        (
            "rtt_ms",
            r.rtt
                .map_or(Value::None, |d| Value::Float(d.as_secs_f64() * 1e3)),
        ),
    ])
}

impl ScanValue {
    /// Ports in `state`: numbers for a one-host scan, {host, port} records otherwise.
    fn in_state(&self, state: State) -> Value {
        let one_host = self.res.targets.len() == 1;
        let v = self
            .res
            .with_state(state)
            .iter()
            .map(|r| {
                if one_host {
                    Value::Int(i64::from(r.port))
                } else {
                    Value::dict(vec![
                        ("host", Value::str(&r.host.to_string())),
                        ("port", Value::Int(i64::from(r.port))),
                    ])
                }
            })
            .collect();
        Value::list(v)
    }

    fn state(&self, a: &mut Args) -> Result<Value> {
        let (host, port) = match (a.pos.first().cloned(), a.pos.get(1).cloned()) {
            (Some(Value::Str(h)), Some(Value::Int(p))) => {
                let h: IpAddr = h
                    .parse()
                    .map_err(|_| a.err(format!("state(): {h:?} is not an IP address")))?;
                (h, p)
            }
            (Some(Value::Int(p)), None) if self.res.targets.len() == 1 => {
                match self.res.targets.get(0) {
                    Some(h) => (h, p),
                    None => return Ok(Value::None),
                }
            }
            _ => return Err(a.err("state(port) for a one-host scan, else state(host, port)")),
        };
        let st = u16::try_from(port)
            .ok()
            .and_then(|p| self.res.state_of(host, p));
        Ok(st.map_or(Value::None, |s| Value::str(s.as_str())))
    }
}

impl Object for ScanValue {
    fn type_name(&self) -> &'static str {
        "scan result"
    }

    fn display(&self) -> String {
        self.res.to_string()
    }

    fn get(&self, _it: &mut Interp, name: &str) -> Option<Result<Value>> {
        let v = match name {
            "open" => self.in_state(State::Open),
            "closed" => self.in_state(State::Closed),
            "filtered" => self.in_state(State::Filtered),
            "unfiltered" => self.in_state(State::Unfiltered),
            "open_filtered" => self.in_state(State::OpenFiltered),
            "results" => Value::list(self.res.iter().map(|r| record(&r)).collect()),
            "hosts" => Value::list(
                self.res
                    .targets
                    .iter()
                    .map(|h| Value::str(&h.to_string()))
                    .collect(),
            ),
            "type" => Value::str(&self.res.kind.name()),
            "stats" => {
                let s = &self.res.stats;
                Value::dict(vec![
                    ("probes", Value::Int(s.sent as i64)),
                    ("answers", Value::Int(s.replies as i64)),
                    ("retry_rounds", Value::Int(i64::from(s.rounds))),
                    ("capture_drops", Value::Int(s.capture_drops as i64)),
                    ("loss", Value::Float(s.loss)),
                    ("first_pass_rate", Value::Int(s.first_pass_rate as i64)),
                    ("seconds", Value::Float(s.elapsed.as_secs_f64())),
                ])
            }
            _ => return None,
        };
        Some(Ok(v))
    }

    fn call(&self, _it: &mut Interp, method: &str, args: &mut Args) -> Option<Result<Value>> {
        match method {
            "state" => Some(self.state(args)),
            _ => None,
        }
    }

    fn names(&self) -> Vec<&'static str> {
        vec![
            "open",
            "closed",
            "filtered",
            "unfiltered",
            "open_filtered",
            "results",
            "hosts",
            "type",
            "stats",
            "state",
        ]
    }

    fn items(&self) -> Option<Vec<Value>> {
        match self.in_state(State::Open) {
            Value::List(l) => Some(l.borrow().clone()),
            _ => None,
        }
    }
}
