//! Sessions over the in-memory transport: a scripted Linux-like peer.

use super::mock::{echo_server, segment, MockHandle, MockIo, PEER4, PEER6, US4, US6};
use super::*;

const T: Duration = Duration::from_millis(10);

fn flags(f: &str) -> TcpFlags {
    TcpFlags::parse(f).expect("test flags")
}

fn req(f: &str) -> SendRequest {
    SendRequest::flags(flags(f))
}

fn exp(f: &str) -> Expectation {
    Expectation {
        flags: Some(flags(f)),
        ..Expectation::default()
    }
}

/// A sink that keeps the printed lines.
fn capture() -> (Sink, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let l = lines.clone();
    (
        std::sync::Arc::new(move |s: &str| l.lock().unwrap().push(s.to_string())),
        lines,
    )
}

fn active(
    dst: IpAddr,
    local: IpAddr,
    dport: u16,
) -> (
    Session,
    MockHandle,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    let (io, handle) = MockIo::new(local, echo_server(80, 5000));
    let (sink, lines) = capture();
    let opts = SessionOptions {
        sport: Some(61000),
        isn: Some(1000),
        ..SessionOptions::default()
    };
    let s = Session::connect(Box::new(io), dst, dport, opts, sink).expect("session");
    (s, handle, lines)
}

#[test]
fn open_exchange_and_close_actively() {
    let (mut s, handle, lines) = active(PEER4, US4, 80);
    assert_eq!(s.state(), State::Closed);
    s.send(req("S")).expect("send");
    assert_eq!(s.state(), State::SynSent);
    let r = s.expect(&exp("SA"), T).expect("SA");
    assert_eq!((r.step.seg.seq, r.step.seg.ack), (5000, 1001));
    assert_eq!(s.peer_isn(), Some(5000));
    assert_eq!(s.peer_options().mss, Some(1460));
    s.send(req("A")).expect("send");
    s.send(SendRequest {
        data: b"ping\n".to_vec(),
        ..req("PA")
    })
    .expect("send");
    assert_eq!(s.snd_nxt(), 1006);
    let r = s
        .expect(
            &Expectation {
                data: Some(b"ping\n".to_vec()),
                ..exp("A")
            },
            T,
        )
        .expect("echo (PSH need not be named)");
    assert_eq!(r.data, b"ping\n");
    assert_eq!(s.rcv_nxt(), 5006);
    s.send(req("FA")).expect("send");
    s.expect(&exp("A"), T).expect("ack of our FIN");
    assert_eq!(s.state(), State::FinWait2);
    s.expect(&exp("FA"), T).expect("their FIN");
    s.send(req("A")).expect("send");
    assert_eq!(
        (s.state(), s.peer_state()),
        (State::TimeWait, State::Closed)
    );

    let states: Vec<State> = s.history().iter().map(|h| h.us).collect();
    use State::*;
    assert_eq!(
        states,
        [
            SynSent,
            Established,
            Established,
            Established,
            Established,
            FinWait1,
            FinWait2,
            TimeWait,
            TimeWait
        ]
    );
    let printed = lines.lock().unwrap().join("\n");
    for want in [
        "  CLOSED → SYN_SENT (active open: SYN sent)",
        "  SYN_SENT → ESTABLISHED (our SYN acknowledged and the other SYN received)",
        "  ESTABLISHED → FIN_WAIT_1 (close: FIN sent)",
        "  FIN_WAIT_1 → FIN_WAIT_2 (our FIN acknowledged)",
        "  FIN_WAIT_2 → TIME_WAIT (FIN received after ours was acknowledged)",
        "  peer: SYN_RECEIVED → ESTABLISHED (its SYN-ACK acknowledged)",
    ] {
        assert!(printed.contains(want), "missing {want:?} in\n{printed}");
    }
    assert!(!printed.contains("warning"), "{printed}");
    // Every step starts with one line for the segment.
    assert_eq!(printed.lines().filter(|l| l.starts_with("> ")).count(), 5);
    assert_eq!(printed.lines().filter(|l| l.starts_with("< ")).count(), 4);
    // What went out: our SYN carries the default options and our ISN.
    let sent = handle.sent();
    let syn = sent[0].tcp().expect("tcp");
    assert_eq!(
        (syn.sport, syn.dport, syn.seq, syn.window),
        (61000, 80, 1000, 64240)
    );
    assert_eq!(syn.options, default_syn_options());
    assert_eq!(
        sent[0].ipv4().and_then(|ip| ip.src),
        Some(Ipv4Addr::new(198, 18, 0, 1))
    );
    let ladder = s.ladder(false, false);
    assert!(
        ladder.trim_start().starts_with("198.18.0.1:61000"),
        "{ladder}"
    );
    assert!(ladder.contains("198.18.0.2:80"), "{ladder}");
    assert_eq!(s.packets().len(), 9);
}

