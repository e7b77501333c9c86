//! A session's history drawn as a ladder (sequence) diagram, as in RFC 9293 §3.5:
//! one row per segment, our state on the left, the peer's on the right, an arrow
//! between them with the flags, seq/ack and length.
//!
//! ```text
//!      us                                           peer
//!  0.  CLOSED                                       LISTEN
//!  1.  SYN_SENT      ──── S seq 0 ────────────────▶ LISTEN
//!  2.  ESTABLISHED   ◀─── SA seq 0 ack 1 ───────── SYN_RECEIVED
//! ```
//!
//! Sequence numbers are relative to each side's ISN by default (as tcpdump shows
//! them), absolute on request. Text comes in Unicode box drawing or ASCII; the SVG
//! writer makes a standalone picture with slanted arrows for documents.

use std::fmt::Write as _;

use super::state::{Dir, Machine, State, Step};

/// How to draw.
#[derive(Clone, Debug)]
pub struct LadderOptions {
    /// Absolute sequence numbers instead of numbers relative to the ISNs.
    pub absolute: bool,
    /// Plain ASCII (`--->`) instead of box drawing (`───▶`).
    pub ascii: bool,
    /// Column titles: our end and the peer's (an address, or "us"/"peer").
    pub left: String,
    pub right: String,
    /// Mark segments sent with warnings and list the warnings below.
    pub warnings: bool,
    /// A column with each segment's time, in seconds from the first.
    pub times: bool,
    /// SVG: space the arrows by time (a pause is a long gap; arrows slant by the
    /// one-way delay, so FINs that crossed on the wire cross in the picture).
    pub by_time: bool,
}

impl Default for LadderOptions {
    fn default() -> Self {
        LadderOptions {
            absolute: false,
            ascii: false,
            left: "us".to_string(),
            right: "peer".to_string(),
            warnings: true,
            times: false,
            by_time: false,
        }
    }
}

/// One row of the diagram, shared by the text and SVG writers.
struct Row {
    /// `None` for the rows without a segment (the start, a timer).
    dir: Option<Dir>,
    label: String,
    us: State,
    peer: State,
    /// Index into the footnotes, for a segment sent with warnings.
    note: Option<usize>,
    /// Seconds since the first segment.
    time: Option<f64>,
    /// The peer kernel's state, where it was read.
    kernel: Option<&'static str>,
}

/// Turns the history into rows and footnotes (the warnings, one per sent segment).
fn rows(m: &Machine, opts: &LadderOptions) -> (Vec<Row>, Vec<String>) {
    let (our_isn, peer_isn) = (m.us.syn_sent.then_some(m.us.iss), m.us.irs);
    let mut rows = vec![Row {
        dir: None,
        label: String::new(),
        us: m.initial.0,
        peer: m.initial.1,
        note: None,
        time: None,
        kernel: None,
    }];
    let mut notes = Vec::new();
    let epoch = m.history.first().map(|h| h.at);
    for step in &m.history {
        let note = (opts.warnings && !step.warnings.is_empty()).then(|| {
            notes.push(step.warnings.join("; "));
            notes.len()
        });
        let mut label = label(step, our_isn, peer_isn, opts.absolute);
        for mark in &step.marks {
            let _ = write!(label, " ({mark})");
        }
        rows.push(Row {
            dir: Some(step.dir),
            label,
            us: step.us,
            peer: step.peer,
            note,
            time: epoch.map(|e| step.at.saturating_duration_since(e).as_secs_f64()),
            kernel: step.kernel,
        });
    }
    let (us, peer) = (m.state(), m.peer_state());
    if rows.last().is_some_and(|r| (r.us, r.peer) != (us, peer)) {
        rows.push(Row {
            dir: None,
            label: String::new(),
            us,
            peer,
            note: None,
            time: None,
            kernel: None,
        });
    }
    (rows, notes)
}

