//! DNS the way `tcpdump -n` prints it on one line (print-domain.c, non-verbose): the
//! header (`4660+`), the question of a query (`A? example.com.`), the answers of a
//! response (`1/0/0 A 198.18.0.9`) and the length. scapy's `UDP()` defaults to port 53,
//! so scripts that build UDP packets meet this printer more often than one would think.

use std::fmt::Write as _;

use super::nd::{ip6_string, Jump, Nd, R};

const T_A: u16 = 1;
const T_NS: u16 = 2;
const T_CNAME: u16 = 5;
const T_SOA: u16 = 6;
const T_PTR: u16 = 12;
const T_MX: u16 = 15;
const T_TXT: u16 = 16;
const T_AAAA: u16 = 28;
const T_SRV: u16 = 33;
const T_DNAME: u16 = 39;
const T_OPT: u16 = 41;
const T_UNSPECA: u16 = 104;
const T_A6: u16 = 38;
const T_URI: u16 = 256;
const C_IN: u16 = 1;

/// The record types tcpdump 4.99 names (its table, checked against its output).
fn type_name(t: u16) -> Option<&'static str> {
    Some(match t {
        1 => "A",
        2 => "NS",
        3 => "MD",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAP_PTR",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        31 => "EID",
        32 => "NIMLOC",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        40 => "SINK",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        99 => "SPF",
        100 => "UINFO",
        101 => "UID",
        102 => "GID",
        103 => "UNSPEC",
        104 => "UNSPECA",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        253 => "MAILB",
        254 => "MAILA",
        255 => "ANY",
        256 => "URI",
        _ => return None,
    })
}

fn type_str(t: u16) -> String {
    type_name(t).map_or_else(|| format!("Type{t}"), str::to_string)
}

fn class_str(c: u16) -> String {
    match c {
        1 => "IN".to_string(),
        3 => "CHAOS".to_string(),
        4 => "HS".to_string(),
        255 => "ANY".to_string(),
        _ => format!("(Class {c})"),
    }
}

const OPS: [&str; 16] = [
    "",
    " inv_q",
    " stat",
    " op3",
    " notify",
    " update",
    " op6",
    " op7",
    " op8",
    " updateA",
    " updateD",
    " updateDA",
    " updateM",
    " updateMA",
    " zoneInit",
    " zoneRef",
];

const RCODES: [&str; 24] = [
    "",
    " FormErr",
    " ServFail",
    " NXDomain",
    " NotImp",
    " Refused",
    " YXDomain",
    " YXRRSet",
    " NXRRSet",
    " NotAuth",
    " NotZone",
    " Resp11",
    " Resp12",
    " Resp13",
    " Resp14",
    " NoChange",
    " BadVers",
    "Resp17",
    " Resp18",
    " Resp19",
    " Resp20",
    "Resp21",
    " Resp22",
    " BadCookie",
];

fn rcode_str(r: u16) -> String {
    match RCODES.get(usize::from(r)) {
        Some(s) => (*s).to_string(),
        None => format!(" Resp{}", r & 0xfff),
    }
}

/// `fn_print_char`: non-ASCII as `M-`, control characters as `^X`.
fn print_char(out: &mut String, mut c: u8) {
    if !c.is_ascii() {
        c &= 0x7f;
        out.push_str("M-");
    }
    if !(0x20..=0x7e).contains(&c) {
        c ^= 0x40;
        out.push('^');
    }
    out.push(char::from(c));
}

/// `nd_printn`: up to `n` characters, stopping at the end of the capture; `false` if it
/// stopped early.
fn printn(nd: &mut Nd, at: usize, n: usize) -> R<bool> {
    for i in 0..n {
        if at + i >= nd.snapend {
            return Ok(false);
        }
        let c = nd.u8(at + i)?;
        print_char(&mut nd.out, c);
    }
    Ok(true)
}

