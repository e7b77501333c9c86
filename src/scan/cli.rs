//! `tcpcraft scan`: the command-line arguments (parsed by clap, syntax only, with
//! value_parsers that say exactly what is wrong) and the run that resolves them, scans,
//! prints, and returns the exit status: 0 a port is open, 1 none, 2 usage, 3 system,
//! 130 interrupted (after printing what is known).

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args};

use super::ports::{self, PortSpec};
use super::result::{self, ScanType};
use super::targets::{self, TargetSpec};
use super::{output, perm, ScanConfig, ScanError};

fn parse_rate(s: &str) -> Result<u64, String> {
    match s.trim().replace('_', "").parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "--rate takes probes per second (a positive number), not {s:?}"
        )),
    }
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, scale) = if let Some(v) = t.strip_suffix("ms") {
        (v, 1e-3)
    } else if let Some(v) = t.strip_suffix('s') {
        (v, 1.0)
    } else {
        (t, 1.0)
    };
    match num.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 && v * scale <= 3600.0 => {
            Ok(Duration::from_secs_f64(v * scale))
        }
        _ => Err(format!("--wait takes seconds (0.2, 200ms), not {s:?}")),
    }
}

/// `--banner-timeout`: seconds (0.1 to 60).
fn parse_banner_timeout(s: &str) -> Result<Duration, String> {
    parse_secs(s)
        .ok()
        .filter(|d| (0.1..=60.0).contains(&d.as_secs_f64()))
        .ok_or_else(|| {
            format!("--banner-timeout takes seconds from 0.1 to 60 (5, 500ms), not {s:?}")
        })
}

/// `--banner-connections`: 16 to 4,194,304.
fn parse_connections(s: &str) -> Result<usize, String> {
    s.trim()
        .replace('_', "")
        .parse::<usize>()
        .ok()
        .filter(|n| (16..=1 << 22).contains(n))
        .ok_or_else(|| format!("--banner-connections takes a number from 16 to 4194304, not {s:?}"))
}

/// A whole number for `--max-retries` (0..=100), with a message that says what to give.
fn parse_retries(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|v| *v <= 100)
        .ok_or_else(|| format!("--max-retries takes a whole number 0-100, not {s:?}"))
}

/// A whole number for `--threads` (0 = one per CPU, at most 64).
fn parse_threads(s: &str) -> Result<usize, String> {
    s.trim()
        .parse::<usize>()
        .ok()
        .filter(|v| *v <= 64)
        .ok_or_else(|| format!("--threads takes a whole number 0-64 (0: one per CPU), not {s:?}"))
}

/// A permutation seed: any unsigned 64-bit number, decimal or 0x-hex.
fn parse_seed(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => t.parse::<u64>().ok(),
    };
    v.ok_or_else(|| format!("--seed takes a number 0-18446744073709551615 (or 0x…), not {s:?}"))
}

