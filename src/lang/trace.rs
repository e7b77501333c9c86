//! `traceroute(target, dport=80, proto="tcp", minttl=1, maxttl=30, timeout=2)`: scapy's
//! traceroute, tcptraceroute's and hping3 `--traceroute`'s job. One probe per TTL, all
//! sent together through `sr`; each answer is matched to its probe by the ICMP
//! time-exceeded quote (the probes differ in source port, or in echo sequence number),
//! so the hop is the TTL of the probe it quotes. The result prints as a table and is a
//! list of hops (`t[0].addr`, `for h in t`), with `.json()` for `tcpcraft trace --json`.

use super::call::{Args, Interp, Object, Value};
use super::error::Result;
use super::helpers::net_err;
use super::net::{SendOpts, SrOpts};
use crate::packet::{IcmpRepr, Ipv4Repr, Ipv6Repr, Layer, Packet, TcpFlags, TcpRepr, UdpRepr};
use std::net::IpAddr;
use std::rc::Rc;

/// Default destination port of UDP probes (classic traceroute's first port).
pub const UDP_PORT: u16 = 33434;

/// What the probes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
}

impl Proto {
    pub fn parse(s: &str) -> Option<Proto> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Some(Proto::Tcp),
            "udp" => Some(Proto::Udp),
            "icmp" => Some(Proto::Icmp),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
        }
    }
}

/// What a trace sends.
#[derive(Clone, Debug)]
pub struct Plan {
    pub target: IpAddr,
    pub proto: Proto,
    pub dport: u16,
    pub minttl: u8,
    pub maxttl: u8,
    /// First source port (TCP/UDP: probe for TTL t uses `sport + t - minttl`); the ICMP id.
    pub sport: u16,
    /// Sequence number of the TCP probes (each adds its TTL).
    pub seq: u32,
}

impl Plan {
    /// One probe per TTL, lowest first.
    pub fn probes(&self) -> Vec<Packet> {
        (self.minttl..=self.maxttl)
            .map(|ttl| {
                let i = u16::from(ttl - self.minttl);
                let ip = match self.target {
                    IpAddr::V4(d) => Layer::Ipv4(Ipv4Repr {
                        dst: d,
                        ttl,
                        id: self.sport.wrapping_add(i),
                        ..Ipv4Repr::default()
                    }),
                    IpAddr::V6(d) => Layer::Ipv6(Ipv6Repr {
                        dst: d,
                        hlim: ttl,
                        ..Ipv6Repr::default()
                    }),
                };
                let l4 = match self.proto {
                    Proto::Tcp => Layer::Tcp(TcpRepr {
                        sport: self.sport.wrapping_add(i),
                        dport: self.dport,
                        seq: self.seq.wrapping_add(u32::from(ttl)),
                        flags: TcpFlags(TcpFlags::SYN),
                        window: super::packets::TCP_WINDOW,
                        ..TcpRepr::default()
                    }),
                    Proto::Udp => Layer::Udp(UdpRepr {
                        sport: self.sport.wrapping_add(i),
                        dport: self.dport,
                        ..UdpRepr::default()
                    }),
                    Proto::Icmp => {
                        let echo = IcmpRepr {
                            r#type: if self.target.is_ipv6() { 128 } else { 8 },
                            code: 0,
                            chksum: None,
                            id: self.sport,
                            seq: u16::from(ttl),
                        };
                        if self.target.is_ipv6() {
                            Layer::Icmpv6(echo)
                        } else {
                            Layer::Icmp(echo)
                        }
                    }
                };
                Packet::new(vec![ip, l4])
            })
            .collect()
    }
}

/// One hop of a trace.
#[derive(Clone, Debug)]
pub struct Hop {
    pub ttl: u8,
    /// Who answered; `None`: nothing did (`*`).
    pub addr: Option<IpAddr>,
    /// Seconds.
    pub rtt: Option<f64>,
    /// "time-exceeded", "syn-ack", "rst", "unreachable", "echo-reply", "udp", or "" (none).
    pub kind: &'static str,
    /// In words: "time exceeded", "SYN-ACK: port 80 open", "ICMP port unreachable".
    pub what: String,
    pub reply: Option<Packet>,
}

/// The whole trace.
#[derive(Clone, Debug)]
pub struct Trace {
    pub plan: Plan,
    pub hops: Vec<Hop>,
    /// Whether the target (or an unreachable on the way) ended the trace.
    pub reached: bool,
    /// What ended it, in words ("SYN-ACK: port 80 open", "no answer").
    pub end: String,
}