/// `ns_nskip`: the end of a name, without printing it.
fn nskip(nd: &Nd, mut cp: usize) -> R<Option<usize>> {
    if !nd.ttest(cp, 1) {
        return Ok(None);
    }
    let mut i = nd.u8(cp)?;
    cp += 1;
    while i != 0 {
        match i & 0xc0 {
            0xc0 => return Ok(Some(cp + 1)),
            0x40 => {
                if i & 0x3f != 0x01 {
                    return Ok(None);
                }
                if !nd.ttest(cp, 1) {
                    return Ok(None);
                }
                let mut bitlen = usize::from(nd.u8(cp)?);
                if bitlen == 0 {
                    bitlen = 256;
                }
                cp += 1 + bitlen.div_ceil(8);
            }
            0x80 => return Ok(None),
            _ => cp += usize::from(i),
        }
        if !nd.ttest(cp, 1) {
            return Ok(None);
        }
        i = nd.u8(cp)?;
        cp += 1;
    }
    Ok(Some(cp))
}

/// `labellen`: the length of the label at `cp` (`None` for a bad label, printed).
fn labellen(nd: &mut Nd, cp: usize) -> R<Option<usize>> {
    if !nd.ttest(cp, 1) {
        return Ok(None);
    }
    let i = nd.u8(cp)?;
    match i & 0xc0 {
        0x40 => {
            let elt = i & 0x3f;
            if elt != 0x01 {
                let _ = write!(nd.out, "<ELT {elt}>");
                return Ok(None);
            }
            if !nd.ttest(cp + 1, 1) {
                return Ok(None);
            }
            let mut bitlen = usize::from(nd.u8(cp + 1)?);
            if bitlen == 0 {
                bitlen = 256;
            }
            Ok(Some(bitlen.div_ceil(8) + 1))
        }
        0xc0 | 0x00 => Ok(Some(usize::from(i))),
        _ => {
            nd.p("<BAD LABEL TYPE>");
            Ok(None)
        }
    }
}

/// `blabel_print`: an EDNS0 bit-string label as `\[x…/bits]`.
fn blabel_print(nd: &mut Nd, cp: usize) -> R<Option<usize>> {
    if !nd.ttest(cp, 1) {
        return Ok(None);
    }
    let mut bitlen = u32::from(nd.u8(cp)?);
    if bitlen == 0 {
        bitlen = 256;
    }
    let slen = bitlen.div_ceil(4) as usize;
    let lim = cp + 1 + slen;
    nd.p("\\[x");
    let mut bitp = cp + 1;
    let mut b = bitlen;
    while bitp < lim && b > 7 {
        let v = nd.u8(bitp)?;
        let _ = write!(nd.out, "{v:02x}");
        b -= 8;
        bitp += 1;
    }
    if b > 4 {
        let tc = nd.u8(bitp)?;
        let _ = write!(nd.out, "{:02x}", tc & (0xffu8 << (8 - b)));
    } else if b > 0 {
        let tc = nd.u8(bitp)?;
        let _ = write!(nd.out, "{:1x}", ((tc >> 4) & 0x0f) & (0x0fu8 << (4 - b)));
    }
    let _ = write!(nd.out, "/{bitlen}]");
    Ok(Some(lim))
}

/// Longest name tcpdump prints before saying it is too long (RFC 1035 MAXCDNAME).
const MAXCDNAME: usize = 255;

