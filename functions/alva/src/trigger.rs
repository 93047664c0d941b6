//! What Teamtailor calls: the trigger form, and the trigger on the shared pipeline
//! ([`hirebridge::trigger`]): the tenant is the Alva company the partner key is connected to, the
//! work is the candidate, the test profile and the job, and performing it invites the candidate
//! in Alva (once, whatever is retried) and then syncs the hiring team.
use async_trait::async_trait;
use hirebridge::error::AppResult;
use hirebridge::outbound::OutboundError;
use hirebridge::platform::{Listing, Platform};
use hirebridge::teamtailor::forms::{Field, Form};
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::teamtailor::webhook::{Contact, Webhook};
use hirebridge::teamtailor::Stack;
use hirebridge::trigger::{self, Done, Job, Trigger};
use hirebridge::web::{Request, Response};
use hirebridge::AppError;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::alva::NewCandidate;
use crate::store::{self, Company, Invited};
use crate::{hiring_team, Deps, VendorSecret, INTEGRATION, VENDOR_SECRET};

const NOT_CONNECTED: &str = "This Teamtailor account is not connected to Alva yet. In Alva, open Settings → Integrations → Add integration → Teamtailor and paste the Partner Key.";

/// The provider key is Teamtailor's UUID: it must be one of the listing's activations, and the
/// key an Alva company is connected with now, for the same Teamtailor company.
async fn authenticate(deps: &Deps, req: &Request) -> AppResult<(Listing, Company)> {
    let platform = &deps.platform;
    let auth = deps.activations.authenticate(platform, INTEGRATION, req).await?;
    let key = auth.key.to_string();
    let store = platform.store.as_ref();
    let not_connected = || AppError::forbidden(NOT_CONNECTED);
    let id = store::company_of_key(store, &key).await?.ok_or_else(not_connected)?;
    let company = store::company(store, &id).await?.ok_or_else(not_connected)?;
    if !company.uses_key(&key) || company.connection.company_uuid != auth.activation.company_uuid {
        return Err(not_connected());
    }
    Ok((auth.listing, company))
}

pub(crate) async fn vendor(deps: &Deps) -> AppResult<VendorSecret> {
    Ok(deps.platform.secrets.require_json(VENDOR_SECRET).await?)
}

/// `GET /alva/config`: the test profile to send.
pub async fn config(deps: &Deps, req: &Request) -> AppResult<Response> {
    let (_, company) = authenticate(deps, req).await?;
    let vendor = vendor(deps).await?;
    let profiles = deps.alva.test_profiles(&vendor.api_key, company.id()).await.map_err(|e| {
        tracing::warn!(error = %e, "alva test profiles not read");
        AppError::upstream("Alva's test profiles could not be read; open the trigger again in a minute.")
    })?;
    let options: Vec<(String, String)> = profiles.into_iter().map(|p| (p.id, p.name)).collect();
    let mut form = Form::new().field(Field::select("test_profile", "Alva test profile", &options).required());
    if company.connection.sync_hiring_team {
        form = form.infobox(
            "Hiring team sync is on: the job's recruiter and hiring team get access to the results in Alva.",
            "info",
        );
    }
    Ok(form.into_response())
}

/// `POST /alva/webhook`: the shared trigger pipeline with Alva's part below.
pub async fn webhook(deps: &Deps, req: &Request) -> AppResult<Response> {
    trigger::receive(deps, req).await
}

/// What one trigger asks for, recorded before anything is sent (no credential in it).
#[derive(Debug, Serialize, Deserialize)]
pub struct Work {
    pub candidate_id: String,
    #[serde(flatten)]
    pub contact: Contact,
    pub test_profile: String,
    pub job_id: Option<String>,
    /// The host of the company's Teamtailor stack (where the hiring team is read).
    pub teamtailor_host: Option<String>,
    /// Alva's `Idempotency-Key` for this invitation: the same on every attempt of this event.
    pub invitation_key: String,
    /// The card, where Alva's result lands later.
    pub update_url: String,
}

