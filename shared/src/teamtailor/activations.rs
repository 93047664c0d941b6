//! Provider keys that are UUIDs (listings without activation fields): a UUID verifies when it is
//! one of the listing's activations. `GET /partner/v1/partner-activations` lists them, each
//! `provider-key` a compact JWE (`alg: dir`) decrypted with a key derived from the listing's
//! webhook secret (`research/teamtailor.md` §2.5). What was learnt is kept, so a warm call does
//! not list them again.
use std::collections::HashMap;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm, KeyInit, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use super::partner_results::PARTNER_API_VERSION;
use crate::error::AppError;
use crate::outbound::HttpClient;
use crate::platform::Listing;
use crate::SecretString;

/// The company behind a verified provider key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activation {
    pub company_uuid: String,
    pub company_name: String,
}

/// The keys the documented derivation allows, in the order to try them for `enc`.
fn candidate_keys(webhook_secret: &SecretString, enc: &str) -> Vec<Vec<u8>> {
    let digest = Sha256::digest(webhook_secret.expose().as_bytes());
    let hex32 = hex::encode(digest).as_bytes()[..32].to_vec();
    match enc {
        // Documented: hexdecode(sha256_hex(secret)[0..32]) = the digest's first 16 bytes.
        "A128GCM" => vec![digest[..16].to_vec()],
        // The docs name A256GCM with a 16-byte key; a 32-byte key is either the 32 hex
        // characters themselves or the whole digest.
        "A256GCM" => vec![hex32, digest.to_vec()],
        _ => vec![],
    }
}

/// Decrypts a compact JWE provider key; `None` when it does not decrypt with this secret.
pub fn decrypt(jwe: &str, webhook_secret: &SecretString) -> Option<String> {
    let parts: Vec<&str> = jwe.split('.').collect();
    let [header_b64, encrypted_key, iv, ciphertext, tag] = parts.as_slice() else {
        return None;
    };
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header_b64).ok()?).ok()?;
    if header.get("alg").and_then(Value::as_str) != Some("dir") || !encrypted_key.is_empty() {
        return None;
    }
    let enc = header.get("enc").and_then(Value::as_str)?;
    let iv = URL_SAFE_NO_PAD.decode(iv).ok().filter(|v| v.len() == 12)?;
    let mut msg = URL_SAFE_NO_PAD.decode(ciphertext).ok()?;
    msg.extend(URL_SAFE_NO_PAD.decode(tag).ok()?);
    let payload = || Payload { msg: &msg, aad: header_b64.as_bytes() };
    let nonce = Nonce::from_slice(&iv);
    let plain = candidate_keys(webhook_secret, enc).into_iter().find_map(|key| match key.len() {
        16 => Aes128Gcm::new_from_slice(&key).ok()?.decrypt(nonce, payload()).ok(),
        32 => Aes256Gcm::new_from_slice(&key).ok()?.decrypt(nonce, payload()).ok(),
        _ => None,
    })?;
    let text = String::from_utf8(plain).ok()?;
    // The plaintext is the key itself, possibly as a JSON string.
    Some(serde_json::from_str::<String>(&text).unwrap_or(text))
}

