//! The capture thread: reads the answers from the fan-out receive rings, validates
//! their cookies, records them in the shared table (with the RTT estimate and the
//! round's arrival histogram), and feeds the banner reader.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::banner::Grabber;
use super::banner_tx::BannerTx;
use super::ctx::{Ctx, ScanConfig};
use super::planner::{kind_of, HIST_SLOTS, HIST_SLOT_US};
use super::probe::{TCP_PORTS, UDP_PORTS};
use super::result::{GrabStats, ScanType};
use super::ScanError;
use crate::net::batch::RxRings;
use crate::net::bpf;
use crate::net::ring::RingConfig;
use crate::net::wire;

/// Receive ring: blocks of 128 KiB, handed over after at most 2 ms; as many as the
/// whole scan's answers would fill (about 128 bytes each, so even a stalled capture
/// thread loses none), from 8 (1 MiB) to 128 (16 MiB, about 140,000 answers). Mapping
/// and locking the ring is most of a small scan's start-up time.
const RING_BLOCK: u32 = 128 << 10;
const RING_BLOCKS_MIN: u64 = 8;
const RING_BLOCKS_MAX: u64 = 128;

fn ring_blocks(pairs: u64) -> u32 {
    (pairs.saturating_mul(128) / u64::from(RING_BLOCK)).clamp(RING_BLOCKS_MIN, RING_BLOCKS_MAX)
        as u32
}
const RING_RETIRE_MS: u32 = 2;

/// With banners, each open port brings a few segments more (its answer, FIN, ACKs) of a
/// few hundred bytes: about 1 KiB of ring per pair, up to 256 blocks (32 MiB).
fn banner_ring_blocks(pairs: u64) -> u32 {
    (pairs.saturating_mul(1024) / u64::from(RING_BLOCK)).clamp(RING_BLOCKS_MIN, 256) as u32
}

/// Open the capture: one ring per CPU (up to 4), each for the answers that CPU receives,
/// sharing the memory one ring would have, sized for `pairs` (host, port) pairs; the
/// filter passes answers to the scan's source ports from `sport` and ICMP errors.
pub(super) fn open(cfg: &ScanConfig, pairs: u64, sport: u16) -> Result<RxRings, ScanError> {
    let (proto, span) = match cfg.kind {
        ScanType::Udp => (wire::PROTO_UDP, UDP_PORTS),
        _ => (wire::PROTO_TCP, TCP_PORTS),
    };
    let filter = bpf::port_window_filter(proto, sport, span).map_err(ScanError::System)?;
    let cpus = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    RxRings::open(
        &filter,
        RingConfig {
            block_size: RING_BLOCK,
            block_count: (if cfg.banners.is_some() {
                banner_ring_blocks(pairs)
            } else {
                ring_blocks(pairs)
            } / cpus as u32)
                .max(RING_BLOCKS_MIN as u32),
            frame_size: 2048,
            retire_ms: RING_RETIRE_MS,
            ignore_outgoing: true,
        },
        cpus,
    )
    .map_err(|e| ScanError::from_io("opening the capture socket", e))
}

/// Banners read, by pair index, and the reader's counters.
pub(super) type Banners = (HashMap<usize, Vec<u8>>, GrabStats);

