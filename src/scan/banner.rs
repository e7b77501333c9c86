//! `--banners`: what answers on each open port, read at scan speed without a kernel
//! socket. After a SYN-ACK the handshake is finished statelessly (our sequence numbers
//! come from the SYN's cookie), the service's opening request is sent with the ACK
//! where the client speaks first (HTTP's `GET /`, a TLS ClientHello), nothing where the
//! server does (SSH, SMTP, FTP, …), the first answer is read (at most [`MAX_BANNER`]
//! bytes or [`MAX_SEGMENTS`] segments), acknowledged, and the connection ends with a RST.
//!
//! Correct under loss: an ACK or request that draws no answer is sent again (backing
//! off), a retransmitted SYN-ACK is answered again, data out of order is answered with
//! the ACK of what we have (the server resends), a segment for a connection already
//! closed is answered with a RST. A service that says nothing within the timeout is open
//! with no banner.
//!
//! Memory is flat: a bounded table of connections (`Conn`, about 30 bytes each, the
//! scan's sender waits while it is full) plus the banners themselves. Pure: packets go
//! out through a [`Wire`] the engine provides, so this is tested without sockets.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::IpAddr;

use super::probe::Prober;
use super::result::GrabStats;
use super::targets::Targets;
use crate::packet::ipv4::{self, proto};
use crate::packet::{ipv6, read16, read32, tcp, Ipv4Packet, Ipv6Packet, TcpFlags, TcpPacket};

/// At most this many bytes of a banner are kept (and our window is this large).
pub const MAX_BANNER: usize = 1024;
/// A banner is complete after this many data segments (or a FIN, or MAX_BANNER).
pub const MAX_SEGMENTS: u8 = 2;
/// Connections followed at once by default.
pub const DEFAULT_CONNECTIONS: usize = 8192;

const ACK: u8 = 0x10;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const SYN: u8 = 0x02;
const FIN: u8 = 0x01;

/// How banners are read.
#[derive(Clone, Copy, Debug)]
pub struct BannerConfig {
    /// A connection whose service has said nothing this long (ms after its SYN-ACK) is
    /// closed: open, no banner.
    pub timeout_ms: u32,
    /// After data, wait this long (ms) for a second segment before closing.
    pub linger_ms: u32,
    /// First retransmission of our ACK/request (ms); doubles each time.
    pub rto_ms: u32,
    /// At most this many connections at once.
    pub connections: usize,
}

impl Default for BannerConfig {
    fn default() -> BannerConfig {
        BannerConfig {
            timeout_ms: 5000,
            linger_ms: 200,
            rto_ms: 250,
            connections: DEFAULT_CONNECTIONS,
        }
    }
}

/// Where packets go: the engine's routes and sockets.
pub trait Wire {
    /// Queue one IP packet (from its IP header) to `host`.
    fn send(&mut self, host: IpAddr, pkt: &[u8]);
}

/// The ports whose services wait for the client to speak: HTTP.
pub fn is_http(port: u16) -> bool {
    matches!(
        port,
        80 | 81 | 591 | 3000 | 5000 | 8000 | 8008 | 8080 | 8081 | 8888
    )
}

/// The ports where TLS starts at once (HTTPS and the implicit-TLS mail, LDAP and DNS ports).
pub fn is_tls(port: u16) -> bool {
    matches!(port, 443 | 465 | 636 | 853 | 993 | 995 | 8443)
}

/// The opening request for `port` on `host`, written into `out` (cleared first); empty
/// for services that speak first.
pub fn request(port: u16, host: IpAddr, key: u32, out: &mut Vec<u8>) {
    out.clear();
    if is_http(port) {
        let h = match host {
            IpAddr::V4(a) => a.to_string(),
            IpAddr::V6(a) => format!("[{a}]"),
        };
        let host_hdr = if port == 80 { h } else { format!("{h}:{port}") };
        out.extend_from_slice(b"GET / HTTP/1.0\r\nHost: ");
        out.extend_from_slice(host_hdr.as_bytes());
        out.extend_from_slice(b"\r\nUser-Agent: tcpcraft\r\nAccept: */*\r\n\r\n");
    } else if is_tls(port) {
        client_hello(key, out);
    }
}

/// A TLS ClientHello offering TLS 1.3 and 1.2 (x25519 key share, the usual AEAD and CBC
/// suites): enough for a server to answer with its ServerHello (its version and suite)
/// and, below TLS 1.3, its certificate in the clear.
pub fn client_hello(key: u32, out: &mut Vec<u8>) {
    let mut rnd = u64::from(key) | 0x9e37_79b9_0000_0000;
    let mut bytes = |n: usize, v: &mut Vec<u8>| {
        for _ in 0..n {
            // xorshift: the random and the key share need only look random.
            rnd ^= rnd << 13;
            rnd ^= rnd >> 7;
            rnd ^= rnd << 17;
            v.push(rnd as u8);
        }
    };
    let mut body = vec![0x03, 0x03];
    bytes(32, &mut body);
    body.push(0); // no session id
    let suites: [u16; 15] = [
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
        0x009c, 0x009d, 0x002f, 0x0035,
    ];
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut ext = Vec::new();
    let mut add = |ty: u16, data: &[u8]| {
        ext.extend_from_slice(&ty.to_be_bytes());
        ext.extend_from_slice(&(data.len() as u16).to_be_bytes());
        ext.extend_from_slice(data);
    };
    add(0x000a, &[0, 6, 0, 0x1d, 0, 0x17, 0, 0x18]); // groups: x25519, P-256, P-384
    add(0x000b, &[1, 0]); // point formats: uncompressed
    add(
        0x000d,
        &[0, 18, 4, 3, 5, 3, 6, 3, 8, 4, 8, 5, 8, 6, 4, 1, 5, 1, 6, 1],
    );
    add(0x002b, &[4, 3, 4, 3, 3]); // supported versions: 1.3, 1.2
    add(0x002d, &[1, 1]); // psk modes: psk_dhe_ke
    let mut share = vec![0, 36, 0, 0x1d, 0, 32];
    bytes(32, &mut share);
    add(0x0033, &share); // key share: x25519
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let hs_len = body.len() as u32;
    out.extend_from_slice(&[0x16, 0x03, 0x01]);
    out.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
    out.push(1);
    out.extend_from_slice(&hs_len.to_be_bytes()[1..]);
    out.extend_from_slice(&body);
}

