//! Running the language from the command line: script files, `-c CODE`, stdin.
//!
//! `main.rs` parses the arguments and calls [`run`] (or `crate::app::repl::run`) with a
//! [`Config`]; everything after that — choosing the network backend, `--pcap`,
//! rendering errors, the exit status — happens here.

use crate::lang::call::Value;
use crate::lang::call::{Interp, Options};
use crate::lang::error::ErrorKind;
use crate::lang::net::{DryRun, Net, PcapLog, Recorder};
use crate::packet::{display, Packet};
use std::path::PathBuf;

/// Exit statuses (documented in tcpcraft(1)).
pub use crate::exit;

/// Global options, as parsed by `main.rs`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub dry_run: bool,
    pub pcap: Option<PathBuf>,
    /// The `--pcap` writer the engine and sessions share, opened once by `main`.
    pub pcap_writer: Option<crate::pcap::SharedWriter>,
    /// `--no-rst-guard`: sessions do not keep the kernel from resetting their connections.
    pub no_rst_guard: bool,
    pub json: bool,
    pub quiet: bool,
    pub verbose: bool,
    /// Colour already decided (`--color`, NO_COLOR, terminal).
    pub color: bool,
    /// How the dry run fills unset source addresses (the route's choice); `None`:
    /// they stay unset (0.0.0.0 / ::).
    pub route_source: Option<crate::lang::net::RouteSource>,
    /// Step, memory and file-size budgets (`--max-steps`, `--max-memory`).
    pub limits: crate::lang::Limits,
    /// Variables set before the first statement, as strings (`target` and `target6`
    /// inside `tcpcraft lab`, from its hidden `--lab-inner` option). Values only: no code
    /// comes from the environment or from another program.
    pub predefined: Vec<(String, String)>,
}

/// What to run.
#[derive(Debug, Clone)]
pub enum Input {
    /// `tcpcraft run FILE [ARGS…]`
    File(PathBuf, Vec<String>),
    /// `tcpcraft -c CODE [ARGS…]`
    Code(String, Vec<String>),
    /// statements piped on standard input
    Stdin,
    /// A script built into tcpcraft (`tcpcraft ping`): its name for messages, its text
    /// and its args.
    Builtin(&'static str, &'static str, Vec<String>),
}

/// Where modules outside `lang` register their builtins (`session()`, `listen()`,
/// `scan()` …). Add one line per module here; keep it the only such place.
pub fn install_extensions(it: &mut Interp, cfg: &Config) {
    crate::app::lang_session::install(
        it,
        crate::app::lang_session::Context {
            pcap: cfg.pcap_writer.clone(),
            no_rst_guard: cfg.no_rst_guard,
        },
    );
    crate::app::lang_scan::install(it);
}

