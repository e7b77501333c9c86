//! Link-layer headers: Ethernet II and Linux cooked capture v1, scapy's names.

use std::borrow::Cow;

use super::{auto, int, FieldValue, Kind, LayerSchema, Show};
use crate::packet::Layer;

pub static ETHER: LayerSchema = LayerSchema {
    title: "Ethernet",
    fields: &fields![Layer::Ether(e) =>
        "dst": Kind::Mac, Show::Plain, "00:00:00:00:00:00", "destination MAC",
            get FieldValue::Mac(e.dst), set(v) e.dst = v.mac()?;
        "src": Kind::Mac, Show::Plain, "00:00:00:00:00:00", "source MAC",
            get FieldValue::Mac(e.src), set(v) e.src = v.mac()?;
        "type": Kind::Auto(16), Show::EtherType, "none (auto)", "ethertype",
            get auto(e.ethertype), set(v) e.ethertype = v.auto()?.map(|x| x as u16);
    ],
    views: &[],
};

/// Cooked captures are only read (the language builds no such layer), so their
/// defaults are those of a capture of nothing.
pub static SLL: LayerSchema = LayerSchema {
    title: "cooked linux",
    fields: &fields![Layer::Sll(s) =>
        "pkttype": Kind::U(16), Show::PktType, "0", "packet type (0 to us … 4 sent by us)",
            get int(s.pkttype), set(v) s.pkttype = v.int()? as u16;
        "lladdrtype": Kind::U(16), Show::Hex, "0", "ARPHRD_ type (1 Ethernet)",
            get int(s.hatype), set(v) s.hatype = v.int()? as u16;
        "lladdrlen": Kind::U(16), Show::Plain, "0", "link address length",
            get int(s.halen), set(v) s.halen = v.int()? as u16;
        "src": Kind::LinkAddr, Show::Plain, "", "source link address",
            get FieldValue::Bytes(Cow::Borrowed(&s.addr[..usize::from(s.halen).min(8)])),
            set(v) {
                let b = v.bytes()?;
                if b.len() != usize::from(s.halen).min(8) {
                    return Err(format!(
                        "src: lladdrlen says {} bytes, not {}",
                        s.halen,
                        b.len()
                    ));
                }
                s.addr[..b.len()].copy_from_slice(&b);
            };
        "proto": Kind::Auto(16), Show::EtherType, "none (auto)", "ethertype",
            get auto(s.proto), set(v) s.proto = v.auto()?.map(|x| x as u16);
    ],
    views: &[],
};
