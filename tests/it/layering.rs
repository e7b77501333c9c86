//! The architecture's layering, checked: a module uses only the modules below it
//! (src/app/mod.rs): `packet` ← `lang`, `net` ← `session`, `scan` ← `app` ← `main`,
//! with the small shared pieces (`cancel`, `exit`, `userfile`, `pcap`) at the bottom.
//! Read from the source, so a `crate::…` path that points upward fails here.

use std::collections::BTreeSet;
use std::path::Path;

/// What each top-level module may name with `crate::…` (besides itself).
fn allowed(module: &str) -> Option<&'static [&'static str]> {
    const BOTTOM: &[&str] = &["cancel", "exit", "userfile"];
    Some(match module {
        "cancel" | "exit" | "userfile" => BOTTOM,
        "packet" => &[],
        "pcap" => &["packet", "userfile"],
        // `tcpcraft decode`: captures through the printer (and libpcap's filters).
        "decode" => &["packet", "pcap", "userfile", "net", "cancel", "exit"],
        "lang" => &["packet", "pcap", "userfile", "cancel", "exit"],
        "net" => &["packet", "pcap", "userfile", "cancel", "exit"],
        "privileges" => &["net"],
        "history" => &["net", "privileges"],
        "session" | "scan" => &["net", "packet", "pcap", "userfile", "cancel", "exit"],
        "app" => &[
            "lang",
            "net",
            "session",
            "scan",
            "packet",
            "pcap",
            "userfile",
            "cancel",
            "exit",
            "history",
            "privileges",
            "decode",
        ],
        _ => return None,
    })
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_module_uses_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = BTreeSet::new();
    let mut modules = BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "main" || module == "lib" {
            continue;
        }
        modules.insert(module.clone());
        let allow = allowed(&module)
            .unwrap_or_else(|| panic!("src/{first}: a new top-level module; give it a layer here"));
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for (i, _) in line.match_indices("crate::") {
                let used: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if used != module && !allow.contains(&used.as_str()) {
                    wrong.insert(format!(
                        "src/{}:{}: {module} uses {used}",
                        rel.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        modules.contains("app") && modules.contains("packet"),
        "{modules:?}"
    );
    assert!(
        wrong.is_empty(),
        "upward imports:\n{}",
        wrong.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// The tcpdump printer's files (src/packet/display/*.rs) import one another without a
/// circle: read `super::x::…`, `use super::{x::…}` and `crate::packet::display::x::…`
/// from the source and look for a cycle in that graph.
#[test]
fn display_modules_import_no_circle() {
    use std::collections::BTreeMap;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/packet/display");
    let mut text = BTreeMap::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        if p.extension().is_some_and(|x| x == "rs") && stem != "mod" {
            let s = std::fs::read_to_string(&p).unwrap();
            let code: Vec<&str> = s
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect();
            text.insert(stem, code.join("\n"));
        }
    }
    let ident = |s: &str| -> usize {
        s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len())
    };
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (m, s) in &text {
        let mut names = Vec::new();
        for prefix in ["super::", "crate::packet::display::"] {
            for (i, _) in s.match_indices(prefix) {
                let rest = &s[i + prefix.len()..];
                if let Some(group) = rest.strip_prefix('{') {
                    // `{a::x, b::{y, z}}`: the name before each `::`.
                    let group = &group[..group.find(';').unwrap_or(group.len())];
                    for (j, _) in group.match_indices("::") {
                        let before = &group[..j];
                        let start = before
                            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .map_or(0, |k| k + 1);
                        names.push(&before[start..]);
                    }
                } else if rest[ident(rest)..].starts_with("::") {
                    names.push(&rest[..ident(rest)]);
                }
            }
        }
        let uses = names
            .into_iter()
            .filter_map(|n| text.get_key_value(n).map(|(k, _)| k.as_str()))
            .filter(|n| n != m)
            .collect();
        edges.insert(m, uses);
    }
    assert!(edges["print_tcp"].contains("print_mptcp") && edges["nd"].is_empty());
    // Depth-first; a module met again while still on the path closes a circle.
    fn visit<'a>(
        m: &'a str,
        edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(at) = path.iter().position(|p| *p == m) {
            panic!("import circle: {} -> {m}", path[at..].join(" -> "));
        }
        if done.insert(m) {
            path.push(m);
            for n in &edges[m] {
                visit(n, edges, path, done);
            }
            path.pop();
        }
    }
    let mut done = BTreeSet::new();
    for m in edges.keys() {
        visit(m, &edges, &mut Vec::new(), &mut done);
    }
}

/// No import circles inside `lang/`: the graph of `use super::X`, `super::X::…` and
/// `crate::lang::X` references among its modules (a folder module is one node; a name
/// `lang/mod.rs` re-exports counts as the module it comes from) has no cycle.
#[test]
fn lang_modules_have_no_circles() {
    use std::collections::{BTreeMap, BTreeSet};
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read src/lang") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let lang = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lang");
    let mut files = Vec::new();
    walk(&lang, &mut files);
    // Node of each file, and how many `super::` lead from its top level to `lang`.
    let node_of = |f: &Path| -> Option<(String, usize)> {
        let rel: Vec<String> = f
            .strip_prefix(&lang)
            .ok()?
            .iter()
            .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        match rel.as_slice() {
            [m] if m == "mod" => None,
            [m] => Some((m.clone(), 1)),
            [dir, rest @ ..] => {
                let depth = rest.len() + usize::from(rest.last().is_some_and(|l| l != "mod"));
                Some((dir.clone(), depth))
            }
            [] => None,
        }
    };
    let nodes: BTreeSet<String> = files
        .iter()
        .filter_map(|f| node_of(f))
        .map(|n| n.0)
        .collect();
    // `pub use X::{A, B};` in lang/mod.rs: A and B name module X.
    let mut reexport: BTreeMap<String, String> = BTreeMap::new();
    let root = std::fs::read_to_string(lang.join("mod.rs")).unwrap();
    for line in root.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let rest = rest.trim_end_matches(';');
        let (module, items) = rest.split_once("::").unwrap_or((rest, ""));
        for item in items.trim_matches(|c| c == '{' || c == '}').split(',') {
            let name = item.split(" as ").last().unwrap_or("").trim();
            if !name.is_empty() {
                reexport.insert(name.to_string(), module.to_string());
            }
        }
    }
    let resolve = |name: &str| -> Option<String> {
        if nodes.contains(name) {
            Some(name.to_string())
        } else {
            reexport.get(name).cloned()
        }
    };
    // The first path segment of each item of a `use` group `{a, b::c, d::{e, f}}`.
    fn group_heads(text: &str) -> Vec<String> {
        let mut heads = Vec::new();
        let (mut depth, mut at_item) = (0, true);
        let mut cur = String::new();
        for c in text.chars() {
            if at_item && depth == 1 && (c.is_alphanumeric() || c == '_') {
                cur.push(c);
                continue;
            }
            if !cur.is_empty() {
                heads.push(std::mem::take(&mut cur));
                at_item = false;
            }
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ',' if depth == 1 => at_item = true,
                _ => {}
            }
        }
        heads
    }
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let Some((from, depth)) = node_of(f) else {
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        // Inside an inline `mod x {` (tests), one more `super::` leads to `lang`.
        let mut inline = 0;
        for line in text.lines() {
            let t = line.trim_start();
            if line.starts_with("mod ") || line.starts_with("pub mod ") {
                if line.trim_end().ends_with('{') {
                    inline += 1;
                }
                continue;
            }
            if line == "}" && inline > 0 {
                inline -= 1;
                continue;
            }
            if t.starts_with("//") {
                continue;
            }
            let mut targets = Vec::new();
            for (i, _) in line.match_indices("crate::lang::") {
                let rest = &line[i + "crate::lang::".len()..];
                if rest.starts_with('{') {
                    targets.extend(group_heads(rest));
                } else {
                    targets.push(ident(rest));
                }
            }
            let want = depth + inline;
            let mut i = 0;
            while let Some(k) = line[i..].find("super::") {
                let start = i + k;
                let preceded = line[..start]
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
                let mut n = 0;
                let mut rest = &line[start..];
                while let Some(r) = rest.strip_prefix("super::") {
                    n += 1;
                    rest = r;
                }
                i = line.len() - rest.len();
                if preceded || n != want {
                    continue;
                }
                if rest.starts_with('{') {
                    targets.extend(group_heads(rest));
                } else {
                    targets.push(ident(rest));
                }
            }
            for t in targets {
                if let Some(to) = resolve(&t) {
                    if to != from {
                        edges.entry(from.clone()).or_default().insert(to);
                    }
                }
            }
        }
    }
    assert!(
        edges.get("interp").is_some_and(|e| e.contains("call")),
        "the graph looks empty: {edges:?}"
    );
    // Depth-first search; a back edge is a circle.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(2) => return None,
            Some(1) => {
                let from = path.iter().position(|p| p == n).unwrap_or(0);
                let mut circle = path[from..].to_vec();
                circle.push(n.to_string());
                return Some(circle);
            }
            _ => {}
        }
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in &nodes {
        let mut path = Vec::new();
        if let Some(circle) = visit(n, &edges, &mut state, &mut path) {
            panic!(
                "import circle in src/lang: {}\nall references: {edges:#?}",
                circle.join(" → ")
            );
        }
    }
}
