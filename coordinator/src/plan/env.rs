//! `${VAR}` and `${VAR:-default}` in plan text; `$${` is a literal `${`. References in comments
//! are not expanded, and a value is expanded inside the one scalar it stands in: one that would
//! add keys, items or comments (a newline, `: `, ` #`) is refused. A missing variable without a
//! default, or one `--allow-env` does not allow, is an error naming its line and column.

use std::collections::HashMap;

/// A variable the plan needs and the environment lacks.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvError {
    /// `${VAR}` with VAR unset and no default.
    #[error(
        "line {line}, column {column}: environment variable {name} is not set (use ${{{name}:-default}} for a default)"
    )]
    Missing {
        /// The variable.
        name: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A variable the plan may not read (`--allow-env`).
    #[error(
        "line {line}, column {column}: environment variable {name} may not be read by this plan (allow it with --allow-env {name})"
    )]
    NotAllowed {
        /// The variable.
        name: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A value would add keys, items or comments to the plan.
    #[error(
        "line {line}, column {column}: the value of {name} would change the plan's structure (a newline, ': ' or ' #' in it); values are expanded inside one scalar only"
    )]
    Structure {
        /// The variable.
        name: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// `${` without a closing brace or with an invalid name.
    #[error("line {line}, column {column}: malformed variable reference {text:?}")]
    Malformed {
        /// What was found.
        text: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
}

/// Where the values come from (the process environment, or a map in tests).
pub trait Vars {
    /// The value of `name`, if set.
    fn get(&self, name: &str) -> Option<String>;
    /// Whether the plan may read `name` at all.
    fn allowed(&self, _name: &str) -> bool {
        true
    }
}

/// The process environment, only the variables matching one of `patterns` (`NAME`, `PREFIX_*`,
/// `*`): `--allow-env` for plans you did not write.
pub struct AllowedEnv {
    /// The patterns.
    pub patterns: Vec<String>,
}

/// The environment a plan may read: all of it, or what `--allow-env` patterns allow.
pub fn policy(allow: &[String]) -> Box<dyn Vars> {
    if allow.is_empty() {
        Box::new(ProcessEnv)
    } else {
        Box::new(AllowedEnv {
            patterns: allow.to_vec(),
        })
    }
}

impl AllowedEnv {
    fn matches(&self, name: &str) -> bool {
        self.patterns.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => p == name,
        })
    }
}

impl Vars for AllowedEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|_| self.matches(name))
    }

    fn allowed(&self, name: &str) -> bool {
        self.matches(name)
    }
}

/// The process environment.
pub struct ProcessEnv;

impl Vars for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Vars for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

fn position(text: &str, byte: usize) -> (usize, usize) {
    let before = &text[..byte];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// One `${NAME}` or `${NAME:-default}` reference.
struct Ref<'a> {
    name: &'a str,
    default: Option<&'a str>,
    line: usize,
    column: usize,
}

/// Where a YAML comment starts at byte `i` of `text`: a `#` at the start of a line or after
/// white space, outside quoted strings (`quote` is the open quote, if any).
fn comment_starts(text: &str, i: usize, quote: Option<char>) -> bool {
    quote.is_none()
        && text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| c == ' ' || c == '\t' || c == '\n')
}

