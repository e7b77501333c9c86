//! Port states and reasons as nmap names them, and the compact result table: one byte of
//! answer and four bytes of timing per (host, port) pair, so a scan's memory is flat in
//! everything but the size of its index space, and results are produced lazily.

use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::time::Duration;

use super::ports::Proto;
use super::targets::Targets;

/// What kind of probes a scan sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScanType {
    /// TCP SYN ("half-open"): SYN-ACK open, RST closed, silence/ICMP filtered.
    Syn,
    /// TCP ACK: RST unfiltered, silence/ICMP filtered (maps firewalls, not open ports).
    Ack,
    /// UDP: a UDP answer open, ICMP port unreachable closed, other ICMP unreachable
    /// filtered, silence open|filtered.
    Udp,
    /// TCP with these flags and no SYN/ACK (NULL 0, FIN 0x01, Xmas 0x29): RST closed,
    /// silence open|filtered, ICMP filtered (RFC 9293 §3.10.7.1 behaviour).
    Flags(u8),
    /// A full connect(2) per port, for users without raw-socket privileges (nmap -sT).
    Connect,
}

impl ScanType {
    pub fn proto(self) -> Proto {
        match self {
            ScanType::Udp => Proto::Udp,
            _ => Proto::Tcp,
        }
    }

    /// The name nmap and `scan(type=…)` use.
    pub fn name(self) -> String {
        match self {
            ScanType::Syn => "syn".into(),
            ScanType::Ack => "ack".into(),
            ScanType::Udp => "udp".into(),
            ScanType::Connect => "connect".into(),
            ScanType::Flags(0) => "null".into(),
            ScanType::Flags(0x01) => "fin".into(),
            ScanType::Flags(0x29) => "xmas".into(),
            ScanType::Flags(f) => format!("flags 0x{f:02x}"),
        }
    }

    /// `syn`, `ack`, `udp`, `connect`, `null`, `fin`, `xmas`.
    pub fn parse(s: &str) -> Result<ScanType, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "syn" | "s" | "ss" => ScanType::Syn,
            "ack" | "a" | "sa" => ScanType::Ack,
            "udp" | "u" | "su" => ScanType::Udp,
            "connect" | "t" | "st" => ScanType::Connect,
            "null" | "sn" => ScanType::Flags(0),
            "fin" | "sf" => ScanType::Flags(0x01),
            "xmas" | "sx" => ScanType::Flags(0x29),
            other => {
                return Err(format!(
                    "unknown scan type {other:?} (syn, ack, udp, connect, null, fin, xmas)"
                ))
            }
        })
    }
}

/// `--flags`: a TCP flag set without SYN or ACK, as letters (`F`, `FPU`), a name
/// (`null`, `fin`, `xmas`) or a number.
pub fn parse_flags(s: &str) -> Result<u8, String> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "null" | "none" | "" => return Ok(0),
        "fin" => return Ok(0x01),
        "xmas" => return Ok(0x29),
        _ => {}
    }
    let v = if let Some(h) = t.strip_prefix("0x") {
        u8::from_str_radix(h, 16).map_err(|_| format!("bad flag value {t}"))?
    } else if t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse::<u8>().map_err(|_| format!("bad flag value {t}"))?
    } else {
        let mut v = 0u8;
        for c in t.chars() {
            v |= match c.to_ascii_uppercase() {
                'F' => 0x01,
                'S' => 0x02,
                'R' => 0x04,
                'P' => 0x08,
                'A' => 0x10,
                'U' => 0x20,
                'E' => 0x40,
                'C' => 0x80,
                '|' | ',' | ' ' => 0,
                _ => {
                    return Err(format!(
                        "unknown TCP flag {c:?} in {t:?} (use F S R P A U E C)"
                    ))
                }
            };
        }
        v
    };
    if v & 0x12 != 0 {
        return Err(format!(
            "--flags {t}: SYN and ACK have scans of their own (default and --ack)"
        ));
    }
    Ok(v)
}

