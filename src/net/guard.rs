//! The kernel-RST guard: keeps the host kernel from killing hand-driven connections.
//!
//! When a SYN-ACK (or a SYN) arrives for a port that no kernel socket owns, the kernel
//! answers with a RST, which resets the peer's half of a connection tcpcraft is
//! driving by hand. The guard drops exactly those RSTs: an nftables table
//! `inet tcpcraft_<pid>` whose *output* chain drops `tcp flags & rst == rst` leaving
//! from the session's ports (a named set, so sessions add and remove ports as they
//! come and go). `inet` covers IPv4 and IPv6; the output hook also sees loopback.
//!
//! Why this mechanism (measured on Linux 6.x):
//! - an *output* drop keeps the kernel's RST off the wire while raw sockets still
//!   see the SYN-ACK; an *input* drop would hide the SYN-ACK from raw sockets too;
//! - a table created with `flags owner` belongs to the netlink socket that made it
//!   and disappears when that socket closes. The socket is held by an `nft -i` child
//!   reading commands from a pipe: when tcpcraft drops the guard, exits, is killed by
//!   a signal or even by SIGKILL, the pipe closes, `nft` exits and the kernel removes
//!   the table. Nothing is left behind;
//! - `nft` runs in its own process group, so a Ctrl-C at the REPL does not kill it.
//!
//! tcpcraft's own RSTs (a user's `s.send("R")`) leave from the same ports; they are
//! let through by their socket mark [`MARK`], which the engine sets on its raw
//! sockets with [`mark_socket`].

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::net::IpAddr;
use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// Socket mark of tcpcraft's raw sockets ("tcrf"): packets carrying it pass the guard.
pub const MARK: u32 = 0x7463_7266;

/// Prefix of every table the guard creates; the rest is the owning process id.
pub const TABLE_PREFIX: &str = "tcpcraft_";

/// How long `nft` may take to answer one batch of commands.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// Guards made by this process so far, to give each its own table name.
static GUARDS: AtomicUsize = AtomicUsize::new(0);

/// Why the guard could not be installed or changed.
#[derive(Debug)]
pub enum GuardError {
    /// The `nft` program is not installed.
    NftMissing,
    /// `nft` could not be started, or the pipe to it failed.
    Io(io::Error),
    /// `nft` refused a command; the text is its error message.
    Nft(String),
    /// `nft` did not answer in time, or exited.
    NoAnswer(String),
}

impl fmt::Display for GuardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuardError::NftMissing => f.write_str(
                "the RST guard needs the nft program: install the nftables package \
                 (apt-get install nftables), or turn the guard off with --no-rst-guard",
            ),
            GuardError::Io(e) => write!(f, "RST guard: running nft failed: {e}"),
            GuardError::Nft(msg) if msg.contains("CAP_NET_ADMIN") => f.write_str(msg),
            GuardError::Nft(msg) => write!(f, "RST guard: nft refused: {msg}"),
            GuardError::NoAnswer(msg) => write!(f, "RST guard: {msg}"),
        }
    }
}

impl std::error::Error for GuardError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GuardError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for GuardError {
    fn from(e: io::Error) -> Self {
        GuardError::Io(e)
    }
}

/// An nftables table held by an `nft -i` child: created with `flags owner` where the
/// kernel knows it (5.12), so that it disappears with the child's netlink socket, on
/// every exit path; dropping this value closes the pipe and waits for the child.
#[derive(Debug)]
struct OwnedTable {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Lines `nft` writes to stderr (its error messages and the sync markers).
    lines: Receiver<String>,
    /// `inet tcpcraft_<pid>` or `netdev tcpcraft_<pid>_scan`: family and name.
    table: String,
    /// Whether the kernel took `flags owner` (else removal relies on drop and on
    /// [`remove_stale`] at the next start).
    owner: bool,
    /// Counts the sync markers.
    batches: u64,
}

