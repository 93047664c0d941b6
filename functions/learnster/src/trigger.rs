//! What Teamtailor calls: the activation form, its validation, the trigger form, and the trigger
//! webhook that creates the candidate's Learnster student and tags it.
use hirebridge::admin::require_admin;
use hirebridge::error::AppResult;
use hirebridge::idempotency::{Claim, Idempotency};
use hirebridge::platform::Listing;
use hirebridge::store::Item;
use hirebridge::teamtailor::api_base;
use hirebridge::teamtailor::forms::{Field, Form};
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::teamtailor::provider_key::{verify_jwt, ProviderKey};
use hirebridge::teamtailor::public_api::PublicApi;
use hirebridge::teamtailor::webhook::Webhook;
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::{NewStudent, Tenant};
use crate::integrations::{self, Integration};
use crate::{Deps, INTEGRATION};

const SWITCHED_OFF: &str = "Learnster is switched off for this account, or the Secret Token is not current. \
In Learnster Studio → Settings → Integrations, switch Teamtailor on and paste the new Secret Token into Learnster's activation in Teamtailor.";

/// Verifies the provider key (an HS256 JWT of the activation form, signed with the listing's
/// partner API key) and finds the integration its Secret Token belongs to.
async fn authenticate(deps: &Deps, req: &Request) -> AppResult<(Listing, Option<Integration>)> {
    let listing = deps.platform.listing(INTEGRATION).await?;
    let ProviderKey::Jwt(jwt) = ProviderKey::parse(web::bearer(req))? else {
        return Err(AppError::unauthorized(
            "Learnster's activation must carry its Secret Token; activate Learnster in Teamtailor again",
        ));
    };
    let claims = verify_jwt(jwt, &listing.partner_api_key, deps.platform.now_secs())?;
    let token = claims.secret("secret_token").ok_or_else(|| {
        AppError::unauthorized("the activation has no Secret Token; activate Learnster in Teamtailor again")
    })?;
    let integration = integrations::by_token(deps, &token).await?;
    Ok((listing, integration))
}

/// `GET /learnster/activation`: one password field for the Secret Token. It holds nothing
/// secret, so it is answered without authentication.
pub fn activation() -> Response {
    Form::new()
        .infobox(
            "In Learnster Studio, open Settings → Integrations and switch <b>Teamtailor</b> on. \
             Copy the Secret Token it shows and paste it here.",
            "info",
        )
        .field(Field::password("secret_token", "Secret Token").required())
        .validate_endpoint("validate")
        .into_response()
}

/// `GET /learnster/validate`: accepts the token only if it belongs to an active integration.
pub async fn validate(deps: &Deps, req: &Request) -> AppResult<Response> {
    match authenticate(deps, req).await? {
        (_, Some(_)) => Ok(web::json(StatusCode::OK, &json!({"valid": true}))),
        (_, None) => Err(AppError::unprocessable(SWITCHED_OFF)),
    }
}

