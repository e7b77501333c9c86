//! Sniffing in the language on the test bed (198.18.0.0/15 only), beside tcpdump:
//! - a background `sniffer()` while `sr1` runs sees the same packets as tcpdump in the
//!   same namespace, outgoing ones (our SYN, the kernel's RST) included, with the same
//!   capture times; `wrpcap`/`rdpcap` keep those times;
//! - `sniff(prn=, lfilter=, stop_filter=)` calls `prn` once per packet in arrival order,
//!   skips what `lfilter` refuses, and stops at the first packet `stop_filter` accepts;
//! - a plain `sniff()` keeps outgoing packets; libpcap's `inbound` leaves them out.
//!
//! Needs root: fails under CI=true when it cannot run, skips elsewhere.

use crate::testbed;

use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_tcpcraft");

/// tcpdump in the client namespace writing to `file`, once it says it is listening.
fn tcpdump(bed: &testbed::Bed, filter: &str, file: &std::path::Path) -> Child {
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &bed.client,
            "tcpdump",
            "-i",
            "tc0",
            "-U",
            "-n",
            "-w",
        ])
        .arg(file)
        .arg(filter)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tcpdump starts");
    // "listening on tc0 …" comes once the capture is armed.
    let mut err = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 256];
        let mut seen = String::new();
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            if seen.contains("listening on") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("tcpdump listening within 10 s");
    child
}

/// The records of a pcap file: (time, bytes from the IP header on).
fn records(path: &std::path::Path, strip: usize) -> Vec<(Duration, Vec<u8>)> {
    let Ok(mut r) = tcpcraft::pcap::Reader::open(path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while let Some(Ok(rec)) = r.next_record() {
        out.push((rec.ts, rec.data.get(strip..).unwrap_or_default().to_vec()));
    }
    out
}

/// Wait until tcpdump wrote `n` packets, then stop it.
fn finish(mut td: Child, file: &std::path::Path, n: usize) -> Vec<(Duration, Vec<u8>)> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while records(file, 14).len() < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("kill")
        .args(["-INT", &td.id().to_string()])
        .status();
    let _ = td.wait();
    records(file, 14)
}

fn run(bed: &testbed::Bed, code: &str) -> (String, String) {
    let out = bed
        .client_cmd(EXE)
        .arg("-c")
        .arg(code)
        .output()
        .expect("tcpcraft runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    (stdout, stderr)
}

#[test]
fn sniffer_in_the_background_sees_what_tcpdump_sees() {
    let Some(bed) = testbed::standard("sniffer beside tcpdump") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let td_file = dir.path().join("tcpdump.pcap");
    let ours = dir.path().join("ours.pcap");
    let td = tcpdump(&bed, "tcp port 80", &td_file);
    // SYN out, SYN-ACK in, the kernel's RST out: three packets, two of them outgoing.
    let code = format!(
        r#"c = sniffer(filter="tcp port 80", iface="tc0", count=3)
r = sr1(IP(dst="198.18.0.2")/TCP(sport=41000, dport=80, flags="S"), timeout=2)
ps = c.wait(timeout=5)
print("running", c.running)
print("n", len(ps), len(c))
for p in ps {{ print("time", format("{{:.9f}}", p.time)) }}
wrpcap("{f}", ps)
qs = rdpcap("{f}")
same = true
for i in range(len(ps)) {{ if ps[i].time != qs[i].time or ps[i] != qs[i] {{ same = false }} }}
print("roundtrip", same)
print("reply", r != none and r.time > 1700000000)
"#,
        f = ours.display()
    );
    let (stdout, stderr) = run(&bed, &code);
    let theirs = finish(td, &td_file, 3);
    assert!(stdout.contains("running false"), "{stdout}{stderr}");
    assert_eq!(theirs.len(), 3, "tcpdump saw SYN, SYN-ACK, RST: {theirs:?}");
    assert!(
        stdout.contains(&format!("n {} {}", theirs.len(), theirs.len())),
        "sniffer saw what tcpdump saw ({}): {stdout}{stderr}",
        theirs.len()
    );
    assert!(stdout.contains("roundtrip true"), "{stdout}");
    assert!(
        stdout.contains("reply true"),
        "sr1's answer has its time: {stdout}"
    );
    // The same packets, in the same order, with the kernel's capture times.
    let got = records(&ours, 0);
    assert_eq!(got.len(), theirs.len());
    for ((t_ours, b_ours), (t_theirs, b_theirs)) in got.iter().zip(&theirs) {
        assert_eq!(b_ours, b_theirs, "same bytes as tcpdump");
        let d = t_ours.abs_diff(*t_theirs);
        assert!(
            d < Duration::from_millis(1),
            "capture time {d:?} off tcpdump's"
        );
    }
    // Written times are capture times, not the time of writing (which came later).
    let written = std::fs::metadata(&ours).unwrap().modified().unwrap();
    let last = got.last().unwrap().0;
    assert!(
        std::time::UNIX_EPOCH + last <= written,
        "times are when packets were seen"
    );
    let flags: Vec<u8> = got.iter().map(|(_, b)| b[33]).collect();
    assert_eq!(
        flags,
        vec![0x02, 0x12, 0x04],
        "SYN out, SYN-ACK in, RST out"
    );
}

/// One-byte UDP datagrams 0, 1, 2 … from the server to 198.18.0.1:9 every 20 ms.
fn counter(bed: &testbed::Bed, secs: f64) -> std::thread::JoinHandle<()> {
    let sock = bed
        .in_server(|| UdpSocket::bind("198.18.0.2:0").expect("bind"))
        .expect("in the server namespace");
    std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs_f64(secs);
        let mut n = 0u8;
        while Instant::now() < end {
            let _ = sock.send_to(&[n], "198.18.0.1:9");
            n = n.wrapping_add(1);
            std::thread::sleep(Duration::from_millis(20));
        }
    })
}

