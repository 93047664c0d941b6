//! The embedded adapter: the local runner and unit tests. Same semantics as DynamoDB for what the
//! port offers.
use std::collections::BTreeMap;

use async_trait::async_trait;
use tokio::sync::Mutex;

use super::{AllOutcome, Cond, Item, ItemStore, PutOutcome, StoreError, DUE_AT, DUE_QUEUE, MAX_ALL};

#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<BTreeMap<(String, String), Item>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ItemStore for MemoryStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        Ok(self.items.lock().await.get(&(pk.to_owned(), sk.to_owned())).cloned())
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<PutOutcome, StoreError> {
        let mut items = self.items.lock().await;
        let key = (item.pk.clone(), item.sk.clone());
        let current = items.get(&key);
        if let Some(cond) = cond {
            if !cond.holds(current) {
                return Ok(PutOutcome::Rejected(current.cloned()));
            }
        }
        items.insert(key, item);
        Ok(PutOutcome::Written)
    }

    async fn put_all(&self, puts: Vec<(Item, Option<Cond>)>) -> Result<AllOutcome, StoreError> {
        if puts.len() > MAX_ALL {
            return Err(StoreError(format!("{} items written together; at most {MAX_ALL}", puts.len())));
        }
        let mut items = self.items.lock().await;
        let failed: Vec<usize> = puts
            .iter()
            .enumerate()
            .filter(|(_, (item, cond))| {
                cond.as_ref().is_some_and(|c| !c.holds(items.get(&(item.pk.clone(), item.sk.clone()))))
            })
            .map(|(i, _)| i)
            .collect();
        if !failed.is_empty() {
            return Ok(AllOutcome::Rejected(failed));
        }
        for (item, _) in puts {
            items.insert((item.pk.clone(), item.sk.clone()), item);
        }
        Ok(AllOutcome::Written)
    }

    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.items.lock().await.remove(&(pk.to_owned(), sk.to_owned()));
        Ok(())
    }

    async fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
        let items = self.items.lock().await;
        Ok(items
            .range((pk.to_owned(), String::new())..)
            .take_while(|((p, _), _)| p == pk)
            .filter(|((_, s), _)| s.starts_with(sk_prefix))
            .map(|(_, i)| i.clone())
            .collect())
    }

    async fn query_due(&self, queue: &str, due_before: i64, limit: usize) -> Result<Vec<Item>, StoreError> {
        let items = self.items.lock().await;
        let mut due: Vec<Item> = items
            .values()
            .filter(|i| i.str(DUE_QUEUE) == Some(queue))
            .filter(|i| i.i64(DUE_AT).is_some_and(|at| at <= due_before))
            .cloned()
            .collect();
        due.sort_by_key(|i| i.i64(DUE_AT));
        due.truncate(limit);
        Ok(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn conditional_put_and_prefix_query() {
        let s = MemoryStore::new();
        let a = Item::new("P", "A#1").with("status", "open");
        assert_eq!(s.put(a.clone(), Some(Cond::NotExists)).await.unwrap(), PutOutcome::Written);
        assert_eq!(
            s.put(a.clone(), Some(Cond::NotExists)).await.unwrap(),
            PutOutcome::Rejected(Some(a.clone()))
        );
        let cond = Cond::Eq("status", json!("open"));
        assert_eq!(
            s.put(a.clone().with("status", "done"), Some(cond.clone())).await.unwrap(),
            PutOutcome::Written
        );
        assert!(matches!(s.put(a.clone(), Some(cond)).await.unwrap(), PutOutcome::Rejected(_)));
        s.put(Item::new("P", "B#1"), None).await.unwrap();
        s.put(Item::new("Q", "A#2"), None).await.unwrap();
        let got = s.query("P", "A#").await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].str("status"), Some("done"));
    }

    #[tokio::test]
    async fn due_index_holds_only_items_with_a_queue() {
        let s = MemoryStore::new();
        s.put(Item::new("a", "x").with(DUE_QUEUE, "q").with(DUE_AT, 5), None).await.unwrap();
        s.put(Item::new("b", "x").with(DUE_QUEUE, "q").with(DUE_AT, 50), None).await.unwrap();
        s.put(Item::new("c", "x").with(DUE_AT, 1), None).await.unwrap();
        let due = s.query_due("q", 10, 100).await.unwrap();
        assert_eq!(due.iter().map(|i| i.pk.as_str()).collect::<Vec<_>>(), vec!["a"]);
    }
}
