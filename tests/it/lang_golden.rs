//! Golden tests for the language: every `tests/golden/*.tcs` and `scripts/*.tcs`
//! runs through the real binary with `--dry-run`, and its output is compared with
//! the comments in the file:
//!
//! - `# expect: LINE` — the next line of standard output (a trailing `*` makes it a
//!   prefix match); all stdout lines must be matched, in order;
//! - `# expect error: TEXT` — standard error contains TEXT (and the exit status is 2
//!   unless `# exit:` says otherwise);
//! - `# exit: N` — the exit status (default 0, or 2 with an expected error);
//! - `# args: A B …` — the script's arguments.
//!
//! Each script runs in a fresh temporary directory, so it may write files there, and
//! with `TCPCRAFT_DRYRUN_SRC=none`: an unset source address prints as 0.0.0.0 whatever
//! routes this machine has (`dry_run_shows_the_route_source` checks the route's choice).

use std::path::{Path, PathBuf};
use std::process::Command;

struct Expect {
    stdout: Vec<String>,
    errors: Vec<String>,
    exit: Option<i32>,
    args: Vec<String>,
}

fn parse_expect(text: &str) -> Expect {
    let mut e = Expect {
        stdout: Vec::new(),
        errors: Vec::new(),
        exit: None,
        args: Vec::new(),
    };
    for line in text.lines() {
        let Some(pos) = line.find("# ") else { continue };
        let c = &line[pos + 2..];
        if let Some(rest) = c.strip_prefix("expect error: ") {
            e.errors.push(rest.to_string());
        } else if let Some(rest) = c.strip_prefix("expect: ") {
            e.stdout.push(rest.to_string());
        } else if c == "expect:" {
            e.stdout.push(String::new());
        } else if let Some(rest) = c.strip_prefix("exit: ") {
            e.exit = rest.trim().parse().ok();
        } else if let Some(rest) = c.strip_prefix("args: ") {
            e.args = rest.split_whitespace().map(String::from).collect();
        }
    }
    e
}

fn line_matches(want: &str, got: &str) -> bool {
    match want.strip_suffix('*') {
        Some(prefix) => got.starts_with(prefix),
        None => want == got,
    }
}

fn run_one(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let exp = parse_expect(&text);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let abs = std::fs::canonicalize(path).map_err(|e| e.to_string())?;
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .arg("--dry-run")
        .arg("--color")
        .arg("never")
        .arg("run")
        .arg(&abs)
        .args(&exp.args)
        .current_dir(dir.path())
        .env_remove("NO_COLOR")
        .env("TCPCRAFT_DRYRUN_SRC", "none")
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let got: Vec<&str> = stdout.lines().collect();
    let mut problems = Vec::new();
    for (i, want) in exp.stdout.iter().enumerate() {
        match got.get(i) {
            Some(g) if line_matches(want, g) => {}
            Some(g) => problems.push(format!(
                "stdout line {}: want {want:?}\n                    got  {g:?}",
                i + 1
            )),
            None => problems.push(format!("stdout line {}: want {want:?}, got nothing", i + 1)),
        }
    }
    if got.len() > exp.stdout.len() {
        problems.push(format!(
            "unexpected extra stdout: {:?}",
            &got[exp.stdout.len()..]
        ));
    }
    for e in &exp.errors {
        if !stderr.contains(e.as_str()) {
            problems.push(format!("stderr lacks {e:?}"));
        }
    }
    let want_exit = exp
        .exit
        .unwrap_or(if exp.errors.is_empty() { 0 } else { 2 });
    if out.status.code() != Some(want_exit) {
        problems.push(format!(
            "exit status {:?}, want {want_exit}",
            out.status.code()
        ));
    }
    if exp.errors.is_empty() && !stderr.is_empty() && want_exit == 0 {
        problems.push("unexpected stderr".to_string());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n  {}\n--- stderr ---\n{stderr}",
            path.display(),
            problems.join("\n  ")
        ))
    }
}

