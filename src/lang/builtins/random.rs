//! Random numbers (`randint`, `seed`) and the clock (`now`, `sleep`).

use crate::lang::call::*;
use crate::lang::error::{error, ErrorKind, Result};
use crate::lang::net::interruptible_sleep;

const BUILTINS: &[BuiltinEntry] = &[
    (
        "randint",
        "randint(lo, hi): random integer in lo..=hi",
        randint,
    ),
    (
        "seed",
        "seed(n): make random ports, sequence numbers and randint repeatable",
        seed,
    ),
    ("now", "now(): seconds (float) on a monotonic clock", now),
    (
        "sleep",
        "sleep(s): wait s seconds (Ctrl-C interrupts)",
        sleep,
    ),
];

pub fn install(it: &mut Interp) {
    it.register_all(BUILTINS);
}

fn randint(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let lo = a
        .int(0, "lo")?
        .ok_or_else(|| a.err("randint(lo, hi) needs two integers"))?;
    let hi = a
        .int(1, "hi")?
        .ok_or_else(|| a.err("randint(lo, hi) needs two integers"))?;
    a.finish(2)?;
    if lo > hi {
        return Err(a.err("randint(lo, hi): lo is greater than hi"));
    }
    Ok(Value::Int(it.rng.range(lo, hi)))
}

fn seed(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let n = a
        .int(0, "n")?
        .ok_or_else(|| a.err("seed(n) needs an integer"))?;
    a.finish(1)?;
    it.rng = Rng::seeded(n as u64);
    Ok(Value::None)
}

fn now(it: &mut Interp, a: &mut Args) -> Result<Value> {
    a.finish(0)?;
    Ok(Value::Float(it.start.elapsed().as_secs_f64()))
}

fn sleep(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let s = a.float(0, "seconds")?.unwrap_or(0.0);
    a.finish(1)?;
    it.check_sandbox("sleep", a.span)?;
    interruptible_sleep(s).map_err(|_| error(a.span, ErrorKind::Interrupted))?;
    Ok(Value::None)
}
