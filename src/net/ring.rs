//! A TPACKET_V3 receive ring: an AF_PACKET datagram socket (packets start at the IP
//! header) whose packets the kernel writes into memory shared with us, in blocks handed
//! over whole — no system call and no copy per packet, which is what lets one capture
//! thread keep up with hundreds of thousands of replies a second. Armed with a classic
//! BPF filter before it is bound; our own outgoing packets are never queued
//! (PACKET_IGNORE_OUTGOING, so the kernel does not even clone them). Drop counters come
//! from PACKET_STATISTICS.
//!
//! Everything read from the ring is bounds-checked against the block it is in, so a
//! confused kernel header can end a block early but never make us read outside the map.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::sys::{self, SockFilter, ETH_P_ALL};

const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
/// Where a tpacket3_hdr's sockaddr_ll starts (TPACKET_ALIGN(sizeof tpacket3_hdr)).
const SLL_AT: usize = 48;

#[repr(C)]
#[derive(Clone, Copy)]
struct TpacketReq3 {
    block_size: u32,
    block_nr: u32,
    frame_size: u32,
    frame_nr: u32,
    retire_blk_tov: u32,
    sizeof_priv: u32,
    feature_req_word: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct TpacketStatsV3 {
    packets: u32,
    drops: u32,
    freeze_q_cnt: u32,
}

/// One received packet, borrowed from the ring.
pub struct RingPacket<'a> {
    /// The IP packet (no link-layer header).
    pub data: &'a [u8],
    /// PACKET_HOST, PACKET_OUTGOING, …
    pub pkttype: u8,
    /// Kernel receive time, CLOCK_REALTIME.
    pub time: Duration,
}

/// The mapped ring. The map is owned here and unmapped on drop.
pub struct Ring {
    fd: OwnedFd,
    map: *mut u8,
    map_len: usize,
    block_size: usize,
    block_nr: usize,
    cur: usize,
}

// reason: the raw pointer is a private mmap of this socket, used only through &mut self.
unsafe impl Send for Ring {}

