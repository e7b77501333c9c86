//! Every field of every layer, with scapy's names, as both text (for `show`) and JSON
//! (for `json`). One list feeds both displays so they never disagree, and that list is
//! the layer's schema (`packet::schema`): which fields, in which order, how each is
//! read and in which style it is written. This file only knows how to write each style.
//!
//! Computed fields are shown with the value that goes on the wire (`Packet::filled`). For
//! checksums and lengths the value the field *should* have is computed too (by building
//! the packet again with that layer's computed fields cleared), so a deliberately wrong
//! checksum or lying length is marked as such.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::packet::schema::{self, FieldValue, Kind, Show};
use crate::packet::tcp::TcpOption;
use crate::packet::{icmp, ipv4, Layer, Packet, TcpFlags};

/// One field: scapy's name, the text `show` prints, the value `json` writes, and extra
/// JSON keys (e.g. `chksum_ok`).
pub(super) struct Field {
    pub name: &'static str,
    pub text: String,
    pub json: Value,
    pub extra: Option<(&'static str, Value)>,
}

fn f(name: &'static str, text: impl Into<String>, json: Value) -> Field {
    Field {
        name,
        text: text.into(),
        json,
        extra: None,
    }
}

fn num(name: &'static str, v: impl Into<u64> + Copy) -> Field {
    let v: u64 = v.into();
    f(name, v.to_string(), json!(v))
}

/// A layer, described.
pub(super) struct LayerFields {
    /// scapy's name for it (`IP`, `TCP`, `IP in ICMP`, …).
    pub name: String,
    /// The short name used as `"layer"` in JSON (`IP`, `TCP`, …).
    pub short: &'static str,
    pub fields: Vec<Field>,
}

/// What writing a field may need beyond its value: the layer it is in, whether an IPv4
/// header is right outside it, and what it should be (a length or a checksum).
struct Context<'a> {
    layer: &'a Layer,
    over_v4: bool,
    should: Option<u64>,
}

