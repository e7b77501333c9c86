//! The tree-walking evaluator: scopes, statements, expressions, calls.
//!
//! Scoping: a function call gets its own scope whose parent is the scope the
//! function was defined in (lexical). Reading a name walks outwards to the globals
//! and then the builtins; assigning always writes the current function's scope (as
//! in Python without `global`), so a helper never clobbers a caller's variable.
//! Blocks (`if`, `for`, `while`) do not open scopes.
//!
//! The interpreter's state ([`Interp`]) and the calling convention are in `call/`;
//! this file adds evaluation to it. Builtins are found in the builtin table and the
//! methods of lists, strings, bytes, dicts and packets in the method table
//! ([`call::registry`](super::call::registry)); engine objects answer their own.

use super::ast::*;
use super::call::context::lookup;
use super::call::*;
use super::error::{error, suggest, ErrorKind, Result, Span};
use super::net::{interrupted, Net};
use super::{builtins, packets, parser};
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::rc::Rc;

enum Flow {
    Normal,
    Break,
    Continue,
    Return(Value),
}

impl Interp {
    /// An interpreter with every builtin, sending through `net`, printing to `out`.
    pub fn new(net: Box<dyn Net>, out: Box<dyn Write>) -> Interp {
        let mut it = Interp::bare(net, out);
        builtins::install(&mut it);
        it
    }

    /// Parse and run `text` as source `name`. Returns the value of the last
    /// statement when it is an expression (the REPL echoes it).
    pub fn run_source(
        &mut self,
        name: &str,
        text: &str,
        first_line: usize,
    ) -> Result<Option<Value>> {
        // The step budget is per run (per entry in the shell).
        if self.depth == 0 {
            self.steps = 0;
        }
        let file = self.sources.add(name, text, first_line);
        let stmts = parser::parse(text, file)?;
        let env = self.globals.clone();
        let mut last = None;
        for (i, s) in stmts.iter().enumerate() {
            if let (StmtKind::Expr(e), true) = (&s.kind, i + 1 == stmts.len()) {
                last = Some(self.eval(e, &env)?);
            } else {
                match self.exec(s, &env)? {
                    Flow::Normal => {}
                    // the parser rejects these outside loops/functions
                    Flow::Break | Flow::Continue | Flow::Return(_) => break,
                }
            }
        }
        let _ = self.out.flush();
        Ok(last)
    }

    fn tick(&mut self, span: Span) -> Result<()> {
        self.steps += 1;
        if self.steps > self.limits.max_steps {
            return Err(error(
                span,
                ErrorKind::Limit(format!(
                    "step limit of {} loop iterations and calls reached (--max-steps raises it)",
                    self.limits.max_steps
                )),
            ));
        }
        if let Some(heap) = self.limits.heap_in_use {
            let used = heap();
            if used > self.limits.max_memory {
                return Err(error(
                    span,
                    ErrorKind::Limit(format!(
                        "memory budget of {} MiB exceeded ({} MiB in use; --max-memory raises it)",
                        self.limits.max_memory >> 20,
                        used >> 20
                    )),
                ));
            }
        }
        if interrupted() {
            return Err(error(span, ErrorKind::Interrupted));
        }
        Ok(())
    }

