//! Link sessions, the Link Account page and its submission, and the link's status.
//!
//! A ticket is bound to one origin owner (its signed subject): whatever a submission carries, it
//! reads and changes only that owner's link. Its form may be submitted at most
//! `tickets::MAX_SUBMISSIONS` times and is used up once the credentials are accepted.
use hirebridge::admin;
use hirebridge::error::AppResult;
use hirebridge::idempotency::Lease;
use hirebridge::tickets::{self, Ticket};
use hirebridge::web::{self, Request, Response};
use hirebridge::AppError;
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::credentials::{self, Credentials, FieldErrors, Submitted};
use crate::page;
use crate::store::{self, Link, LinkStatus, LinkWork};
use crate::work::{self, Ran};
use crate::{Deps, INTEGRATION, TICKET_PURPOSE};

const TICKET_TTL_SECS: i64 = 30 * 60;
const LINK_PATH: &str = "/stackone/link";

pub(crate) fn check_owner(owner: &str) -> AppResult<()> {
    let ok = !owner.is_empty()
        && owner.len() <= 128
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:@".contains(c));
    ok.then_some(())
        .ok_or_else(|| AppError::unprocessable("origin_owner_id must be 1–128 letters, digits or - _ . : @"))
}

#[derive(Deserialize)]
struct SessionBody {
    origin_owner_id: String,
    origin_owner_name: String,
}

/// `POST /stackone/link-sessions` (admin, `stackone` scope, audited): a link to the Link Account
/// page, valid 30 minutes, once.
pub async fn create_session(deps: &Deps, req: &Request) -> AppResult<Response> {
    let platform = &deps.platform;
    admin::require_scope(platform, req, INTEGRATION).await?;
    let body: SessionBody = web::read_json(req)?;
    check_owner(&body.origin_owner_id)?;
    let name = body.origin_owner_name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(AppError::unprocessable("origin_owner_name must be 1–200 characters"));
    }
    admin::write(platform, req, INTEGRATION, &body.origin_owner_id).await?;
    let key = tickets::signing_key(&platform.secrets).await?;
    let expires_at = platform.now_secs() + TICKET_TTL_SECS;
    let ticket = tickets::issue(&key, TICKET_PURPOSE, &body.origin_owner_id, name, expires_at);
    let url = format!("{}?ticket={ticket}", platform.config.public_url(LINK_PATH));
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

/// A ticket problem as a page (or, for a JSON submission, as the route's error).
fn refused(e: AppError, json: bool) -> AppResult<Response> {
    if e.status.is_client_error() && !json {
        return Ok(web::html(e.status, &page::problem("This link cannot be used", &e.detail)));
    }
    Err(e)
}

/// The page's form, posted to this deployment's own address (`PUBLIC_BASE_URL`, path included).
fn form_page(
    deps: &Deps,
    raw_ticket: &str,
    ticket: &Ticket,
    values: &Submitted,
    errors: &FieldErrors,
) -> String {
    let action = deps.platform.config.public_url(LINK_PATH);
    let form = page::Form { action: &action, ticket: raw_ticket, owner_name: &ticket.label };
    page::form(&form, &values.fields, errors)
}

/// `GET /stackone/link?ticket=`.
pub async fn show(deps: &Deps, req: &Request) -> AppResult<Response> {
    let query = web::query(req);
    let raw = query.get("ticket").map(String::as_str);
    let t = match ticket(deps, raw).await {
        Ok(t) => t,
        Err(e) => return refused(e, false),
    };
    let empty = Submitted { fields: Default::default(), json: false };
    let html = form_page(deps, raw.unwrap_or_default(), &t, &empty, &FieldErrors::new());
    Ok(web::html(StatusCode::OK, &html))
}

/// `POST /stackone/link`: checks the ticket and counts the submission, checks every field, saves
/// the credentials, then creates or updates the owner's StackOne account as durable work.
pub async fn submit(deps: &Deps, req: &Request) -> AppResult<Response> {
    let form = Submitted::read(req)?;
    let checked = match ticket(deps, form.get("ticket")).await {
        Ok(t) => tickets::count_submission(deps.platform.store.as_ref(), &t).await.map(|_| t),
        Err(e) => Err(e),
    };
    let ticket = match checked {
        Ok(t) => t,
        Err(e) => return refused(e, form.json),
    };
    let credentials = match credentials::validate(deps, &form).await {
        Ok(c) => c,
        Err(errors) => return Ok(fields_refused(deps, &form, &ticket, errors)),
    };
    let (work, lease) = accept(deps, &ticket, &credentials).await?;
    let (_, ran) = work::run_and_finish(deps, lease, &work).await?;
    Ok(answer(&form, &ticket, ran))
}

