//! Port specifications (`22,80,8000-8100`, `-` for all, `U:53,T:80`) and the embedded
//! frequency list behind `--top-ports N`. Pure; every error names the piece that is wrong
//! so a value_parser can show it as is.

use std::fmt;

/// The transport protocol a port belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed `-p` value: the ports given for TCP, for UDP, and without a prefix (both).
/// Each list is sorted and free of duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortSpec {
    pub tcp: Vec<u16>,
    pub udp: Vec<u16>,
    pub any: Vec<u16>,
}

impl PortSpec {
    /// Every port 1-65535 for both protocols (`-p-`).
    pub fn all() -> PortSpec {
        PortSpec {
            any: (1..=65535).collect(),
            ..PortSpec::default()
        }
    }

    /// The ports to scan for `proto`: those given for it plus those given without prefix.
    pub fn for_proto(&self, proto: Proto) -> Vec<u16> {
        let mut v = self.any.clone();
        v.extend_from_slice(match proto {
            Proto::Tcp => &self.tcp,
            Proto::Udp => &self.udp,
        });
        v.sort_unstable();
        v.dedup();
        v
    }
}

fn port(s: &str) -> Result<u16, String> {
    let t = s.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "not a port: {t} (give numbers 1-65535, e.g. 22,80,8000-8100)"
        ));
    }
    match t.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        _ => Err(format!("port {t} out of range 1-65535")),
    }
}

/// Parse a port specification as nmap's `-p` takes it: comma-separated ports and
/// ranges, `-` or an open end meaning the extreme (`-1024` = 1-1024 is *not* accepted:
/// a range needs both ends, except the whole `-`), `T:`/`U:` switching the protocol
/// for what follows.
pub fn parse_ports(spec: &str) -> Result<PortSpec, String> {
    let spec = spec.trim();
    if spec.is_empty() {
        return Err("empty port list".into());
    }
    if spec == "-" {
        return Ok(PortSpec::all());
    }
    let mut out = PortSpec::default();
    let mut which: Option<Proto> = None;
    for raw in spec.split(',') {
        let mut item = raw.trim();
        if let Some(rest) = item.strip_prefix("T:").or_else(|| item.strip_prefix("t:")) {
            which = Some(Proto::Tcp);
            item = rest.trim();
        } else if let Some(rest) = item.strip_prefix("U:").or_else(|| item.strip_prefix("u:")) {
            which = Some(Proto::Udp);
            item = rest.trim();
        }
        if item.is_empty() {
            return Err(format!("empty item in port list {spec:?}"));
        }
        let list = match which {
            None => &mut out.any,
            Some(Proto::Tcp) => &mut out.tcp,
            Some(Proto::Udp) => &mut out.udp,
        };
        if item == "-" {
            list.extend(1..=65535);
        } else if let Some((a, b)) = item.split_once('-') {
            if a.trim().is_empty() || b.trim().is_empty() {
                return Err(format!(
                    "bad range {item}: write FIRST-LAST, e.g. 1-1024 (or - for every port)"
                ));
            }
            let lo = port(a)?;
            let hi = port(b)?;
            if lo > hi {
                return Err(format!("bad range {item}: {lo} is above {hi}"));
            }
            list.extend(lo..=hi);
        } else {
            list.push(port(item)?);
        }
    }
    for l in [&mut out.any, &mut out.tcp, &mut out.udp] {
        l.sort_unstable();
        l.dedup();
    }
    Ok(out)
}

/// The most frequently open TCP ports, most frequent first (after nmap-services'
/// open-frequency column).
pub const TOP_TCP: &[u16] = &[
    80, 23, 443, 21, 22, 25, 3389, 110, 445, 139, 143, 53, 135, 3306, 8080, 1723, 111, 995, 993,
    5900, 1025, 587, 8888, 199, 1720, 465, 548, 113, 81, 6001, 10000, 514, 5060, 179, 1026, 2000,
    8443, 8000, 32768, 554, 26, 1433, 49152, 2001, 515, 8008, 49154, 1027, 5666, 646, 5000, 5631,
    631, 49153, 8081, 2049, 88, 79, 5800, 106, 2121, 1110, 49155, 6000, 513, 990, 5357, 427, 49156,
    543, 544, 5101, 144, 7, 389, 8009, 3128, 444, 9999, 5009, 7070, 5190, 3000, 5432, 1900, 3986,
    13, 1029, 9, 5051, 6646, 49157, 1028, 873, 1755, 2717, 4899, 9100, 119, 37,
];

