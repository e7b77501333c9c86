//! TCP and IP option constructors, as builtins: `mss(1460)`, `wscale(7)`, `sackok()`,
//! `sack(…)`, `ts(val, ecr)`, `nop()`, `eol()`, `opt(kind, data)` give TCP options;
//! `rr()`, `lsrr()`, `ssrr()`, `ts_opt()`, `router_alert()` give IP options as bytes (as
//! scapy's `IPOption_*`). `any` stands for a value a session's expectation does not
//! check (`ts(any, 5)`): such an option is an [`OptionPattern`].

use std::rc::Rc;

use super::call::*;
use super::error::{error, Result};
use super::packets::{opt, parse_v4, to_bytes, to_uint};
use crate::packet::TcpOption;

pub fn install(it: &mut Interp) {
    it.register_value("any", Value::Handle(Rc::new(AnyValue)));
    it.register(
        "mss",
        "mss(n): TCP maximum segment size option (kind 2); mss(any) in an expectation",
        mss,
    );
    it.register(
        "wscale",
        "wscale(n): TCP window scale option (kind 3); wscale(any) in an expectation",
        wscale,
    );
    it.register(
        "sackok",
        "sackok(): TCP SACK-permitted option (kind 4)",
        sackok,
    );
    it.register(
        "sack",
        "sack(l1, r1, l2, r2, …): TCP SACK option (kind 5) with edge pairs; sack(any) in an expectation",
        sack,
    );
    it.register(
        "ts",
        "ts(val, ecr=0): TCP timestamps option (kind 8); any for either value in an expectation",
        ts,
    );
    it.register(
        "rr",
        "rr(routers=[]): IP record route option (kind 7), as scapy's IPOption_RR; the routers fill in the addresses: rr([\"0.0.0.0\"] * 4) leaves four slots",
        rr,
    );
    it.register(
        "lsrr",
        "lsrr([addr, …]): IP loose source route option (kind 131), as scapy's IPOption_LSRR; TCP/UDP checksums use the last address",
        lsrr,
    );
    it.register(
        "ssrr",
        "ssrr([addr, …]): IP strict source route option (kind 137), as scapy's IPOption_SSRR; TCP/UDP checksums use the last address",
        ssrr,
    );
    it.register(
        "ts_opt",
        "ts_opt(flg=1): IP timestamp option (kind 68), as scapy's IPOption_Timestamp: flg 0 one timestamp slot, flg 1 an address and a timestamp",
        ts_opt,
    );
    it.register(
        "router_alert",
        "router_alert(): IP router alert option (kind 148, RFC 2113), as scapy's IPOption_Router_Alert",
        router_alert,
    );
    it.register("nop", "nop(): TCP no-operation option (kind 1)", nop);
    it.register("eol", "eol(): TCP end-of-option-list (kind 0)", eol);
    it.register(
        "opt",
        "opt(kind, data=b\"\"): any TCP option, length byte computed; data any in an expectation",
        any_option,
    );
}

fn mss(_: &mut Interp, a: &mut Args) -> Result<Value> {
    if take_any(a, 0, "n") {
        a.finish(1)?;
        return Ok(pattern(TcpOption::Mss(0), [true, false]));
    }
    let n = opt_int(a, 0, "n", 16)?;
    a.finish(1)?;
    Ok(opt(TcpOption::Mss(n as u16)))
}

fn wscale(_: &mut Interp, a: &mut Args) -> Result<Value> {
    if take_any(a, 0, "n") {
        a.finish(1)?;
        return Ok(pattern(TcpOption::Wscale(0), [true, false]));
    }
    let n = opt_int(a, 0, "n", 8)?;
    a.finish(1)?;
    Ok(opt(TcpOption::Wscale(n as u8)))
}

fn sackok(_: &mut Interp, a: &mut Args) -> Result<Value> {
    a.finish(0)?;
    Ok(opt(TcpOption::SackOk))
}

