//! ARP's fields (RFC 826, IPv4 over Ethernet), scapy's names.

use super::{int, FieldValue, Kind, LayerSchema, Show};
use crate::packet::Layer;

pub static ARP: LayerSchema = LayerSchema {
    title: "ARP",
    fields: &fields![Layer::Arp(a) =>
        "hwtype": Kind::U(16), Show::Plain, "1", "hardware type (1 Ethernet)",
            get int(a.hwtype), set(v) a.hwtype = v.int()? as u16;
        "ptype": Kind::U(16), Show::EtherType, "0x800", "protocol type (IPv4)",
            get int(a.ptype), set(v) a.ptype = v.int()? as u16;
        "hwlen": Kind::U(8), Show::Plain, "6", "hardware address length (only 6 is built)",
            get int(a.hwlen), set(v) a.hwlen = built("hwlen", v.int()?, 6)?;
        "plen": Kind::U(8), Show::Plain, "4", "protocol address length (only 4 is built)",
            get int(a.plen), set(v) a.plen = built("plen", v.int()?, 4)?;
        "op": Kind::Named(16, &[("who-has", 1), ("is-at", 2)]), Show::ArpOp, "1",
            "1 who-has (request), 2 is-at (reply)",
            get int(a.op), set(v) a.op = v.int()? as u16;
        "hwsrc": Kind::Mac, Show::Plain, "00:00:00:00:00:00", "sender MAC",
            get FieldValue::Mac(a.hwsrc), set(v) a.hwsrc = v.mac()?;
        "psrc": Kind::V4, Show::Plain, "0.0.0.0", "sender IPv4 address",
            get FieldValue::V4(a.psrc),
            set(v) a.psrc = v.v4()?.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
        "hwdst": Kind::Mac, Show::Plain, "00:00:00:00:00:00", "target MAC",
            get FieldValue::Mac(a.hwdst), set(v) a.hwdst = v.mac()?;
        "pdst": Kind::V4, Show::Plain, "0.0.0.0", "target IPv4 address",
            get FieldValue::V4(a.pdst),
            set(v) a.pdst = v.v4()?.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
    ],
    views: &[],
};

/// ARP's address lengths: only Ethernet's and IPv4's are built (other forms stay raw).
fn built(name: &str, n: u64, want: u64) -> Result<u8, String> {
    if n != want {
        return Err(format!(
            "ARP {name}: only {want} is built (Ethernet and IPv4 addresses)"
        ));
    }
    Ok(n as u8)
}