/// `SA seq 0 ack 1 len 5`: flags, seq, ack when ACK is set, length when non-zero,
/// and `win 0` when the window is closed.
fn label(step: &Step, our_isn: Option<u32>, peer_isn: Option<u32>, absolute: bool) -> String {
    let seg = &step.seg;
    let (seq_base, ack_base) = match step.dir {
        Dir::Sent => (our_isn, peer_isn),
        Dir::Received => (peer_isn, our_isn),
    };
    let rel = |v: u32, base: Option<u32>| match (absolute, base) {
        (false, Some(b)) => v.wrapping_sub(b),
        _ => v,
    };
    let mut s = format!("{} seq {}", seg.flags, rel(seg.seq, seq_base));
    if seg.flags.contains(crate::packet::TcpFlags::ACK) {
        let _ = write!(s, " ack {}", rel(seg.ack, ack_base));
    }
    if seg.len > 0 {
        let _ = write!(s, " len {}", seg.len);
    }
    if seg.window == 0 && !seg.flags.contains(crate::packet::TcpFlags::RST) {
        // A closed window is the point of the picture when it happens.
        s.push_str(" win 0");
    }
    s
}

/// The ladder as text, one line per row, then the footnotes.
pub fn text(m: &Machine, opts: &LadderOptions) -> String {
    let (rows, notes) = rows(m, opts);
    let state_w = rows
        .iter()
        .map(|r| r.us.name().len())
        .chain([opts.left.chars().count()])
        .max()
        .unwrap_or(0);
    let label_w = rows
        .iter()
        .map(|r| r.label.chars().count() + r.note.map_or(0, |n| format!(" [{n}]").len()))
        .max()
        .unwrap_or(0);
    // "──── " + label + " " + fill + "─▶": at least four dashes either side.
    let arrow_w = (label_w + 10).max(30);
    let num_w = (rows.len().saturating_sub(1)).to_string().len();
    let (dash, right_head, left_head) = if opts.ascii {
        ('-', '>', '<')
    } else {
        ('─', '▶', '◀')
    };
    let mut out = String::new();
    let time_w = if opts.times {
        rows.iter()
            .filter_map(|r| r.time)
            .map(|t| format!("{t:.3}").len())
            .max()
            .unwrap_or(0)
            + 2
    } else {
        0
    };
    let pad = " ".repeat(num_w + 2 + time_w);
    let _ = writeln!(
        out,
        "{pad} {:<state_w$}   {:arrow_w$}   {}",
        opts.left, "", opts.right
    );
    for (i, row) in rows.iter().enumerate() {
        let mut label = row.label.clone();
        if let Some(n) = row.note {
            let _ = write!(label, " [{n}]");
        }
        let arrow = match row.dir {
            None => " ".repeat(arrow_w),
            Some(dir) => {
                let body = format!(" {label} ");
                let fill = arrow_w.saturating_sub(body.chars().count() + 5);
                let tail: String = std::iter::repeat_n(dash, fill).collect();
                match dir {
                    Dir::Sent => format!("{d}{d}{d}{d}{body}{tail}{right_head}", d = dash),
                    Dir::Received => format!("{left_head}{d}{d}{d}{body}{tail}{d}", d = dash),
                }
            }
        };
        let time = match (opts.times, row.time) {
            (false, _) => String::new(),
            (true, Some(t)) => format!("{:>w$}  ", format!("{t:.3}"), w = time_w - 2),
            (true, None) => " ".repeat(time_w),
        };
        let peer = match row.kernel {
            Some(k) if !crate::session::kernel_name_agrees(row.peer, k) => {
                format!("{} (kernel: {k} ≠)", row.peer)
            }
            Some(k) => format!("{} (kernel: {k})", row.peer),
            None => row.peer.to_string(),
        };
        let line = format!(
            "{i:>num_w$}.  {time}{:<state_w$}   {arrow}   {peer}",
            row.us
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    for (n, note) in notes.iter().enumerate() {
        let _ = writeln!(out, "[{}] {note}", n + 1);
    }
    out
}

/// Escapes text for SVG character data and attribute values.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// The ladder as a standalone SVG: two timelines, one slanted arrow per segment with
/// its label, each side's state beside its timeline, footnotes at the bottom.
pub fn svg(m: &Machine, opts: &LadderOptions) -> String {
    let (rows, notes) = rows(m, opts);
    const ROW: usize = 44;
    const TOP: usize = 60;
    let (xl, xr) = (170usize, 530usize);
    let width = 760usize;
    // Where each row's arrow starts: evenly spaced, or by time (at least a row's
    // height per second, at most 900 pixels for the whole exchange).
    let total = rows.iter().filter_map(|r| r.time).fold(0.0f64, f64::max);
    let scale = if total > 0.0 {
        (900.0 / total).min(ROW as f64 * 4.0)
    } else {
        0.0
    };
    let mut ys: Vec<usize> = Vec::with_capacity(rows.len());
    let mut prev = TOP;
    for (i, row) in rows.iter().enumerate() {
        let even = TOP + i * ROW;
        let y = match (opts.by_time, row.time) {
            (true, Some(t)) => (TOP + ROW + (t * scale) as usize).max(prev + ROW / 2),
            (true, None) if i > 0 => prev + ROW,
            _ => even,
        };
        ys.push(y);
        prev = y;
    }
    let bottom = ys.last().copied().unwrap_or(TOP) + ROW;
    let height = bottom + notes.len() * 18 + 30;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="13">"#
    );
    let _ = writeln!(
        s,
        r#"<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="black"/></marker></defs>"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (x, title) in [(xl, &opts.left), (xr, &opts.right)] {
        let _ = writeln!(
            s,
            r#"<text x="{x}" y="30" text-anchor="middle" font-weight="bold">{}</text>"#,
            xml(title)
        );
        let _ = writeln!(
            s,
            r#"<line x1="{x}" y1="40" x2="{x}" y2="{bottom}" stroke="black"/>"#
        );
    }
    for (i, row) in rows.iter().enumerate() {
        let y = ys.get(i).copied().unwrap_or(TOP + i * ROW);
        if let (true, Some(t)) = (opts.times, row.time) {
            let _ = writeln!(
                s,
                r#"<text x="8" y="{}" font-size="11" fill="gray">{t:.3} s</text>"#,
                y + 4
            );
        }
        // States at the end of the row's arrow: where each side is after it.
        let ys = y + ROW / 2;
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{ys}" text-anchor="end">{}</text>"#,
            xl - 8,
            row.us
        );
        let peer = match row.kernel {
            Some(k) => format!("{} (kernel: {k})", row.peer),
            None => row.peer.to_string(),
        };
        let _ = writeln!(s, r#"<text x="{}" y="{ys}">{}</text>"#, xr + 8, xml(&peer));
        let Some(dir) = row.dir else { continue };
        // A sent arrow leaves at its time; by time, a received one arrives at its time
        // (it left the peer earlier), so FINs that crossed on the wire cross here.
        let (x1, y1, x2, y2) = match (dir, opts.by_time) {
            (Dir::Sent, _) => (xl, y, xr, y + ROW - 14),
            (Dir::Received, false) => (xr, y, xl, y + ROW - 14),
            (Dir::Received, true) => (xr, y.saturating_sub(ROW - 14).max(TOP), xl, y),
        };
        let _ = writeln!(
            s,
            r#"<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="black" marker-end="url(#head)"/>"#
        );
        let mut label = xml(&row.label);
        if let Some(n) = row.note {
            let _ = write!(label, " [{n}]");
        }
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle" paint-order="stroke" stroke="white" stroke-width="4">{label}</text>"#,
            (xl + xr) / 2,
            y + 6
        );
    }
    for (n, note) in notes.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<text x="20" y="{}" font-size="11">[{}] {}</text>"#,
            bottom + 20 + n * 18,
            n + 1,
            xml(note)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::TcpFlags;
    use crate::session::state::{SegOptions, Segment, SendSpec};
    use std::time::Instant;

    fn send(m: &mut Machine, flags: &str, len: u32) {
        let seg = m.fill(&SendSpec {
            flags: TcpFlags::parse(flags).expect("flags"),
            len,
            ..SendSpec::default()
        });
        m.sent(seg, vec![b'x'; len as usize], Instant::now());
    }

    fn recv(m: &mut Machine, flags: &str, seq: u32, ack: u32, len: u32) {
        let seg = Segment {
            flags: TcpFlags::parse(flags).expect("flags"),
            seq,
            ack,
            len,
            window: 29200,
            options: SegOptions::default(),
        };
        m.received(seg, vec![b'y'; len as usize], Instant::now());
    }

    /// Handshake, a request and its answer, and the four-way teardown.
    fn whole_connection() -> Machine {
        let mut m = Machine::active(1000, 64240);
        send(&mut m, "S", 0);
        recv(&mut m, "SA", 5000, 1001, 0);
        send(&mut m, "A", 0);
        send(&mut m, "PA", 18);
        recv(&mut m, "PA", 5001, 1019, 5);
        send(&mut m, "FA", 0);
        recv(&mut m, "A", 5006, 1020, 0);
        recv(&mut m, "FA", 5006, 1020, 0);
        send(&mut m, "A", 0);
        m
    }

    #[test]
    fn unicode_ladder() {
        let want = &r#"
    us                                              peer
0.  CLOSED                                          LISTEN
1.  SYN_SENT      ──── S seq 0 ─────────────────▶   LISTEN
2.  ESTABLISHED   ◀─── SA seq 0 ack 1 ───────────   SYN_RECEIVED
3.  ESTABLISHED   ──── A seq 1 ack 1 ───────────▶   ESTABLISHED
4.  ESTABLISHED   ──── PA seq 1 ack 1 len 18 ───▶   ESTABLISHED
5.  ESTABLISHED   ◀─── PA seq 1 ack 19 len 5 ────   ESTABLISHED
6.  FIN_WAIT_1    ──── FA seq 19 ack 6 ─────────▶   CLOSE_WAIT
7.  FIN_WAIT_2    ◀─── A seq 6 ack 20 ───────────   CLOSE_WAIT
8.  TIME_WAIT     ◀─── FA seq 6 ack 20 ──────────   LAST_ACK
9.  TIME_WAIT     ──── A seq 20 ack 7 ──────────▶   CLOSED
"#[1..];
        let got = text(&whole_connection(), &LadderOptions::default());
        assert_eq!(got, want, "\n{got}");
    }

    #[test]
    fn ascii_absolute_ladder_with_a_warning() {
        let mut m = Machine::active(1000, 64240);
        send(&mut m, "S", 0);
        recv(&mut m, "RA", 0, 1001, 0);
        send(&mut m, "PA", 3);
        let opts = LadderOptions {
            absolute: true,
            ascii: true,
            left: "198.18.0.1:61000".into(),
            right: "198.18.0.2:80".into(),
            warnings: true,
            ..LadderOptions::default()
        };
        let want = &r#"
    198.18.0.1:61000                                           198.18.0.2:80
0.  CLOSED                                                     LISTEN
1.  SYN_SENT           ---- S seq 1000 -------------------->   LISTEN
2.  CLOSED             <--- RA seq 0 ack 1001 --------------   CLOSED
3.  CLOSED             ---- PA seq 1001 ack 0 len 3 [1] --->   CLOSED
[1] data after the connection closed (CLOSED); the peer's side is CLOSED: it answers with RST
"#[1..];
        let got = text(&m, &opts);
        assert_eq!(got, want, "\n{got}");
    }

    #[test]
    fn svg_is_standalone_and_escaped() {
        let mut m = whole_connection();
        let opts = LadderOptions {
            left: "a<b".into(),
            ..LadderOptions::default()
        };
        m.history.truncate(3);
        let s = svg(&m, &opts);
        assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(s.ends_with("</svg>\n"));
        assert!(s.contains(">a&lt;b</text>"));
        assert_eq!(s.matches("marker-end").count(), 3);
        assert!(s.contains(">SA seq 0 ack 1</text>"));
        assert!(s.contains(">SYN_RECEIVED</text>"));
        if let Ok(path) = std::env::var("TCPCRAFT_LADDER_SVG") {
            let full = svg(&whole_connection(), &LadderOptions::default());
            std::fs::write(path, full).expect("write svg");
        }
    }
}
