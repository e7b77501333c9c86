//! Packet build and dissect rates (a benchmark, not a timed test).
//! `cargo bench --bench packet` prints packets per second for:
//! build+serialize of an IPv4/TCP SYN with five options; zero-copy dissect of the same
//! bytes (no allocation); and the full lossless parse into layers.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use tcpcraft::packet::view::Dissection;
use tcpcraft::packet::{Ipv4Repr, Layer, LinkType, Packet, TcpFlags, TcpOption, TcpRepr};

fn syn(seq: u32) -> Packet {
    Packet::new(vec![
        Layer::Ipv4(Ipv4Repr {
            src: Some(Ipv4Addr::new(198, 18, 0, 1)),
            dst: Ipv4Addr::new(198, 18, 0, 2),
            ..Default::default()
        }),
        Layer::Tcp(TcpRepr {
            sport: 40000,
            dport: 80,
            seq,
            flags: TcpFlags(TcpFlags::SYN),
            window: 64240,
            options: vec![
                TcpOption::Mss(1460),
                TcpOption::SackOk,
                TcpOption::Timestamp(1, 0),
                TcpOption::Nop,
                TcpOption::Wscale(7),
            ],
            ..Default::default()
        }),
    ])
}

fn rate(name: &str, mut f: impl FnMut(u32)) -> f64 {
    // Warm up, then run for about a second.
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
    println!("{name:<44} {:>12.0} packets/s", pps);
    pps
}

fn main() {
    rate("build+serialize SYN (5 options)", |i| {
        black_box(syn(i).to_bytes());
    });
    let mut buf = Vec::with_capacity(64);
    let template = syn(0);
    rate("serialize SYN into a reused buffer", |i| {
        buf.clear();
        let mut p = template.clone();
        if let Some(t) = p.tcp_mut() {
            t.seq = i;
        }
        p.emit_into(&mut buf);
        black_box(&buf);
    });
    let bytes = syn(1000).to_bytes();
    rate("dissect (zero-copy view, no allocation)", |_| {
        let d = Dissection::new(black_box(&bytes), LinkType::RawIp).unwrap();
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
    rate("parse into layers (lossless, allocating)", |_| {
        black_box(Packet::parse(black_box(&bytes), LinkType::RawIp));
    });
}
