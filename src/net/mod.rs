//! The engine: the only module of tcpcraft that makes syscalls.
//!
//! Pure parts (matching, filters, BPF, the byte-level wire facts) are unit-tested with
//! byte vectors; the socket parts are exercised by `tests/net_*.rs` in the test bed.

pub mod bpf;
pub mod filter;
pub mod guard;
pub mod matching;
pub mod netlink;
pub mod sys;
pub mod wire;
