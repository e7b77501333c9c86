//! pnet_packet as an independent oracle for the parser.
//!
//! tcpcraft's own lossless model is the core (pnet's generated views clamp lengths
//! silently and cannot represent every packet a person crafts), but where both read
//! the same bytes, every header field both expose must agree. The property tests
//! (`src/packet/tests.rs`) and the `oracle` fuzz target (`fuzz/fuzz_targets/oracle.rs`,
//! built with the `oracle` feature) call [`disagreements`] on packets tcpcraft built
//! and on arbitrary bytes.

use super::{Layer, LinkType, Packet};
use pnet_packet::icmp::IcmpPacket;
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::ipv6::Ipv6Packet;
use pnet_packet::tcp::TcpPacket;
use pnet_packet::udp::UdpPacket;
use pnet_packet::Packet as _;

/// Fields where tcpcraft and pnet read `bytes` (a raw IP packet) differently, as
/// `"layer.field: ours X, pnet Y"`. Empty when they agree on every field both expose.
/// A pnet panic (its views index without checks in places) is not ours: that packet is
/// left out.
pub fn disagreements(bytes: &[u8]) -> Vec<String> {
    let (ours, _) = Packet::parse(bytes, LinkType::RawIp);
    let theirs = std::panic::catch_unwind(|| read_pnet(bytes));
    match theirs {
        Ok(t) => compare(&ours, &t),
        Err(_) => Vec::new(),
    }
}

/// What pnet reads: the IP header's fields and, when its view of the payload holds one,
/// the transport header's.
#[derive(Default, Debug)]
struct Pnet {
    ip: Vec<(&'static str, u64)>,
    /// Which transport pnet was asked to read (by the IP protocol field) and its fields.
    transport: Option<(&'static str, Vec<(&'static str, u64)>)>,
}

fn read_pnet(bytes: &[u8]) -> Pnet {
    let mut out = Pnet::default();
    let (proto, payload): (u8, Vec<u8>) = match bytes.first().map(|b| b >> 4) {
        Some(4) => {
            let Some(ip) = Ipv4Packet::new(bytes) else {
                return out;
            };
            out.ip = vec![
                ("version", u64::from(ip.get_version())),
                ("ihl", u64::from(ip.get_header_length())),
                (
                    "tos",
                    u64::from(ip.get_dscp()) << 2 | u64::from(ip.get_ecn()),
                ),
                ("len", u64::from(ip.get_total_length())),
                ("id", u64::from(ip.get_identification())),
                ("flags", u64::from(ip.get_flags())),
                ("frag", u64::from(ip.get_fragment_offset())),
                ("ttl", u64::from(ip.get_ttl())),
                ("proto", u64::from(ip.get_next_level_protocol().0)),
                ("chksum", u64::from(ip.get_checksum())),
                ("src", u64::from(u32::from(ip.get_source()))),
                ("dst", u64::from(u32::from(ip.get_destination()))),
            ];
            if ip.get_header_length() < 5 || ip.get_fragment_offset() != 0 {
                return out;
            }
            (ip.get_next_level_protocol().0, ip.payload().to_vec())
        }
        Some(6) => {
            let Some(ip) = Ipv6Packet::new(bytes) else {
                return out;
            };
            out.ip = vec![
                ("version", u64::from(ip.get_version())),
                ("tc", u64::from(ip.get_traffic_class())),
                ("fl", u64::from(ip.get_flow_label())),
                ("plen", u64::from(ip.get_payload_length())),
                ("nh", u64::from(ip.get_next_header().0)),
                ("hlim", u64::from(ip.get_hop_limit())),
                ("src", addr(ip.get_source())),
                ("dst", addr(ip.get_destination())),
            ];
            (ip.get_next_header().0, ip.payload().to_vec())
        }
        _ => return out,
    };
    out.transport = match proto {
        6 => TcpPacket::new(&payload).map(|t| {
            (
                "TCP",
                vec![
                    ("sport", u64::from(t.get_source())),
                    ("dport", u64::from(t.get_destination())),
                    ("seq", u64::from(t.get_sequence())),
                    ("ack", u64::from(t.get_acknowledgement())),
                    ("dataofs", u64::from(t.get_data_offset())),
                    // pnet's four reserved bits hold tcpcraft's three and NS.
                    ("reserved+NS", u64::from(t.get_reserved())),
                    ("flags", u64::from(t.get_flags())),
                    ("window", u64::from(t.get_window())),
                    ("chksum", u64::from(t.get_checksum())),
                    ("urgptr", u64::from(t.get_urgent_ptr())),
                ],
            )
        }),
        17 => UdpPacket::new(&payload).map(|u| {
            (
                "UDP",
                vec![
                    ("sport", u64::from(u.get_source())),
                    ("dport", u64::from(u.get_destination())),
                    ("len", u64::from(u.get_length())),
                    ("chksum", u64::from(u.get_checksum())),
                ],
            )
        }),
        1 => IcmpPacket::new(&payload).map(|i| {
            (
                "ICMP",
                vec![
                    ("type", u64::from(i.get_icmp_type().0)),
                    ("code", u64::from(i.get_icmp_code().0)),
                    ("chksum", u64::from(i.get_checksum())),
                ],
            )
        }),
        _ => None,
    };
    out
}

