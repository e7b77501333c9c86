//! `scan --banners` and nmap's file formats against real Linux stacks on the test bed:
//! services that speak first (a greeting that closes, an SSH-like line that stays open)
//! and services that wait (HTTP), over IPv4 and IPv6, each banner exactly what the
//! service sent; silent services open with no banner; a /16 routed into the server
//! namespace as local addresses with nginx answering on 80 for all of them, every
//! banner read, also through 10% random loss each way; the XML valid against nmap's DTD
//! and read by ndiff (two tcpcraft runs, and tcpcraft beside nmap).
//!
//! Needs root (namespaces); skips with a message without it, FAILS under CI=true.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tcpcraft::net::testbed::{self, Bed, BedConfig, Faults};

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

fn bed(test: &str, listen: &[&str]) -> Option<Bed> {
    if let Err(why) = testbed::can_build() {
        if ci() {
            panic!("{test}: cannot build the test bed under CI=true: {why}");
        }
        eprintln!("SKIPPED {test}: {why}");
        return None;
    }
    let id = format!(
        "b{}x{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let cfg = BedConfig {
        id,
        listen: listen.iter().map(|s| s.to_string()).collect(),
        faults: Faults::default(),
    };
    Some(Bed::up(&cfg).unwrap_or_else(|e| panic!("{test}: building the test bed failed: {e}")))
}

/// A program the test needs: its path, or `None` (skipped, said why; a failure under CI).
fn need(test: &str, program: &str) -> Option<PathBuf> {
    match testbed::system_program(program) {
        Some(p) => Some(p),
        None if ci() => panic!("{test}: {program} is not installed (scripts/deps.sh)"),
        None => {
            eprintln!("SKIPPED {test}: {program} is not installed");
            None
        }
    }
}

