//! Honest under loss: with 10% and 20% random loss each way (nftables `numgen random`
//! in the server namespace), `sr` with retries and hand-driven handshakes with
//! `expect(…, retry=N)` still give the true results: open ports answer SYN-ACK, closed
//! ones RST-ACK, the dropped port nothing — every time. The accuracy and the time are
//! printed (run with `--nocapture` to see them).
//!
//! Runs in namespaces made here (198.18.0.0/15 only). Needs root: fails under CI=true
//! when it cannot run, skips elsewhere.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::testbed;
use testbed::Faults;

const EXE: &str = env!("CARGO_BIN_EXE_tcpcraft");

/// Ports probed: the open ones (7 echo, 80 HTTP), the dropped one (8443) and closed ones.
fn truth(port: u16) -> &'static str {
    match port {
        7 | 80 => "SA",
        8443 => "none",
        _ => "RA",
    }
}

fn ports() -> Vec<u16> {
    let mut p: Vec<u16> = (1..=100).collect();
    p.extend([8443]);
    p
}

/// The script: one `sr` over every port with retries, then hand-driven handshakes.
fn script(sessions: usize) -> String {
    let list: Vec<String> = ports().iter().map(u16::to_string).collect();
    format!(
        r#"probes = []
for p in [{list}] {{
    probes = probes + [IP(dst="198.18.0.2")/TCP(sport=40000, dport=p, flags="S")]
}}
t0 = now()
ans = sr(probes, timeout=0.25, retry=12)
print("sr-time", now() - t0)
for a in ans.answered {{ print("sr", a.probe.dport, a.flags) }}
for u in ans.unanswered {{ print("sr", u.dport, "none") }}
t0 = now()
for i in 1..={sessions} {{
    for port in [80, 9] {{
        s = session("198.18.0.2", port)
        s.send("S")
        r = s.expect(timeout=0.25, retry=15)
        print("session", port, r.flags)
        if r.flags == "SA" {{
            s.send("A")
            s.send("R")
        }}
    }}
}}
print("session-time", now() - t0)
"#,
        list = list.join(", ")
    )
}

fn run_with_loss(loss: u8) {
    let Some(bed) = testbed::with(
        &format!("{loss}% loss"),
        Faults {
            drop: vec![8443],
            reject: vec![],
            loss,
        },
    ) else {
        return;
    };
    let sessions = 10;
    let started = Instant::now();
    let out = bed
        .client_cmd(EXE)
        .args(["-q", "-c", &script(sessions)])
        .output()
        .expect("tcpcraft");
    let wall = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{loss}% loss: {stdout}\n{stderr}");

    let mut sr: BTreeMap<u16, String> = BTreeMap::new();
    let mut sessions_seen = Vec::new();
    let mut times = BTreeMap::new();
    for line in stdout.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            ["sr", port, flags] => {
                let port: u16 = port.parse().expect("port");
                // A port answered twice (a retry crossing a late answer) must agree.
                if let Some(old) = sr.insert(port, flags.to_string()) {
                    assert_eq!(&old, flags, "port {port} answered two ways");
                }
            }
            ["session", port, flags] => {
                sessions_seen.push((port.parse::<u16>().expect("port"), flags.to_string()))
            }
            [k, v] if k.ends_with("-time") => {
                times.insert(k.to_string(), v.parse::<f64>().unwrap_or(f64::NAN));
            }
            _ => {}
        }
    }
    let wrong: Vec<String> = ports()
        .into_iter()
        .filter(|p| sr.get(p).map(String::as_str) != Some(truth(*p)))
        .map(|p| format!("{p}: got {:?}, truth {}", sr.get(&p), truth(p)))
        .collect();
    let n = ports().len();
    eprintln!(
        "{loss}% loss each way: sr {}/{} right in {:.2} s (timeout 0.25 s, retry 12); \
         {} handshakes, {} right in {:.2} s (expect timeout 0.25 s, retry 15); wall {wall:.2} s",
        n - wrong.len(),
        n,
        times.get("sr-time").copied().unwrap_or(f64::NAN),
        sessions_seen.len(),
        sessions_seen.iter().filter(|(p, f)| truth(*p) == f).count(),
        times.get("session-time").copied().unwrap_or(f64::NAN),
    );
    assert!(wrong.is_empty(), "{loss}% loss: sr got {wrong:?}");
    handshake_command(&bed, loss);
    assert_eq!(sessions_seen.len(), 2 * sessions, "{stdout}");
    for (port, flags) in &sessions_seen {
        assert_eq!(flags, truth(*port), "{loss}% loss: session to {port}");
    }
}

/// `tcpcraft handshake --retries`: the whole exchange (handshake, an HTTP request and
/// its answer, the teardown) completes with the real answer, every time.
fn handshake_command(bed: &testbed::Bed, loss: u8) {
    let runs = 5;
    let started = Instant::now();
    let mut ok = 0;
    for _ in 0..runs {
        let out = bed
            .client_cmd(EXE)
            .args([
                "handshake",
                "198.18.0.2:80",
                "--data",
                "GET / HTTP/1.0\\r\\n\\r\\n",
                "--retries",
                "15",
                "--timeout",
                "0.3",
            ])
            .output()
            .expect("tcpcraft handshake");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{loss}% loss: handshake: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("HTTP/1.0 200 OK"), "{loss}% loss: {stdout}");
        ok += 1;
    }
    eprintln!(
        "{loss}% loss each way: tcpcraft handshake --data (HTTP) --retries 15 --timeout 0.3: \
         {ok}/{runs} complete in {:.2} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn ten_percent_loss_each_way() {
    run_with_loss(10);
}

#[test]
fn twenty_percent_loss_each_way() {
    run_with_loss(20);
}
