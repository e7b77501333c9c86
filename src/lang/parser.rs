//! Pratt parser: tokens → statements.
//!
//! Precedence, lowest first: `or ||` · `and &&` · `not !` · comparisons and `in` ·
//! ranges `..` `..=` · `+ -` · `* / %` (`/` also stacks layers) · unary `-` ·
//! `**` (right-associative) · postfix calls, indexing, attributes.
//! Nesting (brackets, blocks, prefix operators) is limited to [`MAX_NEST`] levels so
//! hostile input cannot overflow the stack.

use super::ast::*;
use super::error::{error, Error, ErrorKind, Result, Span};
use super::lexer::{keyword_name, lex, FPiece, Tok, Token};
use std::rc::Rc;

/// Deepest nesting the parser accepts.
pub const MAX_NEST: usize = 64;

/// Parse a whole source file (or REPL input) registered as `file`.
pub fn parse(text: &str, file: u32) -> Result<Vec<Stmt>> {
    let mut p = Parser::new(lex(text, file, 0), file);
    p.program()
}

/// Parse a single expression at `offset` of `file` (f-string pieces).
fn parse_expr_at(text: &str, file: u32, offset: usize, depth: usize) -> Result<Expr> {
    let mut p = Parser::new(lex(text, file, offset), file);
    p.depth = depth;
    p.skip_newlines();
    let e = p.expr()?;
    p.skip_newlines();
    if !matches!(p.peek(), Tok::Eof) {
        return Err(p.unexpected("end of the {…} expression"));
    }
    Ok(e)
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Lowest,
    Or,
    And,
    Not,
    Compare,
    Range,
    Sum,
    Product,
    Unary,
    Power,
    Postfix,
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    file: u32,
    depth: usize,
    /// Loop and function nesting, to reject `break` outside a loop at parse time.
    loops: usize,
    fns: usize,
}

