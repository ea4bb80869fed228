//! The gRPC channel from an agent to its coordinator: URL rules, TLS (mTLS), and the bearer token.

use std::net::IpAddr;
use std::time::Duration;

use swarm_proto::coordinator_client::CoordinatorClient;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// TCP connect timeout of every dial.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// HTTP/2 PING interval; a coordinator that stops answering is detected within about twice this.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
/// How long an HTTP/2 PING may go unanswered before the connection is considered dead.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// TLS settings for dialing an `https://` coordinator.
#[derive(Clone, Default)]
pub struct ClientTls {
    /// PEM of the CA that signed the coordinator's certificate; empty = the system's roots.
    pub ca_pem: Vec<u8>,
    /// PEM client certificate chain for mTLS (goes with `key_pem`).
    pub cert_pem: Option<Vec<u8>>,
    /// PEM private key of the client certificate.
    pub key_pem: Option<Vec<u8>>,
    /// Name to verify the coordinator's certificate against, when it differs from the URL host.
    pub domain: Option<String>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("ca_pem_bytes", &self.ca_pem.len())
            .field("client_cert", &self.cert_pem.is_some())
            .field("client_key", &self.key_pem.as_ref().map(|_| "<redacted>"))
            .field("domain", &self.domain)
            .finish()
    }
}

/// Why the channel to the coordinator could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The URL does not parse or has the wrong scheme.
    #[error("coordinator url {url:?}: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Plaintext to a host that is not this machine, without `insecure`.
    #[error(
        "coordinator url {url}: plaintext http to {host}, which is not a loopback address, is refused; use https:// (with --tls-ca) or pass --insecure"
    )]
    Plaintext {
        /// The URL given.
        url: String,
        /// Its host.
        host: String,
    },
    /// TLS settings for an `http://` URL.
    #[error("coordinator url {url}: tls settings were given but the url is http://; use https://")]
    TlsOverHttp {
        /// The URL given.
        url: String,
    },
    /// A client certificate without its key, or the other way round.
    #[error(
        "tls client identity needs both a certificate and a key; got the {given} without the {missing}"
    )]
    HalfIdentity {
        /// What was given.
        given: &'static str,
        /// What is missing.
        missing: &'static str,
    },
    /// The TLS configuration was rejected (bad PEM, unreadable roots).
    #[error("tls setup for {url}: {detail}")]
    Tls {
        /// The URL given.
        url: String,
        /// What tonic/rustls said.
        detail: String,
    },
    /// The connection could not be established.
    #[error("connecting to {url}: {detail}")]
    Connect {
        /// The URL given.
        url: String,
        /// The error and its causes.
        detail: String,
    },
    /// The connection was not established in time.
    #[error("connecting to {url}: no connection within {after:?}")]
    ConnectTimeout {
        /// The URL given.
        url: String,
        /// The deadline.
        after: Duration,
    },
    /// The token cannot travel in a header.
    #[error(
        "bearer token is not a valid header value: it must be visible ascii without spaces ({len} bytes given)"
    )]
    BadToken {
        /// Its length (the token itself is never printed).
        len: usize,
    },
}

/// An error and all its causes, `: `-joined (tonic's transport errors say little on their own).
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let next = c.to_string();
        if !s.contains(&next) {
            s.push_str(": ");
            s.push_str(&next);
        }
        cur = c.source();
    }
    s
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") || bare.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Checks `url` against the transport rules and builds its endpoint: `https://` uses `tls` (or
/// the system roots); `http://` is allowed to loopback hosts, elsewhere only with `insecure`.
pub fn endpoint(
    url: &str,
    tls: Option<&ClientTls>,
    insecure: bool,
) -> Result<Endpoint, TransportError> {
    let bad = |reason: String| TransportError::BadUrl {
        url: url.to_string(),
        reason,
    };
    let uri: http::Uri = url.parse().map_err(|e| bad(format!("{e}")))?;
    let host = uri
        .host()
        .ok_or_else(|| bad("no host".to_string()))?
        .to_string();
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        Some(other) => return Err(bad(format!("scheme {other:?}, expected http or https"))),
        None => return Err(bad("no scheme, expected http:// or https://".to_string())),
    };
    let ep = Endpoint::from_shared(url.to_string())
        .map_err(|e| bad(error_chain(&e)))?
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
        .keep_alive_timeout(KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(true);
    if !https {
        if tls.is_some() {
            return Err(TransportError::TlsOverHttp {
                url: url.to_string(),
            });
        }
        if !insecure && !is_loopback(&host) {
            return Err(TransportError::Plaintext {
                url: url.to_string(),
                host,
            });
        }
        return Ok(ep);
    }
    let mut cfg = ClientTlsConfig::new();
    match tls {
        Some(t) if !t.ca_pem.is_empty() => {
            cfg = cfg.ca_certificate(Certificate::from_pem(&t.ca_pem));
        }
        _ => cfg = cfg.with_native_roots(),
    }
    if let Some(t) = tls {
        match (&t.cert_pem, &t.key_pem) {
            (Some(cert), Some(key)) => cfg = cfg.identity(Identity::from_pem(cert, key)),
            (Some(_), None) => {
                return Err(TransportError::HalfIdentity {
                    given: "certificate",
                    missing: "key",
                });
            }
            (None, Some(_)) => {
                return Err(TransportError::HalfIdentity {
                    given: "key",
                    missing: "certificate",
                });
            }
            (None, None) => {}
        }
        if let Some(d) = &t.domain {
            cfg = cfg.domain_name(d.clone());
        }
    }
    ep.tls_config(cfg).map_err(|e| TransportError::Tls {
        url: url.to_string(),
        detail: error_chain(&e),
    })
}