    fn exec_block(&mut self, stmts: &[Stmt], env: &Env) -> Result<Flow> {
        for s in stmts {
            match self.exec(s, env)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn exec(&mut self, s: &Stmt, env: &Env) -> Result<Flow> {
        match &s.kind {
            StmtKind::Expr(e) => {
                self.eval(e, env)?;
            }
            StmtKind::Assign { target, op, value } => {
                let mut v = self.eval(value, env)?;
                if let Some(op) = op {
                    let cur = self.eval(target, env)?;
                    v = self.binop(*op, cur, v, s.span)?;
                }
                self.assign(target, v, env, value.span)?;
            }
            StmtKind::If { cond, then, els } => {
                if self.eval(cond, env)?.truthy() {
                    return self.exec_block(then, env);
                } else if let Some(els) = els {
                    return self.exec_block(els, env);
                }
            }
            StmtKind::While { cond, body } => {
                while self.eval(cond, env)?.truthy() {
                    self.tick(s.span)?;
                    match self.exec_block(body, env)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Normal | Flow::Continue => {}
                    }
                }
            }
            StmtKind::For {
                var,
                more,
                iter,
                body,
            } => {
                let it = self.eval(iter, env)?;
                if let (Value::Range(a, b, inc), true) = (&it, more.is_empty()) {
                    let (a, b, inc) = (*a, *b, *inc);
                    let end = if inc {
                        i128::from(b) + 1
                    } else {
                        i128::from(b)
                    };
                    let mut i = i128::from(a);
                    while i < end {
                        self.tick(s.span)?;
                        env.borrow_mut()
                            .vars
                            .insert(var.clone(), Value::Int(i as i64));
                        match self.exec_block(body, env)? {
                            Flow::Break => break,
                            Flow::Return(v) => return Ok(Flow::Return(v)),
                            Flow::Normal | Flow::Continue => {}
                        }
                        i += 1;
                    }
                } else {
                    let items = self.iterate(&it, iter.span)?;
                    for item in items {
                        self.tick(s.span)?;
                        self.bind_loop_names(env, var, more, item, iter.span)?;
                        match self.exec_block(body, env)? {
                            Flow::Break => break,
                            Flow::Return(v) => return Ok(Flow::Return(v)),
                            Flow::Normal | Flow::Continue => {}
                        }
                    }
                }
            }
            StmtKind::Break => return Ok(Flow::Break),
            StmtKind::Continue => return Ok(Flow::Continue),
            StmtKind::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(e, env)?,
                    None => Value::None,
                };
                return Ok(Flow::Return(v));
            }
            StmtKind::Fn(def) => {
                let f = Value::Func(Rc::new(Function {
                    def: def.clone(),
                    env: env.clone(),
                }));
                env.borrow_mut().vars.insert(def.name.clone(), f);
            }
            StmtKind::Assert { cond, msg } => {
                if !self.eval(cond, env)?.truthy() {
                    let m = match msg {
                        Some(m) => self.eval(m, env)?.to_display(),
                        None => {
                            let text = self.sources.text(cond.span.file);
                            text.get(cond.span.start as usize..cond.span.end as usize)
                                .unwrap_or("condition")
                                .to_string()
                        }
                    };
                    return Err(error(s.span, ErrorKind::AssertionFailed(m)));
                }
            }
            StmtKind::Include(path) => self.include(path, s.span, env)?,
        }
        Ok(Flow::Normal)
    }

    fn include(&mut self, path: &str, span: Span, env: &Env) -> Result<()> {
        self.check_sandbox("include", span)?;
        let here = self
            .sources
            .get(span.file)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let base = if here.starts_with('<') {
            std::path::PathBuf::from(".")
        } else {
            std::path::Path::new(&here)
                .parent()
                .map(|p| p.to_path_buf())
                .unwrap_or_else(|| std::path::PathBuf::from("."))
        };
        let full = base.join(path);
        // Regular files only, up to max_file: `include "/dev/zero"` fails at once.
        let text = crate::userfile::read_text(&full, self.limits.max_file).map_err(|e| {
            error(
                span,
                ErrorKind::Io(format!("cannot include {}: {e}", full.display())),
            )
        })?;
        self.enter_call(span)?;
        let name = full.display().to_string();
        let file = self.sources.add(&name, &text, 1);
        let res = parser::parse(&text, file).and_then(|stmts| {
            for s in &stmts {
                self.exec(s, env)?;
            }
            Ok(())
        });
        self.depth -= 1;
        res
    }

    fn enter_call(&mut self, span: Span) -> Result<()> {
        if self.depth >= self.limits.max_call_depth {
            return Err(error(
                span,
                ErrorKind::Limit(format!(
                    "call depth limit of {} reached (runaway recursion?)",
                    self.limits.max_call_depth
                )),
            ));
        }
        // A call is a step: recursion without loops is bounded in time too.
        self.tick(span)?;
        self.depth += 1;
        Ok(())
    }

    /// Store `v` into an assignment target. Attribute and index targets update the
    /// containing value and store that back, so packets keep value semantics.
    fn assign(&mut self, target: &Expr, v: Value, env: &Env, vspan: Span) -> Result<()> {
        match &target.kind {
            ExprKind::Name(n) => {
                env.borrow_mut().vars.insert(n.clone(), v);
                Ok(())
            }
            ExprKind::Attr(base, name) => {
                // `p[IP].ttl = 5`: the field of that layer (scapy's rule), written into
                // `p` itself.
                if let ExprKind::Index(outer, idx) = &base.kind {
                    let obj = self.eval(outer, env)?;
                    let i = self.eval(idx, env)?;
                    if let (Value::Packet(p), Value::LayerClass(k)) = (&obj, &i) {
                        if !p.layers.iter().any(|l| packets::layer_kind(l) == Some(*k)) {
                            return Err(error(
                                base.span,
                                ErrorKind::Value(format!("the packet has no {} layer", k.name())),
                            ));
                        }
                        let mut p = (**p).clone();
                        if packets::set_indexed_field(&mut p, *k, name, &v, vspan)? {
                            return self.store_back(outer, Value::packet(p), env, vspan);
                        }
                    }
                }
                let obj = self.eval(base, env)?;
                let updated = self.set_attr(obj, name, v, target.span, vspan)?;
                self.store_back(base, updated, env, vspan)
            }
            ExprKind::Index(base, idx) => {
                let obj = self.eval(base, env)?;
                let i = self.eval(idx, env)?;
                let updated = self.set_index(obj, i, v, target.span)?;
                self.store_back(base, updated, env, vspan)
            }
            ExprKind::List(targets) => {
                let parts = self.unpack(&v, targets.len(), vspan)?;
                for (t, part) in targets.iter().zip(parts) {
                    self.assign(t, part, env, vspan)?;
                }
                Ok(())
            }
            _ => Err(error(
                target.span,
                ErrorKind::Type("cannot assign to this expression".into()),
            )),
        }
    }

    /// Bind one item of a loop (or comprehension) to its names in `frame`: `var` alone,
    /// or the item unpacked into `var` and `more`.
    fn bind_loop_names(
        &mut self,
        frame: &Env,
        var: &Rc<str>,
        more: &[Rc<str>],
        item: Value,
        span: Span,
    ) -> Result<()> {
        if more.is_empty() {
            frame.borrow_mut().vars.insert(var.clone(), item);
            return Ok(());
        }
        let parts = self.unpack(&item, 1 + more.len(), span)?;
        let mut f = frame.borrow_mut();
        for (name, v) in std::iter::once(var).chain(more.iter()).zip(parts) {
            f.vars.insert(name.clone(), v);
        }
        Ok(())
    }

    /// The `n` values of `v` for an unpacking assignment or loop.
    fn unpack(&mut self, v: &Value, n: usize, span: Span) -> Result<Vec<Value>> {
        let items = self.iterate(v, span)?;
        if items.len() != n {
            return Err(error(
                span,
                ErrorKind::Value(format!(
                    "cannot unpack {} value{} into {n} names",
                    items.len(),
                    if items.len() == 1 { "" } else { "s" }
                )),
            ));
        }
        Ok(items)
    }

    fn store_back(&mut self, base: &Expr, updated: Value, env: &Env, vspan: Span) -> Result<()> {
        match (&base.kind, &updated) {
            // shared containers were changed in place
            (_, Value::List(_) | Value::Dict(_) | Value::Handle(_)) => Ok(()),
            (ExprKind::Name(_) | ExprKind::Attr(..) | ExprKind::Index(..), _) => {
                self.assign(base, updated, env, vspan)
            }
            _ => Ok(()),
        }
    }

    pub fn set_attr(
        &mut self,
        obj: Value,
        name: &str,
        v: Value,
        span: Span,
        vspan: Span,
    ) -> Result<Value> {
        match obj {
            Value::Packet(mut p) => {
                packets::set_attr(self, Rc::make_mut(&mut p), name, v, span, vspan)?;
                Ok(Value::Packet(p))
            }
            Value::Dict(d) => {
                {
                    let mut m = d.borrow_mut();
                    match m.iter_mut().find(|(k, _)| &**k == name) {
                        Some(slot) => slot.1 = v,
                        None => m.push((Rc::from(name), v)),
                    }
                }
                Ok(Value::Dict(d))
            }
            Value::Handle(h) => match h.set(name, v) {
                Some(r) => {
                    r?;
                    Ok(Value::Handle(h))
                }
                None => Err(error(
                    span,
                    ErrorKind::Type(format!("cannot set `{name}` on a {}", h.type_name())),
                )),
            },
            other => Err(error(
                span,
                ErrorKind::Type(format!("cannot set fields on a {}", other.type_name())),
            )),
        }
    }

    fn set_index(&mut self, obj: Value, idx: Value, v: Value, span: Span) -> Result<Value> {
        match (&obj, &idx) {
            (Value::List(l), Value::Int(i)) => {
                let len = l.borrow().len();
                let k = norm_index(*i, len)
                    .ok_or_else(|| error(span, ErrorKind::IndexOutOfRange { index: *i, len }))?;
                if let Some(slot) = l.borrow_mut().get_mut(k) {
                    *slot = v;
                }
                Ok(obj)
            }
            (Value::Dict(_), Value::Str(k)) => {
                let k = k.clone();
                self.set_attr(obj, &k, v, span, span)
            }
            // `p[TCP]` is "TCP and what follows": assigning it replaces all of that.
            (Value::Packet(p), Value::LayerClass(k)) => {
                let Value::Packet(newp) = &v else {
                    return Err(error(
                        span,
                        ErrorKind::Type(format!(
                            "p[{}] takes a packet, not {}",
                            k.name(),
                            v.type_name()
                        )),
                    ));
                };
                let mut p = (**p).clone();
                let pos = p
                    .layers
                    .iter()
                    .position(|l| packets::layer_kind(l) == Some(*k))
                    .ok_or_else(|| {
                        error(
                            span,
                            ErrorKind::Value(format!("the packet has no {} layer", k.name())),
                        )
                    })?;
                p.layers.truncate(pos);
                p.layers.extend(newp.layers.iter().cloned());
                Ok(Value::packet(p))
            }
            _ => Err(error(
                span,
                ErrorKind::Type(format!(
                    "cannot assign to {}[{}]",
                    obj.type_name(),
                    idx.type_name()
                )),
            )),
        }
    }

    /// The values a `for` loop visits.
    pub fn iterate(&mut self, v: &Value, span: Span) -> Result<Vec<Value>> {
        Ok(match v {
            Value::List(l) => l.borrow().clone(),
            Value::Range(a, b, inc) => {
                let n = range_len(*a, *b, *inc);
                if n > self.limits.max_len as u64 {
                    return Err(error(
                        span,
                        ErrorKind::Limit(format!("range of {n} values is too long")),
                    ));
                }
                let end = if *inc { *b } else { b.saturating_sub(1) };
                if n == 0 {
                    Vec::new()
                } else {
                    (*a..=end).map(Value::Int).collect()
                }
            }
            Value::Str(s) => s
                .chars()
                .map(|c| Value::str(c.encode_utf8(&mut [0; 4])))
                .collect(),
            Value::Bytes(b) => b.iter().map(|&x| Value::Int(i64::from(x))).collect(),
            Value::Dict(d) => d
                .borrow()
                .iter()
                .map(|(k, _)| Value::Str(k.clone()))
                .collect(),
            Value::Packet(p) => p
                .layers
                .iter()
                .map(|l| {
                    Value::packet(crate::packet::Packet {
                        given: Default::default(),
                        layers: vec![l.clone()],
                        time: None,
                    })
                })
                .collect(),
            // `for snd, rcv in ans.answered`, as in scapy
            Value::Reply(r) => vec![
                Value::packet(r.probe.clone()),
                Value::packet(r.packet.clone()),
            ],
            Value::Handle(h) => h.items().ok_or_else(|| {
                error(
                    span,
                    ErrorKind::Type(format!("cannot iterate over a {}", h.type_name())),
                )
            })?,
            other => {
                return Err(error(
                    span,
                    ErrorKind::Type(format!("cannot iterate over a {}", other.type_name())),
                ))
            }
        })
    }

    pub fn eval(&mut self, e: &Expr, env: &Env) -> Result<Value> {
        match &e.kind {
            ExprKind::Int(n) => Ok(Value::Int(*n)),
            ExprKind::Float(f) => Ok(Value::Float(*f)),
            ExprKind::Str(s) => Ok(Value::Str(s.clone())),
            ExprKind::Bytes(b) => Ok(Value::Bytes(b.clone())),
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::None => Ok(Value::None),
            ExprKind::Name(n) => self.name(n, env, e.span),
            ExprKind::FStr(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        FPart::Lit(l) => s.push_str(l),
                        FPart::Expr(x, spec) => {
                            let v = self.eval(x, env)?;
                            match spec {
                                Some(spec) => s.push_str(&format_spec(&v, spec, x.span)?),
                                None => s.push_str(&v.to_display()),
                            }
                        }
                    }
                }
                Ok(Value::str(&s))
            }
            ExprKind::List(items) | ExprKind::Tuple(items) => {
                let mut v = Vec::with_capacity(items.len());
                for i in items {
                    v.push(self.eval(i, env)?);
                }
                Ok(Value::list(v))
            }
            ExprKind::ListComp {
                elem,
                var,
                more,
                iter,
                cond,
            } => {
                let it = self.eval(iter, env)?;
                let items = self.iterate(&it, iter.span)?;
                let scope = Rc::new(RefCell::new(Frame {
                    vars: HashMap::new(),
                    parent: Some(env.clone()),
                }));
                let mut out = Vec::new();
                for item in items {
                    self.tick(e.span)?;
                    self.bind_loop_names(&scope, var, more, item, iter.span)?;
                    if let Some(c) = cond {
                        if !self.eval(c, &scope)?.truthy() {
                            continue;
                        }
                    }
                    out.push(self.eval(elem, &scope)?);
                }
                release_frame(&scope);
                Ok(Value::list(out))
            }
            ExprKind::Dict(items) => {
                let mut v: Vec<(Rc<str>, Value)> = Vec::with_capacity(items.len());
                for (k, x) in items {
                    let key = match self.eval(k, env)? {
                        Value::Str(s) => s,
                        other => {
                            return Err(error(
                                k.span,
                                ErrorKind::Type(format!(
                                    "dict keys are strings, not {}",
                                    other.type_name()
                                )),
                            ))
                        }
                    };
                    let val = self.eval(x, env)?;
                    match v.iter_mut().find(|(kk, _)| *kk == key) {
                        Some(slot) => slot.1 = val,
                        None => v.push((key, val)),
                    }
                }
                Ok(Value::Dict(Rc::new(RefCell::new(v))))
            }
            ExprKind::Unary(op, x) => {
                let v = self.eval(x, env)?;
                match op {
                    UnOp::Not => Ok(Value::Bool(!v.truthy())),
                    UnOp::Neg => match v {
                        Value::Int(n) => n
                            .checked_neg()
                            .map(Value::Int)
                            .ok_or_else(|| overflow(e.span)),
                        Value::Float(f) => Ok(Value::Float(-f)),
                        other => Err(error(
                            e.span,
                            ErrorKind::Type(format!("cannot negate a {}", other.type_name())),
                        )),
                    },
                }
            }
            ExprKind::And(l, r) => {
                let a = self.eval(l, env)?;
                if !a.truthy() {
                    return Ok(a);
                }
                self.eval(r, env)
            }
            ExprKind::Or(l, r) => {
                let a = self.eval(l, env)?;
                if a.truthy() {
                    return Ok(a);
                }
                self.eval(r, env)
            }
            ExprKind::Binary(op, l, r) => {
                let a = self.eval(l, env)?;
                let b = self.eval(r, env)?;
                self.binop(*op, a, b, e.span)
            }
            ExprKind::Range {
                start,
                end,
                inclusive,
            } => {
                let a = self.eval(start, env)?;
                let b = self.eval(end, env)?;
                match (a, b) {
                    (Value::Int(a), Value::Int(b)) => Ok(Value::Range(a, b, *inclusive)),
                    (a, b) => Err(error(
                        e.span,
                        ErrorKind::Type(format!(
                            "a range needs integers, got {} and {}",
                            a.type_name(),
                            b.type_name()
                        )),
                    )),
                }
            }
            ExprKind::Attr(base, name) => {
                // `p[IP].flags`: that layer's field first, as in scapy.
                if let ExprKind::Index(outer, idx) = &base.kind {
                    let obj = self.eval(outer, env)?;
                    let i = self.eval(idx, env)?;
                    if let (Some(p), Value::LayerClass(k)) = (obj.as_packet(), &i) {
                        if let Some(v) = packets::indexed_field(p, *k, name) {
                            return Ok(v);
                        }
                    }
                    let v = self.index(&obj, &i, base.span)?;
                    return self.attr_or_method(&v, name, e.span);
                }
                let v = self.eval(base, env)?;
                self.attr_or_method(&v, name, e.span)
            }
            ExprKind::Index(base, idx) => {
                let v = self.eval(base, env)?;
                let i = self.eval(idx, env)?;
                self.index(&v, &i, e.span)
            }
            ExprKind::Slice(base, lo, hi) => {
                let v = self.eval(base, env)?;
                let lo = match lo {
                    Some(x) => Some(self.eval(x, env)?),
                    None => None,
                };
                let hi = match hi {
                    Some(x) => Some(self.eval(x, env)?),
                    None => None,
                };
                slice(&v, lo, hi, e.span)
            }
            ExprKind::Call {
                callee,
                args,
                kwargs,
            } => self.eval_call(callee, args, kwargs, e.span, env),
        }
    }

    fn name(&mut self, n: &Rc<str>, env: &Env, span: Span) -> Result<Value> {
        if let Some(v) = lookup(env, n) {
            return Ok(v);
        }
        if let Some(v) = self.builtins.get(n) {
            return Ok(v.clone());
        }
        let mut names: Vec<Rc<str>> = self.builtin_names();
        let mut e = env.clone();
        loop {
            names.extend(e.borrow().vars.keys().cloned());
            let p = e.borrow().parent.clone();
            match p {
                Some(p) => e = p,
                None => break,
            }
        }
        let suggestion = suggest(n, names.iter().map(|s| &**s));
        Err(error(
            span,
            ErrorKind::UndefinedName {
                name: n.to_string(),
                suggestion,
            },
        ))
    }

    fn eval_call(
        &mut self,
        callee: &Expr,
        args: &[Expr],
        kwargs: &[KwArg],
        span: Span,
        env: &Env,
    ) -> Result<Value> {
        // `obj.method(...)`: an engine object's own, or one from the method table
        if let ExprKind::Attr(base, method) = &callee.kind {
            let obj = self.eval(base, env)?;
            if let Value::Handle(h) = &obj {
                let mut a = self.eval_args(args, kwargs, span, method, env)?;
                return self.call_object_method(h, method, &mut a, callee.span);
            }
            if let Some(ty) = Receiver::of(&obj) {
                if let Some(m) = self.methods.find(ty, method) {
                    let f = m.f;
                    let mut a = self.eval_args(args, kwargs, span, method, env)?;
                    return f(self, &obj, &mut a, callee.span);
                }
                // A packet's other names are its fields (a callable one is called).
                if ty != Receiver::Packet {
                    let mut a = self.eval_args(args, kwargs, span, method, env)?;
                    return self.no_method(&obj, ty, method, &mut a, callee.span);
                }
            }
            let f = self.get_attr(&obj, method, callee.span)?;
            let mut a = self.eval_args(args, kwargs, span, method, env)?;
            return self.call_value(&f, &mut a);
        }
        let f = self.eval(callee, env)?;
        let name: Rc<str> = match &callee.kind {
            ExprKind::Name(n) => n.clone(),
            _ => Rc::from("function"),
        };
        let mut a = self.eval_args(args, kwargs, span, &name, env)?;
        if matches!(f, Value::LayerClass(_)) {
            tuple_ranges(&mut a, kwargs);
        }
        self.call_value(&f, &mut a)
    }

    fn eval_args(
        &mut self,
        args: &[Expr],
        kwargs: &[KwArg],
        span: Span,
        name: &Rc<str>,
        env: &Env,
    ) -> Result<Args> {
        let mut pos = Vec::with_capacity(args.len());
        let mut pos_spans = Vec::with_capacity(args.len());
        for a in args {
            pos.push(self.eval(a, env)?);
            pos_spans.push(a.span);
        }
        let mut kw = Vec::with_capacity(kwargs.len());
        for k in kwargs {
            kw.push((
                k.name.clone(),
                self.eval(&k.value, env)?,
                k.span.to(k.value.span),
            ));
        }
        Ok(Args {
            pos,
            pos_spans,
            kw,
            span,
            name: name.clone(),
        })
    }

    /// Call any callable value with prepared arguments.
    pub fn call_value(&mut self, f: &Value, a: &mut Args) -> Result<Value> {
        match f {
            Value::Builtin(b) => {
                a.name = b.name.clone();
                let func = b.f.clone();
                func(self, a)
            }
            Value::Func(func) => self.call_function(func, a),
            Value::LayerClass(k) => packets::construct(self, *k, a),
            other => Err(error(
                a.span,
                ErrorKind::Type(format!("a {} is not callable", other.type_name())),
            )),
        }
    }

    fn call_function(&mut self, func: &Rc<Function>, a: &mut Args) -> Result<Value> {
        let def = &func.def;
        if a.pos.len() > def.params.len() {
            return Err(error(
                a.span_of(def.params.len()),
                ErrorKind::Arguments(format!(
                    "{}() takes {} argument{}, got {}",
                    def.name,
                    def.params.len(),
                    if def.params.len() == 1 { "" } else { "s" },
                    a.pos.len()
                )),
            ));
        }
        if let Some((k, _, span)) =
            a.kw.iter()
                .find(|(k, _, _)| !def.params.iter().any(|p| p.name == *k))
        {
            let suggestion = suggest(k, def.params.iter().map(|p| &*p.name));
            return Err(error(
                *span,
                ErrorKind::Arguments(format!(
                    "{}() has no parameter `{k}`{}",
                    def.name,
                    suggestion
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default()
                )),
            ));
        }
        self.enter_call(a.span)?;
        let frame = Rc::new(RefCell::new(Frame {
            vars: HashMap::with_capacity(def.params.len()),
            parent: Some(func.env.clone()),
        }));
        let res = (|| {
            for (i, p) in def.params.iter().enumerate() {
                let from_kw = a.kw.iter().position(|(k, _, _)| *k == p.name);
                let v = match (a.pos.get(i), from_kw) {
                    (Some(_), Some(k)) => {
                        return Err(error(
                            a.kw.get(k).map_or(a.span, |x| x.2),
                            ErrorKind::Arguments(format!(
                                "{}(): `{}` given twice",
                                def.name, p.name
                            )),
                        ))
                    }
                    (Some(v), None) => v.clone(),
                    (None, Some(k)) => a.kw.get(k).map(|x| x.1.clone()).unwrap_or(Value::None),
                    (None, None) => match &p.default {
                        Some(d) => self.eval(d, &frame)?,
                        None => {
                            return Err(error(
                                a.span,
                                ErrorKind::Arguments(format!(
                                    "{}() needs the argument `{}`",
                                    def.name, p.name
                                )),
                            ))
                        }
                    },
                };
                frame.borrow_mut().vars.insert(p.name.clone(), v);
            }
            match self.exec_block(&def.body, &frame)? {
                Flow::Return(v) => Ok(v),
                _ => Ok(Value::None),
            }
        })();
        self.depth -= 1;
        release_frame(&frame);
        res
    }

    /// `obj.method(args)` on an engine object: its [`Object::call`], else an attribute
    /// holding something callable.
    fn call_object_method(
        &mut self,
        h: &Rc<dyn Object>,
        method: &str,
        a: &mut Args,
        span: Span,
    ) -> Result<Value> {
        match h.call(self, method, a) {
            Some(r) => r,
            None => match h.get(self, method) {
                Some(Ok(v)) => self.call_value(&v, a),
                Some(Err(e)) => Err(e),
                None => Err(error(
                    span,
                    ErrorKind::NoAttribute {
                        ty: h.type_name().to_string(),
                        name: method.to_string(),
                        suggestion: suggest(method, h.names()),
                    },
                )),
            },
        }
    }

    /// A name the method table does not have for `obj`'s type: a function stored in
    /// a dict under that name (`d.f(x)`), else "no attribute" with the closest method.
    fn no_method(
        &mut self,
        obj: &Value,
        ty: Receiver,
        method: &str,
        a: &mut Args,
        span: Span,
    ) -> Result<Value> {
        if let Value::Dict(d) = obj {
            let f = d
                .borrow()
                .iter()
                .find(|(k, _)| &**k == method)
                .map(|(_, v)| v.clone());
            if let Some(f) = f {
                return self.call_value(&f, a);
            }
        }
        let names = self.methods.of(ty).iter().map(|m| m.name);
        Err(error(
            span,
            ErrorKind::NoAttribute {
                ty: obj.type_name().to_string(),
                name: method.to_string(),
                suggestion: suggest(method, names),
            },
        ))
    }

    /// `v.name` in an expression: the attribute, else a method of the table bound to
    /// `v` (`help(l.append)`, `f = l.append`), as engine objects' methods are.
    fn attr_or_method(&mut self, v: &Value, name: &str, span: Span) -> Result<Value> {
        match self.get_attr(v, name, span) {
            Err(e) => self.bound_method(v, name).ok_or(e),
            found => found,
        }
    }

    /// Method `name` of `v`'s type from the method table, bound to `v`.
    fn bound_method(&self, v: &Value, name: &str) -> Option<Value> {
        let m = *self.methods.find(Receiver::of(v)?, name)?;
        let this = v.clone();
        Some(Value::Builtin(Rc::new(Builtin {
            name: Rc::from(format!("{}.{}", v.type_name(), m.name).as_str()),
            help: Rc::from(m.help),
            f: Rc::new(move |it: &mut Interp, a: &mut Args| {
                a.name = Rc::from(m.name);
                let at = a.span;
                (m.f)(it, &this, a, at)
            }),
        })))
    }

    pub fn get_attr(&mut self, v: &Value, name: &str, span: Span) -> Result<Value> {
        match v {
            Value::Packet(p) => packets::get_attr(p, name, span),
            Value::Reply(r) => match name {
                "rtt" => Ok(Value::Float(r.rtt)),
                "probe" => Ok(Value::packet(r.probe.clone())),
                "packet" => Ok(Value::packet(r.packet.clone())),
                _ => packets::get_attr(&r.packet, name, span),
            },
            Value::Dict(d) => {
                let d = d.borrow();
                match d.iter().find(|(k, _)| &**k == name) {
                    Some((_, v)) => Ok(v.clone()),
                    None => Err(error(
                        span,
                        ErrorKind::NoAttribute {
                            ty: "dict".into(),
                            name: name.into(),
                            suggestion: suggest(name, d.iter().map(|(k, _)| &**k)),
                        },
                    )),
                }
            }
            Value::Handle(h) => match h.get(self, name) {
                Some(r) => r,
                // `s.send` without a call: the method as a value (`help(s.send)`, `f = s.send`).
                None if h.help(name).is_some() && h.names().contains(&name) => {
                    let obj = h.clone();
                    let method: Rc<str> = Rc::from(name);
                    Ok(Value::Builtin(Rc::new(Builtin {
                        name: Rc::from(format!("{}.{name}", h.type_name()).as_str()),
                        help: Rc::from(h.help(name).unwrap_or_default().as_str()),
                        f: Rc::new(move |it: &mut Interp, a: &mut Args| {
                            match obj.call(it, &method, a) {
                                Some(r) => r,
                                None => Err(a.err(format!("no method {method}()"))),
                            }
                        }),
                    })))
                }
                None => Err(error(
                    span,
                    ErrorKind::NoAttribute {
                        ty: h.type_name().to_string(),
                        name: name.into(),
                        suggestion: suggest(name, h.names()),
                    },
                )),
            },
            Value::Flags(f) => packets::flags_attr(*f, name, span),
            Value::TcpOpt(o) => packets::option_attr(o, name, span),
            Value::LayerClass(k) => match name {
                "name" => Ok(Value::str(k.name())),
                // scapy's `TCP.dport`: the field itself (its type, default and help).
                _ if packets::fields(*k).iter().any(|f| f.name == name) => {
                    Ok(packets::field_value(*k, name))
                }
                _ => Err(error(
                    span,
                    ErrorKind::NoAttribute {
                        ty: format!("layer class {}", k.name()),
                        name: name.into(),
                        suggestion: suggest(name, packets::fields(*k).iter().map(|f| f.name)),
                    },
                )),
            },
            other => Err(error(
                span,
                ErrorKind::NoAttribute {
                    ty: other.type_name().into(),
                    name: name.into(),
                    suggestion: None,
                },
            )),
        }
    }

    fn index(&mut self, v: &Value, i: &Value, span: Span) -> Result<Value> {
        let oob = |index: i64, len: usize| error(span, ErrorKind::IndexOutOfRange { index, len });
        match (v, i) {
            (Value::List(l), Value::Int(n)) => {
                let l = l.borrow();
                norm_index(*n, l.len())
                    .and_then(|k| l.get(k).cloned())
                    .ok_or_else(|| oob(*n, l.len()))
            }
            (Value::Str(s), Value::Int(n)) => {
                let chars: Vec<char> = s.chars().collect();
                norm_index(*n, chars.len())
                    .and_then(|k| chars.get(k))
                    .map(|c| Value::str(&c.to_string()))
                    .ok_or_else(|| oob(*n, chars.len()))
            }
            (Value::Bytes(b), Value::Int(n)) => norm_index(*n, b.len())
                .and_then(|k| b.get(k))
                .map(|x| Value::Int(i64::from(*x)))
                .ok_or_else(|| oob(*n, b.len())),
            (Value::Range(a, b, inc), Value::Int(n)) => {
                let len = range_len(*a, *b, *inc);
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                norm_index(*n, len)
                    .map(|k| Value::Int(a.saturating_add(k as i64)))
                    .ok_or_else(|| oob(*n, len))
            }
            (Value::Dict(_), Value::Str(k)) => self.get_attr(v, k, span),
            // Objects that are lists of things (a trace's hops): t[0].
            (Value::Handle(h), Value::Int(n)) if h.items().is_some() => {
                let items = h.items().unwrap_or_default();
                norm_index(*n, items.len())
                    .and_then(|k| items.get(k).cloned())
                    .ok_or_else(|| oob(*n, items.len()))
            }
            (Value::Packet(_) | Value::Reply(_), _) => {
                let p = v
                    .as_packet()
                    .ok_or_else(|| error(span, ErrorKind::Type("not a packet".into())))?;
                packets::index(p, i, span)
            }
            _ => Err(error(
                span,
                ErrorKind::Type(format!(
                    "cannot index a {} with a {}",
                    v.type_name(),
                    i.type_name()
                )),
            )),
        }
    }

    /// Binary operators. `/` on packets stacks layers; on numbers it divides.
    pub fn binop(&mut self, op: BinOp, a: Value, b: Value, span: Span) -> Result<Value> {
        use Value::*;
        let type_err = |a: &Value, b: &Value| {
            error(
                span,
                ErrorKind::Type(format!(
                    "unsupported operand types for {}: {} and {}",
                    op.symbol(),
                    a.type_name(),
                    b.type_name()
                )),
            )
        };
        let max_len = self.limits.max_len;
        let too_long = || {
            error(
                span,
                ErrorKind::Limit(format!("value longer than {max_len} would be built")),
            )
        };
        Ok(match op {
            BinOp::Eq => Bool(equals(&a, &b)),
            BinOp::Ne => Bool(!equals(&a, &b)),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let o = compare(&a, &b).ok_or_else(|| type_err(&a, &b))?;
                use std::cmp::Ordering::*;
                Bool(match op {
                    BinOp::Lt => o == Less,
                    BinOp::Le => o != Greater,
                    BinOp::Gt => o == Greater,
                    _ => o != Less,
                })
            }
            BinOp::In => Bool(contains(&b, &a, span)?),
            BinOp::NotIn => Bool(!contains(&b, &a, span)?),
            BinOp::Add => match (&a, &b) {
                (Int(x), Int(y)) => Int(x.checked_add(*y).ok_or_else(|| overflow(span))?),
                (Str(x), Str(y)) => Str(Rc::from(format!("{x}{y}").as_str())),
                (Bytes(x), Bytes(y)) => Value::bytes(&[&x[..], &y[..]].concat()),
                (Bytes(x), Str(y)) => Value::bytes(&[&x[..], y.as_bytes()].concat()),
                (List(x), List(y)) => {
                    let mut v = x.borrow().clone();
                    v.extend(y.borrow().iter().cloned());
                    Value::list(v)
                }
                _ => num_op(&a, &b, |x, y| x + y).ok_or_else(|| type_err(&a, &b))?,
            },
            BinOp::Sub => match (&a, &b) {
                (Int(x), Int(y)) => Int(x.checked_sub(*y).ok_or_else(|| overflow(span))?),
                _ => num_op(&a, &b, |x, y| x - y).ok_or_else(|| type_err(&a, &b))?,
            },
            BinOp::Mul => match (&a, &b) {
                (Int(x), Int(y)) => Int(x.checked_mul(*y).ok_or_else(|| overflow(span))?),
                (Str(s), Int(n)) | (Int(n), Str(s)) => {
                    let n = usize::try_from(*n).unwrap_or(0);
                    if s.len().saturating_mul(n) > max_len {
                        return Err(too_long());
                    }
                    Value::str(&s.repeat(n))
                }
                (Bytes(s), Int(n)) | (Int(n), Bytes(s)) => {
                    let n = usize::try_from(*n).unwrap_or(0);
                    if s.len().saturating_mul(n) > max_len {
                        return Err(too_long());
                    }
                    Value::bytes(&s.repeat(n))
                }
                (List(l), Int(n)) | (Int(n), List(l)) => {
                    let n = usize::try_from(*n).unwrap_or(0);
                    let l = l.borrow();
                    if l.len().saturating_mul(n) > max_len {
                        return Err(too_long());
                    }
                    let mut v = Vec::with_capacity(l.len() * n);
                    for _ in 0..n {
                        v.extend(l.iter().cloned());
                    }
                    Value::list(v)
                }
                _ => num_op(&a, &b, |x, y| x * y).ok_or_else(|| type_err(&a, &b))?,
            },
            BinOp::Div => {
                let (a, b) = match packets::stack(self, a, b, span) {
                    Ok(r) => return r,
                    Err(operands) => operands,
                };
                match (&a, &b) {
                    (Int(_) | Float(_), Int(0)) => {
                        return Err(error(span, ErrorKind::DivisionByZero))
                    }
                    (Int(_) | Float(_), Float(y)) if *y == 0.0 => {
                        return Err(error(span, ErrorKind::DivisionByZero))
                    }
                    _ => num_op(&a, &b, |x, y| x / y).ok_or_else(|| type_err(&a, &b))?,
                }
            }
            BinOp::Rem => match (&a, &b) {
                (Int(_), Int(0)) => return Err(error(span, ErrorKind::DivisionByZero)),
                (Int(x), Int(y)) => Int(x.checked_rem_euclid(*y).ok_or_else(|| overflow(span))?),
                (Float(_) | Int(_), Float(y)) if *y == 0.0 => {
                    return Err(error(span, ErrorKind::DivisionByZero))
                }
                _ => num_op(&a, &b, |x, y| x.rem_euclid(y)).ok_or_else(|| type_err(&a, &b))?,
            },
            BinOp::Pow => match (&a, &b) {
                (Int(x), Int(y)) if *y >= 0 => {
                    let e = u32::try_from(*y).map_err(|_| overflow(span))?;
                    Int(x.checked_pow(e).ok_or_else(|| overflow(span))?)
                }
                _ => num_op(&a, &b, f64::powf).ok_or_else(|| type_err(&a, &b))?,
            },
        })
    }
}

