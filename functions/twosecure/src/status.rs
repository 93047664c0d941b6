//! `twosecure-status`: 2Secure's signed callback and the scheduled poll. Both report a status to
//! [`crate::lifecycle::apply`]; the poll also settles changes an ended invocation left unsettled.
use futures::StreamExt;
use hirebridge::error::AppResult;
use hirebridge::timestamped;
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::lifecycle::{self, Reported, POLL_EVERY_SECS};
use crate::store::{self, Order, Status};
use crate::{api, tenant_secret_name, Deps, TenantSecret, VendorSecret, VENDOR_SECRET};

const SIGNATURE: &str = "X-2Secure-Signature";
/// Not finished this long after it was ordered: given up.
pub const GIVE_UP_AFTER_SECS: i64 = 30 * 24 * 3600;
/// How many orders one poll reads, and how many it asks 2Secure about at once.
pub const POLL_LIMIT: usize = 500;
pub const POLL_CONCURRENCY: usize = 8;

/// 2Secure's side: `X-2Secure-Signature` for `body` at `t` (for the sandbox and tests).
pub fn sign(t: i64, body: &[u8], secret: &SecretString) -> String {
    timestamped::sign(t, body, secret)
}

#[derive(Deserialize)]
struct Callback {
    order_id: String,
    status: String,
    #[serde(default)]
    report_url: Option<String>,
}

/// An order id of 2Secure's: 1–128 letters, digits, `-` and `_` (it becomes part of keys).
fn valid_order_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `POST /2secure/callback`: `X-2Secure-Signature: t=<unix>,v1=<hex HMAC-SHA256(callback_secret,
/// "{t}.{raw body}")>`, 5 minutes' tolerance.
pub(crate) async fn callback(deps: &Deps, req: &Request) -> AppResult<Response> {
    let platform = &deps.platform;
    let body = web::bounded_body(req)?;
    let vendor: VendorSecret = platform.secrets.require_json(VENDOR_SECRET).await?;
    let header = web::header(req, "x-2secure-signature");
    timestamped::verify(SIGNATURE, header, body, &vendor.callback_secret, platform.now_secs())?;
    let callback: Callback = web::read_json(req)?;
    let status = Status::reported(&callback.status)
        .ok_or_else(|| AppError::unprocessable("status must be sent, pending, completed or cancelled"))?;
    if !valid_order_id(&callback.order_id) {
        return Err(AppError::unprocessable("order_id must be 1–128 letters, digits, '-' or '_'"));
    }
    let order = store::by_order_id(platform, &callback.order_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("hirebridge has no order {}", callback.order_id)))?;
    let reported = Reported { status, report_url: callback.report_url };
    let after = lifecycle::apply(platform, order, &reported).await?;
    Ok(web::json(StatusCode::OK, &json!({"order_id": callback.order_id, "status": after.as_str()})))
}

/// What one scheduled poll did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PollReport {
    /// Orders read from the index.
    pub open: usize,
    pub changed: usize,
    /// Changes an ended invocation had left unsettled, settled now.
    pub settled: usize,
    pub gave_up: usize,
    pub errors: usize,
}

/// What the poll did with one order.
enum Polled {
    Unchanged,
    Changed,
    Settled,
    GaveUp,
}

/// The scheduled poll (EventBridge, every 5 minutes): the orders whose look is due, from the
/// sparse index only, at most [`POLL_LIMIT`], [`POLL_CONCURRENCY`] at a time.
pub async fn poll(deps: &Deps) -> AppResult<PollReport> {
    let now = deps.platform.now_secs();
    let due = store::due(&deps.platform, now, POLL_LIMIT).await?;
    let mut report = PollReport { open: due.len(), ..PollReport::default() };
    let outcomes: Vec<AppResult<Polled>> = futures::stream::iter(due)
        .map(|order| poll_one(deps, order, now))
        .buffer_unordered(POLL_CONCURRENCY)
        .collect()
        .await;
    for outcome in outcomes {
        match outcome {
            Ok(Polled::Unchanged) => {}
            Ok(Polled::Changed) => report.changed += 1,
            Ok(Polled::Settled) => report.settled += 1,
            Ok(Polled::GaveUp) => report.gave_up += 1,
            Err(e) => {
                report.errors += 1;
                tracing::warn!(error = %e.detail, "2secure order not polled");
            }
        }
    }
    tracing::info!(
        open = report.open,
        changed = report.changed,
        settled = report.settled,
        gave_up = report.gave_up,
        errors = report.errors,
        "2secure poll done"
    );
    Ok(report)
}

