//! `fuzz()` against a real kernel: 1000 fuzzed TCP packets (and 300 fuzzed with their
//! lengths and checksums too) to the test bed's server, every one different, and its
//! kernel still answers a normal SYN afterwards.

use crate::testbed;

use std::process::Output;

#[test]
fn a_thousand_fuzzed_packets_leave_the_server_answering() {
    let Some(bed) = testbed::standard("fuzz_live") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("fuzz.pcap");
    let out: Output = bed
        .client_cmd(env!("CARGO_BIN_EXE_tcpcraft"))
        .arg("--pcap")
        .arg(&pcap)
        .args([
            "-c",
            r#"
seed(42)
n = send(fuzz(IP(dst="198.18.0.2")/TCP(dport=80)), count=1000)
m = send(fuzz(IP(dst="198.18.0.2", flags=0, frag=0)/TCP(dport=80), computed=true), count=300)
k = send(fuzz(IPv6(dst="2001:db8:198:18::2")/UDP(dport=7)), count=300)
r = sr1(IP(dst="198.18.0.2")/TCP(dport=80, sport=45000), timeout=2)
r6 = sr1(IPv6(dst="2001:db8:198:18::2")/TCP(dport=80, sport=45001), timeout=2)
print(n, m, k, r.tcp.flags, r6.tcp.flags)
"#,
        ])
        .output()
        .expect("run tcpcraft");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout.trim(), "1000 300 300 SA SA");
    // Every fuzzed packet went out, and they are all different.
    let data = std::fs::read(&pcap).expect("pcap written");
    let mut r = pcap_file::pcap::PcapReader::new(&data[..]).expect("a pcap file");
    let mut sent = Vec::new();
    while let Some(p) = r.next_packet() {
        sent.push(p.expect("a record").data.into_owned());
    }
    let fuzzed: Vec<&Vec<u8>> = sent.iter().take(1600).collect();
    assert!(sent.len() >= 1600, "{} packets in the pcap", sent.len());
    let distinct: std::collections::HashSet<&Vec<u8>> = fuzzed.iter().copied().collect();
    assert_eq!(distinct.len(), 1600, "every draw differs");
    // The user's fields stayed: destination and port.
    for p in &fuzzed[..1300] {
        assert_eq!(&p[16..20], &[198, 18, 0, 2]);
    }
    for p in &fuzzed[..1000] {
        assert_eq!(
            &p[22..24],
            &[0, 80],
            "dport as given (the header length is computed)"
        );
    }
}