/// `fqdn_print`: a domain name, following compression pointers (backwards only, as
/// BIND does, so a loop cannot happen). Returns where the name ends in the message.
fn fqdn_print(nd: &mut Nd, mut cp: usize, bp: usize) -> R<Option<usize>> {
    let Some(mut l) = labellen(nd, cp)? else {
        return Ok(None);
    };
    if !nd.ttest(cp, 1) {
        return Ok(None);
    }
    // (tcpdump computes this in `u_int`: a name before `bp` wraps to a huge limit.)
    let mut max_offset = cp.wrapping_sub(bp);
    let mut i = nd.u8(cp)?;
    cp += 1;
    let mut compress = false;
    let mut rp = 0usize;
    if i & 0xc0 != 0xc0 {
        rp = cp + l;
    }
    let mut name_chars = 0usize;
    if i == 0 {
        nd.p(".");
        return Ok(Some(rp));
    }
    while i != 0 && cp < nd.snapend {
        match i & 0xc0 {
            0xc0 => {
                if !compress {
                    rp = cp + 1;
                    compress = true;
                }
                if !nd.ttest(cp, 1) {
                    return Ok(None);
                }
                let offset = ((usize::from(i) << 8) | usize::from(nd.u8(cp)?)) & 0x3fff;
                if offset >= max_offset {
                    nd.p("<BAD PTR>");
                    return Ok(None);
                }
                max_offset = offset;
                cp = bp + offset;
                if !nd.ttest(cp, 1) {
                    return Ok(None);
                }
                i = nd.u8(cp)?;
                let Some(nl) = labellen(nd, cp)? else {
                    return Ok(None);
                };
                l = nl;
                cp += 1;
                continue;
            }
            0x40 => {
                let elt = i & 0x3f;
                if elt != 0x01 {
                    let _ = write!(nd.out, "<ELT {elt}>");
                    return Ok(None);
                }
                if blabel_print(nd, cp)?.is_none() {
                    return Ok(None);
                }
            }
            0x80 => {
                nd.p("<BAD LABEL TYPE>");
                return Ok(None);
            }
            _ => {
                if name_chars + l <= MAXCDNAME {
                    if !printn(nd, cp, l)? {
                        return Ok(None);
                    }
                } else if name_chars < MAXCDNAME && !printn(nd, cp, MAXCDNAME - name_chars)? {
                    return Ok(None);
                }
                name_chars += l;
            }
        }
        cp += l;
        if name_chars <= MAXCDNAME {
            nd.p(".");
        }
        name_chars += 1;
        if !nd.ttest(cp, 1) {
            return Ok(None);
        }
        i = nd.u8(cp)?;
        let Some(nl) = labellen(nd, cp)? else {
            return Ok(None);
        };
        l = nl;
        cp += 1;
        if !compress {
            rp += l + 1;
        }
    }
    if name_chars > MAXCDNAME {
        nd.p("<DOMAIN NAME TOO LONG>");
    }
    Ok(Some(rp))
}

/// `ns_qprint`: ` A? example.com.`
fn qprint(nd: &mut Nd, cp: usize, bp: usize) -> R<Option<usize>> {
    let np = cp;
    let Some(cp) = nskip(nd, cp)? else {
        return Ok(None);
    };
    if !nd.ttest(cp, 4) {
        return Ok(None);
    }
    let t = nd.be16(cp)?;
    let _ = write!(nd.out, " {}", type_str(t));
    let class = nd.be16(cp + 2)?;
    if class != C_IN {
        let _ = write!(nd.out, " {}", class_str(class));
    }
    nd.p("? ");
    Ok(fqdn_print(nd, np, bp)?.map(|e| e + 4))
}

