//! Hand-driven sessions against real Linux TCP stacks in namespaces made here.
//!
//! The transport is `session::rawio::RawIo`: packets go out through IPPROTO_RAW
//! sockets (marked, so that our own RSTs pass the guard) and come back through an
//! AF_PACKET socket on the client's veth end (or loopback). The kernel-RST guard
//! keeps the client kernel quiet. Addresses are 198.18.0.1/2 and
//! 2001:db8:198:18::1/2 only. Needs root: fails under CI=true when it cannot run,
//! skips elsewhere.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tcpcraft::net::guard::RstGuard;
use tcpcraft::net::segio::RawIo;
use tcpcraft::packet::TcpFlags;
use tcpcraft::session::state::{Expectation, State};
use tcpcraft::session::{SendRequest, Session, SessionOptions};

mod session_bed;
use session_bed::{can_run, in_netns, Bed};

const C4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1));
const S4: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
const C6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 0, 1));
const S6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 0, 2));
const WAIT: Duration = Duration::from_secs(3);

fn flags(f: &str) -> TcpFlags {
    TcpFlags::parse(f).expect("flags")
}

fn exp(f: &str) -> Expectation {
    Expectation {
        flags: Some(flags(f)),
        ..Expectation::default()
    }
}

fn lines_sink() -> (
    tcpcraft::session::Sink,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let l = lines.clone();
    (
        std::sync::Arc::new(move |s: &str| l.lock().unwrap().push(s.to_string())),
        lines,
    )
}

/// Receives until `done` holds for the session (segments the peer sends in an
/// order of its choosing: a pure ACK first or not).
fn recv_until(s: &mut Session, done: impl Fn(&Session) -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done(s) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "timed out: {s:?}\n{}",
            s.ladder(false, true)
        );
        s.recv(left).expect("recv");
    }
}

/// Opens to a Linux server, sends data, reads the answer, closes with four
/// separate segments. Returns (printed lines, ladder, what the server saw).
fn active_close(bed: &Bed, src: IpAddr, dst: IpAddr, port: u16) -> (String, String, String) {
    let addr = SocketAddr::new(dst, port);
    let listener = in_netns(&bed.server, move || TcpListener::bind(addr).expect("bind"));
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().expect("accept");
        c.set_read_timeout(Some(WAIT)).expect("timeout");
        let mut seen = String::new();
        let mut buf = [0u8; 100];
        loop {
            match c.read(&mut buf) {
                Ok(0) => {
                    seen.push_str("<EOF>");
                    break;
                }
                Ok(n) => {
                    seen.push_str(&String::from_utf8_lossy(&buf[..n]));
                    if seen.ends_with("ping\n") {
                        c.write_all(b"pong\n").expect("write");
                    }
                }
                Err(e) => {
                    seen.push_str(&format!("<error {e}>"));
                    break;
                }
            }
        }
        // Close a moment after EOF, so that the kernel's ACK of our FIN and the
        // server's own FIN are two segments: the four-way teardown.
        std::thread::sleep(Duration::from_millis(200));
        drop(c);
        seen
    });
    let iface = bed.client_if.clone();
    let (printed, ladder) = in_netns(&bed.client, move || {
        let guard = Arc::new(Mutex::new(RstGuard::new().expect("guard")));
        let (sink, lines) = lines_sink();
        let opts = SessionOptions {
            sport: Some(61200),
            isn: Some(1000),
            src: Some(src),
            guard: Some(guard),
            ..SessionOptions::default()
        };
        let mut s = Session::connect(
            Box::new(RawIo::new(Some(&iface)).expect("raw sockets")),
            dst,
            port,
            opts,
            sink,
        )
        .expect("session");
        s.send(SendRequest::flags(flags("S"))).expect("SYN");
        s.expect(
            &Expectation {
                ack: Some(1001),
                ..exp("SA")
            },
            WAIT,
        )
        .expect("SYN-ACK");
        s.send(SendRequest::flags(flags("A"))).expect("ACK");
        s.send(SendRequest {
            data: b"ping\n".to_vec(),
            ..SendRequest::flags(flags("PA"))
        })
        .expect("data");
        recv_until(&mut s, |s| {
            s.rcv_nxt() == s.peer_isn().unwrap_or(0).wrapping_add(6)
        });
        s.send(SendRequest::flags(flags("A"))).expect("ACK of pong");
        s.send(SendRequest::flags(flags("FA"))).expect("FIN");
        recv_until(&mut s, |s| s.state() == State::TimeWait);
        s.send(SendRequest::flags(flags("A"))).expect("last ACK");
        let warnings: Vec<String> = s
            .history()
            .iter()
            .flat_map(|h| h.warnings.clone())
            .collect();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(s.peer_state(), State::Closed);
        let printed = lines.lock().unwrap().join("\n");
        (printed, s.ladder(false, false))
    });
    let seen = server.join().expect("server");
    (printed, ladder, seen)
}