use std::net::Ipv4Addr;

#[test]
fn ipv6_session() {
    let (mut s, handle, _) = active(PEER6, US6, 80);
    s.send(req("S")).expect("send");
    s.expect(&exp("SA"), T).expect("SA");
    assert_eq!(s.state(), State::Established);
    assert!(handle.sent()[0].ipv6().is_some());
    assert!(s.ladder(true, true).contains("[2001:db8:198:18::2]:80"));
}

#[test]
fn expect_reports_mismatch_and_timeout() {
    let (mut s, _, _) = active(PEER4, US4, 81);
    s.send(req("S")).expect("send");
    let err = s
        .expect(
            &Expectation {
                ack: Some(1001),
                seq: Some(5000),
                ..exp("SA")
            },
            T,
        )
        .expect_err("a closed port");
    assert_eq!(
        err,
        SessionError::Mismatch(
            "expected SA, got RA: the port is closed: the peer refused the connection".into()
        )
    );
    assert_eq!(s.state(), State::Closed, "the RST is still taken");
    assert_eq!(s.history().len(), 2);
    let err = s.expect(&exp("SA"), T).expect_err("nothing more");
    assert_eq!(
        err,
        SessionError::Timeout("expected SA within 0.01 s, nothing came".into())
    );
    assert!(matches!(s.recv(T), Ok(None)));
}

#[test]
fn given_values_are_sent_exactly_with_warnings() {
    let (mut s, handle, lines) = active(PEER4, US4, 80);
    s.send(req("S")).expect("send");
    s.expect(&exp("SA"), T).expect("SA");
    let step = s
        .send(SendRequest {
            seq: Some(90000),
            ack: Some(7),
            window: Some(0),
            data: b"x".to_vec(),
            options: Some(vec![TcpOption::Nop]),
            ..req("PA")
        })
        .expect("send");
    let tcp = handle.sent()[1].tcp().cloned().expect("tcp");
    assert_eq!((tcp.seq, tcp.ack, tcp.window), (90000, 7, 0));
    assert_eq!(tcp.options, [TcpOption::Nop]);
    assert!(
        step.warnings[0].starts_with("seq 90000 outside the peer's receive window [1001, "),
        "{:?}",
        step.warnings
    );
    assert!(lines
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.starts_with("  warning: seq 90000")));
    assert_eq!(s.snd_nxt(), 1001);
}

