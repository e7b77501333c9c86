//! Packets in the language: layer constructors with scapy's field names, `/`
//! stacking, field reads and writes, TCP options, field sets, `ls`.
//!
//! Which fields a layer has, their kinds, defaults and help, and how each is read and
//! written in the packet model are described once, in `packet::schema`; this file
//! converts the language's values to and from the schema's (`to_field`, `from_field`).
//!
//! Range checking lives here: a value that does not fit its field is an error
//! naming the field and its range, except `seq`/`ack`, whose arithmetic wraps
//! modulo 2^32 (so `ack = r.seq + 1` works at 0xffffffff).

use super::call::*;
use super::error::{error, suggest, Error, ErrorKind, Result, Span};
use crate::packet::schema::{self, Field, FieldValue, Kind, LayerSchema};
use crate::packet::{
    EtherRepr, IcmpRepr, Ipv4Repr, Ipv6Repr, Layer, LinkType, Packet, TcpFlags, TcpOption, TcpRepr,
    UdpRepr,
};
use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::rc::Rc;

/// Language-level defaults that differ from scapy's (documented in `ls`).
pub const TCP_WINDOW: u16 = 64240;
/// Ephemeral port range for random source ports (IANA).
pub const EPHEMERAL: (i64, i64) = (49152, 65535);
/// Largest list a field set may expand to.
const MAX_EXPANSION: usize = 1 << 20;

/// How `fuzz()` draws a field: `Some((bits, computed))` for numbers, flags and
/// computed fields; `None` for what it leaves alone (addresses, options, bytes, version).
pub(super) fn fuzz_bits(info: &Field) -> Option<(u32, bool)> {
    match info.kind {
        _ if info.name == "version" => None,
        Kind::U(b) | Kind::Named(b, _) => Some((b, false)),
        Kind::Seq => Some((32, false)),
        Kind::Auto(b) => Some((b, true)),
        Kind::TcpFlags => Some((8, false)),
        Kind::IpFlags => Some((3, false)),
        _ => None,
    }
}

/// The schema of a layer class: its fields' names, kinds, defaults and help, and how
/// each is read and written (`packet::schema`).
pub fn layer_schema(kind: LayerKind) -> &'static LayerSchema {
    match kind {
        LayerKind::Ip => &schema::IPV4,
        LayerKind::Ipv6 => &schema::IPV6,
        LayerKind::Tcp => &schema::TCP,
        LayerKind::Udp => &schema::UDP,
        LayerKind::Icmp => &schema::ICMP,
        LayerKind::Icmpv6 => &schema::ICMPV6,
        LayerKind::Raw => &schema::RAW,
        LayerKind::Ether => &schema::ETHER,
        LayerKind::Arp => &schema::ARP,
    }
}

/// A layer class's fields, in order.
pub fn fields(kind: LayerKind) -> &'static [Field] {
    layer_schema(kind).fields
}

/// Lower-case names by which a layer is taken out of a packet (`r.tcp`).
pub fn layer_attr_name(kind: LayerKind) -> &'static str {
    match kind {
        LayerKind::Ip => "ip",
        LayerKind::Ipv6 => "ipv6",
        LayerKind::Tcp => "tcp",
        LayerKind::Udp => "udp",
        LayerKind::Icmp => "icmp",
        LayerKind::Icmpv6 => "icmpv6",
        LayerKind::Raw => "raw",
        LayerKind::Ether => "ether",
        LayerKind::Arp => "arp",
    }
}

pub fn layer_kind(l: &Layer) -> Option<LayerKind> {
    Some(match l {
        Layer::Ipv4(_) => LayerKind::Ip,
        Layer::Ipv6(_) => LayerKind::Ipv6,
        Layer::Tcp(_) => LayerKind::Tcp,
        Layer::Udp(_) => LayerKind::Udp,
        Layer::Icmp(_) => LayerKind::Icmp,
        Layer::Icmpv6(_) => LayerKind::Icmpv6,
        Layer::Raw(_) => LayerKind::Raw,
        Layer::Ether(_) => LayerKind::Ether,
        Layer::Arp(_) => LayerKind::Arp,
        Layer::Sll(_) | Layer::Padding(_) => return None,
    })
}

/// Install the layer classes, the TCP option constructors and `ls`.
pub fn install(it: &mut Interp) {
    for k in LayerKind::ALL {
        it.register_value(k.name(), Value::LayerClass(k));
    }
    it.register("ls", "ls(TCP) lists a layer's fields, types and defaults; ls(p) a packet's values; ls() the layers", ls);
}

pub(super) fn opt(o: TcpOption) -> Value {
    Value::TcpOpt(Rc::new(o))
}

/// Bytes of a payload value: bytes as they are, text as UTF-8.
pub fn to_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Bytes(b) => Some(b.to_vec()),
        Value::Str(s) => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

pub(super) fn to_uint(v: &Value, field: &str, bits: u32) -> std::result::Result<u64, ErrorKind> {
    let max: u64 = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let n = match v {
        Value::Int(n) => *n,
        Value::Bool(b) => i64::from(*b),
        Value::Flags(f) => i64::from(f.0),
        Value::IpFlags(f) => i64::from(*f),
        Value::List(_) | Value::Range(..) => {
            return Err(ErrorKind::Type(format!(
                "{field} expects an integer, not {}: a packet holds one value; a set of values is given when the layer is made, one packet each (TCP({field}=(75, 85)), TCP({field}=[80, 443]))",
                v.type_name()
            )))
        }
        other => {
            return Err(ErrorKind::Type(format!(
                "{field} expects an integer, not {}",
                other.type_name()
            )))
        }
    };
    match u64::try_from(n) {
        Ok(u) if u <= max => Ok(u),
        _ => Err(ErrorKind::FieldRange {
            field: field.to_string(),
            value: n.to_string(),
            range: format!("0..={max}"),
        }),
    }
}