async fn poll_one(deps: &Deps, order: Order, now: i64) -> AppResult<Polled> {
    let platform = &deps.platform;
    if !order.settled {
        lifecycle::settle(platform, order).await?;
        return Ok(Polled::Settled);
    }
    let before = order.status;
    if now - order.created_at > GIVE_UP_AFTER_SECS {
        let gave_up = Reported { status: Status::GaveUp, report_url: None };
        let after = lifecycle::apply(platform, order, &gave_up).await?;
        return Ok(if after == Status::GaveUp && before != after {
            Polled::GaveUp
        } else {
            Polled::Unchanged
        });
    }
    let secret: TenantSecret = platform.secrets.require_json(&tenant_secret_name(&order.tenant)).await?;
    let answer = deps
        .twosecure
        .get_order(&secret.api_key, &order.order_id)
        .await
        .map_err(|e| AppError::upstream(api::describe(&e)))?;
    let status = Status::reported(&answer.status)
        .ok_or_else(|| AppError::upstream("2Secure reported a status hirebridge does not know"))?;
    let after =
        lifecycle::apply(platform, order.clone(), &Reported { status, report_url: answer.report_url })
            .await?;
    if after != before {
        return Ok(Polled::Changed);
    }
    // Unchanged: looked at again after the others due before it.
    let mut later = order;
    later.check_at = now + POLL_EVERY_SECS;
    store::update(platform, &later, before).await?;
    Ok(Polled::Unchanged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_signatures_cover_the_raw_body_and_a_hostile_timestamp_is_refused() {
        let secret = SecretString::from("cb");
        let body = br#"{"order_id":"o1","status":"completed"}"#;
        let header = sign(1000, body, &secret);
        let verify =
            |h: Option<&str>, b: &[u8], s: &SecretString, now| timestamped::verify(SIGNATURE, h, b, s, now);
        verify(Some(&header), body, &secret, 1100).unwrap();
        assert_eq!(verify(Some(&header), b"{}", &secret, 1100).unwrap_err().status, 401);
        assert_eq!(verify(Some(&header), body, &"other".into(), 1100).unwrap_err().status, 401);
        assert_eq!(verify(Some(&header), body, &secret, 1400).unwrap_err().status, 401);
        assert_eq!(verify(None, body, &secret, 1000).unwrap_err().status, 401);
        for t in [i64::MIN, i64::MAX] {
            let hostile = format!("t={t},v1=00");
            assert_eq!(verify(Some(&hostile), body, &secret, 1_750_000_000).unwrap_err().status, 401);
        }
    }

    #[test]
    fn order_ids_are_bounded_to_a_safe_alphabet() {
        assert!(valid_order_id("ord_1a-2"));
        for bad in ["", "a#b", "a/b", "ä", &"x".repeat(129)] {
            assert!(!valid_order_id(bad), "{bad}");
        }
    }

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use async_trait::async_trait;
    use hirebridge::clock::SystemClock;
    use hirebridge::config::Config;
    use hirebridge::outbound::RetryPolicy;
    use hirebridge::platform::Platform;
    use hirebridge::secrets::MemorySecretStore;
    use hirebridge::store::{Cond, Item, ItemStore, MemoryStore, PutOutcome, StoreError};

    /// The in-memory store, counting every item it hands out.
    #[derive(Default)]
    struct Counting {
        inner: MemoryStore,
        read: AtomicUsize,
    }

    impl Counting {
        fn saw(&self, n: usize) {
            self.read.fetch_add(n, Ordering::SeqCst);
        }
    }

    #[async_trait]
    impl ItemStore for Counting {
        async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
            let item = self.inner.get(pk, sk).await?;
            self.saw(usize::from(item.is_some()));
            Ok(item)
        }
        async fn put(&self, item: Item, cond: Option<Cond>) -> Result<PutOutcome, StoreError> {
            self.inner.put(item, cond).await
        }
        async fn put_all(
            &self,
            puts: Vec<(Item, Option<Cond>)>,
        ) -> Result<hirebridge::store::AllOutcome, StoreError> {
            self.inner.put_all(puts).await
        }
        async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
            self.inner.delete(pk, sk).await
        }
        async fn query(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
            let items = self.inner.query(pk, sk_prefix).await?;
            self.saw(items.len());
            Ok(items)
        }
        async fn query_due(
            &self,
            queue: &str,
            due_before: i64,
            limit: usize,
        ) -> Result<Vec<Item>, StoreError> {
            let items = self.inner.query_due(queue, due_before, limit).await?;
            self.saw(items.len());
            Ok(items)
        }
    }

    /// The poll on its own in-memory table (no other test's orders), with the sandbox as 2Secure
    /// and Teamtailor; the tenant's key is `key-1`.
    struct Harness {
        deps: Deps,
        store: Arc<Counting>,
        sandbox: testkit::sandbox::Sandbox,
        url: String,
        tenant: String,
    }

    impl Harness {
        async fn new() -> Harness {
            let (sandbox, url) = testkit::spawn().await;
            sandbox.add_twosecure_key("key-1", "Acme AB").await;
            let config = Config::from_lookup(|k| match k {
                "PUBLIC_BASE_URL" => Some("https://hb.example.com".into()),
                "TWOSECURE_API_URL" => Some(format!("{url}/_sandbox/2secure")),
                "TEAMTAILOR_API_URL" => Some(format!("{url}/_sandbox/teamtailor")),
                "TEAMTAILOR_NA_API_URL" => Some(format!("{url}/_sandbox/teamtailor-na")),
                _ => None,
            })
            .unwrap();
            let tenant = crate::tenant_id(&"key-1".into());
            let seed = serde_json::json!({
                format!("hirebridge/{}", crate::tenant_secret_name(&tenant)): {"api_key": "key-1"},
                "hirebridge/teamtailor/2secure": {"partner_api_key": "pk", "webhook_secret": "ws"},
            });
            let store = Arc::new(Counting::default());
            let secrets = Arc::new(MemorySecretStore::from_json(&seed).unwrap());
            let platform =
                Platform::new(config, store.clone(), secrets, RetryPolicy::default(), Arc::new(SystemClock));
            Harness { deps: Deps::new(platform), store, sandbox, url, tenant }
        }

        /// An order of the tenant's, due for the poll.
        fn order(&self, i: usize, order_id: &str, status: Status) -> Order {
            let now = self.deps.platform.now_secs();
            Order {
                tenant: self.tenant.clone(),
                event_id: format!("e{i}"),
                order_id: order_id.into(),
                status,
                settled: true,
                check_at: now - 10,
                candidate_id: "1".into(),
                job_id: None,
                level: "basic".into(),
                auto_move: false,
                update_url: format!("https://api.teamtailor.com/partner/v1/partner-results/r{i}"),
                teamtailor_host: None,
                report_url: None,
                created_at: now - 3600,
                moved: None,
            }
        }

        /// An order placed at the 2Secure fake; answers its id.
        async fn placed_at_2secure(&self, key: &str) -> String {
            let placed: serde_json::Value = reqwest::Client::new()
                .post(format!("{}/_sandbox/2secure/orders", self.url))
                .bearer_auth("key-1")
                .header("Idempotency-Key", key)
                .json(&serde_json::json!({"package_id": "basic", "candidate": {"personal_number": "198112189876"}}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            placed["id"].as_str().unwrap().to_owned()
        }

        async fn card(&self, i: usize) -> serde_json::Value {
            self.sandbox.state().await.partner.results.get(&format!("r{i}")).cloned().unwrap_or_default()
        }
    }

    /// 10,000 finished orders and 100 open ones: the poll reads the 100.
    #[tokio::test]
    async fn the_poll_reads_only_the_open_orders_however_many_are_finished() {
        let h = Harness::new().await;
        for i in 0..10_000 {
            store::create(&h.deps.platform, &h.order(i, &format!("old_{i}"), Status::Completed))
                .await
                .unwrap();
        }
        for i in 10_000..10_100 {
            let id = h.placed_at_2secure(&format!("k{i}")).await;
            store::create(&h.deps.platform, &h.order(i, &id, Status::Sent)).await.unwrap();
        }
        h.store.read.store(0, Ordering::SeqCst);
        let report = poll(&h.deps).await.unwrap();
        assert_eq!((report.open, report.errors), (100, 0), "{report:?}");
        let read = h.store.read.load(Ordering::SeqCst);
        assert!(read <= 110, "the poll read {read} items");
        assert_eq!(h.sandbox.count("2secure", "GET", "/orders/").await, 100);
    }

    /// the invocation that recorded a completion ended before its card: the poll
    /// finishes it once its lease is over.
    #[tokio::test]
    async fn a_completion_whose_card_was_never_sent_is_finished_by_the_poll() {
        let h = Harness::new().await;
        let mut order = h.order(1, "ord_1", Status::Completed);
        order.settled = false;
        order.report_url = Some("https://portal.2secure.se/r/1".into());
        store::create(&h.deps.platform, &order).await.unwrap();
        let report = poll(&h.deps).await.unwrap();
        assert_eq!(report.settled, 1, "{report:?}");
        let card = h.card(1).await;
        assert_eq!(
            (card["status"].as_str(), card["url"].as_str()),
            (Some("completed"), Some("https://portal.2secure.se/r/1"))
        );
        let order = store::load(&h.deps.platform, &h.tenant, "e1").await.unwrap().unwrap();
        assert!(order.settled && !order.in_index());
        assert_eq!(poll(&h.deps).await.unwrap().open, 0, "done: out of the index");
    }

    #[tokio::test]
    async fn orders_open_for_thirty_days_are_given_up() {
        let h = Harness::new().await;
        let id = h.placed_at_2secure("k1").await;
        let mut order = h.order(1, &id, Status::Sent);
        order.created_at = h.deps.platform.now_secs() - 31 * 24 * 3600;
        store::create(&h.deps.platform, &order).await.unwrap();
        let report = poll(&h.deps).await.unwrap();
        assert_eq!(report.gave_up, 1, "{report:?}");
        let card = h.card(1).await;
        assert_eq!(card["status"], "failed");
        assert!(card["summary"].as_str().unwrap().contains("30 days"), "{card}");
        let order = store::load(&h.deps.platform, &h.tenant, "e1").await.unwrap().unwrap();
        assert_eq!(order.status, Status::GaveUp);
    }
}
