//! An instruction's keyword arguments as the reference passes them to `build_description`:
//! falsy values (`null`, `0`, `""`, `[]`, `false`) dropped first, then typed access. Where the
//! reference would draw a random value (a missing or out-of-range argument) or raise, this
//! is an error instead, so a run never scores against made-up arguments.

use serde_json::{Map, Value};

/// What is wrong with one argument (`field` is `None` for the instruction as a whole).
#[derive(Debug, Clone, PartialEq)]
pub struct KwargError {
    /// The argument's name.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl KwargError {
    /// An error about argument `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }
}

/// Result of reading an argument.
pub type KwargResult<T> = Result<T, KwargError>;

/// Which way a count is compared with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// `less than`: count < threshold.
    LessThan,
    /// `at least`: count >= threshold.
    AtLeast,
}

impl Relation {
    /// Whether `count` stands in this relation to `threshold`.
    pub fn holds(self, count: usize, threshold: i64) -> bool {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        match self {
            Self::LessThan => count < threshold,
            Self::AtLeast => count >= threshold,
        }
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// The truthy arguments of one instruction.
#[derive(Debug, Clone)]
pub struct Kwargs<'a> {
    values: Vec<(&'a str, &'a Value)>,
}

impl<'a> Kwargs<'a> {
    /// The truthy entries of `map` (the reference's `{k: v for k, v in kwargs.items() if v}`).
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Self {
            values: map
                .iter()
                .filter(|(_, v)| truthy(v))
                .map(|(k, v)| (k.as_str(), v))
                .collect(),
        }
    }

    /// Refuses arguments the instruction does not take (the reference raises `TypeError`).
    pub fn only(&self, allowed: &[&str]) -> KwargResult<()> {
        match self.values.iter().find(|(k, _)| !allowed.contains(k)) {
            None => Ok(()),
            Some((k, _)) => Err(KwargError::new(
                k,
                if allowed.is_empty() {
                    "this instruction takes no arguments".to_owned()
                } else {
                    format!(
                        "unknown argument; this instruction takes {}",
                        allowed.join(", ")
                    )
                },
            )),
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// A required integer.
    pub fn int(&self, key: &str) -> KwargResult<i64> {
        match self.get(key) {
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| KwargError::new(key, format!("expected an integer, got {n}"))),
            Some(other) => Err(KwargError::new(
                key,
                format!("expected an integer, got {other}"),
            )),
            None => Err(missing(key)),
        }
    }

    /// A required integer that is at least `min` (the reference draws a random one otherwise).
    pub fn int_at_least(&self, key: &str, min: i64) -> KwargResult<i64> {
        let n = self.int(key)?;
        if n < min {
            return Err(KwargError::new(
                key,
                format!(
                    "must be at least {min}, got {n} (the reference would draw a random value)"
                ),
            ));
        }
        Ok(n)
    }

    /// A required string.
    pub fn str(&self, key: &str) -> KwargResult<&'a str> {
        match self.get(key) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(KwargError::new(
                key,
                format!("expected a string, got {other}"),
            )),
            None => Err(missing(key)),
        }
    }

    /// A required non-empty list of strings.
    pub fn str_list(&self, key: &str) -> KwargResult<Vec<&'a str>> {
        match self.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str().ok_or_else(|| {
                        KwargError::new(key, format!("expected a list of strings, got {v}"))
                    })
                })
                .collect(),
            Some(other) => Err(KwargError::new(
                key,
                format!("expected a list, got {other}"),
            )),
            None => Err(missing(key)),
        }
    }

    /// A required relation (`less than` or `at least`).
    pub fn relation(&self, key: &str) -> KwargResult<Relation> {
        match self.str(key)? {
            "less than" => Ok(Relation::LessThan),
            "at least" => Ok(Relation::AtLeast),
            other => Err(KwargError::new(
                key,
                format!("must be \"less than\" or \"at least\", got {other:?}"),
            )),
        }
    }
}

fn missing(key: &str) -> KwargError {
    KwargError::new(key, "missing (the reference would draw a random value)")
}

/// Compiles a pattern the reference hands to Python's `re` as is.
pub fn pattern(key: &str, pattern: &str) -> KwargResult<fancy_regex::Regex> {
    fancy_regex::Regex::new(pattern)
        .map_err(|e| KwargError::new(key, format!("not a valid regular expression: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn falsy_values_are_dropped_and_the_rest_typed() {
        let m = map(json!({"a": 3, "b": null, "c": 0, "d": "", "e": "at least", "f": ["x"]}));
        let k = Kwargs::new(&m);
        assert_eq!(k.int("a"), Ok(3));
        assert!(k.int("b").is_err() && k.int("c").is_err() && k.str("d").is_err());
        assert_eq!(k.relation("e"), Ok(Relation::AtLeast));
        assert_eq!(k.str_list("f"), Ok(vec!["x"]));
        assert!(k.only(&["a", "e", "f"]).is_ok());
        assert_eq!(
            k.only(&["a"]).map_err(|e| e.field),
            Err(Some("e".to_owned()))
        );
        assert!(k.int_at_least("a", 4).is_err());
        assert!(k.str("a").is_err());
    }

    #[test]
    fn relations_compare_as_the_reference() {
        assert!(Relation::LessThan.holds(2, 3) && !Relation::LessThan.holds(3, 3));
        assert!(Relation::AtLeast.holds(3, 3) && !Relation::AtLeast.holds(2, 3));
    }
}
