//! The interactive shell: rustyline with history, completion, hints and
//! multi-line input decided by the parser.
//!
//! A statement continues on the next line when the parser reports "unexpected end
//! of input" (an open `{`, `(`, `[`, a string, a trailing operator) — the
//! [`Validator`] asks the parser instead of guessing from a trailing backslash.
//! Errors are rendered and the session goes on; Ctrl-C cancels the line being
//! edited, Ctrl-D leaves. The last value shown is kept in `_`.

use crate::app::cli::{self, exit, Config, Input};
use crate::lang::call::{LayerKind, Value};
use crate::lang::lexer::KEYWORDS;
use crate::lang::{packets, parser, Interp, Net};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper};
use std::borrow::Cow;
use std::cell::RefCell;
use std::io::IsTerminal;
use std::io::Write as _;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::cancel::{ending_signal, exit_status};

/// Whether the REPL thread is waiting at the prompt (in the line editor), where a
/// SIGTERM or SIGHUP cannot interrupt it: the editor retries its read.
static AT_PROMPT: AtomicBool = AtomicBool::new(false);

/// Start the REPL (or, when standard input is not a terminal, run it as a script).
pub fn run(cfg: Config, engine: Option<Box<dyn Net + Send>>) -> u8 {
    if !std::io::stdin().is_terminal() {
        return exit_status(cli::run(cfg, Input::Stdin, engine));
    }
    crate::net::sys::save_tty();
    let handle = std::thread::Builder::new()
        .name("tcpcraft-repl".into())
        .stack_size(256 << 20)
        .spawn(move || repl(&cfg, engine.map(|e| e as Box<dyn Net>)));
    let handle = match handle {
        Ok(h) => h,
        Err(_) => return exit::SYSTEM,
    };
    // The line editor retries a read a signal interrupted, so a SIGTERM or SIGHUP that
    // arrives at the prompt is acted on here: put the terminal back and end. Everything
    // else is already safe on disk at the prompt (the engine flushes `--pcap` after each
    // call, history is appended line by line) and the RST guard's table goes with the
    // process (an owner table).
    loop {
        if handle.is_finished() {
            return match handle.join() {
                Ok(code) => exit_status(code),
                Err(_) => exit::SYSTEM,
            };
        }
        if ending_signal().is_some() && AT_PROMPT.load(Ordering::SeqCst) {
            crate::net::sys::restore_tty();
            // The shell's thread does not unwind: reset its open sessions from here.
            crate::session::reset_open_sessions("tcpcraft is ending (signal)");
            // The terminal may be gone (SIGHUP): a failed write must not panic.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), b"\n");
            return exit_status(exit::OK);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Where the history lives (src/history.rs): `$XDG_STATE_HOME/tcpcraft/history`, else
/// `~/.local/state/tcpcraft/history`; under sudo only in the invoking user's own home.
pub fn history_path() -> Option<PathBuf> {
    crate::history::path()
}

fn repl(cfg: &Config, engine: Option<Box<dyn Net>>) -> u8 {
    let (it, log) = cli::make_interp(cfg, engine);
    let it = Rc::new(RefCell::new(it));
    let helper = ReplHelper {
        it: it.clone(),
        color: cfg.color,
    };
    // List mode: Tab completes the common prefix, a second Tab lists every candidate (as bash).
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut ed: Editor<ReplHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("tcpcraft: cannot start the line editor: {e}");
            return exit::SYSTEM;
        }
    };
    ed.set_helper(Some(helper));
    // A live session's arrivals are printed above the prompt as they happen (while a
    // command runs, the printer writes straight to the terminal).
    if let Ok(printer) = ed.create_external_printer() {
        use rustyline::ExternalPrinter as _;
        let printer = std::sync::Mutex::new(printer);
        it.borrow_mut().live = Some(std::sync::Arc::new(move |line: &str| {
            if let Ok(mut p) = printer.lock() {
                let _ = p.print(format!("{line}\n"));
            }
        }));
    }
    // Opened once, without following links (src/history.rs); None: no history.
    let mut hist = crate::history::open();
    if let Some(h) = &hist {
        for e in h.entries() {
            let _ = ed.add_history_entry(e.as_str());
        }
    }
    if !cfg.quiet {
        let mode = if it.borrow().net.is_dry_run() {
            " (dry-run: nothing is sent)"
        } else {
            ""
        };
        println!(
            "tcpcraft {} — scapy-style packet crafting{mode}\n`help` lists builtins, ls(TCP) shows fields, Ctrl-D leaves.",
            env!("CARGO_PKG_VERSION")
        );
    }
    it.borrow_mut().opts.interactive = true;
    let mut line_no = 1usize;
    let mut status = exit::OK;
    let mut input = StatementReader::default();
    loop {
        if ending_signal().is_some() {
            break;
        }
        crate::cancel::clear_all();
        crate::net::signals::install_cancel();
        AT_PROMPT.store(true, Ordering::SeqCst);
        let read = input.read(&mut ed, PROMPT, CONTINUATION);
        AT_PROMPT.store(false, Ordering::SeqCst);
        match read {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = ed.add_history_entry(line.as_str());
                // Appended at once: a signal at the next prompt ends tcpcraft from the
                // main thread, without passing through the save at the end.
                if let Some(h) = &mut hist {
                    h.append(&line);
                }
                let trimmed = line.trim();
                let code = match trimmed {
                    "help" => "help()".to_string(),
                    "exit" | "quit" => break,
                    _ => match help_query(trimmed) {
                        Some(name) => format!("help({name})"),
                        None => line.clone(),
                    },
                };
                let mut i = it.borrow_mut();
                match i.run_source("<stdin>", &code, line_no) {
                    Ok(Some(v)) => {
                        if !matches!(v, Value::None) {
                            let text = echo_text(&mut i, &v);
                            i.println(&text);
                            i.set_var("_", v);
                        } else if echoes_none(&code) {
                            i.println("none");
                        }
                    }
                    Ok(None) => {}
                    Err(e) if matches!(e.kind, crate::lang::ErrorKind::Exit(_)) => {
                        status = e.kind.exit_code();
                        break;
                    }
                    Err(e) => {
                        let text = i.render_error(&e);
                        let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
                    }
                }
                let _ = std::io::Write::flush(&mut i.out);
                line_no += line.matches('\n').count() + 1;
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                // EIO: the terminal hung up (its SIGHUP may not have arrived yet). End as
                // SIGHUP would, and write nothing more to a terminal that is gone.
                let hangup = matches!(&e, ReadlineError::Io(io) if io.raw_os_error() == Some(crate::net::sys::EIO))
                    || matches!(&e, ReadlineError::Errno(n) if *n as i32 == crate::net::sys::EIO);
                if hangup {
                    crate::net::signals::record_hangup();
                } else {
                    let _ = writeln!(std::io::stderr(), "tcpcraft: {e}");
                }
                break;
            }
        }
    }
    cli::finish_pcap(cfg, log).unwrap_or(status)
}

