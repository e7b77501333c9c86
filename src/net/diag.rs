//! The real TCP state of a kernel's sockets, read over sock_diag (NETLINK_SOCK_DIAG,
//! `inet_diag`), the interface `ss` uses.
//!
//! Why: in the lab and the test bed tcpcraft owns the server's network namespace, so
//! beside the peer state a session infers from the segments it can show what the
//! server kernel really holds (`ESTABLISHED`, `CLOSE_WAIT`, …) and flag a disagreement.
//! Reading `ss` output would mean a child process per look and parsing text meant for
//! people; the netlink dump is one syscall pair and structured.
//!
//! A netlink socket stays in the network namespace it was created in, so
//! [`open_in_netns`] creates it on a short-lived thread that entered the namespace and
//! hands it back: the caller's own threads never change namespace.
//!
//! The byte parsing ([`parse_dump`]) is pure and never trusts a length field without
//! checking it against the buffer; short or odd messages are skipped, not sliced.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::sys;

/// `NETLINK_SOCK_DIAG` (linux/netlink.h).
const NETLINK_SOCK_DIAG: i32 = 4;
/// `SOCK_DIAG_BY_FAMILY` (linux/sock_diag.h): the request and reply message type.
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_ROOT | NLM_F_MATCH`: every socket, not one looked up by its 4-tuple.
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// `struct nlmsghdr`.
const NLMSG_HDRLEN: usize = 16;
/// `struct inet_diag_msg`: family, state, timer, retrans, the 48-byte sockid, then
/// expires, rqueue, wqueue, uid, inode (4 bytes each).
const INET_DIAG_MSG_LEN: usize = 72;
/// Every TCP state bit, SYN_RECV (3) and NEW_SYN_RECV (12) included, so request
/// sockets (a handshake half done) show as they do in `ss -tan`.
const ALL_STATES: u32 = (1 << 13) - 1;
/// How long one read of the dump may wait for the kernel.
const READ_TIMEOUT: Duration = Duration::from_secs(1);

/// The environment variable naming the sock_diag descriptor the lab supervisor hands
/// down to the tcpcraft it runs (open in the server's namespace).
pub const DIAG_FD_ENV: &str = "TCPCRAFT_LAB_DIAG_FD";
/// The environment variable with the lab server's `tcp_synack_retries,tcp_fin_timeout`.
pub const TIMERS_ENV: &str = "TCPCRAFT_LAB_TIMERS";

static SEQ: AtomicU32 = AtomicU32::new(1);

/// A TCP state as the kernel numbers it (include/net/tcp_states.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KernelState {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    /// A request socket (Linux 4.4+): a SYN answered, the handshake's ACK not yet in.
    /// The kernel reports these as SYN_RECV in dumps; kept apart so that a raw 12
    /// still converts both ways.
    NewSynRecv,
    /// A number this code does not know (a newer kernel's state).
    Unknown(u8),
}

impl From<u8> for KernelState {
    fn from(n: u8) -> KernelState {
        match n {
            1 => KernelState::Established,
            2 => KernelState::SynSent,
            3 => KernelState::SynRecv,
            4 => KernelState::FinWait1,
            5 => KernelState::FinWait2,
            6 => KernelState::TimeWait,
            7 => KernelState::Close,
            8 => KernelState::CloseWait,
            9 => KernelState::LastAck,
            10 => KernelState::Listen,
            11 => KernelState::Closing,
            12 => KernelState::NewSynRecv,
            n => KernelState::Unknown(n),
        }
    }
}

impl From<KernelState> for u8 {
    fn from(s: KernelState) -> u8 {
        match s {
            KernelState::Established => 1,
            KernelState::SynSent => 2,
            KernelState::SynRecv => 3,
            KernelState::FinWait1 => 4,
            KernelState::FinWait2 => 5,
            KernelState::TimeWait => 6,
            KernelState::Close => 7,
            KernelState::CloseWait => 8,
            KernelState::LastAck => 9,
            KernelState::Listen => 10,
            KernelState::Closing => 11,
            KernelState::NewSynRecv => 12,
            KernelState::Unknown(n) => n,
        }
    }
}

impl KernelState {
    /// Exactly what `ss -tan` prints in its State column, so that a test or a person
    /// can hold the two side by side.
    pub fn ss_name(&self) -> &'static str {
        match self {
            KernelState::Established => "ESTAB",
            KernelState::SynSent => "SYN-SENT",
            KernelState::SynRecv | KernelState::NewSynRecv => "SYN-RECV",
            KernelState::FinWait1 => "FIN-WAIT-1",
            KernelState::FinWait2 => "FIN-WAIT-2",
            KernelState::TimeWait => "TIME-WAIT",
            KernelState::Close => "UNCONN",
            KernelState::CloseWait => "CLOSE-WAIT",
            KernelState::LastAck => "LAST-ACK",
            KernelState::Listen => "LISTEN",
            KernelState::Closing => "CLOSING",
            KernelState::Unknown(_) => "UNKNOWN",
        }
    }

    /// The RFC 9293 name as tcpcraft's sessions print states (`session::state::State`),
    /// so the kernel's state and the inferred one compare as strings.
    pub fn rfc_name(&self) -> &'static str {
        match self {
            KernelState::Established => "ESTABLISHED",
            KernelState::SynSent => "SYN_SENT",
            KernelState::SynRecv | KernelState::NewSynRecv => "SYN_RECEIVED",
            KernelState::FinWait1 => "FIN_WAIT_1",
            KernelState::FinWait2 => "FIN_WAIT_2",
            KernelState::TimeWait => "TIME_WAIT",
            KernelState::Close => "CLOSED",
            KernelState::CloseWait => "CLOSE_WAIT",
            KernelState::LastAck => "LAST_ACK",
            KernelState::Listen => "LISTEN",
            KernelState::Closing => "CLOSING",
            KernelState::Unknown(_) => "UNKNOWN",
        }
    }
}

impl fmt::Display for KernelState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelState::Unknown(n) => write!(f, "UNKNOWN({n})"),
            s => f.write_str(s.rfc_name()),
        }
    }
}

/// One TCP socket of the kernel, as a dump reports it. Addresses are as the kernel
/// holds them: an IPv4 peer of a dual-stack IPv6 socket is `[::ffff:198.18.0.1]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelSocket {
    pub state: KernelState,
    pub local: SocketAddr,
    pub remote: SocketAddr,
}