pub(super) fn parse_v4(v: &Value, field: &str) -> std::result::Result<Ipv4Addr, ErrorKind> {
    match v {
        Value::Str(s) => s.trim().parse().map_err(|_| {
            ErrorKind::Value(format!(
                "{field}: {s:?} is not an IPv4 address (names are not resolved)"
            ))
        }),
        other => Err(ErrorKind::Type(format!(
            "{field} expects an address string, not {}",
            other.type_name()
        ))),
    }
}
fn parse_v6(v: &Value, field: &str) -> std::result::Result<Ipv6Addr, ErrorKind> {
    match v {
        Value::Str(s) => s.trim().parse().map_err(|_| {
            ErrorKind::Value(format!(
                "{field}: {s:?} is not an IPv6 address (names are not resolved)"
            ))
        }),
        other => Err(ErrorKind::Type(format!(
            "{field} expects an address string, not {}",
            other.type_name()
        ))),
    }
}
fn parse_mac(v: &Value, field: &str) -> std::result::Result<[u8; 6], ErrorKind> {
    let bad = || {
        ErrorKind::Value(format!(
            "{field}: expected a MAC address like \"02:00:00:00:00:01\""
        ))
    };
    let Value::Str(s) = v else { return Err(bad()) };
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut out = [0u8; 6];
    for (o, p) in out.iter_mut().zip(parts) {
        *o = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

pub fn conv_flags(v: &Value) -> std::result::Result<TcpFlags, ErrorKind> {
    match v {
        Value::Flags(f) => Ok(*f),
        Value::Str(s) => TcpFlags::parse(s).map_err(ErrorKind::Value),
        Value::Int(_) => Ok(TcpFlags(to_uint(v, "flags", 9)? as u16)),
        other => Err(ErrorKind::Type(format!(
            "flags expects letters \"SA\", names \"ECE|SYN\" or an integer, not {}",
            other.type_name()
        ))),
    }
}
fn conv_ip_flags(v: &Value) -> std::result::Result<u8, ErrorKind> {
    match v {
        Value::IpFlags(f) => Ok(*f),
        Value::Str(s) => parse_ip_flags(s).map_err(ErrorKind::Value),
        Value::Int(_) => Ok(to_uint(v, "flags", 3)? as u8),
        other => Err(ErrorKind::Type(format!(
            "flags expects \"DF\", \"MF\" or an integer, not {}",
            other.type_name()
        ))),
    }
}
pub fn conv_options(v: &Value) -> std::result::Result<Vec<TcpOption>, ErrorKind> {
    match v {
        Value::List(l) => l
            .borrow()
            .iter()
            .map(|o| match o {
                Value::TcpOpt(o) => Ok((**o).clone()),
                // scapy's tuples, as show() prints them: ('MSS', 1460), ('NOP', None)
                Value::List(t) => scapy_option(&t.borrow()),
                other => Err(ErrorKind::Type(format!(
                    "options are made with mss(), wscale(), sackok(), sack(), ts(), nop(), eol(), opt(), or scapy's ('MSS', 1460); got a {}",
                    other.type_name()
                ))),
            })
            .collect(),
        Value::TcpOpt(o) => Ok(vec![(**o).clone()]),
        Value::None => Ok(Vec::new()),
        other => Err(ErrorKind::Type(format!("options expects a list of options, not {}", other.type_name()))),
    }
}

/// One of scapy's option tuples: `('MSS', 1460)`, `('WScale', 7)`, `('SAckOK', b'')`,
/// `('SAck', (l, r, …))`, `('Timestamp', (val, ecr))`, `('NOP', None)`, `('EOL', None)`,
/// `(kind, b'data')`, `('Raw', b'…')` (what `show()` prints, so that it types back in).
fn scapy_option(t: &[Value]) -> std::result::Result<TcpOption, ErrorKind> {
    let bad = |m: String| ErrorKind::Value(m);
    let [name, value] = t else {
        return Err(bad(format!(
            "a scapy option is a pair such as ('MSS', 1460), got {} values",
            t.len()
        )));
    };
    let int = |v: &Value, max: i64, what: &str| match v {
        Value::Int(n) if (0..=max).contains(n) => Ok(*n),
        other => Err(bad(format!(
            "('{what}', …) takes an integer 0..={max}, got {}",
            other.repr()
        ))),
    };
    let ints = |v: &Value| -> std::result::Result<Vec<u32>, ErrorKind> {
        let items = match v {
            Value::List(l) => l.borrow().clone(),
            Value::Int(_) => vec![v.clone()],
            other => {
                return Err(bad(format!(
                    "expected a tuple of numbers, got {}",
                    other.repr()
                )))
            }
        };
        items
            .iter()
            .map(|x| match x {
                Value::Int(n) => {
                    u32::try_from(*n).map_err(|_| bad(format!("{n} does not fit in 32 bits")))
                }
                other => Err(bad(format!("expected a number, got {}", other.repr()))),
            })
            .collect()
    };
    let bytes = |v: &Value| match v {
        Value::Bytes(b) => Ok(b.to_vec()),
        Value::Str(s) => Ok(s.as_bytes().to_vec()),
        Value::None => Ok(Vec::new()),
        other => Err(bad(format!("expected bytes, got {}", other.repr()))),
    };
    match name {
        Value::Int(k) => {
            let kind = u8::try_from(*k).map_err(|_| bad(format!("option kind {k} is not 0..=255")))?;
            Ok(TcpOption::Unknown {
                kind,
                data: bytes(value)?,
            })
        }
        Value::Str(n) => match n.to_ascii_lowercase().as_str() {
            "mss" => Ok(TcpOption::Mss(int(value, 65535, "MSS")? as u16)),
            "wscale" => Ok(TcpOption::Wscale(int(value, 255, "WScale")? as u8)),
            "sackok" => Ok(TcpOption::SackOk),
            "nop" => Ok(TcpOption::Nop),
            "eol" => Ok(TcpOption::Eol),
            "timestamp" => match ints(value)?.as_slice() {
                [a, b] => Ok(TcpOption::Timestamp(*a, *b)),
                other => Err(bad(format!(
                    "('Timestamp', (val, ecr)) takes two numbers, got {}",
                    other.len()
                ))),
            },
            "sack" => {
                let v = ints(value)?;
                if v.is_empty() || v.len() % 2 != 0 {
                    return Err(bad(
                        "('SAck', (left, right, …)) takes pairs of edges".to_string(),
                    ));
                }
                Ok(TcpOption::Sack(v.chunks(2).map(|c| (c[0], c[1])).collect()))
            }
            "raw" => Ok(TcpOption::Raw(bytes(value)?)),
            _ => Err(bad(format!(
                "unknown option name {:?} (scapy's names: MSS WScale SAckOK SAck Timestamp NOP EOL, or a kind number)",
                &**n
            ))),
        },
        other => Err(bad(format!(
            "a scapy option starts with its name or kind, not {}",
            other.repr()
        ))),
    }
}

fn auto<T>(
    v: &Value,
    conv: impl FnOnce(&Value) -> std::result::Result<T, ErrorKind>,
) -> std::result::Result<Option<T>, ErrorKind> {
    match v {
        Value::None => Ok(None),
        other => conv(other).map(Some),
    }
}

fn seq32(v: &Value, field: &str) -> std::result::Result<u32, ErrorKind> {
    match v {
        Value::Int(n) => Ok(n.rem_euclid(1 << 32) as u32),
        other => Err(ErrorKind::Type(format!(
            "{field} expects an integer, not {}",
            other.type_name()
        ))),
    }
}

/// Set one field of one layer. `Err(None)` means the layer has no such field.
pub(super) fn set_field(
    l: &mut Layer,
    name: &str,
    v: &Value,
) -> std::result::Result<(), Option<ErrorKind>> {
    let Some(field) = layer_kind(l).and_then(|k| layer_schema(k).field(name)) else {
        return Err(None);
    };
    set_known_field(l, field, v).map_err(Some)
}

/// Writes `v` into `field` of `l` (a field of `l`'s layer): converted and checked as
/// [`to_field`] does, then refused only if the model cannot hold it.
fn set_known_field(l: &mut Layer, field: &Field, v: &Value) -> std::result::Result<(), ErrorKind> {
    let fv = to_field(l.name(), field, v)?;
    field.set(l, fv).map_err(ErrorKind::Value)
}

/// The language's value `v` for `field`, converted and checked (range, address syntax,
/// flag letters …); the error names the field.
fn to_field(
    layer: &str,
    field: &Field,
    v: &Value,
) -> std::result::Result<FieldValue<'static>, ErrorKind> {
    let name = field.name;
    let int = |bits: u32| to_uint(v, name, bits).map(FieldValue::Int);
    let auto_int = |bits: u32| match v {
        Value::None => Ok(FieldValue::None),
        _ => int(bits),
    };
    Ok(match field.kind {
        Kind::U(bits) => int(bits)?,
        Kind::Named(bits, names) => match v {
            Value::Str(s) => match names.iter().find(|(n, _)| *n == &**s) {
                Some((_, n)) => FieldValue::Int(*n),
                None => {
                    let known: Vec<String> = names
                        .iter()
                        .map(|(n, v)| format!("\"{n}\" ({v})"))
                        .collect();
                    return Err(ErrorKind::Value(format!(
                        "{layer} {name} {s:?}: use {} or a number",
                        known.join(", ")
                    )));
                }
            },
            _ => int(bits)?,
        },
        Kind::Seq => FieldValue::Int(seq32(v, name)?.into()),
        Kind::Auto(bits) => auto_int(bits)?,
        Kind::TcpFlags => FieldValue::TcpFlags(conv_flags(v)?),
        Kind::IpFlags => FieldValue::IpFlags(conv_ip_flags(v)?),
        Kind::V4 => FieldValue::V4(parse_v4(v, name)?),
        Kind::V4Auto => auto(v, |x| parse_v4(x, name))?.map_or(FieldValue::None, FieldValue::V4),
        Kind::V6 => FieldValue::V6(parse_v6(v, name)?),
        Kind::V6Auto => auto(v, |x| parse_v6(x, name))?.map_or(FieldValue::None, FieldValue::V6),
        Kind::Mac => FieldValue::Mac(parse_mac(v, name)?),
        Kind::Options => FieldValue::Options(Cow::Owned(conv_options(v)?)),
        Kind::IpOptions => FieldValue::Bytes(Cow::Owned(ip_options(v)?)),
        Kind::Bytes | Kind::LinkAddr => {
            FieldValue::Bytes(Cow::Owned(to_bytes(v).ok_or_else(|| {
                ErrorKind::Type(format!("{name} expects bytes or a string"))
            })?))
        }
    })
}

/// IP options: raw bytes, or a list of options (rr(), lsrr([...]), router_alert(), or
/// bytes) laid end to end. The model pads them to a multiple of 4 bytes.
fn ip_options(v: &Value) -> std::result::Result<Vec<u8>, ErrorKind> {
    match v {
        Value::List(items) => {
            let mut all = Vec::new();
            for item in items.borrow().iter() {
                all.extend(to_bytes(item).ok_or_else(|| {
                    ErrorKind::Type(format!(
                        "IP options are bytes or a list of rr(), lsrr(), ssrr(), \
                         ts_opt(), router_alert() or bytes; got a {}",
                        item.type_name()
                    ))
                })?);
            }
            Ok(all)
        }
        _ => to_bytes(v).ok_or_else(|| {
            ErrorKind::Type(
                "IP options are raw bytes or a list of rr(), lsrr(), ssrr(), \
                 ts_opt(), router_alert()"
                    .into(),
            )
        }),
    }
}

fn mac_text(m: &[u8]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A field's value as the language sees it: addresses as text, flags as flags.
fn from_field(v: FieldValue<'_>) -> Value {
    match v {
        FieldValue::None => Value::None,
        FieldValue::Int(n) => Value::Int(n as i64),
        FieldValue::TcpFlags(f) => Value::Flags(f),
        FieldValue::IpFlags(f) => Value::IpFlags(f),
        FieldValue::V4(a) => Value::str(&a.to_string()),
        FieldValue::V6(a) => Value::str(&a.to_string()),
        FieldValue::Mac(m) => Value::str(&mac_text(&m)),
        FieldValue::Bytes(b) => Value::bytes(&b),
        FieldValue::Options(o) => Value::list(o.iter().map(|o| opt(o.clone())).collect()),
    }
}

/// Read one field of one layer; `None` when the layer has no such field.
fn get_field(l: &Layer, name: &str) -> Option<Value> {
    let field = layer_schema(layer_kind(l)?).field(name)?;
    field.get(l).map(from_field)
}

/// The order in which a whole packet's layers are searched for a short field
/// name (`r.seq`, `r.flags`): the packet's own transport header first, then the
/// headers outside it, then anything inside (payloads, quoted headers of ICMP errors).
fn search_order(p: &Packet) -> Vec<usize> {
    let n = p.layers.len();
    let t = p
        .layers
        .iter()
        .position(|l| {
            matches!(
                l,
                Layer::Tcp(_) | Layer::Udp(_) | Layer::Icmp(_) | Layer::Icmpv6(_)
            )
        })
        .unwrap_or(n.saturating_sub(1));
    let mut order: Vec<usize> = (0..=t.min(n.saturating_sub(1))).rev().collect();
    order.extend(t + 1..n);
    if n == 0 {
        order.clear();
    }
    order
}

fn layer_by_attr(p: &Packet, name: &str) -> Option<usize> {
    let kind = LayerKind::ALL
        .into_iter()
        .find(|k| layer_attr_name(*k) == name)?;
    p.layers.iter().position(|l| layer_kind(l) == Some(kind))
}

fn all_names(p: &Packet) -> Vec<&'static str> {
    let mut names = vec!["payload", "load", "layers", "time"];
    for l in &p.layers {
        if let Some(k) = layer_kind(l) {
            names.push(layer_attr_name(k));
            names.extend(fields(k).iter().map(|f| f.name));
        }
    }
    names
}

/// Attribute names a packet value offers (REPL completion).
pub fn attr_names(p: &Packet) -> Vec<&'static str> {
    let mut v = all_names(p);
    v.sort_unstable();
    v.dedup();
    v
}

