//! StackOne's webhook signature, as StackOne's own example checks it
//! (`StackOneHQ/examples`, `apps/rag-knowledge-agent/src/app/api/stackone/webhook/route.ts` at
//! 7897f08a8fa7405d449156334dba1aaf1c8ad758): the header `x-stackone-signature` is the
//! HMAC-SHA256 of the raw body with the webhook's signing secret, encoded base64url without
//! padding (Node's `digest('base64url')`), with no prefix. Compared in constant time.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use hirebridge::{AppError, SecretString};

pub const HEADER: &str = "x-stackone-signature";

fn mac(secret: &SecretString, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    mac
}

/// The sender's side: what StackOne puts in the header for `body`.
pub fn sign(body: &[u8], secret: &SecretString) -> String {
    URL_SAFE_NO_PAD.encode(mac(secret, body).finalize().into_bytes())
}

/// `401` unless `header` is StackOne's signature of `body` with `secret`.
pub fn verify(header: Option<&str>, body: &[u8], secret: &SecretString) -> Result<(), AppError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or_else(|| {
        AppError::unauthorized("the x-stackone-signature header (StackOne's webhook signature) is missing")
    })?;
    if header.starts_with("sha256=") {
        return Err(AppError::unauthorized(
            "the x-stackone-signature header must be StackOne's base64url HMAC-SHA256 of the body, not sha256=<hex>",
        ));
    }
    // A SHA-256 MAC is 32 bytes: 43 base64url characters without padding.
    let signature =
        (header.len() == 43).then(|| URL_SAFE_NO_PAD.decode(header).ok()).flatten().ok_or_else(|| {
            AppError::unauthorized("the x-stackone-signature header is not a base64url HMAC-SHA256")
        })?;
    mac(secret, body)
        .verify_slice(&signature)
        .map_err(|_| AppError::unauthorized("the x-stackone-signature does not match the body"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2 (key "Jefe"), whose HMAC-SHA256 is
    /// 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843, in base64url.
    #[test]
    fn the_signature_is_the_unpadded_base64url_hmac_sha256_of_the_body() {
        let body = b"what do ya want for nothing?";
        assert_eq!(sign(body, &"Jefe".into()), "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM");
        verify(Some("W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM"), body, &"Jefe".into()).unwrap();
    }

    #[test]
    fn a_wrong_secret_body_or_form_is_refused_with_401() {
        let secret = SecretString::from("s");
        let good = sign(b"{\"a\":1}", &secret);
        assert_eq!(verify(Some(&good), b"{\"a\":2}", &secret).unwrap_err().status, 401);
        assert_eq!(verify(Some(&good), b"{\"a\":1}", &"t".into()).unwrap_err().status, 401);
        assert_eq!(verify(None, b"", &secret).unwrap_err().status, 401);
        let hex = hirebridge::body_signature::sign(b"{\"a\":1}", &secret);
        let refused = verify(Some(&hex), b"{\"a\":1}", &secret).unwrap_err();
        assert!(refused.status == 401 && refused.detail.contains("not sha256=<hex>"), "{}", refused.detail);
        let padded = format!("{good}=");
        assert_eq!(verify(Some(&padded), b"{\"a\":1}", &secret).unwrap_err().status, 401);
    }
}
