//! The work engine end to end: the scheduled sweep within the invocation's time and in turn by
//! tenant, crashed work and dead vendor events, sweep failures, repeated claim writes and audited
//! operator retries, against moto and the strict fakes.
use std::sync::Arc;
use std::time::{Duration, Instant};

use hirebridge::cards::CardUpdate;
use hirebridge::idempotency::{WorkRecord, WorkState};
use hirebridge::platform::Platform;
use hirebridge::store::{AllOutcome, Cond, DynamoStore, Item, ItemStore, PutOutcome, StoreError};
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::vendor_event::{self, VendorEvent};
use hirebridge_tests::*;
use serde_json::{json, Value};
use testkit::driver::{admin, Move};
use testkit::sandbox::{Fault, Region};

fn fault(service: &str, method: Option<&str>, path: &str, status: Option<u16>, delay_ms: u64) -> Fault {
    Fault {
        service: service.into(),
        method: method.map(str::to_owned),
        path_contains: path.into(),
        status,
        delay_ms,
        times: 100_000,
        try_again_seconds: None,
    }
}

/// Tags off: a trigger is two calls to Learnster (find, create), each taking the fake's delay.
static NO_TAGS: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| json!({"title": false, "department": false, "stage": false}));

/// `n` triggers of one Learnster integration that failed while Learnster was down: due now.
async fn due_triggers(w: &World, key: &str, first_candidate: u64, n: u64) -> Vec<Move> {
    w.sandbox.add_fault(fault("learnster", None, "", Some(503), 0)).await;
    let moves: Vec<Move> = (0..n)
        .map(|i| {
            let c = first_candidate + i;
            Move::new(c, &format!("due-{c}@example.com"), Some((1, "Engineer", "Offered")))
        })
        .collect();
    for batch in moves.chunks(20) {
        let answers = futures::future::join_all(batch.iter().map(|mv| async move {
            let req = w.fire("learnster", key, mv).await;
            w.call(req).await
        }))
        .await;
        for resp in answers {
            assert_eq!(resp.status(), 502, "{}", text(&resp));
        }
    }
    w.sandbox.state().await.faults.clear();
    moves
}

async fn record(w: &World, tenant: &str, mv: &Move) -> WorkRecord {
    let scope = format!("learnster#{tenant}");
    w.deps.platform.idempotency.record(&scope, &mv.event_id).await.unwrap().expect("recorded")
}

/// One scheduled run of learnster-webhook, as Lambda gives it `secs` to call out (the invocation
/// itself ends `OUTCOME_MARGIN` later, time kept to record outcomes). Answers its report, and
/// whether it returned in time: within a second of the deadline it was given.
async fn sweep_within(w: &World, secs: u64) -> (Value, Duration) {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let report = hirebridge::outbound::within(deadline, learnster::sweep(&w.deps)).await;
    (report, started.elapsed())
}

#[tokio::test]
async fn forty_due_items_and_a_slow_learnster_the_sweep_returns_in_time_and_what_it_did_not_reach_keeps_its_attempts(
) {
    let (_capture, logs) = capture_logs();
    let mut w = World::new().await;
    w.deps.platform.idempotency.retry_schedule = vec![0, 0];
    let (id, token) = w.switch_on(NO_TAGS.clone()).await;
    let key = w.provider_key(&token);
    let moves = due_triggers(&w, &key, 7_000, 40).await;
    w.sandbox.add_fault(fault("learnster", None, "", None, 500)).await;

    let (report, took) = sweep_within(&w, 6).await;
    assert!(took < Duration::from_secs(7), "returned after {took:?}: {report}");
    assert_eq!(report["read"], 40, "{report}");
    let (ran, left) = (report["rerun"].as_u64().unwrap(), report["left"].as_u64().unwrap());
    assert!(ran >= 1 && left >= 1 && ran + left == 40, "{report}");
    assert!(report["stopped"].as_str().is_some_and(|s| s.contains("left")), "{report}");
    assert!(report.get("error").is_none(), "{report}");
    let mut not_reached = 0;
    for mv in &moves {
        let r = record(&w, &id, mv).await;
        match r.state {
            WorkState::Completed => {}
            WorkState::Failed => {
                assert_eq!(r.attempts, 1, "not reached, not charged: {r:?}");
                not_reached += 1;
            }
            other => panic!("{other:?}: {r:?}"),
        }
    }
    assert_eq!(not_reached, left, "{report}");

    for _ in 0..10 {
        let (report, took) = sweep_within(&w, 6).await;
        assert!(took < Duration::from_secs(7), "returned after {took:?}: {report}");
    }
    for mv in &moves {
        assert_eq!(record(&w, &id, mv).await.state, WorkState::Completed);
    }
    let st = w.sandbox.state().await;
    for mv in &moves {
        assert_eq!(st.learnster.students.iter().filter(|s| s.user["email"] == mv.email.as_str()).count(), 1);
        assert_eq!(st.partner.results[&mv.result_id]["status"], "completed");
    }
    drop(st);
    assert!(!logs.text().contains("work_given_up"), "nothing was given up");
}