/// A packet's `time`: when it was captured or sent; a packet that was neither (built
/// here) reports the time now, as scapy stamps a packet when it is built.
pub fn packet_time(p: &Packet) -> std::time::Duration {
    p.time.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
    })
}

pub fn get_attr(p: &Packet, name: &str, span: Span) -> Result<Value> {
    match name {
        "time" => return Ok(Value::Float(packet_time(p).as_secs_f64())),
        "payload" | "load" => return Ok(Value::bytes(p.payload())),
        "layers" => {
            return Ok(Value::list(
                p.layers.iter().map(|l| Value::str(l.name())).collect(),
            ));
        }
        _ => {}
    }
    if LayerKind::ALL.iter().any(|k| layer_attr_name(*k) == name) {
        return Ok(match layer_by_attr(p, name).and_then(|i| p.layers.get(i)) {
            Some(l) => Value::packet(Packet {
                given: Default::default(),
                layers: vec![l.clone()],
                time: None,
            }),
            None => Value::None,
        });
    }
    for i in search_order(p) {
        if let Some(v) = p.layers.get(i).and_then(|l| get_field(l, name)) {
            return Ok(v);
        }
    }
    Err(no_field(p, name, span))
}

fn no_field(p: &Packet, name: &str, span: Span) -> Error {
    let names = all_names(p);
    let ty = p
        .layers
        .iter()
        .map(|l| l.name())
        .collect::<Vec<_>>()
        .join("/");
    error(
        span,
        ErrorKind::NoAttribute {
            ty: if ty.is_empty() {
                "empty packet".into()
            } else {
                ty
            },
            name: name.into(),
            suggestion: suggest(name, names),
        },
    )
}

