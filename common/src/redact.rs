//! Secrets in URLs and headers: what is replaced by `<redacted>` wherever a URL or a header is
//! written or shown (run files, logs, errors).

use crate::shard::REDACTED;

/// Whether a header or query parameter named `name` holds a credential: `authorization`,
/// `cookie`, or a name containing `key`, `token`, `secret`, `auth`, `password`, `signature`
/// (`Ocp-Apim-Subscription-Key`, `x-api-key`, `sig`, ...).
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "cookie"
        || n == "sig"
        || [
            "key",
            "token",
            "secret",
            "auth",
            "password",
            "passwd",
            "signature",
            "credential",
        ]
        .iter()
        .any(|w| n.contains(w))
}

/// `url` with its user information (`user:pass@`) and the values of secret-looking query
/// parameters (`?api-key=...`) replaced by `<redacted>`.
pub fn redact_url(url: &str) -> String {
    let (head, fragment) = match url.split_once('#') {
        Some((h, f)) => (h, Some(f)),
        None => (url, None),
    };
    let (base, query) = match head.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (head, None),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://{REDACTED}@{host}{path}"),
                None => base.to_string(),
            }
        }
        None => base.to_string(),
    };
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if is_secret_name(k) => format!("{k}={REDACTED}"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// `text` with every `http://` or `https://` URL in it passed through [`redact_url`] (a URL
/// ends at whitespace, a quote, `<`, `>` or a closing bracket).
pub fn redact_urls_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest
        .find("http://")
        .into_iter()
        .chain(rest.find("https://"))
        .min()
    {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| c.is_whitespace() || "\"'<>)]}`".contains(c))
            .unwrap_or(tail.len());
        out.push_str(&redact_url(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_information_and_secret_parameters_are_redacted() {
        assert_eq!(
            redact_url("https://bob:hunter2@api.example.com/v1/chat/completions?api-key=s3&x=1"),
            "https://<redacted>@api.example.com/v1/chat/completions?api-key=<redacted>&x=1"
        );
        assert_eq!(
            redact_url("http://h:1/v1?token=a&sig=b&model=m#frag"),
            "http://h:1/v1?token=<redacted>&sig=<redacted>&model=m#frag"
        );
        assert_eq!(
            redact_url("http://h:1/v1/chat/completions"),
            "http://h:1/v1/chat/completions"
        );
        assert!(is_secret_name("Ocp-Apim-Subscription-Key"));
        assert!(is_secret_name("X-Auth"));
        assert!(!is_secret_name("x-trace"));
    }

    #[test]
    fn urls_inside_text_are_redacted() {
        let t = "targets:\n  - url: 'http://u:p@h/v1?key=k'\n  - url: https://h2/v1 # ok\n";
        assert_eq!(
            redact_urls_in(t),
            "targets:\n  - url: 'http://<redacted>@h/v1?key=<redacted>'\n  - url: https://h2/v1 # ok\n"
        );
    }
}