/// Copies `text`, replacing each reference outside comments by what `each` makes of it (`$${`
/// is a literal `${`). References inside comments are left as written.
fn rewrite(
    text: &str,
    mut each: impl FnMut(&Ref<'_>) -> Result<String, EnvError>,
) -> Result<String, EnvError> {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let Some(c) = rest.chars().next() else { break };
        if c == '#' && comment_starts(text, i, quote) {
            let end = rest.find('\n').map_or(text.len(), |n| i + n);
            out.push_str(&text[i..end]);
            i = end;
            continue;
        }
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some('"'), '\\') => {
                // an escaped character inside a double-quoted string
                let next = rest[1..].chars().next().map_or(0, char::len_utf8);
                out.push_str(&rest[..1 + next]);
                i += 1 + next;
                continue;
            }
            (Some(q), _) if q == c => quote = None,
            _ => {}
        }
        if let Some(after) = rest.strip_prefix("$${") {
            let _ = after;
            out.push_str("${");
            i += 3;
            continue;
        }
        if !rest.starts_with("${") {
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        let (line, column) = position(text, i);
        let Some(end) = rest.find('}') else {
            let snippet: String = rest.chars().take(20).collect();
            return Err(EnvError::Malformed {
                text: snippet,
                line,
                column,
            });
        };
        let inner = &rest[2..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(EnvError::Malformed {
                text: rest[..=end].to_string(),
                line,
                column,
            });
        }
        out.push_str(&each(&Ref {
            name,
            default,
            line,
            column,
        })?);
        i += end + 1;
    }
    Ok(out)
}

/// Substitutes every reference in `text` outside comments.
pub fn substitute(text: &str, vars: &dyn Vars) -> Result<String, EnvError> {
    rewrite(text, |r| {
        if !vars.allowed(r.name) {
            return Err(EnvError::NotAllowed {
                name: r.name.to_string(),
                line: r.line,
                column: r.column,
            });
        }
        match (vars.get(r.name), r.default) {
            (Some(v), _) => Ok(v),
            (None, Some(d)) => Ok(d.to_string()),
            (None, None) => Err(EnvError::Missing {
                name: r.name.to_string(),
                line: r.line,
                column: r.column,
            }),
        }
    })
}

/// A placeholder no plan spells, numbered per reference.
const PLACEHOLDER: &str = "SWARMPLANENVREF";

/// Whether the shape of `with` (the plan as substituted) is the shape of `held` (the plan with
/// a placeholder for each reference): the same keys and items, a scalar where a placeholder was.
fn same_shape(held: &serde_norway::Value, with: &serde_norway::Value) -> bool {
    use serde_norway::Value as V;
    let placeholder = |v: &V| matches!(v, V::String(s) if s.contains(PLACEHOLDER));
    let scalar = |v: &V| matches!(v, V::Null | V::Bool(_) | V::Number(_) | V::String(_));
    match (held, with) {
        (h, w) if placeholder(h) => scalar(w),
        (V::Mapping(h), V::Mapping(w)) => {
            h.len() == w.len()
                && h.iter().zip(w.iter()).all(|((hk, hv), (wk, wv))| {
                    (if placeholder(hk) {
                        scalar(wk)
                    } else {
                        hk == wk
                    }) && same_shape(hv, wv)
                })
        }
        (V::Sequence(h), V::Sequence(w)) => {
            h.len() == w.len() && h.iter().zip(w).all(|(a, b)| same_shape(a, b))
        }
        (V::Tagged(h), V::Tagged(w)) => h.tag == w.tag && same_shape(&h.value, &w.value),
        (h, w) => h == w,
    }
}

