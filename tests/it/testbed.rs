//! Test bed helper for integration tests: builds a client and a server network namespace
//! joined by a veth pair (198.18.0.1/24 ↔ 198.18.0.2/24, 2001:db8:198:18::1/64 ↔ ::2),
//! with real kernel listeners (TCP 80 HTTP, TCP 7 echo, UDP 7 echo) and nftables faults,
//! removed on drop — also when the test panics.
//!
//! Without root (or iproute2/nftables/python3) a test skips with a message, except under
//! `CI=true`, where it fails: CI runs as root and must run every network test.
#![allow(dead_code, unused_imports)] // reason: each test binary uses a different part of the helper

use std::sync::atomic::{AtomicUsize, Ordering};

pub use tcpcraft::net::testbed::{
    Bed, BedConfig, Faults, CLIENT_V4, CLIENT_V6, SERVER_V4, SERVER_V6,
};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A unique id per bed: the test process id and a counter.
fn fresh_id() -> String {
    format!(
        "t{}x{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `None` means "skip this test" (already reported on stderr).
fn can_run(test: &str) -> bool {
    match tcpcraft::net::testbed::can_build() {
        Ok(()) => true,
        Err(why) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{test}: cannot build the test bed under CI=true: {why}");
            }
            eprintln!("SKIPPED {test}: {why}");
            false
        }
    }
}

/// The standard bed: HTTP 80, echo 7 (TCP and UDP), 8443 dropped, 81 rejected with ICMP.
pub fn standard(test: &str) -> Option<Bed> {
    with(
        test,
        Faults {
            drop: vec![8443],
            reject: vec![81],
            loss: 0,
        },
    )
}

/// A bed with the standard listeners and the given faults.
pub fn with(test: &str, faults: Faults) -> Option<Bed> {
    if !can_run(test) {
        return None;
    }
    let mut cfg = BedConfig::standard(&fresh_id());
    cfg.faults = faults;
    match Bed::up(&cfg) {
        Ok(b) => Some(b),
        Err(e) => panic!("{test}: building the test bed failed: {e}"),
    }
}

pub use tcpcraft::net::chain::Chain;

/// A chain of four namespaces (client ↔ router ↔ router ↔ server, forwarding on) with
/// the standard listeners and faults (80 open, 8443 dropped, 81 rejected with ICMP).
pub fn chain(test: &str) -> Option<Chain> {
    if !can_run(test) {
        return None;
    }
    let listen: Vec<String> = vec!["http:80".into(), "echo:7".into(), "uecho:7".into()];
    let faults = Faults {
        drop: vec![8443],
        reject: vec![81],
        loss: 0,
    };
    match Chain::up(&fresh_id(), &listen, &faults) {
        Ok(c) => Some(c),
        Err(e) => panic!("{test}: building the chain test bed failed: {e}"),
    }
}
