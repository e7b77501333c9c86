//! Thin, safe wrappers over the Linux syscalls the engine needs.
//!
//! Every `unsafe` block of tcpcraft lives in this file, `ring.rs` or `txring.rs`; each one is a plain
//! libc call whose pointer arguments come from live Rust references of the stated length.
//! Nothing here interprets packet bytes: that is the pure modules' job.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::time::Duration;

// Linux UAPI constants (x86_64 and asm-generic values), spelled out because the libc crate
// does not export all of them on every target.
/// open(2) flags and error numbers for callers outside the socket layer (they do not
/// name `libc` themselves).
pub mod oflag {
    pub use libc::{O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_NONBLOCK, O_RDONLY, O_RDWR};
}
/// The terminal hung up (read(2) on a tty whose other side is gone).
pub const EIO: i32 = libc::EIO;

pub const SO_ATTACH_FILTER: libc::c_int = 26;
pub const SO_RCVBUFFORCE: libc::c_int = 33;
pub const SO_SNDBUFFORCE: libc::c_int = 32;
pub const SO_TIMESTAMPNS: libc::c_int = 35;
pub const PACKET_RX_RING: libc::c_int = 5;
pub const PACKET_STATISTICS: libc::c_int = 6;
pub const PACKET_VERSION: libc::c_int = 10;
pub const PACKET_QDISC_BYPASS: libc::c_int = 20;
/// Skip the packets this host sends (Linux 4.20): no copy of each one for the filter.
pub const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
pub const PACKET_FANOUT: libc::c_int = 18;
/// Fan-out by the CPU that received the packet.
pub const PACKET_FANOUT_CPU: u32 = 2;
/// Let the kernel pick a group id no one else uses (Linux 4.13).
pub const PACKET_FANOUT_FLAG_UNIQUEID: u32 = 0x2000;
pub const TPACKET_V3: libc::c_int = 2;
pub const PACKET_OUTGOING: u8 = 4;
pub const ETH_P_ALL: u16 = 0x0003;
pub const ETH_P_IP: u16 = 0x0800;
pub const ETH_P_IPV6: u16 = 0x86dd;

/// One classic BPF instruction, laid out as the kernel's `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn cvt_size(r: libc::ssize_t) -> io::Result<usize> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// `socket(2)` returning an owned descriptor (closed on drop), always close-on-exec.
pub fn socket(domain: libc::c_int, ty: libc::c_int, proto: libc::c_int) -> io::Result<OwnedFd> {
    let _caps = needs_net_caps(domain, ty).then(raise_net_caps);
    #[allow(unsafe_code)] // reason: plain syscall, no pointers
    let fd = cvt(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) })?;
    #[allow(unsafe_code)] // reason: fd was just returned by socket(2) and is owned by nobody else
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `setsockopt(2)` with any plain-old-data value.
pub fn setsockopt<T: Copy>(fd: &OwnedFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    let _caps = option_needs_net_caps(level, name).then(raise_net_caps);
    #[allow(unsafe_code)] // reason: value points at size_of::<T>() readable bytes
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// `getsockopt(2)` for a plain-old-data value that is valid when zeroed.
pub fn getsockopt<T: Copy>(fd: &OwnedFd, level: i32, name: i32, zero: T) -> io::Result<T> {
    let mut value = zero;
    let mut len = size_of::<T>() as libc::socklen_t;
    #[allow(unsafe_code)] // reason: value is a writable T of len bytes
    cvt(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&mut value as *mut T).cast(),
            &mut len,
        )
    })?;
    Ok(value)
}

/// Attach a classic BPF program to a socket (SO_ATTACH_FILTER).
pub fn attach_filter(fd: &OwnedFd, prog: &[SockFilter]) -> io::Result<()> {
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct SockFprog {
        len: u16,
        filter: *const SockFilter,
    }
    let len = u16::try_from(prog.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "BPF program too long"))?;
    let fprog = SockFprog {
        len,
        filter: prog.as_ptr(),
    };
    setsockopt(fd, libc::SOL_SOCKET, SO_ATTACH_FILTER, &fprog)
}

/// A `sockaddr_ll` for binding or sending on an AF_PACKET socket.
pub fn sockaddr_ll(ifindex: u32, protocol: u16, mac: Option<[u8; 6]>) -> libc::sockaddr_ll {
    #[allow(unsafe_code)] // reason: sockaddr_ll is plain old data, valid when zeroed
    let mut sa: libc::sockaddr_ll = unsafe { zeroed() };
    sa.sll_family = libc::AF_PACKET as u16;
    sa.sll_protocol = protocol.to_be();
    sa.sll_ifindex = ifindex as i32;
    if let Some(mac) = mac {
        sa.sll_halen = 6;
        sa.sll_addr[..6].copy_from_slice(&mac);
    }
    sa
}

