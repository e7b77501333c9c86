//! The engine behind the language's [`Net`] trait: `send`, `sr1`, `sr`, `sniff` in
//! scripts and the REPL go out over raw sockets through this adapter.
//!
//! The engine is opened on first use, so a script that never touches the network runs
//! without privileges; the first network call without CAP_NET_RAW fails with the message
//! that names the capability and the fix (exit status 3).

use std::net::IpAddr;
use std::time::Duration;

use crate::lang::net::{
    interrupted, LiveSniff, Net, NetError, Reply, SendOpts, SniffOpts, SrOpts, SrResult,
};
use crate::net::engine::{
    Engine, EngineOptions, LinkHeader, NetError as EngineError, Probe, Sniffed, StoreLimit,
    Unmatched,
};
use crate::packet::{Layer, LinkType, Packet};

/// Raw-socket backend for the language.
pub struct RawNet {
    opts: EngineOptions,
    engine: Option<Engine>,
    /// Captured packets of the last `sr`/`sr1` that answered no probe, with the reason.
    pub last_unmatched: Vec<Unmatched>,
    /// Notes already shown (e.g. why a packet went out at the link layer).
    shown: usize,
    quiet: bool,
    /// How much one `sniff` keeps in memory.
    pub store: StoreLimit,
}

impl RawNet {
    /// `opts.pcap`: the engine records every packet sent and received there, with kernel
    /// timestamps.
    pub fn new(opts: EngineOptions, quiet: bool) -> RawNet {
        // The pcap file exists (empty) even if the script never touches the network;
        // the engine rewrites it when it opens. A failure here shows again at that point.
        if let (Some(p), None) = (&opts.pcap, &opts.pcap_writer) {
            let _ = crate::pcap::Writer::create(p, crate::pcap::linktype::RAW);
        }
        RawNet {
            opts,
            engine: None,
            last_unmatched: Vec::new(),
            shown: 0,
            quiet,
            store: StoreLimit::default(),
        }
    }

    fn engine(&mut self) -> Result<&mut Engine, NetError> {
        if self.engine.is_none() {
            self.engine = Some(Engine::new(self.opts.clone()).map_err(convert)?);
        }
        self.engine
            .as_mut()
            .ok_or_else(|| NetError::System("the engine could not start".into()))
    }

    /// Print, once each, the engine's notes (what it did on the user's behalf).
    fn notes(&mut self) {
        let Some(e) = self.engine.as_ref() else {
            return;
        };
        if !self.quiet {
            for n in e.notes.iter().skip(self.shown) {
                eprintln!("tcpcraft: {n}");
            }
        }
        self.shown = e.notes.len();
    }
}

fn convert(e: EngineError) -> NetError {
    match e {
        EngineError::Permission(m) => NetError::Permission(m),
        EngineError::Io { .. } => NetError::System(e.to_string()),
        EngineError::Filter(_) | EngineError::BadPacket(_) => NetError::Refused(e.to_string()),
    }
}

/// The wire bytes of a packet the language built. A missing source address is set in the
/// packet itself from the route, so that computed checksums come out right while any
/// checksum the user set stays exactly as given.
fn probe(e: &mut Engine, p: &Packet, iface: &Option<String>) -> Result<Probe, NetError> {
    let mut p = p.clone();
    // A frame (scapy's sendp/srp): its Ethernet header goes with the probe, addresses
    // left at 00:00:00:00:00:00 to be filled in; the rest must be an IP packet.
    let link = match p.layers.first() {
        Some(Layer::Ether(eth)) => {
            let set = |m: [u8; 6]| (m != [0; 6]).then_some(m);
            let h = LinkHeader {
                dst: set(eth.dst),
                src: set(eth.src),
                ethertype: eth.ethertype,
            };
            p.layers.remove(0);
            if !matches!(p.layers.first(), Some(Layer::Ipv4(_) | Layer::Ipv6(_))) {
                return Err(NetError::Refused(format!(
                    "a frame to send is Ether()/IP(...) or Ether()/IPv6(...), not Ether()/{}",
                    p.layers.first().map_or("nothing", |l| l.name())
                )));
            }
            Some(h)
        }
        _ => None,
    };
    match p.layers.first_mut() {
        Some(Layer::Ipv4(ip)) => {
            if ip.src.is_none() {
                let r = e
                    .route(IpAddr::V4(ip.dst), None, iface.as_deref())
                    .map_err(convert)?;
                if let IpAddr::V4(s) = r.src {
                    ip.src = Some(s);
                }
            }
        }
        Some(Layer::Ipv6(ip)) => {
            if ip.src.is_none() {
                let r = e
                    .route(IpAddr::V6(ip.dst), None, iface.as_deref())
                    .map_err(convert)?;
                if let IpAddr::V6(s) = r.src {
                    ip.src = Some(s);
                }
            }
        }
        Some(l) => {
            return Err(NetError::Refused(format!(
                "a packet to send starts with IP(), IPv6() or Ether(), not {}",
                l.name()
            )))
        }
        None => return Err(NetError::Refused("an empty packet cannot be sent".into())),
    }
    Ok(Probe {
        bytes: p.to_bytes(),
        iface: iface.clone(),
        link,
        fragments: Vec::new(),
    })
}