/// An IPv6 address folded into the 64 bits the field lists hold.
fn addr(a: std::net::Ipv6Addr) -> u64 {
    u128::from(a) as u64 ^ (u128::from(a) >> 64) as u64
}

/// tcpcraft's reading of the same fields, from its parsed layers.
fn ours(p: &Packet) -> Pnet {
    let mut out = Pnet::default();
    let mut layers = p.layers.iter();
    match layers.next() {
        Some(Layer::Ipv4(ip)) => {
            out.ip = vec![
                ("version", u64::from(ip.version)),
                ("ihl", u64::from(ip.ihl.unwrap_or(0))),
                ("tos", u64::from(ip.tos)),
                ("len", u64::from(ip.len.unwrap_or(0))),
                ("id", u64::from(ip.id)),
                ("flags", u64::from(ip.flags)),
                ("frag", u64::from(ip.frag)),
                ("ttl", u64::from(ip.ttl)),
                ("proto", u64::from(ip.proto.unwrap_or(0))),
                ("chksum", u64::from(ip.chksum.unwrap_or(0))),
                ("src", u64::from(u32::from(ip.src.unwrap_or([0; 4].into())))),
                ("dst", u64::from(u32::from(ip.dst))),
            ];
        }
        Some(Layer::Ipv6(ip)) => {
            out.ip = vec![
                ("version", u64::from(ip.version)),
                ("tc", u64::from(ip.tc)),
                ("fl", u64::from(ip.fl)),
                ("plen", u64::from(ip.plen.unwrap_or(0))),
                ("nh", u64::from(ip.nh.unwrap_or(0))),
                ("hlim", u64::from(ip.hlim)),
                (
                    "src",
                    addr(ip.src.unwrap_or(std::net::Ipv6Addr::UNSPECIFIED)),
                ),
                ("dst", addr(ip.dst)),
            ];
        }
        _ => return out,
    }
    out.transport = match layers.next() {
        Some(Layer::Tcp(t)) => Some((
            "TCP",
            vec![
                ("sport", u64::from(t.sport)),
                ("dport", u64::from(t.dport)),
                ("seq", u64::from(t.seq)),
                ("ack", u64::from(t.ack)),
                ("dataofs", u64::from(t.dataofs.unwrap_or(0))),
                (
                    "reserved+NS",
                    u64::from(t.reserved) << 1 | u64::from(t.flags.0 >> 8 & 1),
                ),
                ("flags", u64::from(t.flags.0 & 0xff)),
                ("window", u64::from(t.window)),
                ("chksum", u64::from(t.chksum.unwrap_or(0))),
                ("urgptr", u64::from(t.urgptr)),
            ],
        )),
        Some(Layer::Udp(u)) => Some((
            "UDP",
            vec![
                ("sport", u64::from(u.sport)),
                ("dport", u64::from(u.dport)),
                ("len", u64::from(u.len.unwrap_or(0))),
                ("chksum", u64::from(u.chksum.unwrap_or(0))),
            ],
        )),
        Some(Layer::Icmp(i)) => Some((
            "ICMP",
            vec![
                ("type", u64::from(i.r#type)),
                ("code", u64::from(i.code)),
                ("chksum", u64::from(i.chksum.unwrap_or(0))),
            ],
        )),
        _ => None,
    };
    out
}

fn compare(p: &Packet, theirs: &Pnet) -> Vec<String> {
    let ours = ours(p);
    let mut wrong = Vec::new();
    let ip = if ours.ip.len() == 12 { "IP" } else { "IPv6" };
    // The IP header: whenever tcpcraft read one, pnet's view of it must agree.
    if !ours.ip.is_empty() {
        for (&(name, a), &(_, b)) in ours.ip.iter().zip(theirs.ip.iter()) {
            if a != b {
                wrong.push(format!("{ip}.{name}: ours {a}, pnet {b}"));
            }
        }
        if theirs.ip.len() != ours.ip.len() {
            wrong.push(format!("{ip}: pnet read no header of that version"));
        }
    }
    // The transport header: where both read one of the same kind.
    if let (Some((kind, a)), Some((their_kind, b))) = (&ours.transport, &theirs.transport) {
        if kind == their_kind {
            for (&(name, x), &(_, y)) in a.iter().zip(b.iter()) {
                if x != y {
                    wrong.push(format!("{kind}.{name}: ours {x}, pnet {y}"));
                }
            }
        }
    }
    wrong
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The oracle sees a difference when there is one: a reading that differs from the
    /// bytes in one field is reported by that field's name.
    #[test]
    fn a_wrong_field_is_named() {
        let b = hex::decode(
            "4500002c000140004006f7f9c6120001c6120002c0de0050000003e800000000601220005dd50000020405b4",
        )
        .unwrap();
        assert_eq!(disagreements(&b), Vec::<String>::new());
        let (mut p, _) = Packet::parse(&b, LinkType::RawIp);
        if let Some(Layer::Tcp(t)) = p.layers.get_mut(1) {
            t.window = 1;
        }
        if let Some(Layer::Ipv4(ip)) = p.layers.get_mut(0) {
            ip.ttl = 1;
        }
        let wrong = compare(&p, &read_pnet(&b));
        assert_eq!(
            wrong,
            ["IP.ttl: ours 1, pnet 64", "TCP.window: ours 1, pnet 8192"],
            "{wrong:?}"
        );
    }
}
