//! Process-wide TLS setup.

/// Installs ring as rustls's crypto provider (reqwest is built without one). Idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