/// `ns_rprint` without -v: ` A 198.18.0.9`. `Some(snapend)` when the record's fixed
/// part is not captured (tcpdump's way of ending the list).
fn rprint(nd: &mut Nd, cp: usize, bp: usize) -> R<Option<usize>> {
    let cp = match nskip(nd, cp)? {
        Some(c) if nd.ttest(c, 10) => c,
        _ => return Ok(Some(nd.snapend)),
    };
    let typ = nd.be16(cp)?;
    let class = nd.be16(cp + 2)?;
    if class != C_IN && typ != T_OPT {
        let _ = write!(nd.out, " {}", class_str(class));
    }
    let opt_flags = if typ == T_OPT { nd.be16(cp + 6)? } else { 0 };
    let len = usize::from(nd.be16(cp + 8)?);
    let cp = cp + 10;
    let _ = write!(nd.out, " {}", type_str(typ));
    if !nd.ttest(cp, len) {
        return Ok(None);
    }
    let rp = cp + len;
    match typ {
        T_A => {
            if !nd.ttest(cp, 4) {
                return Ok(None);
            }
            let a = nd.ip4(cp)?;
            let _ = write!(nd.out, " {a}");
        }
        T_NS | T_CNAME | T_PTR | T_DNAME => {
            nd.p(" ");
            if fqdn_print(nd, cp, bp)?.is_none() {
                return Ok(None);
            }
        }
        T_SOA => {}
        T_A6 => {
            let pbit = usize::from(nd.u8(cp)?);
            let pbyte = (pbit & !7) / 8;
            if pbit > 128 {
                let _ = write!(nd.out, " {pbit}(bad plen)");
            } else {
                if pbit < 128 {
                    let mut a = [0u8; 16];
                    let suffix = nd.slice(cp + 1, 16 - pbyte)?;
                    if let Some(dst) = a.get_mut(pbyte..) {
                        dst.copy_from_slice(suffix);
                    }
                    let _ = write!(nd.out, " {pbit} {}", ip6_string(&a));
                }
                if pbit > 0 {
                    nd.p(" ");
                    if fqdn_print(nd, cp + 1 + 16 - pbyte, bp)?.is_none() {
                        return Ok(None);
                    }
                }
            }
        }
        T_URI => {
            let (prio, weight) = (nd.be16(cp)?, nd.be16(cp + 2)?);
            let _ = write!(nd.out, " {prio} {weight} ");
            // tcpdump 4.99 does not check the length first: a record shorter than 4
            // bytes wraps around and prints up to the end of the capture.
            let n = (len as u32).wrapping_sub(4) as usize;
            if !printn(nd, cp + 4, n)? {
                return Ok(None);
            }
        }
        // One long string, printed as it is (control bytes escaped).
        T_UNSPECA if !printn(nd, cp, len)? => return Ok(None),
        T_MX => {
            nd.p(" ");
            if !nd.ttest(cp, 2) {
                return Ok(None);
            }
            if fqdn_print(nd, cp + 2, bp)?.is_none() {
                return Ok(None);
            }
            let pref = nd.be16(cp)?;
            let _ = write!(nd.out, " {pref}");
        }
        T_TXT => {
            let mut c = cp;
            while c < rp {
                nd.p(" \"");
                if !nd.ttest(c, 1) {
                    return Ok(None);
                }
                let n = usize::from(nd.u8(c)?);
                if !printn(nd, c + 1, n)? {
                    return Ok(None);
                }
                c += 1 + n;
                nd.p("\"");
            }
        }
        T_SRV => {
            nd.p(" ");
            if !nd.ttest(cp, 6) {
                return Ok(None);
            }
            if fqdn_print(nd, cp + 6, bp)?.is_none() {
                return Ok(None);
            }
            let (port, prio, weight) = (nd.be16(cp + 4)?, nd.be16(cp)?, nd.be16(cp + 2)?);
            let _ = write!(nd.out, ":{port} {prio} {weight}");
        }
        T_AAAA => {
            let s = nd.slice(cp, 16)?;
            let mut a = [0u8; 16];
            a.copy_from_slice(s);
            let _ = write!(nd.out, " {}", ip6_string(&a));
        }
        T_OPT => {
            let _ = write!(nd.out, " UDPsize={class}");
            if opt_flags & 0x8000 != 0 {
                nd.p(" DO");
            }
            if cp < rp {
                nd.p(" [");
                let mut c = cp;
                while c < rp {
                    match eopt_print(nd, c)? {
                        Some(next) => c = next,
                        None => return Ok(None),
                    }
                    if c < rp {
                        nd.p(",");
                    }
                }
                nd.p("]");
            }
        }
        _ => {}
    }
    Ok(Some(rp))
}

