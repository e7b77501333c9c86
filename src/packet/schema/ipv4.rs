//! IPv4's fields (RFC 791), scapy's names.

use super::{auto, bytes, int, FieldValue, Kind, LayerSchema, Show};
use crate::packet::Layer;

pub static IPV4: LayerSchema = LayerSchema {
    title: "IP",
    fields: &fields![Layer::Ipv4(ip) =>
        "version": Kind::U(4), Show::Plain, "4", "IP version",
            get int(ip.version), set(v) ip.version = v.int()? as u8;
        "ihl": Kind::Auto(4), Show::Length, "none (auto)", "header length in 32-bit words",
            get auto(ip.ihl), set(v) ip.ihl = v.auto()?.map(|x| x as u8);
        "tos": Kind::U(8), Show::Hex, "0", "type of service (DSCP+ECN)",
            get int(ip.tos), set(v) ip.tos = v.int()? as u8;
        "len": Kind::Auto(16), Show::Length, "none (auto)", "total length",
            get auto(ip.len), set(v) ip.len = v.auto()?.map(|x| x as u16);
        "id": Kind::U(16), Show::Plain, "1", "identification",
            get int(ip.id), set(v) ip.id = v.int()? as u16;
        "flags": Kind::IpFlags, Show::Plain, "DF", "DF, MF, evil (reserved bit)",
            get FieldValue::IpFlags(ip.flags), set(v) ip.flags = v.ip_flags()?;
        "frag": Kind::U(13), Show::Plain, "0", "fragment offset in 8-byte units",
            get int(ip.frag), set(v) ip.frag = v.int()? as u16;
        "ttl": Kind::U(8), Show::Plain, "64", "time to live",
            get int(ip.ttl), set(v) ip.ttl = v.int()? as u8;
        "proto": Kind::Auto(8), Show::IpProto, "none (auto)", "next protocol",
            get auto(ip.proto), set(v) ip.proto = v.auto()?.map(|x| x as u8);
        "chksum": Kind::Auto(16), Show::Chksum, "none (auto)", "header checksum",
            get auto(ip.chksum), set(v) ip.chksum = v.auto()?.map(|x| x as u16);
        "src": Kind::V4Auto, Show::Plain, "none (route chooses)", "source address",
            get ip.src.map_or(FieldValue::None, FieldValue::V4), set(v) ip.src = v.v4()?;
        "dst": Kind::V4, Show::Plain, "127.0.0.1", "destination address",
            get FieldValue::V4(ip.dst),
            set(v) ip.dst = v.v4()?.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
        "options": Kind::IpOptions, Show::Plain, "b\"\"",
            "raw option bytes, or a list of rr(), lsrr(), ssrr(), ts_opt(), router_alert(), bytes",
            get bytes(&ip.options), set(v) ip.options = options(v)?;
    ],
    views: &[],
};

/// IP option bytes padded to a multiple of 4, as scapy pads them: the padding is part
/// of the options, so an explicit `ihl` counts it (padding given with them is kept).
fn options(v: FieldValue<'_>) -> Result<Vec<u8>, String> {
    let mut b = v.bytes()?;
    b.resize(b.len().div_ceil(4) * 4, 0);
    if b.len() > 40 {
        return Err(format!(
            "IP options are at most 40 bytes ({} with padding to 4)",
            b.len()
        ));
    }
    Ok(b)
}
