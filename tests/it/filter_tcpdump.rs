//! The filter language is tcpdump's: for a set of expressions over the committed
//! captures (Ethernet with VLAN tags and ARP, Linux cooked, raw IP, mutated and truncated
//! packets), the packets tcpcraft keeps are exactly those `tcpdump -r FILE EXPR` keeps,
//! and an expression tcpdump refuses for a link type is refused too, with libpcap's
//! message. `tcpcraft decode FILE EXPR` prints the same packets as `tcpdump -r`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tcpcraft::net::filter::Filter;
use tcpcraft::pcap::Reader;

const EXPRESSIONS: &[&str] = &[
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
    "tcp[13] & 2 != 0",
    "tcp[tcpflags] & tcp-rst != 0",
    "tcp[tcpflags] == tcp-ack",
    "icmp[icmptype] == icmp-echo",
    "icmp[icmptype] == icmp-echoreply or icmp[icmptype] == icmp-unreach",
    "portrange 1-1024",
    "tcp dst portrange 9000-9010",
    "greater 100",
    "less 60",
    "len > 200",
    "vlan and tcp",
    "vlan",
    "ether host 02:00:c6:12:00:01",
    "ether src 02:00:c6:12:00:02 and ip6",
    "ether broadcast",
    "ether proto 0x0806",
    "arp",
    "ip",
    "ip6",
    "ip6 and tcp",
    "icmp6",
    "ip6 proto 58",
    "ip proto 17",
    "tcp and port 80",
    "udp port 53",
    "udp and ip[2:2] > 60",
    "src net 198.18.0.0/24",
    "dst host 198.18.0.2",
    "host 2001:db8:198:18::1",
    "not tcp",
    "ip[8] < 10",
    "ip[6:2] & 0x1fff != 0 or ip[6] & 0x20 != 0",
    "tcp src port 40000 or udp dst port 53",
    "inbound",
    "outbound and tcp",
    "(tcp or udp) and not (port 53 or port 80)",
];

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut v = vec![dir.join("vectors.pcapng")];
    for f in [
        "ether.pcap",
        "ether_mutated.pcap",
        "sll.pcap",
        "sll_mutated.pcap",
        "varied.pcap",
        "mutated.pcap",
        "dns_random.pcap",
    ] {
        v.push(dir.join("decode").join(f));
    }
    v
}

/// True when tcpdump can be run; under CI a missing tcpdump fails the test.
fn have_tcpdump() -> bool {
    let ok = Command::new("tcpdump")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("tcpdump is not installed (scripts/deps.sh installs it)");
    }
    ok
}

/// (timestamp in µs, bytes) of each packet kept.
type Kept = Vec<(u128, Vec<u8>)>;

fn by_tcpdump(file: &Path, expr: &str) -> Result<Kept, String> {
    let out = Command::new("tcpdump")
        .arg("-r")
        .arg(file)
        .args(["-w", "-", expr])
        .output()
        .expect("tcpdump runs");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let mut r = Reader::new(std::io::Cursor::new(out.stdout)).expect("tcpdump wrote a pcap");
    let mut kept = Vec::new();
    while let Some(rec) = r.next_record() {
        let rec = rec.expect("a record");
        kept.push((rec.ts.as_micros(), rec.data));
    }
    Ok(kept)
}

fn by_tcpcraft(file: &Path, expr: &str) -> Result<Kept, String> {
    let mut r = Reader::open(file).expect("the fixture opens");
    let mut filters: HashMap<u32, Filter> = HashMap::new();
    let mut kept = Vec::new();
    while let Some(rec) = r.next_record() {
        let rec = rec.expect("a record");
        let f = match filters.entry(rec.linktype) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(Filter::new(expr, rec.linktype).map_err(|e| e.message)?)
            }
        };
        if f.matches(&rec.data) {
            kept.push((rec.ts.as_micros(), rec.data));
        }
    }
    Ok(kept)
}

