//! `tcpcraft decode`: capture files and hex dumps to summary lines, field trees, hexdumps
//! or JSON. The command-line front end calls [`run`]; the formatting is the packet model's.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use crate::packet::{display, LinkType, Packet};
use crate::pcap;

/// How each packet is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Summary,
    Show,
    Hexdump,
    Json,
}

/// Where the packets come from.
pub enum Input {
    File(PathBuf),
    /// A hex dump (spaces, colons, `0x`, offsets and ASCII columns tolerated).
    Hex(String),
    /// Hex read from standard input.
    HexStdin,
}

/// Errors that stop decoding (exit status 2: bad input named by the user).
#[derive(Debug)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Drops a dump's offset column ("0000   45 00", "00000010: 4500", "0x0010:  45 00"): a
/// first group of four or more hex digits followed by a colon or by two spaces, in a dump
/// of several lines. One line of plain hex ("4500 003c") is all data.
fn strip_offset(line: &str, multi_line: bool) -> &str {
    let Some((first, rest)) = line.split_once(|c: char| c.is_whitespace() || c == ':') else {
        return line;
    };
    let digits = first.trim_start_matches("0x");
    let looks_like_offset = digits.len() >= 4 && digits.chars().all(|c| c.is_ascii_hexdigit());
    let separated = line[first.len()..].starts_with(':') || rest.starts_with(' ');
    if multi_line && looks_like_offset && separated && !rest.trim().is_empty() {
        rest.trim_start_matches(':').trim()
    } else {
        line
    }
}

/// Parses a pasted hex dump: accepts `45 00 00 3c`, `45:00`, `0x4500…`, `\x45\x00`, and
/// `xxd`/Wireshark lines with an offset column and an ASCII column.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let mut digits = String::new();
    let multi_line = text.lines().count() > 1;
    for line in text.lines() {
        let mut line = strip_offset(line.trim(), multi_line);
        // Drop an ASCII column: two or more spaces then non-hex text (Wireshark/xxd style).
        if let Some(idx) = line.find("  ") {
            let tail = line[idx..].trim();
            let is_hex_group = tail
                .split_whitespace()
                .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()) && g.len() <= 4);
            if !is_hex_group {
                line = &line[..idx];
            }
        }
        let cleaned = line.replace("0x", " ").replace("\\x", " ");
        for c in cleaned.chars() {
            if c.is_ascii_hexdigit() {
                digits.push(c);
            } else if c.is_whitespace() || matches!(c, ':' | ',' | '-' | '.') {
                continue;
            } else {
                return Err(format!(
                    "not a hex digit: {c:?}; give bytes as hex like 4500003c…"
                ));
            }
        }
    }
    if digits.is_empty() {
        return Err("no hex digits given".into());
    }
    if digits.len() % 2 != 0 {
        return Err(format!(
            "odd number of hex digits ({}): every byte needs two digits",
            digits.len()
        ));
    }
    hex::decode(&digits).map_err(|e| e.to_string())
}

/// Writes one packet in the chosen format. `wire_len` is the length on the wire (a pcap
/// record's original length): the summary line prints it, as tcpdump does, even when the
/// capture kept fewer bytes.
fn print_packet(
    out: &mut dyn Write,
    bytes: &[u8],
    wire_len: usize,
    link: LinkType,
    format: Format,
) -> io::Result<()> {
    match format {
        Format::Summary => writeln!(out, "{}", display::summary_captured(bytes, wire_len, link)),
        Format::Show => write!(out, "{}", display::show(&Packet::parse(bytes, link).0)),
        Format::Hexdump => {
            writeln!(out, "{}", display::summary_captured(bytes, wire_len, link))?;
            write!(out, "{}", display::hexdump(bytes))
        }
        Format::Json => {
            let mut v = display::json(&Packet::parse(bytes, link).0);
            // The summary is tcpdump's line for the captured bytes, as in the other formats.
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "summary".into(),
                    display::summary_captured(bytes, wire_len, link).into(),
                );
            }
            writeln!(out, "{v}")
        }
    }
}

/// Runs `decode`. Returns the number of packets printed.
pub fn run(
    input: Input,
    format: Format,
    link_override: Option<LinkType>,
    out: &mut dyn Write,
) -> Result<u64, DecodeError> {
    run_filtered(input, format, link_override, None, out)
}