/// All layers of `p`, described. Never panics, whatever `p` holds.
pub(super) fn describe(p: &Packet) -> Vec<LayerFields> {
    let filled = p.filled();
    let mut out = Vec::with_capacity(p.layers.len());
    // Inside an ICMP error, scapy calls the quoted layers "IP in ICMP", "UDP in ICMP", …
    let mut quoted: Option<&'static str> = None;
    for (i, layer) in filled.layers.iter().enumerate() {
        let should_len = should_be(p, i, true);
        let should_sum = should_be(p, i, false);
        let suffix = match (quoted, layer) {
            (Some(q), Layer::Ipv4(_) | Layer::Ipv6(_) | Layer::Tcp(_) | Layer::Udp(_))
            | (Some(q), Layer::Icmp(_) | Layer::Icmpv6(_)) => format!(" in {q}"),
            _ => String::new(),
        };
        let over_v4 = matches!(
            i.checked_sub(1).and_then(|j| filled.layers.get(j)),
            Some(Layer::Ipv4(_))
        );
        let sch = schema::of(layer);
        let mut fields = Vec::with_capacity(sch.fields.len() + 1);
        for fd in sch.fields {
            let should = match fd.show {
                Show::Length => should_len.as_ref(),
                Show::Chksum | Show::UdpChksum => should_sum.as_ref(),
                _ => None,
            }
            .and_then(|s| fd.get(s))
            .and_then(|v| match v {
                FieldValue::Int(n) => Some(n),
                _ => None,
            });
            let cx = Context {
                layer,
                over_v4,
                should,
            };
            let v = fd.get(layer).unwrap_or(FieldValue::None);
            fields.push(write(fd.name, fd.kind, fd.show, v, &cx));
        }
        for view in sch.views {
            if let Some(v) = view.get(layer) {
                let cx = Context {
                    layer,
                    over_v4,
                    should: None,
                };
                fields.push(write(view.name, view.kind, view.show, v, &cx));
            }
        }
        out.push(LayerFields {
            name: format!("{}{suffix}", sch.title),
            short: layer.name(),
            fields,
        });
        match layer {
            Layer::Icmp(c) if icmp::v4::is_error(c.r#type) => quoted = Some("ICMP"),
            Layer::Icmpv6(c) if icmp::v6::is_error(c.r#type) => quoted = Some("ICMPv6"),
            _ => {}
        }
    }
    out
}

/// Whether a field of this style is checked against what it should be: lengths in the
/// first pass, checksums in the second.
fn checked(show: Show, lengths: bool) -> bool {
    if lengths {
        show == Show::Length
    } else {
        matches!(show, Show::Chksum | Show::UdpChksum)
    }
}

/// Layer `i` as it would be built with some of its computed fields cleared, the rest
/// of the packet as it is: what those fields should be. Lengths and checksums are
/// checked apart, so a checksum that is right for a header with a lying length is
/// called right.
fn should_be(p: &Packet, i: usize, lengths: bool) -> Option<Layer> {
    let layer = p.layers.get(i)?;
    let fields = schema::of(layer).fields;
    if !fields.iter().any(|fd| checked(fd.show, lengths)) {
        return None;
    }
    // IPv4 options that are not a multiple of four bytes would be padded once ihl is
    // cleared, shifting everything after them: no verdict on lengths then.
    if lengths && matches!(layer, Layer::Ipv4(ip) if ip.options.len() % 4 != 0) {
        return None;
    }
    let mut q = p.clone();
    let l = q.layers.get_mut(i)?;
    for fd in fields.iter().filter(|fd| checked(fd.show, lengths)) {
        fd.set(l, FieldValue::None).ok()?;
    }
    q.filled().layers.get(i).cloned()
}

/// One field written in its style. A computed field without a value is written as 0
/// (never the case in a filled packet).
fn write(name: &'static str, kind: Kind, show: Show, v: FieldValue<'_>, cx: &Context) -> Field {
    let n = match v {
        FieldValue::Int(n) => n,
        _ => 0,
    };
    match show {
        Show::Plain => plain(name, kind, v),
        Show::Hex => f(name, format!("0x{n:x}"), json!(n)),
        Show::EtherType => ethertype(name, n),
        Show::Length => checked_num(name, n, cx.should),
        Show::UdpChksum if n == 0 && cx.over_v4 => {
            let mut fl = f(name, "0x0000 (none)", json!(0));
            fl.extra = Some(("chksum_ok", json!(true)));
            fl
        }
        Show::Chksum | Show::UdpChksum => chksum(name, n, cx.should),
        Show::IpProto => f(name, named(n, ip_proto_name(n as u8)), json!(n)),
        Show::IcmpType | Show::IcmpCode => {
            let (tname, cname) = match cx.layer {
                Layer::Icmp(c) => icmp_names(c.r#type, c.code),
                Layer::Icmpv6(c) => icmp6_names(c.r#type, c.code),
                _ => (None, None),
            };
            let label = if show == Show::IcmpType { tname } else { cname };
            f(name, named(n, label), json!(n))
        }
        Show::ArpOp => {
            let text = match u16::try_from(n)
                .ok()
                .and_then(crate::packet::ArpRepr::op_name)
            {
                Some(op) => format!("{op} ({n})"),
                None => n.to_string(),
            };
            f(name, text, json!(n))
        }
        Show::PktType => f(name, format!("{n} ({})", sll_pkttype(n)), json!(n)),
    }
}

/// A field written as its kind says.
fn plain(name: &'static str, kind: Kind, v: FieldValue<'_>) -> Field {
    match v {
        FieldValue::Int(n) => num(name, n),
        FieldValue::None => match kind {
            Kind::V4Auto => unset(name, "0.0.0.0"),
            Kind::V6Auto => unset(name, "::"),
            _ => num(name, 0u64),
        },
        FieldValue::TcpFlags(fl) => tcp_flags(name, fl),
        FieldValue::IpFlags(fl) => f(
            name,
            if fl == 0 {
                "0 (none)".to_string()
            } else {
                ip_flags(fl)
            },
            json!(ip_flags(fl)),
        ),
        FieldValue::V4(a) => f(name, a.to_string(), json!(a.to_string())),
        FieldValue::V6(a) => {
            let s = super::ip6_string(&a.octets());
            f(name, s.clone(), json!(s))
        }
        FieldValue::Mac(m) => f(name, mac(&m), json!(mac(&m))),
        FieldValue::Bytes(b) => match kind {
            Kind::LinkAddr => f(name, mac(&b), json!(mac(&b))),
            Kind::IpOptions => f(name, ip_options_text(&b), json!(hex::encode(&b))),
            _ => f(name, py_bytes(&b), json!(hex::encode(&b))),
        },
        FieldValue::Options(o) => f(
            name,
            tcp_options_text(&o),
            Value::Array(o.iter().map(tcp_option_json).collect()),
        ),
    }
}

/// A length field, with what it should be if that differs (a crafted lie).
fn checked_num(name: &'static str, v: u64, should: Option<u64>) -> Field {
    let mut fl = num(name, v);
    if let Some(s) = should {
        if s != v {
            let _ = write!(fl.text, " (wrong, should be {s})");
        }
    }
    fl
}

fn chksum(name: &'static str, v: u64, should: Option<u64>) -> Field {
    let mut fl = f(name, format!("0x{v:04x}"), json!(v));
    if let Some(s) = should {
        if s == v {
            fl.text.push_str(" (correct)");
        } else {
            let _ = write!(fl.text, " (wrong, should be 0x{s:04x})");
        }
        fl.extra = Some(("chksum_ok", json!(s == v)));
    }
    fl
}

/// A source address left to the route (JSON `null`).
fn unset(name: &'static str, zero: &str) -> Field {
    f(
        name,
        format!("{zero} (unset: the route's source when sent)"),
        Value::Null,
    )
}

fn named(v: u64, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{v} ({n})"),
        None => v.to_string(),
    }
}

fn mac(b: &[u8]) -> String {
    let parts: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    parts.join(":")
}

fn ethertype(name: &'static str, et: u64) -> Field {
    let n = match et {
        0x0800 => " (IPv4)",
        0x86dd => " (IPv6)",
        0x0806 => " (ARP)",
        0x8100 => " (802.1Q)",
        _ => "",
    };
    f(name, format!("0x{et:04x}{n}"), json!(et))
}

fn sll_pkttype(t: u64) -> &'static str {
    match t {
        0 => "unicast",
        1 => "broadcast",
        2 => "multicast",
        3 => "unicast-to-another-host",
        4 => "sent-by-us",
        _ => "unknown",
    }
}

/// scapy's spelling: `MF+DF+evil` in bit order, empty when none is set.
fn ip_flags(v: u8) -> String {
    let mut parts = Vec::new();
    if v & ipv4::flag::MF != 0 {
        parts.push("MF");
    }
    if v & ipv4::flag::DF != 0 {
        parts.push("DF");
    }
    if v & ipv4::flag::EVIL != 0 {
        parts.push("evil");
    }
    parts.join("+")
}

fn ip_proto_name(p: u8) -> Option<&'static str> {
    Some(match p {
        0 => "hopopt",
        1 => "icmp",
        2 => "igmp",
        4 => "ipv4",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        43 => "ipv6-route",
        44 => "ipv6-frag",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        59 => "ipv6-nonxt",
        60 => "ipv6-opts",
        132 => "sctp",
        _ => return None,
    })
}

fn tcp_flags(name: &'static str, fl: TcpFlags) -> Field {
    let letters = fl.to_string();
    let text = if fl.0 == 0 {
        "0 (none)".to_string()
    } else {
        format!("{letters} ({})", fl.names())
    };
    f(name, text, json!(letters))
}

/// Bytes the way Python writes a `bytes` literal, without the `b`: `'GET /\r\n'`.
pub(super) fn py_bytes(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 2);
    s.push('\'');
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s.push('\'');
    s
}

