//! The builtin functions and the methods of lists, strings, bytes and dicts.

use super::error::{error, suggest, ErrorKind, Result, Span};
use super::interp::{Args, Interp};
use super::net::{interruptible_sleep, NetError, SendOpts, SniffOpts, SrOpts};
use super::value::*;
use crate::packet::{display, Packet};
use std::rc::Rc;

pub fn install(it: &mut Interp) {
    super::sniff::install(it);
    it.register(
        "print",
        "print(a, b, …, sep=\" \", end=\"\\n\"): write values; a packet as one tcpdump-style line",
        print,
    );
    it.register(
        "format",
        "format(\"{} {:04x}\", a, b): fill {} slots (Python-like specs)",
        format_builtin,
    );
    it.register(
        "show",
        "show(p): every field of every layer, computed fields filled in",
        |it, a| {
            let p = one_packet(a, 0, "p")?;
            a.finish(1)?;
            let s = display::show(&p.filled());
            write_out(it, &s);
            Ok(Value::None)
        },
    );
    it.register(
        "hexdump",
        "hexdump(p or bytes): offset / hex / ASCII",
        |it, a| {
            let v = a.require(0, "data")?;
            a.finish(1)?;
            let b = wire_bytes(&v).ok_or_else(|| {
                a.err(format!(
                    "hexdump() takes a packet or bytes, not {}",
                    v.type_name()
                ))
            })?;
            let s = display::hexdump(&b);
            write_out(it, &s);
            Ok(Value::None)
        },
    );
    it.register(
        "summary",
        "summary(p): the one-line summary as a string",
        |it, a| {
            let p = one_packet(a, 0, "p")?;
            a.finish(1)?;
            Ok(Value::str(&routed_summary(it, &p)))
        },
    );
    it.register(
        "bytes",
        "bytes(p | str | [ints]): wire bytes of a packet, UTF-8 of text, or bytes from numbers",
        |_, a| {
            let v = a.require(0, "value")?;
            a.finish(1)?;
            match &v {
                Value::List(l) => {
                    let mut out = Vec::new();
                    for x in l.borrow().iter() {
                        match x {
                            Value::Int(n) if (0..=255).contains(n) => out.push(*n as u8),
                            _ => return Err(a.err("bytes([…]) needs integers 0..=255")),
                        }
                    }
                    Ok(Value::bytes(&out))
                }
                _ => wire_bytes(&v).map(|b| Value::bytes(&b)).ok_or_else(|| {
                    a.err(format!(
                        "bytes() takes a packet, string or list, not {}",
                        v.type_name()
                    ))
                }),
            }
        },
    );
    it.register_alias(
        "raw",
        "bytes",
        "raw(p): the wire bytes of a packet (scapy's name; bytes(p) is the same)",
    );
    it.register(
        "len",
        "len(x): length of a string, bytes, list, dict, range; wire length of a packet",
        |it, a| {
            let v = a.require(0, "value")?;
            a.finish(1)?;
            let n = match &v {
                Value::Str(s) => s.chars().count(),
                Value::Bytes(b) => b.len(),
                Value::List(l) => l.borrow().len(),
                Value::Dict(d) => d.borrow().len(),
                Value::Range(x, y, inc) => range_len(*x, *y, *inc) as usize,
                Value::Packet(p) => p.wire_len(),
                Value::Reply(r) => r.packet.wire_len(),
                Value::Handle(h) => h
                    .items()
                    .map(|i| i.len())
                    .ok_or_else(|| a.err(format!("a {} has no length", h.type_name())))?,
                other => return Err(a.err(format!("a {} has no length", other.type_name()))),
            };
            let _ = it;
            Ok(Value::Int(n as i64))
        },
    );
    it.register(
        "hex",
        "hex(\"dead beef\") → bytes (a payload); hex(bytes|packet) → hex text; hex(n) → \"0x…\"",
        |_, a| {
            let v = a.require(0, "value")?;
            a.finish(1)?;
            match &v {
                Value::Str(s) => {
                    let clean: String = s
                        .chars()
                        .filter(|c| !c.is_whitespace() && *c != ':')
                        .collect();
                    let clean = clean.strip_prefix("0x").unwrap_or(&clean).to_string();
                    hex_digits(&clean)
                        .map(|b| Value::bytes(&b))
                        .map_err(|e| error(a.span_of(0), ErrorKind::Value(format!("hex(): {e}"))))
                }
                Value::Int(n) if *n < 0 => Ok(Value::str(&format!("-0x{:x}", n.unsigned_abs()))),
                Value::Int(n) => Ok(Value::str(&format!("0x{n:x}"))),
                _ => wire_bytes(&v)
                    .map(|b| Value::str(&hex::encode(b)))
                    .ok_or_else(|| {
                        a.err(format!(
                            "hex() takes a string, bytes, packet or integer, not {}",
                            v.type_name()
                        ))
                    }),
            }
        },
    );
    it.register(
        "help",
        "help(x): a builtin, layer, field (TCP.dport), statement (help(for)), a value's methods (help(s)) or one method (help(s.send)); help() lists them",
        help,
    );
    it.register(
        "str",
        "str(x): text of a value (as print shows it)",
        |_, a| {
            let v = a.require(0, "value")?;
            a.finish(1)?;
            Ok(match v {
                Value::Bytes(b) => Value::str(&String::from_utf8_lossy(&b)),
                v => Value::str(&v.to_display()),
            })
        },
    );
    it.register(
        "repr",
        "repr(x): text of a value with strings quoted",
        |_, a| {
            let v = a.require(0, "value")?;
            a.finish(1)?;
            Ok(Value::str(&v.repr()))
        },
    );
    it.register("type", "type(x): the type name of a value", |_, a| {
        let v = a.require(0, "value")?;
        a.finish(1)?;
        Ok(Value::str(v.type_name()))
    });
    it.register(
        "int",
        "int(x, base=0): integer from a number, flags, or text (\"0x1f\", \"42\")",
        |_, a| {
            let v = a.require(0, "value")?;
            let base = a.int(1, "base")?;
            a.finish(2)?;
            match v {
                Value::Int(n) => Ok(Value::Int(n)),
                Value::Float(f) if f.is_finite() && f.abs() < 9.2e18 => {
                    Ok(Value::Int(f.trunc() as i64))
                }
                Value::Bool(b) => Ok(Value::Int(i64::from(b))),
                Value::Flags(f) => Ok(Value::Int(f.0.into())),
                Value::IpFlags(f) => Ok(Value::Int(f.into())),
                Value::Str(s) => {
                    parse_int(&s, base.unwrap_or(0))
                        .map(Value::Int)
                        .ok_or_else(|| {
                            error(
                                a.span_of(0),
                                ErrorKind::Value(format!("int(): {s:?} is not an integer")),
                            )
                        })
                }
                other => Err(a.err(format!("int() cannot convert a {}", other.type_name()))),
            }
        },
    );
    it.register(
        "float",
        "float(x): floating-point number from a number or text",
        |_, a| {
            let v = a.require(0, "value")?;
            a.finish(1)?;
            match v {
                Value::Int(n) => Ok(Value::Float(n as f64)),
                Value::Float(f) => Ok(Value::Float(f)),
                Value::Str(s) => s.trim().parse::<f64>().map(Value::Float).map_err(|_| {
                    error(
                        a.span_of(0),
                        ErrorKind::Value(format!("float(): {s:?} is not a number")),
                    )
                }),
                other => Err(a.err(format!("float() cannot convert a {}", other.type_name()))),
            }
        },
    );
    it.register(
        "randint",
        "randint(lo, hi): random integer in lo..=hi",
        |it, a| {
            let lo = a
                .int(0, "lo")?
                .ok_or_else(|| a.err("randint(lo, hi) needs two integers"))?;
            let hi = a
                .int(1, "hi")?
                .ok_or_else(|| a.err("randint(lo, hi) needs two integers"))?;
            a.finish(2)?;
            if lo > hi {
                return Err(a.err("randint(lo, hi): lo is greater than hi"));
            }
            Ok(Value::Int(it.rng.range(lo, hi)))
        },
    );
    it.register(
        "seed",
        "seed(n): make random ports, sequence numbers and randint repeatable",
        |it, a| {
            let n = a
                .int(0, "n")?
                .ok_or_else(|| a.err("seed(n) needs an integer"))?;
            a.finish(1)?;
            it.rng = super::interp::Rng::seeded(n as u64);
            Ok(Value::None)
        },
    );
    it.register(
        "now",
        "now(): seconds (float) on a monotonic clock",
        |it, a| {
            a.finish(0)?;
            Ok(Value::Float(it.start.elapsed().as_secs_f64()))
        },
    );
    it.register(
        "sleep",
        "sleep(s): wait s seconds (Ctrl-C interrupts)",
        |it, a| {
            let s = a.float(0, "seconds")?.unwrap_or(0.0);
            a.finish(1)?;
            it.check_sandbox("sleep", a.span)?;
            interruptible_sleep(s).map_err(|_| error(a.span, ErrorKind::Interrupted))?;
            Ok(Value::None)
        },
    );
    it.register(
        "min",
        "min(list) or min(a, b, …): smallest value",
        |_, a| minmax(a, true),
    );
    it.register(
        "max",
        "max(list) or max(a, b, …): largest value",
        |_, a| minmax(a, false),
    );
    it.register("sum", "sum(list): total of numbers", |_, a| {
        let items = items_of(a)?;
        let mut int: Option<i64> = Some(0);
        let mut fl = 0.0f64;
        for v in &items {
            match v {
                Value::Int(n) => {
                    int = int.and_then(|s| s.checked_add(*n));
                    fl += *n as f64;
                }
                Value::Float(f) => {
                    int = None;
                    fl += f;
                }
                other => {
                    return Err(a.err(format!("sum() adds numbers, not {}", other.type_name())))
                }
            }
        }
        Ok(int.map_or(Value::Float(fl), Value::Int))
    });
    it.register(
        "median",
        "median(list): middle value of numbers (mean of the two middle ones)",
        |_, a| {
            let items = items_of(a)?;
            let mut nums: Vec<f64> = Vec::with_capacity(items.len());
            for v in &items {
                match v {
                    Value::Int(n) => nums.push(*n as f64),
                    Value::Float(f) => nums.push(*f),
                    other => {
                        return Err(
                            a.err(format!("median() takes numbers, not {}", other.type_name()))
                        )
                    }
                }
            }
            if nums.is_empty() {
                return Ok(Value::None);
            }
            nums.sort_by(|x, y| x.total_cmp(y));
            let n = nums.len();
            let m = if n % 2 == 1 {
                nums.get(n / 2).copied().unwrap_or(0.0)
            } else {
                (nums.get(n / 2 - 1).copied().unwrap_or(0.0)
                    + nums.get(n / 2).copied().unwrap_or(0.0))
                    / 2.0
            };
            let all_int = items.iter().all(|v| matches!(v, Value::Int(_)));
            Ok(if all_int && m.fract() == 0.0 {
                Value::Int(m as i64)
            } else {
                Value::Float(m)
            })
        },
    );
    it.register("abs", "abs(x): absolute value", |_, a| {
        let v = a.require(0, "x")?;
        a.finish(1)?;
        match v {
            Value::Int(n) => n
                .checked_abs()
                .map(Value::Int)
                .ok_or_else(|| a.err("abs(): integer overflow")),
            Value::Float(f) => Ok(Value::Float(f.abs())),
            other => Err(a.err(format!("abs() takes a number, not {}", other.type_name()))),
        }
    });
    it.register("sorted", "sorted(list): a sorted copy", |_, a| {
        let mut items = items_of(a)?;
        let mut bad = false;
        items.sort_by(|x, y| {
            compare(x, y).unwrap_or_else(|| {
                bad = true;
                std::cmp::Ordering::Equal
            })
        });
        if bad {
            return Err(a.err("sorted(): values cannot be compared"));
        }
        Ok(Value::list(items))
    });
    it.register(
        "range",
        "range(stop) / range(start, stop, step=1): numbers start ≤ n < stop",
        |it, a| {
            let x = a
                .int(0, "start")?
                .ok_or_else(|| a.err("range() needs an integer"))?;
            let y = a.int(1, "stop")?;
            let step = a.int(2, "step")?.unwrap_or(1);
            a.finish(3)?;
            let (start, stop) = match y {
                Some(y) => (x, y),
                None => (0, x),
            };
            if step == 1 {
                return Ok(Value::Range(start, stop, false));
            }
            if step == 0 {
                return Err(a.err("range(): step must not be zero"));
            }
            let mut v = Vec::new();
            let mut i = start;
            while (step > 0 && i < stop) || (step < 0 && i > stop) {
                if v.len() >= it.limits.max_len {
                    return Err(a.err("range(): too many values"));
                }
                v.push(Value::Int(i));
                i = match i.checked_add(step) {
                    Some(n) => n,
                    None => break,
                };
            }
            Ok(Value::list(v))
        },
    );
    it.register_value("args", Value::list(Vec::new()));
    it.register(
        "exit",
        "exit(status=0): stop the script (or leave the shell) with this exit status, 0-255",
        |_, a| {
            let n = a.int(0, "status")?.unwrap_or(0);
            a.finish(1)?;
            let n = u8::try_from(n).map_err(|_| a.err("exit(): status must be 0..=255"))?;
            Err(error(a.span, ErrorKind::Exit(n)))
        },
    );
    it.register_alias(
        "lsc",
        "help",
        "lsc(): the builtins, as help() lists them (scapy's name)",
    );
    it.register_alias(
        "quit",
        "exit",
        "quit(status=0): the same as exit() (Python's name; `quit` and `exit` alone work too)",
    );
    it.register(
        "wrpcap",
        "wrpcap(file, packets): write packets to a pcap file (raw IP; Ethernet when every packet is a frame), each with its p.time",
        |it, a| {
            let file = a
                .string(0, "file")?
                .ok_or_else(|| a.err("wrpcap(file, packets) needs a file name"))?;
            let v = a.require(1, "packets")?;
            a.finish(2)?;
            it.check_sandbox("wrpcap", a.span)?;
            let pkts = to_packets(&v, a.span_of(1))?;
            let recs: Vec<_> = pkts
                .iter()
                .map(|p| (super::packets::packet_time(p), p.to_bytes()))
                .collect();
            let frames = !pkts.is_empty()
                && pkts
                    .iter()
                    .all(|p| matches!(p.layers.first(), Some(crate::packet::Layer::Ether(_))));
            let lt = if frames {
                crate::pcap::linktype::ETHERNET
            } else {
                crate::pcap::linktype::RAW
            };
            super::net::write_pcap_as(std::path::Path::new(&file), lt, &recs)
                .map_err(|e| error(a.span, ErrorKind::Io(format!("wrpcap {file}: {e}"))))?;
            Ok(Value::Int(pkts.len() as i64))
        },
    );
    it.register(
        "rdpcap",
        "rdpcap(file): read packets from a pcap file",
        |it, a| {
            let file = a
                .string(0, "file")?
                .ok_or_else(|| a.err("rdpcap(file) needs a file name"))?;
            a.finish(1)?;
            it.check_sandbox("rdpcap", a.span)?;
            read_pcap(&file, &it.limits)
                .map_err(|m| error(a.span, ErrorKind::Io(format!("rdpcap {file}: {m}"))))
        },
    );
    it.register(
        "send",
        "send(p or [p…], count=1, inter=0, iface=none): send packets, no answers awaited",
        |it, a| {
            let v = a.require(0, "packets")?;
            let opts = send_opts(a)?;
            a.finish(1)?;
            let pkts = to_packets(&v, a.span_of(0))?;
            let n = super::fuzz::send(it, &pkts, &opts).map_err(|e| net_err(a.span, e))?;
            Ok(Value::Int(n as i64))
        },
    );
    it.register(
        "sr1",
        "sr1(p, timeout=2, retry=0): send one probe, return its reply or none",
        |it, a| {
            let v = a.require(0, "packet")?;
            let opts = sr_opts(a)?;
            a.finish(1)?;
            let pkts = super::fuzz::drawn(it, to_packets(&v, a.span_of(0))?);
            // The fragments of one datagram: sent as they are, the datagram's answer.
            if let Some(r) =
                super::fragment::sr1(it, &pkts, &opts).map_err(|e| net_err(a.span, e))?
            {
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
        },
    );
    it.register(
        "sr",
        "sr(packets, timeout=2, retry=0): send probes; result .answered (replies), .unanswered, .unmatched ({packet, reason})",
        |it, a| {
            let v = a.require(0, "packets")?;
            let opts = sr_opts(a)?;
            a.finish(1)?;
            let pkts = super::fuzz::drawn(it, to_packets(&v, a.span_of(0))?);
            let t0 = std::time::Instant::now();
            let r = super::fragment::sr(it, &pkts, &opts).map_err(|e| net_err(a.span, e))?;
            sr_counts(it, "sr", pkts.len(), r.answered.len(), r.unmatched.len(), t0);
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
        },
    );
    // scapy sends frames with sendp/srp/srp1; here send/sr/sr1 take both, and these
    // names are the same functions.
    it.register_alias(
        "sendp",
        "send",
        "sendp(frame or [frame…], count=1, inter=0, iface=none): send Ether()/IP(...) frames (send() takes them too)",
    );
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
    it.register(
        "sniff",
        "sniff(count=0, timeout=none, filter=none, iface=none, store=true, prn=none, lfilter=none, stop_filter=none): capture packets, outgoing ones too (filter: tcpdump's language); prn(p) runs on each, lfilter(p) picks, stop_filter(p) ends",
        |it, a| {
            let callbacks = super::sniff::Callbacks::take(a)?;
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
            if count == 0
                && timeout.is_none()
                && callbacks.stop_filter.is_none()
                && !it.net.is_dry_run()
            {
                return Err(a.err(
                    "sniff() needs count=, timeout= or stop_filter= (it would wait forever)",
                ));
            }
            let opts = SniffOpts {
                count: count as usize,
                timeout,
                filter,
                iface,
                store,
            };
            if callbacks.any() {
                return super::sniff::sniff_with_callbacks(it, &opts, &callbacks, a.span);
            }
            let r = it.net.sniff(&opts).map_err(|e| net_err(a.span, e))?;
            Ok(Value::list(r.into_iter().map(Value::packet).collect()))
        },
    );
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

/// Hex text (separators already removed) to bytes; the error says what to change, in
/// the words `tcpcraft decode --hex` uses.
fn hex_digits(digits: &str) -> std::result::Result<Vec<u8>, String> {
    if let Some(c) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "not a hex digit: {c:?}; give bytes as pairs of 0-9 a-f (\"dead beef\")"
        ));
    }
    if digits.len() % 2 != 0 {
        return Err(format!(
            "odd number of hex digits ({}): every byte needs two digits",
            digits.len()
        ));
    }
    hex::decode(digits).map_err(|e| e.to_string())
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

