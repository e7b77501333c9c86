//! `tcpcraft lab --lesson NAME`: guided lessons on TCP's opening and closing, run by the
//! inner tcpcraft of the lab (`repl --lesson NAME --lang L`, a hidden option).
//!
//! A lesson is a list of steps. Each step states a goal; the learner types any
//! statement of the language; the runner ([`runner`]) runs it as the shell does, then
//! checks what happened on the wire and in the server's kernel ([`checks`]), never the
//! text typed. The texts (goals, hints, explanations, answers) live in data files, one
//! per language (`lessons/en.json`, `lessons/zh.json`), embedded at build time.

pub mod checks;
pub mod runner;

use std::collections::HashMap;

use serde_json::Value as Json;

/// The lessons, in the order they are taught.
pub const NAMES: [&str; 6] = [
    "handshake",
    "teardown",
    "why-three",
    "why-four",
    "reset",
    "simultaneous-close",
];

/// The language of the texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    /// `en` or `zh`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// From the locale: `zh` when LC_ALL, LC_MESSAGES or LANG (the first one set) is
    /// Chinese (`zh_CN.UTF-8` …), else `en`.
    pub fn from_env() -> Lang {
        for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Ok(v) = std::env::var(var) {
                if v.is_empty() {
                    continue;
                }
                return if v.starts_with("zh") {
                    Lang::Zh
                } else {
                    Lang::En
                };
            }
        }
        Lang::En
    }
}

/// One step's texts.
#[derive(Clone, Debug)]
pub struct StepText {
    /// Which check decides the step ([`checks::check`]).
    pub id: String,
    pub goal: String,
    pub hint: String,
    /// Said when the step is met; `{placeholders}` filled from what happened.
    pub done: String,
}

/// One lesson's texts.
#[derive(Clone, Debug)]
pub struct LessonText {
    pub title: String,
    /// One line for `--lesson list`.
    pub summary: String,
    pub intro: String,
    pub steps: Vec<StepText>,
    /// The answer to the article's question, in the learner's own numbers.
    pub answer: String,
}

/// Everything in one language.
#[derive(Clone, Debug)]
pub struct Texts {
    pub ui: HashMap<String, String>,
    pub lessons: HashMap<String, LessonText>,
    /// A live session's phrases (the reasons of its state changes) in this language,
    /// longest first; empty for English, the sessions' own language.
    pub session: Vec<(String, String)>,
}

const EN: &str = include_str!("../../../lessons/en.json");
const ZH: &str = include_str!("../../../lessons/zh.json");

impl Texts {
    /// The texts of `lang` (the embedded data file).
    pub fn load(lang: Lang) -> Result<Texts, String> {
        let src = match lang {
            Lang::En => EN,
            Lang::Zh => ZH,
        };
        let file = format!("lessons/{}.json", lang.code());
        let j: Json = serde_json::from_str(src).map_err(|e| format!("{file}: {e}"))?;
        let text = |v: &Json, key: &str, at: &str| -> Result<String, String> {
            v.get(key)
                .and_then(Json::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("{file}: {at}: `{key}` is missing or not a string"))
        };
        let mut ui = HashMap::new();
        for (k, v) in j.get("ui").and_then(Json::as_object).into_iter().flatten() {
            if let Some(v) = v.as_str() {
                ui.insert(k.clone(), v.to_string());
            }
        }
        let mut lessons = HashMap::new();
        for (name, l) in j
            .get("lessons")
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
        {
            let mut steps = Vec::new();
            for (i, st) in l
                .get("steps")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let at = format!("{name} step {}", i + 1);
                steps.push(StepText {
                    id: text(st, "id", &at)?,
                    goal: text(st, "goal", &at)?,
                    hint: text(st, "hint", &at)?,
                    done: text(st, "done", &at)?,
                });
            }
            lessons.insert(
                name.clone(),
                LessonText {
                    title: text(l, "title", name)?,
                    summary: text(l, "summary", name)?,
                    intro: text(l, "intro", name)?,
                    steps,
                    answer: text(l, "answer", name)?,
                },
            );
        }
        let mut session: Vec<(String, String)> = j
            .get("session")
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect();
        session.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        Ok(Texts {
            ui,
            lessons,
            session,
        })
    }

    /// A live session's line in this language: its known sentences, numbers and all
    /// (a key with `{name}` placeholders matches any value there and carries it over),
    /// then its known phrases, replaced.
    pub fn session_line(&self, line: &str) -> String {
        let mut out = line.to_string();
        for (en, local) in &self.session {
            if en.contains('{') {
                if let Some(done) = fill_template(&out, en, local) {
                    out = done;
                }
            }
        }
        for (en, local) in &self.session {
            if !en.contains('{') && out.contains(en.as_str()) {
                out = out.replace(en.as_str(), local);
            }
        }
        out
    }

    /// A user-interface text with its placeholders filled (the key itself if missing).
    pub fn ui(&self, key: &str, vars: &[(&str, String)]) -> String {
        let t = self.ui.get(key).map_or(key, String::as_str);
        fill(t, vars)
    }
}

