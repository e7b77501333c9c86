//! Numbers and lists of them: `min`, `max`, `sum`, `median`, `abs`, `sorted`, `range`.

use crate::lang::call::*;
use crate::lang::error::Result;

const BUILTINS: &[BuiltinEntry] = &[
    ("min", "min(list) or min(a, b, …): smallest value", min),
    ("max", "max(list) or max(a, b, …): largest value", max),
    ("sum", "sum(list): total of numbers", sum),
    (
        "median",
        "median(list): middle value of numbers (mean of the two middle ones)",
        median,
    ),
    ("abs", "abs(x): absolute value", abs),
    ("sorted", "sorted(list): a sorted copy", sorted),
    (
        "range",
        "range(stop) / range(start, stop, step=1): numbers start ≤ n < stop",
        range,
    ),
];

pub fn install(it: &mut Interp) {
    it.register_all(BUILTINS);
}

fn min(_: &mut Interp, a: &mut Args) -> Result<Value> {
    minmax(a, true)
}

fn max(_: &mut Interp, a: &mut Args) -> Result<Value> {
    minmax(a, false)
}

fn sum(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let items = items_of(a)?;
    let mut int: Option<i64> = Some(0);
    let mut fl = 0.0f64;
    for v in &items {
        match v {
            Value::Int(n) => {
                int = int.and_then(|s| s.checked_add(*n));
                fl += *n as f64;
            }
            Value::Float(f) => {
                int = None;
                fl += f;
            }
            other => return Err(a.err(format!("sum() adds numbers, not {}", other.type_name()))),
        }
    }
    Ok(int.map_or(Value::Float(fl), Value::Int))
}

fn median(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let items = items_of(a)?;
    let mut nums: Vec<f64> = Vec::with_capacity(items.len());
    for v in &items {
        match v {
            Value::Int(n) => nums.push(*n as f64),
            Value::Float(f) => nums.push(*f),
            other => {
                return Err(a.err(format!("median() takes numbers, not {}", other.type_name())))
            }
        }
    }
    if nums.is_empty() {
        return Ok(Value::None);
    }
    nums.sort_by(|x, y| x.total_cmp(y));
    let n = nums.len();
    let m = if n % 2 == 1 {
        nums.get(n / 2).copied().unwrap_or(0.0)
    } else {
        (nums.get(n / 2 - 1).copied().unwrap_or(0.0) + nums.get(n / 2).copied().unwrap_or(0.0))
            / 2.0
    };
    let all_int = items.iter().all(|v| matches!(v, Value::Int(_)));
    Ok(if all_int && m.fract() == 0.0 {
        Value::Int(m as i64)
    } else {
        Value::Float(m)
    })
}

fn abs(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let v = a.require(0, "x")?;
    a.finish(1)?;
    match v {
        Value::Int(n) => n
            .checked_abs()
            .map(Value::Int)
            .ok_or_else(|| a.err("abs(): integer overflow")),
        Value::Float(f) => Ok(Value::Float(f.abs())),
        other => Err(a.err(format!("abs() takes a number, not {}", other.type_name()))),
    }
}

fn sorted(_: &mut Interp, a: &mut Args) -> Result<Value> {
    let mut items = items_of(a)?;
    let mut bad = false;
    items.sort_by(|x, y| {
        compare(x, y).unwrap_or_else(|| {
            bad = true;
            std::cmp::Ordering::Equal
        })
    });
    if bad {
        return Err(a.err("sorted(): values cannot be compared"));
    }
    Ok(Value::list(items))
}

fn range(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let x = a
        .int(0, "start")?
        .ok_or_else(|| a.err("range() needs an integer"))?;
    let y = a.int(1, "stop")?;
    let step = a.int(2, "step")?.unwrap_or(1);
    a.finish(3)?;
    let (start, stop) = match y {
        Some(y) => (x, y),
        None => (0, x),
    };
    if step == 1 {
        return Ok(Value::Range(start, stop, false));
    }
    if step == 0 {
        return Err(a.err("range(): step must not be zero"));
    }
    let mut v = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        if v.len() >= it.limits.max_len {
            return Err(a.err("range(): too many values"));
        }
        v.push(Value::Int(i));
        i = match i.checked_add(step) {
            Some(n) => n,
            None => break,
        };
    }
    Ok(Value::list(v))
}

fn items_of(a: &mut Args) -> Result<Vec<Value>> {
    if a.pos.len() == 1 {
        if let Some(v) = a.pos.first() {
            return match v {
                Value::List(l) => Ok(l.borrow().clone()),
                Value::Range(x, y, inc) => {
                    if range_len(*x, *y, *inc) > 1 << 24 {
                        return Err(a.err("range too long"));
                    }
                    let end = if *inc { *y } else { y.saturating_sub(1) };
                    Ok(if range_len(*x, *y, *inc) == 0 {
                        vec![]
                    } else {
                        (*x..=end).map(Value::Int).collect()
                    })
                }
                other => Err(a.err(format!(
                    "{}() takes a list or several values, not a {}",
                    a.name,
                    other.type_name()
                ))),
            };
        }
    }
    a.finish(usize::MAX)?;
    Ok(a.pos.clone())
}

fn minmax(a: &mut Args, min: bool) -> Result<Value> {
    let items = items_of(a)?;
    let mut best: Option<Value> = None;
    for v in items {
        best = Some(match best {
            None => v,
            Some(b) => {
                let o = compare(&v, &b).ok_or_else(|| {
                    a.err(format!(
                        "{}(): cannot compare {} and {}",
                        a.name,
                        v.type_name(),
                        b.type_name()
                    ))
                })?;
                let take = if min { o.is_lt() } else { o.is_gt() };
                if take {
                    v
                } else {
                    b
                }
            }
        });
    }
    best.ok_or_else(|| a.err(format!("{}() of nothing", a.name)))
}
