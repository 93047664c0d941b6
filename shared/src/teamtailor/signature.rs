//! `Teamtailor-Signature: t=<unix>,v1=<hex>[,v0=<decoy>]` where
//! `v1 = hex(HMAC-SHA256(webhook_secret, "{t}.{partner-event.id}"))`, checked in constant time
//! within a 5-minute tolerance.
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::AppError;
use crate::SecretString;

pub const TOLERANCE_SECS: i64 = 300;

fn mac(secret: &SecretString, t: i64, event_id: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{t}.{event_id}").as_bytes());
    mac
}

/// Teamtailor's side: the header value for `event_id` at time `t` (for the sandbox and tests).
pub fn sign(t: i64, event_id: &str, secret: &SecretString) -> String {
    let v1 = hex::encode(mac(secret, t, event_id).finalize().into_bytes());
    format!("t={t},v1={v1},v0=0000000000000000000000000000000000000000000000000000000000000000")
}

pub fn verify(
    header: Option<&str>,
    event_id: &str,
    secret: &SecretString,
    now_secs: i64,
) -> Result<(), AppError> {
    let header =
        header.ok_or_else(|| AppError::unauthorized("the Teamtailor-Signature header is missing"))?;
    let mut t = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.trim().parse::<i64>().ok(),
            Some(("v1", v)) => candidates.push(v.trim()),
            _ => {} // v0 is a decoy; unknown schemes are ignored
        }
    }
    let t = t.ok_or_else(|| AppError::unauthorized("the Teamtailor-Signature header has no valid t="))?;
    if (now_secs - t).abs() > TOLERANCE_SECS {
        return Err(AppError::unauthorized(
            "the Teamtailor-Signature timestamp is outside the 5-minute tolerance",
        ));
    }
    let ok = candidates.iter().any(|candidate| {
        hex::decode(candidate).is_ok_and(|bytes| mac(secret, t, event_id).verify_slice(&bytes).is_ok())
    });
    if ok {
        Ok(())
    } else {
        Err(AppError::unauthorized("the Teamtailor-Signature does not match this event"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_750_000_000;

    #[test]
    fn a_fresh_v1_signature_verifies() {
        let secret = SecretString::from("whsec");
        let header = sign(NOW - 10, "evt-1", &secret);
        verify(Some(&header), "evt-1", &secret, NOW).unwrap();
    }

    #[test]
    fn wrong_secret_event_or_time_is_refused() {
        let secret = SecretString::from("whsec");
        let header = sign(NOW, "evt-1", &secret);
        assert_eq!(verify(Some(&header), "evt-2", &secret, NOW).unwrap_err().status, 401);
        assert_eq!(verify(Some(&header), "evt-1", &"other".into(), NOW).unwrap_err().status, 401);
        assert_eq!(verify(Some(&header), "evt-1", &secret, NOW + 301).unwrap_err().status, 401);
        assert_eq!(verify(None, "evt-1", &secret, NOW).unwrap_err().status, 401);
    }

    #[test]
    fn the_v0_decoy_is_ignored() {
        let secret = SecretString::from("whsec");
        let good = sign(NOW, "evt-1", &secret);
        let v1 = good.split(',').nth(1).unwrap().trim_start_matches("v1=");
        // A valid value under v0 does not count; only v1 does.
        let decoy_only = format!("t={NOW},v1=00,v0={v1}");
        assert!(verify(Some(&decoy_only), "evt-1", &secret, NOW).is_err());
    }
}
