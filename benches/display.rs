//! Micro-benchmark of the displays: how many packets a second each can describe.
//!
//!     cargo bench --bench display
//!
//! A plain timing loop (no criterion): the numbers are for the README and notes, never
//! asserted. The packet is the design's SYN with five options.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tcpcraft::packet::display::{hexdump, json, show, summary, summary_bytes};
use tcpcraft::packet::{LinkType, Packet};

const SYN: &str = "4500003c000100004006ee93c6120001c61200029c400050000003e800000000\
                   a002faf0206e0000020405b40402080a000000010000000001030307";

/// Runs `f` for about half a second and returns calls per second.
fn rate(mut f: impl FnMut() -> usize) -> f64 {
    let mut n = 0u64;
    let start = Instant::now();
    let mut sink = 0usize;
    while start.elapsed() < Duration::from_millis(500) {
        for _ in 0..1000 {
            sink = sink.wrapping_add(f());
        }
        n += 1000;
    }
    black_box(sink);
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let bytes = match hex::decode(SYN) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("bad vector: {e}");
            return;
        }
    };
    let (p, _) = Packet::parse(&bytes, LinkType::RawIp);
    let rows: [(&str, f64); 5] = [
        (
            "summary_bytes (tcpdump line from bytes)",
            rate(|| summary_bytes(black_box(&bytes), LinkType::RawIp).len()),
        ),
        (
            "summary (tcpdump line from a Packet)",
            rate(|| summary(black_box(&p)).len()),
        ),
        ("show (field tree)", rate(|| show(black_box(&p)).len())),
        (
            "json (serde_json::Value)",
            rate(|| json(black_box(&p)).as_object().map_or(0, |o| o.len())),
        ),
        (
            "hexdump (60 bytes)",
            rate(|| hexdump(black_box(&bytes)).len()),
        ),
    ];
    for (name, r) in rows {
        println!("{name:<42} {:>12.0} packets/s", r);
    }
}
