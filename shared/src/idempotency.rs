//! Idempotency keyed on Teamtailor's `partner-event.id`, after AWS Powertools' protocol:
//! a conditional write claims the event (recording its work before any outside call), a repeat
//! gets the first outcome replayed, a concurrent copy waits for that outcome, an attempt that
//! died is taken over when its lease expires, and a failed attempt can be tried again.
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::clock::Clock;
use crate::error::AppError;
use crate::store::{Cond, Item, ItemStore, PutOutcome, DUE_AT, DUE_QUEUE, EXPIRES_AT};
use crate::web::Response;

/// What a request was answered with, stored so that repeats get the same answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Outcome {
    pub fn from_response(r: &Response) -> Self {
        Outcome {
            status: r.status().as_u16(),
            content_type: r
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("text/plain; charset=utf-8")
                .to_owned(),
            body: String::from_utf8_lossy(r.body()).into_owned(),
        }
    }

    pub fn to_response(&self) -> Response {
        let mut r = Response::new(Bytes::from(self.body.clone()));
        *r.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        if let Ok(v) = HeaderValue::from_str(&self.content_type) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    }
}

/// The result of claiming an event.
pub enum Claim {
    /// This caller owns the event and must [`Idempotency::finish`] it.
    Acquired(Lease),
    /// The event already has an outcome (or got one while we waited): answer with it.
    Replay(Outcome),
}

/// Proof of ownership of one event's record.
#[derive(Debug)]
pub struct Lease {
    pk: String,
    claim_id: String,
    scope: String,
    work: Value,
    created_at: i64,
}

impl Lease {
    pub fn work(&self) -> &Value {
        &self.work
    }
}

pub struct Idempotency {
    store: Arc<dyn ItemStore>,
    clock: Arc<dyn Clock>,
    /// How long an attempt owns its event before another may take over (above the Lambda timeout).
    pub lease: Duration,
    /// How long a concurrent copy waits for the first one's outcome.
    pub wait: Duration,
    pub poll: Duration,
    /// How long records are kept (DynamoDB TTL).
    pub retention: Duration,
}

const SK: &str = "EVENT";
const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";
const FAILED: &str = "failed";

impl Idempotency {
    pub fn new(store: Arc<dyn ItemStore>, clock: Arc<dyn Clock>) -> Self {
        Idempotency {
            store,
            clock,
            lease: Duration::from_secs(60),
            wait: Duration::from_secs(20),
            poll: Duration::from_millis(100),
            retention: Duration::from_secs(30 * 24 * 3600),
        }
    }

    fn pk(scope: &str, event_id: &str) -> String {
        format!("EVENT#{scope}#{event_id}")
    }

    /// The queue of failed events of `scope` in the sparse index, for a retry path.
    pub fn failed_queue(scope: &str) -> String {
        format!("failed#{scope}")
    }

    /// Claims `event_id` within `scope`, recording `work` (what is needed to redo it; never a
    /// credential or personnummer) before anything is sent anywhere.
    pub async fn claim(&self, scope: &str, event_id: &str, work: Value) -> Result<Claim, AppError> {
        let pk = Self::pk(scope, event_id);
        let deadline = Instant::now() + self.wait;
        loop {
            let now = self.clock.now_ms();
            let claim_id = uuid::Uuid::new_v4().to_string();
            let item = Item::new(pk.clone(), SK)
                .with("status", IN_PROGRESS)
                .with("claim_id", claim_id.clone())
                .with("lease_until", now + self.lease.as_millis() as i64)
                .with("work", work.clone())
                .with("created_at", now)
                .with(EXPIRES_AT, now / 1000 + self.retention.as_secs() as i64);
            let claimable = Cond::Or(vec![
                Cond::NotExists,
                Cond::Eq("status", json!(FAILED)),
                Cond::And(vec![Cond::Eq("status", json!(IN_PROGRESS)), Cond::Lt("lease_until", now)]),
                Cond::Lt(EXPIRES_AT, now / 1000),
            ]);
            let existing = match self.store.put(item, Some(claimable)).await? {
                PutOutcome::Written => {
                    return Ok(Claim::Acquired(Lease {
                        pk,
                        claim_id,
                        scope: scope.to_owned(),
                        work,
                        created_at: now,
                    }))
                }
                PutOutcome::Rejected(Some(item)) => Some(item),
                PutOutcome::Rejected(None) => self.store.get(&pk, SK).await?,
            };
            let Some(mut current) = existing else {
                continue;
            };
            // Someone else owns it: wait for their outcome, or for their lease to run out.
            loop {
                match current.str("status") {
                    Some(COMPLETED) | Some(FAILED) => return Ok(Claim::Replay(outcome_of(&current)?)),
                    _ if current.i64("lease_until").is_some_and(|l| l < self.clock.now_ms()) => break,
                    _ if Instant::now() >= deadline => {
                        return Err(AppError::conflict(
                            "this event is still being processed; its outcome will appear on the candidate's card",
                        ))
                    }
                    _ => {}
                }
                tokio::time::sleep(self.poll).await;
                match self.store.get(&pk, SK).await? {
                    Some(item) => current = item,
                    None => break,
                }
            }
        }
    }

