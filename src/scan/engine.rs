//! The raw-socket scan engine: the run loop (its configuration and the state its threads
//! share are in `ctx.rs`). Sender threads (one per CPU, each with its own packet sockets, see
//! `tx.rs`) walk their part of the permutation and send frames built from a
//! template in batches over AF_PACKET with qdisc bypass (a raw IP socket where the next
//! hop's link address is unknown, see `routes.rs`); one capture thread
//! (`rx.rs`) reads BPF-filtered TPACKET_V3 rings and records cookie-validated
//! answers in the shared table. Unanswered probes are retried in rounds (a new TCP
//! source port each) until the measured loss says no answer is still missing; the rate
//! drops when the ring drops packets or when the target answers only part of what it is
//! sent (see `planner.rs`). The sockets, rings and filters are `net`'s
//! ([`crate::net::batch`]).

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::banner::Grabber;
use super::banner_tx::BannerTx;
use super::ctx::{Ctx, ScanConfig, DEFAULT_BANNER_RATE, DEFAULT_RATE};
use super::perm::Cycle;
use super::planner::{
    steady_rate, Phase, Plan, Planner, RoundReport, HIST_SLOTS, KINDS, KIND_NAMES, MIN_LIMITED_RATE,
};
use super::probe::{Prober, TCP_PORTS, UDP_PORTS};
use super::result::{ScanResults, ScanType};
use super::routes::{self, source_window};
use super::targets::Targets;
use super::tx::{send_round, BATCH};
use super::{rx, ScanError};
use crate::net::batch::{self, ephemeral_range, LinkSenders};
use crate::net::guard::ReplyDrop;
use crate::pcap;

use crate::cancel::INTERRUPTED;

/// Scans of at least this many pairs install the reply filter ([`ReplyDrop`]): below,
/// starting `nft` costs more than it saves.
const REPLY_DROP_MIN: u64 = 4096;

/// The lowest rate back-off goes to (capture drops).
const MIN_RATE: u64 = 500;
/// Below this rate (probes/s) a round is sent by one thread, one probe per call, so
/// that its probes are spread evenly in time (a rate limiter is measured against it).
const PACED_RATE: u64 = 50_000;

