//! An order's life: recorded before 2Secure is called, then Sent → Pending → Completed (or
//! Cancelled, or given up after 30 days). One transition function serves the callback and the
//! poll: statuses only move forward and repeats are no-ops, enforced by a conditional write.
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::TwoSecureApi;
use crate::{tenant_secret_name, TenantSecret, INTEGRATION};
use hirebridge::error::{AppError, AppResult};
use hirebridge::platform::Platform;
use hirebridge::store::{Cond, Item, PutOutcome, DUE_AT, DUE_QUEUE};
use hirebridge::teamtailor::api_base;
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::teamtailor::public_api::PublicApi;
use hirebridge::teamtailor::stages::move_to_next_stage;

/// The sparse index's queue of orders still open: the poll reads only these.
pub const OPEN_QUEUE: &str = "2secure#open";
pub const GIVE_UP_AFTER_SECS: i64 = 30 * 24 * 3600;
/// How many open orders one poll reads, and how many it asks 2Secure about at once.
pub const POLL_LIMIT: usize = 2000;
pub const POLL_CONCURRENCY: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Recorded, 2Secure not yet called (or the call's outcome unknown).
    Recorded,
    /// 2Secure could not be reached or refused the order.
    NotSent,
    Sent,
    Pending,
    Completed,
    Cancelled,
    /// Not finished 30 days after it was sent.
    GaveUp,
}

impl Status {
    fn rank(self) -> u8 {
        match self {
            Status::Recorded | Status::NotSent => 0,
            Status::Sent => 1,
            Status::Pending => 2,
            Status::Completed | Status::Cancelled | Status::GaveUp => 3,
        }
    }

    pub fn is_final(self) -> bool {
        self.rank() == 3
    }

    pub fn is_open(self) -> bool {
        matches!(self, Status::Sent | Status::Pending)
    }

    /// A status as 2Secure reports it.
    pub fn reported(s: &str) -> Option<Status> {
        match s {
            "sent" => Some(Status::Sent),
            "pending" => Some(Status::Pending),
            "completed" => Some(Status::Completed),
            "cancelled" | "canceled" => Some(Status::Cancelled),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Recorded => "recorded",
            Status::NotSent => "not_sent",
            Status::Sent => "sent",
            Status::Pending => "pending",
            Status::Completed => "completed",
            Status::Cancelled => "cancelled",
            Status::GaveUp => "gave_up",
        }
    }
}

/// The one transition rule: forward only, and a final status never changes.
pub fn transition(current: Status, reported: Status) -> Option<Status> {
    (!current.is_final() && reported.rank() > current.rank()).then_some(reported)
}

/// An order as recorded in DynamoDB: no personnummer, no credential.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Order {
    pub tenant: String,
    pub event_id: String,
    pub status: Status,
    pub order_id: Option<String>,
    pub candidate_id: String,
    pub job_id: Option<String>,
    pub level: String,
    pub auto_move: bool,
    pub update_url: String,
    pub teamtailor_host: Option<String>,
    pub report_url: Option<String>,
    pub created_at: i64,
    pub error: Option<String>,
    pub moved: Option<String>,
}

fn pk(tenant: &str) -> String {
    format!("TWOSECURE#{tenant}")
}

fn sk(event_id: &str) -> String {
    format!("ORDER#{event_id}")
}

fn order_index_pk(order_id: &str) -> String {
    format!("TWOSECURE_ORDER#{order_id}")
}

impl Order {
    fn to_item(&self) -> AppResult<Item> {
        let mut item = Item::new(pk(&self.tenant), sk(&self.event_id))
            .with("status", self.status.as_str())
            .with("order", serde_json::to_value(self).map_err(AppError::internal)?);
        // Only open orders are in the sparse index, so the poll never reads finished ones.
        if self.status.is_open() {
            item = item.with(DUE_QUEUE, OPEN_QUEUE).with(DUE_AT, self.created_at);
        }
        Ok(item)
    }

    fn from_item(item: &Item) -> AppResult<Order> {
        serde_json::from_value(item.attrs.get("order").cloned().unwrap_or_default())
            .map_err(AppError::internal)
    }
}

