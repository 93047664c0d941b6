//! What Teamtailor calls: the activation form, its validation, the trigger form, and the trigger
//! webhook that creates the candidate's Learnster student and tags it.
use async_trait::async_trait;
use hirebridge::error::AppResult;
use hirebridge::idempotency::ListState;
use hirebridge::platform::{Listing, Platform};
use hirebridge::store::Item;
use hirebridge::teamtailor::forms::{Field, Form};
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::teamtailor::provider_key::{verify_jwt, ProviderKey};
use hirebridge::teamtailor::public_api::PublicApi;
use hirebridge::teamtailor::webhook::{Contact, Webhook};
use hirebridge::teamtailor::{api_base, Stack};
use hirebridge::trigger::{self, Done, Job, Trigger};
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
    pub candidate_id: String,
    #[serde(flatten)]
    pub contact: Contact,
    pub candidate_department: Option<String>,
    pub job_id: Option<String>,
    pub job_title: Option<String>,
    pub stage: Option<String>,
    /// The host of the company's Teamtailor stack (where the job's department is read).
    #[serde(default)]
    pub teamtailor_host: Option<String>,
}

/// What only the live request carries: the company's API token (never recorded).
#[derive(Default)]
pub struct Live {
    api_token: Option<SecretString>,
}

impl Work {
    fn from_webhook(hook: Webhook, teamtailor_host: Option<&str>) -> AppResult<Self> {
        let event = hook.partner_event;
        let c = event.candidate;
        let present = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let contact = Contact::of(&c, "Learnster")?;
        let job = c.job;
        Ok(Work {
            candidate_id: c.id,
            contact,
            candidate_department: present(c.department),
            job_id: job.as_ref().map(|j| j.id.clone()),
            job_title: job.as_ref().and_then(|j| present(j.title.clone())),
            stage: job.and_then(|j| present(j.stage)),
            teamtailor_host: teamtailor_host.map(str::to_owned),
        })
    }
}

/// `tt_<kind>_<name>`: lower-cased, inner whitespace collapsed to single spaces, spaces kept.
pub fn tag(kind: &str, name: &str) -> String {
    let name: Vec<&str> = name.split_whitespace().collect();
    let tag = format!("tt_{kind}_{}", name.join(" ").to_lowercase());
    tag.chars().take(100).collect()
}

/// `POST /learnster/webhook`: the shared trigger pipeline with Learnster's part below.
pub async fn webhook(deps: &Deps, req: &Request) -> AppResult<Response> {
    trigger::receive(deps, req).await
}

#[async_trait]
impl Trigger for Deps {
    type Tenant = Integration;
    type Work = Work;
    type Live = Live;
    const INTEGRATION: &'static str = INTEGRATION;
    const NOT_DONE: &'static str = "Learnster account not created or tagged";

    fn platform(&self) -> &Platform {
        &self.platform
    }

    async fn authenticate(&self, req: &Request) -> AppResult<(Listing, Integration)> {
        let (listing, integration) = authenticate(self, req).await?;
        Ok((listing, integration.ok_or_else(|| AppError::forbidden(SWITCHED_OFF))?))
    }

    fn tenant_id(integration: &Integration) -> String {
        integration.id.clone()
    }

    async fn tenant(&self, id: &str) -> AppResult<Integration> {
        let integration = integrations::by_id(self, id).await?;
        if integration.active {
            Ok(integration)
        } else {
            Err(AppError::conflict("Learnster was switched off for this account"))
        }
    }

    fn work(&self, _: &Integration, hook: Webhook, req: &Request) -> AppResult<(Work, Live)> {
        let host =
            Stack::host_of_trigger(&self.platform.config, &hook.partner_event.partner_result.update_url, req);
        let work = Work::from_webhook(hook, Some(&host))?;
        let api_token = web::header(req, "teamtailor-api-token").map(|t| SecretString::from(t.trim()));
        Ok((work, Live { api_token }))
    }

    async fn perform(&self, job: Job<'_, Self>) -> AppResult<Done> {
        let (summary, student) = enroll(self, job.tenant, job.work, job.live).await?;
        let done = Done::from(PartnerResult::new(ResultStatus::Completed).summary(summary));
        Ok(match student {
            Some(item) => done.recording(item),
            None => done,
        })
    }
}