impl Work {
    fn from_webhook(company: &Company, hook: Webhook, teamtailor_host: Option<&str>) -> AppResult<Self> {
        let event = hook.partner_event;
        let c = event.candidate;
        let contact = Contact::of(&c, "Alva")?;
        let test_profile = ["test_profile", "test-profile"]
            .iter()
            .find_map(|k| event.webhook_data.get(*k))
            .and_then(|v| match v {
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .ok_or_else(|| {
                AppError::unprocessable(
                    "The trigger has no Alva test profile; edit the trigger and choose one.",
                )
            })?;
        Ok(Work {
            invitation_key: invitation_key(company, &event.id),
            update_url: event.partner_result.update_url,
            candidate_id: c.id,
            contact,
            test_profile,
            job_id: c.job.map(|j| j.id),
            teamtailor_host: teamtailor_host.map(str::to_owned),
        })
    }
}

/// Alva's `Idempotency-Key` of the invitation for one event: stable, and fit for a header.
fn invitation_key(company: &Company, event_id: &str) -> String {
    let plain =
        event_id.len() <= 64 && event_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let event =
        if plain { event_id.to_owned() } else { hirebridge::admin::sha256_hex(event_id)[..32].to_owned() };
    format!("{INTEGRATION}:{}:{event}", company.id())
}

#[async_trait]
impl Trigger for Deps {
    type Tenant = Company;
    type Work = Work;
    type Live = ();
    const INTEGRATION: &'static str = INTEGRATION;
    const NOT_DONE: &'static str = "The Alva test invitation is not confirmed";

    fn platform(&self) -> &Platform {
        &self.platform
    }

    async fn authenticate(&self, req: &Request) -> AppResult<(Listing, Company)> {
        authenticate(self, req).await
    }

    fn tenant_id(company: &Company) -> String {
        company.id().to_owned()
    }

    async fn tenant(&self, id: &str) -> AppResult<Company> {
        store::company(self.platform.store.as_ref(), id)
            .await?
            .ok_or_else(|| AppError::conflict("the Alva company is no longer connected to Teamtailor"))
    }

    fn work(&self, company: &Company, hook: Webhook, req: &Request) -> AppResult<(Work, ())> {
        let host =
            Stack::host_of_trigger(&self.platform.config, &hook.partner_event.partner_result.update_url, req);
        Ok((Work::from_webhook(company, hook, Some(&host))?, ()))
    }

    async fn perform(&self, job: Job<'_, Self>) -> AppResult<Done> {
        let (company, work) = (job.tenant, job.work);
        let vendor = vendor(self).await?;
        let (alva_candidate, candidate_url) = invite(self, &vendor, company, work).await?;
        let invited = Invited {
            alva_company_id: company.id().to_owned(),
            update_url: work.update_url.clone(),
            candidate_id: work.candidate_id.clone(),
        };
        let now = self.platform.now_secs();
        let invited = store::invited_item(&alva_candidate, &invited, now)?;
        let mut summary = format!("Alva test invitation sent to {}.", work.contact.email);
        if company.connection.sync_hiring_team {
            summary.push(' ');
            summary.push_str(&hiring_team::sync(self, &vendor, company, work).await);
        }
        let result = PartnerResult::new(ResultStatus::Sent).summary(summary);
        let result = match candidate_url.as_deref().and_then(crate::alva::web_link) {
            Some(url) => result.url(url),
            None => result,
        };
        Ok(Done::from(result).recording(invited))
    }
}

/// Invites the candidate; Alva's `Idempotency-Key` makes every retry of this event the same
/// invitation. Answers Alva's candidate id and link.
async fn invite(
    deps: &Deps,
    vendor: &VendorSecret,
    company: &Company,
    work: &Work,
) -> AppResult<(String, Option<String>)> {
    let new = NewCandidate {
        test_profile_id: &work.test_profile,
        first_name: &work.contact.first_name,
        last_name: &work.contact.last_name,
        email: &work.contact.email,
        phone: work.contact.phone.as_deref(),
        external_id: &work.candidate_id,
    };
    match deps.alva.create_candidate(&vendor.api_key, company.id(), &work.invitation_key, &new).await {
        Ok(created) => Ok((created.id, created.candidate_url)),
        Err(e) => {
            tracing::warn!(error = %e, "alva invitation not confirmed");
            Err(not_invited(&e))
        }
    }
}

/// Why the invitation did not go out, in fixed words (never Alva's text): a refusal of the
/// candidate or profile is final; anything else is retried.
fn not_invited(e: &OutboundError) -> AppError {
    match e.status() {
        Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
            AppError::upstream("Alva refused hirebridge's API key; hirebridge's operators have to renew it")
        }
        Some(s) if s.is_client_error() && !e.is_transient() => AppError::unprocessable(
            "Alva refused it; check the candidate's e-mail address and the trigger's test profile, then move the candidate again",
        ),
        _ if e.maybe_performed() => {
            AppError::upstream("Alva did not answer clearly (a retry does not invite twice)")
        }
        _ => AppError::upstream("Alva could not be reached"),
    }
}
