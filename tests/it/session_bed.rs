//! The test bed shared by the session tests: two network namespaces joined by a
//! veth pair (addresses in 198.18.0.0/15 and 2001:db8:198:18::/64 only), helpers to
//! run code inside one, and the root check (fail under CI=true, skip elsewhere).
#![allow(dead_code)] // each test binary uses its own part of the bed
#![allow(unsafe_code)] // setns and geteuid via libc

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// True when the test can run; false (after saying why) when it may skip.
pub fn can_run(what: &str) -> bool {
    let root = unsafe { libc::geteuid() } == 0;
    let tools = ["ip", "nft", "ss"].iter().all(|t| {
        Command::new(t)
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    });
    if root && tools {
        return true;
    }
    let why = format!("{what}: needs root, ip, nft and ss (root: {root}, tools: {tools})");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why}");
    }
    eprintln!("skipping {why}");
    false
}

pub fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A client and a server namespace joined by a veth pair; removed on drop.
pub struct Bed {
    pub client: String,
    pub server: String,
    /// The client end of the veth pair.
    pub client_if: String,
}

impl Bed {
    pub fn new() -> Bed {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}-{n}", std::process::id());
        let (vc, vs) = (format!("tcpc-vc{n}"), format!("tcpc-vs{n}"));
        let bed = Bed {
            client: format!("tcpc-c-{id}"),
            server: format!("tcpc-s-{id}"),
            client_if: vc.clone(),
        };
        let (c, s) = (bed.client.as_str(), bed.server.as_str());
        sh(&["ip", "netns", "add", c]);
        sh(&["ip", "netns", "add", s]);
        sh(&[
            "ip", "link", "add", &vc, "netns", c, "type", "veth", "peer", "name", &vs, "netns", s,
        ]);
        for (ns, dev, a4, a6) in [
            (c, &vc, "198.18.0.1/24", "2001:db8:198:18::1/64"),
            (s, &vs, "198.18.0.2/24", "2001:db8:198:18::2/64"),
        ] {
            sh(&["ip", "-n", ns, "addr", "add", a4, "dev", dev]);
            sh(&["ip", "-n", ns, "addr", "add", a6, "dev", dev, "nodad"]);
            sh(&["ip", "-n", ns, "link", "set", dev, "up"]);
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        bed
    }

    pub fn tables(&self) -> String {
        sh(&["ip", "netns", "exec", &self.client, "nft", "list", "tables"])
    }

    /// Whether `ns` holds a SYN_RECV request from `client` (an `ss` address).
    pub fn syn_recv(ns: &str, client: &str) -> bool {
        let out = sh(&["ip", "netns", "exec", ns, "ss", "-Htn", "state", "syn-recv"]);
        out.contains(client)
    }
}

impl Drop for Bed {
    fn drop(&mut self) {
        for ns in [&self.client, &self.server] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// Runs `f` on a thread inside the named network namespace (sockets made there stay
/// there, and children forked from it start there).
pub fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).expect("netns file");
        use std::os::fd::AsRawFd;
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .expect("netns thread")
}
