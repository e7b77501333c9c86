//! One JSON object per packet, for scripts and `tcpcraft decode --json`.

use serde_json::{json, Map, Value};

use super::fields::describe;
use crate::packet::Packet;

/// `{"summary": "<tcpdump line>", "layers": [{"layer": "IP", "version": 4, …}, …]}`:
/// scapy's field names in scapy's order, computed fields filled in, numbers as numbers,
/// addresses as text, TCP flags as scapy's letters (`"SA"`), TCP options as
/// `{"kind": "mss", "value": 1460}`, payload bytes as hex. Each checksum comes with
/// `chksum_ok`. An unset source address is `null`.
pub fn json(p: &Packet) -> Value {
    let layers: Vec<Value> = describe(p)
        .into_iter()
        .map(|l| {
            let mut m = Map::new();
            m.insert("layer".to_string(), json!(l.short));
            for f in l.fields {
                m.insert(f.name.to_string(), f.json);
                if let Some((k, v)) = f.extra {
                    m.insert(k.to_string(), v);
                }
            }
            Value::Object(m)
        })
        .collect();
    json!({ "summary": super::summary(p), "layers": layers })
}