/// The capture-file link type (LINKTYPE_*) a filter is compiled for under `--link`.
fn linktype_of(l: LinkType) -> u32 {
    match l {
        LinkType::Ethernet => pcap::linktype::ETHERNET,
        LinkType::RawIp => pcap::linktype::RAW,
        LinkType::Sll => pcap::linktype::LINUX_SLL,
    }
}

/// Filters compiled by libpcap, one per link type met in the file (pcapng files may mix
/// them), as `tcpdump -r FILE FILTER` applies its filter.
struct Filters {
    text: String,
    compiled: std::collections::HashMap<u32, crate::net::filter::Filter>,
}

impl Filters {
    fn keeps(&mut self, linktype: u32, bytes: &[u8]) -> Result<bool, DecodeError> {
        let f = match self.compiled.entry(linktype) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert(
                crate::net::filter::Filter::new(&self.text, linktype)
                    .map_err(|e| DecodeError(e.to_string()))?,
            ),
        };
        Ok(f.matches(bytes))
    }
}

/// [`run`] keeping only the packets a tcpdump filter (`filter`) keeps.
pub fn run_filtered(
    input: Input,
    format: Format,
    link_override: Option<LinkType>,
    filter: Option<&str>,
    out: &mut dyn Write,
) -> Result<u64, DecodeError> {
    let mut filters = filter.map(|text| Filters {
        text: text.to_string(),
        compiled: Default::default(),
    });
    let io_err = |e: io::Error| DecodeError(format!("writing output: {e}"));
    match input {
        Input::Hex(_) | Input::HexStdin => {
            let (text, what) = match input {
                Input::Hex(text) => (text, "--hex"),
                _ => {
                    let mut text = String::new();
                    io::stdin()
                        .read_to_string(&mut text)
                        .map_err(|e| DecodeError(format!("standard input: {e}")))?;
                    (text, "standard input")
                }
            };
            let bytes = parse_hex(&text).map_err(|e| DecodeError(format!("{what}: {e}")))?;
            let link = link_override.unwrap_or(guess_link(&bytes));
            if let Some(f) = filters.as_mut() {
                if !f.keeps(linktype_of(link), &bytes)? {
                    return Ok(0);
                }
            }
            print_packet(out, &bytes, bytes.len(), link, format).map_err(io_err)?;
            Ok(1)
        }
        Input::File(path) => {
            let name = path.display().to_string();
            let mut r =
                pcap::Reader::open(&path).map_err(|e| DecodeError(format!("{name}: {e}")))?;
            let mut n = 0;
            // One line buffer for the whole capture: the summary is the hot path.
            let mut line = String::with_capacity(256);
            while let Some(rec) = r.next_record() {
                let rec = rec.map_err(|e| DecodeError(format!("{name}: {e}")))?;
                let wire_len = rec.orig_len as usize;
                if let Some(f) = filters.as_mut() {
                    let lt = match link_override {
                        Some(l) => linktype_of(l),
                        None => rec.linktype,
                    };
                    if !f.keeps(lt, &rec.data)? {
                        r.recycle(rec.data);
                        continue;
                    }
                }
                if format == Format::Summary && link_override.is_none() {
                    display::summary_dlt_into(&mut line, &rec.data, wire_len, rec.linktype);
                    line.push('\n');
                    out.write_all(line.as_bytes()).map_err(io_err)?;
                    r.recycle(rec.data);
                    n += 1;
                    continue;
                }
                match link_override.or_else(|| pcap::link_of(rec.linktype)) {
                    Some(link) if !rec.data.is_empty() => {
                        print_packet(out, &rec.data, wire_len, link, format)
                    }
                    _ => print_other(out, &rec.data, wire_len, rec.linktype, format),
                }
                .map_err(io_err)?;
                n += 1;
            }
            Ok(n)
        }
    }
}

