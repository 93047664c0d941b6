//! `POST /sparkhire/events`: Spark Hire's webhook, authenticated with the Basic credentials
//! registered with it. Completed → `completed` with the share link ("Watch"); expired → `failed`.
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hirebridge::error::AppResult;
use hirebridge::idempotency::{Claim, Outcome};
use hirebridge::secrets::Secrets;
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use hmac::{Hmac, Mac};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{Deps, INTEGRATION};

pub const EVENTS_USERNAME: &str = "hirebridge";

/// The Basic credentials Spark Hire sends with its events: derived from the operator secret's
/// link signing key, so there is no extra secret to keep.
pub async fn webhook_credentials(secrets: &Secrets) -> AppResult<(&'static str, SecretString)> {
    let key = hirebridge::tickets::signing_key(secrets).await?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(b"sparkhire-events");
    Ok((EVENTS_USERNAME, SecretString::new(hex::encode(mac.finalize().into_bytes()))))
}

#[derive(Deserialize)]
struct Event {
    event: String,
    data: Value,
}

pub async fn events(deps: &Deps, req: &Request) -> AppResult<Response> {
    let platform = &deps.platform;
    let (username, password) = webhook_credentials(&platform.secrets).await?;
    let expected = format!("Basic {}", STANDARD.encode(format!("{username}:{}", password.expose())));
    let presented = web::header(req, "authorization").unwrap_or_default();
    if !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(AppError::unauthorized(
            "Spark Hire events must carry the Basic credentials registered with the webhook",
        ));
    }
    let event: Event = web::read_json(req)?;
    let interview = event.data.get("uuid").and_then(Value::as_str).unwrap_or_default().to_owned();
    if interview.is_empty() || interview.len() > 128 {
        return Err(AppError::unprocessable("data.uuid (the interview) is required"));
    }
    let result = match event.event.as_str() {
        "InterviewCompleted" => {
            let link = event.data.pointer("/share_link/url").and_then(Value::as_str).filter(|u| u.starts_with("https://") || u.starts_with("http://"));
            let mut r = PartnerResult::new(ResultStatus::Completed).summary("The candidate completed the Spark Hire interview.");
            if let Some(link) = link {
                r = r.url(link).attachment(link, "Watch");
            }
            r
        }
        "InterviewExpired" => PartnerResult::new(ResultStatus::Failed)
            .summary("The Spark Hire interview expired before the candidate completed it; invite them again if needed."),
        other => return Ok(web::json(StatusCode::OK, &json!({"ignored": format!("event {other} is not handled")}))),
    };
    let lease = match platform
        .idempotency
        .claim(&format!("{INTEGRATION}-events"), &format!("{interview}-{}", event.event), json!({}))
        .await?
    {
        Claim::Replay(outcome) => return Ok(outcome.to_response()),
        Claim::Acquired(lease) => lease,
    };
    let mapping = platform.store.get(&format!("SPARKHIRE_INTERVIEW#{interview}"), "INTERVIEW").await?;
    let mut error = None;
    let response = match mapping {
        None => web::json(StatusCode::OK, &json!({"ignored": "hirebridge did not create this interview"})),
        Some(mapping) => {
            let listing = platform.listing(INTEGRATION).await?;
            match platform
                .partner_results
                .update(mapping.str("update_url").unwrap_or_default(), &listing.partner_api_key, &result)
                .await
            {
                Ok(()) => web::json(StatusCode::OK, &json!({"status": result.status})),
                Err(e) => {
                    error = Some(e.detail.clone());
                    e.into_response(hirebridge::error::Style::Problem)
                }
            }
        }
    };
    platform.idempotency.finish(lease, &Outcome::from_response(&response), hirebridge::idempotency::Finish::from_error(error)).await?;
    Ok(response)
}
