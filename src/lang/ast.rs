//! The syntax tree. Every node carries the span it came from, so run-time
//! errors point at the exact sub-expression.

use super::error::Span;
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Pow => "**",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum FPart {
    Lit(Rc<str>),
    Expr(Box<Expr>, Option<Rc<str>>),
}

#[derive(Debug, Clone)]
pub struct KwArg {
    pub name: Rc<str>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Bool(bool),
    None,
    FStr(Vec<FPart>),
    Name(Rc<str>),
    List(Vec<Expr>),
    /// `(a, b)`, `a, b`: a list value, except as a layer's field, where scapy's
    /// `dport=(75, 85)` is the inclusive range 75..=85.
    Tuple(Vec<Expr>),
    /// `[elem for var, more… in iter if cond]`: the loop variables live in a scope of
    /// their own.
    ListComp {
        elem: Box<Expr>,
        var: Rc<str>,
        more: Vec<Rc<str>>,
        iter: Box<Expr>,
        cond: Option<Box<Expr>>,
    },
    Dict(Vec<(Expr, Expr)>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Range {
        start: Box<Expr>,
        end: Box<Expr>,
        inclusive: bool,
    },
    Attr(Box<Expr>, Rc<str>),
    Index(Box<Expr>, Box<Expr>),
    Slice(Box<Expr>, Option<Box<Expr>>, Option<Box<Expr>>),
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
        kwargs: Vec<KwArg>,
    },
}

#[derive(Debug)]
pub struct FnDef {
    pub name: Rc<str>,
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug)]
pub struct Param {
    pub name: Rc<str>,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum StmtKind {
    Expr(Expr),
    /// `target = value`, or `target op= value`. Target: name, attribute or index.
    Assign {
        target: Expr,
        op: Option<BinOp>,
        value: Expr,
    },
    If {
        cond: Expr,
        then: Vec<Stmt>,
        els: Option<Vec<Stmt>>,
    },
    For {
        var: Rc<str>,
        /// `for snd, rcv in ans`: further names; each item is unpacked.
        more: Vec<Rc<str>>,
        iter: Expr,
        body: Vec<Stmt>,
    },
    While {
        cond: Expr,
        body: Vec<Stmt>,
    },
    Break,
    Continue,
    Return(Option<Expr>),
    Fn(Rc<FnDef>),
    Assert {
        cond: Expr,
        msg: Option<Expr>,
    },
    Include(Rc<str>),
}
