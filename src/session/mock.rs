//! An in-memory [`SegmentIo`]: a scripted peer answers what the session sends, so
//! sessions (and the language's `session()`/`listen()`) can be tested without a
//! network. Nothing here touches a socket.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{SegmentIo, TransportError};
use crate::packet::{Ipv4Repr, Ipv6Repr, Layer, Packet, TcpFlags, TcpOption, TcpRepr};

/// What the scripted peer does with each packet the session sends: the packets it
/// answers with (queued for `recv`).
pub type Script = Box<dyn FnMut(&Packet) -> Vec<Packet>>;

/// The shared insides of a [`MockIo`], also held by its [`MockHandle`].
#[derive(Default)]
struct Wire {
    /// Packets waiting to be received.
    inbound: VecDeque<Packet>,
    /// Packets the session sent, as sent.
    sent: Vec<Packet>,
}

/// A transport whose peer is a [`Script`]. `recv` never sleeps: an empty queue is a
/// timeout at once.
pub struct MockIo {
    wire: Rc<RefCell<Wire>>,
    script: Script,
    /// Our address, filled into packets sent without a source.
    local: IpAddr,
}

/// The test's side of a [`MockIo`]: injects packets and reads what was sent.
#[derive(Clone)]
pub struct MockHandle {
    wire: Rc<RefCell<Wire>>,
}

impl MockIo {
    /// A transport from `local` whose peer is `script`, and a handle to it.
    pub fn new(local: IpAddr, script: Script) -> (MockIo, MockHandle) {
        let wire = Rc::new(RefCell::new(Wire::default()));
        (
            MockIo {
                wire: wire.clone(),
                script,
                local,
            },
            MockHandle { wire },
        )
    }
}

impl MockHandle {
    /// Queues a packet for the session to receive (a client's SYN for `listen`).
    pub fn inject(&self, pkt: Packet) {
        self.wire.borrow_mut().inbound.push_back(pkt);
    }
    /// Every packet the session sent so far.
    pub fn sent(&self) -> Vec<Packet> {
        self.wire.borrow().sent.clone()
    }
}

impl SegmentIo for MockIo {
    fn send(&mut self, pkt: &Packet) -> Result<Packet, TransportError> {
        let mut p = pkt.clone();
        for l in &mut p.layers {
            match (l, self.local) {
                (Layer::Ipv4(ip), IpAddr::V4(a)) if ip.src.is_none() => ip.src = Some(a),
                (Layer::Ipv6(ip), IpAddr::V6(a)) if ip.src.is_none() => ip.src = Some(a),
                _ => {}
            }
        }
        let answers = (self.script)(&p);
        let mut w = self.wire.borrow_mut();
        w.sent.push(p.clone());
        w.inbound.extend(answers);
        Ok(p)
    }

    fn recv(&mut self, _timeout: Duration) -> Result<Option<(Packet, Instant)>, TransportError> {
        Ok(self
            .wire
            .borrow_mut()
            .inbound
            .pop_front()
            .map(|p| (p, Instant::now())))
    }
}

/// Where a dry run records what it would send: (wall-clock time, wire bytes).
pub type DryRecord = Box<dyn FnMut(Duration, &[u8])>;

/// Sends nothing and receives nothing: the transport of `--dry-run`. With `--pcap`,
/// what it would have sent is recorded, as `send()` does in a dry run.
#[derive(Default)]
pub struct DryIo {
    record: Option<DryRecord>,
}

impl std::fmt::Debug for DryIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DryIo")
            .field("recording", &self.record.is_some())
            .finish()
    }
}

impl DryIo {
    /// A dry run that hands every segment it would send to `record`.
    pub fn recording(record: Option<DryRecord>) -> DryIo {
        DryIo { record }
    }
}

impl SegmentIo for DryIo {
    fn send(&mut self, pkt: &Packet) -> Result<Packet, TransportError> {
        let p = pkt.filled();
        if let Some(r) = self.record.as_mut() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            r(now, &p.to_bytes());
        }
        Ok(p)
    }
    fn recv(&mut self, _timeout: Duration) -> Result<Option<(Packet, Instant)>, TransportError> {
        Ok(None)
    }
}

