//! `Teamtailor-Signature: t=<unix>,v1=<hex>[,v0=<decoy>]` where
//! `v1 = hex(HMAC-SHA256(webhook_secret, "{t}.{partner-event.id}"))`, checked in constant time
//! within a 5-minute tolerance.
use crate::error::AppError;
use crate::timestamped;
use crate::SecretString;

pub use crate::timestamped::TOLERANCE_SECS;

/// Teamtailor's side: the header value for `event_id` at time `t` (for the fakes and tests).
pub fn sign(t: i64, event_id: &str, secret: &SecretString) -> String {
    let v1 = timestamped::sign(t, event_id.as_bytes(), secret);
    format!("{v1},v0=0000000000000000000000000000000000000000000000000000000000000000")
}

pub fn verify(
    header: Option<&str>,
    event_id: &str,
    secret: &SecretString,
    now_secs: i64,
) -> Result<(), AppError> {
    timestamped::verify("Teamtailor-Signature", header, event_id.as_bytes(), secret, now_secs)
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
