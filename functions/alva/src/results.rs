//! `POST /alva/events`: Alva's results webhook, signed over the raw body
//! (`X-Alva-Signature: sha256=<hex HMAC-SHA256(webhook_secret, body)>`). A completed test becomes
//! partner result `completed` with score, summary and report; unknown candidates and repeated
//! events are harmless.
use hirebridge::error::AppResult;
use hirebridge::idempotency::{Claim, Outcome};
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::web::{self, Request, Response};
use hirebridge::AppError;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{Deps, VendorSecret, INTEGRATION, VENDOR_SECRET};

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    company_id: Option<String>,
    candidate: EventCandidate,
    #[serde(default)]
    data: Value,
}

#[derive(Deserialize)]
struct EventCandidate {
    id: Value,
}

pub async fn events(deps: &Deps, req: &Request) -> AppResult<Response> {
    let platform = &deps.platform;
    let body = web::bounded_body(req)?;
    let vendor: VendorSecret = platform.secrets.require_json(VENDOR_SECRET).await?;
    hirebridge::body_signature::verify(
        "X-Alva-Signature",
        web::header(req, "x-alva-signature"),
        body,
        &vendor.webhook_secret,
    )?;
    let event: Event = web::read_json(req)?;
    if event.id.is_empty() || event.id.len() > 128 {
        return Err(AppError::unprocessable("id must be 1–128 characters"));
    }
    if event.kind != "test_result.completed" {
        return Ok(web::json(
            StatusCode::OK,
            &json!({"ignored": format!("event type {} is not handled", event.kind)}),
        ));
    }
    let candidate = match &event.candidate.id {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(AppError::unprocessable("candidate.id must be a string or number")),
    };
    let lease = match platform
        .idempotency
        .claim(&format!("{INTEGRATION}-results"), &event.id, json!({"candidate": candidate}))
        .await?
    {
        Claim::Replay(outcome) => return Ok(outcome.to_response()),
        Claim::Acquired(lease) => lease,
    };
    let mapping = platform.store.get(&format!("ALVA_CANDIDATE#{candidate}"), "CANDIDATE").await?;
    let same_company = |m: &hirebridge::store::Item| match &event.company_id {
        Some(c) => m.str("alva_company_id") == Some(c.as_str()),
        None => true,
    };
    let mut error = None;
    let response = match mapping.filter(same_company) {
        None => web::json(StatusCode::OK, &json!({"ignored": "hirebridge did not invite this candidate"})),
        Some(mapping) => {
            let data = &event.data;
            let mut result = PartnerResult::new(ResultStatus::Completed);
            if let Some(score) = data.get("score").and_then(Value::as_f64) {
                result = result.score(score.clamp(0.0, 100.0).round() as u8);
            }
            let summary =
                data.get("summary").and_then(Value::as_str).unwrap_or("The Alva test is completed.");
            result = result.summary(summary);
            if let Some(url) = data
                .get("report_url")
                .and_then(Value::as_str)
                .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            {
                result = result.url(url).attachment(url, "Alva report");
            }
            let listing = platform.listing(INTEGRATION).await?;
            match platform
                .partner_results
                .update(mapping.str("update_url").unwrap_or_default(), &listing.partner_api_key, &result)
                .await
            {
                Ok(()) => web::json(StatusCode::OK, &json!({"status": "completed"})),
                // Recorded as failed, so Alva's redelivery of this event is processed again.
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
