//! Privileges: tcpcraft works as an ordinary user given file capabilities
//! (`setcap cap_net_raw,cap_net_admin+ep` on a copy of the binary, run as `nobody` through
//! setpriv); without them every command that needs them names the missing capability and
//! the setcap fix, exit 3, and `--dry-run` still works. Under sudo (SUDO_UID/SUDO_GID set,
//! running as root) the files tcpcraft writes belong to the invoking user. Scripts cannot
//! run programs or reach files other than the ones they name.
//!
//! The network parts run in namespaces made here (198.18.0.0/15 only). Needs root (to
//! setcap and to switch user): fails under CI=true when it cannot run, skips elsewhere.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod testbed;
use testbed::Bed;

const EXE: &str = env!("CARGO_BIN_EXE_tcpcraft");
const NOBODY: u32 = 65534;

fn tool(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// True when root with setcap and setpriv; otherwise skip (or fail under CI=true).
fn can_run(what: &str) -> bool {
    let root = tcpcraft::userfile::sudo_owner().is_some()
        || std::fs::read_to_string("/proc/self/status")
            .map(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Uid:"))
                    .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
                    .unwrap_or(false)
            })
            .unwrap_or(false);
    let tools = tool("setcap") && tool("setpriv");
    if root && tools {
        return true;
    }
    let why = format!("{what}: needs root, setcap and setpriv (root: {root}, tools: {tools})");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why}");
    }
    eprintln!("SKIPPED {why}");
    false
}

/// A directory everyone may enter and write, for `nobody`'s binary and files.
fn open_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tcpcraft-priv-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
    dir
}

/// A copy of tcpcraft with `caps` set as file capabilities ("" for none).
fn copy_with_caps(dir: &Path, caps: &str) -> PathBuf {
    let bin = dir.join(if caps.is_empty() { "plain" } else { "capped" });
    std::fs::copy(EXE, &bin).expect("copy the binary");
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    if !caps.is_empty() {
        let st = Command::new("setcap")
            .arg(caps)
            .arg(&bin)
            .status()
            .expect("setcap");
        assert!(st.success(), "setcap {caps} failed");
    }
    bin
}

