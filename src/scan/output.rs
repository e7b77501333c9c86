//! Scan output: an nmap-like table, JSON lines, greppable lines, and the progress bar.
//! Results are written after the scan (never from inside the hot loop).

use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::net::IpAddr;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::ports::Proto;
use super::result::{PortResult, ScanResults, State};

/// The nmap-like table of open ports and the summary line (what `print(res)` shows).
impl fmt::Display for ScanResults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        table(self, false, true, &mut out).map_err(|_| fmt::Error)?;
        f.write_str(String::from_utf8_lossy(&out).trim_end())
    }
}

/// A progress bar on stderr with rate and ETA, only when asked and stderr is a terminal.
pub fn progress_bar(enabled: bool, total: Option<u64>) -> Option<ProgressBar> {
    if !enabled || !io::stderr().is_terminal() {
        return None;
    }
    let b = ProgressBar::new(total.unwrap_or(0));
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} probes {rate} ETA {eta} {msg}",
    ) {
        b.set_style(style.with_key(
            "rate",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}/s", s.per_sec());
            },
        ));
    }
    b.enable_steady_tick(Duration::from_millis(100));
    Some(b)
}

/// A few well-known service names for the SERVICE column.
pub fn service(port: u16, proto: Proto) -> &'static str {
    match (proto, port) {
        (_, 7) => "echo",
        (_, 9) => "discard",
        (Proto::Tcp, 21) => "ftp",
        (Proto::Tcp, 22) => "ssh",
        (Proto::Tcp, 23) => "telnet",
        (Proto::Tcp, 25) => "smtp",
        (_, 53) => "domain",
        (Proto::Udp, 67) => "dhcps",
        (Proto::Udp, 69) => "tftp",
        (Proto::Tcp, 80) => "http",
        (Proto::Tcp, 110) => "pop3",
        (_, 111) => "rpcbind",
        (Proto::Udp, 123) => "ntp",
        (Proto::Tcp, 143) => "imap",
        (Proto::Udp, 161) => "snmp",
        (Proto::Tcp, 179) => "bgp",
        (Proto::Tcp, 389) => "ldap",
        (Proto::Tcp, 443) => "https",
        (Proto::Tcp, 445) => "microsoft-ds",
        (Proto::Udp, 500) => "isakmp",
        (Proto::Udp, 514) => "syslog",
        (Proto::Tcp, 587) => "submission",
        (Proto::Tcp, 993) => "imaps",
        (Proto::Tcp, 995) => "pop3s",
        (Proto::Tcp, 3306) => "mysql",
        (Proto::Tcp, 3389) => "ms-wbt-server",
        (Proto::Tcp, 5432) => "postgresql",
        (Proto::Udp, 5353) => "mdns",
        (Proto::Tcp, 6379) => "redis",
        (Proto::Tcp, 8080) => "http-proxy",
        (Proto::Tcp, 8443) => "https-alt",
        _ => "",
    }
}

