//! TCP's fields (RFC 9293), scapy's names.

use std::borrow::Cow;

use super::{auto, bytes, int, FieldValue, Kind, LayerSchema, Show, View};
use crate::packet::Layer;

pub static TCP: LayerSchema = LayerSchema {
    title: "TCP",
    fields: &fields![Layer::Tcp(t) =>
        "sport": Kind::U(16), Show::Plain, "random (49152..=65535)", "source port",
            get int(t.sport), set(v) t.sport = v.int()? as u16;
        "dport": Kind::U(16), Show::Plain, "80", "destination port",
            get int(t.dport), set(v) t.dport = v.int()? as u16;
        "seq": Kind::Seq, Show::Plain, "random", "sequence number",
            get int(t.seq), set(v) t.seq = v.int()? as u32;
        "ack": Kind::Seq, Show::Plain, "0", "acknowledgment number",
            get int(t.ack), set(v) t.ack = v.int()? as u32;
        "dataofs": Kind::Auto(4), Show::Length, "none (auto)", "header length in 32-bit words",
            get auto(t.dataofs), set(v) t.dataofs = v.auto()?.map(|x| x as u8);
        "reserved": Kind::U(3), Show::Plain, "0", "reserved bits",
            get int(t.reserved), set(v) t.reserved = v.int()? as u8;
        "flags": Kind::TcpFlags, Show::Plain, "S",
            "F S R P A U E C N, e.g. \"SA\", \"S|A\", \"SYN,ACK\"",
            get FieldValue::TcpFlags(t.flags), set(v) t.flags = v.tcp_flags()?;
        "window": Kind::U(16), Show::Plain, "64240", "receive window",
            get int(t.window), set(v) t.window = v.int()? as u16;
        "chksum": Kind::Auto(16), Show::Chksum, "none (auto)", "checksum",
            get auto(t.chksum), set(v) t.chksum = v.auto()?.map(|x| x as u16);
        "urgptr": Kind::U(16), Show::Plain, "0", "urgent pointer",
            get int(t.urgptr), set(v) t.urgptr = v.int()? as u16;
        "options": Kind::Options, Show::Plain, "[]",
            "mss() wscale() sackok() sack() ts() nop() eol() opt()",
            get FieldValue::Options(Cow::Borrowed(&t.options)), set(v) t.options = v.options()?;
    ],
    views: &[View {
        // Bytes between the options and the header's end, shown when they are not the
        // zeros a builder would put there.
        name: "padding",
        kind: Kind::Bytes,
        show: Show::Plain,
        get: |l| match l {
            Layer::Tcp(t) => t
                .padding
                .as_deref()
                .filter(|p| p.iter().any(|&b| b != 0))
                .map(bytes),
            _ => None,
        },
    }],
};