/// `p.name = v`. `span` is the target (for unknown fields), `vspan` the value
/// (for range errors).
pub fn set_attr(
    it: &mut Interp,
    p: &mut Packet,
    name: &str,
    v: Value,
    span: Span,
    vspan: Span,
) -> Result<()> {
    let _ = it;
    if name == "time" {
        let t = match v {
            Value::Int(n) => n as f64,
            Value::Float(f) => f,
            _ => f64::NAN,
        };
        if !(t.is_finite() && (0.0..1e11).contains(&t)) {
            return Err(error(
                vspan,
                ErrorKind::Type("time is seconds since 1970 (a number like 1700000000.25)".into()),
            ));
        }
        p.time = Some(std::time::Duration::from_secs_f64(t));
        return Ok(());
    }
    if name == "payload" || name == "load" {
        let b = to_bytes(&v).ok_or_else(|| {
            error(
                vspan,
                ErrorKind::Type("payload expects bytes or a string".into()),
            )
        })?;
        match p
            .layers
            .iter_mut()
            .rev()
            .find(|l| matches!(l, Layer::Raw(_)))
        {
            Some(Layer::Raw(r)) => *r = b,
            _ => p.layers.push(Layer::Raw(b)),
        }
        return Ok(());
    }
    if LayerKind::ALL.iter().any(|k| layer_attr_name(*k) == name) {
        let Value::Packet(newp) = v else {
            return Err(error(
                vspan,
                ErrorKind::Type(format!("`{name}` expects a layer, not {}", v.type_name())),
            ));
        };
        return match layer_by_attr(p, name) {
            Some(i) => {
                p.layers.splice(i..=i, newp.layers.iter().cloned());
                Ok(())
            }
            None => Err(error(
                span,
                ErrorKind::Value(format!("the packet has no {} layer", name)),
            )),
        };
    }
    for i in search_order(p) {
        let Some(l) = p.layers.get_mut(i) else {
            continue;
        };
        match set_field(l, name, &v) {
            Ok(()) => {
                mark_set(p, i, name);
                return Ok(());
            }
            Err(None) => continue,
            Err(Some(k)) => return Err(error(vspan, k)),
        }
    }
    Err(no_field(p, name, span))
}

