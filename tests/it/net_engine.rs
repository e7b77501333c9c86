//! The engine against real Linux TCP/IP stacks in the test bed (run as root; see
//! tests/testbed/mod.rs for how they skip or fail without it).

use crate::testbed;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::Command;
use std::time::Duration;

use tcpcraft::net::wire::{self, L4};
use tcpcraft::net::{AnswerKind, Engine, EngineOptions, Probe};
use tcpcraft::packet::{Ipv4Repr, Ipv6Repr, Layer, Packet, TcpFlags, TcpRepr, UdpRepr};

const T: Duration = Duration::from_millis(500);

fn syn(dst: IpAddr, sport: u16, dport: u16, seq: u32) -> Probe {
    let ip = match dst {
        IpAddr::V4(d) => Layer::Ipv4(Ipv4Repr {
            dst: d,
            src: None,
            ..Ipv4Repr::default()
        }),
        IpAddr::V6(d) => Layer::Ipv6(Ipv6Repr {
            dst: d,
            src: None,
            ..Ipv6Repr::default()
        }),
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
        Some(L4::Tcp {
            flags, seq, ack, ..
        }) => (flags, seq, ack),
        other => panic!("not TCP: {other:?}"),
    }
}

fn engine() -> Engine {
    Engine::new(EngineOptions::default()).expect("engine (root)")
}

fn targets() -> [IpAddr; 2] {
    [
        IpAddr::V4(testbed::SERVER_V4),
        IpAddr::V6(testbed::SERVER_V6),
    ]
}

