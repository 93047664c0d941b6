//! The provider key Teamtailor sends as `Authorization: Bearer` on every call (docs/contracts.md §1): an HS256
//! JWT signed with the listing's partner API key whose claims are the activation form's values,
//! or, for a listing without activation fields, a UUID.
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::error::AppError;
use crate::SecretString;

/// A provider key as it arrived, classified by shape; not yet verified.
pub enum ProviderKey<'a> {
    Jwt(&'a str),
    Uuid(uuid::Uuid),
}

impl fmt::Debug for ProviderKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderKey::Jwt(_) => f.write_str("ProviderKey::Jwt([redacted])"),
            ProviderKey::Uuid(_) => f.write_str("ProviderKey::Uuid([redacted])"),
        }
    }
}

impl<'a> ProviderKey<'a> {
    pub fn parse(bearer: Option<&'a str>) -> Result<Self, AppError> {
        let token = bearer.ok_or_else(|| {
            AppError::unauthorized(
                "the Authorization header must carry the Teamtailor provider key as a Bearer token",
            )
        })?;
        if token.len() > 8192 {
            return Err(AppError::unauthorized("the provider key is too long"));
        }
        if let Ok(uuid) = uuid::Uuid::parse_str(token) {
            return Ok(ProviderKey::Uuid(uuid));
        }
        if token.split('.').count() == 3 {
            return Ok(ProviderKey::Jwt(token));
        }
        Err(AppError::unauthorized("the provider key is neither a JWT nor a UUID"))
    }
}

/// The verified claims of a provider key: the activation form's values. They can hold a
/// customer's secret (a token, a key), so `Debug` shows only their names.
pub struct ProviderClaims(Map<String, Value>);

impl fmt::Debug for ProviderClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl ProviderClaims {
    /// A string claim by field id. Teamtailor turns `_` into `-` in some places, so both
    /// spellings are accepted.
    pub fn secret(&self, field_id: &str) -> Option<SecretString> {
        let dashed = field_id.replace('_', "-");
        [field_id, dashed.as_str()]
            .iter()
            .find_map(|k| self.0.get(*k).and_then(Value::as_str))
            .filter(|s| !s.is_empty())
            .map(|s| SecretString::new(s.to_owned()))
    }
}

type HmacSha256 = Hmac<Sha256>;

/// Verifies an HS256 JWT with `key` and returns its claims. `exp` and `nbf`, when present, are
/// honoured.
pub fn verify_jwt(token: &str, key: &SecretString, now_secs: i64) -> Result<ProviderClaims, AppError> {
    let refused = |why: &str| AppError::unauthorized(format!("the provider key is not valid: {why}"));
    let mut parts = token.split('.');
    let (Some(header_b64), Some(claims_b64), Some(sig_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(refused("not a JWT"));
    };
    let header: Value = decode_json(header_b64).ok_or_else(|| refused("unreadable header"))?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(refused("only HS256 is accepted"));
    }
    let signature =
        URL_SAFE_NO_PAD.decode(sig_b64.trim_end_matches('=')).map_err(|_| refused("unreadable signature"))?;
    let mut mac = HmacSha256::new_from_slice(key.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(header_b64.as_bytes());
    mac.update(b".");
    mac.update(claims_b64.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| refused("it was not signed with this listing's partner API key"))?;
    let claims: Value = decode_json(claims_b64).ok_or_else(|| refused("unreadable claims"))?;
    let Value::Object(claims) = claims else {
        return Err(refused("claims are not an object"));
    };
    if claims.get("exp").and_then(Value::as_i64).is_some_and(|exp| exp < now_secs) {
        return Err(refused("it has expired"));
    }
    if claims.get("nbf").and_then(Value::as_i64).is_some_and(|nbf| nbf > now_secs + 60) {
        return Err(refused("it is not valid yet"));
    }
    Ok(ProviderClaims(claims))
}

/// Teamtailor's side: an HS256 JWT of `claims` (for the sandbox, the demo and tests).
pub fn encode_jwt(claims: &Value, key: &SecretString) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = HmacSha256::new_from_slice(key.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{header}.{body}").as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{header}.{body}.{sig}")
}

fn decode_json(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_750_000_000;

    #[test]
    fn a_jwt_signed_with_the_partner_key_yields_its_claims() {
        let key = SecretString::from("partner-key");
        let token = encode_jwt(&json!({"secret_token": "tok-123"}), &key);
        let ProviderKey::Jwt(jwt) = ProviderKey::parse(Some(&token)).unwrap() else { panic!() };
        let claims = verify_jwt(jwt, &key, NOW).unwrap();
        assert_eq!(claims.secret("secret_token").unwrap().expose(), "tok-123");
        assert!(!format!("{claims:?}").contains("tok-123"));
    }

    #[test]
    fn wrong_key_tampering_other_algorithms_and_expiry_are_refused() {
        let key = SecretString::from("partner-key");
        let token = encode_jwt(&json!({"secret_token": "a"}), &key);
        assert_eq!(verify_jwt(&token, &"other".into(), NOW).unwrap_err().status, 401);
        let parts: Vec<&str> = token.split('.').collect();
        let forged_claims = URL_SAFE_NO_PAD.encode(br#"{"secret_token":"b"}"#);
        let tampered = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
        assert!(verify_jwt(&tampered, &key, NOW).is_err());
        let none_alg = format!("{}.{}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#), parts[1]);
        assert!(verify_jwt(&none_alg, &key, NOW).is_err());
        let expired = encode_jwt(&json!({"exp": NOW - 1}), &key);
        assert!(verify_jwt(&expired, &key, NOW).is_err());
    }

    #[test]
    fn shapes_are_classified() {
        assert!(matches!(
            ProviderKey::parse(Some("6f1c2f1e-8d2a-4c59-9a39-0a4b1e2f3c4d")).unwrap(),
            ProviderKey::Uuid(_)
        ));
        assert_eq!(ProviderKey::parse(Some("garbage")).unwrap_err().status, 401);
        assert_eq!(ProviderKey::parse(None).unwrap_err().status, 401);
    }
}