fn tcpcraft(bed: &Bed, args: &[&str]) -> Output {
    let out = bed
        .client_cmd(env!("CARGO_BIN_EXE_tcpcraft"))
        .args(args)
        .output()
        .expect("run tcpcraft");
    eprintln!(
        "tcpcraft {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// JSON lines → (host, port) → banner ("" for an open port without one).
fn banners(out: &Output) -> HashMap<(String, u16), String> {
    let mut m = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if line.starts_with("{\"stats\"") {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["state"], "open", "{line}");
        let key = (
            v["host"].as_str().unwrap().to_string(),
            v["port"].as_u64().unwrap() as u16,
        );
        let b = v
            .get("banner")
            .map(|b| b.as_str().unwrap().to_string())
            .unwrap_or_default();
        assert!(m.insert(key, b).is_none(), "listed twice: {line}");
    }
    m
}

/// A kernel listener in the server namespace written in Python: accepts on `port` (both
/// families), sends `greeting` and keeps the connection open (an SSH server waits for
/// the client's version line after its own).
fn ssh_like(bed: &Bed, port: u16, greeting: &str) -> Child {
    let code = format!(
        r#"
import socket, threading, time
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", {port}))
s.listen(128)
print("ready", flush=True)
def serve(c):
    c.sendall({greeting:?}.encode())
    time.sleep(10)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"#
    );
    let mut child = bed
        .server_cmd("python3")
        .args(["-I", "-c", &code])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the python listener");
    let mut line = String::new();
    let mut r = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    std::io::BufRead::read_line(&mut r, &mut line).expect("listener ready");
    assert_eq!(line.trim(), "ready");
    child
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn banners_of_services_that_speak_first_and_that_wait_v4_and_v6() {
    let test = "banners_of_services_that_speak_first_and_that_wait_v4_and_v6";
    let Some(bed) = bed(test, &["http:80", "greet:13", "open:22", "echo:7"]) else {
        return;
    };
    let _ssh = Kill(ssh_like(
        &bed,
        2222,
        "SSH-2.0-OpenSSH_9.2p1 tcpcraft-test\r\n",
    ));
    for host in ["198.18.0.2", "2001:db8:198:18::2"] {
        let t0 = Instant::now();
        let out = tcpcraft(
            &bed,
            &[
                "scan",
                host,
                "-p",
                "1-1024,2222",
                "--banners",
                "--banner-timeout",
                "1.5",
                "--json",
                "-q",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{host}");
        let got = banners(&out);
        let b = |p: u16| got.get(&(host.to_string(), p)).cloned();
        // Services that speak first: the greeting as sent (escaped), also one that keeps
        // the connection open after it.
        assert_eq!(b(13).as_deref(), Some("hello\\n"), "{host}: {got:?}");
        assert_eq!(
            b(2222).as_deref(),
            Some("SSH-2.0-OpenSSH_9.2p1 tcpcraft-test\\r\\n"),
            "{host}"
        );
        // A service that waits for the client: our GET, its whole answer.
        assert_eq!(
            b(80).as_deref(),
            Some(
                "HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 20\\r\\n\
                 Connection: close\\r\\n\\r\\nhello from tcpcraft\\n"
            ),
            "{host}"
        );
        // Silent services are open, with no banner: one that closes at once, one that
        // waits (echo) until the timeout.
        assert_eq!(b(22).as_deref(), Some(""), "{host}");
        assert_eq!(b(7).as_deref(), Some(""), "{host}");
        assert_eq!(got.len(), 5, "{host}: {got:?}");
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "{host}: {:?}",
            t0.elapsed()
        );
        // The table prints each banner under its port, as nmap's banner script does.
        let t = tcpcraft(&bed, &["scan", host, "-p", "13,80", "--banners", "-q"]);
        let text = String::from_utf8_lossy(&t.stdout);
        assert!(
            text.contains("13/tcp") && text.contains("\n|_banner: hello\\n\n"),
            "{text}"
        );
        assert!(text.contains("|_banner: HTTP/1.0 200 OK\\r\\n"), "{text}");
    }
    // No connection is left behind in the server's kernel (each ended with our RST),
    // except those the SSH-like server keeps until its own timer.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let ss = bed
            .server_cmd("ss")
            .args([
                "-Htn",
                "state",
                "established",
                "( sport = :80 or sport = :7 )",
            ])
            .output()
            .expect("ss");
        let left = String::from_utf8_lossy(&ss.stdout).trim().to_string();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "connections still established: {left}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// nginx's master, stopped with SIGTERM so that it takes its workers along (SIGKILL
/// would leave them running, holding our output pipe).
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A small nginx in the server namespace: `return 200` on port 80, both families.
fn nginx(bed: &Bed, dir: &Path) -> Nginx {
    let bin = testbed::system_program("nginx").expect("nginx");
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    std::fs::write(
        dir.join("nginx.conf"),
        format!(
            "worker_processes 2;\npid {d}/nginx.pid;\nerror_log {d}/logs/error.log;\n\
             daemon off;\nevents {{ worker_connections 65536; multi_accept on; }}\n\
             worker_rlimit_nofile 200000;\n\
             http {{ access_log off; server {{ listen 80 backlog=65535 reuseport; \
             listen [::]:80 backlog=65535 reuseport; \
             location / {{ return 200 \"hello from nginx\\n\"; }} }} }}\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let child = bed
        .server_cmd(bin.to_str().unwrap())
        .args(["-c", dir.join("nginx.conf").to_str().unwrap()])
        .args(["-p", dir.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let child = Nginx(child);
    // Wait until it listens.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ss = bed
            .server_cmd("ss")
            .args(["-Htln", "sport = :80"])
            .output()
            .expect("ss");
        if !String::from_utf8_lossy(&ss.stdout).trim().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "nginx did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// 198.19.0.0/16 as local addresses of the server namespace (the client routes it
/// there already), with nothing in the way.
fn route_slash16_into_server(bed: &Bed) {
    for args in [
        &["ip", "route", "add", "local", "198.19.0.0/16", "dev", "lo"][..],
        &["nft", "delete", "table", "netdev", "tcpcraft_silent"],
        &["sysctl", "-qw", "net.core.somaxconn=65535"],
        &["sysctl", "-qw", "net.ipv4.tcp_max_syn_backlog=65535"],
    ] {
        let out = bed
            .server_cmd(args[0])
            .args(&args[1..])
            .output()
            .expect("server namespace command");
        assert!(
            out.status.success() || args[0] == "nft",
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn check_slash16(out: &Output, what: &str) {
    assert_eq!(out.status.code(), Some(0), "{what}");
    let got = banners(out);
    assert_eq!(got.len(), 65536, "{what}: every host open");
    let bad: Vec<_> = got
        .iter()
        .filter(|(_, b)| {
            !(b.starts_with("HTTP/1.1 200 OK\\r\\n")
                && b.ends_with("\\r\\n\\r\\nhello from nginx\\n"))
        })
        .take(5)
        .collect();
    let missing = got
        .values()
        .filter(|b| !b.ends_with("hello from nginx\\n"))
        .count();
    assert_eq!(
        missing, 0,
        "{what}: {missing} banners missing or wrong, e.g. {bad:?}"
    );
}

#[test]
fn every_banner_of_a_routed_slash16_also_through_ten_percent_loss() {
    let test = "every_banner_of_a_routed_slash16_also_through_ten_percent_loss";
    if need(test, "nginx").is_none() {
        return;
    }
    let Some(bed) = bed(test, &["echo:7"]) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("tcpcraft-nginx-{}", std::process::id()));
    let _nginx = nginx(&bed, &dir);
    route_slash16_into_server(&bed);
    let args = [
        "scan",
        "198.19.0.0/16",
        "-p",
        "80",
        "--banners",
        "--banner-timeout",
        "20",
        "--json",
        "-q",
        "-v",
    ];
    let out = tcpcraft(&bed, &args);
    check_slash16(&out, "no loss");
    bed.set_faults(&Faults {
        loss: 10,
        ..Faults::default()
    })
    .expect("loss");
    let out = tcpcraft(&bed, &args);
    check_slash16(&out, "10% loss each way");
    let _ = std::fs::remove_dir_all(&dir);
}

/// An ndiff line for a port that changed: `-22/tcp open ssh`, `+22/tcp ...`.
fn is_port_line(l: &str) -> bool {
    l.starts_with(['-', '+'])
        && l[1..]
            .split_once("/tcp")
            .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn nmap_xml_is_valid_and_ndiff_reads_it() {
    let test = "nmap_xml_is_valid_and_ndiff_reads_it";
    let (Some(xmllint), Some(ndiff), Some(nmap)) = (
        need(test, "xmllint"),
        need(test, "ndiff"),
        need(test, "nmap"),
    ) else {
        return;
    };
    let dtd = Path::new("/usr/share/nmap/nmap.dtd");
    if !dtd.is_file() {
        assert!(!ci(), "{test}: nmap's DTD is missing");
        eprintln!("SKIPPED {test}: no {}", dtd.display());
        return;
    }
    let Some(bed) = bed(test, &["http:80", "greet:13", "open:22"]) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("tcpcraft-xml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |n: &str| dir.join(n).to_string_lossy().into_owned();
    // Two tcpcraft runs (one with banners, -oA's three files), one nmap run.
    let a = tcpcraft(
        &bed,
        &[
            "scan",
            "198.18.0.2",
            "-p",
            "1-1024",
            "--banners",
            "--reason",
            "-oA",
            &p("a"),
            "-q",
        ],
    );
    assert_eq!(a.status.code(), Some(0));
    let b = tcpcraft(
        &bed,
        &[
            "scan",
            "198.18.0.2",
            "-p",
            "1-1024",
            "--banners",
            "-oX",
            &p("b.xml"),
            "-q",
        ],
    );
    assert_eq!(b.status.code(), Some(0));
    // Without banners, for nmap (Debian's ndiff 7.93 fails with a TypeError on two
    // files where only one has a script's output for a port: its own bug).
    let plain = tcpcraft(
        &bed,
        &[
            "scan",
            "198.18.0.2",
            "-p",
            "1-1024",
            "-oX",
            &p("p.xml"),
            "-q",
        ],
    );
    assert_eq!(plain.status.code(), Some(0));
    let v6 = tcpcraft(
        &bed,
        &[
            "scan",
            "2001:db8:198:18::2",
            "-p",
            "20-30",
            "--all",
            "-oX",
            &p("c.xml"),
            "-q",
        ],
    );
    assert_eq!(v6.status.code(), Some(0));
    let n = bed
        .client_cmd(nmap.to_str().unwrap())
        .args([
            "-Pn",
            "-n",
            "-sS",
            "-p",
            "1-1024",
            "198.18.0.2",
            "-oX",
            &p("n.xml"),
        ])
        .output()
        .expect("nmap");
    assert!(n.status.success(), "{}", String::from_utf8_lossy(&n.stderr));
    for f in ["a.xml", "b.xml", "c.xml", "p.xml"] {
        let v = std::process::Command::new(&xmllint)
            .args(["--noout", "--dtdvalid", dtd.to_str().unwrap(), &p(f)])
            .output()
            .expect("xmllint");
        assert!(
            v.status.success(),
            "{f} is not valid: {}",
            String::from_utf8_lossy(&v.stderr)
        );
    }
    let xml = std::fs::read_to_string(p("a.xml")).unwrap();
    assert!(
        xml.contains("portid=\"13\"><state state=\"open\" reason=\"syn-ack\" reason_ttl=\"0\"/><script id=\"banner\" output=\"hello\\n\"/></port>"),
        "{xml}"
    );
    assert!(
        xml.contains("<extraports state=\"closed\" count=\"1021\">"),
        "{xml}"
    );
    let normal = std::fs::read_to_string(p("a.nmap")).unwrap();
    assert!(
        normal.contains("Nmap scan report for 198.18.0.2\n"),
        "{normal}"
    );
    assert!(
        normal.contains("Not shown: 1021 closed tcp ports (reset)\n"),
        "{normal}"
    );
    assert!(
        normal.contains("13/tcp open          syn-ack\n|_banner: hello\\n\n"),
        "{normal}"
    );
    let gnmap = std::fs::read_to_string(p("a.gnmap")).unwrap();
    assert!(gnmap.contains("13/open/tcp////hello\\n/"), "{gnmap}");
    let c = std::fs::read_to_string(p("c.xml")).unwrap();
    assert!(
        c.contains("addrtype=\"ipv6\"") && c.contains("portid=\"22\"><state state=\"open\""),
        "{c}"
    );
    // ndiff: two tcpcraft runs of the same host show no port or banner changes; tcpcraft beside
    // nmap shows at most names (nmap knows more service names) and the MAC address nmap
    // sees, no port whose state differs.
    let d = std::process::Command::new(&ndiff)
        .args([p("a.xml"), p("b.xml")])
        .output()
        .expect("ndiff");
    let text = String::from_utf8_lossy(&d.stdout);
    assert!(
        d.status.code() == Some(0) || d.status.code() == Some(1),
        "{text}"
    );
    assert!(
        !text.lines().any(is_port_line),
        "tcpcraft vs tcpcraft: {text}"
    );
    let d = std::process::Command::new(&ndiff)
        .args([p("p.xml"), p("n.xml")])
        .output()
        .expect("ndiff");
    let text = String::from_utf8_lossy(&d.stdout);
    assert!(
        d.status.code() == Some(0) || d.status.code() == Some(1),
        "ndiff failed: {text} {}",
        String::from_utf8_lossy(&d.stderr)
    );
    for l in text.lines().filter(|l| is_port_line(l)) {
        let port = l[1..].split('/').next().unwrap_or("");
        assert!(
            text.lines()
                .filter(|m| m[..]
                    .get(1..)
                    .is_some_and(|r| r.starts_with(&format!("{port}/tcp"))))
                .all(|m| m.contains(" open")),
            "state differs from nmap's: {text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tls_hello_reports_version_suite_and_subject() {
    let test = "tls_hello_reports_version_suite_and_subject";
    let Some(openssl) = need(test, "openssl") else {
        return;
    };
    let Some(bed) = bed(test, &["echo:7"]) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("tcpcraft-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (key, cert) = (dir.join("k.pem"), dir.join("c.pem"));
    let made = std::process::Command::new(&openssl)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=tcpcraft.test/O=Test Bed"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl req");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    // 443 offers TLS 1.2 at most (its certificate comes in the clear), 8443 TLS 1.3.
    let server = |port: &str, extra: &[&str]| {
        Kill(
            bed.server_cmd(openssl.to_str().unwrap())
                .args(["s_server", "-quiet", "-accept", port])
                .arg("-cert")
                .arg(&cert)
                .arg("-key")
                .arg(&key)
                .args(extra)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("openssl s_server"),
        )
    };
    let _a = server("443", &["-tls1_2"]);
    let _b = server("8443", &[]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ss = bed
            .server_cmd("ss")
            .args(["-Htln", "( sport = :443 or sport = :8443 )"])
            .output()
            .expect("ss");
        if String::from_utf8_lossy(&ss.stdout).lines().count() >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "openssl s_server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    for host in ["198.18.0.2", "2001:db8:198:18::2"] {
        let out = tcpcraft(
            &bed,
            &["scan", host, "-p", "443,8443", "--banners", "--json", "-q"],
        );
        let got = banners(&out);
        let b12 = got
            .get(&(host.to_string(), 443))
            .cloned()
            .unwrap_or_default();
        assert!(
            b12.starts_with("TLSv1.2 TLS_ECDHE_RSA_WITH_")
                && b12.ends_with(" subject: CN=tcpcraft.test, O=Test Bed"),
            "{host}: {got:?}"
        );
        let b13 = got
            .get(&(host.to_string(), 8443))
            .cloned()
            .unwrap_or_default();
        assert!(b13.starts_with("TLSv1.3 TLS_"), "{host}: {got:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