fn icmp4_unreach(code: u8) -> &'static str {
    match code {
        0 => "network unreachable",
        1 => "host unreachable",
        2 => "protocol unreachable",
        3 => "port unreachable",
        4 => "fragmentation needed",
        9 | 10 | 13 => "administratively prohibited",
        _ => "unreachable",
    }
}

fn icmp6_unreach(code: u8) -> &'static str {
    match code {
        0 => "no route",
        1 => "administratively prohibited",
        3 => "address unreachable",
        4 => "port unreachable",
        5 => "source address failed policy",
        6 => "reject route",
        _ => "unreachable",
    }
}

/// What a reply says: (kind, words, ends the trace).
fn classify(reply: &Packet, dport: u16) -> (&'static str, String, bool) {
    // ICMP first: an ICMP error quotes the probe's TCP/UDP header, which parses too.
    if let Some(Layer::Icmp(c)) = reply.layers.get(1) {
        return match c.r#type {
            11 => ("time-exceeded", "time exceeded".into(), false),
            3 => (
                "unreachable",
                format!("ICMP {} (code {})", icmp4_unreach(c.code), c.code),
                true,
            ),
            0 => ("echo-reply", "echo reply".into(), true),
            t => ("icmp", format!("ICMP type {t} code {}", c.code), true),
        };
    }
    if let Some(Layer::Icmpv6(c)) = reply.layers.get(1) {
        return match c.r#type {
            3 => ("time-exceeded", "time exceeded".into(), false),
            1 => (
                "unreachable",
                format!("ICMPv6 {} (code {})", icmp6_unreach(c.code), c.code),
                true,
            ),
            129 => ("echo-reply", "echo reply".into(), true),
            t => ("icmp", format!("ICMPv6 type {t} code {}", c.code), true),
        };
    }
    if let Some(t) = reply.tcp() {
        let f = t.flags.0;
        if f & TcpFlags::SYN != 0 && f & TcpFlags::ACK != 0 {
            return ("syn-ack", format!("SYN-ACK: port {dport} open"), true);
        }
        if f & TcpFlags::RST != 0 {
            return ("rst", format!("RST: port {dport} closed"), true);
        }
        return ("tcp", format!("TCP {}", t.flags), true);
    }
    if reply.udp().is_some() {
        return ("udp", format!("UDP answer: port {dport} open"), true);
    }
    ("other", "an answer".into(), true)
}

fn probe_ttl(p: &Packet) -> Option<u8> {
    p.ipv4().map(|i| i.ttl).or_else(|| p.ipv6().map(|i| i.hlim))
}

