//! The storage port against DynamoDB's API (moto) and the in-memory adapter alike.
use hirebridge::store::{AllOutcome, Cond, Item, ItemStore, MemoryStore, PutOutcome};
use hirebridge_tests::World;
use serde_json::json;

/// Writes recorded together (a step's outcome with its card and what it learnt) land all
/// together or not at all, and the answer names the put whose condition failed.
async fn writes_made_together_are_all_or_nothing(store: &dyn ItemStore) {
    let id = uuid::Uuid::new_v4();
    let (a, b) = (format!("TEST#{id}#a"), format!("TEST#{id}#b"));
    assert_eq!(store.put(Item::new(&b, "S").with("version", 5), None).await.unwrap(), PutOutcome::Written);
    let both = |version: i64| {
        vec![
            (Item::new(&a, "S").with("n", 1), Some(Cond::NotExists)),
            (Item::new(&b, "S").with("version", version), Some(Cond::Lt("version", version))),
        ]
    };
    assert_eq!(store.put_all(both(4)).await.unwrap(), AllOutcome::Rejected(vec![1]));
    assert_eq!(store.get(&a, "S").await.unwrap(), None, "nothing written when one condition fails");
    assert_eq!(store.get(&b, "S").await.unwrap().unwrap().i64("version"), Some(5));
    assert_eq!(store.put_all(both(6)).await.unwrap(), AllOutcome::Written);
    assert_eq!(store.get(&a, "S").await.unwrap().unwrap().attrs.get("n"), Some(&json!(1)));
    assert_eq!(store.get(&b, "S").await.unwrap().unwrap().i64("version"), Some(6));
    assert_eq!(store.put_all(both(7)).await.unwrap(), AllOutcome::Rejected(vec![0]));
}

#[tokio::test]
async fn writes_made_together_in_dynamodb_are_all_or_nothing_and_name_the_failed_condition() {
    let w = World::new().await;
    let platform = w.another_instance().await;
    writes_made_together_are_all_or_nothing(platform.store.as_ref()).await;
}

#[tokio::test]
async fn writes_made_together_in_memory_are_all_or_nothing_and_name_the_failed_condition() {
    writes_made_together_are_all_or_nothing(&MemoryStore::new()).await;
}