/// The capture thread: record every validated answer until told to stop; with
/// `banner`, also read what the open ports say (returned at the end).
pub(super) fn receive<'a>(
    ctx: &Ctx<'a>,
    mut rings: RxRings,
    mut banner: Option<(Grabber<'a>, BannerTx<'_>)>,
) -> (RxRings, Option<Banners>) {
    let res = ctx.res;
    let np = res.ports.len() as u64;
    let mut last_drops = Instant::now();
    let ours = |a: IpAddr| ctx.ours.contains(&a);
    let mut rtt = Rtt::default();
    let now_ms = || ctx.start.elapsed().as_millis() as u32;
    let mut handle = |data: &[u8], banner: &mut Option<(Grabber<'a>, BannerTx<'_>)>| {
        if let Some((g, tx)) = banner.as_mut() {
            let taken = g.on_packet(data, now_ms(), tx);
            // Before the answer is recorded: once the main thread sees every probe
            // answered, it sees the connections being read too.
            ctx.banner_live.store(g.live(), Ordering::SeqCst);
            tx.flush_if_full();
            if !taken {
                // A SYN-ACK the banner reader had no room for: asked again later.
                return;
            }
        }
        let Some((host, port, reason)) = ctx.prober.classify(data, ours) else {
            return;
        };
        let (Some(h), Ok(p)) = (res.targets.index_of(host), res.ports.binary_search(&port)) else {
            return;
        };
        let Ok(i) = usize::try_from(h * np + p as u64) else {
            return;
        };
        ctx.record(data);
        let now = ctx.now_us();
        if res.table.record(i, reason, now) {
            ctx.replies.fetch_add(1, Ordering::Relaxed);
            if let Some(k) = ctx.kinds.get(kind_of(reason)) {
                k.fetch_add(1, Ordering::Relaxed);
            }
            let since = u64::from(now).saturating_sub(ctx.round_start_us.load(Ordering::Relaxed));
            let slot = usize::try_from(since / HIST_SLOT_US)
                .map_or(HIST_SLOTS - 1, |s| s.min(HIST_SLOTS - 1));
            if let Some(h) = ctx.hist.get(slot) {
                h.fetch_add(1, Ordering::Relaxed);
            }
            ctx.last_reply_us.store(u64::from(now), Ordering::Relaxed);
            if let Some(t) = res.table.time.get(i) {
                let sample = u64::from(t.load(Ordering::Relaxed));
                ctx.max_rtt_us.fetch_max(sample, Ordering::Relaxed);
                ctx.rto_us.store(rtt.sample(sample), Ordering::Relaxed);
            }
        }
    };
    // A frame is handed over when its block retires (after RING_RETIRE_MS), so a poll
    // that starts at t has read everything that arrived before t minus that (and a
    // margin for the kernel's timer).
    let lag_us = u64::from(RING_RETIRE_MS) * 1000 + 1000;
    while !ctx.stop_rx.load(Ordering::Relaxed) {
        let t0 = u64::from(ctx.now_us());
        let seen = rings.drain(|f| handle(f, &mut banner));
        if seen == 0 {
            if let Err(e) = rings.wait(Duration::from_millis(2)) {
                ctx.fail(ScanError::System(format!("capturing answers: {e}")));
                return (rings, None);
            }
            rings.drain(|f| handle(f, &mut banner));
        }
        if let Some((g, tx)) = banner.as_mut() {
            let ours = tx.sources();
            // Twice the scan's retransmission timeout (answers wait in our own ring too).
            g.set_rto((ctx.rto_us.load(Ordering::Relaxed) / 500).max(250) as u32);
            g.tick(now_ms(), tx, &ours);
            tx.flush();
            ctx.banner_live.store(g.live(), Ordering::Relaxed);
            ctx.banner_refused
                .store(g.stats.table_full, Ordering::Relaxed);
        }
        ctx.rx_drained_us
            .fetch_max(t0.saturating_sub(lag_us), Ordering::Relaxed);
        if last_drops.elapsed() > Duration::from_millis(10) {
            ctx.drops.fetch_add(rings.drops(), Ordering::Relaxed);
            last_drops = Instant::now();
        }
    }
    // Whatever is still in the rings.
    while rings.drain(|f| handle(f, &mut banner)) > 0 {}
    ctx.drops.fetch_add(rings.drops(), Ordering::Relaxed);
    let banners = banner.map(|(g, mut tx)| {
        let ours = tx.sources();
        let b = g.into_banners(now_ms(), &mut tx, &ours);
        tx.flush();
        ctx.banner_live.store(0, Ordering::Relaxed);
        b
    });
    (rings, banners)
}

/// Round-trip estimate as TCP keeps it (RFC 6298): smoothed RTT and its variation; the
/// time to wait for a late answer is `srtt + 4·rttvar`.
#[derive(Default)]
struct Rtt {
    srtt: f64,
    var: f64,
    n: u64,
}

impl Rtt {
    /// Add a sample (µs); returns the new timeout in µs.
    fn sample(&mut self, us: u64) -> u64 {
        let r = us as f64;
        if self.n == 0 {
            self.srtt = r;
            self.var = r / 2.0;
        } else {
            self.var = 0.75 * self.var + 0.25 * (self.srtt - r).abs();
            self.srtt = 0.875 * self.srtt + 0.125 * r;
        }
        self.n += 1;
        (self.srtt + 4.0 * self.var) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_size_follows_the_scan() {
        assert_eq!(ring_blocks(1), 8);
        assert_eq!(ring_blocks(65_535), 63);
        assert_eq!(ring_blocks(655_360), 128);
    }
}
