//! The packet model: a scapy-style stack of layers, built (emitted) and dissected (parsed)
//! losslessly. No I/O here.
//!
//! Computed fields (lengths, checksums, data offset, next-protocol numbers) are `Option`:
//! `None` is filled in by [`Packet::to_bytes`]; `Some(v)` goes on the wire as given, so a
//! wrong checksum or a lying length can be crafted. [`Packet::parse`] sets every field to
//! what was on the wire, so `Packet::parse(b).to_bytes() == b` for any input.
//!
//! Under the model lies one wire layer, smoltcp's `src/wire/` in shape: each protocol file
//! writes its header's byte ranges once (`tcp::field`) and offers a zero-copy view over
//! them (`tcp::Packet<T>`, re-exported here as [`TcpPacket`]): `new_checked` verifies the
//! lengths so that no accessor can panic afterwards, getters read in place, setters write
//! in place (checksums through [`checksum`]). The lossless parser and emitter, the hot-path
//! [`view::Dissection`], the reply matcher and the scanner's probe builder all stand on them.

pub mod arp;
pub mod checksum;
pub mod display;
pub mod flags;
pub mod fragment;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
pub mod link;
#[cfg(any(test, feature = "oracle"))]
pub mod oracle;
pub mod schema;
pub mod tcp;
pub mod udp;
pub mod view;

use std::net::IpAddr;

pub use arp::ArpRepr;
pub use arp::Packet as ArpPacket;
pub use flags::TcpFlags;
pub use icmp::Packet as IcmpPacket;
pub use icmp::{IcmpRepr, Icmpv6Repr};
pub use ipv4::Ipv4Repr;
pub use ipv4::Packet as Ipv4Packet;
pub use ipv6::Ipv6Repr;
pub use ipv6::Packet as Ipv6Packet;
pub use link::Frame as EthernetFrame;
pub use link::SllFrame;
pub use link::{EtherRepr, SllRepr};
pub use tcp::Packet as TcpPacket;
pub use tcp::{TcpOption, TcpRepr};
pub use udp::Packet as UdpPacket;
pub use udp::UdpRepr;

/// A header field's byte range (smoltcp's `Field`), written once per protocol in its
/// `field` module.
pub type Field = std::ops::Range<usize>;
/// From a byte offset to the end of the buffer (smoltcp's `Rest`).
pub type Rest = std::ops::RangeFrom<usize>;

/// Why a view's `new_checked` refused a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Fewer bytes than the header (or what its own length fields say it has).
    Truncated,
    /// A length field below the header's minimum (an IPv4 ihl < 5, a TCP data offset
    /// < 5), or sizes a view cannot read (an ARP packet that is not Ethernet/IPv4).
    Malformed,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Error::Truncated => "header truncated",
            Error::Malformed => "header length field malformed",
        })
    }
}

impl std::error::Error for Error {}

/// Big-endian 16 bits at `f` (a view's accessor after its length check).
#[inline]
pub(crate) fn get16(b: &[u8], f: Field) -> u16 {
    u16::from_be_bytes([b[f.start], b[f.start + 1]])
}

/// Big-endian 32 bits at `f` (a view's accessor after its length check).
#[inline]
pub(crate) fn get32(b: &[u8], f: Field) -> u32 {
    u32::from_be_bytes([b[f.start], b[f.start + 1], b[f.start + 2], b[f.start + 3]])
}

#[inline]
pub(crate) fn put16(b: &mut [u8], f: Field, v: u16) {
    b[f].copy_from_slice(&v.to_be_bytes());
}

#[inline]
pub(crate) fn put32(b: &mut [u8], f: Field, v: u32) {
    b[f].copy_from_slice(&v.to_be_bytes());
}

/// Big-endian 16 bits at `f` of a header that may be cut short (a quote inside an ICMP
/// error carries as little as 8 transport bytes): `None` when the field is not there.
#[inline]
pub fn read16(b: &[u8], f: Field) -> Option<u16> {
    b.get(f).map(|s| u16::from_be_bytes([s[0], s[1]]))
}

/// Big-endian 32 bits at `f` of a header that may be cut short; `None` when absent.
#[inline]
pub fn read32(b: &[u8], f: Field) -> Option<u32> {
    b.get(f)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// How the first byte of a captured frame is to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    Ethernet,
    /// Raw IP: IPv4 or IPv6 by the version nibble.
    RawIp,
    /// Linux cooked capture v1.
    Sll,
}

