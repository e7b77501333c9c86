//! The methods of the language's own value types, one table per type: lists
//! (`l.append(x)`, and scapy's `summary`/`nsummary`/`show` on result lists), strings
//! (`s.split(",")`), bytes, dicts, and packets and replies (scapy's `p.show()`,
//! `p.haslayer(TCP)` …). The evaluator dispatches `obj.name(…)` through these tables;
//! "no method" suggestions and the shell's completion read their names.

use crate::lang::call::*;
use crate::lang::error::{error, ErrorKind, Result, Span};
use crate::lang::helpers::{packet_line, routed_summary, write_out};
use crate::packet::display;
use std::cell::RefCell;
use std::rc::Rc;

const LIST: &[Method] = &[
    Method {
        name: "append",
        help: "l.append(x): add x at the end",
        f: list_append,
    },
    Method {
        name: "pop",
        help: "l.pop(i=-1): remove item i (the last by default) and return it",
        f: list_pop,
    },
    Method {
        name: "extend",
        help: "l.extend(values): add every value at the end",
        f: list_extend,
    },
    Method {
        name: "insert",
        help: "l.insert(i, x): put x before item i",
        f: list_insert,
    },
    Method {
        name: "index",
        help: "l.index(x): position of the first item equal to x, or none",
        f: list_index,
    },
    Method {
        name: "copy",
        help: "l.copy(): a new list with the same items",
        f: list_copy,
    },
    Method {
        name: "clear",
        help: "l.clear(): remove every item",
        f: list_clear,
    },
    Method {
        name: "summary",
        help: "l.summary(): one line per packet, `probe ==> reply` for a reply",
        f: list_summary,
    },
    Method {
        name: "nsummary",
        help: "l.nsummary(): summary() with numbered lines",
        f: list_summary,
    },
    Method {
        name: "show",
        help: "l.show(): the same as nsummary()",
        f: list_summary,
    },
];

const STR: &[Method] = &[
    Method {
        name: "split",
        help: "s.split(sep=none): the parts between each sep (between runs of white space without one)",
        f: str_split,
    },
    Method {
        name: "strip",
        help: "s.strip(): without white space at either end",
        f: str_strip,
    },
    Method {
        name: "upper",
        help: "s.upper(): in upper case",
        f: str_upper,
    },
    Method {
        name: "lower",
        help: "s.lower(): in lower case",
        f: str_lower,
    },
    Method {
        name: "startswith",
        help: "s.startswith(prefix): whether s begins with prefix",
        f: str_affix,
    },
    Method {
        name: "endswith",
        help: "s.endswith(suffix): whether s ends with suffix",
        f: str_affix,
    },
    Method {
        name: "replace",
        help: "s.replace(old, new): every old replaced by new",
        f: str_replace,
    },
    Method {
        name: "join",
        help: "s.join(values): the values' text with s between them",
        f: str_join,
    },
    Method {
        name: "encode",
        help: "s.encode(): the UTF-8 bytes of s",
        f: str_encode,
    },
    Method {
        name: "find",
        help: "s.find(sub): position of the first sub in s, or -1",
        f: str_find,
    },
];

const BYTES: &[Method] = &[
    Method {
        name: "hex",
        help: "b.hex(): the bytes as hex text",
        f: bytes_hex,
    },
    Method {
        name: "decode",
        help: "b.decode(): the bytes as UTF-8 text (a bad sequence becomes �)",
        f: bytes_decode,
    },
];

const DICT: &[Method] = &[
    Method {
        name: "keys",
        help: "d.keys(): the keys, in order",
        f: dict_keys,
    },
    Method {
        name: "values",
        help: "d.values(): the values, in the keys' order",
        f: dict_values,
    },
    Method {
        name: "get",
        help: "d.get(key, default=none): the value of key, or default",
        f: dict_get,
    },
];

/// By scapy's names. A packet's other attributes are its fields; no layer has a
/// field of these names.
const PACKET: &[Method] = &[
    Method {
        name: "show",
        help: "p.show(): every field of every layer, computed fields filled in",
        f: packet_show,
    },
    Method {
        name: "show2",
        help: "p.show2(): the same as show() (scapy's name)",
        f: packet_show,
    },
    Method {
        name: "summary",
        help: "p.summary(): the one-line summary as a string",
        f: packet_summary,
    },
    Method {
        name: "hexdump",
        help: "p.hexdump(): offset / hex / ASCII of the wire bytes",
        f: packet_hexdump,
    },
    Method {
        name: "copy",
        help: "p.copy(): the packet (packets are values: a copy is the same)",
        f: packet_copy,
    },
    Method {
        name: "haslayer",
        help: "p.haslayer(TCP): whether the packet has that layer (a class or its name)",
        f: packet_haslayer,
    },
    Method {
        name: "getlayer",
        help: "p.getlayer(TCP): that layer and what follows it, as p[TCP]",
        f: packet_getlayer,
    },
];

