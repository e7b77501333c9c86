//! nftables over netlink, spoken by tcpcraft itself (no `nft` child).
//!
//! Why: a program tcpcraft runs must never receive a capability (see tcpcraft(1),
//! PRIVILEGES), and `nft` needs CAP_NET_ADMIN. So the few tables tcpcraft installs are
//! built here as nf_tables batches on a NETLINK_NETFILTER socket, CAP_NET_ADMIN raised
//! only around each send (the kernel checks it on every message). A table made with
//! [`TABLE_F_OWNER`] belongs to this socket: the kernel removes it when the socket
//! closes — on drop, exit, a signal or SIGKILL.
//!
//! Messages are built as bytes; the few replies read (acks, errors, the table list) are
//! parsed without trusting a length field that the buffer does not hold.

use std::io;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use super::sys;

const NETLINK_NETFILTER: i32 = 12;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 16;
const NFNL_MSG_BATCH_END: u16 = 17;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_APPEND: u16 = 0x800;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;

/// nf_tables message types (`enum nf_tables_msg_types`).
pub mod msg {
    pub const NEWTABLE: u8 = 0;
    pub const GETTABLE: u8 = 1;
    pub const DELTABLE: u8 = 2;
    pub const NEWCHAIN: u8 = 3;
    pub const NEWRULE: u8 = 6;
    pub const NEWSET: u8 = 9;
    pub const NEWSETELEM: u8 = 12;
    pub const DELSETELEM: u8 = 14;
}

/// Address families of tables.
pub const NFPROTO_INET: u8 = 1;
pub const NFPROTO_NETDEV: u8 = 5;
/// The table belongs to the netlink socket that made it (Linux 5.12).
pub const TABLE_F_OWNER: u32 = 0x2;
/// Hooks: NF_INET_LOCAL_OUT for inet, NF_NETDEV_INGRESS for netdev.
pub const HOOK_OUTPUT: u32 = 3;
pub const HOOK_INGRESS: u32 = 0;
/// The set key type nft calls inet_service (a port).
const TYPE_INET_SERVICE: u32 = 13;
const NF_ACCEPT: u32 = 1;
const NF_DROP: u32 = 0;
const REG_VERDICT: u32 = 0;
const REG_1: u32 = 1;

/// Comparison operators (`enum nft_cmp_ops`).
#[derive(Clone, Copy, Debug)]
pub enum Cmp {
    Eq = 0,
    Neq = 1,
    Lte = 3,
    Gte = 5,
}

/// Netlink attributes, built front to back.
#[derive(Clone, Debug, Default)]
pub struct Attrs(Vec<u8>);

impl Attrs {
    pub fn new() -> Attrs {
        Attrs(Vec::new())
    }

    pub fn bytes(mut self, ty: u16, data: &[u8]) -> Attrs {
        let len = 4 + data.len();
        self.0.extend_from_slice(&(len as u16).to_ne_bytes());
        self.0.extend_from_slice(&ty.to_ne_bytes());
        self.0.extend_from_slice(data);
        while self.0.len() % 4 != 0 {
            self.0.push(0);
        }
        self
    }

    /// A NUL-terminated string.
    pub fn str(self, ty: u16, s: &str) -> Attrs {
        let mut b = s.as_bytes().to_vec();
        b.push(0);
        self.bytes(ty, &b)
    }

    /// nf_tables numbers are big-endian.
    pub fn be32(self, ty: u16, v: u32) -> Attrs {
        self.bytes(ty, &v.to_be_bytes())
    }

    pub fn nested(self, ty: u16, inner: Attrs) -> Attrs {
        // NLA_F_NESTED
        self.bytes(ty | 0x8000, &inner.0)
    }
}

/// `nft_data` holding a value.
fn data(v: &[u8]) -> Attrs {
    Attrs::new().bytes(1, v)
}

/// Expressions of a rule, in order.
#[derive(Clone, Debug, Default)]
pub struct Rule(Attrs);

impl Rule {
    pub fn new() -> Rule {
        Rule(Attrs::new())
    }

    fn expr(self, name: &str, body: Attrs) -> Rule {
        let e = Attrs::new().str(1, name).nested(2, body);
        Rule(self.0.nested(1, e))
    }

