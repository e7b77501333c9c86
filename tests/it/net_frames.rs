//! Ethernet frames from the language (scapy's sendp/srp/srp1; send/sr/sr1 take frames
//! too) against the test bed: unset addresses are filled from the route, set ones leave
//! as given, answers are matched on the IP packet, the probe comes back as the frame.

use crate::testbed;

use std::process::{Command, Output};

fn mac_of(bed: &testbed::Bed, server: bool) -> String {
    let ns = if server { &bed.server } else { &bed.client };
    let out = Command::new("ip")
        .args(["-n", ns, "-br", "link", "show", "tc0"])
        .output()
        .expect("ip link");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(2)
        .expect("a MAC address")
        .to_string()
}

fn script(bed: &testbed::Bed, code: &str) -> Output {
    let out = bed
        .client_cmd(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["-c", code])
        .output()
        .expect("run tcpcraft");
    eprintln!("stderr: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn frames_are_filled_in_sent_and_answered() {
    let Some(bed) = testbed::standard("frames") else {
        return;
    };
    let (client, server) = (mac_of(&bed, false), mac_of(&bed, true));
    let out = script(
        &bed,
        r#"
r = srp1(Ether()/IP(dst="198.18.0.2")/TCP(dport=80, flags="S"), timeout=2)
print("v4", r.tcp.flags, r.probe.layers, r.probe.ether.dst, r.probe.ether.src, r.probe.ether.type)
r = sr1(Ether()/IPv6(dst="2001:db8:198:18::2")/TCP(dport=2, flags="S"), timeout=2)
print("v6", r.tcp.flags, r.probe.ether.type)
a = srp([Ether()/IP(dst="198.18.0.2")/TCP(dport=2, flags="S"), Ether()/IP(dst="198.18.0.2")/TCP(dport=80, flags="S")], timeout=2)
print("list", len(a.answered), len(a.unanswered))
r = srp1(Ether(dst="02:00:00:00:00:01")/IP(dst="198.18.0.2")/TCP(dport=80, flags="S"), timeout=0.5)
print("elsewhere", r)
print("sendp", sendp(Ether()/IP(dst="198.18.0.2")/UDP(dport=9), count=3))
"#,
    );
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{s}");
    assert!(
        s.contains(&format!(
            "v4 SA [\"Ether\", \"IP\", \"TCP\"] {server} {client} 2048"
        )),
        "{s}"
    );
    assert!(s.contains("v6 RA 34525"), "{s}");
    assert!(s.contains("list 2 0"), "{s}");
    // A frame for another MAC address is not for the server's stack: no answer.
    assert!(s.contains("elsewhere none"), "{s}");
    assert!(s.contains("sendp 3"), "{s}");
}

/// Addresses set by hand leave exactly as given: the server's tcpdump sees our made-up
/// source MAC.
#[test]
fn a_frame_leaves_with_the_addresses_it_was_given() {
    let Some(bed) = testbed::standard("frames_given") else {
        return;
    };
    let server = mac_of(&bed, true);
    let dump = std::env::temp_dir().join(format!("tcpcraft-frames-{}.txt", std::process::id()));
    let mut td = Command::new("ip")
        .args([
            "netns",
            "exec",
            &bed.server,
            "tcpdump",
            "-e",
            "-nn",
            "-l",
            "-c",
            "1",
            "-i",
            "tc0",
        ])
        .args(["udp", "port", "4242"])
        .stdout(std::fs::File::create(&dump).expect("dump file"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tcpdump (apt-get install -y tcpdump)");
    std::thread::sleep(std::time::Duration::from_millis(700));
    let out = script(
        &bed,
        &format!(
            r#"print(sendp(Ether(src="02:00:00:00:00:42", dst="{server}")/IP(dst="198.18.0.2")/UDP(dport=4242)/"hi", count=2))"#
        ),
    );
    assert!(out.status.success());
    let ok = td.wait().expect("tcpdump").success();
    let seen = std::fs::read_to_string(&dump).unwrap_or_default();
    let _ = std::fs::remove_file(&dump);
    assert!(ok, "tcpdump saw nothing: {seen}");
    assert!(
        seen.contains(&format!("02:00:00:00:00:42 > {server}, ethertype IPv4")),
        "{seen}"
    );
}