/// The shell's line editor for another front end that reads statements (the lessons,
/// src/lesson/runner.rs): completion, hints and multi-line input over `it`; history in
/// memory only.
pub(crate) fn line_editor(
    it: Rc<RefCell<Interp>>,
    color: bool,
) -> rustyline::Result<Editor<ReplHelper, DefaultHistory>> {
    let config = rustyline::Config::builder()
        .auto_add_history(true)
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut ed = Editor::with_config(config)?;
    ed.set_helper(Some(ReplHelper { it, color }));
    Ok(ed)
}

/// The shell's prompt, and the one for the further lines of an unfinished statement.
pub(crate) const PROMPT: &str = ">>> ";
pub(crate) const CONTINUATION: &str = "... ";

/// Reads whole statements: one line at the prompt, and more at `... ` while the parser
/// says the statement is unfinished (an open `{`, `(`, `[` or string, a trailing
/// operator), as Python's shell does. Lines typed while a command ran (a blocking
/// `sniff`) are kept and run in order, each shown after the prompt.
#[derive(Default)]
pub(crate) struct StatementReader {
    typed_ahead: std::collections::VecDeque<String>,
    /// Ctrl-D came among the typed-ahead lines: leave once they have run.
    eof: bool,
}

impl StatementReader {
    fn next_line<H: Helper>(
        &mut self,
        ed: &mut Editor<H, DefaultHistory>,
        prompt: &str,
    ) -> rustyline::Result<String> {
        let (lines, eof) = crate::net::sys::typed_ahead();
        self.typed_ahead.extend(lines);
        self.eof |= eof;
        if let Some(line) = self.typed_ahead.pop_front() {
            // The terminal may be gone (a hang-up): a failed write must not panic.
            let _ = writeln!(std::io::stdout(), "{prompt}{line}");
            return Ok(line);
        }
        if self.eof {
            self.eof = false;
            return Err(ReadlineError::Eof);
        }
        ed.readline(prompt)
    }