    /// `meta KEY => reg 1` (1 = protocol, 3 = mark, 16 = l4proto).
    pub fn meta(self, key: u32) -> Rule {
        self.expr("meta", Attrs::new().be32(1, REG_1).be32(2, key))
    }

    /// `payload load LEN @ network header + OFFSET => reg 1`.
    pub fn network(self, offset: u32, len: u32) -> Rule {
        self.expr(
            "payload",
            Attrs::new()
                .be32(1, REG_1)
                .be32(2, 1)
                .be32(3, offset)
                .be32(4, len),
        )
    }

    /// `payload load LEN @ transport header + OFFSET => reg 1`.
    pub fn transport(self, offset: u32, len: u32) -> Rule {
        self.expr(
            "payload",
            Attrs::new()
                .be32(1, REG_1)
                .be32(2, 2)
                .be32(3, offset)
                .be32(4, len),
        )
    }

    /// `cmp OP reg 1 VALUE`.
    pub fn cmp(self, op: Cmp, value: &[u8]) -> Rule {
        self.expr(
            "cmp",
            Attrs::new()
                .be32(1, REG_1)
                .be32(2, op as u32)
                .nested(3, data(value)),
        )
    }

    /// `bitwise reg 1 = (reg 1 & MASK) ^ 0`.
    pub fn and(self, mask: &[u8]) -> Rule {
        let zero = vec![0u8; mask.len()];
        self.expr(
            "bitwise",
            Attrs::new()
                .be32(1, REG_1)
                .be32(2, REG_1)
                .be32(3, mask.len() as u32)
                .nested(4, data(mask))
                .nested(5, data(&zero)),
        )
    }

    /// `lookup reg 1 set NAME` (set `id` when made in the same batch).
    pub fn lookup(self, set: &str, id: u32) -> Rule {
        self.expr(
            "lookup",
            Attrs::new().str(1, set).be32(2, REG_1).be32(4, id),
        )
    }

    /// `counter` (packets and bytes, shown by `nft list`).
    pub fn counter(self) -> Rule {
        self.expr(
            "counter",
            Attrs::new()
                .bytes(1, &0u64.to_be_bytes())
                .bytes(2, &0u64.to_be_bytes()),
        )
    }

    /// `immediate reg 0 drop`.
    pub fn drop_packet(self) -> Rule {
        let verdict = Attrs::new().nested(2, Attrs::new().be32(1, NF_DROP));
        self.expr(
            "immediate",
            Attrs::new().be32(1, REG_VERDICT).nested(2, verdict),
        )
    }

    /// `tcp flags & rst == rst` (after `meta l4proto tcp`).
    pub fn tcp_rst(self) -> Rule {
        self.meta(16)
            .cmp(Cmp::Eq, &[6])
            .transport(13, 1)
            .and(&[0x04])
            .cmp(Cmp::Eq, &[0x04])
    }
}

/// One nf_tables message of a batch.
#[derive(Clone, Debug)]
pub struct Msg {
    ty: u8,
    flags: u16,
    family: u8,
    attrs: Attrs,
}

impl Msg {
    pub fn new_table(family: u8, name: &str, flags: u32) -> Msg {
        Msg {
            ty: msg::NEWTABLE,
            flags: NLM_F_CREATE,
            family,
            attrs: Attrs::new().str(1, name).be32(2, flags),
        }
    }

    pub fn del_table(family: u8, name: &str) -> Msg {
        Msg {
            ty: msg::DELTABLE,
            flags: 0,
            family,
            attrs: Attrs::new().str(1, name),
        }
    }

    /// A base chain of type filter, policy accept, on `hook` at `priority` (ingress
    /// hooks name their `device`).
    pub fn new_chain(
        family: u8,
        table: &str,
        name: &str,
        hook: u32,
        priority: i32,
        device: Option<&str>,
    ) -> Msg {
        let mut h = Attrs::new().be32(1, hook).be32(2, priority as u32);
        if let Some(d) = device {
            h = h.str(3, d);
        }
        Msg {
            ty: msg::NEWCHAIN,
            flags: NLM_F_CREATE,
            family,
            attrs: Attrs::new()
                .str(1, table)
                .str(3, name)
                .nested(4, h)
                .be32(5, NF_ACCEPT)
                .str(7, "filter"),
        }
    }

