//! The `tcpcraft handshake HOST:PORT` command: arguments and output. The exchange
//! itself is [`super::handshake::run`].

use std::io::{IsTerminal, Write};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use super::handshake::{self, Close, HandshakeOptions};
use super::mock::DryIo;
use super::{SegmentIo, SessionError, SessionOptions};
use crate::net::guard;
use crate::net::segio::RawIo;

/// `tcpcraft handshake` arguments.
#[derive(clap::Args, Debug)]
pub struct HandshakeArgs {
    /// The peer: `HOST:PORT`, or `[IPV6]:PORT`
    #[arg(value_name = "HOST:PORT")]
    pub target: String,
    /// After the handshake send TEXT (escapes \r \n \t \\ \xNN) and print the answer
    #[arg(long, value_name = "TEXT")]
    pub data: Option<String>,
    /// How to end: active (we send the first FIN), passive (the peer does), rst
    #[arg(long, value_name = "HOW", default_value = "active")]
    pub close: Close,
    /// Use IPv6 when HOST has both kinds of address
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Our source port (default: random, outside the kernel's ephemeral range)
    #[arg(long, value_name = "PORT", value_parser = port_arg)]
    pub sport: Option<u16>,
    /// Our initial sequence number (default: random)
    #[arg(long, value_name = "N")]
    pub isn: Option<u32>,
    /// Seconds to wait for each answer
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0, value_parser = seconds_arg)]
    pub timeout: f64,
    /// When an answer does not come within --timeout, send our last segment again, up
    /// to N times (for lossy paths)
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub retries: u32,
    /// Do not keep the kernel from answering our peer with RST
    #[arg(long)]
    pub no_rst_guard: bool,
    /// Absolute sequence numbers in the ladder (default: relative to the ISNs)
    #[arg(long)]
    pub absolute: bool,
    /// Draw the ladder in ASCII (default on a terminal: Unicode box drawing)
    #[arg(long)]
    pub ascii: bool,
    /// Also write the ladder as an SVG picture to FILE
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// In the SVG, space the arrows by time (pauses show, crossing FINs cross)
    #[arg(long, requires = "svg")]
    pub by_time: bool,
}

/// Exit statuses (tcpcraft(1)).
use crate::exit::{FAILED, OK, SIGINT, SYSTEM, USAGE};

/// Runs the command; prints the steps, the answer and the ladder on stdout, errors
/// on stderr; returns the exit status. A dry run sends nothing and installs nothing:
/// it shows the SYN that would open the connection and stops there.
/// `pcap`: the `--pcap` writer, if any (a dry run records what it would send there).
pub fn run(args: HandshakeArgs, dry_run: bool, pcap: Option<crate::pcap::SharedWriter>) -> u8 {
    let mut err = std::io::stderr();
    let (dst, port) = match resolve(&args.target, args.ipv6) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "tcpcraft handshake: {e}");
            return USAGE;
        }
    };
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout < 3600.0) {
        let _ = writeln!(
            err,
            "tcpcraft handshake: --timeout must be between 0 and 3600 seconds"
        );
        return USAGE;
    }
    let data = match args.data.as_deref().map(unescape).transpose() {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(err, "tcpcraft handshake: --data: {e}");
            return USAGE;
        }
    };
    let io: Box<dyn SegmentIo> = if dry_run {
        let record = pcap.clone().map(|w| -> super::mock::DryRecord {
            Box::new(move |t, bytes: &[u8]| {
                let _ = w.write_now(t, bytes);
            })
        });
        Box::new(DryIo::recording(record))
    } else {
        match RawIo::new(None) {
            Ok(io) => Box::new(io.with_pcap(pcap)),
            Err(e) => {
                let _ = writeln!(err, "tcpcraft handshake: {e}");
                return SYSTEM;
            }
        }
    };
    let guard = if args.no_rst_guard || dry_run {
        None
    } else {
        match guard::shared() {
            Ok((g, _)) => Some(g),
            Err(e) => {
                let _ = writeln!(err, "tcpcraft handshake: {e}");
                return SYSTEM;
            }
        }
    };
    let opts = HandshakeOptions {
        data,
        close: args.close,
        timeout: Duration::from_secs_f64(args.timeout),
        retries: args.retries,
        session: SessionOptions {
            sport: args.sport,
            isn: args.isn,
            // A dry run shows the SYN with the source address the route chooses.
            src: if dry_run {
                crate::net::route::dry_run_source(dst)
            } else {
                None
            },
            guard,
            dry_run,
            ..SessionOptions::default()
        },
        ..HandshakeOptions::default()
    };
    let sink: crate::session::Sink = std::sync::Arc::new(move |line: &str| {
        let line = match line.strip_prefix("> ") {
            Some(rest) if dry_run => format!("would send: {rest}"),
            _ => line.to_string(),
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    });
    let outcome = match handshake::run(io, dst, port, opts, sink) {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(err, "tcpcraft handshake: {e}");
            return status(&e);
        }
    };
    let mut out = std::io::stdout().lock();
    if dry_run {
        let _ = writeln!(
            out,
            "dry run: nothing is received, so the exchange stops after the SYN"
        );
        return OK;
    }
    if args.data.is_some() {
        let _ = writeln!(
            out,
            "answer ({} bytes):\n{}",
            outcome.answer.len(),
            String::from_utf8_lossy(&outcome.answer).trim_end()
        );
    }
    let ascii = args.ascii || !std::io::stdout().is_terminal();
    let _ = writeln!(out, "\n{}", outcome.session.ladder(args.absolute, ascii));
    if let Some(path) = &args.svg {
        if let Err(e) = crate::userfile::write(
            path,
            outcome.session.ladder_svg(args.absolute, args.by_time),
        ) {
            let _ = writeln!(err, "tcpcraft handshake: writing {}: {e}", path.display());
            return SYSTEM;
        }
    }
    match outcome.result {
        Ok(()) => OK,
        Err(e) => {
            let _ = writeln!(err, "tcpcraft handshake: {e}");
            status(&e)
        }
    }
}

