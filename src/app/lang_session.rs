//! Sessions in the language: `session(dst, dport, …)` and `listen(port, …)` return a
//! value whose methods (`s.send`, `s.expect`, `s.recv`, `s.ladder`) and attributes
//! (`s.state`, `s.snd_nxt`, …) drive a [`Session`].
//!
//! Every step's lines go to the interpreter's output (none with `-q`). With
//! `--dry-run` nothing is sent or installed: a sent segment prints as
//! `would send: …` (as `send()` does), the state machine follows our own segments,
//! and `expect`/`recv` return none at once after saying what they would wait for.

use std::cell::RefCell;
use std::io::{IsTerminal, Write as _};
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::lang::error::{error, ErrorKind, Result, Span};
use crate::lang::net::interrupted;
use crate::lang::packets::{conv_flags, conv_options, to_bytes};
use crate::lang::{Args, Interp, Object, Value};
use crate::net::guard;
use crate::net::segio::RawIo;
use crate::packet::TcpOption;
use crate::pcap::SharedWriter;
use crate::session::mock::DryIo;
use crate::session::state::{Dir, Expectation, OptPat, SegOptions};
use crate::session::{
    ExpectOptions, SegmentIo, SendRequest, Session, SessionError, SessionOptions,
};

/// What the program hands the session builtins when it wires them (no process-wide
/// state): where `--pcap` goes and whether to guard against the kernel's RSTs.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The `--pcap` writer the engine writes too.
    pub pcap: Option<SharedWriter>,
    /// `--no-rst-guard`: do not keep the kernel from answering hand-driven connections.
    pub no_rst_guard: bool,
}

/// Adds `session()` and `listen()` to an interpreter.
pub fn install(it: &mut Interp, ctx: Context) {
    let ctx = Rc::new(ctx);
    let c = ctx.clone();
    it.register(
        "session",
        "session(dst, dport, sport=, isn=, window=, options=, ttl=, src=, keep_open=, relative=): drive a TCP connection by hand",
        move |it, a| open_session(it, a, &c),
    );
    it.register(
        "listen",
        "listen(port, timeout=, isn=, window=, options=, ttl=, keep_open=, relative=): wait for a SYN and answer it by hand",
        move |it, a| open_listener(it, a, &ctx),
    );
}

/// Help lines of the session methods (`help(s.send)`, the REPL's hints).
pub const METHOD_HELP: [(&str, &str); 5] = [
    (
        "send",
        "s.send(flags, data=, seq=, ack=, window=, rwnd=, options=): send one segment; unset fields come from the session",
    ),
    (
        "expect",
        "s.expect(flags, timeout=2, seq=, ack=, data=, len=, window=, options=, exact=, after=, before=, retry=, strict=): wait for the events the flags name (S SYN, A an acknowledgement, P data, F FIN, R RST)",
    ),
    (
        "expect_none",
        "s.expect_none(timeout): pass when nothing (no SYN, ACK, data, FIN or RST) arrives for timeout seconds",
    ),
    (
        "recv",
        "s.recv(timeout=2): the next segment no expect has taken, unchecked; none if nothing comes",
    ),
    (
        "ladder",
        "s.ladder(absolute=, ascii=, file=): the exchange as a ladder diagram (file=x.svg: SVG)",
    ),
];

