//! `POST /2secure/webhook`: validates the candidate (personnummer, name, e-mail), records the
//! order, fetches the chosen files at once, and orders the check with an idempotency key.
use crate::api::{error_message, Attachment, NewOrder};
use crate::orders::{self, Order, Status};
use crate::personnummer::{Date, Personnummer};
use crate::{tenant_id, tenant_secret_name, TenantSecret, INTEGRATION};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hirebridge::error::AppResult;
use hirebridge::idempotency::{Claim, Outcome};
use hirebridge::teamtailor::api_base;
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::teamtailor::webhook::{Candidate, Webhook};
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use http::StatusCode;
use serde_json::{json, Map, Value};

use crate::{authenticate, Deps};

/// The custom-field api-names that may hold the personnummer.
const PERSONNUMMER_FIELDS: [&str; 3] = ["personnummer", "personal-number", "social-security-number"];
/// The most a single attached file may weigh.
const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// What the trigger asks for, checked. The personnummer exists only here, in memory.
struct OrderInput {
    personnummer: Personnummer,
    first_name: String,
    last_name: String,
    email: String,
    phone: Option<String>,
    level: String,
    billing_reference: String,
    orderer_email: String,
    files: Vec<(String, String)>,
    auto_move: bool,
}

fn data_value<'a>(data: &'a Map<String, Value>, id: &str) -> Option<&'a Value> {
    data.get(id).or_else(|| data.get(&id.replace('_', "-")))
}

fn data_str(data: &Map<String, Value>, id: &str) -> Option<String> {
    match data_value(data, id)? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => {
            matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "on" | "yes")
        }
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

impl OrderInput {
    fn from_webhook(candidate: &Candidate, data: &Map<String, Value>, today: Date) -> AppResult<Self> {
        let mut problems: Vec<String> = Vec::new();
        let raw =
            PERSONNUMMER_FIELDS.iter().find_map(|f| candidate.custom_fields.get(f)).map(|f| match &f.value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            });
        let personnummer = match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                problems.push("The candidate has no Personnummer: fill in the custom field Personnummer (YYYYMMDD-NNNN).".into());
                None
            }
            Some(raw) => match Personnummer::parse(raw, today) {
                Ok(p) => Some(p),
                Err(e) => {
                    problems.push(format!("The candidate's Personnummer is not valid: {e}. Correct the custom field Personnummer."));
                    None
                }
            },
        };
        let first_name = hirebridge::web::present(&candidate.first_name);
        let last_name = hirebridge::web::present(&candidate.last_name);
        if first_name.is_none() || last_name.is_none() {
            problems.push("The candidate needs a first and last name.".into());
        }
        let email = hirebridge::web::present(&candidate.email);
        match &email {
            None => problems.push("The candidate needs an e-mail address.".into()),
            Some(e) if !hirebridge::web::valid_email(e) => {
                problems.push("The candidate's e-mail address is not valid.".into())
            }
            Some(_) => {}
        }
        let level = data_str(data, "level");
        let billing_reference = data_str(data, "billing_reference");
        let orderer_email = data_str(data, "orderer_email");
        if level.is_none() {
            problems.push("The trigger has no level of check: edit the trigger and choose one.".into());
        }
        if billing_reference.is_none() {
            problems.push("The trigger has no billing reference: edit the trigger and fill it in.".into());
        }
        if !orderer_email.as_deref().is_some_and(hirebridge::web::valid_email) {
            problems.push(
                "The trigger's orderer e-mail is missing or not valid: edit the trigger and correct it."
                    .into(),
            );
        }
        let wanted: Vec<String> = match data_value(data, "attachments") {
            Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            Some(Value::String(s)) => s.split(',').map(|p| p.trim().to_owned()).collect(),
            _ => vec![],
        };
        let mut files = Vec::new();
        if wanted.iter().any(|w| w == "resume") {
            if let Some(resume) = &candidate.resume {
                files.push((
                    resume.file_name.clone().unwrap_or_else(|| "resume.pdf".into()),
                    resume.url.clone(),
                ));
            }
        }
        if wanted.iter().any(|w| w == "uploads") {
            for (i, upload) in candidate.uploads.iter().enumerate() {
                files.push((
                    upload.file_name.clone().unwrap_or_else(|| format!("upload-{}", i + 1)),
                    upload.url.clone(),
                ));
            }
        }
        match (personnummer, problems.is_empty()) {
            (Some(personnummer), true) => Ok(OrderInput {
                personnummer,
                first_name: first_name.unwrap_or_default(),
                last_name: last_name.unwrap_or_default(),
                email: email.unwrap_or_default(),
                phone: hirebridge::web::present(&candidate.phone),
                level: level.unwrap_or_default(),
                billing_reference: billing_reference.unwrap_or_default(),
                orderer_email: orderer_email.unwrap_or_default(),
                files,
                auto_move: truthy(data_value(data, "auto_move")),
            }),
            _ => Err(AppError::unprocessable(format!(
                "No background check was ordered. {} Then move the candidate again.",
                problems.join(" ")
            ))),
        }
    }
}

