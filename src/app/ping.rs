//! `tcpcraft ping HOST`: hping3-style probes from the command line. The options are
//! checked here; the probing itself is a script of the language (`src/ping.tcs`, built
//! in), so it sends through the same engine as scripts do: `--dry-run`, `--pcap`, the
//! privilege messages and Ctrl-C behave as everywhere else.

use clap::{ArgGroup, Args};

/// The built-in script.
pub const SCRIPT: &str = include_str!("ping.tcs");
/// Its name in messages.
pub const NAME: &str = "<ping>";

/// `tcpcraft ping HOST [-p PORT] [-S -A -F -R -P -U | --flags F] [-1 | -2] …`
#[derive(Args, Debug, Clone)]
#[command(group = ArgGroup::new("proto").args(["icmp", "udp"]))]
pub struct PingArgs {
    /// An address or a host name
    pub host: String,
    /// Destination port (TCP default 80, UDP default 53)
    #[arg(short = 'p', long, value_name = "PORT")]
    pub port: Option<u16>,
    /// SYN flag (the default when no flag is given)
    #[arg(short = 'S', long = "syn")]
    pub syn: bool,
    /// ACK flag
    #[arg(short = 'A', long = "ack")]
    pub ack: bool,
    /// FIN flag
    #[arg(short = 'F', long = "fin")]
    pub fin: bool,
    /// RST flag
    #[arg(short = 'R', long = "rst")]
    pub rst: bool,
    /// PSH flag
    #[arg(short = 'P', long = "push")]
    pub push: bool,
    /// URG flag
    #[arg(short = 'U', long = "urg")]
    pub urg: bool,
    /// TCP flags as letters, added to the ones above (FSRPAUEC, e.g. SA)
    #[arg(long, value_name = "FLAGS", value_parser = parse_flag_letters)]
    pub flags: Option<String>,
    /// ICMP echo requests (ICMPv6 for an IPv6 host) instead of TCP (hping3 -1)
    #[arg(short = '1', long)]
    pub icmp: bool,
    /// UDP datagrams instead of TCP (hping3 -2)
    #[arg(short = '2', long)]
    pub udp: bool,
    /// Probes to send
    #[arg(short = 'c', long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub count: u32,
    /// Seconds from one probe to the next (0.2, or uN microseconds as hping3's -i u1000)
    #[arg(short = 'i', long, value_name = "SECS", default_value = "1", value_parser = parse_interval)]
    pub interval: f64,
    /// How long to wait for each answer, in seconds
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_timeout)]
    pub timeout: f64,
    /// IP TTL (IPv6 hop limit)
    #[arg(short = 't', long, value_name = "N", default_value_t = 64)]
    pub ttl: u8,
    /// First source port (each probe uses the next one, as hping3 does; the ICMP id)
    #[arg(short = 's', long = "sport", value_name = "PORT")]
    pub sport: Option<u16>,
    /// TCP window
    #[arg(short = 'w', long = "win", value_name = "N", default_value_t = 64240)]
    pub window: u16,
    /// Bytes of payload (zeros) in each probe
    #[arg(short = 'd', long = "data", value_name = "N", default_value_t = 0,
          value_parser = clap::value_parser!(u16).range(0..=1400))]
    pub data: u16,
    /// Resolve a host name to its IPv6 address
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,
    /// Send each probe as IP fragments of 16 bytes (hping3 -f; see --mtu); an IPv6
    /// probe gets a Fragment header
    #[arg(short = 'f', long = "frag")]
    pub frag: bool,
    /// Bytes of IP payload per fragment, a multiple of 8 (hping3 --mtu; implies --frag)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(8..=65535))]
    pub mtu: Option<u16>,
}

fn parse_flag_letters(s: &str) -> Result<String, String> {
    let t = s.trim().to_ascii_uppercase();
    if t.is_empty() || !t.chars().all(|c| "FSRPAUEC".contains(c)) {
        return Err(format!(
            "--flags takes letters of FSRPAUEC (F FIN, S SYN, R RST, P PSH, A ACK, U URG, E ECE, C CWR), not {s:?}"
        ));
    }
    Ok(t)
}

fn parse_interval(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = match t.strip_prefix('u') {
        Some(us) => us.parse::<f64>().map(|u| u / 1e6),
        None => t.parse::<f64>(),
    };
    match v {
        Ok(x) if x.is_finite() && (0.0..=3600.0).contains(&x) => Ok(x),
        _ => Err(format!(
            "--interval takes seconds from 0 to 3600 (or uN microseconds), not {s:?}"
        )),
    }
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && (0.001..=3600.0).contains(&x) => Ok(x),
        _ => Err(format!(
            "--timeout takes seconds from 0.001 to 3600, not {s:?}"
        )),
    }
}

