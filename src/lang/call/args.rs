//! A native call's arguments: positional and keyword values with their spans, the
//! typed getters every builtin reads them with, and the check that nothing was left
//! over ([`Args::finish`]).

use super::value::Value;
use crate::lang::error::{error, Error, ErrorKind, Result, Span};
use std::rc::Rc;

/// Arguments of a native call, with keyword arguments and spans for messages.
pub struct Args {
    pub pos: Vec<Value>,
    pub pos_spans: Vec<Span>,
    pub kw: Vec<(Rc<str>, Value, Span)>,
    /// The whole call.
    pub span: Span,
    /// The function's name, for messages.
    pub name: Rc<str>,
}

impl Args {
    /// Arguments for a call made from Rust (tests, extension code).
    pub fn new(name: &str, pos: Vec<Value>, span: Span) -> Args {
        Args {
            pos_spans: vec![span; pos.len()],
            pos,
            kw: Vec::new(),
            span,
            name: Rc::from(name),
        }
    }

    /// A type error about this call.
    pub fn err(&self, msg: impl Into<String>) -> Error {
        error(self.span, ErrorKind::Type(msg.into()))
    }
    pub fn err_at(&self, span: Span, kind: ErrorKind) -> Error {
        error(span, kind)
    }

    /// Keyword argument `name` (removed, so [`Args::finish`] sees it was used).
    pub fn kw(&mut self, name: &str) -> Option<Value> {
        let i = self.kw.iter().position(|(k, _, _)| &**k == name)?;
        Some(self.kw.remove(i).1)
    }
    /// Span of keyword argument `name`, if given.
    pub fn kw_span(&self, name: &str) -> Option<Span> {
        self.kw.iter().find(|(k, _, _)| &**k == name).map(|k| k.2)
    }
    /// Argument number `i`, or the keyword `name`.
    pub fn get(&mut self, i: usize, name: &str) -> Option<Value> {
        if let Some(v) = self.kw(name) {
            return Some(v);
        }
        self.pos.get(i).cloned()
    }
    pub fn require(&mut self, i: usize, name: &str) -> Result<Value> {
        match self.get(i, name) {
            Some(v) => Ok(v),
            None => Err(error(
                self.span,
                ErrorKind::Arguments(format!("{}() needs the argument `{name}`", self.name)),
            )),
        }
    }
    pub fn span_of(&self, i: usize) -> Span {
        self.pos_spans.get(i).copied().unwrap_or(self.span)
    }
    /// Reject extra positional arguments and unknown keywords.
    pub fn finish(&self, max_pos: usize) -> Result<()> {
        if self.pos.len() > max_pos {
            return Err(error(
                self.span_of(max_pos),
                ErrorKind::Arguments(format!(
                    "{}() takes at most {max_pos} positional argument{}, got {}",
                    self.name,
                    if max_pos == 1 { "" } else { "s" },
                    self.pos.len()
                )),
            ));
        }
        if let Some((k, _, span)) = self.kw.first() {
            return Err(error(
                *span,
                ErrorKind::Arguments(format!("{}() has no argument `{k}`", self.name)),
            ));
        }
        Ok(())
    }

    pub fn int(&mut self, i: usize, name: &str) -> Result<Option<i64>> {
        match self.get(i, name) {
            None | Some(Value::None) => Ok(None),
            Some(Value::Int(n)) => Ok(Some(n)),
            Some(Value::Bool(b)) => Ok(Some(i64::from(b))),
            Some(v) => Err(self.err(format!(
                "{}(): `{name}` must be an integer, not {}",
                self.name,
                v.type_name()
            ))),
        }
    }
    pub fn float(&mut self, i: usize, name: &str) -> Result<Option<f64>> {
        match self.get(i, name) {
            None | Some(Value::None) => Ok(None),
            Some(Value::Int(n)) => Ok(Some(n as f64)),
            Some(Value::Float(f)) => Ok(Some(f)),
            Some(v) => Err(self.err(format!(
                "{}(): `{name}` must be a number, not {}",
                self.name,
                v.type_name()
            ))),
        }
    }
    pub fn string(&mut self, i: usize, name: &str) -> Result<Option<String>> {
        match self.get(i, name) {
            None | Some(Value::None) => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.to_string())),
            Some(v) => Err(self.err(format!(
                "{}(): `{name}` must be a string, not {}",
                self.name,
                v.type_name()
            ))),
        }
    }
}

/// Python-style index: negative counts from the end.
pub fn norm_index(i: i64, len: usize) -> Option<usize> {
    let len_i = i64::try_from(len).ok()?;
    let k = if i < 0 { i.checked_add(len_i)? } else { i };
    if k >= 0 && k < len_i {
        usize::try_from(k).ok()
    } else {
        None
    }
}