fn states_in_order(printed: &str) -> Vec<String> {
    printed
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("  peer:") && l.contains(" → "))
        .filter_map(|l| l.split(" → ").nth(1))
        .filter_map(|rest| rest.split(' ').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn active_open_data_and_four_way_close_v4_and_v6() {
    if !can_run("live sessions") {
        return;
    }
    let bed = Bed::new();
    for (src, dst) in [(C4, S4), (C6, S6)] {
        let (printed, ladder, seen) = active_close(&bed, src, dst, 8080);
        eprintln!("{printed}\n{ladder}");
        assert_eq!(
            seen, "ping\n<EOF>",
            "the server saw the data, then EOF, no reset"
        );
        assert!(
            printed.contains("rst-guard: nftables table inet tcpcraft_"),
            "{printed}"
        );
        assert_eq!(
            states_in_order(&printed),
            [
                "SYN_SENT",
                "ESTABLISHED",
                "FIN_WAIT_1",
                "FIN_WAIT_2",
                "TIME_WAIT"
            ],
            "{printed}\n{ladder}"
        );
        // FIN →, ← ACK, ← FIN, ACK →: four separate segments.
        let teardown: Vec<&str> = ladder.lines().rev().take(4).collect();
        assert!(
            teardown[3].contains("FIN_WAIT_1") && teardown[3].contains("─ FA seq 6 ack 6 "),
            "{ladder}"
        );
        assert!(
            teardown[2].contains("FIN_WAIT_2") && teardown[2].contains("◀─── A seq 6 ack 7 "),
            "{ladder}"
        );
        assert!(
            teardown[1].contains("TIME_WAIT") && teardown[1].contains("◀─── FA seq 6 ack 7 "),
            "{ladder}"
        );
        assert!(
            teardown[0].contains("TIME_WAIT") && teardown[0].contains("─ A seq 7 ack 7 "),
            "{ladder}"
        );
    }
}

#[test]
fn linux_client_connects_to_listen_answered_by_hand() {
    if !can_run("live listen") {
        return;
    }
    let bed = Bed::new();
    let client_ns = bed.server.clone();
    // The Linux client starts after a moment, so that listen() is already waiting.
    let client = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        in_netns(&client_ns, || {
            let addr = SocketAddr::new(C4, 8081);
            let mut c = TcpStream::connect_timeout(&addr, WAIT).expect("connect succeeds");
            c.set_read_timeout(Some(WAIT)).expect("timeout");
            c.write_all(b"hello\n").expect("write");
            let mut buf = [0u8; 6];
            c.read_exact(&mut buf).expect("the answer");
            drop(c);
            String::from_utf8_lossy(&buf).into_owned()
        })
    });
    let iface = bed.client_if.clone();
    let printed = in_netns(&bed.client, move || {
        let guard = Arc::new(Mutex::new(RstGuard::new().expect("guard")));
        let (sink, lines) = lines_sink();
        let opts = SessionOptions {
            isn: Some(7000),
            src: Some(C4),
            guard: Some(guard),
            ..SessionOptions::default()
        };
        let mut s = Session::listen(
            Box::new(RawIo::new(Some(&iface)).expect("raw sockets")),
            8081,
            WAIT,
            opts,
            sink,
        )
        .expect("a SYN");
        s.send(SendRequest::flags(flags("SA"))).expect("SYN-ACK");
        recv_until(&mut s, |s| {
            s.rcv_nxt() == s.peer_isn().unwrap_or(0).wrapping_add(7)
        });
        assert_eq!(s.state(), State::Established);
        s.send(SendRequest {
            data: b"world\n".to_vec(),
            ..SendRequest::flags(flags("PA"))
        })
        .expect("answer");
        recv_until(&mut s, |s| s.state() == State::CloseWait);
        s.send(SendRequest::flags(flags("A"))).expect("ACK of FIN");
        s.send(SendRequest::flags(flags("FA"))).expect("FIN");
        recv_until(&mut s, |s| s.state() == State::Closed);
        let printed = lines.lock().unwrap().join("\n");
        printed
    });
    eprintln!("{printed}");
    assert_eq!(client.join().expect("client"), "world\n");
    let states = states_in_order(&printed);
    assert_eq!(
        states,
        [
            "SYN_RECEIVED",
            "ESTABLISHED",
            "CLOSE_WAIT",
            "LAST_ACK",
            "CLOSED"
        ],
        "{printed}"
    );
}

