//! The connect() scan (nmap's -sT): a full TCP handshake per port through the kernel's
//! own sockets, for users without raw-socket privileges. Slower and logged by the
//! target, but it needs nothing. Worker threads share one walk of the permutation.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::ctx::ScanConfig;
use super::perm::Cycle;
use super::result::{Reason, ScanResults, ScanStats, ScanType};
use super::targets::Targets;
use super::ScanError;
use crate::cancel::INTERRUPTED;
use crate::net::batch::{self, Handshake};

/// Concurrent connects.
const WORKERS: usize = 128;

fn attempt(addr: SocketAddr, timeout: Duration) -> Option<Reason> {
    match batch::handshake(addr, timeout) {
        Handshake::Accepted => Some(Reason::SynAck),
        Handshake::Refused => Some(Reason::ConnRefused),
        Handshake::TimedOut => None,
        Handshake::Failed => Some(Reason::Unreach),
    }
}

/// Run a connect scan; timeouts are retried up to `max_retries` times (at most 2).
pub fn run(targets: Targets, ports: Vec<u16>, cfg: &ScanConfig) -> Result<ScanResults, ScanError> {
    let started = Instant::now();
    let mut res = ScanResults::new(ScanType::Connect, targets, ports);
    let np = res.ports.len() as u64;
    let n = res.targets.len().saturating_mul(np);
    let cycle = Cycle::new(n, cfg.seed);
    let walk = Mutex::new(cycle.shard(cfg.shard.0, cfg.shard.1));
    let timeout = cfg.wait.unwrap_or(Duration::from_secs(1));
    let tries = cfg.max_retries.min(2) + 1;
    let bar = super::output::progress_bar(cfg.progress, Some(n));
    let sent = std::sync::atomic::AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| loop {
                if INTERRUPTED.load(Ordering::Relaxed) {
                    return;
                }
                let Some(idx) = walk.lock().ok().and_then(|mut w| w.next()) else {
                    return;
                };
                let (Some(host), Some(&port)) = (
                    res.targets.get(idx / np),
                    res.ports.get((idx % np) as usize),
                ) else {
                    continue;
                };
                let Ok(i) = usize::try_from(idx) else {
                    continue;
                };
                res.table.probed(i);
                for _ in 0..tries {
                    let t0 = start.elapsed().as_micros() as u32;
                    if let Some(tm) = res.table.time.get(i) {
                        tm.store(t0, Ordering::Relaxed);
                    }
                    sent.fetch_add(1, Ordering::Relaxed);
                    if let Some(r) = attempt(SocketAddr::new(host, port), timeout) {
                        res.table.record(i, r, start.elapsed().as_micros() as u32);
                        break;
                    }
                }
                if let Some(b) = &bar {
                    b.inc(1);
                }
            });
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    res.stats = ScanStats {
        sent: sent.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        ..ScanStats::default()
    };
    res.interrupted = INTERRUPTED.load(Ordering::Relaxed);
    Ok(res)
}
