//! Displays of a packet: the one-line tcpdump summary, scapy's `show2()` field tree, a
//! hexdump and JSON. Pure functions returning text (or a JSON value); none can panic,
//! whatever the packet holds.

mod apps;
mod dns;
mod fields;
mod hexdump;
mod ip6ext;
mod iproto;
mod json;
mod link;
mod literal;
mod show;
mod summary;
mod tunnel;
mod wifi;

pub use hexdump::hexdump;
pub use json::json;
pub use link::{dlt, dlt_known, ip_offset, summary_dlt, summary_dlt_into};
pub use literal::{bytes_repr, option_pattern_text, option_text};
pub use show::show;
pub use summary::{ip6_string, summary, summary_bytes, summary_captured};