impl Ring {
    /// Open a ring of `block_nr` blocks of `block_size` bytes (a power of two, at least
    /// a page) on `ifindex` (0 = every interface) with `filter`. A block is handed over
    /// when full or after `retire` of quiet, so a lone reply waits at most that long.
    pub fn open(
        ifindex: u32,
        filter: &[SockFilter],
        block_size: usize,
        block_nr: usize,
        retire: Duration,
    ) -> io::Result<Ring> {
        let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidInput, m.to_string());
        if !block_size.is_power_of_two() || block_size < 4096 || block_nr == 0 {
            return Err(bad(
                "ring blocks must be a power of two of at least 4096 bytes",
            ));
        }
        let total = block_size
            .checked_mul(block_nr)
            .filter(|t| *t <= 1 << 30)
            .ok_or_else(|| bad("ring too large"))?;
        // Protocol 0: nothing is queued until bind(), which comes after the filter.
        let fd = sys::socket(libc::AF_PACKET, libc::SOCK_DGRAM, 0)?;
        sys::attach_filter(&fd, filter)?;
        let one: libc::c_int = 1;
        // Older kernels lack it: outgoing copies are then skipped by pkttype below.
        let _ = sys::setsockopt(&fd, libc::SOL_PACKET, PACKET_IGNORE_OUTGOING, &one);
        let v3: libc::c_int = sys::TPACKET_V3;
        sys::setsockopt(&fd, libc::SOL_PACKET, sys::PACKET_VERSION, &v3)?;
        let frame_size = 2048u32;
        let req = TpacketReq3 {
            block_size: block_size as u32,
            block_nr: block_nr as u32,
            frame_size,
            frame_nr: (total / frame_size as usize) as u32,
            retire_blk_tov: retire.as_millis().clamp(1, 1000) as u32,
            sizeof_priv: 0,
            feature_req_word: 0,
        };
        sys::setsockopt(&fd, libc::SOL_PACKET, sys::PACKET_RX_RING, &req)?;
        // SAFETY: a fresh shared mapping of the ring the kernel just allocated for fd;
        // its length is exactly what we asked for.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        sys::bind_packet(&fd, ifindex, ETH_P_ALL)?;
        Ok(Ring {
            fd,
            map: map.cast(),
            map_len: total,
            block_size,
            block_nr,
            cur: 0,
        })
    }

    /// The current block's status word, shared with the kernel.
    fn status(&self) -> &AtomicU32 {
        // SAFETY: offset 8 of a block (tpacket_hdr_v1.block_status) is inside the map and
        // 4-byte aligned (blocks are page aligned); the kernel writes it, so it is read
        // atomically.
        unsafe {
            &*(self
                .map
                .add(self.cur * self.block_size + 8)
                .cast::<AtomicU32>())
        }
    }

    /// The current block as bytes. Only called while the block belongs to us.
    fn block(&self) -> &[u8] {
        // SAFETY: the block lies inside the map; while its status is TP_STATUS_USER the
        // kernel does not write to it.
        unsafe {
            std::slice::from_raw_parts(self.map.add(self.cur * self.block_size), self.block_size)
        }
    }

    /// Wait up to `timeout` for a block, then call `f` for each packet in it (outgoing
    /// copies skipped) and hand the block back. Returns how many packets were seen.
    pub fn next_block(
        &mut self,
        timeout: Duration,
        mut f: impl FnMut(RingPacket<'_>),
    ) -> io::Result<usize> {
        if self.status().load(Ordering::Acquire) & TP_STATUS_USER == 0 {
            sys::poll_in(self.fd.as_raw_fd(), timeout)?;
            if self.status().load(Ordering::Acquire) & TP_STATUS_USER == 0 {
                return Ok(0);
            }
        }
        let b = self.block();
        let rd = |at: usize| -> Option<u32> {
            b.get(at..at + 4)
                .map(|s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
        };
        let num = rd(12).unwrap_or(0) as usize;
        let mut at = rd(16).unwrap_or(0) as usize;
        let mut seen = 0;
        for _ in 0..num {
            let Some(h) = b.get(at..) else { break };
            let (Some(next), Some(sec), Some(nsec), Some(snap)) =
                (rd(at), rd(at + 4), rd(at + 8), rd(at + 12))
            else {
                break;
            };
            let net = h
                .get(26..28)
                .map(|s| usize::from(u16::from_ne_bytes([s[0], s[1]])));
            let pkttype = h.get(SLL_AT + 10).copied().unwrap_or(0);
            if let Some(data) = net.and_then(|n| h.get(n..n + snap as usize)) {
                seen += 1;
                if pkttype != sys::PACKET_OUTGOING {
                    f(RingPacket {
                        data,
                        pkttype,
                        time: Duration::new(u64::from(sec), nsec.min(999_999_999)),
                    });
                }
            }
            if next == 0 {
                break;
            }
            at += next as usize;
        }
        self.status().store(TP_STATUS_KERNEL, Ordering::Release);
        self.cur = (self.cur + 1) % self.block_nr;
        Ok(seen)
    }

    /// Packets the kernel dropped for want of ring space since the last call.
    pub fn drops(&self) -> u64 {
        sys::getsockopt(
            &self.fd,
            libc::SOL_PACKET,
            sys::PACKET_STATISTICS,
            TpacketStatsV3 {
                packets: 0,
                drops: 0,
                freeze_q_cnt: 0,
            },
        )
        .map(|s| u64::from(s.drops))
        .unwrap_or(0)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: map/map_len are exactly the mapping made in open(); nothing borrows it
        // any more (packets borrow &self only inside next_block).
        unsafe {
            libc::munmap(self.map.cast(), self.map_len);
        }
    }
}
