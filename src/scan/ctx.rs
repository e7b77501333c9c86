//! How a scan is configured ([`ScanConfig`]) and the state its threads share (`Ctx`):
//! below the engine and its sender, capture and banner threads (`engine.rs`, `tx.rs`,
//! `rx.rs`, `banner_tx.rs`), which all read it.

use std::fs::File;
use std::io::BufWriter;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::banner::BannerConfig;
use super::perm::Cycle;
use super::planner::KINDS;
use super::probe::Prober;
use super::result::{ScanResults, ScanType};
use super::ScanError;
use crate::net::batch;
use crate::pcap;

/// The rate a scan starts at when the user gives none (probes/s, all threads).
pub const DEFAULT_RATE: u64 = 1_000_000;
/// The rate a scan with `--banners` starts at: every SYN-ACK brings a connection to
/// read (several segments each way), so the capture thread has more to do.
pub const DEFAULT_BANNER_RATE: u64 = 250_000;
/// Default cap on retry rounds: the loss seen decides how many are used (none more
/// than one without loss; about 30 at 40% loss each way).
pub const DEFAULT_RETRIES: u32 = 50;

/// How to run a scan. `Default` is a SYN scan at an adaptive rate.
#[derive(Clone, Debug)]
pub struct ScanConfig {
    pub kind: ScanType,
    /// Probes per second over all threads; `None` starts at [`DEFAULT_RATE`] and adapts.
    pub rate: Option<u64>,
    /// At most this many retries of an unanswered probe.
    pub max_retries: u32,
    /// Time to wait for answers after each round; `None` derives it from measured RTTs.
    pub wait: Option<Duration>,
    /// Permutation seed (shards of one scan must share it).
    pub seed: u64,
    /// `(I, N)`: this machine scans shard I of N (0-based).
    pub shard: (u64, u64),
    /// TCP source port (UDP uses the 1024 ports from here); `None` picks one.
    pub source_port: Option<u16>,
    /// Sender threads; 0 means one per CPU.
    pub threads: usize,
    /// Leave through this interface.
    pub interface: Option<String>,
    /// Record every probe and every answer here.
    pub pcap: Option<PathBuf>,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// Let the kernel process the RSTs that answer the probes (no nftables reply
    /// filter, see [`crate::net::guard::ReplyDrop`]).
    pub keep_rsts: bool,
    /// Every TCP retry reuses the first probe's source port and sequence number (the
    /// same 4-tuple, as a client's kernel retransmits a SYN). By default retries
    /// alternate: odd retries reuse it, even ones take a fresh source port.
    pub retransmit_same_port: bool,
    /// Read what each open port says (`--banners`, see [`super::banner`]).
    pub banners: Option<BannerConfig>,
}

impl Default for ScanConfig {
    fn default() -> ScanConfig {
        ScanConfig {
            kind: ScanType::Syn,
            rate: None,
            max_retries: DEFAULT_RETRIES,
            wait: None,
            seed: 0,
            shard: (0, 1),
            source_port: None,
            threads: 0,
            interface: None,
            pcap: None,
            progress: false,
            keep_rsts: false,
            retransmit_same_port: false,
            banners: None,
        }
    }
}

/// State shared by every thread of one scan.
pub(super) struct Ctx<'a> {
    pub(super) res: &'a ScanResults,
    pub(super) cfg: &'a ScanConfig,
    pub(super) prober: Prober,
    pub(super) cycle: Cycle,
    pub(super) start: Instant,
    pub(super) rate: AtomicU64,
    pub(super) sent: AtomicU64,
    pub(super) replies: AtomicU64,
    pub(super) drops: AtomicU64,
    pub(super) max_rtt_us: AtomicU64,
    /// Retransmission timeout from the RTT estimate, µs.
    pub(super) rto_us: AtomicU64,
    /// When the last new answer came, µs since the start.
    pub(super) last_reply_us: AtomicU64,
    /// Every answer that reached the ring before this time (µs since the start) has
    /// been read: the capture thread's own progress, so that a capture thread kept off
    /// the CPU (a loaded machine) does not make its answers late.
    pub(super) rx_drained_us: AtomicU64,
    /// The next piece of the walk to send in this round.
    pub(super) next_piece: AtomicU64,
    /// The source-port try number of this round's TCP probes (0: the first probe's).
    pub(super) port_try: AtomicU32,
    /// This round sends at most this many probes (a sample), and has sent so many.
    pub(super) round_cap: AtomicU64,
    pub(super) round_probes: AtomicU64,
    /// When this round began, µs since the start.
    pub(super) round_start_us: AtomicU64,
    /// This round's new answers per 10 ms since it began (a rate limiter shows as a
    /// flat count per slot while probes go out faster).
    pub(super) hist: Vec<AtomicU32>,
    /// This round's new answers by kind (see `planner::kind_of`).
    pub(super) kinds: [AtomicU64; KINDS],
    /// Sender threads in this round, and frames per send call.
    pub(super) active_threads: AtomicU64,
    pub(super) batch: AtomicUsize,
    /// TCPCRAFT_SCAN_DEBUG is set: trace rounds and threads on stderr for whoever tunes
    /// the engine (not a user option).
    pub(super) debug: bool,
    pub(super) stop_send: AtomicBool,
    pub(super) stop_rx: AtomicBool,
    pub(super) pcap: Option<Mutex<pcap::Writer<BufWriter<File>>>>,
    pub(super) ours: Vec<IpAddr>,
    pub(super) error: Mutex<Option<ScanError>>,
    /// Connections the banner reader follows now (the senders wait while it is full),
    /// and SYN-ACKs it had no room for (each halves the rate, as capture drops do).
    pub(super) banner_live: AtomicUsize,
    pub(super) banner_refused: AtomicU64,
}

impl Ctx<'_> {
    pub(super) fn now_us(&self) -> u32 {
        self.start.elapsed().as_micros() as u32
    }

    pub(super) fn fail(&self, e: ScanError) {
        if let Ok(mut g) = self.error.lock() {
            g.get_or_insert(e);
        }
        self.stop_send.store(true, Ordering::Relaxed);
    }

    pub(super) fn record(&self, data: &[u8]) {
        if let Some(p) = &self.pcap {
            if let Ok(mut w) = p.lock() {
                let _ = w.write(batch::wall_clock(), data);
            }
        }
    }
}