fn eopt_name(code: u16) -> Option<&'static str> {
    Some(match code {
        1 => "LLQ",
        2 => "UL",
        3 => "NSID",
        5 => "DAU",
        6 => "DHU",
        7 => "N3U",
        8 => "ECS",
        9 => "EXPIRE",
        10 => "COOKIE",
        11 => "KEEPALIVE",
        12 => "PADDING",
        13 => "CHAIN",
        14 => "KEY-TAG",
        16 => "CLIENT-TAG",
        17 => "SERVER-TAG",
        _ => return None,
    })
}

fn dau_name(a: u8) -> Option<&'static str> {
    Some(match a {
        0 => "DELETE",
        1 => "RSAMD5",
        2 => "DH",
        3 => "DS",
        5 => "RSASHA1",
        6 => "DSA-NSEC3-SHA1",
        7 => "RSASHA1-NSEC3-SHA1",
        8 => "RSASHA256",
        10 => "RSASHA512",
        12 => "ECC-GOST",
        13 => "ECDSAP256SHA256",
        14 => "ECDSAP384SHA384",
        15 => "ED25519",
        16 => "ED448",
        252 => "INDIRECT",
        253 => "PRIVATEDNS",
        254 => "PRIVATEOID",
        _ => return None,
    })
}

/// `eopt_print`: one EDNS option (RFC 6891) inside an OPT record.
fn eopt_print(nd: &mut Nd, cp: usize) -> R<Option<usize>> {
    if !nd.ttest(cp, 2) {
        return Ok(None);
    }
    let code = nd.be16(cp)?;
    match eopt_name(code) {
        Some(n) => nd.p(n),
        None => {
            let _ = write!(nd.out, "Opt{code}");
        }
    }
    if !nd.ttest(cp + 2, 2) {
        return Ok(None);
    }
    let len = usize::from(nd.be16(cp + 2)?);
    let d = cp + 4;
    if !nd.ttest(d, len) {
        return Ok(None);
    }
    if len == 0 {
        return Ok(Some(d));
    }
    nd.p(" ");
    let hex = |nd: &mut Nd, from: usize, n: usize| -> R {
        for i in 0..n {
            let v = nd.u8(from + i)?;
            let _ = write!(nd.out, "{v:02x}");
        }
        Ok(())
    };
    match code {
        8 => ecs_print(nd, d, len)?,
        10 => {
            if len < 8 || (len > 8 && len < 16) || len > 40 {
                nd.p(" (invalid)");
            } else {
                hex(nd, d, 8)?;
                if len > 8 {
                    nd.p(" ");
                    hex(nd, d + 8, len - 8)?;
                }
            }
        }
        11 => {
            if len != 2 {
                nd.p(" (invalid)");
            } else {
                let v = nd.be16(d)?;
                let _ = write!(nd.out, "{}.{} sec", v / 10, v % 10);
            }
        }
        9 => {
            if len != 4 {
                nd.p(" (invalid)");
            } else {
                let v = nd.be32(d)?;
                let _ = write!(nd.out, "{v} sec");
            }
        }
        12 => {
            let _ = write!(nd.out, "({len})");
        }
        14 => {
            if len % 2 != 0 {
                nd.p(" (invalid)");
            } else {
                for i in (0..len).step_by(2) {
                    if i > 0 {
                        nd.p(" ");
                    }
                    let v = nd.be16(d + i)?;
                    let _ = write!(nd.out, "{v}");
                }
            }
        }
        5..=7 => {
            for i in 0..len {
                if i > 0 {
                    nd.p(" ");
                }
                let a = nd.u8(d + i)?;
                let name = match code {
                    5 => dau_name(a),
                    6 => match a {
                        1 => Some("SHA-1"),
                        2 => Some("SHA-256"),
                        3 => Some("GOST_R_34.11-94"),
                        4 => Some("SHA-384"),
                        _ => None,
                    },
                    _ => (a == 1).then_some("SHA-1"),
                };
                match name {
                    Some(n) => nd.p(n),
                    None => {
                        let _ = write!(nd.out, "Alg_{a}");
                    }
                }
            }
        }
        13 => {
            // tcpdump hands the name to its printer with the option's end as the message
            // start, so no compression pointer can be followed.
            let _ = fqdn_print(nd, d, d + len)?;
        }
        _ => hex(nd, d, len)?,
    }
    Ok(Some(d + len))
}

