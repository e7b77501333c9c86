//! One description per layer of the fields it has: scapy's name, the kind of value, the
//! default as `ls()` shows it, a line of help, how the field tree shows it, and a getter
//! and setter over the packet model. Everything that lists, reads, writes or prints
//! fields by name stands on these tables: the language's `p.field` reads and writes,
//! `ls()`, completion and `help(TCP.dport)` (in `lang/packets.rs`), and the field tree
//! and JSON (in `display/fields.rs`). A field added here appears in all of them.
//!
//! Values cross the tables as [`FieldValue`], the packet's own terms (numbers,
//! addresses, flags, option lists, bytes); the language converts its values to and from
//! them and keeps its error messages. A setter checks only what the model itself
//! requires (a value of the right kind and width, ARP's built sizes, the 40 bytes of IP
//! options).
//!
//! Some layers also have *views*: read-only fields the field tree shows only when they
//! mean something (TCP header padding that is not zero, an ICMP error's next-hop MTU or
//! pointer). They are not fields of the language.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Layer, TcpFlags, TcpOption};

/// `[Field, …]` for one layer: each entry gives the field's name, kind, display style,
/// `ls()` default and help, then an expression reading it (`get`) and a statement
/// writing it (`set(v)`), both over the layer bound by the pattern before `=>`.
macro_rules! fields {
    ($pat:pat => $(
        $name:literal: $kind:expr, $show:expr, $default:literal, $help:literal,
        get $get:expr, set($v:ident) $set:expr;
    )*) => {
        [$(
            $crate::packet::schema::Field {
                name: $name,
                kind: $kind,
                show: $show,
                default: $default,
                help: $help,
                get: |l| match l {
                    $pat => Some($get),
                    _ => None,
                },
                set: |l, $v| match l {
                    $pat => {
                        $set;
                        Ok(())
                    }
                    other => Err($crate::packet::schema::wrong_layer(other, $name)),
                },
            },
        )*]
    };
}

mod arp;
mod icmp;
mod ipv4;
mod ipv6;
mod link;
mod raw;
mod tcp;
mod udp;

pub use arp::ARP;
pub use icmp::{ICMP, ICMPV6};
pub use ipv4::IPV4;
pub use ipv6::IPV6;
pub use link::{ETHER, SLL};
pub use raw::{PADDING, RAW};
pub use tcp::TCP;
pub use udp::UDP;

/// What values a field takes (what `ls()` prints in its type column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Unsigned integer of this many bits.
    U(u32),
    /// Unsigned integer of this many bits, some values also known by name (ARP's `op`:
    /// `"who-has"`, `"is-at"`).
    Named(u32, &'static [(&'static str, u64)]),
    /// 32-bit sequence number (the language wraps any integer mod 2^32).
    Seq,
    /// Computed field of this many bits: `None` means "fill in when building".
    Auto(u32),
    TcpFlags,
    IpFlags,
    V4,
    /// IPv4 address, or `None` (the route chooses).
    V4Auto,
    V6,
    /// IPv6 address, or `None` (the route chooses).
    V6Auto,
    Mac,
    /// A link-layer address of any length up to 8 bytes (cooked captures).
    LinkAddr,
    /// TCP options.
    Options,
    /// IP option bytes (the language also takes a list of option builders).
    IpOptions,
    Bytes,
}

impl Kind {
    /// The type column of `ls()`.
    pub fn describe(self) -> String {
        match self {
            Kind::U(b) | Kind::Named(b, _) => format!("int{b}"),
            Kind::Seq => "seq32 (wraps)".into(),
            Kind::Auto(b) => format!("int{b} or none (auto)"),
            Kind::TcpFlags => "tcp flags".into(),
            Kind::IpFlags => "ip flags".into(),
            Kind::V4 => "IPv4 address".into(),
            Kind::V4Auto => "IPv4 address or none".into(),
            Kind::V6 => "IPv6 address".into(),
            Kind::V6Auto => "IPv6 address or none".into(),
            Kind::Mac => "MAC address".into(),
            Kind::LinkAddr => "link address".into(),
            Kind::Options => "list of options".into(),
            Kind::IpOptions | Kind::Bytes => "bytes".into(),
        }
    }

