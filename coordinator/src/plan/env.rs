//! `${VAR}` and `${VAR:-default}` substitution in plan text, before YAML parsing; `$${` is a
//! literal `${`. A missing variable without a default is an error naming its line and column.

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

/// Substitutes every reference in `text`.
pub fn substitute(text: &str, vars: &dyn Vars) -> Result<String, EnvError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut offset = 0;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(escaped) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = escaped;
            offset += i + 3;
            continue;
        }
        if !after.starts_with("${") {
            out.push('$');
            rest = &after[1..];
            offset += i + 1;
            continue;
        }
        let (line, column) = position(text, offset + i);
        let Some(end) = after.find('}') else {
            let snippet: String = after.chars().take(20).collect();
            return Err(EnvError::Malformed {
                text: snippet,
                line,
                column,
            });
        };
        let inner = &after[2..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(EnvError::Malformed {
                text: after[..=end].to_string(),
                line,
                column,
            });
        }
        match (vars.get(name), default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err(EnvError::Missing {
                    name: name.to_string(),
                    line,
                    column,
                });
            }
        }
        rest = &after[end + 1..];
        offset += i + end + 1;
    }
    out.push_str(rest);
    Ok(out)
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
}
