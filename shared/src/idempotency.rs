//! Work items keyed on an event (Teamtailor's `partner-event.id`, or a vendor's event id), after
//! AWS Powertools' idempotency protocol: a conditional write claims the event and records its work
//! before any outside call; a repeat gets the first outcome replayed; a concurrent copy waits for
//! it; an attempt that died is taken over when its lease ends. Work that failed, and claims whose
//! lease ended, are in the sparse `due` index until the owning function's sweep runs them again
//! (after `HIREBRIDGE_RETRY_SCHEDULE`'s delays) or gives them up.
//!
//! Glossary (one word per concept, here and in [`crate::trigger`] and [`crate::vendor_event`]):
//! - **work item**: one event's record (`EVENT#…`): what to redo, its state, its outcome.
//! - **claim**: the conditional write that makes one caller the owner of a work item; it carries
//!   a token (`claim_id`) that tells a repeat of our own write from a competing one.
//! - **lease**: how long a claim holds (`lease_until`); after it anyone may take the item over.
//! - **attempt**: one run of the work, counted from 1; only a run that may call out is counted.
//! - **due**: in the sparse index, for the sweep to run now (failed after its delay, or a claim
//!   whose lease ended).
//! - **given up**: no attempt is left (or none can mend it); only an operator's retry runs it.
//! - **sweep**: the scheduled run of an integration's due work, then its undelivered cards,
//!   within the invocation's time.
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::claim::{self, Claimed};
use crate::clock::Clock;
use crate::config::DEFAULT_RETRY_SCHEDULE;
use crate::error::AppError;
use crate::keys;
use crate::store::{AllOutcome, Cond, Item, ItemStore, PutOutcome, DUE_AT, DUE_QUEUE, EXPIRES_AT};
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

/// Where a work item is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkState {
    InProgress,
    Completed,
    /// Failed; due again after the next delay of the retry schedule.
    Failed,
    /// Failed after the last retry; only an admin retry runs it again.
    GivenUp,
}

impl WorkState {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkState::InProgress => "in_progress",
            WorkState::Completed => "completed",
            WorkState::Failed => "failed",
            WorkState::GivenUp => "given_up",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [WorkState::InProgress, WorkState::Completed, WorkState::Failed, WorkState::GivenUp]
            .into_iter()
            .find(|w| w.as_str() == s)
    }
}

/// How an attempt ended.
#[derive(Clone, Debug)]
pub enum Finish {
    Completed,
    /// Failed; retried after the schedule's next delay, or given up when none is left.
    Failed(String),
    /// Failed in a way a retry cannot mend.
    GivenUp(String),
}

impl Finish {
    /// Completed without an error, else failed (and retried).
    pub fn from_error(error: Option<String>) -> Self {
        error.map_or(Finish::Completed, Finish::Failed)
    }
}

/// How [`Idempotency::finish_with`] went.
#[derive(Debug)]
pub struct Finished {
    pub state: WorkState,
    /// The puts of `with` (their indices) whose condition failed: not written.
    pub refused: Vec<usize>,
}

/// The result of claiming an event.
pub enum Claim {
    /// This caller owns the event and must [`Idempotency::finish`] it.
    Acquired(Lease),
    /// The event already has an outcome (or got one while we waited): answer with it.
    Replay(Outcome),
}

/// Proof of ownership of one work item.
#[derive(Debug)]
pub struct Lease {
    pk: String,
    claim_id: String,
    integration: String,
    work: Value,
    created_at: i64,
    /// This attempt's number, the first being 1 (an operator's retry starts again at 1).
    pub attempt: u32,
    /// An earlier attempt ran, and may have reached the service.
    pub earlier: bool,
}

impl Lease {
    pub fn work(&self) -> &Value {
        &self.work
    }
}

/// A stored work item, as the sweep and the operator view read it.
#[derive(Clone, Debug)]
pub struct WorkRecord {
    pub pk: String,
    pub id: String,
    pub state: WorkState,
    pub attempts: u32,
    pub work: Value,
    pub error: Option<String>,
    pub due_at: Option<i64>,
    pub claim_id: String,
    pub lease_until: i64,
    created_at: i64,
}

