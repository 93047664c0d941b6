//! 2Secure status (SPEC §5.3): the signed callback and the scheduled poll apply the same
//! transition to an order (see [`crate::orders`]).
use crate::orders::{self, PollReport, Reported, Status};
use crate::{Deps, VendorSecret, VENDOR_SECRET};
use hirebridge::error::AppResult;
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use hmac::{Hmac, Mac};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;

/// The scheduled poll (EventBridge, every 5 minutes).
pub async fn poll(deps: &Deps) -> AppResult<PollReport> {
    orders::poll(&deps.platform, &deps.twosecure).await
}

pub const TOLERANCE_SECS: i64 = 300;

fn mac(secret: &SecretString, t: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    mac
}

/// 2Secure's side: `X-2Secure-Signature` for `body` at `t` (for the sandbox and tests).
pub fn sign(t: i64, body: &[u8], secret: &SecretString) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, t, body).finalize().into_bytes()))
}

/// `t=<unix>,v1=<hex HMAC-SHA256(callback_secret, "{t}.{raw body}")>`, 5 minutes' tolerance.
fn verify(header: Option<&str>, body: &[u8], secret: &SecretString, now: i64) -> AppResult<()> {
    let header = header.ok_or_else(|| AppError::unauthorized("the X-2Secure-Signature header is missing"))?;
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1.push(v),
            _ => {}
        }
    }
    let t = t.ok_or_else(|| AppError::unauthorized("the X-2Secure-Signature header has no valid t="))?;
    if (now - t).abs() > TOLERANCE_SECS {
        return Err(AppError::unauthorized(
            "the X-2Secure-Signature timestamp is outside the 5-minute tolerance",
        ));
    }
    let ok = v1.iter().any(|v| hex::decode(v).is_ok_and(|b| mac(secret, t, body).verify_slice(&b).is_ok()));
    if ok {
        Ok(())
    } else {
        Err(AppError::unauthorized("the X-2Secure-Signature does not match the body"))
    }
}

#[derive(Deserialize)]
struct Callback {
    order_id: String,
    status: String,
    #[serde(default)]
    report_url: Option<String>,
}

/// `POST /2secure/callback`.
pub(crate) async fn callback(deps: &Deps, req: &Request) -> AppResult<Response> {
    let body = web::bounded_body(req)?;
    let vendor: VendorSecret = deps.platform.secrets.require_json(VENDOR_SECRET).await?;
    verify(web::header(req, "x-2secure-signature"), body, &vendor.callback_secret, deps.platform.now_secs())?;
    let callback: Callback = web::read_json(req)?;
    let status = Status::reported(&callback.status).ok_or_else(|| {
        AppError::unprocessable(format!(
            "status must be sent, pending, completed or cancelled, not {:?}",
            callback.status
        ))
    })?;
    if callback.order_id.is_empty() || callback.order_id.len() > 128 {
        return Err(AppError::unprocessable("order_id must be 1–128 characters"));
    }
    let order = orders::by_order_id(&deps.platform, &callback.order_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("hirebridge has no order {}", callback.order_id)))?;
    let after =
        orders::apply(&deps.platform, order, Reported { status, report_url: callback.report_url }).await?;
    Ok(web::json(StatusCode::OK, &json!({"order_id": callback.order_id, "status": after.as_str()})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_signatures_cover_the_raw_body() {
        let secret = SecretString::from("cb");
        let body = br#"{"order_id":"o1","status":"completed"}"#;
        let header = sign(1000, body, &secret);
        verify(Some(&header), body, &secret, 1100).unwrap();
        assert_eq!(verify(Some(&header), b"{}", &secret, 1100).unwrap_err().status, 401);
        assert_eq!(verify(Some(&header), body, &"other".into(), 1100).unwrap_err().status, 401);
        assert_eq!(verify(Some(&header), body, &secret, 1400).unwrap_err().status, 401);
        assert_eq!(verify(None, body, &secret, 1000).unwrap_err().status, 401);
    }
}