/// `tcpcraft scan TARGETS [-p PORTS] …`
#[derive(Args, Debug, Clone)]
#[command(group = ArgGroup::new("kind").args(["syn", "udp", "ack", "connect", "flags"]))]
#[command(group = ArgGroup::new("portsel").args(["ports", "top_ports"]))]
pub struct ScanArgs {
    /// Addresses, host names, CIDR blocks (198.18.0.0/24), ranges (198.18.0.1-20, 198.18.0-3.1)
    #[arg(value_name = "TARGETS", value_parser = targets::parse_target, required_unless_present = "input_list")]
    pub targets: Vec<TargetSpec>,
    /// Ports: 22,80,8000-8100; - (as -p-) for all; T:/U: for one protocol [default: 1-1024]
    #[arg(short = 'p', long, value_name = "PORTS", value_parser = ports::parse_ports, allow_hyphen_values = true)]
    pub ports: Option<PortSpec>,
    /// The N most often open ports (embedded nmap-services frequency list)
    #[arg(long, value_name = "N", value_parser = ports::parse_top)]
    pub top_ports: Option<usize>,
    /// Read targets from FILE (also -iL FILE), whitespace separated, # comments
    #[arg(long = "input-list", value_name = "FILE")]
    pub input_list: Option<PathBuf>,
    /// Leave these targets out (repeatable, or comma separated)
    #[arg(long, value_name = "TARGETS", value_delimiter = ',', value_parser = targets::parse_target)]
    pub exclude: Vec<TargetSpec>,
    /// Host names resolve to their IPv6 address (nmap -6)
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,
    /// SYN scan, the default (nmap -sS)
    #[arg(long)]
    pub syn: bool,
    /// UDP scan: open (UDP answer), closed (ICMP port unreachable), filtered, open|filtered
    #[arg(long, short = 'U')]
    pub udp: bool,
    /// ACK scan: unfiltered (RST) or filtered; maps firewalls, not open ports
    #[arg(long)]
    pub ack: bool,
    /// connect() scan: full handshakes, no privileges needed (nmap -sT)
    #[arg(long)]
    pub connect: bool,
    /// Probe with these TCP flags instead of SYN: null, fin, xmas, or letters like FPU
    #[arg(long, value_name = "FLAGS", value_parser = result::parse_flags)]
    pub flags: Option<u8>,
    /// List every port, not only the open ones
    #[arg(long)]
    pub all: bool,
    /// Show why each port has its state (syn-ack, reset, no-response, icmp-unreach code N)
    #[arg(long)]
    pub reason: bool,
    /// One JSON object per line: host, port, proto, state, reason, rtt_ms
    #[arg(long)]
    pub json: bool,
    /// Also write nmap-style greppable lines to FILE (-oG FILE; - for standard output)
    #[arg(long = "greppable", value_name = "FILE")]
    pub greppable: Option<PathBuf>,
    /// Also write nmap's XML to FILE (-oX FILE; - for standard output), valid against
    /// nmap's DTD: ndiff and other readers of nmap's XML take it
    #[arg(long = "xml", value_name = "FILE")]
    pub xml: Option<PathBuf>,
    /// Also write nmap's normal output to FILE (-oN FILE; - for standard output)
    #[arg(long = "normal", value_name = "FILE")]
    pub normal: Option<PathBuf>,
    /// Write BASE.xml, BASE.nmap and BASE.gnmap at once (-oA BASE)
    #[arg(long = "all-formats", value_name = "BASE")]
    pub all_formats: Option<PathBuf>,
    /// Read what each open port says: finish the handshake (statelessly), send HTTP's
    /// GET / or a TLS ClientHello where the client speaks first, keep the first answer
    /// (1 KiB or 2 segments), then RST. Installs an nftables filter for the scan
    #[arg(long)]
    pub banners: bool,
    /// How long a service may stay silent before it is open with no banner
    #[arg(long, value_name = "SECS", value_parser = parse_banner_timeout, requires = "banners")]
    pub banner_timeout: Option<Duration>,
    /// Connections read at once (the sender waits while the table is half full)
    #[arg(long, value_name = "N", value_parser = parse_connections, requires = "banners")]
    pub banner_connections: Option<usize>,
    /// Write every probe and answer to a pcap file
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Probes per second (default: as fast as answers keep up, backing off on loss)
    #[arg(long, value_name = "N", value_parser = parse_rate)]
    pub rate: Option<u64>,
    /// At most this many retries of an unanswered probe (as many as the loss measured
    /// calls for: one without loss; rounds slowed by a target's rate limit not counted)
    #[arg(long, value_name = "N", default_value_t = super::ctx::DEFAULT_RETRIES, value_parser = parse_retries)]
    pub max_retries: u32,
    /// Wait this long for answers after each round (default: from measured round trips)
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub wait: Option<Duration>,
    /// Permutation seed; every shard of one scan must use the same
    #[arg(long, value_name = "S", value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Scan only shard I of N (0-based, zmap's convention); shards cover the scan once
    #[arg(long, value_name = "I/N", value_parser = perm::parse_shard)]
    pub shard: Option<(u64, u64)>,
    /// TCP source port of the first pass (retries use the next ones; UDP uses 1024 from here)
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..=64511))]
    pub source_port: Option<u16>,
    /// Sender threads (default: one per CPU)
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = parse_threads)]
    pub threads: usize,
    /// Leave through this interface
    #[arg(short = 'i', long, value_name = "IFACE")]
    pub interface: Option<String>,
    /// Let the kernel process the RSTs answering the probes: no nftables reply filter
    #[arg(long)]
    pub keep_rsts: bool,
    /// Every TCP retry reuses the first probe's source port and sequence number, as a
    /// client retransmits a SYN (default: every other retry does)
    #[arg(long)]
    pub retransmit_same_port: bool,
    /// No progress bar
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Print counters (probes, retry rounds, capture drops, loss, rate) on stderr, and
    /// with --json as a last line {"stats": {…}}
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// nmap options tcpcraft does not have (set by [`rewrite_args`]): an error saying
    /// what to use instead.
    #[arg(
        long = "nmap-unsupported",
        hide = true,
        value_name = "OPTION",
        allow_hyphen_values = true
    )]
    pub nmap_unsupported: Vec<String>,
}

