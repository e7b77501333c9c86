//! Text protocols over TCP: the first line of HTTP, RTSP, FTP, SMTP and whois (tcpdump's
//! `txtproto_print` in util-print.c, with the command lists of print-http.c and
//! print-rtsp.c) and SSH version banners (print-ssh.c).

use super::nd::{Nd, R};

/// HTTP request methods tcpdump recognises (print-http.c).
pub(super) const HTTP_CMDS: [&str; 38] = [
    "GET",
    "PUT",
    "COPY",
    "HEAD",
    "LOCK",
    "MOVE",
    "POLL",
    "POST",
    "BCOPY",
    "BMOVE",
    "MKCOL",
    "TRACE",
    "LABEL",
    "MERGE",
    "DELETE",
    "SEARCH",
    "UNLOCK",
    "REPORT",
    "UPDATE",
    "NOTIFY",
    "BDELETE",
    "CONNECT",
    "OPTIONS",
    "CHECKIN",
    "PROPFIND",
    "CHECKOUT",
    "CCM_POST",
    "SUBSCRIBE",
    "PROPPATCH",
    "BPROPFIND",
    "BPROPPATCH",
    "UNCHECKOUT",
    "MKACTIVITY",
    "MKWORKSPACE",
    "UNSUBSCRIBE",
    "RPC_CONNECT",
    "VERSION-CONTROL",
    "BASELINE-CONTROL",
];

/// RTSP request methods tcpdump recognises (print-rtsp.c).
pub(super) const RTSP_CMDS: [&str; 11] = [
    "DESCRIBE",
    "ANNOUNCE",
    "GET_PARAMETER",
    "OPTIONS",
    "PAUSE",
    "PLAY",
    "RECORD",
    "REDIRECT",
    "SETUP",
    "SET_PARAMETER",
    "TEARDOWN",
];

/// tcpdump's `txtproto_print`: the protocol's name in capitals, then `: ` and the first
/// line of text. With a list of commands (HTTP, RTSP) only a payload that starts with a
/// command, or whose second token is a 3-digit status code, is a line worth printing;
/// without one (FTP, SMTP, whois) every payload is.
pub(super) fn txtproto_print(
    nd: &mut Nd,
    bp: usize,
    len: usize,
    proto: &'static str,
    cmds: Option<&[&str]>,
) -> R {
    nd.proto = proto;
    let print_this = match cmds {
        None => true,
        Some(cmds) => {
            let mut yes = false;
            let (idx, tok) = fetch_token(nd, bp, 0, len);
            if idx != 0 {
                if cmds.iter().any(|c| c.eq_ignore_ascii_case(&tok)) {
                    yes = true;
                }
                let (idx2, tok2) = fetch_token(nd, bp, idx, len);
                let t = tok2.as_bytes();
                if idx2 != 0 && t.len() == 3 && t.iter().all(u8::is_ascii_digit) {
                    yes = true;
                }
            }
            yes
        }
    };
    nd.p(&proto.to_ascii_uppercase());
    if print_this {
        print_txt_line(nd, ": ", bp, 0, len)?;
    }
    Ok(())
}

/// tcpdump's `ssh_print`: the version banner (`SSH-2.0-…`) when the payload is one,
/// nothing otherwise.
pub(super) fn ssh_print(nd: &mut Nd, bp: usize, len: usize) -> R {
    nd.proto = "ssh";
    for (i, c) in b"SSH-".iter().enumerate() {
        if nd.u8(bp + i)? != *c {
            return Ok(());
        }
    }
    let mut idx = 4;
    while idx < len {
        let c = nd.u8(bp + idx)?;
        if c == b'\n' {
            break;
        } else if c == b'\r' {
            if idx + 1 >= len || nd.u8(bp + idx + 1)? != b'\n' {
                return Ok(());
            }
            break;
        } else if !(0x20..=0x7e).contains(&c) {
            return Ok(());
        }
        idx += 1;
    }
    if idx >= len {
        // No line end in this segment.
        return Ok(());
    }
    print_line(nd, ": SSH: ", bp, idx)
}

/// `fetch_token`: the token at `idx` and the index after it and the blanks that follow;
/// index 0 when there is no token (binary data, the capture ends, too long).
fn fetch_token(nd: &Nd, bp: usize, mut idx: usize, len: usize) -> (usize, String) {
    const TOKEN_BUF: usize = 129;
    let mut tok = String::new();
    while idx < len {
        let Ok(c) = nd.u8(bp + idx) else {
            return (0, tok);
        };
        if !c.is_ascii() {
            return (0, tok);
        }
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            break;
        }
        if !(0x20..=0x7e).contains(&c) || tok.len() + 2 > TOKEN_BUF {
            return (0, tok);
        }
        tok.push(char::from(c));
        idx += 1;
    }
    if tok.is_empty() {
        return (0, tok);
    }
    while idx < len {
        let Ok(c) = nd.u8(bp + idx) else {
            break;
        };
        if c == b'\r' || c == b'\n' || !(0x20..=0x7e).contains(&c) || (c != b' ' && c != b'\t') {
            break;
        }
        idx += 1;
    }
    (idx, tok)
}

/// `print_txt_line`: one line of printable ASCII (tabs allowed) ended by LF or CRLF;
/// nothing if it holds anything else; the marker if it runs to the end unended.
fn print_txt_line(nd: &mut Nd, prefix: &str, bp: usize, mut idx: usize, len: usize) -> R {
    let start = idx;
    while idx < len {
        let c = nd.u8(bp + idx)?;
        if c == b'\n' {
            return print_line(nd, prefix, bp + start, idx - start);
        } else if c == b'\r' {
            if idx + 1 >= len {
                return Ok(());
            }
            if nd.u8(bp + idx + 1)? == b'\n' {
                return print_line(nd, prefix, bp + start, idx - start);
            }
            return Ok(());
        } else if !(0x20..=0x7e).contains(&c) && c != b'\t' {
            return Ok(());
        }
        idx += 1;
    }
    print_line(nd, prefix, bp + start, idx - start)?;
    nd.trunc();
    Ok(())
}

fn print_line(nd: &mut Nd, prefix: &str, at: usize, n: usize) -> R {
    let line = nd.slice(at, n)?;
    nd.out.push_str(prefix);
    // Only printable ASCII and tabs reach here.
    nd.out.extend(line.iter().map(|&b| char::from(b)));
    Ok(())
}
