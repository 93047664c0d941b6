//! "Claim a row once, take it over when stale": the one conditional-write pattern behind work
//! items, hiring-team grants and job sync. A claim is an item whose `lease_until` (ms) says how
//! long its holder may take; after that anyone may take it over. Each claim carries a token of
//! its own (`claim_id`): when the AWS SDK sends a write again whose first try had succeeded (its
//! answer was lost), the repeat's condition fails on our own claim, and the token tells it is ours.
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

/// The attribute holding a claim's token.
pub(crate) const TOKEN: &str = "claim_id";

/// Writes `item` if `cond` holds; otherwise answers what is stored now. When `item` carries a
/// claim token and what is stored carries the same, the write was ours (repeated): won.
pub async fn put_or_current(store: &dyn ItemStore, item: Item, cond: Cond) -> Result<Claimed, StoreError> {
    let (pk, sk) = (item.pk.clone(), item.sk.clone());
    let token = item.str(TOKEN).map(str::to_owned);
    let current = match store.put(item, Some(cond)).await? {
        PutOutcome::Written => return Ok(Claimed::Won),
        PutOutcome::Rejected(Some(current)) => Some(current),
        PutOutcome::Rejected(None) => store.get(&pk, &sk).await?,
    };
    match current {
        Some(current) if token.is_some() && current.str(TOKEN) == token.as_deref() => Ok(Claimed::Won),
        current => Ok(Claimed::Held(current)),
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
    let item = item
        .with("state", "claimed")
        .with("lease_until", now + lease.as_millis() as i64)
        .with(TOKEN, uuid::Uuid::new_v4().to_string());
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

    /// The store's first try wrote the item but its answer was lost; the SDK's repeat is refused.
    struct RepeatedWrite(MemoryStore);

    #[async_trait::async_trait]
    impl ItemStore for RepeatedWrite {
        async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
            self.0.get(pk, sk).await
        }
        async fn put(&self, item: Item, cond: Option<Cond>) -> Result<PutOutcome, StoreError> {
            self.0.put(item.clone(), cond.clone()).await?;
            self.0.put(item, cond).await
        }
        async fn put_all(
            &self,
            puts: Vec<(Item, Option<Cond>)>,
        ) -> Result<crate::store::AllOutcome, StoreError> {
            self.0.put_all(puts).await
        }
        async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
            self.0.delete(pk, sk).await
        }
        async fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
            self.0.query(pk, sk_prefix).await
        }
        async fn query_due(&self, queue: &str, before: i64, limit: usize) -> Result<Vec<Item>, StoreError> {
            self.0.query_due(queue, before, limit).await
        }
    }

    #[tokio::test]
    async fn a_claim_written_twice_by_a_retrying_client_is_still_ours_and_another_is_not() {
        let (store, clock) = (RepeatedWrite(MemoryStore::new()), FixedClock::at_secs(1_000));
        let lease = Duration::from_secs(30);
        assert!(matches!(once(&store, &clock, Item::new("P", "S"), lease).await.unwrap(), Claimed::Won));
        assert!(matches!(
            once(&store, &clock, Item::new("P", "S"), lease).await.unwrap(),
            Claimed::Held(Some(_))
        ));
    }
}
