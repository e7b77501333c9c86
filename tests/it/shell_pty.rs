//! The interactive shell driven through a pseudo-terminal, as a person types into it:
//! the `... ` continuation prompt, statements that run at once, tuples, scapy habits,
//! completion inside strings, lines typed while a command runs, `quit()`; and, in the
//! lab, the feedback of `sr1`/`sr`, packet lists, the route's source, what leaving
//! removes, and that nothing but the shell's history is written under $HOME.

use rexpect::session::PtySession;
use std::process::Command;

/// Only one lab at a time in this file (they share the stale-lab sweep).
static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// tcpcraft in a terminal, with its own $HOME and no colours.
fn shell(home: &std::path::Path, args: &[&str]) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tcpcraft"));
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", home)
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .env("TCPCRAFT_DRYRUN_SRC", "none");
    rexpect::session::spawn_command(cmd, Some(20_000)).expect("spawn tcpcraft in a pty")
}

/// Wait for a fresh main prompt (the line editor redraws the prompt with every key, so
/// a new prompt is known by the bracketed-paste switch the editor sends before it).
fn prompt(p: &mut PtySession) -> String {
    p.exp_regex(r"\x1b\[\?2004h[^>]*>>> ")
        .map(|(before, _)| before)
        .expect("a fresh >>> prompt")
}

/// Wait for a line of output `text` (output lines start after a line break; the typed
/// line's echo does not).
fn out(p: &mut PtySession, text: &str) -> String {
    p.exp_string(&format!("\r\n{text}"))
        .unwrap_or_else(|e| panic!("expected output {text:?}: {e}"))
}