    /// The next statement. Ctrl-C drops an unfinished one (the error says so);
    /// Ctrl-D at `... ` runs what there is, so that the parser says what is missing.
    pub(crate) fn read<H: Helper>(
        &mut self,
        ed: &mut Editor<H, DefaultHistory>,
        prompt: &str,
        continuation: &str,
    ) -> rustyline::Result<String> {
        let mut text = self.next_line(ed, prompt)?;
        while needs_more(&text) {
            match self.next_line(ed, continuation) {
                Ok(more) => {
                    text.push('\n');
                    text.push_str(&more);
                }
                Err(ReadlineError::Eof) => {
                    let _ = writeln!(std::io::stdout());
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(text)
    }
}

/// IPython's `sr1?` (or `?sr1`, `s.send?`): the name to show help for.
fn help_query(line: &str) -> Option<&str> {
    let name = line
        .strip_suffix('?')
        .or_else(|| line.strip_prefix('?'))?
        .trim();
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && !name.ends_with('.')
        && name.chars().all(|c| is_ident(c) || c == '.');
    ok.then_some(name)
}

/// Whether the shell echoes `none` for a statement whose value is none: a name or
/// attribute (`r`, `x.y`), or a call that waits for an answer (`sr1`, `s.recv()`), as
/// scapy's shell shows that nothing came. Other calls that return none (`print`,
/// `show`) print nothing more.
fn echoes_none(code: &str) -> bool {
    use crate::lang::ast::{ExprKind, StmtKind};
    let Ok(stmts) = parser::parse(code, 0) else {
        return false;
    };
    let Some(StmtKind::Expr(e)) = stmts.last().map(|s| &s.kind) else {
        return false;
    };
    match &e.kind {
        ExprKind::Call { callee, .. } => match &callee.kind {
            ExprKind::Name(n) => matches!(&**n, "sr1" | "srp1"),
            ExprKind::Attr(_, m) => matches!(&**m, "recv" | "getlayer"),
            _ => false,
        },
        _ => true,
    }
}

/// What the shell shows for a value: a packet on one line with the source the route
/// gives when it is unset (as scapy shows it; what is sent does not change), a list of
/// packets one per line, anything else as `repr`.
fn echo_text(it: &mut Interp, v: &Value) -> String {
    if let (Some(p), true) = (v.as_packet(), it.opts.json) {
        return crate::packet::display::json(p).to_string();
    }
    let mut line = |x: &Value| match x {
        Value::Packet(p) => crate::lang::helpers::routed_summary(it, p),
        other => crate::lang::helpers::packet_line(other),
    };
    if let Value::Packet(_) = v {
        return line(v);
    }
    crate::lang::helpers::packet_list_view(v, &mut line).unwrap_or_else(|| v.repr())
}

pub(crate) struct ReplHelper {
    it: Rc<RefCell<Interp>>,
    color: bool,
}

impl Helper for ReplHelper {}

/// Every line is accepted as typed: [`StatementReader`] asks the parser and reads the
/// rest of an unfinished statement at its own `... ` prompt (rustyline's own
/// continuation lines would have no prompt). A statement recalled from history whole
/// (several lines) is run as it is.
impl Validator for ReplHelper {
    fn validate(&self, _ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(ValidationResult::Valid(None))
    }
}

/// Whether the shell should read another line before running `input`: the parser says
/// it is unfinished ("unexpected end of input"). A finished statement runs at once,
/// an `if` too (its `else` goes on the line of its `}`); a syntax error shows at once.
pub(crate) fn needs_more(input: &str) -> bool {
    match parser::parse(input, 0) {
        Err(e) => e.kind.is_incomplete(),
        Ok(_) => false,
    }
}

/// Whether the cursor at byte `pos` of `line` is inside a string literal, and if so
/// where the string's text starts.
fn string_start(line: &str, pos: usize) -> Option<usize> {
    let head = line.get(..pos)?;
    let mut open: Option<(char, usize)> = None;
    let mut escaped = false;
    for (i, c) in head.char_indices() {
        match open {
            Some((q, _)) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    open = None;
                }
            }
            None if c == '"' || c == '\'' => open = Some((c, i + 1)),
            None if c == '#' => return None,
            None => {}
        }
    }
    open.map(|(_, at)| at)
}

/// TCP flag sets offered after `flags="`: the common ones first.
const FLAG_SETS: &[&str] = &["S", "SA", "A", "PA", "FA", "F", "R", "RA", "SEC", "FPU"];

fn is_ident(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// The identifier (or dotted chain) ending at byte `end` of `line`.
fn word_start(line: &str, end: usize) -> usize {
    let head = line.get(..end).unwrap_or("");
    head.char_indices()
        .rev()
        .take_while(|(_, c)| is_ident(*c))
        .last()
        .map_or(end, |(i, _)| i)
}

impl ReplHelper {
    /// Candidate names for the word at `start..pos`.
    fn candidates(&self, line: &str, start: usize) -> Vec<String> {
        let before = line.get(..start).unwrap_or("");
        // Inside a string: no names. After `flags="`, flag letters.
        if let Some(text_start) = string_start(line, start) {
            let head = line.get(..text_start.saturating_sub(1)).unwrap_or("");
            let head = head.trim_end().strip_suffix('=').unwrap_or("").trim_end();
            let text = line.get(text_start..start).unwrap_or("");
            if head.ends_with("flags") && text.is_empty() {
                return FLAG_SETS.iter().map(|s| s.to_string()).collect();
            }
            return Vec::new();
        }
        // attribute: `expr.`
        if let Some(chain_end) = before.strip_suffix('.').map(|s| s.len()) {
            let mut chain_start = chain_end;
            let bytes: Vec<char> = before.chars().collect();
            let _ = bytes;
            while chain_start > 0 {
                let prev = before.get(..chain_start).and_then(|s| s.chars().last());
                match prev {
                    Some(c) if is_ident(c) || c == '.' => chain_start -= c.len_utf8(),
                    _ => break,
                }
            }
            let chain = before.get(chain_start..chain_end).unwrap_or("");
            return self.attr_names(chain);
        }
        // field name inside a layer constructor: `TCP(dport=80, fl`
        if let Some(layer) = open_call(before) {
            if let Some(k) = LayerKind::ALL.into_iter().find(|k| k.name() == layer) {
                let after = before.trim_end();
                if after.ends_with('(') || after.ends_with(',') {
                    return packets::fields(k)
                        .iter()
                        .map(|f| format!("{}=", f.name))
                        .collect();
                }
            }
        }
        let it = self.it.borrow();
        let mut names: Vec<String> = it.builtin_names().iter().map(|s| s.to_string()).collect();
        names.extend(it.global_names().iter().map(|s| s.to_string()));
        names.extend(KEYWORDS.iter().map(|s| s.to_string()));
        names
    }

    fn attr_names(&self, chain: &str) -> Vec<String> {
        let mut it = self.it.borrow_mut();
        let mut parts = chain.split('.');
        let Some(first) = parts.next() else {
            return Vec::new();
        };
        let Some(mut v) = it.get_var(first).or_else(|| it.builtin(first).cloned()) else {
            return Vec::new();
        };
        for p in parts {
            match it.get_attr(&v, p, crate::lang::Span::default()) {
                Ok(x) => v = x,
                Err(_) => return Vec::new(),
            }
        }
        // The method table's names for lists, strings, bytes, dicts and packets.
        let methods = it.methods_of(&v).iter().map(|m| m.name);
        let names: Vec<&str> = match &v {
            Value::Packet(p) => {
                let mut n = packets::attr_names(p);
                n.extend(methods);
                n
            }
            Value::Reply(r) => {
                let mut n = packets::attr_names(&r.packet);
                n.extend(["rtt", "probe", "packet"]);
                n.extend(methods);
                n
            }
            Value::Handle(h) => h.names(),
            Value::List(_) | Value::Str(_) | Value::Bytes(_) => methods.collect(),
            Value::Dict(d) => {
                return d
                    .borrow()
                    .iter()
                    .map(|(k, _)| k.to_string())
                    .chain(methods.map(String::from))
                    .collect()
            }
            Value::Flags(_) => vec!["F", "S", "R", "P", "A", "U", "E", "C", "N", "value"],
            Value::LayerClass(k) => {
                let mut n: Vec<&str> = packets::fields(*k).iter().map(|f| f.name).collect();
                n.push("name");
                n
            }
            Value::TcpOpt(_) => vec!["kind", "value"],
            _ => Vec::new(),
        };
        names.into_iter().map(String::from).collect()
    }
}

/// The hint after `name(`: the parameters of its help line, `dst, dport, …)`.
fn params_hint(help: &str) -> Option<String> {
    let open = help.find('(')?;
    let close = help.get(open..)?.find(')')? + open;
    help.get(open + 1..=close)
        .map(String::from)
        .filter(|s| s.len() > 1)
}

/// Name of the innermost call still open at the end of `s` (`TCP(dport=1, ` → TCP).
fn open_call(s: &str) -> Option<&str> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices().rev() {
        match c {
            ')' | ']' => depth += 1,
            '[' => depth -= 1,
            '(' if depth == 0 => {
                let name_start = word_start(s, i);
                return s.get(name_start..i);
            }
            '(' => depth -= 1,
            _ => {}
        }
    }
    None
}

impl Completer for ReplHelper {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = match string_start(line, pos) {
            Some(text_start) => text_start,
            None => word_start(line, pos),
        };
        let prefix = line.get(start..pos).unwrap_or("");
        let mut c: Vec<String> = self
            .candidates(line, start)
            .into_iter()
            .filter(|n| n.starts_with(prefix))
            .collect();
        c.sort();
        c.dedup();
        Ok((
            start,
            c.into_iter()
                .map(|n| Pair {
                    display: n.clone(),
                    replacement: n,
                })
                .collect(),
        ))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if pos < line.len() {
            return None;
        }
        // `sr1(` → the parameters from the builtin's help
        if let Some(name) = line
            .strip_suffix('(')
            .map(|s| s.get(word_start(s, s.len())..).unwrap_or(""))
        {
            // `s.send(`: a method of a value (a session's), not the builtin `send(`.
            let head = line.get(..line.len() - 1 - name.len()).unwrap_or("");
            if let Some(chain) = head.strip_suffix('.') {
                let owner = chain.get(word_start(chain, chain.len())..).unwrap_or("");
                let is_session = matches!(
                    self.it.borrow().get_var(owner),
                    Some(Value::Handle(h)) if h.type_name() == "session"
                );
                if !is_session {
                    return None;
                }
                let (_, help) = crate::app::lang_session::METHOD_HELP
                    .iter()
                    .find(|(m, _)| *m == name)?;
                return params_hint(help);
            }
            let it = self.it.borrow();
            if let Some(Value::Builtin(b)) = it.builtin(name) {
                return params_hint(&b.help);
            }
            return None;
        }
        let start = word_start(line, pos);
        let prefix = line.get(start..pos)?;
        if prefix.len() < 2 || line.get(..start).is_some_and(|b| b.ends_with('.')) {
            return None;
        }
        let c: Vec<String> = self
            .candidates(line, start)
            .into_iter()
            .filter(|n| n.starts_with(prefix) && n != prefix)
            .collect();
        match c.as_slice() {
            [one] => one.get(prefix.len()..).map(String::from),
            _ => None,
        }
    }
}