/// `GET /learnster/config`: the trigger needs no choices; the form says what it will do.
pub async fn config(deps: &Deps, req: &Request) -> AppResult<Response> {
    let (_, integration) = authenticate(deps, req).await?;
    let integration = integration.ok_or_else(|| AppError::forbidden(SWITCHED_OFF))?;
    let t = integration.tags;
    let tags: Vec<&str> = [
        (t.title, "tt_title_&lt;job title&gt;"),
        (t.department, "tt_department_&lt;department&gt;"),
        (t.stage, "tt_stage_&lt;stage&gt;"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    let tags = if tags.is_empty() { "no tags".to_owned() } else { tags.join(", ") };
    Ok(Form::new()
        .infobox(
            &format!(
                "Creates the candidate's Learnster account in <b>{}</b> (one per candidate; Learnster e-mails the invitation) and adds {tags}.",
                web::escape(&integration.space)
            ),
            "info",
        )
        .into_response())
}

/// What one trigger asks for, recorded before anything is sent (no credential in it).
#[derive(Debug, Serialize, Deserialize)]
pub struct Work {
    pub event_id: String,
    pub candidate_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub candidate_department: Option<String>,
    pub job_id: Option<String>,
    pub job_title: Option<String>,
    pub stage: Option<String>,
    pub update_url: String,
}

impl Work {
    fn from_webhook(hook: Webhook) -> AppResult<Self> {
        let event = hook.partner_event;
        let c = event.candidate;
        let present = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let (first_name, last_name, email) = (present(c.first_name), present(c.last_name), present(c.email));
        let mut missing = Vec::new();
        if first_name.is_none() {
            missing.push("first name");
        }
        if last_name.is_none() {
            missing.push("last name");
        }
        match &email {
            None => missing.push("e-mail address"),
            Some(e) if !hirebridge::web::valid_email(e) => {
                return Err(AppError::unprocessable(format!(
                "The candidate's e-mail address {e:?} is not valid; correct it and move the candidate again."
            )))
            }
            Some(_) => {}
        }
        if !missing.is_empty() {
            return Err(AppError::unprocessable(format!(
                "Learnster needs the candidate's {}; add it to the candidate and move them again.",
                missing.join(" and ")
            )));
        }
        let job = c.job;
        Ok(Work {
            event_id: event.id,
            candidate_id: c.id,
            first_name: first_name.unwrap_or_default(),
            last_name: last_name.unwrap_or_default(),
            email: email.unwrap_or_default(),
            phone: present(c.phone),
            candidate_department: present(c.department),
            job_id: job.as_ref().map(|j| j.id.clone()),
            job_title: job.as_ref().and_then(|j| present(j.title.clone())),
            stage: job.and_then(|j| present(j.stage)),
            update_url: event.partner_result.update_url,
        })
    }
}

/// `tt_<kind>_<name>`: lower-cased, inner whitespace collapsed to single spaces, spaces kept.
pub fn tag(kind: &str, name: &str) -> String {
    let name: Vec<&str> = name.split_whitespace().collect();
    let tag = format!("tt_{kind}_{}", name.join(" ").to_lowercase());
    tag.chars().take(100).collect()
}

/// `POST /learnster/webhook`.
pub async fn webhook(deps: &Deps, req: &Request) -> AppResult<Response> {
    let (listing, integration) = authenticate(deps, req).await?;
    let hook = Webhook::receive(&deps.platform, &listing, req)?;
    let integration = integration.ok_or_else(|| AppError::forbidden(SWITCHED_OFF))?;
    let work = Work::from_webhook(hook)?;
    let api_token = web::header(req, "teamtailor-api-token").map(|t| SecretString::from(t.trim()));
    let host = web::header(req, "teamtailor-host");
    execute(deps, &listing, &integration, work, api_token.as_ref(), host).await
}

fn scope(integration_id: &str) -> String {
    format!("{INTEGRATION}#{integration_id}")
}

/// Claims the event, does the work once, writes the partner result, records the outcome.
async fn execute(
    deps: &Deps,
    listing: &Listing,
    integration: &Integration,
    work: Work,
    api_token: Option<&SecretString>,
    host: Option<&str>,
) -> AppResult<Response> {
    let record = serde_json::to_value(&work).map_err(AppError::internal)?;
    let lease = match deps.platform.idempotency.claim(&scope(&integration.id), &work.event_id, record).await?
    {
        Claim::Replay(outcome) => return Ok(outcome.to_response()),
        Claim::Acquired(lease) => lease,
    };
    let (result, error) = match enroll(deps, integration, &work, api_token, host).await {
        Ok(summary) => (PartnerResult::new(ResultStatus::Completed).summary(summary), None),
        Err(e) => {
            let message = format!(
                "Learnster account not created or tagged: {} Move the candidate to this stage again to retry, or ask your hirebridge admin to retry event {}.",
                e.detail.trim_end_matches('.').to_owned() + ".",
                work.event_id
            );
            (PartnerResult::new(ResultStatus::Failed).summary(message), Some(e.detail))
        }
    };
    let response = hirebridge::teamtailor::conclude(
        &deps.platform,
        lease,
        &work.update_url,
        &listing.partner_api_key,
        &result,
        error.as_deref(),
        StatusCode::BAD_GATEWAY,
    )
    .await?;
    tracing::info!(event = %work.event_id, integration = %integration.id, failed = error.is_some(), "learnster trigger handled");
    Ok(response)
}

/// Finds or creates the candidate's student and adds the enabled tags. Answers a summary.
async fn enroll(
    deps: &Deps,
    integration: &Integration,
    work: &Work,
    api_token: Option<&SecretString>,
    host: Option<&str>,
) -> AppResult<String> {
    let credentials = integrations::credentials(deps, &integration.id).await?;
    let tenant =
        Tenant { space: &integration.space, vendor_id: &integration.vendor_id, credentials: &credentials };
    let api = &deps.learnster;
    let store = &deps.platform.store;
    let learnster_error = |e: hirebridge::outbound::OutboundError| {
        match e.status() {
        Some(s) if s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN => AppError::upstream(
            "Learnster refused hirebridge's API client credentials; ask your admin to switch the Learnster integration on again with valid ones.",
        ),
        _ => AppError::upstream(e.to_string()),
    }
    };

    let student_sk = format!("STUDENT#{}", work.candidate_id);
    let known = store.get(&integrations::pk(&integration.id), &student_sk).await?;
    let (student_id, created) = match known.as_ref().and_then(|i| i.str("student_id")) {
        Some(id) => (id.to_owned(), false),
        None => {
            let (id, created) = match api.find_student(&tenant, &work.email).await.map_err(learnster_error)? {
                Some(id) => (id, false),
                None => {
                    let student = NewStudent {
                        first_name: &work.first_name,
                        last_name: &work.last_name,
                        email: &work.email,
                        phone: work.phone.as_deref(),
                        personal_id: &format!("teamtailor-{}", work.candidate_id),
                    };
                    (api.create_student(&tenant, &student).await.map_err(learnster_error)?, true)
                }
            };
            store
                .put(
                    Item::new(integrations::pk(&integration.id), student_sk).with("student_id", id.clone()),
                    None,
                )
                .await?;
            (id, created)
        }
    };

    let mut names = Vec::new();
    if integration.tags.title {
        names.extend(work.job_title.as_deref().map(|t| tag("title", t)));
    }
    if integration.tags.department {
        names.extend(department(deps, work, api_token, host).await.map(|d| tag("department", &d)));
    }
    if integration.tags.stage {
        names.extend(work.stage.as_deref().map(|s| tag("stage", s)));
    }
    let mut ids = Vec::with_capacity(names.len());
    for name in &names {
        ids.push(api.ensure_tag(&tenant, name).await.map_err(learnster_error)?);
    }
    api.add_tags(&tenant, &student_id, &ids).await.map_err(learnster_error)?;

    let tagged =
        if names.is_empty() { "no tags added".to_owned() } else { format!("tagged {}", names.join(", ")) };
    Ok(if created {
        format!("Learnster account created for {} (invitation sent by Learnster); {tagged}.", work.email)
    } else {
        format!("Existing Learnster account of {} {tagged}.", work.email)
    })
}

/// The job's department from Teamtailor when the company's API key was sent, else the
/// candidate's department.
async fn department(
    deps: &Deps,
    work: &Work,
    api_token: Option<&SecretString>,
    host: Option<&str>,
) -> Option<String> {
    let fallback = work.candidate_department.clone();
    let (Some(token), Some(job_id)) = (api_token, work.job_id.as_deref()) else {
        return fallback;
    };
    if !job_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return fallback;
    }
    let config = &deps.platform.config;
    let base = match api_base(config, host) {
        Ok(base) => base,
        Err(_) => return fallback,
    };
    let api = PublicApi::new(&deps.platform.http, base, &config.teamtailor_api_version, token);
    match api.get(&format!("/v1/jobs/{job_id}?include=department")).await {
        Ok(doc) => {
            let name = doc.resource().ok().and_then(|job| {
                let id = job.related_id("department")?.to_owned();
                doc.included_of("departments", &id)?.attr_str("name").map(str::to_owned)
            });
            name.or(fallback)
        }
        Err(e) => {
            tracing::warn!(job = %job_id, error = %e, "job department not read from Teamtailor; using the candidate's");
            fallback
        }
    }
}

/// `POST /learnster/integrations/{id}/events/{event_id}/retry` (admin): runs a failed event again
/// from its record.
pub async fn retry(deps: &Deps, req: &Request, id: &str, event_id: &str) -> AppResult<Response> {
    require_admin(&deps.platform.secrets, req).await?;
    let integration = integrations::by_id(deps, id).await?;
    if !integration.active {
        return Err(AppError::conflict("this integration is switched off"));
    }
    let record = deps
        .platform
        .idempotency
        .record(&scope(id), event_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no event {event_id} for integration {id}")))?;
    if record.str("status") != Some("failed") {
        return Err(AppError::conflict(format!(
            "event {event_id} is {}; only failed events are retried",
            record.str("status").unwrap_or("unknown")
        )));
    }
    let work: Work = serde_json::from_value(record.attrs.get("work").cloned().unwrap_or_default())
        .map_err(AppError::internal)?;
    let listing = deps.platform.listing(INTEGRATION).await?;
    let answer = execute(deps, &listing, &integration, work, None, None).await?;
    Ok(web::json(
        StatusCode::OK,
        &json!({
            "event_id": event_id,
            "status": if answer.status().is_success() { "completed" } else { "failed" },
            "answer": String::from_utf8_lossy(answer.body()),
        }),
    ))
}

/// `GET /learnster/integrations/{id}/events` (admin): the failed events waiting for a retry.
pub async fn failed_events(deps: &Deps, req: &Request, id: &str) -> AppResult<Response> {
    require_admin(&deps.platform.secrets, req).await?;
    let queue = Idempotency::failed_queue(&scope(id));
    let items = deps.platform.store.query_due(&queue, i64::MAX, 100).await?;
    let events: Vec<_> = items
        .iter()
        .map(|i| {
            json!({
                "event_id": i.attrs.get("work").and_then(|w| w.get("event_id")).cloned(),
                "error": i.str("error"),
                "failed_at": i.i64("finished_at"),
            })
        })
        .collect();
    Ok(web::json(StatusCode::OK, &json!({ "failed_events": events })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_lower_cased_with_spaces_kept() {
        assert_eq!(tag("title", "Product  Designer "), "tt_title_product designer");
        assert_eq!(tag("stage", "Hired"), "tt_stage_hired");
        assert_eq!(tag("department", "Research & Development"), "tt_department_research & development");
    }
}
