//! Everything 2Secure keeps in the table, in one place: its items, their keys (every pk starts
//! with `TWOSECURE#`, the prefix `template.yaml` grants both 2Secure functions) and the order's
//! states. No personnummer and no credential is ever in an item.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | [`Order`]: an order 2Secure accepted, and how far it is | `TWOSECURE#{tenant}` | `ORDER#{event id}` |
//! | the callback index: 2Secure's order id → the order ([`index`]) | `TWOSECURE#ORDER#{order id}` | `ORDER` |
//! | the move to the next stage, claimed once ([`claim_move`]) | `TWOSECURE#{tenant}` | `MOVE#{event id}` |
//!
//! Orders that still need hirebridge (open at 2Secure, or a change whose card or move is not done)
//! are in the sparse index under [`OPEN_QUEUE`]; the poll reads only those.
use serde::{Deserialize, Serialize};
use serde_json::json;

use hirebridge::claim::{self, Claimed};
use hirebridge::error::{AppError, AppResult};
use hirebridge::platform::Platform;
use hirebridge::store::{Cond, Item, PutOutcome, DUE_AT, DUE_QUEUE};

/// The sparse index's queue of orders the poll looks at.
pub const OPEN_QUEUE: &str = "2secure#open";
const INDEX_SK: &str = "ORDER";

fn tenant_pk(tenant: &str) -> String {
    format!("TWOSECURE#{tenant}")
}

fn order_sk(event_id: &str) -> String {
    format!("ORDER#{event_id}")
}

fn index_pk(order_id: &str) -> String {
    format!("TWOSECURE#ORDER#{order_id}")
}

fn move_sk(event_id: &str) -> String {
    format!("MOVE#{event_id}")
}

/// Where an order is, as 2Secure reports it (plus our own giving up).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Sent,
    Pending,
    Completed,
    Cancelled,
    /// Not finished 30 days after it was sent: hirebridge stopped following it.
    GaveUp,
}

impl Status {
    /// How far along: a status never replaces one of a higher rank.
    pub fn rank(self) -> u8 {
        match self {
            Status::Sent => 1,
            Status::Pending => 2,
            Status::Completed | Status::Cancelled | Status::GaveUp => 3,
        }
    }

    pub fn is_final(self) -> bool {
        self.rank() == 3
    }

    pub fn is_open(self) -> bool {
        !self.is_final()
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

fn yes() -> bool {
    true
}

/// An order 2Secure accepted: no personnummer, no credential.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Order {
    pub tenant: String,
    pub event_id: String,
    pub order_id: String,
    pub status: Status,
    /// Whether what `status` asks for (its card, on completion the move) is done.
    #[serde(default = "yes")]
    pub settled: bool,
    /// When the poll looks at it next (unix seconds), while it is in the index.
    #[serde(default)]
    pub check_at: i64,
    pub candidate_id: String,
    pub job_id: Option<String>,
    pub level: String,
    pub auto_move: bool,
    pub update_url: String,
    pub teamtailor_host: Option<String>,
    pub report_url: Option<String>,
    pub created_at: i64,
    /// What became of the move to the next stage (a sentence for the card).
    #[serde(default)]
    pub moved: Option<String>,
}

impl Order {
    /// Whether the poll still has something to do with it.
    pub fn in_index(&self) -> bool {
        self.status.is_open() || !self.settled
    }

    fn to_item(&self) -> AppResult<Item> {
        let mut item = Item::new(tenant_pk(&self.tenant), order_sk(&self.event_id))
            .with("status", self.status.as_str())
            .with("order", serde_json::to_value(self).map_err(AppError::internal)?);
        if self.in_index() {
            item = item.with(DUE_QUEUE, OPEN_QUEUE).with(DUE_AT, self.check_at);
        }
        Ok(item)
    }

