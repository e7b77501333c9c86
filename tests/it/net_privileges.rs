//! Without CAP_NET_RAW, the first network call fails with a message that names the
//! capability and the fix, and exit status 3; --dry-run still works.
//! As root the capability is dropped with setpriv(1) for the child; as a user it is
//! simply missing.

use std::process::Command;

fn unprivileged() -> Option<Command> {
    let caps = tcpcraft::net::sys::effective_caps();
    if caps & (1 << tcpcraft::net::sys::CAP_NET_RAW) == 0 {
        return Some(Command::new(env!("CARGO_BIN_EXE_tcpcraft")));
    }
    let has_setpriv = Command::new("setpriv").arg("--version").output().is_ok();
    if !has_setpriv {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("setpriv (util-linux) is needed to drop CAP_NET_RAW under CI=true");
        }
        eprintln!("SKIPPED: setpriv missing");
        return None;
    }
    let mut c = Command::new("setpriv");
    c.args(["--bounding-set=-net_raw,-net_admin", "--"])
        .arg(env!("CARGO_BIN_EXE_tcpcraft"));
    Some(c)
}

#[test]
fn missing_cap_net_raw_is_exit_3_with_the_fix() {
    let Some(mut cmd) = unprivileged() else {
        return;
    };
    let out = cmd
        .args([
            "-c",
            "print(\"before\")\nsr1(IP(dst=\"127.0.0.1\")/TCP(dport=9, flags=\"S\"), timeout=0.1)",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "before");
    assert!(err.contains("CAP_NET_RAW"), "{err}");
    assert!(err.contains("sudo"), "{err}");
    assert!(err.contains("setcap cap_net_raw,cap_net_admin+ep"), "{err}");
}

#[test]
fn dry_run_needs_no_privileges() {
    let Some(mut cmd) = unprivileged() else {
        return;
    };
    let out = cmd
        .args([
            "--dry-run",
            "-c",
            "print(sr1(IP(dst=\"127.0.0.1\")/TCP(dport=9, flags=\"S\"), timeout=0.1))",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("would send"), "{text}");
    assert!(text.trim_end().ends_with("none"), "{text}");
}