fn write_out(it: &mut Interp, s: &str) {
    let _ = std::io::Write::write_all(&mut it.out, s.as_bytes());
    if !s.ends_with('\n') {
        let _ = std::io::Write::write_all(&mut it.out, b"\n");
    }
}

fn print(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let sep = a
        .kw("sep")
        .map(|v| v.to_display())
        .unwrap_or_else(|| " ".into());
    let end = a
        .kw("end")
        .map(|v| v.to_display())
        .unwrap_or_else(|| "\n".into());
    a.finish(usize::MAX)?;
    let mut s = String::new();
    for (i, v) in a.pos.iter().enumerate() {
        if i > 0 {
            s.push_str(&sep);
        }
        match (v, it.opts.json) {
            (v, true) if v.as_packet().is_some() => {
                if let Some(p) = v.as_packet() {
                    s.push_str(&display::json(p).to_string())
                }
            }
            (Value::Packet(p), false) => s.push_str(&routed_summary(it, p)),
            _ => s.push_str(&v.to_display()),
        }
    }
    s.push_str(&end);
    let _ = std::io::Write::write_all(&mut it.out, s.as_bytes());
    Ok(Value::None)
}

fn format_builtin(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let fmt = a
        .string(0, "format")?
        .ok_or_else(|| a.err("format() needs a format string"))?;
    let mut out = String::new();
    let mut next = 1usize;
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut inner = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(ch) => inner.push(ch),
                        None => return Err(a.err("format(): unclosed {")),
                    }
                }
                let (idx, spec) = match inner.split_once(':') {
                    Some((i, s)) => (i.to_string(), Some(s.to_string())),
                    None => (inner.clone(), None),
                };
                let k = if idx.is_empty() {
                    next += 1;
                    next - 1
                } else {
                    idx.parse::<usize>()
                        .map(|n| n + 1)
                        .map_err(|_| a.err(format!("format(): bad slot {{{inner}}}")))?
                };
                let v = a
                    .pos
                    .get(k)
                    .cloned()
                    .ok_or_else(|| a.err(format!("format(): no value for slot {}", k - 1)))?;
                match spec {
                    Some(s) => out.push_str(&format_spec(&v, &s, a.span)?),
                    None => out.push_str(&v.to_display()),
                }
            }
            c => out.push(c),
        }
    }
    Ok(Value::str(&out))
}

