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

pub(crate) fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
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