/// Bind an AF_PACKET socket to an interface (0 = all) and an ethertype.
pub fn bind_packet(fd: &OwnedFd, ifindex: u32, protocol: u16) -> io::Result<()> {
    let sa = sockaddr_ll(ifindex, protocol, None);
    #[allow(unsafe_code)] // reason: sa is a valid sockaddr_ll of the given size
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// A socket address in the kernel's representation, with its length.
pub struct RawSockAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

impl RawSockAddr {
    pub fn from_ip(ip: IpAddr, port: u16, scope_id: u32) -> RawSockAddr {
        #[allow(unsafe_code)] // reason: sockaddr_storage is plain old data, valid when zeroed
        let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
        let len = match ip {
            IpAddr::V4(a) => {
                let sin = libc::sockaddr_in {
                    sin_family: libc::AF_INET as u16,
                    sin_port: port.to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_ne_bytes(a.octets()),
                    },
                    sin_zero: [0; 8],
                };
                #[allow(unsafe_code)] // reason: sockaddr_storage is larger than sockaddr_in
                unsafe {
                    std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin)
                };
                size_of::<libc::sockaddr_in>()
            }
            IpAddr::V6(a) => {
                let sin6 = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as u16,
                    sin6_port: port.to_be(),
                    sin6_flowinfo: 0,
                    sin6_addr: libc::in6_addr {
                        s6_addr: a.octets(),
                    },
                    sin6_scope_id: scope_id,
                };
                #[allow(unsafe_code)] // reason: sockaddr_storage is larger than sockaddr_in6
                unsafe {
                    std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6)
                };
                size_of::<libc::sockaddr_in6>()
            }
        };
        RawSockAddr {
            storage,
            len: len as libc::socklen_t,
        }
    }

    pub fn from_ll(sa: libc::sockaddr_ll) -> RawSockAddr {
        #[allow(unsafe_code)] // reason: sockaddr_storage is plain old data, valid when zeroed
        let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
        #[allow(unsafe_code)] // reason: sockaddr_storage is larger than sockaddr_ll
        unsafe {
            std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sa)
        };
        RawSockAddr {
            storage,
            len: size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        }
    }

    fn ptr(&self) -> *const libc::sockaddr {
        (&self.storage as *const libc::sockaddr_storage).cast()
    }

    /// The IP socket address, if this is AF_INET or AF_INET6.
    pub fn to_socket_addr(&self) -> Option<SocketAddr> {
        match self.storage.ss_family as i32 {
            libc::AF_INET => {
                #[allow(unsafe_code)] // reason: family says the storage holds a sockaddr_in
                let sin: libc::sockaddr_in = unsafe { std::ptr::read(self.ptr().cast()) };
                let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Some(SocketAddr::new(IpAddr::V4(ip), u16::from_be(sin.sin_port)))
            }
            libc::AF_INET6 => {
                #[allow(unsafe_code)] // reason: family says the storage holds a sockaddr_in6
                let sin6: libc::sockaddr_in6 = unsafe { std::ptr::read(self.ptr().cast()) };
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                Some(SocketAddr::new(
                    IpAddr::V6(ip),
                    u16::from_be(sin6.sin6_port),
                ))
            }
            _ => None,
        }
    }
}

/// `sendto(2)`.
pub fn sendto(fd: &OwnedFd, buf: &[u8], addr: &RawSockAddr) -> io::Result<usize> {
    #[allow(unsafe_code)] // reason: buf and addr are valid for their lengths
    cvt_size(unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            buf.as_ptr().cast(),
            buf.len(),
            0,
            addr.ptr(),
            addr.len,
        )
    })
}

/// `sendmmsg(2)`: many datagrams to one address in one syscall. Returns how many left.
/// With no address, the socket's own (a packet socket bound to its interface: the
/// kernel then copies no address per message).
pub fn sendmmsg(fd: &OwnedFd, bufs: &[&[u8]], addr: Option<&RawSockAddr>) -> io::Result<usize> {
    // Up to 64 messages per call, their headers on the stack (no allocation per batch).
    const MAX: usize = 64;
    let mut sent = 0usize;
    for chunk in bufs.chunks(MAX) {
        let n = match sendmmsg_some(fd, chunk, addr) {
            Ok(n) => n,
            // What went out before the error counts; the caller sees the error next time.
            Err(_) if sent > 0 => break,
            Err(e) => return Err(e),
        };
        sent += n;
        if n < chunk.len() {
            break;
        }
    }
    Ok(sent)
}

fn sendmmsg_some(fd: &OwnedFd, bufs: &[&[u8]], addr: Option<&RawSockAddr>) -> io::Result<usize> {
    #[allow(unsafe_code)] // reason: iovec and mmsghdr are plain old data, valid when zeroed
    let (mut iovs, mut msgs): ([libc::iovec; 64], [libc::mmsghdr; 64]) =
        unsafe { (zeroed(), zeroed()) };
    let count = bufs.len().min(iovs.len());
    for ((iov, msg), b) in iovs.iter_mut().zip(msgs.iter_mut()).zip(bufs) {
        iov.iov_base = b.as_ptr() as *mut libc::c_void;
        iov.iov_len = b.len();
        if let Some(addr) = addr {
            msg.msg_hdr.msg_name = addr.ptr() as *mut libc::c_void;
            msg.msg_hdr.msg_namelen = addr.len;
        }
        msg.msg_hdr.msg_iov = iov as *mut libc::iovec;
        msg.msg_hdr.msg_iovlen = 1;
    }
    let msgs = &mut msgs[..count];
    let mut done = 0usize;
    while done < msgs.len() {
        let rest = &mut msgs[done..];
        let n = rest.len() as libc::c_uint;
        #[allow(unsafe_code)] // reason: msgs point at live iovecs, buffers and addr
        let r = unsafe { libc::sendmmsg(fd.as_raw_fd(), rest.as_mut_ptr(), n, 0) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ENOBUFS) || e.kind() == io::ErrorKind::WouldBlock {
                // The device queue is full: let it drain instead of failing the batch.
                std::thread::yield_now();
                continue;
            }
            if done > 0 {
                return Ok(done);
            }
            return Err(e);
        }
        done += r as usize;
    }
    Ok(done)
}