impl Highlighter for ReplHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_statements_wait_finished_ones_run() {
        // Unfinished input waits for more lines.
        assert!(needs_more("if x == 1 {"));
        assert!(needs_more("p = IP(dst=\"198.18.0.2\","));
        assert!(needs_more("x = 1 +"));
        assert!(needs_more("s = \"abc"));
        // A finished if runs at once, with or without its else.
        assert!(!needs_more("if x == 1 {\n  print(1)\n}"));
        assert!(!needs_more("if x > 3 { print(\"big\") }"));
        assert!(!needs_more("if a { print(1) } else if b { print(2) }"));
        // Anything else runs at once; a tuple expression is finished.
        assert!(!needs_more("x = 1"));
        assert!(!needs_more("r.src, r.sport"));
        assert!(!needs_more("for i in 1..=3 { print(i) }"));
        // A syntax error is shown at once, not waited on.
        assert!(!needs_more("x = = 1"));
        assert!(!needs_more("def probe(port):"));
    }

    #[test]
    fn strings_are_found_and_none_is_echoed_where_it_tells() {
        assert_eq!(string_start("TCP(flags=\"", 11), Some(11));
        assert_eq!(string_start("x = \"a\" + y", 11), None);
        assert_eq!(string_start("x = \"a\\\"b", 9), Some(5));
        assert_eq!(help_query("sr1?"), Some("sr1"));
        assert_eq!(help_query("?s.send"), Some("s.send"));
        assert_eq!(help_query("x = 1?"), None);
        assert!(echoes_none("sr1(p)"));
        assert!(echoes_none("r"));
        assert!(!echoes_none("print(1)"));
    }

    #[test]
    fn packet_lists_show_a_count_and_one_line_each() {
        let (mut it, _) = cli::make_interp(
            &Config {
                dry_run: true,
                quiet: true,
                ..Config::default()
            },
            None,
        );
        let short = it
            .run_source("<t>", "IP(dst=\"198.18.0.2\")/TCP(dport=[79, 80])", 1)
            .unwrap()
            .unwrap();
        let text = echo_text(&mut it, &short);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0], "<2 packets TCP:2>");
        assert!(lines[1].starts_with("0000 IP ") && lines[1].contains("198.18.0.2.79:"));
        assert!(lines[2].starts_with("0001 IP ") && lines[2].contains("198.18.0.2.80:"));
        let long = it
            .run_source("<t>", "IP(dst=\"198.18.0.2\")/TCP(dport=(1, 30))", 1)
            .unwrap()
            .unwrap();
        let text = echo_text(&mut it, &long);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 22, "{text}");
        assert_eq!(lines[0], "<30 packets TCP:30>");
        assert!(lines[21].starts_with("… 10 more"), "{text}");
        // Other lists stay as they are.
        let nums = it.run_source("<t>", "[1, 2]", 1).unwrap().unwrap();
        assert_eq!(echo_text(&mut it, &nums), "[1, 2]");
    }

    #[test]
    fn finds_open_constructor() {
        assert_eq!(open_call("p = IP()/TCP(dport=80, "), Some("TCP"));
        assert_eq!(open_call("print(x"), Some("print"));
        assert_eq!(open_call("x = 1"), None);
    }

    #[test]
    fn completes_fields_attributes_and_names() {
        let (it, _) = cli::make_interp(
            &Config {
                dry_run: true,
                quiet: true,
                ..Config::default()
            },
            None,
        );
        let it = Rc::new(RefCell::new(it));
        let h = ReplHelper {
            it: it.clone(),
            color: false,
        };
        let _ = it.borrow_mut().run_source("<t>", "pkt = IP()/TCP()", 1);
        let c = h.candidates("TCP(dp", 4);
        assert!(c.contains(&"dport=".to_string()));
        let c = h.candidates("pkt.", 4);
        assert!(c.contains(&"window".to_string()) && c.contains(&"tcp".to_string()));
        let c = h.candidates("pkt.tcp.", 8);
        assert!(c.contains(&"seq".to_string()));
        let c = h.candidates("pr", 0);
        assert!(c.contains(&"print".to_string()) && c.contains(&"pkt".to_string()));
        // Inside a string: no names; after flags=", flag sets.
        assert!(h.candidates("print(\"pr", 7).is_empty());
        let c = h.candidates("TCP(flags=\"", 11);
        assert!(c.contains(&"SA".to_string()) && !c.contains(&"print".to_string()));
        // A layer class's fields.
        let c = h.candidates("TCP.", 4);
        assert!(c.contains(&"dport".to_string()));
    }
}