#[test]
fn callbacks_run_per_packet_in_order_and_stop_filter_ends_early() {
    let Some(bed) = testbed::standard("sniff callbacks") else {
        return;
    };
    let talk = counter(&bed, 8.0);
    let code = r#"fn keep(p) { return p.load[0] % 2 == 0 }
fn pr(p) { return "prn " + str(p.load[0]) }
fn enough(p) { return p.load[0] % 10 == 8 }
got = sniff(filter="udp and dst port 9", prn=pr, lfilter=keep, stop_filter=enough, timeout=6)
print("kept", len(got))
print("last", got[-1].load[0])
"#;
    let started = Instant::now();
    let (stdout, stderr) = run(&bed, code);
    let took = started.elapsed();
    let _ = talk.join();
    let seen: Vec<u32> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("prn "))
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(!seen.is_empty(), "{stdout}{stderr}");
    assert!(seen.iter().all(|n| n % 2 == 0), "lfilter: {seen:?}");
    for w in seen.windows(2) {
        assert_eq!(
            (w[0] + 2) % 256,
            w[1],
            "prn once per packet, in order: {seen:?}"
        );
    }
    let last = *seen.last().unwrap();
    assert_eq!(
        last % 10,
        8,
        "stopped at the first stop_filter match: {seen:?}"
    );
    assert_eq!(seen.iter().filter(|n| *n % 10 == 8).count(), 1, "{seen:?}");
    assert!(stdout.contains(&format!("kept {}", seen.len())), "{stdout}");
    assert!(stdout.contains(&format!("last {last}")), "{stdout}");
    assert!(
        took < Duration::from_secs(5),
        "stop_filter ended it early ({took:?})"
    );
}

#[test]
fn sniff_keeps_outgoing_packets_and_inbound_leaves_them_out() {
    let Some(bed) = testbed::standard("sniff outgoing") else {
        return;
    };
    // Pings go out from the client namespace while sniff runs there.
    let code = r#"c = sniffer(filter="icmp", iface="tc0")
for i in range(3) { sr1(IP(dst="198.18.0.2")/ICMP(seq=i), timeout=2) }
all = c.stop()
print("all", len(all))
for p in all { print(p) }
d = sniffer(filter="icmp and inbound")
for i in range(3) { sr1(IP(dst="198.18.0.2")/ICMP(seq=i), timeout=2) }
print("inbound", len(d.stop()))
e = sniffer(filter="icmp and outbound", iface="tc0")
for i in range(3) { sr1(IP(dst="198.18.0.2")/ICMP(seq=i), timeout=2) }
print("outbound", len(e.stop()))
"#;
    let (stdout, stderr) = run(&bed, code);
    assert!(
        stdout.contains("all 6"),
        "3 requests out, 3 replies in: {stdout}{stderr}"
    );
    assert_eq!(stdout.matches("ICMP echo request").count(), 3, "{stdout}");
    assert_eq!(stdout.matches("ICMP echo reply").count(), 3, "{stdout}");
    assert!(stdout.contains("inbound 3"), "{stdout}{stderr}");
    assert!(stdout.contains("outbound 3"), "{stdout}{stderr}");
}

