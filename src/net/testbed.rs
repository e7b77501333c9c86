//! Practice and test networks: a client and a server network namespace joined by a veth
//! pair, real kernel listeners in the server (scripts/testbed_server.py, embedded), and
//! faults as nftables rules. Used by `tcpcraft lab` and by the integration tests; the
//! shell twin is scripts/testbed.sh.
//!
//! Addresses are fixed and never anything but 198.18.0.0/15 and 2001:db8:198:18::/64.
//! Everything made is tagged `tcpc-<id>-c` / `tcpc-<id>-s` and removed on drop.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use super::sys;

pub const CLIENT_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
pub const SERVER_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
pub const CLIENT_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 0, 1);
pub const SERVER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 0, 2);
/// A range routed from the client into the server namespace, where nothing answers.
pub const SILENT_NET: &str = "198.19.0.0/16";

/// The server program, embedded so that the lab works from an installed binary.
pub const SERVER_PY: &str = include_str!("../../scripts/testbed_server.py");

/// Where state of live beds is kept (server pid, server script).
const RUN_DIR: &str = "/run/tcpcraft";

/// Where the system programs the bed runs (`ip`, `python3`, `sysctl`, `nft`) are looked
/// for, in order: never through the caller's PATH, which is not root's to trust.
const SYSTEM_DIRS: [&str; 4] = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/// The PATH of the bed's children (`ip netns exec` looks its program up in it).
const SYSTEM_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// The absolute path of a system program, if installed in one of `SYSTEM_DIRS` (/usr/sbin, /sbin, /usr/bin, /bin).
pub fn system_program(name: &str) -> Option<PathBuf> {
    SYSTEM_DIRS
        .iter()
        .map(|d| std::path::Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// A system program by absolute path with a fixed, minimal environment (no variable of
/// the caller's reaches it).
pub fn system_command(name: &str) -> Command {
    let path = system_program(name).unwrap_or_else(|| PathBuf::from("/usr/sbin").join(name));
    let mut c = Command::new(path);
    c.env_clear().env("PATH", SYSTEM_PATH).env("LC_ALL", "C");
    c
}

/// `ip netns exec NS PROGRAM` with PROGRAM by absolute path and the fixed environment.
pub(super) fn netns_exec(ns: &str, program: &str) -> Command {
    let mut c = system_command("ip");
    c.args(["netns", "exec", ns]);
    match system_program(program) {
        Some(p) => c.arg(p),
        None => c.arg(program),
    };
    c
}

/// What to build.
#[derive(Clone, Debug)]
pub struct BedConfig {
    /// Lower-case letters and digits; names become tcpc-ID-c and tcpc-ID-s.
    pub id: String,
    /// Listener specs for the server: "http:80", "echo:7", "uecho:7", "open:22".
    pub listen: Vec<String>,
    pub faults: Faults,
}

/// nftables faults in the server namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Ports whose TCP/UDP packets are dropped silently ("filtered").
    pub drop: Vec<u16>,
    /// Ports answered with ICMP / ICMPv6 administratively prohibited.
    pub reject: Vec<u16>,
    /// Random loss in percent, each way.
    pub loss: u8,
}

impl BedConfig {
    /// The tests' standard network: HTTP on 80, echo on TCP and UDP 7, 8443 filtered.
    pub fn standard(id: &str) -> BedConfig {
        BedConfig {
            id: id.to_string(),
            listen: vec!["http:80".into(), "echo:7".into(), "uecho:7".into()],
            faults: Faults {
                drop: vec![8443],
                ..Faults::default()
            },
        }
    }

    /// The lab's network: the standard one, and the servers the lessons need: one that
    /// answers only after your FIN on 9 (a half-close), one that greets and closes
    /// first on 13, one that closes 1 s after your FIN on 17, ping-pong on 19.
    pub fn lab(id: &str) -> BedConfig {
        let mut cfg = BedConfig::standard(id);
        cfg.listen.extend([
            "halfclose:9".into(),
            "greet:13".into(),
            "lateclose:17".into(),
            "pingpong:19".into(),
        ]);
        cfg
    }
}

/// A live test bed; dropping it removes everything it made.
#[derive(Debug)]
pub struct Bed {
    pub id: String,
    pub client: String,
    pub server: String,
    server_proc: Option<Child>,
    dir: PathBuf,
}

pub(super) fn run(cmd: &mut Command) -> io::Result<()> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "running {:?}: {e} (is iproute2 installed?)",
                cmd.get_program()
            ),
        )
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{:?} {:?} failed: {}",
            cmd.get_program(),
            cmd.get_args().collect::<Vec<_>>(),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

