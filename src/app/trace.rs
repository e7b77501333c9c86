//! `tcpcraft trace HOST[:PORT]`: tcptraceroute / hping3 `--traceroute` / nmap
//! `--traceroute` from the command line. The options are checked here; the trace is the
//! language's `traceroute()` run by a built-in script (`src/trace.tcs`), so `--dry-run`,
//! `--pcap`, the privilege messages and Ctrl-C behave as everywhere else.

use clap::{Args, ValueEnum};

/// The built-in script.
pub const SCRIPT: &str = include_str!("trace.tcs");
/// Its name in messages.
pub const NAME: &str = "<trace>";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TraceProto {
    /// TCP SYN (the default): a SYN-ACK or RST ends the trace at the target
    Tcp,
    /// UDP datagrams (port 33434 unless -p): an ICMP port unreachable ends it
    Udp,
    /// ICMP echo requests (ICMPv6 for an IPv6 host): the echo reply ends it
    Icmp,
}

/// `tcpcraft trace HOST[:PORT] [-p PORT] [--proto tcp|udp|icmp] [--min-ttl N] [--max-ttl N] …`
#[derive(Args, Debug, Clone)]
pub struct TraceArgs {
    /// An address or host name, with :PORT if you like (`198.18.3.2:443`, `[2001:db8::1]:22`)
    pub host: String,
    /// Destination port (TCP default 80, UDP default 33434)
    #[arg(short = 'p', long, value_name = "PORT")]
    pub port: Option<u16>,
    /// What the probes are
    #[arg(long, value_enum, default_value_t = TraceProto::Tcp, value_name = "PROTO")]
    pub proto: TraceProto,
    /// First TTL (IPv6 hop limit) probed
    #[arg(long = "min-ttl", value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=255))]
    pub min_ttl: u8,
    /// Last TTL probed
    #[arg(short = 'm', long = "max-ttl", value_name = "N", default_value_t = 30,
          value_parser = clap::value_parser!(u8).range(1..=255))]
    pub max_ttl: u8,
    /// Seconds to wait for answers after the probes left
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = parse_timeout)]
    pub timeout: f64,
    /// Resolve a host name to its IPv6 address
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && (0.0..=3600.0).contains(&x) => Ok(x),
        _ => Err(format!("--timeout takes seconds from 0 to 3600, not {s:?}")),
    }
}

/// `HOST[:PORT]` into the host and the port, if one is given. A bare IPv6 address keeps
/// its colons; with a port it is written in brackets.
pub fn split_host_port(s: &str) -> Result<(String, Option<u16>), String> {
    if s.parse::<std::net::IpAddr>().is_ok() {
        return Ok((s.to_string(), None));
    }
    let (host, port) = match s.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((h, "")) => (h, None),
            Some((h, p)) => match p.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None => return Err(format!("{s:?}: expected [ADDRESS]:PORT")),
            },
            None => return Err(format!("{s:?}: missing ]")),
        },
        None => match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            Some(_) => {
                return Err(format!(
                    "{s:?}: write an IPv6 address with a port as [ADDRESS]:PORT"
                ))
            }
            None => (s, None),
        },
    };
    let port = match port {
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| format!("{s:?}: the port must be 0 to 65535, not {p:?}"))?,
        ),
        None => None,
    };
    Ok((host.to_string(), port))
}

/// The script's args: address (resolved), proto, port, min TTL, max TTL, timeout, json.
pub fn script_args(a: &TraceArgs, json: bool) -> Result<Vec<String>, String> {
    let (host, in_host) = split_host_port(&a.host)?;
    if let (Some(p), Some(q)) = (in_host, a.port) {
        if p != q {
            return Err(format!("port {p} in {:?} and --port {q} disagree", a.host));
        }
    }
    if a.min_ttl > a.max_ttl {
        return Err(format!(
            "--min-ttl {} is above --max-ttl {}",
            a.min_ttl, a.max_ttl
        ));
    }
    let dst = crate::scan::targets::resolve_host(&host, a.ipv6)?;
    let (proto, default_port) = match a.proto {
        TraceProto::Tcp => ("tcp", 80),
        TraceProto::Udp => ("udp", crate::lang::trace::UDP_PORT),
        TraceProto::Icmp => ("icmp", 0),
    };
    let port = a.port.or(in_host).unwrap_or(default_port);
    Ok(vec![
        dst.to_string(),
        proto.into(),
        port.to_string(),
        a.min_ttl.to_string(),
        a.max_ttl.to_string(),
        a.timeout.to_string(),
        if json { "1" } else { "0" }.into(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: TraceArgs,
    }

    fn args(v: &[&str]) -> Result<Vec<String>, String> {
        let t = T::try_parse_from(std::iter::once("trace").chain(v.iter().copied()))
            .map_err(|e| e.to_string())?;
        script_args(&t.a, false)
    }

    #[test]
    fn host_port_forms() {
        assert_eq!(
            split_host_port("198.18.3.2").unwrap(),
            ("198.18.3.2".into(), None)
        );
        assert_eq!(
            split_host_port("198.18.3.2:443").unwrap(),
            ("198.18.3.2".into(), Some(443))
        );
        assert_eq!(
            split_host_port("2001:db8:198:18::3:2").unwrap(),
            ("2001:db8:198:18::3:2".into(), None)
        );
        assert_eq!(
            split_host_port("[2001:db8:198:18::3:2]:22").unwrap(),
            ("2001:db8:198:18::3:2".into(), Some(22))
        );
        assert!(split_host_port("198.18.3.2:99999")
            .unwrap_err()
            .contains("0 to 65535"));
        assert!(split_host_port("[::1").unwrap_err().contains("missing ]"));
    }

    #[test]
    fn options_become_the_scripts_args() {
        assert_eq!(
            args(&["198.18.3.2:22", "--max-ttl", "8"]).unwrap(),
            ["198.18.3.2", "tcp", "22", "1", "8", "2", "0"]
        );
        assert_eq!(args(&["198.18.3.2", "--proto", "udp"]).unwrap()[2], "33434");
        assert!(args(&["198.18.3.2", "--proto", "sctp"])
            .unwrap_err()
            .contains("tcp, udp, icmp"));
        assert!(args(&["198.18.3.2", "--min-ttl", "9", "--max-ttl", "3"])
            .unwrap_err()
            .contains("above"));
        assert!(args(&["198.18.3.2:80", "-p", "81"])
            .unwrap_err()
            .contains("disagree"));
        assert!(args(&["198.18.3.2", "--max-ttl", "0"]).is_err());
    }
}