const STATEMENT_HELP: &[(&str, &str)] = &[
    ("if", "if cond { … } else if cond { … } else { … }"),
    (
        "else",
        "if cond { … } else { … }   (in the shell, `else` goes on the line of the `}`)",
    ),
    ("break", "break: leave the innermost for/while loop"),
    (
        "continue",
        "continue: go on with the next round of the innermost loop",
    ),
    ("return", "return value: leave the function (fn) with value"),
    (
        "in",
        "x in list|string|bytes|dict|range: membership; `for x in …` loops",
    ),
    ("and", "a and b (also &&): true when both are"),
    ("or", "a or b (also ||): the first true value"),
    ("not", "not a (also !): true when a is false; `x not in y`"),
    ("true", "true, false (True, False): the booleans"),
    ("false", "true, false (True, False): the booleans"),
    (
        "none",
        "none (None): no value; sr1() without an answer returns it",
    ),
    (
        "for",
        "for x in list|range|string|bytes { … }   (break, continue)",
    ),
    ("while", "while cond { … }   (break, continue)"),
    ("fn", "fn name(a, b=1) { … return value }"),
    (
        "assert",
        "assert cond, \"message\"   (exit status 1 when false)",
    ),
    (
        "include",
        "include \"other.tcs\"   (runs the file here; path relative to this file)",
    ),
];

