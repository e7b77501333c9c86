//! The server kernel's real TCP state read over sock_diag (`tcpcraft::net::diag`),
//! checked against what `ss -tanH` says in the same namespace, in the test bed (two
//! namespaces made and removed here; addresses 198.18.0.0/15 and 2001:db8:198:18::/64
//! only). Also the test-bed server's listener kinds (scripts/testbed_server.py).
//!
//! Needs root: fails under CI=true when it cannot run, skips (and says so) elsewhere.
//! Nothing sleeps to pass: every check polls until the state appears, with a deadline.

use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use tcpcraft::net::diag::{self, KernelState};
use tcpcraft::net::testbed::{Bed, BedConfig, Faults, CLIENT_V4, SERVER_V4, SERVER_V6};

const DEADLINE: Duration = Duration::from_secs(5);

/// True when the test can run; under CI=true a missing capability fails the test.
fn can_run(test: &str) -> bool {
    match tcpcraft::net::testbed::can_build() {
        Ok(()) => true,
        Err(why) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{test}: cannot build the test bed under CI=true: {why}");
            }
            eprintln!("SKIPPED {test}: {why}");
            false
        }
    }
}

/// A bed with the given listeners and no faults, unique per test.
fn bed(tag: &str, listen: &[&str]) -> Bed {
    let cfg = BedConfig {
        id: format!("d{tag}{}", std::process::id()),
        listen: listen.iter().map(|s| s.to_string()).collect(),
        faults: Faults::default(),
    };
    Bed::up(&cfg).unwrap_or_else(|e| panic!("building the test bed: {e}"))
}

/// Polls `f` until it gives a value, failing after [`DEADLINE`] with `what`.
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An address column of `ss`: the IP (None for `*`), the port (0 for `*`).
type SsAddr = (Option<IpAddr>, u16);

/// `ss` prints `198.18.0.2:80`, `[::ffff:198.18.0.1]:4000`, `*:80`, `[::]:80`.
fn ss_addr(s: &str) -> Option<SsAddr> {
    let (host, port) = s.rsplit_once(':')?;
    let port = if port == "*" { 0 } else { port.parse().ok()? };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.split('%').next().unwrap_or(host);
    Some((host.parse::<IpAddr>().ok().map(|a| a.to_canonical()), port))
}

/// `ss -tanH` in namespace `ns`: (state, local, peer) per socket.
fn ss(ns: &str) -> Vec<(String, SsAddr, SsAddr)> {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "ss", "-tanH"])
        .output()
        .expect("ss");
    assert!(out.status.success(), "ss failed in {ns}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((
                f.first()?.to_string(),
                ss_addr(f.get(3)?)?,
                ss_addr(f.get(4)?)?,
            ))
        })
        .collect()
}

/// What `ss` says of the connection from local port `port` to `peer` in `ns`.
fn ss_state(ns: &str, port: u16, peer: SocketAddr) -> Option<String> {
    let want = (Some(peer.ip().to_canonical()), peer.port());
    ss(ns)
        .into_iter()
        .find(|(st, local, remote)| st != "LISTEN" && local.1 == port && *remote == want)
        .map(|(st, _, _)| st)
}

/// Waits until sock_diag gives `state` for the connection, then checks that `ss`
/// agrees (the states the test waits in are stable until the test moves on).
fn expect_state(
    fd: &std::os::fd::OwnedFd,
    ns: &str,
    port: u16,
    peer: SocketAddr,
    state: Option<KernelState>,
) {
    wait_for(
        &format!("{state:?} on {ns} port {port} with {peer}"),
        || {
            let got = diag::connection_state(fd, port, peer).expect("sock_diag dump");
            (got == state).then_some(())
        },
    );
    assert_eq!(
        ss_state(ns, port, peer).as_deref(),
        state.as_ref().map(KernelState::ss_name),
        "ss in {ns} disagrees on port {port} with {peer}"
    );
}

/// Connects from the client namespace; the socket stays there after the thread ends.
fn connect(bed: &Bed, ip: IpAddr, port: u16) -> TcpStream {
    bed.in_client(move || TcpStream::connect((ip, port)))
        .expect("client namespace")
        .expect("connect")
}