/// What one batch of dump messages held.
#[derive(Debug, Default)]
pub struct DumpPart {
    pub sockets: Vec<KernelSocket>,
    /// NLMSG_DONE of this dump was seen: stop reading.
    pub done: bool,
    /// The kernel answered with an error (a negative errno in NLMSG_ERROR).
    pub error: Option<i32>,
}

/// The sock_diag socket the lab's supervisor opened in the server's namespace and
/// handed down ([`DIAG_FD_ENV`]), adopted once and shared by every session (one dump
/// at a time); `None` outside a lab.
pub fn lab_socket() -> Option<std::sync::Arc<std::sync::Mutex<OwnedFd>>> {
    use std::sync::{Arc, Mutex, OnceLock};
    static FD: OnceLock<Option<Arc<Mutex<OwnedFd>>>> = OnceLock::new();
    FD.get_or_init(|| {
        let raw: i32 = std::env::var(DIAG_FD_ENV).ok()?.parse().ok()?;
        sys::adopt_inherited_socket(raw).map(|fd| Arc::new(Mutex::new(fd)))
    })
    .clone()
}

/// A sock_diag socket in the named network namespace (`/run/netns/NAME`, as
/// `ip netns add` makes them). The namespace is entered on a helper thread that ends
/// right after, so the caller's namespace never changes; the socket keeps reporting on
/// the namespace it was made in.
pub fn open_in_netns(netns_name: &str) -> io::Result<OwnedFd> {
    if netns_name.is_empty() || netns_name.contains('/') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a network namespace name: {netns_name:?}"),
        ));
    }
    std::thread::scope(|s| {
        s.spawn(|| {
            sys::enter_netns(netns_name).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("entering network namespace {netns_name}: {e}"),
                )
            })?;
            open_here()
        })
        .join()
        .map_err(|_| io::Error::other("the namespace helper thread panicked"))?
    })
}