/// Finds or creates the candidate's student and adds the enabled tags. Answers a summary, and the
/// student's item when it is new to us (recorded with the outcome; a re-run finds the student by
/// e-mail).
async fn enroll(
    deps: &Deps,
    integration: &Integration,
    work: &Work,
    live: &Live,
) -> AppResult<(String, Option<Item>)> {
    let credentials = integrations::credentials(deps, &integration.id).await?;
    let tenant =
        Tenant { space: &integration.space, vendor_id: &integration.vendor_id, credentials: &credentials };
    let api = &deps.learnster;
    let store = &deps.platform.store;
    let learnster_error = |e: hirebridge::outbound::OutboundError| {
        match e.status() {
        Some(s) if s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN => AppError::unprocessable(
            "Learnster refused hirebridge's API client credentials; ask your admin to switch the Learnster integration on again with valid ones.",
        ),
        _ => AppError::upstream(e.to_string()),
    }
    };

    let (student_pk, student_sk) = crate::store::student(&integration.id, &work.candidate_id);
    let known = store.get(&student_pk, &student_sk).await?;
    let (student_id, created, learnt) = match known.as_ref().and_then(|i| i.str("student_id")) {
        Some(id) => (id.to_owned(), false, None),
        None => {
            let (id, created) =
                match api.find_student(&tenant, &work.contact.email).await.map_err(learnster_error)? {
                    Some(id) => (id, false),
                    None => {
                        let student = NewStudent {
                            first_name: &work.contact.first_name,
                            last_name: &work.contact.last_name,
                            email: &work.contact.email,
                            phone: work.contact.phone.as_deref(),
                            personal_id: &format!("teamtailor-{}", work.candidate_id),
                        };
                        (api.create_student(&tenant, &student).await.map_err(learnster_error)?, true)
                    }
                };
            let learnt = Item::new(student_pk, student_sk).with("student_id", id.clone());
            (id, created, Some(learnt))
        }
    };

    let mut names = Vec::new();
    if integration.tags.title {
        names.extend(work.job_title.as_deref().map(|t| tag("title", t)));
    }
    if integration.tags.department {
        names.extend(department(deps, work, live.api_token.as_ref()).await.map(|d| tag("department", &d)));
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
    let summary = if created {
        format!(
            "Learnster account created for {} (invitation sent by Learnster); {tagged}.",
            work.contact.email
        )
    } else {
        format!("Existing Learnster account of {} {tagged}.", work.contact.email)
    };
    Ok((summary, learnt))
}

/// The job's department from Teamtailor when the company's API key was sent, else the
/// candidate's department.
async fn department(deps: &Deps, work: &Work, api_token: Option<&SecretString>) -> Option<String> {
    let host = work.teamtailor_host.as_deref();
    let fallback = work.candidate_department.clone();
    let (Some(token), Some(job_id)) = (api_token, work.job_id.as_deref()) else {
        return fallback;
    };
    if !job_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return fallback;
    }
    let config = &deps.platform.config;
    let base = api_base(config, host);
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

/// `POST /learnster/integrations/{id}/events/{event_id}/retry` (admin; an alias of
/// `POST /learnster/work/{id}:{event_id}/retry`).
pub async fn retry(deps: &Deps, req: &Request, id: &str, event_id: &str) -> AppResult<Response> {
    trigger::retry(deps, req, &format!("{id}:{event_id}")).await
}

/// `GET /learnster/integrations/{id}/events` (admin; the failed part of `GET /learnster/work`
/// for one integration).
pub async fn failed_events(deps: &Deps, req: &Request, id: &str) -> AppResult<Response> {
    hirebridge::admin::require_scope(&deps.platform, req, INTEGRATION).await?;
    let mut records =
        deps.platform.idempotency.list(INTEGRATION, ListState::Failed, trigger::SWEEP_LIMIT).await?;
    records
        .extend(deps.platform.idempotency.list(INTEGRATION, ListState::GivenUp, trigger::SWEEP_LIMIT).await?);
    let events: Vec<_> = records
        .iter()
        .filter(|r| r.work.get("tenant").and_then(|t| t.as_str()) == Some(id))
        .map(|r| json!({"event_id": r.id, "state": r.state.as_str(), "error": r.error, "attempts": r.attempts, "due_at": r.due_at}))
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