fn fields_refused(deps: &Deps, form: &Submitted, ticket: &Ticket, errors: FieldErrors) -> Response {
    tracing::info!(owner = %ticket.subject, fields = ?errors.keys().collect::<Vec<_>>(), "link refused: fields to correct");
    if form.json {
        return web::json(StatusCode::UNPROCESSABLE_ENTITY, &json!({"errors": errors}));
    }
    let html = form_page(deps, form.get("ticket").unwrap_or_default(), ticket, form, &errors);
    web::html(StatusCode::UNPROCESSABLE_ENTITY, &html)
}

/// Uses the ticket up, keeps the credentials (Secrets Manager), marks the link pending with this
/// submission and records the work. If any of that fails the ticket can be used again.
async fn accept(deps: &Deps, ticket: &Ticket, credentials: &Credentials) -> AppResult<(LinkWork, Lease)> {
    let store = deps.platform.store.as_ref();
    tickets::consume(store, ticket).await?;
    let work = LinkWork {
        owner: ticket.subject.clone(),
        owner_name: ticket.label.clone(),
        submission: uuid_like(&ticket.nonce),
    };
    match save_and_record(deps, &work, credentials).await {
        Ok(lease) => Ok((work, lease)),
        Err(e) => {
            tickets::release(store, ticket).await?;
            Err(e)
        }
    }
}

/// A submission id: the ticket's nonce (one accepted submission per ticket), without anything
/// a key or an operator's id could trip on.
fn uuid_like(nonce: &str) -> String {
    nonce.chars().filter(char::is_ascii_alphanumeric).take(64).collect()
}

async fn save_and_record(deps: &Deps, work: &LinkWork, credentials: &Credentials) -> AppResult<Lease> {
    let platform = &deps.platform;
    let secret = store::credentials_secret(&work.owner);
    platform.secrets.put_json(&secret, &credentials.to_json(&work.submission)).await?;
    let (pk, sk) = Link::key(&work.owner);
    let before = platform.store.get(&pk, sk).await?.as_ref().and_then(Link::from_item);
    let link = Link {
        owner: work.owner.clone(),
        owner_name: work.owner_name.clone(),
        account_id: before.and_then(|l| l.account_id),
        status: LinkStatus::Pending,
        submission: Some(work.submission.clone()),
        updated_at: platform.now_secs(),
    };
    platform.store.put(link.to_item(), None).await?;
    work::record(deps, work).await
}

/// The answer to an accepted submission: linked; saved and to be finished automatically; or
/// refused by what StackOne holds.
fn answer(form: &Submitted, ticket: &Ticket, ran: Ran) -> Response {
    let owner_name = &ticket.label;
    match (ran, form.json) {
        (Ok(Some(a)), true) => {
            web::json(StatusCode::CREATED, &json!({"account_id": a.id, "status": a.status}))
        }
        (Ok(Some(a)), false) => web::html(StatusCode::OK, &page::connected(owner_name, &a.id, &a.status)),
        (Ok(None), true) => web::json(StatusCode::ACCEPTED, &json!({"status": LinkStatus::Pending})),
        (Ok(None), false) => web::html(StatusCode::ACCEPTED, &page::pending(owner_name)),
        (Err(e), true) if e.status.is_server_error() => web::json(
            StatusCode::ACCEPTED,
            &json!({"status": LinkStatus::Pending, "detail": "saved; hirebridge will finish linking automatically"}),
        ),
        (Err(e), false) if e.status.is_server_error() => {
            web::html(StatusCode::ACCEPTED, &page::pending(owner_name))
        }
        (Err(e), true) => e.into_response(hirebridge::error::Style::Problem),
        (Err(e), false) => web::html(e.status, &page::problem("StackOne was not changed", &e.detail)),
    }
}

/// `GET /stackone/links/{owner}` (admin, `stackone` scope).
pub async fn status(deps: &Deps, req: &Request, owner: &str) -> AppResult<Response> {
    admin::require_scope(&deps.platform, req, INTEGRATION).await?;
    check_owner(owner)?;
    let (pk, sk) = Link::key(owner);
    let link = deps
        .platform
        .store
        .get(&pk, sk)
        .await?
        .as_ref()
        .and_then(Link::from_item)
        .ok_or_else(|| AppError::not_found("this origin owner has no linked Teamtailor account"))?;
    Ok(web::json(
        StatusCode::OK,
        &json!({
            "origin_owner_id": link.owner,
            "origin_owner_name": link.owner_name,
            "account_id": link.account_id,
            "status": link.status,
            "updated_at": link.updated_at,
        }),
    ))
}