/// Writes the order if its stored status is still `expected` (`None`: it must not exist yet).
/// Answers whether it was written.
pub async fn save(platform: &Platform, order: &Order, expected: Option<Status>) -> AppResult<bool> {
    let cond = match expected {
        None => Cond::NotExists,
        Some(s) => Cond::Eq("status", json!(s.as_str())),
    };
    Ok(platform.store.put(order.to_item()?, Some(cond)).await? == PutOutcome::Written)
}

pub async fn load(platform: &Platform, tenant: &str, event_id: &str) -> AppResult<Option<Order>> {
    match platform.store.get(&pk(tenant), &sk(event_id)).await? {
        Some(item) => Ok(Some(Order::from_item(&item)?)),
        None => Ok(None),
    }
}

/// Remembers which order a 2Secure order id belongs to (callbacks name only the latter).
pub async fn index_order_id(platform: &Platform, order: &Order) -> AppResult<()> {
    let Some(order_id) = &order.order_id else {
        return Ok(());
    };
    let item = Item::new(order_index_pk(order_id), "ORDER")
        .with("tenant", order.tenant.clone())
        .with("event_id", order.event_id.clone());
    platform.store.put(item, None).await?;
    Ok(())
}

pub async fn by_order_id(platform: &Platform, order_id: &str) -> AppResult<Option<Order>> {
    let Some(index) = platform.store.get(&order_index_pk(order_id), "ORDER").await? else {
        return Ok(None);
    };
    load(platform, index.str("tenant").unwrap_or_default(), index.str("event_id").unwrap_or_default()).await
}

/// What 2Secure says about an order.
#[derive(Clone, Debug)]
pub struct Reported {
    pub status: Status,
    pub report_url: Option<String>,
}

/// Applies a reported status: at most one change, written conditionally, then its effects
/// (partner result; on completion with auto-move, the move to the next stage). Answers the
/// order's status afterwards.
pub async fn apply(platform: &Platform, mut order: Order, reported: Reported) -> AppResult<Status> {
    loop {
        let Some(next) = transition(order.status, reported.status) else {
            return Ok(order.status);
        };
        let mut updated = order.clone();
        updated.status = next;
        if let Some(url) =
            reported.report_url.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        {
            updated.report_url = Some(url.to_owned());
        }
        if !save(platform, &updated, Some(order.status)).await? {
            // A concurrent callback or poll changed it first: decide again from what is stored.
            match load(platform, &order.tenant, &order.event_id).await? {
                Some(current) => {
                    order = current;
                    continue;
                }
                None => return Err(AppError::not_found("the order record disappeared")),
            }
        }
        let mut summary_extra = None;
        if next == Status::Completed && updated.auto_move {
            let outcome = auto_move(platform, &updated).await;
            summary_extra = Some(outcome.clone());
            updated.moved = Some(outcome);
            if !save(platform, &updated, Some(next)).await? {
                tracing::warn!(event = %updated.event_id, "order changed while recording the move");
            }
        }
        let result = partner_result(&updated, summary_extra.as_deref());
        let listing = platform.listing(INTEGRATION).await?;
        if let Err(e) =
            platform.partner_results.update(&updated.update_url, &listing.partner_api_key, &result).await
        {
            tracing::warn!(event = %updated.event_id, error = %e.detail, "partner result not delivered");
        }
        tracing::info!(event = %updated.event_id, from = order.status.as_str(), to = next.as_str(), "2secure order moved on");
        return Ok(next);
    }
}

