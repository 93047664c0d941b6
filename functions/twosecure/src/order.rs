//! `POST /2secure/webhook` on the shared trigger pipeline: the trigger is checked and recorded
//! (the personnummer only sealed) before 2Secure is called; `perform` fetches the files and
//! places the order with an idempotency key that is the same on every attempt, so a retry after
//! an answer that never came back gets 2Secure's first answer instead of a second order.
use async_trait::async_trait;
use hirebridge::error::AppResult;
use hirebridge::outbound::OutboundError;
use hirebridge::platform::{Listing, Platform};
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::teamtailor::webhook::Webhook;
use hirebridge::teamtailor::Stack;
use hirebridge::trigger::{self, Done, Job, Trigger};
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::{self, NewOrder};
use crate::candidate::OrderInput;
use crate::files::{Fetched, FileRef, LeftOut};
use crate::personnummer::{Date, Personnummer};
use crate::store::{self, Order, Status};
use crate::{authenticate, seal, tenant_id, tenant_secret_name, Deps, TenantSecret, INTEGRATION};

/// A 2Secure customer: its API key (from the activation, or from its secret on a retry).
pub struct Tenant {
    pub id: String,
    pub api_key: SecretString,
}

/// What one trigger asks for, recorded before 2Secure is called: no credential, and the
/// personnummer only sealed ([`crate::seal`]).
#[derive(Debug, Serialize, Deserialize)]
pub struct Work {
    pub event_id: String,
    pub update_url: String,
    pub candidate_id: String,
    pub job_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub level: String,
    pub billing_reference: String,
    pub orderer_email: String,
    pub auto_move: bool,
    /// The names of the files asked for, digit runs redacted (a file name may carry a
    /// personnummer: "Personbevis 19811218-9876.pdf"); their links last a minute, so are not
    /// recorded.
    pub files: Vec<String>,
    pub teamtailor_host: Option<String>,
    pub personnummer_sealed: String,
}

/// What only the live webhook carries; a retry has none of it.
#[derive(Default)]
pub struct Live {
    fresh: bool,
    company_token: Option<SecretString>,
    files: Vec<FileRef>,
}

/// The same on every attempt of one trigger: 2Secure answers a repeat with its first answer.
pub fn idempotency_key(tenant: &str, event_id: &str) -> String {
    format!("hirebridge-{tenant}-{event_id}")
}

/// `POST /2secure/webhook`.
pub async fn webhook(deps: &Deps, req: &Request) -> AppResult<Response> {
    trigger::receive(deps, req).await
}

#[async_trait]
impl Trigger for Deps {
    type Tenant = Tenant;
    type Work = Work;
    type Live = Live;
    const INTEGRATION: &'static str = INTEGRATION;
    const NOT_DONE: &'static str = "The 2Secure background check is not confirmed";

    fn platform(&self) -> &Platform {
        &self.platform
    }

    async fn authenticate(&self, req: &Request) -> AppResult<(Listing, Tenant)> {
        let (listing, api_key) = authenticate(self, req).await?;
        Ok((listing, Tenant { id: tenant_id(&api_key), api_key }))
    }

    fn tenant_id(tenant: &Tenant) -> String {
        tenant.id.clone()
    }

    async fn tenant(&self, id: &str) -> AppResult<Tenant> {
        let secret: Option<TenantSecret> = self.platform.secrets.get_json(&tenant_secret_name(id)).await?;
        let secret = secret.ok_or_else(|| {
            AppError::unprocessable(
                "this 2Secure activation's key is no longer known; activate 2Secure in Teamtailor again",
            )
        })?;
        Ok(Tenant { id: id.to_owned(), api_key: secret.api_key })
    }

    fn work(&self, tenant: &Tenant, hook: Webhook, req: &Request) -> AppResult<(Work, Live)> {
        let event = hook.partner_event;
        let host = Some(Stack::host_of_trigger(&self.platform.config, &event.partner_result.update_url, req));
        let today = Date::from_unix(self.platform.now_secs());
        let input = OrderInput::from_webhook(&event.candidate, &event.webhook_data, today)?;
        let work = Work {
            personnummer_sealed: seal::seal(&input.personnummer, &tenant.api_key, &event.id),
            event_id: event.id,
            update_url: event.partner_result.update_url,
            candidate_id: event.candidate.id,
            job_id: event.candidate.job.map(|j| j.id),
            first_name: input.first_name,
            last_name: input.last_name,
            email: input.email,
            phone: input.phone,
            level: input.level,
            billing_reference: input.billing_reference,
            orderer_email: input.orderer_email,
            auto_move: input.auto_move,
            files: input.files.iter().map(|f| crate::redacted(&f.name)).collect(),
            teamtailor_host: host,
        };
        let company_token = web::header(req, "teamtailor-api-token").map(|t| SecretString::from(t.trim()));
        Ok((work, Live { fresh: true, company_token, files: input.files }))
    }

    async fn perform(&self, job: Job<'_, Self>) -> AppResult<Done> {
        let (tenant, work, live) = (job.tenant, job.work, job.live);
        if live.fresh {
            remember_tenant(self, tenant, live.company_token.as_ref()).await?;
        }
        let today = Date::from_unix(self.platform.now_secs());
        let personnummer = seal::open(&work.personnummer_sealed, &tenant.api_key, &work.event_id, today)
            .ok_or_else(|| {
                AppError::unprocessable("hirebridge could not read the recorded Personnummer again; move the candidate to this stage again")
            })?;
        let fetched = match live.fresh {
            true => self.files.fetch(&live.files).await,
            false => Fetched {
                attachments: vec![],
                left_out: work.files.iter().map(|f| (f.clone(), LeftOut::LinkExpired)).collect(),
            },
        };
        let order_id = place(self, tenant, work, &personnummer, &fetched).await?;
        record(self, tenant, work, order_id).await?;
        let mut summary = format!(
            "Background check ordered from 2Secure (package {}). 2Secure e-mails the candidate its privacy notice.",
            work.level
        );
        if let Some(files) = fetched.summary() {
            summary = format!("{summary} {files}");
        }
        Ok(PartnerResult::new(ResultStatus::Sent).summary(summary).into())
    }
}

