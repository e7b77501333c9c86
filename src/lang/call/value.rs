//! Run-time values of the language.
//!
//! Lists and dicts are shared references (as in Python: `b = a; b.append(1)` changes
//! `a`). Packets are values: `q = p; q.ttl = 1` leaves `p` alone, which is what a
//! person crafting variants of a probe expects; copies are cheap (`Rc`, copy on write).

use super::args::Args;
use super::context::{Env, Interp};
use crate::lang::ast::FnDef;
use crate::lang::error::{error, ErrorKind, Result, Span};
use crate::lang::net::Reply;
pub use crate::packet::display::{bytes_repr, option_pattern_text, option_text};
use crate::packet::{Packet, TcpFlags, TcpOption};
use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

/// A native function callable from scripts.
pub type NativeFn = Rc<dyn Fn(&mut Interp, &mut Args) -> Result<Value>>;

/// A builtin: its name, one-line help (shown by `help(name)`), and the code.
pub struct Builtin {
    pub name: Rc<str>,
    pub help: Rc<str>,
    pub f: NativeFn,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<builtin {}>", self.name)
    }
}

/// A function defined in a script, with the scope it was defined in.
#[derive(Debug)]
pub struct Function {
    pub def: Rc<FnDef>,
    pub env: Env,
}

/// Engine objects (sessions, listeners, scan results …) that other modules add.
///
/// Implement this for the object and wrap it in [`Value::Handle`]. Attribute reads
/// go to [`Object::get`], `obj.method(args)` to [`Object::call`]; both return `None`
/// for a name the object does not have, and the interpreter reports that with a
/// "did you mean" from [`Object::names`]. Mutable state lives behind a `RefCell`.
pub trait Object: std::fmt::Debug {
    /// Lower-case type name for messages and `type(x)`: "session", "scan result".
    fn type_name(&self) -> &'static str;
    /// What `print` shows.
    fn display(&self) -> String;
    /// An attribute (`s.state`).
    fn get(&self, interp: &mut Interp, name: &str) -> Option<Result<Value>>;
    /// A method call (`s.send("S")`).
    fn call(&self, interp: &mut Interp, method: &str, args: &mut Args) -> Option<Result<Value>>;
    /// Attribute and method names, for completion and suggestions.
    fn names(&self) -> Vec<&'static str>;
    /// `obj.name = value`; the default refuses.
    fn set(&self, _name: &str, _value: Value) -> Option<Result<()>> {
        None
    }
    /// `len(obj)` and `for x in obj`: the default has neither.
    fn items(&self) -> Option<Vec<Value>> {
        None
    }
    /// The help line of a method (`help(s.send)`), or with `""` a line on the object
    /// itself (`help(s)`); `None`: no help (an attribute, or nothing to say).
    fn help(&self, _name: &str) -> Option<String> {
        None
    }
}

/// The packet layer classes, which are callable (`TCP(dport=80)`) and listable (`ls(TCP)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    Ip,
    Ipv6,
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    Raw,
    Ether,
    Arp,
}

impl LayerKind {
    pub const ALL: [LayerKind; 9] = [
        LayerKind::Ip,
        LayerKind::Ipv6,
        LayerKind::Tcp,
        LayerKind::Udp,
        LayerKind::Icmp,
        LayerKind::Icmpv6,
        LayerKind::Raw,
        LayerKind::Ether,
        LayerKind::Arp,
    ];
    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Ip => "IP",
            LayerKind::Ipv6 => "IPv6",
            LayerKind::Tcp => "TCP",
            LayerKind::Udp => "UDP",
            LayerKind::Icmp => "ICMP",
            LayerKind::Icmpv6 => "ICMPv6",
            LayerKind::Raw => "Raw",
            LayerKind::Ether => "Ether",
            LayerKind::Arp => "ARP",
        }
    }
}

/// The shared, ordered entries of a dict value.
pub type DictRef = Rc<RefCell<Vec<(Rc<str>, Value)>>>;