fn help(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let v = a.get(0, "name");
    a.finish(1)?;
    let text = match v {
        None => {
            let mut s = String::from("builtins:\n");
            let names = it.builtin_names();
            for n in &names {
                if let Some(Value::Builtin(b)) = it.builtin(n) {
                    s.push_str(&format!("  {}\n", b.help));
                }
            }
            s.push_str("layers: IP IPv6 TCP UDP ICMP ICMPv6 Raw Ether   (ls(TCP) lists fields)\n");
            s.push_str("statements (help(\"for\") or help(for) shows one):\n");
            for (k, h) in STATEMENT_HELP {
                if matches!(*k, "if" | "for" | "while" | "fn" | "assert" | "include") {
                    s.push_str(&format!("  {h}\n"));
                }
            }
            s
        }
        Some(Value::Builtin(b)) => format!("{}\n", b.help),
        Some(Value::LayerClass(k)) => format!(
            "{}(field=value, …): a layer; stack with /. Fields: {}\n",
            k.name(),
            super::packets::fields(k)
                .iter()
                .map(|f| f.name)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Some(Value::Func(f)) => {
            let params: Vec<String> = f.def.params.iter().map(|p| p.name.to_string()).collect();
            format!("fn {}({})\n", f.def.name, params.join(", "))
        }
        Some(Value::Str(s)) => match STATEMENT_HELP.iter().find(|(k, _)| *k == &*s) {
            Some((_, h)) => format!("{h}\n"),
            None => match it.builtin(&s).cloned() {
                Some(Value::Builtin(b)) => format!("{}\n", b.help),
                Some(Value::LayerClass(k)) => {
                    let mut args =
                        super::interp::Args::new("help", vec![Value::LayerClass(k)], a.span);
                    return help(it, &mut args);
                }
                _ => {
                    let names = it.builtin_names();
                    let hint = suggest(
                        &s,
                        names
                            .iter()
                            .map(|n| &**n)
                            .chain(STATEMENT_HELP.iter().map(|x| x.0)),
                    );
                    return Err(error(
                        a.span_of(0),
                        ErrorKind::UndefinedName {
                            name: s.to_string(),
                            suggestion: hint,
                        },
                    ));
                }
            },
        },
        Some(Value::Handle(h)) => handle_help(&*h),
        Some(other) => format!("a value of type {}\n", other.type_name()),
    };
    write_out(it, &text);
    Ok(Value::None)
}

/// `help(s)`: what the value is, its methods with their help lines, its attributes.
fn handle_help(h: &dyn Object) -> String {
    let mut s = format!("{}: {}\n", h.type_name(), h.display());
    if let Some(text) = h.help("") {
        s.push_str(&text);
        s.push('\n');
    }
    let names = h.names();
    let (methods, attrs): (Vec<&str>, Vec<&str>) = names.iter().partition(|n| h.help(n).is_some());
    if !methods.is_empty() {
        s.push_str("methods:\n");
        for m in methods {
            if let Some(line) = h.help(m) {
                s.push_str(&format!("  {line}\n"));
            }
        }
    }
    if !attrs.is_empty() {
        s.push_str(&format!("attributes: {}\n", attrs.join(" ")));
    }
    s
}

fn parse_int(s: &str, base: i64) -> Option<i64> {
    let t = s.trim().replace('_', "");
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, t),
    };
    let lower = t.to_ascii_lowercase();
    let (radix, digits) = match base {
        0 => {
            if let Some(r) = lower.strip_prefix("0x") {
                (16, r.to_string())
            } else if let Some(r) = lower.strip_prefix("0b") {
                (2, r.to_string())
            } else if let Some(r) = lower.strip_prefix("0o") {
                (8, r.to_string())
            } else {
                (10, lower)
            }
        }
        2..=36 => (
            base as u32,
            lower
                .strip_prefix("0x")
                .filter(|_| base == 16)
                .map(str::to_string)
                .unwrap_or(lower),
        ),
        _ => return None,
    };
    let v = i64::from_str_radix(&digits, radix).ok()?;
    if neg {
        v.checked_neg()
    } else {
        Some(v)
    }
}