fn probes(e: &mut Engine, pkts: &[Packet], iface: &Option<String>) -> Result<Vec<Probe>, NetError> {
    pkts.iter().map(|p| probe(e, p, iface)).collect()
}

fn secs(s: f64) -> Duration {
    if s.is_finite() && s > 0.0 {
        Duration::from_secs_f64(s.min(1e6))
    } else {
        Duration::ZERO
    }
}

fn parse(bytes: &[u8]) -> Packet {
    Packet::parse(bytes, LinkType::RawIp).0
}

/// A capture the language drives (`sniff(prn=…)`, `sniffer()`): its own packet socket,
/// so that sends and other captures go on beside it.
struct RawLiveSniff {
    cap: crate::net::sniff::LiveCapture,
    pcap: Option<crate::pcap::SharedWriter>,
    drops: u64,
}

impl LiveSniff for RawLiveSniff {
    fn next(&mut self, wait: Duration) -> Result<Option<Packet>, NetError> {
        let got = self
            .cap
            .next(wait)
            .map_err(|e| NetError::System(format!("capturing: {e}")))?;
        self.drops += u64::from(self.cap.drops());
        Ok(got.map(|s| {
            if let (Some(w), true) = (&self.pcap, s.is_ip()) {
                let _ = w.write_now(s.time, &s.bytes);
            }
            sniffed_packet(s)
        }))
    }

    fn drops(&self) -> u64 {
        self.drops
    }
}

/// A sniffed packet for the language, stamped with its capture time: an IP packet from
/// its IP header (as `sr` answers are), anything else (ARP …) with its link-layer header.
pub fn sniffed_packet(s: Sniffed) -> Packet {
    let p = if s.is_ip() {
        parse(&s.bytes)
    } else {
        let link = crate::pcap::link_of(s.linktype).unwrap_or(LinkType::Sll);
        Packet::parse(&s.frame, link).0
    };
    p.at(s.time)
}

