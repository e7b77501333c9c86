//! The architecture's other rules, read from the source (tests/it/layering.rs checks the
//! layers):
//! - no import circles: inside every module, its child modules' `crate::`/`super::`/
//!   `self::` references form no cycle (a helper module never uses a module that uses it
//!   back; shared pieces live below both);
//! - `unsafe` only in the socket layer's system-call files, each use allowed item by
//!   item (the crate denies it: src/lib.rs);
//! - `libc` named only under src/net/.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every source file with its module path (`src/a/b.rs` → a::b, `src/a/mod.rs` → a).
fn modules() -> BTreeMap<Module, PathBuf> {
    let root = src();
    let mut files = Vec::new();
    super::layering::rust_files(&root, &mut files);
    let mut out = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&root).unwrap().with_extension("");
        let mut m: Module = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if m.last().is_some_and(|l| l == "mod") {
            m.pop();
        }
        if m == ["lib"] || m == ["main"] {
            m.clear();
        }
        out.insert(m, f);
    }
    out
}

/// The code of a file without comments and without its `#[cfg(test)] mod tests` (whose
/// `super::` means the file itself).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths a `crate::`/`super::`/`self::` reference names, `use` groups expanded:
/// `super::{a, b::{c, d}}` → super::a, super::b::c, super::b::d.
fn paths(code: &str) -> Vec<Vec<String>> {
    fn group(s: &[char], mut i: usize, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
        // s[i] is just after '{'.
        let mut cur = prefix.to_vec();
        let mut word = String::new();
        while i < s.len() {
            let c = s[i];
            if is_ident(c) {
                word.push(c);
            } else if c == ':' && s.get(i + 1) == Some(&':') {
                cur.push(std::mem::take(&mut word));
                i += 1;
            } else if c == '{' {
                i = group(s, i + 1, &cur, out);
                cur = prefix.to_vec();
            } else if c == ',' || c == '}' {
                if !word.is_empty() {
                    cur.push(std::mem::take(&mut word));
                }
                if cur.len() > prefix.len() {
                    out.push(cur.clone());
                }
                cur = prefix.to_vec();
                if c == '}' {
                    return i;
                }
            } else if (c == ' ' && word == "as") || (!c.is_whitespace() && c != '*') {
                word.clear();
            } else if c == ' ' && !word.is_empty() {
                // `x as y`: keep x, drop the rest.
                cur.push(std::mem::take(&mut word));
                while i < s.len() && s[i] != ',' && s[i] != '}' {
                    i += 1;
                }
                continue;
            }
            i += 1;
        }
        i
    }
    let s: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let starts = ["crate::", "super::", "self::"].iter().find(|k| {
            let k: Vec<char> = k.chars().collect();
            s[i..].starts_with(&k) && (i == 0 || !is_ident(s[i - 1]))
        });
        let Some(_) = starts else {
            i += 1;
            continue;
        };
        let mut segs = Vec::new();
        let mut word = String::new();
        while i < s.len() {
            let c = s[i];
            if is_ident(c) {
                word.push(c);
                i += 1;
            } else if c == ':' && s.get(i + 1) == Some(&':') {
                segs.push(std::mem::take(&mut word));
                i += 2;
                if s.get(i) == Some(&'{') {
                    i = group(&s, i + 1, &segs, &mut out);
                    segs.clear();
                    break;
                }
            } else {
                break;
            }
        }
        if !word.is_empty() {
            segs.push(word);
        }
        if !segs.is_empty() {
            out.push(segs);
        }
    }
    out
}

/// What each module re-exports from its children: `pub use child::{a, b}` in module m
/// maps (m, a) and (m, b) to m::child, so that `super::a` counts as a use of the child
/// that defines it.
type Reexports = BTreeMap<(Module, String), Module>;

fn reexports(mods: &BTreeMap<Module, PathBuf>) -> Reexports {
    let mut out = Reexports::new();
    for (m, f) in mods {
        for line in code(f).split(';') {
            let Some(rest) = line.trim_start().strip_prefix("pub use ") else {
                continue;
            };
            for p in paths(&format!("self::{}", rest.trim())) {
                let child: Module = m.iter().cloned().chain(p.get(1).cloned()).collect();
                if p.len() > 2 && mods.contains_key(&child) {
                    out.insert((m.clone(), p[p.len() - 1].clone()), child);
                }
            }
        }
    }
    out
}

