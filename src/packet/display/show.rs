//! scapy's `show2()`: every layer and field, computed values filled in.

use super::fields::describe;
use crate::packet::Packet;

/// Every layer and field (scapy's names), computed fields filled in, checksums and
/// lengths checked against what they should be. Layers nest as scapy nests them: each
/// layer's fields three columns deeper than the last. Every line ends with `\n`, the
/// last one too, so trees of several packets can be written one after another.
pub fn show(p: &Packet) -> String {
    let mut s = String::with_capacity(64 * p.layers.len().max(1) * 8);
    for (depth, layer) in describe(p).iter().enumerate() {
        s.push_str("###[ ");
        s.push_str(&layer.name);
        s.push_str(" ]###\n");
        let indent = " ".repeat(2 + 3 * depth);
        for field in &layer.fields {
            s.push_str(&indent);
            // scapy pads names to ten columns: `chksum    = 0x1234`.
            s.push_str(&format!("{:<10}= {}\n", field.name, field.text));
        }
    }
    s
}