#[tokio::test]
async fn one_tenants_backlog_of_two_hundred_does_not_keep_another_tenants_work_from_the_first_sweep() {
    let mut w = World::new().await;
    w.deps.platform.idempotency.retry_schedule = vec![0, 0];
    let (busy, busy_token) = w.switch_on(NO_TAGS.clone()).await;
    let (other, other_token) = w.switch_on(NO_TAGS.clone()).await;
    let backlog = due_triggers(&w, &w.provider_key(&busy_token), 20_000, 200).await;
    // The other tenant's work failed after the backlog: later in the due index.
    let theirs = due_triggers(&w, &w.provider_key(&other_token), 30_000, 2).await;
    w.sandbox.add_fault(fault("learnster", None, "", None, 500)).await;

    let (report, took) = sweep_within(&w, 6).await;
    assert!(took < Duration::from_secs(7), "returned after {took:?}: {report}");
    for mv in &theirs {
        assert_eq!(record(&w, &other, mv).await.state, WorkState::Completed, "{report}");
    }
    let mut busy_run = 0;
    for mv in &backlog {
        let r = record(&w, &busy, mv).await;
        if r.state == WorkState::Completed {
            busy_run += 1;
        } else {
            assert_eq!((r.state, r.attempts), (WorkState::Failed, 1), "{r:?}");
        }
    }
    assert!(busy_run >= 1, "the busy tenant had turns too: {report}");
    assert_eq!(report["left"].as_u64().unwrap(), 200 - busy_run, "{report}");
}

