//! `help()`: builtins, layers, statements, script functions, and what a value offers.

use crate::lang::call::*;
use crate::lang::error::{error, suggest, ErrorKind, Result};
use crate::lang::helpers::write_out;

const BUILTINS: &[BuiltinEntry] = &[
    ("help", "help(x): a builtin, layer, field (TCP.dport), statement (help(for)), a value's methods (help(s)) or one method (help(s.send)); help() lists them", help),
];

pub fn install(it: &mut Interp) {
    it.register_all(BUILTINS);
    it.register_alias(
        "lsc",
        "help",
        "lsc(): the builtins, as help() lists them (scapy's name)",
    );
}

const STATEMENT_HELP: &[(&str, &str)] = &[
    ("if", "if cond { … } else if cond { … } else { … }"),
    (
        "else",
        "if cond { … } else { … }   (in the shell, `else` goes on the line of the `}`)",
    ),
    ("break", "break: leave the innermost for/while loop"),
    (
        "continue",
        "continue: go on with the next round of the innermost loop",
    ),
    ("return", "return value: leave the function (fn) with value"),
    (
        "in",
        "x in list|string|bytes|dict|range: membership; `for x in …` loops",
    ),
    ("and", "a and b (also &&): true when both are"),
    ("or", "a or b (also ||): the first true value"),
    ("not", "not a (also !): true when a is false; `x not in y`"),
    ("true", "true, false (True, False): the booleans"),
    ("false", "true, false (True, False): the booleans"),
    (
        "none",
        "none (None): no value; sr1() without an answer returns it",
    ),
    (
        "for",
        "for x in list|range|string|bytes { … }   (break, continue)",
    ),
    ("while", "while cond { … }   (break, continue)"),
    ("fn", "fn name(a, b=1) { … return value }"),
    (
        "assert",
        "assert cond, \"message\"   (exit status 1 when false)",
    ),
    (
        "include",
        "include \"other.tcs\"   (runs the file here; path relative to this file)",
    ),
];

fn help(it: &mut Interp, a: &mut Args) -> Result<Value> {
    let v = a.get(0, "name");
    a.finish(1)?;
    let text = match v {
        None => {
            let mut s = String::from("builtins:\n");
            let names = it.builtin_names();
            for n in &names {
                if let Some(Value::Builtin(b)) = it.builtin(n) {
                    s.push_str(&format!("  {}\n", b.help));
                }
            }
            s.push_str("layers: IP IPv6 TCP UDP ICMP ICMPv6 Raw Ether   (ls(TCP) lists fields)\n");
            s.push_str("statements (help(\"for\") or help(for) shows one):\n");
            for (k, h) in STATEMENT_HELP {
                if matches!(*k, "if" | "for" | "while" | "fn" | "assert" | "include") {
                    s.push_str(&format!("  {h}\n"));
                }
            }
            s
        }
        Some(Value::Builtin(b)) => format!("{}\n", b.help),
        Some(Value::LayerClass(k)) => format!(
            "{}(field=value, …): a layer; stack with /. Fields: {}\n",
            k.name(),
            crate::lang::packets::fields(k)
                .iter()
                .map(|f| f.name)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Some(Value::Func(f)) => {
            let params: Vec<String> = f.def.params.iter().map(|p| p.name.to_string()).collect();
            format!("fn {}({})\n", f.def.name, params.join(", "))
        }
        Some(Value::Str(s)) => match STATEMENT_HELP.iter().find(|(k, _)| *k == &*s) {
            Some((_, h)) => format!("{h}\n"),
            None => match it.builtin(&s).cloned() {
                Some(Value::Builtin(b)) => format!("{}\n", b.help),
                Some(Value::LayerClass(k)) => {
                    let mut args = Args::new("help", vec![Value::LayerClass(k)], a.span);
                    return help(it, &mut args);
                }
                _ => {
                    let names = it.builtin_names();
                    let hint = suggest(
                        &s,
                        names
                            .iter()
                            .map(|n| &**n)
                            .chain(STATEMENT_HELP.iter().map(|x| x.0)),
                    );
                    return Err(error(
                        a.span_of(0),
                        ErrorKind::UndefinedName {
                            name: s.to_string(),
                            suggestion: hint,
                        },
                    ));
                }
            },
        },
        Some(Value::Handle(h)) => handle_help(&*h),
        Some(other) => format!("a value of type {}\n", other.type_name()),
    };
    write_out(it, &text);
    Ok(Value::None)
}

/// `help(s)`: what the value is, its methods with their help lines, its attributes.
fn handle_help(h: &dyn Object) -> String {
    let mut s = format!("{}: {}\n", h.type_name(), h.display());
    if let Some(text) = h.help("") {
        s.push_str(&text);
        s.push('\n');
    }
    let names = h.names();
    let (methods, attrs): (Vec<&str>, Vec<&str>) = names.iter().partition(|n| h.help(n).is_some());
    if !methods.is_empty() {
        s.push_str("methods:\n");
        for m in methods {
            if let Some(line) = h.help(m) {
                s.push_str(&format!("  {line}\n"));
            }
        }
    }
    if !attrs.is_empty() {
        s.push_str(&format!("attributes: {}\n", attrs.join(" ")));
    }
    s
}