fn items_of(a: &mut Args) -> Result<Vec<Value>> {
    if a.pos.len() == 1 {
        if let Some(v) = a.pos.first() {
            return match v {
                Value::List(l) => Ok(l.borrow().clone()),
                Value::Range(x, y, inc) => {
                    if range_len(*x, *y, *inc) > 1 << 24 {
                        return Err(a.err("range too long"));
                    }
                    let end = if *inc { *y } else { y.saturating_sub(1) };
                    Ok(if range_len(*x, *y, *inc) == 0 {
                        vec![]
                    } else {
                        (*x..=end).map(Value::Int).collect()
                    })
                }
                other => Err(a.err(format!(
                    "{}() takes a list or several values, not a {}",
                    a.name,
                    other.type_name()
                ))),
            };
        }
    }
    a.finish(usize::MAX)?;
    Ok(a.pos.clone())
}

fn minmax(a: &mut Args, min: bool) -> Result<Value> {
    let items = items_of(a)?;
    let mut best: Option<Value> = None;
    for v in items {
        best = Some(match best {
            None => v,
            Some(b) => {
                let o = compare(&v, &b).ok_or_else(|| {
                    a.err(format!(
                        "{}(): cannot compare {} and {}",
                        a.name,
                        v.type_name(),
                        b.type_name()
                    ))
                })?;
                let take = if min { o.is_lt() } else { o.is_gt() };
                if take {
                    v
                } else {
                    b
                }
            }
        });
    }
    best.ok_or_else(|| a.err(format!("{}() of nothing", a.name)))
}