/// A port's state, as nmap names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Open,
    Closed,
    Filtered,
    Unfiltered,
    OpenFiltered,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Closed => "closed",
            State::Filtered => "filtered",
            State::Unfiltered => "unfiltered",
            State::OpenFiltered => "open|filtered",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Why a port has its state: the answer that decided it (one byte in the table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    NoResponse,
    SynAck,
    /// A bare SYN (simultaneous open): counts as open, as in nmap.
    Syn,
    Reset,
    UdpResponse,
    /// connect(2) was refused (connect scan's RST).
    ConnRefused,
    /// ICMP destination unreachable (IPv4 type 3) with this code.
    IcmpUnreach(u8),
    /// ICMPv6 destination unreachable (type 1) with this code.
    Icmp6Unreach(u8),
    /// connect(2) failed with another error (host or network unreachable).
    Unreach,
}

impl Reason {
    pub(crate) fn to_byte(self) -> u8 {
        match self {
            Reason::NoResponse => 0,
            Reason::SynAck => 1,
            Reason::Syn => 2,
            Reason::Reset => 3,
            Reason::UdpResponse => 4,
            Reason::ConnRefused => 5,
            Reason::Unreach => 6,
            Reason::IcmpUnreach(c) => 0x40 | (c & 0x3f),
            Reason::Icmp6Unreach(c) => 0x80 | (c & 0x3f),
        }
    }

    pub(crate) fn from_byte(b: u8) -> Reason {
        match b {
            1 => Reason::SynAck,
            2 => Reason::Syn,
            3 => Reason::Reset,
            4 => Reason::UdpResponse,
            5 => Reason::ConnRefused,
            6 => Reason::Unreach,
            b if b & 0xc0 == 0x40 => Reason::IcmpUnreach(b & 0x3f),
            b if b & 0xc0 == 0x80 => Reason::Icmp6Unreach(b & 0x3f),
            _ => Reason::NoResponse,
        }
    }

    /// The state this answer means for a scan of type `t` (nmap's tables).
    pub fn state(self, t: ScanType) -> State {
        use Reason as R;
        match (t, self) {
            (ScanType::Syn | ScanType::Connect, R::SynAck | R::Syn) => State::Open,
            (ScanType::Syn | ScanType::Connect, R::Reset | R::ConnRefused) => State::Closed,
            (ScanType::Syn | ScanType::Connect, _) => State::Filtered,
            (ScanType::Ack, R::Reset) => State::Unfiltered,
            (ScanType::Ack, _) => State::Filtered,
            (ScanType::Udp, R::UdpResponse) => State::Open,
            (ScanType::Udp, R::IcmpUnreach(3) | R::Icmp6Unreach(4)) => State::Closed,
            (ScanType::Udp, R::NoResponse) => State::OpenFiltered,
            (ScanType::Udp, _) => State::Filtered,
            (ScanType::Flags(_), R::Reset) => State::Closed,
            (ScanType::Flags(_), R::SynAck | R::Syn) => State::Open,
            (ScanType::Flags(_), R::NoResponse) => State::OpenFiltered,
            (ScanType::Flags(_), _) => State::Filtered,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Reason::NoResponse => "no-response".to_string(),
            Reason::SynAck => "syn-ack".to_string(),
            Reason::Syn => "syn".to_string(),
            Reason::Reset => "reset".to_string(),
            Reason::UdpResponse => "udp-response".to_string(),
            Reason::ConnRefused => "conn-refused".to_string(),
            Reason::Unreach => "unreachable".to_string(),
            Reason::IcmpUnreach(c) => format!("icmp-unreach code {c}"),
            Reason::Icmp6Unreach(c) => format!("icmp6-unreach code {c}"),
        };
        f.pad(&s)
    }
}

/// One port's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct PortResult {
    pub host: IpAddr,
    pub port: u16,
    pub proto: Proto,
    pub state: State,
    pub reason: Reason,
    /// Round trip of the answer that decided the state (none on silence).
    pub rtt: Option<Duration>,
    /// What the service said first (`--banners`): its first bytes, or for TLS a line
    /// describing the server's hello; none when it said nothing (or not asked).
    pub banner: Option<Vec<u8>>,
}

/// A table entry for a pair that was never probed: another shard's, or one a Ctrl-C
/// stopped before. Such pairs are not results and are never listed.
pub(crate) const NOT_PROBED: u8 = 0xff;