/// nmap's spellings, after the `scan` subcommand, rewritten before parsing (clap cannot
/// have one dash and two letters): `-oG F` → `--greppable F`, `-oX F` → `--xml F`,
/// `-oN F` → `--normal F`, `-oA B` → `--all-formats B`, `-iL F` → `--input-list F`,
/// `-sS/-sU/-sT/-sA` → `--syn/--udp/--connect/--ack`, `-sN/-sF/-sX` → `--flags
/// null/fin/xmas`, `--scanflags` → `--flags`, `-F` → `--top-ports 100`, `-e` →
/// `--interface`, `-g` → `--source-port`, `--max-rate` → `--rate`. `-Pn`, `-n`,
/// `--open` and `-T3`…`-T5` say what tcpcraft always does and are dropped. nmap options
/// it has no counterpart for become `--nmap-unsupported OPTION`, an error that says
/// what to use instead.
pub fn rewrite_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::new();
    let mut in_scan = false;
    // `scan` counts only as the command: the first word that is neither an option nor
    // the value of a global option (`tcpcraft run x.tcs scan -n` keeps its args).
    let mut seen_command = false;
    let mut value_next = false;
    let mut args = args.into_iter().peekable();
    // The program's own name.
    out.extend(args.next());
    while let Some(mut a) = args.next() {
        let Some(mut s) = a.to_str().filter(|_| in_scan).map(str::to_string) else {
            let word = a.to_str().unwrap_or("");
            if !seen_command {
                if value_next {
                    value_next = false;
                } else if word == "--pcap" || word == "--color" {
                    value_next = true;
                } else if word == "-c" {
                    // Code follows: no command at all.
                    seen_command = true;
                } else if !word.starts_with('-') {
                    seen_command = true;
                    in_scan = word == "scan";
                }
            }
            out.push(a);
            continue;
        };
        // Timing templates: -T4, -T 4, -Taggressive.
        if s == "-T" {
            if let Some(level) = args.next_if(|n| n.to_str().is_some_and(timing_level)) {
                s = format!("-T{}", level.to_string_lossy());
            }
        }
        if let Some(level) = s.strip_prefix("-T").filter(|l| timing_level(l)) {
            s = format!("-T{}", timing_number(level));
        }
        a = std::ffi::OsString::from(&s);
        let with: &[&str] = match s.as_str() {
            "-oG" => &["--greppable"],
            "-oX" => &["--xml"],
            "-oN" => &["--normal"],
            "-oA" => &["--all-formats"],
            "-iL" => &["--input-list"],
            "-sS" => &["--syn"],
            "-sU" => &["--udp"],
            "-sT" => &["--connect"],
            "-sA" => &["--ack"],
            "-sN" => &["--flags", "null"],
            "-sF" => &["--flags", "fin"],
            "-sX" => &["--flags", "xmas"],
            "--scanflags" => &["--flags"],
            "-F" => &["--top-ports", "100"],
            "-e" => &["--interface"],
            "-g" => &["--source-port"],
            "--max-rate" => &["--rate"],
            "-Pn" | "-n" | "--open" | "-T3" | "-T4" | "-T5" => &[],
            t if nmap_unsupported(t).is_some() => &["--nmap-unsupported"],
            _ => {
                out.push(a);
                continue;
            }
        };
        out.extend(with.iter().map(std::ffi::OsString::from));
        if with == ["--nmap-unsupported"] {
            // Its value (a file, a rate) goes with it, not into the targets.
            if nmap_takes_value(&s) {
                args.next();
            }
            out.push(a);
        }
    }
    out
}