#[test]
fn passive_open_answered_by_hand_then_passive_close() {
    let (io, handle) = MockIo::new(US4, Box::new(|_| Vec::new()));
    let client = |f: &str, seq: u32, ack: u32| segment(PEER4, 45000, US4, 8080, f, seq, ack, b"");
    // A stray segment for another port is skipped; the SYN is taken.
    handle.inject(segment(PEER4, 45000, US4, 9999, "S", 1, 0, b""));
    handle.inject(client("S", 3000, 0));
    let (sink, lines) = capture();
    let opts = SessionOptions {
        isn: Some(7000),
        ..SessionOptions::default()
    };
    let mut s = Session::listen(Box::new(io), 8080, T, opts, sink).expect("listen");
    assert_eq!((s.state(), s.peer_state()), (State::Listen, State::SynSent));
    assert_eq!(s.remote(), Some((PEER4, 45000)));
    let step = s.send(req("SA")).expect("send");
    assert_eq!((step.seg.seq, step.seg.ack), (7000, 3001));
    assert_eq!(s.state(), State::SynReceived);
    handle.inject(client("A", 3001, 7001));
    s.expect(&exp("A"), T).expect("ack");
    assert_eq!(s.state(), State::Established);
    handle.inject(client("FA", 3001, 7001));
    s.expect(&exp("FA"), T).expect("fin");
    assert_eq!(s.state(), State::CloseWait);
    s.send(req("A")).expect("send");
    s.send(req("FA")).expect("send");
    assert_eq!(s.state(), State::LastAck);
    handle.inject(client("A", 3002, 7002));
    s.expect(&exp("A"), T).expect("last ack");
    assert_eq!(
        (s.state(), s.peer_state()),
        (State::Closed, State::TimeWait)
    );
    let printed = lines.lock().unwrap().join("\n");
    assert!(
        printed.contains("  LISTEN → SYN_RECEIVED (SYN received and SYN-ACK sent)"),
        "{printed}"
    );
    assert!(
        printed.contains("  LAST_ACK → CLOSED (our FIN acknowledged)"),
        "{printed}"
    );
}

#[test]
fn listen_without_waiting_takes_the_first_syn_later() {
    let (io, handle) = MockIo::new(US4, Box::new(|_| Vec::new()));
    let (sink, _) = capture();
    let mut s = Session::listen(
        Box::new(io),
        8080,
        Duration::ZERO,
        SessionOptions::default(),
        sink,
    )
    .expect("listen");
    assert_eq!(s.remote(), None);
    assert!(matches!(s.send(req("SA")), Err(SessionError::Usage(_))));
    handle.inject(segment(PEER4, 45000, US4, 8080, "A", 1, 1, b""));
    handle.inject(segment(PEER4, 45000, US4, 8080, "S", 3000, 0, b""));
    s.expect(&exp("S"), T).expect("the SYN, after a stray ACK");
    assert_eq!(s.remote(), Some((PEER4, 45000)));
    assert_eq!(s.peer_isn(), Some(3000));
}

#[test]
fn listen_times_out() {
    let (io, _) = MockIo::new(US4, Box::new(|_| Vec::new()));
    let (sink, _) = capture();
    let err = Session::listen(Box::new(io), 8080, T, SessionOptions::default(), sink)
        .expect_err("no SYN");
    assert_eq!(
        err,
        SessionError::Timeout("no SYN to port 8080 within 0.01 s".into())
    );
}

#[test]
fn source_ports_avoid_the_ephemeral_range() {
    for r in [0, 1, 4535, 4536, u32::MAX] {
        let p = pick_port((32768, 60999), r);
        assert!(p > 60999, "{p}");
        let p = pick_port((1024, 65535), r);
        assert_eq!(p, 65535, "no room anywhere: the top port");
        let p = pick_port((40000, 65500), r);
        assert!((1024..40000).contains(&p), "{p}");
    }
    let (lo, hi) = ephemeral_range();
    assert!(lo <= hi);
    let (io, _) = MockIo::new(US4, Box::new(|_| Vec::new()));
    let (sink, _) = capture();
    let s = Session::connect(Box::new(io), PEER4, 80, SessionOptions::default(), sink).expect("s");
    assert!(!(lo..=hi).contains(&s.local_port()), "{}", s.local_port());
}

#[test]
fn options_summary() {
    let o = seg_options(&[
        TcpOption::Mss(1400),
        TcpOption::Nop,
        TcpOption::Wscale(9),
        TcpOption::SackOk,
        TcpOption::Timestamp(5, 6),
    ]);
    assert_eq!(o.to_string(), "mss 1400, wscale 9, sackOK, TS val 5 ecr 6");
}