/// `text` with its references substituted, refused when a value would change the plan's
/// structure (a newline, `: ` or `#` in a value cannot add keys, items or comments): values are
/// expanded inside the scalars they stand in, never as YAML of their own.
pub fn expand(text: &str, vars: &dyn Vars) -> Result<String, EnvError> {
    let expanded = substitute(text, vars)?;
    let mut refs = Vec::new();
    let held = rewrite(text, |r| {
        refs.push((r.name.to_string(), r.line, r.column));
        Ok(format!("{PLACEHOLDER}{}", refs.len() - 1))
    })?;
    if refs.is_empty() {
        return Ok(expanded);
    }
    // a plan that is not YAML as written is the YAML parser's to report; one that is, but not
    // once a value is in, was broken by the value
    let Ok(h) = serde_norway::from_str::<serde_norway::Value>(&held) else {
        return Ok(expanded);
    };
    let fits =
        serde_norway::from_str::<serde_norway::Value>(&expanded).is_ok_and(|w| same_shape(&h, &w));
    if fits {
        return Ok(expanded);
    }
    // name the reference whose value looks like YAML, else the first one
    let suspicious = refs.iter().find(|(name, _, _)| {
        vars.get(name)
            .is_some_and(|v| v.contains('\n') || v.contains(": ") || v.contains(" #"))
    });
    let (name, line, column) = suspicious.or(refs.first()).cloned().unwrap_or_default();
    Err(EnvError::Structure { name, line, column })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> HashMap<String, String> {
        [("HOST".to_string(), "10.0.0.1".to_string())]
            .into_iter()
            .collect()
    }

    #[test]
    fn substitutes_defaults_and_escapes() {
        let s = substitute(
            "url: http://${HOST}:${PORT:-8000} cost: $5 lit: $${HOST}",
            &vars(),
        )
        .expect("ok");
        assert_eq!(s, "url: http://10.0.0.1:8000 cost: $5 lit: ${HOST}");
    }

    #[test]
    fn missing_variable_names_line_and_column() {
        let e = substitute("a: 1\nb: x${NOPE_X}", &vars()).expect_err("missing");
        assert_eq!(
            e,
            EnvError::Missing {
                name: "NOPE_X".into(),
                line: 2,
                column: 5
            }
        );
        assert!(e.to_string().contains("line 2, column 5"));
    }

    #[test]
    fn malformed_references() {
        assert!(matches!(
            substitute("x: ${A", &vars()),
            Err(EnvError::Malformed { .. })
        ));
        assert!(matches!(
            substitute("x: ${1A}", &vars()),
            Err(EnvError::Malformed { .. })
        ));
    }

    #[test]
    fn references_in_comments_are_left_alone() {
        let s = substitute(
            "# uses ${NOPE_X}\nurl: a#${HOST} # not ${NOPE_Y}\nq: \"x # ${HOST}\"",
            &vars(),
        )
        .expect("comments are not expanded");
        assert_eq!(
            s,
            "# uses ${NOPE_X}\nurl: a#10.0.0.1 # not ${NOPE_Y}\nq: \"x # 10.0.0.1\""
        );
    }

    #[test]
    fn a_value_cannot_add_structure() {
        let mut v = vars();
        v.insert("URL".into(), "http://x\ninsecure: true".into());
        v.insert("PORT".into(), "8000".into());
        let e = expand("a:\n  url: ${URL}\n  port: ${PORT}\n", &v).expect_err("injected");
        assert!(
            matches!(&e, EnvError::Structure { name, line: 2, .. } if name == "URL"),
            "{e}"
        );
        // a number stays a number, a string with YAML characters inside quotes stays a string
        let ok = expand("port: ${PORT}\nq: \"${HOST}: #1\"\n", &v).expect("fine");
        let parsed: serde_norway::Value = serde_norway::from_str(&ok).expect("yaml");
        assert_eq!(parsed["port"], serde_norway::Value::from(8000));
        assert_eq!(parsed["q"], serde_norway::Value::from("10.0.0.1: #1"));
        // an item cannot be added to a list either
        v.insert("ITEM".into(), "a\n- b".into());
        assert!(matches!(
            expand("l:\n- ${ITEM}\n", &v),
            Err(EnvError::Structure { .. })
        ));
    }

    #[test]
    fn allow_env_limits_what_a_plan_reads() {
        let env = AllowedEnv {
            patterns: vec!["SWARM_TEST_ALLOWED_*".into(), "PATH".into()],
        };
        assert!(env.allowed("SWARM_TEST_ALLOWED_X") && env.allowed("PATH"));
        assert!(!env.allowed("HOME") && !env.allowed("PATHX"));
        let e = substitute("k: ${HOME:-none}", &env).expect_err("not allowed");
        assert!(
            matches!(&e, EnvError::NotAllowed { name, .. } if name == "HOME"),
            "{e}"
        );
        assert!(e.to_string().contains("--allow-env HOME"));
    }
}