/// A sock_diag socket in the caller's current network namespace.
pub fn open_here() -> io::Result<OwnedFd> {
    sys::socket(libc::AF_NETLINK, libc::SOCK_DGRAM, NETLINK_SOCK_DIAG)
}

/// Every TCP socket (IPv4 and IPv6, any state) whose local port is `local_port`, in the
/// namespace of `fd`. One caller at a time per descriptor: two dumps read concurrently
/// from one socket would take each other's messages.
pub fn tcp_sockets(fd: &OwnedFd, local_port: u16) -> io::Result<Vec<KernelSocket>> {
    let mut out = Vec::new();
    for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        sys::send(fd, &dump_request(family, local_port, seq))?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = sys::recv_datagram(fd, &mut buf, READ_TIMEOUT)?;
            let Some(bytes) = buf.get(..n) else {
                return Err(io::Error::other(format!(
                    "a sock_diag message of {n} bytes did not fit a {}-byte buffer",
                    buf.len()
                )));
            };
            let part = parse_dump(bytes, seq);
            if let Some(errno) = part.error {
                return Err(io::Error::from_raw_os_error(errno));
            }
            out.extend(
                part.sockets
                    .into_iter()
                    .filter(|s| s.local.port() == local_port),
            );
            if part.done || n == 0 {
                break;
            }
        }
    }
    Ok(out)
}

/// The kernel state of the one connection from local port `local_port` to `remote`, or
/// `None` when the kernel holds no socket for that 4-tuple (never made, or gone).
/// IPv4-mapped IPv6 addresses match their IPv4 form: a dual-stack server (listening on
/// `::`) holds its IPv4 peers as `::ffff:198.18.0.1`.
pub fn connection_state(
    fd: &OwnedFd,
    local_port: u16,
    remote: SocketAddr,
) -> io::Result<Option<KernelState>> {
    Ok(find_connection(&tcp_sockets(fd, local_port)?, remote).map(|s| s.state))
}

/// The connection socket (not a listener) of `sockets` whose peer is `remote`,
/// comparing IPv4-mapped IPv6 addresses as IPv4.
pub fn find_connection(sockets: &[KernelSocket], remote: SocketAddr) -> Option<&KernelSocket> {
    let want = (remote.ip().to_canonical(), remote.port());
    sockets.iter().find(|s| {
        s.state != KernelState::Listen && (s.remote.ip().to_canonical(), s.remote.port()) == want
    })
}

/// The state of the kernel's socket for exactly `local` ↔ `remote` (local: the
/// socket's own address), found by the kernel's hash lookup instead of a dump of every
/// socket (a dump walks the whole table: milliseconds; this takes microseconds).
/// `None` when there is no such connection socket (a listener found instead does not
/// count). An IPv4-mapped address is looked up as IPv4, where Linux keeps a dual-stack
/// listener's IPv4 connections.
pub fn lookup(
    fd: &OwnedFd,
    local: SocketAddr,
    remote: SocketAddr,
) -> io::Result<Option<KernelState>> {
    let (l, r) = (local.ip().to_canonical(), remote.ip().to_canonical());
    if l.is_ipv4() != r.is_ipv4() {
        return Ok(None);
    }
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    sys::send(
        fd,
        &exact_request(
            SocketAddr::new(l, local.port()),
            SocketAddr::new(r, remote.port()),
            seq,
        ),
    )?;
    let mut buf = vec![0u8; 8 * 1024];
    loop {
        let n = sys::recv_datagram(fd, &mut buf, READ_TIMEOUT)?;
        let bytes = buf.get(..n).unwrap_or(&[]);
        let part = parse_dump(bytes, seq);
        match part.error {
            Some(e) if e == libc::ENOENT => return Ok(None),
            Some(e) => return Err(io::Error::from_raw_os_error(e)),
            None => {}
        }
        if let Some(sock) = part.sockets.first() {
            return Ok((sock.state != KernelState::Listen).then_some(sock.state));
        }
        if part.done || n == 0 {
            return Ok(None);
        }
    }
}