/// Names that [`get_attr`] answers for the whole packet, not from one layer's fields.
fn whole_packet_name(name: &str) -> bool {
    matches!(name, "payload" | "load" | "layers")
        || LayerKind::ALL.iter().any(|k| layer_attr_name(*k) == name)
}

/// `p[X].name` as scapy reads it: the field of layer X if it has one, else of the first
/// layer after X that has it (so `p[IP].flags` is IP's flags, `p[Ether].dst` the MAC).
/// `None` when this rule does not apply (no layer X, or a whole-packet name): the caller
/// then reads `p[X]` as any packet.
pub fn indexed_field(p: &Packet, k: LayerKind, name: &str) -> Option<Value> {
    if whole_packet_name(name) {
        return None;
    }
    let pos = p.layers.iter().position(|l| layer_kind(l) == Some(k))?;
    p.layers.get(pos..)?.iter().find_map(|l| get_field(l, name))
}

/// `p[X].name = v` as scapy writes it: into layer X if it has the field, else into the
/// first layer after X that has it. `Ok(false)` when this rule does not apply (no layer
/// X, a whole-packet name, or no such field from X on).
pub fn set_indexed_field(
    p: &mut Packet,
    k: LayerKind,
    name: &str,
    v: &Value,
    vspan: Span,
) -> Result<bool> {
    if whole_packet_name(name) {
        return Ok(false);
    }
    let Some(pos) = p.layers.iter().position(|l| layer_kind(l) == Some(k)) else {
        return Ok(false);
    };
    for (i, l) in p.layers.iter_mut().enumerate().skip(pos) {
        match set_field(l, name, v) {
            Ok(()) => {
                mark_set(p, i, name);
                return Ok(true);
            }
            Err(None) => continue,
            Err(Some(kind)) => return Err(error(vspan, kind)),
        }
    }
    Ok(false)
}

/// `p[0]` (the first layer), `p[TCP]` (the TCP layer and what follows, as in scapy).
pub fn index(p: &Packet, i: &Value, span: Span) -> Result<Value> {
    match i {
        Value::Int(n) => {
            let k = norm_index(*n, p.layers.len()).ok_or_else(|| {
                error(
                    span,
                    ErrorKind::IndexOutOfRange {
                        index: *n,
                        len: p.layers.len(),
                    },
                )
            })?;
            Ok(p.layers.get(k).map_or(Value::None, |l| {
                Value::packet(Packet {
                    given: Default::default(),
                    layers: vec![l.clone()],
                    time: None,
                })
            }))
        }
        Value::LayerClass(k) => Ok(
            match p.layers.iter().position(|l| layer_kind(l) == Some(*k)) {
                Some(pos) => Value::packet(Packet {
                    given: Default::default(),
                    layers: p.layers.get(pos..).unwrap_or(&[]).to_vec(),
                    time: None,
                }),
                None => Value::None,
            },
        ),
        other => Err(error(
            span,
            ErrorKind::Type(format!(
                "index a packet with a number or a layer class, not {}",
                other.type_name()
            )),
        )),
    }
}