/// One datagram read from an AF_PACKET socket.
pub struct Received {
    pub len: usize,
    /// The packet type from sockaddr_ll (PACKET_HOST, PACKET_OUTGOING, …).
    pub pkttype: u8,
    pub ifindex: u32,
    pub protocol: u16,
    /// The interface's hardware type (ARPHRD_*) and the link-layer source address.
    pub hatype: u16,
    pub addr: [u8; 8],
    pub halen: u8,
    /// Kernel receive time (CLOCK_REALTIME), when SO_TIMESTAMPNS is on.
    pub stamp: Option<Duration>,
}

/// `recvmsg(2)` on an AF_PACKET socket, non-blocking, collecting the kernel timestamp.
/// `Ok(None)` when nothing is waiting.
pub fn recv_packet(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<Option<Received>> {
    #[allow(unsafe_code)] // reason: sockaddr_ll is plain old data, valid when zeroed
    let mut from: libc::sockaddr_ll = unsafe { zeroed() };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut control = [0u64; 16];
    #[allow(unsafe_code)] // reason: msghdr is plain old data, valid when zeroed
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut from as *mut libc::sockaddr_ll).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 16]>();
    #[allow(unsafe_code)] // reason: msg points at live buffers of the stated sizes
    let r = unsafe {
        libc::recvmsg(
            fd.as_raw_fd(),
            &mut msg,
            libc::MSG_DONTWAIT | libc::MSG_TRUNC,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::WouldBlock {
            return Ok(None);
        }
        return Err(e);
    }
    let mut stamp = None;
    #[allow(unsafe_code)] // reason: walking the control messages the kernel just wrote into msg
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == SO_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                stamp = Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok(Some(Received {
        len: (r as usize).min(buf.len()),
        pkttype: from.sll_pkttype,
        ifindex: from.sll_ifindex as u32,
        protocol: u16::from_be(from.sll_protocol),
        hatype: from.sll_hatype,
        addr: from.sll_addr,
        halen: from.sll_halen,
        stamp,
    }))
}

/// `poll(2)` for readability on one descriptor. Returns true when readable.
pub fn poll_in(fd: RawFd, timeout: Duration) -> io::Result<bool> {
    poll_fds(&mut [readable(fd)], timeout)
}

/// `poll(2)` for writability (a transmit ring with a free slot).
pub fn poll_out(fd: RawFd, timeout: Duration) -> io::Result<bool> {
    poll_fds(
        &mut [libc::pollfd {
            fd,
            events: libc::POLLOUT,
            revents: 0,
        }],
        timeout,
    )
}

/// `poll(2)` for readability on several descriptors. Returns true when one is readable.
pub fn poll_any(fds: &[RawFd], timeout: Duration) -> io::Result<bool> {
    let mut ps: Vec<libc::pollfd> = fds.iter().map(|&fd| readable(fd)).collect();
    poll_fds(&mut ps, timeout)
}

fn readable(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

fn poll_fds(ps: &mut [libc::pollfd], timeout: Duration) -> io::Result<bool> {
    // Rounded up: a wait of 0.4 ms is a wait, not a poll that returns at once.
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    #[allow(unsafe_code)] // reason: ps is a valid array of pollfd of its length
    let r = unsafe { libc::poll(ps.as_mut_ptr(), ps.len() as libc::nfds_t, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(e);
    }
    Ok(r > 0)
}

/// `connect(2)` then `getsockname(2)` on a UDP socket: the kernel's source address choice.
pub fn udp_source_for(dst: IpAddr, ifname: Option<&str>) -> io::Result<IpAddr> {
    let domain = if dst.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = socket(domain, libc::SOCK_DGRAM, 0)?;
    if let Some(name) = ifname {
        bind_to_device(&fd, name)?;
    }
    let addr = RawSockAddr::from_ip(dst, 9, 0);
    #[allow(unsafe_code)] // reason: addr is a valid sockaddr of its length
    cvt(unsafe { libc::connect(fd.as_raw_fd(), addr.ptr(), addr.len) })?;
    #[allow(unsafe_code)] // reason: sockaddr_storage is plain old data, valid when zeroed
    let mut local = RawSockAddr {
        storage: unsafe { zeroed() },
        len: size_of::<libc::sockaddr_storage>() as libc::socklen_t,
    };
    #[allow(unsafe_code)] // reason: local.storage is writable for local.len bytes
    cvt(unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut local.storage as *mut libc::sockaddr_storage).cast(),
            &mut local.len,
        )
    })?;
    local
        .to_socket_addr()
        .map(|s| s.ip())
        .ok_or_else(|| io::Error::other("getsockname returned no IP address"))
}

/// Send one empty UDP datagram to port 9 (discard) of a neighbour, so that the kernel
/// resolves its link-layer address (ARP / neighbour solicitation) for us.
pub fn poke_neighbour(ip: IpAddr, ifindex: u32) -> io::Result<()> {
    let domain = if ip.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = socket(domain, libc::SOCK_DGRAM, 0)?;
    if let Some(name) = if_indextoname(ifindex) {
        let _ = bind_to_device(&fd, &name);
    }
    let addr = RawSockAddr::from_ip(ip, 9, ifindex);
    sendto(&fd, &[], &addr).map(|_| ())
}