/// Matches `template` (literal text with `{name}` placeholders) inside `line`; on a match
/// the matched part is replaced by `local` with the same placeholders filled by the
/// values the template captured. A placeholder takes the shortest text up to the next
/// literal piece (the rest of the line when it is last).
fn fill_template(line: &str, template: &str, local: &str) -> Option<String> {
    // Split the template into literal pieces and placeholder names.
    let mut pieces: Vec<(&str, Option<&str>)> = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        pieces.push((&rest[..open], Some(&rest[open + 1..close])));
        rest = &rest[close + 1..];
    }
    pieces.push((rest, None));
    let first = pieces.first()?.0;
    if first.is_empty() {
        return None;
    }
    let start = line.find(first)?;
    let mut at = start + first.len();
    let mut vars: Vec<(&str, String)> = Vec::new();
    for i in 0..pieces.len() {
        let Some(name) = pieces[i].1 else { break };
        let next = pieces.get(i + 1).map_or("", |p| p.0);
        let tail = &line[at..];
        let end = if next.is_empty() {
            tail.len()
        } else {
            tail.find(next)?
        };
        vars.push((name, tail[..end].to_string()));
        at += end + next.len();
    }
    let mut out = String::with_capacity(line.len());
    out.push_str(&line[..start]);
    out.push_str(&fill(local, &vars));
    out.push_str(&line[at..]);
    Some(out)
}

/// Replaces each `{name}` in `text` by its value.
pub fn fill(text: &str, vars: &[(&str, String)]) -> String {
    let mut out = text.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// [`fill`], then any placeholder left (a step that was skipped has no numbers) as `?`.
pub fn fill_all(text: &str, vars: &[(&str, String)]) -> String {
    let filled = fill(text, vars);
    let mut out = String::with_capacity(filled.len());
    let mut rest = filled.as_str();
    while let Some(open) = rest.find('{') {
        let (head, tail) = rest.split_at(open);
        out.push_str(head);
        match tail.find('}') {
            Some(close)
                if close > 1
                    && tail[1..close]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                out.push('?');
                rest = &tail[close + 1..];
            }
            _ => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `--lesson list`: one line per lesson.
pub fn list(lang: Lang) -> Result<String, String> {
    let t = Texts::load(lang)?;
    let mut out = t.ui("list_header", &[]);
    out.push('\n');
    for name in NAMES {
        let summary = t.lessons.get(name).map_or("", |l| l.summary.as_str());
        out.push_str(&format!("  {name:<12} {summary}\n"));
    }
    Ok(out)
}

/// Whether `name` is a lesson.
pub fn exists(name: &str) -> bool {
    NAMES.contains(&name)
}

/// What a lesson needs from the lab's server namespace: `tcp_synack_retries`, when it
/// must be short (why-three waits for the server to give up).
pub fn server_synack_retries(name: &str) -> Option<u32> {
    (name == "why-three").then_some(checks::WHY_THREE_SYNACK_RETRIES)
}

/// The line the lab says when it sets that, in the lesson's language.
pub fn server_note(lang: Lang, retries: u32) -> String {
    let give_up = (1u64 << (retries + 1)) - 1;
    Texts::load(lang)
        .map(|t| {
            t.ui(
                "synack_note",
                &[
                    ("retries", retries.to_string()),
                    ("give_up", give_up.to_string()),
                ],
            )
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_carries_the_numbers_over() {
        let line = "  note: retransmission 2 of the peer's FIN, 1.4 s after the first: you wait";
        let got = fill_template(
            line,
            "retransmission {n} of the peer's FIN, {t} s after the first: you wait",
            "对方 FIN 的第 {n} 次重传，距第一次 {t} 秒",
        );
        assert_eq!(
            got.as_deref(),
            Some("  note: 对方 FIN 的第 2 次重传，距第一次 1.4 秒")
        );
        assert_eq!(
            fill_template("other text", "retransmission {n} of", "x"),
            None
        );
        // Every note a live session prints has its Chinese sentence.
        let zh = Texts::load(Lang::Zh).unwrap();
        let shown = zh.session_line(
            "  note: retransmission 1 of the peer's SYN-ACK, 1.0 s after the first: it is waiting for your ACK: you have not sent it yet",
        );
        assert_eq!(
            shown,
            "  说明：对方 SYN-ACK 的第 1 次重传，距第一次 1.0 秒：它在等你的 ACK，而你还没有发"
        );
        let shown = zh.session_line("  note: acknowledges your 18 bytes; the answer may follow");
        assert_eq!(shown, "  说明：确认了你的 18 字节；回答可能随后就到");
    }

    #[test]
    fn every_lesson_has_texts_and_checks_in_every_language() {
        for lang in [Lang::En, Lang::Zh] {
            let t = Texts::load(lang).unwrap();
            for name in NAMES {
                let l = t.lessons.get(name).unwrap_or_else(|| panic!("{name}"));
                assert!(!l.steps.is_empty());
                for s in &l.steps {
                    assert!(checks::known(name, &s.id), "{name}/{}", s.id);
                }
            }
            for key in [
                "step",
                "prompt",
                "not_yet",
                "hint",
                "skipped",
                "first",
                "left",
                "done",
                "ladder",
                "answer",
                "commands",
                "no_socket",
                "list_header",
                "synack_note",
                "title",
                "error_went_on",
            ] {
                assert!(t.ui.contains_key(key), "{} ui.{key}", lang.code());
            }
        }
        // Both languages teach the same steps.
        let (en, zh) = (
            Texts::load(Lang::En).unwrap(),
            Texts::load(Lang::Zh).unwrap(),
        );
        for name in NAMES {
            let ids = |t: &Texts| -> Vec<String> {
                t.lessons[name].steps.iter().map(|s| s.id.clone()).collect()
            };
            assert_eq!(ids(&en), ids(&zh), "{name}");
        }
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            fill(
                "at {t} s: {kernel}",
                &[("t", "1.0".into()), ("kernel", "ESTAB".into())]
            ),
            "at 1.0 s: ESTAB"
        );
    }
}
