//! A small RFC 4180 CSV reader (quoted fields may hold commas, `""` and newlines), enough for the
//! official GPQA and C-Eval CSV files.

/// One record: its fields and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    /// The line the record starts on.
    pub line: usize,
    /// The fields.
    pub fields: Vec<String>,
}

/// Why a CSV text cannot be read.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvError {
    /// The line the bad record starts on.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Splits CSV text into records (a leading UTF-8 BOM is dropped; blank lines are skipped).
pub fn parse(text: &str) -> Result<Vec<CsvRow>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut in_quotes = false;
        while let Some(c) = chars.next() {
            if in_quotes {
                match c {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => in_quotes = false,
                    '\n' => {
                        line += 1;
                        field.push(c);
                    }
                    _ => field.push(c),
                }
                continue;
            }
            match c {
                '"' if field.is_empty() && !quoted => {
                    quoted = true;
                    in_quotes = true;
                }
                '"' => {
                    return Err(CsvError {
                        line,
                        message: "a quote inside an unquoted field".to_owned(),
                    });
                }
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    quoted = false;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' | '\r' => {
                    line += 1;
                    break;
                }
                _ if quoted => {
                    return Err(CsvError {
                        line,
                        message: format!("text {c:?} after a closing quote"),
                    });
                }
                _ => field.push(c),
            }
        }
        if in_quotes {
            return Err(CsvError {
                line: start,
                message: "a quoted field is not closed".to_owned(),
            });
        }
        fields.push(field);
        if fields.len() == 1 && fields[0].is_empty() && !quoted {
            continue;
        }
        rows.push(CsvRow {
            line: start,
            fields,
        });
    }
    Ok(rows)
}
