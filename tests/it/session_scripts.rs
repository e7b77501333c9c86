//! Every `scripts/session_*.tcs` against the lab's real Linux server
//! (`tcpcraft lab run FILE`): each must finish with exit status 0, having drawn its
//! ladder. (The same scripts' dry runs are checked by tests/lang_golden.rs.)
//! Needs root: fails under CI=true when it cannot run, skips elsewhere.

use std::path::Path;
use std::process::Command;

use crate::session_bed;
use session_bed::can_run;

#[test]
fn session_scripts_run_in_the_lab() {
    if !can_run("session scripts in the lab") {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .expect("scripts/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("session_") && name.ends_with(".tcs")
        })
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 9, "{scripts:?}");
    let mut failures = Vec::new();
    for script in &scripts {
        let out = Command::new(env!("CARGO_BIN_EXE_tcpcraft"))
            .args(["--color", "never", "lab", "run"])
            .arg(script)
            .output()
            .expect("tcpcraft lab runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let drew = stdout.lines().any(|l| l.trim_start().starts_with("0.  "));
        if out.status.code() != Some(0) || !drew {
            failures.push(format!(
                "{}: exit {:?}\n{stdout}\n{stderr}",
                script.display(),
                out.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