/// The script's args from the options: the address (resolved), protocol, port, flags,
/// count, interval, ttl, first source port, window, data length, family, timeout, fragment
/// size (0: whole). An error says
/// which value is wrong.
pub fn script_args(a: &PingArgs) -> Result<Vec<String>, String> {
    let dst = crate::scan::targets::resolve_host(&a.host, a.ipv6)?;
    let proto = if a.icmp {
        "icmp"
    } else if a.udp {
        "udp"
    } else {
        "tcp"
    };
    let port = a.port.unwrap_or(if a.udp { 53 } else { 80 });
    let mut flags = a.flags.clone().unwrap_or_default();
    for (on, c) in [
        (a.fin, 'F'),
        (a.syn, 'S'),
        (a.rst, 'R'),
        (a.push, 'P'),
        (a.ack, 'A'),
        (a.urg, 'U'),
    ] {
        if on && !flags.contains(c) {
            flags.push(c);
        }
    }
    if flags.is_empty() {
        flags.push('S');
    }
    let last = u32::from(u16::MAX) - a.count.saturating_sub(1);
    let sport = match a.sport {
        Some(p) if u32::from(p) > last => {
            return Err(format!(
                "--sport {p}: {} probes from there run past port 65535",
                a.count
            ))
        }
        Some(p) => p,
        // A random first port among the unprivileged ones, leaving room for the count.
        None => {
            let span = (last.max(1025) - 1024).max(1);
            (1024 + (crate::scan::cookie::Key::random().0 % u64::from(span)) as u32) as u16
        }
    };
    Ok(vec![
        dst.to_string(),
        proto.into(),
        port.to_string(),
        flags,
        a.count.to_string(),
        a.interval.to_string(),
        a.ttl.to_string(),
        sport.to_string(),
        a.window.to_string(),
        a.data.to_string(),
        if dst.is_ipv6() { "6" } else { "4" }.into(),
        a.timeout.to_string(),
        match (a.frag, a.mtu) {
            (_, Some(m)) => m.to_string(),
            (true, None) => "16".into(),
            (false, None) => "0".into(),
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: PingArgs,
    }

    fn args(v: &[&str]) -> Result<Vec<String>, String> {
        let t = T::try_parse_from(std::iter::once("ping").chain(v.iter().copied()))
            .map_err(|e| e.to_string())?;
        script_args(&t.a)
    }

    #[test]
    fn options_become_the_scripts_args() {
        let v = args(&[
            "198.18.0.2",
            "-S",
            "-A",
            "-p",
            "22",
            "-c",
            "3",
            "-s",
            "40000",
        ])
        .unwrap();
        assert_eq!(
            v,
            [
                "198.18.0.2",
                "tcp",
                "22",
                "SA",
                "3",
                "1",
                "64",
                "40000",
                "64240",
                "0",
                "4",
                "1",
                "0"
            ]
        );
        assert_eq!(args(&["198.18.0.2", "-f"]).unwrap()[12], "16");
        assert_eq!(args(&["198.18.0.2", "--mtu", "24"]).unwrap()[12], "24");
        assert!(args(&["198.18.0.2", "--mtu", "4"]).is_err());
        let v = args(&["2001:db8:198:18::2", "-1", "-i", "u200000", "-t", "9"]).unwrap();
        assert_eq!(&v[..2], ["2001:db8:198:18::2", "icmp"]);
        assert_eq!(
            (v[5].as_str(), v[6].as_str(), v[10].as_str()),
            ("0.2", "9", "6")
        );
        let v = args(&["198.18.0.2", "-2"]).unwrap();
        assert_eq!(
            (v[1].as_str(), v[2].as_str(), v[3].as_str()),
            ("udp", "53", "S")
        );
        let v = args(&["198.18.0.2", "--flags", "fpu"]).unwrap();
        assert_eq!(v[3], "FPU");
        let sport: u32 = args(&["198.18.0.2", "-c", "1000"]).unwrap()[7]
            .parse()
            .unwrap();
        assert!((1024..=64536).contains(&sport), "{sport}");
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        for (v, want) in [
            (
                &["198.18.0.2", "--flags", "SX"][..],
                "--flags takes letters",
            ),
            (&["198.18.0.2", "-i", "soon"], "--interval takes seconds"),
            (&["198.18.0.2", "-c", "0"], "0 is not in 1..=1000000"),
            (
                &["198.18.0.2", "-s", "65535", "-c", "2"],
                "run past port 65535",
            ),
            (&["198.18.0.2", "-1", "-2"], "cannot be used with"),
            (&["198.18.0.2", "-d", "2000"], "2000 is not in 0..=1400"),
        ] {
            let e = args(v).unwrap_err();
            assert!(e.contains(want), "{v:?}: {e}");
        }
    }
}
