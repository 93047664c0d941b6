//! Link sessions (`POST /stackone/link-sessions`) and the link's status
//! (`GET /stackone/links/{owner}`).
//!
//! A link session is a StackOne connect session for the owner's Teamtailor account, with the
//! owner's linked account when there is one, so that StackOne's Hub re-links that account and
//! never adds a second. The customer gets a link to hirebridge's page: a ticket signed with
//! `link_signing_key`, bound to the owner, expiring with the session, carrying the session's
//! Hub link sealed ([`crate::seal`]).
use hirebridge::admin;
use hirebridge::error::AppResult;
use hirebridge::outbound::OutboundError;
use hirebridge::tickets;
use hirebridge::web::{self, Request, Response};
use hirebridge::AppError;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::stackone::{owned_by, Ambiguous};
use crate::store::{self, Link, LinkStatus};
use crate::{seal, Deps, VendorSecret, INTEGRATION, TICKET_PURPOSE, VENDOR_SECRET};

/// How long a session (and the link to hirebridge's page) lasts: five days, StackOne's own
/// example for an auth link sent to a customer (https://docs.stackone.com/guides/auth-link:
/// "5 days is 432000"), time enough to prepare a key and a dedicated user.
pub const SESSION_TTL_SECS: i64 = 5 * 24 * 3600;
pub const LINK_PATH: &str = "/stackone/link";

pub(crate) fn check_owner(owner: &str) -> AppResult<()> {
    let ok = !owner.is_empty()
        && owner.len() <= 128
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:@".contains(c));
    ok.then_some(())
        .ok_or_else(|| AppError::unprocessable("origin_owner_id must be 1–128 letters, digits or - _ . : @"))
}

/// What a ticket carries besides its owner: the owner's name and the sealed Hub link.
#[derive(Serialize, Deserialize)]
pub(crate) struct TicketLabel {
    #[serde(rename = "n")]
    pub name: String,
    #[serde(rename = "h")]
    pub hub: String,
}

#[derive(Deserialize)]
struct SessionBody {
    origin_owner_id: String,
    origin_owner_name: String,
}

/// StackOne's failure in fixed words (its own text stays in the log).
pub(crate) fn stackone_failed(e: OutboundError) -> AppError {
    tracing::warn!(error = %e, "stackone call failed");
    match e.status() {
        Some(status) if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN => AppError::upstream(
            "StackOne refused hirebridge's API key (vendor/stackone); nothing was opened. Ask devops to check it.",
        ),
        Some(status) => AppError::upstream(format!(
            "StackOne answered {}; no link session was opened. Try again in a few minutes.",
            status.as_u16()
        )),
        None => AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "StackOne could not be reached; no link session was opened. Try again in a few minutes.",
        ),
    }
}

/// `POST /stackone/link-sessions` (admin, `stackone` scope, audited).
pub async fn create(deps: &Deps, req: &Request) -> AppResult<Response> {
    let platform = &deps.platform;
    admin::require_scope(platform, req, INTEGRATION).await?;
    let body: SessionBody = web::read_json(req)?;
    let owner = body.origin_owner_id;
    check_owner(&owner)?;
    let name = body.origin_owner_name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::unprocessable("origin_owner_name must be 1–200 characters"));
    }
    admin::write(platform, req, INTEGRATION, &owner).await?;
    let vendor: VendorSecret = platform.secrets.require_json(VENDOR_SECRET).await?;
    let signing_key = tickets::signing_key(&platform.secrets).await?;

    let before = store::read(platform, &owner).await?;
    let account_id = match before
        .as_ref()
        .filter(|l| l.status != LinkStatus::Deleted)
        .and_then(|l| l.account_id.clone())
    {
        Some(known) => Some(known),
        // No account known here (never reported, or deleted): ask StackOne, so that an account
        // the owner already has is re-linked, not doubled.
        None => {
            let accounts =
                deps.stackone.accounts_of(&vendor.api_key, &owner).await.map_err(stackone_failed)?;
            match owned_by(&accounts, &owner) {
                Ok(found) => found.map(|a| a.id.clone()),
                Err(Ambiguous(n)) => {
                    return Err(AppError::conflict(format!(
                        "StackOne has {n} Teamtailor accounts for this owner, so hirebridge cannot tell which one the Hub should re-link; \
                         remove the extra accounts in StackOne and open the session again"
                    )))
                }
            }
        }
    };
    let session = deps
        .stackone
        .create_session(&vendor.api_key, &owner, name, account_id.as_deref(), SESSION_TTL_SECS)
        .await
        .map_err(stackone_failed)?;
    let expires_at = platform.now_secs() + SESSION_TTL_SECS;

    if let Some(link) = &before {
        store::retire_legacy_secret(platform, link).await?;
    }
    let mut next = before.clone().unwrap_or_else(|| Link::new(&owner, name));
    next.owner_name = name.to_owned();
    next.session_expires_at = Some(expires_at);
    next.updated_at = platform.now_secs();
    if !store::save(platform, before.as_ref(), &next, None).await? {
        return Err(AppError::conflict("this owner's link changed while the session was opened; try again"));
    }

    let label =
        TicketLabel { name: name.to_owned(), hub: seal::seal(&session.auth_link_url, &signing_key, &owner) };
    let label = serde_json::to_string(&label).map_err(AppError::internal)?;
    let ticket = tickets::issue(&signing_key, TICKET_PURPOSE, &owner, &label, expires_at);
    let url = format!("{}?ticket={ticket}", platform.config.public_url(LINK_PATH));
    tracing::info!(owner = %owner, relink = account_id.is_some(), "stackone link session opened");
    Ok(web::json(
        StatusCode::CREATED,
        &json!({"url": url, "expires_at": expires_at, "account_id": session.account_id.or(account_id)}),
    ))
}

/// `GET /stackone/links/{owner}` (admin, `stackone` scope).
pub async fn status(deps: &Deps, req: &Request, owner: &str) -> AppResult<Response> {
    let platform = &deps.platform;
    admin::require_scope(platform, req, INTEGRATION).await?;
    check_owner(owner)?;
    let link = store::read(platform, owner)
        .await?
        .ok_or_else(|| AppError::not_found("no link session was ever opened for this origin owner"))?;
    Ok(web::json(
        StatusCode::OK,
        &json!({
            "origin_owner_id": link.owner,
            "origin_owner_name": link.owner_name,
            "account_id": link.account_id,
            "status": link.status,
            "changed_at": (link.event_at > 0).then_some(link.event_at / 1000),
            "updated_at": link.updated_at,
            "session_expires_at": link.session_expires_at,
        }),
    ))
}