#[tokio::test]
async fn work_whose_invocations_keep_crashing_is_given_up_after_its_last_attempt_not_run_forever() {
    let (_capture, logs) = capture_logs();
    let mut w = World::new().await;
    w.deps.platform.idempotency.retry_schedule = vec![0];
    w.deps.platform.idempotency.lease = Duration::from_millis(300);
    let (id, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    // Every call for students hangs: each invocation is ended by Lambda while it waits.
    w.sandbox.add_fault(fault("learnster", Some("GET"), "/users/students/", None, 3_000)).await;
    let mv = Move::new(7_900, "crashes@example.com", Some((1, "Engineer", "Offered")));
    let req = w.fire("learnster", &key, &mv).await;
    assert!(tokio::time::timeout(Duration::from_millis(500), w.call(req)).await.is_err());
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert!(tokio::time::timeout(Duration::from_millis(500), learnster::sweep(&w.deps)).await.is_err());
    let r = record(&w, &id, &mv).await;
    assert_eq!((r.state, r.attempts), (WorkState::InProgress, 2), "the second and last attempt crashed");

    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let calls = w.sandbox.count("learnster", "GET", "/users/students/").await;
    let report = tokio::time::timeout(Duration::from_secs(3), learnster::sweep(&w.deps))
        .await
        .expect("not run again: given up");
    assert_eq!(report["rerun"], 1, "{report}");
    assert_eq!(w.sandbox.count("learnster", "GET", "/users/students/").await, calls, "not run a third time");
    assert_eq!(record(&w, &id, &mv).await.state, WorkState::GivenUp);
    let card = w.sandbox.state().await.partner.results[&mv.result_id].clone();
    assert_eq!(card["status"], "failed", "{card}");
    assert!(card["summary"].as_str().unwrap_or_default().contains("gave up"), "{card}");
    assert!(logs.text().contains("work_given_up"));
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let again = learnster::sweep(&w.deps).await;
    assert_eq!((again["read"].as_u64(), again["rerun"].as_u64()), (Some(0), Some(0)), "{again}");
    assert_eq!(w.sandbox.count("learnster", "GET", "/users/students/").await, calls, "not called again");
}

#[tokio::test]
async fn a_vendor_event_whose_run_died_lands_its_card_by_the_sweep_and_is_not_given_up() {
    let (_capture, logs) = capture_logs();
    let mut w = World::new().await;
    w.alva.platform.idempotency.lease = Duration::from_millis(300);
    let mv = Move::new(7_950, "result@example.com", None);
    w.sandbox.add_partner_result_on(Region::Eu, &mv.result_id).await;
    let update_url = mv.update_url();
    let result = PartnerResult::new(ResultStatus::Completed).summary("The Alva test is completed.");
    let land = |platform| {
        let event = VendorEvent { integration: "alva", tenant: "4242", id: "alva-event-1" };
        let update = CardUpdate { integration: "alva", update_url: &update_url, result: &result };
        vendor_event::land(platform, event, update)
    };
    // Teamtailor hangs on the card: Lambda ends the event's run while it waits.
    w.sandbox.add_fault(fault("teamtailor", Some("PUT"), "/partner-results/", None, 3_000)).await;
    assert!(tokio::time::timeout(Duration::from_millis(500), land(&w.alva.platform)).await.is_err());
    let idem = &w.alva.platform.idempotency;
    let dead = idem.record("alva#4242#vendor", "alva-event-1").await.unwrap().unwrap();
    assert_eq!(dead.state, WorkState::InProgress);

    w.sandbox.state().await.faults.clear();
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let report = alva::sweep(&w.alva).await;
    assert_eq!(report["rerun"], 1, "{report}");
    let landed = idem.record("alva#4242#vendor", "alva-event-1").await.unwrap().unwrap();
    assert_eq!(landed.state, WorkState::Completed, "{landed:?}");
    assert_eq!(w.sandbox.state().await.partner.results[&mv.result_id]["status"], "completed");
    assert!(!logs.text().contains("work_given_up"), "no false alarm");
    let redelivered = land(&w.alva.platform).await.unwrap();
    assert_eq!(redelivered.status(), 200, "{}", text(&redelivered));
    assert_eq!(json_of(&redelivered)["card"], "updated");
}

/// A store whose writes to one item fail (a storage fault on one card).
struct FailingOn {
    inner: DynamoStore,
    pk: String,
}

#[async_trait::async_trait]
impl ItemStore for FailingOn {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.inner.get(pk, sk).await
    }
    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<PutOutcome, StoreError> {
        if item.pk == self.pk {
            return Err(StoreError("PutItem: internal server error".into()));
        }
        self.inner.put(item, cond).await
    }
    async fn put_all(&self, puts: Vec<(Item, Option<Cond>)>) -> Result<AllOutcome, StoreError> {
        self.inner.put_all(puts).await
    }
    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.inner.delete(pk, sk).await
    }
    async fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
        self.inner.query(pk, sk_prefix).await
    }
    async fn query_due(&self, queue: &str, before: i64, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.inner.query_due(queue, before, limit).await
    }
}

/// The first try of each claim wrote it, but its answer was lost: the AWS SDK sends it again,
/// and that repeat's condition fails on the claim it made itself.
struct RepeatedClaims(DynamoStore);

#[async_trait::async_trait]
impl ItemStore for RepeatedClaims {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.0.get(pk, sk).await
    }
    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<PutOutcome, StoreError> {
        if cond.is_some() && item.str("status") == Some("in_progress") {
            self.0.put(item.clone(), cond.clone()).await?;
        }
        self.0.put(item, cond).await
    }
    async fn put_all(&self, puts: Vec<(Item, Option<Cond>)>) -> Result<AllOutcome, StoreError> {
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

/// learnster-webhook on this world's table through `store`.
async fn learnster_on(w: &World, store: impl FnOnce(DynamoStore) -> Arc<dyn ItemStore>) -> learnster::Deps {
    let sdk = hirebridge::aws_http::sdk_loader().load().await;
    let dynamo = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), w.table.clone());
    let secrets = hirebridge::secrets::SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&sdk));
    learnster::Deps::new(Platform::new(
        w.config.clone(),
        store(dynamo),
        Arc::new(secrets),
        fast_policy(),
        Arc::new(hirebridge::clock::SystemClock),
    ))
}