#[test]
fn syn_to_open_port_gets_syn_ack_with_ack_seq_plus_one() {
    let Some(bed) = testbed::standard("syn_open") else {
        return;
    };
    bed.in_client(|| {
        let mut e = engine();
        for dst in targets() {
            let r = e
                .sr1(&syn(dst, 40000, 80, 1000), T)
                .unwrap()
                .expect("a SYN-ACK");
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
    let Some(bed) = testbed::standard("syn_closed") else {
        return;
    };
    bed.in_client(|| {
        let mut e = engine();
        for dst in targets() {
            let r = e.sr1(&syn(dst, 40001, 9, 5000), T).unwrap().expect("a RST");
            let (flags, _, ack) = tcp_of(&r.bytes);
            assert_eq!(flags, 0x014, "RST-ACK from {dst}");
            assert_eq!(ack, 5001);
            let none = e
                .sr1(&syn(dst, 40002, 8443, 1), Duration::from_millis(300))
                .unwrap();
            assert!(none.is_none(), "dropped port answered: {none:?}");
        }
    })
    .unwrap();
}

fn ip_layer(dst: IpAddr) -> Layer {
    match dst {
        IpAddr::V4(d) => Layer::Ipv4(Ipv4Repr {
            dst: d,
            src: None,
            ..Ipv4Repr::default()
        }),
        IpAddr::V6(d) => Layer::Ipv6(Ipv6Repr {
            dst: d,
            src: None,
            ..Ipv6Repr::default()
        }),
    }
}

fn udp(dst: IpAddr, sport: u16, dport: u16, payload: &[u8]) -> Probe {
    let u = Layer::Udp(UdpRepr {
        sport,
        dport,
        ..UdpRepr::default()
    });
    Probe::new(Packet::new(vec![ip_layer(dst), u, Layer::Raw(payload.to_vec())]).to_bytes())
}

#[test]
fn udp_echo_answers_and_icmp_errors_match_their_probes() {
    let Some(bed) = testbed::standard("udp_icmp") else {
        return;
    };
    bed.in_client(|| {
        let mut e = engine();
        for dst in targets() {
            let r = e
                .sr1(&udp(dst, 5000, 7, b"ping\n"), T)
                .unwrap()
                .expect("echo");
            assert!(r.bytes.ends_with(b"ping\n"), "{dst}: {:?}", r.bytes);
            // Closed UDP port: ICMP port unreachable quoting the probe.
            let r = e
                .sr1(&udp(dst, 5001, 9, b"x"), T)
                .unwrap()
                .expect("port unreachable");
            assert_eq!(r.kind, AnswerKind::IcmpError);
            let s = wire::summarize(&r.bytes).unwrap();
            match (dst, s.l4) {
                (IpAddr::V4(_), L4::Icmp { ty: 3, code: 3, .. }) => {}
                (IpAddr::V6(_), L4::Icmp { ty: 1, code: 4, .. }) => {}
                (d, other) => panic!("{d}: {other:?}"),
            }
            // nft reject on TCP 81: admin prohibited (v4 code 13, v6 code 1).
            let r = e
                .sr1(&syn(dst, 40005, 81, 77), T)
                .unwrap()
                .expect("admin prohibited");
            assert_eq!(r.kind, AnswerKind::IcmpError);
            let s = wire::summarize(&r.bytes).unwrap();
            match (dst, s.l4) {
                (
                    IpAddr::V4(_),
                    L4::Icmp {
                        ty: 3, code: 13, ..
                    },
                ) => {}
                (IpAddr::V6(_), L4::Icmp { ty: 1, code: 1, .. }) => {}
                (d, other) => panic!("{d}: {other:?}"),
            }
        }
    })
    .unwrap();
}

#[test]
fn sr_answers_many_probes_and_explains_the_rest() {
    let Some(bed) = testbed::standard("sr_many") else {
        return;
    };
    bed.in_client(|| {
        let mut e = engine();
        let dst = IpAddr::V4(testbed::SERVER_V4);
        let probes: Vec<Probe> = (0..512u16)
            .map(|i| syn(dst, 20000 + i, 1000 + i, 1))
            .collect();
        let r = e
            .sr(&probes, Duration::from_secs(1), 1, Duration::ZERO, &|| {
                false
            })
            .unwrap();
        assert_eq!(r.answered.len(), 512, "unanswered: {:?}", r.unanswered);
        assert!(r.unanswered.is_empty());
        assert_eq!(r.drops, 0);
        let mut seen: Vec<usize> = r.answered.iter().map(|a| a.probe).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 512, "each probe answered once");
        // A probe whose answer cannot match: to 8443 (dropped) — nothing; the reasons of
        // unmatched packets are kept (none expected here).
        let r = e
            .sr(
                &[syn(dst, 40100, 8443, 1)],
                Duration::from_millis(200),
                1,
                Duration::ZERO,
                &|| false,
            )
            .unwrap();
        assert_eq!(r.unanswered, vec![0]);
    })
    .unwrap();
}

/// The IPv4 header as captured in the server namespace for packets from the client.
fn capture_in_server(
    bed: &testbed::Bed,
    filter: &str,
    during: impl FnOnce() + Send,
) -> Vec<Vec<u8>> {
    use tcpcraft::net::capture::Capture;
    use tcpcraft::net::filter::Filter;
    let f = Filter::new(filter, tcpcraft::pcap::linktype::RAW).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        let server = bed.server.clone();
        let h = s.spawn(move || {
            tcpcraft::net::testbed::in_netns(&server, || {
                let mut cap = Capture::open(0, &f.program, 1 << 20).unwrap();
                tx.send(()).unwrap();
                let mut got = Vec::new();
                while let Some(fr) = cap.next(Duration::from_millis(300)).unwrap() {
                    got.push(fr.data);
                }
                got
            })
            .unwrap()
        });
        rx.recv().unwrap();
        during();
        h.join().unwrap()
    })
}