pub fn flags_attr(f: TcpFlags, name: &str, span: Span) -> Result<Value> {
    if name == "value" {
        return Ok(Value::Int(f.0.into()));
    }
    match TcpFlags::parse_name(name) {
        Ok(w) if !name.is_empty() => Ok(Value::Bool(f.0 & w.0 == w.0)),
        _ => Err(error(
            span,
            ErrorKind::NoAttribute {
                ty: "tcp flags".into(),
                name: name.into(),
                suggestion: None,
            },
        )),
    }
}

pub fn option_attr(o: &TcpOption, name: &str, span: Span) -> Result<Value> {
    match name {
        "kind" => Ok(o.kind().map_or(Value::None, |k| Value::Int(k.into()))),
        "value" => Ok(match o {
            TcpOption::Mss(n) => Value::Int((*n).into()),
            TcpOption::Wscale(n) => Value::Int((*n).into()),
            TcpOption::Timestamp(a, b) => {
                Value::list(vec![Value::Int((*a).into()), Value::Int((*b).into())])
            }
            TcpOption::Sack(bl) => Value::list(
                bl.iter()
                    .map(|(l, r)| {
                        Value::list(vec![Value::Int((*l).into()), Value::Int((*r).into())])
                    })
                    .collect(),
            ),
            TcpOption::Unknown { data, .. } | TcpOption::Raw(data) => Value::bytes(data),
            TcpOption::Eol | TcpOption::Nop | TcpOption::SackOk => Value::None,
        }),
        _ => Err(error(
            span,
            ErrorKind::NoAttribute {
                ty: "tcp option".into(),
                name: name.into(),
                suggestion: suggest(name, ["kind", "value"]),
            },
        )),
    }
}

/// A layer with the language's defaults (random ports and ISN from `it.rng`).
pub fn default_layer(it: &mut Interp, kind: LayerKind) -> Layer {
    match kind {
        LayerKind::Ip => Layer::Ipv4(Ipv4Repr {
            flags: 0b010,
            ..Ipv4Repr::default()
        }),
        LayerKind::Ipv6 => Layer::Ipv6(Ipv6Repr::default()),
        LayerKind::Tcp => Layer::Tcp(TcpRepr {
            sport: it.rng.range(EPHEMERAL.0, EPHEMERAL.1) as u16,
            seq: it.rng.next_u64() as u32,
            window: TCP_WINDOW,
            ..TcpRepr::default()
        }),
        LayerKind::Udp => Layer::Udp(UdpRepr {
            sport: it.rng.range(EPHEMERAL.0, EPHEMERAL.1) as u16,
            ..UdpRepr::default()
        }),
        LayerKind::Icmp => Layer::Icmp(IcmpRepr::default()),
        LayerKind::Icmpv6 => Layer::Icmpv6(IcmpRepr::default_v6()),
        LayerKind::Raw => Layer::Raw(Vec::new()),
        LayerKind::Ether => Layer::Ether(EtherRepr::default()),
        LayerKind::Arp => Layer::Arp(crate::packet::ArpRepr::default()),
    }
}

/// Values a set-valued field takes: lists, ranges, and CIDR strings for addresses.
fn expand_set(
    it: &mut Interp,
    name: &str,
    kind: Kind,
    v: &Value,
    span: Span,
) -> Result<Option<Vec<Value>>> {
    match (v, kind) {
        (Value::List(_), Kind::Options) | (Value::Range(..), Kind::Options) => Ok(None),
        // IP options: a list of options laid end to end (scapy's list field), not a set.
        (Value::List(_), Kind::IpOptions) => Ok(None),
        (Value::List(l), _) => Ok(Some(l.borrow().clone())),
        (Value::Range(..), _) => Ok(Some(it.iterate(v, span)?)),
        (Value::Str(s), Kind::V4 | Kind::V4Auto) if s.contains('/') => {
            Ok(Some(cidr_v4(name, s, span)?))
        }
        _ => Ok(None),
    }
}

fn cidr_v4(name: &str, s: &str, span: Span) -> Result<Vec<Value>> {
    let bad = |m: String| error(span, ErrorKind::Value(m));
    let (addr, bits) = s
        .split_once('/')
        .ok_or_else(|| bad(format!("{name}: bad network {s:?}")))?;
    let addr: Ipv4Addr = addr
        .trim()
        .parse()
        .map_err(|_| bad(format!("{name}: {s:?} is not an IPv4 network")))?;
    let bits: u32 = bits
        .trim()
        .parse()
        .map_err(|_| bad(format!("{name}: {s:?} has a bad prefix length")))?;
    if !(16..=32).contains(&bits) {
        return Err(bad(format!(
            "{name}: prefix /{bits} is out of range /16../32"
        )));
    }
    let mask = if bits == 32 {
        u32::MAX
    } else {
        !(u32::MAX >> bits)
    };
    let base = u32::from(addr) & mask;
    let count = 1u64 << (32 - bits);
    Ok((0..count)
        .map(|i| Value::str(&Ipv4Addr::from(base.wrapping_add(i as u32)).to_string()))
        .collect())
}

