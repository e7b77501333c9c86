//! Tests for `display::json`: scapy's names in scapy's order, computed fields filled in.

use std::net::Ipv6Addr;

use serde_json::{json, Value};
use tcpcraft::packet::display::{json, summary};
use tcpcraft::packet::{Ipv6Repr, Layer, LinkType, Packet, TcpOption, TcpRepr};

fn vector(name: &str) -> Vec<u8> {
    let text = include_str!("../fixtures/vectors.txt");
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no vector {name}"));
    hex::decode(line.split_whitespace().nth(2).expect("hex")).expect("hex")
}

fn parsed(name: &str) -> Packet {
    Packet::parse(&vector(name), LinkType::RawIp).0
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn syn_with_options() {
    let p = parsed("syn_5opts");
    let j = json(&p);
    assert_eq!(j["summary"], json!(summary(&p)));
    let layers = j["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 2);
    assert_eq!(
        layers[0],
        json!({"layer": "IP", "version": 4, "ihl": 5, "tos": 0, "len": 60, "id": 1,
               "flags": "", "frag": 0, "ttl": 64, "proto": 6, "chksum": 0xee93,
               "chksum_ok": true, "src": "198.18.0.1", "dst": "198.18.0.2", "options": ""})
    );
    assert_eq!(
        keys(&layers[0]),
        [
            "layer",
            "version",
            "ihl",
            "tos",
            "len",
            "id",
            "flags",
            "frag",
            "ttl",
            "proto",
            "chksum",
            "chksum_ok",
            "src",
            "dst",
            "options"
        ]
    );
    assert_eq!(
        layers[1],
        json!({"layer": "TCP", "sport": 40000, "dport": 80, "seq": 1000, "ack": 0,
               "dataofs": 10, "reserved": 0, "flags": "S", "window": 64240,
               "chksum": 0x206e, "chksum_ok": true, "urgptr": 0,
               "options": [{"kind": "mss", "value": 1460}, {"kind": "sackok"},
                           {"kind": "ts", "value": [1, 0]}, {"kind": "nop"},
                           {"kind": "wscale", "value": 7}]})
    );
}

#[test]
fn every_option_kind_has_a_json_form() {
    let p = Packet::new(vec![Layer::Tcp(TcpRepr {
        options: vec![
            TcpOption::Sack(vec![(1, 2), (3, 4)]),
            TcpOption::Unknown {
                kind: 34,
                data: vec![1, 2, 3, 4],
            },
            TcpOption::Eol,
            TcpOption::Raw(vec![0xfe]),
        ],
        ..Default::default()
    })]);
    let j = json(&p);
    assert_eq!(
        j["layers"][0]["options"],
        json!([{"kind": "sack", "value": [[1, 2], [3, 4]]},
               {"kind": "opt", "number": 34, "data": "01020304"},
               {"kind": "eol"}, {"kind": "raw", "data": "fe"}])
    );
}

#[test]
fn payload_is_hex_and_bad_checksums_say_so() {
    let p = parsed("psh_ack_data");
    let j = json(&p);
    assert_eq!(j["layers"][1]["flags"], json!("PA"));
    assert_eq!(
        j["layers"][2],
        json!({"layer": "Raw", "load": hex::encode(b"GET / HTTP/1.0\r\n\r\n")})
    );
    let bad = json(&parsed("bad_tcp_chksum"));
    assert_eq!(bad["layers"][1]["chksum"], json!(0xdead));
    assert_eq!(bad["layers"][1]["chksum_ok"], json!(false));
    assert_eq!(bad["layers"][0]["chksum_ok"], json!(true));
}

#[test]
fn icmp_and_ipv6() {
    let j = json(&parsed("icmp_port_unreach_udp"));
    let names: Vec<&str> = j["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["layer"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["IP", "ICMP", "IP", "UDP", "Raw"]);
    assert_eq!(j["layers"][1]["type"], json!(3));
    assert_eq!(j["layers"][1]["code"], json!(3));
    let j = json(&parsed("ipv6_tcp_synack_fl"));
    assert_eq!(
        keys(&j["layers"][0]),
        ["layer", "version", "tc", "fl", "plen", "nh", "hlim", "src", "dst"]
    );
    assert_eq!(j["layers"][0]["fl"], json!(0x12345));
    assert_eq!(j["layers"][0]["hlim"], json!(57));
}

#[test]
fn an_unset_source_is_null_and_computed_fields_are_filled() {
    let p = Packet::new(vec![
        Layer::Ipv6(Ipv6Repr {
            dst: Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 0, 2),
            ..Default::default()
        }),
        Layer::Tcp(TcpRepr::default()),
    ]);
    let j = json(&p);
    assert_eq!(j["layers"][0]["src"], Value::Null);
    assert_eq!(j["layers"][0]["plen"], json!(20));
    assert_eq!(j["layers"][0]["nh"], json!(6));
    assert_eq!(j["layers"][1]["dataofs"], json!(5));
    assert_eq!(j["layers"][1]["chksum_ok"], json!(true));
    // One line of JSON per packet is what `decode --json` writes.
    assert!(!serde_json::to_string(&j).expect("json").contains('\n'));
}
