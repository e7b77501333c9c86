//! `fuzz(p, computed=false)`, as scapy's: every field the user did not set gets a
//! random value, drawn again each time the packet is sent (`send(fuzz(p), count=1000)`
//! sends 1000 different packets). Lengths and checksums stay computed unless
//! `computed=true`. Random values come from the script's generator, so `seed(n)` makes
//! a run repeatable.
//!
//! Never drawn: addresses (tcpcraft sends only where it is told; scapy's fuzz would
//! send an unset `dst` anywhere), the IP version (the packet would no longer be one the
//! kernel sends as IP), options and payload bytes.
//!
//! Which fields the user set is recorded in [`crate::packet::Given`] as packets are built: layer
//! constructors (`packets::construct`), `/`, and `p.field = v` (`packets::mark_set`)
//! mark them by their positions in the layer's field schema.

use super::call::{Args, Interp, Rng, Value};
use super::error::Result;
use super::net::{NetError, SendOpts};
use super::packets::{fields, fuzz_bits, layer_kind, set_field};
use crate::packet::Packet;

/// A fresh draw of a fuzzed packet (the packet itself when it is not fuzzed).
pub fn draw(p: &Packet, rng: &mut Rng) -> Packet {
    let Some(computed) = p.given.fuzz else {
        return p.clone();
    };
    let mut q = p.clone();
    for (i, l) in q.layers.iter_mut().enumerate() {
        let Some(kind) = layer_kind(l) else {
            continue;
        };
        let set = p.given.set.get(i).copied().unwrap_or(u64::MAX);
        for (k, f) in fields(kind).iter().enumerate() {
            if set & (1 << k) != 0 {
                continue;
            }
            let Some((bits, auto)) = fuzz_bits(f) else {
                continue;
            };
            if auto && !computed {
                continue;
            }
            let v = rng.next_u64() & ((1u64 << bits) - 1);
            let _ = set_field(l, f.name, &Value::Int(v as i64));
        }
    }
    q
}

/// Whether any of `pkts` is fuzzed.
pub fn any_fuzzed(pkts: &[Packet]) -> bool {
    pkts.iter().any(|p| p.given.fuzz.is_some())
}

/// Repetitions drawn and sent at a time by [`send`].
const CHUNK: u32 = 4096;

/// `send` of a list where some packets are fuzzed: every repetition is a new draw.
pub fn send(
    it: &mut Interp,
    pkts: &[Packet],
    opts: &SendOpts,
) -> std::result::Result<usize, NetError> {
    if !any_fuzzed(pkts) {
        return it.net.send(pkts, opts);
    }
    let mut left = opts.count;
    let mut n = 0;
    while left > 0 {
        // Ctrl-C between batches: a long fuzz run stops within one batch.
        if super::net::interrupted() {
            return Err(NetError::Interrupted);
        }
        let rounds = left.min(CHUNK.max(1));
        let mut batch = Vec::with_capacity(pkts.len() * rounds as usize);
        for _ in 0..rounds {
            for p in pkts {
                batch.push(draw(p, &mut it.rng));
            }
        }
        let one = SendOpts {
            count: 1,
            ..opts.clone()
        };
        n += it.net.send(&batch, &one)?;
        left -= rounds;
    }
    Ok(n)
}

/// `sr`/`sr1` probes: a fresh draw of each fuzzed one.
pub fn drawn(it: &mut Interp, pkts: Vec<Packet>) -> Vec<Packet> {
    if !any_fuzzed(&pkts) {
        return pkts;
    }
    pkts.iter().map(|p| draw(p, &mut it.rng)).collect()
}

pub fn install(it: &mut Interp) {
    it.register(
        "fuzz",
        "fuzz(p, computed=false): random values in every field you did not set, drawn again on each send (not addresses); computed=true draws lengths and checksums too; seed(n) repeats",
        fuzz,
    );
}

fn fuzz(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let v = a.require(0, "p")?;
    let computed = a.get(1, "computed").is_some_and(|v| v.truthy());
    a.finish(2)?;
    let mut p = v
        .as_packet()
        .cloned()
        .ok_or_else(|| a.err(format!("fuzz() takes a packet, not {}", v.type_name())))?;
    p.given.fuzz = Some(computed);
    Ok(Value::packet(draw(&p, &mut it.rng)))
}
