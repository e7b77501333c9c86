//! A minimal [`SegmentIo`] over the engine's safe syscall wrappers (`net::sys`):
//! IP packets leave through IPPROTO_RAW sockets (marked, so the RST guard lets our
//! own RSTs pass) and come back through an AF_PACKET socket, from which only packets
//! arriving at this host are taken (loopback shows every packet twice).
//!
//! It is what `tcpcraft handshake` uses until the engine offers a session transport
//! of its own; it has no unsafe code.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use super::{SegmentIo, SessionError};
use crate::net::guard::mark_socket;
use crate::net::sys;
use crate::packet::{Layer, LinkType, Packet};

/// Raw IP out, AF_PACKET in.
pub struct RawIo {
    tx4: OwnedFd,
    tx6: OwnedFd,
    rx: OwnedFd,
    buf: Vec<u8>,
}

impl std::fmt::Debug for RawIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawIo")
    }
}

/// Raw sockets need CAP_NET_RAW: say how to get it.
fn open_error(what: &str, e: io::Error) -> SessionError {
    if e.kind() == io::ErrorKind::PermissionDenied {
        SessionError::Io(format!(
            "{what}: permission denied: run as root, or give the binary the capabilities \
             (sudo setcap cap_net_raw,cap_net_admin+ep $(which tcpcraft))"
        ))
    } else {
        SessionError::Io(format!("{what}: {e}"))
    }
}

impl RawIo {
    /// Opens the sockets; captures on `iface` (all interfaces when `None`).
    pub fn new(iface: Option<&str>) -> Result<RawIo, SessionError> {
        let raw = |domain| {
            let fd = sys::socket(domain, libc::SOCK_RAW, libc::IPPROTO_RAW)
                .map_err(|e| open_error("raw socket", e))?;
            mark_socket(fd.as_raw_fd()).map_err(|e| open_error("marking the raw socket", e))?;
            Ok::<OwnedFd, SessionError>(fd)
        };
        let tx4 = raw(libc::AF_INET)?;
        let tx6 = raw(libc::AF_INET6)?;
        let all = libc::ETH_P_ALL as u16;
        let rx = sys::socket(libc::AF_PACKET, libc::SOCK_DGRAM, i32::from(all.to_be()))
            .map_err(|e| open_error("capture socket", e))?;
        let ifindex = match iface {
            Some(name) => sys::if_nametoindex(name)
                .ok_or_else(|| SessionError::Io(format!("no interface {name:?}")))?,
            None => 0,
        };
        sys::bind_packet(&rx, ifindex, all).map_err(|e| open_error("capture socket", e))?;
        Ok(RawIo {
            tx4,
            tx6,
            rx,
            buf: vec![0; 65536],
        })
    }
}

impl SegmentIo for RawIo {
    fn send(&mut self, pkt: &Packet) -> Result<Packet, SessionError> {
        let mut p = pkt.clone();
        let Some((src, dst)) = p.addrs() else {
            return Err(SessionError::Io(
                "only IPv4 and IPv6 packets can be sent".into(),
            ));
        };
        if src.is_none() {
            // The checksum covers the source address: take the route's now.
            let chosen = sys::udp_source_for(dst, None)
                .map_err(|e| SessionError::Io(format!("no route to {dst}: {e}")))?;
            for l in &mut p.layers {
                match (l, chosen) {
                    (Layer::Ipv4(ip), IpAddr::V4(a)) => ip.src = Some(a),
                    (Layer::Ipv6(ip), IpAddr::V6(a)) => ip.src = Some(a),
                    _ => {}
                }
            }
        }
        let bytes = p.to_bytes();
        let fd = if dst.is_ipv4() { &self.tx4 } else { &self.tx6 };
        sys::sendto(fd, &bytes, &sys::RawSockAddr::from_ip(dst, 0, 0))
            .map_err(|e| SessionError::Io(format!("sending to {dst}: {e}")))?;
        Ok(p.filled())
    }

    fn recv(&mut self, timeout: Duration) -> Result<Option<(Packet, Instant)>, SessionError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ready = sys::poll_in(self.rx.as_raw_fd(), left)
                .map_err(|e| SessionError::Io(format!("capture: {e}")))?;
            if !ready {
                return Ok(None);
            }
            let Some(got) = sys::recv_packet(&self.rx, &mut self.buf)
                .map_err(|e| SessionError::Io(format!("capture: {e}")))?
            else {
                continue;
            };
            if got.pkttype == libc::PACKET_OUTGOING {
                continue;
            }
            let Some(bytes) = self.buf.get(..got.len) else {
                continue;
            };
            let (p, _) = Packet::parse(bytes, LinkType::RawIp);
            if p.tcp().is_some() {
                return Ok(Some((p, Instant::now())));
            }
        }
    }
}