#[test]
fn a_bad_filter_names_itself_with_libpcaps_message() {
    let Some(bed) = testbed::standard("sniff bad filter") else {
        return;
    };
    let out = bed
        .client_cmd(EXE)
        .arg("-c")
        .arg(r#"sniff(filter="tcp port 99999", timeout=1)"#)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        err.contains("bad filter \"tcp port 99999\"") && err.contains("port 99999"),
        "{err}"
    );
}

/// An IPv4 ICMP echo request 198.18.0.2 → 198.18.0.1 with sequence `seq`, checksums right.
fn echo(seq: u16) -> Vec<u8> {
    fn sum(b: &[u8]) -> u16 {
        let mut s: u32 = b
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
            .sum();
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }
    let mut p = vec![0u8; 28];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&28u16.to_be_bytes());
    p[8] = 64;
    p[9] = 1;
    p[12..16].copy_from_slice(&[198, 18, 0, 2]);
    p[16..20].copy_from_slice(&[198, 18, 0, 1]);
    let c = sum(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p[20] = 8;
    p[24..26].copy_from_slice(&0x7777u16.to_be_bytes());
    p[26..28].copy_from_slice(&seq.to_be_bytes());
    let c = sum(&p[20..]);
    p[22..24].copy_from_slice(&c.to_be_bytes());
    p
}

/// VLAN-tagged frames (ids 5 and 6) and untagged ones, from the server namespace to the
/// client's link: the kernel takes the tag off before a capture sees the frame; sniff
/// puts it back, so `vlan` filters keep what they keep in tcpdump.
#[test]
fn vlan_filters_on_a_live_interface_see_the_tags() {
    use tcpcraft::net::{route, send::Sender};
    let Some(bed) = testbed::standard("sniff vlan") else {
        return;
    };
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = done.clone();
    let server = bed.server.clone();
    // Every 30 ms: untagged (seq 0), VLAN 5 (seq 5), VLAN 6 (seq 6), until the script ends.
    let sender = std::thread::spawn(move || {
        tcpcraft::net::testbed::in_netns(&server, move || {
            let r = route::resolve("198.18.0.1".parse().unwrap(), None, None).unwrap();
            let mut s = Sender::new();
            let mut plain = [0xffu8; 14];
            plain[12..].copy_from_slice(&[0x08, 0x00]);
            let mut tagged = plain;
            tagged[12..].copy_from_slice(&[0x81, 0x00]);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                s.send_frame(&plain, &echo(0), &r).unwrap();
                for id in [5u16, 6] {
                    let mut b = id.to_be_bytes().to_vec();
                    b.extend_from_slice(&[0x08, 0x00]);
                    b.extend_from_slice(&echo(id));
                    s.send_frame(&tagged, &b, &r).unwrap();
                }
                std::thread::sleep(Duration::from_millis(30));
            }
        })
        .unwrap();
    });
    let code = r#"fn seqs(c) {
    out = []
    for p in c.wait(timeout=5) { out.append(p[ICMP].seq) }
    return out
}
v5 = sniffer(iface="tc0", filter="vlan 5 and icmp", count=3)
v6 = sniffer(iface="tc0", filter="vlan 6", count=3)
v = sniffer(iface="tc0", filter="vlan and icmp[icmptype] == icmp-echo", count=6)
u = sniffer(iface="tc0", filter="icmp and not vlan", count=4)
print("v5", seqs(v5))
print("v6", seqs(v6))
print("v", seqs(v))
print("u", seqs(u))
"#;
    let out = bed.client_cmd(EXE).arg("-c").arg(code).output().unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    sender.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    let line = |k: &str| -> Vec<u16> {
        let l = stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k} [")))
            .unwrap_or_else(|| panic!("{k}: {stdout}{stderr}"));
        l.trim_end_matches(']')
            .split(", ")
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect()
    };
    assert_eq!(line("v5"), vec![5, 5, 5], "only VLAN 5: {stdout}");
    assert_eq!(line("v6"), vec![6, 6, 6], "only VLAN 6: {stdout}");
    let v = line("v");
    assert_eq!(v.len(), 6, "{stdout}");
    assert!(
        v.contains(&5) && v.contains(&6) && !v.contains(&0),
        "{stdout}"
    );
    // Untagged: our echo requests in, the kernel's replies out (seq 0 both).
    assert_eq!(line("u"), vec![0, 0, 0, 0], "{stdout}");
}
