//! The scanner's paths: sendmmsg batches on AF_PACKET and the TPACKET_V3 ring with a
//! tcpcraft-compiled BPF filter, in the test bed.

use crate::testbed;

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use tcpcraft::net::filter::Filter;
use tcpcraft::net::ring::{Ring, RingConfig};
use tcpcraft::net::route;
use tcpcraft::net::send::Sender;
use tcpcraft::net::wire::{self, L4};
use tcpcraft::packet::{Ipv4Repr, Ipv6Repr, Layer, Packet, TcpFlags, TcpRepr};

fn syn(src: IpAddr, dst: IpAddr, sport: u16, dport: u16) -> Vec<u8> {
    let ip = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Layer::Ipv4(Ipv4Repr {
            src: Some(s),
            dst: d,
            ..Ipv4Repr::default()
        }),
        (IpAddr::V6(s), IpAddr::V6(d)) => Layer::Ipv6(Ipv6Repr {
            src: Some(s),
            dst: d,
            ..Ipv6Repr::default()
        }),
        _ => panic!("mixed families"),
    };
    let tcp = Layer::Tcp(TcpRepr {
        sport,
        dport,
        seq: 1,
        flags: TcpFlags(TcpFlags::SYN),
        ..TcpRepr::default()
    });
    Packet::new(vec![ip, tcp]).to_bytes()
}

#[test]
fn batch_send_and_ring_capture_lose_nothing() {
    let Some(bed) = testbed::standard("ring") else {
        return;
    };
    bed.in_client(|| {
        for dst in [
            IpAddr::V4(testbed::SERVER_V4),
            IpAddr::V6(testbed::SERVER_V6),
        ] {
            let r = route::resolve(dst, None, None).unwrap();
            assert_eq!(r.ifname, "tc0");
            let filter = Filter::new(
                &format!("src host {dst} and tcp"),
                tcpcraft::pcap::linktype::RAW,
            )
            .unwrap();
            let mut ring = Ring::open(r.ifindex, &filter.program, RingConfig::default()).unwrap();
            let mut sender = Sender::new();
            // 4,096 SYNs to closed ports: every one is answered.
            let pkts: Vec<Vec<u8>> = (0..4096u16)
                .map(|i| syn(r.src, dst, 30000 + i, 10000 + i))
                .collect();
            let refs: Vec<&[u8]> = pkts.iter().map(Vec::as_slice).collect();
            let mut sent = 0;
            while sent < refs.len() {
                sent += sender.send_batch(&refs[sent..], &r).unwrap();
            }
            sender.flush().unwrap();
            assert!(sender.ring_in_use(), "bulk frames go by the transmit ring");
            let mut seen = HashSet::new();
            let start = Instant::now();
            while seen.len() < 4096 && start.elapsed() < Duration::from_secs(3) {
                ring.poll(Duration::from_millis(50), |f| {
                    if let Some(wire::Summary {
                        l4: L4::Tcp { dport, .. },
                        ..
                    }) = wire::summarize(f.data)
                    {
                        seen.insert(dport);
                    }
                })
                .unwrap();
            }
            assert_eq!(seen.len(), 4096, "{dst}: answers seen");
            assert_eq!(ring.stats().1, 0, "ring drops");
        }
    })
    .unwrap();
}
