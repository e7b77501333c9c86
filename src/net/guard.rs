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
//! - the table is made over netlink by tcpcraft itself ([`super::nft`]), never by an
//!   `nft` child (no program tcpcraft runs receives a capability), with `flags owner`:
//!   it belongs to the netlink socket that made it and disappears when that socket
//!   closes. When tcpcraft drops the guard, exits, or is killed by a signal or even by
//!   SIGKILL, the kernel removes the table. Nothing is left behind.
//!
//! tcpcraft's own RSTs (a user's `s.send("R")`) leave from the same ports; they are
//! let through by their socket mark [`MARK`], which the engine sets on its raw
//! sockets with [`mark_socket`].

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::IpAddr;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::nft::{
    Cmp, Msg, Nft, Rule, HOOK_INGRESS, HOOK_OUTPUT, NFPROTO_INET, NFPROTO_NETDEV, TABLE_F_OWNER,
};

/// Socket mark of tcpcraft's raw sockets ("tcrf"): packets carrying it pass the guard.
pub const MARK: u32 = 0x7463_7266;

/// Prefix of every table the guard creates; the rest is the owning process id.
pub const TABLE_PREFIX: &str = "tcpcraft_";

/// Guards made by this process so far, to give each its own table name.
static GUARDS: AtomicUsize = AtomicUsize::new(0);

/// Why the guard could not be installed or changed.
#[derive(Debug)]
pub enum GuardError {
    /// The netlink socket failed.
    Io(io::Error),
    /// The change is not allowed (no CAP_NET_ADMIN) or not possible; the text says why.
    Nft(String),
    /// The kernel refused a change or did not answer; the text says what was being done.
    NoAnswer(String),
}

impl fmt::Display for GuardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuardError::Io(e) => write!(f, "RST guard: netlink failed: {e}"),
            GuardError::Nft(msg) if msg.contains("CAP_NET_ADMIN") => f.write_str(msg),
            GuardError::Nft(msg) => write!(f, "RST guard: {msg}"),
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

/// Whether this process may change nftables (CAP_NET_ADMIN).
fn may_change_nftables() -> bool {
    super::sys::effective_caps() & (1u64 << super::sys::CAP_NET_ADMIN) != 0
}

/// An installed guard. Dropping it removes the table.
#[derive(Debug)]
pub struct RstGuard {
    nft: Nft,
    /// The table's name (`tcpcraft_<pid>[_<n>]`).
    table: String,
    /// Whether the kernel took `flags owner` (else the table is deleted on drop, and by
    /// [`remove_stale`] at the next start after a crash).
    owner: bool,
    /// Guarded ports with the number of sessions using each.
    ports: BTreeMap<u16, usize>,
    /// One line per leftover table removed at start.
    notes: Vec<String>,
}

/// The guard's set of ports.
const PORT_SET: &str = "ports";

fn nft_error(what: &str, e: io::Error) -> GuardError {
    if e.raw_os_error() == Some(libc::EPERM) {
        GuardError::Nft(NO_ADMIN.into())
    } else {
        GuardError::NoAnswer(format!("{what}: {e}"))
    }
}

/// Without CAP_NET_ADMIN: what to do.
const NO_ADMIN: &str = "keeping the kernel from resetting a hand-driven connection needs the \
     CAP_NET_ADMIN capability (an nftables table): run tcpcraft with sudo, or \
     grant it once with `sudo setcap cap_net_raw,cap_net_admin+ep $(which tcpcraft)`, \
     or turn the guard off with --no-rst-guard";

impl RstGuard {
    /// Removes tables of ended runs and creates this process's table with an empty port
    /// set, over netlink. The guard acts in the network namespace of the calling thread.
    pub fn new() -> Result<RstGuard, GuardError> {
        // Without CAP_NET_ADMIN the kernel would refuse; say so at once, with the fixes.
        if !may_change_nftables() {
            return Err(GuardError::Nft(NO_ADMIN.into()));
        }
        let mut notes = Vec::new();
        if let Some(line) = remove_stale()? {
            notes.push(line);
        }
        let n = GUARDS.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let table = if n == 0 {
            format!("{TABLE_PREFIX}{pid}")
        } else {
            format!("{TABLE_PREFIX}{pid}_{n}")
        };
        let mut nft = Nft::open().map_err(|e| nft_error("opening netlink", e))?;
        let body = |flags: u32| {
            let f = NFPROTO_INET;
            // meta mark != MARK tcp sport @ports tcp flags & rst == rst counter drop
            let rule = Rule::new()
                .meta(3)
                .cmp(Cmp::Neq, &MARK.to_ne_bytes())
                .meta(16)
                .cmp(Cmp::Eq, &[6])
                .transport(0, 2)
                .lookup(PORT_SET, 1)
                .tcp_rst()
                .counter()
                .drop_packet();
            vec![
                Msg::new_table(f, &table, flags),
                Msg::new_port_set(f, &table, PORT_SET, 1),
                // priority raw (-300)
                Msg::new_chain(f, &table, "out", HOOK_OUTPUT, -300, None),
                Msg::new_rule(f, &table, "out", rule),
            ]
        };
        let mut owner = true;
        if let Err(e) = nft.batch(&body(TABLE_F_OWNER)) {
            if e.raw_os_error() == Some(libc::EPERM) {
                return Err(nft_error("creating the table", e));
            }
            // Kernels before 5.12 know no owner tables: the table then lives until drop
            // or until the next start's remove_stale.
            owner = false;
            nft.batch(&body(0))
                .map_err(|e| nft_error("creating the table", e))?;
        }
        Ok(RstGuard {
            nft,
            table,
            owner,
            ports: BTreeMap::new(),
            notes,
        })
    }