impl OwnedTable {
    /// Starts `nft -i` and creates `table` ("family name") holding `body`'s commands.
    fn create(table: String, body: &[String]) -> Result<OwnedTable, GuardError> {
        let mut child = nft_command()
            .arg("-i")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // Its own process group: a Ctrl-C meant for the REPL must not end the table.
            .process_group(0)
            .spawn()
            .map_err(spawn_error)?;
        let stdin = child.stdin.take();
        let stderr = child.stderr.take();
        let (tx, rx) = mpsc::channel();
        if let Some(err) = stderr {
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let mut t = OwnedTable {
            child,
            stdin,
            lines: rx,
            table,
            owner: true,
            batches: 0,
        };
        let name = t.table.clone();
        let owned = [
            vec![format!("add table {name} {{ flags owner; }}")],
            body.to_vec(),
        ]
        .concat();
        if t.exec(&owned).is_err() {
            // Kernels before 5.12 know no owner tables: the table then lives until drop
            // or until the next start's remove_stale.
            t.owner = false;
            let _ = t.exec(&[format!("delete table {name}")]);
            let plain = [vec![format!("add table {name}")], body.to_vec()].concat();
            t.exec(&plain)?;
        }
        Ok(t)
    }

    /// Sends commands to `nft -i` and waits until it has run them, by appending a
    /// marker command whose (expected) error line comes back on stderr after every
    /// error of the commands before it.
    fn exec(&mut self, cmds: &[String]) -> Result<(), GuardError> {
        self.batches += 1;
        let marker = format!(
            "list table inet {TABLE_PREFIX}sync_{}_{}",
            std::process::id(),
            self.batches
        );
        let mut text = cmds.join("\n");
        text.push('\n');
        text.push_str(&marker);
        text.push('\n');
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| GuardError::NoAnswer("nft is no longer running".into()))?;
        stdin.write_all(text.as_bytes())?;
        stdin.flush()?;
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line == marker => break,
                Ok(line) => seen.push(line),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(GuardError::NoAnswer(format!(
                        "nft did not answer within {} s",
                        ANSWER_TIMEOUT.as_secs()
                    )))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(GuardError::NoAnswer(format!(
                        "nft exited: {}",
                        seen.join(" ")
                    )))
                }
            }
        }
        // The marker's own "Error: No such file or directory" precedes it.
        if seen.last().is_some_and(|l| l.starts_with("Error:")) {
            seen.pop();
        }
        let errors: Vec<String> = seen
            .into_iter()
            .filter(|l| !l.chars().all(|c| c == '^' || c.is_whitespace()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(GuardError::Nft(errors.join(" | ")))
        }
    }
}

