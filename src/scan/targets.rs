//! Targets: addresses, CIDR blocks, nmap-style octet ranges (`198.18.0.1-20`,
//! `198.18.0-3.1`), full-address ranges (`198.18.0.1-198.18.0.9`), host names, files of
//! targets (`-iL`) and exclusions. Parsing is syntax only ([`parse_target`]); host names
//! are resolved once, in [`resolve`]. The result is a set of merged address intervals
//! indexed lazily, so a /16 costs a few bytes, not 65,536 addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

/// At most this many addresses in one IPv6 block (a /96): more cannot be scanned anyway.
const MAX_V6_BLOCK_BITS: u32 = 32;
/// At most this many intervals from one octet-range expression.
const MAX_INTERVALS: usize = 1 << 20;

/// An inclusive range of addresses of one family, as integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Span {
    v6: bool,
    lo: u128,
    hi: u128,
}

/// One target as written: addresses already known, or a name to resolve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetSpec {
    Addrs(Vec<(IpAddr, IpAddr)>),
    /// A host name, with an optional prefix length (`name/24`).
    Name(String, Option<u8>),
}

fn to_int(a: IpAddr) -> (bool, u128) {
    match a {
        IpAddr::V4(v) => (false, u128::from(u32::from(v))),
        IpAddr::V6(v) => (true, u128::from(v)),
    }
}

fn from_int(v6: bool, n: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(n))
    } else {
        IpAddr::V4(Ipv4Addr::from(n as u32))
    }
}

fn block(a: IpAddr, prefix: u8) -> Result<(IpAddr, IpAddr), String> {
    let (v6, n) = to_int(a);
    let bits: u32 = if v6 { 128 } else { 32 };
    let prefix = u32::from(prefix);
    if prefix > bits {
        return Err(format!("prefix /{prefix} is longer than {bits} bits"));
    }
    let host_bits = bits - prefix;
    if v6 && host_bits > MAX_V6_BLOCK_BITS {
        return Err(format!(
            "IPv6 block /{prefix} is too large to scan (at most /{})",
            128 - MAX_V6_BLOCK_BITS
        ));
    }
    let size: u128 = 1u128 << host_bits;
    let lo = n & !(size - 1);
    Ok((from_int(v6, lo), from_int(v6, lo + (size - 1))))
}

/// One octet of an nmap-style range: `5`, `1-20`, `1,3,7-9`, `-` / `*` for 0-255.
fn octet(s: &str, whole: &str) -> Result<Vec<(u8, u8)>, String> {
    let bad = || format!("bad address range {whole}");
    if s == "*" || s == "-" {
        return Ok(vec![(0, 255)]);
    }
    let mut out = Vec::new();
    for part in s.split(',') {
        let num = |t: &str| -> Result<u8, String> {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            t.parse::<u8>()
                .map_err(|_| format!("octet {t} out of range 0-255 in {whole}"))
        };
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (
                if a.is_empty() { 0 } else { num(a)? },
                if b.is_empty() { 255 } else { num(b)? },
            ),
            None => {
                let v = num(part)?;
                (v, v)
            }
        };
        if a > b {
            return Err(format!("bad address range {whole}: {a} is above {b}"));
        }
        out.push((a, b));
    }
    Ok(out)
}

