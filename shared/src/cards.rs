//! Updates of a candidate's card (partner results), at least once and never backwards: one item
//! per card, with its rank and version. A vendor's update is recorded before it is sent, and one
//! that ranks below what the card already has is dropped. A trigger's card is sent first and
//! recorded with the trigger's outcome (its claimed work item is the record until then: a run
//! that ends first is run again); when a newer update was recorded meanwhile, the newer one is
//! sent again. An update that could not be sent stays due, and the owning function's sweep sends
//! the latest again.
use serde_json::json;

use crate::error::AppError;
use crate::keys;
use crate::platform::Platform;
use crate::store::{Cond, Item, PutOutcome, DUE_AT, DUE_QUEUE, EXPIRES_AT};
use crate::teamtailor::partner_results::{PartnerResult, ResultStatus};
use crate::SecretString;

const SK: &str = "CARD";
/// When a card's update was last answered by Teamtailor (ms; 0 while it was not).
const SENT_AT: &str = "sent_at";
/// How far two Lambdas' clocks may be apart.
const CLOCK_MARGIN_MS: i64 = 1000;
/// First retry of an update that could not be sent.
const RETRY_SECS: i64 = 60;

/// One update of one card.
#[derive(Clone, Copy)]
pub struct CardUpdate<'a> {
    /// The listing (`alva`, `learnster`, `2secure`, `sparkhire`).
    pub integration: &'a str,
    pub update_url: &'a str,
    pub result: &'a PartnerResult,
}

/// How far along a card is: an update never replaces one of a higher rank.
pub fn rank(status: ResultStatus) -> i64 {
    match status {
        ResultStatus::Sending => 0,
        ResultStatus::Sent => 1,
        ResultStatus::Pending => 2,
        ResultStatus::Completed | ResultStatus::Failed => 3,
    }
}

/// What became of an update.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// Recorded; Teamtailor did not take it now, the sweep sends it again.
    Later,
    /// The card already shows a later status; nothing was sent.
    Superseded,
}

/// Records `update` and sends it with the listing's partner key.
pub async fn send(
    platform: &Platform,
    update: CardUpdate<'_>,
    partner_api_key: &SecretString,
) -> Result<Delivery, AppError> {
    let Some(item) = record(platform, update).await? else {
        return Ok(Delivery::Superseded);
    };
    deliver(platform, item, partner_api_key).await
}

/// The item of `update`, due for a retry until it is marked sent.
pub fn item(platform: &Platform, update: CardUpdate<'_>) -> Result<Item, AppError> {
    platform.partner_results.resolve(update.update_url)?;
    let now = platform.clock.now_ms();
    Ok(Item::new(keys::card(update.integration, update.update_url), SK)
        .with("integration", update.integration)
        .with("update_url", update.update_url)
        .with("result", serde_json::to_value(update.result).map_err(AppError::internal)?)
        .with("rank", rank(update.result.status))
        .with("version", now)
        .with("state", "sending")
        .with(SENT_AT, 0)
        .with(DUE_QUEUE, keys::due_queue(update.integration))
        .with(DUE_AT, now / 1000 + RETRY_SECS)
        .with(EXPIRES_AT, now / 1000 + 30 * 24 * 3600))
}

/// Holds when `item` is newer than the card stored: a higher rank, or the same rank and later.
pub fn newer_than_stored(item: &Item) -> Cond {
    Cond::Or(vec![Cond::NotExists, outranks_stored(item)])
}

/// For a card sent before it is recorded (a trigger's), sent from `started_ms` on: holds when it
/// is newer than the card stored, and the stored one was not still on its way to Teamtailor when
/// ours set out (it may have arrived after ours). Clocks of two Lambdas may differ a little, so
/// "before" is taken with a margin.
pub fn newer_and_sent_before(item: &Item, started_ms: i64) -> Cond {
    let sent_before = Cond::Lt(SENT_AT, started_ms - CLOCK_MARGIN_MS);
    Cond::Or(vec![Cond::NotExists, Cond::And(vec![outranks_stored(item), sent_before])])
}

/// A higher rank than the stored card's, or the same rank and a version as late or later.
fn outranks_stored(item: &Item) -> Cond {
    let (rank, version) = (item.i64("rank").unwrap_or(0), item.i64("version").unwrap_or(0));
    Cond::Or(vec![
        Cond::Lt("rank", rank),
        Cond::And(vec![Cond::Eq("rank", json!(rank)), Cond::Lt("version", version + 1)]),
    ])
}