fn overflow(span: Span) -> super::error::Error {
    error(
        span,
        ErrorKind::Value("integer overflow (integers are 64-bit)".into()),
    )
}

/// Float arithmetic for mixed int/float operands (ints convert).
fn num_op(a: &Value, b: &Value, f: impl Fn(f64, f64) -> f64) -> Option<Value> {
    let x = match a {
        Value::Int(n) => *n as f64,
        Value::Float(f) => *f,
        _ => return None,
    };
    let y = match b {
        Value::Int(n) => *n as f64,
        Value::Float(f) => *f,
        _ => return None,
    };
    if matches!((a, b), (Value::Int(_), Value::Int(_))) {
        // only `/` and `**` with a negative exponent reach here with two ints
        return Some(Value::Float(f(x, y)));
    }
    Some(Value::Float(f(x, y)))
}

/// Break the reference cycle between a finished call's frame and the functions
/// defined in it (frame → function → frame), unless one of them escaped (was
/// returned or stored elsewhere), in which case the frame must live on.
/// scapy's tuple ranges in a layer's fields: `TCP(dport=(75, 85))`, `IP(ttl=(1, 30))`
/// are the inclusive ranges 75..=85 and 1..=30 (a list `[75, 85]` stays two values).
fn tuple_ranges(a: &mut Args, kwargs: &[KwArg]) {
    for k in kwargs {
        let ExprKind::Tuple(items) = &k.value.kind else {
            continue;
        };
        if items.len() != 2 {
            continue;
        }
        if let Some(slot) = a.kw.iter_mut().find(|(n, _, _)| *n == k.name) {
            if let Value::List(l) = &slot.1 {
                let pair = match l.borrow().as_slice() {
                    [Value::Int(lo), Value::Int(hi)] => Some((*lo, *hi)),
                    _ => None,
                };
                if let Some((lo, hi)) = pair {
                    slot.1 = Value::Range(lo, hi, true);
                }
            }
        }
    }
}