fn tls_version(v: u16) -> String {
    match v {
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv1.0".into(),
        0x0302 => "TLSv1.1".into(),
        0x0303 => "TLSv1.2".into(),
        0x0304 => "TLSv1.3".into(),
        v => format!("TLS 0x{v:04x}"),
    }
}

fn cipher_name(c: u16) -> String {
    let n = match c {
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0x009c => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        0x009d => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        c => return format!("cipher 0x{c:04x}"),
    };
    n.into()
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_be_bytes([s[0], s[1]]))
}

fn be24(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 3)
        .map(|s| usize::from(s[0]) << 16 | usize::from(s[1]) << 8 | usize::from(s[2]))
}

/// A server's answer to our ClientHello, as one line: `TLSv1.3 TLS_AES_256_GCM_SHA384`,
/// with `subject: CN=…` when the certificate came in the clear (TLS 1.2 and before), or
/// `TLS alert …`. `None`: not TLS (the raw bytes are the banner then).
pub fn describe_tls(b: &[u8]) -> Option<String> {
    // The handshake bytes of the leading handshake records, joined.
    let mut hs = Vec::new();
    let mut at = 0;
    let mut first = true;
    while let (Some(&ty), Some(len)) = (b.get(at), be16(b, at + 3)) {
        let body = b.get(at + 5..(at + 5 + usize::from(len)).min(b.len()))?;
        if !matches!(b.get(at + 1), Some(3)) {
            return if first { None } else { describe_hs(&hs) };
        }
        match ty {
            0x15 if first => {
                let desc = body.get(1).copied()?;
                let name = match desc {
                    40 => "handshake_failure",
                    70 => "protocol_version",
                    71 => "insufficient_security",
                    80 => "internal_error",
                    112 => "unrecognized_name",
                    _ => "",
                };
                return Some(format!("TLS alert {desc} {name}").trim_end().to_string());
            }
            0x16 => hs.extend_from_slice(body),
            _ => break,
        }
        first = false;
        at += 5 + usize::from(len);
    }
    if first {
        return None;
    }
    describe_hs(&hs)
}

fn describe_hs(hs: &[u8]) -> Option<String> {
    // ServerHello: type 2, length, version, random, session id, suite, compression, exts.
    if hs.first() != Some(&2) {
        return None;
    }
    let sh_len = be24(hs, 1)?;
    let mut version = be16(hs, 4)?;
    let sid = usize::from(*hs.get(38)?);
    let suite_at = 39 + sid;
    let suite = be16(hs, suite_at)?;
    let mut e = suite_at + 3;
    let ext_end = (4 + sh_len).min(hs.len());
    if let Some(total) = be16(hs, e) {
        e += 2;
        let end = (e + usize::from(total)).min(ext_end);
        while e + 4 <= end {
            let (Some(ty), Some(len)) = (be16(hs, e), be16(hs, e + 2)) else {
                break;
            };
            if ty == 0x002b {
                version = be16(hs, e + 4).unwrap_or(version);
            }
            e += 4 + usize::from(len);
        }
    }
    let mut s = format!("{} {}", tls_version(version), cipher_name(suite));
    // Below TLS 1.3 the Certificate message follows in the clear.
    let next = 4 + sh_len;
    if version < 0x0304 && hs.get(next) == Some(&11) {
        if let Some(subject) = cert_subject(hs.get(next + 4..).unwrap_or_default()) {
            s.push_str(&format!(" subject: {subject}"));
        }
    }
    Some(s)
}

/// One DER element at `at`: (tag, content start, content end), the end cut to the data.
fn der(b: &[u8], at: usize) -> Option<(u8, usize, usize)> {
    let tag = *b.get(at)?;
    let l0 = *b.get(at + 1)?;
    let (len, start) = if l0 < 0x80 {
        (usize::from(l0), at + 2)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 3 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = len << 8 | usize::from(*b.get(at + 2 + i)?);
        }
        (len, at + 2 + n)
    };
    Some((tag, start, (start + len).min(b.len())))
}