/// A session as a script value.
struct Handle {
    session: RefCell<Session>,
    /// Step lines waiting to be written to the interpreter's output (a dry run, or
    /// where no live printer is set); live sessions print as segments arrive.
    lines: Arc<Mutex<Vec<String>>>,
    dry_run: bool,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

fn err(span: Span, e: SessionError) -> crate::lang::Error {
    let kind = match e {
        SessionError::Timeout(m) | SessionError::Mismatch(m) => ErrorKind::Expectation(m),
        SessionError::Io(m) => ErrorKind::System(m),
        SessionError::Usage(m) => ErrorKind::Value(m),
        SessionError::Interrupted => ErrorKind::Interrupted,
    };
    error(span, kind)
}

/// Writes the pending step lines to the interpreter's output.
fn flush(it: &mut Interp, lines: &Mutex<Vec<String>>) {
    let pending = std::mem::take(&mut *lines.lock().unwrap_or_else(|e| e.into_inner()));
    if it.opts.quiet {
        return;
    }
    for l in pending {
        let _ = writeln!(it.out, "{l}");
    }
}

fn int_in(a: &mut Args, i: usize, name: &str, max: i64) -> Result<Option<i64>> {
    match a.int(i, name)? {
        Some(v) if !(0..=max).contains(&v) => Err(error(
            a.kw_span(name).unwrap_or(a.span),
            ErrorKind::Value(format!("{}(): `{name}` must be 0..={max}, got {v}", a.name)),
        )),
        v => Ok(v),
    }
}

/// A sequence number: any integer, taken modulo 2^32 (as `seq=` fields are).
fn seq_arg(a: &mut Args, name: &str) -> Result<Option<u32>> {
    Ok(a.int(usize::MAX, name)?
        .map(|n| n.rem_euclid(1 << 32) as u32))
}

/// A `name=true|false` keyword argument.
fn bool_kw(a: &mut Args, name: &str) -> Result<Option<bool>> {
    match a.kw(name) {
        None | Some(Value::None) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(v) => Err(error(
            a.kw_span(name).unwrap_or(a.span),
            ErrorKind::Value(format!(
                "{}(): `{name}` must be true or false, not {}",
                a.name,
                v.type_name()
            )),
        )),
    }
}

/// `options=` of an expectation: options, and option patterns with `any` values.
fn option_patterns(it: &mut Interp, a: &mut Args) -> Result<Option<Vec<OptPat>>> {
    let Some(v) = a.kw("options") else {
        return Ok(None);
    };
    let items = match &v {
        Value::List(l) => l.borrow().clone(),
        Value::None => return Ok(None),
        other => vec![other.clone()],
    };
    let mut out = Vec::new();
    for item in items {
        match &item {
            Value::TcpOpt(o) => out.push(OptPat::exact((**o).clone())),
            Value::Handle(h) if h.type_name() == "option pattern" => {
                let opt = h.get(it, "option").and_then(|r| r.ok());
                let wild = h.get(it, "wild").and_then(|r| r.ok());
                let (Some(Value::TcpOpt(o)), Some(Value::List(w))) = (opt, wild) else {
                    continue;
                };
                let w = w.borrow();
                let flag = |i: usize| matches!(w.get(i), Some(Value::Bool(true)));
                out.push(OptPat {
                    opt: (*o).clone(),
                    wild: [flag(0), flag(1)],
                });
            }
            other => {
                return Err(a.err(format!(
                    "expect(): options are made with mss(), wscale(), sackok(), sack(), ts(), nop(), eol(), opt() (any for a value); got a {}",
                    other.type_name()
                )))
            }
        }
    }
    Ok(Some(out))
}

fn options_arg(a: &mut Args, name: &str) -> Result<Option<Vec<TcpOption>>> {
    match a.kw(name) {
        None => Ok(None),
        Some(v) => conv_options(&v).map(Some).map_err(|k| error(a.span, k)),
    }
}

fn timeout_arg(a: &mut Args, i: usize, default: f64) -> Result<Duration> {
    let t = a.float(i, "timeout")?.unwrap_or(default);
    if !(t.is_finite() && (0.0..=86_400.0).contains(&t)) {
        return Err(error(
            a.span,
            ErrorKind::Value(format!("{}(): timeout must be 0..=86400 seconds", a.name)),
        ));
    }
    Ok(Duration::from_secs_f64(t))
}

/// Options shared by `session()` and `listen()`; the transport for this run.
fn common(
    it: &mut Interp,
    a: &mut Args,
    ctx: &Context,
) -> Result<(SessionOptions, Box<dyn SegmentIo>, bool)> {
    let dry_run = it.net.is_dry_run();
    let mut opts = SessionOptions {
        isn: seq_arg(a, "isn")?,
        window: int_in(a, usize::MAX, "window", 65535)?.map(|w| w as u16),
        options: options_arg(a, "options")?,
        ttl: int_in(a, usize::MAX, "ttl", 255)?.map(|t| t as u8),
        keep_open: bool_kw(a, "keep_open")?.unwrap_or(false),
        relative: bool_kw(a, "relative")?.unwrap_or(false),
        dry_run,
        ..SessionOptions::default()
    };
    if let Some(src) = a.string(usize::MAX, "src")? {
        opts.src = Some(src.parse::<IpAddr>().map_err(|_| {
            error(
                a.span,
                ErrorKind::Value(format!("src {src:?} is not an IP address")),
            )
        })?);
    }
    if dry_run {
        let record = it
            .net
            .pcap_log()
            .map(|log| -> crate::session::mock::DryRecord {
                Box::new(move |t, bytes: &[u8]| log.borrow_mut().push((t, bytes.to_vec())))
            });
        return Ok((opts, Box::new(DryIo::recording(record)), true));
    }
    let io = RawIo::new(None)
        .map_err(|e| err(a.span, e.into()))?
        .with_pcap(ctx.pcap.clone());
    if !ctx.no_rst_guard {
        let (g, _) =
            guard::shared().map_err(|e| error(a.span, ErrorKind::System(e.to_string())))?;
        opts.guard = Some(g);
    }
    Ok((opts, Box::new(io), false))
}

/// The sink every session writes its lines into. A live session prints each line at
/// once through the interpreter's live printer (the REPL's external printer, above
/// the prompt; standard output in a script), from whichever thread made it. A dry run
/// names sends as `send()` does and leaves out the warnings and the peer's inferred
/// changes: with nothing received they would only say that no answer came.
fn sink(it: &Interp, lines: &Arc<Mutex<Vec<String>>>, dry_run: bool) -> crate::session::Sink {
    if !dry_run {
        if it.opts.quiet {
            return Arc::new(|_: &str| {});
        }
        return it.live_printer();
    }
    let l = lines.clone();
    Arc::new(move |s: &str| {
        let line = match (dry_run, s.strip_prefix("> ")) {
            (true, Some(rest)) => format!("would send: {rest}"),
            (true, None)
                if s.starts_with("  warning:")
                    || s.starts_with("  note:")
                    || s.starts_with("  peer:") =>
            {
                return
            }
            _ => s.to_string(),
        };
        l.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    })
}

fn wrap(
    it: &mut Interp,
    mut session: Session,
    lines: Arc<Mutex<Vec<String>>>,
    dry_run: bool,
) -> Value {
    session.set_cancel(Box::new(interrupted));
    if !dry_run {
        if let Some(view) = crate::session::kernel::lab_view() {
            session.set_kernel(view);
        }
        if let Some(timers) = crate::session::kernel::lab_timers() {
            session.set_peer_timers(timers);
        }
    }
    flush(it, &lines);
    let handle = Rc::new(Handle {
        session: RefCell::new(session),
        lines,
        dry_run,
    });
    HANDLES.with(|hs| {
        let mut hs = hs.borrow_mut();
        hs.retain(|w| w.strong_count() > 0);
        hs.push(Rc::downgrade(&handle));
    });
    Value::Handle(handle)
}

thread_local! {
    /// Every session value made on this thread (weakly), so that [`with_session`] can
    /// reach the [`Session`] behind a value without a downcast.
    static HANDLES: RefCell<Vec<std::rc::Weak<Handle>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on the [`Session`] behind a `session` value (lessons check what happened
/// on the wire through it, not through the text typed). `None` for any other value.
/// The second value is the session's creation order (higher: made later).
pub fn with_session<R>(v: &Value, f: impl FnOnce(&Session, usize) -> R) -> Option<R> {
    let Value::Handle(h) = v else {
        return None;
    };
    let ptr = Rc::as_ptr(h) as *const u8;
    let found = HANDLES.with(|hs| {
        hs.borrow().iter().enumerate().find_map(|(i, w)| {
            w.upgrade()
                .filter(|x| Rc::as_ptr(x) as *const u8 == ptr)
                .map(|x| (x, i))
        })
    });
    let (handle, order) = found?;
    let s = handle.session.try_borrow().ok()?;
    Some(f(&s, order))
}

fn open_session(it: &mut Interp, a: &mut Args, ctx: &Context) -> Result<Value> {
    let dst_text = match a.require(0, "dst")? {
        Value::Str(s) => s.to_string(),
        v => {
            return Err(a.err(format!(
                "session(): dst must be an address string, not {}",
                v.type_name()
            )))
        }
    };
    let dst: IpAddr = dst_text.parse().map_err(|_| {
        error(
            a.span_of(0),
            ErrorKind::Value(format!("session(): {dst_text:?} is not an IP address")),
        )
    })?;
    let dport = int_in(a, 1, "dport", 65535)?.ok_or_else(|| {
        error(
            a.span,
            ErrorKind::Arguments("session() needs the argument `dport`".into()),
        )
    })?;
    let sport = int_in(a, usize::MAX, "sport", 65535)?;
    let (mut opts, io, dry_run) = common(it, a, ctx)?;
    opts.sport = sport.map(|p| p as u16);
    if dry_run && opts.src.is_none() {
        // Shown as it would leave: with the source address the route chooses.
        opts.src = it.net.route_source(dst);
    }
    a.finish(2)?;
    let lines = Arc::new(Mutex::new(Vec::new()));
    let s = Session::connect(io, dst, dport as u16, opts, sink(it, &lines, dry_run))
        .map_err(|e| err(a.span, e))?;
    Ok(wrap(it, s, lines, dry_run))
}

fn open_listener(it: &mut Interp, a: &mut Args, ctx: &Context) -> Result<Value> {
    let port = int_in(a, 0, "port", 65535)?.ok_or_else(|| {
        error(
            a.span,
            ErrorKind::Arguments("listen() needs the argument `port`".into()),
        )
    })?;
    let timeout = timeout_arg(a, 1, 30.0)?;
    let (opts, io, dry_run) = common(it, a, ctx)?;
    a.finish(2)?;
    let lines = Arc::new(Mutex::new(Vec::new()));
    // A dry run cannot wait for a SYN: the listener is returned still listening.
    let wait = if dry_run { Duration::ZERO } else { timeout };
    let result = Session::listen(
        io,
        port as u16,
        Duration::ZERO,
        opts,
        sink(it, &lines, dry_run),
    );
    flush(it, &lines);
    let mut s = result.map_err(|e| err(a.span, e))?;
    if !wait.is_zero() {
        s.set_cancel(Box::new(interrupted));
        let r = s.wait_peer(wait);
        flush(it, &lines);
        r.map_err(|e| err(a.span, e))?;
    }
    Ok(wrap(it, s, lines, dry_run))
}

impl Handle {
    fn send(&self, it: &mut Interp, a: &mut Args) -> Result<Value> {
        let flags = conv_flags(&a.require(0, "flags")?).map_err(|k| error(a.span_of(0), k))?;
        let data = match a.kw("data") {
            None | Some(Value::None) => Vec::new(),
            Some(v) => to_bytes(&v).ok_or_else(|| {
                a.err(format!(
                    "send(): data must be a string or bytes, not {}",
                    v.type_name()
                ))
            })?,
        };
        let req = SendRequest {
            flags,
            data,
            seq: seq_arg(a, "seq")?,
            ack: seq_arg(a, "ack")?,
            window: int_in(a, usize::MAX, "window", 65535)?.map(|w| w as u16),
            rwnd: int_in(a, usize::MAX, "rwnd", i64::from(u32::MAX))?.map(|w| w as u32),
            options: options_arg(a, "options")?,
        };
        a.finish(1)?;
        if self.dry_run && self.session.borrow().remote().is_none() {
            self.lines
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!(
                    "would send {flags} to the listener's peer (dry run: no SYN was received)"
                ));
            flush(it, &self.lines);
            return Ok(Value::None);
        }
        let result = self.session.borrow_mut().send(req);
        flush(it, &self.lines);
        result.map_err(|e| err(a.span, e))?;
        // The segment was just printed as a step; returning it too would print it twice at
        // the prompt (scapy's send() returns None as well). `s.history` keeps every segment.
        Ok(Value::None)
    }

    fn expect(&self, it: &mut Interp, a: &mut Args) -> Result<Value> {
        let flags = match a.get(0, "flags") {
            None | Some(Value::None) => None,
            Some(v) => Some(conv_flags(&v).map_err(|k| error(a.span_of(0), k))?),
        };
        let data = match a.kw("data") {
            None | Some(Value::None) => None,
            Some(v) => Some(to_bytes(&v).ok_or_else(|| {
                a.err(format!(
                    "expect(): data must be a string or bytes, not {}",
                    v.type_name()
                ))
            })?),
        };
        let seconds_kw = |a: &mut Args, name: &str| -> Result<Option<Duration>> {
            match a.float(usize::MAX, name)? {
                None => Ok(None),
                Some(t) if t.is_finite() && (0.0..=86_400.0).contains(&t) => {
                    Ok(Some(Duration::from_secs_f64(t)))
                }
                Some(_) => Err(a.err(format!("expect(): {name} must be 0..=86400 seconds"))),
            }
        };
        let exp = Expectation {
            flags,
            seq: seq_arg(a, "seq")?,
            ack: seq_arg(a, "ack")?,
            data,
            window: int_in(a, usize::MAX, "window", 65535)?.map(|w| w as u16),
            options: option_patterns(it, a)?,
            exact: bool_kw(a, "exact")?.unwrap_or(false),
            len: int_in(a, usize::MAX, "len", 1 << 30)?.map(|n| n as usize),
            after: seconds_kw(a, "after")?,
            before: seconds_kw(a, "before")?,
        };
        let timeout = timeout_arg(a, 1, 2.0)?;
        // retry=N: send our last segment again when nothing comes, up to N times.
        let retry = int_in(a, usize::MAX, "retry", 100)?.unwrap_or(0) as u32;
        // strict=true: exactly the next segment, flags and all (packetdrill's rule).
        let strict = bool_kw(a, "strict")?.unwrap_or(false);
        a.finish(2)?;
        if self.dry_run {
            let what = flags.map_or_else(|| "a segment".to_string(), |f| f.to_string());
            self.lines
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!(
                    "would expect {what} (dry run: nothing is received)"
                ));
            flush(it, &self.lines);
            return Ok(Value::None);
        }
        let result = self.session.borrow_mut().expect_with(
            &exp,
            ExpectOptions {
                timeout,
                retry,
                strict,
            },
        );
        flush(it, &self.lines);
        let got = result.map_err(|e| err(a.span, e))?;
        Ok(Value::packet(got.packet))
    }

    fn expect_none(&self, it: &mut Interp, a: &mut Args) -> Result<Value> {
        let timeout = timeout_arg(a, 0, 1.0)?;
        a.finish(1)?;
        if self.dry_run {
            return Ok(Value::None);
        }
        let result = self.session.borrow_mut().expect_none(timeout);
        flush(it, &self.lines);
        result.map_err(|e| err(a.span, e))?;
        Ok(Value::None)
    }

    fn recv(&self, it: &mut Interp, a: &mut Args) -> Result<Value> {
        let timeout = timeout_arg(a, 0, 2.0)?;
        a.finish(1)?;
        if self.dry_run {
            self.lines
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push("would receive (dry run: nothing is received)".to_string());
            flush(it, &self.lines);
            return Ok(Value::None);
        }
        let result = self.session.borrow_mut().recv(timeout);
        flush(it, &self.lines);
        match result.map_err(|e| err(a.span, e))? {
            Some(got) => Ok(Value::packet(got.packet)),
            None => Ok(Value::None),
        }
    }

    fn ladder(&self, a: &mut Args) -> Result<Value> {
        let absolute = matches!(a.kw("absolute"), Some(Value::Bool(true)));
        let ascii = match a.kw("ascii") {
            Some(Value::Bool(b)) => b,
            _ => !std::io::stdout().is_terminal(),
        };
        let file = a.string(usize::MAX, "file")?;
        // times=false leaves out the time column; by_time=true spaces an SVG by time.
        let times = bool_kw(a, "times")?.unwrap_or(true);
        let by_time = bool_kw(a, "by_time")?.unwrap_or(false);
        a.finish(0)?;
        let s = self.session.borrow();
        let mut opts = s.ladder_options(absolute, ascii);
        // A dry run times nothing.
        opts.times = times && !self.dry_run;
        opts.by_time = by_time;
        // A dry run's warnings only say that no answer came.
        opts.warnings = !self.dry_run;
        let machine = s.machine();
        let machine = &machine;
        match file {
            Some(path) => {
                let text = if path.ends_with(".svg") {
                    crate::session::ladder::svg(machine, &opts)
                } else {
                    crate::session::ladder::text(machine, &opts)
                };
                crate::userfile::write(std::path::Path::new(&path), text)
                    .map_err(|e| error(a.span, ErrorKind::Io(format!("writing {path}: {e}"))))?;
                Ok(Value::None)
            }
            None => Ok(Value::str(
                crate::session::ladder::text(machine, &opts).trim_end(),
            )),
        }
    }

    /// `s.pending`: the received segments no `expect` has taken yet.
    fn pending(&self) -> Value {
        let s = self.session.borrow();
        Value::list(
            s.pending()
                .into_iter()
                .map(|(p, _)| Value::packet(p))
                .collect(),
        )
    }

    fn history(&self) -> Value {
        let s = self.session.borrow();
        let history = s.history();
        let epoch = history.first().map(|h| h.at);
        let items = history
            .iter()
            .zip(s.packets())
            .map(|(h, p)| {
                let texts = |v: &[String]| Value::list(v.iter().map(|t| Value::str(t)).collect());
                Value::dict(vec![
                    (
                        "dir",
                        Value::str(match h.dir {
                            Dir::Sent => "sent",
                            Dir::Received => "received",
                        }),
                    ),
                    ("packet", Value::packet(p.clone())),
                    (
                        "time",
                        Value::Float(
                            epoch.map_or(0.0, |e| h.at.saturating_duration_since(e).as_secs_f64()),
                        ),
                    ),
                    ("state", Value::str(h.us.name())),
                    ("peer_state", Value::str(h.peer.name())),
                    ("warnings", texts(&h.warnings)),
                    ("notes", texts(&h.notes)),
                    ("kernel_state", h.kernel.map_or(Value::None, Value::str)),
                ])
            })
            .collect();
        Value::list(items)
    }
}

fn options_value(o: SegOptions) -> Value {
    let mut v = Vec::new();
    if let Some(m) = o.mss {
        v.push(TcpOption::Mss(m));
    }
    if o.sackok {
        v.push(TcpOption::SackOk);
    }
    if let Some((a, b)) = o.ts {
        v.push(TcpOption::Timestamp(a, b));
    }
    if let Some(w) = o.wscale {
        v.push(TcpOption::Wscale(w));
    }
    Value::list(v.into_iter().map(|o| Value::TcpOpt(Rc::new(o))).collect())
}

const NAMES: [&str; 21] = [
    "tsval",
    "peer_tsval",
    "send",
    "expect",
    "expect_none",
    "recv",
    "ladder",
    "pending",
    "state",
    "peer_state",
    "snd_nxt",
    "snd_una",
    "rcv_nxt",
    "isn",
    "peer_isn",
    "peer_options",
    "history",
    "sport",
    "dport",
    "dst",
    "src",
];

impl Object for Handle {
    fn type_name(&self) -> &'static str {
        "session"
    }

