//! A tcpdump-like capture filter, parsed and compiled to classic BPF by tcpcraft itself
//! (no libpcap). Pure.
//!
//! Grammar (a subset of pcap-filter(7)):
//! ```text
//! expr    := and ( ("or" | "||") and )*
//! and     := unary ( ("and" | "&&") unary )*
//! unary   := ("not" | "!") unary | "(" expr ")" | prim
//! prim    := [tcp|udp] [src|dst] port N
//!          | [src|dst] host ADDR | [src|dst] net ADDR/LEN | [src|dst] ADDR
//!          | ip | ip6 | tcp | udp | icmp | icmp6
//!          | N | ADDR          (a bare value repeats the previous primitive's kind:
//!                                "port 80 or 443", "host 198.18.0.1 or 198.18.0.2")
//! ```
//! The program runs on packets that start at the IP header (AF_PACKET SOCK_DGRAM);
//! IPv6 extension headers are not walked (a port test on such a packet is false).

use std::fmt;
use std::net::IpAddr;

use super::bpf::{Asm, Label, ABS, AND, B, H, IND, JEQ, JMP, K, LD, LDX, MSH, RET, SNAPLEN, W};
use super::sys::SockFilter;

/// Which address or port of a packet a primitive looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Src,
    Dst,
    Either,
}

/// One filter primitive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prim {
    Ip,
    Ip6,
    Tcp,
    Udp,
    Icmp,
    Icmp6,
    Host(Dir, IpAddr),
    Net(Dir, IpAddr, u8),
    /// A TCP or UDP port; `Some(6 | 17)` restricts it to one protocol.
    Port(Dir, Option<u8>, u16),
}

/// A parsed filter expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    All,
    Prim(Prim),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// A filter error: what was wrong and the byte offset in the filter text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    pub at: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "filter error at column {}: {}",
            self.at + 1,
            self.message
        )
    }
}

impl std::error::Error for FilterError {}

#[derive(Clone, Debug, PartialEq)]
struct Tok {
    at: usize,
    text: String,
}