/// The subject of the first certificate of a Certificate message body (after its
/// 4-byte header): `CN=…, O=…`.
fn cert_subject(b: &[u8]) -> Option<String> {
    // certificate_list length (3), first certificate length (3), then the DER.
    let cert = b.get(6..)?;
    let (_, c, _) = der(cert, 0)?; // Certificate
    let (_, t, tend) = der(cert, c)?; // tbsCertificate
    let mut at = t;
    let mut field = 0;
    // [0] version (optional), serial, signature, issuer, validity, subject.
    while at < tend {
        let (tag, s, e) = der(cert, at)?;
        if tag == 0xa0 {
            at = e;
            continue;
        }
        if field == 4 {
            return Some(name(cert.get(s..e)?)).filter(|n| !n.is_empty());
        }
        field += 1;
        at = e;
    }
    None
}

/// An X.501 Name (the content of its SEQUENCE) as `CN=…, O=…`.
fn name(b: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut at = 0;
    while let Some((_, s, e)) = der(b, at) {
        // SET { SEQUENCE { OID, value } }
        if let Some((_, q, _)) = der(b, s) {
            if let Some((6, os, oe)) = der(b, q) {
                if let Some((_, vs, ve)) = der(b, oe) {
                    let oid = b.get(os..oe).unwrap_or_default();
                    let key = match oid {
                        [0x55, 4, 3] => "CN",
                        [0x55, 4, 6] => "C",
                        [0x55, 4, 7] => "L",
                        [0x55, 4, 8] => "ST",
                        [0x55, 4, 10] => "O",
                        [0x55, 4, 11] => "OU",
                        _ => "",
                    };
                    if !key.is_empty() {
                        let v = b.get(vs..ve).unwrap_or_default();
                        parts.push(format!("{key}={}", String::from_utf8_lossy(v)));
                    }
                }
            }
        }
        if e <= at {
            break;
        }
        at = e;
    }
    parts.join(", ")
}

/// One connection being read: about 30 bytes.
#[derive(Clone, Copy, Debug)]
struct Conn {
    /// Our source port of this connection (a retry's SYN may have drawn another).
    sport: u16,
    /// How much of our request the server acknowledged.
    acked: u16,
    /// Banner bytes kept.
    got: u16,
    segs: u8,
    tries: u8,
    /// The server sent something after its SYN-ACK (an ACK, data, a FIN).
    alive: bool,
    /// Times the connection was opened again (silent, with no sign of life).
    reconnects: u8,
    /// The server's ISN, and what we acknowledged beyond it (its SYN counts one).
    peer_isn: u32,
    rcv: u32,
    /// Time of the SYN-ACK, and the time of the next timer (ms since the scan began).
    started: u32,
    deadline: u32,
}

/// The banner reader of one scan: fed the captured packets and the clock by the capture
/// thread.
pub struct Grabber<'a> {
    prober: Prober,
    targets: &'a Targets,
    ports: &'a [u16],
    cfg: BannerConfig,
    conns: HashMap<u32, Conn, foldhash::fast::FixedState>,
    timers: BinaryHeap<Reverse<(u32, u32)>>,
    /// Pairs whose banner is read (a bit each).
    finished: Vec<u64>,
    banners: HashMap<usize, Vec<u8>>,
    req: Vec<u8>,
    pkt: Vec<u8>,
    pub stats: GrabStats,
}

/// The TCP facts of a captured packet, with its payload.
struct Seg<'p> {
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    data: &'p [u8],
}

fn parse(pkt: &[u8]) -> Option<Seg<'_>> {
    let (src, dst, l4, end) = match pkt.first()? >> 4 {
        4 => {
            // The fixed header is there (the ihl is taken as it is).
            pkt.get(..ipv4::HEADER_LEN)?;
            let h = Ipv4Packet::new_unchecked(pkt);
            // Not TCP, or a fragment (MF or an offset; DF is fine).
            if h.protocol() != proto::TCP || h.more_frags() || h.frag_offset() != 0 {
                return None;
            }
            (
                IpAddr::V4(h.src_addr()),
                IpAddr::V4(h.dst_addr()),
                h.header_len(),
                usize::from(h.total_len()),
            )
        }
        6 => {
            let h = Ipv6Packet::new_checked(pkt).ok()?;
            if h.next_header() != proto::TCP {
                return None;
            }
            (
                IpAddr::V6(h.src_addr()),
                IpAddr::V6(h.dst_addr()),
                ipv6::HEADER_LEN,
                ipv6::HEADER_LEN + usize::from(h.payload_len()),
            )
        }
        _ => return None,
    };
    let t = pkt.get(l4..end.min(pkt.len()))?;
    // Read as far as the header goes; the data start where the data offset says.
    let doff = usize::from(t.get(tcp::field::DATA_OFF)? >> 4) * 4;
    Some(Seg {
        src,
        dst,
        sport: read16(t, tcp::field::SRC_PORT)?,
        dport: read16(t, tcp::field::DST_PORT)?,
        seq: read32(t, tcp::field::SEQ_NUM)?,
        ack: read32(t, tcp::field::ACK_NUM)?,
        flags: *t.get(tcp::field::FLAGS)?,
        data: t.get(tcp::field::PAYLOAD(doff))?,
    })
}