fn release_frame(frame: &Env) {
    let own = {
        let f = frame.borrow();
        let mut n = 0usize;
        for v in f.vars.values() {
            if let Value::Func(func) = v {
                if Rc::ptr_eq(&func.env, frame) {
                    if Rc::strong_count(func) > 1 {
                        return;
                    }
                    n += 1;
                }
            }
        }
        n
    };
    if Rc::strong_count(frame) == 1 + own {
        frame.borrow_mut().vars.clear();
    }
}

fn slice(v: &Value, lo: Option<Value>, hi: Option<Value>, span: Span) -> Result<Value> {
    let bound = |x: Option<Value>, len: usize, default: usize| -> Result<usize> {
        match x {
            None | Some(Value::None) => Ok(default),
            Some(Value::Int(i)) => {
                let len_i = i64::try_from(len).unwrap_or(i64::MAX);
                let k = if i < 0 {
                    (i.saturating_add(len_i)).max(0)
                } else {
                    i.min(len_i)
                };
                Ok(usize::try_from(k).unwrap_or(0))
            }
            Some(o) => Err(error(
                span,
                ErrorKind::Type(format!("slice bounds are integers, not {}", o.type_name())),
            )),
        }
    };
    match v {
        Value::List(l) => {
            let l = l.borrow();
            let a = bound(lo, l.len(), 0)?;
            let b = bound(hi, l.len(), l.len())?;
            Ok(Value::list(l.get(a..b.max(a)).unwrap_or(&[]).to_vec()))
        }
        Value::Bytes(x) => {
            let a = bound(lo, x.len(), 0)?;
            let b = bound(hi, x.len(), x.len())?;
            Ok(Value::bytes(x.get(a..b.max(a)).unwrap_or(&[])))
        }
        Value::Str(s) => {
            let chars: Vec<char> = s.chars().collect();
            let a = bound(lo, chars.len(), 0)?;
            let b = bound(hi, chars.len(), chars.len())?;
            Ok(Value::str(
                &chars
                    .get(a..b.max(a))
                    .unwrap_or(&[])
                    .iter()
                    .collect::<String>(),
            ))
        }
        other => Err(error(
            span,
            ErrorKind::Type(format!("cannot slice a {}", other.type_name())),
        )),
    }
}