fn sack(_: &mut Interp, a: &mut Args) -> Result<Value> {
    if a.pos.len() == 1 && take_any(a, 0, "blocks") {
        a.finish(1)?;
        return Ok(pattern(TcpOption::Sack(Vec::new()), [true, false]));
    }
    if a.pos.len() % 2 != 0 {
        return Err(a.err("sack() takes pairs of edges: sack(left1, right1, …)"));
    }
    let mut blocks = Vec::new();
    let mut i = 0;
    while i + 1 < a.pos.len() {
        let l = opt_int(a, i, "left", 32)?;
        let r = opt_int(a, i + 1, "right", 32)?;
        blocks.push((l as u32, r as u32));
        i += 2;
    }
    a.finish(usize::MAX)?;
    Ok(opt(TcpOption::Sack(blocks)))
}

fn ts(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let wild_v = take_any(a, 0, "val");
    let v = if wild_v { 0 } else { opt_int(a, 0, "val", 32)? };
    let has_ecr = a.pos.len() > 1 || a.kw_span("ecr").is_some();
    let wild_e = has_ecr && take_any(a, 1, "ecr");
    let e = if has_ecr && !wild_e {
        opt_int(a, 1, "ecr", 32)?
    } else {
        0
    };
    a.finish(2)?;
    let o = TcpOption::Timestamp(v as u32, e as u32);
    if wild_v || wild_e {
        return Ok(pattern(o, [wild_v, wild_e]));
    }
    Ok(opt(o))
}

fn rr(_: &mut Interp, a: &mut Args) -> Result<Value> {
    route_opt(a, 7, false)
}

fn lsrr(_: &mut Interp, a: &mut Args) -> Result<Value> {
    route_opt(a, 0x83, true)
}

fn ssrr(_: &mut Interp, a: &mut Args) -> Result<Value> {
    route_opt(a, 0x89, true)
}

fn ts_opt(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let flg = match a.get(0, "flg") {
        Some(v) => to_uint(&v, "ts_opt(flg)", 4).map_err(|k| a.err_at(a.span_of(0), k))?,
        None => 1,
    };
    a.finish(1)?;
    let b: Vec<u8> = match flg {
        0 => vec![0x44, 8, 9, 0, 0, 0, 0, 0],
        1 | 3 => vec![0x44, 12, 9, flg as u8, 0, 0, 0, 0, 0, 0, 0, 0],
        _ => {
            return Err(a.err(
                "ts_opt(flg): 0 (timestamps only), 1 (address and timestamp) or 3 (prespecified addresses)",
            ))
        }
    };
    Ok(Value::bytes(&b))
}

fn router_alert(_: &mut Interp, a: &mut Args) -> Result<Value> {
    a.finish(0)?;
    Ok(Value::bytes(&[0x94, 4, 0, 0]))
}

fn nop(_: &mut Interp, a: &mut Args) -> Result<Value> {
    a.finish(0)?;
    Ok(opt(TcpOption::Nop))
}

fn eol(_: &mut Interp, a: &mut Args) -> Result<Value> {
    a.finish(0)?;
    Ok(opt(TcpOption::Eol))
}

fn any_option(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let kind = opt_int(a, 0, "kind", 8)?;
    if take_any(a, 1, "data") {
        a.finish(2)?;
        return Ok(pattern(
            TcpOption::Unknown {
                kind: kind as u8,
                data: Vec::new(),
            },
            [false, true],
        ));
    }
    let data = match a.get(1, "data") {
        None => Vec::new(),
        Some(v) => to_bytes(&v).ok_or_else(|| a.err("opt(): data must be bytes or a string"))?,
    };
    a.finish(2)?;
    if data.len() > 253 {
        return Err(a.err("opt(): data longer than 253 bytes does not fit an option"));
    }
    Ok(opt(match kind {
        0 if data.is_empty() => TcpOption::Eol,
        1 if data.is_empty() => TcpOption::Nop,
        k => TcpOption::Unknown {
            kind: k as u8,
            data,
        },
    }))
}