/// Write a TCP segment (IP header, 20-byte TCP header, payload) into `out`.
#[allow(clippy::too_many_arguments)]
pub fn build_segment(
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
    out: &mut Vec<u8>,
) {
    out.clear();
    let l4len = tcp::HEADER_LEN + payload.len();
    let ip = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            out.resize(ipv4::HEADER_LEN + l4len, 0);
            let mut h = Ipv4Packet::new_unchecked(&mut out[..]);
            h.set_version_ihl(4, 5);
            h.set_total_len((ipv4::HEADER_LEN + l4len) as u16);
            h.set_flags_frag(ipv4::flag::DF, 0);
            h.set_ttl(64);
            h.set_protocol(proto::TCP);
            h.set_src_addr(s);
            h.set_dst_addr(d);
            h.fill_checksum();
            ipv4::HEADER_LEN
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            out.resize(ipv6::HEADER_LEN + l4len, 0);
            let mut h = Ipv6Packet::new_unchecked(&mut out[..]);
            h.set_ver_tc_flow(6, 0, 0);
            h.set_payload_len(l4len as u16);
            h.set_next_header(proto::TCP);
            h.set_hop_limit(64);
            h.set_src_addr(s);
            h.set_dst_addr(d);
            ipv6::HEADER_LEN
        }
        _ => return,
    };
    let mut t = TcpPacket::new_unchecked(&mut out[ip..]);
    t.set_src_port(sport);
    t.set_dst_port(dport);
    t.set_seq_number(seq);
    t.set_ack_number(ack);
    t.set_offset_flags((tcp::HEADER_LEN / 4) as u8, 0, TcpFlags(u16::from(flags)));
    t.set_window_len(MAX_BANNER as u16);
    t.payload_mut().copy_from_slice(payload);
    t.fill_checksum(src, dst);
}

impl<'a> Grabber<'a> {
    pub fn new(prober: Prober, targets: &'a Targets, ports: &'a [u16], cfg: BannerConfig) -> Self {
        let pairs =
            usize::try_from(targets.len().saturating_mul(ports.len() as u64)).unwrap_or(usize::MAX);
        let connections = cfg.connections.max(1);
        Grabber {
            prober,
            targets,
            ports,
            cfg,
            conns: HashMap::with_capacity_and_hasher(connections, Default::default()),
            timers: BinaryHeap::with_capacity(connections),
            finished: vec![0; pairs.div_ceil(64)],
            banners: HashMap::new(),
            req: Vec::with_capacity(512),
            pkt: Vec::with_capacity(640),
            stats: GrabStats::default(),
        }
    }

    /// The first retransmission timeout (ms), from the round trips the scan measures.
    pub fn set_rto(&mut self, ms: u32) {
        self.cfg.rto_ms = ms.clamp(50, 2000);
    }

    /// Connections being read now.
    pub fn live(&self) -> usize {
        self.conns.len()
    }

    fn is_finished(&self, pair: u32) -> bool {
        self.finished
            .get(pair as usize / 64)
            .is_some_and(|w| w >> (pair % 64) & 1 == 1)
    }

