//! Lexer: source text → tokens with byte spans.
//!
//! Lexing never fails: a bad character, escape or number becomes an
//! [`Tok::Error`] token that the parser reports at its span (as rhai does), so one
//! error path serves both stages. Newlines are tokens (they end statements) except
//! inside `(` `[`, where an expression may run over several lines.

use super::error::{ErrorKind, Span};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    /// f-string: literal pieces and `{…}` pieces (with the byte offset of the inner text).
    FStr(Vec<FPiece>),
    Ident(String),
    // keywords
    If,
    Else,
    For,
    In,
    While,
    Break,
    Continue,
    Fn,
    Return,
    Assert,
    Include,
    True,
    False,
    None,
    And,
    Or,
    Not,
    // punctuation
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Dot,
    Colon,
    Semi,
    Newline,
    Plus,
    Minus,
    Star,
    StarStar,
    Slash,
    Percent,
    Assign,
    PlusAssign,
    MinusAssign,
    StarAssign,
    SlashAssign,
    PercentAssign,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    Bang,
    DotDot,
    DotDotEq,
    Error(ErrorKind),
    Eof,
}

/// One piece of an f-string.
#[derive(Debug, Clone, PartialEq)]
pub enum FPiece {
    Lit(String),
    /// Text of the expression (and of an optional `:spec`), and its byte offset.
    Expr {
        text: String,
        offset: usize,
        spec: Option<String>,
    },
}

impl Tok {
    /// How the token is named in "unexpected …" messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Int(n) => format!("number {n}"),
            Tok::Float(n) => format!("number {n}"),
            Tok::Str(_) | Tok::FStr(_) => "string".into(),
            Tok::Bytes(_) => "byte string".into(),
            Tok::Ident(n) => format!("name `{n}`"),
            Tok::Newline => "end of line".into(),
            Tok::Eof => "end of input".into(),
            Tok::Error(e) => e.to_string(),
            other => format!("`{}`", other.text()),
        }
    }

    fn text(&self) -> &'static str {
        match self {
            Tok::If => "if",
            Tok::Else => "else",
            Tok::For => "for",
            Tok::In => "in",
            Tok::While => "while",
            Tok::Break => "break",
            Tok::Continue => "continue",
            Tok::Fn => "fn",
            Tok::Return => "return",
            Tok::Assert => "assert",
            Tok::Include => "include",
            Tok::True => "true",
            Tok::False => "false",
            Tok::None => "none",
            Tok::And => "and",
            Tok::Or => "or",
            Tok::Not => "not",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::Comma => ",",
            Tok::Dot => ".",
            Tok::Colon => ":",
            Tok::Semi => ";",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::StarStar => "**",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Assign => "=",
            Tok::PlusAssign => "+=",
            Tok::MinusAssign => "-=",
            Tok::StarAssign => "*=",
            Tok::SlashAssign => "/=",
            Tok::PercentAssign => "%=",
            Tok::EqEq => "==",
            Tok::NotEq => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            Tok::Bang => "!",
            Tok::DotDot => "..",
            Tok::DotDotEq => "..=",
            _ => "?",
        }
    }
}

/// Keywords, for completion and for the manual.
pub const KEYWORDS: &[&str] = &[
    "if", "else", "for", "in", "while", "break", "continue", "fn", "return", "assert", "include",
    "true", "false", "none", "and", "or", "not",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// Turn `text` into tokens; the last one is always [`Tok::Eof`].
/// `base` is added to every offset (f-string pieces lex at their place in the file).
pub fn lex(text: &str, file: u32, base: usize) -> Vec<Token> {
    let mut lx = Lexer {
        src: text.as_bytes(),
        text,
        pos: 0,
        file,
        base,
        out: Vec::new(),
        brackets: Vec::new(),
    };
    lx.run();
    lx.out
}

struct Lexer<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    file: u32,
    base: usize,
    out: Vec<Token>,
    /// Open brackets; newlines are skipped while the innermost is `(` or `[`.
    brackets: Vec<u8>,
}

