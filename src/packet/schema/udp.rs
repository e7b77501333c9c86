//! UDP's fields (RFC 768), scapy's names.

use super::{auto, int, Kind, LayerSchema, Show};
use crate::packet::Layer;

pub static UDP: LayerSchema = LayerSchema {
    title: "UDP",
    fields: &fields![Layer::Udp(u) =>
        "sport": Kind::U(16), Show::Plain, "random (49152..=65535)", "source port",
            get int(u.sport), set(v) u.sport = v.int()? as u16;
        "dport": Kind::U(16), Show::Plain, "53", "destination port",
            get int(u.dport), set(v) u.dport = v.int()? as u16;
        "len": Kind::Auto(16), Show::Length, "none (auto)", "length",
            get auto(u.len), set(v) u.len = v.auto()?.map(|x| x as u16);
        "chksum": Kind::Auto(16), Show::UdpChksum, "none (auto)", "checksum",
            get auto(u.chksum), set(v) u.chksum = v.auto()?.map(|x| x as u16);
    ],
    views: &[],
};
