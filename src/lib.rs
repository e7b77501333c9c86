//! tcpcraft: raw-socket TCP/IP packet crafting.
//!
//! Layering (arrows point at what a module may use):
//! `packet` depends on nothing of ours; `lang`, `session`, `scan` depend on
//! `packet`; only `net` touches sockets and is the one module allowed `unsafe`.
#![deny(unsafe_code)]

pub mod decode;
pub mod lang;
pub mod packet;
pub mod pcap;
pub mod repl;