/// The shared answer table: written by the capture thread, read by the senders (to skip
/// answered probes on retries). `time` holds the last send time in µs since the scan
/// began until an answer comes, then the round trip in µs.
pub(crate) struct Table {
    pub answer: Vec<AtomicU8>,
    pub time: Vec<AtomicU32>,
}

impl Table {
    /// A table where nothing is probed yet: every entry [`NOT_PROBED`].
    pub fn new(n: usize) -> Table {
        Table {
            answer: (0..n).map(|_| AtomicU8::new(NOT_PROBED)).collect(),
            time: (0..n).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// Mark `i` as probed (and so, until an answer, no-response).
    pub fn probed(&self, i: usize) {
        if let Some(a) = self.answer.get(i) {
            // No locked instruction (this runs once per probe, at a random place in a
            // large table): while a pair is NOT_PROBED nothing else writes it (answers
            // are recorded only over 0), so a load and a store are enough.
            if a.load(Ordering::Relaxed) == NOT_PROBED {
                a.store(0, Ordering::Relaxed);
            }
        }
    }

    /// Answered, or not ours to probe (another shard's, or never reached): skip on retry.
    pub fn answered(&self, i: usize) -> bool {
        self.answer
            .get(i)
            .is_some_and(|a| a.load(Ordering::Relaxed) != 0)
    }

    /// Record the first answer for `i`; later answers (duplicates, retries) are ignored.
    pub fn record(&self, i: usize, reason: Reason, now_us: u32) -> bool {
        let Some(a) = self.answer.get(i) else {
            return false;
        };
        if a.compare_exchange(0, reason.to_byte(), Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        if let Some(t) = self.time.get(i) {
            let sent = t.load(Ordering::Relaxed);
            t.store(now_us.wrapping_sub(sent), Ordering::Relaxed);
        }
        true
    }
}

/// Counters of one scan, for `--verbose`, JSON and the benchmark.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanStats {
    /// Probes sent, retries included.
    pub sent: u64,
    /// Retry rounds after the first pass.
    pub rounds: u32,
    /// Replies that validated against a probe.
    pub replies: u64,
    /// Packets the capture socket's buffer dropped (PACKET_STATISTICS): if not zero, the
    /// affected probes were retried, never reported as filtered for it.
    pub capture_drops: u64,
    /// Estimated per-try loss (probe or reply) on the path, 0..1.
    pub loss: f64,
    /// The send rate at the end, probes/s (lowered when loss was seen).
    pub final_rate: u64,
    /// Probes per second over the first pass (every pair once), sending only: from the
    /// first probe to the last, without start-up and the wait for late answers.
    pub first_pass_rate: u64,
    /// What the nftables reply filter did, when one was installed (said to the user).
    pub reply_filter: Option<String>,
    pub elapsed: Duration,
    /// The scan's source ports (first and last; outside the kernel's ephemeral range
    /// unless given).
    pub source_ports: (u16, u16),
    /// The slowest answer's round trip.
    pub max_rtt: Duration,
    /// A target that limited its answers, as measured.
    pub rate_limit: Option<RateLimit>,
    /// What the banner reader did (`--banners`).
    pub banners: Option<GrabStats>,
}

/// A rate limit a scan found: the target answered `kind` at about `answers_per_sec`
/// while probes went faster, so the scan slowed to `slowed_to` for `ports` pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimit {
    pub kind: &'static str,
    pub answers_per_sec: f64,
    pub slowed_to: f64,
    pub ports: u64,
}

/// The outcome of a scan: every (host, port) pair's answer, kept compactly.
pub struct ScanResults {
    pub kind: ScanType,
    pub targets: Targets,
    pub ports: Vec<u16>,
    pub(crate) table: Table,
    /// Stopped early (Ctrl-C): ports never probed read as no-response.
    pub interrupted: bool,
    pub stats: ScanStats,
    /// Banners by pair index (`--banners`): only pairs whose service said something.
    pub(crate) banners: std::collections::HashMap<usize, Vec<u8>>,
}

impl ScanResults {
    pub(crate) fn new(kind: ScanType, targets: Targets, ports: Vec<u16>) -> ScanResults {
        let n = usize::try_from(targets.len().saturating_mul(ports.len() as u64)).unwrap_or(0);
        ScanResults {
            kind,
            targets,
            ports,
            table: Table::new(n),
            interrupted: false,
            stats: ScanStats::default(),
            banners: std::collections::HashMap::new(),
        }
    }