/// nmap's timing template names and numbers.
fn timing_level(l: &str) -> bool {
    matches!(
        l,
        "0" | "1"
            | "2"
            | "3"
            | "4"
            | "5"
            | "paranoid"
            | "sneaky"
            | "polite"
            | "normal"
            | "aggressive"
            | "insane"
    )
}

fn timing_number(l: &str) -> &str {
    match l {
        "paranoid" => "0",
        "sneaky" => "1",
        "polite" => "2",
        "normal" => "3",
        "aggressive" => "4",
        "insane" => "5",
        n => n,
    }
}

/// The unsupported nmap options that take a separate value.
fn nmap_takes_value(opt: &str) -> bool {
    matches!(
        opt,
        "-oS"
            | "-oM"
            | "--script"
            | "--min-rate"
            | "--scan-delay"
            | "--max-scan-delay"
            | "--version-intensity"
            | "-sI"
            | "-b"
    )
}

/// What to say about an nmap option tcpcraft has no counterpart for (also in its
/// `--option=value` form).
pub fn nmap_unsupported(opt: &str) -> Option<String> {
    let opt = opt.split_once('=').map_or(opt, |(o, _)| o);
    let what = match opt {
        "-oS" | "-oM" => {
            "nmap's script-kiddie and machine output are not written; use -oX, -oN, -oG, \
             -oA or --json"
        }
        "-sV" | "-sC" | "--script" | "-O" | "-A" | "--version-intensity" | "--osscan-guess" => {
            "service, version and OS detection and scripts are nmap's; tcpcraft scan finds \
             open, closed and filtered ports, --banners shows what each open port says \
             (tcpcraft -c can script a probe by hand)"
        }
        "-sn" | "-sP" | "-PE" | "-PS" | "-PA" | "-PU" | "-PP" | "-PR" | "-sL" => {
            "there is no host discovery: tcpcraft scan always probes the ports (as nmap -Pn)"
        }
        "--min-rate" => {
            "tcpcraft has no rate floor: it sends as fast as the answers keep up (up to \
             1,000,000/s by default) and slows down only on measured loss; --rate N sets \
             the rate (nmap --max-rate)"
        }
        "-T0" | "-T1" | "-T2" | "--scan-delay" | "--max-scan-delay" => {
            "for a slow scan, set the rate: --rate 1 is one probe a second"
        }
        "-sY" | "-sZ" | "-sO" | "-sI" | "-sW" | "-sM" | "-b" => {
            "nmap's SCTP, IP protocol, idle, window, Maimon and FTP bounce scans are not \
             implemented; \
             tcpcraft scans TCP (--syn, --ack, --connect, --flags) and UDP (--udp)"
        }
        "-r" => "probes always go in a random order (--seed S makes it repeatable)",
        _ => return None,
    };
    Some(format!("{opt}: {what}"))
}

/// The file formats besides the table and JSON.
#[derive(Clone, Copy)]
enum Format {
    Greppable,
    Xml,
    Normal,
}

fn kind_of(a: &ScanArgs) -> ScanType {
    if a.udp {
        ScanType::Udp
    } else if a.ack {
        ScanType::Ack
    } else if a.connect {
        ScanType::Connect
    } else if let Some(f) = a.flags {
        ScanType::Flags(f)
    } else {
        ScanType::Syn
    }
}

/// Run `tcpcraft scan` (with `dry_run`: say what it would scan, send nothing); returns
/// the exit status.
pub fn run(a: ScanArgs, dry_run: bool) -> u8 {
    match run_inner(a, dry_run) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tcpcraft: scan: {e}");
            e.exit_code()
        }
    }
}

