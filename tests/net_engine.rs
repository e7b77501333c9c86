//! The engine against real Linux TCP/IP stacks in the test bed (run as root; see
//! tests/testbed/mod.rs for how they skip or fail without it).

mod testbed;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use tcpcraft::net::wire::{self, L4};
use tcpcraft::net::{AnswerKind, Engine, EngineOptions, Probe};
use tcpcraft::packet::{Ipv4Repr, Ipv6Repr, Layer, Packet, TcpFlags, TcpRepr, UdpRepr};

const T: Duration = Duration::from_millis(500);

fn syn(dst: IpAddr, sport: u16, dport: u16, seq: u32) -> Probe {
    let ip = match dst {
        IpAddr::V4(d) => Layer::Ipv4(Ipv4Repr { dst: d, src: None, ..Ipv4Repr::default() }),
        IpAddr::V6(d) => Layer::Ipv6(Ipv6Repr { dst: d, src: None, ..Ipv6Repr::default() }),
    };
    let tcp = Layer::Tcp(TcpRepr {
        sport,
        dport,
        seq,
        flags: TcpFlags(TcpFlags::SYN),
        window: 64240,
        ..TcpRepr::default()
    });
    Probe::new(Packet::new(vec![ip, tcp]).to_bytes())
}

fn tcp_of(bytes: &[u8]) -> (u16, u32, u32) {
    match wire::summarize(bytes).map(|s| s.l4) {
        Some(L4::Tcp { flags, seq, ack, .. }) => (flags, seq, ack),
        other => panic!("not TCP: {other:?}"),
    }
}

fn engine() -> Engine {
    Engine::new(EngineOptions::default()).expect("engine (root)")
}

fn targets() -> [IpAddr; 2] {
    [IpAddr::V4(testbed::SERVER_V4), IpAddr::V6(testbed::SERVER_V6)]
}

#[test]
fn syn_to_open_port_gets_syn_ack_with_ack_seq_plus_one() {
    let Some(bed) = testbed::standard("syn_open") else { return };
    bed.in_client(|| {
        let mut e = engine();
        for dst in targets() {
            let r = e.sr1(&syn(dst, 40000, 80, 1000), T).unwrap().expect("a SYN-ACK");
            let (flags, _, ack) = tcp_of(&r.bytes);
            assert_eq!(flags, 0x012, "SYN-ACK from {dst}");
            assert_eq!(ack, 1001);
            assert_eq!(r.kind, AnswerKind::Direct);
            assert!(r.rtt < T, "rtt {:?}", r.rtt);
        }
    })
    .unwrap();
}

#[test]
fn syn_to_closed_port_gets_rst_ack_and_dropped_port_nothing() {
    let Some(bed) = testbed::standard("syn_closed") else { return };
    bed.in_client(|| {
        let mut e = engine();
        for dst in targets() {
            let r = e.sr1(&syn(dst, 40001, 9, 5000), T).unwrap().expect("a RST");
            let (flags, _, ack) = tcp_of(&r.bytes);
            assert_eq!(flags, 0x014, "RST-ACK from {dst}");
            assert_eq!(ack, 5001);
            let none = e.sr1(&syn(dst, 40002, 8443, 1), Duration::from_millis(300)).unwrap();
            assert!(none.is_none(), "dropped port answered: {none:?}");
        }
    })
    .unwrap();
}
