//! Thin, safe wrappers over the Linux syscalls the engine needs.
//!
//! Every `unsafe` block of tcpcraft lives in this file, `ring.rs` or `txring.rs`; each one is a plain
//! libc call whose pointer arguments come from live Rust references of the stated length.
//! Nothing here interprets packet bytes: that is the pure modules' job.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

// Linux UAPI constants (x86_64 and asm-generic values), spelled out because the libc crate
// does not export all of them on every target.
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
    #[allow(unsafe_code)] // reason: plain syscall, no pointers
    let fd = cvt(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) })?;
    #[allow(unsafe_code)] // reason: fd was just returned by socket(2) and is owned by nobody else
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `setsockopt(2)` with any plain-old-data value.
pub fn setsockopt<T: Copy>(fd: &OwnedFd, level: i32, name: i32, value: &T) -> io::Result<()> {
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

/// The effective capability bitmask of this process (from /proc/self/status).
pub fn effective_caps() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(0)
}

/// CAP_NET_RAW's bit number.
pub const CAP_NET_RAW: u32 = 13;
/// CAP_NET_ADMIN's bit number.
pub const CAP_NET_ADMIN: u32 = 12;

/// Make `cap` (already permitted) inheritable and ambient, so that a program this
/// process executes next keeps it. For the RST guard's `nft` when tcpcraft runs as a
/// user with file capabilities (`setcap cap_net_raw,cap_net_admin+ep`). Only plain
/// syscalls: safe between fork and exec. Failures are ignored (nft then says why).
pub fn ambient_cap(cap: u32) {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    const PR_CAP_AMBIENT: libc::c_int = 47;
    const PR_CAP_AMBIENT_RAISE: libc::c_ulong = 2;
    let mut h = Header {
        version: VERSION_3,
        pid: 0,
    };
    let zero = Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    };
    let mut d = [zero; 2];
    let (word, bit) = ((cap / 32) as usize, 1u32 << (cap % 32));
    #[allow(unsafe_code)] // reason: capget fills the two structs we own
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut h as *mut Header, d.as_mut_ptr()) };
    if r != 0 {
        return;
    }
    let Some(slot) = d.get_mut(word) else { return };
    if slot.permitted & bit == 0 {
        return;
    }
    slot.inheritable |= bit;
    #[allow(unsafe_code)] // reason: capset reads the two structs we own
    unsafe {
        libc::syscall(libc::SYS_capset, &mut h as *mut Header, d.as_ptr());
        libc::prctl(
            PR_CAP_AMBIENT,
            PR_CAP_AMBIENT_RAISE,
            libc::c_ulong::from(cap),
            0,
            0,
        );
    }
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