/// A TCP segment from `src:sport` to `dst:dport` (IPv4 or IPv6 by the addresses).
#[allow(clippy::too_many_arguments)] // mirrors the header fields one to one
pub fn segment(
    src: IpAddr,
    sport: u16,
    dst: IpAddr,
    dport: u16,
    flags: &str,
    seq: u32,
    ack: u32,
    data: &[u8],
) -> Packet {
    let ip = match (src, dst) {
        (IpAddr::V6(s), IpAddr::V6(d)) => Layer::Ipv6(Ipv6Repr {
            src: Some(s),
            dst: d,
            ..Ipv6Repr::default()
        }),
        (s, d) => Layer::Ipv4(Ipv4Repr {
            src: Some(v4(s)),
            dst: v4(d),
            ..Ipv4Repr::default()
        }),
    };
    let flags = TcpFlags::parse(flags).unwrap_or_default();
    let options = if flags.contains(TcpFlags::SYN) {
        vec![
            TcpOption::Mss(1460),
            TcpOption::SackOk,
            TcpOption::Nop,
            TcpOption::Wscale(7),
        ]
    } else {
        Vec::new()
    };
    let mut layers = vec![
        ip,
        Layer::Tcp(TcpRepr {
            sport,
            dport,
            seq,
            ack,
            flags,
            window: 502,
            options,
            ..TcpRepr::default()
        }),
    ];
    if !data.is_empty() {
        layers.push(Layer::Raw(data.to_vec()));
    }
    Packet::new(layers)
}

fn v4(a: IpAddr) -> Ipv4Addr {
    match a {
        IpAddr::V4(a) => a,
        IpAddr::V6(a) => a.to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED),
    }
}

/// The documentation addresses the mock uses: us and the peer.
pub const US4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
pub const PEER4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
pub const US6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 0, 1));
pub const PEER6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 0, 2));

/// A peer that behaves like a Linux server running an echo service on `port`:
/// answers a SYN with a SYN-ACK (ISN `isn`), acknowledges and echoes data, answers a
/// FIN with an ACK and then its own FIN, ignores a RST, and answers a segment to any
/// other port with a RST (a closed port).
pub fn echo_server(port: u16, isn: u32) -> Script {
    server(port, isn, false)
}

/// Like [`echo_server`], but the server closes right after its answer (FIN with the
/// data's ACK), as an HTTP/1.0 server does.
pub fn closing_server(port: u16, isn: u32) -> Script {
    server(port, isn, true)
}

fn server(port: u16, isn: u32, close_after_answer: bool) -> Script {
    let mut rcv_nxt = 0u32;
    let mut snd_nxt = isn;
    let mut fin_sent = false;
    Box::new(move |p: &Packet| {
        let (Some(tcp), Some((Some(src), dst))) = (p.tcp(), p.addrs()) else {
            return Vec::new();
        };
        let reply = |flags: &str, seq: u32, ack: u32, data: &[u8]| {
            segment(dst, tcp.dport, src, tcp.sport, flags, seq, ack, data)
        };
        let f = tcp.flags;
        if f.contains(TcpFlags::RST) {
            return Vec::new();
        }
        if tcp.dport != port {
            return vec![reply("RA", 0, tcp.seq.wrapping_add(1), b"")];
        }
        if f.contains(TcpFlags::SYN) {
            rcv_nxt = tcp.seq.wrapping_add(1);
            snd_nxt = isn.wrapping_add(1);
            return vec![reply("SA", isn, rcv_nxt, b"")];
        }
        let data = p.payload();
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let mut out = Vec::new();
        if !data.is_empty() && tcp.seq == rcv_nxt {
            rcv_nxt = rcv_nxt.wrapping_add(len);
            out.push(reply("PA", snd_nxt, rcv_nxt, data));
            snd_nxt = snd_nxt.wrapping_add(len);
            if close_after_answer && !fin_sent {
                out.push(reply("FA", snd_nxt, rcv_nxt, b""));
                snd_nxt = snd_nxt.wrapping_add(1);
                fin_sent = true;
            }
        }
        if f.contains(TcpFlags::FIN) && tcp.seq.wrapping_add(len) == rcv_nxt {
            rcv_nxt = rcv_nxt.wrapping_add(1);
            out.push(reply("A", snd_nxt, rcv_nxt, b""));
            if !fin_sent {
                out.push(reply("FA", snd_nxt, rcv_nxt, b""));
                snd_nxt = snd_nxt.wrapping_add(1);
                fin_sent = true;
            }
        }
        out
    })
}