/// Runs the trace through the language's network backend; SYN-ACKs get a RST.
pub fn run(
    it: &mut Interp,
    plan: Plan,
    timeout: f64,
) -> std::result::Result<Trace, super::net::NetError> {
    let probes = plan.probes();
    let opts = SrOpts {
        timeout,
        ..SrOpts::default()
    };
    let res = it.net.sr(&probes, &opts)?;
    let n = usize::from(plan.maxttl - plan.minttl) + 1;
    let mut by_ttl: Vec<Option<Hop>> = vec![None; n];
    let mut resets = Vec::new();
    for r in &res.answered {
        let Some(ttl) = probe_ttl(&r.probe) else {
            continue;
        };
        let Some(slot) = by_ttl.get_mut(usize::from(ttl.saturating_sub(plan.minttl))) else {
            continue;
        };
        let (kind, what, _) = classify(&r.packet, plan.dport);
        if kind == "syn-ack" {
            if let (Some(t), Some(pt)) = (r.packet.tcp(), r.probe.tcp()) {
                let ip = match (r.probe.ipv4(), r.probe.ipv6()) {
                    (Some(i), _) => Layer::Ipv4(Ipv4Repr {
                        src: i.src,
                        dst: i.dst,
                        ..Ipv4Repr::default()
                    }),
                    (_, Some(i)) => Layer::Ipv6(Ipv6Repr {
                        src: i.src,
                        dst: i.dst,
                        ..Ipv6Repr::default()
                    }),
                    _ => continue,
                };
                let rst = Packet::new(vec![
                    ip,
                    Layer::Tcp(TcpRepr {
                        sport: pt.sport,
                        dport: pt.dport,
                        seq: t.ack,
                        flags: TcpFlags(TcpFlags::RST),
                        window: 0,
                        ..TcpRepr::default()
                    }),
                ]);
                resets.push(rst);
            }
        }
        *slot = Some(Hop {
            ttl,
            addr: r
                .packet
                .ipv4()
                .and_then(|i| i.src.map(IpAddr::V4))
                .or_else(|| r.packet.ipv6().and_then(|i| i.src.map(IpAddr::V6))),
            rtt: Some(r.rtt),
            kind,
            what,
            reply: Some(r.packet.clone()),
        });
    }
    if !resets.is_empty() {
        it.net.send(&resets, &SendOpts::default())?;
    }
    // The trace ends at the first TTL the target (or an unreachable) answered; without
    // one, one `*` after the last hop that answered.
    let end_at = by_ttl
        .iter()
        .position(|h| h.as_ref().is_some_and(|h| classify_ends(h.kind)));
    let last = match end_at {
        Some(i) => i,
        None => by_ttl
            .iter()
            .rposition(Option::is_some)
            .map_or(0, |i| (i + 1).min(n - 1)),
    };
    let hops: Vec<Hop> = by_ttl
        .into_iter()
        .take(last + 1)
        .enumerate()
        .map(|(i, h)| {
            h.unwrap_or(Hop {
                ttl: plan.minttl + i as u8,
                addr: None,
                rtt: None,
                kind: "",
                what: "no answer".into(),
                reply: None,
            })
        })
        .collect();
    let (reached, end) = match end_at.and_then(|i| hops.get(i)) {
        Some(h) => (true, h.what.clone()),
        None => (false, "no answer".to_string()),
    };
    Ok(Trace {
        plan,
        hops,
        reached,
        end,
    })
}

fn classify_ends(kind: &str) -> bool {
    kind != "time-exceeded"
}

impl Trace {
    /// The table `print(t)` and `tcpcraft trace` show.
    pub fn table(&self) -> String {
        let p = &self.plan;
        let port = match p.proto {
            Proto::Icmp => String::new(),
            _ => format!(" port {}", p.dport),
        };
        let mut s = format!(
            "traceroute to {}{} ({}), TTL {} to {}\n{:>4}  {:<24} {:>11}  {}\n",
            p.target,
            port,
            p.proto.name(),
            p.minttl,
            p.maxttl,
            "hop",
            "address",
            "rtt",
            "answer"
        );
        for h in &self.hops {
            match (h.addr, h.rtt) {
                (Some(a), Some(r)) => s.push_str(&format!(
                    "{:>4}  {:<24} {:>11}  {}\n",
                    h.ttl,
                    a.to_string(),
                    format!("{:.3} ms", r * 1000.0),
                    h.what
                )),
                _ => s.push_str(&format!("{:>4}  *\n", h.ttl)),
            }
        }
        if self.reached {
            s.push_str(&format!("ended by: {}\n", self.end));
        } else {
            let from = self.hops.last().map_or(p.minttl, |h| h.ttl);
            s.push_str(&format!(
                "ended by: no answer from TTL {from} on (to {}): filtered, or too far\n",
                p.maxttl
            ));
        }
        s
    }

    /// `tcpcraft trace --json`: one object.
    pub fn json(&self) -> serde_json::Value {
        let hops: Vec<serde_json::Value> = self
            .hops
            .iter()
            .map(|h| {
                serde_json::json!({
                    "ttl": h.ttl,
                    "addr": h.addr.map(|a| a.to_string()),
                    "rtt_ms": h.rtt.map(|r| (r * 1e6).round() / 1e3),
                    "kind": if h.kind.is_empty() { None } else { Some(h.kind) },
                    "answer": h.what,
                })
            })
            .collect();
        serde_json::json!({
            "target": self.plan.target.to_string(),
            "proto": self.plan.proto.name(),
            "dport": self.plan.dport,
            "minttl": self.plan.minttl,
            "maxttl": self.plan.maxttl,
            "reached": self.reached,
            "end": self.end,
            "hops": hops,
        })
    }

    fn hop_values(&self) -> Vec<Value> {
        self.hops
            .iter()
            .map(|h| {
                Value::dict(vec![
                    ("ttl", Value::Int(i64::from(h.ttl))),
                    (
                        "addr",
                        h.addr.map_or(Value::None, |a| Value::str(&a.to_string())),
                    ),
                    ("rtt", h.rtt.map_or(Value::None, Value::Float)),
                    (
                        "kind",
                        if h.kind.is_empty() {
                            Value::None
                        } else {
                            Value::str(h.kind)
                        },
                    ),
                    ("answer", Value::str(&h.what)),
                    ("reply", h.reply.clone().map_or(Value::None, Value::packet)),
                ])
            })
            .collect()
    }
}