#[tokio::test]
async fn a_card_that_cannot_be_recorded_fails_the_sweep_without_stopping_the_work_after_it() {
    let mut w = World::new().await;
    w.deps.platform.idempotency.retry_schedule = vec![0];
    let (id, token) = w.switch_on(json!({})).await;
    let mv = due_triggers(&w, &w.provider_key(&token), 7_960, 1).await.remove(0);
    // An undelivered card of another candidate, due now, whose record cannot be written.
    let other = Move::new(7_961, "other@example.com", None);
    let card_pk = hirebridge::keys::card("learnster", &other.update_url());
    let now_ms = hirebridge::clock::Clock::now_ms(&hirebridge::clock::SystemClock);
    let card = Item::new(card_pk.clone(), "CARD")
        .with("integration", "learnster")
        .with("update_url", other.update_url())
        .with("result", json!({"status": "completed", "summary": "Done."}))
        .with("rank", 3)
        .with("version", now_ms)
        .with("state", "sending")
        .with("sent_at", 0)
        .with(hirebridge::store::DUE_QUEUE, hirebridge::keys::due_queue("learnster"))
        .with(hirebridge::store::DUE_AT, now_ms / 1000 - 60)
        .with(hirebridge::store::EXPIRES_AT, now_ms / 1000 + 3600);
    w.deps.platform.store.put(card, None).await.unwrap();
    let mut deps = learnster_on(&w, |dynamo| Arc::new(FailingOn { inner: dynamo, pk: card_pk })).await;
    deps.platform.idempotency.retry_schedule = vec![0];

    let report = learnster::sweep(&deps).await;
    assert_eq!(report["rerun"], 1, "the work ran: {report}");
    assert_eq!(record(&w, &id, &mv).await.state, WorkState::Completed);
    assert_eq!(report["failed"], 1, "{report}");
    assert!(report["error"].as_str().is_some_and(|e| e.contains("could not be run")), "{report}");
}

#[tokio::test]
async fn a_claim_the_sdk_wrote_twice_is_recognised_as_ours_not_waited_for() {
    let w = World::new().await;
    let (_, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    let mut deps = learnster_on(&w, |dynamo| Arc::new(RepeatedClaims(dynamo))).await;
    deps.platform.idempotency.wait = Duration::from_secs(2);
    let mv = Move::new(7_970, "repeat@example.com", Some((1, "Engineer", "Offered")));
    let started = Instant::now();
    let resp = learnster::handle(&deps, w.fire("learnster", &key, &mv).await).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    assert!(started.elapsed() < Duration::from_secs(2), "not a wait for a competing claim");
    let st = w.sandbox.state().await;
    assert_eq!(st.learnster.students.iter().filter(|s| s.user["email"] == "repeat@example.com").count(), 1);
}

#[tokio::test]
async fn an_operators_retry_leaves_an_audit_item_naming_the_operator_and_the_work() {
    let mut w = World::new().await;
    w.deps.platform.idempotency.retry_schedule = vec![3600];
    let (id, token) = w.switch_on(json!({})).await;
    let mv = due_triggers(&w, &w.provider_key(&token), 7_980, 1).await.remove(0);
    let work = format!("{id}:{}", mv.event_id);
    let path = format!("/learnster/work/{work}/retry");
    let resp = w.call(admin("POST", &path, &scoped_token("learnster"), None)).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    assert_eq!(json_of(&resp)["status"], "completed");
    let day = hirebridge::clock::Clock::now_ms(&hirebridge::clock::SystemClock) / 86_400_000;
    let mut audit = Vec::new();
    for d in [day - 1, day] {
        audit.extend(
            w.deps
                .platform
                .store
                .query(&hirebridge::keys::audit("learnster", &d.to_string()), "1")
                .await
                .unwrap(),
        );
    }
    let entry = audit
        .iter()
        .find(|a| a.str("route") == Some(format!("POST {path}").as_str()))
        .unwrap_or_else(|| panic!("no audit item for the retry: {audit:?}"));
    assert_eq!(entry.str("admin"), Some("learnster-operator"));
    assert_eq!(entry.str("target"), Some(format!("work {work}").as_str()));
}
