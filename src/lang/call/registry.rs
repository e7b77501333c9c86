//! Registration: builtin functions by name, and the methods of the language's own
//! value types (lists, strings, bytes, dicts, packets) by receiver type.
//!
//! Every builtin file installs itself through these calls; the evaluator finds
//! functions in the builtin table and methods in the method table, and `help()`, the
//! suggestions of "no method" errors and the shell's completion read the same tables.
//! Engine objects ([`Value::Handle`]) keep their own
//! dispatch through [`Object`](super::value::Object).

use super::args::Args;
use super::context::Interp;
use super::value::{Builtin, Value};
use crate::lang::error::{Result, Span};
use std::rc::Rc;

/// A builtin as a plain function, for tables of them ([`Interp::register_all`]).
pub type BuiltinFn = fn(&mut Interp, &mut Args) -> Result<Value>;

/// One entry of a builtin table: name, the help line `help(name)` shows, the code.
pub type BuiltinEntry = (&'static str, &'static str, BuiltinFn);

/// The value types whose methods live in the method table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receiver {
    List,
    Str,
    Bytes,
    Dict,
    /// Packets and replies (a reply's methods act on its packet).
    Packet,
}

impl Receiver {
    const COUNT: usize = 5;

    /// The receiver type of `v`, if its methods are in the table.
    pub fn of(v: &Value) -> Option<Receiver> {
        Some(match v {
            Value::List(_) => Receiver::List,
            Value::Str(_) => Receiver::Str,
            Value::Bytes(_) => Receiver::Bytes,
            Value::Dict(_) => Receiver::Dict,
            Value::Packet(_) | Value::Reply(_) => Receiver::Packet,
            _ => return None,
        })
    }
}

/// A method: `f(interp, receiver, args, at)`, where `at` is the span of
/// `receiver.name` (messages about the receiver point there) and `args.name` is the
/// method's name.
pub type MethodFn = fn(&mut Interp, &Value, &mut Args, Span) -> Result<Value>;

/// One method of a receiver type.
#[derive(Clone, Copy)]
pub struct Method {
    pub name: &'static str,
    /// The help line, in the form `l.append(x): add x at the end`.
    pub help: &'static str,
    pub f: MethodFn,
}

impl std::fmt::Debug for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<method {}>", self.name)
    }
}

/// The method table: each receiver type's methods in the order they were registered
/// (the order completion lists them and suggestions weigh them).
#[derive(Debug, Default)]
pub struct Methods {
    by_type: [Vec<Method>; Receiver::COUNT],
}

impl Methods {
    /// The methods of one receiver type.
    pub fn of(&self, ty: Receiver) -> &[Method] {
        self.by_type.get(ty as usize).map_or(&[], Vec::as_slice)
    }

    /// Method `name` of receiver type `ty`.
    pub fn find(&self, ty: Receiver, name: &str) -> Option<&Method> {
        self.of(ty).iter().find(|m| m.name == name)
    }
}

impl Interp {
    /// Add a builtin function (the extension point for `session()`, `listen()`,
    /// `scan()` …). `help` is the one-line text `help(name)` shows; start it with the
    /// call form, e.g. `"session(dst, dport, sport=, isn=): drive a TCP connection by hand"`.
    pub fn register<F>(&mut self, name: &str, help: &str, f: F)
    where
        F: Fn(&mut Interp, &mut Args) -> Result<Value> + 'static,
    {
        let b = Builtin {
            name: Rc::from(name),
            help: Rc::from(help),
            f: Rc::new(f),
        };
        self.builtins
            .insert(Rc::from(name), Value::Builtin(Rc::new(b)));
    }

    /// Add a table of builtins, in order.
    pub fn register_all(&mut self, table: &[BuiltinEntry]) {
        for &(name, help, f) in table {
            self.register(name, help, f);
        }
    }

    /// Add `name` as another name of the builtin `of` (scapy's spellings), with its own
    /// help line. Nothing happens if `of` is not a builtin function.
    pub fn register_alias(&mut self, name: &str, of: &str, help: &str) {
        let Some(Value::Builtin(b)) = self.builtins.get(of).cloned() else {
            return;
        };
        let alias = Builtin {
            name: Rc::from(name),
            help: Rc::from(help),
            f: b.f.clone(),
        };
        self.builtins
            .insert(Rc::from(name), Value::Builtin(Rc::new(alias)));
    }

    /// Add a builtin constant or class value.
    pub fn register_value(&mut self, name: &str, v: Value) {
        self.builtins.insert(Rc::from(name), v);
    }

    /// Add methods to a receiver type (after those it has; a name given again
    /// replaces the earlier method in place).
    pub fn register_methods(&mut self, ty: Receiver, table: &[Method]) {
        let Some(list) = self.methods.by_type.get_mut(ty as usize) else {
            return;
        };
        for m in table {
            match list.iter_mut().find(|x| x.name == m.name) {
                Some(slot) => *slot = *m,
                None => list.push(*m),
            }
        }
    }

    /// Names of every builtin (completion, `help()`).
    pub fn builtin_names(&self) -> Vec<Rc<str>> {
        let mut v: Vec<Rc<str>> = self.builtins.keys().cloned().collect();
        v.sort();
        v
    }
    pub fn builtin(&self, name: &str) -> Option<&Value> {
        self.builtins.get(name)
    }

    /// The methods of `v`'s type in the method table (none for other values).
    pub fn methods_of(&self, v: &Value) -> &[Method] {
        Receiver::of(v).map_or(&[], |ty| self.methods.of(ty))
    }
}
