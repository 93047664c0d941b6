//! `POST /alva/events`: Alva's results webhook, signed over the raw body
//! (`X-Alva-Signature: sha256=<hex HMAC-SHA256(webhook_secret, body)>`). A completed test of a
//! candidate hirebridge invited for the event's company lands on that candidate's card as
//! `completed` with score, summary and report, once ([`hirebridge::vendor_event::land`]).
use hirebridge::body_signature;
use hirebridge::cards::CardUpdate;
use hirebridge::error::AppResult;
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::vendor_event::{self, VendorEvent};
use hirebridge::web::{self, Request, Response};
use hirebridge::AppError;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::store::{self, Invited};
use crate::{trigger, Deps, INTEGRATION};

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    company_id: Option<String>,
    #[serde(default)]
    candidate: Option<EventCandidate>,
    #[serde(default)]
    data: Value,
}

#[derive(Deserialize)]
struct EventCandidate {
    id: Value,
}

const COMPLETED: &str = "test_result.completed";

fn ignored(why: &str) -> Response {
    web::json(StatusCode::OK, &json!({ "ignored": why }))
}

/// An id of Alva's as text: 1–128 characters.
fn id_of(value: &Value) -> Option<String> {
    let id = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!id.is_empty() && id.len() <= 128).then_some(id)
}

pub async fn events(deps: &Deps, req: &Request) -> AppResult<Response> {
    let platform = &deps.platform;
    let body = web::bounded_body(req)?;
    let vendor = trigger::vendor(deps).await?;
    body_signature::verify(
        "X-Alva-Signature",
        web::header(req, "x-alva-signature"),
        body,
        &vendor.webhook_secret,
    )?;
    let event: Event = web::read_json(req)?;
    if event.id.is_empty() || event.id.len() > 128 {
        return Err(AppError::unprocessable("id must be 1–128 characters"));
    }
    if event.kind != COMPLETED {
        return Ok(ignored("this event type is not handled"));
    }
    let company = event.company_id.as_deref().unwrap_or_default();
    store::check_company_id(company)
        .map_err(|_| AppError::unprocessable("company_id must be an Alva company id"))?;
    let candidate = event.candidate.as_ref().and_then(|c| id_of(&c.id)).ok_or_else(|| {
        AppError::unprocessable("candidate.id must be a string or number of 1–128 characters")
    })?;
    // The mapping is looked up under the event's company only, and must name it.
    let invited = store::invited(platform.store.as_ref(), company, &candidate).await?;
    let Some(invited) = invited.filter(|i| i.alva_company_id == company) else {
        return Ok(ignored("hirebridge did not invite this candidate for this company"));
    };
    land(deps, &event, &invited).await
}

async fn land(deps: &Deps, event: &Event, invited: &Invited) -> AppResult<Response> {
    let result = completed(&event.data);
    let at = VendorEvent { integration: INTEGRATION, tenant: &invited.alva_company_id, id: &event.id };
    let card = CardUpdate { integration: INTEGRATION, update_url: &invited.update_url, result: &result };
    vendor_event::land(&deps.platform, at, card).await
}

/// The card of a completed test: score (0–100), Alva's summary, the report when it is a web link.
fn completed(data: &Value) -> PartnerResult {
    let mut result = PartnerResult::new(ResultStatus::Completed);
    if let Some(score) = data.get("score").and_then(Value::as_f64).filter(|s| s.is_finite()) {
        result = result.score(score.clamp(0.0, 100.0).round() as u8);
    }
    let summary = data.get("summary").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    result = result.summary(summary.unwrap_or("The Alva test is completed."));
    if let Some(url) = data.get("report_url").and_then(Value::as_str).and_then(crate::alva::web_link) {
        result = result.url(url.clone()).attachment(url, "Alva report");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completed_card_carries_a_bounded_score_and_only_a_web_link() {
        let card =
            completed(&json!({"score": 187.4, "summary": " Strong ", "report_url": "javascript:alert(1)"}));
        let v = serde_json::to_value(&card).unwrap();
        assert_eq!(v["assessment"]["score"], 100);
        assert_eq!(v["summary"], "Strong");
        assert!(v.get("url").is_none_or(Value::is_null), "{v}");
        let card = completed(&json!({"report_url": "https://app.alvalabs.io/reports/1"}));
        let v = serde_json::to_value(&card).unwrap();
        assert_eq!(v["url"], "https://app.alvalabs.io/reports/1");
        assert_eq!(v["summary"], "The Alva test is completed.");
    }
}
