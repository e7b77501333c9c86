//! Port-openness testing: planning (targets × ports, a seeded permutation, shards,
//! cookies) and the scan engine over `net`.

pub mod cookie;
pub mod perm;
pub mod ports;
pub mod probe;
pub mod result;
pub mod targets;
