//! The schemas against the model and the displays: every field of every layer reads,
//! writes back what it read, takes a new value of its kind, refuses one of another kind
//! or width, and is written by the field tree and JSON.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{of, FieldValue, Kind};
use crate::packet::display::{json, show};
use crate::packet::{
    ArpRepr, EtherRepr, IcmpRepr, Ipv4Repr, Ipv6Repr, Layer, Packet, SllRepr, TcpOption, TcpRepr,
    UdpRepr,
};

/// Packets that hold every kind of layer between them.
fn samples() -> Vec<Packet> {
    let sll = SllRepr {
        pkttype: 4,
        hatype: 1,
        halen: 6,
        addr: [2, 0, 0, 0, 0, 1, 0, 0],
        proto: None,
    };
    let tcp = TcpRepr {
        options: vec![TcpOption::Mss(1460), TcpOption::Nop],
        ..TcpRepr::default()
    };
    vec![
        Packet::new(vec![
            Layer::Ether(EtherRepr::default()),
            Layer::Ipv4(Ipv4Repr::default()),
            Layer::Tcp(tcp),
            Layer::Raw(b"hi".to_vec()),
            Layer::Padding(vec![0; 4]),
        ]),
        Packet::new(vec![
            Layer::Sll(sll),
            Layer::Ipv6(Ipv6Repr::default()),
            Layer::Udp(UdpRepr::default()),
        ]),
        Packet::new(vec![
            Layer::Ether(EtherRepr::default()),
            Layer::Arp(ArpRepr::default()),
        ]),
        Packet::new(vec![
            Layer::Ipv4(Ipv4Repr::default()),
            Layer::Icmp(IcmpRepr::default()),
        ]),
        Packet::new(vec![
            Layer::Ipv6(Ipv6Repr::default()),
            Layer::Icmpv6(IcmpRepr::default_v6()),
        ]),
    ]
}

fn layers() -> Vec<Layer> {
    samples().into_iter().flat_map(|p| p.layers).collect()
}

#[test]
fn the_samples_hold_every_layer() {
    let titles: BTreeSet<&str> = layers().iter().map(|l| of(l).title).collect();
    assert_eq!(titles.len(), 11, "{titles:?}");
}

#[test]
fn names_are_unique_and_fields_read_only_their_layer() {
    for l in layers() {
        let s = of(&l);
        let mut names = BTreeSet::new();
        for f in s.fields {
            assert!(names.insert(f.name), "{}: {} twice", s.title, f.name);
            assert!(f.get(&l).is_some(), "{}.{} does not read", s.title, f.name);
            assert!(s.field(f.name).is_some());
        }
        let other = if matches!(l, Layer::Tcp(_)) {
            Layer::Udp(UdpRepr::default())
        } else {
            Layer::Tcp(TcpRepr::default())
        };
        for f in s.fields {
            assert!(
                f.get(&other).is_none(),
                "{}.{} reads another layer",
                s.title,
                f.name
            );
            let mut o = other.clone();
            if let Some(v) = f.get(&l) {
                assert!(f.set(&mut o, v.into_owned()).is_err());
            }
            assert_eq!(o, other);
        }
    }
}

/// A value of `kind` that no sample holds (the widest number, other addresses …).
fn another(kind: Kind, current: &FieldValue<'_>) -> FieldValue<'static> {
    let max = |b: u32| (1u64 << b) - 1;
    match kind {
        Kind::U(b) | Kind::Named(b, _) | Kind::Auto(b) => FieldValue::Int(max(b)),
        Kind::Seq => FieldValue::Int(u64::from(u32::MAX)),
        Kind::TcpFlags => FieldValue::TcpFlags(crate::packet::TcpFlags(0x1ff)),
        Kind::IpFlags => FieldValue::IpFlags(7),
        Kind::V4 | Kind::V4Auto => FieldValue::V4(Ipv4Addr::new(198, 18, 0, 9)),
        Kind::V6 | Kind::V6Auto => FieldValue::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9)),
        Kind::Mac => FieldValue::Mac([2, 0, 0, 0, 0, 9]),
        Kind::LinkAddr => match current {
            FieldValue::Bytes(b) => FieldValue::Bytes(Cow::Owned(vec![0xaa; b.len()])),
            _ => FieldValue::None,
        },
        Kind::Options => FieldValue::Options(Cow::Owned(vec![TcpOption::Nop, TcpOption::Mss(1)])),
        Kind::IpOptions => FieldValue::Bytes(Cow::Owned(vec![0x94, 4, 0, 0])),
        Kind::Bytes => FieldValue::Bytes(Cow::Owned(b"xyz".to_vec())),
    }
}

/// A value of the wrong width or kind for `kind`.
fn wrong(kind: Kind) -> FieldValue<'static> {
    match kind {
        Kind::U(b) | Kind::Named(b, _) | Kind::Auto(b) => FieldValue::Int(1 << b),
        Kind::Seq => FieldValue::Int(1 << 32),
        Kind::IpFlags => FieldValue::IpFlags(8),
        Kind::Bytes | Kind::IpOptions | Kind::LinkAddr | Kind::Options => FieldValue::Int(1),
        _ => FieldValue::Bytes(Cow::Owned(vec![1])),
    }
}