/// A trigger's card, sent but refused by [`newer_and_sent_before`]: when a newer update is stored,
/// that one is sent again (ours may have arrived after it); when an older one is stored (it may
/// have arrived after ours), ours is recorded and sent again.
pub async fn after_refusal(
    platform: &Platform,
    ours: Item,
    partner_api_key: &SecretString,
) -> Result<Delivery, AppError> {
    match platform.store.put(ours.clone(), Some(newer_than_stored(&ours))).await? {
        PutOutcome::Written => deliver(platform, ours, partner_api_key).await,
        PutOutcome::Rejected(_) => resend_stored(platform, &ours.pk, partner_api_key).await,
    }
}

/// Holds while the card stored is still `item`'s version (no newer update was recorded).
pub fn still_stored(item: &Item) -> Cond {
    Cond::Eq("version", json!(item.i64("version").unwrap_or_default()))
}

/// Records `update` before it is sent; `None` when the card already has a later one.
pub async fn record(platform: &Platform, update: CardUpdate<'_>) -> Result<Option<Item>, AppError> {
    let item = item(platform, update)?;
    let newer = newer_than_stored(&item);
    match platform.store.put(item.clone(), Some(newer)).await? {
        PutOutcome::Written => Ok(Some(item)),
        PutOutcome::Rejected(_) => Ok(None),
    }
}

/// Sends a card update once; answers its item as it is to be recorded now: sent, or due again
/// after a delay that grows with its attempts. The caller writes it (conditionally).
pub async fn put(platform: &Platform, item: Item, partner_api_key: &SecretString) -> (Item, Delivery) {
    let result = item.attrs.get("result").cloned().unwrap_or_default();
    let update_url = item.str("update_url").unwrap_or_default().to_owned();
    match platform.partner_results.update_raw(&update_url, partner_api_key, &result).await {
        Ok(()) => {
            let mut sent = item;
            sent.attrs.remove(DUE_QUEUE);
            sent.attrs.remove(DUE_AT);
            (sent.with("state", "sent").with(SENT_AT, platform.clock.now_ms()), Delivery::Delivered)
        }
        Err(e) => {
            tracing::warn!(error = %e.detail, "card update not delivered; the sweep sends it again");
            let attempts = item.i64("attempts").unwrap_or(0) + 1;
            let delay = RETRY_SECS.saturating_mul(1 << attempts.min(6));
            let queue = keys::due_queue(item.str("integration").unwrap_or_default());
            let retry = item
                .with("attempts", attempts)
                .with(DUE_QUEUE, queue)
                .with(DUE_AT, platform.clock.now_secs() + delay);
            (retry, Delivery::Later)
        }
    }
}

/// Sends the card stored under `pk` again: a newer update was recorded while an older one was on
/// its way, and may have reached Teamtailor after it.
pub async fn resend_stored(
    platform: &Platform,
    pk: &str,
    partner_api_key: &SecretString,
) -> Result<Delivery, AppError> {
    match platform.store.get(pk, SK).await? {
        Some(stored) => deliver(platform, stored, partner_api_key).await,
        None => Ok(Delivery::Superseded),
    }
}

/// Sends a recorded update and marks it sent. When a newer update was recorded while this one was
/// on its way (and may have arrived after it), the newer one is sent again, so the card ends on it.
async fn deliver(
    platform: &Platform,
    item: Item,
    partner_api_key: &SecretString,
) -> Result<Delivery, AppError> {
    let (pk, mut item) = (item.pk.clone(), item);
    for _ in 0..3 {
        let (unchanged, sent_version) = (still_stored(&item), item.i64("version"));
        let (marked, delivery) = put(platform, item, partner_api_key).await;
        match platform.store.put(marked, Some(unchanged)).await? {
            PutOutcome::Written => return Ok(delivery),
            // Another update was stored while ours was on its way (even one already marked sent
            // may have reached Teamtailor before ours): the stored one is sent again.
            PutOutcome::Rejected(_) => match platform.store.get(&pk, SK).await? {
                Some(stored) if stored.i64("version") != sent_version => item = stored,
                _ => return Ok(Delivery::Delivered),
            },
        }
    }
    Ok(Delivery::Later)
}

/// The sweep's part: sends again the due card updates among `items` (others are ignored).
pub async fn redeliver_due(platform: &Platform, items: &[Item]) -> Result<usize, AppError> {
    let mut sent = 0;
    for item in items.iter().filter(|i| i.sk == SK) {
        let integration = item.str("integration").unwrap_or_default();
        let listing = platform.listing(integration).await?;
        if deliver(platform, item.clone(), &listing.partner_api_key).await? == Delivery::Delivered {
            sent += 1;
        }
    }
    Ok(sent)
}
