//! The personnummer, sealed for the recorded trigger. A trigger is recorded before 2Secure is
//! called, so that a retry can still place the order; the personnummer may not be stored in
//! DynamoDB, so the record holds it only encrypted (AES-256-GCM, bound to its event) with a key
//! derived from the tenant's 2Secure API key, which lives only in Secrets Manager.
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::personnummer::{Date, Personnummer};
use hirebridge::SecretString;

const LABEL: &[u8] = b"hirebridge 2secure personnummer seal v1";
const NONCE_LEN: usize = 12;

fn cipher(api_key: &SecretString) -> Aes256Gcm {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(api_key.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(LABEL);
    Aes256Gcm::new(&mac.finalize().into_bytes())
}

/// The sealed personnummer as hex (nonce, then ciphertext and tag).
pub fn seal(personnummer: &Personnummer, api_key: &SecretString, event_id: &str) -> String {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let digits = personnummer.twelve_digits();
    let payload = Payload { msg: digits.as_bytes(), aad: event_id.as_bytes() };
    let sealed =
        cipher(api_key).encrypt(Nonce::from_slice(&nonce), payload).expect("AES-GCM seals any message");
    let mut out = nonce.to_vec();
    out.extend(sealed);
    hex::encode(out)
}

/// The personnummer again; `None` when it was sealed with another key or for another event.
pub fn open(sealed: &str, api_key: &SecretString, event_id: &str, today: Date) -> Option<Personnummer> {
    let bytes = hex::decode(sealed).ok()?;
    if bytes.len() <= NONCE_LEN {
        return None;
    }
    let (nonce, body) = bytes.split_at(NONCE_LEN);
    let plain = cipher(api_key)
        .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: event_id.as_bytes() })
        .ok()?;
    Personnummer::parse(std::str::from_utf8(&plain).ok()?, today).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = Date { year: 2026, month: 1, day: 1 };

    #[test]
    fn a_sealed_personnummer_opens_only_with_its_key_and_event_and_shows_no_digits() {
        let pnr = Personnummer::parse("811218-9876", TODAY).unwrap();
        let key = SecretString::from("api-key");
        let sealed = seal(&pnr, &key, "evt-1");
        assert!(!sealed.contains("811218"), "{sealed}");
        assert_eq!(open(&sealed, &key, "evt-1", TODAY), Some(pnr));
        assert_eq!(open(&sealed, &"other".into(), "evt-1", TODAY), None);
        assert_eq!(open(&sealed, &key, "evt-2", TODAY), None);
        assert_eq!(open("zz", &key, "evt-1", TODAY), None);
    }
}
