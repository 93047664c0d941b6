//! The key exchange: the connect page (from a ticket in the trigger form) and the admin routes.
//! Keys live in Secrets Manager only, one per Teamtailor user: `tenant/sparkhire/users/{user}` =
//! `{"api_key","name","email","company_uuid"}`.
use hirebridge::admin::require_admin;
use hirebridge::error::AppResult;
use hirebridge::tickets::{self, Ticket};
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::{events, page, Deps, TICKET_PURPOSE};

pub fn key_secret(user: &str) -> String {
    format!("tenant/sparkhire/users/{user}")
}

/// What is kept for a connected recruiter.
#[derive(Deserialize)]
pub struct UserKey {
    pub api_key: SecretString,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub company_uuid: Option<String>,
}

pub fn check_user(user: &str) -> AppResult<()> {
    let ok =
        !user.is_empty() && user.len() <= 64 && user.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ok.then_some(())
        .ok_or_else(|| AppError::unprocessable("the Teamtailor user id must be 1–64 letters, digits or '-'"))
}

/// Checks the key with Spark Hire (`GET /me`), stores it for `user`, registers the events
/// webhook. Answers the Spark Hire user's name.
async fn connect(deps: &Deps, user: &str, company_uuid: Option<&str>, api_key: &str) -> AppResult<String> {
    let key = api_key.trim();
    if key.is_empty() || key.len() > 200 || key.contains(char::is_whitespace) {
        return Err(AppError::unprocessable("Paste your Spark Hire User API Key (no spaces)."));
    }
    let key = SecretString::new(key.to_owned());
    let me = match deps.sparkhire.me(&key).await {
        Ok(me) => me,
        Err(e) if e.status().is_some_and(|s| s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN) => {
            return Err(AppError::unprocessable(
                "Spark Hire did not accept this key. Copy your User API Key again from Spark Hire (your user must have API access).",
            ))
        }
        Err(e) => return Err(AppError::upstream(format!("{e}; nothing was saved, try again in a minute"))),
    };
    let platform = &deps.platform;
    platform
        .secrets
        .put_json(
            &key_secret(user),
            &json!({"api_key": key.expose(), "name": me.name, "email": me.email, "company_uuid": company_uuid}),
        )
        .await?;
    let (username, password) = events::webhook_credentials(&platform.secrets).await?;
    if let Err(e) = deps
        .sparkhire
        .register_webhook(&key, &platform.config.public_url("/sparkhire/events"), username, &password)
        .await
    {
        tracing::warn!(user = %user, error = %e, "spark hire events webhook not registered");
    }
    tracing::info!(user = %user, "spark hire key connected");
    Ok(if me.name.is_empty() { me.email } else { me.name })
}

async fn ticket(deps: &Deps, raw: Option<&str>) -> AppResult<Ticket> {
    let platform = &deps.platform;
    let raw = raw
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::unauthorized("this page needs the link from Teamtailor's trigger form"))?;
    let key = tickets::signing_key(&platform.secrets).await?;
    let ticket = tickets::verify(&key, raw, TICKET_PURPOSE, platform.now_secs())?;
    if tickets::is_used(platform.store.as_ref(), &ticket).await? {
        return Err(tickets::TicketError::Used.into());
    }
    Ok(ticket)
}

/// `GET /sparkhire/connect?ticket=`.
pub async fn page(deps: &Deps, req: &Request) -> AppResult<Response> {
    let query = web::query(req);
    let raw = query.get("ticket").map(String::as_str);
    match ticket(deps, raw).await {
        Ok(_) => Ok(web::html(StatusCode::OK, &page::form(raw.unwrap_or_default(), None))),
        Err(e) if e.status.is_client_error() => Ok(web::html(e.status, &page::problem(&e.detail))),
        Err(e) => Err(e),
    }
}

/// `POST /sparkhire/connect` (form): stores the key for the ticket's user, and only for them.
pub async fn submit(deps: &Deps, req: &Request) -> AppResult<Response> {
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(web::bounded_body(req)?).into_owned().collect();
    let raw = form.get("ticket").map(String::as_str);
    let ticket = match ticket(deps, raw).await {
        Ok(t) => t,
        Err(e) if e.status.is_client_error() => return Ok(web::html(e.status, &page::problem(&e.detail))),
        Err(e) => return Err(e),
    };
    let key = form.get("api_key").map(String::as_str).unwrap_or_default();
    let store = deps.platform.store.as_ref();
    tickets::consume(store, &ticket).await?;
    let company = (!ticket.label.is_empty()).then_some(ticket.label.as_str());
    match connect(deps, &ticket.subject, company, key).await {
        Ok(name) => Ok(web::html(StatusCode::OK, &page::connected(&name))),
        Err(e) => {
            // Nothing was stored: the link may be used again.
            tickets::release(store, &ticket).await?;
            if e.status.is_client_error() || e.status.is_server_error() {
                Ok(web::html(e.status, &page::form(raw.unwrap_or_default(), Some(&e.detail))))
            } else {
                Err(e)
            }
        }
    }
}

#[derive(Deserialize)]
struct KeyBody {
    api_key: SecretString,
    #[serde(default)]
    company_uuid: Option<String>,
}

/// `PUT /sparkhire/users/{user}/key` (admin).
pub async fn put_key(deps: &Deps, req: &Request, user: &str) -> AppResult<Response> {
    require_admin(&deps.platform.secrets, req).await?;
    check_user(user)?;
    let body: KeyBody = web::read_json(req)?;
    let name = connect(deps, user, body.company_uuid.as_deref(), body.api_key.expose()).await?;
    Ok(web::json(StatusCode::OK, &json!({"user_id": user, "connected_as": name})))
}

/// `DELETE /sparkhire/users/{user}/key` (admin): disconnects.
pub async fn delete_key(deps: &Deps, req: &Request, user: &str) -> AppResult<Response> {
    require_admin(&deps.platform.secrets, req).await?;
    check_user(user)?;
    deps.platform.secrets.delete(&key_secret(user)).await?;
    Ok(web::empty(StatusCode::NO_CONTENT))
}