/// SO_BINDTODEVICE.
pub fn bind_to_device(fd: &OwnedFd, name: &str) -> io::Result<()> {
    let bytes = name.as_bytes();
    // CAP_NET_RAW before Linux 5.7.
    let _caps = raise_net_caps();
    #[allow(unsafe_code)] // reason: bytes is valid for its length
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            bytes.as_ptr().cast(),
            bytes.len() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// Interface index of a name, or None when there is no such interface.
pub fn if_nametoindex(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    #[allow(unsafe_code)] // reason: c is a valid NUL-terminated string
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (i != 0).then_some(i)
}

/// Interface name of an index.
pub fn if_indextoname(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    #[allow(unsafe_code)] // reason: buf holds IF_NAMESIZE bytes as the call requires
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    #[allow(unsafe_code)] // reason: the kernel wrote a NUL-terminated name into buf
    let s = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Some(s.to_string_lossy().into_owned())
}

/// Current CLOCK_REALTIME and CLOCK_MONOTONIC, read back to back.
pub fn clocks() -> (Duration, Duration) {
    fn read(clock: libc::clockid_t) -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        #[allow(unsafe_code)] // reason: ts is a writable timespec
        unsafe {
            libc::clock_gettime(clock, &mut ts)
        };
        Duration::new(
            ts.tv_sec.max(0) as u64,
            ts.tv_nsec.clamp(0, 999_999_999) as u32,
        )
    }
    (read(libc::CLOCK_REALTIME), read(libc::CLOCK_MONOTONIC))
}

/// Move the calling thread into the network namespace mounted at /run/netns/NAME
/// (what `ip netns exec` does). Only this thread changes namespace; threads it starts
/// afterwards inherit it.
pub fn enter_netns(name: &str) -> io::Result<()> {
    let f = std::fs::File::open(format!("/run/netns/{name}"))?;
    #[allow(unsafe_code)] // reason: plain syscall on a descriptor we hold open
    cvt(unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) })?;
    Ok(())
}

/// Install `handler` for SIGINT and SIGTERM without SA_RESTART, so blocking calls return
/// EINTR and loops can look at the flag the handler set.
pub fn on_signals(signals: &[libc::c_int], handler: extern "C" fn(libc::c_int)) {
    for &sig in signals {
        #[allow(unsafe_code)] // reason: sigaction is plain old data, valid when zeroed
        let mut sa: libc::sigaction = unsafe { zeroed() };
        sa.sa_sigaction = handler as usize;
        sa.sa_flags = 0;
        #[allow(unsafe_code)] // reason: installs an async-signal-safe handler (it stores an atomic)
        unsafe {
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// Install `handler` with SA_SIGINFO, so it can tell a signal the terminal sent (to the
/// whole foreground group) from one `kill` sent to this process alone.
pub fn on_signals_info(
    signals: &[libc::c_int],
    handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void),
) {
    for &sig in signals {
        #[allow(unsafe_code)] // reason: sigaction is plain old data, valid when zeroed
        let mut sa: libc::sigaction = unsafe { zeroed() };
        sa.sa_sigaction = handler as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        #[allow(unsafe_code)] // reason: installs an async-signal-safe handler (it stores atomics)
        unsafe {
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// Whether a signal's `si_code` says it came from another process's `kill` (SI_USER,
/// SI_QUEUE, SI_TKILL) rather than from the kernel (a terminal's Ctrl-C or hang-up,
/// SI_KERNEL). Async-signal-safe.
pub fn signal_from_user(si_code: libc::c_int) -> bool {
    si_code == libc::SI_USER || si_code == libc::SI_QUEUE || si_code == libc::SI_TKILL
}

/// Terminal settings of standard input saved by [`save_tty`].
static SAVED_TTY: std::sync::OnceLock<libc::termios> = std::sync::OnceLock::new();

/// Remember the terminal settings of standard input (before a line editor switches it
/// to raw mode), so that [`restore_tty`] can put them back if a signal ends tcpcraft
/// while the editor is waiting for a key.
pub fn save_tty() {
    #[allow(unsafe_code)] // reason: termios is plain old data, valid when zeroed
    let mut t: libc::termios = unsafe { zeroed() };
    #[allow(unsafe_code)] // reason: plain syscall filling a struct we own
    let r = unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut t) };
    if r == 0 {
        let _ = SAVED_TTY.set(t);
    }
}

/// Put back the terminal settings saved by [`save_tty`], if any.
pub fn restore_tty() {
    if let Some(t) = SAVED_TTY.get() {
        #[allow(unsafe_code)] // reason: plain syscall reading a struct we own
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, t)
        };
    }
}

/// What was typed at the terminal while a command ran (the line editor was not
/// reading): the complete lines the terminal's line discipline holds (each read of a
/// terminal in canonical mode returns one line), in order, without their newline; and
/// whether an end-of-file (Ctrl-D at the start of a line) came among them. A line not
/// yet ended by Enter stays in the terminal, and the editor reads it as typed keys.
/// Nothing when standard input is not a terminal in canonical mode.
pub fn typed_ahead() -> (Vec<String>, bool) {
    let mut lines = Vec::new();
    #[allow(unsafe_code)] // reason: termios is plain old data, valid when zeroed
    let mut t: libc::termios = unsafe { zeroed() };
    #[allow(unsafe_code)] // reason: plain syscall filling a struct we own
    let r = unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut t) };
    if r != 0 || t.c_lflag & libc::ICANON == 0 {
        return (lines, false);
    }
    let mut pending = Vec::new();
    // A bound, so a terminal that keeps delivering cannot hold the shell here.
    for _ in 0..1024 {
        let mut pfd = libc::pollfd {
            fd: libc::STDIN_FILENO,
            events: libc::POLLIN,
            revents: 0,
        };
        #[allow(unsafe_code)] // reason: poll on one pollfd we own, no waiting
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        if n <= 0 || pfd.revents & libc::POLLIN == 0 {
            break;
        }
        let mut buf = [0u8; 4096];
        #[allow(unsafe_code)] // reason: read into a buffer we own, of its length
        let got = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
        let Ok(got) = usize::try_from(got) else { break };
        if got == 0 {
            return (lines, true);
        }
        pending.extend_from_slice(buf.get(..got).unwrap_or(&[]));
        if pending.ends_with(b"\n") {
            pending.pop();
            lines.push(String::from_utf8_lossy(&pending).into_owned());
            pending.clear();
        }
    }
    if !pending.is_empty() {
        lines.push(String::from_utf8_lossy(&pending).into_owned());
    }
    (lines, false)
}