/// The client-subnet option (RFC 7871): `198.18.0.0/24/0`.
fn ecs_print(nd: &mut Nd, d: usize, len: usize) -> R {
    if len < 4 {
        nd.p(" (invalid)");
        return Ok(());
    }
    let family = nd.be16(d)?;
    let src_len = usize::from(nd.u8(d + 2)?);
    let scope_len = usize::from(nd.u8(d + 3)?);
    let addr_bits = match family {
        1 => 32,
        2 => 128,
        _ => {
            nd.p(" (invalid)");
            return Ok(());
        }
    };
    if len - 4 > addr_bits / 8
        || src_len > addr_bits
        || scope_len > addr_bits
        || src_len.div_ceil(8) != len - 4
    {
        nd.p(" (invalid)");
        return Ok(());
    }
    let mut padded = [0u8; 16];
    for i in 0..len - 4 {
        if let Some(b) = padded.get_mut(i) {
            *b = nd.u8(d + 4 + i)?;
        }
    }
    let addr = if family == 1 {
        std::net::Ipv4Addr::new(padded[0], padded[1], padded[2], padded[3]).to_string()
    } else {
        ip6_string(&padded)
    };
    let _ = write!(nd.out, "{addr}/{src_len}/{scope_len}");
    Ok(())
}

/// `domain_print` for UDP (`over_tcp` false) and TCP (a two-byte length first).
pub(super) fn domain_print(nd: &mut Nd, mut bp: usize, mut length: usize, over_tcp: bool) -> R {
    nd.proto = "domain";
    if over_tcp {
        if length < 2 {
            let _ = write!(nd.out, " [DNS over TCP: length {length} < 2] (invalid)");
            return Ok(());
        }
        length -= 2;
        let prefix = usize::from(nd.be16(bp)?);
        if prefix != length {
            let _ = write!(
                nd.out,
                " [prefix length({prefix}) != length({length})] (invalid)"
            );
            return Ok(());
        }
        bp += 2;
        nd.p(" ");
    }
    if length < 12 {
        let _ = write!(nd.out, "domain [length {length} < 12] (invalid)");
        return Ok(());
    }
    if !nd.ttest(bp, 12) {
        return Err(Jump);
    }
    let flags = nd.be16(bp + 2)?;
    let qdcount = nd.be16(bp + 4)?;
    let mut ancount = nd.be16(bp + 6)?;
    let nscount = nd.be16(bp + 8)?;
    let arcount = nd.be16(bp + 10)?;
    let rcode = extended_rcode(nd, bp, flags, qdcount, ancount, nscount, arcount)?;
    let id = nd.be16(bp)?;
    let op = OPS[usize::from((flags >> 11) & 0xf)];
    let mut cp = bp + 12;
    if flags & 0x8000 != 0 {
        let _ = write!(
            nd.out,
            "{id}{op}{}{}{}{}{}",
            rcode_str(rcode),
            if flags & 0x0400 != 0 { "*" } else { "" },
            if flags & 0x0080 != 0 { "" } else { "-" },
            if flags & 0x0200 != 0 { "|" } else { "" },
            if flags & 0x0020 != 0 { "$" } else { "" },
        );
        if qdcount != 1 {
            let _ = write!(nd.out, " [{qdcount}q]");
        }
        for i in 0..qdcount {
            // tcpdump separates the skipped questions with commas even when it does
            // not print them.
            if i != 0 {
                nd.p(",");
            }
            match nskip(nd, cp)? {
                Some(c) => cp = c + 4,
                None => return Err(Jump),
            }
        }
        let _ = write!(nd.out, " {ancount}/{nscount}/{arcount}");
        if ancount > 0 {
            match rprint(nd, cp, bp)? {
                Some(c) => cp = c,
                None => return Err(Jump),
            }
            ancount -= 1;
            while cp < nd.snapend && ancount > 0 {
                nd.p(",");
                match rprint(nd, cp, bp)? {
                    Some(c) => cp = c,
                    None => return Err(Jump),
                }
                ancount -= 1;
            }
        }
        if ancount > 0 {
            return Err(Jump);
        }
    } else {
        let _ = write!(
            nd.out,
            "{id}{op}{}{}",
            if flags & 0x0100 != 0 { "+" } else { "" },
            if flags & 0x0010 != 0 { "%" } else { "" },
        );
        if flags & 0x6cf != 0 {
            let _ = write!(nd.out, " [b2&3=0x{flags:x}]");
        }
        if (flags >> 11) & 0xf == 1 {
            if qdcount > 0 {
                let _ = write!(nd.out, " [{qdcount}q]");
            }
            if ancount != 1 {
                let _ = write!(nd.out, " [{ancount}a]");
            }
        } else {
            if ancount > 0 {
                let _ = write!(nd.out, " [{ancount}a]");
            }
            if qdcount != 1 {
                let _ = write!(nd.out, " [{qdcount}q]");
            }
        }
        if nscount > 0 {
            let _ = write!(nd.out, " [{nscount}n]");
        }
        if arcount > 0 {
            let _ = write!(nd.out, " [{arcount}au]");
        }
        let mut qd = qdcount;
        if qd > 0 {
            match qprint(nd, cp, bp)? {
                Some(c) => cp = c,
                None => return Err(Jump),
            }
            qd -= 1;
            while cp < nd.snapend && qd > 0 {
                match qprint(nd, cp, bp)? {
                    Some(c) => cp = c,
                    None => return Err(Jump),
                }
                qd -= 1;
            }
        }
        if qd > 0 {
            return Err(Jump);
        }
    }
    let _ = write!(nd.out, " ({length})");
    Ok(())
}

