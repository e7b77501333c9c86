//! Errors of the language as data, and the one renderer that turns them into text.
//!
//! Library code never prints an error: it returns [`Error`], and the front end
//! (script runner or REPL) calls [`render`] with the source text. Tests compare the
//! rendered text, so the format is part of the contract:
//!
//! ```text
//! probe.tcs:3:8: error: ttl 256 is out of range 0..=255
//!   3 | p = IP(ttl=256)
//!     |        ^^^^^^^
//!     = expected an integer in 0..=255
//! ```

use std::fmt;

/// A byte range in one source file. `file` indexes [`Sources`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: u32, start: usize, end: usize) -> Span {
        Span {
            file,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// The smallest span covering both (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// One loaded source text (a script, an included file, a REPL line, `-c` code).
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
    /// Line number of the first line (REPL inputs count on from earlier inputs).
    pub first_line: usize,
}

/// Every source text the interpreter has seen, so that errors raised at run time in
/// an included file or in a function defined on an earlier REPL line still render.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<Source>,
}

impl Sources {
    pub fn add(&mut self, name: &str, text: &str, first_line: usize) -> u32 {
        self.files.push(Source {
            name: name.to_string(),
            text: text.to_string(),
            first_line,
        });
        u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX)
    }

    pub fn get(&self, file: u32) -> Option<&Source> {
        self.files.get(file as usize)
    }

    pub fn text(&self, file: u32) -> &str {
        self.get(file).map(|s| s.text.as_str()).unwrap_or("")
    }
}

/// What went wrong. The variant decides the exit status (see [`ErrorKind::exit_code`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    /// A character that starts no token (`@`, a stray backslash …).
    BadChar(char),
    /// A string or byte string without its closing quote.
    UnterminatedString,
    /// An escape the language does not know (`\q`), or a bad `\x` escape.
    BadEscape(String),
    /// A number literal that does not parse or does not fit in 64 bits.
    BadNumber(String),
    /// The parser found one token where it needed another.
    Unexpected { found: String, expected: String },
    /// The input ended inside a statement; the REPL continues the line on this one.
    UnexpectedEof { expected: String },
    /// Brackets, blocks or operators nested deeper than the limit.
    NestTooDeep(usize),
    /// `break`/`continue` outside a loop, `return` outside a function.
    Misplaced(&'static str),
    /// A name that is neither a variable nor a builtin.
    UndefinedName {
        name: String,
        suggestion: Option<String>,
    },
    /// A field or attribute that the value does not have.
    NoAttribute {
        ty: String,
        name: String,
        suggestion: Option<String>,
    },
    /// An operation applied to values of the wrong type.
    Type(String),
    /// A value of the right type that is not acceptable (bad address, bad flag letter …).
    Value(String),
    /// A header field set to a number that does not fit in it.
    FieldRange {
        field: String,
        value: String,
        range: String,
    },
    /// A call with wrong arguments (count, unknown keyword …).
    Arguments(String),
    /// Division or remainder by zero.
    DivisionByZero,
    /// An index outside a list, string or bytes value.
    IndexOutOfRange { index: i64, len: usize },
    /// `assert` whose condition was false (exit status 1).
    AssertionFailed(String),
    /// An expectation of the network failed (a session's `expect`), exit status 1.
    Expectation(String),
    /// A limit for untrusted scripts was hit (call depth, loop steps).
    Limit(String),
    /// Ctrl-C.
    Interrupted,
    /// Reading or writing a file failed (exit status 3).
    Io(String),
    /// The system refused (privileges, interface, socket), exit status 3.
    System(String),
    /// `exit(n)`: not an error; stops the script with status `n`, printing nothing.
    Exit(u8),
}

impl ErrorKind {
    /// Exit status for a script that stops on this error: 1 for a failed
    /// assertion/expectation, 3 for a system error, 130 for Ctrl-C, else 2.
    pub fn exit_code(&self) -> u8 {
        match self {
            ErrorKind::AssertionFailed(_) | ErrorKind::Expectation(_) => crate::exit::FAILED,
            ErrorKind::Io(_) | ErrorKind::System(_) => crate::exit::SYSTEM,
            ErrorKind::Interrupted => crate::exit::SIGINT,
            ErrorKind::Exit(n) => *n,
            _ => crate::exit::USAGE,
        }
    }

    /// Whether more input could complete the statement (REPL continuation).
    pub fn is_incomplete(&self) -> bool {
        matches!(self, ErrorKind::UnexpectedEof { .. })
            || matches!(self, ErrorKind::UnterminatedString)
    }

