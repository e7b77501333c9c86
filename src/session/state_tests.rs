//! Table-driven tests of the state machine: one setup function per state, segment
//! templates completed with `..TEMPLATE`, one section per state.

use super::*;
use State::*;

/// Our ISN, the peer's ISN and the windows both sides use in these tests.
const ISN: u32 = 1000;
const PEER_ISN: u32 = 5000;
const WIN: u16 = 65535;
const PEER_WIN: u16 = 29200;

fn t0() -> Instant {
    // One fixed origin per test process; offsets give the times.
    use std::sync::OnceLock;
    static T0: OnceLock<Instant> = OnceLock::new();
    *T0.get_or_init(Instant::now)
}

fn at(secs: u64) -> Instant {
    t0() + Duration::from_secs(secs)
}

fn flags(s: &str) -> TcpFlags {
    TcpFlags::parse(s).expect("test flags")
}

/// The peer's segments: SYN-ACK answering our SYN, its ACKs and FINs.
const SYN_ACK: Segment = Segment {
    flags: TcpFlags(0x012),
    seq: PEER_ISN,
    ack: ISN + 1,
    len: 0,
    window: PEER_WIN,
    options: SegOptions {
        mss: Some(1460),
        wscale: None,
        sackok: true,
        ts: None,
    },
};
const PEER_ACK: Segment = Segment {
    flags: TcpFlags(0x010),
    seq: PEER_ISN + 1,
    ack: ISN + 1,
    len: 0,
    window: PEER_WIN,
    options: SegOptions {
        mss: None,
        wscale: None,
        sackok: false,
        ts: None,
    },
};
const PEER_FIN: Segment = Segment {
    flags: TcpFlags(0x011),
    ..PEER_ACK
};
const PEER_RST: Segment = Segment {
    flags: TcpFlags(0x004),
    ..PEER_ACK
};
/// A client's SYN to our listener.
const CLIENT_SYN: Segment = Segment {
    flags: TcpFlags(0x002),
    seq: 3000,
    ack: 0,
    ..PEER_ACK
};

fn send(m: &mut Machine, f: &str) -> Step {
    send_spec(
        m,
        SendSpec {
            flags: flags(f),
            ..SendSpec::default()
        },
    )
}

fn send_spec(m: &mut Machine, spec: SendSpec) -> Step {
    let seg = m.fill(&spec);
    let data = vec![b'x'; spec.len as usize];
    m.sent(seg, data, at(1)).clone()
}

fn recv(m: &mut Machine, seg: Segment) -> Step {
    m.received(seg, vec![b'y'; seg.len as usize], at(1)).clone()
}

// ---- setup: one function per state -------------------------------------------

fn closed() -> Machine {
    Machine::active(ISN, WIN)
}
fn syn_sent() -> Machine {
    let mut m = closed();
    send(&mut m, "S");
    m
}
fn established() -> Machine {
    let mut m = syn_sent();
    recv(&mut m, SYN_ACK);
    send(&mut m, "A");
    m
}
fn fin_wait_1() -> Machine {
    let mut m = established();
    send(&mut m, "FA");
    m
}
fn fin_wait_2() -> Machine {
    let mut m = fin_wait_1();
    recv(
        &mut m,
        Segment {
            ack: ISN + 2,
            ..PEER_ACK
        },
    );
    m
}
fn closing() -> Machine {
    let mut m = fin_wait_1();
    recv(&mut m, PEER_FIN);
    m
}
fn time_wait() -> Machine {
    let mut m = fin_wait_2();
    recv(
        &mut m,
        Segment {
            ack: ISN + 2,
            ..PEER_FIN
        },
    );
    send(&mut m, "A");
    m
}
fn close_wait() -> Machine {
    let mut m = established();
    recv(&mut m, PEER_FIN);
    send(&mut m, "A");
    m
}
fn last_ack() -> Machine {
    let mut m = close_wait();
    send(&mut m, "FA");
    m
}
fn listen() -> Machine {
    Machine::passive(ISN, WIN)
}
fn syn_received() -> Machine {
    let mut m = listen();
    recv(&mut m, CLIENT_SYN);
    send(&mut m, "SA");
    m
}