/// The module a path in module `from` names: the longest module prefix of it, or the
/// child a name that module re-exports comes from.
fn resolve(
    from: &Module,
    path: &[String],
    mods: &BTreeMap<Module, PathBuf>,
    re: &Reexports,
) -> Option<Module> {
    let mut cur = from.clone();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            cur.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        _ => {}
    }
    while rest.first().is_some_and(|s| s == "super") {
        cur.pop()?;
        rest = &rest[1..];
    }
    let full: Module = cur.into_iter().chain(rest.iter().cloned()).collect();
    let found = (1..=full.len())
        .rev()
        .map(|k| full[..k].to_vec())
        .find(|m| mods.contains_key(m))?;
    match full.get(found.len()) {
        Some(name) => Some(
            re.get(&(found.clone(), name.clone()))
                .cloned()
                .unwrap_or(found),
        ),
        None => Some(found),
    }
}

/// Module → module references read from the source (test modules, `…/tests.rs`, stand
/// above what they test and are left out).
fn edges() -> BTreeSet<(Module, Module)> {
    let mods = modules();
    let re = reexports(&mods);
    let mut edges = BTreeSet::new();
    for (m, f) in &mods {
        if m.last().is_some_and(|l| l == "tests") {
            continue;
        }
        for p in paths(&code(f)) {
            if let Some(to) = resolve(m, &p, &mods, &re) {
                if &to != m {
                    edges.insert((m.clone(), to));
                }
            }
        }
    }
    edges
}

/// Circles that are one recursive type spread over files, each with why it cannot be cut:
/// a language value holds builtins, whose signature takes the interpreter and the
/// arguments, which hold values (`lang::call` is the calling convention, one unit to
/// the rest of `lang`, which sees no circle).
const ONE_TYPE: &[&str] = &["lang::call: args ↔ context ↔ registry ↔ value"];

/// Cycles among the children of each module, as lists of their names.
fn cycles() -> Vec<String> {
    let mods = modules();
    let edges = edges();
    let mut found = Vec::new();
    for parent in mods.keys() {
        let n = parent.len();
        let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
        for (a, b) in &edges {
            if a.len() > n && b.len() > n && a[..n] == parent[..] && b[..n] == parent[..] {
                let (ca, cb) = (a[..=n].to_vec(), b[..=n].to_vec());
                if ca != cb {
                    graph.entry(ca).or_default().insert(cb);
                }
            }
        }
        for scc in strongly_connected(&graph) {
            let names: Vec<String> = scc.iter().map(|m| m[n].clone()).collect();
            let at = if parent.is_empty() {
                "crate".to_string()
            } else {
                parent.join("::")
            };
            found.push(format!("{at}: {}", names.join(" ↔ ")));
        }
    }
    found
}