// IP options, as scapy's IPOption_* build them (bytes, for IP(options=[...])).
fn route_opt(a: &mut Args, kind: u8, required: bool) -> Result<Value> {
    let routers = if required {
        Some(a.require(0, "routers")?)
    } else {
        a.get(0, "routers")
    };
    let mut addrs = Vec::new();
    if let Some(v) = routers {
        let span = a.kw_span("routers").unwrap_or_else(|| a.span_of(0));
        let items: Vec<Value> = match &v {
            Value::List(l) => l.borrow().clone(),
            other => vec![other.clone()],
        };
        for item in &items {
            let ip = parse_v4(item, &format!("{}(routers)", a.name)).map_err(|k| error(span, k))?;
            addrs.push(ip);
        }
    }
    a.finish(1)?;
    if addrs.len() > 9 {
        return Err(a.err(format!(
            "{}(): at most 9 addresses fit in the 40 bytes of IP options, not {}",
            a.name,
            addrs.len()
        )));
    }
    let mut b = vec![kind, (3 + 4 * addrs.len()) as u8, 4];
    for ip in addrs {
        b.extend_from_slice(&ip.octets());
    }
    Ok(Value::bytes(&b))
}

/// `any`: a wildcard for an option's value in a session's expectations (`ts(any, 5)`).
#[derive(Debug)]
struct AnyValue;

impl Object for AnyValue {
    fn type_name(&self) -> &'static str {
        "any"
    }
    fn display(&self) -> String {
        "any".to_string()
    }
    fn get(&self, _: &mut Interp, _: &str) -> Option<Result<Value>> {
        None
    }
    fn call(&self, _: &mut Interp, _: &str, _: &mut Args) -> Option<Result<Value>> {
        None
    }
    fn names(&self) -> Vec<&'static str> {
        Vec::new()
    }
}

/// An option with `any` for some of its values: only an expectation can use it
/// (`s.expect("A", options=[ts(any, s.isn)])`); `.option` and `.wild` read it.
#[derive(Debug)]
pub struct OptionPattern {
    pub opt: TcpOption,
    pub wild: [bool; 2],
}

impl Object for OptionPattern {
    fn type_name(&self) -> &'static str {
        "option pattern"
    }
    fn display(&self) -> String {
        option_pattern_text(&self.opt, self.wild)
    }
    fn get(&self, _: &mut Interp, name: &str) -> Option<Result<Value>> {
        match name {
            "option" => Some(Ok(opt(self.opt.clone()))),
            "wild" => Some(Ok(Value::list(
                self.wild.iter().map(|w| Value::Bool(*w)).collect(),
            ))),
            _ => None,
        }
    }
    fn call(&self, _: &mut Interp, _: &str, _: &mut Args) -> Option<Result<Value>> {
        None
    }
    fn names(&self) -> Vec<&'static str> {
        vec!["option", "wild"]
    }
}

/// Whether the value is the wildcard `any`.
pub fn is_any(v: &Value) -> bool {
    matches!(v, Value::Handle(h) if h.type_name() == "any")
}

/// An option pattern value (some of its values are `any`).
fn pattern(o: TcpOption, wild: [bool; 2]) -> Value {
    Value::Handle(Rc::new(OptionPattern { opt: o, wild }))
}

/// Whether positional argument `i` (or keyword `name`) is `any`; it is taken if so.
fn take_any(a: &mut Args, i: usize, name: &str) -> bool {
    let positional = a.pos.get(i).is_some_and(is_any);
    let keyword = a.kw.iter().any(|(k, v, _)| &**k == name && is_any(v));
    if positional || keyword {
        let _ = a.get(i, name);
        return true;
    }
    false
}

fn opt_int(a: &mut Args, i: usize, name: &str, bits: u32) -> Result<u64> {
    let span = a.kw_span(name).unwrap_or_else(|| a.span_of(i));
    let v = a.require(i, name)?;
    let fname = format!("{}({name})", a.name);
    to_uint(&v, &fname, bits).map_err(|k| error(span, k))
}
