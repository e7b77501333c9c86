//! Resource bounds: `sniff` without a count keeps a bounded number of packets and bytes
//! in memory however fast they come (capture goes on; every packet still counts and
//! reaches `--pcap`), and a long flood leaves tcpcraft's peak RSS bounded.
//!
//! The flood comes from the server namespace of a bed made here, to the client
//! (198.18.0.0/15 only). Needs root: fails under CI=true when it cannot run, skips
//! elsewhere.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use tcpcraft::net::engine::{Engine, EngineOptions, StoreLimit};

use crate::testbed;
use testbed::Bed;

const EXE: &str = env!("CARGO_BIN_EXE_tcpcraft");

/// SYNs from the server to the client's port 5555, as fast as the engine sends them,
/// starting after `delay` seconds; `count` of them.
fn flood(bed: &Bed, delay: f64, count: u64) -> Child {
    bed.server_cmd(EXE)
        .args([
            "-q",
            "-c",
            &format!(
                "sleep({delay})\nsend(IP(dst=\"198.18.0.1\")/TCP(sport=1234, dport=5555, flags=\"S\"), count={count})"
            ),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the flood starts")
}

fn stop(mut c: Child) {
    let _ = c.kill();
    let _ = c.wait();
}

#[test]
fn sniff_keeps_at_most_the_store_limit() {
    let Some(bed) = testbed::standard("sniff store limit") else {
        return;
    };
    for (limit, what) in [
        (
            StoreLimit {
                packets: 1000,
                bytes: 1 << 30,
            },
            "packets",
        ),
        (
            StoreLimit {
                packets: 1_000_000,
                bytes: 40 * 500,
            },
            "bytes",
        ),
    ] {
        let sender = flood(&bed, 0.5, 20_000);
        let (kept, stats) = bed
            .in_client(move || {
                let mut e = Engine::new(EngineOptions::default()).expect("engine");
                e.sniff_bounded(
                    0,
                    Some(Duration::from_secs(4)),
                    Some("tcp and dst port 5555"),
                    None,
                    &|| false,
                    limit,
                )
                .expect("sniff")
            })
            .expect("in the client namespace");
        stop(sender);
        assert!(
            stats.captured > 5000,
            "{what}: the flood arrived ({} captured)",
            stats.captured
        );
        assert!(kept.len() <= limit.packets, "{what}: {} kept", kept.len());
        let bytes: usize = kept.iter().map(|s| s.bytes.len()).sum();
        assert!(bytes <= limit.bytes, "{what}: {bytes} bytes kept");
        assert_eq!(stats.captured, kept.len() + stats.not_kept, "{what}");
        assert!(stats.not_kept > 0, "{what}: the limit was reached");
    }
}

/// VmHWM (peak resident set) of a live process, in KiB.
fn vm_hwm(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    line.split_whitespace().next()?.parse().ok()
}

#[test]
fn a_long_sniff_of_a_flood_has_bounded_memory() {
    let Some(bed) = testbed::standard("sniff under a flood") else {
        return;
    };
    let secs = 8.0;
    let sender = flood(&bed, 0.3, 50_000_000);
    let mut sniffer = bed
        .client_cmd(EXE)
        .args([
            "-c",
            &format!("p = sniff(timeout={secs}, filter=\"tcp\")\nprint(\"kept\", len(p))"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sniff starts");
    let pid = sniffer.id();
    let start = Instant::now();
    let mut peak = 0;
    while sniffer.try_wait().ok().flatten().is_none() {
        if let Some(kb) = vm_hwm(pid) {
            peak = peak.max(kb);
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the sniff did not end"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    stop(sender);
    let out = sniffer.wait_with_output().expect("sniff ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    eprintln!(
        "sniff of a flood for {secs} s: peak RSS {} MiB; {}; {}",
        peak / 1024,
        stdout.trim(),
        stderr.trim()
    );
    // 100,000 kept packets and their parsed form fit well within this.
    assert!(peak < 256 * 1024, "peak RSS {} MiB", peak / 1024);
}