    /// Number of (host, port) pairs probed (a shard probes its part only).
    pub fn len(&self) -> usize {
        self.table
            .answer
            .iter()
            .filter(|a| a.load(Ordering::Relaxed) != NOT_PROBED)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn at(&self, host_idx: u64, host: IpAddr, port_idx: usize) -> Option<PortResult> {
        let np = self.ports.len() as u64;
        let i = usize::try_from(host_idx * np + port_idx as u64).ok()?;
        let b = self.table.answer.get(i)?.load(Ordering::Relaxed);
        if b == NOT_PROBED {
            return None;
        }
        let reason = Reason::from_byte(b);
        let rtt = (b != 0)
            .then(|| self.table.time.get(i).map(|t| t.load(Ordering::Relaxed)))
            .flatten()
            .map(|us| Duration::from_micros(u64::from(us)));
        Some(PortResult {
            host,
            port: *self.ports.get(port_idx)?,
            proto: self.kind.proto(),
            state: reason.state(self.kind),
            reason,
            rtt,
            banner: self.banners.get(&i).cloned(),
        })
    }

    /// Every result, host by host in address order, ports ascending (lazily).
    pub fn iter(&self) -> impl Iterator<Item = PortResult> + '_ {
        self.targets.iter().enumerate().flat_map(move |(h, host)| {
            (0..self.ports.len()).filter_map(move |p| self.at(h as u64, host, p))
        })
    }

    /// The results of one host.
    pub fn host(&self, host: IpAddr) -> Vec<PortResult> {
        match self.targets.index_of(host) {
            Some(h) => (0..self.ports.len())
                .filter_map(|p| self.at(h, host, p))
                .collect(),
            None => Vec::new(),
        }
    }

    /// The open ports (what `res.open` gives in the language).
    pub fn open(&self) -> Vec<PortResult> {
        self.with_state(State::Open)
    }

    pub fn with_state(&self, s: State) -> Vec<PortResult> {
        self.iter().filter(|r| r.state == s).collect()
    }

    /// The state of one port, if it was part of the scan.
    pub fn state_of(&self, host: IpAddr, port: u16) -> Option<State> {
        let h = self.targets.index_of(host)?;
        let p = self.ports.binary_search(&port).ok()?;
        self.at(h, host, p).map(|r| r.state)
    }

    /// How many ports are in each state (in the order open, closed, filtered, …).
    pub fn counts(&self) -> Vec<(State, u64)> {
        let mut c = [0u64; 5];
        for a in &self.table.answer {
            let b = a.load(Ordering::Relaxed);
            if b == NOT_PROBED {
                continue;
            }
            let st = Reason::from_byte(b).state(self.kind);
            c[st as usize] += 1;
        }
        [
            State::Open,
            State::Closed,
            State::Filtered,
            State::Unfiltered,
            State::OpenFiltered,
        ]
        .into_iter()
        .zip(c)
        .filter(|(_, n)| *n > 0)
        .collect()
    }

    /// Whether any port is open (exit status 0).
    pub fn any_open(&self) -> bool {
        self.table
            .answer
            .iter()
            .any(|a| Reason::from_byte(a.load(Ordering::Relaxed)).state(self.kind) == State::Open)
    }
}

impl fmt::Debug for ScanResults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScanResults")
            .field("kind", &self.kind)
            .field("hosts", &self.targets.len())
            .field("ports", &self.ports.len())
            .field("interrupted", &self.interrupted)
            .field("stats", &self.stats)
            .finish()
    }
}

