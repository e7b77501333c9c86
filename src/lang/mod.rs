//! The tcpcraft language: lexer → parser → AST → evaluator, with packets as values.
//!
//! No sockets here: the network is reached only through the [`net::Net`] trait,
//! which the dry-run backend ([`net::DryRun`]) and the engine's binding
//! (`crate::app::lang_net`) implement. Front ends: `crate::app::cli` (scripts, `-c`, stdin) and `crate::app::repl`.
//!
//! The modules, from the bottom up (tests/it/structure.rs checks there is no circle):
//! the syntax ([`error`], [`lexer`], [`ast`], [`parser`]) and the [`net`] trait;
//! the calling convention ([`call`]: values, arguments, the interpreter's state,
//! the builtin and method tables); [`packets`] (layers as values), [`options`]
//! (TCP and IP option constructors) and the
//! [`helpers`] builtins share; the builtins by concern ([`builtins`], with
//! [`sniff`], [`trace`], [`fragment`], [`fuzz`]); the evaluator ([`interp`]).

pub mod ast;
pub mod builtins;
pub mod call;
pub mod error;
pub mod fragment;
pub mod fuzz;
pub mod helpers;
pub mod interp;
pub mod lexer;
pub mod net;
pub mod options;
pub mod packets;
pub mod parser;
pub mod sniff;
pub mod trace;

pub use call::{Args, Interp, Limits, Object, Options, Value};
pub use error::{Error, ErrorKind, Span};
pub use net::{Net, Reply};

#[cfg(test)]
mod tests;
