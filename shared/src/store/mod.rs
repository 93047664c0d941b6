//! The storage port: one table of items keyed by `pk`/`sk` (docs/reference.md), a sparse index of work that
//! is due (`due_queue`, `due_at`), and TTL on `expires_at`. Items are JSON maps; conditions are a
//! small language both adapters evaluate the same way.
//!
//! Nothing that goes through this port may hold a credential or a personnummer.
mod dynamo;
mod memory;

pub use dynamo::DynamoStore;
pub use memory::MemoryStore;

use async_trait::async_trait;
use serde_json::{Map, Value};

pub type Attrs = Map<String, Value>;

/// Attribute names with a meaning to the table itself.
pub const DUE_QUEUE: &str = "due_queue";
pub const DUE_AT: &str = "due_at";
pub const EXPIRES_AT: &str = "expires_at";
/// Most items written together (DynamoDB allows 100; ours need a handful).
pub const MAX_ALL: usize = 25;

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub pk: String,
    pub sk: String,
    pub attrs: Attrs,
}

impl Item {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Item { pk: pk.into(), sk: sk.into(), attrs: Attrs::new() }
    }

    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.attrs.insert(name.to_owned(), value.into());
        self
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).and_then(Value::as_str)
    }

    pub fn i64(&self, name: &str) -> Option<i64> {
        self.attrs.get(name).and_then(Value::as_i64)
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.attrs.get(name).and_then(Value::as_bool)
    }
}

/// A condition on the item currently stored under the same key.
#[derive(Clone, Debug)]
pub enum Cond {
    /// No item is stored under the key.
    NotExists,
    /// The attribute exists and equals the value.
    Eq(&'static str, Value),
    /// The attribute exists, is a number, and is less than the value.
    Lt(&'static str, i64),
    Or(Vec<Cond>),
    And(Vec<Cond>),
}

#[derive(Debug, PartialEq)]
pub enum PutOutcome {
    Written,
    /// The condition failed; the item that made it fail, when the adapter could tell.
    Rejected(Option<Item>),
}

/// What became of writes made all together.
#[derive(Debug, PartialEq)]
pub enum AllOutcome {
    Written,
    /// Nothing was written: the conditions of these puts (their indices) failed; none named when
    /// the store cancelled the writes for another reason (a concurrent transaction).
    Rejected(Vec<usize>),
}

#[derive(Debug, thiserror::Error)]
#[error("storage failed: {0}")]
pub struct StoreError(pub String);

impl From<StoreError> for crate::AppError {
    fn from(e: StoreError) -> Self {
        crate::AppError::internal(e)
    }
}

#[async_trait]
pub trait ItemStore: Send + Sync {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError>;
    /// Writes the whole item, if `cond` (when given) holds for what is stored now.
    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<PutOutcome, StoreError>;
    /// Writes every item or none, in one round trip (a DynamoDB transaction): what a step
    /// records together with its outcome. At most [`MAX_ALL`] items, each key once.
    async fn put_all(&self, puts: Vec<(Item, Option<Cond>)>) -> Result<AllOutcome, StoreError>;
    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError>;
    /// Items of one partition whose `sk` starts with `sk_prefix`, in `sk` order.
    async fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError>;
    /// Items of the sparse index in `queue` that are due at or before `due_before`, earliest
    /// first, at most `limit`. Only items with `due_queue` set are in it: never a scan.
    async fn query_due(&self, queue: &str, due_before: i64, limit: usize) -> Result<Vec<Item>, StoreError>;
}

impl Cond {
    /// Evaluates the condition against the stored item (for the in-memory adapter, and the
    /// reference for how DynamoDB evaluates the rendered expression).
    pub fn holds(&self, current: Option<&Item>) -> bool {
        match self {
            Cond::NotExists => current.is_none(),
            Cond::Eq(name, value) => current.and_then(|i| i.attrs.get(*name)) == Some(value),
            Cond::Lt(name, value) => {
                current.and_then(|i| i.attrs.get(*name)).and_then(Value::as_i64).is_some_and(|v| v < *value)
            }
            Cond::Or(cs) => cs.iter().any(|c| c.holds(current)),
            Cond::And(cs) => cs.iter().all(|c| c.holds(current)),
        }
    }
}
