//! ARP seen by `sniff()` on the test bed (198.18.0.0/15 only): the server namespace has
//! its neighbour table flushed and sends to the client, so it asks who has 198.18.0.1
//! (the client's answers are outgoing, which sniff leaves out). The sniffed packets show as tcpdump's ARP lines and carry
//! an ARP layer with scapy's field names (they used to print as "unknown ip 0").
//! Needs root: fails under CI=true when it cannot run, skips elsewhere.

use std::net::UdpSocket;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::session_bed;
use session_bed::{can_run, in_netns, Bed};

#[test]
fn sniffed_arp_shows_as_arp() {
    if !can_run("sniff ARP") {
        return;
    }
    let bed = Bed::new();
    let sock = in_netns(&bed.server, || {
        UdpSocket::bind("198.18.0.2:0").expect("bind")
    });
    let server = bed.server.clone();
    let talk = std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(3);
        while Instant::now() < end {
            // Forget the client's MAC so that every datagram may need an ARP request.
            let _ = Command::new("ip")
                .args(["-n", &server, "neigh", "flush", "all"])
                .status();
            let _ = sock.send_to(b"tick", "198.18.0.1:9");
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let code = "sleep(0.2)\n\
        pk = sniff(timeout=2)\n\
        arps = [p for p in pk if p.haslayer(ARP)]\n\
        for p in arps { print(p.summary()) }\n\
        a = arps[0]\n\
        print(\"fields\", a[ARP].op, a[ARP].psrc, a[ARP].pdst, a[ARP].hwlen)";
    let out = Command::new("ip")
        .args(["netns", "exec", &bed.client, env!("CARGO_BIN_EXE_tcpcraft")])
        .arg("-c")
        .arg(code)
        .output()
        .expect("tcpcraft runs");
    let _ = talk.join();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("ARP, Request who-has 198.18.0.1 tell 198.18.0.2, length 28"),
        "{stdout}\n{stderr}"
    );
    assert!(!stdout.contains("unknown ip"), "{stdout}");
    let fields = stdout.lines().find(|l| l.starts_with("fields ")).unwrap();
    assert_eq!(fields, "fields 1 198.18.0.2 198.18.0.1 6");
}