#[test]
fn kernel_states_match_ss_from_listen_to_time_wait() {
    if !can_run("kernel_states_match_ss_from_listen_to_time_wait") {
        return;
    }
    let bed = bed("st", &["http:80"]);
    let fd_s = diag::open_in_netns(&bed.server).expect("sock_diag in the server");
    let fd_c = diag::open_in_netns(&bed.client).expect("sock_diag in the client");
    let port = 9100;
    // Dual stack, as the bed's own listeners: IPv4 peers appear as ::ffff:198.18.0.1.
    let listener = bed
        .in_server(move || TcpListener::bind(("::", port)))
        .expect("server namespace")
        .expect("bind");

    for p in [port, 80] {
        let socks = diag::tcp_sockets(&fd_s, p).expect("dump");
        assert!(
            socks
                .iter()
                .any(|s| s.state == KernelState::Listen && s.local.port() == p),
            "no LISTEN socket for {p}: {socks:?}"
        );
        assert!(
            ss(&bed.server)
                .iter()
                .any(|(st, local, _)| st == "LISTEN" && local.1 == p),
            "ss shows no LISTEN for {p}"
        );
    }
    // The client namespace has no listener: the dump is empty, not an error.
    assert!(diag::tcp_sockets(&fd_c, port).expect("dump").is_empty());

    for server_ip in [IpAddr::V4(SERVER_V4), IpAddr::V6(SERVER_V6)] {
        let client = connect(&bed, server_ip, port);
        let me = client.local_addr().expect("local address");
        let server = SocketAddr::new(server_ip, port);
        let (conn, _) = listener.accept().expect("accept");
        expect_state(&fd_s, &bed.server, port, me, Some(KernelState::Established));
        expect_state(
            &fd_c,
            &bed.client,
            me.port(),
            server,
            Some(KernelState::Established),
        );

        // The client closes first: its FIN is acknowledged by the server kernel, whose
        // application has not closed yet.
        drop(client);
        expect_state(&fd_s, &bed.server, port, me, Some(KernelState::CloseWait));
        expect_state(
            &fd_c,
            &bed.client,
            me.port(),
            server,
            Some(KernelState::FinWait2),
        );

        // Then the server: its FIN is acknowledged and its socket is gone; the client
        // waits in TIME-WAIT.
        drop(conn);
        expect_state(&fd_s, &bed.server, port, me, None);
        expect_state(
            &fd_c,
            &bed.client,
            me.port(),
            server,
            Some(KernelState::TimeWait),
        );
    }
}

#[test]
fn request_sockets_show_as_syn_recv_and_open_here_works() {
    if !can_run("request_sockets_show_as_syn_recv_and_open_here_works") {
        return;
    }
    let bed = bed("sr", &["http:80"]);
    let port = 9101;
    let listener = bed
        .in_server(move || TcpListener::bind(("::", port)))
        .expect("server namespace")
        .expect("bind");
    // The client drops the server's SYN-ACKs: the server holds a request socket.
    let rules = format!(
        "table inet tcpc_diag {{\n chain input {{\n type filter hook input priority 0;\n \
         tcp sport {port} tcp flags & (syn | ack) == syn | ack drop\n }}\n}}\n"
    );
    let st = bed
        .client_cmd("nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().expect("stdin").write_all(rules.as_bytes())?;
            c.wait()
        })
        .expect("nft");
    assert!(st.success(), "nft rules in the client");
    let client_ns = bed.client.clone();
    let connecting = std::thread::spawn(move || {
        tcpcraft::net::sys::enter_netns(&client_ns).expect("enter the client namespace");
        TcpStream::connect_timeout(&SocketAddr::new(SERVER_V4.into(), port), DEADLINE * 2)
    });

    // Looked up from a thread that lives in the server namespace (open_here).
    let server_ns = bed.server.clone();
    let server_name = server_ns.clone();
    let peer = tcpcraft::net::testbed::in_netns(&server_ns, move || {
        let fd = diag::open_here().expect("sock_diag here");
        wait_for("a SYN-RECV request socket", || {
            let socks = diag::tcp_sockets(&fd, port).expect("dump");
            socks
                .into_iter()
                .find(|s| {
                    matches!(s.state, KernelState::SynRecv | KernelState::NewSynRecv)
                        && s.remote.ip().to_canonical() == IpAddr::V4(CLIENT_V4)
                })
                .map(|s| s.remote)
        })
    })
    .expect("server namespace");
    assert_eq!(
        ss_state(&server_name, port, peer).as_deref(),
        Some("SYN-RECV")
    );
    let fd = diag::open_in_netns(&bed.server).expect("sock_diag");
    assert_eq!(
        diag::connection_state(&fd, port, peer)
            .expect("dump")
            .map(|s| s.ss_name()),
        Some("SYN-RECV")
    );

    // Let the SYN-ACKs through: a retransmission completes the handshake.
    let st = bed
        .client_cmd("nft")
        .args(["delete", "table", "inet", "tcpc_diag"])
        .status()
        .expect("nft");
    assert!(st.success());
    let stream = connecting.join().expect("connect thread").expect("connect");
    let (_conn, from) = listener.accept().expect("accept");
    assert_eq!(from.port(), stream.local_addr().expect("addr").port());
    expect_state(&fd, &bed.server, port, from, Some(KernelState::Established));
    assert!(diag::open_in_netns("no/such").is_err());
    assert!(diag::open_in_netns("tcpc-no-such-namespace").is_err());
}

