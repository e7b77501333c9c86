//! Exit statuses, in one place (EXIT STATUS in tcpcraft(1)). Every command returns one
//! of these through `main`; [`crate::cancel::exit_status`] turns a run a signal cut
//! short into 128 + the signal's number.

/// Success (for `scan`: at least one port open; for `ping`: an answer).
pub const OK: u8 = 0;
/// An `assert` or an expectation failed; `scan`: no port open; `ping`: no answer.
pub const FAILED: u8 = 1;
/// A script error (syntax, type, name …) or a command-line error.
pub const USAGE: u8 = 2;
/// A system error: privileges, interface, file.
pub const SYSTEM: u8 = 3;
/// Stopped by Ctrl-C (128 + SIGINT).
pub const SIGINT: u8 = 130;
