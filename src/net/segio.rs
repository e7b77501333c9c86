//! The sockets' face for sessions: the [`SegmentIo`] transport a session drives, and
//! its raw-socket implementation [`RawIo`]. Segments leave through the process's shared raw IP
//! sockets (marked, so the RST guard lets our own RSTs pass) and arrive through the
//! shared background receiver (`net::segrx`), which hands each one to its session the
//! moment it arrives. Opening a session costs no socket of its own.
//!
//! With `--pcap`, every segment sent and every received segment the session takes as
//! its own goes into the file the engine writes too (one shared writer), with the
//! wall-clock time it left and the kernel's receive time, flushed at once so that the
//! file is whole whatever ends tcpcraft.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::net::segrx::{self, Subscriber, Subscription, Tx};
use crate::net::sys;
use crate::packet::{Layer, LinkType, Packet};
use crate::pcap::SharedWriter;

/// Why the transport failed (no permission, no route, a socket error), in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportError(pub String);

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The transport under a session: sends whole packets; received packets either come
/// from a background receiver ([`SegmentIo::subscribe`], the raw-socket transport) or
/// are pulled with [`SegmentIo::recv`] (an in-memory transport in tests).
pub trait SegmentIo {
    /// Sends `pkt` as given (computed fields left `None` are filled in, and a `None`
    /// source address is chosen by the route). Returns the packet as it went out.
    fn send(&mut self, pkt: &Packet) -> Result<Packet, TransportError>;
    /// The next TCP packet addressed to the session's local port, with the time it
    /// arrived, or `None` when `timeout` passes first (a transport that pushes packets
    /// to its subscriber is never asked).
    fn recv(&mut self, timeout: Duration) -> Result<Option<(Packet, Instant)>, TransportError>;
    /// A live transport starts handing every TCP packet for `port` to `sub` the moment
    /// it arrives, until the subscription is dropped. `None`: this transport is pulled.
    fn subscribe(
        &mut self,
        _port: u16,
        _sub: Weak<dyn Subscriber>,
    ) -> Result<Option<Subscription>, TransportError> {
        Ok(None)
    }
}

/// Raw IP out, the shared background receiver in.
pub struct RawIo {
    tx: Arc<Tx>,
    /// A capture socket of its own, opened when the transport is pulled ([`RawIo::recv`],
    /// for tools and tests that read packets themselves) instead of subscribed.
    rx: Option<OwnedFd>,
    buf: Vec<u8>,
    /// Whether a session subscribed (then nothing is pulled).
    subscribed: bool,
    /// Where `--pcap` goes, if given.
    pcap: Option<SharedWriter>,
}

impl std::fmt::Debug for RawIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawIo")
    }
}

/// Raw sockets need CAP_NET_RAW: say how to get it.
fn open_error(what: &str, e: io::Error) -> TransportError {
    if e.kind() == io::ErrorKind::PermissionDenied {
        // The one wording the engine uses too: names CAP_NET_RAW and the fix.
        TransportError(crate::net::engine::permission_message())
    } else {
        TransportError(format!("{what}: {e}"))
    }
}

impl RawIo {
    /// The shared send sockets (opened on first use). `_iface` is kept for callers
    /// that name one: the receiver listens on every interface.
    pub fn new(_iface: Option<&str>) -> Result<RawIo, TransportError> {
        let tx = segrx::tx().map_err(|e| open_error("raw socket", e))?;
        Ok(RawIo {
            tx,
            rx: None,
            buf: Vec::new(),
            subscribed: false,
            pcap: None,
        })
    }

    /// Records the session's segments in `pcap` (the shared `--pcap` writer).
    pub fn with_pcap(mut self, pcap: Option<SharedWriter>) -> RawIo {
        self.pcap = pcap;
        self
    }
}

impl RawIo {
    fn open_rx(&mut self) -> Result<(), TransportError> {
        if self.rx.is_none() {
            self.rx = Some(segrx::capture_socket().map_err(|e| open_error("capture socket", e))?);
            self.buf = vec![0; 65536];
        }
        Ok(())
    }
}

impl SegmentIo for RawIo {
    fn send(&mut self, pkt: &Packet) -> Result<Packet, TransportError> {
        let mut p = pkt.clone();
        let Some((src, dst)) = p.addrs() else {
            return Err(TransportError(
                "only IPv4 and IPv6 packets can be sent".into(),
            ));
        };
        if src.is_none() {
            // The checksum covers the source address: take the route's now.
            let chosen = sys::udp_source_for(dst, None)
                .map_err(|e| TransportError(format!("no route to {dst}: {e}")))?;
            for l in &mut p.layers {
                match (l, chosen) {
                    (Layer::Ipv4(ip), IpAddr::V4(a)) => ip.src = Some(a),
                    (Layer::Ipv6(ip), IpAddr::V6(a)) => ip.src = Some(a),
                    _ => {}
                }
            }
        }
        if !self.subscribed {
            // Pulled: the capture must be open before the answer can come.
            self.open_rx()?;
        }
        let bytes = p.to_bytes();
        let time = sys::clocks().0;
        self.tx
            .send(&bytes, dst)
            .map_err(|e| TransportError(format!("sending to {dst}: {e}")))?;
        if let Some(w) = &self.pcap {
            // A failing write must not stop the session (the engine reports pcap
            // errors when it flushes).
            let _ = w.write_now(time, &bytes);
        }
        Ok(p.filled())
    }

    fn recv(&mut self, timeout: Duration) -> Result<Option<(Packet, Instant)>, TransportError> {
        self.open_rx()?;
        let Some(rx) = &self.rx else {
            return Ok(None);
        };
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ready = sys::poll_in(rx.as_raw_fd(), left)
                .map_err(|e| TransportError(format!("capture: {e}")))?;
            if !ready {
                return Ok(None);
            }
            let Some((len, _)) = segrx::recv_arriving(rx, &mut self.buf)
                .map_err(|e| TransportError(format!("capture: {e}")))?
            else {
                continue;
            };
            let Some(bytes) = self.buf.get(..len) else {
                continue;
            };
            let (p, _) = Packet::parse(bytes, LinkType::RawIp);
            if p.tcp().is_some() {
                return Ok(Some((p, Instant::now())));
            }
        }
    }

    fn subscribe(
        &mut self,
        port: u16,
        sub: Weak<dyn Subscriber>,
    ) -> Result<Option<Subscription>, TransportError> {
        self.subscribed = true;
        self.rx = None;
        segrx::subscribe(port, sub, self.pcap.clone())
            .map(Some)
            .map_err(|e| open_error("capture socket", e))
    }
}
