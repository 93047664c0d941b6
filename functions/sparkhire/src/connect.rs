//! The key exchange: the connect page, reached from the trigger form with a ticket bound to one
//! company and one of its users, and the admin routes. A key is checked with Spark Hire
//! (`GET /me`), stored for that company's user only, and the company's events webhook is
//! registered in the recruiter's Spark Hire account.
use std::collections::HashMap;

use hirebridge::admin;
use hirebridge::error::AppResult;
use hirebridge::tickets::{self, Ticket};
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::recruiters::{self, check_user};
use crate::store::Recruiter;
use crate::{events, page, Deps, INTEGRATION, TICKET_PURPOSE};

/// Checks the key with Spark Hire, registers the company's events webhook with it and stores it
/// for the recruiter. Answers the Spark Hire user's name.
async fn connect(deps: &Deps, r: &Recruiter, api_key: &str) -> AppResult<String> {
    let key = api_key.trim();
    if key.is_empty() || key.len() > 200 || key.contains(char::is_whitespace) {
        return Err(AppError::unprocessable("Paste your Spark Hire User API Key (no spaces)."));
    }
    let key = SecretString::new(key.to_owned());
    let me = deps.sparkhire.me(&key).await.map_err(|e| match e.status().map(|s| s.as_u16()) {
        Some(401 | 403) => AppError::unprocessable(
            "Spark Hire did not accept this key. Copy your User API Key again from Spark Hire (your user must have API access).",
        ),
        _ => AppError::upstream("Spark Hire could not check the key just now; nothing was saved, try again in a minute."),
    })?;
    let name = if me.name.is_empty() { me.email } else { me.name };
    let webhook = events::register(deps, &key, &r.company).await;
    recruiters::save(deps, r, &key, &name, webhook).await?;
    tracing::info!(user = %r.user, company = %r.company, "spark hire key connected");
    Ok(name)
}

/// The ticket's recruiter: its user, of its company (a ticket without a company serves nobody).
async fn ticket(deps: &Deps, raw: Option<&str>) -> AppResult<(Ticket, Recruiter)> {
    let platform = &deps.platform;
    let raw = raw
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::unauthorized("this page needs the link from Teamtailor's trigger form"))?;
    let key = tickets::signing_key(&platform.secrets).await?;
    let ticket = tickets::verify(&key, raw, TICKET_PURPOSE, platform.now_secs())?;
    if ticket.label.is_empty() || check_user(&ticket.subject).is_err() {
        return Err(tickets::TicketError::Invalid.into());
    }
    if tickets::is_used(platform.store.as_ref(), &ticket).await? {
        return Err(tickets::TicketError::Used.into());
    }
    let r = Recruiter { company: ticket.label.clone(), user: ticket.subject.clone() };
    Ok((ticket, r))
}

fn action(deps: &Deps) -> String {
    deps.platform.config.public_url("/sparkhire/connect")
}

/// `GET /sparkhire/connect?ticket=`.
pub async fn page(deps: &Deps, req: &Request) -> AppResult<Response> {
    let query = web::query(req);
    let raw = query.get("ticket").map(String::as_str);
    match ticket(deps, raw).await {
        Ok(_) => Ok(web::html(StatusCode::OK, &page::form(&action(deps), raw.unwrap_or_default(), None))),
        Err(e) if e.status.is_client_error() => Ok(web::html(e.status, &page::problem(&e.detail))),
        Err(e) => Err(e),
    }
}

/// `POST /sparkhire/connect` (form): stores the key for the ticket's recruiter, and only for them.
pub async fn submit(deps: &Deps, req: &Request) -> AppResult<Response> {
    let form: HashMap<String, String> =
        url::form_urlencoded::parse(web::bounded_body(req)?).into_owned().collect();
    let raw = form.get("ticket").map(String::as_str);
    let store = deps.platform.store.as_ref();
    let checked = match ticket(deps, raw).await {
        // A few tries to paste the right key; not enough to guess one.
        Ok(found) => tickets::count_submission(store, &found.0).await.map(|_| found),
        Err(e) => Err(e),
    };
    let (ticket, recruiter) = match checked {
        Ok(found) => found,
        Err(e) if e.status.is_client_error() => return Ok(web::html(e.status, &page::problem(&e.detail))),
        Err(e) => return Err(e),
    };
    let key = form.get("api_key").map(String::as_str).unwrap_or_default();
    tickets::consume(store, &ticket).await?;
    match connect(deps, &recruiter, key).await {
        Ok(name) => Ok(web::html(StatusCode::OK, &page::connected(&name))),
        Err(e) => {
            // Nothing was stored: the link may be used again.
            tickets::release(store, &ticket).await?;
            Ok(web::html(e.status, &page::form(&action(deps), raw.unwrap_or_default(), Some(&e.detail))))
        }
    }
}

fn check_company(company: &str) -> AppResult<()> {
    let ok = !company.is_empty()
        && company.len() <= 64
        && company.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then_some(()).ok_or_else(|| {
        AppError::unprocessable(
            "company_uuid must be the Teamtailor company's uuid (1–64 letters, digits, '-' or '_')",
        )
    })
}

#[derive(Deserialize)]
struct KeyBody {
    api_key: SecretString,
    /// The Teamtailor company the user belongs to: a key always belongs to one.
    company_uuid: String,
}

/// `PUT /sparkhire/users/{user}/key` (admin, `sparkhire` scope).
pub async fn put_key(deps: &Deps, req: &Request, user: &str) -> AppResult<Response> {
    admin::write(&deps.platform, req, INTEGRATION, &format!("user {user}")).await?;
    check_user(user)?;
    let body: KeyBody = web::read_json(req)?;
    check_company(&body.company_uuid)?;
    let r = Recruiter { company: body.company_uuid, user: user.to_owned() };
    let name = connect(deps, &r, body.api_key.expose()).await?;
    Ok(web::json(StatusCode::OK, &json!({"user_id": user, "company_uuid": r.company, "connected_as": name})))
}

/// `DELETE /sparkhire/users/{user}/key[?company_uuid=]` (admin, `sparkhire` scope): disconnects
/// the user from that company, or from every company. Every instance stops using the key at once.
pub async fn delete_key(deps: &Deps, req: &Request, user: &str) -> AppResult<Response> {
    admin::write(&deps.platform, req, INTEGRATION, &format!("user {user}")).await?;
    check_user(user)?;
    let company = web::query(req).get("company_uuid").cloned();
    if let Some(c) = &company {
        check_company(c)?;
    }
    recruiters::remove(deps, user, company.as_deref()).await?;
    Ok(web::empty(StatusCode::NO_CONTENT))
}
