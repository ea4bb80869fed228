//! A small LaTeX expression parser and evaluator for scalar answers.
//!
//! Covers what MATH-style answers are written with: numbers, variables (`x`, `x_1`, `\alpha`),
//! `+ - * / ^ !`, `\cdot \times \div`, implicit multiplication, `\frac`, `\sqrt`, `\sqrt[n]`,
//! `\binom`, `\pi`, `e`, `i`, `\infty`, trigonometric and log functions, `|x|`, floors and
//! ceilings. Grammar as latex2sympy: implicit multiplication binds tighter than `/` and `\cdot`
//! (`2/3x` is `2/(3x)`), a single-character argument is one character (`x^23` is `x^2 \cdot 3`),
//! and an integer followed by `\frac` of two integers is a mixed number (`3\frac12` is 3.5).
//! Parsing is linear in the input and nesting is bounded, so no input is slow or overflows.

use super::complex::Complex;

/// Deepest nesting the parser follows before giving up.
const MAX_DEPTH: usize = 150;
/// Longest input the parser looks at.
const MAX_LEN: usize = 2_000;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A number literal as written (`12`, `0.5`).
    Num(String),
    /// A variable name: a letter, a Greek command, or anything with a subscript (`x_1`, `52_8`).
    Ident(String),
    Cmd(Cmd),
    Op(char),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cmd {
    Frac,
    Sqrt,
    Binom,
    Pi,
    Infty,
    Mul,
    Div,
    Pm,
    Func(Func),
    LFloor,
    RFloor,
    LCeil,
    RCeil,
    /// `\mathrm`, `\text`, `\operatorname`, ...: the group that follows is read as is.
    Wrapper,
    /// `\displaystyle`, `\big`, ...: ignored.
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    Sin,
    Cos,
    Tan,
    Cot,
    Sec,
    Csc,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Ln,
    Log,
    Exp,
}

const COMMANDS: &[(&str, Cmd)] = &[
    ("frac", Cmd::Frac),
    ("dfrac", Cmd::Frac),
    ("tfrac", Cmd::Frac),
    ("cfrac", Cmd::Frac),
    ("sqrt", Cmd::Sqrt),
    ("binom", Cmd::Binom),
    ("dbinom", Cmd::Binom),
    ("tbinom", Cmd::Binom),
    ("pi", Cmd::Pi),
    ("infty", Cmd::Infty),
    ("cdot", Cmd::Mul),
    ("times", Cmd::Mul),
    ("ast", Cmd::Mul),
    ("div", Cmd::Div),
    ("pm", Cmd::Pm),
    ("mp", Cmd::Pm),
    ("sin", Cmd::Func(Func::Sin)),
    ("cos", Cmd::Func(Func::Cos)),
    ("tan", Cmd::Func(Func::Tan)),
    ("cot", Cmd::Func(Func::Cot)),
    ("sec", Cmd::Func(Func::Sec)),
    ("csc", Cmd::Func(Func::Csc)),
    ("arcsin", Cmd::Func(Func::Asin)),
    ("arccos", Cmd::Func(Func::Acos)),
    ("arctan", Cmd::Func(Func::Atan)),
    ("sinh", Cmd::Func(Func::Sinh)),
    ("cosh", Cmd::Func(Func::Cosh)),
    ("tanh", Cmd::Func(Func::Tanh)),
    ("ln", Cmd::Func(Func::Ln)),
    ("log", Cmd::Func(Func::Log)),
    ("exp", Cmd::Func(Func::Exp)),
    ("lfloor", Cmd::LFloor),
    ("rfloor", Cmd::RFloor),
    ("lceil", Cmd::LCeil),
    ("rceil", Cmd::RCeil),
    ("mathrm", Cmd::Wrapper),
    ("text", Cmd::Wrapper),
    ("textrm", Cmd::Wrapper),
    ("mathit", Cmd::Wrapper),
    ("operatorname", Cmd::Wrapper),
    ("boldsymbol", Cmd::Wrapper),
    ("boxed", Cmd::Wrapper),
    ("fbox", Cmd::Wrapper),
    ("displaystyle", Cmd::Skip),
    ("left", Cmd::Skip),
    ("right", Cmd::Skip),
    ("big", Cmd::Skip),
    ("Big", Cmd::Skip),
    ("bigl", Cmd::Skip),
    ("bigr", Cmd::Skip),
    ("Bigl", Cmd::Skip),
    ("Bigr", Cmd::Skip),
];

