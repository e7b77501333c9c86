//! Traceroute across real hops: the chain test bed (client ↔ router 1 ↔ router 2 ↔
//! server, forwarding on), with the language's `traceroute()` and `tcpcraft trace`:
//! open, closed, filtered and rejected ports, UDP and ICMP probes, IPv4 and IPv6, --json,
//! and the RST that leaves nothing half-open on the target.

use crate::testbed;

use std::process::Output;
use std::time::{Duration, Instant};

fn tcpcraft(chain: &testbed::Chain, args: &[&str]) -> (Option<i32>, String) {
    let out: Output = chain
        .client_cmd(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(args)
        .output()
        .expect("run tcpcraft");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{args:?}:\n{text}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

const R1: &str = "198.18.1.2";
const R2: &str = "198.18.2.2";
const S: &str = "198.18.3.2";
const R1_6: &str = "2001:db8:198:18::1:2";
const R2_6: &str = "2001:db8:198:18::2:2";
const S6: &str = "2001:db8:198:18::3:2";

/// The hop lines of a table: (ttl, address or "*", answer).
fn hops(table: &str) -> Vec<(u32, String, String)> {
    table
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let ttl: u32 = w.next()?.parse().ok()?;
            let addr = w.next()?.to_string();
            let rest: Vec<&str> = w.collect();
            // "0.123 ms answer words…"
            let answer = rest.get(2..).map(|r| r.join(" ")).unwrap_or_default();
            Some((ttl, addr, answer))
        })
        .collect()
}

fn expect_path(table: &str, routers: [&str; 2], last: &str, answer: &str) {
    let h = hops(table);
    assert_eq!(h.len(), 3, "three hops: {table}");
    assert_eq!((h[0].0, h[0].1.as_str()), (1, routers[0]), "{table}");
    assert_eq!(h[0].2, "time exceeded", "{table}");
    assert_eq!((h[1].0, h[1].1.as_str()), (2, routers[1]), "{table}");
    assert_eq!(h[1].2, "time exceeded", "{table}");
    assert_eq!((h[2].0, h[2].1.as_str()), (3, last), "{table}");
    assert_eq!(h[2].2, answer, "{table}");
    assert!(table.contains(&format!("ended by: {answer}")), "{table}");
}

#[test]
fn cli_trace_tcp_open_closed_rejected_filtered_v4_and_v6() {
    let Some(chain) = testbed::chain("trace_cli") else {
        return;
    };
    let (code, out) = tcpcraft(&chain, &["trace", S, "--max-ttl", "8", "--timeout", "1"]);
    assert_eq!(code, Some(0));
    expect_path(&out, [R1, R2], S, "SYN-ACK: port 80 open");
    let (code, out) = tcpcraft(
        &chain,
        &["trace", &format!("{S}:1"), "-m", "8", "--timeout", "1"],
    );
    assert_eq!(code, Some(0));
    expect_path(&out, [R1, R2], S, "RST: port 1 closed");
    let (code, out) = tcpcraft(
        &chain,
        &["trace", S, "-p", "81", "-m", "8", "--timeout", "1"],
    );
    assert_eq!(code, Some(0));
    expect_path(
        &out,
        [R1, R2],
        S,
        "ICMP administratively prohibited (code 13)",
    );
    // Filtered: the routers answer, then nothing; exit status 1.
    let (code, out) = tcpcraft(
        &chain,
        &["trace", S, "-p", "8443", "-m", "6", "--timeout", "0.5"],
    );
    assert_eq!(code, Some(1));
    let h = hops(&out);
    assert_eq!(h.len(), 3, "{out}");
    assert_eq!(h[1].1, R2);
    assert_eq!(h[2].1, "*", "{out}");
    assert!(
        out.contains("ended by: no answer from TTL 3 on (to 6)"),
        "{out}"
    );
    // IPv6: hop limits and ICMPv6 time exceeded.
    let (code, out) = tcpcraft(
        &chain,
        &["trace", &format!("[{S6}]:80"), "-m", "8", "--timeout", "1"],
    );
    assert_eq!(code, Some(0));
    expect_path(&out, [R1_6, R2_6], S6, "SYN-ACK: port 80 open");
    let (code, out) = tcpcraft(
        &chain,
        &["trace", S6, "-p", "81", "-m", "8", "--timeout", "1"],
    );
    assert_eq!(code, Some(0));
    expect_path(
        &out,
        [R1_6, R2_6],
        S6,
        "ICMPv6 administratively prohibited (code 1)",
    );
}

#[test]
fn cli_trace_udp_icmp_and_json() {
    let Some(chain) = testbed::chain("trace_modes") else {
        return;
    };
    let (code, out) = tcpcraft(
        &chain,
        &["trace", S, "--proto", "udp", "-m", "8", "--timeout", "1"],
    );
    assert_eq!(code, Some(0));
    expect_path(&out, [R1, R2], S, "ICMP port unreachable (code 3)");
    let (code, out) = tcpcraft(
        &chain,
        &["trace", S6, "--proto", "udp", "-m", "8", "--timeout", "1"],
    );
    assert_eq!(code, Some(0));
    expect_path(&out, [R1_6, R2_6], S6, "ICMPv6 port unreachable (code 4)");
    let (code, out) = tcpcraft(
        &chain,
        &["trace", S, "--proto", "icmp", "-m", "8", "--timeout", "1"],
    );
    assert_eq!(code, Some(0));
    expect_path(&out, [R1, R2], S, "echo reply");
    let (code, out) = tcpcraft(
        &chain,
        &["trace", S6, "--proto", "icmp", "-m", "8", "--timeout", "1"],
    );
    assert_eq!(code, Some(0));
    expect_path(&out, [R1_6, R2_6], S6, "echo reply");
    // --json: one object, the same hops.
    let (code, out) = tcpcraft(
        &chain,
        &[
            "trace",
            S,
            "--json",
            "--min-ttl",
            "2",
            "-m",
            "5",
            "--timeout",
            "1",
        ],
    );
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(v["reached"], true);
    assert_eq!(v["end"], "SYN-ACK: port 80 open");
    let hops = v["hops"].as_array().expect("hops");
    assert_eq!(hops.len(), 2, "TTL 2 and 3: {v}");
    assert_eq!(hops[0]["ttl"], 2);
    assert_eq!(hops[0]["addr"], R2);
    assert_eq!(hops[0]["kind"], "time-exceeded");
    assert_eq!(hops[1]["addr"], S);
    assert_eq!(hops[1]["kind"], "syn-ack");
    assert!(hops[1]["rtt_ms"]
        .as_f64()
        .is_some_and(|r| r > 0.0 && r < 1000.0));
}