    /// A set of ports (`type inet_service`), with id `id` within its batch.
    pub fn new_port_set(family: u8, table: &str, name: &str, id: u32) -> Msg {
        Msg {
            ty: msg::NEWSET,
            flags: NLM_F_CREATE,
            family,
            attrs: Attrs::new()
                .str(1, table)
                .str(2, name)
                .be32(3, 0)
                .be32(4, TYPE_INET_SERVICE)
                .be32(5, 2)
                .be32(10, id),
        }
    }

    /// Add (`add`) or remove a port of a port set.
    pub fn set_port(family: u8, table: &str, set: &str, port: u16, add: bool) -> Msg {
        let key = Attrs::new().nested(1, data(&port.to_be_bytes()));
        let elem = Attrs::new().nested(1, key);
        Msg {
            ty: if add {
                msg::NEWSETELEM
            } else {
                msg::DELSETELEM
            },
            flags: if add { NLM_F_CREATE } else { 0 },
            family,
            attrs: Attrs::new().str(1, table).str(2, set).nested(3, elem),
        }
    }

    pub fn new_rule(family: u8, table: &str, chain: &str, rule: Rule) -> Msg {
        Msg {
            ty: msg::NEWRULE,
            flags: NLM_F_CREATE | NLM_F_APPEND,
            family,
            attrs: Attrs::new().str(1, table).str(2, chain).nested(4, rule.0),
        }
    }
}

fn header(buf: &mut Vec<u8>, ty: u16, flags: u16, seq: u32, family: u8, res_id: u16) {
    buf.extend_from_slice(&0u32.to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes());
    // struct nfgenmsg: family, version, res_id (big-endian)
    buf.push(family);
    buf.push(0);
    buf.extend_from_slice(&res_id.to_be_bytes());
}

fn finish(buf: &mut [u8], start: usize) {
    let len = (buf.len() - start) as u32;
    buf[start..start + 4].copy_from_slice(&len.to_ne_bytes());
}

/// A NETLINK_NETFILTER socket, in the network namespace of the thread that opened it.
#[derive(Debug)]
pub struct Nft {
    fd: OwnedFd,
    seq: u32,
}

/// How long the kernel may take to answer one batch.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

impl Nft {
    pub fn open() -> io::Result<Nft> {
        let fd = sys::socket(libc::AF_NETLINK, libc::SOCK_RAW, NETLINK_NETFILTER)?;
        // Sequence numbers start from the clock, so replies to another socket's run
        // are never mistaken for ours.
        let seq = (sys::clocks().1.as_nanos() as u32) | 1;
        Ok(Nft { fd, seq })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// Send `msgs` as one transaction (all or nothing) and wait for the kernel's answer
    /// to each. The error is the first the kernel reported.
    pub fn batch(&mut self, msgs: &[Msg]) -> io::Result<()> {
        let mut buf = Vec::new();
        let begin = buf.len();
        let seq0 = self.next_seq();
        header(
            &mut buf,
            NFNL_MSG_BATCH_BEGIN,
            NLM_F_REQUEST,
            seq0,
            0,
            NFNL_SUBSYS_NFTABLES,
        );
        finish(&mut buf, begin);
        let mut want = Vec::new();
        for m in msgs {
            let start = buf.len();
            let seq = self.next_seq();
            want.push(seq);
            header(
                &mut buf,
                (NFNL_SUBSYS_NFTABLES << 8) | u16::from(m.ty),
                NLM_F_REQUEST | NLM_F_ACK | m.flags,
                seq,
                m.family,
                0,
            );
            buf.extend_from_slice(&m.attrs.0);
            finish(&mut buf, start);
        }
        let end = buf.len();
        let seq_end = self.next_seq();
        header(
            &mut buf,
            NFNL_MSG_BATCH_END,
            NLM_F_REQUEST,
            seq_end,
            0,
            NFNL_SUBSYS_NFTABLES,
        );
        finish(&mut buf, end);
        {
            // The kernel checks CAP_NET_ADMIN of the sender on every message.
            let _caps = sys::raise_net_caps();
            sys::send(&self.fd, &buf)?;
        }
        let mut answered = 0usize;
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        let mut rx = vec![0u8; 16384];
        while answered < want.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            let n = sys::recv_timeout(&self.fd, &mut rx, left)?;
            for (ty, seq, payload) in messages(&rx[..n.min(rx.len())]) {
                if ty != NLMSG_ERROR || !want.contains(&seq) {
                    continue;
                }
                let code = payload
                    .get(..4)
                    .and_then(|b| b.try_into().ok())
                    .map(i32::from_ne_bytes)
                    .unwrap_or(-libc::EPROTO);
                if code != 0 {
                    return Err(io::Error::from_raw_os_error(-code));
                }
                answered += 1;
            }
        }
        Ok(())
    }

