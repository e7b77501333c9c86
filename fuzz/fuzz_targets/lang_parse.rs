//! Script text → lexer → parser must never panic (nesting is limited).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = tcpcraft::lang::parser::parse(text, 0) {
            let mut sources = tcpcraft::lang::error::Sources::default();
            sources.add("<fuzz>", text, 1);
            let _ = tcpcraft::lang::error::render(&e, &sources, false);
        }
    }
});
