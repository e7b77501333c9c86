//! nmap's file formats: XML (`-oX`, valid against nmap's DTD, so ndiff, Metasploit's
//! db_import and report tools read it) and normal output (`-oN`); `-oA BASE` writes
//! these and the greppable lines of [`super::output::greppable`] at once.
//!
//! tcpcraft scans as nmap -Pn does (no host discovery), so a listed host is "up" with
//! reason "user-set", as nmap writes it. Hosts that answered nothing and have no open
//! port are left out unless `--all` (as the table does), and counted as down.

use std::io::{self, Write};
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::output::{escape_banner, service};
use super::result::{PortResult, Reason, ScanResults, ScanType, State};

/// What the formats need besides the results.
#[derive(Clone, Debug)]
pub struct RunInfo {
    /// The command line, as typed.
    pub args: String,
    /// When the scan began and ended (seconds since the epoch).
    pub start: u64,
    pub end: u64,
    /// List every port (`--all`), not only open ones.
    pub all: bool,
    /// The REASON column in normal output (XML always has reasons, as nmap's).
    pub reason: bool,
}

impl RunInfo {
    /// For a scan that just ended after `elapsed`.
    pub fn now(args: String, elapsed: Duration, all: bool, reason: bool) -> RunInfo {
        let end = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        RunInfo {
            args,
            start: end.saturating_sub(elapsed.as_secs()),
            end,
            all,
            reason,
        }
    }
}

/// nmap's name for an answer (its reason strings: syn-ack, reset, port-unreach, …).
pub fn reason_name(r: Reason) -> String {
    match r {
        Reason::IcmpUnreach(c) => match c {
            0 => "net-unreach".into(),
            1 => "host-unreach".into(),
            2 => "proto-unreach".into(),
            3 => "port-unreach".into(),
            9 => "net-prohibited".into(),
            10 => "host-prohibited".into(),
            13 => "admin-prohibited".into(),
            c => format!("icmp-unreach-{c}"),
        },
        Reason::Icmp6Unreach(c) => match c {
            0 => "no-route".into(),
            1 => "admin-prohibited".into(),
            3 => "host-unreach".into(),
            4 => "port-unreach".into(),
            c => format!("icmp6-unreach-{c}"),
        },
        r => r.to_string(),
    }
}

/// nmap's scan type name for `<scaninfo type=…>` (the DTD's list).
fn scan_type(k: ScanType) -> &'static str {
    match k {
        ScanType::Syn => "syn",
        ScanType::Ack => "ack",
        ScanType::Udp => "udp",
        ScanType::Connect => "connect",
        ScanType::Flags(0) => "null",
        ScanType::Flags(0x01) => "fin",
        ScanType::Flags(0x29) => "xmas",
        // Custom flags: nmap's --scanflags on its SYN scan engine.
        ScanType::Flags(_) => "syn",
    }
}

/// `a-b,c` for a sorted port list.
pub fn port_ranges(ports: &[u16]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(&first) = ports.get(i) {
        let mut last = first;
        while ports
            .get(i + 1)
            .is_some_and(|&n| Some(n) == last.checked_add(1))
        {
            i += 1;
            last = ports.get(i).copied().unwrap_or(last);
        }
        out.push(if first == last {
            first.to_string()
        } else {
            format!("{first}-{last}")
        });
        i += 1;
    }
    out.join(",")
}

/// Text for an XML attribute value (banners are escaped to printable ASCII first).
fn attr(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\n' => o.push_str("&#10;"),
            '\r' => o.push_str("&#13;"),
            '\t' => o.push_str("&#9;"),
            // XML 1.0 has no other control characters, not even as references.
            c if (c as u32) < 0x20 => o.push('?'),
            c => o.push(c),
        }
    }
    o
}

