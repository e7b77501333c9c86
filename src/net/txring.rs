//! A TPACKET_V2 transmit ring for whole Ethernet frames: the scanner's fast sender.
//!
//! Frames are copied into a ring shared with the kernel and one `send(2)` with no
//! buffer hands over every frame queued since the last one. Compared with sendmmsg(2)
//! this saves the per-message work of the syscall (a message header, an iovec and an
//! address copied in per frame).
//!
//! The ring alone is slower on veth than sendmmsg: the kernel turns each frame's bytes
//! into a page fragment of the ring, and a packet crossing a network namespace must then
//! be copied again (skb_copy_ubufs, a page allocation per packet). So the socket also
//! takes a virtio-net header in front of each frame (PACKET_VNET_HDR) whose `hdr_len` is
//! the whole frame: the kernel copies that many bytes into the packet's own linear
//! buffer, and no page of the ring is referenced after the send. Measured on this
//! project's 2-core VM: 1.02–1.04 M frames/s on one core against 0.67–0.78 M/s with
//! sendmmsg (scripts/bench_ceiling.c, `ring` against `silent`).
//!
//! The frame is otherwise sent as written: no checksum offload is asked for.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::sys;

const PACKET_TX_RING: libc::c_int = 13;
const PACKET_VNET_HDR: libc::c_int = 15;
const TPACKET_V2: libc::c_int = 1;

const TP_STATUS_AVAILABLE: u32 = 0;
const TP_STATUS_SEND_REQUEST: u32 = 1;
const TP_STATUS_WRONG_FORMAT: u32 = 4;

/// Offsets in `struct tpacket2_hdr` (32 bytes: status, len, snaplen, mac, net, sec,
/// nsec, vlan tci and tpid, padding); the frame data starts right after it.
const HDR_STATUS: usize = 0;
const STATUS_LEN: usize = 4;
const HDR_LEN: usize = 4;
const DATA: usize = 32;
/// `struct virtio_net_hdr`: flags, gso_type, hdr_len, gso_size, csum_start,
/// csum_offset.
const VNET_HDR: usize = 10;
const VNET_HDR_LEN: usize = 2;

/// Bytes per ring slot for the scanner's probes: the headers and a frame of up to
/// `SMALL_FRAME_MAX` bytes.
pub const SMALL_SLOT: usize = 256;
/// The largest frame a ring of `SMALL_SLOT` slots takes.
pub const SMALL_FRAME_MAX: usize = SMALL_SLOT - DATA - VNET_HDR;
/// Bytes per slot for any frame of a 1,500-byte MTU (the engine's bulk sends).
pub const MTU_SLOT: usize = 2048;

/// Whether this kernel takes a virtio-net header with a transmit ring and honours its
/// `hdr_len` (Linux 4.8 and later). On an older kernel the header would be sent as
/// frame bytes, so the ring is not used there.
pub fn supported() -> bool {
    let mut u: libc::utsname = {
        #[allow(unsafe_code)] // reason: utsname is plain old data, valid when zeroed
        unsafe {
            std::mem::zeroed()
        }
    };
    #[allow(unsafe_code)] // reason: u is a live utsname for uname(2) to fill in
    if unsafe { libc::uname(&mut u) } != 0 {
        return false;
    }
    let release: String = u
        .release
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8 as char)
        .collect();
    kernel_at_least(&release, (4, 8))
}

/// "6.18.44-fc" ≥ (major, minor)?
fn kernel_at_least(release: &str, want: (u32, u32)) -> bool {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= want,
        _ => false,
    }
}

/// A transmit ring bound to one interface.
pub struct TxRing {
    fd: OwnedFd,
    map: *mut u8,
    len: usize,
    slots: usize,
    /// Bytes per slot.
    slot_size: usize,
    /// The next slot to fill.
    cur: usize,
}

// SAFETY of Send: the mapping is owned by this value alone and released in Drop.
#[allow(unsafe_code)] // reason: the raw map pointer is uniquely owned; moving it is fine
unsafe impl Send for TxRing {}

