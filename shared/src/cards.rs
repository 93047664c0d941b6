//! Updates of a candidate's card (partner results), at least once and never backwards.
//!
//! The words used here:
//! - **card**: one item per partner result (its `update-url`): the latest update recorded for it,
//!   whether Teamtailor has it (`sending`, `sent`, or `given_up` when Teamtailor refuses it for
//!   good), and where it stands in the order below.
//! - **update**: what one step of the work wants the card to show (a partner result).
//! - **epoch**: one run of the work behind a card, from the trigger (epoch 0) or from an
//!   operator's retry ([`new_epoch`], the next epoch). Items written before epochs existed are
//!   epoch 0. An update of a newer epoch replaces the card whatever the older one said.
//! - **step**: where an update is within its epoch: sending → sent → pending → failed →
//!   completed. A later step replaces an earlier one, so a failure never replaces a completion of
//!   its epoch, and a completion (a later attempt that succeeded) replaces a failure.
//! - **rank**: epoch and step as one number (`epoch × 8 + step`), stored as `rank` so that one
//!   conditional write compares both; items from before epochs have ranks 0–3 (3 for completed
//!   and failed alike) and read as epoch 0.
//! - **version**: when the update was made (ms); of two updates of one rank, the later wins.
//!
//! A vendor's update is recorded before it is sent, and one that ranks below what the card already
//! has is dropped; an update made after an operator's retry began joins the retry's epoch. A
//! trigger's card is sent first and recorded with the trigger's outcome (its claimed work item is
//! the record until then: a run that ends first is run again); when a newer update was recorded
//! meanwhile, the newer one is sent again. An update that could not be sent stays due, and the
//! owning function's sweep sends the latest again. An update Teamtailor refuses for good (the
//! partner result is gone, or its content invalid) is given up: one log line with
//! `event = "card_given_up"`, out of the due queue, listed by [`given_up`].
use serde::Serialize;
use serde_json::{json, Value};

use crate::error::AppError;
use crate::keys;
use crate::platform::Platform;
use crate::store::{Cond, Item, PutOutcome, DUE_AT, DUE_QUEUE, EXPIRES_AT};
use crate::teamtailor::partner_results::{refused_for_good, PartnerResult, ResultStatus};
use crate::SecretString;

const SK: &str = "CARD";
/// When a card's update was last answered by Teamtailor (ms; 0 while it was not).
const SENT_AT: &str = "sent_at";
/// The card's epoch, and when that epoch began (ms; 0 for the first).
const EPOCH: &str = "epoch";
const EPOCH_FROM: &str = "epoch_from";
/// How many ranks one epoch spans (its steps, and the place of a card carried over).
const EPOCH_SPAN: i64 = 8;
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

/// Where an update stands within its epoch.
fn step(status: ResultStatus) -> i64 {
    match status {
        ResultStatus::Sending => 0,
        ResultStatus::Sent => 1,
        ResultStatus::Pending => 2,
        ResultStatus::Failed => 3,
        ResultStatus::Completed => 4,
    }
}

/// The step of a card item's update (an unreadable one as the first).
fn step_of(item: &Item) -> i64 {
    item.attrs
        .get("result")
        .and_then(|r| r.get("status"))
        .and_then(|s| serde_json::from_value::<ResultStatus>(s.clone()).ok())
        .map_or(0, step)
}

fn epoch_of(item: &Item) -> i64 {
    item.i64(EPOCH).unwrap_or(0).max(0)
}

/// `item` as an update of `epoch`, which began at `from` (ms).
fn in_epoch(item: Item, epoch: i64, from: i64) -> Item {
    let rank = epoch.saturating_mul(EPOCH_SPAN).saturating_add(step_of(&item));
    item.with(EPOCH, epoch).with(EPOCH_FROM, from).with("rank", rank)
}

/// What became of an update.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// Recorded; Teamtailor did not take it now, the sweep sends it again (or, when Teamtailor
    /// refuses it for good, it is given up and listed by [`given_up`]).
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

