//! The standard builtins, by concern, each file with its own table and `install`:
//!
//! - [`values`] — values and types (`str`, `int`, `len`, `bytes`, `hex`, `exit` …)
//! - [`math`] — numbers and lists of them (`min`, `sum`, `sorted`, `range` …)
//! - [`print`](mod@print) — output (`print`, `format`, `show`, `hexdump`, `summary`)
//! - [`help`] — `help()` and `lsc()`
//! - [`random`] — `randint`, `seed`, and the clock (`now`, `sleep`)
//! - [`files`] — captures (`rdpcap`, `wrpcap`)
//! - [`net`] — the network (`send`, `sr`, `sr1`, `sniff` and scapy's frame names)
//! - [`methods`] — the methods of lists, strings, bytes, dicts and packets
//!
//! Packets' own builtins (layers, options, `ls`) are in `packets`, and the larger
//! network features in their own modules (`sniff`, `trace`, `fragment`, `fuzz`);
//! [`install`] puts them all in.

use super::call::Interp;

pub mod files;
pub mod help;
pub mod math;
pub mod methods;
pub mod net;
pub mod print;
pub mod random;
pub mod values;

/// Install every builtin and method of the language.
pub fn install(it: &mut Interp) {
    super::sniff::install(it);
    print::install(it);
    values::install(it);
    help::install(it);
    random::install(it);
    math::install(it);
    files::install(it);
    net::install(it);
    methods::install(it);
    super::packets::install(it);
    super::options::install(it);
    super::trace::install(it);
    super::fragment::install(it);
    super::fuzz::install(it);
}
