//! Port-openness testing: planning (targets × ports, a seeded permutation, shards,
//! cookies), the raw-socket engine over `net`, the connect() fallback, and output.
//!
//! The library entry points are [`scan`] (what the language's `scan(...)` calls) and
//! [`run`] (resolved targets and ports, full [`ScanConfig`]).
//!
//! Map of the raw-socket scan: [`ctx`] (configuration, state the threads share), [`engine`] (the run loop),
//! `tx.rs` (sender threads) and `pace.rs` (their rate), `rx.rs` (the capture thread),
//! `routes.rs` (where probes leave, source ports), `planner.rs` and `retry.rs` (what the
//! next round is), [`probe`] and [`cookie`] (the probes and their validation),
//! [`banner`] (`--banners`). Every socket, ring and BPF program is `net`'s:
//! [`crate::net::batch`] and [`crate::net::bpf::port_window_filter`].

pub mod banner;
mod banner_tx;
pub mod cli;
pub mod connect;
pub mod cookie;
pub mod ctx;
pub mod engine;
pub mod nmap;
pub mod output;
mod pace;
pub mod perm;
mod planner;
pub mod ports;
pub mod probe;
pub mod result;
mod retry;
mod routes;
mod rx;
pub mod targets;
mod tx;

use std::fmt;
use std::io;

pub use crate::cancel::INTERRUPTED;
pub use ctx::ScanConfig;
pub use ports::Proto;
pub use result::{PortResult, Reason, ScanResults, ScanStats, ScanType, State};
pub use targets::Targets;

/// What can stop a scan, with the exit status each means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanError {
    /// Bad targets, ports or options (exit 2).
    Usage(String),
    /// Missing CAP_NET_RAW; the message names the capability and the setcap line (exit 3).
    Permission(String),
    /// A syscall failed (exit 3).
    System(String),
}

impl ScanError {
    pub fn exit_code(&self) -> u8 {
        match self {
            ScanError::Usage(_) => crate::exit::USAGE,
            ScanError::Permission(_) | ScanError::System(_) => crate::exit::SYSTEM,
        }
    }

    pub(crate) fn from_io(what: &str, e: io::Error) -> ScanError {
        if e.kind() == io::ErrorKind::PermissionDenied {
            return ScanError::Permission(crate::net::permission_message());
        }
        ScanError::System(format!("{what}: {e}"))
    }
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanError::Usage(m) | ScanError::Permission(m) | ScanError::System(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ScanError {}

/// Whether this process may send raw packets (CAP_NET_RAW).
pub fn privileged() -> bool {
    crate::net::check_privileges().is_ok()
}

/// The most (host, port) pairs one scan takes: its answer table holds 5 bytes per pair
/// (1.25 GiB at this size), also when only a shard of them is probed here.
pub const MAX_PAIRS: u64 = 1 << 28;

/// Scan resolved `targets` × `ports` as `cfg` says (raw engine, or connect()).
pub fn run(targets: Targets, ports: Vec<u16>, cfg: &ScanConfig) -> Result<ScanResults, ScanError> {
    check(&targets, &ports)?;
    match cfg.kind {
        ScanType::Connect => connect::run(targets, ports, cfg),
        _ => engine::run(targets, ports, cfg),
    }
}

/// Whether a scan of these targets and ports can be run (something to scan, not too
/// much of it).
pub fn check(targets: &Targets, ports: &[u16]) -> Result<(), ScanError> {
    if ports.is_empty() {
        return Err(ScanError::Usage("no ports to scan".into()));
    }
    if targets.is_empty() {
        return Err(ScanError::Usage(
            "no targets to scan (all excluded?)".into(),
        ));
    }
    let pairs = targets.len().saturating_mul(ports.len() as u64);
    if pairs > MAX_PAIRS {
        return Err(ScanError::Usage(format!(
            "{pairs} (host, port) pairs is more than one scan holds ({MAX_PAIRS}, 5 bytes each): \
             scan fewer targets or ports at a time"
        )));
    }
    Ok(())
}

/// A scan in one call for library users (`scan("198.18.0.2", "1-100", "syn")`, as the
/// test bed's tests use it): parse the target and port strings as the command line
/// does, scan with defaults, and return the results. A SYN scan without CAP_NET_RAW falls
/// back to connect(), as nmap's -sS does to -sT.
pub fn scan(target: &str, ports: &str, kind: &str) -> Result<ScanResults, ScanError> {
    let mut kind = ScanType::parse(kind).map_err(ScanError::Usage)?;
    let specs = target
        .split_whitespace()
        .filter(|s| !s.trim().is_empty())
        .map(targets::parse_target)
        .collect::<Result<Vec<_>, _>>()
        .map_err(ScanError::Usage)?;
    let t = targets::resolve(&specs, &[]).map_err(ScanError::Usage)?;
    let p = ports::parse_ports(ports).map_err(ScanError::Usage)?;
    if kind == ScanType::Syn && !privileged() {
        kind = ScanType::Connect;
    }
    let cfg = ScanConfig {
        kind,
        keep_rsts: true,
        ..ScanConfig::default()
    };
    run(t, p.for_proto(kind.proto()), &cfg)
}