pub(super) fn ip(args: &[&str]) -> io::Result<()> {
    run(system_command("ip").args(args))
}

pub(super) fn ns_exists(name: &str) -> bool {
    std::path::Path::new("/run/netns").join(name).exists()
}

/// `ip netns del NAME`, tried again for up to a second while the name is still there:
/// a deletion can fail for a moment while another `ip netns` command (another bed being
/// built) is changing the mounts under /run/netns.
pub(super) fn del_netns(name: &str) -> io::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        let r = ip(&["netns", "del", name]);
        if !ns_exists(name) {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return r.and(Err(io::Error::other(format!(
                "network namespace {name} is still there"
            ))));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The nftables ruleset for `faults` (a table of its own, replaced as a whole).
pub fn fault_rules(f: &Faults) -> String {
    let list = |ports: &[u16]| {
        ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut s = String::from("table inet tcpcraft_faults {\n  chain input {\n    type filter hook input priority 0; policy accept;\n");
    if f.loss > 0 {
        s += &format!("    numgen random mod 100 < {} drop\n", f.loss);
    }
    if !f.drop.is_empty() {
        s += &format!(
            "    meta l4proto {{ tcp, udp }} th dport {{ {} }} drop\n",
            list(&f.drop)
        );
    }
    if !f.reject.is_empty() {
        s += &format!(
            "    meta l4proto {{ tcp, udp }} th dport {{ {} }} reject with icmpx type admin-prohibited\n",
            list(&f.reject)
        );
    }
    s += "  }\n  chain output {\n    type filter hook output priority 0; policy accept;\n";
    if f.loss > 0 {
        s += &format!("    numgen random mod 100 < {} drop\n", f.loss);
    }
    s += "  }\n}\n";
    s
}

impl Bed {
    /// Build the network, start the listeners, add the faults. Any earlier bed with the
    /// same id is removed first, so this is idempotent.
    pub fn up(cfg: &BedConfig) -> io::Result<Bed> {
        if cfg.id.is_empty()
            || !cfg
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a test bed id is lower-case letters and digits",
            ));
        }
        remove_by_id(&cfg.id);
        let client = format!("tcpc-{}-c", cfg.id);
        let server = format!("tcpc-{}-s", cfg.id);
        let dir = PathBuf::from(RUN_DIR).join(&cfg.id);
        // From here on, a failure drops `bed`, which removes what was made so far.
        let mut bed = Bed {
            id: cfg.id.clone(),
            client: client.clone(),
            server: server.clone(),
            server_proc: None,
            dir: dir.clone(),
        };
        std::fs::create_dir_all(&dir)?;
        ip(&["netns", "add", &client])?;
        ip(&["netns", "add", &server])?;
        ip(&[
            "link", "add", "tc0", "netns", &client, "type", "veth", "peer", "name", "tc0", "netns",
            &server,
        ])?;
        for ns in [&client, &server] {
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
            ip(&["-n", ns, "link", "set", "tc0", "up"])?;
            // No ICMP rate limits: tests and scans count every error.
            for kv in [
                "net.ipv4.icmp_ratelimit=0",
                "net.ipv6.icmp.ratelimit=0",
                "net.ipv4.icmp_msgs_per_sec=1000000",
            ] {
                let _ = run(netns_exec(ns, "sysctl").args(["-qw", kv]));
            }
        }
        ip(&["-n", &client, "addr", "add", "198.18.0.1/24", "dev", "tc0"])?;
        ip(&["-n", &server, "addr", "add", "198.18.0.2/24", "dev", "tc0"])?;
        ip(&[
            "-n",
            &client,
            "addr",
            "add",
            "2001:db8:198:18::1/64",
            "dev",
            "tc0",
            "nodad",
        ])?;
        ip(&[
            "-n",
            &server,
            "addr",
            "add",
            "2001:db8:198:18::2/64",
            "dev",
            "tc0",
            "nodad",
        ])?;
        ip(&[
            "-n",
            &client,
            "route",
            "add",
            SILENT_NET,
            "via",
            "198.18.0.2",
        ])?;
        bed.set_faults(&cfg.faults)?;
        start_server(&server, &dir, &cfg.listen, &mut bed.server_proc)?;
        Ok(bed)
    }

    /// Replace the nftables faults in the server namespace.
    pub fn set_faults(&self, f: &Faults) -> io::Result<()> {
        apply_faults(&self.server, f)
    }

    /// A command run inside the client namespace.
    pub fn client_cmd(&self, program: &str) -> Command {
        let mut c = Command::new(system_program("ip").unwrap_or_else(|| PathBuf::from("ip")));
        c.args(["netns", "exec", &self.client, program]);
        c
    }

    /// A command run inside the server namespace.
    pub fn server_cmd(&self, program: &str) -> Command {
        let mut c = Command::new(system_program("ip").unwrap_or_else(|| PathBuf::from("ip")));
        c.args(["netns", "exec", &self.server, program]);
        c
    }

    /// Run `f` on a new thread that lives in the client namespace.
    pub fn in_client<T: Send>(&self, f: impl FnOnce() -> T + Send) -> io::Result<T> {
        in_netns(&self.client, f)
    }

    /// Run `f` on a new thread that lives in the server namespace.
    pub fn in_server<T: Send>(&self, f: impl FnOnce() -> T + Send) -> io::Result<T> {
        in_netns(&self.server, f)
    }

    /// The server's addresses.
    pub fn target(&self) -> IpAddr {
        IpAddr::V4(SERVER_V4)
    }

    /// Remove everything (also done on drop).
    pub fn down(&mut self) {
        if let Some(mut c) = self.server_proc.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = del_netns(&self.client);
        let _ = del_netns(&self.server);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Bed {
    fn drop(&mut self) {
        self.down();
    }
}

/// Replace the nftables faults in namespace `ns`.
pub(super) fn apply_faults(ns: &str, f: &Faults) -> io::Result<()> {
    let _ = run(netns_exec(ns, "nft").args(["delete", "table", "inet", "tcpcraft_faults"]));
    if f == &Faults::default() {
        return Ok(());
    }
    let mut child = netns_exec(ns, "nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("running nft: {e}")))?;
    if let Some(mut i) = child.stdin.take() {
        i.write_all(fault_rules(f).as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "nft failed (is nftables installed?): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Start the listeners (scripts/testbed_server.py) in namespace `server`, keeping the
/// child in `slot` (so that its owner's drop kills it) and its pid in `dir`.
pub(super) fn start_server(
    server: &str,
    dir: &std::path::Path,
    listen: &[String],
    slot: &mut Option<Child>,
) -> io::Result<()> {
    let script = dir.join("server.py");
    std::fs::write(&script, SERVER_PY)?;
    let mut cmd = netns_exec(server, "python3");
    // -I: isolated (no PYTHON* variables, no user site directory).
    cmd.arg("-I")
        .arg(&script)
        .args(listen)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The server must not outlive us, even if we are killed; and it gets a process
    // group of its own, so Ctrl-C at the lab's terminal reaches tcpcraft, not it.
    #[allow(unsafe_code)]
    // reason: prctl and setpgid are async-signal-safe, as pre_exec requires
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            libc::setpgid(0, 0);
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("starting python3 for the server: {e}")))?;
    // The pid with its start time: after a crash, a process that merely reuses the
    // pid (or whose command line says server.py) is never taken for ours.
    let started = sys::process_start_time(child.id()).unwrap_or(0);
    std::fs::write(dir.join("server.pid"), format!("{} {started}", child.id()))?;
    let stdout = child.stdout.take();
    *slot = Some(child);
    let mut line = String::new();
    if let Some(out) = stdout {
        BufReader::new(out).read_line(&mut line)?;
    }
    if line.trim() != "ready" {
        let mut err = String::new();
        if let Some(mut c) = slot.take() {
            let _ = c.kill();
            if let Some(mut e) = c.stderr.take() {
                let _ = io::Read::read_to_string(&mut e, &mut err);
            }
            let _ = c.wait();
        }
        return Err(io::Error::other(format!(
            "the test bed server did not start: {}",
            err.trim()
        )));
    }
    Ok(())
}

/// Run `f` on a fresh thread moved into network namespace `name`.
pub fn in_netns<T: Send>(name: &str, f: impl FnOnce() -> T + Send) -> io::Result<T> {
    std::thread::scope(|s| {
        s.spawn(|| {
            sys::enter_netns(name)?;
            Ok(f())
        })
        .join()
        .map_err(|_| io::Error::other("the thread in the namespace panicked"))?
    })
}

/// Remove the bed with this id, whoever made it: kill its server, delete its namespaces.
/// Returns whether there was anything to remove.
pub fn remove_by_id(id: &str) -> bool {
    let dir = PathBuf::from(RUN_DIR).join(id);
    let client = format!("tcpc-{id}-c");
    let server = format!("tcpc-{id}-s");
    let mut any = false;
    if let Some((pid, started)) = std::fs::read_to_string(dir.join("server.pid"))
        .ok()
        .and_then(|s| parse_pid_file(&s))
    {
        // Only our server: the pid may have been reused since a crash. The start time
        // recorded with it names one process; a command line proves nothing.
        if sys::process_start_time(pid) == Some(started) {
            any |= sys::kill(pid, libc::SIGTERM);
        }
    }
    // A chain (net/chain.rs) also has two routers between them.
    let routers = router_names(id);
    for ns in [&client, &server].into_iter().chain(routers.iter()) {
        if ns_exists(ns) {
            any = true;
            let _ = del_netns(ns);
        }
    }
    if dir.exists() {
        any = true;
        let _ = std::fs::remove_dir_all(&dir);
    }
    any
}

/// The routers' namespace names for a bed id.
pub fn router_names(id: &str) -> [String; 2] {
    [format!("tcpc-{id}-r1"), format!("tcpc-{id}-r2")]
}

/// "PID STARTTIME" as written by [`Bed::up`]; anything else (an old file with the pid
/// alone, a start time of 0) names no process.
fn parse_pid_file(s: &str) -> Option<(u32, u64)> {
    let mut it = s.split_whitespace();
    let pid = it.next()?.parse().ok()?;
    let started: u64 = it.next()?.parse().ok()?;
    (started != 0 && it.next().is_none()).then_some((pid, started))
}

/// Ids of beds whose names start with `tcpc-<prefix>` (from /run/netns and /run/tcpcraft).
pub fn bed_ids(prefix: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let want = format!("tcpc-{prefix}");
    if let Ok(rd) = std::fs::read_dir("/run/netns") {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(rest) = name.strip_prefix("tcpc-") {
                if name.starts_with(&want) {
                    if let Some(id) = ["-c", "-s", "-r1", "-r2"]
                        .iter()
                        .find_map(|x| rest.strip_suffix(x))
                    {
                        ids.push(id.to_string());
                    }
                }
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir(RUN_DIR) {
        for e in rd.flatten() {
            let id = e.file_name().to_string_lossy().into_owned();
            if format!("tcpc-{id}").starts_with(&want) {
                ids.push(id);
            }
        }
    }
    ids.sort();
    ids.dedup();
    ids
}

/// Can this process build test beds (root, `ip` and `python3` present)?
pub fn can_build() -> Result<(), String> {
    // Namespaces need CAP_SYS_ADMIN as well, and `ip`/`python3` run as children, which
    // file capabilities do not reach: only root will do.
    const CAP_SYS_ADMIN: u32 = 21;
    let caps = sys::effective_caps();
    if caps & (1u64 << sys::CAP_NET_ADMIN) == 0 || caps & (1u64 << CAP_SYS_ADMIN) == 0 {
        return Err(
            "needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) to create network namespaces; \
             setcap is not enough here"
                .into(),
        );
    }
    for tool in ["ip", "python3", "nft"] {
        if system_program(tool).is_none() {
            return Err(format!(
                "`{tool}` is missing (apt-get install -y iproute2 nftables python3)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_files_name_a_process_by_pid_and_start_time() {
        assert_eq!(parse_pid_file("123 456\n"), Some((123, 456)));
        assert_eq!(
            parse_pid_file("123\n"),
            None,
            "the old format names nothing"
        );
        assert_eq!(parse_pid_file("123 0"), None);
        assert_eq!(parse_pid_file("123 456 7"), None);
        let me = std::process::id();
        assert!(sys::process_start_time(me).is_some());
    }

    #[test]
    fn fault_rules_read_like_nft() {
        let r = fault_rules(&Faults {
            drop: vec![8443],
            reject: vec![81, 82],
            loss: 10,
        });
        assert!(r.contains("numgen random mod 100 < 10 drop"));
        assert!(r.contains("th dport { 8443 } drop"));
        assert!(r.contains("th dport { 81, 82 } reject with icmpx type admin-prohibited"));
    }
}
