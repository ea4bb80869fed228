//! The recursive-descent parser from tokens to a [`Node`] tree (latex2sympy's grammar).

use super::super::complex::Complex;
use super::lexer::{Cmd, Func, Tok};
use super::{MAX_DEPTH, Node, b};

pub(super) struct Parser {
    pub(super) toks: Vec<Tok>,
    pub(super) pos: usize,
    pub(super) depth: usize,
    pub(super) abs_depth: usize,
    pub(super) vars: Vec<String>,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn peek_op(&self, c: char) -> bool {
        self.peek() == Some(&Tok::Op(c))
    }

    fn eat_op(&mut self, c: char) -> bool {
        let hit = self.peek_op(c);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn expect_op(&mut self, c: char) -> Option<()> {
        self.eat_op(c).then_some(())
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    pub(super) fn expr(&mut self) -> Option<Node> {
        self.enter()?;
        let mut node = self.term()?;
        loop {
            if self.eat_op('+') {
                node = Node::Add(b(node), b(self.term()?));
            } else if self.eat_op('-') {
                node = Node::Sub(b(node), b(self.term()?));
            } else {
                break;
            }
        }
        self.depth -= 1;
        Some(node)
    }

    fn term(&mut self) -> Option<Node> {
        let mut node = self.unary()?;
        loop {
            match self.peek() {
                Some(Tok::Op('*') | Tok::Cmd(Cmd::Mul)) => {
                    self.pos += 1;
                    node = Node::Mul(b(node), b(self.unary()?));
                }
                Some(Tok::Op('/') | Tok::Cmd(Cmd::Div)) => {
                    self.pos += 1;
                    node = Node::Div(b(node), b(self.unary()?));
                }
                _ => break,
            }
        }
        Some(node)
    }

    fn unary(&mut self) -> Option<Node> {
        self.enter()?;
        let node = if self.eat_op('-') {
            Node::Neg(b(self.unary()?))
        } else if self.eat_op('+') {
            self.unary()?
        } else {
            self.implicit(true)?
        };
        self.depth -= 1;
        Some(node)
    }

    fn starts_primary(&self, allow_functions: bool) -> bool {
        match self.peek() {
            Some(Tok::Num(_) | Tok::Ident(_)) => true,
            Some(Tok::Cmd(c)) => match c {
                Cmd::Frac
                | Cmd::Sqrt
                | Cmd::Binom
                | Cmd::Pi
                | Cmd::Infty
                | Cmd::LFloor
                | Cmd::LCeil
                | Cmd::Wrapper => true,
                Cmd::Func(_) => allow_functions,
                _ => false,
            },
            Some(Tok::Op('(' | '[' | '{')) => true,
            Some(Tok::Op('|')) => self.abs_depth == 0,
            _ => false,
        }
    }

    /// Juxtaposed factors (`2x`, `3\sqrt{2}`, `(a+1)(b+2)`), and mixed numbers.
    fn implicit(&mut self, allow_functions: bool) -> Option<Node> {
        let mut node = self.postfix()?;
        let mut count = 1;
        while self.starts_primary(allow_functions) {
            let frac_next = self.peek() == Some(&Tok::Cmd(Cmd::Frac));
            let next = self.postfix()?;
            node = match (count, &node, &next) {
                (1, Node::Num(_, true), Node::Div(n, d))
                    if frac_next
                        && matches!(**n, Node::Num(_, true))
                        && matches!(**d, Node::Num(_, true)) =>
                {
                    Node::Add(b(node), b(next))
                }
                _ => Node::Mul(b(node), b(next)),
            };
            count += 1;
        }
        Some(node)
    }

    fn postfix(&mut self) -> Option<Node> {
        let mut node = self.primary()?;
        loop {
            if self.eat_op('^') {
                node = Node::Pow(b(node), b(self.arg()?));
            } else if self.eat_op('!') {
                node = Node::Fact(b(node));
            } else {
                break;
            }
        }
        Some(node)
    }

    /// One argument: a `{group}`, a single character, or a single command.
    fn arg(&mut self) -> Option<Node> {
        self.enter()?;
        let node = match self.peek()?.clone() {
            Tok::Op('{') => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect_op('}')?;
                e
            }
            Tok::Op('-') => {
                self.pos += 1;
                Node::Neg(b(self.arg()?))
            }
            Tok::Num(text) => {
                let mut chars = text.chars();
                let first = chars.next()?;
                let rest = chars.as_str();
                if rest.is_empty() {
                    self.pos += 1;
                } else {
                    self.toks[self.pos] = Tok::Num(rest.to_string());
                }
                Node::Num(f64::from(first.to_digit(10)?), true)
            }
            _ => self.primary()?,
        };
        self.depth -= 1;
        Some(node)
    }

    fn primary(&mut self) -> Option<Node> {
        self.enter()?;
        let tok = self.peek()?.clone();
        self.pos += 1;
        let node = match tok {
            Tok::Num(text) => Node::Num(text.parse().ok()?, !text.contains('.')),
            Tok::Ident(name) => match name.as_str() {
                "i" => Node::Const(Complex::I),
                "e" => Node::Const(Complex::real(std::f64::consts::E)),
                _ => {
                    self.vars.push(name.clone());
                    Node::Var(name)
                }
            },
            Tok::Op(open @ ('(' | '[' | '{')) => {
                let close = match open {
                    '(' => ')',
                    '[' => ']',
                    _ => '}',
                };
                let e = self.expr()?;
                self.expect_op(close)?;
                e
            }
            Tok::Op('|') if self.abs_depth == 0 => {
                self.abs_depth += 1;
                let e = self.expr()?;
                self.abs_depth -= 1;
                self.expect_op('|')?;
                Node::Abs(b(e))
            }
            Tok::Cmd(Cmd::Frac) => {
                let n = self.arg()?;
                let d = self.arg()?;
                Node::Div(b(n), b(d))
            }
            Tok::Cmd(Cmd::Binom) => {
                let n = self.arg()?;
                let k = self.arg()?;
                Node::Binom(b(n), b(k))
            }
            Tok::Cmd(Cmd::Sqrt) => {
                let index = if self.eat_op('[') {
                    let e = self.expr()?;
                    self.expect_op(']')?;
                    Some(e)
                } else {
                    None
                };
                let x = self.arg()?;
                match index {
                    Some(n) => Node::Root(b(n), b(x)),
                    None => Node::Root(b(Node::Num(2.0, true)), b(x)),
                }
            }
            Tok::Cmd(Cmd::Pi) => Node::Const(Complex::real(std::f64::consts::PI)),
            Tok::Cmd(Cmd::Infty) => Node::Const(Complex::real(f64::INFINITY)),
            Tok::Cmd(Cmd::LFloor) => {
                let e = self.expr()?;
                (self.peek() == Some(&Tok::Cmd(Cmd::RFloor))).then_some(())?;
                self.pos += 1;
                Node::Floor(b(e))
            }
            Tok::Cmd(Cmd::LCeil) => {
                let e = self.expr()?;
                (self.peek() == Some(&Tok::Cmd(Cmd::RCeil))).then_some(())?;
                self.pos += 1;
                Node::Ceil(b(e))
            }
            Tok::Cmd(Cmd::Wrapper) => self.arg()?,
            Tok::Cmd(Cmd::Func(f)) => self.function(f)?,
            _ => return None,
        };
        self.depth -= 1;
        Some(node)
    }

    /// `\sin x`, `\sin^2 x`, `\sin^{-1}(x)`, `\log_2 8`, `\ln(x+1)`.
    fn function(&mut self, f: Func) -> Option<Node> {
        let mut f = f;
        let mut power = None;
        if self.eat_op('^') {
            let p = self.arg()?;
            let inverse = match (&p, f) {
                (Node::Neg(one), Func::Sin | Func::Cos | Func::Tan)
                    if **one == Node::Num(1.0, true) =>
                {
                    Some(match f {
                        Func::Sin => Func::Asin,
                        Func::Cos => Func::Acos,
                        _ => Func::Atan,
                    })
                }
                _ => None,
            };
            match inverse {
                Some(g) => f = g,
                None => power = Some(p),
            }
        }
        let base = if f == Func::Log && self.eat_op('_') {
            Some(self.arg()?)
        } else {
            None
        };
        let x = if matches!(self.peek(), Some(Tok::Op('(' | '{' | '['))) {
            self.primary()?
        } else {
            self.implicit(false)?
        };
        let applied = match base {
            Some(base) => Node::Log(b(base), b(x)),
            None => Node::Func(f, b(x)),
        };
        Some(match power {
            Some(p) => Node::Pow(b(applied), b(p)),
            None => applied,
        })
    }
}
