//! An order's life after 2Secure accepted it: Sent → Pending → Completed (or Cancelled, or given
//! up after 30 days). The callback and the poll report a status to [`apply`]; a change is written
//! once (forward only, conditionally), then [`settle`] does what it asks: on completion the move
//! to the next stage (at most once), then the card, landed as 2Secure's event. An order whose
//! change was not settled (the invocation ended) stays in the poll's index until it is.
use hirebridge::cards::{self, CardUpdate};
use hirebridge::error::AppResult;
use hirebridge::platform::Platform;
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::teamtailor::public_api::PublicApi;
use hirebridge::teamtailor::stages::move_to_next_stage;
use hirebridge::teamtailor::Stack;
use hirebridge::vendor_event::{self, VendorEvent};
use hirebridge::AppError;

use crate::store::{self, MoveClaim, Order, Status};
use crate::{tenant_secret_name, TenantSecret, INTEGRATION};

/// How long a change may take to settle before the poll settles it instead.
pub const SETTLE_LEASE_SECS: i64 = 120;
/// How often the poll asks 2Secure about an open order (a little under the 5-minute schedule).
pub const POLL_EVERY_SECS: i64 = 240;

/// What 2Secure says about an order.
#[derive(Clone, Debug)]
pub struct Reported {
    pub status: Status,
    pub report_url: Option<String>,
}

/// Applies what 2Secure reported. Answers the order's status afterwards.
pub async fn apply(platform: &Platform, mut order: Order, reported: &Reported) -> AppResult<Status> {
    loop {
        let Some(next) = store::transition(order.status, reported.status) else {
            return Ok(order.status);
        };
        let before = order.status;
        let mut changed = order.clone();
        changed.status = next;
        changed.settled = false;
        changed.check_at = platform.now_secs() + SETTLE_LEASE_SECS;
        if let Some(url) = reported.report_url.as_deref().filter(|u| u.starts_with("https://")) {
            changed.report_url = Some(url.to_owned());
        }
        if store::update(platform, &changed, before).await? {
            tracing::info!(event = %changed.event_id, from = before.as_str(), to = next.as_str(), "2secure order moved on");
            settle(platform, changed).await?;
            return Ok(next);
        }
        // A concurrent callback or poll changed it first: decide again from what is stored.
        order = store::load(platform, &order.tenant, &order.event_id)
            .await?
            .ok_or_else(|| AppError::not_found("the order record disappeared"))?;
    }
}

/// Does what the order's status asks, once: the move on completion, then the card. Marks the
/// order settled (out of the index when final, else due for the next poll).
pub async fn settle(platform: &Platform, mut order: Order) -> AppResult<()> {
    if order.status == Status::Completed && order.auto_move && order.moved.is_none() {
        order.moved = Some(move_once(platform, &order).await?);
        store::update(platform, &order, order.status).await?;
    }
    let result = card(&order);
    let id = format!("{}.{}", order.order_id, order.status.as_str());
    let event = VendorEvent { integration: INTEGRATION, tenant: &order.tenant, id: &id };
    let update = CardUpdate { integration: INTEGRATION, update_url: &order.update_url, result: &result };
    order.settled = true;
    order.check_at = platform.now_secs() + POLL_EVERY_SECS;
    // Settled with the card's outcome, while the order still has this status.
    let (settled, unchanged) = store::update_put(&order, order.status)?;
    let landed =
        vendor_event::land_recording(platform, event, update, vec![(settled, Some(unchanged))]).await?;
    if !landed.response.status().is_success() {
        return Err(AppError::upstream(
            "the card update could not be recorded; the next poll of 2Secure's orders tries again",
        ));
    }
    if landed.recorded {
        return Ok(());
    }
    // Landed before, or the order moved on meanwhile (its card may have been overtaken by ours).
    store::update(platform, &order, order.status).await?;
    resend_if_overtaken(platform, &order).await
}

/// Our card may have reached Teamtailor after a newer status's (a `pending` callback racing a
/// `completed` poll): when the order has moved on meanwhile, its card is sent once more.
async fn resend_if_overtaken(platform: &Platform, sent: &Order) -> AppResult<()> {
    let Some(now) = store::load(platform, &sent.tenant, &sent.event_id).await? else {
        return Ok(());
    };
    if now.status.rank() <= sent.status.rank() {
        return Ok(());
    }
    let listing = platform.listing(INTEGRATION).await?;
    let result = card(&now);
    let update = CardUpdate { integration: INTEGRATION, update_url: &now.update_url, result: &result };
    cards::send(platform, update, &listing.partner_api_key).await.map(|_| ())
}

/// The card for an order's status. Completed does not mean clean, and says so.
pub fn card(order: &Order) -> PartnerResult {
    match order.status {
        Status::Sent => PartnerResult::new(ResultStatus::Sent).summary(format!(
            "Background check ordered from 2Secure (package {}). 2Secure e-mails the candidate its privacy notice.",
            order.level
        )),
        Status::Pending => PartnerResult::new(ResultStatus::Pending).summary("2Secure is running the background check."),
        Status::Completed => {
            let mut summary = "2Secure has finished the background check. Finished does not mean clean: open the report to read the outcome.".to_owned();
            if let Some(moved) = &order.moved {
                summary = format!("{summary} {moved}");
            }
            let mut r = PartnerResult::new(ResultStatus::Completed).summary(summary);
            if let Some(url) = &order.report_url {
                r = r.url(url.clone()).attachment(url.clone(), "View report");
            }
            r
        }
        Status::Cancelled => PartnerResult::new(ResultStatus::Failed)
            .summary("2Secure cancelled the background check order; order it again if it is still needed."),
        Status::GaveUp => PartnerResult::new(ResultStatus::Failed).summary(
            "2Secure had not finished the background check 30 days after it was ordered, so hirebridge stopped following it. Check the order in 2Secure's portal, or order it again.",
        ),
    }
}

/// Moves the candidate on, at most once whatever runs the completion again.
async fn move_once(platform: &Platform, order: &Order) -> AppResult<String> {
    Ok(match store::claim_move(platform, order).await? {
        MoveClaim::Done(outcome) => outcome,
        MoveClaim::Interrupted => "hirebridge was interrupted while moving the candidate to the next stage; check their stage in Teamtailor.".into(),
        MoveClaim::Ours => {
            let outcome = auto_move(platform, order).await;
            store::moved(platform, order, &outcome).await?;
            outcome
        }
    })
}

async fn auto_move(platform: &Platform, order: &Order) -> String {
    let Some(job_id) = order.job_id.as_deref() else {
        return "The candidate was not moved: the check was ordered without a job.".into();
    };
    let secret: Option<TenantSecret> = match platform.secrets.get_json(&tenant_secret_name(&order.tenant)).await {
        Ok(s) => s,
        Err(_) => return "The candidate was not moved: hirebridge could not read the company's Teamtailor key. Move them by hand.".into(),
    };
    let Some(token) = secret.and_then(|s| s.teamtailor_api_token) else {
        return "The candidate was not moved: Teamtailor sent no company API key with the trigger. Move them by hand.".into();
    };
    let stack =
        Stack::of_company(&platform.config, Some(&order.update_url), order.teamtailor_host.as_deref());
    let base = platform.config.teamtailor_base(stack);
    let api = PublicApi::new(&platform.http, base, &platform.config.teamtailor_api_version, &token);
    move_to_next_stage(&api, &order.candidate_id, job_id).await.describe()
}
