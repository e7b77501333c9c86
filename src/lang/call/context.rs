//! The context a native function runs in: the interpreter's state as builtins see it
//! (output, network, options, limits, random numbers, the builtin and method tables)
//! and the scopes variables live in. The evaluator (`interp.rs`) adds evaluation to
//! this type; the files that define builtins import it from here, never from there.

use super::registry::Methods;
use super::rng::Rng;
use super::value::Value;
use crate::lang::error::{error, render, Error, ErrorKind, Result, Sources, Span};
use crate::lang::net::Net;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::rc::Rc;
use std::time::Instant;

/// Limits that keep an untrusted or buggy script from hanging or crashing tcpcraft.
/// Every run has them (tcpcraft(1), SECURITY): the step and memory budgets are raised
/// with `--max-steps` and `--max-memory`.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Deepest function-call (and `include`) nesting.
    pub max_call_depth: usize,
    /// Loop iterations and function calls per run (per entry in the shell);
    /// `u64::MAX`: unlimited.
    pub max_steps: u64,
    /// Longest list, string or bytes value a single operation may build.
    pub max_len: usize,
    /// Largest script file `run` and `include` read, in bytes.
    pub max_file: u64,
    /// Heap bytes the process may hold while a script runs, checked at every step
    /// (`usize::MAX`: unlimited). Needs [`Limits::heap_in_use`].
    pub max_memory: usize,
    /// How many heap bytes are in use (the binary's counting allocator); `None`: the
    /// memory budget is not checked.
    pub heap_in_use: Option<fn() -> usize>,
    /// No file access (`include`, `wrpcap`, `rdpcap`) and no `sleep`: for fuzzing
    /// and for evaluating text nobody vouches for.
    pub sandbox: bool,
}

/// The default step budget: 100 million loop iterations and calls (tens of seconds of
/// work; a `while true {}` ends with an error instead of running forever).
pub const DEFAULT_MAX_STEPS: u64 = 100_000_000;
/// The default memory budget: 1 GiB of heap.
pub const DEFAULT_MAX_MEMORY: usize = 1 << 30;

impl Limits {
    /// Tight limits for untrusted input (the fuzz targets use these).
    pub fn untrusted() -> Limits {
        Limits {
            max_call_depth: 40,
            max_steps: 20_000,
            max_len: 1 << 16,
            max_file: 0,
            max_memory: usize::MAX,
            heap_in_use: None,
            sandbox: true,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_call_depth: 200,
            max_steps: DEFAULT_MAX_STEPS,
            max_len: 1 << 28,
            max_file: crate::userfile::MAX_SCRIPT_BYTES,
            max_memory: DEFAULT_MAX_MEMORY,
            heap_in_use: None,
            sandbox: false,
        }
    }
}

/// Output switches from the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-q`: no "would send" lines, no notices.
    pub quiet: bool,
    /// `-v`: more detail (e.g. every reply matched).
    pub verbose: bool,
    /// `--json`: `print(packet)` writes JSON.
    pub json: bool,
    /// ANSI colours in error messages.
    pub color: bool,
    /// The interactive shell: `sr`/`sr1` say how many probes were answered.
    pub interactive: bool,
}

pub type Env = Rc<RefCell<Frame>>;

#[derive(Debug, Default)]
pub struct Frame {
    pub vars: HashMap<Rc<str>, Value>,
    pub(crate) parent: Option<Env>,
}

pub(crate) fn lookup(env: &Env, name: &str) -> Option<Value> {
    let f = env.borrow();
    match f.vars.get(name) {
        Some(v) => Some(v.clone()),
        None => f.parent.as_ref().and_then(|p| lookup(p, name)),
    }
}

/// The interpreter. One per script run or REPL session.
pub struct Interp {
    pub sources: Sources,
    pub globals: Env,
    pub(crate) builtins: HashMap<Rc<str>, Value>,
    /// The methods of lists, strings, bytes, dicts and packets, by receiver type.
    pub(crate) methods: Methods,
    /// The network backend (dry-run or the engine).
    pub net: Box<dyn Net>,
    /// Where `print`, `show` … write.
    pub out: Box<dyn Write>,
    pub opts: Options,
    pub limits: Limits,
    /// Call (and `include`) nesting now.
    pub(crate) depth: usize,
    /// Steps taken in this run (see [`Limits::max_steps`]).
    pub(crate) steps: u64,
    pub rng: Rng,
    /// The script's arguments (`args`).
    pub script_args: Vec<String>,
    /// Time zero for `now()`.
    pub start: Instant,
    /// Notices already given once (e.g. "no engine yet").
    pub noticed: Vec<&'static str>,
    /// Where lines that come while nobody asks go (a live session's arrivals, from its
    /// background receiver): the REPL sets its external printer (above the prompt);
    /// `None` is standard output.
    pub live: Option<LivePrinter>,
}

/// A printer usable from any thread: one line at a time.
pub type LivePrinter = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

impl Interp {
    /// An interpreter without any builtin (the evaluator's `Interp::new` installs them),
    /// sending through `net`, printing to `out`.
    pub(crate) fn bare(net: Box<dyn Net>, out: Box<dyn Write>) -> Interp {
        Interp {
            sources: Sources::default(),
            globals: Rc::new(RefCell::new(Frame::default())),
            builtins: HashMap::new(),
            methods: Methods::default(),
            net,
            out,
            opts: Options::default(),
            limits: Limits::default(),
            depth: 0,
            steps: 0,
            rng: Rng::from_time(),
            script_args: Vec::new(),
            start: Instant::now(),
            noticed: Vec::new(),
            live: None,
        }
    }

    /// Names of the global variables (completion).
    pub fn global_names(&self) -> Vec<Rc<str>> {
        let mut v: Vec<Rc<str>> = self.globals.borrow().vars.keys().cloned().collect();
        v.sort();
        v
    }
    pub fn get_var(&self, name: &str) -> Option<Value> {
        lookup(&self.globals, name).or_else(|| self.builtins.get(name).cloned())
    }
    pub fn set_var(&mut self, name: &str, v: Value) {
        self.globals.borrow_mut().vars.insert(Rc::from(name), v);
    }

    /// Render an error with the sources this interpreter has seen.
    pub fn render_error(&self, e: &Error) -> String {
        render(e, &self.sources, self.opts.color)
    }

    /// The printer for lines that come from other threads ([`Interp::live`]).
    pub fn live_printer(&self) -> LivePrinter {
        self.live.clone().unwrap_or_else(|| {
            std::sync::Arc::new(|line: &str| {
                use std::io::Write as _;
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
            })
        })
    }

    /// Write one line of output. A closed pipe is not an error.
    pub fn println(&mut self, s: &str) {
        let _ = self.out.write_all(s.as_bytes());
        let _ = self.out.write_all(b"\n");
    }

    /// A notice on stderr (suppressed by `-q`).
    pub fn notice(&mut self, s: &str) {
        if !self.opts.quiet {
            let _ = self.out.flush();
            eprintln!("tcpcraft: {s}");
        }
    }

    /// Refuse `what` when running sandboxed (see [`Limits::sandbox`]).
    pub fn check_sandbox(&self, what: &str, span: Span) -> Result<()> {
        if self.limits.sandbox {
            return Err(error(
                span,
                ErrorKind::Limit(format!("{what} is not allowed in the sandbox")),
            ));
        }
        Ok(())
    }
}

impl Drop for Interp {
    /// Global functions hold the global scope (their defining environment): clear it
    /// so the cycle does not outlive the interpreter.
    fn drop(&mut self) {
        self.globals.borrow_mut().vars.clear();
    }
}
