//! TCP payloads tcpdump 4.99 names after `length N` without decoding them further unless
//! asked with -v: BGP, OpenFlow, RPKI-RTR, BEEP's keyword, and Redis's RESP, whose
//! strings it quotes (print-bgp.c, print-openflow.c, print-rpki-rtr.c, print-beep.c,
//! print-resp.c).

use std::fmt::Write as _;

use super::nd::{Jump, Nd, R};

/// `: BGP` (179), `: OpenFlow` (6633, 6653), `, RPKI-RTR` (323).
pub(super) fn name_only(nd: &mut Nd, what: &str) -> R {
    nd.p(what);
    Ok(())
}

/// BEEP (10288): the frame keyword, when the payload starts with one.
pub(super) fn beep_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "beep";
    let starts = |nd: &Nd, w: &[u8; 4]| length >= 4 && nd.slice(bp, 4).is_ok_and(|s| s == w);
    let word = [
        (b"MSG\0", "MSG"),
        (b"RPY ", "RPY"),
        (b"ERR ", "ERR"),
        (b"ANS ", "ANS"),
        (b"NUL ", "NUL"),
        (b"SEQ ", "SEQ"),
        (b"END\0", "END"),
    ]
    .into_iter()
    .find(|(w, _)| starts(nd, w))
    .map(|(_, n)| n);
    match word {
        Some(w) => {
            let _ = write!(nd.out, " BEEP {w}");
        }
        None => nd.p(" BEEP (payload or undecoded)"),
    }
    Ok(())
}

/// tcpdump's `fn_print_char`: `M-` for the high bit, `^X` for control characters.
pub(super) fn print_char(out: &mut String, mut c: u8) {
    if c > 0x7f {
        out.push_str("M-");
        c &= 0x7f;
    }
    if c.is_ascii_graphic() || c == b' ' {
        out.push(char::from(c));
    } else {
        out.push('^');
        out.push(char::from(c ^ 0x40));
    }
}

/// Where the CRLF ending the line at `at` is, within `end`.
fn find_crlf(nd: &Nd, at: usize, end: usize) -> R<usize> {
    let mut i = at;
    while i + 1 < end {
        if nd.u8(i)? == b'\r' && nd.u8(i + 1)? == b'\n' {
            return Ok(i);
        }
        i += 1;
    }
    Err(Jump)
}

fn quoted(nd: &mut Nd, at: usize, len: usize) -> R {
    let s = nd.slice(at, len)?;
    nd.p(" \"");
    for &c in s {
        print_char(&mut nd.out, c);
    }
    nd.p("\"");
    Ok(())
}

/// A length after `$` or `*`; one that is not a number prints ` invalid` and ends the line.
fn resp_int(nd: &mut Nd, at: usize, end: usize) -> R<(i64, usize)> {
    let e = find_crlf(nd, at, end)?;
    let text = nd.slice(at, e - at)?;
    match std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse::<i64>().ok())
    {
        Some(n) => Ok((n, e + 2)),
        None => {
            nd.p(" invalid");
            Err(Jump)
        }
    }
}

/// One RESP value at `at`; returns where the next one starts.
fn resp_value(nd: &mut Nd, at: usize, end: usize, depth: usize) -> R<usize> {
    if depth > 32 {
        return Err(Jump);
    }
    match nd.u8(at)? {
        b'+' | b'-' | b':' => {
            let e = find_crlf(nd, at + 1, end)?;
            quoted(nd, at + 1, e - at - 1)?;
            Ok(e + 2)
        }
        b'$' => {
            let (n, next) = resp_int(nd, at + 1, end)?;
            if n == -1 {
                nd.p(" null");
                return Ok(next);
            }
            let n = usize::try_from(n).map_err(|_| Jump)?;
            if next + n + 2 > end || nd.slice(next + n, 2)? != b"\r\n" {
                return Err(Jump);
            }
            quoted(nd, next, n)?;
            Ok(next + n + 2)
        }
        b'*' => {
            let (n, mut next) = resp_int(nd, at + 1, end)?;
            match n {
                -1 => nd.p(" null"),
                0 => nd.p(" empty"),
                n if n < 0 => return Err(Jump),
                n => {
                    for _ in 0..n {
                        next = resp_value(nd, next, end, depth + 1)?;
                    }
                }
            }
            Ok(next)
        }
        _ => {
            let e = find_crlf(nd, at, end)?;
            quoted(nd, at, e - at)?;
            Ok(e + 2)
        }
    }
}

/// Redis (6379): `: RESP` and each value of each message, quoted.
pub(super) fn resp_print(nd: &mut Nd, bp: usize, length: usize) -> R {
    nd.proto = "resp";
    nd.p(": RESP");
    let end = bp + length;
    let mut at = bp;
    while at < end {
        at = resp_value(nd, at, end, 0)?;
    }
    Ok(())
}