const GREEK: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Sigma",
    "Phi",
    "Psi",
    "Omega",
];

/// What a command name (letters after `\`) resolves to: the longest known command that
/// prefixes it, so `\cotx` (spaces were removed by normalisation) reads as `\cot x`.
fn resolve_command(name: &str) -> Option<(usize, Tok)> {
    let mut best: Option<(usize, Tok)> = None;
    let mut consider = |len: usize, tok: Tok| {
        if best.as_ref().is_none_or(|(l, _)| len > *l) {
            best = Some((len, tok));
        }
    };
    for (cmd_name, cmd) in COMMANDS {
        if name.starts_with(cmd_name) {
            consider(cmd_name.len(), Tok::Cmd(*cmd));
        }
    }
    for g in GREEK {
        if name.starts_with(g) {
            consider(g.len(), Tok::Ident(format!("\\{g}")));
        }
    }
    best
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut toks = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            toks.push(Tok::Num(chars[start..i].iter().collect()));
            // A base subscript (`52_8`, `4210_{5}`) is read as the digits alone, as
            // EvalScope and Math-Verify do.
            subscript(&chars, &mut i)?;
        } else if c.is_alphabetic() {
            if let Some((len, tok)) = plain_word(&chars[i..]) {
                toks.push(tok);
                i += len;
                continue;
            }
            i += 1;
            let tok = match c {
                'π' => Tok::Cmd(Cmd::Pi),
                _ => match subscript(&chars, &mut i)? {
                    Some(sub) => Tok::Ident(format!("{c}_{sub}")),
                    None => Tok::Ident(c.to_string()),
                },
            };
            toks.push(tok);
        } else if c == '*' && chars.get(i + 1) == Some(&'*') {
            toks.push(Tok::Op('^'));
            i += 2;
        } else if c == '∞' {
            toks.push(Tok::Cmd(Cmd::Infty));
            i += 1;
        } else if c == '\\' {
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && chars[j].is_ascii_alphabetic() {
                j += 1;
            }
            if j == start {
                match chars.get(start) {
                    Some(',' | ';' | ':' | ' ' | '!') => {}
                    Some('{') => toks.push(Tok::Op('{')),
                    Some('}') => toks.push(Tok::Op('}')),
                    _ => return None,
                }
                i = start + 1;
                continue;
            }
            let name: String = chars[start..j].iter().collect();
            let (len, tok) = resolve_command(&name)?;
            i = start + len;
            match tok {
                Tok::Cmd(Cmd::Skip) => {}
                Tok::Ident(g) => match subscript(&chars, &mut i)? {
                    Some(sub) => toks.push(Tok::Ident(format!("{g}_{sub}"))),
                    None => toks.push(Tok::Ident(g)),
                },
                tok => toks.push(tok),
            }
        } else {
            let op = match c {
                '·' | '×' => '*',
                '÷' => '/',
                '−' => '-',
                '+' | '-' | '*' | '/' | '^' | '_' | '!' | '(' | ')' | '[' | ']' | '{' | '}'
                | '|' => c,
                _ => return None,
            };
            toks.push(Tok::Op(op));
            i += 1;
        }
    }
    Some(toks)
}

/// Plain-text words written without a backslash, as sympy-style answers do: `pi` (the whole
/// word), and `sqrt`, `sin`, `log`, ... directly followed by `(`.
fn plain_word(chars: &[char]) -> Option<(usize, Tok)> {
    let len = chars.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let word: String = chars[..len].iter().collect();
    if word == "pi" {
        return Some((len, Tok::Cmd(Cmd::Pi)));
    }
    if chars.get(len) != Some(&'(') {
        return None;
    }
    let cmd = match word.as_str() {
        "sqrt" => Cmd::Sqrt,
        "sin" | "cos" | "tan" | "cot" | "sec" | "csc" | "arcsin" | "arccos" | "arctan" | "ln"
        | "log" | "exp" => match resolve_command(&word)? {
            (_, Tok::Cmd(cmd)) => cmd,
            _ => return None,
        },
        _ => return None,
    };
    Some((len, Tok::Cmd(cmd)))
}

