//! The `tcpcraft` command line: parse arguments (syntax only), then hand over to the
//! library. One place prints errors; exit statuses are documented in the manual:
//! 0 success, 1 an assertion/expectation failed (or, for `scan`, no port open),
//! 2 a script or command-line error, 3 a system error (privileges, interface).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use std::io::IsTerminal;
use tcpcraft::app::cli::{self as lang, Input};
use tcpcraft::decode;
use tcpcraft::packet::LinkType;

/// Counts heap bytes in use, for the scripts' memory budget (`--max-memory`).
#[global_allocator]
static ALLOC: tcpcraft::net::sys::CountingAlloc = tcpcraft::net::sys::CountingAlloc;

/// Exit statuses (see EXIT STATUS in tcpcraft(1)).
use tcpcraft::exit;

#[derive(Parser, Debug)]
#[command(
    name = "tcpcraft",
    version,
    about = "Raw-socket TCP/IP packet crafting: build packets, send them, match replies, \
             hand-drive handshakes and teardowns",
    after_help = "Examples:\n  tcpcraft decode capture.pcap\n  tcpcraft decode --show --hex 4500003c…\n\n\
                  See tcpcraft(1) for the whole manual."
)]
struct Cli {
    #[command(flatten)]
    global: GlobalOpts,

    /// Run CODE (statements of the tcpcraft language); further values are its `args`
    #[arg(short = 'c', value_name = "CODE", num_args = 1.., allow_hyphen_values = true)]
    code: Option<Vec<String>>,

    #[command(subcommand)]
    command: Option<Command>,
}

/// Options accepted before any command.
#[derive(Args, Debug)]
struct GlobalOpts {
    /// Send nothing: print every packet that would be sent; receives return none
    #[arg(long, global = true)]
    dry_run: bool,
    /// Write every packet sent and received to FILE (pcap, raw IP)
    #[arg(long, global = true, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Machine-readable output (JSON) where a command supports it
    #[arg(long, global = true)]
    json: bool,
    /// Quieter: no notices, no "would send" lines
    #[arg(short, long, global = true)]
    quiet: bool,
    /// More detail
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Sessions: do not keep the kernel from answering hand-driven connections with RST
    #[arg(long, global = true)]
    no_rst_guard: bool,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, global = true, value_name = "WHEN")]
    color: ColorWhen,
    /// Scripts: the most loop iterations and function calls per run (0: no limit)
    #[arg(long, global = true, value_name = "N", default_value_t = tcpcraft::lang::call::DEFAULT_MAX_STEPS)]
    max_steps: u64,
    /// Scripts: the most heap memory in MiB while a script runs (0: no limit)
    #[arg(long, global = true, value_name = "MIB", default_value_t = (tcpcraft::lang::call::DEFAULT_MAX_MEMORY >> 20) as u64)]
    max_memory: u64,
    /// Set by `tcpcraft lab` for the tcpcraft it runs inside the practice network:
    /// `target` and `target6` are predefined
    #[arg(long, global = true, hide = true)]
    lab_inner: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Interactive shell (the default on a terminal)
    Repl(ReplArgs),
    /// Run a script file; ARGS are the script's `args`
    Run {
        file: PathBuf,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print each packet of a pcap/pcapng file (or a hex dump) as tcpdump would
    Decode(DecodeArgs),
    /// A practice network with a real server (needs root): the REPL, -c CODE, run FILE or
    /// a guided --lesson inside it, with `target` and `target6` set; everything is removed
    /// on exit
    Lab(LabCli),
    /// Drive a whole TCP connection segment by segment and draw it as a ladder
    Handshake(tcpcraft::session::cli::HandshakeArgs),
    /// Test which ports are open: SYN scan by default; --udp, --ack, --flags, --connect
    Scan(Box<tcpcraft::scan::cli::ScanArgs>),
    /// hping3-style probes: a TCP SYN (or -A -F -R -P -U, -1 ICMP, -2 UDP) every second,
    /// each answer on a line, statistics at the end
    Ping(Box<tcpcraft::app::ping::PingArgs>),
    /// TCP traceroute (tcptraceroute, hping3 --traceroute): one SYN per TTL, all sent
    /// together; hops, round trips, and what ended it (--proto udp|icmp, --json)
    Trace(Box<tcpcraft::app::trace::TraceArgs>),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("input").args(["file", "hex"]))]