/// The language's value of a trace.
#[derive(Debug)]
struct TraceValue(Trace);

impl Object for TraceValue {
    fn type_name(&self) -> &'static str {
        "trace"
    }
    fn display(&self) -> String {
        self.0.table().trim_end().to_string()
    }
    fn get(&self, _: &mut Interp, name: &str) -> Option<Result<Value>> {
        let t = &self.0;
        Some(Ok(match name {
            "hops" => Value::list(t.hop_values()),
            "target" => Value::str(&t.plan.target.to_string()),
            "reached" => Value::Bool(t.reached),
            "end" => Value::str(&t.end),
            "proto" => Value::str(t.plan.proto.name()),
            "dport" => Value::Int(i64::from(t.plan.dport)),
            _ => return None,
        }))
    }
    fn call(&self, _: &mut Interp, method: &str, a: &mut Args) -> Option<Result<Value>> {
        match method {
            "json" => Some(a.finish(0).map(|()| Value::str(&self.0.json().to_string()))),
            "show" | "table" => Some(a.finish(0).map(|()| Value::str(&self.0.table()))),
            _ => None,
        }
    }
    fn names(&self) -> Vec<&'static str> {
        vec![
            "hops", "target", "reached", "end", "proto", "dport", "json", "table",
        ]
    }
    fn items(&self) -> Option<Vec<Value>> {
        Some(self.0.hop_values())
    }
}

/// An address, or a host name's first address (IPv4 preferred).
fn resolve(host: &str) -> std::result::Result<IpAddr, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(a) = bare.parse() {
        return Ok(a);
    }
    use std::net::ToSocketAddrs;
    let all: Vec<IpAddr> = (bare, 0)
        .to_socket_addrs()
        .map_err(|e| format!("traceroute(): cannot resolve {host:?}: {e}"))?
        .map(|a| a.ip())
        .collect();
    all.iter()
        .find(|a| a.is_ipv4())
        .or(all.first())
        .copied()
        .ok_or_else(|| format!("traceroute(): {host:?} has no address"))
}

fn ttl_arg(a: &mut Args, name: &str, default: u8) -> Result<u8> {
    match a.int(usize::MAX, name)? {
        None => Ok(default),
        Some(n) if (1..=255).contains(&n) => Ok(n as u8),
        Some(n) => Err(a.err(format!("traceroute(): {name} must be 1..=255, not {n}"))),
    }
}

pub fn install(it: &mut Interp) {
    it.register(
        "traceroute",
        "traceroute(target, dport=80, proto=\"tcp\"|\"udp\"|\"icmp\", minttl=1, maxttl=30, timeout=2, sport=random): one probe per TTL, sent together; t[i].ttl/.addr/.rtt/.answer, t.end, t.json()",
        traceroute,
    );
}