/// Restore the default disposition of signals.
pub fn default_signals(signals: &[libc::c_int]) {
    for &sig in signals {
        #[allow(unsafe_code)] // reason: resetting a disposition to SIG_DFL
        unsafe {
            libc::signal(sig, libc::SIG_DFL)
        };
    }
}

/// Send a signal to a process.
pub fn kill(pid: u32, sig: libc::c_int) -> bool {
    #[allow(unsafe_code)] // reason: plain syscall
    let r = unsafe { libc::kill(pid as libc::pid_t, sig) };
    r == 0
}

/// The capabilities this process can use for the network: its effective set, plus
/// CAP_NET_RAW and CAP_NET_ADMIN when they are permitted (tcpcraft keeps those two out of
/// the effective set and raises them only around the calls that need them, see
/// [`NetCapsRaised`]). Read from the calling thread's sets.
pub fn effective_caps() -> u64 {
    let set_aside = SET_ASIDE.load(std::sync::atomic::Ordering::Relaxed);
    match capget() {
        Ok(s) => s.effective | (s.permitted & NET_CAPS) | set_aside,
        Err(_) => set_aside,
    }
}

/// Network capabilities this process had at start and gave up because its command
/// sends nothing (`--dry-run`): [`effective_caps`] still reports them, so that a dry run
/// describes the run it stands for (a SYN scan, not the connect() scan of a user without
/// CAP_NET_RAW). No socket is opened in a dry run.
static SET_ASIDE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Record the network capabilities given up for a dry run (see [`effective_caps`]).
pub fn set_aside_for_dry_run(caps: u64) {
    SET_ASIDE.store(caps & NET_CAPS, std::sync::atomic::Ordering::Relaxed);
}

/// CAP_NET_RAW's bit number.
pub const CAP_NET_RAW: u32 = 13;
/// CAP_NET_ADMIN's bit number.
pub const CAP_NET_ADMIN: u32 = 12;
/// CAP_NET_RAW and CAP_NET_ADMIN as a mask: all tcpcraft ever keeps.
pub const NET_CAPS: u64 = (1 << CAP_NET_RAW) | (1 << CAP_NET_ADMIN);

/// One thread's capability sets, as 64-bit masks (bit n = capability n).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set.
const CAP_VERSION_3: u32 = 0x2008_0522;
const PR_CAP_AMBIENT: libc::c_int = 47;
const PR_CAP_AMBIENT_CLEAR_ALL: libc::c_ulong = 4;

/// `capget(2)` for the calling thread.
pub fn capget() -> io::Result<CapSets> {
    let mut h = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut d = [CapData::default(); 2];
    #[allow(unsafe_code)] // reason: capget fills the header and the two structs we own
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut h as *mut CapHeader, d.as_mut_ptr()) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    let join = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
    Ok(CapSets {
        effective: join(d[0].effective, d[1].effective),
        permitted: join(d[0].permitted, d[1].permitted),
        inheritable: join(d[0].inheritable, d[1].inheritable),
    })
}

/// `capset(2)` for the calling thread (only this thread: threads started afterwards
/// inherit the sets, threads already running keep theirs).
pub fn capset(s: CapSets) -> io::Result<()> {
    let mut h = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let split = |v: u64| (v as u32, (v >> 32) as u32);
    let (e0, e1) = split(s.effective);
    let (p0, p1) = split(s.permitted);
    let (i0, i1) = split(s.inheritable);
    let d = [
        CapData {
            effective: e0,
            permitted: p0,
            inheritable: i0,
        },
        CapData {
            effective: e1,
            permitted: p1,
            inheritable: i1,
        },
    ];
    #[allow(unsafe_code)] // reason: capset reads the header and the two structs we own
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut h as *mut CapHeader, d.as_ptr()) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Keep only `keep` of this thread's permitted capabilities, none inheritable, none
/// ambient; the effective set holds them only when `effective` is true.
pub fn limit_caps(keep: u64, effective: bool) -> io::Result<()> {
    let now = capget()?;
    let permitted = now.permitted & keep;
    capset(CapSets {
        effective: if effective {
            permitted
        } else {
            now.effective & permitted & !NET_CAPS
        },
        permitted,
        inheritable: 0,
    })?;
    clear_ambient_caps();
    Ok(())
}

