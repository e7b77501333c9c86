//! tcpcraft: raw-socket TCP/IP packet crafting.
//!
//! Layering (a module uses only those to its left; `tests/it/layering.rs` checks it):
//! `packet` ← `lang`, `net` ← `session`, `scan` ← `app` ← `main`. `packet` depends on
//! nothing of ours; the language reaches the network only through its `Net` trait;
//! only `net` touches sockets; `unsafe` is denied everywhere and allowed item by item, with
//! its reason, only in the socket layer's system-call files (`net/sys.rs`, the rings in
//! `net/ring.rs` and `net/txring.rs`, and the pre-exec and signal-handler steps of
//! `net/lab.rs`, `net/testbed.rs`, `net/signals.rs`; tests/it/structure.rs holds the list);
//! `libc` is named only under `net/`; `app` wires the
//! program (see its module comment). `cancel` and `exit` sit below everything.
#![deny(unsafe_code)]

pub mod app;
pub mod cancel;
pub mod decode;
pub mod exit;
pub mod history;
pub mod lang;
pub mod net;
pub mod packet;
pub mod pcap;
pub mod privileges;
pub mod scan;
pub mod session;
pub mod userfile;
