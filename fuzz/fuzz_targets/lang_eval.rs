//! Script text → parse → evaluate under the untrusted limits (loop steps, call
//! depth, value sizes; no files, no sleep) with the dry-run backend: must never
//! panic or hang.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tcpcraft::lang::net::DryRun;
use tcpcraft::lang::{Interp, Limits};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut it = Interp::new(Box::new(DryRun::new(Box::new(|_| {}))), Box::new(std::io::sink()));
        it.limits = Limits::untrusted();
        if let Err(e) = it.run_source("<fuzz>", text, 1) {
            let _ = it.render_error(&e);
        }
    }
});