#[test]
fn expressions_keep_what_tcpdump_keeps() {
    if !have_tcpdump() {
        return;
    }
    assert!(EXPRESSIONS.len() >= 25);
    let mut compared = 0;
    let mut kept_somewhere = 0;
    for file in fixtures() {
        for expr in EXPRESSIONS {
            let want = by_tcpdump(&file, expr);
            let got = by_tcpcraft(&file, expr);
            match (&want, &got) {
                (Ok(w), Ok(g)) => {
                    assert_eq!(
                        g.len(),
                        w.len(),
                        "{expr:?} on {}: tcpcraft kept {}, tcpdump {}",
                        file.display(),
                        g.len(),
                        w.len()
                    );
                    assert!(g == w, "{expr:?} on {}: different packets", file.display());
                    compared += 1;
                    kept_somewhere += usize::from(!w.is_empty());
                }
                (Err(w), Err(g)) => {
                    // libpcap's message, as tcpdump prints it ("tcpdump: MESSAGE").
                    assert!(
                        w.contains(g.as_str()),
                        "{expr:?}: tcpdump said {w:?}, we {g:?}"
                    );
                }
                _ => panic!(
                    "{expr:?} on {}: tcpdump {:?}, tcpcraft {:?}",
                    file.display(),
                    want.map(|k| k.len()),
                    got.map(|k| k.len())
                ),
            }
        }
    }
    // The comparison means something: most pairs compiled, and most expressions kept
    // packets somewhere.
    assert!(compared > 150, "{compared} comparisons");
    assert!(kept_somewhere > 100, "{kept_somewhere} non-empty");
}

#[test]
fn decode_with_a_filter_prints_what_tcpdump_prints() {
    if !have_tcpdump() {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_tcpcraft");
    for (file, expr) in [
        (
            "decode/ether.pcap",
            "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
        ),
        ("decode/ether.pcap", "vlan and tcp"),
        ("decode/sll.pcap", "inbound and ip6"),
        ("vectors.pcapng", "tcp[13] & 2 != 0"),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(file);
        let ours = Command::new(bin)
            .arg("decode")
            .arg(&path)
            .arg(expr)
            .output()
            .expect("tcpcraft runs");
        assert!(ours.status.success(), "{file} {expr}: {:?}", ours);
        let theirs = Command::new("tcpdump")
            .args(["-n", "-r"])
            .arg(&path)
            .arg(expr)
            .output()
            .expect("tcpdump runs");
        let n_ours = String::from_utf8_lossy(&ours.stdout).lines().count();
        let n_theirs = String::from_utf8_lossy(&theirs.stdout).lines().count();
        assert_eq!(n_ours, n_theirs, "{file} {expr}");
        assert!(n_ours > 0, "{file} {expr}: something kept");
    }
    // The words after FILE are one filter, as tcpdump joins them.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decode/ether.pcap");
    let joined = Command::new(bin)
        .arg("decode")
        .arg(&path)
        .args(["tcp", "and", "not", "vlan"])
        .output()
        .unwrap();
    let quoted = Command::new(bin)
        .arg("decode")
        .arg(&path)
        .arg("tcp and not vlan")
        .output()
        .unwrap();
    assert_eq!(joined.stdout, quoted.stdout);
    // A bad filter: exit status 2 and libpcap's message naming the filter.
    let bad = Command::new(bin)
        .arg("decode")
        .arg(&path)
        .arg("tcp and and")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("bad filter \"tcp and and\"") && err.contains("syntax error"),
        "{err}"
    );
}

/// `rdpcap` stamps each packet with the file's time (`p.time`, as tcpdump -tt prints it),
/// and `wrpcap` writes those times back, not the time of writing.
#[test]
fn rdpcap_and_wrpcap_keep_the_files_times() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("copy.pcap");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vectors.pcapng");
    let run = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .arg("-c")
        .arg(format!(
            "ps = rdpcap(\"{}\")\nprint(format(\"{{:.6f}}\", ps[1].time))\nwrpcap(\"{}\", ps)",
            src.display(),
            out.display()
        ))
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        "1700000001.000001"
    );
    let times = |p: &Path| {
        let mut r = Reader::open(p).unwrap();
        let mut v = Vec::new();
        while let Some(rec) = r.next_record() {
            v.push(rec.unwrap().ts);
        }
        v
    };
    let (a, b) = (times(&src), times(&out));
    assert_eq!(a.len(), 51);
    assert_eq!(a, b);
}
