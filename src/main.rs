//! The `tcpcraft` command line: parse arguments (syntax only), then hand over to the
//! library. One place prints errors; exit statuses are documented in the manual:
//! 0 success, 1 an assertion/expectation failed (or, for `scan`, no port open),
//! 2 a script or command-line error, 3 a system error (privileges, interface).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use tcpcraft::decode;
use tcpcraft::packet::LinkType;

/// Exit statuses (see EXIT STATUS in tcpcraft(1)).
mod exit {
    pub const OK: u8 = 0;
    pub const USAGE: u8 = 2;
}

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

    #[command(subcommand)]
    command: Command,
}

/// Options accepted before any command.
#[derive(Args, Debug)]
struct GlobalOpts {
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, global = true, value_name = "WHEN")]
    color: ColorWhen,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print each packet of a pcap/pcapng file (or a hex dump) as tcpdump would
    Decode(DecodeArgs),
    /// Test which ports are open: SYN scan by default; --udp, --ack, --flags, --connect
    Scan(Box<tcpcraft::scan::cli::ScanArgs>),
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LinkArg {
    Ether,
    Ip,
    Sll,
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(tcpcraft::scan::cli::rewrite_args(std::env::args_os()));
    let _ = cli.global.color;
    match cli.command {
        Command::Decode(args) => run_decode(args),
        Command::Scan(args) => ExitCode::from(tcpcraft::scan::cli::run(*args)),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "tcpcraft", &mut io::stdout());
            ExitCode::from(exit::OK)
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
            use std::io::IsTerminal;
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
    let mut out = io::BufWriter::new(stdout.lock());
    let result = decode::run(input, format, link, &mut out);
    let flushed = out.flush();
    match result {
        Ok(_) => ExitCode::from(exit::OK),
        // A closed pipe (`| head`) is not an error.
        Err(e) if e.0.contains("Broken pipe") => ExitCode::from(exit::OK),
        Err(e) => {
            let _ = flushed;
            eprintln!("tcpcraft: decode: {e}");
            ExitCode::from(exit::USAGE)
        }
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