/// scapy's list of option tuples: `[('MSS', 1460), ('NOP', None), (99, b'ab')]`.
/// IP options as the language builds them (`[lsrr(["198.18.0.3"]), router_alert()]`),
/// scapy's IPOption_* classes by their builder names; anything else as bytes. The
/// zero padding after the last option is not shown.
fn ip_options_text(o: &[u8]) -> String {
    if o.is_empty() {
        return "[]".into();
    }
    let addrs = |b: &[u8]| -> String {
        let v: Vec<String> = b
            .chunks_exact(4)
            .map(|a| format!("\"{}.{}.{}.{}\"", a[0], a[1], a[2], a[3]))
            .collect();
        format!("[{}]", v.join(", "))
    };
    let bytes = |b: &[u8]| -> String {
        let mut s = String::from("b\"");
        for x in b {
            let _ = write!(s, "\\x{x:02x}");
        }
        s.push('"');
        s
    };
    let mut parts = Vec::new();
    let mut i = 0;
    while i < o.len() {
        let kind = o[i];
        if kind == 0 && o[i..].iter().all(|&b| b == 0) {
            break;
        }
        if kind == 0 || kind == 1 {
            parts.push(bytes(&o[i..i + 1]));
            i += 1;
            continue;
        }
        let len = o.get(i + 1).map_or(0, |&l| usize::from(l));
        if len < 2 || i + len > o.len() {
            parts.push(bytes(&o[i..]));
            break;
        }
        let body = &o[i..i + len];
        parts.push(match (kind, len) {
            (7 | 0x83 | 0x89, l) if l >= 3 && (l - 3) % 4 == 0 && body[2] == 4 => {
                let name = match kind {
                    7 => "rr",
                    0x83 => "lsrr",
                    _ => "ssrr",
                };
                format!("{name}({})", addrs(&body[3..]))
            }
            (0x94, 4) if body[2..] == [0, 0] => "router_alert()".into(),
            (0x44, 8) if body[2..] == [9, 0, 0, 0, 0, 0] => "ts_opt(flg=0)".into(),
            (0x44, 12) if body[2..] == [9, 1, 0, 0, 0, 0, 0, 0, 0, 0] => "ts_opt()".into(),
            _ => bytes(body),
        });
        i += len;
    }
    format!("[{}]", parts.join(", "))
}