/// `Thu Dec  3 23:44:54 2026` (UTC) for seconds since the epoch, as nmap's startstr.
pub fn time_str(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    format!(
        "{} {} {d:2} {:02}:{:02}:{:02} {y}",
        DAYS.get(days.rem_euclid(7) as usize)
            .copied()
            .unwrap_or("?"),
        MONTHS.get((m - 1) as usize).copied().unwrap_or("?"),
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// One host's rows, and whether it is listed (answered something, has an open port,
/// or `all`).
fn host_rows(res: &ScanResults, host: IpAddr, all: bool) -> Option<Vec<PortResult>> {
    let rows = res.host(host);
    let listed = all
        || rows
            .iter()
            .any(|r| r.rtt.is_some() || r.state == State::Open);
    (listed && !rows.is_empty()).then_some(rows)
}

fn shown(r: &PortResult, all: bool) -> bool {
    all || r.state == State::Open
}

/// Ports not listed of one state: the state, how many, and their ports by reason.
type Extra = (State, u64, Vec<(String, Vec<u16>)>);

/// The ports not listed, by state and then by reason, most numerous state first.
fn extra(rows: &[PortResult], all: bool) -> Vec<Extra> {
    let mut out: Vec<Extra> = Vec::new();
    for r in rows.iter().filter(|r| !shown(r, all)) {
        let why = reason_name(r.reason);
        let g = match out.iter_mut().position(|g| g.0 == r.state) {
            Some(i) => &mut out[i],
            None => {
                out.push((r.state, 0, Vec::new()));
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        g.1 += 1;
        match g.2.iter_mut().find(|(w, _)| *w == why) {
            Some((_, p)) => p.push(r.port),
            None => g.2.push((why, vec![r.port])),
        }
    }
    out.sort_by_key(|g| std::cmp::Reverse(g.1));
    out
}

/// nmap's XML (`-oX`).
pub fn xml(res: &ScanResults, info: &RunInfo, w: &mut dyn Write) -> io::Result<()> {
    let proto = res.kind.proto();
    writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(w, "<!DOCTYPE nmaprun>")?;
    writeln!(
        w,
        "<!-- tcpcraft {} scan initiated {} as: {} -->",
        env!("CARGO_PKG_VERSION"),
        time_str(info.start),
        attr(&info.args).replace("--", "- -")
    )?;
    // The DTD allows only scanner="nmap"; the version and args say what wrote it.
    writeln!(
        w,
        "<nmaprun scanner=\"nmap\" args=\"{}\" start=\"{}\" startstr=\"{}\" version=\"tcpcraft-{}\" xmloutputversion=\"1.05\">",
        attr(&info.args),
        info.start,
        time_str(info.start),
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(
        w,
        "<scaninfo type=\"{}\" protocol=\"{proto}\" numservices=\"{}\" services=\"{}\"/>",
        scan_type(res.kind),
        res.ports.len(),
        port_ranges(&res.ports)
    )?;
    writeln!(w, "<verbose level=\"0\"/>")?;
    writeln!(w, "<debugging level=\"0\"/>")?;
    let mut up = 0u64;
    for host in res.targets.iter() {
        let Some(rows) = host_rows(res, host, info.all) else {
            continue;
        };
        up += 1;
        writeln!(
            w,
            "<host starttime=\"{}\" endtime=\"{}\"><status state=\"up\" reason=\"user-set\" reason_ttl=\"0\"/>",
            info.start, info.end
        )?;
        writeln!(
            w,
            "<address addr=\"{host}\" addrtype=\"{}\"/>",
            if host.is_ipv6() { "ipv6" } else { "ipv4" }
        )?;
        writeln!(w, "<hostnames>\n</hostnames>")?;
        writeln!(w, "<ports>")?;
        for (state, count, reasons) in extra(&rows, info.all) {
            writeln!(w, "<extraports state=\"{state}\" count=\"{count}\">")?;
            for (why, ports) in reasons {
                writeln!(
                    w,
                    "<extrareasons reason=\"{}\" count=\"{}\" proto=\"{proto}\" ports=\"{}\"/>",
                    attr(&why),
                    ports.len(),
                    port_ranges(&ports)
                )?;
            }
            writeln!(w, "</extraports>")?;
        }
        for r in rows.iter().filter(|r| shown(r, info.all)) {
            write!(
                w,
                "<port protocol=\"{proto}\" portid=\"{}\"><state state=\"{}\" reason=\"{}\" reason_ttl=\"0\"/>",
                r.port,
                r.state,
                attr(&reason_name(r.reason))
            )?;
            let svc = service(r.port, r.proto);
            if !svc.is_empty() {
                write!(w, "<service name=\"{svc}\" method=\"table\" conf=\"3\"/>")?;
            }
            if let Some(b) = &r.banner {
                // Where nmap's banner script puts what it read.
                write!(
                    w,
                    "<script id=\"banner\" output=\"{}\"/>",
                    attr(&escape_banner(b))
                )?;
            }
            writeln!(w, "</port>")?;
        }
        writeln!(w, "</ports>")?;
        writeln!(w, "</host>")?;
    }
    let total = res.targets.len();
    let elapsed = res.stats.elapsed.as_secs_f64();
    writeln!(
        w,
        "<runstats><finished time=\"{}\" timestr=\"{}\" summary=\"tcpcraft done at {}; {} ({}) scanned in {:.2} seconds\" elapsed=\"{:.2}\" exit=\"success\"/><hosts up=\"{up}\" down=\"{}\" total=\"{total}\"/>",
        info.end,
        time_str(info.end),
        time_str(info.end),
        ip_addresses(total),
        hosts_up(up),
        elapsed,
        elapsed,
        total.saturating_sub(up)
    )?;
    writeln!(w, "</runstats>")?;
    writeln!(w, "</nmaprun>")
}

fn ip_addresses(n: u64) -> String {
    format!("{n} IP address{}", if n == 1 { "" } else { "es" })
}

fn hosts_up(n: u64) -> String {
    format!("{n} host{} up", if n == 1 { "" } else { "s" })
}

/// nmap's normal output (`-oN`).
pub fn normal(res: &ScanResults, info: &RunInfo, w: &mut dyn Write) -> io::Result<()> {
    let proto = res.kind.proto();
    writeln!(
        w,
        "# tcpcraft {} scan initiated {} as: {}",
        env!("CARGO_PKG_VERSION"),
        time_str(info.start),
        info.args
    )?;
    let mut up = 0u64;
    for host in res.targets.iter() {
        let Some(rows) = host_rows(res, host, info.all) else {
            continue;
        };
        up += 1;
        writeln!(w, "Nmap scan report for {host}")?;
        let rtt = rows.iter().filter_map(|r| r.rtt).min();
        match rtt {
            Some(d) => writeln!(w, "Host is up ({:.5}s latency).", d.as_secs_f64())?,
            None => writeln!(w, "Host is up.")?,
        }
        let ex = extra(&rows, info.all);
        if !ex.is_empty() {
            let parts: Vec<String> = ex
                .iter()
                .map(|(state, count, reasons)| {
                    // nmap: "(reset)" for one reason, "(2 reset, 1 no-response)" for more.
                    let why: Vec<String> = match reasons.as_slice() {
                        [(r, _)] => vec![r.clone()],
                        _ => reasons
                            .iter()
                            .map(|(r, p)| format!("{} {r}", p.len()))
                            .collect(),
                    };
                    format!(
                        "{count} {state} {proto} port{} ({})",
                        if *count == 1 { "" } else { "s" },
                        why.join(", ")
                    )
                })
                .collect();
            writeln!(w, "Not shown: {}", parts.join(", "))?;
        }
        let list: Vec<&PortResult> = rows.iter().filter(|r| shown(r, info.all)).collect();
        if list.is_empty() {
            writeln!(w)?;
            continue;
        }
        let width = list
            .iter()
            .map(|r| format!("{}/{proto}", r.port).len())
            .max()
            .unwrap_or(0)
            .max(4);
        let swidth = list
            .iter()
            .map(|r| r.state.as_str().len())
            .max()
            .unwrap_or(0)
            .max(5);
        let vwidth = list
            .iter()
            .map(|r| service(r.port, r.proto).len())
            .max()
            .unwrap_or(0)
            .max(7);
        if info.reason {
            writeln!(
                w,
                "{:<width$} {:<swidth$} {:<vwidth$} REASON",
                "PORT", "STATE", "SERVICE"
            )?;
        } else {
            writeln!(w, "{:<width$} {:<swidth$} SERVICE", "PORT", "STATE")?;
        }
        for r in list {
            let port = format!("{}/{proto}", r.port);
            let svc = service(r.port, r.proto);
            if info.reason {
                writeln!(
                    w,
                    "{port:<width$} {:<swidth$} {svc:<vwidth$} {}",
                    r.state.as_str(),
                    reason_name(r.reason)
                )?;
            } else {
                writeln!(w, "{port:<width$} {:<swidth$} {svc}", r.state.as_str())?;
            }
            if let Some(b) = &r.banner {
                writeln!(w, "|_banner: {}", escape_banner(b))?;
            }
        }
        writeln!(w)?;
    }
    writeln!(
        w,
        "# tcpcraft done at {} -- {} ({}) scanned in {:.2} seconds",
        time_str(info.end),
        ip_addresses(res.targets.len()),
        hosts_up(up),
        res.stats.elapsed.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::targets::Targets;

    fn sample() -> ScanResults {
        let h: IpAddr = "198.18.0.2".parse().unwrap();
        let mut r = ScanResults::new(
            ScanType::Syn,
            Targets::from_addrs(&[h]),
            vec![22, 80, 81, 443, 444],
        );
        (0..5).for_each(|i| r.table.probed(i));
        r.table.record(0, Reason::SynAck, 1500);
        r.table.record(1, Reason::SynAck, 2000);
        r.table.record(2, Reason::IcmpUnreach(13), 100);
        r.table.record(3, Reason::Reset, 100);
        r.table.record(4, Reason::Reset, 100);
        r.banners.insert(0, b"SSH-2.0-x <&\"\x01>\r\n".to_vec());
        r
    }

    fn info(all: bool) -> RunInfo {
        RunInfo {
            args: "tcpcraft scan 198.18.0.2 -p 22,80-81,443-444".into(),
            start: 1_796_341_494,
            end: 1_796_341_495,
            all,
            reason: true,
        }
    }

    #[test]
    fn dates_and_port_ranges() {
        assert_eq!(time_str(1_796_341_494), "Thu Dec  3 23:44:54 2026");
        assert_eq!(time_str(0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(port_ranges(&[1, 2, 3, 5, 7, 8, 65535]), "1-3,5,7-8,65535");
        assert_eq!(port_ranges(&[]), "");
        assert_eq!(reason_name(Reason::IcmpUnreach(13)), "admin-prohibited");
        assert_eq!(reason_name(Reason::Icmp6Unreach(4)), "port-unreach");
    }

    #[test]
    fn xml_has_nmaps_elements_and_escapes_banners() {
        let mut out = Vec::new();
        xml(&sample(), &info(false), &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("<nmaprun scanner=\"nmap\""), "{s}");
        assert!(s.contains("<scaninfo type=\"syn\" protocol=\"tcp\" numservices=\"5\" services=\"22,80-81,443-444\"/>"), "{s}");
        assert!(s.contains("<extraports state=\"closed\" count=\"2\">\n<extrareasons reason=\"reset\" count=\"2\" proto=\"tcp\" ports=\"443-444\"/>"), "{s}");
        assert!(s.contains("<extrareasons reason=\"admin-prohibited\" count=\"1\" proto=\"tcp\" ports=\"81\"/>"), "{s}");
        assert!(s.contains("<port protocol=\"tcp\" portid=\"22\"><state state=\"open\" reason=\"syn-ack\" reason_ttl=\"0\"/><service name=\"ssh\" method=\"table\" conf=\"3\"/><script id=\"banner\" output=\"SSH-2.0-x &lt;&amp;&quot;\\x01&gt;\\r\\n\"/></port>"), "{s}");
        assert!(
            s.contains("<hosts up=\"1\" down=\"0\" total=\"1\"/>"),
            "{s}"
        );
        assert!(s.trim_end().ends_with("</nmaprun>"));
    }

    #[test]
    fn normal_output_lists_ports_and_the_rest() {
        let mut out = Vec::new();
        normal(&sample(), &info(false), &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("Nmap scan report for 198.18.0.2\nHost is up (0.00010s latency).\nNot shown: 2 closed tcp ports (reset), 1 filtered tcp port (admin-prohibited)\nPORT   STATE SERVICE REASON\n22/tcp open  ssh     syn-ack\n|_banner: SSH-2.0-x <&\"\\x01>\\r\\n\n80/tcp open  http    syn-ack\n"), "{s}");
        assert!(s.contains("# tcpcraft done at Thu Dec  3 23:44:55 2026 -- 1 IP address (1 host up) scanned in"), "{s}");
    }
}