/// Runs `body` on a session that has completed the handshake (our ACK carrying
/// `window`) with a Linux server whose accepted socket is handed to `server`.
/// Returns what the body and the server returned.
fn with_established<B, S, R, Q>(port: u16, window: u16, body: B, server: S) -> (R, Q)
where
    B: FnOnce(&mut Session) -> R + Send + 'static,
    S: FnOnce(TcpStream) -> Q + Send + 'static,
    R: Send + 'static,
    Q: Send + 'static,
{
    let bed = Bed::new();
    let addr = SocketAddr::new(S4, port);
    let listener = in_netns(&bed.server, move || TcpListener::bind(addr).expect("bind"));
    let server = std::thread::spawn(move || {
        let (c, _) = listener.accept().expect("accept");
        server(c)
    });
    let iface = bed.client_if.clone();
    let r = in_netns(&bed.client, move || {
        let guard = Arc::new(Mutex::new(RstGuard::new().expect("guard")));
        let (sink, lines) = lines_sink();
        let opts = SessionOptions {
            src: Some(C4),
            isn: Some(1000),
            guard: Some(guard),
            ..SessionOptions::default()
        };
        let mut s = Session::connect(
            Box::new(RawIo::new(Some(&iface)).expect("raw sockets")),
            S4,
            port,
            opts,
            sink,
        )
        .expect("session");
        s.send(SendRequest::flags(flags("S"))).expect("SYN");
        s.expect(&exp("SA"), WAIT).expect("SYN-ACK");
        s.send(SendRequest {
            window: Some(window),
            ..SendRequest::flags(flags("A"))
        })
        .expect("ACK");
        let r = body(&mut s);
        eprintln!(
            "{}\n{}",
            lines.lock().unwrap().join("\n"),
            s.ladder(false, false)
        );
        r
    });
    (r, server.join().expect("server"))
}