#[test]
fn a_deliberately_bad_ip_checksum_leaves_the_wire_as_built() {
    let Some(bed) = testbed::standard("bad_cksum") else {
        return;
    };
    let mut p = Packet::new(vec![
        Layer::Ipv4(Ipv4Repr {
            src: Some(testbed::CLIENT_V4),
            dst: testbed::SERVER_V4,
            chksum: Some(0xbeef),
            id: 4242,
            ..Ipv4Repr::default()
        }),
        Layer::Tcp(TcpRepr {
            sport: 41000,
            dport: 80,
            seq: 9,
            ..TcpRepr::default()
        }),
    ]);
    let built = p.to_bytes();
    assert_eq!(&built[10..12], &[0xbe, 0xef]);
    // And one with id 0 and a wrong total length, which the kernel would also rewrite.
    if let Some(ip) = p.ipv4_mut() {
        ip.chksum = None;
        ip.id = 0;
        ip.len = Some(1000);
    }
    let built2 = p.to_bytes();
    let got = capture_in_server(&bed, "tcp port 41000", || {
        bed.in_client(|| {
            let mut e = engine();
            e.send(
                &[Probe::new(built.clone()), Probe::new(built2.clone())],
                1,
                Duration::ZERO,
            )
            .unwrap();
            assert!(
                e.notes.iter().any(|n| n.contains("link layer")),
                "{:?}",
                e.notes
            );
        })
        .unwrap();
    });
    assert!(
        got.contains(&built),
        "bad checksum packet not seen as built: {got:02x?}"
    );
    assert!(
        got.iter().any(|g| g.starts_with(&built2[..20])),
        "id 0 / len 1000 packet changed: {got:02x?}"
    );
}

#[test]
fn pcap_file_records_probe_and_reply_and_tcpdump_reads_it() {
    let Some(bed) = testbed::standard("pcap") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.pcap");
    let p2 = path.clone();
    bed.in_client(move || {
        let mut e = Engine::new(EngineOptions {
            pcap: Some(p2),
            ..EngineOptions::default()
        })
        .unwrap();
        let r = e
            .sr1(&syn(IpAddr::V4(testbed::SERVER_V4), 40010, 80, 1000), T)
            .unwrap();
        assert!(r.is_some());
        e.flush().unwrap();
    })
    .unwrap();
    let out = Command::new("tcpdump")
        .args(["-n", "-r"])
        .arg(&path)
        .output()
        .expect("tcpdump");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains("198.18.0.1.40010 > 198.18.0.2.80: Flags [S]"),
        "{text}"
    );
    assert!(
        lines[1].contains("198.18.0.2.80 > 198.18.0.1.40010: Flags [S.]"),
        "{text}"
    );
}

#[test]
fn loopback_is_first_class_for_v4_and_v6() {
    let Some(bed) = testbed::standard("loopback") else {
        return;
    };
    // A listener on the client's own loopback (inside the client namespace).
    bed.in_client(|| {
        let l4 = std::net::TcpListener::bind("127.0.0.1:8080").unwrap();
        let l6 = std::net::TcpListener::bind("[::1]:8080").unwrap();
        let mut e = engine();
        for dst in [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ] {
            let r = e
                .sr1(&syn(dst, 40020, 8080, 1000), T)
                .unwrap()
                .expect("SYN-ACK over lo");
            let (flags, _, ack) = tcp_of(&r.bytes);
            assert_eq!((flags, ack), (0x012, 1001), "{dst}");
            let r = e
                .sr1(&syn(dst, 40021, 8081, 3000), T)
                .unwrap()
                .expect("RST over lo");
            assert_eq!(tcp_of(&r.bytes).0, 0x014, "{dst}");
            // sport == dport: our own probe comes back in on lo and must not count.
            let r = e.sr1(&syn(dst, 8082, 8082, 5), T).unwrap().expect("RST");
            assert_eq!(tcp_of(&r.bytes).0, 0x014, "{dst}");
        }
        drop((l4, l6));
    })
    .unwrap();
}

#[test]
fn sniff_with_a_filter_sees_only_what_matches() {
    let Some(bed) = testbed::standard("sniff") else {
        return;
    };
    bed.in_client(|| {
        let mut e = engine();
        std::thread::scope(|s| {
            let h = s.spawn(|| {
                // Same namespace: this thread was started from the client thread.
                let mut e2 = engine();
                e2.sniff(
                    2,
                    Some(Duration::from_secs(3)),
                    Some("tcp and src port 80"),
                    Some("tc0"),
                    &|| false,
                )
                .unwrap()
            });
            std::thread::sleep(Duration::from_millis(200));
            let dst = IpAddr::V4(testbed::SERVER_V4);
            e.sr1(&udp(dst, 5002, 7, b"noise"), T).unwrap();
            e.sr1(&syn(dst, 40030, 80, 1), T).unwrap();
            e.sr1(&syn(dst, 40031, 80, 1), T).unwrap();
            let got = h.join().unwrap();
            assert_eq!(got.len(), 2);
            for g in got {
                let (flags, _, _) = tcp_of(&g.bytes);
                assert_eq!(flags, 0x012);
                assert_eq!(g.iface, "tc0");
            }
        });
        let err = e
            .sniff(
                1,
                Some(Duration::from_millis(10)),
                Some("tcp and and"),
                None,
                &|| false,
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"tcp and and\"") && err.contains("syntax error"),
            "{err}"
        );
    })
    .unwrap();
}