#[command(group = clap::ArgGroup::new("format").args(["show", "hexdump", "json"]))]
struct DecodeArgs {
    /// A pcap or pcapng capture (Ethernet, raw IP or Linux cooked link type); without FILE
    /// or --hex, hex is read from standard input
    file: Option<PathBuf>,
    /// Decode one packet given as hex (`-` reads the hex from standard input)
    #[arg(long, value_name = "HEX")]
    hex: Option<String>,
    /// Every field of every layer, computed fields filled in, checksums checked
    #[arg(long)]
    show: bool,
    /// The summary line, then offset / hex / ASCII
    #[arg(long)]
    hexdump: bool,
    /// One JSON object per packet
    #[arg(long)]
    json: bool,
    /// Read the bytes as this link type instead of the file's (or the hex's guess)
    #[arg(long, value_enum, value_name = "TYPE")]
    link: Option<LinkArg>,
    /// Print only the packets this tcpdump filter keeps (`'tcp[tcpflags] & tcp-syn != 0'`),
    /// as `tcpdump -r FILE FILTER` does; the words after FILE are joined, as tcpdump joins them
    #[arg(value_name = "FILTER", trailing_var_arg = true)]
    filter: Vec<String>,
}

/// The shell's options: a lesson is run by the lab's inner tcpcraft (hidden).
#[derive(Args, Debug)]
struct ReplArgs {
    #[arg(long, hide = true, value_name = "NAME")]
    lesson: Option<String>,
    #[arg(long, hide = true, value_name = "LANG")]
    lang: Option<String>,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
struct LabCli {
    /// Run CODE inside the lab instead of the REPL
    #[arg(short = 'c', value_name = "CODE", conflicts_with = "lesson")]
    code: Option<String>,
    /// A guided lesson: handshake, teardown, why-three, why-four, reset, simultaneous-close
    /// (`list` lists them)
    #[arg(long, value_name = "NAME")]
    lesson: Option<String>,
    /// The lesson's language: en or zh (default: zh when LANG is zh_CN.*, else en)
    #[arg(long, value_name = "LANG", value_parser = ["en", "zh"])]
    lang: Option<String>,
    #[command(subcommand)]
    run: Option<LabRun>,
}

#[derive(Subcommand, Debug)]
enum LabRun {
    /// Run a script inside the lab
    Run {
        file: PathBuf,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LinkArg {
    Ether,
    Ip,
    Sll,
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(tcpcraft::scan::cli::rewrite_args(std::env::args_os()));
    // Before anything else (and before any thread): become the sudo user, keep only the
    // capabilities this command needs (src/privileges.rs).
    if let Err(e) = tcpcraft::privileges::setup(need(&cli)) {
        eprintln!("tcpcraft: {e}; stopping rather than running with more privileges than it needs");
        return ExitCode::from(exit::SYSTEM);
    }
    let lang_cfg = lang_config(&cli.global);
    let command = match (cli.code, cli.command) {
        (Some(mut code), _) => {
            let text = if code.is_empty() {
                String::new()
            } else {
                code.remove(0)
            };
            return lang_run(lang_cfg, Input::Code(text, code));
        }
        (None, Some(c)) => c,
        (None, None) if io::stdin().is_terminal() => Command::Repl(ReplArgs {
            lesson: None,
            lang: None,
        }),
        (None, None) => return lang_run(lang_cfg, Input::Stdin),
    };
    match command {
        Command::Repl(repl) => {
            let mut cfg = lang_cfg;
            let engine = match engine_for(&mut cfg) {
                Ok(e) => e,
                Err(code) => return ExitCode::from(code),
            };
            if let Some(name) = repl.lesson {
                let lang = repl
                    .lang
                    .as_deref()
                    .and_then(tcpcraft::app::lesson::Lang::parse)
                    .unwrap_or_else(tcpcraft::app::lesson::Lang::from_env);
                return ExitCode::from(tcpcraft::app::lesson::runner::run(cfg, engine, name, lang));
            }
            ExitCode::from(tcpcraft::app::repl::run(cfg, engine))
        }
        Command::Run { file, args } => lang_run(lang_cfg, Input::File(file, args)),
        Command::Decode(args) => run_decode(args),
        Command::Scan(args) => ExitCode::from(tcpcraft::scan::cli::run(*args, cli.global.dry_run)),
        Command::Ping(args) => match tcpcraft::app::ping::script_args(&args) {
            Ok(v) => lang_run(
                lang_cfg,
                Input::Builtin(tcpcraft::app::ping::NAME, tcpcraft::app::ping::SCRIPT, v),
            ),
            Err(m) => {
                eprintln!("tcpcraft: ping: {m}");
                ExitCode::from(exit::USAGE)
            }
        },
        Command::Trace(args) => match tcpcraft::app::trace::script_args(&args, cli.global.json) {
            Ok(v) => lang_run(
                lang_cfg,
                Input::Builtin(tcpcraft::app::trace::NAME, tcpcraft::app::trace::SCRIPT, v),
            ),
            Err(m) => {
                eprintln!("tcpcraft: trace: {m}");
                ExitCode::from(exit::USAGE)
            }
        },
        Command::Lab(lab) => {
            let lesson = match lab_lesson(&lab, &cli.global) {
                Ok(l) => l,
                Err(code) => return ExitCode::from(code),
            };
            let (file, file_args) = match lab.run {
                Some(LabRun::Run { file, args }) => (Some(file), args),
                None => (None, Vec::new()),
            };
            let g = &cli.global;
            let mut global: Vec<std::ffi::OsString> = vec!["--color".into()];
            global.push(format!("{:?}", g.color).to_lowercase().into());
            global.extend([
                "--max-steps".into(),
                g.max_steps.to_string().into(),
                "--max-memory".into(),
                g.max_memory.to_string().into(),
            ]);
            for (on, flag) in [
                (g.dry_run, "--dry-run"),
                (g.json, "--json"),
                (g.quiet, "-q"),
                (g.verbose, "-v"),
                (g.no_rst_guard, "--no-rst-guard"),
            ] {
                if on {
                    global.push(flag.into());
                }
            }
            if let Some(p) = &g.pcap {
                global.extend(["--pcap".into(), p.clone().into_os_string()]);
            }
            ExitCode::from(tcpcraft::net::lab::run(&tcpcraft::net::lab::LabArgs {
                code: lab.code,
                file,
                file_args,
                global,
                quiet: g.quiet,
                lesson,
            }))
        }
        Command::Handshake(args) => {
            tcpcraft::net::signals::install_cancel();
            // A dry run records what it would send, as scripts' dry runs do.
            let pcap = match shared_pcap(cli.global.pcap) {
                Ok(w) => w,
                Err(code) => return ExitCode::from(code),
            };
            let code = tcpcraft::session::cli::run(args, cli.global.dry_run, pcap);
            ExitCode::from(tcpcraft::cancel::exit_status(code))
        }
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "tcpcraft", &mut io::stdout());
            ExitCode::from(exit::OK)
        }
    }
}

/// `lab --lesson NAME`: resolved against the lessons; `--lesson list` is printed here
/// (no lab needed) and ends the command with `Err(0)`.
fn lab_lesson(lab: &LabCli, g: &GlobalOpts) -> Result<Option<tcpcraft::net::lab::LabLesson>, u8> {
    use tcpcraft::app::lesson::{self, Lang};
    let lang = lab
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or_else(Lang::from_env);
    let Some(name) = &lab.lesson else {
        return Ok(None);
    };
    if name == "list" {
        return match lesson::list(lang) {
            Ok(text) => {
                print!("{text}");
                Err(exit::OK)
            }
            Err(e) => {
                eprintln!("tcpcraft: lab: {e}");
                Err(exit::SYSTEM)
            }
        };
    }
    if !lesson::exists(name) {
        eprintln!(
            "tcpcraft: lab: no lesson named {name:?}; the lessons are: {}",
            lesson::NAMES.join(", ")
        );
        return Err(exit::USAGE);
    }
    if lab.run.is_some() {
        eprintln!(
            "tcpcraft: lab: --lesson runs the lesson's own shell; it cannot be combined with `run`"
        );
        return Err(exit::USAGE);
    }
    if g.dry_run {
        eprintln!(
            "tcpcraft: lab: --dry-run cannot be used with --lesson: a lesson checks the real server's answers and its kernel's states, and a dry run receives nothing"
        );
        return Err(exit::USAGE);
    }
    let synack_retries = lesson::server_synack_retries(name);
    Ok(Some(tcpcraft::net::lab::LabLesson {
        name: name.clone(),
        lang: lang.code().to_string(),
        synack_retries,
        note: synack_retries.map(|r| lesson::server_note(lang, r)),
    }))
}

/// What the command needs of the privileges tcpcraft was started with.
fn need(cli: &Cli) -> tcpcraft::privileges::Need {
    use tcpcraft::privileges::Need;
    if matches!((&cli.code, &cli.command), (None, Some(Command::Lab(_)))) {
        return Need::Supervisor;
    }
    if cli.global.dry_run {
        return Need::DryRun;
    }
    match (&cli.code, &cli.command) {
        (Some(_), _) => Need::Network,
        (None, Some(Command::Decode(_) | Command::Completions { .. })) => Need::Nothing,
        (None, Some(Command::Scan(a))) if a.connect => Need::Nothing,
        _ => Need::Network,
    }
}

/// The language's view of the global options.
fn lang_config(g: &GlobalOpts) -> lang::Config {
    let color = match g.color {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => std::env::var_os("NO_COLOR").is_none() && io::stderr().is_terminal(),
    };
    let limits = tcpcraft::lang::Limits {
        max_steps: match g.max_steps {
            0 => u64::MAX,
            n => n,
        },
        max_memory: match g.max_memory {
            0 => usize::MAX,
            mib => usize::try_from(mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX),
        },
        heap_in_use: Some(tcpcraft::net::sys::heap_in_use),
        ..tcpcraft::lang::Limits::default()
    };
    lang::Config {
        limits,
        predefined: if g.lab_inner {
            tcpcraft::net::lab::predefined()
        } else {
            Vec::new()
        },
        dry_run: g.dry_run,
        pcap: g.pcap.clone(),
        pcap_writer: None,
        no_rst_guard: g.no_rst_guard,
        json: g.json,
        quiet: g.quiet,
        verbose: g.verbose,
        color,
        // A dry run shows the source address the route would choose, as scapy does.
        route_source: g.dry_run.then(|| {
            tcpcraft::lang::net::RouteSource(std::sync::Arc::new(
                tcpcraft::net::route::dry_run_source,
            ))
        }),
    }
}

/// Scripts, `-c` and stdin, over the raw-socket engine (unless --dry-run).
fn lang_run(mut cfg: lang::Config, input: Input) -> ExitCode {
    // Ctrl-C stops a script with "interrupted" (exit 130), --dry-run included: the
    // handlers come with `engine_for`.
    let engine = match engine_for(&mut cfg) {
        Ok(e) => e,
        Err(code) => return ExitCode::from(code),
    };
    ExitCode::from(tcpcraft::cancel::exit_status(lang::run(cfg, input, engine)))
}

/// The raw-socket engine for the language (opened on first use; None with --dry-run).
/// The engine writes `--pcap` itself, with kernel timestamps, so the language's own
/// recorder is switched off; sessions write the same file through the same writer.
fn engine_for(cfg: &mut lang::Config) -> Result<Option<Box<dyn tcpcraft::lang::Net + Send>>, u8> {
    // One handler for scripts, the REPL and engine waits (also in a dry run, so that
    // `--pcap` is still written): SIGINT, SIGTERM and SIGHUP set the language's interrupt
    // flag; SIGTERM and SIGHUP then end tcpcraft with 143 / 129 (src/net/signals.rs).
    tcpcraft::net::signals::install_cancel();
    if cfg.dry_run {
        return Ok(None);
    }
    let pcap_writer = shared_pcap(cfg.pcap.take())?;
    cfg.pcap_writer = pcap_writer.clone();
    let opts = tcpcraft::net::EngineOptions {
        pcap: None,
        pcap_writer,
    };
    Ok(Some(Box::new(tcpcraft::app::lang_net::RawNet::new(
        opts, cfg.quiet,
    ))))
}

/// Opens `--pcap` once for the whole process: the engine and sessions share this writer,
/// so neither truncates what the other wrote. A file that cannot be created is an error
/// at once (exit status 3).
fn shared_pcap(path: Option<PathBuf>) -> Result<Option<tcpcraft::pcap::SharedWriter>, u8> {
    let Some(p) = path else {
        return Ok(None);
    };
    match tcpcraft::pcap::SharedWriter::create(&p) {
        Ok(w) => Ok(Some(w)),
        Err(e) => {
            eprintln!("tcpcraft: --pcap {}: {e}", p.display());
            Err(exit::SYSTEM)
        }
    }
}

fn run_decode(args: DecodeArgs) -> ExitCode {
    let format = if args.show {
        decode::Format::Show
    } else if args.hexdump {
        decode::Format::Hexdump
    } else if args.json {
        decode::Format::Json
    } else {
        decode::Format::Summary
    };
    let input = match (args.file, args.hex) {
        (_, Some(h)) if h == "-" => decode::Input::HexStdin,
        (_, Some(h)) => decode::Input::Hex(h),
        (Some(f), None) => decode::Input::File(f),
        (None, None) => {
            if io::stdin().is_terminal() {
                eprintln!(
                    "tcpcraft: decode: give a capture FILE, --hex HEX, or hex on standard input"
                );
                return ExitCode::from(exit::USAGE);
            }
            decode::Input::HexStdin
        }
    };
    let link = args.link.map(|l| match l {
        LinkArg::Ether => LinkType::Ethernet,
        LinkArg::Ip => LinkType::RawIp,
        LinkArg::Sll => LinkType::Sll,
    });
    let stdout = io::stdout();
    let mut out = PipeWatch {
        inner: io::BufWriter::new(stdout.lock()),
        closed: false,
    };
    let filter = args.filter.join(" ");
    let filter = (!args.filter.is_empty()).then_some(filter.as_str());
    let result = decode::run_filtered(input, format, link, filter, &mut out);
    let flushed = out.flush();
    match result {
        Ok(_) => ExitCode::from(exit::OK),
        // A closed pipe (`| head`) is not an error.
        Err(_) if out.closed => ExitCode::from(exit::OK),
        Err(e) => {
            let _ = flushed;
            eprintln!("tcpcraft: decode: {e}");
            ExitCode::from(exit::USAGE)
        }
    }
}

/// Standard output that remembers whether the reader went away (`| head`): a closed
/// pipe ends the output quietly, recognised by its error kind.
struct PipeWatch<W: Write> {
    inner: W,
    closed: bool,
}

impl<W: Write> PipeWatch<W> {
    fn watch<T>(&mut self, r: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &r {
            self.closed |= e.kind() == io::ErrorKind::BrokenPipe;
        }
        r
    }
}

impl<W: Write> Write for PipeWatch<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.inner.write(buf);
        self.watch(r)
    }
    fn flush(&mut self) -> io::Result<()> {
        let r = self.inner.flush();
        self.watch(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