/// Clear the ambient set, so that no program this process runs inherits a capability.
pub fn clear_ambient_caps() {
    #[allow(unsafe_code)] // reason: plain prctl, no pointers
    unsafe {
        libc::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    }
}

/// Remove every capability from the bounding set (needs CAP_SETPCAP, which root has): no
/// program this process runs can gain one, not even a set-user-ID-root one. The sets of
/// this process are not changed.
pub fn drop_bounding_set() -> io::Result<()> {
    for cap in 0..64 {
        #[allow(unsafe_code)] // reason: plain prctl, no pointers
        let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
        if r != 0 {
            let e = io::Error::last_os_error();
            // EINVAL: past the last capability this kernel knows.
            if e.raw_os_error() == Some(libc::EINVAL) {
                return Ok(());
            }
            return Err(e);
        }
    }
    Ok(())
}

/// PR_SET_NO_NEW_PRIVS: programs this process runs cannot gain privileges through
/// set-user-ID bits or file capabilities.
pub fn no_new_privs() -> io::Result<()> {
    #[allow(unsafe_code)] // reason: plain prctl, no pointers
    cvt(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })?;
    Ok(())
}

/// Real, effective and saved user ids.
pub fn user_ids() -> (u32, u32, u32) {
    let (mut r, mut e, mut s) = (0, 0, 0);
    #[allow(unsafe_code)] // reason: getresuid writes three ids we own
    unsafe {
        libc::getresuid(&mut r, &mut e, &mut s)
    };
    (r, e, s)
}

/// Real, effective and saved group ids.
pub fn group_ids() -> (u32, u32, u32) {
    let (mut r, mut e, mut s) = (0, 0, 0);
    #[allow(unsafe_code)] // reason: getresgid writes three ids we own
    unsafe {
        libc::getresgid(&mut r, &mut e, &mut s)
    };
    (r, e, s)
}

/// A user's name and home directory from the passwd database (NSS included), when known.
pub fn user_entry(uid: u32) -> Option<(String, PathBuf)> {
    #[allow(unsafe_code)] // reason: passwd is plain old data, valid when zeroed
    let mut pw: libc::passwd = unsafe { zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    #[allow(unsafe_code)] // reason: pw, buf and out are ours; buf's length is given
    let r = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut out) };
    if r != 0 || out.is_null() || pw.pw_name.is_null() || pw.pw_dir.is_null() {
        return None;
    }
    #[allow(unsafe_code)] // reason: getpwuid_r filled both with NUL-terminated strings in buf
    let (name, dir) = unsafe {
        (
            std::ffi::CStr::from_ptr(pw.pw_name)
                .to_string_lossy()
                .into_owned(),
            std::ffi::CStr::from_ptr(pw.pw_dir).to_bytes().to_vec(),
        )
    };
    use std::os::unix::ffi::OsStringExt;
    Some((name, PathBuf::from(std::ffi::OsString::from_vec(dir))))
}

/// The groups `name` belongs to (`getgrouplist(3)`), `gid` always among them.
pub fn user_groups(name: &str, gid: u32) -> Vec<u32> {
    let Ok(c) = std::ffi::CString::new(name) else {
        return vec![gid];
    };
    let mut n: libc::c_int = 64;
    for _ in 0..4 {
        let mut groups = vec![0 as libc::gid_t; n.max(1) as usize];
        let mut count = n;
        #[allow(unsafe_code)] // reason: groups holds `count` writable gids
        let r = unsafe { libc::getgrouplist(c.as_ptr(), gid, groups.as_mut_ptr(), &mut count) };
        if r >= 0 {
            groups.truncate(count.max(0) as usize);
            return groups;
        }
        // Too small: count now says how many there are.
        n = count.max(n * 2);
    }
    vec![gid]
}

/// Become `uid`/`gid` with supplementary `groups` for good (real, effective and saved
/// ids), keeping the permitted capabilities across the change (PR_SET_KEEPCAPS): the
/// effective set is empty afterwards. Needs root; call before any thread is started.
pub fn become_user(uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
    #[allow(unsafe_code)] // reason: plain prctl, no pointers
    cvt(unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) })?;
    #[allow(unsafe_code)] // reason: groups is a valid array of its length
    cvt(unsafe { libc::setgroups(groups.len(), groups.as_ptr()) })?;
    #[allow(unsafe_code)] // reason: plain syscall (glibc applies it to every thread)
    cvt(unsafe { libc::setresgid(gid, gid, gid) })?;
    #[allow(unsafe_code)] // reason: plain syscall (glibc applies it to every thread)
    cvt(unsafe { libc::setresuid(uid, uid, uid) })?;
    #[allow(unsafe_code)] // reason: plain prctl, no pointers
    cvt(unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0) })?;
    if user_ids() != (uid, uid, uid) || group_ids() != (gid, gid, gid) {
        return Err(io::Error::other("the user and group ids did not change"));
    }
    Ok(())
}

