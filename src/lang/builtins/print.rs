//! Output: `print`, `format`, `show`, `hexdump`, `summary`.

use crate::lang::call::*;
use crate::lang::error::Result;
use crate::lang::helpers::{one_packet, routed_summary, wire_bytes, write_out};
use crate::packet::display;

const BUILTINS: &[BuiltinEntry] = &[
    (
        "print",
        "print(a, b, …, sep=\" \", end=\"\\n\"): write values; a packet as one tcpdump-style line",
        print,
    ),
    (
        "format",
        "format(\"{} {:04x}\", a, b): fill {} slots (Python-like specs)",
        format_builtin,
    ),
    (
        "show",
        "show(p): every field of every layer, computed fields filled in",
        show,
    ),
    (
        "hexdump",
        "hexdump(p or bytes): offset / hex / ASCII",
        hexdump,
    ),
    (
        "summary",
        "summary(p): the one-line summary as a string",
        summary,
    ),
];

pub fn install(it: &mut Interp) {
    it.register_all(BUILTINS);
}

fn show(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let p = one_packet(a, 0, "p")?;
    a.finish(1)?;
    let s = display::show(&p.filled());
    write_out(it, &s);
    Ok(Value::None)
}

fn hexdump(it: &mut Interp, a: &mut Args) -> Result<Value> {
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
}

fn summary(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let p = one_packet(a, 0, "p")?;
    a.finish(1)?;
    Ok(Value::str(&routed_summary(it, &p)))
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
