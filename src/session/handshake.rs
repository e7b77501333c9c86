//! `tcpcraft handshake HOST:PORT`: one whole connection driven segment by segment —
//! the three-way handshake, optionally a request and its answer, and the teardown
//! (active, passive or a RST) — over any [`SegmentIo`]. The command line builds the
//! transport and prints the ladder of the returned session.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::state::{Expectation, State};
use super::{SegmentIo, SendRequest, Session, SessionError, SessionOptions, Sink};
use crate::packet::TcpFlags;

/// How the connection ends (`--close`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Close {
    /// We send the first FIN: FIN →, ← ACK, ← FIN, ACK →; we end in TIME_WAIT.
    #[default]
    Active,
    /// We wait for the peer's FIN, acknowledge it, then send ours; we end CLOSED.
    Passive,
    /// We abort with a RST.
    Rst,
}

impl std::str::FromStr for Close {
    type Err = String;
    fn from_str(s: &str) -> Result<Close, String> {
        match s {
            "active" => Ok(Close::Active),
            "passive" => Ok(Close::Passive),
            "rst" => Ok(Close::Rst),
            _ => Err(format!("--close {s:?}: expected active, passive or rst")),
        }
    }
}

/// What to do besides the handshake.
#[derive(Clone, Debug)]
pub struct HandshakeOptions {
    /// Sent after the handshake (`--data`).
    pub data: Option<Vec<u8>>,
    pub close: Close,
    /// How long to wait for each answer.
    pub timeout: Duration,
    /// After the request, the answer is over when nothing comes for this long.
    pub quiet: Duration,
    /// When an answer does not come in `timeout`, send our last segment again up to
    /// this many times (`--retries`, for lossy paths).
    pub retries: u32,
    pub session: SessionOptions,
}

impl Default for HandshakeOptions {
    fn default() -> Self {
        HandshakeOptions {
            data: None,
            close: Close::Active,
            timeout: Duration::from_secs(2),
            quiet: Duration::from_millis(500),
            retries: 0,
            session: SessionOptions::default(),
        }
    }
}

/// The connection as it went: the session (for its ladder and history), the bytes
/// the peer sent, and whether every answer came as expected.
pub struct Outcome {
    pub session: Session,
    pub answer: Vec<u8>,
    pub result: Result<(), SessionError>,
}

/// Runs the whole exchange. Only opening the session can fail outright; once it is
/// open, a missing or unexpected answer ends the exchange and is reported in
/// [`Outcome::result`], with the session as far as it got.
pub fn run(
    io: Box<dyn SegmentIo>,
    dst: IpAddr,
    port: u16,
    opts: HandshakeOptions,
    sink: Sink,
) -> Result<Outcome, SessionError> {
    let mut session = Session::connect(io, dst, port, opts.session.clone(), sink)?;
    // Ctrl-C, SIGTERM and SIGHUP end a wait (main installs the handler).
    session.set_cancel(Box::new(crate::cancel::interrupted));
    let mut out = Outcome {
        session,
        answer: Vec::new(),
        result: Ok(()),
    };
    out.result = drive(&mut out.session, &mut out.answer, &opts);
    if out.result.is_err() {
        // A failed exchange leaves nothing open on the peer.
        out.session.reset_if_open("the exchange failed");
    }
    Ok(out)
}

fn flags(f: &str) -> TcpFlags {
    TcpFlags::parse(f).unwrap_or_default()
}

fn send(s: &mut Session, f: &str) -> Result<(), SessionError> {
    s.send(SendRequest::flags(flags(f))).map(|_| ())
}

fn drive(
    s: &mut Session,
    answer: &mut Vec<u8>,
    opts: &HandshakeOptions,
) -> Result<(), SessionError> {
    send(s, "S")?;
    let isn = s.isn();
    s.expect_retry(
        &Expectation {
            flags: Some(flags("SA")),
            ack: Some(isn.wrapping_add(1)),
            ..Expectation::default()
        },
        opts.timeout,
        opts.retries,
    )?;
    send(s, "A")?;
    if let Some(data) = &opts.data {
        s.send(SendRequest {
            data: data.clone(),
            ..SendRequest::flags(flags("PA"))
        })?;
        // The answer: everything until the peer is quiet (or closes). With retries, a
        // request that got no answer at all (lost on the way) is sent again.
        let mut tries = 0;
        loop {
            let wait = if answer.is_empty() && tries < opts.retries {
                opts.timeout.max(opts.quiet)
            } else {
                opts.quiet
            };
            let Some(step) = s.recv(wait)? else {
                if answer.is_empty() && tries < opts.retries && s.state() == State::Established {
                    tries += 1;
                    s.resend(tries, opts.retries)?;
                    continue;
                }
                break;
            };
            if step.step.seg.flags.contains(TcpFlags::RST) {
                return Err(reset_error("the answer", s));
            }
            answer.extend_from_slice(&step.data);
            let fin = step.step.seg.flags.contains(TcpFlags::FIN);
            if (!step.data.is_empty() || fin) && s.ack_owed() {
                send(s, "A")?;
            }
            // Live sessions take segments as they come: the state may say CLOSE_WAIT
            // before the data that came ahead of the FIN was read here.
            if fin && s.state() == State::CloseWait {
                break;
            }
        }
    }
    if s.state() == State::Closed {
        // The peer reset the connection meanwhile: nothing is left to close.
        return Err(reset_error("the close", s));
    }
    match opts.close {
        Close::Rst => send(s, "R"),
        Close::Active if s.state() == State::CloseWait => last_ack(s, answer, opts),
        Close::Active => {
            send(s, "FA")?;
            receive_until(s, answer, opts, State::TimeWait, "the peer's FIN")?;
            Ok(())
        }
        Close::Passive => {
            if s.state() != State::CloseWait {
                receive_until(s, answer, opts, State::CloseWait, "the peer's FIN")?;
            }
            last_ack(s, answer, opts)
        }
    }
}

