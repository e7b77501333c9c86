//! The only module with syscalls: raw send, capture, matching, the kernel-RST guard.

pub mod guard;