fn octet_ranges(s: &str) -> Result<Vec<(IpAddr, IpAddr)>, String> {
    let parts: Vec<&str> = s.split('.').collect();
    let [a, b, c, d] = parts.as_slice() else {
        return Err(format!("not an address, range or host name: {s}"));
    };
    let (oa, ob, oc, od) = (octet(a, s)?, octet(b, s)?, octet(c, s)?, octet(d, s)?);
    let mut out = Vec::new();
    for &(a0, a1) in &oa {
        for x in a0..=a1 {
            for &(b0, b1) in &ob {
                for y in b0..=b1 {
                    for &(c0, c1) in &oc {
                        for z in c0..=c1 {
                            for &(d0, d1) in &od {
                                if out.len() >= MAX_INTERVALS {
                                    return Err(format!("address range {s} is too fragmented"));
                                }
                                out.push((
                                    IpAddr::V4(Ipv4Addr::new(x, y, z, d0)),
                                    IpAddr::V4(Ipv4Addr::new(x, y, z, d1)),
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

fn looks_like_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        && s.bytes().any(|b| b.is_ascii_alphabetic())
        && !s.starts_with('-')
}

/// Parse one target (syntax only; names are resolved by [`resolve`]).
pub fn parse_target(s: &str) -> Result<TargetSpec, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty target".into());
    }
    if let Some((host, pfx)) = s.split_once('/') {
        let prefix: u8 = pfx
            .parse()
            .map_err(|_| format!("bad prefix length /{pfx} in {s}"))?;
        if let Ok(a) = host.parse::<IpAddr>() {
            return Ok(TargetSpec::Addrs(vec![block(a, prefix)?]));
        }
        if looks_like_name(host) {
            return Ok(TargetSpec::Name(host.to_string(), Some(prefix)));
        }
        return Err(format!("not an address or host name: {host}"));
    }
    if let Ok(a) = s.parse::<IpAddr>() {
        return Ok(TargetSpec::Addrs(vec![(a, a)]));
    }
    // A full-address range: A-B where both are addresses of one family.
    if let Some((a, b)) = s.split_once('-') {
        if let (Ok(a), Ok(b)) = (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
            if a.is_ipv4() != b.is_ipv4() {
                return Err(format!("range {s} mixes IPv4 and IPv6"));
            }
            if to_int(a).1 > to_int(b).1 {
                return Err(format!("bad address range {s}: {a} is above {b}"));
            }
            return Ok(TargetSpec::Addrs(vec![(a, b)]));
        }
    }
    if s.contains(':') {
        return Err(format!("not an IPv6 address: {s}"));
    }
    let dotted = s
        .bytes()
        .all(|b| b.is_ascii_digit() || b".-,*".contains(&b));
    if dotted {
        return octet_ranges(s).map(TargetSpec::Addrs);
    }
    if looks_like_name(s) {
        return Ok(TargetSpec::Name(s.to_string(), None));
    }
    Err(format!("not an address, range or host name: {s}"))
}

/// Read targets from a file (`-iL`): whitespace-separated, `#` starts a comment.
pub fn read_list(path: &std::path::Path) -> Result<Vec<TargetSpec>, String> {
    // A regular file, opened with the user's rights and within a bound (as scripts are).
    let text = crate::userfile::read_text(path, 16 << 20)
        .map_err(|e| format!("cannot read target list {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        for word in line.split_whitespace() {
            out.push(parse_target(word).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?);
        }
    }
    Ok(out)
}

/// The resolved, de-duplicated set of target addresses, in address order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Targets {
    spans: Vec<Span>,
    /// `starts[i]` = number of addresses in `spans[..i]`.
    starts: Vec<u64>,
    count: u64,
}

/// One host: an address as given, or a name resolved (IPv4 first; with `v6` IPv6 only).
pub fn resolve_host(host: &str, v6: bool) -> Result<IpAddr, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(a) => Ok(a),
        Err(_) => lookup(bare, v6),
    }
}

fn lookup(name: &str, v6: bool) -> Result<IpAddr, String> {
    let addrs: Vec<IpAddr> = (name, 0u16)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve host name {name}: {e}"))?
        .map(|sa| sa.ip())
        .collect();
    // Like nmap: the first IPv4 address (with -6: the first IPv6 one, and only that).
    if v6 {
        return addrs
            .iter()
            .find(|a| a.is_ipv6())
            .copied()
            .ok_or_else(|| format!("host name {name} has no IPv6 address (-6)"));
    }
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| format!("host name {name} has no address"))
}

fn spans_of(specs: &[TargetSpec], v6: bool) -> Result<Vec<Span>, String> {
    let mut spans = Vec::new();
    for spec in specs {
        let pairs = match spec {
            TargetSpec::Addrs(p) => p.clone(),
            TargetSpec::Name(n, None) => {
                let a = lookup(n, v6)?;
                vec![(a, a)]
            }
            TargetSpec::Name(n, Some(p)) => vec![block(lookup(n, v6)?, *p)?],
        };
        for (a, b) in pairs {
            let (v6, lo) = to_int(a);
            let (_, hi) = to_int(b);
            spans.push(Span { v6, lo, hi });
        }
    }
    Ok(merge(spans))
}

fn merge(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_unstable();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if last.v6 == s.v6 && s.lo <= last.hi.saturating_add(1) => {
                last.hi = last.hi.max(s.hi);
            }
            _ => out.push(s),
        }
    }
    out
}

fn subtract(spans: Vec<Span>, ex: &[Span]) -> Vec<Span> {
    let mut out = Vec::with_capacity(spans.len());
    for s in spans {
        let mut pieces = vec![s];
        for e in ex.iter().filter(|e| e.v6 == s.v6) {
            let mut next = Vec::with_capacity(pieces.len() + 1);
            for p in pieces {
                if e.hi < p.lo || e.lo > p.hi {
                    next.push(p);
                    continue;
                }
                if e.lo > p.lo {
                    next.push(Span { hi: e.lo - 1, ..p });
                }
                if e.hi < p.hi {
                    next.push(Span { lo: e.hi + 1, ..p });
                }
            }
            pieces = next;
        }
        out.extend(pieces);
    }
    out
}

/// Resolve targets against the system (host names) and remove the exclusions.
pub fn resolve(specs: &[TargetSpec], exclude: &[TargetSpec]) -> Result<Targets, String> {
    resolve_family(specs, exclude, false)
}

/// As [`resolve`]; with `v6`, host names resolve to their IPv6 address (nmap's -6).
pub fn resolve_family(
    specs: &[TargetSpec],
    exclude: &[TargetSpec],
    v6: bool,
) -> Result<Targets, String> {
    let spans = subtract(spans_of(specs, v6)?, &spans_of(exclude, v6)?);
    let mut starts = Vec::with_capacity(spans.len());
    let mut count: u64 = 0;
    for s in &spans {
        starts.push(count);
        let n = u64::try_from(s.hi - s.lo + 1).unwrap_or(u64::MAX);
        count = count
            .checked_add(n)
            .filter(|c| *c <= 1u64 << 40)
            .ok_or("too many target addresses (more than 2^40)")?;
    }
    Ok(Targets {
        spans,
        starts,
        count,
    })
}

impl Targets {
    /// Addresses in the set.
    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The `i`-th address in address order (IPv4 before IPv6).
    pub fn get(&self, i: u64) -> Option<IpAddr> {
        if i >= self.count {
            return None;
        }
        let k = self.starts.partition_point(|&s| s <= i).checked_sub(1)?;
        let span = self.spans.get(k)?;
        let off = i - self.starts.get(k)?;
        Some(from_int(span.v6, span.lo + u128::from(off)))
    }

    /// The index of `a` in the set, if it is in it (binary search, no table).
    pub fn index_of(&self, a: IpAddr) -> Option<u64> {
        let (v6, n) = to_int(a);
        let key = Span {
            v6,
            lo: n,
            hi: u128::MAX,
        };
        let k = self.spans.partition_point(|s| *s <= key).checked_sub(1)?;
        let span = self.spans.get(k)?;
        if span.v6 != v6 || n < span.lo || n > span.hi {
            return None;
        }
        Some(self.starts.get(k)? + u64::try_from(n - span.lo).ok()?)
    }

    /// Every address, lazily.
    pub fn iter(&self) -> impl Iterator<Item = IpAddr> + '_ {
        (0..self.count).filter_map(|i| self.get(i))
    }

    /// The set as inclusive address ranges, in address order (IPv4 before IPv6).
    pub fn ranges(&self) -> impl Iterator<Item = (IpAddr, IpAddr)> + '_ {
        self.spans
            .iter()
            .map(|s| (from_int(s.v6, s.lo), from_int(s.v6, s.hi)))
    }

    /// A set of explicit addresses (for the library API and tests).
    pub fn from_addrs(addrs: &[IpAddr]) -> Targets {
        let specs: Vec<TargetSpec> = addrs
            .iter()
            .map(|a| TargetSpec::Addrs(vec![(*a, *a)]))
            .collect();
        resolve(&specs, &[]).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(s: &str) -> Vec<IpAddr> {
        resolve(&[parse_target(s).unwrap()], &[])
            .unwrap()
            .iter()
            .collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn single_addresses() {
        assert_eq!(addrs("198.18.0.2"), vec![ip("198.18.0.2")]);
        assert_eq!(addrs("2001:db8:198:18::2"), vec![ip("2001:db8:198:18::2")]);
    }

    #[test]
    fn cidr_blocks() {
        let v = addrs("198.18.0.9/30");
        assert_eq!(
            v,
            vec![
                ip("198.18.0.8"),
                ip("198.18.0.9"),
                ip("198.18.0.10"),
                ip("198.18.0.11")
            ]
        );
        let t = resolve(&[parse_target("198.19.0.0/16").unwrap()], &[]).unwrap();
        assert_eq!(t.len(), 65536);
        assert_eq!(t.get(65535), Some(ip("198.19.255.255")));
        assert_eq!(t.index_of(ip("198.19.1.0")), Some(256));
        assert_eq!(t.index_of(ip("198.20.0.0")), None);
        assert_eq!(addrs("2001:db8:198:18::/126").len(), 4);
        assert!(parse_target("2001:db8::/64")
            .unwrap_err()
            .contains("too large"));
        assert!(parse_target("198.18.0.0/33").is_err());
    }

    #[test]
    fn octet_ranges_as_nmap() {
        let v = addrs("198.18.0.1-20");
        assert_eq!(v.len(), 20);
        assert_eq!(v.first(), Some(&ip("198.18.0.1")));
        assert_eq!(v.last(), Some(&ip("198.18.0.20")));
        let w = addrs("198.18.0-3.1");
        assert_eq!(
            w,
            vec![
                ip("198.18.0.1"),
                ip("198.18.1.1"),
                ip("198.18.2.1"),
                ip("198.18.3.1")
            ]
        );
        assert_eq!(addrs("198.18.0.1,5,7-8").len(), 4);
        assert_eq!(addrs("198.18.0.1-198.18.1.0").len(), 256);
        assert!(parse_target("198.18.0.300")
            .unwrap_err()
            .contains("out of range"));
        assert!(parse_target("198.18.0.9-3").unwrap_err().contains("above"));
        assert!(parse_target("198.18.0").is_err());
    }

    #[test]
    fn exclusions_and_duplicates() {
        let t = resolve(
            &[
                parse_target("198.18.0.0/24").unwrap(),
                parse_target("198.18.0.5").unwrap(),
            ],
            &[
                parse_target("198.18.0.0-9").unwrap(),
                parse_target("198.18.0.255").unwrap(),
            ],
        )
        .unwrap();
        assert_eq!(t.len(), 256 - 11);
        assert_eq!(t.get(0), Some(ip("198.18.0.10")));
        assert_eq!(t.index_of(ip("198.18.0.5")), None);
        let all: Vec<_> = t.iter().collect();
        for (i, a) in all.iter().enumerate() {
            assert_eq!(t.index_of(*a), Some(i as u64));
        }
    }

    #[test]
    fn names_and_errors() {
        assert_eq!(
            parse_target("localhost").unwrap(),
            TargetSpec::Name("localhost".into(), None)
        );
        let t = resolve(&[parse_target("localhost").unwrap()], &[]).unwrap();
        assert_eq!(t.len(), 1);
        assert!(t.get(0).unwrap().is_loopback());
        assert!(parse_target("::g")
            .unwrap_err()
            .contains("not an IPv6 address"));
        assert!(parse_target("300.1.1.1")
            .unwrap_err()
            .contains("out of range"));
        assert!(parse_target("a b").is_err());
        assert!(resolve(&[parse_target("no-such-host.invalid").unwrap()], &[]).is_err());
    }

    #[test]
    fn mixed_families_in_order() {
        let t = resolve(
            &[
                parse_target("2001:db8:198:18::2").unwrap(),
                parse_target("198.18.0.2").unwrap(),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(
            t.iter().collect::<Vec<_>>(),
            vec![ip("198.18.0.2"), ip("2001:db8:198:18::2")]
        );
    }

    #[test]
    fn target_file() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(
            &mut f,
            b"# hosts\n198.18.0.1 198.18.0.2\n198.18.1.0/31 # two\n",
        )
        .unwrap();
        let specs = read_list(f.path()).unwrap();
        assert_eq!(resolve(&specs, &[]).unwrap().len(), 4);
        std::io::Write::write_all(&mut f, b"198.18.0.1/x\n").unwrap();
        assert!(read_list(f.path()).unwrap_err().contains(":4:"));
    }
}