    /// The table's name (`tcpcraft_<pid>`).
    pub fn table(&self) -> &str {
        &self.table
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
        let removal = if self.owner {
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
            let m = Msg::set_port(NFPROTO_INET, &self.table, PORT_SET, port, true);
            self.nft
                .batch(&[m])
                .map_err(|e| nft_error("adding a port", e))?;
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
                let m = Msg::set_port(NFPROTO_INET, &self.table, PORT_SET, port, false);
                self.nft
                    .batch(&[m])
                    .map_err(|e| nft_error("removing a port", e))
            }
            None => Ok(()),
        }
    }
}

impl Drop for RstGuard {
    fn drop(&mut self) {
        // An owner table goes with the socket, closed right after this.
        if !self.owner {
            let _ = self.nft.batch(&[Msg::del_table(NFPROTO_INET, &self.table)]);
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
    /// The netlink socket owning the table (the kernel removes it when this closes).
    nft: Nft,
    table: String,
    owner: bool,
    /// Every TCP segment, not only RSTs (see [`ReplyDrop::install_for`]).
    all_tcp: bool,
}

impl ReplyDrop {
    /// Installs the table for `devices`, the source ports `ports` (inclusive) and RSTs
    /// coming from the scan's targets `from` (inclusive address ranges): an RST from
    /// anyone else, or to another port, reaches the kernel as always, so an ordinary
    /// connection of another program is never cut off from its RSTs. Needs
    /// CAP_NET_ADMIN; acts in the network namespace of the calling thread. Made over
    /// netlink ([`super::nft`]), as the guard's: one rule per target range.
    pub fn install(
        devices: &[String],
        ports: (u16, u16),
        from: &[(IpAddr, IpAddr)],
    ) -> Result<ReplyDrop, GuardError> {
        ReplyDrop::install_for(devices, ports, from, false)
    }

    /// As [`install`](Self::install); with `all_tcp`, every TCP segment from the
    /// targets to those ports is dropped once captured, not only RSTs: the kernel then
    /// never answers a SYN-ACK or data with a RST, so the scan can finish handshakes
    /// and read banners on its own (`scan --banners`).
    pub fn install_for(
        devices: &[String],
        ports: (u16, u16),
        from: &[(IpAddr, IpAddr)],
        all_tcp: bool,
    ) -> Result<ReplyDrop, GuardError> {
        if !may_change_nftables() {
            return Err(GuardError::Nft("no CAP_NET_ADMIN".into()));
        }
        let table = format!("{TABLE_PREFIX}{}_scan", std::process::id());
        let (lo, hi) = ports;
        let ranges = source_ranges(from);
        if ranges.is_empty() {
            return Err(GuardError::Nft("no target to filter".into()));
        }
        let f = NFPROTO_NETDEV;
        let body = |flags: u32| {
            let mut msgs = vec![Msg::new_table(f, &table, flags)];
            for (i, dev) in devices.iter().enumerate() {
                // Device names are the kernel's own (from routes).
                if dev.is_empty() || dev.len() >= 16 || !dev.chars().all(|c| c.is_ascii_graphic()) {
                    continue;
                }
                let chain = format!("in{i}");
                msgs.push(Msg::new_chain(
                    f,
                    &table,
                    &chain,
                    HOOK_INGRESS,
                    -500,
                    Some(dev),
                ));
                // meta protocol ip|ip6 saddr a-b tcp dport lo-hi tcp flags & rst == rst drop
                for (a, b) in &ranges {
                    let (proto, off, sa, sb): (u16, u32, Vec<u8>, Vec<u8>) = match (a, b) {
                        (IpAddr::V4(a), IpAddr::V4(b)) => {
                            (0x0800, 12, a.octets().to_vec(), b.octets().to_vec())
                        }
                        (IpAddr::V6(a), IpAddr::V6(b)) => {
                            (0x86dd, 8, a.octets().to_vec(), b.octets().to_vec())
                        }
                        _ => continue,
                    };
                    let rule = Rule::new()
                        .meta(1)
                        .cmp(Cmp::Eq, &proto.to_be_bytes())
                        .network(off, sa.len() as u32)
                        .cmp(Cmp::Gte, &sa)
                        .cmp(Cmp::Lte, &sb)
                        .meta(16)
                        .cmp(Cmp::Eq, &[6])
                        .transport(2, 2)
                        .cmp(Cmp::Gte, &lo.to_be_bytes())
                        .cmp(Cmp::Lte, &hi.to_be_bytes());
                    let rule = if all_tcp { rule } else { rule.tcp_rst() }.drop_packet();
                    msgs.push(Msg::new_rule(f, &table, &chain, rule));
                }
            }
            msgs
        };
        if body(0).len() < 2 {
            return Err(GuardError::Nft("no interface to filter".into()));
        }
        let mut nft = Nft::open().map_err(|e| nft_error("opening netlink", e))?;
        let mut owner = true;
        if let Err(e) = nft.batch(&body(TABLE_F_OWNER)) {
            if e.raw_os_error() == Some(libc::EPERM) {
                return Err(nft_error("creating the scan's table", e));
            }
            owner = false;
            nft.batch(&body(0))
                .map_err(|e| nft_error("creating the scan's table", e))?;
        }
        Ok(ReplyDrop {
            nft,
            table,
            owner,
            all_tcp,
        })
    }

    /// One line saying what was installed, for the user.
    pub fn summary(&self) -> String {
        if self.all_tcp {
            return format!(
                "nftables table netdev {} dropped the TCP segments from the scan's targets to \
                 its source ports once captured, so the kernel did not reset the connections \
                 read for banners; removed when the scan ended",
                self.table
            );
        }
        format!(
            "nftables table netdev {} dropped the RSTs from the scan's targets to its source ports \
             once captured (the kernel had no socket for them); removed when the scan ended \
             (--keep-rsts turns this off)",
            self.table
        )
    }
}

/// Most address ranges filtered per family (one rule each); beyond, each family's ranges
/// are covered by one from its lowest to its highest target (still only around them).
const MAX_SOURCE_RANGES: usize = 1024;

/// The scan's targets as inclusive address ranges, sorted, per family present.
fn source_ranges(from: &[(IpAddr, IpAddr)]) -> Vec<(IpAddr, IpAddr)> {
    let mut out = Vec::new();
    for v6 in [false, true] {
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
        out.extend(ranges);
    }
    out
}

impl Drop for ReplyDrop {
    fn drop(&mut self) {
        if !self.owner {
            let _ = self
                .nft
                .batch(&[Msg::del_table(NFPROTO_NETDEV, &self.table)]);
        }
    }
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

/// Deletes guard tables whose process is gone (left by a kernel without owner
/// tables, or by a run that could not clean up). Returns one line to print when it
/// removed something.
pub fn remove_stale() -> Result<Option<String>, GuardError> {
    let mut nft = Nft::open().map_err(|e| nft_error("opening netlink", e))?;
    let listing: String = nft
        .tables()
        .map_err(|e| nft_error("listing tables", e))?
        .into_iter()
        .filter_map(|(family, name)| {
            let family = match family {
                NFPROTO_INET => "inet",
                NFPROTO_NETDEV => "netdev",
                _ => return None,
            };
            Some(format!("table {family} {name}\n"))
        })
        .collect();
    let mut removed = Vec::new();
    for table in stale_tables(&listing, |pid| {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    }) {
        let (family, name) = table.split_once(' ').unwrap_or(("inet", &table));
        let family = if family == "netdev" {
            NFPROTO_NETDEV
        } else {
            NFPROTO_INET
        };
        if nft.batch(&[Msg::del_table(family, name)]).is_ok() {
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
    super::sys::set_mark(fd, MARK)
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
    fn refusals_name_the_capability_and_the_fixes() {
        let msg = nft_error("x", io::Error::from_raw_os_error(libc::EPERM)).to_string();
        assert!(msg.contains("CAP_NET_ADMIN"), "{msg}");
        assert!(
            msg.contains("setcap") && msg.contains("--no-rst-guard"),
            "{msg}"
        );
        let msg = nft_error("adding a port", io::Error::from_raw_os_error(libc::EINVAL));
        assert!(msg.to_string().contains("adding a port"), "{msg}");
    }
}