fn status(e: &SessionError) -> u8 {
    match e {
        SessionError::Timeout(_) | SessionError::Mismatch(_) => FAILED,
        SessionError::Usage(_) => USAGE,
        SessionError::Io(_) => SYSTEM,
        SessionError::Interrupted => SIGINT,
    }
}

/// `--sport`: a port number a person can read the error of.
fn port_arg(s: &str) -> Result<u16, String> {
    s.parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| "expected a port number in 1..=65535".to_string())
}

/// `--timeout`: seconds, more than 0 and less than an hour.
fn seconds_arg(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 3600.0 => Ok(v),
        _ => Err("expected seconds, more than 0 and less than 3600 (like 2 or 0.5)".into()),
    }
}

/// `HOST:PORT` or `[V6]:PORT` to an address, preferring IPv4 unless `v6`.
fn resolve(target: &str, v6: bool) -> Result<(IpAddr, u16), String> {
    let (host, port) = match target.strip_prefix('[') {
        Some(rest) => rest
            .split_once("]:")
            .ok_or_else(|| format!("{target:?}: expected [IPV6]:PORT"))?,
        None => target
            .rsplit_once(':')
            .ok_or_else(|| format!("{target:?}: expected HOST:PORT"))?,
    };
    if host.contains(':') && !target.starts_with('[') {
        return Err(format!(
            "{target:?}: write an IPv6 address in brackets, as [ADDRESS]:PORT"
        ));
    }
    let port: u16 = port.parse().ok().filter(|p| *p != 0).ok_or_else(|| {
        format!("{target:?}: the port must be a number in 1..=65535, not {port:?}")
    })?;
    if let Ok(ip) = host.parse::<IpAddr>() {
        if v6 && ip.is_ipv4() {
            return Err(format!(
                "-6 asks for IPv6, but {host} is an IPv4 address: give an IPv6 address ([ADDRESS]:PORT) or leave out -6"
            ));
        }
        return Ok((ip, port));
    }
    // Something shaped like an address that does not parse is a typo, not a host name.
    let looks_numeric = host.chars().all(|c| c.is_ascii_digit() || c == '.');
    if looks_numeric || target.starts_with('[') {
        let kind = if target.starts_with('[') {
            "IPv6"
        } else {
            "IPv4"
        };
        return Err(format!("{host:?} is not an {kind} address"));
    }
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| {
            format!("{host:?} is not an IP address and does not resolve as a host name ({e})")
        })?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv6() == v6)
        .or_else(|| if v6 { None } else { addrs.first() })
        .map(|a| (a.ip(), port))
        .ok_or_else(|| {
            if v6 {
                format!("{host}: no IPv6 address (-6)")
            } else {
                format!("{host}: no address")
            }
        })
}

/// `\r`, `\n`, `\t`, `\\` and `\xNN` in `--data`, as shells pass them literally.
fn unescape(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'\\') => out.push(b'\\'),
            Some(b'x') => {
                let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                let v = std::str::from_utf8(&hex)
                    .ok()
                    .filter(|h| h.len() == 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| "\\x needs two hex digits".to_string())?;
                out.push(v);
            }
            Some(c) => return Err(format!("unknown escape \\{}", char::from(c))),
            None => return Err("a lone \\ at the end".to_string()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            resolve("198.18.0.2:80", false),
            Ok(("198.18.0.2".parse().expect("ip"), 80))
        );
        assert_eq!(
            resolve("[2001:db8:198:18::2]:7", false),
            Ok(("2001:db8:198:18::2".parse().expect("ip"), 7))
        );
        assert_eq!(
            resolve("127.0.0.1:0", false),
            Err("\"127.0.0.1:0\": the port must be a number in 1..=65535, not \"0\"".into())
        );
        assert!(resolve("198.18.0.2", false).is_err());
        assert!(resolve("[::1]7", false).is_err());
    }

    #[test]
    fn data_escapes() {
        assert_eq!(
            unescape(r"GET / HTTP/1.0\r\n\r\n").as_deref(),
            Ok(&b"GET / HTTP/1.0\r\n\r\n"[..])
        );
        assert_eq!(unescape(r"\x00\\a").as_deref(), Ok(&b"\x00\\a"[..]));
        assert!(unescape(r"\q").is_err());
        assert!(unescape(r"\x4").is_err());
        assert!(unescape("\\").is_err());
    }
}
