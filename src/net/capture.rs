//! Capture: an AF_PACKET datagram socket (packets start at the IP header on every link
//! type) armed with a classic BPF filter before it is bound, so that no packet slips in
//! unfiltered and none is missed between arming and the first probe. Our own outgoing
//! copies (PACKET_OUTGOING, which loopback shows too) are skipped. (`sniff`, which keeps
//! them, uses a ring: [`super::sniff`].)

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use super::sys::{self, SockFilter, ETH_P_ALL, PACKET_OUTGOING};

/// One captured packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The IP packet (the link-layer header is not part of it).
    pub data: Vec<u8>,
    /// Wall-clock receive time from the kernel (CLOCK_REALTIME since the epoch).
    pub time: Duration,
    /// The same instant on CLOCK_MONOTONIC (the kernel stamp moved by the offset between
    /// the clocks read right now), for round-trip times that a clock step cannot break.
    pub mono: Duration,
    pub ifindex: u32,
    /// PACKET_HOST, PACKET_OUTGOING … (sockaddr_ll's packet type).
    pub pkttype: u8,
    /// The interface's hardware type (ARPHRD_*).
    pub hatype: u16,
    /// The link-layer source address (`halen` bytes of 8).
    pub addr: [u8; 8],
    pub halen: u8,
    /// The frame's protocol (ethertype: 0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP …).
    pub protocol: u16,
    /// The VLAN tag (TPID, TCI) the kernel took off the frame (ring captures only).
    pub vlan: Option<(u16, u16)>,
}

/// A kernel receive stamp (CLOCK_REALTIME) on CLOCK_MONOTONIC: moved by the offset
/// between the two clocks read just now (`clocks`: [`sys::clocks`], real and monotonic).
pub(super) fn monotonic(time: Duration, clocks: (Duration, Duration)) -> Duration {
    let (real_now, mono_now) = clocks;
    mono_now.saturating_sub(real_now.saturating_sub(time))
}

/// A filtered capture socket.
pub struct Capture {
    fd: OwnedFd,
    buf: Vec<u8>,
}

impl Capture {
    /// Open and arm a capture on `ifindex` (0 = every interface) with `filter`, and a
    /// receive buffer of `rcvbuf` bytes (forced past rmem_max, as root may).
    pub fn open(ifindex: u32, filter: &[SockFilter], rcvbuf: usize) -> io::Result<Capture> {
        // Protocol 0: nothing is queued until bind(), which comes after the filter.
        let fd = sys::socket(libc::AF_PACKET, libc::SOCK_DGRAM, 0)?;
        sys::attach_filter(&fd, filter)?;
        let size = rcvbuf.min(i32::MAX as usize) as libc::c_int;
        if sys::setsockopt(&fd, libc::SOL_SOCKET, sys::SO_RCVBUFFORCE, &size).is_err() {
            sys::setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &size)?;
        }
        let one: libc::c_int = 1;
        sys::setsockopt(&fd, libc::SOL_SOCKET, sys::SO_TIMESTAMPNS, &one)?;
        sys::bind_packet(&fd, ifindex, ETH_P_ALL)?;
        Ok(Capture {
            fd,
            buf: vec![0u8; 65536 + 4096],
        })
    }

    /// Replace the filter. Cheap (no socket re-bind, which costs an RCU grace period of
    /// ~10 ms in the kernel), so one socket serves many `sr` calls.
    pub fn set_filter(&mut self, filter: &[SockFilter]) -> io::Result<()> {
        sys::attach_filter(&self.fd, filter)
    }

    /// Throw away everything queued (packets accepted by an earlier filter).
    pub fn drain(&mut self) -> io::Result<usize> {
        let mut n = 0;
        while sys::recv_packet(&self.fd, &mut self.buf)?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    /// The next packet already queued, without waiting.
    pub fn try_next(&mut self) -> io::Result<Option<Frame>> {
        loop {
            let Some(r) = sys::recv_packet(&self.fd, &mut self.buf)? else {
                return Ok(None);
            };
            if r.pkttype == PACKET_OUTGOING {
                continue;
            }
            let clocks = sys::clocks();
            let time = r.stamp.unwrap_or(clocks.0);
            let mono = monotonic(time, clocks);
            let data = self.buf.get(..r.len).unwrap_or_default().to_vec();
            return Ok(Some(Frame {
                data,
                time,
                mono,
                ifindex: r.ifindex,
                pkttype: r.pkttype,
                hatype: r.hatype,
                addr: r.addr,
                halen: r.halen,
                protocol: r.protocol,
                vlan: None,
            }));
        }
    }

    /// The next packet, waiting at most `timeout` (less only when a signal interrupts
    /// the wait). A wake-up for a packet that is then skipped (one of this host's own,
    /// outgoing) goes back to waiting for the rest of the time.
    pub fn next(&mut self, timeout: Duration) -> io::Result<Option<Frame>> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(f) = self.try_next()? {
                return Ok(Some(f));
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() || !sys::poll_in(self.fd.as_raw_fd(), left)? {
                return Ok(None);
            }
        }
    }

    /// Packets the kernel dropped because the buffer was full, since the last call.
    pub fn drops(&self) -> u32 {
        #[derive(Clone, Copy)]
        #[repr(C)]
        struct Stats {
            packets: u32,
            drops: u32,
        }
        sys::getsockopt(
            &self.fd,
            libc::SOL_PACKET,
            sys::PACKET_STATISTICS,
            Stats {
                packets: 0,
                drops: 0,
            },
        )
        .map(|s| s.drops)
        .unwrap_or(0)
    }
}
