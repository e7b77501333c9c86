//! `sniff(store=N)` on the test bed (198.18.0.0/15 only): the server namespace sends
//! UDP datagrams to the client while tcpcraft sniffs there. `store=0` keeps nothing
//! but still counts the packets (a note on stderr) and writes them to `--pcap`;
//! `store=2` keeps two.
//! Needs root: fails under CI=true when it cannot run, skips elsewhere.

use std::net::UdpSocket;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::session_bed;
use session_bed::{can_run, in_netns, Bed};

/// Datagrams from the server to 198.18.0.1:9, every 50 ms for `secs` seconds.
fn chatter(bed: &Bed, secs: f64) -> std::thread::JoinHandle<()> {
    let sock = in_netns(&bed.server, || {
        UdpSocket::bind("198.18.0.2:0").expect("bind")
    });
    std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs_f64(secs);
        while Instant::now() < end {
            let _ = sock.send_to(b"tick", "198.18.0.1:9");
            std::thread::sleep(Duration::from_millis(50));
        }
    })
}

fn pcap_records(path: &std::path::Path) -> usize {
    let mut r = tcpcraft::pcap::Reader::open(path).expect("pcap opens");
    let mut n = 0;
    while let Some(rec) = r.next_record() {
        rec.expect("record");
        n += 1;
    }
    n
}

#[test]
fn sniff_store_limits_the_list_not_the_capture() {
    if !can_run("sniff(store=)") {
        return;
    }
    let bed = Bed::new();
    let dir = tempfile::tempdir().expect("tempdir");
    for (store, kept) in [("0", 0usize), ("false", 0), ("2", 2)] {
        let pcap = dir.path().join(format!("store{store}.pcap"));
        let talk = chatter(&bed, 2.5);
        let out = Command::new("ip")
            .args(["netns", "exec", &bed.client, env!("CARGO_BIN_EXE_tcpcraft")])
            .arg("--pcap")
            .arg(&pcap)
            .arg("-c")
            .arg(format!(
                "sleep(0.3)\npk = sniff(timeout=1.5, filter=\"udp and dst port 9\", store={store})\nprint(len(pk))"
            ))
            .output()
            .expect("tcpcraft runs");
        let _ = talk.join();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
        assert_eq!(stdout.trim(), kept.to_string(), "store={store}: {stderr}");
        let captured: usize = stderr
            .split("sniff captured ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("store={store}: no count note: {stderr}"));
        assert!(captured > kept + 5, "store={store}: {stderr}");
        assert!(
            stderr.contains(&format!("kept {kept} (store={})", kept)),
            "{stderr}"
        );
        assert_eq!(
            pcap_records(&pcap),
            captured,
            "store={store}: every packet in --pcap"
        );
    }
}
