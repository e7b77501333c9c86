//! The engine: the only module of tcpcraft that makes syscalls.
//!
//! Pure parts (matching, filters, BPF, the byte-level wire facts) are unit-tested with
//! byte vectors; the socket parts are exercised by `tests/net_*.rs` in the test bed.

pub mod bpf;
pub mod capture;
pub mod engine;
pub mod filter;
pub mod guard;
pub mod matching;
pub mod netlink;
pub mod ring;
pub mod route;
pub mod send;
pub mod sys;
pub mod testbed;
pub mod wire;

pub use engine::{
    check_privileges, permission_message, Engine, EngineOptions, NetError, Probe, Reply,
    SrResult, Sniffed, Unmatched,
};
pub use matching::AnswerKind;
