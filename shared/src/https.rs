//! The one TLS set-up of every outbound HTTPS connection (the services, Teamtailor, 2Secure's
//! files, and DynamoDB and Secrets Manager through [`crate::aws_http`]).
//!
//! Mozilla's root certificates are compiled in (`webpki-roots`), so a cold start reads no CA store
//! and parses no certificate: the system store read by rustls-native-certs or
//! rustls-platform-verifier cost each client several milliseconds of init. The crypto provider is
//! aws-lc-rs, the one rustls and reqwest already carry.
use std::sync::{Arc, OnceLock};

use rustls::{ClientConfig, RootCertStore};

/// The client configuration every TLS connection uses, built once per process.
pub fn tls_config() -> &'static ClientConfig {
    static CONFIG: OnceLock<ClientConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        // The anchors are static, already in the form webpki checks against: nothing is parsed.
        let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let mut config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("aws-lc-rs supports TLS 1.2 and 1.3")
                .with_root_certificates(roots)
                .with_no_client_auth();
        // reqwest is built without HTTP/2.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config
    })
}

/// `builder` built with [`tls_config`] instead of reqwest's own TLS set-up (which would load the
/// system's roots through rustls-platform-verifier at every `build()`).
pub fn client(builder: reqwest::ClientBuilder) -> reqwest::Result<reqwest::Client> {
    builder.tls_backend_preconfigured(tls_config().clone()).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_trusts_the_compiled_in_roots_and_builds_a_client() {
        assert!(!webpki_roots::TLS_SERVER_ROOTS.is_empty());
        assert_eq!(tls_config().alpn_protocols, vec![b"http/1.1".to_vec()]);
        client(reqwest::Client::builder()).expect("a client");
    }
}