/// Wire bytes of a packet (computed fields filled in), bytes as they are, text as UTF-8.
fn wire_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Packet(p) => Some(p.to_bytes()),
        Value::Reply(r) => Some(r.packet.to_bytes()),
        Value::Bytes(b) => Some(b.to_vec()),
        Value::Str(s) => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

fn one_packet(a: &mut Args, i: usize, name: &str) -> Result<Packet> {
    let v = a.require(i, name)?;
    match v.as_packet() {
        Some(p) => Ok(p.clone()),
        None => Err(a.err(format!(
            "{}() takes a packet, not {}",
            a.name,
            v.type_name()
        ))),
    }
}

/// A packet, a reply, or a list of them, as packets to send.
pub fn to_packets(v: &Value, span: Span) -> Result<Vec<Packet>> {
    match v {
        Value::Packet(p) => Ok(vec![(**p).clone()]),
        Value::Reply(r) => Ok(vec![r.packet.clone()]),
        Value::List(l) => l
            .borrow()
            .iter()
            .map(|x| {
                x.as_packet().cloned().ok_or_else(|| {
                    error(
                        span,
                        ErrorKind::Type(format!(
                            "expected packets, found a {} in the list",
                            x.type_name()
                        )),
                    )
                })
            })
            .collect(),
        other => Err(error(
            span,
            ErrorKind::Type(format!(
                "expected a packet or a list of packets, not {}",
                other.type_name()
            )),
        )),
    }
}

fn send_opts(a: &mut Args) -> Result<SendOpts> {
    let count = a.int(usize::MAX, "count")?.unwrap_or(1);
    let inter = a.float(usize::MAX, "inter")?.unwrap_or(0.0);
    let iface = a.string(usize::MAX, "iface")?;
    let count = u32::try_from(count).map_err(|_| a.err("count must be 0..=4294967295"))?;
    if !(0.0..=3600.0).contains(&inter) {
        return Err(a.err("inter must be 0..=3600 seconds"));
    }
    Ok(SendOpts {
        count,
        inter,
        iface,
    })
}

fn sr_opts(a: &mut Args) -> Result<SrOpts> {
    let send = send_opts(a)?;
    let timeout = a.float(usize::MAX, "timeout")?.unwrap_or(2.0);
    let retry = a.int(usize::MAX, "retry")?.unwrap_or(0);
    if !(0.0..=86400.0).contains(&timeout) {
        return Err(a.err("timeout must be 0..=86400 seconds"));
    }
    let retry = u32::try_from(retry).map_err(|_| a.err("retry must not be negative"))?;
    Ok(SrOpts {
        send,
        timeout,
        retry,
    })
}

pub(crate) fn net_err(span: Span, e: NetError) -> super::error::Error {
    match e {
        NetError::Interrupted => error(span, ErrorKind::Interrupted),
        NetError::Refused(m) => error(span, ErrorKind::Value(m)),
        NetError::Permission(m) | NetError::System(m) => error(span, ErrorKind::System(m)),
    }
}

/// Reads a whole capture into a list, within the memory budget: a file larger than the
/// budget is refused before reading, and the heap is checked as records are read.
fn read_pcap(file: &str, limits: &super::Limits) -> std::result::Result<Value, String> {
    let path = std::path::Path::new(file);
    let over = || {
        format!(
            "larger than the memory budget of {} MiB (--max-memory raises it)",
            limits.max_memory >> 20
        )
    };
    let mut r = crate::pcap::Reader::open(path).map_err(|e| e.to_string())?;
    if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) > limits.max_memory as u64 {
        return Err(over());
    }
    let mut out = Vec::new();
    while let Some(rec) = r.next_record() {
        if out.len() % 1024 == 0 && limits.heap_in_use.is_some_and(|h| h() > limits.max_memory) {
            return Err(over());
        }
        let rec = rec.map_err(|e| e.to_string())?;
        let link = crate::pcap::link_of(rec.linktype)
            .ok_or_else(|| format!("link type {} is not supported", rec.linktype))?;
        out.push(Value::packet(Packet::parse(&rec.data, link).0.at(rec.ts)));
    }
    Ok(Value::list(out))
}