    fn where_(&self, pair: u32) -> Option<(IpAddr, u16)> {
        let np = self.ports.len() as u64;
        let p = u64::from(pair);
        Some((
            self.targets.get(p / np.max(1))?,
            *self.ports.get((p % np.max(1)) as usize)?,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        wire: &mut dyn Wire,
        ours: IpAddr,
        host: IpAddr,
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        with_request: bool,
    ) {
        let payload = if with_request { &self.req[..] } else { &[] };
        build_segment(
            ours,
            host,
            sport,
            dport,
            seq,
            ack,
            flags,
            payload,
            &mut self.pkt,
        );
        if !self.pkt.is_empty() {
            wire.send(host, &self.pkt);
        }
    }

    /// Our ACK of the server's SYN-ACK `s`, carrying the request where the client speaks
    /// first (PSH with it).
    fn ack_synack(&mut self, wire: &mut dyn Wire, s: &Seg<'_>, base: u32) {
        let flags = ACK | if self.req.is_empty() { 0 } else { PSH };
        let (ours, host, sport, dport) = (s.dst, s.src, s.dport, s.sport);
        self.emit(
            wire,
            ours,
            host,
            sport,
            dport,
            base,
            s.seq.wrapping_add(1),
            flags,
            true,
        );
    }

    fn arm(&mut self, pair: u32, at: u32) {
        if let Some(c) = self.conns.get_mut(&pair) {
            c.deadline = at;
            self.timers.push(Reverse((at, pair)));
        }
    }

    /// Take one captured packet (from its IP header). Returns `false` for a SYN-ACK
    /// refused because the table is full: it was reset, and the scan must not count it
    /// as an answer (its probe is sent again in a retry round, when there is room).
    pub fn on_packet(&mut self, pkt: &[u8], now: u32, wire: &mut dyn Wire) -> bool {
        self.take(pkt, now, wire).is_some()
    }

    fn take(&mut self, pkt: &[u8], now: u32, wire: &mut dyn Wire) -> Option<()> {
        let s = parse(pkt)?;
        if !self.prober.is_our_tcp_port(s.dport) {
            return Some(());
        }
        let (Some(h), Ok(p)) = (
            self.targets.index_of(s.src),
            self.ports.binary_search(&s.sport),
        ) else {
            return Some(());
        };
        let Ok(pair) = u32::try_from(h * self.ports.len() as u64 + p as u64) else {
            return Some(());
        };
        let c = self.prober.cookie(s.dst, s.src, s.sport);
        let base = c.wrapping_add(1);
        request(s.sport, s.src, c, &mut self.req);
        let rlen = self.req.len() as u32;
        let ackoff = s.ack.wrapping_sub(base);
        let conn = self
            .conns
            .get(&pair)
            .copied()
            .filter(|k| k.sport == s.dport);
        if s.flags & RST != 0 {
            // A RST for a connection of ours: its ack (or, without ACK, its seq) is ours.
            if let Some(k) = conn {
                let rcv = k.peer_isn.wrapping_add(k.rcv);
                if k.rcv > 0 && ((s.flags & ACK != 0 && ackoff <= rlen) || s.seq == rcv) {
                    if k.got == 0 && k.reconnects < 2 {
                        // Reset before a word (the server lost its half of the handshake,
                        // or dropped it for lack of room): open it again.
                        self.reopen(pair, k, wire, s.dst, s.src, s.sport, c, now, false);
                    } else {
                        self.finish(pair, wire, s.dst, now, false);
                    }
                }
            }
            return Some(());
        }
        if s.flags & ACK == 0 || ackoff > rlen {
            // Not an answer to anything of ours.
            return Some(());
        }
        if s.flags & SYN != 0 {
            if ackoff != 0 {
                return Some(());
            }
            match conn {
                // Our ACK was lost: the server sends its SYN-ACK again; so do we.
                Some(k) if k.peer_isn == s.seq && k.rcv == 1 => {
                    self.ack_synack(wire, &s, base);
                }
                // Our new SYN (the connection showed no sign of life) is answered.
                Some(mut k) if k.rcv == 0 => {
                    k.peer_isn = s.seq;
                    k.rcv = 1;
                    k.started = now;
                    k.tries = 0;
                    self.conns.insert(pair, k);
                    self.ack_synack(wire, &s, base);
                    self.arm(pair, now.wrapping_add(self.cfg.rto_ms));
                }
                Some(_) => {}
                None => {
                    let other = self.conns.contains_key(&pair);
                    if other || self.is_finished(pair) {
                        // A second connection for a pair already read (a retry's SYN
                        // was answered too): closed at once.
                        self.emit(wire, s.dst, s.src, s.dport, s.sport, base, 0, RST, false);
                        return Some(());
                    }
                    if self.conns.len() >= self.cfg.connections {
                        // No room: reset the server's half, and let the scan ask again.
                        self.stats.table_full += 1;
                        self.emit(wire, s.dst, s.src, s.dport, s.sport, base, 0, RST, false);
                        return None;
                    }
                    self.stats.opened += 1;
                    self.conns.insert(
                        pair,
                        Conn {
                            sport: s.dport,
                            acked: 0,
                            got: 0,
                            segs: 0,
                            tries: 0,
                            alive: false,
                            reconnects: 0,
                            peer_isn: s.seq,
                            rcv: 1,
                            started: now,
                            deadline: 0,
                        },
                    );
                    self.ack_synack(wire, &s, base);
                    self.arm(pair, now.wrapping_add(self.cfg.rto_ms));
                }
            }
            return Some(());
        }
        let Some(mut k) = conn else {
            // Data or a FIN for a connection already closed (our RST was lost): close it
            // again, with the sequence number it expects.
            if !s.data.is_empty() || s.flags & FIN != 0 {
                self.emit(wire, s.dst, s.src, s.dport, s.sport, s.ack, 0, RST, false);
            }
            return Some(());
        };
        if k.rcv == 0 {
            // Reconnecting: what is left of the old connection is of no use.
            return Some(());
        }
        k.acked = k.acked.max(ackoff as u16);
        k.alive = true;
        let fin = s.flags & FIN != 0;
        if s.data.is_empty() && !fin {
            self.conns.insert(pair, k);
            return Some(());
        }
        let rcv_nxt = k.peer_isn.wrapping_add(k.rcv);
        if s.seq != rcv_nxt {
            // Out of order, or data we have already: say what we have.
            self.conns.insert(pair, k);
            self.emit(
                wire,
                s.dst,
                s.src,
                s.dport,
                s.sport,
                base.wrapping_add(u32::from(k.acked)),
                rcv_nxt,
                ACK,
                false,
            );
            return Some(());
        }
        if !s.data.is_empty() {
            let room = MAX_BANNER.saturating_sub(usize::from(k.got));
            let take = s.data.len().min(room);
            if take > 0 {
                self.banners
                    .entry(pair as usize)
                    .or_default()
                    .extend_from_slice(s.data.get(..take).unwrap_or_default());
            }
            k.got = k.got.saturating_add(take as u16);
            k.rcv = k.rcv.wrapping_add(s.data.len() as u32);
            k.segs = k.segs.saturating_add(1);
        }
        if fin {
            k.rcv = k.rcv.wrapping_add(1);
        }
        self.conns.insert(pair, k);
        if fin || usize::from(k.got) >= MAX_BANNER || k.segs >= MAX_SEGMENTS {
            self.finish(pair, wire, s.dst, now, true);
        } else {
            // Acknowledge it, and give the service a moment for a second segment.
            let ack = k.peer_isn.wrapping_add(k.rcv);
            self.emit(
                wire,
                s.dst,
                s.src,
                s.dport,
                s.sport,
                base.wrapping_add(u32::from(k.acked)),
                ack,
                ACK,
                false,
            );
            self.arm(pair, now.wrapping_add(self.cfg.linger_ms));
        }
        Some(())
    }

    /// Open a connection again from the same port with the SYN's cookie (after a RST
    /// first, `reset`, when the server may still hold the old one).
    #[allow(clippy::too_many_arguments)]
    fn reopen(
        &mut self,
        pair: u32,
        k: Conn,
        wire: &mut dyn Wire,
        src: IpAddr,
        host: IpAddr,
        port: u16,
        c: u32,
        now: u32,
        reset: bool,
    ) {
        if reset {
            let ack = k.peer_isn.wrapping_add(k.rcv);
            let seq = c.wrapping_add(1).wrapping_add(u32::from(k.acked));
            self.emit(wire, src, host, k.sport, port, seq, ack, RST | ACK, false);
        }
        self.emit(wire, src, host, k.sport, port, c, 0, SYN, false);
        if let Some(e) = self.conns.get_mut(&pair) {
            *e = Conn {
                acked: 0,
                tries: 0,
                alive: false,
                peer_isn: 0,
                rcv: 0,
                started: now,
                reconnects: k.reconnects + 1,
                ..k
            };
        }
        self.stats.reconnects += 1;
        self.arm(pair, now.wrapping_add(self.cfg.rto_ms * 4));
    }

    /// Close a connection: acknowledge what arrived (`ack_first`), then RST; the banner
    /// is what was read.
    fn finish(&mut self, pair: u32, wire: &mut dyn Wire, ours: IpAddr, _now: u32, ack_first: bool) {
        let Some(k) = self.conns.remove(&pair) else {
            return;
        };
        if let Some(w) = self.finished.get_mut(pair as usize / 64) {
            *w |= 1 << (pair % 64);
        }
        let Some((host, port)) = self.where_(pair) else {
            return;
        };
        let c = self.prober.cookie(ours, host, port);
        let seq = c.wrapping_add(1).wrapping_add(u32::from(k.acked));
        let ack = k.peer_isn.wrapping_add(k.rcv);
        if ack_first {
            self.emit(wire, ours, host, k.sport, port, seq, ack, ACK, false);
        }
        self.emit(wire, ours, host, k.sport, port, seq, ack, RST | ACK, false);
        if k.got > 0 {
            self.stats.banners += 1;
            if is_tls(port) {
                if let Some(b) = self.banners.get_mut(&(pair as usize)) {
                    if let Some(d) = describe_tls(b) {
                        *b = d.into_bytes();
                    }
                }
            }
        } else {
            self.stats.silent += 1;
        }
    }

    /// Run the timers due at `now`: retransmit our ACK/request to services that have
    /// said nothing yet, close silent ones after the timeout and lingering ones after
    /// their first segment. `ours(host)` is our address toward a host.
    pub fn tick(&mut self, now: u32, wire: &mut dyn Wire, ours: &dyn Fn(IpAddr) -> Option<IpAddr>) {
        while let Some(&Reverse((at, pair))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(k) = self.conns.get(&pair).copied() else {
                continue;
            };
            if k.deadline != at {
                continue;
            }
            let Some((host, port)) = self.where_(pair) else {
                continue;
            };
            let Some(src) = ours(host) else {
                continue;
            };
            let waited = now.wrapping_sub(k.started);
            let c = self.prober.cookie(src, host, port);
            if k.got == 0 && waited >= self.cfg.timeout_ms && !k.alive && k.reconnects < 2 {
                // Not a word from the server since its SYN-ACK, not even an ACK: that
                // connection is lost (our ACK and its retransmissions of the SYN-ACK,
                // or everything it sent). Reset it and open it again.
                self.reopen(pair, k, wire, src, host, port, c, now, k.rcv > 0);
                continue;
            }
            if k.got > 0 || waited >= self.cfg.timeout_ms {
                self.finish(pair, wire, src, now, k.got > 0);
                continue;
            }
            if k.rcv == 0 {
                // Our new SYN is unanswered: send it again.
                self.emit(wire, src, host, k.sport, port, c, 0, SYN, false);
                self.stats.retransmits += 1;
                self.arm(pair, now.wrapping_add(self.cfg.rto_ms * 4));
                continue;
            }
            // Nothing yet: our ACK or request may be lost (send it again), or the answer
            // (three duplicate ACKs make the server resend it at once, as fast
            // retransmit does, rather than after its own backed-off timeout).
            request(port, host, c, &mut self.req);
            let rlen = self.req.len();
            let ack = k.peer_isn.wrapping_add(k.rcv);
            if rlen == 0 && !k.alive {
                // A service that speaks first: an ACK from before our window (our SYN's
                // sequence number) draws the server's ACK, a sign that it is there.
                self.emit(wire, src, host, k.sport, port, c, ack, ACK, false);
            }
            if usize::from(k.acked) < rlen || rlen == 0 {
                self.emit(
                    wire,
                    src,
                    host,
                    k.sport,
                    port,
                    c.wrapping_add(1),
                    ack,
                    ACK | if rlen > 0 { PSH } else { 0 },
                    true,
                );
            }
            let seq = c.wrapping_add(1).wrapping_add(rlen as u32);
            for _ in 0..3 {
                self.emit(wire, src, host, k.sport, port, seq, ack, ACK, false);
            }
            self.stats.retransmits += 1;
            let tries = k.tries.saturating_add(1);
            if let Some(e) = self.conns.get_mut(&pair) {
                e.tries = tries;
            }
            let backoff = self
                .cfg
                .rto_ms
                .saturating_mul(1 << u32::from(tries.min(6)))
                .min(2000);
            let left = self.cfg.timeout_ms - waited;
            self.arm(pair, now.wrapping_add(backoff.min(left)));
        }
    }

    /// Close every connection still open (the scan is stopping) and give the banners by
    /// pair index.
    pub fn into_banners(
        mut self,
        now: u32,
        wire: &mut dyn Wire,
        ours: &dyn Fn(IpAddr) -> Option<IpAddr>,
    ) -> (HashMap<usize, Vec<u8>>, GrabStats) {
        let pairs: Vec<u32> = self.conns.keys().copied().collect();
        for pair in pairs {
            if let Some(src) = self.where_(pair).and_then(|(h, _)| ours(h)) {
                self.finish(pair, wire, src, now, true);
            }
        }
        (self.banners, self.stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::cookie::Key;
    use crate::scan::result::ScanType;

    #[derive(Default)]
    struct Capture(Vec<Vec<u8>>);

    impl Wire for Capture {
        fn send(&mut self, _host: IpAddr, pkt: &[u8]) {
            self.0.push(pkt.to_vec());
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// A segment from the server (`host`:`port`) to us.
    #[allow(clippy::too_many_arguments)]
    fn from_server(
        host: IpAddr,
        me: IpAddr,
        port: u16,
        sport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        data: &[u8],
    ) -> Vec<u8> {
        let mut v = Vec::new();
        build_segment(host, me, port, sport, seq, ack, flags, data, &mut v);
        v
    }

    #[test]
    fn a_connection_is_a_few_dozen_bytes() {
        assert!(
            std::mem::size_of::<Conn>() <= 32,
            "{}",
            std::mem::size_of::<Conn>()
        );
    }

    #[test]
    fn client_hello_is_well_formed() {
        let mut h = Vec::new();
        client_hello(7, &mut h);
        assert_eq!(&h[..3], &[0x16, 3, 1]);
        assert_eq!(usize::from(be16(&h, 3).unwrap()) + 5, h.len());
        assert_eq!(h[5], 1);
        assert_eq!(be24(&h, 6).unwrap() + 9, h.len());
    }

    #[test]
    fn tls_answers_are_described() {
        // ServerHello for TLS 1.3 (supported_versions 0x0304), suite 0x1302.
        let mut sh = vec![2, 0, 0, 0, 3, 3];
        sh.extend_from_slice(&[0xab; 32]);
        sh.push(0);
        sh.extend_from_slice(&[0x13, 0x02, 0]);
        sh.extend_from_slice(&[0, 6, 0, 0x2b, 0, 2, 3, 4]);
        let n = sh.len() - 4;
        sh[3] = n as u8;
        let mut rec = vec![0x16, 3, 3, 0, sh.len() as u8];
        rec.extend_from_slice(&sh);
        assert_eq!(
            describe_tls(&rec).as_deref(),
            Some("TLSv1.3 TLS_AES_256_GCM_SHA384")
        );
        assert_eq!(
            describe_tls(&[0x15, 3, 3, 0, 2, 2, 40]).as_deref(),
            Some("TLS alert 40 handshake_failure")
        );
        assert_eq!(describe_tls(b"SSH-2.0-x\r\n"), None);
        assert_eq!(describe_tls(&rec[..7]), None);
        assert_eq!(describe_tls(&[]), None);
    }

    #[test]
    fn reads_a_greeting_acks_it_and_resets() {
        let (me, host) = (ip("198.18.0.1"), ip("198.18.0.2"));
        let targets = Targets::from_addrs(&[host]);
        let ports = [22u16];
        let prober = Prober {
            kind: ScanType::Syn,
            key: Key(3, 4),
            sport: 61000,
        };
        let c = prober.cookie(me, host, 22);
        let mut g = Grabber::new(prober, &targets, &ports, BannerConfig::default());
        let mut w = Capture::default();
        let isn = 5000;
        let sa = from_server(host, me, 22, 61000, isn, c + 1, SYN | ACK, &[]);
        g.on_packet(&sa, 10, &mut w);
        assert_eq!(g.live(), 1);
        let a = parse(&w.0[0]).unwrap();
        assert_eq!((a.seq, a.ack, a.flags), (c + 1, isn + 1, ACK));
        assert!(a.data.is_empty(), "ssh: the server speaks first");
        // The SYN-ACK again (our ACK lost): the ACK again.
        g.on_packet(&sa, 1010, &mut w);
        assert_eq!(w.0.len(), 2);
        // The greeting, then its FIN.
        let d = from_server(
            host,
            me,
            22,
            61000,
            isn + 1,
            c + 1,
            ACK | PSH,
            b"SSH-2.0-x\r\n",
        );
        g.on_packet(&d, 1011, &mut w);
        let f = from_server(host, me, 22, 61000, isn + 12, c + 1, ACK | FIN, &[]);
        g.on_packet(&f, 1012, &mut w);
        assert_eq!(g.live(), 0);
        let last = parse(w.0.last().unwrap()).unwrap();
        assert_eq!(last.flags, RST | ACK);
        assert_eq!((last.seq, last.ack), (c + 1, isn + 13));
        // Data after the close draws a RST.
        let n = w.0.len();
        g.on_packet(&d, 1100, &mut w);
        assert_eq!(parse(&w.0[n]).unwrap().flags, RST);
        let (b, st) = g.into_banners(2000, &mut w, &|_| Some(me));
        assert_eq!(b.get(&0).map(Vec::as_slice), Some(&b"SSH-2.0-x\r\n"[..]));
        assert_eq!((st.opened, st.banners), (1, 1));
    }

    #[test]
    fn http_request_goes_with_the_ack_and_is_retransmitted() {
        let (me, host) = (ip("2001:db8:198:18::1"), ip("2001:db8:198:18::2"));
        let targets = Targets::from_addrs(&[host]);
        let ports = [80u16];
        let prober = Prober {
            kind: ScanType::Syn,
            key: Key(5, 6),
            sport: 61000,
        };
        let c = prober.cookie(me, host, 80);
        let cfg = BannerConfig::default();
        let mut g = Grabber::new(prober, &targets, &ports, cfg);
        let mut w = Capture::default();
        let sa = from_server(host, me, 80, 61001, 9, c + 1, SYN | ACK, &[]);
        g.on_packet(&sa, 0, &mut w);
        let a = parse(&w.0[0]).unwrap();
        let req = b"GET / HTTP/1.0\r\nHost: [2001:db8:198:18::2]\r\nUser-Agent: tcpcraft\r\nAccept: */*\r\n\r\n";
        assert_eq!(a.data, &req[..]);
        assert_eq!(a.sport, 61001);
        // Nothing comes: the request again after the RTO, and three duplicate ACKs.
        g.tick(cfg.rto_ms, &mut w, &|_| Some(me));
        assert_eq!(w.0.len(), 5);
        assert_eq!(parse(&w.0[1]).unwrap().data, &req[..]);
        let dup = parse(&w.0[4]).unwrap();
        assert_eq!((dup.flags, dup.ack, dup.data.len()), (ACK, 10, 0));
        w.0.truncate(2);
        // An answer out of order (the first segment lost) draws the ACK of what we have.
        let late = from_server(
            host,
            me,
            80,
            61001,
            9 + 1 + 5,
            c + 1 + req.len() as u32,
            ACK,
            b"world",
        );
        g.on_packet(&late, 300, &mut w);
        assert_eq!(parse(&w.0[2]).unwrap().ack, 10);
        assert!(g.banners.is_empty());
        let first = from_server(
            host,
            me,
            80,
            61001,
            10,
            c + 1 + req.len() as u32,
            ACK,
            b"hello",
        );
        g.on_packet(&first, 301, &mut w);
        g.on_packet(&late, 302, &mut w);
        assert_eq!(g.live(), 0, "two segments: done");
        let (b, st) = g.into_banners(400, &mut w, &|_| Some(me));
        assert_eq!(b.get(&0).map(Vec::as_slice), Some(&b"helloworld"[..]));
        assert_eq!(st.retransmits, 1);
    }

    #[test]
    fn a_silent_service_is_closed_after_the_timeout() {
        let (me, host) = (ip("198.18.0.1"), ip("198.18.0.2"));
        let targets = Targets::from_addrs(&[host]);
        let ports = [25u16];
        let prober = Prober {
            kind: ScanType::Syn,
            key: Key(1, 1),
            sport: 61000,
        };
        let c = prober.cookie(me, host, 25);
        let cfg = BannerConfig {
            timeout_ms: 1000,
            ..BannerConfig::default()
        };
        let mut g = Grabber::new(prober.clone(), &targets, &ports, cfg);
        let mut w = Capture::default();
        g.on_packet(
            &from_server(host, me, 25, 61000, 1, c + 1, SYN | ACK, &[]),
            0,
            &mut w,
        );
        // The server acknowledges our probing ACK: it is there, and says nothing.
        g.on_packet(
            &from_server(host, me, 25, 61000, 2, c + 1, ACK, &[]),
            300,
            &mut w,
        );
        let mut t = 0;
        while g.live() > 0 && t < 5000 {
            t += 10;
            g.tick(t, &mut w, &|_| Some(me));
        }
        assert!((1000..1100).contains(&t), "closed at {t} ms");
        assert_eq!(parse(w.0.last().unwrap()).unwrap().flags, RST | ACK);
        let (b, st) = g.into_banners(t, &mut w, &|_| Some(me));
        assert!(b.is_empty());
        assert_eq!(st.silent, 1);
        assert!(st.retransmits >= 2);

        // Not a word after the SYN-ACK: the connection is opened again.
        let mut g = Grabber::new(prober, &targets, &ports, cfg);
        let mut w = Capture::default();
        let sa = from_server(host, me, 25, 61000, 1, c + 1, SYN | ACK, &[]);
        g.on_packet(&sa, 0, &mut w);
        let mut t = 0;
        while g.stats.reconnects == 0 && t < 5000 {
            t += 10;
            g.tick(t, &mut w, &|_| Some(me));
        }
        let syn = parse(w.0.last().unwrap()).unwrap();
        assert_eq!((syn.flags, syn.seq, syn.sport), (SYN, c, 61000));
        // Answered: the new connection's greeting is read.
        let sa = from_server(host, me, 25, 61000, 77, c + 1, SYN | ACK, &[]);
        g.on_packet(&sa, t + 1, &mut w);
        let hi = from_server(host, me, 25, 61000, 78, c + 1, ACK | FIN, b"220 hi\r\n");
        g.on_packet(&hi, t + 2, &mut w);
        let (b, st) = g.into_banners(t + 3, &mut w, &|_| Some(me));
        assert_eq!(b.get(&0).map(Vec::as_slice), Some(&b"220 hi\r\n"[..]));
        assert_eq!((st.reconnects, st.banners), (1, 1));
    }
}
