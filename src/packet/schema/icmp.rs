//! ICMP (RFC 792) and ICMPv6 (RFC 4443) fields, scapy's names: the first eight header
//! bytes, the same for both. What bytes 4..8 mean for some types (an error's next-hop
//! MTU, pointer or gateway) are views.

use super::{auto, int, FieldValue, Kind, LayerSchema, Show, View};
use crate::packet::icmp::{v4, v6};
use crate::packet::Layer;

pub static ICMP: LayerSchema = LayerSchema {
    title: "ICMP",
    fields: &fields![Layer::Icmp(c) =>
        "type": Kind::U(8), Show::IcmpType, "8 (echo request)", "message type",
            get int(c.r#type), set(v) c.r#type = v.int()? as u8;
        "code": Kind::U(8), Show::IcmpCode, "0", "message code",
            get int(c.code), set(v) c.code = v.int()? as u8;
        "chksum": Kind::Auto(16), Show::Chksum, "none (auto)", "checksum",
            get auto(c.chksum), set(v) c.chksum = v.auto()?.map(|x| x as u16);
        "id": Kind::U(16), Show::Plain, "0", "identifier (header bytes 4-5)",
            get int(c.id), set(v) c.id = v.int()? as u16;
        "seq": Kind::U(16), Show::Plain, "0", "sequence number (header bytes 6-7)",
            get int(c.seq), set(v) c.seq = v.int()? as u16;
    ],
    views: &[
        View {
            name: "nexthopmtu",
            kind: Kind::U(16),
            show: Show::Plain,
            get: |l| match l {
                Layer::Icmp(c) if c.r#type == v4::DEST_UNREACH && c.code == 4 => Some(int(c.seq)),
                _ => None,
            },
        },
        View {
            name: "gw",
            kind: Kind::V4,
            show: Show::Plain,
            get: |l| match l {
                Layer::Icmp(c) if c.r#type == v4::REDIRECT => Some(FieldValue::V4(c.rest().into())),
                _ => None,
            },
        },
        View {
            name: "ptr",
            kind: Kind::U(8),
            show: Show::Plain,
            get: |l| match l {
                Layer::Icmp(c) if c.r#type == v4::PARAM_PROBLEM => Some(int(c.id >> 8)),
                _ => None,
            },
        },
    ],
};

pub static ICMPV6: LayerSchema = LayerSchema {
    title: "ICMPv6",
    fields: &fields![Layer::Icmpv6(c) =>
        "type": Kind::U(8), Show::IcmpType, "128 (echo request)", "message type",
            get int(c.r#type), set(v) c.r#type = v.int()? as u8;
        "code": Kind::U(8), Show::IcmpCode, "0", "message code",
            get int(c.code), set(v) c.code = v.int()? as u8;
        "chksum": Kind::Auto(16), Show::Chksum, "none (auto)", "checksum",
            get auto(c.chksum), set(v) c.chksum = v.auto()?.map(|x| x as u16);
        "id": Kind::U(16), Show::Plain, "0", "identifier (header bytes 4-5)",
            get int(c.id), set(v) c.id = v.int()? as u16;
        "seq": Kind::U(16), Show::Plain, "0", "sequence number (header bytes 6-7)",
            get int(c.seq), set(v) c.seq = v.int()? as u16;
    ],
    views: &[
        View {
            name: "mtu",
            kind: Kind::U(32),
            show: Show::Plain,
            get: |l| match l {
                Layer::Icmpv6(c) if c.r#type == v6::PACKET_TOO_BIG => Some(int(c.rest())),
                _ => None,
            },
        },
        View {
            name: "ptr",
            kind: Kind::U(32),
            show: Show::Plain,
            get: |l| match l {
                Layer::Icmpv6(c) if c.r#type == v6::PARAM_PROBLEM => Some(int(c.rest())),
                _ => None,
            },
        },
    ],
};