/// Tarjan's algorithm; components of more than one module.
fn strongly_connected(g: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct T<'a> {
        g: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<Module, usize>,
        low: BTreeMap<Module, usize>,
        stack: Vec<Module>,
        on: BTreeSet<Module>,
        out: Vec<Vec<Module>>,
    }
    fn visit(t: &mut T, v: &Module) {
        let i = t.index.len();
        t.index.insert(v.clone(), i);
        t.low.insert(v.clone(), i);
        t.stack.push(v.clone());
        t.on.insert(v.clone());
        for w in t.g.get(v).into_iter().flatten() {
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                t.on.remove(&w);
                let done = &w == v;
                comp.push(w);
                if done {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    let nodes: Vec<Module> = g.keys().cloned().collect();
    for v in &nodes {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn the_cycle_finder_sees_groups_and_relative_paths() {
    let p = paths("use super::{a, b::{c, d as e}, f::*};\nlet x = crate::net::sys::socket();");
    let want: Vec<Vec<String>> = [
        vec!["super", "a"],
        vec!["super", "b", "c"],
        vec!["super", "b", "d"],
        vec!["super", "f"],
        vec!["crate", "net", "sys", "socket"],
    ]
    .iter()
    .map(|v| v.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(p, want);
    let mut g = BTreeMap::new();
    let m = |s: &str| vec![s.to_string()];
    g.insert(m("a"), BTreeSet::from([m("b")]));
    g.insert(m("b"), BTreeSet::from([m("a"), m("c")]));
    assert_eq!(strongly_connected(&g), vec![vec![m("a"), m("b")]]);
    // A name the parent re-exports counts as the child that defines it.
    let mods: BTreeMap<Module, PathBuf> = [m("a"), vec!["a".into(), "b".into()]]
        .into_iter()
        .map(|k| (k, PathBuf::new()))
        .collect();
    let mut re = Reexports::new();
    re.insert((m("a"), "X".into()), vec!["a".into(), "b".into()]);
    let from = vec!["a".to_string(), "c".to_string()];
    let to = |p: &str| resolve(&from, &paths(p)[0], &mods, &re);
    assert_eq!(to("super::X::new()"), Some(vec!["a".into(), "b".into()]));
    assert_eq!(to("super::Y"), Some(m("a")));
    // The graph read from the source is not empty.
    let e = edges();
    let path = |s: &str| -> Module { s.split("::").map(String::from).collect() };
    for (a, b) in [
        ("packet::display::print_tcp", "packet::display::print_mptcp"),
        ("lang::interp", "lang::call"),
    ] {
        assert!(e.contains(&(path(a), path(b))), "{a} -> {b} not seen");
    }
    let nd = path("packet::display::nd");
    assert!(
        !e.iter().any(|(a, b)| a == &nd
            && b.starts_with(&path("packet::display"))
            && b != &path("packet::display")),
        "nd.rs, the printer's base, uses no other printer file"
    );
}

#[test]
fn no_import_circles() {
    let found: Vec<String> = cycles()
        .into_iter()
        .filter(|c| !ONE_TYPE.contains(&c.as_str()))
        .collect();
    assert!(
        found.is_empty(),
        "modules that use each other (move the shared piece below both):\n  {}",
        found.join("\n  ")
    );
}

/// The files that may hold `unsafe` (each use with `#[allow(unsafe_code)]` and a reason).
const UNSAFE_FILES: &[&str] = &[
    "net/sys.rs",
    "net/ring.rs",
    "net/txring.rs",
    "net/lab.rs",
    "net/testbed.rs",
    "net/signals.rs",
];

#[test]
fn unsafe_only_in_the_socket_layer_and_libc_only_under_net() {
    let root = src();
    let mut wrong = Vec::new();
    for f in modules().values() {
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = code(f);
        let unsafe_uses = text
            .match_indices("unsafe")
            .filter(|(i, _)| {
                let after = &text[i + 6..];
                !text[..*i].ends_with(|c: char| is_ident(c))
                    && !after.starts_with(|c: char| is_ident(c))
            })
            .count();
        let allows = text.matches("#[allow(unsafe_code)]").count();
        if unsafe_uses > 0 && !UNSAFE_FILES.contains(&rel.as_str()) {
            wrong.push(format!("src/{rel}: unsafe outside the socket layer"));
        }
        if text.contains("#![allow(unsafe_code)]") {
            wrong.push(format!("src/{rel}: a file-wide allow; allow item by item"));
        }
        // Each unsafe block or impl is allowed on its own (the allow's reason beside it).
        let blocks = text.matches("unsafe {").count() + text.matches("unsafe impl").count();
        if blocks > allows {
            wrong.push(format!(
                "src/{rel}: {blocks} unsafe blocks/impls but {allows} #[allow(unsafe_code)]"
            ));
        }
        if text.contains("libc::") && !rel.starts_with("net/") {
            wrong.push(format!("src/{rel}: names libc outside src/net/"));
        }
    }
    let lib = std::fs::read_to_string(root.join("lib.rs")).unwrap();
    assert!(
        lib.contains("#![deny(unsafe_code)]"),
        "src/lib.rs denies unsafe_code"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
