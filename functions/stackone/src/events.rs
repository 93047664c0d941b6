//! `POST /stackone/events`: StackOne's account webhooks (signed like Alva's, `X-StackOne-Signature`)
//! keep the link's status current.
use hirebridge::error::AppResult;
use hirebridge::web::{self, Request, Response};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::link::check_owner;
use crate::store::{self, Link, LinkStatus};
use crate::{Deps, VendorSecret, VENDOR_SECRET};

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
    #[serde(default)]
    origin_owner_id: Option<String>,
}

fn ignored(why: &str) -> Response {
    web::json(StatusCode::OK, &json!({ "ignored": why }))
}

pub async fn receive(deps: &Deps, req: &Request) -> AppResult<Response> {
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
    let Some(owner) = owner_of(deps, &event.data).await? else {
        return Ok(ignored("hirebridge did not link this account"));
    };
    let (pk, sk) = Link::key(&owner);
    let Some(mut link) = platform.store.get(&pk, sk).await?.as_ref().and_then(Link::from_item) else {
        return Ok(ignored("no link for this account"));
    };
    // After a relink to another account, the old account's events no longer say anything.
    if link.account_id.as_deref() != Some(event.data.id.as_str()) {
        return Ok(ignored("this account is no longer the owner's link"));
    }
    link.status = match event.event.as_str() {
        "account.deleted" => LinkStatus::Deleted,
        _ => event.data.status.as_deref().map_or(LinkStatus::Unknown, LinkStatus::parse),
    };
    link.updated_at = platform.now_secs();
    platform.store.put(link.to_item(), None).await?;
    tracing::info!(owner = %owner, status = link.status.as_str(), "stackone account status updated");
    Ok(web::json(StatusCode::OK, &json!({"origin_owner_id": owner, "status": link.status})))
}

/// The owner of the event's account: from the account index, or (for links made before the
/// index moved under `STACKONE#`) the owner the event names, checked against that owner's link.
async fn owner_of(deps: &Deps, account: &EventAccount) -> AppResult<Option<String>> {
    let (pk, sk) = store::account_key(&account.id);
    if let Some(index) = deps.platform.store.get(&pk, sk).await? {
        return Ok(index.str("origin_owner_id").map(str::to_owned));
    }
    Ok(account.origin_owner_id.clone().filter(|o| check_owner(o).is_ok()))
}
