//! Helpers shared by the files that define builtins (`builtins/`, `fragment`,
//! `sniff`, `trace`) and by the shell: arguments as packets and network options,
//! network errors as language errors, and packets as lines of output.

use super::call::{Args, Interp, Value};
use super::error::{error, Error, ErrorKind, Result, Span};
use super::net::{NetError, SendOpts, SrOpts};
use crate::packet::{display, Packet};

/// Write `s` to the script's output, with a newline unless it ends with one.
pub fn write_out(it: &mut Interp, s: &str) {
    let _ = std::io::Write::write_all(&mut it.out, s.as_bytes());
    if !s.ends_with('\n') {
        let _ = std::io::Write::write_all(&mut it.out, b"\n");
    }
}

/// Wire bytes of a packet (computed fields filled in), bytes as they are, text as UTF-8.
pub fn wire_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Packet(p) => Some(p.to_bytes()),
        Value::Reply(r) => Some(r.packet.to_bytes()),
        Value::Bytes(b) => Some(b.to_vec()),
        Value::Str(s) => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

/// Argument `i` (or keyword `name`) as a packet.
pub fn one_packet(a: &mut Args, i: usize, name: &str) -> Result<Packet> {
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

/// `count=`, `inter=`, `iface=` of `send` and its kin.
pub fn send_opts(a: &mut Args) -> Result<SendOpts> {
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

/// [`send_opts`] and `timeout=`, `retry=` of `sr`, `sr1` and their kin.
pub fn sr_opts(a: &mut Args) -> Result<SrOpts> {
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

/// A network error as the language reports it.
pub fn net_err(span: Span, e: NetError) -> Error {
    match e {
        NetError::Interrupted => error(span, ErrorKind::Interrupted),
        NetError::Refused(m) => error(span, ErrorKind::Value(m)),
        NetError::Permission(m) | NetError::System(m) => error(span, ErrorKind::System(m)),
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