impl Drop for OwnedTable {
    fn drop(&mut self) {
        if !self.owner {
            let t = self.table.clone();
            let _ = self.exec(&[format!("delete table {t}")]);
        }
        // Closing the pipe ends `nft -i`; its netlink socket closes and the kernel
        // removes the owner table.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether this process may change nftables (CAP_NET_ADMIN).
fn may_change_nftables() -> bool {
    super::sys::effective_caps() & (1u64 << super::sys::CAP_NET_ADMIN) != 0
}

/// An installed guard. Dropping it removes the table.
#[derive(Debug)]
pub struct RstGuard {
    t: OwnedTable,
    /// Guarded ports with the number of sessions using each.
    ports: BTreeMap<u16, usize>,
    /// One line per leftover table removed at start.
    notes: Vec<String>,
}

impl RstGuard {
    /// Removes tables of ended runs, starts `nft -i` and creates this process's table
    /// with an empty port set. The guard acts in the network namespace of the calling
    /// thread.
    pub fn new() -> Result<RstGuard, GuardError> {
        // Without CAP_NET_ADMIN nft would be refused; say so at once, with the fixes.
        if !may_change_nftables() {
            return Err(GuardError::Nft(
                "keeping the kernel from resetting a hand-driven connection needs the \
                 CAP_NET_ADMIN capability (an nftables table): run tcpcraft with sudo, or \
                 grant it once with `sudo setcap cap_net_raw,cap_net_admin+ep $(which tcpcraft)`, \
                 or turn the guard off with --no-rst-guard"
                    .into(),
            ));
        }
        let mut notes = Vec::new();
        if let Some(line) = remove_stale()? {
            notes.push(line);
        }
        let n = GUARDS.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let t = if n == 0 {
            format!("{TABLE_PREFIX}{pid}")
        } else {
            format!("{TABLE_PREFIX}{pid}_{n}")
        };
        let body = [
            format!("add set inet {t} ports {{ type inet_service; }}"),
            format!(
                "add chain inet {t} out {{ type filter hook output priority raw; policy accept; }}"
            ),
            format!(
                "add rule inet {t} out meta mark != {MARK:#x} tcp sport @ports \
                 tcp flags & rst == rst counter drop comment \"tcpcraft: kernel RSTs of hand-driven ports\""
            ),
        ];
        Ok(RstGuard {
            t: OwnedTable::create(format!("inet {t}"), &body)?,
            ports: BTreeMap::new(),
            notes,
        })
    }

    /// The table's name (`tcpcraft_<pid>`).
    pub fn table(&self) -> &str {
        self.t.table.strip_prefix("inet ").unwrap_or(&self.t.table)
    }

    /// The guarded ports.
    pub fn ports(&self) -> Vec<u16> {
        self.ports.keys().copied().collect()
    }

    /// Lines about leftover tables removed at start, to be printed once.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// One line saying what is installed, for the user.
    pub fn summary(&self) -> String {
        let ports: Vec<String> = self.ports.keys().map(u16::to_string).collect();
        let ports = if ports.is_empty() {
            "no ports yet".to_string()
        } else {
            format!("tcp port {}", ports.join(", "))
        };
        let removal = if self.t.owner {
            "removed by the kernel when tcpcraft ends"
        } else {
            "removed on exit"
        };
        format!(
            "rst-guard: nftables table inet {} drops the kernel's RSTs from {ports} ({removal}; --no-rst-guard turns it off)",
            self.table()
        )
    }

    /// Guards `port` (a session's local port). Ports are counted: two sessions on one
    /// port need two removals.
    pub fn add_port(&mut self, port: u16) -> Result<(), GuardError> {
        if !self.ports.contains_key(&port) {
            let t = self.table().to_string();
            self.t
                .exec(&[format!("add element inet {t} ports {{ {port} }}")])?;
        }
        *self.ports.entry(port).or_insert(0) += 1;
        Ok(())
    }

    /// Stops guarding `port` once the last session using it is gone.
    pub fn remove_port(&mut self, port: u16) -> Result<(), GuardError> {
        match self.ports.get_mut(&port) {
            Some(n) if *n > 1 => {
                *n -= 1;
                Ok(())
            }
            Some(_) => {
                self.ports.remove(&port);
                let t = self.table().to_string();
                self.t
                    .exec(&[format!("delete element inet {t} ports {{ {port} }}")])
            }
            None => Ok(()),
        }
    }
}

/// The scanner's reply filter: an nftables table `netdev tcpcraft_<pid>_scan` whose
/// ingress chains (one per interface the scan uses) drop the TCP RSTs arriving for the
/// scan's source ports. The scan's capture ring, bound to every protocol, has taken its
/// copy before the ingress hook runs; the kernel would only look each RST up, find no
/// socket and discard it. Skipping that is a tenth of a probe's cost at full rate
/// (measured 407,000 → 444,000 answered probes/s on the 2-core test VM). SYN-ACKs are
/// not touched: the kernel still resets the half-open connections of open ports, as it
/// does for nmap. Dropping the value removes the table.
#[derive(Debug)]
pub struct ReplyDrop {
    t: OwnedTable,
}

impl ReplyDrop {
    /// Installs the table for `devices`, the source ports `ports` (inclusive) and RSTs
    /// coming from the scan's targets `from` (inclusive address ranges): an RST from
    /// anyone else, or to another port, reaches the kernel as always, so an ordinary
    /// connection of another program is never cut off from its RSTs. Needs CAP_NET_ADMIN
    /// and nft; acts in the network namespace of the calling thread.
    pub fn install(
        devices: &[String],
        ports: (u16, u16),
        from: &[(IpAddr, IpAddr)],
    ) -> Result<ReplyDrop, GuardError> {
        if !may_change_nftables() {
            return Err(GuardError::Nft("no CAP_NET_ADMIN".into()));
        }
        let t = format!("{TABLE_PREFIX}{}_scan", std::process::id());
        let (lo, hi) = ports;
        let sources = source_sets(from);
        let mut body = Vec::new();
        for (i, dev) in devices.iter().enumerate() {
            // Device names are the kernel's own (from routes), quoted for nft.
            if dev.is_empty() || !dev.chars().all(|c| c.is_ascii_graphic() && c != '"') {
                continue;
            }
            body.push(format!(
                "add chain netdev {t} in{i} {{ type filter hook ingress device \"{dev}\" priority -500; policy accept; }}"
            ));
            for (family, set) in &sources {
                body.push(format!(
                    "add rule netdev {t} in{i} {family} saddr {{ {set} }} tcp dport {lo}-{hi} \
                     tcp flags & rst == rst drop \
                     comment \"tcpcraft scan: RSTs from its targets answering probes, after capture\""
                ));
            }
        }
        if body.is_empty() {
            return Err(GuardError::Nft("no interface to filter".into()));
        }
        Ok(ReplyDrop {
            t: OwnedTable::create(format!("netdev {t}"), &body)?,
        })
    }

    /// One line saying what was installed, for the user.
    pub fn summary(&self) -> String {
        format!(
            "nftables table {} dropped the RSTs from the scan's targets to its source ports once \
             captured (the kernel had no socket for them); removed when the scan ended \
             (--keep-rsts turns this off)",
            self.t.table
        )
    }
}

/// Most address ranges written into one nftables set; beyond, each family's ranges are
/// covered by one from its lowest to its highest target (still only around the targets).
const MAX_SOURCE_RANGES: usize = 1024;

/// `("ip", "198.18.0.2, 198.18.1.0-198.18.1.255")` and the same for `ip6`: the scan's
/// targets as nftables set elements, per family present.
fn source_sets(from: &[(IpAddr, IpAddr)]) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (family, v6) in [("ip", false), ("ip6", true)] {
        let mut ranges: Vec<(IpAddr, IpAddr)> = from
            .iter()
            .filter(|(a, b)| a.is_ipv6() == v6 && b.is_ipv6() == v6 && a <= b)
            .copied()
            .collect();
        ranges.sort();
        if ranges.len() > MAX_SOURCE_RANGES {
            if let (Some(first), Some(last)) = (ranges.first(), ranges.iter().map(|r| r.1).max()) {
                ranges = vec![(first.0, last)];
            }
        }
        let elems: Vec<String> = ranges
            .iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        if !elems.is_empty() {
            out.push((family, elems.join(", ")));
        }
    }
    out
}

/// The guard shared by every session of the process: made on first use (in the
/// network namespace of that caller), removed when the last session lets go of it.
/// The flag is true when this call installed it (time to print its summary).
pub fn shared() -> Result<(Arc<Mutex<RstGuard>>, bool), GuardError> {
    static SHARED: Mutex<Weak<Mutex<RstGuard>>> = Mutex::new(Weak::new());
    let mut slot = SHARED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(g) = slot.upgrade() {
        return Ok((g, false));
    }
    let g = Arc::new(Mutex::new(RstGuard::new()?));
    *slot = Arc::downgrade(&g);
    Ok((g, true))
}

/// `nft`, also where root's PATH has it when the caller's PATH does not.
fn nft_command() -> Command {
    let path = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("nft");
    let mut cmd = Command::new(path);
    // A non-root tcpcraft given CAP_NET_ADMIN by `setcap` cannot pass a file capability
    // on to a program it runs: make it ambient for nft alone (a no-op for root).
    #[allow(unsafe_code)] // reason: pre_exec runs plain capget/capset/prctl syscalls
    unsafe {
        cmd.pre_exec(|| {
            super::sys::ambient_cap(super::sys::CAP_NET_ADMIN);
            Ok(())
        });
    }
    cmd
}

fn spawn_error(e: io::Error) -> GuardError {
    if e.kind() == io::ErrorKind::NotFound {
        GuardError::NftMissing
    } else {
        GuardError::Io(e)
    }
}

/// Deletes guard tables whose process is gone (left by a kernel without owner
/// tables, or by a run that could not clean up). Returns one line to print when it
/// removed something.
pub fn remove_stale() -> Result<Option<String>, GuardError> {
    let out = nft_command()
        .args(["list", "tables"])
        .stdin(Stdio::null())
        .output()
        .map_err(spawn_error)?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut removed = Vec::new();
    for table in stale_tables(&text, |pid| {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    }) {
        let (family, name) = table.split_once(' ').unwrap_or(("inet", &table));
        let status = nft_command()
            .args(["delete", "table", family, name])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if status.success() {
            removed.push(name.to_string());
        }
    }
    Ok((!removed.is_empty()).then(|| {
        format!(
            "rst-guard: removed {} table(s) left by ended runs: {}",
            removed.len(),
            removed.join(", ")
        )
    }))
}

/// `inet tcpcraft_<pid>[_<n>]` (guards) and `netdev tcpcraft_<pid>_scan` (a scan's
/// reply filter) tables in `nft list tables` output whose pid is not alive, as
/// "family name".
fn stale_tables(listing: &str, alive: impl Fn(u32) -> bool) -> Vec<String> {
    listing
        .lines()
        .filter_map(|l| l.trim().strip_prefix("table "))
        .filter(|t| t.starts_with("inet ") || t.starts_with("netdev "))
        .filter_map(|t| {
            let (_, name) = t.split_once(' ')?;
            let rest = name.strip_prefix(TABLE_PREFIX)?;
            let pid: u32 = rest.split('_').next()?.parse().ok()?;
            (!alive(pid)).then(|| t.to_string())
        })
        .collect()
}

/// Marks a socket with [`MARK`] so that its RSTs pass the guard (needs
/// CAP_NET_ADMIN, which raw sockets need anyway).
pub fn mark_socket(fd: RawFd) -> io::Result<()> {
    let mark: libc::c_uint = MARK;
    // SAFETY: setsockopt reads `size_of::<c_uint>()` bytes from a valid, live local;
    // an invalid fd is reported as an error, not undefined behaviour.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_MARK,
            (&mark as *const libc::c_uint).cast(),
            std::mem::size_of::<libc::c_uint>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_tables_are_those_of_dead_pids() {
        let listing = "table inet filter\ntable inet tcpcraft_12\ntable inet tcpcraft_13_2\n\
                       table ip tcpcraft_99\ntable inet tcpcraft_x\ntable inet tcpcraft_14\n";
        let stale = stale_tables(listing, |pid| pid == 14);
        assert_eq!(stale, ["inet tcpcraft_12", "inet tcpcraft_13_2"]);
        let scans = "table netdev tcpcraft_20_scan\ntable netdev tcpcraft_14_scan\n";
        assert_eq!(
            stale_tables(scans, |pid| pid == 14),
            ["netdev tcpcraft_20_scan"]
        );
    }

    #[test]
    fn reply_filter_sources_are_the_targets_per_family() {
        let a = |s: &str| s.parse::<IpAddr>().unwrap();
        let sets = source_sets(&[
            (a("198.18.0.2"), a("198.18.0.2")),
            (a("2001:db8:198:18::2"), a("2001:db8:198:18::2")),
            (a("198.18.1.0"), a("198.18.1.255")),
        ]);
        assert_eq!(
            sets,
            [
                ("ip", "198.18.0.2, 198.18.1.0-198.18.1.255".to_string()),
                ("ip6", "2001:db8:198:18::2".to_string())
            ]
        );
        // Too many ranges: one range around them all.
        let many: Vec<(IpAddr, IpAddr)> = (0..2000u32)
            .map(|i| {
                let v = IpAddr::V4((0xc612_0000 + 2 * i).into());
                (v, v)
            })
            .collect();
        assert_eq!(
            source_sets(&many),
            [("ip", "198.18.0.0-198.18.15.158".to_string())]
        );
    }

    #[test]
    fn missing_nft_names_the_package() {
        let msg = GuardError::NftMissing.to_string();
        assert!(msg.contains("nftables package"), "{msg}");
        assert!(msg.contains("--no-rst-guard"), "{msg}");
    }
}