/// A frame of a link type the packet model has no layer for (BSD loopback, PPP, Cisco
/// HDLC, Linux cooked v2, IPNET, IP over InfiniBand, 802.11 with radiotap, …), or an
/// empty record: the summary is tcpdump's line; the field tree and JSON show the IP
/// packet inside when there is one, else the bytes.
fn print_other(
    out: &mut dyn Write,
    bytes: &[u8],
    wire_len: usize,
    linktype: u32,
    format: Format,
) -> io::Result<()> {
    let line = display::summary_dlt(bytes, wire_len, linktype);
    let inner = || match display::ip_offset(bytes, linktype) {
        Some(at) => Packet::parse(&bytes[at..], LinkType::RawIp).0,
        None => Packet::new(vec![crate::packet::Layer::Raw(bytes.to_vec())]),
    };
    match format {
        Format::Summary => writeln!(out, "{line}"),
        Format::Show => write!(out, "{}", display::show(&inner())),
        Format::Hexdump => {
            writeln!(out, "{line}")?;
            write!(out, "{}", display::hexdump(bytes))
        }
        Format::Json => {
            let mut v = display::json(&inner());
            if let Some(obj) = v.as_object_mut() {
                obj.insert("summary".into(), line.into());
                obj.insert("linktype".into(), linktype.into());
            }
            writeln!(out, "{v}")
        }
    }
}

/// A hex dump that starts like an IP header is raw IP; otherwise Ethernet. IPv4: version
/// 4, a header length of at least 20 bytes, a total length that covers it; IPv6: version
/// 6 and 40 bytes of fixed header. (A MAC address may start with the same nibble: 0x40
/// to 0x44 can only be an IPv4 header with a bad length, so those read as Ethernet.)
fn guess_link(bytes: &[u8]) -> LinkType {
    let plausible_v4 = || {
        bytes.len() >= crate::packet::ipv4::HEADER_LEN && {
            // The fixed header is there: the view's accessors cannot panic.
            let h = crate::packet::Ipv4Packet::new_unchecked(bytes);
            let ihl = h.header_len();
            ihl >= crate::packet::ipv4::HEADER_LEN && usize::from(h.total_len()) >= ihl
        }
    };
    match bytes.first().map(|b| b >> 4) {
        Some(4) if plausible_v4() => LinkType::RawIp,
        Some(6) if bytes.len() >= crate::packet::ipv6::HEADER_LEN => LinkType::RawIp,
        _ => LinkType::Ethernet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_in_the_forms_people_paste() {
        let want = vec![0x45, 0x00, 0x00, 0x3c];
        for s in [
            "4500003c",
            "45 00 00 3c",
            "45:00:00:3c",
            "0x45 0x00 0x00 0x3c",
            "\\x45\\x00\\x00\\x3c",
            " 4500 003c\n",
        ] {
            assert_eq!(parse_hex(s).unwrap(), want, "{s:?}");
        }
        let dump = "0000   45 00 00 3c 1c 46   E..<.F\n0006   40 00               @.\n";
        assert_eq!(
            parse_hex(dump).unwrap(),
            vec![0x45, 0, 0, 0x3c, 0x1c, 0x46, 0x40, 0]
        );
        let tcpdump_x = "\t0x0000:  4500 003c 1c46\n\t0x0006:  4000\n";
        assert_eq!(
            parse_hex(tcpdump_x).unwrap(),
            vec![0x45, 0, 0, 0x3c, 0x1c, 0x46, 0x40, 0]
        );
        let xxd = "00000000: 4500 003c  E..<\n00000004: 1c46       .F\n";
        assert_eq!(parse_hex(xxd).unwrap(), vec![0x45, 0, 0, 0x3c, 0x1c, 0x46]);
    }

    #[test]
    fn hex_that_starts_like_an_ip_header_reads_as_ip() {
        let syn = hex::decode(
            "4500003c000100004006ee93c6120001c61200029c400050000003e800000000a002faf0206e0000",
        )
        .unwrap();
        assert_eq!(guess_link(&syn), LinkType::RawIp);
        // A frame to a MAC starting 0x42 or 0x45 that is no IPv4 header.
        let frame = hex::decode("42000000000102000000000208004500001c").unwrap();
        assert_eq!(guess_link(&frame), LinkType::Ethernet);
        let frame = hex::decode("450000000001020000000002080045000000000100004011").unwrap();
        assert_eq!(guess_link(&frame), LinkType::Ethernet);
        let mut v6 = vec![0x60u8; 1];
        v6.resize(40, 0);
        assert_eq!(guess_link(&v6), LinkType::RawIp);
        assert_eq!(guess_link(&v6[..20]), LinkType::Ethernet);
    }

    #[test]
    fn hex_errors_say_what_to_change() {
        assert!(parse_hex("450")
            .unwrap_err()
            .contains("odd number of hex digits (3)"));
        assert!(parse_hex("45zz").unwrap_err().contains("'z'"));
        assert!(parse_hex("").unwrap_err().contains("no hex digits"));
    }
}
