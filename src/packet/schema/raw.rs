//! Payload bytes (`Raw`) and the bytes past what a length covers (`Padding`).

use super::{bytes, Kind, LayerSchema, Show};
use crate::packet::Layer;

pub static RAW: LayerSchema = LayerSchema {
    title: "Raw",
    fields: &fields![Layer::Raw(b) =>
        "load": Kind::Bytes, Show::Plain, "b\"\"", "payload bytes",
            get bytes(b), set(v) *b = v.bytes()?;
    ],
    views: &[],
};

pub static PADDING: LayerSchema = LayerSchema {
    title: "Padding",
    fields: &fields![Layer::Padding(b) =>
        "load": Kind::Bytes, Show::Plain, "b\"\"", "bytes past the enclosing length",
            get bytes(b), set(v) *b = v.bytes()?;
    ],
    views: &[],
};
