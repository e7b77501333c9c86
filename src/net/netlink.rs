//! rtnetlink queries: the kernel's routing decision (`ip route get`) and its neighbour
//! table (`ip neigh`). Messages are built and parsed as bytes; parsing never trusts a
//! length field without checking it against the buffer.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::sys;

const NETLINK_ROUTE: i32 = 0;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWROUTE: u16 = 24;
const RTM_GETROUTE: u16 = 26;
const RTM_NEWNEIGH: u16 = 28;
const RTM_GETNEIGH: u16 = 30;
const RTA_DST: u16 = 1;
const RTA_SRC: u16 = 2;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PREFSRC: u16 = 7;
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
/// Neighbour states whose link-layer address can be used right away.
const NUD_USABLE: u16 = 0x02 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80;
const RTN_LOCAL: u8 = 2;

static SEQ: AtomicU32 = AtomicU32::new(1);

/// What `ip route get DST` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteInfo {
    pub oif: u32,
    pub gateway: Option<IpAddr>,
    pub prefsrc: Option<IpAddr>,
    /// The destination is one of this host's own addresses (delivered over loopback).
    pub local: bool,
}

fn open() -> io::Result<OwnedFd> {
    sys::socket(libc::AF_NETLINK, libc::SOCK_RAW, NETLINK_ROUTE)
}

fn header(buf: &mut Vec<u8>, ty: u16, flags: u16) -> u32 {
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    buf.extend_from_slice(&0u32.to_ne_bytes()); // length, patched by finish()
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes());
    seq
}

fn attr(buf: &mut Vec<u8>, ty: u16, data: &[u8]) {
    let len = 4 + data.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(data);
    while buf.len() % 4 != 0 {
        buf.push(0);
    }
}

fn finish(buf: &mut [u8]) {
    let len = (buf.len() as u32).to_ne_bytes();
    buf[..4].copy_from_slice(&len);
}

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn ip_from(data: &[u8]) -> Option<IpAddr> {
    match data.len() {
        4 => <[u8; 4]>::try_from(data)
            .ok()
            .map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        16 => <[u8; 16]>::try_from(data)
            .ok()
            .map(|b| IpAddr::V6(Ipv6Addr::from(b))),
        _ => None,
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_ne_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

/// One netlink message: (type, body after the 16-byte header).
fn messages(buf: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while let (Some(len), Some(ty)) = (u32_at(buf, at), u16_at(buf, at + 4)) {
        let len = len as usize;
        if len < 16 {
            break;
        }
        let Some(body) = buf.get(at + 16..at + len) else {
            break;
        };
        out.push((ty, body));
        at += (len + 3) & !3;
    }
    out
}

/// Route attributes after a fixed header of `skip` bytes: (type, data).
fn attrs(body: &[u8], skip: usize) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut at = skip;
    while let (Some(len), Some(ty)) = (u16_at(body, at), u16_at(body, at + 2)) {
        let len = len as usize;
        if len < 4 {
            break;
        }
        let Some(data) = body.get(at + 4..at + len) else {
            break;
        };
        out.push((ty & 0x3fff, data));
        at += (len + 3) & !3;
    }
    out
}

fn error_of(body: &[u8]) -> Option<io::Error> {
    let code = u32_at(body, 0)? as i32;
    (code != 0).then(|| io::Error::from_raw_os_error(-code))
}

/// Ask the kernel which way it would send to `dst` (optionally from `src` / out of `oif`).
pub fn route_get(dst: IpAddr, src: Option<IpAddr>, oif: Option<u32>) -> io::Result<RouteInfo> {
    let fd = open()?;
    let mut msg = Vec::with_capacity(64);
    header(&mut msg, RTM_GETROUTE, NLM_F_REQUEST);
    let family = if dst.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    } as u8;
    let bits = if dst.is_ipv4() { 32 } else { 128 };
    // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
    msg.extend_from_slice(&[family, bits, 0, 0, 0, 0, 0, 0]);
    msg.extend_from_slice(&0u32.to_ne_bytes());
    attr(&mut msg, RTA_DST, &ip_bytes(dst));
    if let Some(s) = src {
        attr(&mut msg, RTA_SRC, &ip_bytes(s));
    }
    if let Some(i) = oif {
        attr(&mut msg, RTA_OIF, &i.to_ne_bytes());
    }
    finish(&mut msg);
    sys::send(&fd, &msg)?;
    let mut buf = vec![0u8; 16384];
    let n = sys::recv_timeout(&fd, &mut buf, Duration::from_secs(1))?;
    for (ty, body) in messages(buf.get(..n).unwrap_or_default()) {
        if ty == NLMSG_ERROR {
            if let Some(e) = error_of(body) {
                return Err(e);
            }
        }
        if ty == RTM_NEWROUTE {
            let local = body.get(7) == Some(&RTN_LOCAL);
            let mut info = RouteInfo {
                oif: 0,
                gateway: None,
                prefsrc: None,
                local,
            };
            for (aty, data) in attrs(body, 12) {
                match aty {
                    RTA_OIF => info.oif = u32_at(data, 0).unwrap_or(0),
                    RTA_GATEWAY => info.gateway = ip_from(data),
                    RTA_PREFSRC => info.prefsrc = ip_from(data),
                    _ => {}
                }
            }
            return Ok(info);
        }
    }
    Err(io::Error::other("no route in the kernel's answer"))
}