impl WorkRecord {
    /// A work item as stored; `None` for any other item.
    pub fn from_item(item: &Item) -> Option<Self> {
        if item.sk != SK {
            return None;
        }
        Some(WorkRecord {
            pk: item.pk.clone(),
            id: item.str("event_id").unwrap_or_default().to_owned(),
            state: WorkState::parse(item.str("status")?)?,
            attempts: item.i64("attempts").unwrap_or(1).clamp(0, 1000) as u32,
            work: item.attrs.get("work").cloned().unwrap_or(Value::Null),
            error: item.str("error").map(str::to_owned),
            due_at: item.i64(DUE_AT),
            claim_id: item.str(claim::TOKEN).unwrap_or_default().to_owned(),
            lease_until: item.i64("lease_until").unwrap_or(0),
            created_at: item.i64("created_at").unwrap_or(0),
        })
    }
}

pub struct Idempotency {
    store: Arc<dyn ItemStore>,
    clock: Arc<dyn Clock>,
    /// How long an attempt owns its event when the invocation's deadline is unknown.
    pub lease: Duration,
    /// How long a concurrent copy waits for the first one's outcome.
    pub wait: Duration,
    pub poll: Duration,
    /// How long records are kept (DynamoDB TTL).
    pub retention: Duration,
    /// Seconds before each automatic retry; after the last the work is given up.
    pub retry_schedule: Vec<u64>,
}

const SK: &str = "EVENT";
/// A lease outlives its invocation's deadline by this much, so that the invocation can still
/// record its outcome and nobody takes over work that is being finished.
const LEASE_GRACE: Duration = Duration::from_secs(5);

impl Idempotency {
    pub fn new(store: Arc<dyn ItemStore>, clock: Arc<dyn Clock>) -> Self {
        Idempotency {
            store,
            clock,
            lease: Duration::from_secs(60),
            wait: Duration::from_secs(20),
            poll: Duration::from_millis(100),
            retention: Duration::from_secs(30 * 24 * 3600),
            retry_schedule: DEFAULT_RETRY_SCHEDULE.to_vec(),
        }
    }

    /// The lease of an attempt starting now: to the invocation's deadline (when the runtime gave
    /// one) plus a grace, else the default.
    fn lease_until(&self, now_ms: i64) -> i64 {
        let lease = crate::outbound::time_left()
            .map(|left| left + crate::lambda::OUTCOME_MARGIN + LEASE_GRACE)
            .unwrap_or(self.lease);
        now_ms + lease.as_millis() as i64
    }

    fn claim_item(
        &self,
        pk: &str,
        event_id: &str,
        integration: &str,
        work: &Value,
        attempt: u32,
    ) -> (Item, String, i64) {
        let now = self.clock.now_ms();
        let claim_id = uuid::Uuid::new_v4().to_string();
        let lease_until = self.lease_until(now);
        let item = Item::new(pk, SK)
            .with("status", WorkState::InProgress.as_str())
            .with("event_id", event_id)
            .with(claim::TOKEN, claim_id.clone())
            .with("lease_until", lease_until)
            .with("attempts", attempt)
            .with("work", work.clone())
            .with("created_at", now)
            // Due when the lease ends: an invocation that dies leaves its work to the sweep.
            .with(DUE_QUEUE, keys::due_queue(integration))
            .with(DUE_AT, lease_until / 1000 + 1)
            .with(EXPIRES_AT, now / 1000 + self.retention.as_secs() as i64);
        (item, claim_id, now)
    }

