//! Hot-path rates of the wire layer's users (a benchmark, not a timed test).
//! `cargo bench --bench wire` prints operations per second for: the scanner's probe
//! builder (TCP SYN over IPv4, UDP over IPv6), its reply classifier (a SYN-ACK, an ICMP
//! unreachable quoting a UDP probe), the banner reader's segment builder, the reply
//! matcher's summary and index lookup, and the zero-copy dissection.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use tcpcraft::net::matching::Matcher;
use tcpcraft::net::wire::summarize;
use tcpcraft::packet::view::Dissection;
use tcpcraft::packet::{IcmpRepr, Ipv4Repr, Layer, LinkType, Packet, TcpFlags, TcpRepr};
use tcpcraft::scan::cookie::Key;
use tcpcraft::scan::probe::{Prober, MAX_PROBE};
use tcpcraft::scan::ScanType;

/// Runs `f` for about a second and prints its rate. `WIRE_BENCH_ONLY=text` runs only the
/// benchmarks whose name contains `text`; `WIRE_BENCH_ITERS=n` runs exactly `n` calls
/// instead (for counting instructions with `perf stat`, which the machine's load does
/// not disturb).
fn rate(name: &str, mut f: impl FnMut(u32)) -> f64 {
    if std::env::var("WIRE_BENCH_ONLY").is_ok_and(|o| !name.contains(&o)) {
        return 0.0;
    }
    if let Some(n) = std::env::var("WIRE_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    {
        for i in 0..n {
            f(i);
        }
        println!("{name:<44} {n:>12} calls");
        return 0.0;
    }
    for i in 0..10_000 {
        f(i);
    }
    let start = Instant::now();
    let mut n: u32 = 0;
    while start.elapsed() < Duration::from_secs(1) {
        for _ in 0..10_000 {
            f(n);
            n = n.wrapping_add(1);
        }
    }
    let pps = f64::from(n) / start.elapsed().as_secs_f64();
    println!("{name:<44} {:>12.0} per s", pps);
    pps
}

fn main() {
    let me = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
    let them = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
    let me6: IpAddr = "2001:db8:198:18::1".parse().unwrap();
    let them6: IpAddr = "2001:db8:198:18::2".parse().unwrap();
    let syn = Prober {
        kind: ScanType::Syn,
        key: Key(7, 9),
        sport: 40000,
    };
    let udp = Prober {
        kind: ScanType::Udp,
        key: Key(7, 9),
        sport: 40000,
    };
    let mut buf = [0u8; MAX_PROBE];
    rate("probe build: TCP SYN, IPv4", |i| {
        black_box(syn.build(me, them, (i % 1000) as u16 + 1, 0, &mut buf));
    });
    rate("probe build: UDP (DNS payload), IPv6", |i| {
        black_box(udp.build(me6, them6, 53, i & 3, &mut buf));
    });

    let c = syn.cookie(me, them, 80);
    let synack = Packet::new(vec![
        Layer::Ipv4(Ipv4Repr {
            src: Some(Ipv4Addr::new(198, 18, 0, 2)),
            dst: Ipv4Addr::new(198, 18, 0, 1),
            ..Default::default()
        }),
        Layer::Tcp(TcpRepr {
            sport: 80,
            dport: 40000,
            seq: 777,
            ack: c.wrapping_add(1),
            flags: TcpFlags(TcpFlags::SYN | TcpFlags::ACK),
            ..Default::default()
        }),
    ])
    .to_bytes();
    let ours = |a: IpAddr| a == me;
    assert!(syn.classify(&synack, ours).is_some());
    rate("classify: SYN-ACK", |_| {
        black_box(syn.classify(black_box(&synack), ours));
    });
    let n = udp.build(me, them, 53, 0, &mut buf);
    let unreach = Packet::new(vec![
        Layer::Ipv4(Ipv4Repr {
            src: Some(Ipv4Addr::new(198, 18, 0, 2)),
            dst: Ipv4Addr::new(198, 18, 0, 1),
            ..Default::default()
        }),
        Layer::Icmp(IcmpRepr {
            r#type: 3,
            code: 3,
            ..Default::default()
        }),
        Layer::Raw(buf[..n].to_vec()),
    ])
    .to_bytes();
    assert!(udp.classify(&unreach, ours).is_some());
    rate("classify: ICMP unreachable quoting UDP", |_| {
        black_box(udp.classify(black_box(&unreach), ours));
    });

    let mut seg = Vec::with_capacity(128);
    rate("banner segment build: ACK + 18-byte request", |i| {
        tcpcraft::scan::banner::build_segment(
            me,
            them,
            40000,
            80,
            i,
            777,
            0x18,
            b"GET / HTTP/1.0\r\n\r\n",
            &mut seg,
        );
        black_box(&seg);
    });

    let n = syn.build(me, them, 80, 0, &mut buf);
    let probe = buf[..n].to_vec();
    let m = Matcher::new(vec![summarize(&probe)]);
    rate("matcher: summarize + classify SYN-ACK", |_| {
        let s = summarize(black_box(&synack)).unwrap();
        black_box(m.classify(&s, |_| false));
    });
    rate("dissect SYN-ACK (zero-copy view)", |_| {
        let d = Dissection::new(black_box(&synack), LinkType::RawIp).unwrap();
        black_box((
            d.src(),
            d.dst(),
            d.ports(),
            d.seq(),
            d.ack(),
            d.flags(),
            d.window(),
        ));
    });
}