    /// Whether `v` is a value of this kind (of the right width for numbers).
    fn check(self, v: &FieldValue<'_>) -> Result<(), String> {
        let fits = |n: u64, bits: u32| bits >= 64 || n >> bits == 0;
        let ok = match (self, v) {
            (Kind::U(b) | Kind::Named(b, _) | Kind::Auto(b), FieldValue::Int(n)) => fits(*n, b),
            (Kind::Seq, FieldValue::Int(n)) => fits(*n, 32),
            (Kind::Auto(_) | Kind::V4Auto | Kind::V6Auto, FieldValue::None) => true,
            (Kind::TcpFlags, FieldValue::TcpFlags(f)) => fits(f.0.into(), 9),
            (Kind::IpFlags, FieldValue::IpFlags(f)) => fits((*f).into(), 3),
            (Kind::V4 | Kind::V4Auto, FieldValue::V4(_))
            | (Kind::V6 | Kind::V6Auto, FieldValue::V6(_))
            | (Kind::Mac, FieldValue::Mac(_))
            | (Kind::Options, FieldValue::Options(_))
            | (Kind::LinkAddr | Kind::IpOptions | Kind::Bytes, FieldValue::Bytes(_)) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("expected {}, got {v:?}", self.describe()))
        }
    }
}

/// How the field tree (`show()`) and JSON write a field's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// As its kind says: numbers in decimal, addresses, flags, options and bytes as
    /// scapy writes them.
    Plain,
    /// A number in hex: `0x10`.
    Hex,
    /// An ethertype with its name: `0x0800 (IPv4)`.
    EtherType,
    /// A computed length, checked against what it should be.
    Length,
    /// A checksum, checked against what it should be.
    Chksum,
    /// UDP's checksum: as [`Show::Chksum`], but zero over IPv4 means "none" (RFC 768).
    UdpChksum,
    /// An IP protocol number with its name: `6 (tcp)`.
    IpProto,
    /// An ICMP or ICMPv6 type with its name.
    IcmpType,
    /// An ICMP or ICMPv6 code with its name (which depends on the type).
    IcmpCode,
    /// An ARP operation's name, then its number: `who-has (1)`.
    ArpOp,
    /// A cooked capture's packet type: `4 (sent-by-us)`.
    PktType,
}

/// A field's value in the packet model's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// A computed field left to be filled in, or an address left to the route.
    None,
    Int(u64),
    TcpFlags(TcpFlags),
    IpFlags(u8),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    Mac([u8; 6]),
    Bytes(Cow<'a, [u8]>),
    Options(Cow<'a, [TcpOption]>),
}

impl<'a> FieldValue<'a> {
    /// A number (`Int`); setters call it after `Kind::check`, so the width is right.
    pub fn int(&self) -> Result<u64, String> {
        match self {
            FieldValue::Int(n) => Ok(*n),
            other => Err(format!("expected a number, got {other:?}")),
        }
    }

    /// A computed field's value: `None` (fill in) or a number.
    pub fn auto(&self) -> Result<Option<u64>, String> {
        match self {
            FieldValue::None => Ok(None),
            other => other.int().map(Some),
        }
    }

    fn v4(&self) -> Result<Option<Ipv4Addr>, String> {
        match self {
            FieldValue::V4(a) => Ok(Some(*a)),
            FieldValue::None => Ok(None),
            other => Err(format!("expected an IPv4 address, got {other:?}")),
        }
    }

    fn v6(&self) -> Result<Option<Ipv6Addr>, String> {
        match self {
            FieldValue::V6(a) => Ok(Some(*a)),
            FieldValue::None => Ok(None),
            other => Err(format!("expected an IPv6 address, got {other:?}")),
        }
    }

    fn mac(&self) -> Result<[u8; 6], String> {
        match self {
            FieldValue::Mac(m) => Ok(*m),
            other => Err(format!("expected a MAC address, got {other:?}")),
        }
    }

    fn bytes(self) -> Result<Vec<u8>, String> {
        match self {
            FieldValue::Bytes(b) => Ok(b.into_owned()),
            other => Err(format!("expected bytes, got {other:?}")),
        }
    }

    fn options(self) -> Result<Vec<TcpOption>, String> {
        match self {
            FieldValue::Options(o) => Ok(o.into_owned()),
            other => Err(format!("expected TCP options, got {other:?}")),
        }
    }

    fn tcp_flags(&self) -> Result<TcpFlags, String> {
        match self {
            FieldValue::TcpFlags(f) => Ok(*f),
            other => Err(format!("expected TCP flags, got {other:?}")),
        }
    }

    fn ip_flags(&self) -> Result<u8, String> {
        match self {
            FieldValue::IpFlags(f) => Ok(*f),
            other => Err(format!("expected IP flags, got {other:?}")),
        }
    }

    /// The same value, owning what it borrowed.
    pub fn into_owned(self) -> FieldValue<'static> {
        match self {
            FieldValue::None => FieldValue::None,
            FieldValue::Int(n) => FieldValue::Int(n),
            FieldValue::TcpFlags(f) => FieldValue::TcpFlags(f),
            FieldValue::IpFlags(f) => FieldValue::IpFlags(f),
            FieldValue::V4(a) => FieldValue::V4(a),
            FieldValue::V6(a) => FieldValue::V6(a),
            FieldValue::Mac(m) => FieldValue::Mac(m),
            FieldValue::Bytes(b) => FieldValue::Bytes(Cow::Owned(b.into_owned())),
            FieldValue::Options(o) => FieldValue::Options(Cow::Owned(o.into_owned())),
        }
    }
}