impl Net for RawNet {
    fn send(&mut self, pkts: &[Packet], opts: &SendOpts) -> Result<usize, NetError> {
        let count = opts.count as usize;
        let inter = secs(opts.inter);
        let e = self.engine()?;
        let probes = probes(e, pkts, &opts.iface)?;
        // Long waits between packets must still yield to Ctrl-C: send one at a time.
        let n = if inter > Duration::from_millis(50) {
            let mut n = 0;
            'outer: for round in 0..count {
                for (i, p) in probes.iter().enumerate() {
                    if round + i > 0 {
                        crate::lang::net::interruptible_sleep(inter.as_secs_f64())?;
                    }
                    if interrupted() {
                        break 'outer;
                    }
                    n += e
                        .send(std::slice::from_ref(p), 1, Duration::ZERO)
                        .map_err(convert)?;
                }
            }
            n
        } else {
            e.send(&probes, count, inter).map_err(convert)?
        };
        self.notes();
        Ok(n)
    }

    fn sr(&mut self, pkts: &[Packet], opts: &SrOpts) -> Result<SrResult, NetError> {
        let groups: Vec<(Packet, Vec<Packet>)> =
            pkts.iter().map(|p| (p.clone(), Vec::new())).collect();
        self.sr_datagrams(&groups, opts)
    }

    fn sr_datagrams(
        &mut self,
        groups: &[(Packet, Vec<Packet>)],
        opts: &SrOpts,
    ) -> Result<SrResult, NetError> {
        let e = self.engine()?;
        let mut probes = Vec::with_capacity(groups.len());
        for (whole, frags) in groups {
            let mut pr = probe(e, whole, &opts.send.iface)?;
            for f in frags {
                pr.fragments.push(probe(e, f, &opts.send.iface)?.bytes);
            }
            probes.push(pr);
        }
        let r = e
            .sr(
                &probes,
                secs(opts.timeout),
                opts.retry as usize,
                secs(opts.send.inter),
                &interrupted,
            )
            .map_err(convert)?;
        self.notes();
        // When something went unanswered, say what was captured instead and why it did
        // not count ("ack 1 ≠ expected 1001"), so a user can see why nothing matched.
        if !r.unanswered.is_empty() && !self.quiet {
            let shown: Vec<&Unmatched> = r
                .unmatched
                .iter()
                .filter(|u| !u.reason.starts_with("another answer"))
                .collect();
            for u in shown.iter().take(3) {
                eprintln!(
                    "tcpcraft: captured but not an answer: {} — {}",
                    crate::packet::display::summary(&parse(&u.bytes)),
                    u.reason
                );
            }
            if shown.len() > 3 {
                eprintln!(
                    "tcpcraft: … and {} more captured packets that answered nothing",
                    shown.len() - 3
                );
            }
        }
        let unmatched = r
            .unmatched
            .iter()
            .filter(|u| !u.reason.starts_with("another answer"))
            .map(|u| (parse(&u.bytes).at(u.time), u.reason.clone()))
            .collect();
        self.last_unmatched = r.unmatched;
        if interrupted() {
            return Err(NetError::Interrupted);
        }
        // Frames come back as frames: the Ethernet header as it left, then the packet.
        let sent: Vec<Packet> = r
            .sent
            .iter()
            .zip(r.sent_link.iter().chain(std::iter::repeat(&None)))
            .enumerate()
            .map(|(i, (b, link))| {
                let p = match link {
                    Some(h) => Packet::parse(&[h.as_slice(), b].concat(), LinkType::Ethernet).0,
                    None => parse(b),
                };
                match r.sent_time.get(i) {
                    Some(t) if !t.is_zero() => p.at(*t),
                    _ => p,
                }
            })
            .collect();
        let answered = r
            .answered
            .iter()
            .map(|a| Reply {
                packet: parse(&a.bytes).at(a.time),
                probe: sent.get(a.probe).cloned().unwrap_or_default(),
                rtt: a.rtt.as_secs_f64(),
            })
            .collect();
        let unanswered = r
            .unanswered
            .iter()
            .filter_map(|&i| sent.get(i).cloned())
            .collect();
        Ok(SrResult {
            answered,
            unanswered,
            unmatched,
        })
    }

    fn sniff(&mut self, opts: &SniffOpts) -> Result<Vec<Packet>, NetError> {
        let timeout = opts.timeout.map(secs);
        let mut store = self.store;
        if let Some(n) = opts.store {
            store.packets = n;
        }
        let e = self.engine()?;
        // Ctrl-C ends the capture and keeps what was caught, as scapy does.
        let (got, stats) = e
            .sniff_bounded(
                opts.count,
                timeout,
                opts.filter.as_deref(),
                opts.iface.as_deref(),
                &interrupted,
                store,
            )
            .map_err(convert)?;
        if opts.store.is_some() {
            // The user chose the limit: say how many were caught, which the list no
            // longer shows (scapy's store=False returns nothing at all).
            if stats.not_kept > 0 && !self.quiet {
                eprintln!(
                    "tcpcraft: sniff captured {} packets, kept {} (store={})",
                    stats.captured,
                    got.len(),
                    store.packets
                );
            }
        } else if stats.not_kept > 0 && !self.quiet {
            let pcap = if self.opts.pcap.is_some() || self.opts.pcap_writer.is_some() {
                "; every one is in the --pcap file"
            } else {
                "; give --pcap FILE to keep them all on disk"
            };
            eprintln!(
                "tcpcraft: sniff kept {} of {} captured packets in memory (limit: {} packets or {} MiB){pcap}",
                got.len(),
                stats.captured,
                self.store.packets,
                self.store.bytes >> 20
            );
        }
        Ok(got.into_iter().map(sniffed_packet).collect())
    }

    fn open_sniff(&mut self, opts: &SniffOpts) -> Result<Box<dyn LiveSniff>, NetError> {
        let e = self.engine()?;
        let cap = e
            .live_capture(opts.filter.as_deref(), opts.iface.as_deref())
            .map_err(convert)?;
        Ok(Box::new(RawLiveSniff {
            cap,
            pcap: e.pcap_writer(),
            drops: 0,
        }))
    }

    fn name(&self) -> &'static str {
        "raw sockets"
    }

    /// The source the route gives (the shell shows unset sources with it, as scapy).
    fn route_source(&mut self, dst: std::net::IpAddr) -> Option<std::net::IpAddr> {
        if dst.is_unspecified() {
            return None;
        }
        crate::net::route::resolve(dst, None, None)
            .ok()
            .map(|r| r.src)
    }
}
