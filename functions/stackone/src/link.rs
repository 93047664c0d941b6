//! Link sessions, the Link Account page and its submission, the link's status, and StackOne's
//! account events.
//!
//! Items: `STACKONE#{owner}`/`LINK` (account id, status, owner name; never a credential),
//! `STACKONE_ACCOUNT#{account id}`/`LINK` (which owner an account belongs to).
//! Secret: `tenant/stackone/{owner}` = the Teamtailor credentials.
use std::collections::BTreeMap;

use crate::totp::TotpSecret;
use hirebridge::admin::require_admin;
use hirebridge::error::AppResult;
use hirebridge::store::Item;
use hirebridge::teamtailor::api_base;
use hirebridge::teamtailor::public_api::PublicApi;
use hirebridge::tickets::{self, Ticket};
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::page;
use crate::{Deps, VendorSecret, TICKET_PURPOSE, VENDOR_SECRET};

const TICKET_TTL_SECS: i64 = 30 * 60;

fn check_owner(owner: &str) -> AppResult<()> {
    let ok = !owner.is_empty()
        && owner.len() <= 128
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:@".contains(c));
    ok.then_some(())
        .ok_or_else(|| AppError::unprocessable("origin_owner_id must be 1–128 letters, digits or - _ . : @"))
}

fn link_pk(owner: &str) -> String {
    format!("STACKONE#{owner}")
}

#[derive(Deserialize)]
struct SessionBody {
    origin_owner_id: String,
    origin_owner_name: String,
}

/// `POST /stackone/link-sessions` (admin): a link to the Link Account page, valid 30 minutes, once.
pub async fn create_session(deps: &Deps, req: &Request) -> AppResult<Response> {
    let platform = &deps.platform;
    require_admin(&platform.secrets, req).await?;
    let body: SessionBody = web::read_json(req)?;
    check_owner(&body.origin_owner_id)?;
    let name = body.origin_owner_name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(AppError::unprocessable("origin_owner_name must be 1–200 characters"));
    }
    let key = tickets::signing_key(&platform.secrets).await?;
    let expires_at = platform.now_secs() + TICKET_TTL_SECS;
    let ticket = tickets::issue(&key, TICKET_PURPOSE, &body.origin_owner_id, name, expires_at);
    let url = format!("{}?ticket={ticket}", platform.config.public_url("/stackone/link"));
    Ok(web::json(StatusCode::CREATED, &json!({"url": url, "expires_at": expires_at})))
}

/// The ticket, checked (signature, purpose, expiry, not used).
async fn ticket(deps: &Deps, raw: Option<&str>) -> AppResult<Ticket> {
    let platform = &deps.platform;
    let raw = raw
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::unauthorized("this page needs the link you were sent; ask for a new one"))?;
    let key = tickets::signing_key(&platform.secrets).await?;
    let ticket = tickets::verify(&key, raw, TICKET_PURPOSE, platform.now_secs())?;
    if tickets::is_used(platform.store.as_ref(), &ticket).await? {
        return Err(tickets::TicketError::Used.into());
    }
    Ok(ticket)
}

fn html(status: StatusCode, body: String) -> Response {
    web::html(status, &body)
}

/// `GET /stackone/link?ticket=`.
pub async fn show(deps: &Deps, req: &Request) -> AppResult<Response> {
    let query = web::query(req);
    let raw = query.get("ticket").map(String::as_str);
    match ticket(deps, raw).await {
        Ok(t) => Ok(html(
            StatusCode::OK,
            page::form(raw.unwrap_or_default(), &t.label, &BTreeMap::new(), &BTreeMap::new()),
        )),
        Err(e) if e.status.is_client_error() => {
            Ok(html(e.status, page::problem("This link cannot be used", &e.detail)))
        }
        Err(e) => Err(e),
    }
}

/// What the page submits: form-encoded, or JSON.
fn fields(req: &Request) -> AppResult<(BTreeMap<String, String>, bool)> {
    let body = web::bounded_body(req)?;
    let json = web::header(req, "content-type").is_some_and(|c| c.contains("json"));
    let map = if json {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| AppError::bad_request(format!("the body is not valid JSON ({e})")))?;
        value
            .as_object()
            .ok_or_else(|| AppError::bad_request("the body must be a JSON object of field → value"))?
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
            .collect()
    } else {
        url::form_urlencoded::parse(body).into_owned().collect()
    };
    Ok((map, json))
}