    pub fn from_item(item: &Item) -> AppResult<Order> {
        serde_json::from_value(item.attrs.get("order").cloned().unwrap_or_default())
            .map_err(AppError::internal)
    }
}

/// Records a new order, once: when it is recorded already (a retry got 2Secure's first answer
/// again), answers what is stored and changes nothing.
pub async fn create(platform: &Platform, order: &Order) -> AppResult<Order> {
    match claim::put_or_current(platform.store.as_ref(), order.to_item()?, Cond::NotExists).await? {
        Claimed::Won => Ok(order.clone()),
        Claimed::Held(Some(current)) => Order::from_item(&current),
        Claimed::Held(None) => Err(AppError::internal("an order was neither written nor found")),
    }
}

/// Writes `order` if the stored one still has status `expected`. Answers whether it was written.
pub async fn update(platform: &Platform, order: &Order, expected: Status) -> AppResult<bool> {
    let (item, cond) = update_put(order, expected)?;
    Ok(platform.store.put(item, Some(cond)).await? == PutOutcome::Written)
}

/// The put of [`update`], for writing together with other items.
pub fn update_put(order: &Order, expected: Status) -> AppResult<(Item, Cond)> {
    Ok((order.to_item()?, Cond::Eq("status", json!(expected.as_str()))))
}

pub async fn load(platform: &Platform, tenant: &str, event_id: &str) -> AppResult<Option<Order>> {
    match platform.store.get(&tenant_pk(tenant), &order_sk(event_id)).await? {
        Some(item) => Ok(Some(Order::from_item(&item)?)),
        None => Ok(None),
    }
}

/// Orders whose look is due, earliest first, at most `limit`: from the sparse index only.
pub async fn due(platform: &Platform, now: i64, limit: usize) -> AppResult<Vec<Order>> {
    let items = platform.store.query_due(OPEN_QUEUE, now, limit).await?;
    items.iter().map(Order::from_item).collect()
}

/// Remembers which order a 2Secure order id belongs to (callbacks name only the latter). Written
/// once: an id already recorded for another order is never taken over.
pub async fn index(platform: &Platform, order: &Order) -> AppResult<()> {
    let item = Item::new(index_pk(&order.order_id), INDEX_SK)
        .with("tenant", order.tenant.clone())
        .with("event_id", order.event_id.clone());
    match claim::put_or_current(platform.store.as_ref(), item, Cond::NotExists).await? {
        Claimed::Held(Some(current))
            if current.str("tenant") != Some(&order.tenant)
                || current.str("event_id") != Some(&order.event_id) =>
        {
            tracing::error!(event = %order.event_id, "2Secure's order id is already recorded for another order");
            Err(AppError::conflict(
                "2Secure answered with the id of an order hirebridge recorded for another trigger",
            ))
        }
        _ => Ok(()),
    }
}

/// The order a callback names: found through the index, and only when that tenant's order
/// carries this very order id.
pub async fn by_order_id(platform: &Platform, order_id: &str) -> AppResult<Option<Order>> {
    let Some(index) = platform.store.get(&index_pk(order_id), INDEX_SK).await? else {
        return Ok(None);
    };
    let (Some(tenant), Some(event_id)) = (index.str("tenant"), index.str("event_id")) else {
        return Ok(None);
    };
    let order = load(platform, tenant, event_id).await?;
    Ok(order.filter(|o| o.order_id == order_id && o.tenant == tenant))
}

/// Who moves the candidate on: at most once, whatever runs the completion again.
pub enum MoveClaim {
    /// This caller moves, then records the outcome with [`moved`].
    Ours,
    /// Done before: its outcome.
    Done(String),
    /// Begun before and never finished (the invocation ended): whether Teamtailor was changed is
    /// unknown, so it is not tried again.
    Interrupted,
}

fn move_item(order: &Order) -> Item {
    Item::new(tenant_pk(&order.tenant), move_sk(&order.event_id))
}

pub async fn claim_move(platform: &Platform, order: &Order) -> AppResult<MoveClaim> {
    let item = move_item(order).with("state", "claimed");
    Ok(match claim::put_or_current(platform.store.as_ref(), item, Cond::NotExists).await? {
        Claimed::Won => MoveClaim::Ours,
        Claimed::Held(Some(current)) if claim::is_done(&current) => {
            MoveClaim::Done(current.str("outcome").unwrap_or_default().to_owned())
        }
        Claimed::Held(_) => MoveClaim::Interrupted,
    })
}

pub async fn moved(platform: &Platform, order: &Order, outcome: &str) -> AppResult<()> {
    Ok(claim::done(platform.store.as_ref(), move_item(order).with("outcome", outcome)).await?)
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
        assert_eq!(transition(Pending, GaveUp), Some(GaveUp));
        assert!(Sent.is_open() && Pending.is_open() && !Completed.is_open() && !GaveUp.is_open());
    }

    #[test]
    fn every_key_starts_with_the_granted_prefix() {
        for key in [tenant_pk("t"), index_pk("ord_1")] {
            assert!(key.starts_with("TWOSECURE#"), "{key}");
        }
    }
}