    /// Claims `event_id` within `scope` (`{integration}#{tenant}`), recording `work` (what is
    /// needed to redo it; never a credential or personnummer) before anything is sent anywhere.
    /// Work that failed, or whose lease ended, is taken over, and [`Lease::earlier`] tells the work
    /// that an earlier attempt may have reached the service.
    pub async fn claim(&self, scope: &str, event_id: &str, work: Value) -> Result<Claim, AppError> {
        let pk = keys::event(scope, event_id);
        let integration = scope.split('#').next().unwrap_or(scope).to_owned();
        let deadline = Instant::now() + self.wait;
        // `None`: a new event; else the item being taken over, as it was read.
        let mut over: Option<Item> = None;
        loop {
            // A delivery starts the retry count again (as an operator's retry does); only the
            // sweep's re-runs count up the schedule.
            let attempt = 1;
            let (item, claim_id, now) = self.claim_item(&pk, event_id, &integration, &work, attempt);
            let claimable = match &over {
                None => Cond::Or(vec![Cond::NotExists, Cond::Lt(EXPIRES_AT, now / 1000)]),
                // Still as read: failed, or in progress with its lease over (not finished since).
                Some(held) => {
                    let status = held.str("status").unwrap_or_default();
                    let mut same = vec![
                        Cond::Eq(claim::TOKEN, json!(held.str(claim::TOKEN).unwrap_or_default())),
                        Cond::Eq("status", json!(status)),
                    ];
                    if status == WorkState::InProgress.as_str() {
                        same.push(Cond::Lt("lease_until", now));
                    }
                    Cond::And(same)
                }
            };
            let current = match claim::put_or_current(self.store.as_ref(), item, claimable).await? {
                Claimed::Won => {
                    return Ok(Claim::Acquired(Lease {
                        pk,
                        claim_id,
                        integration,
                        work,
                        created_at: now,
                        attempt,
                        earlier: over.is_some(),
                    }))
                }
                Claimed::Held(current) => current,
            };
            over = None;
            let Some(mut current) = current else { continue };
            // Someone else owns it: wait for their outcome, or for their lease to run out.
            loop {
                match current.str("status").and_then(WorkState::parse) {
                    Some(WorkState::Completed | WorkState::GivenUp) => {
                        return Ok(Claim::Replay(outcome_of(&current)?))
                    }
                    Some(WorkState::Failed) => {
                        over = Some(current);
                        break;
                    }
                    _ if current.i64("lease_until").is_some_and(|l| l < self.clock.now_ms()) => {
                        over = Some(current);
                        break;
                    }
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

    /// [`Idempotency::claim`] of a new event, writing `with` in the same round trip; answers
    /// whether `with` was written. When the event is not new, or a condition of `with` fails,
    /// nothing of `with` is written and the event is claimed on its own.
    pub async fn claim_with(
        &self,
        scope: &str,
        event_id: &str,
        work: Value,
        with: Vec<(Item, Option<Cond>)>,
    ) -> Result<(Claim, bool), AppError> {
        if with.is_empty() {
            return Ok((self.claim(scope, event_id, work).await?, false));
        }
        let pk = keys::event(scope, event_id);
        let integration = scope.split('#').next().unwrap_or(scope).to_owned();
        let (item, claim_id, now) = self.claim_item(&pk, event_id, &integration, &work, 1);
        let new = Cond::Or(vec![Cond::NotExists, Cond::Lt(EXPIRES_AT, now / 1000)]);
        let mut all = vec![(item, Some(new))];
        all.extend(with);
        if self.store.put_all(all).await? == AllOutcome::Written {
            let lease =
                Lease { pk, claim_id, integration, work, created_at: now, attempt: 1, earlier: false };
            return Ok((Claim::Acquired(lease), true));
        }
        Ok((self.claim(scope, event_id, work).await?, false))
    }

    /// Claims a stored item again (the sweep, or an admin retry): only if it is still as it was
    /// read, so that two sweeps never run the same work. `by_hand` restarts the retry count.
    pub async fn claim_again(&self, record: &WorkRecord, by_hand: bool) -> Result<Option<Lease>, AppError> {
        let integration =
            record.pk.trim_start_matches("EVENT#").split('#').next().unwrap_or_default().to_owned();
        let attempt = if by_hand { 1 } else { record.attempts + 1 };
        let (item, claim_id, now) =
            self.claim_item(&record.pk, &record.id, &integration, &record.work, attempt);
        let item = item.with("created_at", record.created_at);
        let same = Cond::Eq(claim::TOKEN, json!(record.claim_id));
        let runnable = match record.state {
            WorkState::InProgress => Cond::Lt("lease_until", now),
            WorkState::Failed => Cond::Eq("status", json!(WorkState::Failed.as_str())),
            WorkState::GivenUp if by_hand => Cond::Eq("status", json!(WorkState::GivenUp.as_str())),
            _ => return Ok(None),
        };
        match claim::put_or_current(self.store.as_ref(), item, Cond::And(vec![same, runnable])).await? {
            Claimed::Won => Ok(Some(Lease {
                pk: record.pk.clone(),
                claim_id,
                integration,
                work: record.work.clone(),
                created_at: record.created_at,
                attempt,
                earlier: true,
            })),
            Claimed::Held(_) => Ok(None),
        }
    }

    /// The delay before the retry after `attempt`, or `None` when the work is to be given up.
    pub fn retry_after(&self, attempt: u32) -> Option<u64> {
        self.retry_schedule.get(attempt.saturating_sub(1) as usize).copied()
    }

    /// Whether `attempt` comes after the last one the schedule allows: the attempts before it
    /// ended without recording an outcome (their invocations crashed), and it is given up.
    pub(crate) fn past_last(&self, attempt: u32) -> bool {
        attempt as usize > self.retry_schedule.len() + 1
    }

    /// Gives a claimed item back uncharged: it never got to call out (the sweep's time ran out
    /// first). It is due again at once, with the attempts it had.
    pub(crate) async fn release(&self, lease: Lease, why: &str) -> Result<(), AppError> {
        let now = self.clock.now_ms();
        let item = Item::new(lease.pk.clone(), SK)
            .with("status", WorkState::Failed.as_str())
            .with("event_id", lease.pk.rsplit('#').next().unwrap_or_default())
            .with(claim::TOKEN, lease.claim_id.clone())
            .with("attempts", lease.attempt.saturating_sub(1))
            .with("work", lease.work)
            .with("error", why)
            .with("created_at", lease.created_at)
            .with(DUE_QUEUE, keys::due_queue(&lease.integration))
            .with(DUE_AT, now / 1000)
            .with(EXPIRES_AT, now / 1000 + self.retention.as_secs() as i64);
        let ours = Cond::Eq(claim::TOKEN, json!(lease.claim_id));
        if let PutOutcome::Rejected(_) = self.store.put(item, Some(ours)).await? {
            tracing::warn!(record = %lease.pk, "lease lost before the item was given back");
        }
        Ok(())
    }

    /// Records how the attempt ended. Failed work is due again after the schedule's delay (or
    /// given up when the schedule is used up); given-up work leaves the due queue for its own.
    pub async fn finish(
        &self,
        lease: Lease,
        outcome: &Outcome,
        finish: Finish,
    ) -> Result<WorkState, AppError> {
        Ok(self.finish_with(lease, outcome, finish, Vec::new()).await?.state)
    }

    /// [`Idempotency::finish`], writing `with` (what the work learnt, its card) in the same
    /// round trip. A put of `with` whose condition fails is left out and named in the answer;
    /// the others are written all the same.
    pub async fn finish_with(
        &self,
        lease: Lease,
        outcome: &Outcome,
        finish: Finish,
        with: Vec<(Item, Option<Cond>)>,
    ) -> Result<Finished, AppError> {
        let now = self.clock.now_ms();
        let (state, error, due) = match finish {
            Finish::Completed => (WorkState::Completed, None, None),
            Finish::Failed(e) => match self.retry_after(lease.attempt) {
                Some(delay) => (
                    WorkState::Failed,
                    Some(e),
                    Some((keys::due_queue(&lease.integration), now / 1000 + delay as i64)),
                ),
                None => (
                    WorkState::GivenUp,
                    Some(e),
                    Some((keys::given_up_queue(&lease.integration), now / 1000)),
                ),
            },
            Finish::GivenUp(e) => {
                (WorkState::GivenUp, Some(e), Some((keys::given_up_queue(&lease.integration), now / 1000)))
            }
        };
        let mut item = Item::new(lease.pk.clone(), SK)
            .with("status", state.as_str())
            .with("event_id", lease.pk.rsplit('#').next().unwrap_or_default())
            .with(claim::TOKEN, lease.claim_id.clone())
            .with("attempts", lease.attempt)
            .with("work", lease.work)
            .with("outcome", serde_json::to_value(outcome).map_err(AppError::internal)?)
            .with("created_at", lease.created_at)
            .with("finished_at", now)
            .with(EXPIRES_AT, now / 1000 + self.retention.as_secs() as i64);
        if let Some(error) = error {
            item = item.with("error", error);
        }
        if let Some((queue, at)) = due {
            item = item.with(DUE_QUEUE, queue).with(DUE_AT, at);
        }
        if state == WorkState::GivenUp {
            // `EVENT#{integration}#{tenant}#…#{event id}`: the tenant is the company (or account).
            let mut parts = lease.pk.split('#').skip(2);
            let (company, event_id) =
                (parts.next().unwrap_or_default(), lease.pk.rsplit('#').next().unwrap_or_default());
            tracing::error!(event = "work_given_up", integration = %lease.integration, company, event_id, "work given up");
        }
        let ours = Cond::Eq(claim::TOKEN, json!(lease.claim_id));
        let refused = if with.is_empty() {
            Vec::new()
        } else {
            let mut all = vec![(item.clone(), Some(ours.clone()))];
            all.extend(with.iter().cloned());
            match self.store.put_all(all).await? {
                AllOutcome::Written => return Ok(Finished { state, refused: Vec::new() }),
                // One by one: the outcome, then each put whose condition held.
                AllOutcome::Rejected(failed) => {
                    let mut refused = Vec::new();
                    for (i, (extra, cond)) in with.into_iter().enumerate() {
                        if failed.contains(&(i + 1))
                            || self.store.put(extra, cond).await? != PutOutcome::Written
                        {
                            refused.push(i);
                        }
                    }
                    refused
                }
            }
        };
        if let PutOutcome::Rejected(_) = self.store.put(item, Some(ours)).await? {
            tracing::warn!(record = %lease.pk, "lease lost before the outcome was recorded");
        }
        Ok(Finished { state, refused })
    }

    /// The stored record of an event, for inspection and retries.
    pub async fn record(&self, scope: &str, event_id: &str) -> Result<Option<WorkRecord>, AppError> {
        Ok(self.store.get(&keys::event(scope, event_id), SK).await?.as_ref().and_then(WorkRecord::from_item))
    }

    /// Work of `integration` that is due now (failed work whose delay is over, claims whose lease
    /// ended), earliest first, at most `limit`: read from the sparse index only.
    pub async fn due(&self, integration: &str, limit: usize) -> Result<Vec<WorkRecord>, AppError> {
        let now = self.clock.now_secs();
        let items = self.store.query_due(&keys::due_queue(integration), now, limit).await?;
        Ok(items.iter().filter(|i| i.sk == SK).filter_map(WorkRecord::from_item).collect())
    }

    /// The operator view: failed (waiting for a retry), due (now), or given up.
    pub async fn list(
        &self,
        integration: &str,
        wanted: ListState,
        limit: usize,
    ) -> Result<Vec<WorkRecord>, AppError> {
        let (queue, before) = match wanted {
            ListState::Failed => (keys::due_queue(integration), i64::MAX),
            ListState::Due => (keys::due_queue(integration), self.clock.now_secs()),
            ListState::GivenUp => (keys::given_up_queue(integration), i64::MAX),
        };
        let items = self.store.query_due(&queue, before, limit).await?;
        let records = items.iter().filter(|i| i.sk == SK).filter_map(WorkRecord::from_item);
        Ok(match wanted {
            ListState::Failed => records.filter(|r| r.state == WorkState::Failed).collect(),
            _ => records.collect(),
        })
    }
}

/// What the operator view lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListState {
    Failed,
    Due,
    GivenUp,
}

impl ListState {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "failed" => Some(ListState::Failed),
            "due" => Some(ListState::Due),
            "given_up" => Some(ListState::GivenUp),
            _ => None,
        }
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
        idem.retry_schedule = vec![60, 300];
        (store, clock, idem)
    }

    fn answer(status: StatusCode, text: &str) -> Outcome {
        Outcome::from_response(&web::text(status, text))
    }

    #[tokio::test]
    async fn a_failed_event_delivered_again_is_taken_over_and_knows_an_earlier_attempt_ran() {
        let (_, _, idem) = setup();
        let Claim::Acquired(first) = idem.claim("s#t", "e1", json!({"w": 1})).await.unwrap() else {
            panic!()
        };
        assert_eq!((first.attempt, first.earlier), (1, false));
        idem.finish(first, &answer(StatusCode::BAD_GATEWAY, "down"), Finish::Failed("down".into()))
            .await
            .unwrap();
        let Claim::Acquired(again) = idem.claim("s#t", "e1", json!({"w": 1})).await.unwrap() else {
            panic!("failed work is taken over, not replayed")
        };
        assert_eq!((again.attempt, again.earlier), (1, true), "a delivery starts the retry count again");
        idem.finish(again, &answer(StatusCode::OK, "done"), Finish::Completed).await.unwrap();
        let Claim::Replay(outcome) = idem.claim("s#t", "e1", json!({"w": 1})).await.unwrap() else {
            panic!("completed work is replayed")
        };
        assert_eq!(outcome.body, "done");
    }

    #[tokio::test]
    async fn a_new_event_is_claimed_with_its_record_in_one_write_and_a_refused_record_leaves_the_claim_alone()
    {
        let (store, _, idem) = setup();
        let card = |v: i64| vec![(Item::new("CARD#1", "CARD").with("version", v), Some(Cond::NotExists))];
        let (claim, written) = idem.claim_with("s#t", "e1", json!({}), card(1)).await.unwrap();
        assert!(matches!(claim, Claim::Acquired(_)) && written);
        assert_eq!(store.get("CARD#1", "CARD").await.unwrap().unwrap().i64("version"), Some(1));
        let (claim, written) = idem.claim_with("s#t", "e2", json!({}), card(2)).await.unwrap();
        assert!(matches!(claim, Claim::Acquired(_)) && !written, "claimed on its own");
        assert_eq!(store.get("CARD#1", "CARD").await.unwrap().unwrap().i64("version"), Some(1));
        let Claim::Acquired(lease) = claim else { panic!() };
        idem.finish(lease, &answer(StatusCode::OK, "done"), Finish::Completed).await.unwrap();
        let (claim, written) = idem.claim_with("s#t", "e2", json!({}), card(3)).await.unwrap();
        assert!(matches!(claim, Claim::Replay(_)) && !written, "a repeat is answered, nothing written");
    }

    #[tokio::test]
    async fn what_an_outcome_records_with_it_is_written_unless_its_condition_fails_and_that_is_named() {
        let (store, _, idem) = setup();
        store.put(Item::new("CARD#1", "CARD").with("version", 9), None).await.unwrap();
        let Claim::Acquired(lease) = idem.claim("s#t", "e1", json!({})).await.unwrap() else { panic!() };
        let with = vec![
            (Item::new("LEARNT#1", "X").with("id", "s-1"), None),
            (Item::new("CARD#1", "CARD").with("version", 5), Some(Cond::Lt("version", 5))),
        ];
        let finished =
            idem.finish_with(lease, &answer(StatusCode::OK, "done"), Finish::Completed, with).await.unwrap();
        assert_eq!((finished.state, finished.refused), (WorkState::Completed, vec![1]));
        assert_eq!(store.get("LEARNT#1", "X").await.unwrap().unwrap().str("id"), Some("s-1"));
        assert_eq!(
            store.get("CARD#1", "CARD").await.unwrap().unwrap().i64("version"),
            Some(9),
            "not overwritten"
        );
        let record = idem.record("s#t", "e1").await.unwrap().unwrap();
        assert_eq!(record.state, WorkState::Completed);
    }

    #[tokio::test]
    async fn a_repeat_gets_the_first_outcome() {
        let (_, _, idem) = setup();
        let Claim::Acquired(lease) = idem.claim("s", "e1", json!({"a": 1})).await.unwrap() else {
            panic!("first claim must be acquired")
        };
        let first = answer(StatusCode::OK, "done");
        idem.finish(lease, &first, Finish::Completed).await.unwrap();
        match idem.claim("s", "e1", json!({"a": 1})).await.unwrap() {
            Claim::Replay(o) => assert_eq!(o, first),
            Claim::Acquired(_) => panic!("repeat must replay"),
        }
    }

    #[tokio::test]
    async fn failed_work_is_due_after_each_delay_then_given_up() {
        let (_, clock, idem) = setup();
        let Claim::Acquired(lease) = idem.claim("s#t", "e2", json!({})).await.unwrap() else { panic!() };
        let state = idem
            .finish(lease, &answer(StatusCode::BAD_GATEWAY, "down"), Finish::Failed("down".into()))
            .await
            .unwrap();
        assert_eq!(state, WorkState::Failed);
        assert!(idem.due("s", 10).await.unwrap().is_empty(), "not due before its delay");
        clock.advance_secs(61);
        let due = idem.due("s", 10).await.unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].error.as_deref(), Some("down"));
        let lease = idem.claim_again(&due[0], false).await.unwrap().expect("the sweep claims it");
        assert_eq!(lease.attempt, 2);
        assert!(idem.claim_again(&due[0], false).await.unwrap().is_none(), "a second sweep does not");
        idem.finish(lease, &answer(StatusCode::BAD_GATEWAY, "down"), Finish::Failed("down".into()))
            .await
            .unwrap();
        clock.advance_secs(301);
        let due = idem.due("s", 10).await.unwrap();
        let lease = idem.claim_again(&due[0], false).await.unwrap().unwrap();
        let state = idem
            .finish(lease, &answer(StatusCode::BAD_GATEWAY, "down"), Finish::Failed("down".into()))
            .await
            .unwrap();
        assert_eq!(state, WorkState::GivenUp, "the schedule has two delays: the third failure gives up");
        clock.advance_secs(100_000);
        assert!(idem.due("s", 10).await.unwrap().is_empty());
        assert_eq!(idem.list("s", ListState::GivenUp, 10).await.unwrap().len(), 1);
        let given_up = idem.record("s#t", "e2").await.unwrap().unwrap();
        let lease = idem.claim_again(&given_up, true).await.unwrap().expect("an admin retry runs it again");
        assert_eq!(lease.attempt, 1);
    }

    #[tokio::test]
    async fn a_claim_whose_invocation_died_is_due_when_its_lease_ends() {
        let (_, clock, idem) = setup();
        let Claim::Acquired(_abandoned) = idem.claim("s#t", "e3", json!({"w": 1})).await.unwrap() else {
            panic!()
        };
        let err = idem.claim("s#t", "e3", json!({})).await.err().expect("must wait, then give up");
        assert_eq!(err.status, 409);
        assert!(idem.due("s", 10).await.unwrap().is_empty(), "not due while the lease holds");
        clock.advance_secs(62);
        let due = idem.due("s", 10).await.unwrap();
        assert_eq!((due.len(), due[0].state), (1, WorkState::InProgress));
        assert_eq!(due[0].work, json!({"w": 1}));
        assert!(idem.claim_again(&due[0], false).await.unwrap().is_some());
    }

    /// Counts what the due queries hand back, and every other read.
    struct Counting(MemoryStore, std::sync::atomic::AtomicUsize, std::sync::atomic::AtomicUsize);

    #[async_trait::async_trait]
    impl ItemStore for Counting {
        async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, crate::store::StoreError> {
            self.2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.0.get(pk, sk).await
        }
        async fn put(&self, item: Item, cond: Option<Cond>) -> Result<PutOutcome, crate::store::StoreError> {
            self.0.put(item, cond).await
        }
        async fn put_all(
            &self,
            puts: Vec<(Item, Option<Cond>)>,
        ) -> Result<crate::store::AllOutcome, crate::store::StoreError> {
            self.0.put_all(puts).await
        }
        async fn delete(&self, pk: &str, sk: &str) -> Result<(), crate::store::StoreError> {
            self.0.delete(pk, sk).await
        }
        async fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, crate::store::StoreError> {
            self.2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.0.query(pk, sk_prefix).await
        }
        async fn query_due(
            &self,
            queue: &str,
            before: i64,
            limit: usize,
        ) -> Result<Vec<Item>, crate::store::StoreError> {
            let items = self.0.query_due(queue, before, limit).await?;
            self.1.fetch_add(items.len(), std::sync::atomic::Ordering::SeqCst);
            Ok(items)
        }
    }

    #[tokio::test]
    async fn a_sweep_over_ten_thousand_finished_and_a_hundred_due_items_reads_the_hundred() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let store = Arc::new(Counting(MemoryStore::new(), AtomicUsize::new(0), AtomicUsize::new(0)));
        let clock = Arc::new(FixedClock::at_secs(1_700_000_000));
        let mut idem = Idempotency::new(store.clone(), clock.clone());
        idem.retry_schedule = vec![60];
        let done = answer(StatusCode::OK, "done");
        for i in 0..10_100 {
            let Claim::Acquired(lease) = idem.claim("s#t", &format!("e{i}"), json!({})).await.unwrap() else {
                panic!()
            };
            let finish = if i % 101 == 0 { Finish::Failed("down".into()) } else { Finish::Completed };
            idem.finish(lease, &done, finish).await.unwrap();
        }
        clock.advance_secs(61);
        store.1.store(0, Ordering::SeqCst);
        let due = idem.due("s", 1_000).await.unwrap();
        assert_eq!(due.len(), 100);
        assert_eq!(store.1.load(Ordering::SeqCst), 100, "only the due items were read");
        assert_eq!(store.2.load(Ordering::SeqCst), 0, "no other read, no scan");
    }
}