#[test]
fn the_parser_decides_when_a_statement_is_finished() {
    let home = tempfile::tempdir().unwrap();
    let mut p = shell(home.path(), &["--dry-run"]);
    prompt(&mut p);
    p.send_line("x = 5").unwrap();
    prompt(&mut p);
    // A finished `if` runs on the first Enter.
    p.send_line(r#"if x > 3 { print("big") }"#).unwrap();
    out(&mut p, "big");
    prompt(&mut p);
    // An unfinished one shows `... ` until it is finished.
    p.send_line("if x > 3 {").unwrap();
    p.exp_string("... ").unwrap();
    p.send_line(r#"  print("multi" + "line")"#).unwrap();
    p.exp_string("... ").unwrap();
    p.send_line("}").unwrap();
    out(&mut p, "multiline");
    prompt(&mut p);
    // `else` on the next line says where it goes.
    p.send_line("else { print(1) }").unwrap();
    p.exp_string("write `} else {`").unwrap();
    prompt(&mut p);
    // A bare tuple prints its values, and the next line is a statement of its own.
    p.send_line("x, x + 1").unwrap();
    out(&mut p, "[5, 6]");
    prompt(&mut p);
    p.send_line("print(x * 2)").unwrap();
    out(&mut p, "10");
    prompt(&mut p);
    // An open call continues too; Ctrl-C drops the unfinished statement.
    p.send_line("y = max(1,").unwrap();
    p.exp_string("... ").unwrap();
    p.send_control('c').unwrap();
    prompt(&mut p);
    p.send_line("quit()").unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn scapy_habits_get_a_bridge() {
    let home = tempfile::tempdir().unwrap();
    let mut p = shell(home.path(), &["--dry-run"]);
    prompt(&mut p);
    p.send_line("def probe(port):").unwrap();
    p.exp_string("expected `fn probe(port) {").unwrap();
    prompt(&mut p);
    // scapy's tuple range: 75..=85, eleven packets.
    p.send_line("len(IP(dst=\"198.18.0.2\")/TCP(dport=(75,85)))")
        .unwrap();
    out(&mut p, "11");
    prompt(&mut p);
    // show() prints options as scapy's tuples, and they type back in.
    p.send_line("a = TCP(options=[mss(1460), nop(), ts(1, 0), sackok(), wscale(7)])")
        .unwrap();
    prompt(&mut p);
    p.send_line("b = TCP(options=[('MSS', 1460), ('NOP', None), ('Timestamp', (1, 0)), ('SAckOK', b''), ('WScale', 7)])").unwrap();
    prompt(&mut p);
    p.send_line("a.options == b.options").unwrap();
    out(&mut p, "true");
    prompt(&mut p);
    p.send_line("help(for)").unwrap();
    out(&mut p, "for x in");
    prompt(&mut p);
    // IPython's `name?`.
    p.send_line("sr1?").unwrap();
    out(&mut p, "sr1(p, timeout=2");
    prompt(&mut p);
    p.send_line("TCP.dport").unwrap();
    out(&mut p, "TCP.dport: int16 = 80");
    prompt(&mut p);
    p.send_line("exit()").unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn completion_inside_a_string_offers_no_names() {
    let home = tempfile::tempdir().unwrap();
    let mut p = shell(home.path(), &["--dry-run"]);
    prompt(&mut p);
    // After `flags="`, Tab twice lists flag sets, not the builtins.
    p.send(r#"TCP(flags=""#).unwrap();
    p.send("\t\t").unwrap();
    p.flush().unwrap();
    let listing = p.exp_string("SEC").unwrap();
    assert!(listing.contains("SA"), "flag sets listed: {listing:?}");
    assert!(
        !listing.contains("sniff") && !listing.contains("wrpcap"),
        "no global names inside a string: {listing:?}"
    );
    p.send_control('c').unwrap();
    prompt(&mut p);
    // In another string, Tab adds nothing: the line runs as typed.
    p.send(r#"print("pr"#).unwrap();
    p.send("\t").unwrap();
    p.send_line(r#"x")"#).unwrap();
    out(&mut p, "prx");
    prompt(&mut p);
    p.send_line("quit").unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn lines_typed_while_a_command_runs_are_not_lost() {
    let home = tempfile::tempdir().unwrap();
    let mut p = shell(home.path(), &["--dry-run"]);
    prompt(&mut p);
    p.send_line(r#"print("sleep" + "ing"); sleep(1.5)"#)
        .unwrap();
    out(&mut p, "sleeping");
    // Typed while sleep runs: both lines run afterwards, in order.
    p.send_line("y = 7").unwrap();
    p.send_line("print(y * 6)").unwrap();
    out(&mut p, "42");
    prompt(&mut p);
    // Several lines in one burst at the prompt (typed fast, or pasted without
    // bracketed paste): each runs, the block as one statement.
    p.send("x = 5\nif x > 3 {\n  print(\"bu\" + \"rst\")\n}\nprint(x * 9)\n")
        .unwrap();
    p.flush().unwrap();
    out(&mut p, "burst");
    out(&mut p, "45");
    prompt(&mut p);
    p.send_line("quit").unwrap();
    p.exp_eof().unwrap();
}

fn lab_ready(test: &str) -> bool {
    match tcpcraft::net::testbed::can_build() {
        Ok(()) => true,
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{test}: cannot run under CI=true: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED {test}: {why}");
            false
        }
    }
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(
                    path.strip_prefix(dir)
                        .unwrap_or(&path)
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_lab_shell_gives_feedback_and_writes_only_its_history() {
    if !lab_ready("the_lab_shell_gives_feedback") {
        return;
    }
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let home = tempfile::tempdir().unwrap();
    let mut p = shell(home.path(), &["lab"]);
    prompt(&mut p);
    // A packet's one-line view has the source the route gives.
    p.send_line("IP(dst=target)/TCP(dport=80)").unwrap();
    out(&mut p, "IP 198.18.0.1.");
    prompt(&mut p);
    // sr1 without an answer says so, and the shell echoes none.
    p.send_line(r#"sr1(IP(dst=target)/TCP(dport=8443, flags="S"), timeout=0.5)"#)
        .unwrap();
    out(&mut p, "sr1: 1 sent, 0 answered");
    out(&mut p, "none");
    prompt(&mut p);
    // sr prints its counts; its answers print one per line under a count line.
    p.send_line(r#"res = sr(IP(dst=target)/TCP(dport=[79, 80], flags="S"), timeout=1)"#)
        .unwrap();
    out(&mut p, "sr: 2 sent, 2 answered");
    prompt(&mut p);
    p.send_line("res.answered").unwrap();
    out(&mut p, "<2 packets TCP:2>");
    out(&mut p, "0000 IP 198.18.0.1.");
    out(&mut p, "0001 IP 198.18.0.1.");
    prompt(&mut p);
    p.send_line("res.summary()").unwrap();
    p.exp_string("==> IP 198.18.0.2.80").unwrap();
    out(&mut p, "<sr: 2 answered, 0 unanswered>");
    prompt(&mut p);
    // A session (its RST guard is an nftables table) and its help.
    p.send_line("s = session(target, 80)").unwrap();
    prompt(&mut p);
    p.send_line("help(s.send)").unwrap();
    out(&mut p, "s.send(flags");
    prompt(&mut p);
    p.send_line(r#"s.send("S"); s.expect("SA"); s.send("A")"#)
        .unwrap();
    prompt(&mut p);
    p.send_control('d').unwrap();
    p.exp_string("removed the practice network").unwrap();
    p.exp_eof().unwrap();
    // Nothing under $HOME but the shell's history (the manual's FILES).
    let files = files_under(home.path());
    assert_eq!(
        files,
        vec![".local/state/tcpcraft/history".to_string()],
        "files written under $HOME"
    );
}