#[test]
fn out_of_window_rst_syn_and_data_get_challenge_and_duplicate_acks() {
    if !can_run("live challenge ACK") {
        return;
    }
    let (notes, server) = with_established(
        8082,
        64240,
        |s| {
            let mut notes = Vec::new();
            let nxt = s.snd_nxt();
            // An in-window RST that is not exactly rcv_nxt: RFC 5961 §3.2.
            let sent = s
                .send(SendRequest {
                    seq: Some(nxt.wrapping_add(100)),
                    ..SendRequest::flags(flags("R"))
                })
                .expect("RST");
            assert!(
                sent.warnings[0].contains("challenge ACK"),
                "{:?}",
                sent.warnings
            );
            let r = s
                .expect(
                    &Expectation {
                        ack: Some(nxt),
                        ..exp("A")
                    },
                    WAIT,
                )
                .expect("challenge ACK");
            notes.extend(r.step.notes);
            // Data far outside the window: a duplicate ACK.
            let sent = s
                .send(SendRequest {
                    seq: Some(nxt.wrapping_add(10_000_000)),
                    data: b"x".to_vec(),
                    ..SendRequest::flags(flags("PA"))
                })
                .expect("data");
            assert!(sent.warnings[0].contains("outside the peer's receive window"));
            let r = s.expect(&exp("A"), WAIT).expect("duplicate ACK");
            notes.extend(r.step.notes);
            assert_eq!(s.state(), State::Established);
            // The exact RST resets the server's socket.
            let sent = s.send(SendRequest::flags(flags("R"))).expect("RST");
            assert!(sent.warnings.is_empty(), "{:?}", sent.warnings);
            assert_eq!((s.state(), s.peer_state()), (State::Closed, State::Closed));
            notes
        },
        |mut c| {
            c.set_read_timeout(Some(WAIT)).expect("timeout");
            let mut buf = [0u8; 10];
            match c.read(&mut buf) {
                Ok(n) => format!("read {n}"),
                Err(e) => format!("{:?}", e.kind()),
            }
        },
    );
    assert!(
        notes[0].starts_with("challenge ACK (RFC 5961)"),
        "{notes:?}"
    );
    assert!(notes[1].starts_with("duplicate ACK"), "{notes:?}");
    assert_eq!(server, "ConnectionReset");
}

#[test]
fn zero_window_is_probed_and_reopened() {
    if !can_run("live zero window") {
        return;
    }
    let (notes, _) = with_established(
        8083,
        0,
        |s| {
            // The server has data but our window is 0: Linux probes.
            let r = s.expect(&exp("A"), WAIT).expect("a probe");
            let notes = r.step.notes.clone();
            s.send(SendRequest::flags(flags("A"))).expect("window open");
            let r = s
                .expect(
                    &Expectation {
                        data: Some(b"hello\n".to_vec()),
                        ..exp("A")
                    },
                    WAIT,
                )
                .expect("the data");
            assert!(r.step.notes.is_empty(), "{:?}", r.step.notes);
            s.send(SendRequest::flags(flags("R"))).expect("RST");
            notes
        },
        |mut c| {
            c.write_all(b"hello\n").expect("write");
            std::thread::sleep(WAIT);
        },
    );
    assert!(notes[0].starts_with("zero-window probe"), "{notes:?}");
}

#[test]
fn handshake_command_logic_against_linux() {
    use tcpcraft::session::handshake::{run, Close, HandshakeOptions};
    if !can_run("live handshake") {
        return;
    }
    let bed = Bed::new();
    for (port, close) in [
        (8084u16, Close::Active),
        (8085, Close::Passive),
        (8086, Close::Rst),
    ] {
        let addr = SocketAddr::new(S4, port);
        let listener = in_netns(&bed.server, move || TcpListener::bind(addr).expect("bind"));
        // An HTTP/1.0-like server: answers the request, then closes.
        std::thread::spawn(move || {
            let (mut c, _) = listener.accept().expect("accept");
            let mut buf = [0u8; 100];
            if let Ok(n) = c.read(&mut buf) {
                let _ = c.write_all(&buf[..n]);
            }
            if close == Close::Active {
                // Wait for our FIN before closing, so the teardown is ours.
                let _ = c.read(&mut buf);
            }
        });
        let iface = bed.client_if.clone();
        let (result, answer, states, ladder) = in_netns(&bed.client, move || {
            let opts = HandshakeOptions {
                data: Some(b"GET / HTTP/1.0\r\n\r\n".to_vec()),
                close,
                session: SessionOptions {
                    src: Some(C4),
                    guard: Some(Arc::new(Mutex::new(RstGuard::new().expect("guard")))),
                    ..SessionOptions::default()
                },
                ..HandshakeOptions::default()
            };
            let o = run(
                Box::new(RawIo::new(Some(&iface)).expect("raw sockets")),
                S4,
                port,
                opts,
                std::sync::Arc::new(|_: &str| {}),
            )
            .expect("opens");
            let states: Vec<State> = o.session.history().iter().map(|h| h.us).collect();
            (o.result, o.answer, states, o.session.ladder(false, false))
        });
        assert_eq!(result, Ok(()), "{close:?}\n{ladder}");
        assert_eq!(answer, b"GET / HTTP/1.0\r\n\r\n", "{ladder}");
        let last = states.last().copied();
        let want = match close {
            Close::Active => State::TimeWait,
            Close::Passive | Close::Rst => State::Closed,
        };
        assert_eq!(last, Some(want), "{close:?}\n{ladder}");
        if close == Close::Passive {
            assert!(states.contains(&State::CloseWait) && states.contains(&State::LastAck));
        }
    }
}