impl TxRing {
    /// Open a ring of `slots` slots of `slot_size` bytes (a power of two from 64 to
    /// 64 KiB; the ring is rounded up to whole 64 KiB blocks) on `ifindex`, bypassing
    /// the qdisc layer as the scanner's other packet sockets do.
    pub fn open(ifindex: u32, slots: usize, slot_size: usize) -> io::Result<TxRing> {
        if !slot_size.is_power_of_two() || !(64..=1 << 16).contains(&slot_size) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "transmit ring slots must be a power of two from 64 to 65536 bytes",
            ));
        }
        if !supported() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "transmit ring with virtio-net headers needs Linux 4.8",
            ));
        }
        let fd = sys::socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?;
        sys::setsockopt(&fd, libc::SOL_PACKET, sys::PACKET_VERSION, &TPACKET_V2)?;
        let one: libc::c_int = 1;
        // Before the ring: the kernel refuses to change it once a ring exists.
        sys::setsockopt(&fd, libc::SOL_PACKET, PACKET_VNET_HDR, &one)?;
        let _ = sys::setsockopt(&fd, libc::SOL_PACKET, sys::PACKET_QDISC_BYPASS, &one);
        let big: libc::c_int = 4 << 20;
        let _ = sys::setsockopt(&fd, libc::SOL_SOCKET, sys::SO_SNDBUFFORCE, &big);
        #[repr(C)]
        #[derive(Clone, Copy)]
        struct Req {
            block_size: u32,
            block_nr: u32,
            frame_size: u32,
            frame_nr: u32,
        }
        let block = 1usize << 16;
        let per_block = block / slot_size;
        let blocks = slots.div_ceil(per_block).clamp(1, 1024);
        let req = Req {
            block_size: block as u32,
            block_nr: blocks as u32,
            frame_size: slot_size as u32,
            frame_nr: (per_block * blocks) as u32,
        };
        sys::setsockopt(&fd, libc::SOL_PACKET, PACKET_TX_RING, &req)?;
        let len = block * blocks;
        let map = sys::mmap_shared(&fd, len, false)?;
        let ring = TxRing {
            fd,
            map,
            len,
            slots: per_block * blocks,
            slot_size,
            cur: 0,
        };
        // Protocol 0: the socket sends on this interface and receives nothing.
        sys::bind_packet(&ring.fd, ifindex, 0)?;
        Ok(ring)
    }

    /// The largest frame this ring takes.
    pub fn frame_max(&self) -> usize {
        self.slot_size - DATA - VNET_HDR
    }

    /// Slot `i` after its status word (which the kernel reads and writes concurrently,
    /// so it is only ever touched through [`status`](Self::status)): byte 0 here is
    /// byte 4 of the slot.
    fn slot(&mut self, i: usize) -> &mut [u8] {
        #[allow(unsafe_code)] // reason: i < slots, so these bytes lie inside our live
        // mapping, and they exclude the status word shared with the kernel
        unsafe {
            std::slice::from_raw_parts_mut(
                self.map.add(i * self.slot_size + STATUS_LEN),
                self.slot_size - STATUS_LEN,
            )
        }
    }

    fn status(&self, i: usize) -> &AtomicU32 {
        #[allow(unsafe_code)] // reason: inside the mapping, 4-byte aligned, shared with the
        // kernel (which reads and writes it concurrently): accessed only atomically
        unsafe {
            AtomicU32::from_ptr(self.map.add(i * self.slot_size + HDR_STATUS).cast())
        }
    }

    /// Ask the kernel to send what is queued, without waiting.
    fn kick(&self) -> io::Result<()> {
        #[allow(unsafe_code)] // reason: a send with no buffer: the ring holds the data
        let r = unsafe { libc::send(self.fd.as_raw_fd(), std::ptr::null(), 0, libc::MSG_DONTWAIT) };
        if r < 0 {
            let e = io::Error::last_os_error();
            // The socket's buffer is full: the frames stay queued for the next kick.
            if !matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::ENOBUFS)) {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Wait until slot `i` is free again (the kernel has sent its last frame).
    fn wait_free(&mut self, i: usize) -> io::Result<()> {
        let mut kicked = false;
        loop {
            match self.status(i).load(Ordering::Acquire) {
                TP_STATUS_AVAILABLE => return Ok(()),
                s if s & TP_STATUS_WRONG_FORMAT != 0 => {
                    self.status(i).store(TP_STATUS_AVAILABLE, Ordering::Release);
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the kernel refused a frame in the transmit ring",
                    ));
                }
                _ if !kicked => {
                    self.kick()?;
                    kicked = true;
                }
                _ => {
                    // Frames still on their way out (a NIC's completion interrupt, or a
                    // full socket buffer): let them drain.
                    sys::poll_out(self.fd.as_raw_fd(), Duration::from_millis(1))?;
                    kicked = false;
                }
            }
        }
    }

    /// Queue every frame (at most [`frame_max`](Self::frame_max) bytes each; a longer
    /// one is an error, and what came before it is sent) and hand them to the kernel.
    /// Returns how many were queued.
    pub fn send(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
        self.send_with_header(&[], frames)
    }

    /// As [`send`](Self::send), each frame being `header` followed by a packet (an
    /// Ethernet header before IP packets), put together in the ring itself.
    pub fn send_with_header(&mut self, header: &[u8], packets: &[&[u8]]) -> io::Result<usize> {
        for (k, p) in packets.iter().enumerate() {
            let len = header.len() + p.len();
            if len > self.frame_max() {
                if k > 0 {
                    self.kick()?;
                }
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "a {len}-byte frame does not fit the transmit ring's {}",
                        self.frame_max()
                    ),
                ));
            }
            let i = self.cur;
            self.wait_free(i)?;
            let slot = self.slot(i);
            let data = &mut slot[DATA - STATUS_LEN..];
            data[..VNET_HDR].fill(0);
            // hdr_len: the kernel copies this much of the frame into the packet itself.
            data[VNET_HDR_LEN..VNET_HDR_LEN + 2].copy_from_slice(&(len as u16).to_ne_bytes());
            let frame = &mut data[VNET_HDR..VNET_HDR + len];
            frame[..header.len()].copy_from_slice(header);
            frame[header.len()..].copy_from_slice(p);
            let tp_len = (VNET_HDR + len) as u32;
            slot[HDR_LEN - STATUS_LEN..HDR_LEN - STATUS_LEN + 4]
                .copy_from_slice(&tp_len.to_ne_bytes());
            self.status(i)
                .store(TP_STATUS_SEND_REQUEST, Ordering::Release);
            self.cur = (i + 1) % self.slots;
        }
        self.kick()?;
        Ok(packets.len())
    }

    /// Wait (up to `limit`) until the kernel has taken every queued frame.
    pub fn flush(&mut self, limit: Duration) -> io::Result<()> {
        let until = Instant::now() + limit;
        loop {
            self.kick()?;
            let queued = (0..self.slots)
                .any(|i| self.status(i).load(Ordering::Acquire) & TP_STATUS_SEND_REQUEST != 0);
            if !queued {
                return Ok(());
            }
            if Instant::now() >= until {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "frames still queued in the transmit ring",
                ));
            }
            sys::poll_out(self.fd.as_raw_fd(), Duration::from_millis(1))?;
        }
    }
}

impl Drop for TxRing {
    fn drop(&mut self) {
        sys::munmap(self.map, self.len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_versions() {
        assert!(kernel_at_least("6.18.44-fc-v669", (4, 8)));
        assert!(kernel_at_least("4.8.0", (4, 8)));
        assert!(kernel_at_least("5.0", (4, 8)));
        assert!(!kernel_at_least("4.7.10", (4, 8)));
        assert!(!kernel_at_least("3.19.0-generic", (4, 8)));
        assert!(!kernel_at_least("", (4, 8)));
        assert!(!kernel_at_least("x", (4, 8)));
    }

    #[test]
    fn slot_layout() {
        assert_eq!(SMALL_FRAME_MAX, 214);
        const { assert!(MTU_SLOT - DATA - VNET_HDR >= 14 + 1500) };
    }
}