/// Teamtailor's side: a compact JWE of `provider_key` with the documented derivation (for the
/// sandbox and tests). `enc` is `A128GCM` or `A256GCM`.
pub fn encrypt(provider_key: &str, webhook_secret: &SecretString, enc: &str, iv: [u8; 12]) -> String {
    let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"dir","enc":"{enc}"}}"#));
    let key = candidate_keys(webhook_secret, enc).into_iter().next().expect("A128GCM or A256GCM");
    let payload = Payload { msg: provider_key.as_bytes(), aad: header.as_bytes() };
    let nonce = Nonce::from_slice(&iv);
    let sealed = match key.len() {
        16 => Aes128Gcm::new_from_slice(&key).expect("16-byte key").encrypt(nonce, payload),
        _ => Aes256Gcm::new_from_slice(&key).expect("32-byte key").encrypt(nonce, payload),
    }
    .expect("AES-GCM seals any message");
    let (ciphertext, tag) = sealed.split_at(sealed.len() - 16);
    format!(
        "{header}..{}.{}.{}",
        URL_SAFE_NO_PAD.encode(iv),
        URL_SAFE_NO_PAD.encode(ciphertext),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

#[derive(Deserialize)]
struct ActivationsPage {
    #[serde(default)]
    data: Vec<ActivationRow>,
    #[serde(default)]
    links: serde_json::Map<String, Value>,
}

#[derive(Deserialize)]
struct ActivationRow {
    #[serde(default)]
    attributes: serde_json::Map<String, Value>,
}

/// Verifies UUID provider keys against the listing's activations, remembering what it learns.
#[derive(Default)]
pub struct Activations {
    known: RwLock<HashMap<String, Activation>>,
}

/// A request authenticated by a UUID provider key: the listing, the activation, and the key.
pub struct Authenticated {
    pub listing: Listing,
    pub activation: Activation,
    pub key: uuid::Uuid,
}

impl Activations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Authenticates a Teamtailor call to a listing without activation fields: its Bearer provider
    /// key must be a UUID that is one of the listing's activations.
    pub async fn authenticate(
        &self,
        platform: &crate::platform::Platform,
        integration: &str,
        req: &crate::web::Request,
    ) -> Result<Authenticated, AppError> {
        let listing = platform.listing(integration).await?;
        let super::provider_key::ProviderKey::Uuid(key) =
            super::provider_key::ProviderKey::parse(crate::web::bearer(req))?
        else {
            return Err(AppError::unauthorized(
                "this listing authenticates with Teamtailor's generated partner key (a UUID)",
            ));
        };
        let base = super::api_base(&platform.config, crate::web::header(req, "teamtailor-host"))?;
        let activation = self.verify(&platform.http, &base, &listing, &key).await?;
        Ok(Authenticated { listing, activation, key })
    }

    /// The activation whose provider key is `key`; `401` when the listing has none.
    pub async fn verify(
        &self,
        http: &HttpClient,
        api_base: &str,
        listing: &Listing,
        key: &uuid::Uuid,
    ) -> Result<Activation, AppError> {
        let key = key.to_string();
        if let Some(found) = self.known.read().await.get(&key) {
            return Ok(found.clone());
        }
        let all = self.list(http, api_base, listing).await?;
        let mut known = self.known.write().await;
        known.extend(all);
        known.get(&key).cloned().ok_or_else(|| {
            AppError::unauthorized("the provider key is not one of this listing's activations in Teamtailor")
        })
    }

    /// Every activation of the listing, keyed by its decrypted provider key.
    async fn list(
        &self,
        http: &HttpClient,
        api_base: &str,
        listing: &Listing,
    ) -> Result<HashMap<String, Activation>, AppError> {
        let mut url = format!("{api_base}/partner/v1/partner-activations?page%5Bsize%5D=30");
        let mut out = HashMap::new();
        for _ in 0..super::public_api::MAX_PAGES {
            let request = http
                .request(reqwest::Method::GET, &url)
                .header("Authorization", format!("Token {}", listing.partner_api_key.expose()))
                .header("X-Api-Version", PARTNER_API_VERSION)
                .header("Accept", "application/vnd.api+json");
            let page: ActivationsPage = http.send_json("Teamtailor", request).await?;
            for row in page.data {
                let attr = |name: &str| {
                    row.attributes.get(name).and_then(Value::as_str).unwrap_or_default().to_owned()
                };
                if let Some(key) = decrypt(&attr("provider-key"), &listing.webhook_secret) {
                    out.insert(
                        key,
                        Activation { company_uuid: attr("company-uuid"), company_name: attr("company-name") },
                    );
                }
            }
            match page.links.get("next").and_then(Value::as_str) {
                Some(next) if next.starts_with(api_base) => url = next.to_owned(),
                _ => break,
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_derivation_round_trips_for_both_encodings() {
        let secret = SecretString::from("listing-webhook-secret");
        for enc in ["A128GCM", "A256GCM"] {
            let jwe = encrypt("6f1c2f1e-8d2a-4c59-9a39-0a4b1e2f3c4d", &secret, enc, [7; 12]);
            assert_eq!(jwe.split('.').count(), 5);
            assert_eq!(decrypt(&jwe, &secret).as_deref(), Some("6f1c2f1e-8d2a-4c59-9a39-0a4b1e2f3c4d"));
        }
    }

    #[test]
    fn a_wrong_secret_or_a_tampered_token_does_not_decrypt() {
        let secret = SecretString::from("listing-webhook-secret");
        let jwe = encrypt("key-1", &secret, "A128GCM", [1; 12]);
        assert_eq!(decrypt(&jwe, &"another-listing".into()), None);
        let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
        let mut ct = URL_SAFE_NO_PAD.decode(&parts[3]).unwrap();
        ct[0] ^= 1;
        parts[3] = URL_SAFE_NO_PAD.encode(ct);
        assert_eq!(decrypt(&parts.join("."), &secret), None);
        assert_eq!(decrypt("not.a.jwe", &secret), None);
    }
}