pub fn install(it: &mut Interp) {
    it.register_methods(Receiver::List, LIST);
    it.register_methods(Receiver::Str, STR);
    it.register_methods(Receiver::Bytes, BYTES);
    it.register_methods(Receiver::Dict, DICT);
    it.register_methods(Receiver::Packet, PACKET);
}

/// The receiver as the type a table's method is for (the evaluator only calls a
/// method with a receiver of its table's type).
fn receiver<'v, T>(obj: &'v Value, a: &Args, pick: impl Fn(&'v Value) -> Option<T>) -> Result<T> {
    pick(obj).ok_or_else(|| {
        a.err(format!(
            "{}() is not a method of a {}",
            a.name,
            obj.type_name()
        ))
    })
}

fn list<'v>(obj: &'v Value, a: &Args) -> Result<&'v Rc<RefCell<Vec<Value>>>> {
    receiver(obj, a, |v| match v {
        Value::List(l) => Some(l),
        _ => None,
    })
}

fn text<'v>(obj: &'v Value, a: &Args) -> Result<&'v str> {
    receiver(obj, a, |v| match v {
        Value::Str(s) => Some(&**s),
        _ => None,
    })
}

fn bytes<'v>(obj: &'v Value, a: &Args) -> Result<&'v [u8]> {
    receiver(obj, a, |v| match v {
        Value::Bytes(b) => Some(&**b),
        _ => None,
    })
}

fn dict<'v>(obj: &'v Value, a: &Args) -> Result<&'v DictRef> {
    receiver(obj, a, |v| match v {
        Value::Dict(d) => Some(d),
        _ => None,
    })
}

// Lists.

/// scapy's result lists: one line per packet, "probe ==> reply" for replies;
/// show/nsummary number them.
fn list_summary(it: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let l = list(obj, a)?;
    a.finish(0)?;
    let numbered = &*a.name != "summary";
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

fn list_append(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let l = list(obj, a)?;
    let v = a.require(0, "value")?;
    a.finish(1)?;
    l.borrow_mut().push(v);
    Ok(Value::None)
}

fn list_pop(_: &mut Interp, obj: &Value, a: &mut Args, at: Span) -> Result<Value> {
    let l = list(obj, a)?;
    let i = a.int(0, "index")?.unwrap_or(-1);
    a.finish(1)?;
    let len = l.borrow().len();
    let k = norm_index(i, len)
        .ok_or_else(|| error(at, ErrorKind::IndexOutOfRange { index: i, len }))?;
    Ok(l.borrow_mut().remove(k))
}

fn list_extend(it: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let l = list(obj, a)?;
    let v = a.require(0, "values")?;
    a.finish(1)?;
    let items = it.iterate(&v, a.span)?;
    l.borrow_mut().extend(items);
    Ok(Value::None)
}

fn list_insert(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let l = list(obj, a)?;
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

fn list_index(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let l = list(obj, a)?;
    let v = a.require(0, "value")?;
    a.finish(1)?;
    let pos = l.borrow().iter().position(|x| equals(x, &v));
    Ok(pos.map_or(Value::None, |p| Value::Int(p as i64)))
}

fn list_copy(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    Ok(Value::list(list(obj, a)?.borrow().clone()))
}

fn list_clear(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    list(obj, a)?.borrow_mut().clear();
    Ok(Value::None)
}

// Strings.

fn str_split(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let s = text(obj, a)?;
    let sep = a.string(0, "sep")?;
    a.finish(1)?;
    let parts: Vec<Value> = match sep {
        Some(sep) if !sep.is_empty() => s.split(sep.as_str()).map(Value::str).collect(),
        _ => s.split_whitespace().map(Value::str).collect(),
    };
    Ok(Value::list(parts))
}

fn str_strip(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    Ok(Value::str(text(obj, a)?.trim()))
}

fn str_upper(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    Ok(Value::str(&text(obj, a)?.to_uppercase()))
}

fn str_lower(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    Ok(Value::str(&text(obj, a)?.to_lowercase()))
}

/// `startswith` and `endswith`.
fn str_affix(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let s = text(obj, a)?;
    let p = a.string(0, "prefix")?.unwrap_or_default();
    a.finish(1)?;
    Ok(Value::Bool(if &*a.name == "startswith" {
        s.starts_with(&p)
    } else {
        s.ends_with(&p)
    }))
}

fn str_find(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let s = text(obj, a)?;
    let p = a.string(0, "sub")?.unwrap_or_default();
    a.finish(1)?;
    Ok(Value::Int(
        s.find(&p).map_or(-1, |i| s[..i].chars().count() as i64),
    ))
}

fn str_replace(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let s = text(obj, a)?;
    let from = a.string(0, "old")?.unwrap_or_default();
    let to = a.string(1, "new")?.unwrap_or_default();
    a.finish(2)?;
    if from.is_empty() {
        return Ok(Value::str(s));
    }
    Ok(Value::str(&s.replace(&from, &to)))
}

fn str_join(it: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let s = text(obj, a)?;
    let v = a.require(0, "values")?;
    a.finish(1)?;
    let items = it.iterate(&v, a.span)?;
    Ok(Value::str(
        &items
            .iter()
            .map(|x| x.to_display())
            .collect::<Vec<_>>()
            .join(s),
    ))
}

fn str_encode(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    Ok(Value::bytes(text(obj, a)?.as_bytes()))
}

// Bytes.

fn bytes_hex(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    Ok(Value::str(&hex::encode(bytes(obj, a)?)))
}

fn bytes_decode(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    Ok(Value::str(&String::from_utf8_lossy(bytes(obj, a)?)))
}

// Dicts.

fn dict_keys(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    Ok(Value::list(
        dict(obj, a)?
            .borrow()
            .iter()
            .map(|(k, _)| Value::Str(k.clone()))
            .collect(),
    ))
}

fn dict_values(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    Ok(Value::list(
        dict(obj, a)?
            .borrow()
            .iter()
            .map(|(_, v)| v.clone())
            .collect(),
    ))
}

fn dict_get(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let d = dict(obj, a)?;
    let k = a.string(0, "key")?.unwrap_or_default();
    let def = a.get(1, "default").unwrap_or(Value::None);
    a.finish(2)?;
    Ok(d.borrow()
        .iter()
        .find(|(kk, _)| **kk == *k)
        .map_or(def, |(_, v)| v.clone()))
}

// Packets and replies.

fn packet<'v>(obj: &'v Value, a: &Args) -> Result<&'v crate::packet::Packet> {
    obj.as_packet()
        .ok_or_else(|| a.err(format!("{}() is a method of packets", a.name)))
}