fn scripts_in(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "tcs"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn run_all(dir: &str) {
    let files = scripts_in(dir);
    assert!(!files.is_empty(), "no .tcs files in {dir}");
    let failures: Vec<String> = files.iter().filter_map(|f| run_one(f).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

#[test]
fn golden_scripts() {
    run_all("tests/golden");
}

#[test]
fn example_scripts_dry_run() {
    run_all("scripts");
}

#[test]
fn minus_c_and_stdin() {
    let bin = env!("CARGO_BIN_EXE_tcpcraft");
    let out = Command::new(bin)
        .args(["-c", "print(args, 1 + 2)", "x", "-y"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[\"x\", \"-y\"] 3\n");
    use std::io::Write;
    let mut child = Command::new(bin)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"x = 6\nprint(x * 7)\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "42\n");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn exit_statuses() {
    let bin = env!("CARGO_BIN_EXE_tcpcraft");
    let code = |src: &str| {
        Command::new(bin)
            .args(["--dry-run", "-c", src])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code("x = 1"), Some(0));
    assert_eq!(code("assert 1 == 2"), Some(1));
    assert_eq!(code("x = )"), Some(2));
    assert_eq!(code("wrpcap(\"/nonexistent-dir/x.pcap\", [IP()])"), Some(3));
    let out = Command::new(bin)
        .args(["run", "/nonexistent.tcs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn pcap_option_records_what_was_sent() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("out.pcap");
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["--dry-run", "-q", "--pcap"])
        .arg(&pcap)
        .args(["-c", "send(IP(dst=\"198.18.0.2\")/TCP(dport=[22, 80]))"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "-q prints nothing");
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["-c"])
        .arg(format!(
            "p = rdpcap(\"{}\"); print(len(p), p[0].dport, p[1].dport, p[1].dst)",
            pcap.display()
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2 22 80 198.18.0.2\n");
}

#[test]
fn errors_are_rendered_with_caret() {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(["--color", "never", "-c", "x = 1\np = IP(ttl=256)"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "<-c>:2:8: error: ttl 256 is out of range 0..=255\n2 | p = IP(ttl=256)\n  |        ^^^^^^^\n  = expected an integer in 0..=255\n"
    );
}

/// Packets built in the language are byte-for-byte what scapy builds for the same
/// fields (tests/fixtures/lang_scapy.txt, made once by scripts/gen_lang_fixtures.py).
#[test]
fn packets_match_scapy_bytes() {
    use tcpcraft::lang::net::DryRun;
    use tcpcraft::lang::{Interp, Value};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lang_scapy.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let mut it = Interp::new(
        Box::new(DryRun::new(Box::new(|_| {}))),
        Box::new(std::io::sink()),
    );
    let mut failures = Vec::new();
    let mut n = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut parts = line.split('\t');
        let (Some(name), Some(expr), Some(want)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!("bad fixture line {line:?}");
        };
        n += 1;
        match it.run_source(name, &format!("hex({expr})"), 1) {
            Ok(Some(Value::Str(got))) if &*got == want => {}
            Ok(Some(v)) => failures.push(format!(
                "{name}: {expr}\n  scapy    {want}\n  tcpcraft {}",
                v.to_display()
            )),
            Ok(None) => failures.push(format!("{name}: no value")),
            Err(e) => failures.push(format!("{name}: {}", it.render_error(&e))),
        }
    }
    assert!(n >= 20, "only {n} fixtures");
    assert!(
        failures.is_empty(),
        "{} of {n} differ from scapy:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn json_and_verbose_dry_run_output() {
    let bin = env!("CARGO_BIN_EXE_tcpcraft");
    let out = Command::new(bin)
        .args([
            "--dry-run",
            "--json",
            "-c",
            "send(IP(dst=\"198.18.0.2\")/TCP(dport=80)); print(IP())",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).expect("each line is JSON");
        assert!(v.get("layers").is_some(), "{l}");
    }
    let out = Command::new(bin)
        .args(["--dry-run", "-v", "-c", "send(IP()/UDP(sport=1))"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("would send: ") && text.contains("\n0000  45 00 00 1c"),
        "{text}"
    );
}

/// A dry run shows (and writes to --pcap) the source address the kernel's route picks
/// when the script sets none, as scapy does; `TCPCRAFT_DRYRUN_SRC=none` keeps 0.0.0.0.
#[test]
fn dry_run_shows_the_route_source() {
    let bin = env!("CARGO_BIN_EXE_tcpcraft");
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("dry.pcap");
    let code = "send(IP(dst=\"127.0.0.1\")/TCP(sport=1, dport=2))\n\
                send(IP(src=\"127.0.0.9\", dst=\"127.0.0.1\")/TCP(sport=3, dport=4))\n\
                s = session(\"127.0.0.1\", 5, sport=6)\n\
                s.send(\"S\")";
    let out = Command::new(bin)
        .args(["--dry-run", "--color", "never", "--pcap"])
        .arg(&pcap)
        .args(["-c", code])
        .env_remove("TCPCRAFT_DRYRUN_SRC")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let sends: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("would send: "))
        .collect();
    assert_eq!(sends.len(), 3, "{text}");
    assert!(
        sends[0].starts_with("would send: IP 127.0.0.1.1 > 127.0.0.1.2: "),
        "{text}"
    );
    assert!(
        sends[1].starts_with("would send: IP 127.0.0.9.3 > 127.0.0.1.4: "),
        "{text}"
    );
    assert!(
        sends[2].starts_with("would send: IP 127.0.0.1.6 > 127.0.0.1.5: "),
        "{text}"
    );
    // The pcap holds the packet as shown, its header checksum computed over that source.
    let mut r = tcpcraft::pcap::Reader::open(&pcap).expect("pcap");
    let rec = r.next_record().expect("a record").expect("readable");
    assert_eq!(rec.data.get(12..16), Some(&[127u8, 0, 0, 1][..]));
    let sum: u32 = rec.data[..20]
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    assert_eq!((sum & 0xffff) + (sum >> 16), 0xffff, "IP header checksum");

    let out = Command::new(bin)
        .args([
            "--dry-run",
            "-c",
            "send(IP(dst=\"127.0.0.1\")/TCP(sport=1, dport=2))",
        ])
        .env("TCPCRAFT_DRYRUN_SRC", "none")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("would send: IP 0.0.0.0.1 > 127.0.0.1.2: "),
        "{text}"
    );
}
