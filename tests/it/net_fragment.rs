//! IP fragments into a real kernel (the test bed's server namespace): fragmented SYNs,
//! in order, out of order and with a tiny first fragment that splits the TCP header, are
//! reassembled and answered with a SYN-ACK (IPv4 and IPv6), which `sr1`/`sr` match to the
//! datagram; overlapping fragments make Linux drop the whole datagram (RFC 5722 for
//! IPv6, and IPv4 alike), as its reassembly counters show, while an exact duplicate is
//! only ignored.

use crate::testbed;

use std::process::Output;

fn script(bed: &testbed::Bed, code: &str) -> (Option<i32>, String) {
    let out: Output = bed
        .client_cmd(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["-c", code])
        .output()
        .expect("run tcpcraft");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!(
        "{code}\n---\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// A counter of the server's kernel: `IpExt`/`TcpExt` fields of /proc/net/netstat, or an
/// `Ip6…` line of /proc/net/snmp6.
fn counter(bed: &testbed::Bed, name: &str) -> u64 {
    let file = if name.starts_with("Ip6") {
        "/proc/net/snmp6"
    } else {
        "/proc/net/netstat"
    };
    let o = bed.server_cmd("cat").arg(file).output().expect("cat");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    if name.starts_with("Ip6") {
        for l in text.lines() {
            let mut w = l.split_whitespace();
            if w.next() == Some(name) {
                return w.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            }
        }
        panic!("{name} not in {file}");
    }
    let lines: Vec<&str> = text.lines().collect();
    for pair in lines.chunks(2) {
        if let [h, v] = pair {
            let names: Vec<&str> = h.split_whitespace().collect();
            let vals: Vec<&str> = v.split_whitespace().collect();
            if let Some(i) = names.iter().position(|n| *n == name) {
                return vals.get(i).and_then(|v| v.parse().ok()).unwrap_or(0);
            }
        }
    }
    panic!("{name} not in {file}");
}

#[test]
fn fragmented_syns_are_reassembled_and_answered_v4() {
    let Some(bed) = testbed::standard("frag_v4") else {
        return;
    };
    let (code, out) = script(
        &bed,
        r#"
p = IP(dst="198.18.0.2", id=4201)/TCP(dport=80, sport=40001, seq=1000)
f = fragment(p, 8)
print(len(f), f[0].flags, f[1].frag, f[2].frag, len(f[0].load))
r = sr1(f, timeout=2)
print(r.tcp.flags, r.tcp.ack, r.probe.tcp.sport)
# Out of order, in a list with sr: the answer is matched to the datagram.
g = fragment(IP(dst="198.18.0.2", id=4202)/TCP(dport=80, sport=40002, seq=2000), 16)
a = sr([g[1], g[0]], timeout=2)
print(len(a.answered), len(a.unanswered), a.answered[0].tcp.flags, a.answered[0].tcp.ack)
"#,
    );
    assert_eq!(code, Some(0));
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(l.first().copied(), Some("3 MF 1 2 8"), "{out}");
    assert_eq!(l.get(1).copied(), Some("SA 1001 40001"), "{out}");
    assert_eq!(l.get(2).copied(), Some("1 0 SA 2001"), "{out}");
}

#[test]
fn overlapping_fragments_are_dropped_v4_duplicates_ignored() {
    let Some(bed) = testbed::standard("frag_ovl4") else {
        return;
    };
    let before = counter(&bed, "ReasmOverlaps");
    let (code, out) = script(
        &bed,
        r#"
f = fragment(IP(dst="198.18.0.2", id=4301)/TCP(dport=80, sport=40011, seq=1), 8)
# Bytes 8..24 again, other data: overlaps the second fragment and half the third.
evil = f[1].copy()
evil.load = b"XXXXXXXXXXXXXXXX"
r = sr1([f[0], f[1], evil, f[2]], timeout=1)
print(r)
# An exact duplicate of a queued fragment is ignored: still answered.
g = fragment(IP(dst="198.18.0.2", id=4302)/TCP(dport=80, sport=40012, seq=1), 8)
r = sr1([g[0], g[1], g[1], g[2]], timeout=2)
print(r.tcp.flags)
"#,
    );
    assert_eq!(code, Some(0));
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(
        l.first().copied(),
        Some("none"),
        "the overlap got an answer: {out}"
    );
    assert_eq!(l.get(1).copied(), Some("SA"), "{out}");
    let after = counter(&bed, "ReasmOverlaps");
    assert_eq!(after, before + 1, "the server's kernel counted one overlap");
}

#[test]
fn fragmented_syns_v6_and_rfc5722_overlap() {
    let Some(bed) = testbed::standard("frag_v6") else {
        return;
    };
    let fails = counter(&bed, "Ip6ReasmFails");
    let oks = counter(&bed, "Ip6ReasmOKs");
    let (code, out) = script(
        &bed,
        r#"
o = [mss(1460), sackok(), ts(1, 0), wscale(7)]
p = IPv6(dst="2001:db8:198:18::2")/TCP(dport=80, sport=40021, seq=7, options=o)
f = fragment(p, 24)
print(len(f), f[0].nh, len(f[0].load))
r = sr1(f, timeout=2)
print(r.tcp.flags, r.tcp.ack)
# fragment6: scapy's MTU form; 72 bytes hold 24 of payload after 40 + 8 of headers.
g = fragment6(IPv6(dst="2001:db8:198:18::2")/TCP(dport=80, sport=40022, seq=9, options=o), 72)
print(len(g))
r = sr1(g, timeout=2)
print(r.tcp.flags, r.tcp.ack)
# A first fragment without the whole TCP header: RFC 8200 4.5 says discard it and
# send a parameter problem (code 3, incomplete header chain); Linux does, and the
# error quotes the probe, so it is the answer.
t = fragment(IPv6(dst="2001:db8:198:18::2")/TCP(dport=80, sport=40024, seq=13), 8)
a = sr(t, timeout=1)
print(len(a.answered), a.answered[0].icmpv6.type, a.answered[0].icmpv6.code)
# RFC 5722: an overlapping fragment discards the datagram.
h = fragment(IPv6(dst="2001:db8:198:18::2")/TCP(dport=80, sport=40023, seq=11, options=o), 24)
evil = frag6(h[1], offset=2, m=true)
evil.load = evil.load[0:8] + b"XXXXXXXXXXXXXXXX"
r = sr1([h[0], evil, h[1]], timeout=1)
print(r)
"#,
    );
    assert_eq!(code, Some(0));
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(l.first().copied(), Some("2 44 32"), "{out}");
    assert_eq!(l.get(1).copied(), Some("SA 8"), "{out}");
    assert_eq!(l.get(2).copied(), Some("2"), "{out}");
    assert_eq!(l.get(3).copied(), Some("SA 10"), "{out}");
    assert_eq!(l.get(4).copied(), Some("1 4 3"), "{out}");
    assert_eq!(l.get(5).copied(), Some("none"), "{out}");
    assert_eq!(
        counter(&bed, "Ip6ReasmOKs"),
        oks + 2,
        "two datagrams reassembled"
    );
    assert!(
        counter(&bed, "Ip6ReasmFails") > fails,
        "the overlap counted as a reassembly failure"
    );
}

/// `tcpcraft ping -f` (hping3's --frag): 16-byte fragments. IPv4 reassembles them and
/// answers; IPv6 refuses a first fragment without the whole TCP header (RFC 8200 §4.5)
/// with a parameter problem, until --mtu leaves room for it.
#[test]
fn ping_frag_v4_and_v6() {
    let Some(bed) = testbed::standard("frag_ping") else {
        return;
    };
    let ping = |args: &[&str]| {
        let out: Output = bed
            .client_cmd(env!("CARGO_BIN_EXE_tcpcraft"))
            .arg("ping")
            .args(args)
            .output()
            .expect("run tcpcraft");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        eprintln!("{args:?}\n{text}{}", String::from_utf8_lossy(&out.stderr));
        (out.status.code(), text)
    };
    let (code, out) = ping(&["198.18.0.2", "-f", "-p", "80", "-c", "2", "-i", "0.05"]);
    assert_eq!(code, Some(0));
    assert_eq!(out.matches("flags=SA").count(), 2, "{out}");
    let (code, out) = ping(&["2001:db8:198:18::2", "-f", "-p", "80", "-c", "1"]);
    assert_eq!(code, Some(0), "an ICMPv6 error is an answer");
    assert!(
        out.contains("ICMPv6 type 4 code 3 from ip=2001:db8:198:18::2"),
        "{out}"
    );
    let (code, out) = ping(&["2001:db8:198:18::2", "--mtu", "8", "-d", "24", "-c", "1"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("ICMPv6 type 4 code 3"), "8 bytes: {out}");
    let (code, out) = ping(&["2001:db8:198:18::2", "--mtu", "24", "-d", "24", "-c", "1"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("flags=SA"),
        "24 bytes hold the TCP header: {out}"
    );
}