impl Parser {
    fn new(toks: Vec<Token>, file: u32) -> Parser {
        Parser {
            toks,
            pos: 0,
            file,
            depth: 0,
            loops: 0,
            fns: 0,
        }
    }

    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).map_or(&Tok::Eof, |t| &t.tok)
    }
    fn peek_at(&self, n: usize) -> &Tok {
        self.toks.get(self.pos + n).map_or(&Tok::Eof, |t| &t.tok)
    }
    fn span(&self) -> Span {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map_or(Span::new(self.file, 0, 0), |t| t.span)
    }
    fn prev_span(&self) -> Span {
        self.toks
            .get(self.pos.saturating_sub(1))
            .map_or(Span::new(self.file, 0, 0), |t| t.span)
    }
    fn bump(&mut self) -> Token {
        let t = self.toks.get(self.pos).cloned().unwrap_or(Token {
            tok: Tok::Eof,
            span: self.span(),
        });
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == t {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn skip_newlines(&mut self) {
        while matches!(self.peek(), Tok::Newline) {
            self.pos += 1;
        }
    }

    /// The error for the current token, given what would have been right.
    fn unexpected(&self, expected: &str) -> Error {
        let span = self.span();
        match self.peek() {
            Tok::Eof => error(
                span,
                ErrorKind::UnexpectedEof {
                    expected: expected.to_string(),
                },
            ),
            Tok::Error(kind) => error(span, kind.clone()),
            other => error(
                span,
                ErrorKind::Unexpected {
                    found: other.describe(),
                    expected: expected.to_string(),
                },
            ),
        }
    }

    fn expect(&mut self, t: &Tok, expected: &str) -> Result<Span> {
        if self.peek() == t {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_NEST {
            return Err(error(self.span(), ErrorKind::NestTooDeep(MAX_NEST)));
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn ident(&mut self, expected: &str) -> Result<(Rc<str>, Span)> {
        match self.peek() {
            Tok::Ident(name) => {
                let name: Rc<str> = Rc::from(name.as_str());
                Ok((name, self.bump().span))
            }
            _ => Err(self.unexpected(expected)),
        }
    }

    fn program(&mut self) -> Result<Vec<Stmt>> {
        let mut out = Vec::new();
        loop {
            while matches!(self.peek(), Tok::Newline | Tok::Semi) {
                self.pos += 1;
            }
            if matches!(self.peek(), Tok::Eof) {
                return Ok(out);
            }
            out.push(self.statement()?);
            self.end_of_statement()?;
        }
    }

    fn end_of_statement(&mut self) -> Result<()> {
        match self.peek() {
            Tok::Newline | Tok::Semi => {
                self.pos += 1;
                Ok(())
            }
            Tok::Eof | Tok::RBrace => Ok(()),
            _ => Err(self.unexpected("end of statement (newline or `;`)")),
        }
    }

    fn block(&mut self) -> Result<Vec<Stmt>> {
        if matches!(self.peek(), Tok::Colon) {
            return Err(self.unexpected(
                "`{` to start a block (blocks are in braces: `if x > 3 { … }`, not `:` and indentation)",
            ));
        }
        self.expect(&Tok::LBrace, "`{` to start a block")?;
        self.enter()?;
        let mut out = Vec::new();
        loop {
            while matches!(self.peek(), Tok::Newline | Tok::Semi) {
                self.pos += 1;
            }
            if self.eat(&Tok::RBrace) {
                break;
            }
            if matches!(self.peek(), Tok::Eof) {
                return Err(self.unexpected("`}` to close the block"));
            }
            out.push(self.statement()?);
            self.end_of_statement()?;
        }
        self.leave();
        Ok(out)
    }

    fn statement(&mut self) -> Result<Stmt> {
        let start = self.span();
        let kind = match self.peek() {
            Tok::If => return self.if_stmt(),
            Tok::For => {
                self.bump();
                let (var, more) = self.loop_names()?;
                let iter = self.expr_no_brace()?;
                self.loops += 1;
                let body = self.block();
                self.loops -= 1;
                StmtKind::For {
                    var,
                    more,
                    iter,
                    body: body?,
                }
            }
            Tok::While => {
                self.bump();
                let cond = self.expr_no_brace()?;
                self.loops += 1;
                let body = self.block();
                self.loops -= 1;
                StmtKind::While { cond, body: body? }
            }
            Tok::Break | Tok::Continue => {
                let is_break = matches!(self.peek(), Tok::Break);
                let span = self.bump().span;
                if self.loops == 0 {
                    let what = if is_break {
                        "`break` outside a loop"
                    } else {
                        "`continue` outside a loop"
                    };
                    return Err(error(span, ErrorKind::Misplaced(what)));
                }
                if is_break {
                    StmtKind::Break
                } else {
                    StmtKind::Continue
                }
            }
            Tok::Return => {
                let span = self.bump().span;
                if self.fns == 0 {
                    return Err(error(
                        span,
                        ErrorKind::Misplaced("`return` outside a function"),
                    ));
                }
                if matches!(
                    self.peek(),
                    Tok::Newline | Tok::Semi | Tok::Eof | Tok::RBrace
                ) {
                    StmtKind::Return(None)
                } else {
                    let first = self.expr()?;
                    if matches!(self.peek(), Tok::Comma) {
                        // `return a, b`: a tuple, as in Python.
                        let mut items = vec![first];
                        while self.eat(&Tok::Comma) {
                            items.push(self.expr()?);
                        }
                        let span = items
                            .first()
                            .map_or(span, |t| t.span)
                            .to(self.prev_span());
                        StmtKind::Return(Some(Expr {
                            kind: ExprKind::Tuple(items),
                            span,
                        }))
                    } else {
                        StmtKind::Return(Some(first))
                    }
                }
            }
            Tok::Fn => return self.fn_def(),
            Tok::Assert => {
                self.bump();
                let cond = self.expr()?;
                let msg = if self.eat(&Tok::Comma) {
                    Some(self.expr()?)
                } else {
                    None
                };
                StmtKind::Assert { cond, msg }
            }
            Tok::Include => {
                self.bump();
                match self.peek().clone() {
                    Tok::Str(s) => {
                        self.bump();
                        StmtKind::Include(Rc::from(s.as_str()))
                    }
                    _ => return Err(self.unexpected("a file name in quotes")),
                }
            }
            Tok::Else => {
                return Err(error(
                    self.span(),
                    ErrorKind::Misplaced(
                        "`else` without an `if` before it (the shell runs an `if` when its `}` ends the line: write `} else {` on that line)",
                    ),
                ))
            }
            Tok::Ident(word) if python_word(word, self.peek_at(1)) => {
                return Err(self.python_bridge());
            }
            _ => {
                let mut target = self.expr()?;
                if matches!(self.peek(), Tok::Comma) {
                    // `ans, unans = sr(...)`: unpacking assignment; without `=`, a
                    // tuple of values (`r.src, r.sport`), as Python's shell shows it.
                    let mut targets = vec![target];
                    while self.eat(&Tok::Comma) {
                        if matches!(self.peek(), Tok::Newline | Tok::Semi | Tok::Eof | Tok::RBrace)
                        {
                            break;
                        }
                        targets.push(self.expr()?);
                    }
                    if !matches!(self.peek(), Tok::Assign) {
                        let span = targets
                            .first()
                            .map_or(start, |t| t.span)
                            .to(self.prev_span());
                        return Ok(Stmt {
                            kind: StmtKind::Expr(Expr {
                                kind: ExprKind::Tuple(targets),
                                span,
                            }),
                            span,
                        });
                    }
                    if let Some(bad) = targets.iter().find(|t| {
                        !matches!(
                            t.kind,
                            ExprKind::Name(_) | ExprKind::Attr(..) | ExprKind::Index(..)
                        )
                    }) {
                        return Err(error(
                            bad.span,
                            ErrorKind::Unexpected {
                                found: "an expression".into(),
                                expected: "names to unpack into (`a, b = …`)".into(),
                            },
                        ));
                    }
                    let span = targets
                        .first()
                        .map_or(start, |t| t.span)
                        .to(self.prev_span());
                    target = Expr {
                        kind: ExprKind::List(targets),
                        span,
                    };
                }
                let op = match self.peek() {
                    Tok::Assign => Some(None),
                    Tok::PlusAssign => Some(Some(BinOp::Add)),
                    Tok::MinusAssign => Some(Some(BinOp::Sub)),
                    Tok::StarAssign => Some(Some(BinOp::Mul)),
                    Tok::SlashAssign => Some(Some(BinOp::Div)),
                    Tok::PercentAssign => Some(Some(BinOp::Rem)),
                    _ => None,
                };
                match op {
                    Some(op) => {
                        let op_span = self.bump().span;
                        let unpack = matches!(target.kind, ExprKind::List(_)) && op.is_none();
                        if !unpack
                            && !matches!(
                                target.kind,
                                ExprKind::Name(_) | ExprKind::Attr(..) | ExprKind::Index(..)
                            )
                        {
                            return Err(error(
                                target.span.to(op_span),
                                ErrorKind::Unexpected {
                                    found: "assignment to an expression".into(),
                                    expected: "a name, `x.field` or `x[i]` before `=`".into(),
                                },
                            ));
                        }
                        self.skip_newlines();
                        let mut value = self.expr()?;
                        if matches!(self.peek(), Tok::Comma) {
                            // `x = 1, 2`: a tuple, as in Python.
                            let mut items = vec![value];
                            while self.eat(&Tok::Comma) {
                                if matches!(
                                    self.peek(),
                                    Tok::Newline | Tok::Semi | Tok::Eof | Tok::RBrace
                                ) {
                                    break;
                                }
                                items.push(self.expr()?);
                            }
                            let span = items
                                .first()
                                .map_or(op_span, |t| t.span)
                                .to(self.prev_span());
                            value = Expr {
                                kind: ExprKind::Tuple(items),
                                span,
                            };
                        }
                        StmtKind::Assign { target, op, value }
                    }
                    None => StmtKind::Expr(target),
                }
            }
        };
        Ok(Stmt {
            kind,
            span: start.to(self.prev_span()),
        })
    }

    fn if_stmt(&mut self) -> Result<Stmt> {
        let start = self.bump().span;
        self.enter()?;
        let cond = self.expr_no_brace()?;
        let then = self.block()?;
        // `else` may follow on the next line
        let save = self.pos;
        self.skip_newlines();
        let els = if self.eat(&Tok::Else) {
            if matches!(self.peek(), Tok::If) {
                Some(vec![self.if_stmt()?])
            } else {
                Some(self.block()?)
            }
        } else {
            self.pos = save;
            None
        };
        self.leave();
        Ok(Stmt {
            kind: StmtKind::If { cond, then, els },
            span: start.to(self.prev_span()),
        })
    }

    fn fn_def(&mut self) -> Result<Stmt> {
        let start = self.bump().span;
        let (name, _) = self.ident("a function name")?;
        self.expect(&Tok::LParen, "`(` and the parameter list")?;
        let mut params: Vec<Param> = Vec::new();
        while !matches!(self.peek(), Tok::RParen) {
            let (pname, pspan) = self.ident("a parameter name or `)`")?;
            if params.iter().any(|p| p.name == pname) {
                return Err(error(
                    pspan,
                    ErrorKind::Arguments(format!("parameter `{pname}` appears twice")),
                ));
            }
            let default = if self.eat(&Tok::Assign) {
                Some(self.expr()?)
            } else {
                if params.iter().any(|p| p.default.is_some()) {
                    return Err(error(
                        pspan,
                        ErrorKind::Arguments(format!(
                            "parameter `{pname}` without a default follows one with a default"
                        )),
                    ));
                }
                None
            };
            params.push(Param {
                name: pname,
                default,
                span: pspan,
            });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RParen, "`,` or `)`")?;
        let loops = std::mem::replace(&mut self.loops, 0);
        self.fns += 1;
        let body = self.block();
        self.fns -= 1;
        self.loops = loops;
        let span = start.to(self.prev_span());
        Ok(Stmt {
            kind: StmtKind::Fn(Rc::new(FnDef {
                name,
                params,
                body: body?,
                span,
            })),
            span,
        })
    }

    /// An expression before a block's `{`: a bare `{` there starts the block, so
    /// dict literals are not allowed at the top level (parenthesize them).
    /// After `for`: the loop's names (`x` or `a, b`) and the `in`, for loops and list
    /// comprehensions alike.
    fn loop_names(&mut self) -> Result<(Rc<str>, Vec<Rc<str>>)> {
        let (var, _) = self.ident("a loop variable name")?;
        let mut more = Vec::new();
        while self.eat(&Tok::Comma) {
            more.push(self.ident("another loop variable name")?.0);
        }
        self.expect(&Tok::In, "`in`")?;
        Ok((var, more))
    }

    fn expr_no_brace(&mut self) -> Result<Expr> {
        self.expr()
    }

    pub fn expr(&mut self) -> Result<Expr> {
        self.expr_prec(Prec::Lowest)
    }

    fn expr_prec(&mut self, min: Prec) -> Result<Expr> {
        self.enter()?;
        let mut left = self.prefix()?;
        loop {
            let (prec, right_assoc) = match self.peek() {
                Tok::Or | Tok::OrOr => (Prec::Or, false),
                Tok::And | Tok::AndAnd => (Prec::And, false),
                Tok::EqEq | Tok::NotEq | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge | Tok::In => {
                    (Prec::Compare, false)
                }
                Tok::Not if matches!(self.peek_at(1), Tok::In) => (Prec::Compare, false),
                Tok::DotDot | Tok::DotDotEq => (Prec::Range, false),
                Tok::Plus | Tok::Minus => (Prec::Sum, false),
                Tok::Star | Tok::Slash | Tok::Percent => (Prec::Product, false),
                Tok::StarStar => (Prec::Power, true),
                Tok::LParen | Tok::LBracket | Tok::Dot => (Prec::Postfix, false),
                _ => break,
            };
            if prec <= min && !(right_assoc && prec == min) {
                break;
            }
            left = self.infix(left, prec)?;
        }
        self.leave();
        Ok(left)
    }

    fn infix(&mut self, left: Expr, prec: Prec) -> Result<Expr> {
        let op_tok = self.bump();
        let mk = |kind, span: Span| Expr { kind, span };
        match op_tok.tok {
            Tok::LParen => return self.call(left),
            Tok::LBracket => {
                self.enter()?;
                let lo = if matches!(self.peek(), Tok::Colon) {
                    None
                } else {
                    Some(self.expr()?)
                };
                let e = if self.eat(&Tok::Colon) {
                    let hi = if matches!(self.peek(), Tok::RBracket) {
                        None
                    } else {
                        Some(Box::new(self.expr()?))
                    };
                    let end = self.expect(&Tok::RBracket, "`]`")?;
                    let span = left.span.to(end);
                    mk(ExprKind::Slice(Box::new(left), lo.map(Box::new), hi), span)
                } else {
                    let end = self.expect(&Tok::RBracket, "`]` or `:`")?;
                    let span = left.span.to(end);
                    match lo {
                        Some(i) => mk(ExprKind::Index(Box::new(left), Box::new(i)), span),
                        None => {
                            return Err(error(
                                end,
                                ErrorKind::Unexpected {
                                    found: "`]`".into(),
                                    expected: "an index".into(),
                                },
                            ))
                        }
                    }
                };
                self.leave();
                return Ok(e);
            }
            Tok::Dot => {
                // allow `x.\n  field`? no: keep attributes on one line
                let (name, span) = match self.peek().clone() {
                    Tok::Ident(n) => (Rc::from(n.as_str()), self.bump().span),
                    // keywords are fine as attribute names (`r.in` is not, but `s.send` is)
                    _ => return Err(self.unexpected("a field or attribute name after `.`")),
                };
                let full = left.span.to(span);
                return Ok(mk(ExprKind::Attr(Box::new(left), name), full));
            }
            _ => {}
        }
        // a binary operator may be followed by a line break
        self.skip_newlines();
        let next_min = prec;
        let (kind_fn, negate_in): (Option<BinOp>, bool) = match op_tok.tok {
            Tok::Plus => (Some(BinOp::Add), false),
            Tok::Minus => (Some(BinOp::Sub), false),
            Tok::Star => (Some(BinOp::Mul), false),
            Tok::Slash => (Some(BinOp::Div), false),
            Tok::Percent => (Some(BinOp::Rem), false),
            Tok::StarStar => (Some(BinOp::Pow), false),
            Tok::EqEq => (Some(BinOp::Eq), false),
            Tok::NotEq => (Some(BinOp::Ne), false),
            Tok::Lt => (Some(BinOp::Lt), false),
            Tok::Le => (Some(BinOp::Le), false),
            Tok::Gt => (Some(BinOp::Gt), false),
            Tok::Ge => (Some(BinOp::Ge), false),
            Tok::In => (Some(BinOp::In), false),
            Tok::Not => (None, true),
            _ => (None, false),
        };
        if negate_in {
            self.expect(&Tok::In, "`in` after `not`")?;
            self.skip_newlines();
        }
        let right = if prec == Prec::Power {
            // right-associative: parse at one level lower
            self.expr_prec(Prec::Unary)?
        } else {
            self.expr_prec(next_min)?
        };
        let span = left.span.to(right.span);
        let (l, r) = (Box::new(left), Box::new(right));
        let kind = match op_tok.tok {
            Tok::Or | Tok::OrOr => ExprKind::Or(l, r),
            Tok::And | Tok::AndAnd => ExprKind::And(l, r),
            Tok::DotDot => ExprKind::Range {
                start: l,
                end: r,
                inclusive: false,
            },
            Tok::DotDotEq => ExprKind::Range {
                start: l,
                end: r,
                inclusive: true,
            },
            _ if negate_in => ExprKind::Binary(BinOp::NotIn, l, r),
            _ => match kind_fn {
                Some(op) => ExprKind::Binary(op, l, r),
                None => {
                    return Err(error(
                        op_tok.span,
                        ErrorKind::Unexpected {
                            found: op_tok.tok.describe(),
                            expected: "an operator".into(),
                        },
                    ))
                }
            },
        };
        Ok(mk(kind, span))
    }

    fn call(&mut self, callee: Expr) -> Result<Expr> {
        self.enter()?;
        let mut args = Vec::new();
        let mut kwargs: Vec<KwArg> = Vec::new();
        let is_help = matches!(&callee.kind, ExprKind::Name(n) if &**n == "help");
        loop {
            if matches!(self.peek(), Tok::RParen) {
                break;
            }
            // `help(for)`: a statement's keyword stands for its name.
            if let (true, Some(word), Tok::RParen) =
                (is_help, keyword_name(self.peek()), self.peek_at(1))
            {
                let span = self.bump().span;
                args.push(Expr {
                    kind: ExprKind::Str(Rc::from(word)),
                    span,
                });
                break;
            }
            if let (Tok::Ident(name), Tok::Assign) = (self.peek().clone(), self.peek_at(1).clone())
            {
                let span = self.bump().span;
                self.bump();
                let value = self.expr()?;
                if kwargs.iter().any(|k| &*k.name == name.as_str()) {
                    return Err(error(
                        span,
                        ErrorKind::Arguments(format!("keyword `{name}` given twice")),
                    ));
                }
                kwargs.push(KwArg {
                    name: Rc::from(name.as_str()),
                    value,
                    span,
                });
            } else {
                let e = self.expr()?;
                if !kwargs.is_empty() {
                    return Err(error(
                        e.span,
                        ErrorKind::Unexpected {
                            found: "a positional argument after keyword arguments".into(),
                            expected: "`name=value`".into(),
                        },
                    ));
                }
                args.push(e);
            }
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        let end = self.expect(&Tok::RParen, "`,` or `)`")?;
        self.leave();
        let span = callee.span.to(end);
        Ok(Expr {
            kind: ExprKind::Call {
                callee: Box::new(callee),
                args,
                kwargs,
            },
            span,
        })
    }

    fn prefix(&mut self) -> Result<Expr> {
        let t = self.bump();
        let span = t.span;
        let kind = match t.tok {
            Tok::Int(n) => ExprKind::Int(n),
            Tok::Float(f) => ExprKind::Float(f),
            Tok::Str(s) => ExprKind::Str(Rc::from(s.as_str())),
            Tok::Bytes(b) => ExprKind::Bytes(Rc::from(b.as_slice())),
            Tok::True => ExprKind::Bool(true),
            Tok::False => ExprKind::Bool(false),
            Tok::None => ExprKind::None,
            Tok::Ident(n) => ExprKind::Name(Rc::from(n.as_str())),
            Tok::FStr(pieces) => {
                let mut parts = Vec::new();
                for p in pieces {
                    match p {
                        FPiece::Lit(s) => parts.push(FPart::Lit(Rc::from(s.as_str()))),
                        FPiece::Expr { text, offset, spec } => {
                            let e = parse_expr_at(&text, self.file, offset, self.depth + 1)?;
                            parts
                                .push(FPart::Expr(Box::new(e), spec.map(|s| Rc::from(s.as_str()))));
                        }
                    }
                }
                ExprKind::FStr(parts)
            }
            Tok::LParen => {
                self.enter()?;
                if matches!(self.peek(), Tok::RParen) {
                    // `()`: the empty tuple
                    let end = self.bump().span;
                    self.leave();
                    return Ok(Expr {
                        kind: ExprKind::Tuple(Vec::new()),
                        span: span.to(end),
                    });
                }
                let e = self.expr()?;
                if matches!(self.peek(), Tok::Comma) {
                    // scapy's tuples: `(75, 85)`, `('MSS', 1460)`, `(1,)`
                    let mut items = vec![e];
                    while self.eat(&Tok::Comma) {
                        if matches!(self.peek(), Tok::RParen) {
                            break;
                        }
                        items.push(self.expr()?);
                    }
                    let end = self.expect(&Tok::RParen, "`,` or `)`")?;
                    self.leave();
                    return Ok(Expr {
                        kind: ExprKind::Tuple(items),
                        span: span.to(end),
                    });
                }
                let end = self.expect(&Tok::RParen, "`)`")?;
                self.leave();
                return Ok(Expr {
                    kind: e.kind,
                    span: span.to(end),
                });
            }
            Tok::LBracket => {
                self.enter()?;
                let mut items = Vec::new();
                loop {
                    if matches!(self.peek(), Tok::RBracket) {
                        break;
                    }
                    items.push(self.expr()?);
                    // `[elem for x in xs if cond]`
                    if items.len() == 1 && matches!(self.peek(), Tok::For) {
                        self.bump();
                        let (var, more) = self.loop_names()?;
                        let iter = self.expr()?;
                        let cond = if self.eat(&Tok::If) {
                            Some(Box::new(self.expr()?))
                        } else {
                            None
                        };
                        let end = self.expect(&Tok::RBracket, "`if` or `]`")?;
                        self.leave();
                        let elem = items
                            .pop()
                            .map(Box::new)
                            .ok_or_else(|| self.unexpected("an expression"))?;
                        return Ok(Expr {
                            kind: ExprKind::ListComp {
                                elem,
                                var,
                                more,
                                iter: Box::new(iter),
                                cond,
                            },
                            span: span.to(end),
                        });
                    }
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                let end = self.expect(&Tok::RBracket, "`,` or `]`")?;
                self.leave();
                return Ok(Expr {
                    kind: ExprKind::List(items),
                    span: span.to(end),
                });
            }
            Tok::LBrace => {
                self.enter()?;
                let mut items = Vec::new();
                loop {
                    self.skip_newlines();
                    if matches!(self.peek(), Tok::RBrace) {
                        break;
                    }
                    let k = self.expr()?;
                    self.skip_newlines();
                    self.expect(&Tok::Colon, "`:` between key and value")?;
                    self.skip_newlines();
                    let v = self.expr()?;
                    items.push((k, v));
                    self.skip_newlines();
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.skip_newlines();
                let end = self.expect(&Tok::RBrace, "`,` or `}`")?;
                self.leave();
                return Ok(Expr {
                    kind: ExprKind::Dict(items),
                    span: span.to(end),
                });
            }
            Tok::Minus => {
                let e = self.expr_prec(Prec::Unary)?;
                let s = span.to(e.span);
                return Ok(Expr {
                    kind: ExprKind::Unary(UnOp::Neg, Box::new(e)),
                    span: s,
                });
            }
            Tok::Plus => return self.expr_prec(Prec::Unary),
            Tok::Bang | Tok::Not => {
                let e = self.expr_prec(Prec::Not)?;
                let s = span.to(e.span);
                return Ok(Expr {
                    kind: ExprKind::Unary(UnOp::Not, Box::new(e)),
                    span: s,
                });
            }
            Tok::Error(kind) => return Err(error(span, kind)),
            other => {
                self.pos -= 1;
                let _ = other;
                return Err(self.unexpected("an expression"));
            }
        };
        Ok(Expr { kind, span })
    }
}

/// A Python (scapy shell) statement word that starts a statement here: `def f(`,
/// `elif x`, `import scapy`, `from scapy.all import *`, `lambda x:`, `pass`.
fn python_word(word: &str, next: &Tok) -> bool {
    match word {
        "def" | "elif" | "import" | "from" | "lambda" | "class" => matches!(next, Tok::Ident(_)),
        "pass" => matches!(next, Tok::Newline | Tok::Eof | Tok::Semi | Tok::RBrace),
        _ => false,
    }
}

impl Parser {
    /// The error for a Python statement, saying how tcpcraft writes it.
    fn python_bridge(&self) -> Error {
        let span = self.span();
        let word = match self.peek() {
            Tok::Ident(w) => w.clone(),
            _ => String::new(),
        };
        let name = match self.peek_at(1) {
            Tok::Ident(n) => n.clone(),
            _ => String::new(),
        };
        let expected = match word.as_str() {
            "def" => {
                // The parameter names, for a definition that can be typed as is.
                let mut params = Vec::new();
                if matches!(self.peek_at(2), Tok::LParen) {
                    let mut i = 3;
                    loop {
                        match self.peek_at(i) {
                            Tok::Ident(p) => params.push(p.clone()),
                            Tok::Comma => {}
                            _ => break,
                        }
                        i += 1;
                    }
                }
                format!(
                    "`fn {name}({}) {{ … }}`: functions are defined with `fn` and a block in braces",
                    params.join(", ")
                )
            }
            "elif" => "`else if cond { … }`: tcpcraft writes Python's elif as `else if`".into(),
            "import" | "from" => {
                "a statement: there is nothing to import, every builtin and layer (IP, TCP, sr1, sniff …) is always there".into()
            }
            "lambda" => "`fn name(x) { return … }`: a named function instead of lambda".into(),
            "class" => "a statement: tcpcraft has no classes; use a dict or fn".into(),
            _ => "a statement: an empty block is `{}`".into(),
        };
        error(
            span,
            ErrorKind::Unexpected {
                found: format!("`{word}` (Python)"),
                expected,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Int(n) => n.to_string(),
            ExprKind::Name(n) => n.to_string(),
            ExprKind::Str(s) => format!("{s:?}"),
            ExprKind::Binary(op, l, r) => format!("({} {} {})", show(l), op.symbol(), show(r)),
            ExprKind::Unary(UnOp::Neg, e) => format!("(-{})", show(e)),
            ExprKind::Unary(UnOp::Not, e) => format!("(!{})", show(e)),
            ExprKind::And(l, r) => format!("({} && {})", show(l), show(r)),
            ExprKind::Or(l, r) => format!("({} || {})", show(l), show(r)),
            ExprKind::Range {
                start,
                end,
                inclusive,
            } => {
                format!(
                    "({}{}{})",
                    show(start),
                    if *inclusive { "..=" } else { ".." },
                    show(end)
                )
            }
            ExprKind::Attr(b, n) => format!("{}.{n}", show(b)),
            ExprKind::Call {
                callee,
                args,
                kwargs,
            } => {
                let mut a: Vec<String> = args.iter().map(show).collect();
                a.extend(
                    kwargs
                        .iter()
                        .map(|k| format!("{}={}", k.name, show(&k.value))),
                );
                format!("{}({})", show(callee), a.join(", "))
            }
            ExprKind::Index(b, i) => format!("{}[{}]", show(b), show(i)),
            _ => "?".into(),
        }
    }

    fn expr(s: &str) -> String {
        let stmts = parse(s, 0).unwrap_or_else(|e| panic!("{s}: {e:?}"));
        match &stmts[0].kind {
            StmtKind::Expr(e) => show(e),
            _ => "stmt".into(),
        }
    }

    #[test]
    fn precedence() {
        assert_eq!(expr("1 + 2 * 3"), "(1 + (2 * 3))");
        assert_eq!(expr("-2 ** 2"), "(-(2 ** 2))");
        assert_eq!(expr("2 ** 3 ** 2"), "(2 ** (3 ** 2))");
        assert_eq!(expr("a or b and not c == d"), "(a || (b && (!(c == d))))");
        assert_eq!(expr("1..n+1"), "(1..(n + 1))");
        assert_eq!(expr("\"S\" in r.flags"), "(\"S\" in r.flags)");
        assert_eq!(expr("x not in y"), "(x not in y)");
        assert_eq!(
            expr("IP(dst=d)/TCP(dport=80)/\"x\""),
            "((IP(dst=d) / TCP(dport=80)) / \"x\")"
        );
        assert_eq!(expr("a.b(1)[2].c"), "a.b(1)[2].c");
    }

    #[test]
    fn multi_line_calls_and_operators() {
        assert_eq!(expr("f(1,\n  2)"), "f(1, 2)");
        assert_eq!(expr("1 +\n 2"), "(1 + 2)");
    }

    #[test]
    fn statements() {
        let s = parse("p.ttl = 3; x[0] += 1\nfn f(a, b=1) { return a + b }\nfor i in 1..=3 { if i == 2 { break } else { continue } }\nwhile x { x = x - 1 }\nassert x == 0, \"m\"\ninclude \"a.tcs\"", 0).unwrap();
        assert_eq!(s.len(), 7);
    }

    #[test]
    fn tuples_and_python_habits() {
        // A bare tuple is an expression statement; with `=` it unpacks.
        let s = parse("r.src, r.sport", 0).unwrap();
        assert!(
            matches!(&s[0].kind, StmtKind::Expr(e) if matches!(&e.kind, ExprKind::Tuple(v) if v.len() == 2))
        );
        let s = parse("a, b = sr(p)", 0).unwrap();
        assert!(matches!(&s[0].kind, StmtKind::Assign { .. }));
        let s = parse("x = (75, 85)\ny = (1,)\nz = ()\nw = 1, 2", 0).unwrap();
        assert_eq!(s.len(), 4);
        // `a, 1 = …` is still an error, at the expression.
        assert!(parse("a, 1 = x", 0).is_err());
        // Python's statements: an error that says how to write them, never "unfinished".
        for (src, hint) in [
            ("def probe(port):", "fn probe(port)"),
            ("elif x:", "else if"),
            ("from scapy.all import *", "nothing to import"),
            ("if x > 3:", "blocks are in braces"),
            ("else { x }", "} else {"),
        ] {
            let e = parse(src, 0).unwrap_err();
            assert!(!e.kind.is_incomplete(), "{src}");
            assert!(
                format!("{:?}", e.kind).contains(hint),
                "{src}: {:?}",
                e.kind
            );
        }
        // `help(for)`: the keyword as a name.
        assert_eq!(expr("help(for)"), "help(\"for\")");
    }

    #[test]
    fn errors() {
        let e = parse("x = (1 +", 0).unwrap_err();
        assert!(e.kind.is_incomplete());
        let e = parse("if x {", 0).unwrap_err();
        assert!(e.kind.is_incomplete());
        let e = parse("x = 1 2", 0).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Unexpected { .. }));
        assert_eq!((e.span.start, e.span.end), (6, 7));
        let e = parse("break", 0).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Misplaced(_)));
        let e = parse("fn f(a=1, b) {}", 0).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Arguments(_)));
        let deep = "(".repeat(1000);
        let e = parse(&deep, 0).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::NestTooDeep(_)));
        let e = parse("x = \"abc", 0).unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnterminatedString);
    }
}