/// Dials `ep`, giving up after `deadline`.
pub async fn connect(ep: &Endpoint, deadline: Duration) -> Result<Channel, TransportError> {
    let url = ep.uri().to_string();
    match tokio::time::timeout(deadline, ep.connect()).await {
        Ok(Ok(ch)) => Ok(ch),
        Ok(Err(e)) => Err(TransportError::Connect {
            url,
            detail: error_chain(&e),
        }),
        Err(_) => Err(TransportError::ConnectTimeout {
            url,
            after: deadline,
        }),
    }
}

/// Adds `authorization: Bearer <token>` to every call (nothing when there is no token).
#[derive(Clone, Default)]
pub struct BearerAuth {
    header: Option<MetadataValue<Ascii>>,
}

impl std::fmt::Debug for BearerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerAuth")
            .field("token", &self.header.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl BearerAuth {
    /// An interceptor sending `token`, or nothing when it is None.
    pub fn new(token: Option<&str>) -> Result<Self, TransportError> {
        let header = token
            .map(|t| {
                if t.is_empty() || t.bytes().any(|b| !b.is_ascii_graphic()) {
                    return Err(TransportError::BadToken { len: t.len() });
                }
                let mut v = MetadataValue::try_from(format!("Bearer {t}"))
                    .map_err(|_| TransportError::BadToken { len: t.len() })?;
                v.set_sensitive(true);
                Ok(v)
            })
            .transpose()?;
        Ok(Self { header })
    }
}

impl Interceptor for BearerAuth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(h) = &self.header {
            req.metadata_mut().insert("authorization", h.clone());
        }
        Ok(req)
    }
}

/// The generated client over an authenticated channel.
pub type SessionClient = CoordinatorClient<InterceptedService<Channel, BearerAuth>>;

/// Wraps `channel` in the coordinator client, sending `auth` with every call.
pub fn client(channel: Channel, auth: BearerAuth) -> SessionClient {
    CoordinatorClient::with_interceptor(channel, auth)
        .max_decoding_message_size(swarm_proto::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(swarm_proto::MAX_MESSAGE_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_only_to_loopback_unless_insecure() {
        for ok in [
            "http://127.0.0.1:7000",
            "http://localhost:7000",
            "http://[::1]:7000",
            "http://127.3.2.1:1",
        ] {
            assert!(endpoint(ok, None, false).is_ok(), "{ok}");
        }
        let e = endpoint("http://10.0.0.7:7000", None, false).unwrap_err();
        assert!(
            matches!(&e, TransportError::Plaintext { host, .. } if host == "10.0.0.7"),
            "{e}"
        );
        assert!(e.to_string().contains("--insecure"), "{e}");
        assert!(endpoint("http://coord.example:7000", None, false).is_err());
        assert!(endpoint("http://coord.example:7000", None, true).is_ok());
    }

    #[test]
    fn url_mistakes_are_named() {
        let e = endpoint("ftp://h:1", None, false).unwrap_err();
        assert!(e.to_string().contains("\"ftp\""), "{e}");
        let e = endpoint("127.0.0.1:7000", None, false).unwrap_err();
        assert!(matches!(e, TransportError::BadUrl { .. }), "{e}");
        let tls = ClientTls::default();
        let e = endpoint("http://127.0.0.1:1", Some(&tls), false).unwrap_err();
        assert!(matches!(e, TransportError::TlsOverHttp { .. }), "{e}");
    }

    #[test]
    fn identity_needs_both_halves() {
        let tls = ClientTls {
            cert_pem: Some(b"x".to_vec()),
            ..Default::default()
        };
        let e = endpoint("https://127.0.0.1:1", Some(&tls), false).unwrap_err();
        assert!(
            matches!(e, TransportError::HalfIdentity { missing: "key", .. }),
            "{e}"
        );
    }

    #[test]
    fn tokens_are_checked_and_never_printed() {
        assert!(BearerAuth::new(Some("abc def")).is_err());
        assert!(BearerAuth::new(Some("")).is_err());
        let a = BearerAuth::new(Some("s3cret")).unwrap();
        assert!(!format!("{a:?}").contains("s3cret"));
        let mut a = a;
        let req = a.call(tonic::Request::new(())).unwrap();
        assert_eq!(
            req.metadata().get("authorization").unwrap(),
            "Bearer s3cret"
        );
        let mut none = BearerAuth::new(None).unwrap();
        let req = none.call(tonic::Request::new(())).unwrap();
        assert!(req.metadata().get("authorization").is_none());
    }
}
