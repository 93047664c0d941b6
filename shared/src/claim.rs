//! "Claim a row once, take it over when stale": the one conditional-write pattern behind work
//! items, hiring-team grants and job sync. A claim is an item whose `lease_until` (ms) says how
//! long its holder may take; after that anyone may take it over.
use std::time::Duration;

use serde_json::json;

use crate::clock::Clock;
use crate::store::{Cond, Item, ItemStore, PutOutcome, StoreError};

/// How a claim went.
#[derive(Debug)]
pub enum Claimed {
    /// The item is ours.
    Won,
    /// Someone holds it (or it is done): what is stored, when the store could tell.
    Held(Option<Item>),
}

/// Writes `item` if `cond` holds; otherwise answers what is stored now.
pub async fn put_or_current(store: &dyn ItemStore, item: Item, cond: Cond) -> Result<Claimed, StoreError> {
    let (pk, sk) = (item.pk.clone(), item.sk.clone());
    match store.put(item, Some(cond)).await? {
        PutOutcome::Written => Ok(Claimed::Won),
        PutOutcome::Rejected(Some(current)) => Ok(Claimed::Held(Some(current))),
        PutOutcome::Rejected(None) => Ok(Claimed::Held(store.get(&pk, &sk).await?)),
    }
}

/// Claims `item`'s key for `lease`, unless a claim is held whose lease has not ended or the item
/// is marked done (`state` = `done`). The caller marks it done with [`done`] when finished.
pub async fn once(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    item: Item,
    lease: Duration,
) -> Result<Claimed, StoreError> {
    let now = clock.now_ms();
    let item = item.with("state", "claimed").with("lease_until", now + lease.as_millis() as i64);
    let free = Cond::Or(vec![
        Cond::NotExists,
        Cond::And(vec![Cond::Eq("state", json!("claimed")), Cond::Lt("lease_until", now)]),
    ]);
    put_or_current(store, item, free).await
}

/// Marks a claimed item done, with what was learnt (`item`'s attributes).
pub async fn done(store: &dyn ItemStore, item: Item) -> Result<(), StoreError> {
    store.put(item.with("state", "done"), None).await.map(|_| ())
}

/// Whether a stored claim item is done.
pub fn is_done(item: &Item) -> bool {
    item.str("state") == Some("done")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::store::MemoryStore;

    #[tokio::test]
    async fn a_claim_is_held_until_done_or_stale() {
        let (store, clock) = (MemoryStore::new(), FixedClock::at_secs(1_000));
        let lease = Duration::from_secs(30);
        let item = || Item::new("P", "S");
        assert!(matches!(once(&store, &clock, item(), lease).await.unwrap(), Claimed::Won));
        assert!(matches!(once(&store, &clock, item(), lease).await.unwrap(), Claimed::Held(Some(_))));
        clock.advance_secs(31);
        assert!(
            matches!(once(&store, &clock, item(), lease).await.unwrap(), Claimed::Won),
            "stale: taken over"
        );
        done(&store, item().with("id", "x")).await.unwrap();
        clock.advance_secs(1_000);
        match once(&store, &clock, item(), lease).await.unwrap() {
            Claimed::Held(Some(current)) => assert!(is_done(&current) && current.str("id") == Some("x")),
            other => panic!("done stays done: {other:?}"),
        }
    }
}
