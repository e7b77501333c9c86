//! A test network with real hops: client ↔ router 1 ↔ router 2 ↔ server, four network
//! namespaces joined by veth pairs, forwarding on in the routers, the test bed's
//! listeners and faults in the server. For `traceroute`, fragments crossing routers,
//! and anything that needs a TTL to run out on the way.
//!
//! Addresses (only 198.18.0.0/15 and 2001:db8:198:18::/64):
//!
//! ```text
//! client 198.18.1.1  ─ 198.18.1.2 r1 198.18.2.1 ─ 198.18.2.2 r2 198.18.3.1 ─ 198.18.3.2 server
//!        ::1:1       ─       ::1:2    ::2:1     ─       ::2:2    ::3:1     ─       ::3:2
//! ```
//! (IPv6: 2001:db8:198:18::N:M/112.) Names are tcpc-ID-c, -r1, -r2, -s; everything is
//! removed on drop, also when a test panics, and by [`super::testbed::remove_by_id`].

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::process::{Child, Command};

use super::testbed::{
    apply_faults, del_netns, ip, netns_exec, router_names, run, start_server, Faults,
};

pub const CLIENT_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 1);
pub const R1_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);
pub const R2_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 2, 2);
pub const SERVER_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 3, 2);
pub const CLIENT_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 1, 1);
pub const R1_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 1, 2);
pub const R2_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 2, 2);
pub const SERVER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x198, 0x18, 0, 0, 3, 2);

const RUN_DIR: &str = "/run/tcpcraft";

/// Connects to the server's port 80 over IPv4 and IPv6 (the client runs it).
const WARM_UP: &str = concat!(
    "import socket\n",
    "for a in ('198.18.3.2', '2001:db8:198:18::3:2'):\n",
    "    socket.create_connection((a, 80), timeout=5).close()\n",
);

/// A live chain; dropping it removes all four namespaces and the server.
#[derive(Debug)]
pub struct Chain {
    pub id: String,
    pub client: String,
    pub r1: String,
    pub r2: String,
    pub server: String,
    server_proc: Option<Child>,
    dir: PathBuf,
}

impl Chain {
    /// Build the chain with `listen` (as [`super::testbed::BedConfig::listen`]) and
    /// `faults` in the server. Any earlier bed with the same id is removed first.
    pub fn up(id: &str, listen: &[String], faults: &Faults) -> io::Result<Chain> {
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a test bed id is lower-case letters and digits",
            ));
        }
        super::testbed::remove_by_id(id);
        let [r1, r2] = router_names(id);
        // From here on, a failure drops `chain`, which removes what was made so far.
        let mut chain = Chain {
            id: id.to_string(),
            client: format!("tcpc-{id}-c"),
            r1,
            r2,
            server: format!("tcpc-{id}-s"),
            server_proc: None,
            dir: PathBuf::from(RUN_DIR).join(id),
        };
        std::fs::create_dir_all(&chain.dir)?;
        let c = chain.client.clone();
        let r1 = chain.r1.clone();
        let r2 = chain.r2.clone();
        let s = chain.server.clone();
        for ns in [&c, &r1, &r2, &s] {
            ip(&["netns", "add", ns])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
            // No duplicate address detection, not even for link-local addresses: a
            // tentative fe80:: address delays neighbour discovery by a second.
            for kv in [
                "net.ipv6.conf.all.accept_dad=0",
                "net.ipv6.conf.default.accept_dad=0",
            ] {
                let _ = run(netns_exec(ns, "sysctl").args(["-qw", kv]));
            }
        }
        // Link n joins `left` (tc1, or tc0 for the client) and `right` (tc0).
        for (n, left, lif, right) in [
            (1, &c, "tc0", &r1),
            (2, &r1, "tc1", &r2),
            (3, &r2, "tc1", &s),
        ] {
            ip(&[
                "link", "add", lif, "netns", left, "type", "veth", "peer", "name", "tc0", "netns",
                right,
            ])?;
            for (ns, ifc, host) in [(left, lif, 1), (right, "tc0", 2)] {
                ip(&["-n", ns, "link", "set", ifc, "up"])?;
                let v4 = format!("198.18.{n}.{host}/24");
                let v6 = format!("2001:db8:198:18::{n}:{host}/112");
                ip(&["-n", ns, "addr", "add", &v4, "dev", ifc])?;
                ip(&["-n", ns, "addr", "add", &v6, "dev", ifc, "nodad"])?;
            }
        }
        for ns in [&c, &r1, &r2, &s] {
            // No ICMP rate limits: every time-exceeded and unreachable is counted.
            for kv in [
                "net.ipv4.icmp_ratelimit=0",
                "net.ipv6.icmp.ratelimit=0",
                "net.ipv4.icmp_msgs_per_sec=1000000",
            ] {
                let _ = run(netns_exec(ns, "sysctl").args(["-qw", kv]));
            }
        }
        for ns in [&r1, &r2] {
            for kv in ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"] {
                run(netns_exec(ns, "sysctl").args(["-qw", kv]))?;
            }
        }
        let routes: [(&String, &str, &str); 8] = [
            (&c, "198.18.0.0/15", "198.18.1.2"),
            (&c, "2001:db8:198:18::/64", "2001:db8:198:18::1:2"),
            (&r1, "198.18.3.0/24", "198.18.2.2"),
            (&r1, "2001:db8:198:18::3:0/112", "2001:db8:198:18::2:2"),
            (&r2, "198.18.1.0/24", "198.18.2.1"),
            (&r2, "2001:db8:198:18::1:0/112", "2001:db8:198:18::2:1"),
            (&s, "198.18.0.0/15", "198.18.3.1"),
            (&s, "2001:db8:198:18::/64", "2001:db8:198:18::3:1"),
        ];
        for (ns, net, via) in routes {
            ip(&["-n", ns, "route", "add", net, "via", via])?;
        }
        apply_faults(&s, faults)?;
        start_server(&s, &chain.dir, listen, &mut chain.server_proc)?;
        // One connection end to end in each family, so that every neighbour on the way
        // is resolved before a test measures anything.
        if listen.iter().any(|l| l == "http:80") {
            run(netns_exec(&c, "python3").args(["-I", "-c", WARM_UP]))?;
        }
        Ok(chain)
    }

    /// The server's address of the family.
    pub fn target(&self, v6: bool) -> IpAddr {
        if v6 {
            IpAddr::V6(SERVER_V6)
        } else {
            IpAddr::V4(SERVER_V4)
        }
    }

    /// A command run inside the client namespace.
    pub fn client_cmd(&self, program: &str) -> Command {
        ns_cmd(&self.client, program)
    }

    /// A command run inside the server namespace.
    pub fn server_cmd(&self, program: &str) -> Command {
        ns_cmd(&self.server, program)
    }

    /// Replace the nftables faults in the server.
    pub fn set_faults(&self, f: &Faults) -> io::Result<()> {
        apply_faults(&self.server, f)
    }

    /// Remove everything (also done on drop).
    pub fn down(&mut self) {
        if let Some(mut c) = self.server_proc.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in [&self.client, &self.r1, &self.r2, &self.server] {
            let _ = del_netns(ns);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ns_cmd(ns: &str, program: &str) -> Command {
    let mut c =
        Command::new(super::testbed::system_program("ip").unwrap_or_else(|| PathBuf::from("ip")));
    c.args(["netns", "exec", ns, program]);
    c
}

impl Drop for Chain {
    fn drop(&mut self) {
        self.down();
    }
}