fn run_inner(a: ScanArgs, dry_run: bool) -> Result<u8, ScanError> {
    if let Some(opt) = a.nmap_unsupported.first() {
        return Err(ScanError::Usage(
            nmap_unsupported(opt).unwrap_or_else(|| format!("{opt}: not supported")),
        ));
    }
    let mut kind = kind_of(&a);
    let mut specs = a.targets.clone();
    if let Some(f) = &a.input_list {
        specs.extend(targets::read_list(f).map_err(ScanError::Usage)?);
    }
    let t = targets::resolve_family(&specs, &a.exclude, a.ipv6).map_err(ScanError::Usage)?;
    if kind == ScanType::Syn && !super::privileged() {
        eprintln!(
            "tcpcraft: no CAP_NET_RAW, so this is a connect() scan (nmap -sT: full handshakes \
             the target may log); grant it with `sudo setcap cap_net_raw,cap_net_admin+ep $(which tcpcraft)`"
        );
        kind = ScanType::Connect;
    }
    if a.banners && kind != ScanType::Syn {
        return Err(ScanError::Usage(format!(
            "--banners reads banners in a SYN scan (raw sockets, CAP_NET_RAW and CAP_NET_ADMIN), \
             not a{} {} scan",
            if kind == ScanType::Udp || kind == ScanType::Ack {
                "n"
            } else {
                ""
            },
            kind.name()
        )));
    }
    let ports = match (&a.ports, a.top_ports) {
        (_, Some(n)) => ports::top_ports(kind.proto(), n),
        (Some(p), None) => p.for_proto(kind.proto()),
        (None, None) => (1..=1024).collect(),
    };
    if ports.is_empty() {
        return Err(ScanError::Usage(format!(
            "no {} ports in the port list (use {}: or no prefix)",
            kind.proto(),
            if kind == ScanType::Udp { "U" } else { "T" }
        )));
    }
    if dry_run {
        super::check(&t, &ports)?;
        let (n, p) = (t.len(), ports.len());
        let hosts = if n <= 4 {
            t.iter()
                .map(|h| h.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            let last = t.get(n - 1).map(|h| h.to_string()).unwrap_or_default();
            format!(
                "{} … {last}",
                t.get(0).map(|h| h.to_string()).unwrap_or_default()
            )
        };
        println!(
            "would scan {n} host{} ({hosts}) x {p} {} port{} ({} scan); nothing sent (--dry-run)",
            if n == 1 { "" } else { "s" },
            kind.proto(),
            if p == 1 { "" } else { "s" },
            kind.name()
        );
        return Ok(0);
    }
    let cfg = ScanConfig {
        kind,
        rate: a.rate,
        max_retries: a.max_retries,
        wait: a.wait,
        seed: a.seed.unwrap_or_else(|| super::cookie::Key::random().0),
        shard: a.shard.unwrap_or((0, 1)),
        source_port: a.source_port,
        threads: a.threads,
        interface: a.interface.clone(),
        pcap: a.pcap.clone(),
        progress: !a.quiet,
        keep_rsts: a.keep_rsts,
        retransmit_same_port: a.retransmit_same_port,
        banners: a.banners.then(|| {
            let d = super::banner::BannerConfig::default();
            super::banner::BannerConfig {
                timeout_ms: a
                    .banner_timeout
                    .map_or(d.timeout_ms, |t| t.as_millis() as u32),
                connections: a.banner_connections.unwrap_or(d.connections),
                ..d
            }
        }),
    };
    crate::net::signals::install_cancel();
    let res = super::run(t, ports, &cfg)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = if a.json {
        output::json(&res, a.all, &mut out).and_then(|()| {
            if a.verbose {
                writeln!(out, "{}", output::json_stats(&res))
            } else {
                Ok(())
            }
        })
    } else {
        output::table(&res, a.all, a.reason, &mut out)
    };
    let info = super::nmap::RunInfo::now(
        std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" "),
        res.stats.elapsed,
        a.all,
        a.reason,
    );
    // The files asked for: -oG, -oX, -oN, and -oA's three.
    let mut files: Vec<(PathBuf, Format)> = Vec::new();
    files.extend(a.greppable.clone().map(|p| (p, Format::Greppable)));
    files.extend(a.xml.clone().map(|p| (p, Format::Xml)));
    files.extend(a.normal.clone().map(|p| (p, Format::Normal)));
    if let Some(base) = &a.all_formats {
        for (ext, f) in [
            ("xml", Format::Xml),
            ("nmap", Format::Normal),
            ("gnmap", Format::Greppable),
        ] {
            let mut p = base.clone().into_os_string();
            p.push(".");
            p.push(ext);
            files.push((PathBuf::from(p), f));
        }
    }
    let mut results = vec![written];
    for (p, f) in &files {
        let write = |w: &mut dyn Write| match f {
            Format::Greppable => output::greppable(&res, a.all, w),
            Format::Xml => super::nmap::xml(&res, &info, w),
            Format::Normal => super::nmap::normal(&res, &info, w),
        };
        results.push(if p.as_os_str() == "-" {
            write(&mut out)
        } else {
            // Under sudo, the file belongs to the invoking user (as pcaps and SVGs do).
            crate::userfile::create(p)
                .and_then(|file| {
                    let mut w = BufWriter::new(file);
                    write(&mut w)?;
                    w.flush()
                })
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))
        });
    }
    results.push(out.flush());
    for r in results {
        if let Err(e) = r {
            if e.kind() != io::ErrorKind::BrokenPipe {
                return Err(ScanError::System(format!("writing results: {e}")));
            }
        }
    }
    // The scan changed the firewall for a while: say so (the table is gone by now).
    if let Some(line) = res
        .stats
        .reply_filter
        .as_deref()
        .filter(|_| !a.quiet || a.verbose)
    {
        eprintln!("tcpcraft: {line}");
    }
    if a.verbose {
        let s = &res.stats;
        eprintln!(
            "tcpcraft: {} probes, {} answers, {} retry rounds, capture drops {}, estimated loss {:.1}%, final rate {}/s, first pass {} probes/s, {:.3} s",
            s.sent, s.replies, s.rounds, s.capture_drops, s.loss * 100.0, s.final_rate, s.first_pass_rate, s.elapsed.as_secs_f64()
        );
        if let Some(l) = &s.rate_limit {
            eprintln!(
                "tcpcraft: target answers {} at {:.0}/s: slowed to {:.0}/s for {} ports",
                l.kind, l.answers_per_sec, l.slowed_to, l.ports
            );
        }
        if let Some(b) = &s.banners {
            eprintln!(
                "tcpcraft: banners: {} connections, {} with a banner, {} silent, {} retransmissions, {} SYN-ACKs refused (table full: probed again), {} reopened",
                b.opened, b.banners, b.silent, b.retransmits, b.table_full, b.reconnects
            );
        }
        eprintln!(
            "tcpcraft: source ports {}-{}, slowest answer {:.0} ms",
            s.source_ports.0,
            s.source_ports.1,
            s.max_rtt.as_secs_f64() * 1e3
        );
    }
    if res.interrupted {
        // 128 + the signal: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP.
        return Ok(crate::cancel::exit_status(crate::exit::SIGINT));
    }
    Ok(if res.any_open() {
        crate::exit::OK
    } else {
        crate::exit::FAILED
    })
}