    /// Every nf_tables table: (family, name).
    pub fn tables(&mut self) -> io::Result<Vec<(u8, String)>> {
        let mut buf = Vec::new();
        let seq = self.next_seq();
        header(
            &mut buf,
            (NFNL_SUBSYS_NFTABLES << 8) | u16::from(msg::GETTABLE),
            NLM_F_REQUEST | NLM_F_DUMP,
            seq,
            0,
            0,
        );
        finish(&mut buf, 0);
        {
            let _caps = sys::raise_net_caps();
            sys::send(&self.fd, &buf)?;
        }
        let mut out = Vec::new();
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        let mut rx = vec![0u8; 65536];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let n = sys::recv_timeout(&self.fd, &mut rx, left)?;
            for (ty, s, payload) in messages(&rx[..n.min(rx.len())]) {
                if s != seq {
                    continue;
                }
                match ty {
                    NLMSG_DONE => return Ok(out),
                    NLMSG_ERROR => {
                        let code = payload
                            .get(..4)
                            .and_then(|b| b.try_into().ok())
                            .map(i32::from_ne_bytes)
                            .unwrap_or(-libc::EPROTO);
                        if code != 0 {
                            return Err(io::Error::from_raw_os_error(-code));
                        }
                    }
                    _ => {
                        let Some(&family) = payload.first() else {
                            continue;
                        };
                        if let Some(name) = attrs(payload.get(4..).unwrap_or(&[]))
                            .find(|(t, _)| *t == 1)
                            .map(|(_, v)| {
                                String::from_utf8_lossy(v)
                                    .trim_end_matches('\0')
                                    .to_string()
                            })
                        {
                            out.push((family, name));
                        }
                    }
                }
            }
        }
    }
}

/// The netlink messages in `buf`: (type, sequence number, payload).
fn messages(buf: &[u8]) -> impl Iterator<Item = (u16, u32, &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let h = buf.get(at..at + 16)?;
        let len = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]) as usize;
        let ty = u16::from_ne_bytes([h[4], h[5]]);
        let seq = u32::from_ne_bytes([h[8], h[9], h[10], h[11]]);
        if len < 16 {
            return None;
        }
        let payload = buf.get(at + 16..at + len)?;
        at += len.div_ceil(4) * 4;
        Some((ty, seq, payload))
    })
}

/// Top-level attributes in `buf`: (type without flags, value).
fn attrs(buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let h = buf.get(at..at + 4)?;
        let len = u16::from_ne_bytes([h[0], h[1]]) as usize;
        let ty = u16::from_ne_bytes([h[2], h[3]]) & 0x3fff;
        if len < 4 {
            return None;
        }
        let v = buf.get(at + 4..at + len)?;
        at += len.div_ceil(4) * 4;
        Some((ty, v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded_and_nested() {
        let a = Attrs::new().str(1, "ab").nested(2, Attrs::new().be32(1, 7));
        assert_eq!(
            a.0,
            [
                7, 0, 1, 0, b'a', b'b', 0, 0, // "ab\0" padded
                12, 0, 2, 0x80, 8, 0, 1, 0, 0, 0, 0, 7
            ]
        );
        let parsed: Vec<_> = attrs(&a.0).collect();
        assert_eq!(parsed[0], (1, &b"ab\0"[..]));
        assert_eq!(parsed[1].0, 2);
    }

    #[test]
    fn truncated_replies_end_the_walk() {
        let mut buf = Vec::new();
        header(&mut buf, NLMSG_ERROR, 0, 9, 0, 0);
        finish(&mut buf, 0);
        assert_eq!(messages(&buf).count(), 1);
        buf[0] = 200; // a length the buffer does not hold
        assert_eq!(messages(&buf).count(), 0);
        assert_eq!(messages(&buf[..10]).count(), 0);
    }
}