    /// Records the outcome. A failed event stays recorded with its error, in the failed queue of
    /// the sparse index, and may be claimed again.
    pub async fn finish(&self, lease: Lease, outcome: &Outcome, error: Option<&str>) -> Result<(), AppError> {
        let now = self.clock.now_ms();
        let mut item = Item::new(lease.pk.clone(), SK)
            .with("status", if error.is_some() { FAILED } else { COMPLETED })
            .with("claim_id", lease.claim_id.clone())
            .with("work", lease.work)
            .with("outcome", serde_json::to_value(outcome).map_err(AppError::internal)?)
            .with("created_at", lease.created_at)
            .with("finished_at", now)
            .with(EXPIRES_AT, now / 1000 + self.retention.as_secs() as i64);
        if let Some(error) = error {
            item = item
                .with("error", error)
                .with(DUE_QUEUE, Self::failed_queue(&lease.scope))
                .with(DUE_AT, now / 1000);
        }
        match self.store.put(item, Some(Cond::Eq("claim_id", json!(lease.claim_id)))).await? {
            PutOutcome::Written => Ok(()),
            PutOutcome::Rejected(_) => {
                tracing::warn!(record = %lease.pk, "lease lost before the outcome was recorded");
                Ok(())
            }
        }
    }

    /// The stored record of an event, for inspection and retries.
    pub async fn record(&self, scope: &str, event_id: &str) -> Result<Option<Item>, AppError> {
        Ok(self.store.get(&Self::pk(scope, event_id), SK).await?)
    }
}

fn outcome_of(item: &Item) -> Result<Outcome, AppError> {
    item.attrs
        .get("outcome")
        .cloned()
        .ok_or_else(|| AppError::internal(format!("record {} has no outcome", item.pk)))
        .and_then(|v| serde_json::from_value(v).map_err(AppError::internal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::store::MemoryStore;
    use crate::web;

    fn setup() -> (Arc<MemoryStore>, Arc<FixedClock>, Idempotency) {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(FixedClock::at_secs(1_700_000_000));
        let mut idem = Idempotency::new(store.clone(), clock.clone());
        idem.wait = Duration::from_millis(300);
        idem.poll = Duration::from_millis(10);
        (store, clock, idem)
    }

    #[tokio::test]
    async fn a_repeat_gets_the_first_outcome() {
        let (_, _, idem) = setup();
        let Claim::Acquired(lease) = idem.claim("s", "e1", json!({"a": 1})).await.unwrap() else {
            panic!("first claim must be acquired")
        };
        let first = Outcome::from_response(&web::text(StatusCode::OK, "done"));
        idem.finish(lease, &first, None).await.unwrap();
        match idem.claim("s", "e1", json!({"a": 1})).await.unwrap() {
            Claim::Replay(o) => assert_eq!(o, first),
            Claim::Acquired(_) => panic!("repeat must replay"),
        }
    }

    #[tokio::test]
    async fn a_failed_attempt_is_recorded_and_retryable() {
        let (store, _, idem) = setup();
        let Claim::Acquired(lease) = idem.claim("s", "e2", json!({})).await.unwrap() else { panic!() };
        let failed = Outcome::from_response(&web::text(StatusCode::BAD_GATEWAY, "down"));
        idem.finish(lease, &failed, Some("service down")).await.unwrap();
        let record = idem.record("s", "e2").await.unwrap().unwrap();
        assert_eq!(record.str("status"), Some("failed"));
        assert_eq!(record.str("error"), Some("service down"));
        assert_eq!(store.query_due_len("failed#s").await, 1);
        assert!(matches!(idem.claim("s", "e2", json!({})).await.unwrap(), Claim::Acquired(_)));
    }

    #[tokio::test]
    async fn an_in_progress_claim_blocks_until_its_lease_expires() {
        let (_, clock, idem) = setup();
        let Claim::Acquired(_abandoned) = idem.claim("s", "e3", json!({})).await.unwrap() else { panic!() };
        let err = idem.claim("s", "e3", json!({})).await.err().expect("must wait, then give up");
        assert_eq!(err.status, 409);
        clock.advance_secs(61);
        assert!(matches!(idem.claim("s", "e3", json!({})).await.unwrap(), Claim::Acquired(_)));
    }

    impl MemoryStore {
        async fn query_due_len(&self, queue: &str) -> usize {
            use crate::store::ItemStore;
            self.query_due(queue, i64::MAX, 100).await.unwrap().len()
        }
    }
}
