//! tcpcraft's integration tests, in one binary so the library links once (ripgrep's
//! `tests/tests.rs`, loxido's `tests/integration.rs`). Each module was a test file of
//! its own; `testbed` and `session_bed` are the shared network-namespace beds.
//! Run one area with a filter: `cargo test --test it session_`.

mod cli_decode;
mod display_hexdump;
mod display_json;
mod display_show;
mod display_summary;
mod display_tcpdump;
mod filter_tcpdump;
mod harden_bad_input;
mod harden_bounds;
mod harden_filter;
mod harden_loss;
mod harden_privileges;
mod harden_signals;
mod lang_golden;
mod lang_sniff_arp;
mod lang_sniff_live;
mod lang_sniff_store;
mod layering;
mod lesson;
mod net_diag;
mod net_engine;
mod net_fragment;
mod net_frames;
mod net_fuzz;
mod net_lab;
mod net_ping;
mod net_privileges;
mod net_ring;
mod net_trace;
mod scan_banners;
mod scan_cli;
mod scan_testbed;
mod session_bed;
mod session_guard;
mod session_handshake_cli;
mod session_learner;
mod session_live;
mod session_pcap;
mod session_scripts;
mod session_signals;
mod session_stack;
mod session_stack_packetdrill;
mod shell_pty;
mod structure;
mod testbed;