/// Methods of lists, strings, bytes and dicts (`l.append(x)`, `s.split(",")`).
pub fn call_method(
    it: &mut Interp,
    obj: Value,
    method: &str,
    a: &mut Args,
    span: Span,
) -> Result<Value> {
    let _ = it;
    let no_method = |ty: &str, names: &[&str]| {
        error(
            span,
            ErrorKind::NoAttribute {
                ty: ty.to_string(),
                name: method.to_string(),
                suggestion: suggest(method, names.iter().copied()),
            },
        )
    };
    match &obj {
        Value::List(l) => {
            const NAMES: &[&str] = LIST_METHODS;
            match method {
                // scapy's result lists: one line per packet, "probe ==> reply" for
                // replies; show/nsummary number them.
                "summary" | "nsummary" | "show" => {
                    a.finish(0)?;
                    let numbered = method != "summary";
                    let mut text = String::new();
                    for (i, x) in l.borrow().iter().enumerate() {
                        let line = packet_line(x);
                        if numbered {
                            text.push_str(&format!("{i:04} "));
                        }
                        text.push_str(&line);
                        text.push('\n');
                    }
                    write_out(it, &text);
                    Ok(Value::None)
                }
                "append" => {
                    let v = a.require(0, "value")?;
                    a.finish(1)?;
                    l.borrow_mut().push(v);
                    Ok(Value::None)
                }
                "pop" => {
                    let i = a.int(0, "index")?.unwrap_or(-1);
                    a.finish(1)?;
                    let len = l.borrow().len();
                    let k = super::interp::norm_index(i, len)
                        .ok_or_else(|| error(span, ErrorKind::IndexOutOfRange { index: i, len }))?;
                    Ok(l.borrow_mut().remove(k))
                }
                "extend" => {
                    let v = a.require(0, "values")?;
                    a.finish(1)?;
                    let items = it.iterate(&v, a.span)?;
                    l.borrow_mut().extend(items);
                    Ok(Value::None)
                }
                "insert" => {
                    let i = a
                        .int(0, "index")?
                        .ok_or_else(|| a.err("insert(index, value)"))?;
                    let v = a.require(1, "value")?;
                    a.finish(2)?;
                    let len = l.borrow().len() as i64;
                    let k = if i < 0 { (i + len).max(0) } else { i.min(len) } as usize;
                    l.borrow_mut().insert(k, v);
                    Ok(Value::None)
                }
                "index" => {
                    let v = a.require(0, "value")?;
                    a.finish(1)?;
                    let pos = l.borrow().iter().position(|x| equals(x, &v));
                    Ok(pos.map_or(Value::None, |p| Value::Int(p as i64)))
                }
                "copy" => Ok(Value::list(l.borrow().clone())),
                "clear" => {
                    l.borrow_mut().clear();
                    Ok(Value::None)
                }
                _ => Err(no_method("list", NAMES)),
            }
        }
        Value::Str(s) => {
            const NAMES: &[&str] = STR_METHODS;
            let s = s.to_string();
            match method {
                "split" => {
                    let sep = a.string(0, "sep")?;
                    a.finish(1)?;
                    let parts: Vec<Value> = match sep {
                        Some(sep) if !sep.is_empty() => {
                            s.split(sep.as_str()).map(Value::str).collect()
                        }
                        _ => s.split_whitespace().map(Value::str).collect(),
                    };
                    Ok(Value::list(parts))
                }
                "strip" => Ok(Value::str(s.trim())),
                "upper" => Ok(Value::str(&s.to_uppercase())),
                "lower" => Ok(Value::str(&s.to_lowercase())),
                "startswith" | "endswith" => {
                    let p = a.string(0, "prefix")?.unwrap_or_default();
                    a.finish(1)?;
                    Ok(Value::Bool(if method == "startswith" {
                        s.starts_with(&p)
                    } else {
                        s.ends_with(&p)
                    }))
                }
                "find" => {
                    let p = a.string(0, "sub")?.unwrap_or_default();
                    a.finish(1)?;
                    Ok(Value::Int(
                        s.find(&p).map_or(-1, |i| s[..i].chars().count() as i64),
                    ))
                }
                "replace" => {
                    let from = a.string(0, "old")?.unwrap_or_default();
                    let to = a.string(1, "new")?.unwrap_or_default();
                    a.finish(2)?;
                    if from.is_empty() {
                        return Ok(Value::str(&s));
                    }
                    Ok(Value::str(&s.replace(&from, &to)))
                }
                "join" => {
                    let v = a.require(0, "values")?;
                    a.finish(1)?;
                    let items = it.iterate(&v, a.span)?;
                    Ok(Value::str(
                        &items
                            .iter()
                            .map(|x| x.to_display())
                            .collect::<Vec<_>>()
                            .join(&s),
                    ))
                }
                "encode" => Ok(Value::bytes(s.as_bytes())),
                _ => Err(no_method("str", NAMES)),
            }
        }
        Value::Bytes(b) => match method {
            "hex" => Ok(Value::str(&hex::encode(&**b))),
            "decode" => Ok(Value::str(&String::from_utf8_lossy(b))),
            _ => Err(no_method("bytes", &["hex", "decode"])),
        },
        Value::Dict(d) => match method {
            "keys" => Ok(Value::list(
                d.borrow()
                    .iter()
                    .map(|(k, _)| Value::Str(k.clone()))
                    .collect(),
            )),
            "values" => Ok(Value::list(
                d.borrow().iter().map(|(_, v)| v.clone()).collect(),
            )),
            "get" => {
                let k = a.string(0, "key")?.unwrap_or_default();
                let def = a.get(1, "default").unwrap_or(Value::None);
                a.finish(2)?;
                Ok(d.borrow()
                    .iter()
                    .find(|(kk, _)| **kk == *k)
                    .map_or(def, |(_, v)| v.clone()))
            }
            _ => {
                // a function stored in a dict: d.f(x)
                let f = d
                    .borrow()
                    .iter()
                    .find(|(k, _)| &**k == method)
                    .map(|(_, v)| v.clone());
                match f {
                    Some(f) => it.call_value(&f, a),
                    None => Err(no_method("dict", &["keys", "values", "get"])),
                }
            }
        },
        _ => Err(no_method(obj.type_name(), &[])),
    }
}