/// `IP(...)`, `TCP(...)` …: a layer with keyword fields; set-valued fields (lists,
/// ranges, CIDR networks) give the list of every combination.
pub fn construct(it: &mut Interp, kind: LayerKind, a: &mut Args) -> Result<Value> {
    // Room for the layers `/` usually stacks on it (IP()/TCP()/Raw()): no reallocation.
    let mut layers = Vec::with_capacity(4);
    layers.push(default_layer(it, kind));
    let mut base = Packet {
        given: Default::default(),
        layers,
        time: None,
    };
    if let Some(first) = a.pos.first().cloned() {
        if a.pos.len() > 1 {
            return Err(error(
                a.span_of(1),
                ErrorKind::Arguments(format!("{}() takes fields as name=value", kind.name())),
            ));
        }
        match (kind, &first) {
            (LayerKind::Raw, v) => {
                let b = to_bytes(v).ok_or_else(|| a.err("Raw() takes bytes or a string"))?;
                base = Packet {
                    given: Default::default(),
                    layers: vec![Layer::Raw(b)],
                    time: None,
                };
            }
            (LayerKind::Ip | LayerKind::Ipv6, Value::Bytes(b)) => {
                base = Packet::parse(b, LinkType::RawIp).0
            }
            (LayerKind::Ether, Value::Bytes(b)) => base = Packet::parse(b, LinkType::Ethernet).0,
            _ => {
                return Err(error(
                    a.span_of(0),
                    ErrorKind::Arguments(format!(
                    "{}() takes fields as name=value (or wire bytes to dissect, for IP/IPv6/Ether)",
                    kind.name()
                )),
                ))
            }
        }
    }
    let schema = layer_schema(kind);
    let table = schema.fields;
    let kws = std::mem::take(&mut a.kw);
    let mut sets: Vec<(Rc<str>, Vec<Value>, Span)> = Vec::new();
    // Each name is looked up once: its field sets the layer and its bit marks it given.
    let mut given = 0u64;
    for (name, v, span) in &kws {
        let Some(i) = schema.position(name) else {
            return Err(error(
                *span,
                ErrorKind::NoAttribute {
                    ty: kind.name().into(),
                    name: name.to_string(),
                    suggestion: suggest(name, table.iter().map(|f| f.name)),
                },
            ));
        };
        let info = &table[i];
        given |= 1 << i;
        if let Some(values) = expand_set(it, name, info.kind, v, *span)? {
            sets.push((name.clone(), values, *span));
            continue;
        }
        match base.layers.first_mut() {
            // The layer this constructor made: its field is known.
            Some(l) if layer_kind(l) == Some(kind) => {
                set_known_field(l, info, v).map_err(|k| error(*span, k))?
            }
            // Dissected from bytes into another first layer: by name, as `p.name = v`.
            _ => set_in_first(&mut base, name, v, *span)?,
        }
    }
    if a.pos.is_empty() {
        // Built from fields (not dissected from bytes): what was not given is fuzzable.
        base.given.set = smallvec::smallvec![given];
    }
    if sets.is_empty() {
        return Ok(Value::packet(base));
    }
    let total = sets
        .iter()
        .try_fold(1usize, |acc, (_, v, _)| acc.checked_mul(v.len()));
    match total {
        Some(n) if n <= MAX_EXPANSION => {}
        _ => {
            return Err(error(
                a.span,
                ErrorKind::Limit(format!(
                    "field sets would make more than {MAX_EXPANSION} packets"
                )),
            ))
        }
    }
    let mut out = vec![base];
    for (name, values, span) in &sets {
        let mut next = Vec::with_capacity(out.len() * values.len());
        for p in &out {
            for v in values {
                let mut q = p.clone();
                set_in_first(&mut q, name, v, *span)?;
                next.push(q);
            }
        }
        out = next;
    }
    Ok(Value::list(out.into_iter().map(Value::packet).collect()))
}

fn set_in_first(p: &mut Packet, name: &str, v: &Value, span: Span) -> Result<()> {
    let Some(l) = p.layers.first_mut() else {
        return Ok(());
    };
    match set_field(l, name, v) {
        Ok(()) => Ok(()),
        Err(Some(k)) => Err(error(span, k)),
        Err(None) => Err(error(
            span,
            ErrorKind::NoAttribute {
                ty: l.name().into(),
                name: name.into(),
                suggestion: None,
            },
        )),
    }
}

/// `a / b` when the left side is packet-like; otherwise the operands come back
/// (`Err`) so that numbers divide.
pub fn stack(
    it: &mut Interp,
    a: Value,
    b: Value,
    span: Span,
) -> std::result::Result<Result<Value>, (Value, Value)> {
    let packetish = |v: &Value| {
        matches!(v, Value::Packet(_) | Value::LayerClass(_) | Value::Reply(_))
            || matches!(v, Value::List(l) if l.borrow().iter().any(|x| matches!(x, Value::Packet(_) | Value::Reply(_))))
    };
    if !packetish(&a) {
        return Err((a, b));
    }
    // the common case, `IP(...) / TCP(...)` on temporaries: reuse the left packet
    match (a, b) {
        (Value::Packet(pa), b) if !matches!(b, Value::List(_)) => {
            let q = match to_packet(it, &b, span) {
                Ok(q) => q,
                Err(e) => return Ok(Err(e)),
            };
            let p = Rc::try_unwrap(pa).unwrap_or_else(|rc| (*rc).clone());
            let p = p.stack(q);
            if let Some(m) = p.length_overflow() {
                return Ok(Err(error(span, ErrorKind::Value(m))));
            }
            Ok(Ok(Value::packet(p)))
        }
        (a, b) => Ok(stack_values(it, &a, &b, span)),
    }
}

fn to_packet(it: &mut Interp, v: &Value, span: Span) -> Result<Packet> {
    match v {
        Value::Packet(p) => Ok((**p).clone()),
        Value::Reply(r) => Ok(r.packet.clone()),
        Value::LayerClass(k) => Ok(Packet {
            given: crate::packet::Given {
                set: smallvec::smallvec![0],
                fuzz: None,
            },
            layers: vec![default_layer(it, *k)],
            time: None,
        }),
        Value::Str(_) | Value::Bytes(_) => Ok(Packet {
            given: Default::default(),
            layers: vec![Layer::Raw(to_bytes(v).unwrap_or_default())],
            time: None,
        }),
        other => Err(error(
            span,
            ErrorKind::Type(format!("cannot stack a {} on a packet", other.type_name())),
        )),
    }
}

