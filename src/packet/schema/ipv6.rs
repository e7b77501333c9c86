//! IPv6's fixed header fields (RFC 8200), scapy's names.

use super::{auto, int, FieldValue, Kind, LayerSchema, Show};
use crate::packet::Layer;

pub static IPV6: LayerSchema = LayerSchema {
    title: "IPv6",
    fields: &fields![Layer::Ipv6(ip) =>
        "version": Kind::U(4), Show::Plain, "6", "IP version",
            get int(ip.version), set(v) ip.version = v.int()? as u8;
        "tc": Kind::U(8), Show::Hex, "0", "traffic class",
            get int(ip.tc), set(v) ip.tc = v.int()? as u8;
        "fl": Kind::U(20), Show::Hex, "0", "flow label",
            get int(ip.fl), set(v) ip.fl = v.int()? as u32;
        "plen": Kind::Auto(16), Show::Length, "none (auto)", "payload length",
            get auto(ip.plen), set(v) ip.plen = v.auto()?.map(|x| x as u16);
        "nh": Kind::Auto(8), Show::IpProto, "none (auto)", "next header",
            get auto(ip.nh), set(v) ip.nh = v.auto()?.map(|x| x as u8);
        "hlim": Kind::U(8), Show::Plain, "64", "hop limit",
            get int(ip.hlim), set(v) ip.hlim = v.int()? as u8;
        "src": Kind::V6Auto, Show::Plain, "none (route chooses)", "source address",
            get ip.src.map_or(FieldValue::None, FieldValue::V6), set(v) ip.src = v.v6()?;
        "dst": Kind::V6, Show::Plain, "::1", "destination address",
            get FieldValue::V6(ip.dst),
            set(v) ip.dst = v.v6()?.unwrap_or(std::net::Ipv6Addr::UNSPECIFIED);
    ],
    views: &[],
};
