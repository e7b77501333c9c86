//! TCP flags: nine bits, written the ways users know them.
//!
//! scapy writes `"SA"`, hping3 `-S -A`, tcpdump `[S.]`, RFCs `SYN,ACK`: all of these parse.

use std::fmt;

/// The nine TCP flag bits (RFC 9293 + RFC 3168 + RFC 3540), as a set.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    pub const NS: u16 = 0x100;

    /// scapy's letter order, bit 0 first.
    const LETTERS: [(char, u16); 9] = [
        ('F', Self::FIN),
        ('S', Self::SYN),
        ('R', Self::RST),
        ('P', Self::PSH),
        ('A', Self::ACK),
        ('U', Self::URG),
        ('E', Self::ECE),
        ('C', Self::CWR),
        ('N', Self::NS),
    ];
    const NAMES: [(&'static str, u16); 9] = [
        ("FIN", Self::FIN),
        ("SYN", Self::SYN),
        ("RST", Self::RST),
        ("PSH", Self::PSH),
        ("ACK", Self::ACK),
        ("URG", Self::URG),
        ("ECE", Self::ECE),
        ("CWR", Self::CWR),
        ("NS", Self::NS),
    ];

    pub fn contains(self, bits: u16) -> bool {
        self.0 & bits == bits
    }
    pub fn bits(self) -> u16 {
        self.0
    }

    /// Parses `"SA"`, `"S|A"`, `"SYN,ACK"`, `"syn ack"`, `"S+A"`, `""` (no flags), or a
    /// number (`"0x12"`, `"18"`). The error names the offending part and the allowed spellings.
    pub fn parse(text: &str) -> Result<TcpFlags, String> {
        let t = text.trim();
        if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            return u16::from_str_radix(hex, 16)
                .ok()
                .filter(|v| *v <= 0x1ff)
                .map(TcpFlags)
                .ok_or_else(|| format!("flags {text:?}: a number must be 0..=0x1ff"));
        }
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            return t
                .parse::<u16>()
                .ok()
                .filter(|v| *v <= 0x1ff)
                .map(TcpFlags)
                .ok_or_else(|| format!("flags {text:?}: a number must be 0..=511"));
        }
        let mut bits = 0u16;
        for part in t.split(|c: char| c == '|' || c == ',' || c == '+' || c.is_whitespace()) {
            if part.is_empty() {
                continue;
            }
            let upper = part.to_ascii_uppercase();
            if let Some((_, b)) = Self::NAMES.iter().find(|(n, _)| *n == upper) {
                bits |= b;
                continue;
            }
            for c in part.chars() {
                let c2 = c.to_ascii_uppercase();
                match Self::LETTERS.iter().find(|(l, _)| *l == c2) {
                    Some((_, b)) => bits |= b,
                    // tcpdump writes ACK as '.', ECE as 'E', CWR as 'W'.
                    None if c == '.' => bits |= Self::ACK,
                    None if c2 == 'W' => bits |= Self::CWR,
                    None => {
                        return Err(format!(
                            "unknown TCP flag {c:?} in {text:?}; use letters F S R P A U E C N \
                             (\"SA\"), names joined by | or , (\"SYN|ACK\"), or a number"
                        ))
                    }
                }
            }
        }
        Ok(TcpFlags(bits))
    }

    /// tcpdump's spelling inside `Flags [..]`, in its table order: F S R P . U E W
    /// (`.` is ACK, `W` is CWR); `none` if no flag is set. NS is not printed by tcpdump.
    pub fn tcpdump(self) -> String {
        let mut s = String::new();
        for (c, b) in [
            ('F', Self::FIN),
            ('S', Self::SYN),
            ('R', Self::RST),
            ('P', Self::PSH),
            ('.', Self::ACK),
            ('U', Self::URG),
            ('E', Self::ECE),
            ('W', Self::CWR),
        ] {
            if self.contains(b) {
                s.push(c);
            }
        }
        if s.is_empty() {
            s.push_str("none");
        }
        s
    }

    /// Long names joined by commas: `SYN,ACK`.
    pub fn names(self) -> String {
        let v: Vec<&str> = Self::NAMES
            .iter()
            .filter(|(_, b)| self.contains(*b))
            .map(|(n, _)| *n)
            .collect();
        v.join(",")
    }
}

impl fmt::Display for TcpFlags {
    /// scapy's spelling: letters in bit order, `FSRPAUECN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (c, b) in Self::LETTERS {
            if self.contains(b) {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TcpFlags({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_agree() {
        let sa = TcpFlags(TcpFlags::SYN | TcpFlags::ACK);
        for s in [
            "SA", "AS", "S|A", "SYN,ACK", "syn ack", "S.", "0x12", "18", "sa",
        ] {
            assert_eq!(TcpFlags::parse(s).unwrap(), sa, "{s}");
        }
        assert_eq!(TcpFlags::parse("").unwrap(), TcpFlags(0));
        assert_eq!(TcpFlags::parse("FSRPAUECN").unwrap(), TcpFlags(0x1ff));
    }

    #[test]
    fn errors_name_the_flag() {
        let e = TcpFlags::parse("SX").unwrap_err();
        assert!(e.contains("'X'"), "{e}");
        assert!(TcpFlags::parse("0x200").is_err());
    }

    #[test]
    fn displays() {
        let f = TcpFlags(TcpFlags::SYN | TcpFlags::ACK);
        assert_eq!(f.to_string(), "SA");
        assert_eq!(f.tcpdump(), "S.");
        assert_eq!(f.names(), "SYN,ACK");
        assert_eq!(TcpFlags(0).tcpdump(), "none");
        assert_eq!(TcpFlags(0x0ff).tcpdump(), "FSRP.UEW");
    }
}