/// The checked credentials; their `Debug` shows nothing secret.
struct Credentials {
    api_key: SecretString,
    company_id: String,
    email: String,
    password: SecretString,
    totp: Option<TotpSecret>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("company_id", &self.company_id)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// Checks every field and answers one message per field that fails.
async fn validate(
    deps: &Deps,
    form: &BTreeMap<String, String>,
) -> Result<Credentials, BTreeMap<&'static str, String>> {
    let mut errors = BTreeMap::new();
    let get = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let (api_key, company_id, email) = (get("api_key"), get("company_id"), get("email"));
    let password = form.get("password").cloned().unwrap_or_default();
    let company_ok = !company_id.is_empty()
        && company_id.len() <= 64
        && company_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !company_ok {
        errors.insert(
            "company_id",
            "Enter the company ID from your Teamtailor address (letters and digits).".to_owned(),
        );
    }
    if !hirebridge::web::valid_email(&email) {
        errors
            .insert("email", "Enter the dedicated user's e-mail address, like name@company.com.".to_owned());
    }
    if password.is_empty() {
        errors.insert("password", "Enter the dedicated user's password.".to_owned());
    } else if password.len() > 1000 {
        errors.insert("password", "The password is longer than 1000 characters.".to_owned());
    }
    let totp_raw = get("totp_secret");
    let totp = if totp_raw.is_empty() {
        None
    } else {
        match TotpSecret::parse(&totp_raw) {
            Ok(t) => Some(t),
            Err(e) => {
                let mut message = e.to_string();
                if let Some(first) = message.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                errors.insert("totp_secret", format!("{message}."));
                None
            }
        }
    };
    if api_key.is_empty() || api_key.len() > 200 || api_key.contains(char::is_whitespace) {
        errors.insert("api_key", "Enter a Teamtailor API key (no spaces).".to_owned());
    } else {
        let token = SecretString::new(api_key.clone());
        match check_key(deps, &token).await {
            Err(message) => {
                errors.insert("api_key", message);
            }
            Ok(ids) if company_ok && !ids.iter().any(|id| id.eq_ignore_ascii_case(&company_id)) => {
                errors.insert(
                    "company_id",
                    "This is not the company ID of the API key's Teamtailor account.".to_owned(),
                );
            }
            Ok(_) => {}
        }
    }
    if errors.is_empty() {
        Ok(Credentials {
            api_key: SecretString::new(api_key),
            company_id,
            email,
            password: SecretString::new(password),
            totp,
        })
    } else {
        Err(errors)
    }
}

/// The key must be valid and have Admin scope; answers the ids of its company.
async fn check_key(deps: &Deps, token: &SecretString) -> Result<Vec<String>, String> {
    let platform = &deps.platform;
    let base = api_base(&platform.config, None).map_err(|e| e.detail)?;
    let api = PublicApi::new(&platform.http, base, &platform.config.teamtailor_api_version, token);
    let company = match api.get("/v1/company").await {
        Ok(doc) => doc.resource().map_err(|e| e.to_string())?,
        Err(e) if e.status() == Some(StatusCode::UNAUTHORIZED) => {
            return Err("Teamtailor says this API key is not valid. Copy it again from Teamtailor (Settings → Integrations → API keys).".into())
        }
        Err(e) => return Err(format!("The key could not be checked ({e}). Try again in a minute.")),
    };
    // Users are visible to Admin keys only.
    match api.get("/v1/users?page%5Bsize%5D=1").await {
        Ok(_) => {}
        Err(e) if e.status() == Some(StatusCode::FORBIDDEN) || e.status() == Some(StatusCode::UNAUTHORIZED) => {
            return Err("This API key does not have Admin scope. Create a key with Admin scope and Read access, and use that one.".into())
        }
        Err(e) => return Err(format!("The key could not be checked ({e}). Try again in a minute.")),
    }
    let mut ids = vec![company.id.clone()];
    ids.extend(company.attr_str("uuid").map(str::to_owned));
    Ok(ids)
}

/// `POST /stackone/link`.
pub async fn submit(deps: &Deps, req: &Request) -> AppResult<Response> {
    let (form, json_answer) = fields(req)?;
    let raw_ticket = form.get("ticket").map(String::as_str);
    let ticket = match ticket(deps, raw_ticket).await {
        Ok(t) => t,
        Err(e) if e.status.is_client_error() && !json_answer => {
            return Ok(html(e.status, page::problem("This link cannot be used", &e.detail)))
        }
        Err(e) => return Err(e),
    };
    let credentials = match validate(deps, &form).await {
        Ok(c) => c,
        Err(errors) => {
            tracing::info!(owner = %ticket.subject, fields = ?errors.keys().collect::<Vec<_>>(), "link refused: fields to correct");
            return Ok(if json_answer {
                web::json(StatusCode::UNPROCESSABLE_ENTITY, &json!({"errors": errors}))
            } else {
                html(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    page::form(raw_ticket.unwrap_or_default(), &ticket.label, &form, &errors),
                )
            });
        }
    };
    let platform = &deps.platform;
    tickets::consume(platform.store.as_ref(), &ticket).await?;
    let linked = match link(deps, &ticket, &credentials).await {
        Ok(account) => account,
        Err(e) => {
            // Nothing was linked: the same link may be used again.
            tickets::release(platform.store.as_ref(), &ticket).await?;
            return Err(e);
        }
    };
    tracing::info!(owner = %ticket.subject, account = %linked.id, status = %linked.status, "teamtailor linked to stackone");
    Ok(if json_answer {
        web::json(StatusCode::CREATED, &json!({"account_id": linked.id, "status": linked.status}))
    } else {
        html(StatusCode::OK, page::connected(&ticket.label, &linked.id, &linked.status))
    })
}