pub async fn webhook(deps: &Deps, req: &Request) -> AppResult<Response> {
    let (listing, api_key) = authenticate(deps, req).await?;
    let platform = &deps.platform;
    let hook = Webhook::receive(platform, &listing, req)?;
    let now = platform.now_secs();
    let event = &hook.partner_event;
    let host = web::header(req, "teamtailor-host").map(str::to_owned);
    api_base(&platform.config, host.as_deref())?;
    let input = OrderInput::from_webhook(&event.candidate, &event.webhook_data, Date::from_unix(now))?;
    let company_token = web::header(req, "teamtailor-api-token").map(|t| SecretString::from(t.trim()));
    let tenant = tenant_id(&api_key);

    let order = Order {
        tenant: tenant.clone(),
        event_id: event.id.clone(),
        status: Status::Recorded,
        order_id: None,
        candidate_id: event.candidate.id.clone(),
        job_id: event.candidate.job.as_ref().map(|j| j.id.clone()),
        level: input.level.clone(),
        auto_move: input.auto_move,
        update_url: event.partner_result.update_url.clone(),
        teamtailor_host: host,
        report_url: None,
        created_at: now,
        error: None,
        moved: None,
    };
    let work = serde_json::to_value(&order).map_err(AppError::internal)?;
    let lease = match platform.idempotency.claim(&format!("{INTEGRATION}#{tenant}"), &event.id, work).await? {
        Claim::Replay(outcome) => return Ok(outcome.to_response()),
        Claim::Acquired(lease) => lease,
    };
    let (response, error) =
        place(deps, &listing.partner_api_key, &api_key, company_token, order, &input).await?;
    platform.idempotency.finish(lease, &Outcome::from_response(&response), hirebridge::idempotency::Finish::from_error(error)).await?;
    Ok(response)
}

/// Records the order, sends it, records the answer and writes the partner result.
async fn place(
    deps: &Deps,
    partner_api_key: &SecretString,
    api_key: &SecretString,
    company_token: Option<SecretString>,
    mut order: Order,
    input: &OrderInput,
) -> AppResult<(Response, Option<String>)> {
    let platform = &deps.platform;
    remember_tenant(deps, &order.tenant, api_key, company_token).await?;
    let previous = orders::load(platform, &order.tenant, &order.event_id).await?.map(|o| o.status);
    if !orders::save(platform, &order, previous).await? {
        return Err(AppError::conflict(
            "this order changed while it was being recorded; move the candidate again",
        ));
    }
    let sent = send(deps, api_key, &order, input).await;
    let (result, response, error) = match sent {
        Ok(order_id) => {
            order.status = Status::Sent;
            order.order_id = Some(order_id);
            orders::save(platform, &order, Some(Status::Recorded)).await?;
            orders::index_order_id(platform, &order).await?;
            let result = PartnerResult::new(ResultStatus::Sent).summary(format!(
                "Background check ordered from 2Secure (package {}). 2Secure e-mails the candidate its privacy notice.",
                order.level
            ));
            let response = web::json(StatusCode::OK, &result.inline());
            (result, response, None)
        }
        Err(e) => {
            order.status = Status::NotSent;
            order.error = Some(e.detail.clone());
            orders::save(platform, &order, Some(Status::Recorded)).await?;
            let message = format!(
                "{} Move the candidate to this stage again to retry.",
                e.detail.trim_end_matches('.').to_owned() + "."
            );
            let result = PartnerResult::new(ResultStatus::Failed).summary(message.clone());
            let status =
                if e.status == StatusCode::UNPROCESSABLE_ENTITY { e.status } else { StatusCode::BAD_GATEWAY };
            (result, web::text(status, &message), Some(e.detail))
        }
    };
    if let Err(e) = platform.partner_results.update(&order.update_url, partner_api_key, &result).await {
        tracing::warn!(event = %order.event_id, error = %e.detail, "partner result not delivered");
    }
    tracing::info!(event = %order.event_id, status = order.status.as_str(), "2secure order handled");
    Ok((response, error))
}