/// An `inet_diag_req_v2` for one socket, by its whole 4-tuple (no dump).
pub fn exact_request(local: SocketAddr, remote: SocketAddr, seq: u32) -> Vec<u8> {
    const REQ_LEN: usize = NLMSG_HDRLEN + 8 + 48;
    let family = if local.is_ipv4() {
        libc::AF_INET as u8
    } else {
        libc::AF_INET6 as u8
    };
    let field = |ip: IpAddr| -> [u8; 16] {
        let mut f = [0u8; 16];
        match ip {
            IpAddr::V4(a) => f[..4].copy_from_slice(&a.octets()),
            IpAddr::V6(a) => f.copy_from_slice(&a.octets()),
        }
        f
    };
    let mut b = Vec::with_capacity(REQ_LEN);
    b.extend_from_slice(&(REQ_LEN as u32).to_ne_bytes());
    b.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    b.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    b.extend_from_slice(&[family, libc::IPPROTO_TCP as u8, 0, 0]);
    b.extend_from_slice(&ALL_STATES.to_ne_bytes());
    b.extend_from_slice(&local.port().to_be_bytes());
    b.extend_from_slice(&remote.port().to_be_bytes());
    b.extend_from_slice(&field(local.ip()));
    b.extend_from_slice(&field(remote.ip()));
    b.extend_from_slice(&0u32.to_ne_bytes()); // interface: any
    b.extend_from_slice(&u32::MAX.to_ne_bytes()); // cookie: INET_DIAG_NOCOOKIE
    b.extend_from_slice(&u32::MAX.to_ne_bytes());
    b
}

/// An `inet_diag_req_v2` dump request for TCP sockets of `family` in every state. The
/// kernel also filters on `id.idiag_sport` when it is set; callers filter the replies
/// again anyway.
pub fn dump_request(family: u8, local_port: u16, seq: u32) -> Vec<u8> {
    const REQ_LEN: usize = NLMSG_HDRLEN + 8 + 48;
    let mut b = Vec::with_capacity(REQ_LEN);
    b.extend_from_slice(&(REQ_LEN as u32).to_ne_bytes());
    b.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    b.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes()); // pid: the kernel fills it in
                                              // sdiag_family, sdiag_protocol, idiag_ext, pad, idiag_states
    b.extend_from_slice(&[family, libc::IPPROTO_TCP as u8, 0, 0]);
    b.extend_from_slice(&ALL_STATES.to_ne_bytes());
    // inet_diag_sockid: sport and dport (network order), src[4], dst[4], if, cookie[2]
    b.extend_from_slice(&local_port.to_be_bytes());
    b.extend_from_slice(&[0u8; 46]);
    b
}

fn u16_ne(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_ne_bytes([*s.first()?, *s.get(1)?]))
}

fn u16_be(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

fn u32_ne(b: &[u8], at: usize) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_ne_bytes(s))
}

/// An address of `family` from a 16-byte `idiag_src` / `idiag_dst` field.
fn addr(family: u8, field: &[u8], port: u16) -> Option<SocketAddr> {
    let ip = if family == libc::AF_INET as u8 {
        let a: [u8; 4] = field.get(..4)?.try_into().ok()?;
        IpAddr::V4(Ipv4Addr::from(a))
    } else if family == libc::AF_INET6 as u8 {
        let a: [u8; 16] = field.get(..16)?.try_into().ok()?;
        IpAddr::V6(Ipv6Addr::from(a))
    } else {
        return None;
    };
    Some(SocketAddr::new(ip, port))
}

