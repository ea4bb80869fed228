//! Tokens of a LaTeX scalar expression: numbers, names, commands and operators.

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// A number literal as written (`12`, `0.5`).
    Num(String),
    /// A variable name: a letter, a Greek command, or anything with a subscript (`x_1`, `52_8`).
    Ident(String),
    Cmd(Cmd),
    Op(char),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Cmd {
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
pub(super) enum Func {
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

pub(super) fn tokenize(s: &str) -> Option<Vec<Tok>> {
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