/// Wait after a round: `fixed` if given; otherwise until one timeout has passed since
/// the last probe and since the last answer (answers still arriving mean the path or
/// our capture is still catching up) and the capture thread has read everything that
/// came in that timeout, at most 4 timeouts or 1 s, whichever is more. Never less than
/// `floor` (a confirming round's wait, sized from the slowest answers seen). Over as
/// soon as every one of the `probed` pairs has its answer.
fn wait_for_answers(
    ctx: &Ctx<'_>,
    fixed: Option<Duration>,
    sent_at: Instant,
    floor: Duration,
    probed: u64,
) -> Duration {
    if let Some(w) = fixed {
        let until = sent_at + w;
        while Instant::now() < until && !INTERRUPTED.load(Ordering::Relaxed) {
            std::thread::sleep(
                Duration::from_millis(2).min(until.saturating_duration_since(Instant::now())),
            );
        }
        return sent_at.elapsed();
    }
    loop {
        if ctx.replies.load(Ordering::Relaxed) >= probed {
            return sent_at.elapsed();
        }
        let rto = if ctx.replies.load(Ordering::Relaxed) == 0 {
            Duration::from_millis(500)
        } else {
            Duration::from_micros(ctx.rto_us.load(Ordering::Relaxed).clamp(5_000, 1_000_000))
        };
        let waited = sent_at.elapsed();
        let last = Duration::from_micros(ctx.last_reply_us.load(Ordering::Relaxed));
        let quiet = ctx.start.elapsed().saturating_sub(last);
        // Interrupted: still give the probes in flight a short while to be answered.
        let stopping = INTERRUPTED.load(Ordering::Relaxed);
        let deadline = sent_at.saturating_duration_since(ctx.start) + rto;
        let drained = Duration::from_micros(ctx.rx_drained_us.load(Ordering::Relaxed)) >= deadline;
        if (stopping && (waited >= rto.min(Duration::from_millis(200))))
            || (waited >= rto.max(floor) && quiet >= rto && drained)
            || waited >= (4 * rto).max(Duration::from_secs(1)).max(floor + rto)
        {
            return waited;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Probed pairs (this shard's, reached before any Ctrl-C).
fn probed(res: &ScanResults) -> u64 {
    res.table
        .answer
        .iter()
        .filter(|a| a.load(Ordering::Relaxed) != super::result::NOT_PROBED)
        .count() as u64
}

/// Probed pairs still without an answer (another shard's pairs are not probed here).
fn unanswered(res: &ScanResults) -> u64 {
    res.table
        .answer
        .iter()
        .filter(|a| a.load(Ordering::Relaxed) == 0)
        .count() as u64
}

/// Run a raw-socket scan of `targets` × `ports`.
pub fn run(targets: Targets, ports: Vec<u16>, cfg: &ScanConfig) -> Result<ScanResults, ScanError> {
    crate::net::check_privileges().map_err(|e| ScanError::Permission(e.to_string()))?;
    let mut res = ScanResults::new(cfg.kind, targets, ports);
    let n = res.targets.len().saturating_mul(res.ports.len() as u64);
    let started = Instant::now();
    let span = if cfg.kind == ScanType::Udp {
        UDP_PORTS
    } else {
        TCP_PORTS
    };
    let sport = cfg.source_port.unwrap_or_else(|| {
        source_window(
            ephemeral_range(),
            span,
            cfg.seed.wrapping_add(super::cookie::Key::random().0),
        )
    });
    let prober = Prober {
        kind: cfg.kind,
        key: super::cookie::Key::random(),
        sport,
    };
    // Routes: once per host, or per /24 and /64 for large scans.
    let (slots, ours) = routes::resolve(&res.targets, cfg.interface.as_deref())?;
    // The reply filter, installed while the scan starts (nft takes ~20 ms; until it is
    // in place the kernel just sees the RSTs as before).
    let devices = routes::devices(&slots);
    let drop_ports = (sport, sport.saturating_add(TCP_PORTS - 1));
    let from: Vec<(IpAddr, IpAddr)> = res.targets.ranges().collect();
    // Banners: every TCP segment of the targets to our ports is dropped once captured,
    // before the first probe leaves (else the kernel resets what it has no socket for).
    let banner_drop = match cfg.banners {
        Some(_) if cfg.kind == ScanType::Syn => Some(
            ReplyDrop::install_for(&devices, drop_ports, &from, true).map_err(|e| {
                ScanError::Permission(format!(
                    "--banners needs its nftables filter (CAP_NET_ADMIN) so that the kernel does \
                     not reset the connections it reads: {e}"
                ))
            })?,
        ),
        Some(_) => {
            return Err(ScanError::Usage(
                "--banners reads banners in a SYN scan only (not --udp, --ack, --flags)".into(),
            ))
        }
        None => None,
    };
    let reply_drop = (cfg.kind != ScanType::Udp
        && !cfg.keep_rsts
        && banner_drop.is_none()
        && n >= REPLY_DROP_MIN)
        .then(|| std::thread::spawn(move || ReplyDrop::install(&devices, drop_ports, &from).ok()));
    let cap = rx::open(cfg, n, sport)?;
    let pcap = match &cfg.pcap {
        Some(p) => Some(Mutex::new(
            pcap::Writer::create(p, pcap::linktype::RAW)
                .map_err(|e| ScanError::System(format!("cannot write {}: {e}", p.display())))?,
        )),
        None => None,
    };
    let threads = if cfg.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        cfg.threads
    }
    .clamp(1, 64) as u64;
    let ifindexes = routes::frame_interfaces(&slots);
    let socks = (0..threads)
        .map(|_| LinkSenders::open(&ifindexes).map(Mutex::new))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| ScanError::from_io("opening a packet socket", e))?;
    let ctx = Ctx {
        res: &res,
        cfg,
        prober,
        cycle: Cycle::new(n, cfg.seed),
        start: Instant::now(),
        rate: AtomicU64::new(
            cfg.rate
                .unwrap_or(if cfg.banners.is_some() {
                    DEFAULT_BANNER_RATE
                } else {
                    DEFAULT_RATE
                })
                .max(1),
        ),
        sent: AtomicU64::new(0),
        replies: AtomicU64::new(0),
        drops: AtomicU64::new(0),
        max_rtt_us: AtomicU64::new(0),
        rto_us: AtomicU64::new(0),
        last_reply_us: AtomicU64::new(0),
        rx_drained_us: AtomicU64::new(0),
        next_piece: AtomicU64::new(0),
        port_try: AtomicU32::new(0),
        round_cap: AtomicU64::new(u64::MAX),
        round_probes: AtomicU64::new(0),
        round_start_us: AtomicU64::new(0),
        hist: (0..HIST_SLOTS).map(|_| AtomicU32::new(0)).collect(),
        kinds: Default::default(),
        active_threads: AtomicU64::new(threads),
        batch: AtomicUsize::new(BATCH),
        debug: std::env::var_os("TCPCRAFT_SCAN_DEBUG").is_some(),
        stop_send: AtomicBool::new(false),
        stop_rx: AtomicBool::new(false),
        pcap,
        ours,
        error: Mutex::new(None),
        banner_live: AtomicUsize::new(0),
        banner_refused: AtomicU64::new(0),
    };
    let bar = super::output::progress_bar(cfg.progress, Some(n / cfg.shard.1.max(1)));
    let mut planner = Planner::new(cfg.kind == ScanType::Udp, cfg.max_retries);
    let mut rounds = 0u32;
    let mut first_pass_rate = 0u64;
    // The answers of the rounds that measured a limit, by kind (which kind was limited).
    let mut limited_kinds = [0u64; KINDS];
    let ring = std::thread::scope(|s| {
        let banner = match cfg.banners {
            Some(b) => Some((
                Grabber::new(ctx.prober.clone(), &res.targets, &res.ports, b),
                BannerTx::open(&ctx, &slots, &ifindexes)
                    .map_err(|e| ScanError::from_io("opening a packet socket", e))?,
            )),
            None => None,
        };
        let capture = s.spawn(|| rx::receive(&ctx, cap, banner));
        let mut round = 0u32;
        let mut plan = Plan::full();
        // The scan's own rate: halved on capture drops; paced rounds go slower.
        let mut full_rate = ctx.rate.load(Ordering::Relaxed);
        let mut last_end = Instant::now();
        loop {
            rounds = round;
            // An idle gap before a confirming round (interruptible).
            let idle_until = last_end + plan.gap;
            while Instant::now() < idle_until && !INTERRUPTED.load(Ordering::Relaxed) {
                std::thread::sleep(
                    Duration::from_millis(5)
                        .min(idle_until.saturating_duration_since(Instant::now())),
                );
            }
            let rate = match plan.rate {
                Some(r) => (r as u64).clamp(MIN_LIMITED_RATE, full_rate.max(MIN_LIMITED_RATE)),
                None => full_rate,
            };
            let paced = rate < PACED_RATE;
            ctx.rate.store(rate, Ordering::Relaxed);
            ctx.active_threads
                .store(if paced { 1 } else { threads }, Ordering::Relaxed);
            ctx.batch
                .store(if paced { 1 } else { BATCH }, Ordering::Relaxed);
            ctx.round_cap
                .store(plan.cap.unwrap_or(u64::MAX), Ordering::Relaxed);
            ctx.round_probes.store(0, Ordering::Relaxed);
            // Odd retries go out again from the first probe's port with its sequence
            // number (a real retransmission: "first SYN drop" defences answer it); even
            // ones from a fresh port (a listener holding a half-open connection of ours
            // answers a new one at once).
            let port_try = if cfg.retransmit_same_port || round % 2 == 1 {
                0
            } else {
                round / 2
            };
            ctx.port_try.store(port_try, Ordering::Relaxed);
            for h in &ctx.hist {
                h.store(0, Ordering::Relaxed);
            }
            for k in &ctx.kinds {
                k.store(0, Ordering::Relaxed);
            }
            let round_start = Instant::now();
            ctx.round_start_us
                .store(u64::from(ctx.now_us()), Ordering::Relaxed);
            let replies_before = ctx.replies.load(Ordering::Relaxed);
            let drops_before =
                ctx.drops.load(Ordering::Relaxed) + ctx.banner_refused.load(Ordering::Relaxed);
            let sent_before = ctx.sent.load(Ordering::Relaxed);
            ctx.next_piece.store(0, Ordering::Relaxed);
            let active = if paced { 1 } else { threads };
            let handles: Vec<_> = (0..active)
                .zip(&socks)
                .map(|(t, socks)| {
                    let (ctx, slots) = (&ctx, &slots);
                    s.spawn(move || send_round(ctx, t, round, slots, socks))
                })
                .collect();
            // Watch the round: progress, Ctrl-C, and capture drops (halve the rate).
            let mut seen_drops = drops_before;
            // A round at a limited rate speeds up while every probe sent one round trip
            // ago has its answer (the measured rate was low); the planner slows it down
            // again from what the round measured if that overshoots.
            let mut sent_log: std::collections::VecDeque<(Instant, u64)> =
                std::collections::VecDeque::new();
            let mut last_raise = Instant::now();
            while handles.iter().any(|h| !h.is_finished()) {
                std::thread::sleep(Duration::from_millis(2));
                if INTERRUPTED.load(Ordering::Relaxed) {
                    ctx.stop_send.store(true, Ordering::Relaxed);
                }
                if plan.phase == Phase::Limited && cfg.rate.is_none() {
                    let now = Instant::now();
                    let sent = ctx.sent.load(Ordering::Relaxed) - sent_before;
                    sent_log.push_back((now, sent));
                    let lag = Duration::from_micros(ctx.rto_us.load(Ordering::Relaxed))
                        .clamp(Duration::from_millis(20), Duration::from_secs(1));
                    while sent_log.len() > 1 && sent_log.get(1).is_some_and(|e| now - e.0 >= lag) {
                        sent_log.pop_front();
                    }
                    let then = sent_log.front().map_or(0, |e| e.1);
                    let answered = ctx.replies.load(Ordering::Relaxed) - replies_before;
                    if now - last_raise >= Duration::from_millis(250)
                        && then >= 10
                        && answered as f64 >= 0.9 * plan.expect * then as f64
                    {
                        let r = ctx.rate.load(Ordering::Relaxed);
                        // At most half again the limit measured (a measurement that low
                        // is off by little; one far too low is corrected over rounds).
                        let cap = planner
                            .limit
                            .map_or(full_rate, |l| ((l * 1.5) as u64).clamp(r, full_rate));
                        ctx.rate.store((r + r / 5 + 1).min(cap), Ordering::Relaxed);
                        last_raise = now;
                    }
                }
                let d =
                    ctx.drops.load(Ordering::Relaxed) + ctx.banner_refused.load(Ordering::Relaxed);
                if d > seen_drops && cfg.rate.is_none() {
                    let r = ctx.rate.load(Ordering::Relaxed);
                    ctx.rate
                        .store((r / 2).max(MIN_RATE.min(r)), Ordering::Relaxed);
                    seen_drops = d;
                }
                if let Some(b) = &bar {
                    b.set_position(ctx.sent.load(Ordering::Relaxed));
                }
            }
            for h in handles {
                let _ = h.join();
            }
            // Wait for the round's last answers: a fixed --wait, or until nothing has
            // come for one retransmission timeout (srtt + 4·rttvar) after the last probe,
            // and at least the plan's floor.
            let sent_at = Instant::now();
            let send_secs = sent_at.duration_since(round_start).as_secs_f64().max(1e-6);
            if round == 0 {
                first_pass_rate = (ctx.sent.load(Ordering::Relaxed) as f64 / send_secs) as u64;
            }
            let waited = wait_for_answers(&ctx, cfg.wait, sent_at, plan.floor, probed(&res));
            last_end = Instant::now();
            let answers = ctx.replies.load(Ordering::Relaxed) - replies_before;
            let probes = ctx.sent.load(Ordering::Relaxed) - sent_before;
            if ctx.debug {
                eprintln!(
                    "round {round} ({:?}, rate {rate}/s, port try {port_try}): {probes} probes in {:.3} s, {answers} answers, rto {} us, max rtt {} us, waited {:?}",
                    plan.phase,
                    send_secs,
                    ctx.rto_us.load(Ordering::Relaxed),
                    ctx.max_rtt_us.load(Ordering::Relaxed),
                    waited
                );
            }
            if let Some(b) = &bar {
                b.set_position(ctx.sent.load(Ordering::Relaxed));
            }
            if ctx.stop_send.load(Ordering::Relaxed) || INTERRUPTED.load(Ordering::Relaxed) {
                break;
            }
            // Capture drops: the scan's own rate halves.
            if cfg.rate.is_none()
                && ctx.drops.load(Ordering::Relaxed) + ctx.banner_refused.load(Ordering::Relaxed)
                    > drops_before
            {
                full_rate = (full_rate / 2).max(MIN_RATE);
            }
            let kinds: Vec<u64> = ctx
                .kinds
                .iter()
                .map(|k| k.load(Ordering::Relaxed))
                .collect();
            let report = RoundReport {
                rate: (rate != ctx.rate.load(Ordering::Relaxed))
                    .then(|| ctx.rate.load(Ordering::Relaxed) as f64),
                probes,
                answers,
                send_secs,
                secs: round_start.elapsed().as_secs_f64(),
                steady_rate: steady_rate(&ctx.hist, send_secs),
                unanswered: unanswered(&res),
                probed: probed(&res),
                max_rtt: Duration::from_micros(ctx.max_rtt_us.load(Ordering::Relaxed)),
            };
            let had_limit = planner.limit;
            let next = planner.next(&report);
            if planner.limit.is_some() && planner.limit != had_limit {
                for (l, k) in limited_kinds.iter_mut().zip(&kinds) {
                    *l += k;
                }
            }
            round += 1;
            let Some(p) = next else {
                break;
            };
            plan = p;
            if let Some(b) = &bar {
                let left = report.unanswered;
                let msg = match (plan.phase, planner.limit) {
                    (Phase::Limited, Some(l)) => format!(
                        "target answers only {:.0}/s: re-probing {left} unknown ports at {:.0}/s",
                        l,
                        plan.rate.unwrap_or(l)
                    ),
                    (Phase::Confirm, _) if cfg.kind == ScanType::Udp => format!(
                        "{left} silent: waiting out ICMP rate limits before calling them open|filtered"
                    ),
                    (Phase::Confirm, _) => {
                        format!("{left} silent: one more try after a pause before calling them filtered")
                    }
                    (Phase::Sample, _) => format!("retry {round}: few answers, testing for a rate limit"),
                    _ => format!("retry {round}: {left} unanswered"),
                };
                b.set_message(msg);
            }
        }
        // Banners: the connections still being read finish (each within its timeout).
        if let Some(b) = &cfg.banners {
            let until = Instant::now() + Duration::from_millis(u64::from(b.timeout_ms) + 1000);
            while ctx.banner_live.load(Ordering::SeqCst) > 0
                && Instant::now() < until
                && !INTERRUPTED.load(Ordering::Relaxed)
            {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        ctx.stop_rx.store(true, Ordering::Relaxed);
        Ok(capture.join().ok())
    })?;
    let (ring, banners) = match ring {
        Some((r, b)) => (Some(r), b),
        None => (None, None),
    };
    // The rings, the packet sockets and the reply filter, closed at once (each close
    // waits for the kernel, or for nft).
    let reply_drop = reply_drop
        .and_then(|h| h.join().ok().flatten())
        .or(banner_drop);
    let reply_filter = reply_drop.as_ref().map(ReplyDrop::summary);
    let mut closing: Vec<Box<dyn Send>> = Vec::new();
    closing.extend(ring.into_iter().flat_map(|r| r.into_closing()));
    for l in socks.into_iter().filter_map(|l| l.into_inner().ok()) {
        closing.extend(l.into_closing());
    }
    closing.extend(reply_drop.map(|r| Box::new(r) as Box<dyn Send>));
    batch::close_together(closing);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let Some(p) = &ctx.pcap {
        if let Ok(mut w) = p.lock() {
            let _ = w.flush();
        }
    }
    if let Some(e) = ctx.error.lock().ok().and_then(|mut g| g.take()) {
        return Err(e);
    }
    let stats = super::result::ScanStats {
        sent: ctx.sent.load(Ordering::Relaxed),
        rounds,
        replies: ctx.replies.load(Ordering::Relaxed),
        capture_drops: ctx.drops.load(Ordering::Relaxed),
        loss: planner.policy.loss(),
        final_rate: ctx.rate.load(Ordering::Relaxed),
        first_pass_rate,
        reply_filter,
        elapsed: started.elapsed(),
        source_ports: (sport, sport.saturating_add(span - 1)),
        max_rtt: Duration::from_micros(ctx.max_rtt_us.load(Ordering::Relaxed)),
        rate_limit: planner.limit.map(|l| {
            let k = (0..KINDS)
                .max_by_key(|&i| limited_kinds.get(i).copied().unwrap_or(0))
                .unwrap_or(1);
            super::result::RateLimit {
                kind: KIND_NAMES.get(k).copied().unwrap_or("answers"),
                answers_per_sec: l,
                slowed_to: planner.slowed_to.unwrap_or(l),
                ports: planner.limited_pairs,
            }
        }),
        banners: None,
    };
    let interrupted = INTERRUPTED.load(Ordering::Relaxed);
    drop(ctx);
    res.stats = stats;
    if let Some((b, st)) = banners {
        res.banners = b;
        res.stats.banners = Some(st);
    }
    res.interrupted = interrupted;
    Ok(res)
}