/// Creates the owner's StackOne account, or updates the one it has; then keeps the credentials
/// in Secrets Manager and the link's status in the table.
async fn link(deps: &Deps, ticket: &Ticket, c: &Credentials) -> AppResult<crate::stackone::LinkedAccount> {
    let platform = &deps.platform;
    let vendor: VendorSecret = platform.secrets.require_json(VENDOR_SECRET).await?;
    let owner = &ticket.subject;
    let credentials = json!({
        "api_key": c.api_key.expose(),
        "company_id": c.company_id,
        "email": c.email,
        "password": c.password.expose(),
        "totp_secret": c.totp.as_ref().map(TotpSecret::base32),
    });
    let unreachable = |e: hirebridge::outbound::OutboundError| {
        AppError::upstream(format!("{e}. Nothing was linked; this link still works, try again in a minute."))
    };
    let existing = deps.stackone.accounts_of(&vendor.api_key, owner).await.map_err(unreachable)?;
    let account = match existing.first() {
        Some(account) => deps
            .stackone
            .update(&vendor.api_key, &account.id, &json!({"credentials": credentials}))
            .await
            .map_err(unreachable)?,
        None => deps
            .stackone
            .create(
                &vendor.api_key,
                &json!({"provider": "teamtailor", "origin_owner_id": owner, "origin_owner_name": ticket.label, "credentials": credentials}),
            )
            .await
            .map_err(unreachable)?,
    };
    platform.secrets.put_json(&format!("tenant/stackone/{owner}"), &credentials).await?;
    save_link(deps, owner, &ticket.label, &account.id, &account.status).await?;
    Ok(account)
}

async fn save_link(deps: &Deps, owner: &str, name: &str, account_id: &str, status: &str) -> AppResult<()> {
    let store = &deps.platform.store;
    let now = deps.platform.now_secs();
    let item = Item::new(link_pk(owner), "LINK")
        .with("origin_owner_id", owner)
        .with("origin_owner_name", name)
        .with("account_id", account_id)
        .with("status", status)
        .with("updated_at", now);
    store.put(item, None).await?;
    store
        .put(Item::new(format!("STACKONE_ACCOUNT#{account_id}"), "LINK").with("origin_owner_id", owner), None)
        .await?;
    Ok(())
}

/// `GET /stackone/links/{owner}` (admin).
pub async fn status(deps: &Deps, req: &Request, owner: &str) -> AppResult<Response> {
    require_admin(&deps.platform.secrets, req).await?;
    check_owner(owner)?;
    let item = deps
        .platform
        .store
        .get(&link_pk(owner), "LINK")
        .await?
        .ok_or_else(|| AppError::not_found(format!("{owner} has no linked Teamtailor account")))?;
    let field = |k: &str| item.attrs.get(k).cloned().unwrap_or(Value::Null);
    Ok(web::json(
        StatusCode::OK,
        &json!({
            "origin_owner_id": owner,
            "origin_owner_name": field("origin_owner_name"),
            "account_id": field("account_id"),
            "status": field("status"),
            "updated_at": field("updated_at"),
        }),
    ))
}

#[derive(Deserialize)]
struct Event {
    #[serde(alias = "type")]
    event: String,
    data: EventAccount,
}

#[derive(Deserialize)]
struct EventAccount {
    id: String,
    #[serde(default)]
    status: Option<String>,
}

/// `POST /stackone/events`: account webhooks keep the link's status current.
pub async fn events(deps: &Deps, req: &Request) -> AppResult<Response> {
    let platform = &deps.platform;
    let body = web::bounded_body(req)?;
    let vendor: VendorSecret = platform.secrets.require_json(VENDOR_SECRET).await?;
    hirebridge::body_signature::verify(
        "X-StackOne-Signature",
        web::header(req, "x-stackone-signature"),
        body,
        &vendor.webhook_secret,
    )?;
    let event: Event = web::read_json(req)?;
    let Some(index) = platform.store.get(&format!("STACKONE_ACCOUNT#{}", event.data.id), "LINK").await?
    else {
        return Ok(web::json(StatusCode::OK, &json!({"ignored": "hirebridge did not link this account"})));
    };
    let owner = index.str("origin_owner_id").unwrap_or_default().to_owned();
    let status = match event.event.as_str() {
        "account.deleted" => "deleted".to_owned(),
        _ => event.data.status.clone().unwrap_or_else(|| "unknown".into()),
    };
    let Some(mut link) = platform.store.get(&link_pk(&owner), "LINK").await? else {
        return Ok(web::json(StatusCode::OK, &json!({"ignored": "no link for this account"})));
    };
    link.attrs.insert("status".into(), json!(status));
    link.attrs.insert("updated_at".into(), json!(platform.now_secs()));
    platform.store.put(link, None).await?;
    tracing::info!(owner = %owner, status = %status, "stackone account status updated");
    Ok(web::json(StatusCode::OK, &json!({"origin_owner_id": owner, "status": status})))
}