#[test]
fn setups_reach_their_states() {
    type Setup = fn() -> Machine;
    let table: [(Setup, State, State); 11] = [
        (closed, Closed, Listen),
        (syn_sent, SynSent, Listen),
        (established, Established, Established),
        (fin_wait_1, FinWait1, CloseWait),
        (fin_wait_2, FinWait2, CloseWait),
        (closing, Closing, Closing),
        (time_wait, TimeWait, Closed),
        (close_wait, CloseWait, FinWait2),
        (last_ack, LastAck, TimeWait),
        (listen, Listen, Closed),
        (syn_received, SynReceived, Established),
    ];
    for (setup, us, peer) in table {
        let m = setup();
        assert_eq!((m.state(), m.peer_state()), (us, peer), "{us}");
        for step in &m.history {
            assert!(step.warnings.is_empty(), "{us}: {:?}", step.warnings);
        }
    }
}

#[test]
fn states_display_rfc_names() {
    let names: Vec<String> = State::ALL.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        names,
        [
            "CLOSED",
            "LISTEN",
            "SYN_SENT",
            "SYN_RECEIVED",
            "ESTABLISHED",
            "FIN_WAIT_1",
            "FIN_WAIT_2",
            "CLOSING",
            "TIME_WAIT",
            "CLOSE_WAIT",
            "LAST_ACK"
        ]
    );
    let t = Transition {
        side: Side::Us,
        from: SynSent,
        to: Established,
        reason: "r",
    };
    assert_eq!(t.to_string(), "SYN_SENT → ESTABLISHED (r)");
}

// ---- transitions: (setup, our segment or theirs) → states ----------------------