/// The link-layer address of neighbour `ip` on interface `ifindex`, if the kernel knows
/// a usable one.
pub fn neighbour(ip: IpAddr, ifindex: u32) -> io::Result<Option<[u8; 6]>> {
    let fd = open()?;
    let mut msg = Vec::with_capacity(32);
    let seq = header(&mut msg, RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP);
    let family = if ip.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    } as u8;
    // struct ndmsg: family, pad, pad16, ifindex, state, flags, type
    msg.extend_from_slice(&[family, 0, 0, 0]);
    msg.extend_from_slice(&0i32.to_ne_bytes());
    msg.extend_from_slice(&[0, 0, 0, 0]);
    finish(&mut msg);
    sys::send(&fd, &msg)?;
    let want = ip_bytes(ip);
    let mut found = None;
    let mut buf = vec![0u8; 65536];
    loop {
        let n = sys::recv_timeout(&fd, &mut buf, Duration::from_secs(1))?;
        let mut done = n == 0;
        for (ty, body) in messages(buf.get(..n).unwrap_or_default()) {
            match ty {
                NLMSG_DONE => done = true,
                NLMSG_ERROR => {
                    if let Some(e) = error_of(body) {
                        return Err(e);
                    }
                    done = true;
                }
                RTM_NEWNEIGH => {
                    let idx = u32_at(body, 4).unwrap_or(0);
                    let state = u16_at(body, 8).unwrap_or(0);
                    if idx != ifindex || state & NUD_USABLE == 0 {
                        continue;
                    }
                    let a = attrs(body, 12);
                    let dst_ok = a
                        .iter()
                        .any(|(t, d)| *t == NDA_DST && *d == want.as_slice());
                    let mac = a
                        .iter()
                        .find(|(t, _)| *t == NDA_LLADDR)
                        .and_then(|(_, d)| <[u8; 6]>::try_from(*d).ok());
                    if dst_ok {
                        if let Some(m) = mac {
                            found = Some(m);
                        }
                    }
                }
                _ => {}
            }
        }
        let _ = seq;
        if done {
            break;
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_messages_and_attrs_without_trusting_lengths() {
        // A message whose length field runs past the buffer is ignored, not sliced.
        let mut b = Vec::new();
        b.extend_from_slice(&100u32.to_ne_bytes());
        b.extend_from_slice(&[0; 12]);
        assert!(messages(&b).is_empty());
        let mut body = vec![0u8; 12];
        attr(&mut body, RTA_OIF, &7u32.to_ne_bytes());
        attr(&mut body, RTA_GATEWAY, &[198, 18, 0, 1]);
        body.extend_from_slice(&[200, 0, 9, 0]); // truncated attribute
        let a = attrs(&body, 12);
        assert_eq!(a.len(), 2);
        assert_eq!(
            ip_from(a[1].1),
            Some(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)))
        );
    }
}
