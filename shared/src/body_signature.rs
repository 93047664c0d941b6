//! Webhooks signed over the raw body as `sha256=<hex HMAC-SHA256(secret, body)>` (Alva's
//! `X-Alva-Signature`, StackOne's `X-StackOne-Signature`), compared in constant time.
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::AppError;
use crate::SecretString;

fn mac(secret: &SecretString, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    mac
}

/// The sender's side (for the sandbox and tests).
pub fn sign(body: &[u8], secret: &SecretString) -> String {
    format!("sha256={}", hex::encode(mac(secret, body).finalize().into_bytes()))
}

/// `401` unless `header` (named `header_name` in the message) signs `body` with `secret`.
pub fn verify(
    header_name: &str,
    header: Option<&str>,
    body: &[u8],
    secret: &SecretString,
) -> Result<(), AppError> {
    let signature =
        header.and_then(|h| h.trim().strip_prefix("sha256=")).and_then(|h| hex::decode(h).ok()).ok_or_else(
            || AppError::unauthorized(format!("the {header_name} header (sha256=<hex>) is missing")),
        )?;
    mac(secret, body)
        .verify_slice(&signature)
        .map_err(|_| AppError::unauthorized(format!("the {header_name} does not match the body")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_secret_over_the_same_body_verifies() {
        let secret = SecretString::from("s");
        let header = sign(b"{\"a\":1}", &secret);
        verify("X-Sig", Some(&header), b"{\"a\":1}", &secret).unwrap();
        assert_eq!(verify("X-Sig", Some(&header), b"{\"a\":2}", &secret).unwrap_err().status, 401);
        assert_eq!(verify("X-Sig", Some(&header), b"{\"a\":1}", &"t".into()).unwrap_err().status, 401);
        assert!(verify("X-Sig", None, b"", &secret).unwrap_err().detail.contains("X-Sig"));
    }
}