/// A number as a field value (getters' shorthand).
fn int(n: impl Into<u64>) -> FieldValue<'static> {
    FieldValue::Int(n.into())
}

/// A computed number as a field value: `None` when left to be filled in.
fn auto(n: Option<impl Into<u64>>) -> FieldValue<'static> {
    n.map_or(FieldValue::None, int)
}

/// Borrowed bytes as a field value.
fn bytes(b: &[u8]) -> FieldValue<'_> {
    FieldValue::Bytes(Cow::Borrowed(b))
}

/// A setter's answer when handed another layer (a table bug, never a user's mistake).
pub(crate) fn wrong_layer(l: &Layer, field: &str) -> String {
    format!("{} has no field {field}", l.name())
}

/// One field of a layer.
pub struct Field {
    /// scapy's name.
    pub name: &'static str,
    pub kind: Kind,
    /// How the field tree and JSON write it.
    pub show: Show,
    /// The language's default, as `ls()` shows it.
    pub default: &'static str,
    /// What it is, for `ls()` and `help(TCP.dport)`.
    pub help: &'static str,
    get: fn(&Layer) -> Option<FieldValue<'_>>,
    set: fn(&mut Layer, FieldValue<'_>) -> Result<(), String>,
}

impl Field {
    /// The field's value in `l`; `None` when `l` is not a layer of this field's kind.
    pub fn get<'a>(&self, l: &'a Layer) -> Option<FieldValue<'a>> {
        (self.get)(l)
    }

    /// Writes the field in `l`. An error says why the model refuses the value (wrong
    /// kind or width, ARP sizes other than Ethernet/IPv4's, IP options past 40 bytes).
    pub fn set(&self, l: &mut Layer, v: FieldValue<'_>) -> Result<(), String> {
        self.kind.check(&v)?;
        (self.set)(l, v)
    }
}

impl std::fmt::Debug for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Field({}: {:?})", self.name, self.kind)
    }
}

/// A read-only field that the field tree shows only when it applies.
pub struct View {
    pub name: &'static str,
    pub kind: Kind,
    pub show: Show,
    get: fn(&Layer) -> Option<FieldValue<'_>>,
}

impl View {
    /// The value, when the view applies to `l`.
    pub fn get<'a>(&self, l: &'a Layer) -> Option<FieldValue<'a>> {
        (self.get)(l)
    }
}

/// A layer's fields, in wire order (scapy's order).
pub struct LayerSchema {
    /// The field tree's heading (`Ethernet`, `IP`, …).
    pub title: &'static str,
    pub fields: &'static [Field],
    /// Shown after the fields, each only when it applies.
    pub views: &'static [View],
}

impl LayerSchema {
    /// The field called `name`. On the language's hot path (every `p.seq`, every
    /// `p.ttl = 3` asks each layer in turn): names are told apart by length and first
    /// byte before any string comparison.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        let fields: &'static [Field] = self.fields;
        self.position(name).map(|i| &fields[i])
    }

    /// Where the field called `name` is in [`Self::fields`] (its bit in a set of
    /// fields, as `Given` keeps them).
    pub fn position(&self, name: &str) -> Option<usize> {
        let first = name.as_bytes().first();
        self.fields.iter().position(|f| {
            f.name.len() == name.len() && f.name.as_bytes().first() == first && f.name == name
        })
    }
}

/// The schema of `l`'s layer.
pub fn of(l: &Layer) -> &'static LayerSchema {
    match l {
        Layer::Ether(_) => &ETHER,
        Layer::Sll(_) => &SLL,
        Layer::Arp(_) => &ARP,
        Layer::Ipv4(_) => &IPV4,
        Layer::Ipv6(_) => &IPV6,
        Layer::Tcp(_) => &TCP,
        Layer::Udp(_) => &UDP,
        Layer::Icmp(_) => &ICMP,
        Layer::Icmpv6(_) => &ICMPV6,
        Layer::Raw(_) => &RAW,
        Layer::Padding(_) => &PADDING,
    }
}

#[cfg(test)]
mod tests;