/// The peer reset the connection while we waited for `what`.
fn reset_error(what: &str, s: &Session) -> SessionError {
    SessionError::Mismatch(format!(
        "the peer reset the connection before {what} (we are in {})",
        s.state()
    ))
}

/// In CLOSE_WAIT (the peer's FIN already acknowledged): our FIN, then its ACK.
fn last_ack(
    s: &mut Session,
    answer: &mut Vec<u8>,
    opts: &HandshakeOptions,
) -> Result<(), SessionError> {
    send(s, "FA")?;
    receive_until(s, answer, opts, State::Closed, "the ACK of our FIN")
}

/// Receives (acknowledging data and FINs) until our state is `want`.
fn receive_until(
    s: &mut Session,
    answer: &mut Vec<u8>,
    opts: &HandshakeOptions,
    want: State,
    what: &str,
) -> Result<(), SessionError> {
    let mut deadline = Instant::now() + opts.timeout;
    let mut tries = 0;
    while s.state() != want || s.has_pending() {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(step) = s.recv(left)? else {
            if tries < opts.retries {
                // Our FIN (or our ACK of theirs) may have been lost: send it again.
                tries += 1;
                s.resend(tries, opts.retries)?;
                deadline = Instant::now() + opts.timeout;
                continue;
            }
            return Err(SessionError::Timeout(format!(
                "expected {what} within {} s, nothing came (we are in {})",
                opts.timeout.as_secs_f64(),
                s.state()
            )));
        };
        if step.step.seg.flags.contains(TcpFlags::RST) {
            return Err(SessionError::Mismatch(format!(
                "expected {what}, got a RST (we are in {})",
                s.state()
            )));
        }
        answer.extend_from_slice(&step.data);
        let fin = step.step.seg.flags.contains(TcpFlags::FIN);
        if (!step.data.is_empty() || fin) && s.ack_owed() {
            send(s, "A")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::mock::{closing_server, echo_server, MockIo, PEER4, US4};

    fn opts(data: Option<&str>, close: Close) -> HandshakeOptions {
        HandshakeOptions {
            data: data.map(|d| d.as_bytes().to_vec()),
            close,
            timeout: Duration::from_millis(10),
            quiet: Duration::from_millis(10),
            retries: 0,
            session: SessionOptions {
                sport: Some(61000),
                isn: Some(1000),
                ..SessionOptions::default()
            },
        }
    }

    fn run_against(
        script: crate::session::mock::Script,
        port: u16,
        o: HandshakeOptions,
    ) -> Outcome {
        let (io, _) = MockIo::new(US4, script);
        run(
            Box::new(io),
            PEER4,
            port,
            o,
            std::sync::Arc::new(|_: &str| {}),
        )
        .expect("opens")
    }

    fn states(o: &Outcome) -> Vec<State> {
        o.session.history().iter().map(|h| h.us).collect()
    }

    #[test]
    fn active_close_with_data() {
        let o = run_against(echo_server(7, 5000), 7, opts(Some("ping\n"), Close::Active));
        assert_eq!(o.result, Ok(()));
        assert_eq!(o.answer, b"ping\n");
        assert_eq!(o.session.state(), State::TimeWait);
        assert_eq!(o.session.peer_state(), State::Closed, "{:?}", states(&o));
    }

    #[test]
    fn rst_close() {
        let o = run_against(echo_server(7, 5000), 7, opts(None, Close::Rst));
        assert_eq!(o.result, Ok(()));
        assert_eq!(
            (o.session.state(), o.session.peer_state()),
            (State::Closed, State::Closed)
        );
    }

    #[test]
    fn passive_close_after_the_peer_closes() {
        let o = run_against(
            closing_server(80, 9000),
            80,
            opts(Some("GET /\r\n"), Close::Passive),
        );
        assert_eq!(o.result, Ok(()), "{:?}", states(&o));
        assert_eq!(o.answer, b"GET /\r\n");
        assert_eq!(o.session.state(), State::Closed);
        let s = states(&o);
        assert!(
            s.contains(&State::CloseWait) && s.contains(&State::LastAck),
            "{s:?}"
        );
    }

    #[test]
    fn a_closed_port_is_a_mismatch() {
        let o = run_against(echo_server(7, 5000), 8, opts(None, Close::Active));
        assert_eq!(
            o.result,
            Err(SessionError::Mismatch(
                "expected SA, got RA: the port is closed: the peer refused the connection".into()
            ))
        );
        assert_eq!(o.session.state(), State::Closed);
    }

    #[test]
    fn close_parses() {
        assert_eq!("passive".parse::<Close>(), Ok(Close::Passive));
        assert!("half".parse::<Close>().is_err());
    }
}
