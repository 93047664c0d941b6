//! Timestamped HMAC signatures, the one check behind `Teamtailor-Signature` and
//! `X-2Secure-Signature`: `t=<unix>,v1=<hex HMAC-SHA256(secret, "{t}." + payload)>`, any number
//! of `v1` candidates (other schemes, such as Teamtailor's `v0` decoy, ignored), compared in
//! constant time, within a 5-minute tolerance either way.
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::AppError;
use crate::SecretString;

pub const TOLERANCE_SECS: i64 = 300;

fn mac(secret: &SecretString, t: i64, payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(payload);
    mac
}

/// The `t=…,v1=…` value for `payload` at `t`.
pub fn sign(t: i64, payload: &[u8], secret: &SecretString) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, t, payload).finalize().into_bytes()))
}

/// Checks `header` (named `name` in messages) over `payload`; `401` saying what is wrong.
pub fn verify(
    name: &str,
    header: Option<&str>,
    payload: &[u8],
    secret: &SecretString,
    now: i64,
) -> Result<(), AppError> {
    let header = header.ok_or_else(|| AppError::unauthorized(format!("the {name} header is missing")))?;
    let mut t = None;
    let mut candidates = Vec::new();
    for part in header.split(',').take(16) {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.trim().parse::<i64>().ok(),
            Some(("v1", v)) => candidates.push(v.trim()),
            _ => {}
        }
    }
    let t = t.ok_or_else(|| AppError::unauthorized(format!("the {name} header has no valid t=")))?;
    // Checked: a hostile `t` near i64's ends must not overflow.
    if now.checked_sub(t).is_none_or(|age| age.checked_abs().is_none_or(|a| a > TOLERANCE_SECS)) {
        return Err(AppError::unauthorized(format!(
            "the {name} timestamp is outside the 5-minute tolerance"
        )));
    }
    let ok = candidates
        .iter()
        .any(|c| hex::decode(c).is_ok_and(|bytes| mac(secret, t, payload).verify_slice(&bytes).is_ok()));
    if ok {
        Ok(())
    } else {
        Err(AppError::unauthorized(format!("the {name} does not match")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_at_the_ends_of_the_range_are_refused_without_overflow() {
        let secret = SecretString::from("s");
        for t in [i64::MIN, i64::MIN + 1, i64::MAX] {
            let header = format!("t={t},v1=00");
            assert_eq!(verify("X", Some(&header), b"p", &secret, 1_750_000_000).unwrap_err().status, 401);
        }
        assert_eq!(verify("X", Some("t=0,v1=00"), b"p", &secret, i64::MIN).unwrap_err().status, 401);
    }

    #[test]
    fn a_signature_covers_its_payload_and_time() {
        let secret = SecretString::from("s");
        let header = sign(1000, b"body", &secret);
        verify("X", Some(&header), b"body", &secret, 1100).unwrap();
        assert!(verify("X", Some(&header), b"other", &secret, 1100).is_err());
        assert!(verify("X", Some(&header), b"body", &secret, 1301).is_err());
    }
}