fn tcp_options_text(opts: &[TcpOption]) -> String {
    let items: Vec<String> = opts
        .iter()
        .map(|o| match o {
            TcpOption::Eol => "('EOL', None)".to_string(),
            TcpOption::Nop => "('NOP', None)".to_string(),
            TcpOption::Mss(v) => format!("('MSS', {v})"),
            TcpOption::Wscale(v) => format!("('WScale', {v})"),
            TcpOption::SackOk => "('SAckOK', b'')".to_string(),
            TcpOption::Sack(blocks) => {
                let v: Vec<String> = blocks
                    .iter()
                    .flat_map(|(l, r)| [l.to_string(), r.to_string()])
                    .collect();
                if v.len() == 1 {
                    format!("('SAck', ({},))", v.join(", "))
                } else {
                    format!("('SAck', ({}))", v.join(", "))
                }
            }
            TcpOption::Timestamp(a, b) => format!("('Timestamp', ({a}, {b}))"),
            TcpOption::Unknown { kind, data } => format!("({kind}, b{})", py_bytes(data)),
            TcpOption::Raw(b) => format!("('Raw', b{})", py_bytes(b)),
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// One option as JSON, named the way the language writes them (`mss(1460)`, `opt(99, …)`).
fn tcp_option_json(o: &TcpOption) -> Value {
    match o {
        TcpOption::Eol => json!({"kind": "eol"}),
        TcpOption::Nop => json!({"kind": "nop"}),
        TcpOption::Mss(v) => json!({"kind": "mss", "value": v}),
        TcpOption::Wscale(v) => json!({"kind": "wscale", "value": v}),
        TcpOption::SackOk => json!({"kind": "sackok"}),
        TcpOption::Sack(blocks) => {
            let v: Vec<Value> = blocks.iter().map(|(l, r)| json!([l, r])).collect();
            json!({"kind": "sack", "value": v})
        }
        TcpOption::Timestamp(a, b) => json!({"kind": "ts", "value": [a, b]}),
        TcpOption::Unknown { kind, data } => {
            json!({"kind": "opt", "number": kind, "data": hex::encode(data)})
        }
        TcpOption::Raw(b) => json!({"kind": "raw", "data": hex::encode(b)}),
    }
}

fn icmp_names(t: u8, code: u8) -> (Option<&'static str>, Option<&'static str>) {
    let tn = match t {
        0 => "echo-reply",
        3 => "dest-unreach",
        4 => "source-quench",
        5 => "redirect",
        8 => "echo-request",
        9 => "router-advertisement",
        10 => "router-solicitation",
        11 => "time-exceeded",
        12 => "parameter-problem",
        13 => "timestamp-request",
        14 => "timestamp-reply",
        15 => "information-request",
        16 => "information-response",
        17 => "address-mask-request",
        18 => "address-mask-reply",
        _ => return (None, None),
    };
    let cn = match (t, code) {
        (3, 0) => "network-unreachable",
        (3, 1) => "host-unreachable",
        (3, 2) => "protocol-unreachable",
        (3, 3) => "port-unreachable",
        (3, 4) => "fragmentation-needed",
        (3, 5) => "source-route-failed",
        (3, 6) => "network-unknown",
        (3, 7) => "host-unknown",
        (3, 8) => "source-host-isolated",
        (3, 9) => "network-prohibited",
        (3, 10) => "host-prohibited",
        (3, 11) => "TOS-network-unreachable",
        (3, 12) => "TOS-host-unreachable",
        (3, 13) => "communication-prohibited",
        (3, 14) => "host-precedence-violation",
        (3, 15) => "precedence-cutoff",
        (5, 0) => "network-redirect",
        (5, 1) => "host-redirect",
        (5, 2) => "TOS-network-redirect",
        (5, 3) => "TOS-host-redirect",
        (11, 0) => "ttl-zero-during-transit",
        (11, 1) => "ttl-zero-during-reassembly",
        (12, 0) => "ip-header-bad",
        (12, 1) => "required-option-missing",
        _ => return (Some(tn), None),
    };
    (Some(tn), Some(cn))
}

fn icmp6_names(t: u8, code: u8) -> (Option<&'static str>, Option<&'static str>) {
    let tn = match t {
        1 => "Destination unreachable",
        2 => "Packet too big",
        3 => "Time exceeded",
        4 => "Parameter problem",
        128 => "Echo Request",
        129 => "Echo Reply",
        133 => "Router Solicitation",
        134 => "Router Advertisement",
        135 => "Neighbor Solicitation",
        136 => "Neighbor Advertisement",
        137 => "Redirect Message",
        _ => return (None, None),
    };
    let cn = match (t, code) {
        (1, 0) => "No route to destination",
        (1, 1) => "Communication with destination administratively prohibited",
        (1, 2) => "Beyond scope of source address",
        (1, 3) => "Address unreachable",
        (1, 4) => "Port unreachable",
        (1, 5) => "Source address failed ingress/egress policy",
        (1, 6) => "Reject route to destination",
        (3, 0) => "hop limit exceeded in transit",
        (3, 1) => "fragment reassembly time exceeded",
        (4, 0) => "erroneous header field encountered",
        (4, 1) => "unrecognized Next Header type encountered",
        (4, 2) => "unrecognized IPv6 option encountered",
        _ => return (Some(tn), None),
    };
    (Some(tn), Some(cn))
}