impl Lexer<'_> {
    fn peek(&self) -> u8 {
        self.src.get(self.pos).copied().unwrap_or(0)
    }
    fn peek_at(&self, n: usize) -> u8 {
        self.src.get(self.pos + n).copied().unwrap_or(0)
    }
    fn push(&mut self, tok: Tok, start: usize) {
        let span = Span::new(self.file, self.base + start, self.base + self.pos);
        self.out.push(Token { tok, span });
    }

    fn run(&mut self) {
        while self.pos < self.src.len() {
            let start = self.pos;
            let c = self.peek();
            match c {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\\' if self.peek_at(1) == b'\n' => self.pos += 2, // explicit line join
                b'\n' => {
                    self.pos += 1;
                    if !matches!(self.brackets.last(), Some(b'(') | Some(b'[')) {
                        self.push(Tok::Newline, start);
                    }
                }
                b'#' => {
                    while self.pos < self.src.len() && self.peek() != b'\n' {
                        self.pos += 1;
                    }
                }
                b'0'..=b'9' => self.number(),
                b'"' | b'\'' => {
                    let t = self.string(false);
                    self.push(t, start);
                }
                b'b' if matches!(self.peek_at(1), b'"' | b'\'') => {
                    self.pos += 1;
                    let t = self.string(true);
                    self.push(t, start);
                }
                b'f' if matches!(self.peek_at(1), b'"' | b'\'') => {
                    self.pos += 1;
                    let t = self.fstring();
                    self.push(t, start);
                }
                c if c == b'_' || c.is_ascii_alphabetic() => self.ident(),
                c if c >= 0x80 => {
                    let ch = self
                        .text
                        .get(self.pos..)
                        .and_then(|s| s.chars().next())
                        .unwrap_or('?');
                    self.pos += ch.len_utf8().max(1);
                    self.push(Tok::Error(ErrorKind::BadChar(ch)), start);
                }
                _ => self.punct(),
            }
        }
        let end = self.src.len();
        self.out.push(Token {
            tok: Tok::Eof,
            span: Span::new(self.file, self.base + end, self.base + end),
        });
    }

    fn punct(&mut self) {
        let start = self.pos;
        let c = self.peek();
        let n = self.peek_at(1);
        let n2 = self.peek_at(2);
        let (tok, len) = match (c, n) {
            (b'*', b'*') => (Tok::StarStar, 2),
            (b'*', b'=') => (Tok::StarAssign, 2),
            (b'+', b'=') => (Tok::PlusAssign, 2),
            (b'-', b'=') => (Tok::MinusAssign, 2),
            (b'/', b'=') => (Tok::SlashAssign, 2),
            (b'%', b'=') => (Tok::PercentAssign, 2),
            (b'=', b'=') => (Tok::EqEq, 2),
            (b'!', b'=') => (Tok::NotEq, 2),
            (b'<', b'=') => (Tok::Le, 2),
            (b'>', b'=') => (Tok::Ge, 2),
            (b'&', b'&') => (Tok::AndAnd, 2),
            (b'|', b'|') => (Tok::OrOr, 2),
            (b'.', b'.') if n2 == b'=' => (Tok::DotDotEq, 3),
            (b'.', b'.') => (Tok::DotDot, 2),
            (b'(', _) => (Tok::LParen, 1),
            (b')', _) => (Tok::RParen, 1),
            (b'[', _) => (Tok::LBracket, 1),
            (b']', _) => (Tok::RBracket, 1),
            (b'{', _) => (Tok::LBrace, 1),
            (b'}', _) => (Tok::RBrace, 1),
            (b',', _) => (Tok::Comma, 1),
            (b'.', _) => (Tok::Dot, 1),
            (b':', _) => (Tok::Colon, 1),
            (b';', _) => (Tok::Semi, 1),
            (b'+', _) => (Tok::Plus, 1),
            (b'-', _) => (Tok::Minus, 1),
            (b'*', _) => (Tok::Star, 1),
            (b'/', _) => (Tok::Slash, 1),
            (b'%', _) => (Tok::Percent, 1),
            (b'=', _) => (Tok::Assign, 1),
            (b'<', _) => (Tok::Lt, 1),
            (b'>', _) => (Tok::Gt, 1),
            (b'!', _) => (Tok::Bang, 1),
            _ => (Tok::Error(ErrorKind::BadChar(c as char)), 1),
        };
        match c {
            b'(' | b'[' | b'{' => self.brackets.push(c),
            b')' | b']' | b'}' => {
                self.brackets.pop();
            }
            _ => {}
        }
        self.pos += len;
        self.push(tok, start);
    }

    fn ident(&mut self) {
        let start = self.pos;
        while self.peek() == b'_' || self.peek().is_ascii_alphanumeric() {
            self.pos += 1;
        }
        let word = self.text.get(start..self.pos).unwrap_or("");
        let tok = keyword(word).unwrap_or_else(|| Tok::Ident(word.to_string()));
        self.push(tok, start);
    }

    fn number(&mut self) {
        let start = self.pos;
        let radix = match (self.peek(), self.peek_at(1) | 0x20) {
            (b'0', b'x') => 16,
            (b'0', b'b') => 2,
            (b'0', b'o') => 8,
            _ => 10,
        };
        if radix != 10 {
            self.pos += 2;
            while self.peek().is_ascii_alphanumeric() || self.peek() == b'_' {
                self.pos += 1;
            }
            let digits: String = self
                .text
                .get(start + 2..self.pos)
                .unwrap_or("")
                .chars()
                .filter(|c| *c != '_')
                .collect();
            let tok = match u64::from_str_radix(&digits, radix) {
                Ok(v) => match i64::try_from(v) {
                    Ok(v) => Tok::Int(v),
                    Err(_) => Tok::Error(ErrorKind::BadNumber(self.slice(start))),
                },
                Err(_) => Tok::Error(ErrorKind::BadNumber(self.slice(start))),
            };
            self.push(tok, start);
            return;
        }
        let mut float = false;
        while self.peek().is_ascii_digit() || self.peek() == b'_' {
            self.pos += 1;
        }
        // `1..5` is a range, `1.5` a float, `x.0` never reaches here.
        if self.peek() == b'.' && self.peek_at(1).is_ascii_digit() {
            float = true;
            self.pos += 1;
            while self.peek().is_ascii_digit() || self.peek() == b'_' {
                self.pos += 1;
            }
        }
        if self.peek() | 0x20 == b'e'
            && (self.peek_at(1).is_ascii_digit()
                || (matches!(self.peek_at(1), b'+' | b'-') && self.peek_at(2).is_ascii_digit()))
        {
            float = true;
            self.pos += 2;
            while self.peek().is_ascii_digit() {
                self.pos += 1;
            }
        }
        if self.peek() == b'_' || self.peek().is_ascii_alphabetic() {
            while self.peek() == b'_' || self.peek().is_ascii_alphanumeric() {
                self.pos += 1;
            }
            let t = Tok::Error(ErrorKind::BadNumber(self.slice(start)));
            self.push(t, start);
            return;
        }
        let text: String = self.slice(start).chars().filter(|c| *c != '_').collect();
        let tok = if float {
            text.parse::<f64>()
                .map(Tok::Float)
                .unwrap_or_else(|_| Tok::Error(ErrorKind::BadNumber(text.clone())))
        } else {
            text.parse::<i64>()
                .map(Tok::Int)
                .unwrap_or_else(|_| Tok::Error(ErrorKind::BadNumber(text.clone())))
        };
        self.push(tok, start);
    }

    fn slice(&self, start: usize) -> String {
        self.text.get(start..self.pos).unwrap_or("").to_string()
    }

    /// A quoted string at `self.pos` (the quote). Escapes are decoded; in a byte
    /// string `\xHH` is one byte, in a text string it is the character U+00HH.
    fn string(&mut self, bytes: bool) -> Tok {
        let quote = self.peek();
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek();
            if self.pos >= self.src.len() || c == b'\n' {
                return Tok::Error(ErrorKind::UnterminatedString);
            }
            if c == quote {
                self.pos += 1;
                break;
            }
            if c == b'\\' {
                match self.escape(bytes) {
                    Ok(v) => out.extend_from_slice(&v),
                    Err(e) => {
                        // skip to the end of the string so lexing can go on
                        while self.pos < self.src.len()
                            && self.peek() != quote
                            && self.peek() != b'\n'
                        {
                            self.pos += 1;
                        }
                        if self.peek() == quote {
                            self.pos += 1;
                        }
                        return Tok::Error(e);
                    }
                }
            } else {
                out.push(c);
                self.pos += 1;
            }
        }
        if bytes {
            Tok::Bytes(out)
        } else {
            Tok::Str(String::from_utf8_lossy(&out).into_owned())
        }
    }

    /// Decode the escape at `self.pos` (the backslash) into bytes.
    fn escape(&mut self, bytes: bool) -> Result<Vec<u8>, ErrorKind> {
        let e = self.peek_at(1);
        self.pos += 2;
        let simple = match e {
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'0' => Some(0),
            b'\\' => Some(b'\\'),
            b'"' => Some(b'"'),
            b'\'' => Some(b'\''),
            b'{' => Some(b'{'),
            b'}' => Some(b'}'),
            _ => None,
        };
        if let Some(b) = simple {
            return Ok(vec![b]);
        }
        match e {
            b'x' => {
                let h = self.text.get(self.pos..self.pos + 2).unwrap_or("");
                let v = u8::from_str_radix(h, 16)
                    .map_err(|_| ErrorKind::BadEscape(format!("\\x{h}")))?;
                self.pos += 2;
                if bytes {
                    Ok(vec![v])
                } else {
                    Ok(char::from(v).to_string().into_bytes())
                }
            }
            b'u' if !bytes && self.peek() == b'{' => {
                let rest = self.text.get(self.pos + 1..).unwrap_or("");
                let close = rest
                    .find('}')
                    .ok_or_else(|| ErrorKind::BadEscape("\\u{".into()))?;
                let hexs = rest.get(..close).unwrap_or("");
                let ch = u32::from_str_radix(hexs, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| ErrorKind::BadEscape(format!("\\u{{{hexs}}}")))?;
                self.pos += close + 2;
                Ok(ch.to_string().into_bytes())
            }
            other => {
                let shown = if other == 0 {
                    String::new()
                } else {
                    (other as char).to_string()
                };
                Err(ErrorKind::BadEscape(format!("\\{shown}")))
            }
        }
    }

    /// `f"…{expr}…"`: `{{`/`}}` are literal braces; `{expr:spec}` formats.
    fn fstring(&mut self) -> Tok {
        let quote = self.peek();
        self.pos += 1;
        let mut pieces = Vec::new();
        let mut lit: Vec<u8> = Vec::new();
        loop {
            let c = self.peek();
            if self.pos >= self.src.len() || c == b'\n' {
                return Tok::Error(ErrorKind::UnterminatedString);
            }
            if c == quote {
                self.pos += 1;
                break;
            }
            match c {
                b'{' if self.peek_at(1) == b'{' => {
                    lit.push(b'{');
                    self.pos += 2;
                }
                b'}' if self.peek_at(1) == b'}' => {
                    lit.push(b'}');
                    self.pos += 2;
                }
                b'{' => {
                    if !lit.is_empty() {
                        pieces.push(FPiece::Lit(String::from_utf8_lossy(&lit).into_owned()));
                        lit.clear();
                    }
                    self.pos += 1;
                    let inner_start = self.pos;
                    let mut depth = 0usize;
                    let mut colon = None;
                    loop {
                        let d = self.peek();
                        if self.pos >= self.src.len() || d == b'\n' {
                            return Tok::Error(ErrorKind::UnterminatedString);
                        }
                        // a string inside the braces (`f"{d["k"]}"`), skipped whole
                        if d == b'"' || d == b'\'' {
                            self.pos += 1;
                            loop {
                                let e = self.peek();
                                if self.pos >= self.src.len() || e == b'\n' {
                                    return Tok::Error(ErrorKind::UnterminatedString);
                                }
                                self.pos += if e == b'\\' { 2 } else { 1 };
                                if e == d {
                                    break;
                                }
                            }
                            continue;
                        }
                        match d {
                            b'(' | b'[' | b'{' => depth += 1,
                            b')' | b']' => depth = depth.saturating_sub(1),
                            b'}' if depth == 0 => break,
                            b'}' => depth -= 1,
                            b':' if depth == 0 && colon.is_none() => colon = Some(self.pos),
                            _ => {}
                        }
                        self.pos += 1;
                    }
                    let inner_end = colon.unwrap_or(self.pos);
                    let text = self
                        .text
                        .get(inner_start..inner_end)
                        .unwrap_or("")
                        .to_string();
                    let spec =
                        colon.map(|c| self.text.get(c + 1..self.pos).unwrap_or("").to_string());
                    pieces.push(FPiece::Expr {
                        text,
                        offset: self.base + inner_start,
                        spec,
                    });
                    self.pos += 1; // the closing brace
                }
                b'\\' => match self.escape(false) {
                    Ok(v) => lit.extend_from_slice(&v),
                    Err(e) => return Tok::Error(e),
                },
                _ => {
                    lit.push(c);
                    self.pos += 1;
                }
            }
        }
        if !lit.is_empty() {
            pieces.push(FPiece::Lit(String::from_utf8_lossy(&lit).into_owned()));
        }
        Tok::FStr(pieces)
    }
}