/// The response code, extended by an OPT record's high bits when there is one (tcpdump
/// skips through the sections to find it before printing anything).
fn extended_rcode(
    nd: &Nd,
    bp: usize,
    flags: u16,
    qdcount: u16,
    ancount: u16,
    nscount: u16,
    arcount: u16,
) -> R<u16> {
    let mut rcode = flags & 0x000f;
    let mut cp = bp + 12;
    for _ in 0..qdcount {
        let Some(c) = nskip(nd, cp)? else {
            return Ok(rcode);
        };
        cp = c + 4;
        if cp >= nd.snapend {
            return Ok(rcode);
        }
    }
    for _ in 0..(u32::from(ancount) + u32::from(nscount)) {
        let Some(c) = nskip(nd, cp)? else {
            return Ok(rcode);
        };
        cp = c + 8;
        if cp + 2 > nd.snapend {
            return Ok(rcode);
        }
        let rdlen = usize::from(nd.be16(cp)?);
        cp += 2 + rdlen;
        if cp >= nd.snapend {
            return Ok(rcode);
        }
    }
    for _ in 0..arcount {
        let Some(c) = nskip(nd, cp)? else {
            return Ok(rcode);
        };
        cp = c;
        if cp + 2 > nd.snapend {
            return Ok(rcode);
        }
        let t = nd.be16(cp)?;
        cp += 4;
        if cp + 1 > nd.snapend {
            return Ok(rcode);
        }
        if t == T_OPT {
            rcode |= u16::from(nd.u8(cp)?) << 4;
            return Ok(rcode);
        }
        cp += 4;
        if cp + 2 > nd.snapend {
            return Ok(rcode);
        }
        let rdlen = usize::from(nd.be16(cp)?);
        cp += 2 + rdlen;
        if cp >= nd.snapend {
            return Ok(rcode);
        }
    }
    Ok(rcode)
}
