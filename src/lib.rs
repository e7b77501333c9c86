//! tcpcraft: raw-socket TCP/IP packet crafting.
//!
//! Layering (arrows point at what a module may use):
//! `packet` depends on nothing of ours; `lang`, `session`, `scan` depend on
//! `packet`; only `net` touches sockets and is the one module allowed `unsafe`.
#![deny(unsafe_code)]

pub mod decode;
pub mod history;
pub mod lang;
pub mod lesson;
// reason: the engine makes raw-socket, AF_PACKET, BPF and netns syscalls through libc;
// every unsafe block is confined to src/net/ and commented.
#[allow(unsafe_code)]
pub mod net;
pub mod packet;
pub mod pcap;
pub mod ping;
pub mod privileges;
pub mod repl;
pub mod scan;
pub mod session;
pub mod trace;
pub mod userfile;