/// The keyword `word` is, if it is one.
fn keyword(word: &str) -> Option<Tok> {
    Some(match word {
        "if" => Tok::If,
        "else" => Tok::Else,
        "for" => Tok::For,
        "in" => Tok::In,
        "while" => Tok::While,
        "break" => Tok::Break,
        "continue" => Tok::Continue,
        "fn" => Tok::Fn,
        "return" => Tok::Return,
        "assert" => Tok::Assert,
        "include" => Tok::Include,
        "true" | "True" => Tok::True,
        "false" | "False" => Tok::False,
        "none" | "None" => Tok::None,
        "and" => Tok::And,
        "or" => Tok::Or,
        "not" => Tok::Not,
        _ => return None,
    })
}

/// The name of a keyword token (`help(for)`); `None` for any other token.
pub(super) fn keyword_name(t: &Tok) -> Option<&'static str> {
    let name = t.text();
    (keyword(name).as_ref() == Some(t)).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s, 0, 0).into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_and_ranges() {
        assert_eq!(
            toks("1..=10"),
            vec![Tok::Int(1), Tok::DotDotEq, Tok::Int(10), Tok::Eof]
        );
        assert_eq!(
            toks("0xff 1.5 2e3"),
            vec![Tok::Int(255), Tok::Float(1.5), Tok::Float(2000.0), Tok::Eof]
        );
        assert!(matches!(
            toks("12ab")[0],
            Tok::Error(ErrorKind::BadNumber(_))
        ));
        assert!(matches!(toks("99999999999999999999")[0], Tok::Error(_)));
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            toks(r#""a\r\n\x41\t\\\"""#)[0],
            Tok::Str("a\r\nA\t\\\"".into())
        );
        assert_eq!(toks(r#"b"\x00\xff""#)[0], Tok::Bytes(vec![0, 255]));
        assert_eq!(
            toks(r#""\q""#)[0],
            Tok::Error(ErrorKind::BadEscape("\\q".into()))
        );
        assert_eq!(toks("\"abc")[0], Tok::Error(ErrorKind::UnterminatedString));
    }

    #[test]
    fn newlines_inside_parens_are_skipped() {
        assert_eq!(
            toks("f(1,\n2)\nx"),
            vec![
                Tok::Ident("f".into()),
                Tok::LParen,
                Tok::Int(1),
                Tok::Comma,
                Tok::Int(2),
                Tok::RParen,
                Tok::Newline,
                Tok::Ident("x".into()),
                Tok::Eof
            ]
        );
        assert!(toks("{\n}").contains(&Tok::Newline));
    }

    #[test]
    fn fstring_pieces() {
        let t = toks("f\"a{x + 1:04x}b{{\"");
        assert_eq!(
            t[0],
            Tok::FStr(vec![
                FPiece::Lit("a".into()),
                FPiece::Expr {
                    text: "x + 1".into(),
                    offset: 4,
                    spec: Some("04x".into())
                },
                FPiece::Lit("b{".into()),
            ])
        );
    }

    #[test]
    fn spans_are_byte_ranges() {
        let t = lex("ab = 12", 0, 0);
        assert_eq!((t[0].span.start, t[0].span.end), (0, 2));
        assert_eq!((t[2].span.start, t[2].span.end), (5, 7));
    }
}