/// The most frequently open UDP ports, most frequent first.
pub const TOP_UDP: &[u16] = &[
    631, 161, 137, 123, 138, 1434, 445, 135, 67, 53, 139, 500, 68, 520, 1900, 4500, 514, 49152,
    162, 69, 5353, 111, 49154, 1701, 998, 996, 997, 999, 3283, 49153, 1812, 136, 2222, 2049, 32768,
    5060, 1025, 1433, 3456, 80, 20031, 1026, 7, 1646, 1645, 593, 518, 2048, 626, 1027,
];

/// The `n` most frequent ports for `proto`, sorted. Past the embedded list the remaining
/// ports follow in ascending order, so any `n` up to 65535 is honoured.
pub fn top_ports(proto: Proto, n: usize) -> Vec<u16> {
    let list = match proto {
        Proto::Tcp => TOP_TCP,
        Proto::Udp => TOP_UDP,
    };
    let mut v: Vec<u16> = list.iter().copied().take(n).collect();
    if n > list.len() {
        let need = n.min(65535) - v.len();
        v.extend((1..=65535u16).filter(|p| !list.contains(p)).take(need));
    }
    v.sort_unstable();
    v.dedup();
    v
}

/// `--top-ports N`: 1 to 65535.
pub fn parse_top(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n),
        _ => Err(format!("--top-ports takes a number 1-65535, not {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges() {
        let p = parse_ports("22,80,8000-8003, 80").unwrap();
        assert_eq!(p.any, vec![22, 80, 8000, 8001, 8002, 8003]);
        assert_eq!(p.for_proto(Proto::Udp), p.any);
    }

    #[test]
    fn all_ports() {
        assert_eq!(parse_ports("-").unwrap().any.len(), 65535);
        assert_eq!(parse_ports("1-65535").unwrap().any.len(), 65535);
    }

    #[test]
    fn protocol_prefixes() {
        let p = parse_ports("U:53,161,T:21-22,80").unwrap();
        assert_eq!(p.udp, vec![53, 161]);
        assert_eq!(p.tcp, vec![21, 22, 80]);
        assert!(p.any.is_empty());
        let q = parse_ports("443,U:53").unwrap();
        assert_eq!(q.for_proto(Proto::Tcp), vec![443]);
        assert_eq!(q.for_proto(Proto::Udp), vec![53, 443]);
    }

    #[test]
    fn precise_errors() {
        assert_eq!(
            parse_ports("70000").unwrap_err(),
            "port 70000 out of range 1-65535"
        );
        assert_eq!(parse_ports("0").unwrap_err(), "port 0 out of range 1-65535");
        assert!(parse_ports("1-")
            .unwrap_err()
            .starts_with("bad range 1-: write FIRST-LAST"));
        assert!(parse_ports("a")
            .unwrap_err()
            .starts_with("not a port: a (give numbers"));
        assert!(parse_ports("80,x9")
            .unwrap_err()
            .starts_with("not a port: x9 "));
        assert_eq!(
            parse_ports("99999999999999999999").unwrap_err(),
            "port 99999999999999999999 out of range 1-65535"
        );
        assert!(parse_ports("90-80")
            .unwrap_err()
            .starts_with("bad range 90-80"));
        assert!(parse_ports("").is_err());
        assert!(parse_ports("80,,81").is_err());
    }

    #[test]
    fn top_lists() {
        let t = top_ports(Proto::Tcp, 3);
        assert_eq!(t, vec![23, 80, 443]);
        assert_eq!(top_ports(Proto::Tcp, 1000).len(), 1000);
        assert_eq!(top_ports(Proto::Udp, 65535).len(), 65535);
        let mut u = TOP_TCP.to_vec();
        u.sort_unstable();
        u.dedup();
        assert_eq!(u.len(), TOP_TCP.len(), "no duplicates in the embedded list");
        assert!(parse_top("0").is_err());
        assert_eq!(parse_top("100"), Ok(100));
    }
}
