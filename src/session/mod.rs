//! Hand-driven TCP sessions: the state machine, the ladder, the driver.

pub mod ladder;
pub mod state;