/// CAP_NET_RAW and CAP_NET_ADMIN raised in the calling thread's effective set for as long
/// as this value lives (those of them that are permitted and were not effective already);
/// dropping it lowers them again. Made by [`raise_net_caps`] around the socket, socket
/// option and netlink calls that the kernel checks capabilities for.
#[must_use = "the capabilities are lowered again when this is dropped"]
pub struct NetCapsRaised {
    raised: u64,
}

/// Raise the permitted network capabilities in this thread's effective set.
pub fn raise_net_caps() -> NetCapsRaised {
    let Ok(now) = capget() else {
        return NetCapsRaised { raised: 0 };
    };
    let raised = now.permitted & NET_CAPS & !now.effective;
    if raised != 0
        && capset(CapSets {
            effective: now.effective | raised,
            ..now
        })
        .is_err()
    {
        return NetCapsRaised { raised: 0 };
    }
    NetCapsRaised { raised }
}

impl Drop for NetCapsRaised {
    fn drop(&mut self) {
        if self.raised == 0 {
            return;
        }
        if let Ok(now) = capget() {
            let _ = capset(CapSets {
                effective: now.effective & !self.raised,
                ..now
            });
        }
    }
}

/// Whether `socket(domain, ty, …)` is one the kernel checks CAP_NET_RAW or CAP_NET_ADMIN
/// for (raw IP, packet and netlink sockets; netlink checks again on every message).
fn needs_net_caps(domain: libc::c_int, ty: libc::c_int) -> bool {
    domain == libc::AF_PACKET || domain == libc::AF_NETLINK || (ty & 0xf) == libc::SOCK_RAW
}

/// Socket options the kernel checks CAP_NET_ADMIN or CAP_NET_RAW for.
fn option_needs_net_caps(level: i32, name: i32) -> bool {
    level == libc::SOL_SOCKET
        && matches!(
            name,
            libc::SO_MARK | SO_RCVBUFFORCE | SO_SNDBUFFORCE | libc::SO_BINDTODEVICE
        )
}

/// Mark a socket with `mark` (SO_MARK, needs CAP_NET_ADMIN).
pub fn set_mark(fd: RawFd, mark: u32) -> io::Result<()> {
    let _caps = raise_net_caps();
    #[allow(unsafe_code)]
    // reason: reads size_of::<u32>() bytes from a live local; a bad fd is an error
    cvt(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_MARK,
            (&mark as *const u32).cast(),
            size_of::<u32>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// Process start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat):
/// with the pid it names one process for good, a reused pid has another start time.
pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces or ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// `send(2)` on a connected (or netlink) socket.
pub fn send(fd: &OwnedFd, buf: &[u8]) -> io::Result<usize> {
    #[allow(unsafe_code)] // reason: buf is valid for its length
    cvt_size(unsafe { libc::send(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len(), 0) })
}

/// `recv(2)`, waiting at most `timeout` for data.
pub fn recv_timeout(fd: &OwnedFd, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
    if !poll_in(fd.as_raw_fd(), timeout)? {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no answer from the kernel",
        ));
    }
    #[allow(unsafe_code)] // reason: buf is writable for its length
    cvt_size(unsafe {
        libc::recv(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT,
        )
    })
}

/// `mmap(2)` of a packet ring the kernel set up on `fd`, shared and writable. With
/// `lock`, the pages are locked in memory when RLIMIT_MEMLOCK allows (else mapped
/// without). The caller owns the mapping and unmaps it with [`munmap`].
pub fn mmap_shared(fd: &OwnedFd, len: usize, lock: bool) -> io::Result<*mut u8> {
    let map = |flags: libc::c_int| {
        #[allow(unsafe_code)] // reason: a fresh mapping of the kernel's ring on fd; no aliasing
        unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                flags,
                fd.as_raw_fd(),
                0,
            )
        }
    };
    let mut m = libc::MAP_FAILED;
    if lock {
        m = map(libc::MAP_SHARED | libc::MAP_LOCKED);
    }
    if m == libc::MAP_FAILED {
        m = map(libc::MAP_SHARED);
    }
    if m == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(m.cast())
}

/// Undo [`mmap_shared`]: `map` and `len` must be exactly what it returned and was given,
/// and nothing may use the mapping afterwards.
pub fn munmap(map: *mut u8, len: usize) {
    #[allow(unsafe_code)] // reason: the caller's own mapping, unmapped exactly once
    unsafe {
        libc::munmap(map.cast(), len);
    }
}

/// ARPHRD_ETHER: interfaces whose frames start with an Ethernet header.
pub const ARPHRD_ETHER: u16 = 1;
/// ARPHRD_LOOPBACK: `lo`, which takes an (all-zero) Ethernet header too.
pub const ARPHRD_LOOPBACK: u16 = 772;