/// The item of `update`, due for a retry until it is marked sent. It is of the first epoch;
/// when the card is of a later one, [`record`] and [`after_refusal`] move it to that epoch.
pub fn item(platform: &Platform, update: CardUpdate<'_>) -> Result<Item, AppError> {
    platform.partner_results.resolve(update.update_url)?;
    let now = platform.clock.now_ms();
    let item = Item::new(keys::card(update.integration, update.update_url), SK)
        .with("integration", update.integration)
        .with("update_url", update.update_url)
        .with("result", serde_json::to_value(update.result).map_err(AppError::internal)?)
        .with("version", now)
        .with("state", "sending")
        .with(SENT_AT, 0)
        .with(DUE_QUEUE, keys::due_queue(update.integration))
        .with(DUE_AT, now / 1000 + RETRY_SECS)
        .with(EXPIRES_AT, now / 1000 + 30 * 24 * 3600);
    Ok(in_epoch(item, 0, 0))
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

/// A higher rank than the stored card's, or the same rank and a version as late or later. A
/// failure replaces a failure only of its own epoch: items from before epochs rank a completion
/// as a failure, and a completion is never replaced by a failure.
fn outranks_stored(item: &Item) -> Cond {
    let (rank, version) = (item.i64("rank").unwrap_or(0), item.i64("version").unwrap_or(0));
    let mut same_rank = vec![Cond::Eq("rank", json!(rank)), Cond::Lt("version", version.saturating_add(1))];
    if rank.rem_euclid(EPOCH_SPAN) == step(ResultStatus::Failed) {
        same_rank.push(Cond::Eq(EPOCH, json!(epoch_of(item))));
    }
    Cond::Or(vec![Cond::Lt("rank", rank), Cond::And(same_rank)])
}

/// `ours`, refused because of `stored`, as an update of `stored`'s epoch: when that epoch is
/// later than ours and began before ours was made (ours then says how the work stands now, as
/// the operator's retry left it). `None` otherwise: ours is of an epoch that is over, or of the
/// card's own.
fn joined(ours: &Item, stored: &Item) -> Option<Item> {
    let epoch = epoch_of(stored);
    let from = stored.i64(EPOCH_FROM).unwrap_or(0);
    let made = ours.i64("version").unwrap_or(0);
    (epoch > epoch_of(ours) && made >= from - CLOCK_MARGIN_MS).then(|| in_epoch(ours.clone(), epoch, from))
}

/// Writes `ours` unless the card stored is newer (moving it to the card's epoch first, see
/// [`joined`]); answers what was written.
async fn place(platform: &Platform, mut ours: Item) -> Result<Option<Item>, AppError> {
    for _ in 0..3 {
        let stored = match platform.store.put(ours.clone(), Some(newer_than_stored(&ours))).await? {
            PutOutcome::Written => return Ok(Some(ours)),
            PutOutcome::Rejected(Some(stored)) => stored,
            PutOutcome::Rejected(None) => match platform.store.get(&ours.pk, SK).await? {
                Some(stored) => stored,
                None => continue,
            },
        };
        match joined(&ours, &stored) {
            Some(moved) => ours = moved,
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// Starts the next epoch of the card at `update_url` (an operator's retry, before the work runs
/// again): the card stored is kept as it is (Teamtailor shows it until the retry's first update)
/// but ranks below every update of the new epoch, and updates of the old epoch that come late
/// are dropped. Answers the new epoch (0 when there is no card yet: the retry's are the first).
pub async fn new_epoch(platform: &Platform, integration: &str, update_url: &str) -> Result<i64, AppError> {
    let pk = keys::card(integration, update_url);
    for _ in 0..5 {
        let Some(stored) = platform.store.get(&pk, SK).await? else {
            return Ok(0);
        };
        let epoch = epoch_of(&stored).saturating_add(1);
        let now = platform.clock.now_ms();
        // A new version, so that a delivery of the old one in flight does not write it back.
        let version = now.max(stored.i64("version").unwrap_or(0).saturating_add(1));
        let carried = stored
            .clone()
            .with(EPOCH, epoch)
            .with(EPOCH_FROM, now)
            .with("rank", epoch.saturating_mul(EPOCH_SPAN) - 1)
            .with("version", version);
        if platform.store.put(carried, Some(still_stored(&stored))).await? == PutOutcome::Written {
            tracing::info!(integration, card = %pk, epoch, "card epoch started");
            return Ok(epoch);
        }
    }
    Err(AppError::conflict("the candidate's card kept changing; try the retry again"))
}

/// A trigger's card, sent but refused by [`newer_and_sent_before`]: when a newer update is stored,
/// that one is sent again (ours may have arrived after it); when an older one is stored (it may
/// have arrived after ours), ours is recorded and sent again.
pub async fn after_refusal(
    platform: &Platform,
    ours: Item,
    partner_api_key: &SecretString,
) -> Result<Delivery, AppError> {
    let pk = ours.pk.clone();
    match place(platform, ours).await? {
        Some(written) => deliver(platform, written, partner_api_key).await,
        None => resend_stored(platform, &pk, partner_api_key).await,
    }
}

/// Holds while the card stored is still `item`'s version (no newer update was recorded).
pub fn still_stored(item: &Item) -> Cond {
    Cond::Eq("version", json!(item.i64("version").unwrap_or_default()))
}

/// Records `update` before it is sent (in the card's epoch); `None` when the card already has a
/// later one.
pub async fn record(platform: &Platform, update: CardUpdate<'_>) -> Result<Option<Item>, AppError> {
    place(platform, item(platform, update)?).await
}

/// Sends a card update once; answers its item as it is to be recorded now: sent, due again
/// after a delay that grows with its attempts, or given up when Teamtailor refuses it for good.
/// The caller writes it (conditionally).
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
        Err(e) if refused_for_good(&e) => {
            let integration = item.str("integration").unwrap_or_default().to_owned();
            let status = e.status.as_u16();
            tracing::error!(event = "card_given_up", integration = %integration, card = %item.pk, status, error = %e.detail, "card update given up: Teamtailor refuses it for good");
            let now = platform.clock.now_ms();
            let given_up = item
                .with("state", "given_up")
                .with("error", e.detail)
                .with("given_up_at", now / 1000)
                .with(DUE_QUEUE, given_up_queue(&integration))
                .with(DUE_AT, now / 1000);
            (given_up, Delivery::Later)
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

/// The queue (of the sparse index) of an integration's card updates that were given up.
fn given_up_queue(integration: &str) -> String {
    format!("{}#card", keys::given_up_queue(integration))
}

/// A card update Teamtailor refused for good, as the operator view lists it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GivenUpCard {
    pub update_url: String,
    /// What the card was to show (`status`, `summary`, …).
    pub result: Value,
    /// Why, in hirebridge's words with Teamtailor's status.
    pub error: String,
    /// When it was given up (Unix seconds).
    pub given_up_at: i64,
    pub epoch: i64,
}

/// The card updates of `integration` that Teamtailor refused for good, earliest first, at most
/// `limit`: read from the sparse index only. A newer update of the same card takes its place
/// (and leaves this list).
pub async fn given_up(
    platform: &Platform,
    integration: &str,
    limit: usize,
) -> Result<Vec<GivenUpCard>, AppError> {
    let items = platform.store.query_due(&given_up_queue(integration), i64::MAX, limit).await?;
    Ok(items
        .iter()
        .filter(|i| i.sk == SK && i.str("state") == Some("given_up"))
        .map(|i| GivenUpCard {
            update_url: i.str("update_url").unwrap_or_default().to_owned(),
            result: i.attrs.get("result").cloned().unwrap_or(Value::Null),
            error: i.str("error").unwrap_or_default().to_owned(),
            given_up_at: i.i64("given_up_at").unwrap_or_default(),
            epoch: epoch_of(i),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::FixedClock;
    use crate::config::Config;
    use crate::outbound::RetryPolicy;
    use crate::secrets::MemorySecretStore;
    use crate::store::{ItemStore, MemoryStore};

    const URL: &str = "https://api.teamtailor.com/partner/v1/partner-results/r1";

    fn platform() -> (Platform, Arc<MemoryStore>, Arc<FixedClock>) {
        let config =
            Config::from_lookup(|k| (k == "PUBLIC_BASE_URL").then(|| "https://hb".to_owned())).unwrap();
        let (store, clock) = (Arc::new(MemoryStore::new()), Arc::new(FixedClock::at_secs(1_700_000_000)));
        let secrets = Arc::new(MemorySecretStore::from_json(&json!({})).unwrap());
        let platform = Platform::new(config, store.clone(), secrets, RetryPolicy::default(), clock.clone());
        (platform, store, clock)
    }

    fn update(result: &PartnerResult) -> CardUpdate<'_> {
        CardUpdate { integration: "2secure", update_url: URL, result }
    }

    async fn shown(store: &MemoryStore) -> (String, i64) {
        let card = store.get(&keys::card("2secure", URL), SK).await.unwrap().expect("a card");
        (card.attrs["result"]["status"].as_str().unwrap().to_owned(), epoch_of(&card))
    }

    /// Records `status` one second after the last update.
    async fn recorded(p: &Platform, clock: &FixedClock, status: ResultStatus) -> bool {
        clock.advance_secs(1);
        record(p, update(&PartnerResult::new(status))).await.unwrap().is_some()
    }

    #[tokio::test]
    async fn within_an_epoch_a_failure_never_replaces_a_completion_but_a_completion_replaces_a_failure() {
        let (p, store, clock) = platform();
        assert!(recorded(&p, &clock, ResultStatus::Sent).await);
        assert!(recorded(&p, &clock, ResultStatus::Completed).await);
        assert!(!recorded(&p, &clock, ResultStatus::Failed).await, "a late failure is dropped");
        assert_eq!(shown(&store).await, ("completed".into(), 0));
        let (p, store, clock) = platform();
        assert!(recorded(&p, &clock, ResultStatus::Failed).await);
        assert!(!recorded(&p, &clock, ResultStatus::Pending).await, "never backwards");
        assert!(recorded(&p, &clock, ResultStatus::Completed).await, "a later success is shown");
        assert_eq!(shown(&store).await, ("completed".into(), 0));
    }

    #[tokio::test]
    async fn an_operators_retry_starts_an_epoch_whose_updates_replace_the_given_up_card_and_late_ones_of_the_old_epoch_are_dropped(
    ) {
        let (p, store, clock) = platform();
        assert!(recorded(&p, &clock, ResultStatus::Failed).await);
        clock.advance_secs(1);
        let late = item(&p, update(&PartnerResult::new(ResultStatus::Failed))).unwrap();
        clock.advance_secs(5);
        assert_eq!(new_epoch(&p, "2secure", URL).await.unwrap(), 1);
        assert_eq!(shown(&store).await, ("failed".into(), 1), "shown until the retry's first update");
        assert!(recorded(&p, &clock, ResultStatus::Sent).await);
        assert_eq!(shown(&store).await, ("sent".into(), 1));
        assert!(place(&p, late).await.unwrap().is_none(), "made before the retry: dropped");
        assert!(recorded(&p, &clock, ResultStatus::Pending).await);
        assert!(recorded(&p, &clock, ResultStatus::Completed).await);
        assert_eq!(shown(&store).await, ("completed".into(), 1));
        assert_eq!(
            new_epoch(&p, "2secure", "https://api.teamtailor.com/partner/v1/partner-results/none")
                .await
                .unwrap(),
            0
        );
    }

    #[tokio::test]
    async fn a_card_stored_before_epochs_is_of_the_first_epoch() {
        let (p, store, clock) = platform();
        let legacy = |status: &str| {
            Item::new(keys::card("2secure", URL), SK)
                .with("integration", "2secure")
                .with("update_url", URL)
                .with("result", json!({"status": status}))
                .with("rank", 3)
                .with("version", p.clock.now_ms())
                .with("state", "sent")
        };
        store.put(legacy("completed"), None).await.unwrap();
        assert!(!recorded(&p, &clock, ResultStatus::Failed).await, "its rank 3 may be a completion");
        assert!(!recorded(&p, &clock, ResultStatus::Pending).await);
        assert!(recorded(&p, &clock, ResultStatus::Completed).await);
        assert_eq!(shown(&store).await, ("completed".into(), 0));
        store.put(legacy("failed"), None).await.unwrap();
        assert_eq!(new_epoch(&p, "2secure", URL).await.unwrap(), 1);
        assert!(recorded(&p, &clock, ResultStatus::Sent).await);
        assert_eq!(shown(&store).await, ("sent".into(), 1));
    }
}
