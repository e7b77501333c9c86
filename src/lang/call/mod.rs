//! The calling convention: everything a native function's signature names, and
//! nothing of how a script is evaluated.
//!
//! A builtin is `fn(&mut Interp, &mut Args) -> Result<Value>`: it reads its
//! arguments through [`Args`], works in the context [`Interp`] gives it (output, the
//! network, options, limits, [`Rng`]) and returns a [`Value`]. Values in turn carry
//! native functions ([`Builtin`]) and engine objects ([`Object`]) whose signatures name
//! `Interp` and `Args`: these types refer to one another, so they live together here,
//! below everything that defines builtins (`builtins/`, `packets`, `sniff`, `trace`,
//! `fragment`, `fuzz`) and below the evaluator (`interp`), which adds evaluation to
//! `Interp` and dispatches calls through the tables of [`registry`].
//!
//! - [`value`] — the run-time values and what they do (display, equality, ordering,
//!   format specs).
//! - [`args`] — a call's arguments.
//! - [`context`] — the interpreter's state as native code sees it; scopes; limits.
//! - [`registry`] — registering builtins and per-type methods, and finding them.
//! - [`rng`] — the script's random numbers.

pub mod args;
pub mod context;
pub mod registry;
pub mod rng;
pub mod value;

pub use args::{norm_index, Args};
pub use context::{
    Env, Frame, Interp, Limits, LivePrinter, Options, DEFAULT_MAX_MEMORY, DEFAULT_MAX_STEPS,
};
pub use registry::{BuiltinEntry, BuiltinFn, Method, MethodFn, Methods, Receiver};
pub use rng::Rng;
pub use value::*;