/// `needle in hay`.
fn contains(hay: &Value, needle: &Value, span: Span) -> Result<bool> {
    use Value::*;
    Ok(match (hay, needle) {
        (List(l), x) => l.borrow().iter().any(|v| equals(v, x)),
        (Str(h), Str(n)) => h.contains(&**n),
        (Bytes(h), Bytes(n)) => find_sub(h, n),
        (Bytes(h), Str(n)) => find_sub(h, n.as_bytes()),
        (Str(h), Bytes(n)) => find_sub(h.as_bytes(), n),
        (Bytes(h), Int(n)) => h.iter().any(|b| i64::from(*b) == *n),
        (Range(a, b, inc), Int(n)) => *n >= *a && (if *inc { *n <= *b } else { *n < *b }),
        (Dict(d), Str(k)) => d.borrow().iter().any(|(kk, _)| kk == k),
        (Flags(f), Str(s)) => {
            let want =
                crate::packet::TcpFlags::parse(s).map_err(|m| error(span, ErrorKind::Value(m)))?;
            f.0 & want.0 == want.0
        }
        (Flags(f), Flags(w)) => f.0 & w.0 == w.0,
        (Flags(f), Int(n)) => i64::from(f.0) & n == *n,
        (IpFlags(f), Str(s)) => {
            let want = parse_ip_flags(s).map_err(|m| error(span, ErrorKind::Value(m)))?;
            f & want == want
        }
        (Packet(_) | Reply(_), LayerClass(k)) => {
            let p = hay
                .as_packet()
                .map(|p| p.layers.iter().any(|l| packets::layer_kind(l) == Some(*k)));
            p.unwrap_or(false)
        }
        (Handle(h), x) => match h.items() {
            Some(items) => items.iter().any(|v| equals(v, x)),
            Option::None => {
                return Err(error(
                    span,
                    ErrorKind::Type(format!("`in` does not work on a {}", h.type_name())),
                ))
            }
        },
        _ => {
            return Err(error(
                span,
                ErrorKind::Type(format!(
                    "`in` does not work on {} in {}",
                    needle.type_name(),
                    hay.type_name()
                )),
            ))
        }
    })
}

fn find_sub(h: &[u8], n: &[u8]) -> bool {
    n.is_empty() || h.windows(n.len()).any(|w| w == n)
}
