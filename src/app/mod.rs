//! The application layer: where the program is wired together.
//!
//! Everything below it is a library that knows nothing of the others above it: the
//! language (`lang`) reaches the network only through its `Net` trait, sessions and the
//! scanner know sockets (`net`) and packets, not the language. Here the parts meet:
//! - [`cli`]: running scripts, `-c CODE` and stdin; backend choice (engine or dry run),
//!   `--pcap`, the exit status;
//! - [`repl`]: the interactive shell;
//! - [`lang_net`], [`lang_session`], [`lang_scan`]: the language bindings of the engine
//!   (`send`, `sr`, `sniff` …), of sessions (`session()`, `listen()`) and of the scanner
//!   (`scan()`);
//! - [`lesson`]: the lessons of `tcpcraft lab --lesson`;
//! - [`ping`]: `tcpcraft ping`, a script built into the binary;
//! - [`trace`]: `tcpcraft trace`, the language's `traceroute()` in a built-in script.
//!
//! Layering (a module uses only those to its left; checked by `tests/it/layering.rs`):
//! `packet` ← `lang`, `net` ← `session`, `scan` ← `app` ← `main`.

pub mod cli;
pub mod lang_net;
pub mod lang_scan;
pub mod lang_session;
pub mod lesson;
pub mod ping;
pub mod repl;
pub mod trace;