#[test]
fn simultaneous_open_and_close_of_two_sessions_on_loopback() {
    if !can_run("live simultaneous open/close") {
        return;
    }
    let bed = Bed::new();
    let out = in_netns(&bed.client, || {
        let guard = Arc::new(Mutex::new(RstGuard::new().expect("guard")));
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let open = |sport: u16, dport: u16, isn: u32| {
            let opts = SessionOptions {
                sport: Some(sport),
                isn: Some(isn),
                src: Some(lo),
                guard: Some(guard.clone()),
                ..SessionOptions::default()
            };
            Session::connect(
                Box::new(RawIo::new(Some("lo")).expect("raw sockets")),
                lo,
                dport,
                opts,
                std::sync::Arc::new(|_: &str| {}),
            )
            .expect("session")
        };
        let mut a = open(62001, 62002, 100);
        let mut b = open(62002, 62001, 300);
        let send = |s: &mut Session, f: &str| s.send(SendRequest::flags(flags(f))).expect("send");
        let expect = |s: &mut Session, f: &str| {
            s.expect(&exp(f), WAIT)
                .unwrap_or_else(|e| panic!("{e}\n{}", s.ladder(false, true)))
        };
        // Both SYNs first, then both SYN-ACKs: RFC 9293 figure 8.
        send(&mut a, "S");
        send(&mut b, "S");
        expect(&mut a, "S");
        expect(&mut b, "S");
        send(&mut a, "SA");
        send(&mut b, "SA");
        expect(&mut a, "SA");
        expect(&mut b, "SA");
        let opened = (a.state(), b.state());
        // Both FINs before either arrives: figure 13, through CLOSING. Live sessions
        // take a's FIN at b the moment it arrives on loopback, so b's FIN is made to
        // cross it: it acknowledges only what came before a's FIN.
        send(&mut a, "FA");
        let before_fin = b.rcv_nxt().wrapping_sub(1);
        b.send(SendRequest {
            ack: Some(before_fin),
            ..SendRequest::flags(flags("FA"))
        })
        .expect("send");
        expect(&mut a, "FA");
        expect(&mut b, "FA");
        let closing = (a.state(), b.state(), a.peer_state());
        send(&mut a, "A");
        send(&mut b, "A");
        expect(&mut a, "A");
        expect(&mut b, "A");
        let warnings: Vec<String> = [a.history(), b.history()]
            .concat()
            .iter()
            .flat_map(|h| h.warnings.clone())
            .collect();
        (
            opened,
            closing,
            (a.state(), b.state()),
            warnings,
            a.ladder(false, false),
        )
    });
    let (opened, closing, closed, warnings, ladder) = out;
    eprintln!("{ladder}");
    assert_eq!(opened, (State::Established, State::Established), "{ladder}");
    assert_eq!(
        closing,
        (State::Closing, State::Closing, State::Closing),
        "{ladder}"
    );
    assert_eq!(closed, (State::TimeWait, State::TimeWait), "{ladder}");
    assert!(warnings.is_empty(), "{warnings:?}");
}