enum Ev {
    Send(&'static str),
    SendSpec(SendSpec),
    Recv(Segment),
}

struct Case {
    name: &'static str,
    setup: fn() -> Machine,
    ev: Ev,
    us: State,
    peer: State,
    /// A piece of the warnings (sends) or notes (receives), or "" for none.
    says: &'static str,
}

fn run(cases: Vec<Case>) {
    for c in cases {
        let mut m = (c.setup)();
        let step = match c.ev {
            Ev::Send(f) => send(&mut m, f),
            Ev::SendSpec(spec) => send_spec(&mut m, spec),
            Ev::Recv(seg) => recv(&mut m, seg),
        };
        assert_eq!(
            (m.state(), m.peer_state()),
            (c.us, c.peer),
            "{}: {:?}",
            c.name,
            step
        );
        let said = [step.warnings.clone(), step.notes.clone()]
            .concat()
            .join(" | ");
        if c.says.is_empty() {
            assert!(step.warnings.is_empty(), "{}: warned {said}", c.name);
        } else {
            assert!(said.contains(c.says), "{}: said {said:?}", c.name);
        }
        // Every change is recorded with its reason, in order.
        for t in &step.transitions {
            assert!(!t.reason.is_empty());
        }
    }
}

#[test]
fn closed_cases() {
    run(vec![
        Case {
            name: "SYN opens actively",
            setup: closed,
            ev: Ev::Send("S"),
            us: SynSent,
            peer: Listen,
            says: "",
        },
        Case {
            name: "data before the handshake",
            setup: closed,
            ev: Ev::SendSpec(SendSpec {
                flags: flags("PA"),
                len: 5,
                ..SendSpec::default()
            }),
            us: Closed,
            peer: Listen,
            says: "data before the handshake completed",
        },
    ]);
}

#[test]
fn syn_sent_cases() {
    run(vec![
        Case {
            name: "SYN-ACK establishes",
            setup: syn_sent,
            ev: Ev::Recv(SYN_ACK),
            us: Established,
            peer: SynReceived,
            says: "",
        },
        Case {
            name: "RST-ACK refuses",
            setup: syn_sent,
            ev: Ev::Recv(Segment {
                flags: flags("RA"),
                seq: 0,
                ..SYN_ACK
            }),
            us: Closed,
            peer: Closed,
            says: "",
        },
        Case {
            name: "SYN-ACK with a bad ack",
            setup: syn_sent,
            ev: Ev::Recv(Segment { ack: 77, ..SYN_ACK }),
            us: SynSent,
            peer: SynReceived,
            says: "ack 77 does not acknowledge our SYN (expected 1001)",
        },
        Case {
            name: "simultaneous open: their SYN",
            setup: syn_sent,
            ev: Ev::Recv(Segment {
                flags: flags("S"),
                ack: 0,
                ..SYN_ACK
            }),
            us: SynSent,
            peer: SynSent,
            says: "simultaneous open",
        },
        Case {
            name: "retransmitted SYN keeps the ISN",
            setup: syn_sent,
            ev: Ev::Send("S"),
            us: SynSent,
            peer: Listen,
            says: "",
        },
    ]);
}

#[test]
fn simultaneous_open_reaches_established() {
    let mut m = syn_sent();
    recv(
        &mut m,
        Segment {
            flags: flags("S"),
            ack: 0,
            ..SYN_ACK
        },
    );
    let s = send(&mut m, "SA");
    assert_eq!((s.seg.seq, s.seg.ack), (ISN, PEER_ISN + 1));
    // The peer model took our SYN-ACK as the answer to its SYN.
    assert_eq!((m.state(), m.peer_state()), (SynReceived, Established));
    let r = recv(&mut m, SYN_ACK);
    assert_eq!(r.transitions.len(), 1, "{r:?}");
    assert_eq!(m.state(), Established);
}

#[test]
fn listen_cases() {
    run(vec![
        Case {
            name: "SYN is recorded, state waits for our SYN-ACK",
            setup: listen,
            ev: Ev::Recv(CLIENT_SYN),
            us: Listen,
            peer: SynSent,
            says: "",
        },
        Case {
            name: "ACK in LISTEN is answered by RST",
            setup: listen,
            ev: Ev::Recv(PEER_ACK),
            us: Listen,
            peer: Closed,
            says: "answered with RST",
        },
        Case {
            name: "RST in LISTEN is ignored",
            setup: listen,
            ev: Ev::Recv(PEER_RST),
            us: Listen,
            peer: Closed,
            says: "ignored",
        },
    ]);
    let mut m = listen();
    recv(&mut m, CLIENT_SYN);
    let s = send(&mut m, "SA");
    assert_eq!((s.seg.seq, s.seg.ack), (ISN, 3001));
    assert_eq!(
        s.transitions[0].to_string(),
        "LISTEN → SYN_RECEIVED (SYN received and SYN-ACK sent)"
    );
}

#[test]
fn syn_received_cases() {
    let client_ack = Segment {
        flags: flags("A"),
        seq: 3001,
        ack: ISN + 1,
        ..PEER_ACK
    };
    run(vec![
        Case {
            name: "ACK of our SYN-ACK establishes",
            setup: syn_received,
            ev: Ev::Recv(client_ack),
            us: Established,
            peer: Established,
            says: "",
        },
        Case {
            name: "RST returns a passive open to LISTEN",
            setup: syn_received,
            ev: Ev::Recv(Segment {
                flags: flags("R"),
                ..client_ack
            }),
            us: Listen,
            peer: Closed,
            says: "",
        },
        Case {
            name: "ACK of the wrong number",
            setup: syn_received,
            ev: Ev::Recv(Segment {
                ack: ISN,
                ..client_ack
            }),
            us: SynReceived,
            peer: Established,
            says: "does not acknowledge our SYN-ACK",
        },
        Case {
            name: "ACK + FIN goes on to CLOSE_WAIT",
            setup: syn_received,
            ev: Ev::Recv(Segment {
                flags: flags("FA"),
                ..client_ack
            }),
            us: CloseWait,
            peer: FinWait1,
            says: "",
        },
    ]);
}

#[test]
fn established_cases() {
    run(vec![
        Case {
            name: "FIN closes actively",
            setup: established,
            ev: Ev::Send("FA"),
            us: FinWait1,
            peer: CloseWait,
            says: "",
        },
        Case {
            name: "their FIN",
            setup: established,
            ev: Ev::Recv(PEER_FIN),
            us: CloseWait,
            peer: FinWait1,
            says: "",
        },
        Case {
            name: "RST at rcv_nxt resets",
            setup: established,
            ev: Ev::Recv(PEER_RST),
            us: Closed,
            peer: Closed,
            says: "",
        },
        Case {
            name: "in-window RST not at rcv_nxt: challenge ACK",
            setup: established,
            ev: Ev::Recv(Segment {
                seq: PEER_ISN + 100,
                ..PEER_RST
            }),
            us: Established,
            peer: Established,
            says: "challenge ACK (RFC 5961 §3.2)",
        },
        Case {
            name: "our in-window RST not at the peer's rcv_nxt",
            setup: established,
            ev: Ev::SendSpec(SendSpec {
                flags: flags("R"),
                seq: Some(ISN + 10),
                ..SendSpec::default()
            }),
            us: Established,
            peer: Established,
            says: "RST seq 1010 is in the peer's window but not rcv_nxt 1001",
        },
        Case {
            name: "our exact RST aborts",
            setup: established,
            ev: Ev::Send("R"),
            us: Closed,
            peer: Closed,
            says: "",
        },
        Case {
            name: "seq outside the peer's window",
            setup: established,
            ev: Ev::SendSpec(SendSpec {
                flags: flags("PA"),
                len: 10,
                seq: Some(5000 + 40000),
                ..SendSpec::default()
            }),
            us: Established,
            peer: Established,
            says: "seq 45000 outside the peer's receive window [1001, 30201)",
        },
        Case {
            name: "ack of data the peer never sent",
            setup: established,
            ev: Ev::SendSpec(SendSpec {
                flags: flags("A"),
                ack: Some(9999),
                ..SendSpec::default()
            }),
            us: Established,
            peer: Established,
            says: "ack 9999 acknowledges data never sent (the peer's snd_nxt 5001)",
        },
        Case {
            name: "no ACK bit",
            setup: established,
            ev: Ev::SendSpec(SendSpec {
                flags: flags("P"),
                len: 3,
                ..SendSpec::default()
            }),
            us: Established,
            peer: Established,
            says: "no ACK bit where one is needed",
        },
        Case {
            name: "SYN in ESTABLISHED",
            setup: established,
            ev: Ev::Send("S"),
            us: Established,
            peer: Established,
            says: "SYN in ESTABLISHED: answered with a challenge ACK (RFC 5961 §4.2)",
        },
    ]);
}

#[test]
fn data_moves_the_numbers() {
    let mut m = established();
    let s = send_spec(
        &mut m,
        SendSpec {
            flags: flags("PA"),
            len: 18,
            ..SendSpec::default()
        },
    );
    assert_eq!(
        (s.seg.seq, s.seg.ack, s.seg.window),
        (ISN + 1, PEER_ISN + 1, WIN)
    );
    assert_eq!(m.us.snd_nxt, ISN + 19);
    assert_eq!(m.peer.rcv_nxt, ISN + 19);
    recv(
        &mut m,
        Segment {
            flags: flags("PA"),
            ack: ISN + 19,
            len: 100,
            ..PEER_ACK
        },
    );
    assert_eq!((m.us.snd_una, m.us.rcv_nxt), (ISN + 19, PEER_ISN + 101));
    let s = send(&mut m, "A");
    assert_eq!(s.seg.ack, PEER_ISN + 101);
    // Given values are sent exactly.
    let s = send_spec(
        &mut m,
        SendSpec {
            flags: flags("A"),
            seq: Some(7),
            ack: Some(8),
            window: Some(9),
            ..SendSpec::default()
        },
    );
    assert_eq!((s.seg.seq, s.seg.ack, s.seg.window), (7, 8, 9));
    assert_eq!(
        m.us.snd_nxt,
        ISN + 19,
        "an out-of-place segment leaves snd_nxt"
    );
}

#[test]
fn out_of_order_data_is_noted() {
    let mut m = established();
    let r = recv(
        &mut m,
        Segment {
            flags: flags("PA"),
            seq: PEER_ISN + 11,
            len: 5,
            ..PEER_ACK
        },
    );
    assert!(
        r.notes.iter().any(|n| n.contains("10 bytes missing")),
        "{r:?}"
    );
    assert_eq!(m.us.rcv_nxt, PEER_ISN + 1);
}

#[test]
fn fin_wait_1_cases() {
    run(vec![
        Case {
            name: "ACK of our FIN",
            setup: fin_wait_1,
            ev: Ev::Recv(Segment {
                ack: ISN + 2,
                ..PEER_ACK
            }),
            us: FinWait2,
            peer: CloseWait,
            says: "",
        },
        Case {
            name: "simultaneous close",
            setup: fin_wait_1,
            ev: Ev::Recv(PEER_FIN),
            us: Closing,
            peer: Closing,
            says: "",
        },
        Case {
            name: "FIN acking ours goes through FIN_WAIT_2 to TIME_WAIT",
            setup: fin_wait_1,
            ev: Ev::Recv(Segment {
                ack: ISN + 2,
                ..PEER_FIN
            }),
            us: TimeWait,
            peer: LastAck,
            says: "",
        },
        Case {
            name: "FIN again keeps its number",
            setup: fin_wait_1,
            ev: Ev::Send("FA"),
            us: FinWait1,
            peer: CloseWait,
            says: "",
        },
    ]);
    let mut m = fin_wait_1();
    let s = send(&mut m, "FA");
    assert_eq!(
        s.seg.seq,
        ISN + 1,
        "a repeated FIN reuses its sequence number"
    );
}

#[test]
fn fin_wait_2_cases() {
    run(vec![
        Case {
            name: "their FIN",
            setup: fin_wait_2,
            ev: Ev::Recv(Segment {
                ack: ISN + 2,
                ..PEER_FIN
            }),
            us: TimeWait,
            peer: LastAck,
            says: "",
        },
        Case {
            name: "half-close: data still flows to us",
            setup: fin_wait_2,
            ev: Ev::Recv(Segment {
                flags: flags("PA"),
                ack: ISN + 2,
                len: 20,
                ..PEER_ACK
            }),
            us: FinWait2,
            peer: CloseWait,
            says: "",
        },
    ]);
}

#[test]
fn closing_cases() {
    run(vec![Case {
        name: "ACK of our FIN",
        setup: closing,
        ev: Ev::Recv(Segment {
            seq: PEER_ISN + 2,
            ack: ISN + 2,
            ..PEER_ACK
        }),
        us: TimeWait,
        peer: Closing,
        says: "",
    }]);
}

#[test]
fn time_wait_cases() {
    run(vec![Case {
        name: "retransmitted FIN",
        setup: time_wait,
        ev: Ev::Recv(Segment {
            ack: ISN + 2,
            ..PEER_FIN
        }),
        us: TimeWait,
        peer: Closed,
        says: "FIN again in TIME_WAIT",
    }]);
    let mut m = time_wait();
    assert!(m.tick(at(30)).is_empty());
    let t = m.tick(at(61));
    assert_eq!(t[0].to_string(), "TIME_WAIT → CLOSED (2 MSL passed)");
    assert_eq!(m.state(), Closed);
}

#[test]
fn close_wait_cases() {
    run(vec![
        Case {
            name: "our FIN",
            setup: close_wait,
            ev: Ev::Send("FA"),
            us: LastAck,
            peer: TimeWait,
            says: "",
        },
        Case {
            name: "data after their FIN",
            setup: close_wait,
            ev: Ev::Recv(Segment {
                flags: flags("PA"),
                seq: PEER_ISN + 2,
                len: 4,
                ..PEER_ACK
            }),
            us: CloseWait,
            peer: FinWait2,
            says: "",
        },
    ]);
}

#[test]
fn last_ack_cases() {
    run(vec![Case {
        name: "ACK of our FIN closes",
        setup: last_ack,
        ev: Ev::Recv(Segment {
            seq: PEER_ISN + 2,
            ack: ISN + 2,
            ..PEER_ACK
        }),
        us: Closed,
        peer: TimeWait,
        says: "",
    }]);
}

#[test]
fn challenge_ack_is_recognised() {
    let mut m = established();
    send_spec(
        &mut m,
        SendSpec {
            flags: flags("R"),
            seq: Some(ISN + 100),
            ..SendSpec::default()
        },
    );
    assert_eq!(m.peer.owes, Some(Owed::ChallengeAck));
    let r = recv(&mut m, PEER_ACK);
    assert!(r.notes[0].starts_with("challenge ACK (RFC 5961)"), "{r:?}");
    assert_eq!(m.state(), Established);
}

#[test]
fn zero_window_probe() {
    let mut m = established();
    recv(
        &mut m,
        Segment {
            window: 0,
            ..PEER_ACK
        },
    );
    assert_eq!(m.us.snd_wnd, 0);
    let s = send_spec(
        &mut m,
        SendSpec {
            flags: flags("A"),
            len: 1,
            ..SendSpec::default()
        },
    );
    assert!(s.warnings.is_empty(), "{s:?}");
    assert!(s.notes[0].starts_with("zero-window probe"), "{s:?}");
    assert_eq!(m.peer.rcv_nxt, ISN + 1, "the probe's byte is not taken");
    let r = recv(&mut m, PEER_ACK);
    assert!(r.notes[0].contains("zero-window probe"), "{r:?}");
}

#[test]
fn window_scaling_applies_after_both_syns() {
    let mut m = closed();
    send_spec(
        &mut m,
        SendSpec {
            flags: flags("S"),
            options: SegOptions {
                wscale: Some(7),
                ..SegOptions::default()
            },
            ..SendSpec::default()
        },
    );
    recv(
        &mut m,
        Segment {
            options: SegOptions {
                wscale: Some(2),
                ..SegOptions::default()
            },
            ..SYN_ACK
        },
    );
    assert_eq!(
        m.us.snd_wnd,
        u32::from(PEER_WIN),
        "a SYN's window is never scaled"
    );
    recv(
        &mut m,
        Segment {
            window: 1000,
            ..PEER_ACK
        },
    );
    assert_eq!(m.us.snd_wnd, 4000);
    send(&mut m, "A");
    assert_eq!(
        m.peer.rcv_wnd, 4000,
        "the peer model scales its own window too"
    );
    // Our default window is bytes: the field carries it shifted (not 64240 << 7, 8 MB).
    assert_eq!(m.us.rcv_wnd, (u32::from(WIN) >> 7) << 7);
    assert_eq!(m.peer.snd_wnd, (u32::from(WIN) >> 7) << 7);
}

#[test]
fn sequence_numbers_wrap() {
    let mut m = Machine::active(u32::MAX, WIN);
    send(&mut m, "S");
    assert_eq!(m.us.snd_nxt, 0);
    recv(&mut m, Segment { ack: 0, ..SYN_ACK });
    assert_eq!(m.state(), Established);
    assert!(seq_lt(u32::MAX, 0) && seq_gt(1, u32::MAX) && seq_le(5, 5));
}

#[test]
fn expect_matching() {
    let seg = Segment {
        flags: flags("PA"),
        ..PEER_ACK
    };
    let exp = |f: &str| Expectation {
        flags: Some(flags(f)),
        ..Expectation::default()
    };
    assert_eq!(
        check(&exp("A"), &seg, b"", &[]),
        Ok(()),
        "PSH need not be named"
    );
    assert_eq!(check(&exp("PA"), &seg, b"", &[]), Ok(()));
    let exact = Expectation {
        exact: true,
        ..exp("A")
    };
    assert_eq!(
        check(&exact, &seg, b"", &[]),
        Err("expected flags A, got PA".to_string()),
        "exact: PSH must be absent"
    );
    let rst = Segment {
        flags: flags("RA"),
        ack: 1,
        ..PEER_ACK
    };
    let e = Expectation {
        flags: Some(flags("SA")),
        ack: Some(1001),
        seq: Some(PEER_ISN + 1),
        ..Expectation::default()
    };
    assert_eq!(
        check(&e, &rst, b"", &[]),
        Err("expected flags SA, got RA; expected ack 1001, got 1".to_string())
    );
    let e = Expectation {
        data: Some(b"pong\n".to_vec()),
        window: Some(1),
        options: Some(vec![
            OptPat::exact(TcpOption::Mss(1460)),
            OptPat::exact(TcpOption::SackOk),
        ]),
        ..Expectation::default()
    };
    assert_eq!(
        check(&e, &seg, b"ping\n", &[]),
        Err("expected window 1, got 29200; expected data \"pong\\n\" (5 bytes), got \"ping\\n\" (5 bytes); expected options mss(1460), sackok() (got [none])".to_string())
    );
}

#[test]
fn option_expectations_fail_on_what_is_missing() {
    let got = [
        TcpOption::Mss(1460),
        TcpOption::Nop,
        TcpOption::Nop,
        TcpOption::SackOk,
        TcpOption::Nop,
        TcpOption::Wscale(7),
    ];
    let pats = |w: &[TcpOption]| w.iter().cloned().map(OptPat::exact).collect::<Vec<_>>();
    let ok = |want: &[TcpOption], exact: bool| check_options(&pats(want), &got, exact);
    // Present with their values, in any order; NOPs counted.
    assert_eq!(
        ok(&[TcpOption::Wscale(7), TcpOption::Mss(1460)], false),
        Ok(())
    );
    assert_eq!(
        ok(&[TcpOption::Nop, TcpOption::Nop, TcpOption::Nop], false),
        Ok(())
    );
    assert!(
        ok(&vec![TcpOption::Nop; 4], false).is_err(),
        "only three NOPs"
    );
    // Every kind the issue named fails when absent.
    for missing in [
        TcpOption::Sack(vec![(1, 2)]),
        TcpOption::Unknown {
            kind: 99,
            data: b"x".to_vec(),
        },
        TcpOption::Eol,
        TcpOption::Timestamp(1, 0),
        TcpOption::Mss(536),
    ] {
        let e = ok(std::slice::from_ref(&missing), false).expect_err("absent");
        assert!(e.contains(&option_text(&missing)), "{e}");
    }
    // An empty list means none at all; exact compares the layout in order.
    assert_eq!(
        ok(&[], false),
        Err("expected options exactly [none], got [mss(1460), nop(), nop(), sackok(), nop(), wscale(7)]".to_string())
    );
    assert_eq!(check_options(&[], &[], false), Ok(()));
    // Wildcards: ts(any, 5) takes any TSval with TSecr 5; mss(any) any MSS.
    let ts = [TcpOption::Timestamp(77, 5)];
    let any_val = OptPat {
        opt: TcpOption::Timestamp(0, 5),
        wild: [true, false],
    };
    assert_eq!(
        check_options(std::slice::from_ref(&any_val), &ts, false),
        Ok(())
    );
    let wrong_ecr = OptPat {
        opt: TcpOption::Timestamp(0, 6),
        wild: [true, false],
    };
    let e = check_options(&[wrong_ecr], &ts, false).expect_err("ecr differs");
    assert!(e.contains("ts(any, 6)"), "{e}");
    let any_mss = OptPat {
        opt: TcpOption::Mss(0),
        wild: [true, false],
    };
    assert_eq!(check_options(&[any_mss], &got, false), Ok(()));
    assert_eq!(ok(&got, true), Ok(()));
    let mut reordered = got.to_vec();
    reordered.swap(0, 5);
    assert!(ok(&reordered, true).is_err());
    assert_eq!(ok(&reordered, false), Ok(()));
    // SACK blocks are compared.
    let sack = [TcpOption::Sack(vec![(1, 2), (5, 9)])];
    assert_eq!(check_options(&pats(&sack), &sack, false), Ok(()));
    assert!(check_options(&pats(&[TcpOption::Sack(vec![(1, 2)])]), &sack, false).is_err());
}

#[test]
fn a_segment_the_peer_drops_does_not_move_our_state() {
    // Data without ACK: the peer drops it; snd_nxt stays.
    let mut m = established();
    let before = m.us.snd_nxt;
    let s = send_spec(
        &mut m,
        SendSpec {
            flags: flags("P"),
            len: 5,
            ..SendSpec::default()
        },
    );
    assert!(
        s.warnings.iter().any(|w| w.starts_with("not counted")),
        "{s:?}"
    );
    assert_eq!(m.us.snd_nxt, before);
    // A FIN whose ACK acknowledges what the peer never sent: no FIN_WAIT_1.
    let beyond = m.us.rcv_nxt.wrapping_add(5000);
    let s = send_spec(
        &mut m,
        SendSpec {
            flags: flags("FA"),
            ack: Some(beyond),
            ..SendSpec::default()
        },
    );
    assert!(
        s.warnings.iter().any(|w| w.starts_with("not counted")),
        "{s:?}"
    );
    assert_eq!(m.state(), Established);
    assert_eq!(m.us.fin_seq, None);
}

#[test]
fn linux_style_probes_are_named() {
    let mut m = established();
    let probe = Segment {
        seq: PEER_ISN,
        ..PEER_ACK
    };
    let r = recv(&mut m, probe);
    assert!(
        r.notes[0].starts_with("keep-alive probe: seq 5000 is rcv_nxt - 1"),
        "{r:?}"
    );
    send_spec(
        &mut m,
        SendSpec {
            flags: flags("A"),
            window: Some(0),
            ..SendSpec::default()
        },
    );
    let r = recv(&mut m, probe);
    assert!(
        r.notes[0].starts_with("zero-window probe: seq 5000"),
        "{r:?}"
    );
    assert!(r.warnings.is_empty());
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any mix of segments in either direction, any numbers, any flags: the
        /// machine keeps going and every recorded change is a real change.
        #[test]
        fn any_exchange(
            passive in any::<bool>(),
            steps in prop::collection::vec(
                (any::<bool>(), 0u16..0x200, any::<u32>(), any::<u32>(), 0u32..3000, any::<u16>(),
                 proptest::option::of(0u8..20), any::<bool>(), any::<u64>()),
                0..40,
            ),
        ) {
            let mut m = if passive { Machine::passive(ISN, WIN) } else { Machine::active(ISN, WIN) };
            for (send, bits, seq, ack, len, window, wscale, fill, secs) in steps {
                let options = SegOptions { wscale, ..SegOptions::default() };
                let seg = if fill {
                    m.fill(&SendSpec { flags: TcpFlags(bits), len, options, ..SendSpec::default() })
                } else {
                    Segment { flags: TcpFlags(bits), seq, ack, len, window, options }
                };
                let step = if send {
                    m.sent(seg, Vec::new(), at(secs % 1000)).clone()
                } else {
                    m.received(seg, Vec::new(), at(secs % 1000)).clone()
                };
                for t in &step.transitions {
                    prop_assert_ne!(t.from, t.to);
                }
                m.tick(at(secs % 1000 + 61));
            }
            // Whatever happened can be drawn.
            let text = crate::session::ladder::text(&m, &Default::default());
            prop_assert_eq!(text.lines().count() >= m.history.len() + 2, true);
            let svg = crate::session::ladder::svg(&m, &Default::default());
            prop_assert!(svg.ends_with("</svg>\n"));
        }
    }
}