/// The listener kinds of scripts/testbed_server.py beyond http/echo/uecho.
const KINDS: [&str; 7] = [
    "pingpong:7001",
    "greet:7002",
    "lateclose:7003",
    "halfclose:7004",
    "acceptclose:7005",
    "open:7006",
    "slowack:7007",
];

/// Connects from the client namespace with a read timeout, so no test hangs.
fn stream(bed: &Bed, ip: IpAddr, port: u16) -> TcpStream {
    let s = connect(bed, ip, port);
    s.set_read_timeout(Some(DEADLINE)).expect("timeout");
    s
}

/// Reads exactly `n` bytes (or fails at EOF / the read timeout).
fn read_n(s: &mut TcpStream, n: usize) -> String {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).expect("read");
    String::from_utf8_lossy(&buf).into_owned()
}

/// Reads to EOF.
fn read_rest(s: &mut TcpStream) -> String {
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read to EOF");
    out
}

#[test]
fn server_kinds_behave_as_documented() {
    if !can_run("server_kinds_behave_as_documented") {
        return;
    }
    let bed = bed("kd", &KINDS);
    let fd_s = diag::open_in_netns(&bed.server).expect("sock_diag in the server");
    let fd_c = diag::open_in_netns(&bed.client).expect("sock_diag in the client");
    for ip in [IpAddr::V4(SERVER_V4), IpAddr::V6(SERVER_V6)] {
        // pingpong: one pong per line, also for lines that arrive together; closes
        // when we do.
        let mut s = stream(&bed, ip, 7001);
        s.write_all(b"ping\n").expect("write");
        assert_eq!(read_n(&mut s, 5), "pong\n");
        s.write_all(b"a\nb\nc").expect("write");
        assert_eq!(read_n(&mut s, 10), "pong\npong\n");
        s.write_all(b"\n").expect("write");
        assert_eq!(read_n(&mut s, 5), "pong\n");
        s.shutdown(Shutdown::Write).expect("shutdown");
        assert_eq!(
            read_rest(&mut s),
            "",
            "pingpong closes after our FIN ({ip})"
        );

        // greet: hello, then the server closes first and waits in FIN-WAIT-2 for our
        // FIN while our socket is in CLOSE-WAIT.
        let mut s = stream(&bed, ip, 7002);
        let me = s.local_addr().expect("addr");
        assert_eq!(read_rest(&mut s), "hello\n", "greet ({ip})");
        expect_state(&fd_s, &bed.server, 7002, me, Some(KernelState::FinWait2));
        expect_state(
            &fd_c,
            &bed.client,
            me.port(),
            SocketAddr::new(ip, 7002),
            Some(KernelState::CloseWait),
        );
        drop(s);

        // lateclose: echoes; after our FIN the server sits in CLOSE-WAIT for a second
        // before its own FIN.
        let mut s = stream(&bed, ip, 7003);
        let me = s.local_addr().expect("addr");
        s.write_all(b"abc").expect("write");
        assert_eq!(read_n(&mut s, 3), "abc");
        s.shutdown(Shutdown::Write).expect("shutdown");
        let fin = Instant::now();
        // CLOSE-WAIT lasts only the second: sock_diag alone, no `ss` child to wait for.
        wait_for("lateclose in CLOSE-WAIT", || {
            let st = diag::connection_state(&fd_s, 7003, me).expect("sock_diag dump");
            (st == Some(KernelState::CloseWait)).then_some(())
        });
        assert_eq!(read_rest(&mut s), "", "lateclose ({ip})");
        assert!(
            fin.elapsed() >= Duration::from_millis(900),
            "lateclose closed after {:?}, not 1 s",
            fin.elapsed()
        );

        // halfclose: nothing before our FIN, then the count.
        let mut s = stream(&bed, ip, 7004);
        s.write_all(b"hello").expect("write");
        s.write_all(&[b'x'; 3000]).expect("write");
        s.set_nonblocking(true).expect("nonblocking");
        let mut one = [0u8; 1];
        assert!(
            matches!(s.read(&mut one), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "halfclose answered before our FIN ({ip})"
        );
        s.set_nonblocking(false).expect("blocking");
        s.shutdown(Shutdown::Write).expect("shutdown");
        assert_eq!(read_rest(&mut s), "got 3005 bytes\n", "halfclose ({ip})");

        // acceptclose and open: accepted, then closed at once.
        for port in [7005, 7006] {
            let mut s = stream(&bed, ip, port);
            assert_eq!(read_rest(&mut s), "", "port {port} ({ip})");
        }

        // slowack: an echo that waits 300 ms.
        let mut s = stream(&bed, ip, 7007);
        let sent = Instant::now();
        s.write_all(b"slow").expect("write");
        assert_eq!(read_n(&mut s, 4), "slow");
        assert!(
            sent.elapsed() >= Duration::from_millis(250),
            "slowack answered after {:?}",
            sent.elapsed()
        );
    }
}