#[cfg(test)]
mod tests {
    use super::rewrite_args;

    fn rw(v: &[&str]) -> Vec<String> {
        rewrite_args(v.iter().map(std::ffi::OsString::from))
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn nmap_spellings_are_rewritten_only_for_the_scan_command() {
        assert_eq!(
            rw(&["tcpcraft", "--pcap", "scan", "scan", "-sS", "-Pn", "-T", "4", "-oG", "-", "x"]),
            [
                "tcpcraft",
                "--pcap",
                "scan",
                "scan",
                "--syn",
                "--greppable",
                "-",
                "x"
            ]
        );
        assert_eq!(
            rw(&[
                "tcpcraft",
                "--dry-run",
                "scan",
                "-sN",
                "-F",
                "--min-rate",
                "9",
                "x"
            ]),
            [
                "tcpcraft",
                "--dry-run",
                "scan",
                "--flags",
                "null",
                "--top-ports",
                "100",
                "--nmap-unsupported",
                "--min-rate",
                "x"
            ]
        );
        assert_eq!(
            rw(&["tcpcraft", "scan", "-oX", "a.xml", "-oN", "-", "-oA", "b", "x"]),
            [
                "tcpcraft",
                "scan",
                "--xml",
                "a.xml",
                "--normal",
                "-",
                "--all-formats",
                "b",
                "x"
            ]
        );
        // A script's arguments, code, and other commands keep theirs.
        for v in [
            &["tcpcraft", "run", "x.tcs", "scan", "-n", "-sS"][..],
            &["tcpcraft", "-c", "print(args)", "scan", "-n"],
            &["tcpcraft", "handshake", "198.18.0.2:80", "-T4"],
        ] {
            assert_eq!(rw(v), v);
        }
    }
}