/// The layer a method is asked about: a class, or (as scapy takes it) its name.
fn layer_arg(a: &mut Args) -> Result<LayerKind> {
    let method = a.name.clone();
    match a.require(0, "layer")? {
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
    }
}

/// `show` and `show2`: ours fills in computed fields, as scapy's show2 does.
fn packet_show(it: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let p = packet(obj, a)?;
    a.finish(0)?;
    write_out(it, &display::show(&p.filled()));
    Ok(Value::None)
}

fn packet_summary(it: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let p = packet(obj, a)?;
    a.finish(0)?;
    Ok(Value::str(&routed_summary(it, p)))
}

fn packet_hexdump(it: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let p = packet(obj, a)?;
    a.finish(0)?;
    write_out(it, &display::hexdump(&p.to_bytes()));
    Ok(Value::None)
}

fn packet_copy(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let p = packet(obj, a)?;
    a.finish(0)?;
    Ok(Value::packet(p.clone()))
}

fn packet_haslayer(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let p = packet(obj, a)?;
    let k = layer_arg(a)?;
    a.finish(1)?;
    Ok(Value::Bool(
        p.layers
            .iter()
            .any(|l| crate::lang::packets::layer_kind(l) == Some(k)),
    ))
}

fn packet_getlayer(_: &mut Interp, obj: &Value, a: &mut Args, _: Span) -> Result<Value> {
    let p = packet(obj, a)?;
    let k = layer_arg(a)?;
    a.finish(1)?;
    crate::lang::packets::index(p, &Value::LayerClass(k), a.span)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `help(v.name)` shows these lines: each starts with its call form.
    #[test]
    fn every_method_has_a_help_line_in_call_form() {
        let tables = [
            ("l.", LIST),
            ("s.", STR),
            ("b.", BYTES),
            ("d.", DICT),
            ("p.", PACKET),
        ];
        for (receiver, table) in tables {
            for m in table {
                let form = format!("{receiver}{}(", m.name);
                assert!(m.help.starts_with(&form), "{}", m.help);
                assert!(m.help.contains("): "), "{}", m.help);
            }
        }
    }
}