/// A packet's one-line view with an unset source shown as the route would fill it in
/// (as scapy shows it; what is sent does not change). Without a route (or in tests
/// that pin it with `TCPCRAFT_DRYRUN_SRC=none`) it stays 0.0.0.0 / ::.
pub fn routed_summary(it: &mut Interp, p: &Packet) -> String {
    display::summary(&super::net::fill_source(p, |d| it.net.route_source(d)))
}

/// One line of a packet list: a packet's summary; a reply as `probe ==> reply`.
pub fn packet_line(x: &Value) -> String {
    match x {
        Value::Reply(r) => format!(
            "{} ==> {}",
            display::summary(&r.probe),
            display::summary(&r.packet)
        ),
        Value::Packet(p) => display::summary(p),
        other => other.to_display(),
    }
}

/// How many lines of a long packet list the shell shows.
pub const LIST_HEAD: usize = 20;

/// A list of packets (or replies) as the shell shows it, scapy's `PacketList` style:
/// a count line by protocol, then one numbered line per packet (the first
/// [`LIST_HEAD`] of a long list, then how many more). `None` for any other value.
pub fn packet_list_view(v: &Value, line: &mut dyn FnMut(&Value) -> String) -> Option<String> {
    let Value::List(l) = v else { return None };
    let items = l.borrow();
    if items.is_empty() || !items.iter().all(|x| x.as_packet().is_some()) {
        return None;
    }
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for x in items.iter() {
        let proto = x.as_packet().map_or("other", |p| {
            use crate::packet::Layer;
            p.layers
                .iter()
                .find_map(|l| match l {
                    Layer::Tcp(_) => Some("TCP"),
                    Layer::Udp(_) => Some("UDP"),
                    Layer::Icmp(_) => Some("ICMP"),
                    Layer::Icmpv6(_) => Some("ICMPv6"),
                    _ => None,
                })
                .unwrap_or("other")
        });
        match counts.iter_mut().find(|(n, _)| *n == proto) {
            Some(c) => c.1 += 1,
            None => counts.push((proto, 1)),
        }
    }
    let n = items.len();
    let by: Vec<String> = counts.iter().map(|(p, c)| format!("{p}:{c}")).collect();
    let mut s = format!(
        "<{n} packet{} {}>",
        if n == 1 { "" } else { "s" },
        by.join(" ")
    );
    let shown = if n > LIST_HEAD + 5 { LIST_HEAD } else { n };
    for (i, x) in items.iter().take(shown).enumerate() {
        s.push_str(&format!("\n{i:04} {}", line(x)));
    }
    if shown < n {
        s.push_str(&format!(
            "\n… {} more (.summary() on the list shows every line, [{shown}:] the rest)",
            n - shown
        ));
    }
    Some(s)
}

/// Methods of packets and replies, by scapy's names (`p.show()`, `p.summary()`…).
/// Fields of the same name would win; no layer has one.
pub const PACKET_METHODS: &[&str] = &[
    "show", "show2", "summary", "hexdump", "copy", "haslayer", "getlayer",
];

/// `p.show()`, `p.summary()`, `p.haslayer(TCP)`… on a packet or a reply.
pub fn packet_method(it: &mut Interp, obj: &Value, method: &str, a: &mut Args) -> Result<Value> {
    let Some(p) = obj.as_packet() else {
        return Err(a.err(format!("{method}() is a method of packets")));
    };
    let layer = |a: &mut Args| match a.require(0, "layer")? {
        Value::LayerClass(k) => Ok(k),
        // scapy also takes the name: p.haslayer("TCP")
        Value::Str(s) => LayerKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(&s))
            .ok_or_else(|| a.err(format!("{method}(): no layer named {s:?}"))),
        other => Err(a.err(format!(
            "{method}() takes a layer class such as TCP, not {}",
            other.type_name()
        ))),
    };
    match method {
        // Our show fills in computed fields, as scapy's show2 does.
        "show" | "show2" => {
            a.finish(0)?;
            write_out(it, &display::show(&p.filled()));
            Ok(Value::None)
        }
        "summary" => {
            a.finish(0)?;
            Ok(Value::str(&routed_summary(it, p)))
        }
        "hexdump" => {
            a.finish(0)?;
            write_out(it, &display::hexdump(&p.to_bytes()));
            Ok(Value::None)
        }
        "copy" => {
            a.finish(0)?;
            Ok(Value::packet(p.clone()))
        }
        "haslayer" => {
            let k = layer(a)?;
            a.finish(1)?;
            Ok(Value::Bool(
                p.layers
                    .iter()
                    .any(|l| super::packets::layer_kind(l) == Some(k)),
            ))
        }
        "getlayer" => {
            let k = layer(a)?;
            a.finish(1)?;
            super::packets::index(p, &Value::LayerClass(k), a.span)
        }
        _ => Err(a.err(format!("packets have no method {method}()"))),
    }
}

/// The methods of lists, for error messages and the shell's completion.
pub const LIST_METHODS: &[&str] = &[
    "append", "pop", "extend", "insert", "index", "copy", "clear", "summary", "nsummary", "show",
];
/// The methods of strings, for error messages and the shell's completion.
pub const STR_METHODS: &[&str] = &[
    "split",
    "strip",
    "upper",
    "lower",
    "startswith",
    "endswith",
    "replace",
    "join",
    "encode",
    "find",
];
