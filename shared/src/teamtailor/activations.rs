//! Provider keys that are UUIDs (listings without activation fields): a UUID verifies when it is
//! one of the listing's activations. `GET /partner/v1/partner-activations` lists them, each
//! `provider-key` a compact JWE (`alg: dir`) decrypted with a key derived from the listing's
//! webhook secret (docs/contracts.md).
//!
//! The listing is called with the partner key, which also writes every partner result, so it is
//! guarded: a webhook's signature is checked before it; what was learnt is kept for at most
//! [`FRESH`] (an uninstalled company stops working by then) and a key found in it is not listed
//! again meanwhile; an unknown key costs at most one listing per [`MIN_INTERVAL`], with one listing
//! in flight at a time.
use std::collections::HashMap;
use std::time::Duration;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;

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

/// AES-128-GCM or AES-256-GCM by the key's length (aws-lc-rs, the TLS stack's crypto).
fn aes_gcm(key: &[u8]) -> Option<LessSafeKey> {
    let algorithm = match key.len() {
        16 => &AES_128_GCM,
        32 => &AES_256_GCM,
        _ => return None,
    };
    Some(LessSafeKey::new(UnboundKey::new(algorithm, key).ok()?))
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
    let iv: [u8; 12] = URL_SAFE_NO_PAD.decode(iv).ok()?.try_into().ok()?;
    let mut msg = URL_SAFE_NO_PAD.decode(ciphertext).ok()?;
    msg.extend(URL_SAFE_NO_PAD.decode(tag).ok()?);
    let plain = candidate_keys(webhook_secret, enc).into_iter().find_map(|key| {
        let mut in_out = msg.clone();
        let nonce = Nonce::assume_unique_for_key(iv);
        let plain =
            aes_gcm(&key)?.open_in_place(nonce, Aad::from(header_b64.as_bytes()), &mut in_out).ok()?;
        Some(plain.to_vec())
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
    let mut sealed = provider_key.as_bytes().to_vec();
    aes_gcm(&key)
        .expect("a 16- or 32-byte key")
        .seal_in_place_append_tag(Nonce::assume_unique_for_key(iv), Aad::from(header.as_bytes()), &mut sealed)
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

/// How long a listing is trusted: a key found in it is accepted without listing again.
pub const FRESH: Duration = Duration::from_secs(15 * 60);
/// The least time between two listings of one listing's activations.
pub const MIN_INTERVAL: Duration = Duration::from_secs(30);

/// What one listing's activations (at one Teamtailor API base) told us, and when.
struct Listed {
    keys: HashMap<String, Activation>,
    listed_at: Option<Instant>,
    tried_at: Instant,
    failed: bool,
}

/// What to do about one key.
#[derive(Debug, PartialEq)]
enum Lookup {
    Known(Activation),
    /// Not among the activations listed less than [`MIN_INTERVAL`] ago.
    Refused,
    /// The last try to list them, less than [`MIN_INTERVAL`] ago, failed.
    Unavailable,
    /// Time to list them again.
    Refresh,
}

/// Who asks about a key we do not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asker {
    /// Anyone with a UUID (Teamtailor's calls): at most one listing per [`MIN_INTERVAL`].
    Anyone,
    /// An operator, already authenticated (an admin route): the activations are listed again.
    Operator,
}

impl Listed {
    fn lookup(listed: Option<&Listed>, key: &str, (asker, now): (Asker, Instant)) -> Lookup {
        let Some(l) = listed else { return Lookup::Refresh };
        let fresh = l.listed_at.is_some_and(|at| now.saturating_duration_since(at) < FRESH);
        let retrying_soon = now.saturating_duration_since(l.tried_at) < MIN_INTERVAL;
        // A known key stays accepted while its listing is fresh, or while the last try to list
        // them again failed (until the next try).
        if let Some(found) = l.keys.get(key).filter(|_| fresh || (l.failed && retrying_soon)) {
            return Lookup::Known(found.clone());
        }
        match asker == Asker::Anyone && now.saturating_duration_since(l.tried_at) < MIN_INTERVAL {
            true if l.failed => Lookup::Unavailable,
            true => Lookup::Refused,
            false => Lookup::Refresh,
        }
    }
}

fn refused() -> AppError {
    AppError::unauthorized("the provider key is not one of this listing's activations in Teamtailor")
}

fn unavailable() -> AppError {
    AppError::upstream("Teamtailor's list of activations could not be read just now; try again in a minute")
}

/// Verifies UUID provider keys against the listing's activations, remembering what it learns.
#[derive(Default)]
pub struct Activations {
    /// By Teamtailor API base.
    listed: RwLock<HashMap<String, Listed>>,
    /// Held while listing: one listing in flight.
    listing: Mutex<()>,
}

/// A request authenticated by a UUID provider key: the listing, the activation, and the key.
pub struct Authenticated {
    pub listing: Listing,
    pub activation: Activation,
    pub key: uuid::Uuid,
    /// The Teamtailor stack the activation was found on: the company's.
    pub stack: super::Stack,
}

impl Activations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Authenticates a Teamtailor call to a listing without activation fields: its Bearer provider
    /// key must be a UUID that is one of the listing's activations. A `POST` is a webhook: its
    /// `Teamtailor-Signature` is checked first, so that an unsigned request calls nothing out.
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
        let mut update_url = None;
        if req.method() == http::Method::POST {
            let hook = super::webhook::Webhook::parse(crate::web::bounded_body(req)?)?;
            let signature = crate::web::header(req, "teamtailor-signature");
            super::signature::verify(
                signature,
                &hook.partner_event.id,
                &listing.webhook_secret,
                platform.now_secs(),
            )?;
            update_url = Some(hook.partner_event.partner_result.update_url);
        }
        // The company's stack when the request names it (its update-url, else Teamtailor-Host);
        // otherwise the activation is looked for on each stack in turn.
        let config = &platform.config;
        let named = update_url
            .as_deref()
            .and_then(|u| platform.partner_results.locate(u).ok().map(|(stack, _)| stack))
            .or_else(|| crate::web::header(req, "teamtailor-host").and_then(super::Stack::from_host_header));
        let stacks: Vec<super::Stack> = match named {
            Some(stack) => vec![stack],
            None => super::Stack::ALL.to_vec(),
        };
        let mut last = refused();
        for stack in stacks {
            let base = config.teamtailor_base(stack);
            match self.check(&platform.http, (&base, &listing), &key, Asker::Anyone).await {
                Ok(activation) => return Ok(Authenticated { listing, activation, key, stack }),
                Err(e) if e.status == http::StatusCode::UNAUTHORIZED => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// The activation whose provider key is `key`, for an operator who pasted it (an admin
    /// route), looked for on each Teamtailor stack: a key not known yet lists the activations
    /// again, so that a company that has just activated is found. `401` when no stack has it.
    pub async fn verify(
        &self,
        http: &HttpClient,
        config: &crate::config::Config,
        listing: &Listing,
        key: &uuid::Uuid,
    ) -> Result<(Activation, super::Stack), AppError> {
        let mut last = refused();
        for stack in super::Stack::ALL {
            let base = config.teamtailor_base(stack);
            match self.check(http, (&base, listing), key, Asker::Operator).await {
                Ok(activation) => return Ok((activation, stack)),
                Err(e) if e.status == http::StatusCode::UNAUTHORIZED => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    async fn check(
        &self,
        http: &HttpClient,
        (api_base, listing): (&str, &Listing),
        key: &uuid::Uuid,
        asker: Asker,
    ) -> Result<Activation, AppError> {
        let key = key.to_string();
        if let Some(answer) = self.known(api_base, &key, asker).await {
            return answer;
        }
        let _only_us = self.listing.lock().await;
        // Another request may have listed them while this one waited.
        if let Some(answer) = self.known(api_base, &key, asker).await {
            return answer;
        }
        let tried_at = Instant::now();
        let found = self.list(http, api_base, listing).await;
        let mut listed = self.listed.write().await;
        let entry = listed.entry(api_base.to_owned()).or_insert_with(|| Listed {
            keys: HashMap::new(),
            listed_at: None,
            tried_at,
            failed: false,
        });
        entry.tried_at = tried_at;
        entry.failed = found.is_err();
        match found {
            Ok(keys) => {
                entry.keys = keys;
                entry.listed_at = Some(tried_at);
                entry.keys.get(&key).cloned().ok_or_else(refused)
            }
            // Teamtailor could not be asked: a key an earlier listing showed stays accepted (a
            // webhook's signature is verified anyway), so an outage of the listing does not
            // refuse the companies we know.
            Err(e) => entry.keys.get(&key).cloned().inspect(|_| tracing::warn!(error = %e.detail, "partner activations could not be listed; a key known from an earlier listing is accepted")).ok_or(e),
        }
    }

    /// The answer for `key` from what is known, or `None` when the activations must be listed.
    async fn known(&self, api_base: &str, key: &str, asker: Asker) -> Option<Result<Activation, AppError>> {
        match Listed::lookup(self.listed.read().await.get(api_base), key, (asker, Instant::now())) {
            Lookup::Known(activation) => Some(Ok(activation)),
            Lookup::Refused => Some(Err(refused())),
            Lookup::Unavailable => Some(Err(unavailable())),
            Lookup::Refresh => None,
        }
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
                Some(next) => match same_origin(next, api_base) {
                    Some(next) => url = next,
                    None => break,
                },
                None => break,
            }
        }
        Ok(out)
    }
}

/// `next` when it is an absolute URL on the same origin as `base` (the public API's one check):
/// the partner key is only ever sent to Teamtailor's own host.
fn same_origin(next: &str, base: &str) -> Option<String> {
    url::Url::parse(next).ok().and(super::public_api::next_page(base, next))
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

    /// Known answers, computed independently (Python `cryptography`'s AESGCM): the aws-lc-rs
    /// AES-GCM reads and writes exactly what the RustCrypto one did.
    #[test]
    fn known_answers_for_each_derived_key() {
        let secret = SecretString::from("listing-webhook-secret");
        let key = "6f1c2f1e-8d2a-4c59-9a39-0a4b1e2f3c4d";
        let a128 = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0..CQkJCQkJCQkJCQkJ.mijV4hrPUxH-dXFrji3UuUPFFFzAFArFSTVOu8uilmiYMadN.UA-fKU9rdVMZaaDmxt-xHg";
        let a256_hex = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..CQkJCQkJCQkJCQkJ.b1WzJ6HHJ-VEpA4kLCccFfb-YSloeVIExkLJ711ZBxrsh3W1.cYvVmW-jQhgZpxUAbfmOSg";
        let a256_digest = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..CQkJCQkJCQkJCQkJ.HSkqreMdKCEQSKen_FvrBIKgOxeVi_9LchRFqDGAz5CS8fI9.Sqrq0NvTCOHI9W8nncoMTg";
        for jwe in [a128, a256_hex, a256_digest] {
            assert_eq!(decrypt(jwe, &secret).as_deref(), Some(key), "{jwe}");
        }
        assert_eq!(encrypt(key, &secret, "A128GCM", [9; 12]), a128);
        assert_eq!(encrypt(key, &secret, "A256GCM", [9; 12]), a256_hex);
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

    #[test]
    fn links_next_is_followed_only_on_the_same_origin() {
        let base = "https://api.teamtailor.com";
        assert!(
            same_origin("https://api.teamtailor.com/partner/v1/partner-activations?page=2", base).is_some()
        );
        for other in [
            "https://api.teamtailor.com.evil.net/partner/v1/partner-activations",
            "http://api.teamtailor.com/partner/v1/partner-activations",
            "https://api.teamtailor.com:8443/partner/v1/partner-activations",
            "https://evil.net/?https://api.teamtailor.com",
            "/partner/v1/partner-activations",
        ] {
            assert!(same_origin(other, base).is_none(), "{other}");
        }
    }

    fn acme() -> Activation {
        Activation { company_uuid: "c1".into(), company_name: "Acme".into() }
    }

    fn listed(at: Instant, failed: bool) -> Listed {
        Listed {
            keys: HashMap::from([("k".to_owned(), acme())]),
            listed_at: (!failed).then_some(at),
            tried_at: at,
            failed,
        }
    }

    #[test]
    fn a_listed_key_is_trusted_for_at_most_fifteen_minutes() {
        let t0 = Instant::now();
        let l = listed(t0, false);
        let anyone = |at| (Asker::Anyone, at);
        assert_eq!(
            Listed::lookup(Some(&l), "k", anyone(t0 + Duration::from_secs(60))),
            Lookup::Known(acme())
        );
        assert_eq!(Listed::lookup(Some(&l), "k", anyone(t0 + FRESH)), Lookup::Refresh, "checked again");
        assert_eq!(Listed::lookup(None, "k", anyone(t0)), Lookup::Refresh);
    }

    #[test]
    fn an_unknown_key_lists_at_most_once_per_thirty_seconds() {
        let t0 = Instant::now();
        let l = listed(t0, false);
        let (anyone, operator) = (|at| (Asker::Anyone, at), |at| (Asker::Operator, at));
        assert_eq!(Listed::lookup(Some(&l), "other", anyone(t0 + Duration::from_secs(29))), Lookup::Refused);
        assert_eq!(Listed::lookup(Some(&l), "other", anyone(t0 + MIN_INTERVAL)), Lookup::Refresh);
        assert_eq!(
            Listed::lookup(Some(&l), "other", operator(t0 + Duration::from_secs(1))),
            Lookup::Refresh,
            "an operator who just pasted a new key is not kept waiting"
        );
        let failed = listed(t0, true);
        assert_eq!(
            Listed::lookup(Some(&failed), "other", anyone(t0 + Duration::from_secs(1))),
            Lookup::Unavailable
        );
        assert_eq!(Listed::lookup(Some(&failed), "other", anyone(t0 + MIN_INTERVAL)), Lookup::Refresh);
    }

    #[test]
    fn a_key_known_from_an_earlier_listing_stays_accepted_while_teamtailor_cannot_be_asked() {
        let t0 = Instant::now();
        let mut l = listed(t0, false);
        // Sixteen minutes on: the listing is stale, and the try to list again has just failed.
        let later = t0 + FRESH + Duration::from_secs(60);
        (l.tried_at, l.failed) = (later, true);
        let anyone = |at| (Asker::Anyone, at);
        assert_eq!(
            Listed::lookup(Some(&l), "k", anyone(later + Duration::from_secs(5))),
            Lookup::Known(acme())
        );
        assert_eq!(
            Listed::lookup(Some(&l), "k", anyone(later + MIN_INTERVAL)),
            Lookup::Refresh,
            "tried again"
        );
        assert_eq!(
            Listed::lookup(Some(&l), "other", anyone(later + Duration::from_secs(5))),
            Lookup::Unavailable
        );
    }
}