    fn display(&self) -> String {
        let s = self.session.borrow();
        let peer = s
            .remote()
            .map_or_else(|| "(no peer yet)".to_string(), |(a, p)| format!("{a}.{p}"));
        format!(
            "<session port {} → {peer} {}, peer {}>",
            s.local_port(),
            s.state(),
            s.peer_state()
        )
    }

    fn get(&self, _it: &mut Interp, name: &str) -> Option<Result<Value>> {
        let s = self.session.borrow();
        let int = |v: u32| Value::Int(i64::from(v));
        let v = match name {
            "state" => Value::str(s.state().name()),
            "peer_state" => Value::str(s.peer_state().name()),
            "snd_nxt" => int(s.snd_nxt()),
            "snd_una" => int(s.snd_una()),
            "rcv_nxt" => int(s.rcv_nxt()),
            "isn" => int(s.isn()),
            "peer_isn" => s.peer_isn().map_or(Value::None, int),
            "tsval" => int(s.tsval()),
            "peer_tsval" => s.peer_tsval().map_or(Value::None, int),
            "peer_options" => options_value(s.peer_options()),
            "sport" => Value::Int(i64::from(s.local_port())),
            "dport" => s
                .remote()
                .map_or(Value::None, |(_, p)| Value::Int(i64::from(p))),
            "dst" => s
                .remote()
                .map_or(Value::None, |(a, _)| Value::str(&a.to_string())),
            "src" => s
                .packets()
                .iter()
                .find_map(|p| p.addrs())
                .and_then(|(src, dst)| {
                    // Ours is the source of what we sent, the destination of what came.
                    let first_sent = s.history().first().map(|h| h.dir == Dir::Sent);
                    if first_sent == Some(true) {
                        src
                    } else {
                        Some(dst)
                    }
                })
                .map_or(Value::None, |a| Value::str(&a.to_string())),
            "history" => {
                drop(s);
                return Some(Ok(self.history()));
            }
            "pending" => {
                drop(s);
                return Some(Ok(self.pending()));
            }
            _ => return None,
        };
        Some(Ok(v))
    }

    fn call(&self, it: &mut Interp, method: &str, a: &mut Args) -> Option<Result<Value>> {
        Some(match method {
            "send" => self.send(it, a),
            "expect" => self.expect(it, a),
            "recv" => self.recv(it, a),
            "expect_none" => self.expect_none(it, a),
            "ladder" => self.ladder(a),
            _ => return None,
        })
    }

    fn names(&self) -> Vec<&'static str> {
        NAMES.to_vec()
    }

    fn help(&self, name: &str) -> Option<String> {
        if name.is_empty() {
            return Some(
                "a TCP connection driven by hand: send segments, expect the peer's; help(s.send) shows one method"
                    .into(),
            );
        }
        METHOD_HELP
            .iter()
            .find(|(m, _)| *m == name)
            .map(|(_, h)| h.to_string())
    }
}