#[test]
fn icmp_echo_matches_by_id_and_seq() {
    let Some(bed) = testbed::standard("echo") else {
        return;
    };
    bed.in_client(|| {
        let mut e = engine();
        let dst = IpAddr::V4(testbed::SERVER_V4);
        let ping = |seq: u16| {
            Probe::new(
                Packet::new(vec![
                    ip_layer(dst),
                    Layer::Icmp(tcpcraft::packet::IcmpRepr {
                        r#type: 8,
                        id: 777,
                        seq,
                        ..Default::default()
                    }),
                    Layer::Raw(b"tcpcraft".to_vec()),
                ])
                .to_bytes(),
            )
        };
        let r = e
            .sr(&[ping(1), ping(2), ping(3)], T, 0, Duration::ZERO, &|| {
                false
            })
            .unwrap();
        assert_eq!(r.answered.len(), 3);
        for a in &r.answered {
            match wire::summarize(&a.bytes).map(|s| s.l4) {
                Some(L4::Icmp {
                    ty: 0,
                    id: 777,
                    seq,
                    ..
                }) => assert_eq!(usize::from(seq), a.probe + 1),
                other => panic!("{other:?}"),
            }
        }
    })
    .unwrap();
}

#[test]
fn retries_get_every_answer_through_ten_percent_loss_each_way() {
    let Some(bed) = testbed::with(
        "loss",
        testbed::Faults {
            loss: 10,
            ..Default::default()
        },
    ) else {
        return;
    };
    bed.in_client(|| {
        let mut e = engine();
        let dst = IpAddr::V4(testbed::SERVER_V4);
        let probes: Vec<Probe> = (0..256u16)
            .map(|i| syn(dst, 30000 + i, 2000 + i, 7))
            .collect();
        let r = e
            .sr(
                &probes,
                Duration::from_millis(300),
                8,
                Duration::ZERO,
                &|| false,
            )
            .unwrap();
        assert_eq!(r.answered.len(), 256, "unanswered {:?}", r.unanswered);
    })
    .unwrap();
}

#[test]
fn time_exceeded_from_a_router_matches_the_probe() {
    let Some(bed) = testbed::standard("ttl") else {
        return;
    };
    // Make the server a router for the silent range: a TTL-1 probe dies there.
    let ok = bed
        .server_cmd("sysctl")
        .args(["-qw", "net.ipv4.ip_forward=1"])
        .status()
        .unwrap();
    assert!(ok.success());
    // A forwarding route for the range (back toward the client, which drops it), so the
    // router's TTL check is what answers.
    let ok = bed
        .server_cmd("ip")
        .args(["route", "add", "198.19.0.0/16", "via", "198.18.0.1"])
        .status()
        .unwrap();
    assert!(ok.success());
    bed.in_client(|| {
        let mut e = engine();
        let p = Packet::new(vec![
            Layer::Ipv4(Ipv4Repr {
                dst: Ipv4Addr::new(198, 19, 0, 5),
                ttl: 1,
                src: None,
                ..Ipv4Repr::default()
            }),
            Layer::Tcp(TcpRepr {
                sport: 40200,
                dport: 80,
                seq: 31337,
                ..TcpRepr::default()
            }),
        ]);
        let r = e
            .sr1(&Probe::new(p.to_bytes()), T)
            .unwrap()
            .expect("time exceeded");
        assert_eq!(r.kind, AnswerKind::IcmpError);
        let s = wire::summarize(&r.bytes).unwrap();
        assert_eq!(
            s.src,
            IpAddr::V4(testbed::SERVER_V4),
            "from the router, not the destination"
        );
        assert!(
            matches!(
                s.l4,
                L4::Icmp {
                    ty: 11,
                    code: 0,
                    ..
                }
            ),
            "{:?}",
            s.l4
        );
    })
    .unwrap();
}