#[test]
fn every_field_round_trips_and_takes_new_values() {
    for l in layers() {
        let s = of(&l);
        for f in s.fields {
            let what = format!("{}.{}", s.title, f.name);
            let v = f.get(&l).map(FieldValue::into_owned);
            let Some(v) = v else {
                panic!("{what} does not read");
            };
            // what was read writes back unchanged
            let mut m = l.clone();
            f.set(&mut m, v.clone())
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(m, l, "{what}");
            assert_eq!(f.get(&m).map(FieldValue::into_owned), Some(v.clone()));
            // a new value: taken and read back, or refused with the layer unchanged
            let new = another(f.kind, &v);
            let mut m = l.clone();
            match f.set(&mut m, new.clone()) {
                Ok(()) => assert_eq!(f.get(&m), Some(new), "{what}"),
                Err(_) => assert_eq!(m, l, "{what}: refused but changed"),
            }
            // computed fields and routed addresses take "none"
            if matches!(f.kind, Kind::Auto(_) | Kind::V4Auto | Kind::V6Auto) {
                let mut m = l.clone();
                f.set(&mut m, FieldValue::None)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(f.get(&m), Some(FieldValue::None), "{what}");
            }
            // wrong width or kind: refused, layer unchanged
            let mut m = l.clone();
            assert!(
                f.set(&mut m, wrong(f.kind)).is_err(),
                "{what} took a wrong value"
            );
            assert_eq!(m, l, "{what}");
        }
    }
}

#[test]
fn the_model_refuses_what_it_cannot_build() {
    let mut arp = Layer::Arp(ArpRepr::default());
    let hwlen = super::ARP.field("hwlen").unwrap();
    assert_eq!(
        hwlen.set(&mut arp, FieldValue::Int(8)),
        Err("ARP hwlen: only 6 is built (Ethernet and IPv4 addresses)".to_string())
    );
    let mut ip = Layer::Ipv4(Ipv4Repr::default());
    let opts = super::IPV4.field("options").unwrap();
    assert!(opts
        .set(&mut ip, FieldValue::Bytes(Cow::Owned(vec![1; 41])))
        .is_err());
    opts.set(&mut ip, FieldValue::Bytes(Cow::Owned(vec![1; 5])))
        .unwrap();
    assert_eq!(
        opts.get(&ip),
        Some(FieldValue::Bytes(Cow::Owned(vec![1, 1, 1, 1, 1, 0, 0, 0]))),
        "padded to a multiple of 4"
    );
}

/// Lines of layer `i`'s block in a `show()` tree.
fn block(tree: &str, i: usize) -> Vec<&str> {
    let mut n = None;
    let mut out = Vec::new();
    for line in tree.lines() {
        if line.starts_with("###[ ") {
            n = Some(n.map_or(0, |k| k + 1));
        } else if n == Some(i) {
            out.push(line.trim_start());
        }
    }
    out
}

#[test]
fn the_field_tree_and_json_write_every_field() {
    for p in samples() {
        let tree = show(&p);
        let j = json(&p);
        for (i, l) in p.layers.iter().enumerate() {
            let s = of(l);
            let lines = block(&tree, i);
            let obj = &j["layers"][i];
            assert_eq!(obj["layer"], l.name());
            for f in s.fields {
                let prefix = format!("{:<10}= ", f.name);
                assert!(
                    lines.iter().any(|x| x.starts_with(&prefix)),
                    "show() misses {}.{}:\n{tree}",
                    s.title,
                    f.name
                );
                assert!(
                    obj.get(f.name).is_some(),
                    "json misses {}.{}: {obj}",
                    s.title,
                    f.name
                );
            }
        }
    }
}

#[test]
fn views_show_only_when_they_apply() {
    let redirect = IcmpRepr {
        r#type: crate::packet::icmp::v4::REDIRECT,
        id: 0xc612,
        seq: 0x0001,
        ..IcmpRepr::default()
    };
    let p = Packet::new(vec![
        Layer::Ipv4(Ipv4Repr::default()),
        Layer::Icmp(redirect),
    ]);
    assert!(
        show(&p).contains("gw        = 198.18.0.1\n"),
        "{}",
        show(&p)
    );
    assert_eq!(json(&p)["layers"][1]["gw"], "198.18.0.1");
    let echo = Packet::new(vec![
        Layer::Ipv4(Ipv4Repr::default()),
        Layer::Icmp(IcmpRepr::default()),
    ]);
    for name in ["gw", "ptr", "nexthopmtu"] {
        assert!(json(&echo)["layers"][1].get(name).is_none());
    }
    let mut t = TcpRepr {
        padding: Some(vec![0, 0, 0, 0]),
        ..TcpRepr::default()
    };
    let quiet = Packet::new(vec![Layer::Tcp(t.clone())]);
    assert!(json(&quiet)["layers"][0].get("padding").is_none());
    t.padding = Some(vec![0, 0, 0, 7]);
    let loud = Packet::new(vec![Layer::Tcp(t)]);
    assert_eq!(json(&loud)["layers"][0]["padding"], "00000007");
}
