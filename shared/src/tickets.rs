//! Signed, expiring, single-use tickets for link pages (docs/routes.md): HMAC-SHA256 with the
//! operator secret's `link_signing_key` over the ticket's purpose, subject, expiry and nonce; used
//! once through a conditional write.
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::admin::{OperatorSecret, OPERATOR_SECRET};
use crate::error::AppError;
use crate::secrets::Secrets;
use crate::store::{Cond, Item, ItemStore, PutOutcome, EXPIRES_AT};
use crate::SecretString;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// What the ticket is for (`stackone-link`, `sparkhire-connect`), so one kind cannot serve another.
    pub purpose: String,
    /// Who or what it is about (an origin owner, a user).
    pub subject: String,
    /// Extra signed data (a display name).
    #[serde(default)]
    pub label: String,
    pub expires_at: i64,
    pub nonce: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("this link is not valid (it was changed or cut short); ask for a new one")]
    Invalid,
    #[error("this link has expired; ask for a new one")]
    Expired,
    #[error("this link has already been used; ask for a new one")]
    Used,
    #[error("this link was submitted too many times (at most 10); ask for a new one")]
    TooManySubmissions,
}

/// How many times the form behind one ticket may be submitted: enough to correct mistakes, too
/// few to guess keys with it.
pub const MAX_SUBMISSIONS: i64 = 10;

impl From<TicketError> for AppError {
    fn from(e: TicketError) -> Self {
        match e {
            TicketError::Invalid => AppError::unauthorized(e.to_string()),
            TicketError::Expired | TicketError::Used => AppError::new(http::StatusCode::GONE, e.to_string()),
            TicketError::TooManySubmissions => {
                AppError::new(http::StatusCode::TOO_MANY_REQUESTS, e.to_string())
            }
        }
    }
}

/// The signing key from the operator secret (base64, at least 32 bytes).
pub async fn signing_key(secrets: &Secrets) -> Result<SecretString, AppError> {
    let operator: OperatorSecret = secrets.require_json(OPERATOR_SECRET).await?;
    let encoded = operator
        .link_signing_key
        .ok_or_else(|| AppError::internal("the operator secret has no link_signing_key"))?;
    let bytes = STANDARD
        .decode(encoded.expose().trim())
        .map_err(|_| AppError::internal("the operator secret's link_signing_key is not base64"))?;
    if bytes.len() < 32 {
        return Err(AppError::internal("the operator secret's link_signing_key must be at least 32 bytes"));
    }
    Ok(SecretString::new(hex::encode(bytes)))
}

/// Each kind of ticket is signed with its own key, derived from `link_signing_key` and the
/// ticket's purpose: one kind's key (or a flaw in one page) never signs another kind's tickets.
fn kind_key(key: &SecretString, purpose: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(b"hirebridge ticket signing key: ");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn mac(key: &SecretString, purpose: &str, payload: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&kind_key(key, purpose)).expect("HMAC takes any key");
    mac.update(payload.as_bytes());
    mac
}

pub fn issue(key: &SecretString, purpose: &str, subject: &str, label: &str, expires_at: i64) -> String {
    let ticket = Ticket {
        purpose: purpose.into(),
        subject: subject.into(),
        label: label.into(),
        expires_at,
        nonce: uuid::Uuid::new_v4().simple().to_string(),
    };
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&ticket).expect("a ticket serialises"));
    let sig = URL_SAFE_NO_PAD.encode(mac(key, purpose, &payload).finalize().into_bytes());
    format!("{payload}.{sig}")
}

/// Checks signature, purpose and expiry (not whether it was used: see [`consume`]).
pub fn verify(key: &SecretString, raw: &str, purpose: &str, now: i64) -> Result<Ticket, TicketError> {
    let (payload, sig) = raw.trim().split_once('.').ok_or(TicketError::Invalid)?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| TicketError::Invalid)?;
    mac(key, purpose, payload).verify_slice(&sig).map_err(|_| TicketError::Invalid)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TicketError::Invalid)?;
    let ticket: Ticket = serde_json::from_slice(&bytes).map_err(|_| TicketError::Invalid)?;
    if ticket.purpose != purpose {
        return Err(TicketError::Invalid);
    }
    if ticket.expires_at < now {
        return Err(TicketError::Expired);
    }
    Ok(ticket)
}

/// `TICKET#{purpose}#{nonce}`: under the prefix of the integration whose kind it is, the only
/// function `template.yaml` lets write it.
fn used_pk(ticket: &Ticket) -> String {
    format!("TICKET#{}#{}", ticket.purpose, ticket.nonce)
}

pub async fn is_used(store: &dyn ItemStore, ticket: &Ticket) -> Result<bool, AppError> {
    Ok(store.get(&used_pk(ticket), "USED").await?.is_some())
}