/// Keeps the tenant's 2Secure key and the company's Teamtailor key for retries, the status poll
/// and the move to the next stage; written only when they changed.
async fn remember_tenant(
    deps: &Deps,
    tenant: &Tenant,
    company_token: Option<&SecretString>,
) -> AppResult<()> {
    let name = tenant_secret_name(&tenant.id);
    let secrets = &deps.platform.secrets;
    let current: Option<TenantSecret> = secrets.get_json(&name).await?;
    let token =
        company_token.cloned().or_else(|| current.as_ref().and_then(|c| c.teamtailor_api_token.clone()));
    let unchanged =
        current.as_ref().is_some_and(|c| c.api_key == tenant.api_key && c.teamtailor_api_token == token);
    if !unchanged {
        let value = json!({
            "api_key": tenant.api_key.expose(),
            "teamtailor_api_token": token.as_ref().map(|t| t.expose().clone()),
        });
        secrets.put_json(&name, &value).await?;
    }
    Ok(())
}

/// Places the order (or gets 2Secure's first answer to it again). Answers 2Secure's order id.
async fn place(
    deps: &Deps,
    tenant: &Tenant,
    work: &Work,
    personnummer: &Personnummer,
    fetched: &Fetched,
) -> AppResult<String> {
    let callback_url = deps.platform.config.public_url("/2secure/callback");
    let new_order = NewOrder {
        package_id: &work.level,
        first_name: &work.first_name,
        last_name: &work.last_name,
        personnummer,
        email: &work.email,
        phone: work.phone.as_deref(),
        billing_reference: &work.billing_reference,
        orderer_email: &work.orderer_email,
        callback_url: &callback_url,
        external_reference: &work.event_id,
        attachments: &fetched.attachments,
    };
    let key = idempotency_key(&tenant.id, &work.event_id);
    let answer = deps.twosecure.order(&tenant.api_key, &key, &new_order).await.map_err(|e| not_placed(&e))?;
    if answer.id.is_empty()
        || answer.id.len() > 128
        || !answer.id.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
    {
        return Err(AppError::upstream(
            "2Secure answered with an order id hirebridge cannot use; 2Secure is asked again",
        ));
    }
    Ok(answer.id)
}

/// Why an order was not placed, in fixed words; whether a retry may mend it decides the status.
fn not_placed(e: &OutboundError) -> AppError {
    let said = api::describe(e);
    match e.status() {
        Some(StatusCode::UNPROCESSABLE_ENTITY) => AppError::unprocessable(match api::error_code(e).as_deref() {
            Some("invalid_personal_number") => "2Secure refused the candidate's Personnummer: check the custom field Personnummer, then move the candidate again".to_owned(),
            Some("invalid_package") => "2Secure does not offer the trigger's level of check: edit the trigger, choose a level, then move the candidate again".to_owned(),
            _ => format!("2Secure refused the order ({said}): check the trigger and the candidate, then move the candidate again"),
        }),
        Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => AppError::unprocessable(
            "2Secure did not accept the company's API key; an admin must save 2Secure's activation in Teamtailor with a current key, then move the candidate again",
        ),
        _ if matches!(e, OutboundError::Unsendable { .. }) => AppError::unprocessable(
            "the 2Secure API key holds characters that cannot be sent; paste the key again in 2Secure's activation in Teamtailor",
        ),
        // An answer that could not be read may still be an order 2Secure took.
        _ if e.maybe_performed() || matches!(e, OutboundError::Malformed { .. }) => AppError::upstream(format!(
            "{said}, so 2Secure may have received the order; hirebridge asks again with the same order key, which never orders twice"
        )),
        Some(s) if s.is_client_error() && s != StatusCode::CONFLICT && s != StatusCode::TOO_MANY_REQUESTS => {
            AppError::unprocessable(format!("2Secure refused the order ({said})"))
        }
        _ => AppError::upstream(format!("{said}; the order has not reached 2Secure yet")),
    }
}

/// Records the order 2Secure accepted (once) and its callback index. Store trouble here must not
/// read "nothing was sent": 2Secure has the order, and the retry finds it again.
async fn record(deps: &Deps, tenant: &Tenant, work: &Work, order_id: String) -> AppResult<()> {
    let now = deps.platform.now_secs();
    let order = Order {
        tenant: tenant.id.clone(),
        event_id: work.event_id.clone(),
        order_id,
        status: Status::Sent,
        settled: true,
        check_at: now,
        candidate_id: work.candidate_id.clone(),
        job_id: work.job_id.clone(),
        level: work.level.clone(),
        auto_move: work.auto_move,
        update_url: work.update_url.clone(),
        teamtailor_host: work.teamtailor_host.clone(),
        report_url: None,
        created_at: now,
        moved: None,
    };
    let not_recorded = |_| {
        AppError::upstream("2Secure accepted the order, but hirebridge could not record it yet; the retry records it (2Secure gives the same order back)")
    };
    let order = store::create(&deps.platform, &order).await.map_err(not_recorded)?;
    store::index(&deps.platform, &order).await.map_err(not_recorded)
}
