//! Values and types: conversions (`str`, `repr`, `int`, `float`, `bytes`, `hex`),
//! `len`, `type`, the script's `args`, and `exit`.

use crate::lang::call::*;
use crate::lang::error::{error, ErrorKind, Result};
use crate::lang::helpers::wire_bytes;

const BUILTINS: &[BuiltinEntry] = &[
    (
        "bytes",
        "bytes(p | str | [ints]): wire bytes of a packet, UTF-8 of text, or bytes from numbers",
        bytes,
    ),
    (
        "len",
        "len(x): length of a string, bytes, list, dict, range; wire length of a packet",
        len,
    ),
    (
        "hex",
        "hex(\"dead beef\") → bytes (a payload); hex(bytes|packet) → hex text; hex(n) → \"0x…\"",
        hex,
    ),
    ("str", "str(x): text of a value (as print shows it)", to_str),
    ("repr", "repr(x): text of a value with strings quoted", repr),
    ("type", "type(x): the type name of a value", type_of),
    (
        "int",
        "int(x, base=0): integer from a number, flags, or text (\"0x1f\", \"42\")",
        to_int,
    ),
    (
        "float",
        "float(x): floating-point number from a number or text",
        to_float,
    ),
    (
        "exit",
        "exit(status=0): stop the script (or leave the shell) with this exit status, 0-255",
        exit,
    ),
];

pub fn install(it: &mut Interp) {
    it.register_all(BUILTINS);
    it.register_alias(
        "raw",
        "bytes",
        "raw(p): the wire bytes of a packet (scapy's name; bytes(p) is the same)",
    );
    it.register_value("args", Value::list(Vec::new()));
    it.register_alias(
        "quit",
        "exit",
        "quit(status=0): the same as exit() (Python's name; `quit` and `exit` alone work too)",
    );
}

fn bytes(_: &mut Interp, a: &mut Args) -> Result<Value> {
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
}

fn len(it: &mut Interp, a: &mut Args) -> Result<Value> {
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
}

fn hex(_: &mut Interp, a: &mut Args) -> Result<Value> {
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
}

fn to_str(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let v = a.require(0, "value")?;
    a.finish(1)?;
    Ok(match v {
        Value::Bytes(b) => Value::str(&String::from_utf8_lossy(&b)),
        v => Value::str(&v.to_display()),
    })
}

fn repr(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let v = a.require(0, "value")?;
    a.finish(1)?;
    Ok(Value::str(&v.repr()))
}

fn type_of(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let v = a.require(0, "value")?;
    a.finish(1)?;
    Ok(Value::str(v.type_name()))
}

fn to_int(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let v = a.require(0, "value")?;
    let base = a.int(1, "base")?;
    a.finish(2)?;
    match v {
        Value::Int(n) => Ok(Value::Int(n)),
        Value::Float(f) if f.is_finite() && f.abs() < 9.2e18 => Ok(Value::Int(f.trunc() as i64)),
        Value::Bool(b) => Ok(Value::Int(i64::from(b))),
        Value::Flags(f) => Ok(Value::Int(f.0.into())),
        Value::IpFlags(f) => Ok(Value::Int(f.into())),
        Value::Str(s) => parse_int(&s, base.unwrap_or(0))
            .map(Value::Int)
            .ok_or_else(|| {
                error(
                    a.span_of(0),
                    ErrorKind::Value(format!("int(): {s:?} is not an integer")),
                )
            }),
        other => Err(a.err(format!("int() cannot convert a {}", other.type_name()))),
    }
}

fn to_float(_: &mut Interp, a: &mut Args) -> Result<Value> {
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
}

fn exit(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let n = a.int(0, "status")?.unwrap_or(0);
    a.finish(1)?;
    let n = u8::try_from(n).map_err(|_| a.err("exit(): status must be 0..=255"))?;
    Err(error(a.span, ErrorKind::Exit(n)))
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