/// Marks the ticket used; a second use is refused, however close together the two are.
pub async fn consume(store: &dyn ItemStore, ticket: &Ticket) -> Result<(), AppError> {
    let item = Item::new(used_pk(ticket), "USED").with(EXPIRES_AT, ticket.expires_at + 86_400);
    match store.put(item, Some(Cond::NotExists)).await? {
        PutOutcome::Written => Ok(()),
        PutOutcome::Rejected(_) => Err(TicketError::Used.into()),
    }
}

/// Counts one submission of the ticket's form: the first [`MAX_SUBMISSIONS`] pass, later ones
/// are refused (a compare-and-set on a counter, so concurrent submissions are counted too).
pub async fn count_submission(store: &dyn ItemStore, ticket: &Ticket) -> Result<i64, AppError> {
    const SK: &str = "SUBMISSIONS";
    for _ in 0..8 {
        let current = store.get(&used_pk(ticket), SK).await?;
        let count = current.as_ref().and_then(|i| i.i64("count")).unwrap_or(0);
        if count >= MAX_SUBMISSIONS {
            return Err(TicketError::TooManySubmissions.into());
        }
        let cond = match current {
            None => Cond::NotExists,
            Some(_) => Cond::Eq("count", serde_json::json!(count)),
        };
        let item = Item::new(used_pk(ticket), SK)
            .with("count", count + 1)
            .with(EXPIRES_AT, ticket.expires_at + 86_400);
        if store.put(item, Some(cond)).await? == PutOutcome::Written {
            return Ok(count + 1);
        }
    }
    Err(AppError::conflict("this link is being submitted several times at once; try again"))
}

/// Gives a consumed ticket back, when what it was used for failed and may be tried again.
pub async fn release(store: &dyn ItemStore, ticket: &Ticket) -> Result<(), AppError> {
    Ok(store.delete(&used_pk(ticket), "USED").await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn each_kind_of_ticket_has_its_own_signing_key() {
        let key = SecretString::new("k".repeat(64));
        assert_ne!(kind_key(&key, "stackone-link"), kind_key(&key, "sparkhire-connect"));
        let ticket = issue(&key, "stackone-link", "owner", "Acme", i64::MAX);
        let (payload, sig) = ticket.split_once('.').unwrap();
        // The same payload and signature presented as another kind: refused.
        let as_other = mac(&key, "sparkhire-connect", payload).finalize().into_bytes();
        assert_ne!(URL_SAFE_NO_PAD.encode(as_other), sig);
        assert!(verify(&key, &ticket, "stackone-link", 0).is_ok());
        assert!(verify(&key, &ticket, "sparkhire-connect", 0).is_err());
    }

    #[tokio::test]
    async fn tickets_are_signed_expiring_and_single_use() {
        let key = SecretString::from("k".repeat(64));
        let raw = issue(&key, "stackone-link", "owner-1", "Acme", 1_000);
        let t = verify(&key, &raw, "stackone-link", 999).unwrap();
        assert_eq!((t.subject.as_str(), t.label.as_str()), ("owner-1", "Acme"));
        assert_eq!(verify(&key, &raw, "stackone-link", 1_001), Err(TicketError::Expired));
        assert_eq!(verify(&key, &raw, "sparkhire-connect", 999), Err(TicketError::Invalid));
        assert_eq!(verify(&"other".into(), &raw, "stackone-link", 999), Err(TicketError::Invalid));
        // A changed subject with the old signature is refused.
        let (_, sig) = raw.split_once('.').unwrap();
        let forged = Ticket { subject: "owner-2".into(), ..t.clone() };
        let forged = format!("{}.{sig}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap()));
        assert_eq!(verify(&key, &forged, "stackone-link", 999), Err(TicketError::Invalid));

        let store = MemoryStore::new();
        consume(&store, &t).await.unwrap();
        assert!(is_used(&store, &t).await.unwrap());
        assert_eq!(consume(&store, &t).await.unwrap_err().status, 410);
        release(&store, &t).await.unwrap();
        consume(&store, &t).await.unwrap();
    }

    #[tokio::test]
    async fn a_tickets_form_is_submitted_at_most_ten_times() {
        let key = SecretString::from("k".repeat(64));
        let t = verify(&key, &issue(&key, "stackone-link", "o", "O", 1_000), "stackone-link", 0).unwrap();
        let other = verify(&key, &issue(&key, "stackone-link", "o", "O", 1_000), "stackone-link", 0).unwrap();
        let store = MemoryStore::new();
        for n in 1..=MAX_SUBMISSIONS {
            assert_eq!(count_submission(&store, &t).await.unwrap(), n);
        }
        let e = count_submission(&store, &t).await.unwrap_err();
        assert_eq!(e.status, 429);
        assert!(e.detail.contains("too many times"), "{}", e.detail);
        assert_eq!(count_submission(&store, &other).await.unwrap(), 1, "each ticket counts its own");
    }
}