fn stack_values(it: &mut Interp, a: &Value, b: &Value, span: Span) -> Result<Value> {
    match (a, b) {
        (Value::List(l), _) => {
            let items = l.borrow().clone();
            let mut out = Vec::new();
            for x in &items {
                match stack_values(it, x, b, span)? {
                    Value::List(inner) => out.extend(inner.borrow().iter().cloned()),
                    v => out.push(v),
                }
            }
            Ok(Value::list(out))
        }
        (_, Value::List(l)) => {
            let items = l.borrow().clone();
            let mut out = Vec::new();
            for y in &items {
                out.push(stack_values(it, a, y, span)?);
            }
            Ok(Value::list(out))
        }
        _ => {
            let p = to_packet(it, a, span)?;
            let q = to_packet(it, b, span)?;
            let p = p.stack(q);
            if let Some(m) = p.length_overflow() {
                return Err(error(span, ErrorKind::Value(m)));
            }
            Ok(Value::packet(p))
        }
    }
}

/// `ls()`, `ls(TCP)`, `ls(p)`.
/// A field of a layer class, `TCP.dport`: shows as its `ls` line; `.name`, `.default`,
/// `.type` and `.help` read its parts.
struct LayerField {
    layer: LayerKind,
    field: &'static Field,
}

/// `TCP.dport` (the caller checked that the field exists).
pub fn field_value(k: LayerKind, name: &str) -> Value {
    match fields(k).iter().find(|f| f.name == name) {
        Some(field) => Value::Handle(Rc::new(LayerField { layer: k, field })),
        None => Value::None,
    }
}

impl std::fmt::Debug for LayerField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.layer.name(), self.field.name)
    }
}

impl Object for LayerField {
    fn type_name(&self) -> &'static str {
        "field"
    }
    fn display(&self) -> String {
        let f = self.field;
        format!(
            "{}.{}: {} = {}   # {}",
            self.layer.name(),
            f.name,
            f.kind.describe(),
            f.default,
            f.help
        )
    }
    fn get(&self, _: &mut Interp, name: &str) -> Option<Result<Value>> {
        let f = self.field;
        Some(Ok(match name {
            "name" => Value::str(f.name),
            "default" => Value::str(f.default),
            "type" => Value::str(&f.kind.describe()),
            "help" => Value::str(f.help),
            "layer" => Value::LayerClass(self.layer),
            _ => return None,
        }))
    }
    fn call(&self, _: &mut Interp, _: &str, _: &mut Args) -> Option<Result<Value>> {
        None
    }
    fn names(&self) -> Vec<&'static str> {
        vec!["name", "default", "type", "help", "layer"]
    }
    fn help(&self, name: &str) -> Option<String> {
        name.is_empty().then(|| {
            format!(
                "set it with {}({}=…), read it with p.{}",
                self.layer.name(),
                self.field.name,
                self.field.name
            )
        })
    }
}

fn ls(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let v = a.get(0, "layer");
    a.finish(1)?;
    let mut out = String::new();
    match v {
        None => {
            for k in LayerKind::ALL {
                out.push_str(&format!(
                    "{:<8} {} fields: {}\n",
                    k.name(),
                    fields(k).len(),
                    fields(k)
                        .iter()
                        .map(|f| f.name)
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
            }
        }
        Some(Value::LayerClass(k)) => {
            for fi in fields(k) {
                out.push_str(&format!(
                    "{:<10}: {:<22} = {:<24} # {}\n",
                    fi.name,
                    fi.kind.describe(),
                    fi.default,
                    fi.help
                ));
            }
        }
        Some(v) if v.as_packet().is_some() => {
            let p = v.as_packet().cloned().unwrap_or(Packet::new(vec![]));
            for l in &p.layers {
                out.push_str(&format!("### {} ###\n", l.name()));
                if let Some(k) = layer_kind(l) {
                    for fi in fields(k) {
                        let val = get_field(l, fi.name).unwrap_or(Value::None);
                        out.push_str(&format!(
                            "{:<10}: {:<22} = {}\n",
                            fi.name,
                            fi.kind.describe(),
                            val.repr()
                        ));
                    }
                }
            }
        }
        Some(other) => {
            return Err(a.err(format!(
                "ls() takes a layer class or a packet, not {}",
                other.type_name()
            )))
        }
    }
    let _ = std::io::Write::write_all(&mut it.out, out.as_bytes());
    Ok(Value::None)
}

// What the user gave (for `fuzz`, which draws every other field): bits by the
// field tables' positions. A constructor marks its fields as it sets them (`construct`).

/// Records `p.name = v` on layer `i`.
pub fn mark_set(p: &mut Packet, i: usize, name: &str) {
    let Some(kind) = p.layers.get(i).and_then(layer_kind) else {
        return;
    };
    let Some(bit) = layer_schema(kind).position(name) else {
        return;
    };
    if p.given.set.len() < p.layers.len() {
        p.given.set.resize(p.layers.len(), u64::MAX);
    }
    if let Some(b) = p.given.set.get_mut(i) {
        *b |= 1 << bit;
    }
}

#[cfg(test)]
mod tests;