#[derive(Debug, Clone)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    List(Rc<RefCell<Vec<Value>>>),
    /// `start..end` (end excluded) or `start..=end`.
    Range(i64, i64, bool),
    /// Ordered string-keyed record (results such as `sr`'s answered/unanswered).
    Dict(DictRef),
    Func(Rc<Function>),
    Builtin(Rc<Builtin>),
    LayerClass(LayerKind),
    Packet(Rc<Packet>),
    /// TCP flags; compare as sets with strings (`"SA"`), ints and other flags.
    Flags(TcpFlags),
    /// IPv4 flags (3 bits: reserved, DF, MF).
    IpFlags(u8),
    TcpOpt(Rc<TcpOption>),
    /// A received packet with the probe it answers and the round-trip time.
    Reply(Rc<Reply>),
    /// An engine object (session, listener, scan result …).
    Handle(Rc<dyn Object>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }
    pub fn bytes(b: &[u8]) -> Value {
        Value::Bytes(Rc::from(b))
    }
    pub fn list(v: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(v)))
    }
    pub fn dict(v: Vec<(&str, Value)>) -> Value {
        Value::Dict(Rc::new(RefCell::new(
            v.into_iter().map(|(k, v)| (Rc::from(k), v)).collect(),
        )))
    }
    pub fn packet(p: Packet) -> Value {
        Value::Packet(Rc::new(p))
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "none",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Range(..) => "range",
            Value::Dict(_) => "dict",
            Value::Func(_) => "function",
            Value::Builtin(_) => "builtin",
            Value::LayerClass(_) => "layer class",
            Value::Packet(p) if p.layers.len() == 1 => "layer",
            Value::Packet(_) => "packet",
            Value::Flags(_) => "tcp flags",
            Value::IpFlags(_) => "ip flags",
            Value::TcpOpt(_) => "tcp option",
            Value::Reply(_) => "reply",
            Value::Handle(h) => h.type_name(),
        }
    }

    pub fn truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(n) => *n != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.borrow().is_empty(),
            Value::Dict(d) => !d.borrow().is_empty(),
            Value::Range(a, b, inc) => range_len(*a, *b, *inc) > 0,
            Value::Flags(f) => f.0 != 0,
            Value::IpFlags(f) => *f != 0,
            _ => true,
        }
    }

    /// The packet inside a packet or a reply.
    pub fn as_packet(&self) -> Option<&Packet> {
        match self {
            Value::Packet(p) => Some(p),
            Value::Reply(r) => Some(&r.packet),
            _ => None,
        }
    }

    /// Text for `print`/`str`: strings bare, everything else as [`Value::repr`].
    pub fn to_display(&self) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            _ => self.repr(),
        }
    }

    /// Text inside lists and in the REPL: strings quoted.
    pub fn repr(&self) -> String {
        let mut s = String::new();
        self.write_repr(&mut s, 0);
        s
    }

    fn write_repr(&self, out: &mut String, depth: usize) {
        if depth > 32 {
            out.push('…');
            return;
        }
        match self {
            Value::None => out.push_str("none"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Float(f) => out.push_str(&fmt_float(*f)),
            Value::Str(s) => {
                let _ = write!(out, "{:?}", &**s);
            }
            Value::Bytes(b) => out.push_str(&bytes_repr(b)),
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write_repr(out, depth + 1);
                }
                out.push(']');
            }
            Value::Range(a, b, inc) => {
                let _ = write!(out, "{a}{}{b}", if *inc { "..=" } else { ".." });
            }
            Value::Dict(d) => {
                out.push('{');
                for (i, (k, v)) in d.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{k}: ");
                    v.write_repr(out, depth + 1);
                }
                out.push('}');
            }
            Value::Func(f) => {
                let _ = write!(out, "<fn {}>", f.def.name);
            }
            Value::Builtin(b) => {
                let _ = write!(out, "<builtin {}>", b.name);
            }
            Value::LayerClass(k) => {
                let _ = write!(out, "<layer {}>", k.name());
            }
            Value::Packet(p) => out.push_str(&crate::packet::display::summary(p)),
            Value::Flags(f) => {
                let _ = write!(out, "{f}");
            }
            Value::IpFlags(f) => out.push_str(&ip_flags_text(*f)),
            Value::TcpOpt(o) => out.push_str(&option_text(o)),
            Value::Reply(r) => out.push_str(&crate::packet::display::summary(&r.packet)),
            Value::Handle(h) => out.push_str(&h.display()),
        }
    }
}

/// Python-style float text: `1.0`, `0.25`, `1e+20`.
pub fn fmt_float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        format!("{f}")
    }
}

pub fn ip_flags_text(f: u8) -> String {
    let mut parts = Vec::new();
    if f & 0b100 != 0 {
        parts.push("evil");
    }
    if f & 0b010 != 0 {
        parts.push("DF");
    }
    if f & 0b001 != 0 {
        parts.push("MF");
    }
    parts.join("+")
}

/// `DF`, `MF`, `DF+MF`, `DF|MF`, `evil`/`reserved`, `""`.
pub fn parse_ip_flags(s: &str) -> std::result::Result<u8, String> {
    let mut f = 0u8;
    for part in s.split(['+', '|', ',', ' ']).filter(|p| !p.is_empty()) {
        f |= match part.to_ascii_uppercase().as_str() {
            "DF" => 0b010,
            "MF" => 0b001,
            "EVIL" | "RESERVED" | "RB" => 0b100,
            other => {
                return Err(format!(
                    "unknown IPv4 flag {other:?} (expected DF, MF or evil)"
                ))
            }
        };
    }
    Ok(f)
}