/// Where parsing stopped or found something odd, by byte offset into the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub offset: usize,
    pub message: String,
}

impl Note {
    pub fn new(offset: usize, message: String) -> Note {
        Note { offset, message }
    }
}

/// One layer of a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layer {
    Ether(EtherRepr),
    Sll(SllRepr),
    /// ARP (IPv4 over Ethernet).
    Arp(ArpRepr),
    Ipv4(Ipv4Repr),
    Ipv6(Ipv6Repr),
    Tcp(TcpRepr),
    Udp(UdpRepr),
    Icmp(IcmpRepr),
    Icmpv6(Icmpv6Repr),
    /// Payload bytes (or a header tcpcraft does not dissect).
    Raw(Vec<u8>),
    /// Bytes past what an enclosing length field covers (Ethernet padding, trailers).
    /// Never counted in computed lengths or checksums.
    Padding(Vec<u8>),
}

impl Layer {
    /// scapy's layer name.
    pub fn name(&self) -> &'static str {
        match self {
            Layer::Ether(_) => "Ether",
            Layer::Sll(_) => "CookedLinux",
            Layer::Arp(_) => "ARP",
            Layer::Ipv4(_) => "IP",
            Layer::Ipv6(_) => "IPv6",
            Layer::Tcp(_) => "TCP",
            Layer::Udp(_) => "UDP",
            Layer::Icmp(_) => "ICMP",
            Layer::Icmpv6(_) => "ICMPv6",
            Layer::Raw(_) => "Raw",
            Layer::Padding(_) => "Padding",
        }
    }

    /// Bytes this layer's own header (or body, for Raw/Padding) takes when emitted.
    pub fn header_len(&self) -> usize {
        match self {
            Layer::Ether(_) => link::ETHER_LEN,
            Layer::Sll(_) => link::SLL_LEN,
            Layer::Arp(_) => arp::LEN,
            Layer::Ipv4(ip) => ip.header_len(),
            Layer::Ipv6(_) => ipv6::HEADER_LEN,
            Layer::Tcp(t) => t.header_len(),
            Layer::Udp(_) => udp::HEADER_LEN,
            Layer::Icmp(_) | Layer::Icmpv6(_) => icmp::HEADER_LEN,
            Layer::Raw(b) | Layer::Padding(b) => b.len(),
        }
    }

    /// The number this layer is known by in the layer below (IP protocol / next header).
    fn ip_proto(&self) -> u8 {
        match self {
            Layer::Tcp(_) => ipv4::proto::TCP,
            Layer::Udp(_) => ipv4::proto::UDP,
            Layer::Icmp(_) => ipv4::proto::ICMP,
            Layer::Icmpv6(_) => ipv4::proto::ICMPV6,
            Layer::Ipv6(_) => ipv4::proto::IPV6,
            Layer::Ipv4(_) => 4,
            _ => 0,
        }
    }

    fn ethertype(&self) -> u16 {
        match self {
            Layer::Ipv4(_) => link::ethertype::IPV4,
            Layer::Ipv6(_) => link::ethertype::IPV6,
            Layer::Arp(_) => link::ethertype::ARP,
            _ => 0,
        }
    }
}

/// A packet: layers from the outermost in.
#[derive(Clone, Debug, Default)]
pub struct Packet {
    pub layers: Vec<Layer>,
    /// What the language knows of how it was made (for `fuzz()`); never on the wire.
    pub given: Given,
    /// When it was captured (or sent), since the Unix epoch: scapy's `p.time`. Not part
    /// of equality: the same bytes seen twice are the same packet.
    pub time: Option<std::time::Duration>,
}

impl PartialEq for Packet {
    fn eq(&self, other: &Packet) -> bool {
        self.layers == other.layers
    }
}

impl Eq for Packet {}

/// Which fields the language's user set, per layer (bit i: field i of the layer's
/// field table; a layer without an entry counts as wholly set), and whether the packet
/// is fuzzed: then the language draws new values for the other fields on every send.
/// Not part of a packet's identity: two packets with the same layers are equal.
#[derive(Clone, Debug, Default)]
pub struct Given {
    /// Inline for up to four layers: building a packet allocates nothing for it.
    pub set: smallvec::SmallVec<[u64; 4]>,
    /// `Some(computed)`: fuzzed; `computed`: lengths and checksums are drawn too.
    pub fuzz: Option<bool>,
}

