//! DNS rebinding: a dashboard bound to loopback answers only requests addressed to a loopback
//! name (`localhost`, `127.x.x.x`, `[::1]`), so a web page on another site cannot point its own
//! domain at 127.0.0.1 and read the runs through the visitor's browser.

use axum::extract::Request;
use axum::http::{StatusCode, header::HOST};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Whether a `Host` header value names this machine's loopback.
pub fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [::1]:port
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host
            }
        })
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a request whose `Host` is not a loopback name.
pub async fn loopback_only(req: Request, next: Next) -> Response {
    let ok = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(is_loopback_host);
    if !ok {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "this dashboard answers only requests to localhost (start it with --allow-remote to serve other names)",
        )
            .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_pass() {
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:9",
            "127.1.2.3",
            "[::1]:80",
            "app.localhost",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "10.0.0.1:80",
            "localhost.evil.example",
            "[2001:db8::1]:80",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }
}