/// The banner reader's counters (`--banners`), for `-v` and the benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GrabStats {
    /// Connections opened (SYN-ACKs taken).
    pub opened: u64,
    /// Connections whose service said something.
    pub banners: u64,
    /// Connections closed silent after the timeout.
    pub silent: u64,
    /// Our ACK/request sent again.
    pub retransmits: u64,
    /// SYN-ACKs not taken because the table was full (reset; the scan probes again).
    pub table_full: u64,
    /// Connections opened again after a silence with no sign of life.
    pub reconnects: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_bytes_round_trip() {
        for r in [
            Reason::NoResponse,
            Reason::SynAck,
            Reason::Syn,
            Reason::Reset,
            Reason::UdpResponse,
            Reason::ConnRefused,
            Reason::Unreach,
            Reason::IcmpUnreach(13),
            Reason::Icmp6Unreach(1),
        ] {
            assert_eq!(Reason::from_byte(r.to_byte()), r);
        }
    }

    #[test]
    fn nmap_state_tables() {
        use ScanType::*;
        assert_eq!(Reason::SynAck.state(Syn), State::Open);
        assert_eq!(Reason::Syn.state(Syn), State::Open);
        assert_eq!(Reason::Reset.state(Syn), State::Closed);
        assert_eq!(Reason::NoResponse.state(Syn), State::Filtered);
        assert_eq!(Reason::IcmpUnreach(13).state(Syn), State::Filtered);
        assert_eq!(Reason::Reset.state(Ack), State::Unfiltered);
        assert_eq!(Reason::NoResponse.state(Ack), State::Filtered);
        assert_eq!(Reason::UdpResponse.state(Udp), State::Open);
        assert_eq!(Reason::IcmpUnreach(3).state(Udp), State::Closed);
        assert_eq!(Reason::Icmp6Unreach(4).state(Udp), State::Closed);
        assert_eq!(Reason::IcmpUnreach(13).state(Udp), State::Filtered);
        assert_eq!(Reason::Icmp6Unreach(1).state(Udp), State::Filtered);
        assert_eq!(Reason::NoResponse.state(Udp), State::OpenFiltered);
        assert_eq!(Reason::Reset.state(Flags(0x29)), State::Closed);
        assert_eq!(Reason::NoResponse.state(Flags(0)), State::OpenFiltered);
        assert_eq!(Reason::ConnRefused.state(Connect), State::Closed);
        assert_eq!(Reason::IcmpUnreach(3).to_string(), "icmp-unreach code 3");
    }

    #[test]
    fn flag_and_type_parsing() {
        assert_eq!(parse_flags("FPU"), Ok(0x29));
        assert_eq!(parse_flags("xmas"), Ok(0x29));
        assert_eq!(parse_flags("null"), Ok(0));
        assert_eq!(parse_flags("F"), Ok(1));
        assert!(parse_flags("S").is_err());
        assert!(parse_flags("Q").is_err());
        assert_eq!(ScanType::parse("syn"), Ok(ScanType::Syn));
        assert_eq!(ScanType::parse("XMAS"), Ok(ScanType::Flags(0x29)));
        assert!(ScanType::parse("ping").is_err());
    }

    #[test]
    fn table_keeps_the_first_answer() {
        let t: Vec<IpAddr> = vec!["198.18.0.2".parse().unwrap()];
        let r = ScanResults::new(ScanType::Syn, Targets::from_addrs(&t), vec![22, 80, 443]);
        assert_eq!(r.len(), 0);
        assert!(!r.table.record(0, Reason::SynAck, 1), "never probed");
        (0..3).for_each(|i| r.table.probed(i));
        assert_eq!(r.len(), 3);
        r.table.time[1].store(100, Ordering::Relaxed);
        assert!(r.table.record(1, Reason::SynAck, 350));
        assert!(!r.table.record(1, Reason::Reset, 400));
        assert!(r.table.record(2, Reason::Reset, 10));
        assert_eq!(r.state_of(t[0], 80), Some(State::Open));
        assert_eq!(r.state_of(t[0], 443), Some(State::Closed));
        assert_eq!(r.state_of(t[0], 22), Some(State::Filtered));
        assert_eq!(r.state_of(t[0], 23), None);
        assert_eq!(r.open()[0].rtt, Some(Duration::from_micros(250)));
        assert!(r.any_open());
        assert_eq!(
            r.counts(),
            vec![(State::Open, 1), (State::Closed, 1), (State::Filtered, 1)]
        );
    }
}
