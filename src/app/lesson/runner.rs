//! The lesson loop: show the step's goal, read the learner's statement (the line editor
//! on a terminal; piped standard input line by line, echoed as if typed), run it as the
//! shell does, check the wire and the kernel, explain, move on.

use std::cell::RefCell;
use std::io::{BufRead, IsTerminal, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::checks::{self, KernelWatch, World, NO_SOCKET};
use super::{Lang, LessonText, Texts};
use crate::app::cli::{self, exit, Config};
use crate::lang::call::Value;
use crate::lang::{net, parser, Interp, Net};

/// The shell's line editor.
type ShellEditor =
    rustyline::Editor<crate::app::repl::ReplHelper, rustyline::history::DefaultHistory>;

/// How the learner's statements come in.
enum Input {
    Tty(Box<ShellEditor>, crate::app::repl::StatementReader),
    Pipe(std::io::Lines<std::io::StdinLock<'static>>),
}

impl Input {
    /// The next statement (more lines while the parser says it is unfinished); `None`
    /// at the end of input (Ctrl-D, end of the pipe).
    fn read(&mut self, prompt: &str) -> Option<String> {
        match self {
            // As in the shell: more lines at `... ` while the statement is unfinished.
            Input::Tty(ed, reader) => loop {
                match reader.read(ed, prompt, crate::app::repl::CONTINUATION) {
                    Ok(line) => return Some(line),
                    Err(rustyline::error::ReadlineError::Interrupted) => {
                        if crate::cancel::ending_signal().is_some() {
                            return None;
                        }
                        continue;
                    }
                    Err(_) => return None,
                }
            },
            Input::Pipe(lines) => {
                let mut line = lines.next()?.ok()?;
                println!("{prompt}{line}");
                while incomplete(&line) {
                    let Some(Ok(more)) = lines.next() else { break };
                    println!("... {more}");
                    line.push('\n');
                    line.push_str(&more);
                }
                Some(line)
            }
        }
    }
}

/// Whether the parser wants more lines (an open block, bracket or string).
fn incomplete(text: &str) -> bool {
    matches!(parser::parse(text, 0), Err(e) if e.kind.is_incomplete())
}

/// Runs lesson `name` in `lang`; 0 when it was completed, 1 when left early.
pub fn run(cfg: Config, engine: Option<Box<dyn Net + Send>>, name: String, lang: Lang) -> u8 {
    let handle = std::thread::Builder::new()
        .name("tcpcraft-lesson".into())
        .stack_size(256 << 20)
        .spawn(move || run_here(&cfg, engine.map(|e| e as Box<dyn Net>), &name, lang));
    match handle.map(|h| h.join()) {
        Ok(Ok(code)) => crate::cancel::exit_status(code),
        _ => {
            eprintln!("tcpcraft: internal error: the lesson thread failed");
            exit::SYSTEM
        }
    }
}

/// Everything the loop needs.
struct Lesson<'a> {
    name: &'a str,
    texts: &'a Texts,
    text: &'a LessonText,
    watch: KernelWatch,
}

impl Lesson<'_> {
    fn n(&self) -> usize {
        self.text.steps.len()
    }

    fn show_goal(&self, k: usize) {
        let step = &self.text.steps[k];
        println!();
        println!(
            "{}",
            self.texts.ui(
                "step",
                &[
                    ("k", (k + 1).to_string()),
                    ("n", self.n().to_string()),
                    ("goal", step.goal.clone()),
                ],
            )
        );
    }

    /// Whether step `k` is met now; its explanation when it is.
    fn check(&self, it: &RefCell<Interp>, k: usize) -> Option<String> {
        let snaps = checks::sessions(&it.borrow());
        for s in &snaps {
            if let Some(ends) = s.ends {
                self.watch.watch(ends, s.kernel_now);
            }
        }
        let world = World {
            snaps: &snaps,
            watch: &self.watch,
        };
        let step = &self.text.steps[k];
        let vars = checks::check(self.name, &step.id, &world)?;
        Some(super::fill_all(&step.done, &self.localise(vars)))
    }

    /// `no socket` in the learner's language; a value `ui:KEY` is that text of the ui
    /// table, filled with the other values.
    fn localise(&self, vars: checks::Vars) -> checks::Vars {
        let plain: checks::Vars = vars
            .iter()
            .map(|(k, v)| {
                if v == NO_SOCKET {
                    (*k, self.texts.ui("no_socket", &[]))
                } else {
                    (*k, v.clone())
                }
            })
            .collect();
        plain
            .iter()
            .map(|(k, v)| match v.strip_prefix("ui:") {
                Some(key) => (*k, self.texts.ui(key, &plain)),
                None => (*k, v.clone()),
            })
            .collect()
    }

    /// The check, given a moment to settle: a segment the statement caused may still be
    /// on its way, and the kernel reading follows the segment.
    fn check_settled(&self, it: &RefCell<Interp>, k: usize, sent: bool) -> Option<String> {
        // Only a statement that put something on the wire has anything to wait for.
        let wait = if sent { 300 } else { 0 };
        let deadline = Instant::now() + Duration::from_millis(wait);
        loop {
            if let Some(done) = self.check(it, k) {
                return Some(done);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn finish(&self, it: &RefCell<Interp>) {
        let it = &it.borrow();
        println!();
        println!(
            "{}",
            self.texts.ui("done", &[("title", self.text.title.clone())])
        );
        let snaps = checks::sessions(it);
        let world = World {
            snaps: &snaps,
            watch: &self.watch,
        };
        // The ladders of what the learner did, oldest session first.
        let ascii = !std::io::stdout().is_terminal();
        let mut shown = false;
        for v in session_values(it).iter().rev() {
            if let Some(l) = crate::app::lang_session::with_session(v, |s, _| {
                (!s.history().is_empty()).then(|| s.ladder(false, ascii))
            })
            .flatten()
            {
                if !shown {
                    println!("{}", self.texts.ui("ladder", &[]));
                    shown = true;
                }
                println!("{}", l.trim_end());
            }
        }
        let vars = self.localise(checks::answer_vars(self.name, &world));
        println!();
        println!("{}", self.texts.ui("answer", &[]));
        println!("{}", super::fill_all(&self.text.answer, &vars));
    }
}

/// Segments sent so far by every session (a statement that sent none changed nothing
/// on the wire).
fn segments(it: &Interp) -> Vec<(usize, usize)> {
    session_values(it)
        .iter()
        .filter_map(|v| {
            crate::app::lang_session::with_session(v, |s, o| {
                (
                    o,
                    s.history()
                        .iter()
                        .filter(|h| h.dir == crate::session::state::Dir::Sent)
                        .count(),
                )
            })
        })
        .collect()
}

/// The interpreter's session values, newest first.
fn session_values(it: &Interp) -> Vec<Value> {
    let mut v: Vec<(usize, Value)> = Vec::new();
    for name in it.global_names() {
        if let Some(val) = it.get_var(&name) {
            if let Some(order) = crate::app::lang_session::with_session(&val, |_, o| o) {
                if !v.iter().any(|(o, _)| *o == order) {
                    v.push((order, val));
                }
            }
        }
    }
    v.sort_by_key(|(order, _)| std::cmp::Reverse(*order));
    v.into_iter().map(|(_, v)| v).collect()
}

fn run_here(cfg: &Config, engine: Option<Box<dyn Net>>, name: &str, lang: Lang) -> u8 {
    let texts = match Texts::load(lang) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tcpcraft: lesson: {e}");
            return exit::SYSTEM;
        }
    };
    let Some(text) = texts.lessons.get(name) else {
        eprintln!("tcpcraft: lesson: no lesson named {name:?} (`--lesson list` lists them)");
        return exit::USAGE;
    };
    let (it, log) = cli::make_interp(cfg, engine);
    let it = Rc::new(RefCell::new(it));
    let mut input = if std::io::stdin().is_terminal() {
        let mut ed = match crate::app::repl::line_editor(it.clone(), cfg.color) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("tcpcraft: cannot start the line editor: {e}");
                return exit::SYSTEM;
            }
        };
        // A live session's arrivals are printed above the prompt, as in the shell.
        if let Ok(printer) = ed.create_external_printer() {
            use rustyline::ExternalPrinter as _;
            let printer = std::sync::Mutex::new(printer);
            let texts = texts.clone();
            it.borrow_mut().live = Some(std::sync::Arc::new(move |line: &str| {
                if let Ok(mut p) = printer.lock() {
                    let _ = p.print(format!("{}\n", texts.session_line(line)));
                }
            }));
        }
        Input::Tty(Box::new(ed), crate::app::repl::StatementReader::default())
    } else {
        if !texts.session.is_empty() {
            let texts = texts.clone();
            it.borrow_mut().live = Some(std::sync::Arc::new(move |line: &str| {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", texts.session_line(line));
            }));
        }
        Input::Pipe(std::io::stdin().lock().lines())
    };
    let lesson = Lesson {
        name,
        texts: &texts,
        text,
        watch: KernelWatch::start(),
    };
    println!("{}", texts.ui("title", &[("title", text.title.clone())]));
    println!("{}", text.intro);
    println!("{}", texts.ui("commands", &[]));
    let prompt = texts.ui("prompt", &[]);
    let n = lesson.n();
    let mut k = 0usize;
    let mut line_no = 1usize;
    lesson.show_goal(k);
    let completed = loop {
        if crate::cancel::ending_signal().is_some() {
            break false;
        }
        net::clear_interrupt();
        let Some(stmt) = input.read(&prompt) else {
            break false;
        };
        match stmt.trim() {
            "" => continue,
            "hint" => {
                println!(
                    "{}",
                    texts.ui("hint", &[("hint", text.steps[k].hint.clone())])
                );
                continue;
            }
            "skip" => {
                println!("{}", texts.ui("skipped", &[]));
                k += 1;
                if k == n {
                    break true;
                }
                lesson.show_goal(k);
                continue;
            }
            "back" => {
                if k == 0 {
                    println!("{}", texts.ui("first", &[]));
                } else {
                    k -= 1;
                }
                lesson.show_goal(k);
                continue;
            }
            "quit" | "exit" => break false,
            _ => {}
        }
        let before = segments(&it.borrow());
        {
            let mut i = it.borrow_mut();
            match i.run_source("<stdin>", &stmt, line_no) {
                Ok(Some(v)) if !matches!(v, Value::None) => {
                    let text = v.repr();
                    i.println(&text);
                }
                Ok(_) => {}
                Err(e) if matches!(e.kind, crate::lang::ErrorKind::Exit(_)) => break false,
                Err(e) => {
                    let _ = i.out.flush();
                    eprint!("{}", i.render_error(&e));
                    println!("{}", texts.ui("error_went_on", &[]));
                }
            }
            let _ = i.out.flush();
        }
        line_no += stmt.matches('\n').count() + 1;
        let sent = segments(&it.borrow()) != before;
        match lesson.check_settled(&it, k, sent) {
            Some(done) => {
                println!("{done}");
                k += 1;
                // A statement may have done the next steps too: each is explained.
                while k < n {
                    let Some(done) = lesson.check(&it, k) else {
                        break;
                    };
                    lesson.show_goal(k);
                    println!("{done}");
                    k += 1;
                }
                if k == n {
                    break true;
                }
                lesson.show_goal(k);
            }
            None => {
                println!(
                    "{}",
                    texts.ui("not_yet", &[("hint", text.steps[k].hint.clone())])
                );
            }
        }
    };
    let code = if completed {
        lesson.finish(&it);
        exit::OK
    } else {
        println!();
        println!(
            "{}",
            texts.ui(
                "left",
                &[("k", (k + 1).min(n).to_string()), ("n", n.to_string())]
            )
        );
        exit::FAILED
    };
    let _ = std::io::stdout().flush();
    cli::finish_pcap(cfg, log).unwrap_or(code)
}
