//! Bad input, table-driven: every case gives the exact message and exit status below.
//! No panic, no backtrace; each message says what to change. Covers the command line
//! (decode, run, -c, lab, handshake: bad ports, addresses, timeouts, unknown flags),
//! scripts with each kind of error, damaged captures and odd-length hex.
//!
//! Command-line cases need no privileges and no network (handshake arguments are refused
//! before anything is opened; no host name is ever looked up). The expectation case runs
//! against a real peer in namespaces made here (198.18.0.0/15 only).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::testbed;

const EXE: &str = env!("CARGO_BIN_EXE_tcpcraft");

/// A directory holding the capture fixtures the cases name (relative paths, so that the
/// messages are the same on every machine).
fn fixtures() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tcpcraft-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decode/ether.pcap"),
    )
    .expect("the ether.pcap fixture");
    let w = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).expect("write");
    w("ether.pcap", &good);
    w("empty.pcap", b"");
    // The 24-byte file header and 6 bytes of the first record header.
    w("trunc_hdr.pcap", &good[..30]);
    // Cut inside the data of record 11: the ten before it are printed first.
    w("trunc_mid.pcap", &good[..1000]);
    let mut bad_magic = good.clone();
    bad_magic[..4].copy_from_slice(b"XXXX");
    w("badmagic.pcap", &bad_magic);
    // Snap length 0xffffffff in the header: records are still bounded one by one.
    let mut snap = good.clone();
    snap[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    w("snap.pcap", &snap);
    // The first record claims 2 GiB of data.
    let mut reclen = good.clone();
    reclen[32..36].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    w("reclen.pcap", &reclen);
    w("odd.hex", b"abc\n");
    dir
}

struct Outcome {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str], stdin: Option<&str>) -> Outcome {
    let mut child = Command::new(EXE)
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tcpcraft runs");
    if let (Some(text), Some(mut i)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        i.write_all(text.as_bytes()).expect("stdin");
    }
    let out = child.wait_with_output().expect("tcpcraft ends");
    Outcome {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Checks one case; returns a description of the difference, if any.
fn check(
    dir: &Path,
    args: &[&str],
    stdin: Option<&str>,
    status: i32,
    stderr: &str,
) -> Option<String> {
    let o = run(dir, args, stdin);
    let mut why = Vec::new();
    if o.status != Some(status) {
        why.push(format!("status {:?}, want {status}", o.status));
    }
    if o.stderr != stderr {
        why.push(format!(
            "stderr\n  got:  {:?}\n  want: {stderr:?}",
            o.stderr
        ));
    }
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        if o.stderr.contains(bad) || o.stdout.contains(bad) {
            why.push(format!("{bad:?} in the output"));
        }
    }
    (!why.is_empty()).then(|| format!("{args:?}: {}", why.join("; ")))
}

/// (arguments, exit status, the whole of stderr)
type Case = (&'static [&'static str], i32, &'static str);

fn case(args: &'static [&'static str], status: i32, stderr: &'static str) -> Case {
    (args, status, stderr)
}