/// One `inet_diag_msg` body, or `None` when it is too short or of another family.
pub fn parse_inet_diag_msg(body: &[u8]) -> Option<KernelSocket> {
    if body.len() < INET_DIAG_MSG_LEN {
        return None;
    }
    let family = *body.first()?;
    let state = KernelState::from(*body.get(1)?);
    // The sockid starts at 4: sport 4..6, dport 6..8, src 8..24, dst 24..40.
    let sport = u16_be(body, 4)?;
    let dport = u16_be(body, 6)?;
    let local = addr(family, body.get(8..24)?, sport)?;
    let remote = addr(family, body.get(24..40)?, dport)?;
    Some(KernelSocket {
        state,
        local,
        remote,
    })
}

/// The sockets in one datagram of a dump answering request `seq`. Messages of other
/// sequence numbers (left over from an earlier dump that timed out) are skipped, and
/// so is anything shorter than it claims to be.
pub fn parse_dump(buf: &[u8], seq: u32) -> DumpPart {
    let mut part = DumpPart::default();
    let mut at = 0usize;
    while let (Some(len), Some(ty), Some(mseq)) =
        (u32_ne(buf, at), u16_ne(buf, at + 4), u32_ne(buf, at + 8))
    {
        let len = len as usize;
        if len < NLMSG_HDRLEN {
            break;
        }
        let Some(body) = at
            .checked_add(len)
            .and_then(|end| buf.get(at + NLMSG_HDRLEN..end))
        else {
            break;
        };
        if mseq == seq {
            match ty {
                NLMSG_DONE => part.done = true,
                NLMSG_ERROR => {
                    part.done = true;
                    // struct nlmsgerr: a negative errno, then the request's header.
                    let code = u32_ne(body, 0).map_or(0, |c| c as i32);
                    if code < 0 {
                        part.error = Some(code.saturating_neg());
                    }
                }
                SOCK_DIAG_BY_FAMILY => part.sockets.extend(parse_inet_diag_msg(body)),
                _ => {}
            }
        }
        // Messages are 4-byte aligned.
        let Some(next) = at.checked_add((len + 3) & !3) else {
            break;
        };
        at = next;
    }
    part
}

#[cfg(test)]
mod tests {
    use super::*;

    const AF4: u8 = libc::AF_INET as u8;
    const AF6: u8 = libc::AF_INET6 as u8;

    /// An `inet_diag_msg` body as the kernel lays it out (unused fields 0xa5, so a
    /// parser reading the wrong bytes shows).
    fn diag_msg(family: u8, state: u8, src: &[u8], sport: u16, dst: &[u8], dport: u16) -> Vec<u8> {
        let mut b = vec![0xa5u8; INET_DIAG_MSG_LEN];
        b[0] = family;
        b[1] = state;
        b[4..6].copy_from_slice(&sport.to_be_bytes());
        b[6..8].copy_from_slice(&dport.to_be_bytes());
        b[8..24].fill(0);
        b[8..8 + src.len()].copy_from_slice(src);
        b[24..40].fill(0);
        b[24..24 + dst.len()].copy_from_slice(dst);
        // One trailing attribute (INET_DIAG_INFO-like), which the parser must skip.
        b.extend_from_slice(&8u16.to_ne_bytes());
        b.extend_from_slice(&2u16.to_ne_bytes());
        b.extend_from_slice(&[1, 2, 3, 4]);
        b
    }

