//! The sender threads: each walks its part of the permutation piece by piece and sends
//! the probes not yet answered, in batches through its own [`LinkSenders`], at its
//! share of the rate.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::ctx::Ctx;
use super::pace::Pacer;
use super::probe::MAX_PROBE;
use super::routes::{route_key, Slot, Slots, PER_HOST_ROUTES};
use super::ScanError;
use crate::cancel::INTERRUPTED;
use crate::net::batch::{LinkSenders, ETH_HLEN};

/// Frames per send call.
pub(super) const BATCH: usize = 64;
/// Steps of the permutation a sender thread takes at a time.
const WALK_PIECE: u64 = 1024;

/// One sender thread's round: walk its part of the permutation and send every probe not
/// yet answered (all of them in round 0).
pub(super) fn send_round(
    ctx: &Ctx<'_>,
    t: u64,
    round: u32,
    slots: &Slots,
    socks: &Mutex<LinkSenders>,
) {
    // Each thread has its own sockets; the lock is only for handing them over per round.
    let Ok(mut socks) = socks.lock() else {
        return;
    };
    let socks = &mut *socks;
    let res = ctx.res;
    let np = res.ports.len() as u64;
    let per_host = res.targets.len() <= PER_HOST_ROUTES;
    // Each frame: room for an Ethernet header, then the probe as built.
    let mut frames = vec![[0u8; ETH_HLEN + MAX_PROBE]; BATCH];
    let mut lens = [0usize; BATCH];
    let mut n = 0usize;
    let mut cur: Option<Arc<Slot>> = None;
    let mut pacer = Pacer::new();
    let mut n_sent = 0u64;
    let mut batch_us = ctx.now_us();
    let mut since_check = 0usize;
    let (shard, shards) = ctx.cfg.shard;
    let batch = ctx.batch.load(Ordering::Relaxed).clamp(1, BATCH);
    let active = ctx.active_threads.load(Ordering::Relaxed).max(1);
    let cap = ctx.round_cap.load(Ordering::Relaxed);
    let port_try = ctx.port_try.load(Ordering::Relaxed);

    let flush = |socks: &mut LinkSenders,
                 frames: &mut [[u8; ETH_HLEN + MAX_PROBE]],
                 lens: &[usize],
                 n: usize,
                 slot: &Slot|
     -> io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        socks.send(slot, frames, lens.get(..n).unwrap_or_default(), |p| {
            ctx.record(p)
        })?;
        ctx.sent.fetch_add(n as u64, Ordering::Relaxed);
        Ok(())
    };

    // The shard's walk in pieces of WALK_PIECE steps, taken by whichever thread is free:
    // threads slowed down by the capture thread or the peer's work (it runs on our CPUs
    // over veth) do less, and all of them finish together.
    let steps = ctx.cycle.shard_steps(shard, shards);
    let mut walk = std::iter::from_fn(|| {
        let from = ctx
            .next_piece
            .fetch_add(1, Ordering::Relaxed)
            .checked_mul(WALK_PIECE)?;
        (from < steps).then(|| ctx.cycle.shard_range(shard, shards, from, WALK_PIECE))
    })
    .flatten();
    let began = Instant::now();
    // The walk in chunks: each chunk's table entries are read once first, all at once,
    // so that their cache misses (random places in a large table) overlap instead of
    // stalling one probe at a time.
    let mut chunk: Vec<u64> = Vec::with_capacity(BATCH);
    let mut touched = 0u32;
    let walk = std::iter::from_fn(move || {
        if chunk.is_empty() {
            chunk.extend(walk.by_ref().take(BATCH));
            chunk.reverse();
            for &idx in &chunk {
                let i = usize::try_from(idx).unwrap_or(usize::MAX);
                let a = res
                    .table
                    .answer
                    .get(i)
                    .map_or(0, |a| a.load(Ordering::Relaxed));
                let t = res
                    .table
                    .time
                    .get(i)
                    .map_or(0, |t| t.load(Ordering::Relaxed));
                touched = touched.wrapping_add(u32::from(a) ^ t);
            }
            std::hint::black_box(touched);
        }
        chunk.pop()
    });
    for idx in walk {
        let Ok(i) = usize::try_from(idx) else {
            continue;
        };
        if round > 0 && res.table.answered(i) {
            continue;
        }
        let (Some(host), Some(&port)) = (
            res.targets.get(idx / np),
            res.ports.get((idx % np) as usize),
        ) else {
            continue;
        };
        let Some(slot) = slots.get(&route_key(host, per_host)) else {
            continue;
        };
        let same = cur.as_ref().is_some_and(|c| {
            c.route.ifindex == slot.route.ifindex
                && c.route.next_hop == slot.route.next_hop
                && c.path == slot.path
                && c.route.dst.is_ipv6() == host.is_ipv6()
        });
        if !same || n >= batch {
            if let Some(c) = &cur {
                if let Err(e) = flush(socks, &mut frames, &lens, n, c) {
                    ctx.fail(ScanError::System(format!("sending probes: {e}")));
                    return;
                }
            }
            n_sent += n as u64;
            n = 0;
            cur = Some(slot.clone());
            // Banners: no more new connections than the reader's table holds.
            if let Some(b) = &ctx.cfg.banners {
                while ctx.banner_live.load(Ordering::Relaxed) >= (b.connections / 32).max(8)
                    && !ctx.stop_send.load(Ordering::Relaxed)
                    && !INTERRUPTED.load(Ordering::Relaxed)
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            pacer.pace(
                ctx.rate.load(Ordering::Relaxed) / active,
                n_sent,
                batch as u64,
            );
            // One timestamp per batch, taken before it is built: an RTT measured from
            // it is never shorter than the real one.
            batch_us = ctx.now_us();
            since_check += 1;
            if since_check % 16 == 0
                && (ctx.stop_send.load(Ordering::Relaxed) || INTERRUPTED.load(Ordering::Relaxed))
            {
                return;
            }
        }
        let (Some(frame), Some(len)) = (frames.get_mut(n), lens.get_mut(n)) else {
            continue;
        };
        let Some(buf) = frame
            .get_mut(ETH_HLEN..)
            .and_then(|b| <&mut [u8; MAX_PROBE]>::try_from(b).ok())
        else {
            continue;
        };
        if ctx.round_probes.fetch_add(1, Ordering::Relaxed) >= cap {
            break;
        }
        *len = ctx.prober.build(slot.route.src, host, port, port_try, buf);
        if *len == 0 {
            continue;
        }
        if let Some(tm) = res.table.time.get(i) {
            tm.store(batch_us, Ordering::Relaxed);
        }
        res.table.probed(i);
        n += 1;
    }
    if let Some(c) = &cur {
        if let Err(e) = flush(socks, &mut frames, &lens, n, c) {
            ctx.fail(ScanError::System(format!("sending probes: {e}")));
        }
    }
    if let Err(e) = socks.end_round() {
        ctx.fail(ScanError::System(format!("sending probes: {e}")));
    }
    if ctx.debug {
        let secs = began.elapsed().as_secs_f64();
        let k = n_sent + n as u64;
        let mut via = socks.ways();
        if via.is_empty() {
            via.push("raw IP or link-layer sendmmsg (no Ethernet interface)");
        }
        eprintln!(
            "thread {t}: {k} probes in {:.1} ms after {:.1} ms, {:.0}/s (frames by {})",
            secs * 1e3,
            began.duration_since(ctx.start).as_secs_f64() * 1e3,
            k as f64 / secs,
            via.join(", ")
        );
    }
}