impl PartialEq for Given {
    fn eq(&self, _: &Given) -> bool {
        true
    }
}

impl Eq for Given {}

impl From<Layer> for Packet {
    fn from(l: Layer) -> Packet {
        Packet::new(vec![l])
    }
}

impl Packet {
    pub fn new(layers: Vec<Layer>) -> Packet {
        Packet {
            given: Default::default(),
            layers,
            time: None,
        }
    }

    /// The same packet stamped with a capture time.
    pub fn at(mut self, time: std::time::Duration) -> Packet {
        self.time = Some(time);
        self
    }

    /// Stacks `other` on top (scapy's `/`).
    pub fn stack(mut self, other: impl Into<Packet>) -> Packet {
        let other = other.into();
        if !self.given.set.is_empty() || !other.given.set.is_empty() {
            // Layers nobody recorded count as wholly set.
            self.given.set.resize(self.layers.len(), u64::MAX);
            let theirs = &other.given.set;
            let all = (0..other.layers.len()).map(|i| theirs.get(i).copied().unwrap_or(u64::MAX));
            self.given.set.extend(all);
        }
        self.given.fuzz = self.given.fuzz.or(other.given.fuzz);
        self.layers.extend(other.layers);
        self
    }

    /// Builds the wire bytes, filling every computed field left `None`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.wire_len());
        self.emit_into(&mut out);
        out
    }

    /// Total bytes `to_bytes` produces.
    pub fn wire_len(&self) -> usize {
        self.layers.iter().map(Layer::header_len).sum()
    }

    /// Appends the wire bytes to `out` (the send path reuses one buffer).
    pub fn emit_into(&self, out: &mut Vec<u8>) {
        let base = out.len();
        let n = self.layers.len();
        // Bytes covered by layer i and everything inside it (trailing Padding excluded).
        let covered = |i: usize| -> usize {
            let mut total = 0;
            for l in &self.layers[i..] {
                if let Layer::Padding(_) = l {
                    break;
                }
                total += l.header_len();
            }
            total
        };
        let mut offsets = Vec::with_capacity(n);
        for (i, layer) in self.layers.iter().enumerate() {
            offsets.push(out.len() - base);
            let next = self.layers.get(i + 1);
            let inner = covered(i).saturating_sub(layer.header_len());
            match layer {
                Layer::Ether(e) => {
                    let et = e
                        .ethertype
                        .unwrap_or_else(|| next.map_or(0, Layer::ethertype));
                    e.emit_header(out, et);
                }
                Layer::Sll(s) => {
                    let p = s.proto.unwrap_or_else(|| next.map_or(0, Layer::ethertype));
                    s.emit_header(out, p);
                }
                Layer::Ipv4(ip) => {
                    let len = ip
                        .len
                        .unwrap_or((ip.header_len() + inner).min(0xffff) as u16);
                    let proto = ip.proto.unwrap_or_else(|| next.map_or(0, Layer::ip_proto));
                    ip.emit_header(out, len, proto);
                }
                Layer::Ipv6(ip) => {
                    let plen = ip.plen.unwrap_or(inner.min(0xffff) as u16);
                    let nh = ip
                        .nh
                        .unwrap_or_else(|| next.map_or(ipv4::proto::NONE6, Layer::ip_proto));
                    ip.emit_header(out, plen, nh);
                }
                Layer::Arp(a) => a.emit(out),
                Layer::Tcp(t) => t.emit_header(out),
                Layer::Udp(u) => {
                    let len = u
                        .len
                        .unwrap_or((udp::HEADER_LEN + inner).min(0xffff) as u16);
                    u.emit_header(out, len);
                }
                Layer::Icmp(c) | Layer::Icmpv6(c) => c.emit_header(out),
                Layer::Raw(b) | Layer::Padding(b) => out.extend_from_slice(b),
            }
        }
        // Checksums, innermost first: an ICMP error's checksum covers the quoted packet.
        for i in (0..n).rev() {
            let off = base + offsets[i];
            let end = off + covered(i);
            let pseudo = |proto: u8| -> u32 {
                let len = (end - off) as u32;
                match i.checked_sub(1).and_then(|j| self.layers.get(j)) {
                    Some(Layer::Ipv4(ip)) => checksum::pseudo_v4(
                        ip.src.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
                        ip.pseudo_dst(),
                        proto,
                        len,
                    ),
                    Some(Layer::Ipv6(ip)) => checksum::pseudo_v6(
                        ip.src.unwrap_or(std::net::Ipv6Addr::UNSPECIFIED),
                        ip.dst,
                        proto,
                        len,
                    ),
                    _ => 0,
                }
            };
            let (at, value) = match &self.layers[i] {
                Layer::Tcp(t) if t.chksum.is_none() => {
                    let acc =
                        checksum::combine(pseudo(ipv4::proto::TCP), checksum::sum(&out[off..end]));
                    (off + tcp::field::CHECKSUM.start, checksum::fold(acc))
                }
                Layer::Udp(u) if u.chksum.is_none() => {
                    let acc =
                        checksum::combine(pseudo(ipv4::proto::UDP), checksum::sum(&out[off..end]));
                    let c = checksum::fold(acc);
                    (
                        off + udp::field::CHECKSUM.start,
                        if c == 0 { 0xffff } else { c },
                    )
                }
                Layer::Icmp(c) if c.chksum.is_none() => (
                    off + icmp::field::CHECKSUM.start,
                    checksum::checksum(&out[off..end]),
                ),
                Layer::Icmpv6(c) if c.chksum.is_none() => {
                    let acc = checksum::combine(
                        pseudo(ipv4::proto::ICMPV6),
                        checksum::sum(&out[off..end]),
                    );
                    (off + icmp::field::CHECKSUM.start, checksum::fold(acc))
                }
                _ => continue,
            };
            put16(out, at..at + 2, value);
        }
    }

    /// A copy with every computed field set to what `to_bytes` puts on the wire.
    pub fn filled(&self) -> Packet {
        let bytes = self.to_bytes();
        let mut p = self.clone();
        let mut off = 0usize;
        for layer in &mut p.layers {
            // What `to_bytes` wrote for this layer, read back through the field ranges
            // (a header cut short by a crafted length reads as absent).
            let b = bytes.get(off..).unwrap_or(&[]);
            let byte = |i: usize| b.get(i).copied();
            match layer {
                Layer::Ether(e) => e.ethertype = e.ethertype.or(read16(b, link::field::ETHERTYPE)),
                Layer::Sll(s) => s.proto = s.proto.or(read16(b, link::sll_field::PROTOCOL)),
                Layer::Arp(_) => {}
                Layer::Ipv4(ip) if ip.ihl.is_none() => {
                    ip.ihl = byte(ipv4::field::VER_IHL).map(|v| v & 0x0f);
                    ip.len = ip.len.or(read16(b, ipv4::field::LENGTH));
                    ip.proto = ip.proto.or(byte(ipv4::field::PROTOCOL));
                    ip.chksum = ip.chksum.or(read16(b, ipv4::field::CHECKSUM));
                    ip.options
                        .resize(ip.header_len() - ipv4::field::HEADER_LEN, 0);
                }
                Layer::Ipv4(ip) => {
                    ip.ihl = ip.ihl.or(byte(ipv4::field::VER_IHL).map(|v| v & 0x0f));
                    ip.len = ip.len.or(read16(b, ipv4::field::LENGTH));
                    ip.proto = ip.proto.or(byte(ipv4::field::PROTOCOL));
                    ip.chksum = ip.chksum.or(read16(b, ipv4::field::CHECKSUM));
                }
                Layer::Ipv6(ip) => {
                    ip.plen = ip.plen.or(read16(b, ipv6::field::LENGTH));
                    ip.nh = ip.nh.or(byte(ipv6::field::NXT_HDR));
                }
                Layer::Tcp(t) => {
                    t.dataofs = t.dataofs.or(byte(tcp::field::DATA_OFF).map(|v| v >> 4));
                    t.chksum = t.chksum.or(read16(b, tcp::field::CHECKSUM));
                    if t.padding.is_none() {
                        let opts: usize = t.options.iter().map(TcpOption::wire_len).sum();
                        t.padding = Some(vec![0; (4 - opts % 4) % 4]);
                    }
                }
                Layer::Udp(u) => {
                    u.len = u.len.or(read16(b, udp::field::LENGTH));
                    u.chksum = u.chksum.or(read16(b, udp::field::CHECKSUM));
                }
                Layer::Icmp(c) | Layer::Icmpv6(c) => {
                    c.chksum = c.chksum.or(read16(b, icmp::field::CHECKSUM))
                }
                Layer::Raw(_) | Layer::Padding(_) => {}
            }
            off += layer.header_len();
        }
        p
    }

    /// Dissects `bytes` as far as they go. Never panics; `notes` say where it stopped and
    /// what was odd. Every byte of the input ends up in some layer.
    pub fn parse(bytes: &[u8], link: LinkType) -> (Packet, Vec<Note>) {
        let mut p = Parser {
            // Link, IP, transport and payload without growing.
            layers: Vec::with_capacity(4),
            notes: Vec::new(),
            trailer: Vec::new(),
            tunnels: 0,
        };
        match link {
            LinkType::Ethernet => match EtherRepr::parse(bytes, &mut p.notes) {
                Some(e) => {
                    let et = e.ethertype.unwrap_or(0);
                    p.layers.push(Layer::Ether(e));
                    p.ethertype(et, &bytes[link::ETHER_LEN..], link::ETHER_LEN);
                }
                None => p.raw(bytes),
            },
            LinkType::Sll => match SllRepr::parse(bytes, &mut p.notes) {
                Some(s) => {
                    let et = s.proto.unwrap_or(0);
                    p.layers.push(Layer::Sll(s));
                    p.ethertype(et, &bytes[link::SLL_LEN..], link::SLL_LEN);
                }
                None => p.raw(bytes),
            },
            LinkType::RawIp => p.ip(bytes, 0, false),
        }
        let mut layers = p.layers;
        // Trailers are pushed innermost first; outermost bytes come last on the wire.
        for t in p.trailer.into_iter().rev() {
            layers.push(Layer::Padding(t));
        }
        (Packet::new(layers), p.notes)
    }

    /// An ARP packet captured without its link header (a packet socket's payload).
    pub fn parse_arp(bytes: &[u8]) -> Packet {
        let mut p = Parser {
            layers: Vec::new(),
            notes: Vec::new(),
            trailer: Vec::new(),
            tunnels: 0,
        };
        p.arp(bytes);
        let mut layers = p.layers;
        layers.extend(p.trailer.into_iter().map(Layer::Padding));
        Packet::new(layers)
    }

    /// A computed length field that cannot hold what it covers: an IPv4 total length, an
    /// IPv6 payload length or a UDP length past 65,535 (scapy refuses to build those;
    /// the bytes would carry a clamped, lying length). A length given by the user is
    /// theirs to choose.
    pub fn length_overflow(&self) -> Option<String> {
        // No length can pass 65,535 when the whole packet does not (the common case,
        // checked on every `/`).
        if self.wire_len() <= 0xffff {
            return None;
        }
        for (i, l) in self.layers.iter().enumerate() {
            // The bytes from this layer on, up to any padding (summed only for the
            // layers that carry a length).
            let covered = || -> usize {
                self.layers[i..]
                    .iter()
                    .take_while(|l| !matches!(l, Layer::Padding(_)))
                    .map(Layer::header_len)
                    .sum()
            };
            let (what, n) = match l {
                Layer::Ipv4(ip) if ip.len.is_none() => ("IP total length", covered()),
                Layer::Ipv6(ip) if ip.plen.is_none() => {
                    ("IPv6 payload length", covered() - ipv6::HEADER_LEN)
                }
                Layer::Udp(u) if u.len.is_none() => ("UDP length", covered()),
                _ => continue,
            };
            if n > 0xffff {
                return Some(format!(
                    "{what} would be {n} bytes, past 65535: make the payload smaller, or set \
                     the length field to build the packet anyway"
                ));
            }
        }
        None
    }

    fn find<T>(&self, f: impl Fn(&Layer) -> Option<&T>) -> Option<&T> {
        self.layers.iter().find_map(f)
    }

    pub fn ipv4(&self) -> Option<&Ipv4Repr> {
        self.find(|l| {
            if let Layer::Ipv4(x) = l {
                Some(x)
            } else {
                None
            }
        })
    }
    pub fn ipv6(&self) -> Option<&Ipv6Repr> {
        self.find(|l| {
            if let Layer::Ipv6(x) = l {
                Some(x)
            } else {
                None
            }
        })
    }
    pub fn tcp(&self) -> Option<&TcpRepr> {
        self.find(|l| if let Layer::Tcp(x) = l { Some(x) } else { None })
    }
    pub fn udp(&self) -> Option<&UdpRepr> {
        self.find(|l| if let Layer::Udp(x) = l { Some(x) } else { None })
    }
    pub fn icmp(&self) -> Option<&IcmpRepr> {
        self.find(|l| {
            if let Layer::Icmp(x) = l {
                Some(x)
            } else {
                None
            }
        })
    }
    pub fn icmpv6(&self) -> Option<&Icmpv6Repr> {
        self.find(|l| {
            if let Layer::Icmpv6(x) = l {
                Some(x)
            } else {
                None
            }
        })
    }
    pub fn ipv4_mut(&mut self) -> Option<&mut Ipv4Repr> {
        self.layers.iter_mut().find_map(|l| {
            if let Layer::Ipv4(x) = l {
                Some(x)
            } else {
                None
            }
        })
    }
    pub fn ipv6_mut(&mut self) -> Option<&mut Ipv6Repr> {
        self.layers.iter_mut().find_map(|l| {
            if let Layer::Ipv6(x) = l {
                Some(x)
            } else {
                None
            }
        })
    }
    pub fn tcp_mut(&mut self) -> Option<&mut TcpRepr> {
        self.layers
            .iter_mut()
            .find_map(|l| if let Layer::Tcp(x) = l { Some(x) } else { None })
    }
    pub fn udp_mut(&mut self) -> Option<&mut UdpRepr> {
        self.layers
            .iter_mut()
            .find_map(|l| if let Layer::Udp(x) = l { Some(x) } else { None })
    }
    pub fn icmp_mut(&mut self) -> Option<&mut IcmpRepr> {
        self.layers.iter_mut().find_map(|l| {
            if let Layer::Icmp(x) = l {
                Some(x)
            } else {
                None
            }
        })
    }

    /// The bytes of the innermost Raw layer (the payload); empty if there is none.
    pub fn payload(&self) -> &[u8] {
        self.layers
            .iter()
            .rev()
            .find_map(|l| {
                if let Layer::Raw(b) = l {
                    Some(b.as_slice())
                } else {
                    None
                }
            })
            .unwrap_or(&[])
    }

    /// Source and destination of the outermost IP layer.
    pub fn addrs(&self) -> Option<(Option<IpAddr>, IpAddr)> {
        self.layers.iter().find_map(|l| match l {
            Layer::Ipv4(ip) => Some((ip.src.map(IpAddr::V4), IpAddr::V4(ip.dst))),
            Layer::Ipv6(ip) => Some((ip.src.map(IpAddr::V6), IpAddr::V6(ip.dst))),
            _ => None,
        })
    }
}