/// The hardware type (ARPHRD_*) and address of an interface, via SIOCGIFHWADDR in the
/// current network namespace (/sys may show another namespace's interfaces).
pub fn if_hwaddr(name: &str) -> io::Result<(u16, [u8; 6])> {
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct IfReq {
        name: [u8; 16],
        family: u16,
        data: [u8; 14],
        _pad: [u8; 8],
    }
    let mut req = IfReq {
        name: [0; 16],
        family: 0,
        data: [0; 14],
        _pad: [0; 8],
    };
    let bytes = name.as_bytes();
    if bytes.len() >= 16 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "interface name too long",
        ));
    }
    req.name[..bytes.len()].copy_from_slice(bytes);
    let fd = socket(libc::AF_INET, libc::SOCK_DGRAM, 0)?;
    #[allow(unsafe_code)] // reason: req is a writable ifreq-sized buffer
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFHWADDR, &mut req as *mut IfReq) })?;
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&req.data[..6]);
    Ok((req.family, mac))
}

/// `recv(2)` of one whole datagram, waiting at most `timeout`. Returns the datagram's
/// real length (MSG_TRUNC): a value above `buf.len()` means the kernel cut it, which a
/// netlink reader must treat as an error rather than parse the half it got.
pub fn recv_datagram(fd: &OwnedFd, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
    if !poll_in(fd.as_raw_fd(), timeout)? {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no answer from the kernel",
        ));
    }
    #[allow(unsafe_code)] // reason: buf is writable for its length
    cvt_size(unsafe {
        libc::recv(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT | libc::MSG_TRUNC,
        )
    })
}

/// Whether `fd` is passed on to programs this process runs (`FD_CLOEXEC` off).
pub fn set_inherited(fd: &OwnedFd, inherited: bool) -> io::Result<()> {
    #[allow(unsafe_code)] // reason: fcntl on a descriptor we own
    let flags = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) })?;
    let flags = if inherited {
        flags & !libc::FD_CLOEXEC
    } else {
        flags | libc::FD_CLOEXEC
    };
    #[allow(unsafe_code)] // reason: fcntl on a descriptor we own
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, flags) })?;
    Ok(())
}

/// Takes ownership of a descriptor inherited from the parent (named in the
/// environment), if it is open and a socket; marks it close-on-exec.
pub fn adopt_inherited_socket(raw: RawFd) -> Option<OwnedFd> {
    if raw < 3 {
        return None;
    }
    #[allow(unsafe_code)] // reason: fstat only reads the descriptor's metadata
    let is_socket = unsafe {
        let mut st: libc::stat = zeroed();
        libc::fstat(raw, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFSOCK
    };
    if !is_socket {
        return None;
    }
    #[allow(unsafe_code)] // reason: the parent handed this descriptor to us alone, by name
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let _ = set_inherited(&fd, false);
    Some(fd)
}

/// Heap bytes in use, kept by [`CountingAlloc`].
static HEAP_IN_USE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The system allocator, counting the bytes it hands out: the binary installs it as the
/// global allocator so that scripts run under a memory budget (`--max-memory`).
pub struct CountingAlloc;

#[allow(unsafe_code)] // reason: GlobalAlloc is an unsafe trait; every call goes straight to System
unsafe impl std::alloc::GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = std::alloc::System.alloc(layout);
        if !p.is_null() {
            HEAP_IN_USE.fetch_add(layout.size(), std::sync::atomic::Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = std::alloc::System.alloc_zeroed(layout);
        if !p.is_null() {
            HEAP_IN_USE.fetch_add(layout.size(), std::sync::atomic::Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        std::alloc::System.dealloc(ptr, layout);
        HEAP_IN_USE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        let p = std::alloc::System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            HEAP_IN_USE.fetch_add(new_size, std::sync::atomic::Ordering::Relaxed);
            HEAP_IN_USE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        }
        p
    }
}

/// Heap bytes in use (0 where [`CountingAlloc`] is not the global allocator).
pub fn heap_in_use() -> usize {
    HEAP_IN_USE.load(std::sync::atomic::Ordering::Relaxed)
}

/// `mkdirat(2)` of `name` in `dir` with `mode` (less the umask); an existing entry is
/// not an error (whatever it is: `openat_dir` then checks it).
pub fn mkdirat(dir: &OwnedFd, name: &str, mode: u32) -> io::Result<()> {
    let c = std::ffi::CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in a file name"))?;
    #[allow(unsafe_code)] // reason: c is a valid NUL-terminated string; dir is open
    let r = unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), mode as libc::mode_t) };
    if r != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EEXIST) {
            return Err(e);
        }
    }
    Ok(())
}

/// `openat(2)` of `name` in `dir` without following a symbolic link (`O_NOFOLLOW`),
/// close-on-exec, with `flags` added (O_DIRECTORY for a directory; O_CREAT uses `mode`).
pub fn openat_nofollow(
    dir: &OwnedFd,
    name: &str,
    flags: libc::c_int,
    mode: u32,
) -> io::Result<OwnedFd> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "one plain path component expected",
        ));
    }
    let c = std::ffi::CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in a file name"))?;
    #[allow(unsafe_code)] // reason: c is a valid NUL-terminated string; dir is open
    let fd = cvt(unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            flags | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    })?;
    #[allow(unsafe_code)] // reason: fd was just returned by openat(2) and is owned by nobody else
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The kernel's ephemeral port range (`net.ipv4.ip_local_port_range`, also used for
/// IPv6) in the calling thread's network namespace, where the kernel picks ports for
/// its own connections; Linux's default when unreadable. Sessions and scans take their
/// ports outside it.
pub fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|v| v.parse::<u16>().ok());
            Some((it.next()??, it.next()??))
        })
        .filter(|(lo, hi)| lo <= hi)
        .unwrap_or((32768, 60999))
}