fn lex(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' || c == ')' || c == '!' {
            out.push(Tok {
                at: i,
                text: c.to_string(),
            });
            chars.next();
        } else if c == '&' || c == '|' {
            chars.next();
            let mut t = c.to_string();
            if chars.peek().map(|&(_, d)| d) == Some(c) {
                chars.next();
                t.push(c);
            }
            out.push(Tok { at: i, text: t });
        } else {
            let mut t = String::new();
            while let Some(&(_, d)) = chars.peek() {
                if d.is_whitespace() || "()!&|".contains(d) {
                    break;
                }
                t.push(d);
                chars.next();
            }
            out.push(Tok { at: i, text: t });
        }
    }
    out
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    end: usize,
    /// The kind of the last primitive, for bare values ("port 80 or 443").
    last: Option<(Dir, Option<u8>, &'static str)>,
    depth: usize,
    /// Primitives parsed so far (see [`MAX_PRIMS`]).
    prims: usize,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(|t| t.text.as_str())
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map(|t| t.at).unwrap_or(self.end)
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, FilterError> {
        Err(FilterError {
            at: self.at(),
            message: message.into(),
        })
    }

    fn next(&mut self) -> Option<String> {
        let t = self.toks.get(self.pos).map(|t| t.text.clone());
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut e = self.and()?;
        while matches!(self.peek(), Some("or" | "||")) {
            self.pos += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut e = self.unary()?;
        while matches!(self.peek(), Some("and" | "&&")) {
            self.pos += 1;
            e = Expr::And(Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        self.depth += 1;
        if self.depth > 64 {
            return self.err("filter nested too deeply");
        }
        let r = match self.peek() {
            Some("not" | "!") => {
                self.pos += 1;
                self.unary().map(|e| Expr::Not(Box::new(e)))
            }
            Some("(") => {
                self.pos += 1;
                let e = self.or()?;
                if self.peek() != Some(")") {
                    return self.err("expected `)`");
                }
                self.pos += 1;
                Ok(e)
            }
            Some(_) => self.prim(),
            None => {
                self.err("expected a filter primitive (host, net, port, tcp, udp, icmp, ip6 …)")
            }
        };
        self.depth -= 1;
        r
    }

    fn prim(&mut self) -> Result<Expr, FilterError> {
        // `a or b or …` builds a tree as deep as it is long, and lowering it recurses:
        // a 50,000-term chain overflowed the stack (found by tests/harden_filter.rs).
        // 256 terms is more than any filter the kernel could load (4096 instructions).
        self.prims += 1;
        if self.prims > MAX_PRIMS {
            return self.err(format!(
                "filter too long: more than {MAX_PRIMS} terms (host, port, tcp …); \
                 the kernel takes at most 4096 BPF instructions"
            ));
        }
        let mut proto: Option<u8> = None;
        let mut proto_word: Option<&'static str> = None;
        match self.peek() {
            Some("tcp") => {
                proto = Some(6);
                proto_word = Some("tcp");
            }
            Some("udp") => {
                proto = Some(17);
                proto_word = Some("udp");
            }
            Some(w @ ("ip" | "ip6" | "icmp" | "icmp6")) => {
                let p = match w {
                    "ip" => Prim::Ip,
                    "ip6" => Prim::Ip6,
                    "icmp" => Prim::Icmp,
                    _ => Prim::Icmp6,
                };
                self.pos += 1;
                return Ok(Expr::Prim(p));
            }
            _ => {}
        }
        if proto.is_some() {
            self.pos += 1;
        }
        let dir = match self.peek() {
            Some("src") => {
                self.pos += 1;
                Dir::Src
            }
            Some("dst") => {
                self.pos += 1;
                Dir::Dst
            }
            _ => Dir::Either,
        };
        let kind: &'static str = match self.peek() {
            Some("port") => "port",
            Some("host") => "host",
            Some("net") => "net",
            _ => {
                if proto.is_some() && dir == Dir::Either {
                    // A bare "tcp" / "udp".
                    return Ok(Expr::Prim(if proto == Some(6) {
                        Prim::Tcp
                    } else {
                        Prim::Udp
                    }));
                }
                if proto.is_none() && dir == Dir::Either {
                    // A bare value repeats the previous kind.
                    if let (Some((d, p, k)), Some(_)) = (self.last, self.peek()) {
                        return self.value(d, p, k);
                    }
                }
                if dir != Dir::Either && proto.is_none() {
                    // "src 198.18.0.1" means "src host 198.18.0.1".
                    return self.value(dir, None, "host");
                }
                return match self.peek() {
                    Some(t) => {
                        let t = t.to_string();
                        self.err(format!("unknown filter word `{t}` (expected host, net, port, src, dst, tcp, udp, icmp, icmp6, ip, ip6, and, or, not)"))
                    }
                    None => self.err("expected port, host or net"),
                };
            }
        };
        if proto.is_some() && kind != "port" {
            let w = proto_word.unwrap_or("tcp");
            return self.err(format!("`{w}` can only qualify `port`"));
        }
        self.pos += 1;
        self.value(dir, proto, kind)
    }

    fn value(
        &mut self,
        dir: Dir,
        proto: Option<u8>,
        kind: &'static str,
    ) -> Result<Expr, FilterError> {
        let at = self.at();
        let Some(v) = self.next() else {
            return self.err(format!("expected a value after `{kind}`"));
        };
        let bad = |m: String| Err(FilterError { at, message: m });
        let prim = match kind {
            "port" => match v.parse::<u16>() {
                Ok(p) => Prim::Port(dir, proto, p),
                Err(_) => return bad(format!("`{v}` is not a port number (0-65535)")),
            },
            "host" => match v.parse::<IpAddr>() {
                Ok(a) => Prim::Host(dir, a),
                Err(_) => {
                    return bad(format!(
                        "`{v}` is not an IPv4 or IPv6 address (names are not resolved)"
                    ))
                }
            },
            _ => {
                let (addr, len) = v.split_once('/').unwrap_or((v.as_str(), ""));
                let Ok(a) = addr.parse::<IpAddr>() else {
                    return bad(format!("`{addr}` is not a network address"));
                };
                let max = if a.is_ipv4() { 32 } else { 128 };
                let len = if len.is_empty() {
                    max
                } else {
                    match len.parse::<u8>() {
                        Ok(l) if l <= max => l,
                        _ => return bad(format!("`/{len}` is not a prefix length (0-{max})")),
                    }
                };
                Prim::Net(dir, a, len)
            }
        };
        self.last = Some((dir, proto, kind));
        Ok(Expr::Prim(prim))
    }
}

/// The most primitives one filter may hold.
const MAX_PRIMS: usize = 256;

/// Parse a filter; the empty string (or only spaces) accepts everything.
pub fn parse(s: &str) -> Result<Expr, FilterError> {
    let toks = lex(s);
    if toks.is_empty() {
        return Ok(Expr::All);
    }
    let mut p = Parser {
        toks,
        pos: 0,
        end: s.len(),
        last: None,
        depth: 0,
        prims: 0,
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        let t = p.peek().unwrap_or_default().to_string();
        return p.err(format!("unexpected `{t}` (missing `and`/`or`?)"));
    }
    Ok(e)
}

/// Compile a filter for packets starting at the IP header.
pub fn compile(e: &Expr) -> Result<Vec<SockFilter>, String> {
    let mut asm = Asm::new();
    let t = asm.label();
    let f = asm.label();
    emit(&mut asm, e, t, f);
    asm.place(t);
    asm.op(RET | K, SNAPLEN);
    asm.place(f);
    asm.op(RET | K, 0);
    asm.finish()
}

/// A parsed and compiled filter.
#[derive(Clone, Debug)]
pub struct Filter {
    pub text: String,
    pub expr: Expr,
    pub program: Vec<SockFilter>,
}

impl Filter {
    pub fn new(text: &str) -> Result<Filter, FilterError> {
        let expr = parse(text)?;
        let program = compile(&expr).map_err(|message| FilterError { at: 0, message })?;
        Ok(Filter {
            text: text.to_string(),
            expr,
            program,
        })
    }

    /// Does a packet (starting at the IP header) pass?
    pub fn matches(&self, pkt: &[u8]) -> bool {
        super::bpf::run(&self.program, pkt) != 0
    }
}

/// Low-level tests the primitives expand into.
enum Atom {
    /// `ld{size} [off] (& mask) == val`, absolute offset.
    Abs(u16, u32, Option<u32>, u32),
    /// The same at `IPv4 header length + off`.
    Ind(u16, u32, u32),
}

enum Low {
    Atom(Atom),
    And(Vec<Low>),
    Or(Vec<Low>),
    Not(Box<Low>),
    True,
}

fn v4() -> Low {
    Low::Atom(Atom::Abs(B, 0, Some(0xf0), 0x40))
}

fn v6() -> Low {
    Low::Atom(Atom::Abs(B, 0, Some(0xf0), 0x60))
}

fn proto4(p: u32) -> Low {
    Low::And(vec![v4(), Low::Atom(Atom::Abs(B, 9, None, p))])
}

fn proto6(p: u32) -> Low {
    Low::And(vec![v6(), Low::Atom(Atom::Abs(B, 6, None, p))])
}

fn addr(dir: Dir, a: IpAddr, bits: u8) -> Low {
    let (ver, octets, src_off, dst_off): (Low, Vec<u8>, u32, u32) = match a {
        IpAddr::V4(x) => (v4(), x.octets().to_vec(), 12, 16),
        IpAddr::V6(x) => (v6(), x.octets().to_vec(), 8, 24),
    };
    let words: Vec<(u32, u32, u32)> = octets
        .chunks(4)
        .enumerate()
        .filter_map(|(i, c)| {
            let start = (i * 32) as u32;
            let b = u32::from(bits);
            if b <= start {
                return None;
            }
            let keep = (b - start).min(32);
            let mask = if keep == 32 {
                u32::MAX
            } else {
                !(u32::MAX >> keep)
            };
            let v = u32::from_be_bytes([*c.first()?, *c.get(1)?, *c.get(2)?, *c.get(3)?]);
            Some((i as u32 * 4, mask, v & mask))
        })
        .collect();
    let side = |off: u32| {
        Low::And(
            words
                .iter()
                .map(|&(o, m, v)| Low::Atom(Atom::Abs(W, off + o, (m != u32::MAX).then_some(m), v)))
                .collect(),
        )
    };
    let test = match dir {
        Dir::Src => side(src_off),
        Dir::Dst => side(dst_off),
        Dir::Either => Low::Or(vec![side(src_off), side(dst_off)]),
    };
    Low::And(vec![ver, test])
}

fn port(dir: Dir, proto: Option<u8>, p: u16) -> Low {
    let p = u32::from(p);
    let protos: Vec<u32> = match proto {
        Some(x) => vec![u32::from(x)],
        None => vec![6, 17],
    };
    let sides = |ind: bool| {
        let at = |o: u32| {
            if ind {
                Low::Atom(Atom::Ind(H, o, p))
            } else {
                Low::Atom(Atom::Abs(H, 40 + o, None, p))
            }
        };
        match dir {
            Dir::Src => at(0),
            Dir::Dst => at(2),
            Dir::Either => Low::Or(vec![at(0), at(2)]),
        }
    };
    let four = Low::And(vec![
        v4(),
        Low::Or(
            protos
                .iter()
                .map(|&x| Low::Atom(Atom::Abs(B, 9, None, x)))
                .collect(),
        ),
        // Only a first fragment carries the ports.
        Low::Atom(Atom::Abs(H, 6, Some(0x1fff), 0)),
        sides(true),
    ]);
    let six = Low::And(vec![
        v6(),
        Low::Or(
            protos
                .iter()
                .map(|&x| Low::Atom(Atom::Abs(B, 6, None, x)))
                .collect(),
        ),
        sides(false),
    ]);
    Low::Or(vec![four, six])
}

fn lower(e: &Expr) -> Low {
    match e {
        Expr::All => Low::True,
        Expr::Not(x) => Low::Not(Box::new(lower(x))),
        Expr::And(a, b) => Low::And(vec![lower(a), lower(b)]),
        Expr::Or(a, b) => Low::Or(vec![lower(a), lower(b)]),
        Expr::Prim(p) => match p {
            Prim::Ip => v4(),
            Prim::Ip6 => v6(),
            Prim::Tcp => Low::Or(vec![proto4(6), proto6(6)]),
            Prim::Udp => Low::Or(vec![proto4(17), proto6(17)]),
            Prim::Icmp => proto4(1),
            Prim::Icmp6 => proto6(58),
            Prim::Host(d, a) => addr(*d, *a, if a.is_ipv4() { 32 } else { 128 }),
            Prim::Net(d, a, l) => addr(*d, *a, *l),
            Prim::Port(d, pr, p) => port(*d, *pr, *p),
        },
    }
}

/// A short-circuit chain: for `and`, each term but the last jumps to `f` when false and on
/// to the next when true; for `or`, to `t` when true and on when false. Empty: `and` is
/// true, `or` false.
fn emit_chain(asm: &mut Asm, xs: &[Low], t: Label, f: Label, and: bool) {
    let Some((last, init)) = xs.split_last() else {
        asm.ja(if and { t } else { f });
        return;
    };
    for x in init {
        let next = asm.label();
        if and {
            emit_low(asm, x, next, f);
        } else {
            emit_low(asm, x, t, next);
        }
        asm.place(next);
    }
    emit_low(asm, last, t, f);
}

fn emit_low(asm: &mut Asm, l: &Low, t: Label, f: Label) {
    match l {
        Low::True => asm.ja(t),
        Low::Not(x) => emit_low(asm, x, f, t),
        Low::And(xs) => emit_chain(asm, xs, t, f, true),
        Low::Or(xs) => emit_chain(asm, xs, t, f, false),
        Low::Atom(Atom::Abs(size, off, mask, val)) => {
            asm.op(LD | *size | ABS, *off);
            if let Some(m) = mask {
                asm.op(ALU | AND | K, *m);
            }
            asm.jump_if(JMP | JEQ | K, *val, t, f);
        }
        Low::Atom(Atom::Ind(size, off, val)) => {
            asm.op(LDX | B | MSH, 0);
            asm.op(LD | *size | IND, *off);
            asm.jump_if(JMP | JEQ | K, *val, t, f);
        }
    }
}

use super::bpf::ALU;

fn emit(asm: &mut Asm, e: &Expr, t: Label, f: Label) {
    emit_low(asm, &lower(e), t, f);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::matching::tests::{icmp, ip4, ip6, tcp, udp};

    const C: [u8; 4] = [198, 18, 0, 1];
    const S: [u8; 4] = [198, 18, 0, 2];

    fn m(f: &str, p: &[u8]) -> bool {
        Filter::new(f).unwrap().matches(p)
    }

    #[test]
    fn protocols_hosts_ports() {
        let syn = ip4(C, S, 6, &tcp(40000, 80, 1, 0, 2, b""));
        let dns = ip4(C, S, 17, &udp(5353, 53, b"x"));
        let ping = ip4(C, S, 1, &icmp(8, 0, 1, 1, b""));
        let syn6 = ip6(1, 2, 6, &tcp(40000, 80, 1, 0, 2, b""));
        assert!(m("", &syn));
        assert!(m("tcp", &syn) && !m("tcp", &dns) && m("tcp", &syn6));
        assert!(m("udp port 53", &dns) && !m("tcp port 53", &dns));
        assert!(m("port 80", &syn) && m("port 80", &syn6) && !m("port 81", &syn));
        assert!(m("dst port 80", &syn) && !m("src port 80", &syn));
        assert!(m("src host 198.18.0.1", &syn) && !m("dst host 198.18.0.1", &syn));
        assert!(m("host 198.18.0.2", &syn) && !m("host 198.18.0.3", &syn));
        assert!(m("net 198.18.0.0/24", &syn) && !m("net 198.19.0.0/16", &syn));
        assert!(m("icmp", &ping) && !m("icmp", &syn) && !m("icmp6", &ping));
        assert!(m("ip6 and host 2001:db8:198:18::2", &syn6) && !m("ip", &syn6));
        assert!(m("net 2001:db8:198:18::/64", &syn6));
        assert!(m("tcp and (port 22 or port 80) and not icmp", &syn));
        assert!(m("port 22 or 80", &syn) && !m("port 22 or 443", &syn));
        assert!(m("! udp && src 198.18.0.1", &syn));
        assert!(!m("not tcp", &syn));
        // Truncated packets never match (and never panic).
        for n in 0..syn.len() {
            let _ = m("tcp port 80", &syn[..n]);
        }
        assert!(!m("tcp port 80", &syn[..21]));
    }

    #[test]
    fn ipv4_options_shift_the_ports() {
        let mut p = ip4(C, S, 6, &tcp(40000, 80, 1, 0, 2, b""));
        p[0] = 0x46;
        p.splice(20..20, [1, 1, 1, 1]);
        assert!(m("port 80", &p));
        let mut frag = ip4(C, S, 6, &tcp(40000, 80, 1, 0, 2, b""));
        frag[7] = 1; // a later fragment: no ports there
        assert!(!m("port 80", &frag) && m("tcp", &frag));
    }

    #[test]
    fn errors_say_where() {
        let e = Filter::new("tcp port eighty").unwrap_err();
        assert_eq!(e.at, 9);
        assert!(e.message.contains("not a port"), "{}", e.message);
        assert!(Filter::new("(tcp").unwrap_err().message.contains("`)`"));
        assert!(Filter::new("foo")
            .unwrap_err()
            .message
            .contains("unknown filter word"));
        assert!(Filter::new("tcp port 80 udp").is_err());
        assert!(Filter::new("host example.com").is_err());
        let deep = "(".repeat(100) + "tcp" + &")".repeat(100);
        assert!(Filter::new(&deep).is_err());
    }
}
