//! Python `str.format` for prompt templates: `{name}` is replaced, `{{` and `}}` are literal
//! braces. The templates are EvalScope's, written exactly as its benchmark meta has them.

/// Renders `template`, replacing each `{key}` with its value. A placeholder without a value is
/// kept as written.
pub fn render(template: &str, values: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + values.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = template;
    while let Some(pos) = rest.find(['{', '}']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if let Some(stripped) = tail.strip_prefix('{') {
            match stripped.find('}') {
                Some(end) => {
                    let key = &stripped[..end];
                    match values.iter().find(|(k, _)| *k == key) {
                        Some((_, v)) => out.push_str(v),
                        None => out.push_str(&tail[..end + 2]),
                    }
                    rest = &stripped[end + 1..];
                }
                None => {
                    out.push_str(tail);
                    rest = "";
                }
            }
        } else {
            out.push('}');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}