/// A subscript right after position `*i` (`_1`, `_{10}`), moved past; `Ok(None)` if none.
/// `None` (outer) when the subscript is malformed.
fn subscript(chars: &[char], i: &mut usize) -> Option<Option<String>> {
    if chars.get(*i) != Some(&'_') {
        return Some(None);
    }
    match chars.get(*i + 1) {
        Some('{') => {
            let mut depth = 0usize;
            let mut j = *i + 1;
            while j < chars.len() {
                match chars[j] {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            let sub: String = chars[*i + 2..j]
                                .iter()
                                .filter(|c| !c.is_whitespace())
                                .collect();
                            *i = j + 1;
                            return Some(Some(sub));
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        Some(c) if c.is_alphanumeric() => {
            *i += 2;
            Some(Some(c.to_string()))
        }
        _ => None,
    }
}

/// A parsed scalar expression.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A literal; `true` when written as an integer.
    Num(f64, bool),
    Const(Complex),
    Var(String),
    Neg(Box<Node>),
    Add(Box<Node>, Box<Node>),
    Sub(Box<Node>, Box<Node>),
    Mul(Box<Node>, Box<Node>),
    Div(Box<Node>, Box<Node>),
    Pow(Box<Node>, Box<Node>),
    Root(Box<Node>, Box<Node>),
    Fact(Box<Node>),
    Binom(Box<Node>, Box<Node>),
    Abs(Box<Node>),
    Floor(Box<Node>),
    Ceil(Box<Node>),
    Func(Func, Box<Node>),
    Log(Box<Node>, Box<Node>),
}

fn b(n: Node) -> Box<Node> {
    Box::new(n)
}

/// A scalar LaTeX expression, ready to evaluate.
#[derive(Debug, Clone)]
pub(crate) struct Expr {
    root: Node,
    vars: Vec<String>,
}

impl Expr {
    /// Parse `s`; `None` when it is not a scalar expression this parser understands.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        if s.len() > MAX_LEN {
            return None;
        }
        let toks = tokenize(s)?;
        let mut p = Parser {
            toks,
            pos: 0,
            depth: 0,
            abs_depth: 0,
            vars: Vec::new(),
        };
        let root = p.expr()?;
        if p.pos != p.toks.len() {
            return None;
        }
        let mut vars = p.vars;
        vars.sort();
        vars.dedup();
        Some(Self { root, vars })
    }

    /// Free variable names, sorted.
    pub(crate) fn vars(&self) -> &[String] {
        &self.vars
    }

    /// The value with variables bound by `env` (unbound ones are `NaN`).
    pub(crate) fn eval(&self, env: &[(&str, Complex)]) -> Complex {
        eval(&self.root, env)
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    abs_depth: usize,
    vars: Vec<String>,
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

    fn expr(&mut self) -> Option<Node> {
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

fn eval(node: &Node, env: &[(&str, Complex)]) -> Complex {
    match node {
        Node::Num(v, _) => Complex::real(*v),
        Node::Const(c) => *c,
        Node::Var(name) => env
            .iter()
            .find(|(n, _)| n == name)
            .map_or(Complex::NAN, |(_, v)| *v),
        Node::Neg(a) => -eval(a, env),
        Node::Add(a, c) => eval(a, env) + eval(c, env),
        Node::Sub(a, c) => eval(a, env) - eval(c, env),
        Node::Mul(a, c) => eval(a, env) * eval(c, env),
        Node::Div(a, c) => eval(a, env) / eval(c, env),
        Node::Pow(a, c) => eval(a, env).pow(eval(c, env)),
        Node::Root(n, x) => root(eval(n, env), eval(x, env)),
        Node::Fact(a) => factorial(eval(a, env)),
        Node::Binom(n, k) => binom(eval(n, env), eval(k, env)),
        Node::Abs(a) => Complex::real(eval(a, env).abs()),
        Node::Floor(a) => eval(a, env).real_fn(f64::floor),
        Node::Ceil(a) => eval(a, env).real_fn(f64::ceil),
        Node::Log(base, x) => eval(x, env).ln() / eval(base, env).ln(),
        Node::Func(f, a) => apply(*f, eval(a, env)),
    }
}

fn apply(f: Func, x: Complex) -> Complex {
    let one = Complex::ONE;
    match f {
        Func::Sin => x.sin(),
        Func::Cos => x.cos(),
        Func::Tan => x.sin() / x.cos(),
        Func::Cot => x.cos() / x.sin(),
        Func::Sec => one / x.cos(),
        Func::Csc => one / x.sin(),
        Func::Asin => x.real_fn(f64::asin),
        Func::Acos => x.real_fn(f64::acos),
        Func::Atan => x.real_fn(f64::atan),
        Func::Sinh => (x.exp() - (-x).exp()) / Complex::real(2.0),
        Func::Cosh => (x.exp() + (-x).exp()) / Complex::real(2.0),
        Func::Tanh => (x.exp() - (-x).exp()) / (x.exp() + (-x).exp()),
        Func::Ln | Func::Log => x.ln(),
        Func::Exp => x.exp(),
    }
}

/// `\sqrt[n]{x}`: the real root for a negative real `x` and odd integer `n`, else principal.
fn root(n: Complex, x: Complex) -> Complex {
    if n == Complex::real(2.0) {
        return x.sqrt();
    }
    if n.is_real() && x.is_real() && x.re < 0.0 && n.re.fract() == 0.0 && n.re % 2.0 != 0.0 {
        return Complex::real(-(-x.re).powf(1.0 / n.re));
    }
    x.pow(Complex::ONE / n)
}

fn as_small_nonneg_int(x: Complex) -> Option<u32> {
    (x.is_real() && x.re.fract() == 0.0 && (0.0..=170.0).contains(&x.re)).then_some(x.re as u32)
}

fn factorial(x: Complex) -> Complex {
    match as_small_nonneg_int(x) {
        Some(n) => Complex::real((1..=n).map(f64::from).product()),
        None => Complex::NAN,
    }
}

fn binom(n: Complex, k: Complex) -> Complex {
    let (Some(n), Some(k)) = (as_small_nonneg_int(n), as_small_nonneg_int(k)) else {
        return Complex::NAN;
    };
    if k > n {
        return Complex::ZERO;
    }
    let k = k.min(n - k);
    let v = (0..k).fold(1.0, |acc, j| acc * f64::from(n - j) / f64::from(j + 1));
    Complex::real(v.round())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(s: &str) -> f64 {
        let e = Expr::parse(s).unwrap_or_else(|| panic!("{s} should parse"));
        let v = e.eval(&[]);
        assert!(v.im.abs() < 1e-12, "{s} is not real: {v:?}");
        v.re
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * (1.0 + b.abs())
    }

    #[test]
    fn constants() {
        assert!(close(val(r"\frac{1}{2}\sqrt{3}"), 3f64.sqrt() / 2.0));
        assert!(close(val(r"\frac{\sqrt{3}}{2}"), 3f64.sqrt() / 2.0));
        assert!(close(val(r"\frac34"), 0.75));
        assert!(close(val(r"3\frac{1}{2}"), 3.5));
        assert!(close(val(r"2\frac{\pi}{2}"), std::f64::consts::PI));
        assert!(close(val(r"2^{10}"), 1024.0));
        assert!(close(val(r"2^10"), 0.0));
        assert!(close(val(r"5!"), 120.0));
        assert!(close(val(r"\binom{10}{3}"), 120.0));
        assert!(close(val(r"\sqrt[3]{-8}"), -2.0));
        assert!(close(val(r"\log_28"), 3.0));
        assert!(close(val(r"2/3\cdot3"), 2.0));
        assert!(close(val(r"|-3|+\lfloor2.5\rfloor"), 5.0));
        assert!(close(val(r"\sin^2(1)+\cos^2(1)"), 1.0));
        assert!(close(val(r"i^2"), -1.0));
        assert!(close(val(r"\sin^{-1}(1)"), std::f64::consts::FRAC_PI_2));
    }

    #[test]
    fn variables_and_commands() {
        let e = Expr::parse(r"\cotx+2\alpha_1").expect("parses");
        assert_eq!(e.vars(), ["\\alpha_1", "x"]);
        assert!(close(val(r"52_8"), 52.0));
        assert!(close(val(r"4210_{5}"), 4210.0));
        assert!(close(val("3*sqrt(13)+2**3"), 3.0 * 13f64.sqrt() + 8.0));
        assert!(close(val("2pi"), 2.0 * std::f64::consts::PI));
        // `pi` only as a whole word: `spin` is s·p·i·n with i imaginary
        assert_eq!(Expr::parse("spin").expect("parses").vars(), ["n", "p", "s"]);
    }

    #[test]
    fn rejects_non_scalars() {
        for s in [
            "1,2", "x=1", "x<2", r"\in", "(1", "", r"1\pm2", "{{{{", "2^",
        ] {
            assert!(Expr::parse(s).is_none(), "{s} should not parse");
        }
        let deep = "(".repeat(500) + "1" + &")".repeat(500);
        assert!(Expr::parse(&deep).is_none());
    }
}