    fn nlmsg(ty: u16, seq: u32, body: &[u8]) -> Vec<u8> {
        let len = NLMSG_HDRLEN + body.len();
        let mut b = Vec::new();
        b.extend_from_slice(&(len as u32).to_ne_bytes());
        b.extend_from_slice(&ty.to_ne_bytes());
        b.extend_from_slice(&0x2u16.to_ne_bytes()); // NLM_F_MULTI
        b.extend_from_slice(&seq.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(body);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        b
    }

    fn mapped(v4: [u8; 4]) -> Vec<u8> {
        let mut a = vec![0u8; 10];
        a.extend_from_slice(&[0xff, 0xff]);
        a.extend_from_slice(&v4);
        a
    }

    #[test]
    fn parses_a_dump_of_ipv4_and_mapped_ipv6_sockets() {
        let mut buf = nlmsg(
            SOCK_DIAG_BY_FAMILY,
            7,
            &diag_msg(AF4, 10, &[198, 18, 0, 2], 80, &[0; 4], 0),
        );
        buf.extend(nlmsg(
            SOCK_DIAG_BY_FAMILY,
            7,
            &diag_msg(
                AF6,
                8,
                &mapped([198, 18, 0, 2]),
                80,
                &mapped([198, 18, 0, 1]),
                40000,
            ),
        ));
        buf.extend(nlmsg(NLMSG_DONE, 7, &0u32.to_ne_bytes()));
        let part = parse_dump(&buf, 7);
        assert!(part.done);
        assert_eq!(part.error, None);
        assert_eq!(part.sockets.len(), 2);
        assert_eq!(part.sockets[0].state, KernelState::Listen);
        assert_eq!(part.sockets[0].local, "198.18.0.2:80".parse().unwrap());
        assert_eq!(part.sockets[0].remote, "0.0.0.0:0".parse().unwrap());
        let c = part.sockets[1];
        assert_eq!(c.state, KernelState::CloseWait);
        assert_eq!(c.local, "[::ffff:198.18.0.2]:80".parse().unwrap());
        assert_eq!(c.remote, "[::ffff:198.18.0.1]:40000".parse().unwrap());
        // The IPv4 form of a mapped peer finds it; the listener never matches.
        let found = find_connection(&part.sockets, "198.18.0.1:40000".parse().unwrap());
        assert_eq!(found.map(|s| s.state), Some(KernelState::CloseWait));
        assert!(find_connection(&part.sockets, "198.18.0.1:40001".parse().unwrap()).is_none());
        assert!(find_connection(&part.sockets, "0.0.0.0:0".parse().unwrap()).is_none());
    }

    #[test]
    fn plain_ipv6_sockets_keep_their_addresses() {
        let s: Ipv6Addr = "2001:db8:198:18::2".parse().unwrap();
        let c: Ipv6Addr = "2001:db8:198:18::1".parse().unwrap();
        let buf = nlmsg(
            SOCK_DIAG_BY_FAMILY,
            1,
            &diag_msg(AF6, 1, &s.octets(), 7, &c.octets(), 5555),
        );
        let part = parse_dump(&buf, 1);
        assert!(!part.done);
        assert_eq!(
            part.sockets,
            vec![KernelSocket {
                state: KernelState::Established,
                local: SocketAddr::new(s.into(), 7),
                remote: SocketAddr::new(c.into(), 5555),
            }]
        );
    }

    #[test]
    fn an_error_answer_is_reported_with_its_errno() {
        let mut body = (-libc::ENOENT).to_ne_bytes().to_vec();
        body.extend_from_slice(&[0u8; 16]);
        let part = parse_dump(&nlmsg(NLMSG_ERROR, 3, &body), 3);
        assert!(part.done);
        assert_eq!(part.error, Some(libc::ENOENT));
        // An acknowledgement (errno 0) is no error.
        let part = parse_dump(&nlmsg(NLMSG_ERROR, 3, &[0u8; 20]), 3);
        assert_eq!(part.error, None);
    }

    #[test]
    fn other_sequence_numbers_are_skipped() {
        let mut buf = nlmsg(
            SOCK_DIAG_BY_FAMILY,
            2,
            &diag_msg(AF4, 1, &[198, 18, 0, 2], 80, &[198, 18, 0, 1], 1),
        );
        buf.extend(nlmsg(NLMSG_DONE, 2, &[0; 4]));
        let part = parse_dump(&buf, 9);
        assert!(part.sockets.is_empty());
        assert!(!part.done);
    }

    #[test]
    fn short_and_odd_messages_never_panic() {
        let good = nlmsg(
            SOCK_DIAG_BY_FAMILY,
            5,
            &diag_msg(AF4, 1, &[198, 18, 0, 2], 80, &[198, 18, 0, 1], 1),
        );
        // Every prefix of a good message: parsed whole or not at all.
        for cut in 0..good.len() {
            let part = parse_dump(&good[..cut], 5);
            assert!(part.sockets.len() <= 1, "cut {cut}");
        }
        // A body shorter than inet_diag_msg is skipped; so is an unknown family.
        assert!(parse_dump(&nlmsg(SOCK_DIAG_BY_FAMILY, 5, &[2, 1, 0, 0]), 5)
            .sockets
            .is_empty());
        let odd = diag_msg(99, 1, &[1, 2, 3, 4], 1, &[5, 6, 7, 8], 2);
        assert!(parse_dump(&nlmsg(SOCK_DIAG_BY_FAMILY, 5, &odd), 5)
            .sockets
            .is_empty());
        // A length below the header's, one past the buffer, and one near u32::MAX.
        for len in [0u32, 15, 1000, u32::MAX] {
            let mut b = good.clone();
            b[..4].copy_from_slice(&len.to_ne_bytes());
            assert!(parse_dump(&b, 5).sockets.is_empty(), "len {len}");
        }
        assert!(parse_dump(&[], 5).sockets.is_empty());
        // An error message without its errno.
        assert_eq!(parse_dump(&nlmsg(NLMSG_ERROR, 5, &[]), 5).error, None);
    }

    #[test]
    fn unknown_states_survive_and_both_names_match_ss_and_rfc() {
        for n in 0..=255u8 {
            assert_eq!(u8::from(KernelState::from(n)), n);
        }
        let table = [
            (1, "ESTAB", "ESTABLISHED"),
            (2, "SYN-SENT", "SYN_SENT"),
            (3, "SYN-RECV", "SYN_RECEIVED"),
            (4, "FIN-WAIT-1", "FIN_WAIT_1"),
            (5, "FIN-WAIT-2", "FIN_WAIT_2"),
            (6, "TIME-WAIT", "TIME_WAIT"),
            (7, "UNCONN", "CLOSED"),
            (8, "CLOSE-WAIT", "CLOSE_WAIT"),
            (9, "LAST-ACK", "LAST_ACK"),
            (10, "LISTEN", "LISTEN"),
            (11, "CLOSING", "CLOSING"),
            (12, "SYN-RECV", "SYN_RECEIVED"),
        ];
        for (n, ss, rfc) in table {
            let s = KernelState::from(n);
            assert_eq!((s.ss_name(), s.rfc_name()), (ss, rfc), "state {n}");
        }
        assert_eq!(KernelState::from(13).to_string(), "UNKNOWN(13)");
        assert_eq!(KernelState::from(8).to_string(), "CLOSE_WAIT");
    }

    #[test]
    fn the_request_is_an_inet_diag_req_v2_dump() {
        let r = dump_request(AF6, 8080, 42);
        assert_eq!(r.len(), 72);
        assert_eq!(u32_ne(&r, 0), Some(72));
        assert_eq!(u16_ne(&r, 4), Some(SOCK_DIAG_BY_FAMILY));
        assert_eq!(u16_ne(&r, 6), Some(NLM_F_REQUEST | NLM_F_DUMP));
        assert_eq!(u32_ne(&r, 8), Some(42));
        assert_eq!(&r[16..20], &[AF6, 6, 0, 0]);
        assert_eq!(u32_ne(&r, 20), Some(0x1fff));
        assert_eq!(&r[24..26], &8080u16.to_be_bytes());
        assert!(r[26..].iter().all(|&b| b == 0));
    }
}