/// Keeps the tenant's 2Secure key and the company's Teamtailor key for the status poll and the
/// move to the next stage; written only when they changed.
async fn remember_tenant(
    deps: &Deps,
    tenant: &str,
    api_key: &SecretString,
    company_token: Option<SecretString>,
) -> AppResult<()> {
    let name = tenant_secret_name(tenant);
    let secrets = &deps.platform.secrets;
    let current: Option<TenantSecret> = secrets.get_json(&name).await?;
    let token = company_token.or_else(|| current.as_ref().and_then(|c| c.teamtailor_api_token.clone()));
    let unchanged =
        current.as_ref().is_some_and(|c| c.api_key == *api_key && c.teamtailor_api_token == token);
    if !unchanged {
        let value = json!({
            "api_key": api_key.expose(),
            "teamtailor_api_token": token.as_ref().map(|t| t.expose().clone()),
        });
        secrets.put_json(&name, &value).await?;
    }
    Ok(())
}

/// Fetches the files (their URLs live for seconds) and places the order. Answers 2Secure's id.
async fn send(deps: &Deps, api_key: &SecretString, order: &Order, input: &OrderInput) -> AppResult<String> {
    let mut attachments = Vec::with_capacity(input.files.len());
    for (file_name, url) in &input.files {
        attachments.push(fetch(deps, file_name, url).await?);
    }
    let callback_url = deps.platform.config.public_url("/2secure/callback");
    let new_order = NewOrder {
        package_id: &input.level,
        first_name: &input.first_name,
        last_name: &input.last_name,
        personnummer: &input.personnummer,
        email: &input.email,
        phone: input.phone.as_deref(),
        billing_reference: &input.billing_reference,
        orderer_email: &input.orderer_email,
        callback_url: &callback_url,
        external_reference: &order.event_id,
        attachments: &attachments,
    };
    let idempotency_key = format!("hirebridge-{}-{}", order.tenant, order.event_id);
    match deps.twosecure.order(api_key, &idempotency_key, &new_order).await {
        Ok(answer) => Ok(answer.id),
        Err(e) if e.status() == Some(StatusCode::UNPROCESSABLE_ENTITY) => Err(AppError::unprocessable(format!(
            "2Secure refused the order: {}",
            error_message(&e).unwrap_or_else(|| "no reason given".into())
        ))),
        Err(e) if e.status() == Some(StatusCode::UNAUTHORIZED) => Err(AppError::upstream(
            "2Secure did not accept the company's API key; an admin must save 2Secure's activation in Teamtailor with a current key.",
        )),
        Err(e) => Err(AppError::upstream(format!("The background check was not ordered: {e}."))),
    }
}

async fn fetch(deps: &Deps, file_name: &str, url: &str) -> AppResult<Attachment> {
    let allowed = url.starts_with("https://")
        || (deps.platform.config.teamtailor_api_url.is_some() && url.starts_with("http://"));
    if !allowed {
        return Err(AppError::unprocessable(format!(
            "The file {file_name} has no https address, so it was not sent."
        )));
    }
    let not_fetched = |why: String| {
        AppError::upstream(format!(
            "The file {file_name} could not be fetched from Teamtailor ({why}); no order was placed."
        ))
    };
    let request = deps.platform.http.request(reqwest::Method::GET, url);
    let resp =
        deps.platform.http.send("Teamtailor files", request).await.map_err(|e| not_fetched(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(not_fetched(format!("it answered {}", resp.status())));
    }
    if resp.content_length().is_some_and(|l| l as usize > MAX_FILE_BYTES) {
        return Err(AppError::unprocessable(format!(
            "The file {file_name} is larger than 10 MB, so it was not sent."
        )));
    }
    let bytes = resp.bytes().await.map_err(|e| not_fetched(e.without_url().to_string()))?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(AppError::unprocessable(format!(
            "The file {file_name} is larger than 10 MB, so it was not sent."
        )));
    }
    Ok(Attachment {
        file_name: file_name.chars().take(200).collect(),
        content_base64: STANDARD.encode(&bytes),
    })
}