/// The dry-run backend printing "would send: `<summary>`" on standard output
/// (nothing with `-q`; JSON with `--json`; the hexdump too with `-v`).
pub fn dry_run_backend(cfg: &Config) -> DryRun {
    let quiet = cfg.quiet;
    let json = cfg.json;
    let verbose = cfg.verbose;
    let route = cfg.route_source.clone();
    DryRun::new(Box::new(move |p: &Packet| {
        if quiet {
            return;
        }
        use std::io::Write;
        let line = if json {
            display::json(p).to_string()
        } else {
            format!("would send: {}", display::summary(p))
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        if verbose && !json {
            let _ = write!(out, "{}", display::hexdump(&p.to_bytes()));
        }
    }))
    .with_route_source(route)
}

/// Build an interpreter for `cfg`. `engine` is the raw-socket backend (`None` with
/// `--dry-run`; a library caller that hands none gets the dry run too). The returned
/// log is `Some` with `--pcap`.
pub fn make_interp(cfg: &Config, engine: Option<Box<dyn Net>>) -> (Interp, Option<PcapLog>) {
    let net: Box<dyn Net> = match (cfg.dry_run, engine) {
        (false, Some(e)) => e,
        (true, _) | (false, None) => Box::new(dry_run_backend(cfg)),
    };
    let (net, log): (Box<dyn Net>, Option<PcapLog>) = if cfg.pcap.is_some() {
        let (r, log) = Recorder::new(net);
        (Box::new(r), Some(log))
    } else {
        (net, None)
    };
    let mut it = Interp::new(net, Box::new(std::io::stdout()));
    it.opts = Options {
        quiet: cfg.quiet,
        verbose: cfg.verbose,
        json: cfg.json,
        color: cfg.color,
        interactive: false,
    };
    it.limits = cfg.limits.clone();
    install_extensions(&mut it, cfg);
    for (name, value) in &cfg.predefined {
        it.set_var(name, Value::str(value));
    }
    (it, log)
}

/// Write the `--pcap` file; an error is reported and turns into exit status 3.
pub fn finish_pcap(cfg: &Config, log: Option<PcapLog>) -> Option<u8> {
    let (Some(path), Some(log)) = (&cfg.pcap, log) else {
        return None;
    };
    let recs = log.borrow();
    match crate::lang::net::write_pcap(path, &recs) {
        Ok(()) => None,
        Err(e) => {
            eprintln!("tcpcraft: --pcap {}: {e}", path.display());
            Some(exit::SYSTEM)
        }
    }
}

/// Run a script, `-c` code or stdin; return the exit status. The interpreter runs
/// on a thread with a large stack so deep (but limited) recursion is safe.
pub fn run(cfg: Config, input: Input, engine: Option<Box<dyn Net + Send>>) -> u8 {
    let handle = std::thread::Builder::new()
        .name("tcpcraft-lang".into())
        .stack_size(256 << 20)
        .spawn(move || run_here(&cfg, input, engine.map(|e| e as Box<dyn Net>)));
    match handle.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("tcpcraft: internal error: the interpreter thread failed");
            exit::SYSTEM
        }
    }
}

/// [`run`] on the current thread.
pub fn run_here(cfg: &Config, input: Input, engine: Option<Box<dyn Net>>) -> u8 {
    // A built-in script's errors are the command's, not lines of a file to show.
    let builtin = matches!(input, Input::Builtin(..));
    let (name, text, args) = match input {
        Input::File(path, args) => match crate::userfile::read_text(&path, cfg.limits.max_file) {
            Ok(t) => (path.display().to_string(), t, args),
            Err(e) => {
                eprintln!("tcpcraft: cannot read {}: {e}", path.display());
                use std::io::ErrorKind::{InvalidData, InvalidInput, NotFound};
                return if matches!(e.kind(), NotFound | InvalidInput | InvalidData) {
                    exit::USAGE
                } else {
                    exit::SYSTEM
                };
            }
        },
        Input::Code(code, args) => ("<-c>".to_string(), code, args),
        Input::Builtin(name, text, args) => (name.to_string(), text.to_string(), args),
        Input::Stdin => {
            let mut t = String::new();
            if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut t) {
                eprintln!("tcpcraft: cannot read standard input: {e}");
                return exit::SYSTEM;
            }
            ("<stdin>".to_string(), t, Vec::new())
        }
    };
    let (mut it, log) = make_interp(cfg, engine);
    it.set_var(
        "args",
        Value::list(args.iter().map(|a| Value::str(a)).collect()),
    );
    let res = it.run_source(&name, &text, 1);
    let _ = std::io::Write::flush(&mut it.out);
    let code = match res {
        Ok(_) => exit::OK,
        Err(e) => {
            if matches!(e.kind, ErrorKind::Exit(_)) {
            } else if builtin {
                eprintln!("tcpcraft: {}: {}", name.trim_matches(['<', '>']), e.kind);
            } else {
                eprint!("{}", it.render_error(&e));
            }
            e.kind.exit_code()
        }
    };
    let pcap_code = finish_pcap(cfg, log);
    if code == exit::OK {
        pcap_code.unwrap_or(code)
    } else {
        code
    }
}
