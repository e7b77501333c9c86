//! The tcpcraft language: lexer → parser → AST → evaluator, with packets as values.
//!
//! No sockets here: the network is reached only through the [`net::Net`] trait,
//! which the dry-run backend ([`net::DryRun`]) and the engine (`src/net/`)
//! implement. Front ends: [`cli`] (scripts, `-c`, stdin) and `crate::app::repl`.

pub mod ast;
pub mod builtins;
pub mod error;
pub mod fragment;
pub mod fuzz;
pub mod interp;
pub mod lexer;
pub mod net;
pub mod packets;
pub mod parser;
pub mod sniff;
pub mod trace;
pub mod value;

pub use error::{Error, ErrorKind, Span};
pub use interp::{Args, Interp, Limits, Options};
pub use net::{Net, Reply};
pub use value::{Object, Value};

#[cfg(test)]
mod tests;