fn partner_result(order: &Order, extra: Option<&str>) -> PartnerResult {
    let with_extra = |s: &str| match extra {
        Some(e) => format!("{s} {e}"),
        None => s.to_owned(),
    };
    match order.status {
        Status::Sent => PartnerResult::new(ResultStatus::Sent).summary(format!(
            "Background check ordered from 2Secure (package {}). 2Secure e-mails the candidate its privacy notice.",
            order.level
        )),
        Status::Pending => PartnerResult::new(ResultStatus::Pending).summary("2Secure is running the background check."),
        Status::Completed => {
            let mut r = PartnerResult::new(ResultStatus::Completed).summary(with_extra(
                "2Secure has finished the background check. Finished does not mean clean: open the report to read the outcome.",
            ));
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
        Status::Recorded | Status::NotSent => PartnerResult::new(ResultStatus::Failed).summary(
            order.error.clone().unwrap_or_else(|| "The background check was not ordered.".into()),
        ),
    }
}

async fn auto_move(platform: &Platform, order: &Order) -> String {
    let Some(job_id) = order.job_id.as_deref() else {
        return "The candidate was not moved: the check was ordered without a job.".into();
    };
    let secret: Option<TenantSecret> =
        match platform.secrets.get_json(&tenant_secret_name(&order.tenant)).await {
            Ok(s) => s,
            Err(e) => return format!("The candidate was not moved ({e}); move them by hand."),
        };
    let Some(token) = secret.and_then(|s| s.teamtailor_api_token) else {
        return "The candidate was not moved: Teamtailor sent no company API key with the trigger. Move them by hand.".into();
    };
    let base = match api_base(&platform.config, order.teamtailor_host.as_deref()) {
        Ok(b) => b,
        Err(e) => return format!("The candidate was not moved ({}).", e.detail),
    };
    let api = PublicApi::new(&platform.http, base, &platform.config.teamtailor_api_version, &token);
    move_to_next_stage(&api, &order.candidate_id, job_id).await.describe()
}

/// What one scheduled poll did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PollReport {
    pub open: usize,
    pub changed: usize,
    pub gave_up: usize,
    pub errors: usize,
}

/// Asks 2Secure about every open order (and only those), a few at a time.
pub async fn poll(platform: &Platform, api: &TwoSecureApi) -> AppResult<PollReport> {
    let now = platform.now_secs();
    let open = platform.store.query_due(OPEN_QUEUE, now, POLL_LIMIT).await?;
    let mut report = PollReport { open: open.len(), ..PollReport::default() };
    let outcomes: Vec<AppResult<(bool, bool)>> = futures::stream::iter(open)
        .map(|item| async move { poll_one(platform, api, &item, now).await })
        .buffer_unordered(POLL_CONCURRENCY)
        .collect()
        .await;
    for outcome in outcomes {
        match outcome {
            Ok((changed, gave_up)) => {
                report.changed += usize::from(changed);
                report.gave_up += usize::from(gave_up);
            }
            Err(e) => {
                report.errors += 1;
                tracing::warn!(error = %e.detail, "2secure order not polled");
            }
        }
    }
    tracing::info!(
        open = report.open,
        changed = report.changed,
        gave_up = report.gave_up,
        errors = report.errors,
        "2secure poll done"
    );
    Ok(report)
}

async fn poll_one(platform: &Platform, api: &TwoSecureApi, item: &Item, now: i64) -> AppResult<(bool, bool)> {
    let order = Order::from_item(item)?;
    let before = order.status;
    if now - order.created_at > GIVE_UP_AFTER_SECS {
        let after = apply(platform, order, Reported { status: Status::GaveUp, report_url: None }).await?;
        return Ok((after != before, after == Status::GaveUp));
    }
    let Some(order_id) = order.order_id.clone() else {
        return Ok((false, false));
    };
    let secret: TenantSecret = platform.secrets.require_json(&tenant_secret_name(&order.tenant)).await?;
    let answer = api.get_order(&secret.api_key, &order_id).await?;
    let Some(status) = Status::reported(&answer.status) else {
        return Err(AppError::upstream(format!("2Secure reported an unknown status {:?}", answer.status)));
    };
    let after = apply(platform, order, Reported { status, report_url: answer.report_url }).await?;
    Ok((after != before, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn statuses_only_move_forward_and_final_ones_stay() {
        assert_eq!(transition(Sent, Pending), Some(Pending));
        assert_eq!(transition(Sent, Completed), Some(Completed));
        assert_eq!(transition(Pending, Pending), None, "a repeat is a no-op");
        assert_eq!(transition(Completed, Pending), None, "never backwards");
        assert_eq!(transition(Completed, Cancelled), None, "final stays final");
        assert_eq!(transition(Pending, Sent), None);
        assert_eq!(transition(Recorded, Sent), Some(Sent));
        assert_eq!(transition(Pending, GaveUp), Some(GaveUp));
        assert!(Sent.is_open() && Pending.is_open() && !Completed.is_open() && !NotSent.is_open());
    }
}