/// Parsing state: layers so far, notes, and trailers to append once the stack is done.
struct Parser {
    layers: Vec<Layer>,
    notes: Vec<Note>,
    trailer: Vec<Vec<u8>>,
    /// IPv6 headers dissected inside IP headers so far: a crafted chain of them would
    /// otherwise recurse once per 40 bytes and exhaust the stack.
    tunnels: usize,
}

impl Parser {
    fn raw(&mut self, b: &[u8]) {
        if !b.is_empty() {
            self.layers.push(Layer::Raw(b.to_vec()));
        }
    }

    fn ethertype(&mut self, et: u16, b: &[u8], base: usize) {
        match et {
            link::ethertype::IPV4 | link::ethertype::IPV6 => self.ip(b, base, false),
            link::ethertype::ARP => self.arp(b),
            _ => self.raw(b),
        }
    }

    /// ARP in its 28-byte Ethernet/IPv4 form, then padding; other forms stay raw.
    fn arp(&mut self, b: &[u8]) {
        match ArpRepr::parse(b) {
            Some(a) => {
                self.layers.push(Layer::Arp(a));
                if b.len() > arp::LEN {
                    self.trailer.push(b[arp::LEN..].to_vec());
                }
            }
            None => self.raw(b),
        }
    }

    /// An IP packet by its version nibble. `quoted`: inside an ICMP error, where truncation
    /// is normal and not worth a note.
    fn ip(&mut self, b: &[u8], base: usize, quoted: bool) {
        match view::version(b) {
            Some(4) => self.ipv4(b, base, quoted),
            Some(6) => self.ipv6(b, base, quoted),
            Some(v) => {
                if !quoted {
                    self.notes
                        .push(Note::new(base, format!("IP version {v}: not dissected")));
                }
                self.raw(b)
            }
            None => {}
        }
    }