#[test]
fn command_line_and_files() {
    let dir = fixtures();
    let table: Vec<Case> = vec![
    case(&["decode", "--bogus"], 2, "error: unexpected argument '--bogus' found\n\n  tip: to pass '--bogus' as a value, use '-- --bogus'\n\nUsage: tcpcraft decode [OPTIONS] [FILE] [FILTER]...\n\nFor more information, try '--help'.\n"),
    case(&["decode", "empty.pcap"], 2, "tcpcraft: decode: empty.pcap: empty file: not a pcap or pcapng capture\n"),
    case(&["decode", "trunc_hdr.pcap"], 2, "tcpcraft: decode: trunc_hdr.pcap: truncated in record 1: record header cut short\n"),
    case(&["decode", "trunc_mid.pcap"], 2, "tcpcraft: decode: trunc_mid.pcap: truncated in record 11: packet data cut short\n"),
    case(&["decode", "badmagic.pcap"], 2, "tcpcraft: decode: badmagic.pcap: not a pcap or pcapng capture (magic number 0x58585858; expected 0xa1b2c3d4, 0xa1b23c4d or a pcapng section header 0x0a0d0d0a)\n"),
    case(&["decode", "reclen.pcap"], 2, "tcpcraft: decode: reclen.pcap: record 1 claims 2147483647 bytes, more than the 262144-byte limit: the file is corrupt\n"),
    case(&["decode", "missing.pcap"], 2, "tcpcraft: decode: missing.pcap: No such file or directory (os error 2)\n"),
    case(&["decode", "--hex", "abc"], 2, "tcpcraft: decode: --hex: odd number of hex digits (3): every byte needs two digits\n"),
    case(&["decode", "--hex", "zz"], 2, "tcpcraft: decode: --hex: not a hex digit: 'z'; give bytes as hex like 4500003c…\n"),
    case(&["decode", "--hex", ""], 2, "tcpcraft: decode: --hex: no hex digits given\n"),
    case(&["decode", "--link", "foo", "--hex", "00"], 2, "error: invalid value 'foo' for '--link <TYPE>'\n  [possible values: ether, ip, sll]\n\nFor more information, try '--help'.\n"),
    case(&["decode", "--show", "--json", "--hex", "00"], 2, "error: the argument '--show' cannot be used with '--json'\n\nUsage: tcpcraft decode --show --hex <HEX> [FILE] [FILTER]...\n\nFor more information, try '--help'.\n"),
    case(&["decode", "--hex", "4500", "ether.pcap"], 2, "error: the argument '--hex <HEX>' cannot be used with '[FILE]'\n\nUsage: tcpcraft decode --hex <HEX> [FILE] [FILTER]...\n\nFor more information, try '--help'.\n"),
    case(&["run", "missing.tcs"], 2, "tcpcraft: cannot read missing.tcs: No such file or directory (os error 2)\n"),
    case(&["--bogus"], 2, "error: unexpected argument '--bogus' found\n\nUsage: tcpcraft [OPTIONS] [COMMAND]\n\nFor more information, try '--help'.\n"),
    case(&["-c"], 2, "error: a value is required for '-c <CODE>...' but none was supplied\n\nFor more information, try '--help'.\n"),
    case(&["--color", "sometimes", "-c", "1"], 2, "error: invalid value 'sometimes' for '--color <WHEN>'\n  [possible values: auto, always, never]\n\nFor more information, try '--help'.\n"),
    case(&["--pcap"], 2, "error: a value is required for '--pcap <FILE>' but none was supplied\n\nFor more information, try '--help'.\n"),
    case(&["lab", "--bogus"], 2, "error: unexpected argument '--bogus' found\n\nUsage: tcpcraft lab [OPTIONS]\n       tcpcraft lab <COMMAND>\n\nFor more information, try '--help'.\n"),
    case(&["lab", "-c"], 2, "error: a value is required for '-c <CODE>' but none was supplied\n\nFor more information, try '--help'.\n"),
    case(&["lab", "run"], 2, "error: the following required arguments were not provided:\n  <FILE>\n\nUsage: tcpcraft lab run <FILE> [ARGS]...\n\nFor more information, try '--help'.\n"),
    case(&["handshake"], 2, "error: the following required arguments were not provided:\n  <HOST:PORT>\n\nUsage: tcpcraft handshake <HOST:PORT>\n\nFor more information, try '--help'.\n"),
    case(&["handshake", "198.18.0.2:0"], 2, "tcpcraft handshake: \"198.18.0.2:0\": the port must be a number in 1..=65535, not \"0\"\n"),
    case(&["handshake", "198.18.0.2:70000"], 2, "tcpcraft handshake: \"198.18.0.2:70000\": the port must be a number in 1..=65535, not \"70000\"\n"),
    case(&["handshake", "198.18.0.2:1-"], 2, "tcpcraft handshake: \"198.18.0.2:1-\": the port must be a number in 1..=65535, not \"1-\"\n"),
    case(&["handshake", "198.18.0.2:a"], 2, "tcpcraft handshake: \"198.18.0.2:a\": the port must be a number in 1..=65535, not \"a\"\n"),
    case(&["handshake", "300.1.1.1:80"], 2, "tcpcraft handshake: \"300.1.1.1\" is not an IPv4 address\n"),
    case(&["handshake", "[::g]:80"], 2, "tcpcraft handshake: \"::g\" is not an IPv6 address\n"),
    case(&["handshake", "::g:80"], 2, "tcpcraft handshake: \"::g:80\": write an IPv6 address in brackets, as [ADDRESS]:PORT\n"),
    case(&["handshake", "198.18.0.2"], 2, "tcpcraft handshake: \"198.18.0.2\": expected HOST:PORT\n"),
    case(&["handshake", "[2001:db8:198:18::2]80"], 2, "tcpcraft handshake: \"[2001:db8:198:18::2]80\": expected [IPV6]:PORT\n"),
    case(&["handshake", "--bogus", "198.18.0.2:80"], 2, "error: unexpected argument '--bogus' found\n\n  tip: to pass '--bogus' as a value, use '-- --bogus'\n\nUsage: tcpcraft handshake [OPTIONS] <HOST:PORT>\n\nFor more information, try '--help'.\n"),
    case(&["handshake", "198.18.0.2:80", "--timeout", "0"], 2, "error: invalid value '0' for '--timeout <SECONDS>': expected seconds, more than 0 and less than 3600 (like 2 or 0.5)\n\nFor more information, try '--help'.\n"),
    case(&["handshake", "198.18.0.2:80", "--timeout", "abc"], 2, "error: invalid value 'abc' for '--timeout <SECONDS>': expected seconds, more than 0 and less than 3600 (like 2 or 0.5)\n\nFor more information, try '--help'.\n"),
    case(&["handshake", "198.18.0.2:80", "--timeout", "99999"], 2, "error: invalid value '99999' for '--timeout <SECONDS>': expected seconds, more than 0 and less than 3600 (like 2 or 0.5)\n\nFor more information, try '--help'.\n"),
    case(&["handshake", "198.18.0.2:80", "--timeout", "nan"], 2, "error: invalid value 'nan' for '--timeout <SECONDS>': expected seconds, more than 0 and less than 3600 (like 2 or 0.5)\n\nFor more information, try '--help'.\n"),
    case(&["handshake", "198.18.0.2:80", "--sport", "0"], 2, "error: invalid value '0' for '--sport <PORT>': expected a port number in 1..=65535\n\nFor more information, try '--help'.\n"),
    case(&["handshake", "198.18.0.2:80", "--sport", "70000"], 2, "error: invalid value '70000' for '--sport <PORT>': expected a port number in 1..=65535\n\nFor more information, try '--help'.\n"),
    case(&["handshake", "198.18.0.2:80", "--sport", "a"], 2, "error: invalid value 'a' for '--sport <PORT>': expected a port number in 1..=65535\n\nFor more information, try '--help'.\n"),
    case(&["handshake", "198.18.0.2:80", "--isn", "4294967296"], 2, "error: invalid value '4294967296' for '--isn <N>': 4294967296 is not in 0..=4294967295\n\nFor more information, try '--help'.\n"),
    case(&["handshake", "198.18.0.2:80", "--close", "sideways"], 2, "error: invalid value 'sideways' for '--close <HOW>': --close \"sideways\": expected active, passive or rst\n\nFor more information, try '--help'.\n"),
    case(&["handshake", "198.18.0.2:80", "--data", "\\xZZ"], 2, "tcpcraft handshake: --data: \\x needs two hex digits\n"),
        // ---- scan ----
    case(&["scan", "198.18.0.2", "-p", "0"], 2, "error: invalid value '0' for '--ports <PORTS>': port 0 out of range 1-65535\n\nFor more information, try '--help'.\n"),
    case(&["scan", "198.18.0.2", "-p", "70000"], 2, "error: invalid value '70000' for '--ports <PORTS>': port 70000 out of range 1-65535\n\nFor more information, try '--help'.\n"),
    case(&["scan", "198.18.0.2", "-p", "1-"], 2, "error: invalid value '1-' for '--ports <PORTS>': bad range 1-: write FIRST-LAST, e.g. 1-1024 (or - for every port)\n\nFor more information, try '--help'.\n"),
    case(&["scan", "198.18.0.2", "-p", "a"], 2, "error: invalid value 'a' for '--ports <PORTS>': not a port: a (give numbers 1-65535, e.g. 22,80,8000-8100)\n\nFor more information, try '--help'.\n"),
    case(&["scan", "300.1.1.1", "-p", "80"], 2, "error: invalid value '300.1.1.1' for '[TARGETS]...': octet 300 out of range 0-255 in 300.1.1.1\n\nFor more information, try '--help'.\n"),
    case(&["scan", "::g", "-p", "80"], 2, "error: invalid value '::g' for '[TARGETS]...': not an IPv6 address: ::g\n\nFor more information, try '--help'.\n"),
    case(&["scan", "198.18.0.0/33", "-p", "80"], 2, "error: invalid value '198.18.0.0/33' for '[TARGETS]...': prefix /33 is longer than 32 bits\n\nFor more information, try '--help'.\n"),
    case(&["scan", "198.18.0.2", "--rate", "0"], 2, "error: invalid value '0' for '--rate <N>': --rate takes probes per second (a positive number), not \"0\"\n\nFor more information, try '--help'.\n"),
    case(&["scan", "198.18.0.2", "--rate", "fast"], 2, "error: invalid value 'fast' for '--rate <N>': --rate takes probes per second (a positive number), not \"fast\"\n\nFor more information, try '--help'.\n"),
    case(&["scan", "198.18.0.2", "--max-retries", "x"], 2, "error: invalid value 'x' for '--max-retries <N>': --max-retries takes a whole number 0-100, not \"x\"\n\nFor more information, try '--help'.\n"),
    case(&["scan", "198.18.0.2", "--shard", "3/2"], 2, "error: invalid value '3/2' for '--shard <I/N>': --shard 3/2: need 0 <= I < N (shards are numbered from 0)\n\nFor more information, try '--help'.\n"),
    case(&["scan", "198.18.0.2", "--top-ports", "0"], 2, "error: invalid value '0' for '--top-ports <N>': --top-ports takes a number 1-65535, not \"0\"\n\nFor more information, try '--help'.\n"),
    case(&["scan", "198.18.0.2", "--wait", "abc"], 2, "error: invalid value 'abc' for '--wait <SECS>': --wait takes seconds (0.2, 200ms), not \"abc\"\n\nFor more information, try '--help'.\n"),
    case(&["scan", "198.18.0.2", "--bogus"], 2, "error: unexpected argument '--bogus' found\n\n  tip: to pass '--bogus' as a value, use '-- --bogus'\n\nUsage: tcpcraft scan <TARGETS>...\n\nFor more information, try '--help'.\n"),
    case(&["scan", "198.18.0.2", "--threads", "x"], 2, "error: invalid value 'x' for '--threads <N>': --threads takes a whole number 0-64 (0: one per CPU), not \"x\"\n\nFor more information, try '--help'.\n"),
    case(&["scan", "198.18.0.2", "--seed", "z"], 2, "error: invalid value 'z' for '--seed <S>': --seed takes a number 0-18446744073709551615 (or 0x…), not \"z\"\n\nFor more information, try '--help'.\n"),
    case(&["scan", "198.18.0.2", "--flags", "Q"], 2, "error: invalid value 'Q' for '--flags <FLAGS>': unknown TCP flag 'Q' in \"Q\" (use F S R P A U E C)\n\nFor more information, try '--help'.\n"),
    case(&["scan"], 2, "error: the following required arguments were not provided:\n  <TARGETS>...\n\nUsage: tcpcraft scan <TARGETS>...\n\nFor more information, try '--help'.\n"),
    case(&["scan", "-iL", "missing.txt"], 2, "tcpcraft: scan: cannot read target list missing.txt: No such file or directory (os error 2)\n"),
        // ---- end of scan ----
    ];
    let mut failures: Vec<String> = table
        .iter()
        .filter_map(|(args, status, stderr)| check(&dir, args, None, *status, stderr))
        .collect();
    // Hex on standard input, of odd length.
    failures.extend(check(
        &dir,
        &["decode"],
        Some("abc\n"),
        2,
        "tcpcraft: decode: standard input: odd number of hex digits (3): every byte needs two digits\n",
    ));
    assert!(
        failures.is_empty(),
        "{} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // The truncated capture prints the ten whole records before saying where it broke.
    let o = run(&dir, &["decode", "trunc_mid.pcap"], None);
    assert_eq!(o.stdout.lines().count(), 10, "{}", o.stdout);
    // An absurd snap length in the header is not trusted for anything: each record is
    // still checked against the 262144-byte limit, and the file decodes as the original.
    let a = run(&dir, &["decode", "snap.pcap"], None);
    let b = run(&dir, &["decode", "ether.pcap"], None);
    assert_eq!((a.status, a.stderr.as_str()), (Some(0), ""));
    assert_eq!(a.stdout, b.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

/// (what, script, exit status, the whole of stderr), run with --dry-run.
type Script = (&'static str, &'static str, i32, &'static str);

fn script(what: &'static str, code: &'static str, status: i32, stderr: &'static str) -> Script {
    (what, code, status, stderr)
}

#[test]
fn scripts_with_each_kind_of_error() {
    let dir = std::env::temp_dir();
    let table: Vec<Script> = vec![
    script("syntax", "x = (1 +", 2, "<-c>:1:9: error: unexpected end of input\n1 | x = (1 +\n  |         ^\n  = expected an expression\n"),
    script("syntax: unknown character", "x = 1 $ 2", 2, "<-c>:1:7: error: unexpected character '$'\n1 | x = 1 $ 2\n  |       ^\n"),
    script("undefined name", "print(y)", 2, "<-c>:1:7: error: undefined name `y`\n1 | print(y)\n  |       ^\n"),
    script("type error", "x = 1 + \"a\"", 2, "<-c>:1:5: error: unsupported operand types for +: int and str\n1 | x = 1 + \"a\"\n  |     ^^^^^^^\n"),
    script("out-of-range field", "p = TCP(dport=70000)", 2, "<-c>:1:9: error: dport 70000 is out of range 0..=65535\n1 | p = TCP(dport=70000)\n  |         ^^^^^^^^^^^\n  = expected an integer in 0..=65535\n"),
    script("out-of-range field", "p = IP(ttl=300)", 2, "<-c>:1:8: error: ttl 300 is out of range 0..=255\n1 | p = IP(ttl=300)\n  |        ^^^^^^^\n  = expected an integer in 0..=255\n"),
    script("bad address", "p = IP(dst=\"300.1.1.1\")", 2, "<-c>:1:8: error: dst: \"300.1.1.1\" is not an IPv4 address (names are not resolved)\n1 | p = IP(dst=\"300.1.1.1\")\n  |        ^^^^^^^^^^^^^^^\n"),
    script("bad address", "p = IPv6(dst=\"::g\")", 2, "<-c>:1:10: error: dst: \"::g\" is not an IPv6 address (names are not resolved)\n1 | p = IPv6(dst=\"::g\")\n  |          ^^^^^^^^^\n"),
    script("bad flags", "p = TCP(flags=\"SQ\")", 2, "<-c>:1:9: error: unknown TCP flag 'Q' in \"SQ\"; a string of letters reads letter by letter as in scapy, from F S R P A U E C N (\"SA\" is SYN+ACK, \"NS\" is NS+SYN); flag names FIN SYN RST PSH ACK URG ECE CWR NS need a separator (\"ECE|SYN\", \"NS,\"); or give a number\n1 | p = TCP(flags=\"SQ\")\n  |         ^^^^^^^^^^\n"),
    script("index", "x = [1, 2][5]", 2, "<-c>:1:5: error: index 5 out of range for length 2\n1 | x = [1, 2][5]\n  |     ^^^^^^^^^\n"),
    script("bad timeout", "sr1(IP(dst=\"198.18.0.2\")/TCP(), timeout=-1)", 2, "<-c>:1:1: error: timeout must be 0..=86400 seconds\n1 | sr1(IP(dst=\"198.18.0.2\")/TCP(), timeout=-1)\n  | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"),
    script("odd hex payload", "p = IP()/TCP()/hex(\"abc\")", 2, "<-c>:1:20: error: hex(): odd number of hex digits (3): every byte needs two digits\n1 | p = IP()/TCP()/hex(\"abc\")\n  |                    ^^^^^\n"),
    script("bad hex digit", "p = hex(\"dexx\")", 2, "<-c>:1:9: error: hex(): not a hex digit: 'x'; give bytes as pairs of 0-9 a-f (\"dead beef\")\n1 | p = hex(\"dexx\")\n  |         ^^^^^^\n"),
    script("assertion", "assert 1 == 2, \"one is not two\"", 1, "<-c>:1:1: error: assertion failed: one is not two\n1 | assert 1 == 2, \"one is not two\"\n  | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"),
    ];
    let failures: Vec<String> = table
        .iter()
        .filter_map(|(what, code, status, stderr)| {
            check(&dir, &["--dry-run", "-c", code], None, *status, stderr)
                .map(|d| format!("{what}: {d}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_failed_expectation_against_a_real_peer() {
    let Some(bed) = testbed::standard("a failed expectation") else {
        return;
    };
    // Port 9 is closed in the server namespace: the kernel answers the SYN with RST+ACK.
    let out = bed
        .client_cmd(EXE)
        .args([
            "--no-rst-guard",
            "-q",
            "-c",
            "s = session(\"198.18.0.2\", 9)\ns.send(\"S\")\ns.expect(\"SA\", timeout=2)",
        ])
        .env("NO_COLOR", "1")
        .output()
        .expect("tcpcraft");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        "<-c>:3:1: error: expectation failed: expected SA, got RA: the port is closed: the peer refused the connection\n3 | s.expect(\"SA\", timeout=2)\n  | ^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    );
}