/// A long burst (send of 64 packets or more to one route) goes through the transmit
/// ring: every packet reaches the peer byte for byte as built, small and MTU-sized,
/// with a deliberately wrong checksum too, over IPv4 and IPv6.
#[test]
fn a_long_burst_leaves_through_the_ring_as_built() {
    let Some(bed) = testbed::standard("burst_ring") else {
        return;
    };
    for dst in targets() {
        let mut built: Vec<Vec<u8>> = (0..200u16)
            .map(|i| {
                let mut p = syn(dst, 42000 + i, 9, u32::from(i) * 1000);
                if i % 50 == 7 {
                    // An MTU-sized one: 1,400 bytes of payload.
                    p.bytes.extend(std::iter::repeat_n(i as u8, 1400));
                    let n = p.bytes.len() as u16;
                    match dst {
                        IpAddr::V4(_) => p.bytes[2..4].copy_from_slice(&n.to_be_bytes()),
                        IpAddr::V6(_) => p.bytes[4..6].copy_from_slice(&(n - 40).to_be_bytes()),
                    }
                }
                p.bytes
            })
            .collect();
        // Source addresses filled in as the engine would (the test bed's client).
        for b in &mut built {
            let src = match dst {
                IpAddr::V4(_) => IpAddr::V4(testbed::CLIENT_V4),
                IpAddr::V6(_) => IpAddr::V6(testbed::CLIENT_V6),
            };
            wire::fill_source(b, src);
        }
        // One with a wrong IPv4 checksum / TCP checksum as built.
        built[3][if dst.is_ipv4() { 36 } else { 56 }] ^= 0xff;
        let got = capture_in_server(&bed, "tcp port 9", || {
            bed.in_client(|| {
                let mut e = engine();
                let probes: Vec<Probe> = built.iter().map(|b| Probe::new(b.clone())).collect();
                assert_eq!(e.send(&probes, 1, Duration::ZERO).unwrap(), 200);
                assert!(e.bursts_use_a_ring(), "the burst should use the ring");
            })
            .unwrap();
        });
        let missing: Vec<usize> = (0..built.len())
            .filter(|&i| !got.contains(&built[i]))
            .collect();
        assert!(
            missing.is_empty(),
            "{dst}: {} of 200 not seen as built (first {:?}); got {}",
            missing.len(),
            &missing[..missing.len().min(5)],
            got.len()
        );
    }
}

/// A capture's wait goes on past packets it skips (this host's own, outgoing): a SYN of
/// ours to a silently dropped port wakes it at 50 ms, the RST answering a second SYN at
/// 200 ms is what it must return.
#[test]
fn capture_waits_past_its_own_outgoing_packets() {
    use tcpcraft::net::capture::Capture;
    use tcpcraft::net::filter::Filter;
    let Some(bed) = testbed::standard("capture_skips_outgoing") else {
        return;
    };
    bed.in_client(|| {
        let f = Filter::new("tcp port 8443 or tcp port 9", tcpcraft::pcap::linktype::RAW).unwrap();
        let mut cap = Capture::open(0, &f.program, 1 << 20).unwrap();
        let dst = IpAddr::V4(testbed::SERVER_V4);
        let sender = std::thread::spawn(move || {
            let mut e = engine();
            std::thread::sleep(Duration::from_millis(50));
            e.send(&[syn(dst, 43001, 8443, 1)], 1, Duration::ZERO)
                .unwrap();
            std::thread::sleep(Duration::from_millis(150));
            e.send(&[syn(dst, 43002, 9, 1)], 1, Duration::ZERO).unwrap();
        });
        let got = cap.next(Duration::from_millis(1000)).unwrap();
        sender.join().unwrap();
        let got = got.expect("the RST from port 9 within the wait");
        let s = wire::summarize(&got.data).unwrap();
        assert_eq!(s.src, dst, "the answer, not our own SYN");
        assert!(matches!(s.l4, L4::Tcp { sport: 9, .. }), "{:?}", s.l4);
    })
    .unwrap();
}