/// The language's value: hops to index, and every SYN-ACK answered with a RST, so the
/// server keeps no half-open connection (its kernel's SYN-RECV count goes back to 0).
#[test]
fn language_traceroute_value_and_no_half_open_left() {
    let Some(chain) = testbed::chain("trace_lang") else {
        return;
    };
    // The client's kernel would answer each SYN-ACK with a RST of its own (no socket
    // owns the port): drop those, so that only tcpcraft's RSTs (socket mark "tcrf")
    // can clean up the server.
    let rules = "table inet quiet {\n chain out {\n type filter hook output priority 0;\n \
                 tcp flags & rst == rst meta mark != 0x74637266 counter drop\n }\n}\n";
    let st = chain
        .client_cmd("sh")
        .args(["-c", &format!("printf '{rules}' | nft -f -")])
        .status()
        .expect("nft");
    assert!(st.success());
    let code = format!(
        "t = traceroute(\"{S}\", maxttl=10, timeout=1)\n\
         print(len(t), t[0].addr, t[1].addr, t[2].addr, t[2].kind, t.reached)\n\
         print(t[2].reply.tcp.flags, t.hops[0].ttl, t.end)\n\
         u = traceroute(\"{S}\", dport=8443, minttl=2, maxttl=4, timeout=0.3)\n\
         print(len(u), u[0].addr, u[1].addr, u.reached)"
    );
    let (status, out) = tcpcraft(&chain, &["-c", &code]);
    assert_eq!(status, Some(0));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(format!("3 {R1} {R2} {S} syn-ack true").as_str()),
        "{out}"
    );
    assert_eq!(
        lines.get(1).copied(),
        Some("SA 1 SYN-ACK: port 80 open"),
        "{out}"
    );
    assert_eq!(
        lines.get(2).copied(),
        Some(format!("2 {R2} none false").as_str()),
        "{out}"
    );
    // 8 probes reached the server (TTL 3..=10) and were answered with SYN-ACK; each
    // got our RST. Wait for the server's kernel to show no SYN-RECV socket.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let o = chain
            .server_cmd("ss")
            .args(["-Htn", "state", "syn-recv"])
            .output()
            .expect("ss");
        let s = String::from_utf8_lossy(&o.stdout).into_owned();
        if s.trim().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "half-open connections left: {s}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The kernel did try: its RSTs were dropped, so the clean-up was tcpcraft's.
    let o = chain
        .client_cmd("nft")
        .args(["list", "table", "inet", "quiet"])
        .output()
        .expect("nft");
    let listing = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        !listing.contains("counter packets 0 "),
        "the client's kernel sent no RST of its own: {listing}"
    );
}

/// Not a test: builds a chain and runs `$TCPCRAFT_CHAIN_SCRIPT` (a shell script) in its
/// client namespace, for side-by-side runs with scapy and hping3 on the same hops
/// (`cargo test --test net_trace chain_shell -- --ignored --nocapture`). The chain is
/// removed when the script ends.
#[test]
#[ignore = "manual comparisons"]
fn chain_shell() {
    let Some(chain) = testbed::chain("trace_shell") else {
        return;
    };
    let script = std::env::var("TCPCRAFT_CHAIN_SCRIPT").expect("TCPCRAFT_CHAIN_SCRIPT");
    let out = chain
        .client_cmd("bash")
        .arg(script)
        .env("TCPCRAFT", env!("CARGO_BIN_EXE_tcpcraft"))
        .output()
        .expect("bash");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
}

/// The chain's four namespaces are gone after it is dropped, also when the test holding
/// it panics.
#[test]
fn chain_namespaces_are_removed_on_drop_and_on_panic() {
    let Some(chain) = testbed::chain("trace_cleanup") else {
        return;
    };
    let names = [
        chain.client.clone(),
        chain.r1.clone(),
        chain.r2.clone(),
        chain.server.clone(),
    ];
    let exists = |n: &str| std::path::Path::new("/run/netns").join(n).exists();
    assert!(names.iter().all(|n| exists(n)), "{names:?}");
    drop(chain);
    assert!(
        names.iter().all(|n| !exists(n)),
        "left after drop: {names:?}"
    );
    let r = std::panic::catch_unwind(|| {
        let c = testbed::chain("trace_cleanup_panic").expect("a chain");
        let names = [
            c.client.clone(),
            c.r1.clone(),
            c.r2.clone(),
            c.server.clone(),
        ];
        std::panic::panic_any(names);
    });
    let names = r
        .expect_err("it panicked")
        .downcast::<[String; 4]>()
        .expect("the names");
    assert!(
        names.iter().all(|n| !exists(n)),
        "left after a panic: {names:?}"
    );
}