/// Runs `bin ARGS` as nobody inside the bed's client namespace.
fn as_nobody(bed: &Bed, bin: &Path, args: &[&str]) -> Output {
    Command::new("ip")
        .args(["netns", "exec", &bed.client])
        .args([
            "setpriv",
            "--reuid",
            "nobody",
            "--regid",
            "nogroup",
            "--clear-groups",
        ])
        .arg(bin)
        .args(args)
        .current_dir(bin.parent().unwrap_or(Path::new("/")))
        .env("HOME", bin.parent().unwrap_or(Path::new("/")))
        .output()
        .expect("run as nobody")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn works_as_a_user_with_file_capabilities() {
    if !can_run("file capabilities") {
        return;
    }
    let Some(bed) = testbed::standard("file capabilities") else {
        return;
    };
    let dir = open_dir("caps");
    let bin = copy_with_caps(&dir, "cap_net_raw,cap_net_admin+ep");
    // sr1, sniff and a whole hand-driven session with its RST guard.
    let pcap = dir.join("user.pcap");
    let pcap_s = pcap.to_string_lossy().into_owned();
    let o = as_nobody(
        &bed,
        &bin,
        &[
            "--pcap",
            &pcap_s,
            "-c",
            r#"r = sr1(IP(dst="198.18.0.2")/TCP(dport=80, flags="S"), timeout=2)
assert r != none && r.flags == "SA", "a SYN-ACK from port 80"
p = sniff(timeout=0.3)
s = session("198.18.0.2", 80)
s.send("S")
s.expect("SA")
s.send("A")
s.send("FA")
s.expect("A")
print("state", s.state)"#,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("rst-guard: "),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::metadata(&pcap).expect("the pcap").uid(),
        NOBODY,
        "the user's own pcap"
    );
    let o = as_nobody(&bed, &bin, &["handshake", "198.18.0.2:80"]);
    assert!(o.status.success(), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_capabilities_each_command_names_what_is_missing() {
    if !can_run("missing capabilities") {
        return;
    }
    let Some(bed) = testbed::standard("missing capabilities") else {
        return;
    };
    let dir = open_dir("nocaps");
    let plain = copy_with_caps(&dir, "");
    let raw_only = copy_with_caps(&dir, "cap_net_raw+ep");
    let fix = "setcap cap_net_raw,cap_net_admin+ep";
    let raw = "CAP_NET_RAW";
    let admin = "CAP_NET_ADMIN";
    // (what, binary, arguments, words the message must hold)
    let cases: Vec<(&str, &Path, Vec<&str>, Vec<&str>)> = vec![
        (
            "send",
            &plain,
            vec!["-c", r#"send(IP(dst="198.18.0.2")/TCP(dport=80))"#],
            vec![raw, fix],
        ),
        (
            "sr1",
            &plain,
            vec![
                "-c",
                r#"sr1(IP(dst="198.18.0.2")/TCP(dport=80), timeout=1)"#,
            ],
            vec![raw, fix],
        ),
        (
            "sr",
            &plain,
            vec![
                "-c",
                r#"sr([IP(dst="198.18.0.2")/TCP(dport=80)], timeout=1)"#,
            ],
            vec![raw, fix],
        ),
        (
            "sniff",
            &plain,
            vec!["-c", "sniff(count=1, timeout=1)"],
            vec![raw, fix],
        ),
        (
            "session",
            &plain,
            vec!["-c", r#"s = session("198.18.0.2", 80)"#],
            vec![raw, fix],
        ),
        (
            "handshake",
            &plain,
            vec!["handshake", "198.18.0.2:80"],
            vec![raw, fix],
        ),
        (
            "session with CAP_NET_RAW only (the RST guard)",
            &raw_only,
            vec!["-c", r#"s = session("198.18.0.2", 80)"#],
            vec![admin, fix, "--no-rst-guard"],
        ),
        (
            "handshake with CAP_NET_RAW only (the RST guard)",
            &raw_only,
            vec!["handshake", "198.18.0.2:80"],
            vec![admin, fix, "--no-rst-guard"],
        ),
        (
            "scan --udp",
            &plain,
            vec!["scan", "198.18.0.2", "-p", "7", "--udp"],
            vec![raw, fix],
        ),
        (
            "scan --ack",
            &plain,
            vec!["scan", "198.18.0.2", "-p", "80", "--ack"],
            vec![raw, fix],
        ),
        (
            "lab",
            &plain,
            vec!["lab", "-c", "print(1)"],
            vec![admin, "sudo"],
        ),
    ];
    for (what, bin, args, words) in cases {
        let o = as_nobody(&bed, bin, &args);
        assert_eq!(o.status.code(), Some(3), "{what}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        for w in words {
            assert!(err.contains(w), "{what}: the message lacks {w:?}: {err}");
        }
        assert!(!err.contains("panicked"), "{what}: {err}");
    }
    // A session with only CAP_NET_RAW still works when told not to guard.
    let o = as_nobody(
        &bed,
        &raw_only,
        &[
            "--no-rst-guard",
            "-c",
            r#"s = session("198.18.0.2", 80)
s.send("S")
s.expect("SA")
s.send("R")"#,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    // --dry-run needs nothing.
    let o = as_nobody(
        &bed,
        &plain,
        &[
            "--dry-run",
            "-c",
            r#"print(sr1(IP(dst="198.18.0.2")/TCP(dport=80, flags="S"), timeout=1))
s = session("198.18.0.2", 80)
s.send("S")"#,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("would send"),
        "{}",
        text(&o)
    );
    let o = as_nobody(&bed, &plain, &["--dry-run", "handshake", "198.18.0.2:80"]);
    assert!(o.status.success(), "{}", text(&o));
    // A SYN scan without CAP_NET_RAW becomes a connect() scan, and says so.
    let o = as_nobody(&bed, &plain, &["scan", "198.18.0.2", "-p", "80"]);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("CAP_NET_RAW") && err.contains("connect()"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn under_sudo_files_belong_to_the_invoking_user() {
    if !can_run("sudo ownership") {
        return;
    }
    let Some(bed) = testbed::standard("sudo ownership") else {
        return;
    };
    let dir = open_dir("sudo");
    let sub = dir.join("made/by/root");
    std::fs::create_dir_all(&sub).expect("mkdir");
    let f = |n: &str| sub.join(n).to_string_lossy().into_owned();
    let (pcap, wr, svg, ladder, hs_svg) = (
        f("cli.pcap"),
        f("wrpcap.pcap"),
        f("ladder.svg"),
        f("ladder.txt"),
        f("handshake.svg"),
    );
    let code = format!(
        r#"p = [IP(dst="198.18.0.2")/TCP(dport=80, flags="S")]
sr1(p[0], timeout=1)
wrpcap("{wr}", p)
s = session("198.18.0.2", 80)
s.send("S")
s.expect("SA")
s.send("R")
s.ladder(file="{svg}")
s.ladder(file="{ladder}")"#
    );
    let run = |args: &[&str]| {
        bed.client_cmd(EXE)
            .args(args)
            .env("SUDO_UID", NOBODY.to_string())
            .env("SUDO_GID", NOBODY.to_string())
            .output()
            .expect("tcpcraft")
    };
    let o = run(&["--pcap", &pcap, "-c", &code]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&["handshake", "198.18.0.2:80", "--svg", &hs_svg]);
    assert!(o.status.success(), "{}", text(&o));
    for p in [&pcap, &wr, &svg, &ladder, &hs_svg] {
        let m = std::fs::metadata(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!((m.uid(), m.gid()), (NOBODY, NOBODY), "{p} belongs to root");
    }
    // Directories are never made for the user's files (a missing one is an error).
    let missing = dir.join("no/such/x.pcap");
    let o = run(&[
        "--dry-run",
        "-c",
        &format!("wrpcap(\"{}\", [IP()])", missing.display()),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(!dir.join("no").exists());
    // A file that existed before keeps its owner (root writing over it gives nothing away).
    let existing = dir.join("root-owned.pcap");
    std::fs::write(&existing, b"").expect("write");
    let e = existing.to_string_lossy().into_owned();
    let o = run(&["--pcap", &e, "--dry-run", "-c", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::metadata(&existing).expect("pcap").uid(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn scripts_cannot_run_programs_or_reach_other_files() {
    // The language has no builtin that runs a program, opens a file by itself, reads the
    // environment or changes the host: each of these is an undefined name (exit 2).
    for call in [
        r#"system("id")"#,
        r#"exec("id")"#,
        r#"shell("id")"#,
        r#"popen("id")"#,
        r#"spawn("id")"#,
        r#"open("/etc/passwd")"#,
        r#"read("/etc/passwd")"#,
        r#"write("/tmp/x", "y")"#,
        r#"remove("/tmp/x")"#,
        r#"unlink("/tmp/x")"#,
        r#"env("HOME")"#,
        r#"getenv("HOME")"#,
        r#"import("os")"#,
        r#"eval("1")"#,
    ] {
        let o = Command::new(EXE)
            .args(["--dry-run", "-c", call])
            .output()
            .expect("tcpcraft");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{call}: {err}");
        assert!(
            err.contains("undefined") || err.contains("unexpected"),
            "{call}: {err}"
        );
    }
    // What does touch files takes the file's name from the script: include, rdpcap,
    // wrpcap, ladder(file=), and the command line's --pcap. help() lists no other.
    let o = Command::new(EXE)
        .args(["--dry-run", "-c", "help()"])
        .output()
        .expect("tcpcraft");
    let help = String::from_utf8_lossy(&o.stdout).to_lowercase();
    let names: Vec<&str> = help
        .lines()
        .filter_map(|l| l.trim_start().split_once('(').map(|(n, _)| n.trim()))
        .collect();
    assert!(
        names.contains(&"wrpcap"),
        "help() lists the builtins: {help}"
    );
    for bad in [
        "system", "exec", "shell", "popen", "spawn", "open", "read", "write", "remove", "unlink",
        "env", "getenv", "import", "eval",
    ] {
        assert!(!names.contains(&bad), "help() lists {bad}(): {help}");
    }
}