fn traceroute(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let target = a.require(0, "target")?;
    let proto_s = a.string(usize::MAX, "proto")?;
    let dport = a.int(1, "dport")?;
    let minttl = ttl_arg(a, "minttl", 1)?;
    let maxttl = ttl_arg(a, "maxttl", 30)?;
    let timeout = a.float(usize::MAX, "timeout")?.unwrap_or(2.0);
    let sport = a.int(usize::MAX, "sport")?;
    a.finish(2)?;
    let target = match &target {
        Value::Str(s) => resolve(s).map_err(|e| a.err(e))?,
        other => {
            return Err(a.err(format!(
                "traceroute(): target is an address or host name, not {}",
                other.type_name()
            )))
        }
    };
    let proto = match proto_s {
        None => Proto::Tcp,
        Some(s) => Proto::parse(&s).ok_or_else(|| {
            a.err(format!(
                "traceroute(): proto must be \"tcp\", \"udp\" or \"icmp\", not {s:?}"
            ))
        })?,
    };
    if minttl > maxttl {
        return Err(a.err(format!(
            "traceroute(): minttl {minttl} is above maxttl {maxttl}"
        )));
    }
    if !(0.0..=3600.0).contains(&timeout) {
        return Err(a.err("traceroute(): timeout must be 0..=3600 seconds"));
    }
    let dport = match dport {
        None => match proto {
            Proto::Udp => UDP_PORT,
            _ => 80,
        },
        Some(p) => u16::try_from(p)
            .map_err(|_| a.err(format!("traceroute(): dport must be 0..=65535, not {p}")))?,
    };
    let span = u16::from(maxttl - minttl);
    let sport = match sport {
        None => it.rng.range(1024, i64::from(u16::MAX - span)) as u16,
        Some(p) if (0..=i64::from(u16::MAX - span)).contains(&p) => p as u16,
        Some(p) => {
            return Err(a.err(format!(
                "traceroute(): sport {p}: the {} probes run past port 65535",
                span + 1
            )))
        }
    };
    let seq = it.rng.range(0, i64::from(u32::MAX)) as u32;
    let plan = Plan {
        target,
        proto,
        dport,
        minttl,
        maxttl,
        sport,
        seq,
    };
    let t = run(it, plan, timeout).map_err(|e| net_err(a.span, e))?;
    Ok(Value::Handle(Rc::new(TraceValue(t))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(proto: Proto, target: &str) -> Plan {
        Plan {
            target: target.parse().unwrap(),
            proto,
            dport: 80,
            minttl: 2,
            maxttl: 4,
            sport: 40000,
            seq: 100,
        }
    }

    #[test]
    fn one_probe_per_ttl_each_told_apart() {
        let p = plan(Proto::Tcp, "198.18.3.2").probes();
        assert_eq!(p.len(), 3);
        let ttls: Vec<u8> = p.iter().map(|x| x.ipv4().unwrap().ttl).collect();
        assert_eq!(ttls, [2, 3, 4]);
        let sports: Vec<u16> = p.iter().map(|x| x.tcp().unwrap().sport).collect();
        assert_eq!(sports, [40000, 40001, 40002]);
        let seqs: Vec<u32> = p.iter().map(|x| x.tcp().unwrap().seq).collect();
        assert_eq!(seqs, [102, 103, 104]);
        let p = plan(Proto::Icmp, "2001:db8:198:18::3:2").probes();
        assert_eq!(p[0].ipv6().unwrap().hlim, 2);
        assert_eq!(
            (p[0].icmpv6().unwrap().id, p[2].icmpv6().unwrap().seq),
            (40000, 4)
        );
        let p = plan(Proto::Udp, "198.18.3.2").probes();
        assert_eq!(p[1].udp().unwrap().sport, 40001);
    }

    fn parsed(hex_bytes: &[u8]) -> Packet {
        Packet::parse(hex_bytes, crate::packet::LinkType::RawIp).0
    }

    #[test]
    fn answers_in_words() {
        let probe = plan(Proto::Tcp, "198.18.3.2").probes().remove(0);
        let quote = probe.to_bytes();
        let icmp = |ty: u8, code: u8| {
            let mut p = Packet::new(vec![
                Layer::Ipv4(Ipv4Repr {
                    src: Some("198.18.1.2".parse().unwrap()),
                    dst: "198.18.1.1".parse().unwrap(),
                    ..Ipv4Repr::default()
                }),
                Layer::Icmp(IcmpRepr {
                    r#type: ty,
                    code,
                    chksum: None,
                    id: 0,
                    seq: 0,
                }),
            ]);
            p.layers.push(Layer::Raw(quote.clone()));
            parsed(&p.to_bytes())
        };
        assert_eq!(classify(&icmp(11, 0), 80).0, "time-exceeded");
        let (k, w, end) = classify(&icmp(3, 3), 80);
        assert_eq!(
            (k, w.as_str(), end),
            ("unreachable", "ICMP port unreachable (code 3)", true)
        );
        assert_eq!(
            classify(&icmp(3, 13), 80).1,
            "ICMP administratively prohibited (code 13)"
        );
        let reply = |flags: u16| {
            Packet::new(vec![
                Layer::Ipv4(Ipv4Repr::default()),
                Layer::Tcp(TcpRepr {
                    flags: TcpFlags(flags),
                    ..TcpRepr::default()
                }),
            ])
        };
        assert_eq!(
            classify(&reply(TcpFlags::SYN | TcpFlags::ACK), 80).1,
            "SYN-ACK: port 80 open"
        );
        assert_eq!(
            classify(&reply(TcpFlags::RST | TcpFlags::ACK), 22).1,
            "RST: port 22 closed"
        );
    }
}
