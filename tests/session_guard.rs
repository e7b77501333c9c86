//! The kernel-RST guard against real Linux stacks in network namespaces made here.
//!
//! A client namespace (where the guard and a raw socket live) and a server namespace
//! with a real listener, joined by a veth pair, addresses in 198.18.0.0/15 and
//! 2001:db8:198:18::/64 only. A SYN from a raw socket gets a SYN-ACK; without the
//! guard the client kernel answers it with a RST, which removes the server's
//! SYN_RECV entry; with the guard the entry stays. Needs root: under CI=true the
//! tests fail when they cannot run, elsewhere they skip with a message.
//!
//! Packets go out and come back through `session::rawio::RawIo` (its sockets carry
//! the guard's mark, which is how our own RST gets through).

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tcpcraft::net::guard::RstGuard;
use tcpcraft::net::segio::RawIo;
use tcpcraft::session::mock::segment;
use tcpcraft::session::SegmentIo;

mod session_bed;
use session_bed::{can_run, in_netns, sh, Bed};

const C4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const S4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const C6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 0, 1);
const S6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 0, 2);

/// Sends a SYN from `sport`, waits for the SYN-ACK, and reports whether the server
/// still holds the half-open connection after the client kernel had time to RST it.
/// With a guard, then sends our own RST (from a marked socket) and reports whether
/// that one passed.
fn handshake_survives(
    ns: &str,
    src: IpAddr,
    dst: SocketAddr,
    sport: u16,
    guard: Option<&mut RstGuard>,
) -> (bool, Option<bool>) {
    let mut io = RawIo::new(None).expect("raw sockets");
    let seg = |flags: &str, seq: u32, ack: u32| {
        segment(src, sport, dst.ip(), dst.port(), flags, seq, ack, b"")
    };
    io.send(&seg("S", 1000, 0)).expect("send SYN");
    let deadline = Instant::now() + Duration::from_secs(3);
    let synack = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (p, _) = io
            .recv(left)
            .expect("capture")
            .expect("a SYN-ACK comes back");
        match p.tcp() {
            Some(t) if t.sport == dst.port() && t.dport == sport => break t.clone(),
            _ => continue,
        }
    };
    assert_eq!(
        (synack.flags.to_string().as_str(), synack.ack),
        ("SA", 1001)
    );
    std::thread::sleep(Duration::from_millis(300));
    let shown = match src {
        IpAddr::V4(a) => format!("{a}:{sport}"),
        IpAddr::V6(a) => format!("[{a}]:{sport}"),
    };
    let survives = Bed::syn_recv(ns, &shown);
    let mut own_rst_passed = None;
    if guard.is_some() && survives {
        io.send(&seg("R", 1001, synack.seq.wrapping_add(1)))
            .expect("send RST");
        std::thread::sleep(Duration::from_millis(200));
        own_rst_passed = Some(!Bed::syn_recv(ns, &shown));
    }
    (survives, own_rst_passed)
}

fn listen(ns: &str, addr: SocketAddr) -> TcpListener {
    in_netns(ns, move || TcpListener::bind(addr).expect("listener"))
}

#[test]
fn guard_keeps_kernel_rsts_off_the_wire_v4_v6_and_loopback() {
    if !can_run("rst guard") {
        return;
    }
    let bed = Bed::new();
    let d4 = SocketAddr::new(IpAddr::V4(S4), 8080);
    let d6 = SocketAddr::new(IpAddr::V6(S6), 8080);
    let lo = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8081);
    let _l4 = listen(&bed.server, d4);
    let _l6 = listen(&bed.server, d6);
    let _llo = listen(&bed.client, lo);
    let (c, s) = (bed.client.clone(), bed.server.clone());
    let bed = std::sync::Arc::new(bed);
    let b = bed.clone();
    let report = in_netns(&c, move || {
        // Control: without the guard the kernel's RST removes the half-open connection.
        let control = handshake_survives(&s, IpAddr::V4(C4), d4, 61001, None).0;
        let mut guard = RstGuard::new().expect("guard");
        let table = guard.table().to_string();
        for p in [61002, 61003, 61004] {
            guard.add_port(p).expect("add port");
        }
        let summary = guard.summary();
        let v4 = handshake_survives(&s, IpAddr::V4(C4), d4, 61002, Some(&mut guard));
        let v6 = handshake_survives(&s, IpAddr::V6(C6), d6, 61003, Some(&mut guard));
        let c2 = b.client.clone();
        let lo4 = handshake_survives(
            &c2,
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            lo,
            61004,
            Some(&mut guard),
        );
        let listing = b.tables();
        let rules = sh(&["nft", "list", "table", "inet", &table]);
        guard.remove_port(61004).expect("remove port");
        assert_eq!(guard.ports(), [61002, 61003]);
        drop(guard);
        (control, v4, v6, lo4, table, listing, rules, summary)
    });
    let (control, v4, v6, lo4, table, listing, rules, summary) = report;
    assert!(
        !control,
        "without the guard the kernel resets the connection"
    );
    assert!(listing.contains(&table), "{listing}");
    assert!(
        summary.contains("tcp port 61002, 61003, 61004"),
        "{summary}"
    );
    assert_eq!(v4, (true, Some(true)), "IPv4 via veth; rules:\n{rules}");
    assert_eq!(v6, (true, Some(true)), "IPv6 via veth; rules:\n{rules}");
    assert_eq!(lo4, (true, Some(true)), "IPv4 on loopback; rules:\n{rules}");
    let dropped: u64 = rules
        .split("counter packets ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        dropped >= 3,
        "the kernel's RSTs were dropped by the rule:\n{rules}"
    );
    let after = bed.tables();
    assert!(
        !after.contains("tcpcraft_"),
        "nothing left after drop: {after}"
    );
}

/// Holds a guard until killed; run by `guard_vanishes_after_sigkill` as a child.
#[test]
#[ignore = "helper process for guard_vanishes_after_sigkill"]
fn guard_holder() {
    let Ok(ns) = std::env::var("TCPCRAFT_GUARD_HOLDER") else {
        return;
    };
    in_netns(&ns, || {
        let mut g = RstGuard::new().expect("guard");
        g.add_port(61010).expect("port");
        println!("READY {}", g.table());
        std::thread::sleep(Duration::from_secs(60));
    });
}

#[test]
fn guard_vanishes_after_sigkill_and_stale_tables_are_removed() {
    if !can_run("rst guard after SIGKILL") {
        return;
    }
    let bed = Bed::new();
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args(["--exact", "guard_holder", "--ignored", "--nocapture"])
        .env("TCPCRAFT_GUARD_HOLDER", &bed.client)
        .stdout(Stdio::piped())
        .spawn()
        .expect("holder");
    let out = child.stdout.take().expect("stdout");
    let table = BufReader::new(out)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("READY ").map(str::to_string))
        .expect("holder ready");
    assert!(bed.tables().contains(&table));
    child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(3);
    while bed.tables().contains(&table) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!bed.tables().contains(&table), "the kernel removed {table}");

    // A table of a dead run made without `flags owner` is removed at the next start.
    let mut dead = Command::new("true").spawn().expect("true");
    let _ = dead.wait();
    let stale = format!("tcpcraft_{}", dead.id());
    sh(&[
        "ip",
        "netns",
        "exec",
        &bed.client,
        "nft",
        "add",
        "table",
        "inet",
        &stale,
    ]);
    let notes = in_netns(&bed.client, || {
        RstGuard::new().expect("guard").notes().to_vec()
    });
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains(&stale), "{notes:?}");
    assert!(!bed.tables().contains("tcpcraft_"), "{}", bed.tables());
}
