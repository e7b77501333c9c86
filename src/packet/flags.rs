//! TCP flags: nine bits, written the ways users know them.
//!
//! scapy writes `"SA"`, hping3 `-S -A`, tcpdump `[S.]`, RFCs `SYN,ACK`: all of these parse.
//! A string of letters reads letter by letter, as scapy reads it (`"NS"` is NS+SYN);
//! flag names need a separator (`"ECE|SYN"`) or a list.

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

    /// Parses flags the way scapy reads them, and a few more spellings:
    ///
    /// - a string of letters reads letter by letter, as in scapy: `"SA"` is SYN+ACK,
    ///   `"NS"` is N (NS) + S (SYN), `"ECE"` is E + C + E (ECE+CWR); `.` (ACK) and `W`
    ///   (CWR) are tcpdump's letters;
    /// - a single word that is not all letters is a flag name: `"SYN"`, `"ACK"`, `"CWR"`;
    /// - with a separator (`|`, `,`, `+`, space) each part is a name first, then letters:
    ///   `"ECE|SYN"`, `"NS,ACK"`, `"S|A"`, `"syn ack"`;
    /// - `""` is no flags; a number (`"0x12"`, `"18"`) is the bits.
    ///
    /// The error names the offending letter and the allowed spellings.
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
        let is_sep = |c: char| c == '|' || c == ',' || c == '+' || c.is_whitespace();
        if !t.contains(is_sep) {
            return Self::part(t, false, text);
        }
        let mut bits = 0u16;
        for part in t.split(is_sep).filter(|p| !p.is_empty()) {
            bits |= Self::part(part, true, text)?.0;
        }
        Ok(TcpFlags(bits))
    }

    /// One flag name first (`"NS"` is the NS flag, `"ECE"` the ECE flag), else letters:
    /// how an attribute (`f.ECE`, `f.NS`) reads.
    pub fn parse_name(text: &str) -> Result<TcpFlags, String> {
        let t = text.trim();
        if t.contains(|c: char| c == '|' || c == ',' || c == '+' || c.is_whitespace()) {
            return Self::parse(t);
        }
        Self::part(t, true, text)
    }

    fn name(part: &str) -> Option<u16> {
        let upper = part.to_ascii_uppercase();
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == upper)
            .map(|(_, b)| *b)
    }

    /// Letter by letter: scapy's letters and `.` for ACK; `W` (tcpdump's CWR) too when
    /// `tcpdump` is set.
    fn letters(part: &str, tcpdump: bool) -> Result<u16, char> {
        let mut bits = 0;
        for c in part.chars() {
            let c2 = c.to_ascii_uppercase();
            match Self::LETTERS.iter().find(|(l, _)| *l == c2) {
                Some((_, b)) => bits |= b,
                None if c == '.' => bits |= Self::ACK,
                None if tcpdump && c2 == 'W' => bits |= Self::CWR,
                None => return Err(c),
            }
        }
        Ok(bits)
    }

    fn part(part: &str, names_first: bool, text: &str) -> Result<TcpFlags, String> {
        if names_first {
            if let Some(b) = Self::name(part) {
                return Ok(TcpFlags(b));
            }
        }
        if let Ok(b) = Self::letters(part, false) {
            return Ok(TcpFlags(b));
        }
        if let Some(b) = Self::name(part) {
            return Ok(TcpFlags(b));
        }
        Self::letters(part, true).map(TcpFlags).map_err(|c| {
            format!(
                "unknown TCP flag {c:?} in {text:?}; a string of letters reads letter by letter \
                 as in scapy, from F S R P A U E C N (\"SA\" is SYN+ACK, \"NS\" is NS+SYN); \
                 flag names FIN SYN RST PSH ACK URG ECE CWR NS need a separator \
                 (\"ECE|SYN\", \"NS,\"); or give a number"
            )
        })
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
    fn letters_read_as_scapy_reads_them_and_names_need_a_separator() {
        let f = |s: &str| TcpFlags::parse(s).unwrap().0;
        // scapy: "NS" is N+S, "ECE" is E+C+E.
        assert_eq!(f("NS"), TcpFlags::NS | TcpFlags::SYN);
        assert_eq!(f("ECE"), TcpFlags::ECE | TcpFlags::CWR);
        assert_eq!(f("EC"), TcpFlags::ECE | TcpFlags::CWR);
        // Names: with a separator, or a word that is not all letters.
        assert_eq!(f("ECE|SYN"), TcpFlags::ECE | TcpFlags::SYN);
        assert_eq!(f("NS,ACK"), TcpFlags::NS | TcpFlags::ACK);
        assert_eq!(f("ECE|"), TcpFlags::ECE);
        assert_eq!(f("SYN"), TcpFlags::SYN);
        assert_eq!(f("CWR"), TcpFlags::CWR);
        assert_eq!(f("W"), TcpFlags::CWR);
        // A list element or an attribute is a name first.
        assert_eq!(TcpFlags::parse_name("NS").unwrap().0, TcpFlags::NS);
        assert_eq!(TcpFlags::parse_name("ECE").unwrap().0, TcpFlags::ECE);
        assert_eq!(
            TcpFlags::parse_name("SA").unwrap().0,
            TcpFlags::SYN | TcpFlags::ACK
        );
    }

    #[test]
    fn errors_name_the_flag() {
        let e = TcpFlags::parse("SX").unwrap_err();
        assert!(e.contains("'X'"), "{e}");
        assert!(e.contains("F S R P A U E C N"), "{e}");
        assert!(e.contains("\"ECE|SYN\""), "{e}");
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