    /// Keeps the notes of an outermost layer; a quote's truncation is expected, not news.
    fn absorb(&mut self, notes: Vec<Note>, quoted: bool) {
        if !quoted {
            self.notes.extend(notes);
        }
    }

    fn ipv4(&mut self, b: &[u8], base: usize, quoted: bool) {
        let mut notes = Vec::new();
        let parsed = Ipv4Repr::parse(b, &mut notes, base);
        self.absorb(notes, quoted);
        let Some((ip, hlen, plen)) = parsed else {
            return self.raw(b);
        };
        let proto = ip.proto.unwrap_or(0);
        let first_fragment = ip.frag == 0;
        self.layers.push(Layer::Ipv4(ip));
        let body = &b[hlen..hlen + plen];
        let rest = &b[hlen + plen..];
        if !rest.is_empty() {
            self.trailer.push(rest.to_vec());
        }
        if first_fragment {
            self.transport(proto, body, base + hlen, quoted, false);
        } else {
            self.raw(body);
        }
    }

    fn ipv6(&mut self, b: &[u8], base: usize, quoted: bool) {
        let mut notes = Vec::new();
        let parsed = Ipv6Repr::parse(b, &mut notes, base);
        self.absorb(notes, quoted);
        let Some((ip, plen)) = parsed else {
            return self.raw(b);
        };
        let nh = ip.nh.unwrap_or(0);
        self.layers.push(Layer::Ipv6(ip));
        let body = &b[ipv6::HEADER_LEN..ipv6::HEADER_LEN + plen];
        let rest = &b[ipv6::HEADER_LEN + plen..];
        if !rest.is_empty() {
            self.trailer.push(rest.to_vec());
        }
        self.transport(nh, body, base + ipv6::HEADER_LEN, quoted, true);
    }