    /// The "= …" line under the caret: what was expected, or a suggestion.
    fn note(&self) -> Option<String> {
        match self {
            ErrorKind::Unexpected { expected, .. } | ErrorKind::UnexpectedEof { expected } => {
                Some(format!("expected {expected}"))
            }
            ErrorKind::UndefinedName {
                suggestion: Some(s),
                ..
            }
            | ErrorKind::NoAttribute {
                suggestion: Some(s),
                ..
            } => Some(format!("did you mean `{s}`?")),
            ErrorKind::FieldRange { range, .. } => Some(format!("expected an integer in {range}")),
            ErrorKind::BadEscape(_) => {
                Some("expected one of \\n \\r \\t \\0 \\\\ \\\" \\' \\xHH \\u{HEX}".to_string())
            }
            ErrorKind::NestTooDeep(_) => Some("expected simpler, less nested code".to_string()),
            _ => None,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::BadChar(c) => write!(f, "unexpected character {c:?}"),
            ErrorKind::UnterminatedString => write!(f, "unterminated string"),
            ErrorKind::BadEscape(e) => write!(f, "unknown escape {e}"),
            ErrorKind::BadNumber(n) => write!(f, "bad number {n}"),
            ErrorKind::Unexpected { found, .. } => write!(f, "unexpected {found}"),
            ErrorKind::UnexpectedEof { .. } => write!(f, "unexpected end of input"),
            ErrorKind::NestTooDeep(n) => write!(f, "nesting deeper than {n} levels"),
            ErrorKind::Misplaced(what) => write!(f, "{what}"),
            ErrorKind::UndefinedName { name, .. } => write!(f, "undefined name `{name}`"),
            ErrorKind::NoAttribute { ty, name, .. } => write!(f, "{ty} has no field `{name}`"),
            ErrorKind::Type(m)
            | ErrorKind::Value(m)
            | ErrorKind::Arguments(m)
            | ErrorKind::Limit(m)
            | ErrorKind::Io(m)
            | ErrorKind::System(m) => write!(f, "{m}"),
            ErrorKind::FieldRange {
                field,
                value,
                range,
            } => write!(f, "{field} {value} is out of range {range}"),
            ErrorKind::DivisionByZero => write!(f, "division by zero"),
            ErrorKind::IndexOutOfRange { index, len } => {
                write!(f, "index {index} out of range for length {len}")
            }
            ErrorKind::AssertionFailed(m) => write!(f, "assertion failed: {m}"),
            ErrorKind::Expectation(m) => write!(f, "expectation failed: {m}"),
            ErrorKind::Interrupted => write!(f, "interrupted"),
            ErrorKind::Exit(n) => write!(f, "exit({n})"),
        }
    }
}

/// An error with the place in the source it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    pub span: Span,
}

/// The one place errors are created.
pub fn error(span: Span, kind: ErrorKind) -> Error {
    Error { kind, span }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = text
        .get(line_start..offset)
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// Render an error: `file:line:col: error: message`, the source line, carets under
/// the span, and the expectation or suggestion. `color` adds ANSI colours.
pub fn render(err: &Error, sources: &Sources, color: bool) -> String {
    let (red, blue, bold, reset) = if color {
        ("\x1b[1;31m", "\x1b[1;34m", "\x1b[1m", "\x1b[0m")
    } else {
        ("", "", "", "")
    };
    let Some(src) = sources.get(err.span.file) else {
        return format!("{red}error{reset}: {}\n", err.kind);
    };
    let text = &src.text;
    let start = (err.span.start as usize).min(text.len());
    let end = (err.span.end as usize).clamp(start, text.len());
    let (line, col) = line_col(text, start);
    let shown_line = line + src.first_line.saturating_sub(1);
    let mut out = format!(
        "{bold}{}:{}:{}:{reset} {red}error{reset}{bold}: {}{reset}\n",
        src.name, shown_line, col, err.kind
    );
    let line_start = text
        .get(..start)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line_end = text
        .get(start..)
        .and_then(|s| s.find('\n'))
        .map_or(text.len(), |i| start + i);
    let src_line = text
        .get(line_start..line_end)
        .unwrap_or("")
        .trim_end_matches('\r');
    let num = shown_line.to_string();
    let pad = " ".repeat(num.len());
    out.push_str(&format!("{blue}{num} |{reset} {src_line}\n"));
    let caret_start = text.get(line_start..start).map_or(0, |s| s.chars().count());
    let caret_len = text
        .get(start..end.min(line_end).max(start))
        .map_or(0, |s| s.chars().count())
        .max(1);
    out.push_str(&format!(
        "{blue}{pad} |{reset} {}{red}{}{reset}\n",
        " ".repeat(caret_start),
        "^".repeat(caret_len)
    ));
    if let Some(note) = err.kind.note() {
        out.push_str(&format!("{blue}{pad} ={reset} {note}\n"));
    }
    out
}

/// The closest of `candidates` to `name` (edit distance), for "did you mean".
pub fn suggest<'a, I: IntoIterator<Item = &'a str>>(name: &str, candidates: I) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(name, c);
        let limit = name
            .chars()
            .count()
            .max(c.chars().count())
            .div_ceil(3)
            .max(1);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            let del = prev[j + 1] + 1;
            let ins = cur[j] + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_span() {
        let mut s = Sources::default();
        let f = s.add("t.tcs", "x = 1\np = IP(ttl=256)\n", 1);
        let e = error(
            Span::new(f, 13, 20),
            ErrorKind::FieldRange {
                field: "ttl".into(),
                value: "256".into(),
                range: "0..=255".into(),
            },
        );
        let r = render(&e, &s, false);
        assert_eq!(
            r,
            "t.tcs:2:8: error: ttl 256 is out of range 0..=255\n2 | p = IP(ttl=256)\n  |        ^^^^^^^\n  = expected an integer in 0..=255\n"
        );
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(suggest("prnt", ["print", "len"]), Some("print".into()));
        assert_eq!(suggest("zzzz", ["print", "len"]), None);
    }
}