/// A banner as one printable line: printable ASCII as is, `\r`, `\n`, `\t` and `\\`
/// escaped, every other byte as `\xNN`.
pub fn escape_banner(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

/// Which results a listing shows: open ports, or every port with `--all`.
fn shown(r: &PortResult, all: bool) -> bool {
    all || r.state == State::Open
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The nmap-like table: per host that answered anything (every host with `all`), its
/// open ports (every port with `all`), a "Not shown" line for the rest, and a summary.
pub fn table(res: &ScanResults, all: bool, reason: bool, w: &mut dyn Write) -> io::Result<()> {
    let proto = res.kind.proto();
    let mut answered_hosts = 0u64;
    for host in res.targets.iter() {
        let rows = res.host(host);
        let any_answer = rows.iter().any(|r| r.rtt.is_some());
        if any_answer {
            answered_hosts += 1;
        }
        if !any_answer && !all && !rows.iter().any(|r| r.state == State::Open) {
            continue;
        }
        writeln!(w, "tcpcraft scan report for {host}")?;
        // The rest, grouped by state and reason.
        let mut groups: Vec<(State, String, u64)> = Vec::new();
        for r in rows.iter().filter(|r| !shown(r, all)) {
            let why = r.reason.to_string();
            match groups.iter_mut().find(|g| g.0 == r.state && g.1 == why) {
                Some(g) => g.2 += 1,
                None => groups.push((r.state, why, 1)),
            }
        }
        if !groups.is_empty() {
            groups.sort_by_key(|g| std::cmp::Reverse(g.2));
            let parts: Vec<String> = groups
                .iter()
                .map(|(s, why, n)| {
                    format!(
                        "{} ({why})",
                        plural(
                            *n,
                            &format!("{s} {proto} port"),
                            &format!("{s} {proto} ports")
                        )
                    )
                })
                .collect();
            writeln!(w, "Not shown: {}", parts.join(", "))?;
        }
        let list: Vec<&PortResult> = rows.iter().filter(|r| shown(r, all)).collect();
        if list.is_empty() {
            writeln!(w)?;
            continue;
        }
        if reason {
            writeln!(w, "{:<10} {:<14} {:<14} REASON", "PORT", "STATE", "SERVICE")?;
        } else {
            writeln!(w, "{:<10} {:<14} SERVICE", "PORT", "STATE")?;
        }
        for r in list {
            let port = format!("{}/{}", r.port, r.proto);
            let svc = service(r.port, r.proto);
            if reason {
                let rtt = r
                    .rtt
                    .map(|d| format!(" ({:.3} ms)", d.as_secs_f64() * 1e3))
                    .unwrap_or_default();
                writeln!(w, "{port:<10} {:<14} {svc:<14} {}{rtt}", r.state, r.reason)?;
            } else {
                writeln!(w, "{port:<10} {:<14} {svc}", r.state)?;
            }
            if let Some(b) = &r.banner {
                // As nmap prints its banner script's output under the port.
                writeln!(w, "|_banner: {}", escape_banner(b))?;
            }
        }
        writeln!(w)?;
    }
    summary(res, answered_hosts, w)
}

/// The last line: what was scanned, the counts per state, time and probes.
pub fn summary(res: &ScanResults, answered_hosts: u64, w: &mut dyn Write) -> io::Result<()> {
    let counts: Vec<String> = res
        .counts()
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let st = &res.stats;
    let secs = st.elapsed.as_secs_f64();
    write!(
        w,
        "# {} on {} ({} answered): {} in {:.2} s; {} probes ({:.0}/s), {} retry rounds",
        plural(res.ports.len() as u64, "port", "ports"),
        plural(res.targets.len(), "host", "hosts"),
        answered_hosts,
        if counts.is_empty() {
            "nothing".to_string()
        } else {
            counts.join(", ")
        },
        secs,
        st.sent,
        if secs > 0.0 {
            st.sent as f64 / secs
        } else {
            0.0
        },
        st.rounds,
    )?;
    if st.capture_drops > 0 {
        write!(w, "; capture dropped {} (retried)", st.capture_drops)?;
    }
    if res.interrupted {
        write!(w, "; INTERRUPTED: ports not yet probed read as no-response")?;
    }
    writeln!(w)
}

fn json_escape(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// One JSON line per listed port: host, port, proto, state, reason, rtt_ms, and with
/// `--banners` the banner of an open port that said something (escaped as in the table).
pub fn json_line(r: &PortResult) -> String {
    let rtt = r
        .rtt
        .map(|d| format!("{:.3}", d.as_secs_f64() * 1e3))
        .unwrap_or_else(|| "null".into());
    let banner = r
        .banner
        .as_ref()
        .map(|b| format!(",\"banner\":{}", json_escape(&escape_banner(b))))
        .unwrap_or_default();
    format!(
        "{{\"host\":{},\"port\":{},\"proto\":\"{}\",\"state\":\"{}\",\"reason\":{},\"rtt_ms\":{}{banner}}}",
        json_escape(&r.host.to_string()),
        r.port,
        r.proto,
        r.state,
        json_escape(&r.reason.to_string()),
        rtt
    )
}

/// JSON lines: open ports (every port with `all`), then nothing else, so the outputs of
/// several shards concatenate into one result set.
pub fn json(res: &ScanResults, all: bool, w: &mut dyn Write) -> io::Result<()> {
    for r in res.iter().filter(|r| shown(r, all)) {
        writeln!(w, "{}", json_line(&r))?;
    }
    Ok(())
}

/// The counters as one JSON object (`--json -v`, last line): probes sent, answers, retry
/// rounds, packets the capture ring dropped (each retried), estimated loss, final rate.
pub fn json_stats(res: &ScanResults) -> String {
    let s = &res.stats;
    serde_json::json!({
        "stats": {
            "probes": s.sent,
            "answers": s.replies,
            "retry_rounds": s.rounds,
            "capture_drops": s.capture_drops,
            "loss": (s.loss * 1000.0).round() / 1000.0,
            "final_rate": s.final_rate,
            "first_pass_rate": s.first_pass_rate,
            "seconds": (s.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
            "interrupted": res.interrupted,
            "source_ports": [s.source_ports.0, s.source_ports.1],
            "max_rtt_ms": (s.max_rtt.as_secs_f64() * 1e6).round() / 1000.0,
            "banners": s.banners.as_ref().map(|b| serde_json::json!({
                "connections": b.opened,
                "with_banner": b.banners,
                "silent": b.silent,
                "retransmissions": b.retransmits,
                "refused_table_full": b.table_full,
                "reopened": b.reconnects,
            })),
            "rate_limit": s.rate_limit.as_ref().map(|l| serde_json::json!({
                "kind": l.kind,
                "answers_per_sec": l.answers_per_sec.round(),
                "slowed_to": l.slowed_to.round(),
                "ports": l.ports,
            })),
        }
    })
    .to_string()
}

/// nmap's greppable format (-oG): one line per reported host.
pub fn greppable(res: &ScanResults, all: bool, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "# tcpcraft scan ({} scan)", res.kind.name())?;
    for host in res.targets.iter() {
        let rows = res.host(host);
        if !all
            && !rows
                .iter()
                .any(|r| r.state == State::Open || r.rtt.is_some())
        {
            continue;
        }
        let ports: Vec<String> = rows
            .iter()
            .filter(|r| shown(r, all))
            .map(|r| {
                // The banner goes where nmap puts version information, with nmap's
                // replacements for the field separators.
                let version = r
                    .banner
                    .as_ref()
                    .map(|b| escape_banner(b).replace('/', "|").replace(',', ";"))
                    .unwrap_or_default();
                format!(
                    "{}/{}/{}//{}//{version}/",
                    r.port,
                    r.state,
                    r.proto,
                    service(r.port, r.proto)
                )
            })
            .collect();
        let ignored = rows.iter().filter(|r| !shown(r, all)).count();
        write!(w, "Host: {host} ()\tPorts: {}", ports.join(", "))?;
        if ignored > 0 {
            write!(w, "\tIgnored: {ignored}")?;
        }
        writeln!(w)?;
    }
    Ok(())
}

/// Hosts of a result set with at least one open port.
pub fn open_hosts(res: &ScanResults) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = res.open().into_iter().map(|r| r.host).collect();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::result::{Reason, ScanType};
    use crate::scan::targets::Targets;

    fn sample() -> ScanResults {
        let h: IpAddr = "198.18.0.2".parse().unwrap();
        let r = ScanResults::new(
            ScanType::Syn,
            Targets::from_addrs(&[h]),
            vec![22, 80, 81, 443],
        );
        (0..4).for_each(|i| r.table.probed(i));
        r.table.record(0, Reason::SynAck, 1500);
        r.table.record(1, Reason::SynAck, 2000);
        r.table.record(2, Reason::IcmpUnreach(13), 100);
        r
    }

    #[test]
    fn table_lists_open_ports_and_sums_the_rest() {
        let mut out = Vec::new();
        table(&sample(), false, true, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("tcpcraft scan report for 198.18.0.2\n"), "{s}");
        assert!(s.contains("Not shown: 1 filtered tcp port (icmp-unreach code 13), 1 filtered tcp port (no-response)")
            || s.contains("Not shown: 1 filtered tcp port (no-response), 1 filtered tcp port (icmp-unreach code 13)"), "{s}");
        assert!(
            s.contains("22/tcp     open           ssh            syn-ack (1.500 ms)"),
            "{s}"
        );
        assert!(s.contains("80/tcp     open           http"), "{s}");
        assert!(!s.contains("443/tcp"), "{s}");
        assert!(
            s.contains("# 4 ports on 1 host (1 answered): 2 open, 2 filtered"),
            "{s}"
        );
    }

    #[test]
    fn json_lines_have_the_contract_fields() {
        let mut out = Vec::new();
        json(&sample(), true, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = s
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["host"], "198.18.0.2");
        assert_eq!(lines[0]["port"], 22);
        assert_eq!(lines[0]["proto"], "tcp");
        assert_eq!(lines[0]["state"], "open");
        assert_eq!(lines[0]["reason"], "syn-ack");
        assert_eq!(lines[0]["rtt_ms"], 1.5);
        assert_eq!(lines[3]["state"], "filtered");
        assert!(lines[3]["rtt_ms"].is_null());
    }

    #[test]
    fn results_display_as_the_table() {
        let s = sample().to_string();
        assert!(s.starts_with("tcpcraft scan report for 198.18.0.2"), "{s}");
        assert!(s.contains("22/tcp") && s.contains("syn-ack"), "{s}");
    }

    #[test]
    fn stats_line() {
        let v: serde_json::Value = serde_json::from_str(&json_stats(&sample())).unwrap();
        assert_eq!(v["stats"]["capture_drops"], 0);
        assert_eq!(v["stats"]["interrupted"], false);
    }

    #[test]
    fn greppable_line() {
        let mut out = Vec::new();
        greppable(&sample(), false, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(
            s.contains(
                "Host: 198.18.0.2 ()\tPorts: 22/open/tcp//ssh///, 80/open/tcp//http///\tIgnored: 2"
            ),
            "{s}"
        );
    }
}
