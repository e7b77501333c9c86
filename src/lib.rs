//! tcpcraft: raw-socket TCP/IP packet crafting.
//!
//! Layering (a module uses only those to its left; `tests/layering.rs` checks it):
//! `packet` ← `lang`, `net` ← `session`, `scan` ← `app` ← `main`. `packet` depends on
//! nothing of ours; the language reaches the network only through its `Net` trait;
//! only `net` touches sockets and is the one module allowed `unsafe`; `app` wires the
//! program (see its module comment). `cancel` and `exit` sit below everything.
#![deny(unsafe_code)]

pub mod app;
pub mod cancel;
pub mod decode;
pub mod exit;
pub mod history;
pub mod lang;
// reason: the engine makes raw-socket, AF_PACKET, BPF and netns syscalls through libc;
// every unsafe block is confined to src/net/ and commented.
#[allow(unsafe_code)]
pub mod net;
pub mod packet;
pub mod pcap;
pub mod privileges;
pub mod scan;
pub mod session;
pub mod userfile;
