//! Values as the language writes them: text a person can type back (`b"\x01"`,
//! `mss(1460)`, `ts(any, 5)`). The language's `repr` and the sessions' expectation
//! messages both print through here.

use crate::packet::TcpOption;
use std::fmt::Write as _;

/// Bytes as a `b"…"` literal.
pub fn bytes_repr(b: &[u8]) -> String {
    let mut s = String::from("b\"");
    for &c in b {
        match c {
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(c as char),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s.push('"');
    s
}

/// A TCP option as the builder call that makes it (`mss(1460)`).
pub fn option_text(o: &TcpOption) -> String {
    match o {
        TcpOption::Eol => "eol()".into(),
        TcpOption::Nop => "nop()".into(),
        TcpOption::Mss(n) => format!("mss({n})"),
        TcpOption::Wscale(n) => format!("wscale({n})"),
        TcpOption::SackOk => "sackok()".into(),
        TcpOption::Sack(blocks) => {
            let v: Vec<String> = blocks.iter().map(|(l, r)| format!("{l}, {r}")).collect();
            format!("sack({})", v.join(", "))
        }
        TcpOption::Timestamp(a, b) => format!("ts({a}, {b})"),
        TcpOption::Unknown { kind, data } => format!("opt({kind}, {})", bytes_repr(data)),
        TcpOption::Raw(data) => format!("opt_raw({})", bytes_repr(data)),
    }
}

/// An option with `any` for the values marked in `wild` (`ts(any, 5)`), as written in
/// an expectation.
pub fn option_pattern_text(o: &TcpOption, wild: [bool; 2]) -> String {
    let [w0, w1] = wild;
    let v = |w: bool, x: String| if w { "any".to_string() } else { x };
    match o {
        TcpOption::Mss(m) => format!("mss({})", v(w0, m.to_string())),
        TcpOption::Wscale(m) => format!("wscale({})", v(w0, m.to_string())),
        TcpOption::Timestamp(a, b) => {
            format!("ts({}, {})", v(w0, a.to_string()), v(w1, b.to_string()))
        }
        TcpOption::Sack(_) if w0 => "sack(any)".to_string(),
        TcpOption::Unknown { kind, .. } if w1 => format!("opt({kind}, any)"),
        o => option_text(o),
    }
}