/// How an option is written in scripts: `mss(1460)`, `sack(1, 2)`, `opt(34, b"..")`.
pub fn range_len(a: i64, b: i64, inclusive: bool) -> u64 {
    let end = if inclusive {
        i128::from(b) + 1
    } else {
        i128::from(b)
    };
    let n = end - i128::from(a);
    if n <= 0 {
        0
    } else {
        u64::try_from(n).unwrap_or(u64::MAX)
    }
}

/// Equality as `==` sees it: numbers across int/float, text and bytes by their
/// UTF-8 bytes, flags against strings and ints as sets.
pub fn equals(a: &Value, b: &Value) -> bool {
    equals_depth(a, b, 0)
}

/// Nested lists can contain themselves; past this depth they compare unequal.
const MAX_COMPARE_DEPTH: usize = 64;

fn equals_depth(a: &Value, b: &Value, depth: usize) -> bool {
    use Value::*;
    if depth > MAX_COMPARE_DEPTH {
        return false;
    }
    match (a, b) {
        (None, None) => true,
        (Bool(x), Bool(y)) => x == y,
        (Int(x), Int(y)) => x == y,
        (Int(x), Float(y)) | (Float(y), Int(x)) => (*x as f64) == *y,
        (Float(x), Float(y)) => x == y,
        (Str(x), Str(y)) => x == y,
        (Bytes(x), Bytes(y)) => x == y,
        (Str(x), Bytes(y)) | (Bytes(y), Str(x)) => x.as_bytes() == &**y,
        (List(x), List(y)) => {
            Rc::ptr_eq(x, y) || {
                let (x, y) = (x.borrow(), y.borrow());
                x.len() == y.len()
                    && x.iter()
                        .zip(y.iter())
                        .all(|(a, b)| equals_depth(a, b, depth + 1))
            }
        }
        (Range(a1, b1, i1), Range(a2, b2, i2)) => (a1, b1, i1) == (a2, b2, i2),
        (Dict(x), Dict(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .any(|(k2, v2)| k == k2 && equals_depth(v, v2, depth + 1))
                })
        }
        (Flags(x), Flags(y)) => x.0 == y.0,
        (Flags(f), Str(s)) | (Str(s), Flags(f)) => {
            TcpFlags::parse(s).map(|p| p.0 == f.0).unwrap_or(false)
        }
        (Flags(f), Int(n)) | (Int(n), Flags(f)) => i64::from(f.0) == *n,
        (IpFlags(x), IpFlags(y)) => x == y,
        (IpFlags(f), Str(s)) | (Str(s), IpFlags(f)) => {
            parse_ip_flags(s).map(|p| p == *f).unwrap_or(false)
        }
        (IpFlags(f), Int(n)) | (Int(n), IpFlags(f)) => i64::from(*f) == *n,
        (TcpOpt(x), TcpOpt(y)) => x == y,
        (LayerClass(x), LayerClass(y)) => x == y,
        (Packet(x), Packet(y)) => x == y,
        (Reply(x), Reply(y)) => Rc::ptr_eq(x, y),
        (Reply(r), Packet(p)) | (Packet(p), Reply(r)) => r.packet == **p,
        (Func(x), Func(y)) => Rc::ptr_eq(x, y),
        (Builtin(x), Builtin(y)) => Rc::ptr_eq(x, y),
        (Handle(x), Handle(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// `<`, `<=` … : numbers, strings, bytes and lists; `Option::None` when unordered.
pub fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    compare_depth(a, b, 0)
}

fn compare_depth(a: &Value, b: &Value, depth: usize) -> Option<std::cmp::Ordering> {
    use Value::*;
    if depth > MAX_COMPARE_DEPTH {
        return Option::None;
    }
    match (a, b) {
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Int(x), Float(y)) => (*x as f64).partial_cmp(y),
        (Float(x), Int(y)) => x.partial_cmp(&(*y as f64)),
        (Float(x), Float(y)) => x.partial_cmp(y),
        (Str(x), Str(y)) => Some(x.cmp(y)),
        (Bytes(x), Bytes(y)) => Some(x.cmp(y)),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (List(x), List(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            for (a, b) in x.iter().zip(y.iter()) {
                match compare_depth(a, b, depth + 1)? {
                    std::cmp::Ordering::Equal => continue,
                    o => return Some(o),
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => Option::None,
    }
}

/// Format one value by a Python-like spec: `[[fill]align][0][width][.prec][type]`,
/// types `d x X o b f e s`.
pub fn format_spec(v: &Value, spec: &str, span: Span) -> Result<String> {
    let bad = || error(span, ErrorKind::Value(format!("bad format spec {spec:?}")));
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut fill = ' ';
    let mut align: Option<char> = Option::None;
    if chars.len() >= 2 && matches!(chars.get(1), Some('<' | '>' | '^')) {
        fill = chars.first().copied().unwrap_or(' ');
        align = chars.get(1).copied();
        i = 2;
    } else if matches!(chars.first(), Some('<' | '>' | '^')) {
        align = chars.first().copied();
        i = 1;
    }
    let mut zero = false;
    if chars.get(i) == Some(&'0') {
        zero = true;
        i += 1;
    }
    let mut width = 0usize;
    while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
        width = width
            .saturating_mul(10)
            .saturating_add(d as usize)
            .min(1000);
        i += 1;
    }
    let mut prec: Option<usize> = Option::None;
    if chars.get(i) == Some(&'.') {
        i += 1;
        let mut p = 0usize;
        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
            p = p.saturating_mul(10).saturating_add(d as usize).min(100);
            i += 1;
        }
        prec = Some(p);
    }
    let ty = chars.get(i).copied();
    if chars.len() > i + usize::from(ty.is_some()) {
        return Err(bad());
    }
    let as_int = |v: &Value| -> Result<i64> {
        match v {
            Value::Int(n) => Ok(*n),
            Value::Bool(b) => Ok(i64::from(*b)),
            Value::Flags(f) => Ok(i64::from(f.0)),
            Value::IpFlags(f) => Ok(i64::from(*f)),
            _ => Err(error(
                span,
                ErrorKind::Type(format!(
                    "format {spec:?} needs an integer, got {}",
                    v.type_name()
                )),
            )),
        }
    };
    let body = match ty {
        Some('x') => format!("{:x}", as_int(v)?),
        Some('X') => format!("{:X}", as_int(v)?),
        Some('o') => format!("{:o}", as_int(v)?),
        Some('b') => format!("{:b}", as_int(v)?),
        Some('d') => format!("{}", as_int(v)?),
        Some('f') | Some('e') | Some('%') => {
            let f = match v {
                Value::Int(n) => *n as f64,
                Value::Float(f) => *f,
                _ => {
                    return Err(error(
                        span,
                        ErrorKind::Type(format!(
                            "format {spec:?} needs a number, got {}",
                            v.type_name()
                        )),
                    ))
                }
            };
            let p = prec.unwrap_or(6);
            match ty {
                Some('e') => format!("{f:.p$e}"),
                Some('%') => format!("{:.p$}%", f * 100.0),
                _ => format!("{f:.p$}"),
            }
        }
        Some('s') | Option::None => {
            let s = match (v, prec) {
                (Value::Float(f), Some(p)) => format!("{f:.p$}"),
                (_, Some(p)) => v.to_display().chars().take(p).collect(),
                _ => v.to_display(),
            };
            s
        }
        Some(_) => return Err(bad()),
    };
    let len = body.chars().count();
    if len >= width {
        return Ok(body);
    }
    let pad = width - len;
    let numeric = matches!(v, Value::Int(_) | Value::Float(_));
    if zero && align.is_none() {
        let (sign, digits) = match body.strip_prefix('-') {
            Some(d) => ("-", d),
            Option::None => ("", body.as_str()),
        };
        return Ok(format!("{sign}{}{digits}", "0".repeat(pad)));
    }
    let align = align.unwrap_or(if numeric { '>' } else { '<' });
    let f = fill.to_string();
    Ok(match align {
        '>' => format!("{}{body}", f.repeat(pad)),
        '^' => format!("{}{body}{}", f.repeat(pad / 2), f.repeat(pad - pad / 2)),
        _ => format!("{body}{}", f.repeat(pad)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_python() {
        assert_eq!(fmt_float(1.0), "1.0");
        assert_eq!(fmt_float(0.25), "0.25");
    }

    #[test]
    fn format_specs() {
        let s = Span::default();
        assert_eq!(format_spec(&Value::Int(255), "04x", s).unwrap(), "00ff");
        assert_eq!(format_spec(&Value::Int(-5), "04d", s).unwrap(), "-005");
        assert_eq!(
            format_spec(&Value::Float(1.23456), ".2f", s).unwrap(),
            "1.23"
        );
        assert_eq!(format_spec(&Value::str("ab"), ">4", s).unwrap(), "  ab");
        assert_eq!(format_spec(&Value::str("ab"), "*^6", s).unwrap(), "**ab**");
        assert!(format_spec(&Value::str("ab"), "q", s).is_err());
    }

    #[test]
    fn flags_compare_as_sets() {
        let f = Value::Flags(TcpFlags(TcpFlags::SYN | TcpFlags::ACK));
        assert!(equals(&f, &Value::str("SA")));
        assert!(equals(&f, &Value::str("AS")));
        assert!(equals(&f, &Value::str("SYN,ACK")));
        assert!(!equals(&f, &Value::str("S")));
        assert!(equals(&Value::str("pong\n"), &Value::bytes(b"pong\n")));
    }
}