    fn transport(&mut self, proto: u8, b: &[u8], base: usize, quoted: bool, v6: bool) {
        let mut notes = Vec::new();
        match proto {
            ipv4::proto::TCP => match TcpRepr::parse(b, &mut notes, base) {
                Some((t, hlen)) => {
                    self.layers.push(Layer::Tcp(t));
                    self.raw(&b[hlen..]);
                }
                None => self.raw(b),
            },
            ipv4::proto::UDP => match UdpRepr::parse(b, &mut notes, base) {
                Some((u, plen)) => {
                    self.layers.push(Layer::Udp(u));
                    self.raw(&b[udp::HEADER_LEN..udp::HEADER_LEN + plen]);
                    let rest = &b[udp::HEADER_LEN + plen..];
                    if !rest.is_empty() {
                        self.layers.push(Layer::Padding(rest.to_vec()));
                    }
                }
                None => self.raw(b),
            },
            ipv4::proto::ICMP if !v6 => match IcmpRepr::parse(b, &mut notes, base, false) {
                Some(c) => {
                    let err = icmp::v4::is_error(c.r#type);
                    self.layers.push(Layer::Icmp(c));
                    self.icmp_body(&b[icmp::HEADER_LEN..], base + icmp::HEADER_LEN, err, quoted);
                }
                None => self.raw(b),
            },
            ipv4::proto::ICMPV6 => match IcmpRepr::parse(b, &mut notes, base, true) {
                Some(c) => {
                    let err = icmp::v6::is_error(c.r#type);
                    self.layers.push(Layer::Icmpv6(c));
                    self.icmp_body(&b[icmp::HEADER_LEN..], base + icmp::HEADER_LEN, err, quoted);
                }
                None => self.raw(b),
            },
            ipv4::proto::IPV6 if !quoted && self.tunnels < 32 => {
                self.tunnels += 1;
                self.ipv6(b, base, false)
            }
            _ => self.raw(b),
        }
        self.absorb(notes, quoted);
    }

    fn icmp_body(&mut self, b: &[u8], base: usize, error: bool, quoted: bool) {
        // Only an outermost error's body is dissected as a quote (no quotes in quotes).
        if error && !quoted && b.len() >= 20 {
            let before = self.trailer.len();
            self.ip(b, base, true);
            // A quote's own trailer is part of the body, not of the outer frame.
            if self.trailer.len() > before {
                let extra: Vec<Vec<u8>> = self.trailer.drain(before..).collect();
                for t in extra {
                    self.layers.push(Layer::Padding(t));
                }
            }
        } else {
            self.raw(b);
        }
    }
}

#[cfg(test)]
mod tests;
