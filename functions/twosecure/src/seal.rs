//! The personnummer, sealed for the recorded trigger. A trigger is recorded before 2Secure is
//! called, so that a retry can still place the order; the personnummer may not be stored in
//! DynamoDB, so the record holds it only encrypted (AES-256-GCM, bound to its event) with a key
//! derived from the tenant's 2Secure API key, which lives only in Secrets Manager.
use hirebridge::sealed::Sealer;
use hirebridge::SecretString;

use crate::personnummer::{Date, Personnummer};

const LABEL: &[u8] = b"hirebridge 2secure personnummer seal v1";

/// The sealed personnummer as hex (nonce, then ciphertext and tag), bound to its event, with the
/// key HMAC-SHA256(api key, [`LABEL`]).
pub fn seal(personnummer: &Personnummer, api_key: &SecretString, event_id: &str) -> String {
    hex::encode(Sealer::new(api_key, LABEL).seal(personnummer.twelve_digits().as_bytes(), event_id))
}

/// The personnummer again; `None` when it was sealed with another key or for another event.
pub fn open(sealed: &str, api_key: &SecretString, event_id: &str, today: Date) -> Option<Personnummer> {
    let plain = Sealer::new(api_key, LABEL).open(&hex::decode(sealed).ok()?, event_id)?;
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

    /// A seal computed independently (Python `cryptography`: HMAC-SHA256 key, AES-256-GCM) opens:
    /// records sealed before the move to aws-lc-rs still open.
    #[test]
    fn a_known_seal_opens() {
        let sealed = "000102030405060708090a0bd20323f2c6c3cae0bf321f4d3442d3b0c09c51170db77b00a58d8cec";
        let pnr = Personnummer::parse("811218-9876", TODAY).unwrap();
        assert_eq!(open(sealed, &"api-key".into(), "evt-1", TODAY), Some(pnr));
    }
}
