//! The one trigger pipeline: authenticate → parse → claim → perform → card → record → answer.
//! An integration supplies what is its own through [`Trigger`] (who the tenant is, what the work
//! is, how to perform it); the pipeline owns the order of the steps, the card's text on failure,
//! the recorded outcome, and the re-runs: the scheduled [`sweep`] and the operator's retry.
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::stream::{FuturesUnordered, StreamExt};
use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::cards::{self, CardUpdate};
use crate::error::AppResult;
use crate::idempotency::{Claim, Finish, Lease, ListState, Outcome, WorkRecord, WorkState};
use crate::platform::{Listing, Platform};
use crate::store::Item;
use crate::teamtailor::partner_results::{PartnerResult, ResultStatus};
use crate::teamtailor::webhook::Webhook;
use crate::vendor_event;
use crate::web::{self, Request, Response};
use crate::AppError;

/// What an integration brings to the pipeline.
#[async_trait]
pub trait Trigger: Sync {
    /// Who the trigger is for (an account, a company, a recruiter), as authenticated.
    type Tenant: Send + Sync;
    /// What one trigger asks for; recorded before anything is sent, so never a credential.
    type Work: Serialize + DeserializeOwned + Send + Sync;
    /// What only the live request carries and may not be recorded (e.g. the company's API
    /// token); a re-run gets `Default`.
    type Live: Default + Send + Sync;

    /// The listing (`alva`, `learnster`, `2secure`, `sparkhire`).
    const INTEGRATION: &'static str;
    /// What the recruiter reads first on a failed card, e.g. "The Alva test was not sent".
    const NOT_DONE: &'static str;

    fn platform(&self) -> &Platform;
    /// Verifies the provider key; answers the listing's keys and the tenant.
    async fn authenticate(&self, req: &Request) -> AppResult<(Listing, Self::Tenant)>;
    /// The tenant's id, recorded with the work ([`Trigger::tenant`] finds it again).
    fn tenant_id(tenant: &Self::Tenant) -> String;
    /// The tenant from its id, for a re-run (there is no request to authenticate).
    async fn tenant(&self, id: &str) -> AppResult<Self::Tenant>;
    /// The work a webhook asks for; a `422` here says what the recruiter must fix.
    fn work(
        &self,
        tenant: &Self::Tenant,
        hook: Webhook,
        req: &Request,
    ) -> AppResult<(Self::Work, Self::Live)>;
    /// Does the work once. An error of status 5xx is retried later; any other is final.
    async fn perform(&self, job: Job<'_, Self>) -> AppResult<Done>;
}

/// One attempt at one trigger's work, as the integration performs it.
pub struct Job<'a, T: Trigger + ?Sized> {
    pub tenant: &'a T::Tenant,
    pub work: &'a T::Work,
    pub live: &'a T::Live,
    pub attempt: u32,
    /// An earlier attempt ran, and may have reached the service: look before creating again.
    pub earlier: bool,
}

/// What performed work leaves: its card, and what it learnt, recorded with its outcome in one
/// round trip (a run that ends before that is run again, so these must be things a re-run
/// finds again, not the only record of an effect).
pub struct Done {
    pub card: PartnerResult,
    pub records: Vec<Item>,
}

impl Done {
    pub fn recording(mut self, item: Item) -> Self {
        self.records.push(item);
        self
    }
}

impl From<PartnerResult> for Done {
    fn from(card: PartnerResult) -> Self {
        Done { card, records: Vec::new() }
    }
}

/// What is recorded for one trigger.
#[derive(Serialize, Deserialize)]
struct Recorded<W> {
    tenant: String,
    update_url: String,
    work: W,
}

fn scope<T: Trigger>(tenant_id: &str) -> String {
    format!("{}#{tenant_id}", T::INTEGRATION)
}

/// `POST /{integration}/webhook`.
pub async fn receive<T: Trigger>(t: &T, req: &Request) -> AppResult<Response> {
    let (listing, tenant) = t.authenticate(req).await?;
    let hook = Webhook::receive(t.platform(), &listing, req)?;
    let event_id = hook.partner_event.id.clone();
    let update_url = hook.partner_event.partner_result.update_url.clone();
    t.platform().partner_results.resolve(&update_url)?;
    let (work, live) = t.work(&tenant, hook, req)?;
    let recorded = Recorded { tenant: T::tenant_id(&tenant), update_url, work };
    let value = serde_json::to_value(&recorded).map_err(AppError::internal)?;
    let lease = match t.platform().idempotency.claim(&scope::<T>(&recorded.tenant), &event_id, value).await? {
        Claim::Replay(outcome) => return Ok(outcome.to_response()),
        Claim::Acquired(lease) => lease,
    };
    let run = Run {
        listing: &listing,
        tenant: &tenant,
        recorded: &recorded,
        live: &live,
        event_id: &event_id,
        give_up: None,
    };
    conclude(t, run, lease).await
}

/// One attempt at one trigger's work.
struct Run<'a, T: Trigger> {
    listing: &'a Listing,
    tenant: &'a T::Tenant,
    recorded: &'a Recorded<T::Work>,
    live: &'a T::Live,
    event_id: &'a str,
    /// Not performed but given up, for this reason (no attempt is left).
    give_up: Option<String>,
}

/// Performs the work, updates the card, records the outcome (with the card and what the work
/// learnt, in one round trip), and answers Teamtailor. The card is sent before it is recorded:
/// until the outcome is recorded, the claimed work item is the record, and a run that ends
/// first is run again.
async fn conclude<T: Trigger>(t: &T, run: Run<'_, T>, lease: Lease) -> AppResult<Response> {
    let platform = t.platform();
    let (attempt, earlier) = (lease.attempt, lease.earlier);
    let job = Job { tenant: run.tenant, work: &run.recorded.work, live: run.live, attempt, earlier };
    let performed = match run.give_up {
        Some(why) => Err(AppError::upstream(why)),
        None => t.perform(job).await,
    };
    // A refusal the recruiter or customer must act on (a 4xx: no key, a key revoked, data to
    // fix) is answered with its own status; only a failure of ours or a service's is a `502`.
    let mut answer_status = StatusCode::BAD_GATEWAY;
    let (done, finish) = match performed {
        Ok(done) => (done, Finish::Completed),
        Err(e) => {
            let retry =
                e.status.is_server_error().then(|| platform.idempotency.retry_after(attempt)).flatten();
            if e.status.is_client_error() {
                answer_status = e.status;
            }
            let card = failure_card(T::NOT_DONE, &e, retry, run.event_id);
            (card.into(), if retry.is_some() { Finish::Failed(e.detail) } else { Finish::GivenUp(e.detail) })
        }
    };
    let response = match &finish {
        Finish::Completed => web::json(StatusCode::OK, &done.card.inline()),
        Finish::Failed(_) | Finish::GivenUp(_) => {
            web::text(answer_status, done.card.summary.as_deref().unwrap_or(T::NOT_DONE))
        }
    };
    let update =
        CardUpdate { integration: T::INTEGRATION, update_url: &run.recorded.update_url, result: &done.card };
    let key = &run.listing.partner_api_key;
    let started = platform.clock.now_ms();
    let card = match cards::item(platform, update) {
        Ok(item) => Some(cards::put(platform, item, key).await.0),
        Err(e) => {
            tracing::warn!(error = %e.detail, "card update not sent");
            None
        }
    };
    // The card first (index 0), then what the work learnt.
    let mut with: Vec<_> =
        card.iter().map(|card| (card.clone(), Some(cards::newer_and_sent_before(card, started)))).collect();
    with.extend(done.records.into_iter().map(|item| (item, None)));
    let outcome = Outcome::from_response(&response);
    let finished = platform.idempotency.finish_with(lease, &outcome, finish, with).await?;
    if let Some(card) = card.filter(|_| finished.refused.first() == Some(&0)) {
        // Another update was stored while ours was on its way: the card is sent again so that it
        // ends on the newer of the two.
        if let Err(e) = cards::after_refusal(platform, card, key).await {
            tracing::warn!(error = %e.detail, "overtaken card not sent again; the sweep sends it");
        }
    }
    let company = &run.recorded.tenant;
    tracing::info!(integration = T::INTEGRATION, company = %company, event_id = %run.event_id, state = finished.state.as_str(), attempt, "trigger handled");
    Ok(response)
}

/// The card of work that failed: what did not happen, why, and what comes next.
fn failure_card(not_done: &str, e: &AppError, retry_in: Option<u64>, event_id: &str) -> PartnerResult {
    let why = e.detail.trim_end_matches('.');
    match retry_in {
        Some(secs) => PartnerResult::new(ResultStatus::Sending).summary(format!(
            "{not_done} yet: {why}. hirebridge will retry automatically {}.",
            in_words(secs)
        )),
        None if e.status.is_server_error() => PartnerResult::new(ResultStatus::Failed).summary(format!(
            "{not_done}: {why}. hirebridge gave up after its automatic retries; move the candidate to this stage again, or ask your hirebridge admin to retry event {event_id}."
        )),
        None => PartnerResult::new(ResultStatus::Failed).summary(format!("{not_done}: {why}.")),
    }
}

/// When a retry comes, for the recruiter.
fn in_words(secs: u64) -> String {
    match secs {
        0..=90 => "in about a minute".to_owned(),
        91..=5399 => format!("in about {} minutes", secs.div_ceil(60)),
        _ => format!("in about {} hours", secs.div_ceil(3600)),
    }
}

/// What became of one work item the sweep (or an operator) took up.
enum Ran {
    /// Run: its answer.
    Done(Response),
    /// Not claimed: finished or taken meanwhile, or not runnable.
    Skipped,
    /// Claimed, then given back uncharged: no time was left to call out.
    Released,
}

/// Runs one recorded work item again (sweep or admin), if it can be claimed.
async fn rerun<T: Trigger>(t: &T, record: &WorkRecord, by_hand: bool) -> AppResult<Ran> {
    let platform = t.platform();
    if vendor_event::is_vendor_event(record) {
        return Ok(vendor_event::rerun(platform, record, by_hand).await?.map_or(Ran::Skipped, Ran::Done));
    }
    let Ok(recorded) = serde_json::from_value::<Recorded<T::Work>>(record.work.clone()) else {
        return unreadable(platform, record).await;
    };
    let Some(lease) = platform.idempotency.claim_again(record, by_hand).await? else {
        return Ok(Ran::Skipped);
    };
    // An operator's retry starts a new epoch of the card: what this attempt says replaces the
    // given-up card, and later updates of this epoch keep their order.
    if by_hand {
        if let Err(e) = cards::new_epoch(platform, T::INTEGRATION, &recorded.update_url).await {
            tracing::warn!(error = %e.detail, "the card's new epoch was not recorded");
        }
    }
    let listing = platform.listing(T::INTEGRATION).await?;
    let tenant = match t.tenant(&recorded.tenant).await {
        Ok(tenant) => tenant,
        Err(e) => {
            return Ok(Ran::Done(tenant_unavailable::<T>(platform, &recorded, &listing, lease, e).await?))
        }
    };
    // Less time left than it takes to connect: no call could go out, so the attempt is not
    // charged (the sweep's budget normally stops before this).
    let policy = platform.http.policy();
    if !by_hand && crate::outbound::time_left().is_some_and(|left| left < policy.connect_timeout) {
        platform.idempotency.release(lease, "not run: the scheduled run's time ran out first").await?;
        return Ok(Ran::Released);
    }
    let give_up = (!by_hand && platform.idempotency.past_last(lease.attempt))
        .then(|| format!("hirebridge's runs of it ended before they finished, {} times", lease.attempt - 1));
    let live = T::Live::default();
    let run = Run {
        listing: &listing,
        tenant: &tenant,
        recorded: &recorded,
        live: &live,
        event_id: &record.id,
        give_up,
    };
    conclude(t, run, lease).await.map(Ran::Done)
}

/// The tenant of recorded work could not be read: gone (4xx: switched off, disconnected), the
/// work is given up and the card says why; a passing failure (5xx) leaves it due.
async fn tenant_unavailable<T: Trigger>(
    platform: &Platform,
    recorded: &Recorded<T::Work>,
    listing: &Listing,
    lease: Lease,
    e: AppError,
) -> AppResult<Response> {
    let card = PartnerResult::new(ResultStatus::Failed).summary(format!("{}: {}", T::NOT_DONE, e.detail));
    let response = web::text(StatusCode::BAD_GATEWAY, card.summary.as_deref().unwrap_or_default());
    let outcome = Outcome::from_response(&response);
    if e.status.is_server_error() {
        platform.idempotency.finish(lease, &outcome, Finish::Failed(e.detail)).await?;
        return Ok(response);
    }
    let update = CardUpdate { integration: T::INTEGRATION, update_url: &recorded.update_url, result: &card };
    if let Err(e) = cards::send(platform, update, &listing.partner_api_key).await {
        tracing::warn!(error = %e.detail, "card update not recorded");
    }
    platform.idempotency.finish(lease, &outcome, Finish::GivenUp(e.detail)).await?;
    Ok(response)
}

/// A work item of this integration that is neither one of its triggers nor a vendor event (its
/// recorded work cannot be read): given up, for an operator to look at.
async fn unreadable(platform: &Platform, record: &WorkRecord) -> AppResult<Ran> {
    let Some(lease) = platform.idempotency.claim_again(record, false).await? else {
        return Ok(Ran::Skipped);
    };
    let response = web::text(StatusCode::UNPROCESSABLE_ENTITY, "its recorded work cannot be read");
    let note = "its recorded work cannot be read".to_owned();
    platform.idempotency.finish(lease, &Outcome::from_response(&response), Finish::GivenUp(note)).await?;
    Ok(Ran::Done(response))
}

/// What one scheduled run did.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct SweepReport {
    /// Due items read from the index (work items and cards).
    pub read: usize,
    /// Work items run.
    pub rerun: usize,
    /// Work items left due for the next run, their attempts unchanged.
    pub left: usize,
    /// Undelivered cards sent (after the work).
    pub cards_sent: usize,
    /// Undelivered cards left for the next run.
    pub cards_left: usize,
    /// Why work or cards were left, when some were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Work items and cards that could not be run (a storage or configuration fault).
    pub failed: usize,
    /// What went wrong, when something could not be run: the invocation fails
    /// ([`crate::lambda::report`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How many items the operator view lists.
pub const SWEEP_LIMIT: usize = 100;
/// How many due items one scheduled run reads (a few hundred bytes each, one query): more than
/// it can run, so that every tenant with due work is among them.
const READ_LIMIT: usize = 1000;
/// Most undelivered cards one run sends.
const CARD_CAP: usize = 50;
/// Work items (or cards) run at once.
const AT_ONCE: usize = 4;
/// The time a run has when no deadline is known (the local runner): that of a Lambda with
/// template.yaml's 25 s timeout, less [`crate::lambda::OUTCOME_MARGIN`].
const WINDOW_WITHOUT_DEADLINE: Duration = Duration::from_secs(22);

/// The scheduled run: the integration's due work (failed work whose delay is over, claims whose
/// lease ended), then its card updates that were not delivered, from the sparse index only,
/// within the invocation's time. Work is taken in turn by tenant; an item is started only while
/// the time left covers what one needs (the longest item so far, plus one request's time-out),
/// so that the rest stays due with its attempts unchanged. A failure of one item is counted and
/// the others run.
pub async fn sweep<T: Trigger>(t: &T) -> AppResult<SweepReport> {
    let platform = t.platform();
    let end = Instant::now() + crate::outbound::time_left().unwrap_or(WINDOW_WITHOUT_DEADLINE);
    let request = platform.http.policy().request_timeout;
    let now = platform.clock.now_secs();
    let items = platform.store.query_due(&crate::keys::due_queue(T::INTEGRATION), now, READ_LIMIT).await?;
    let mut report = SweepReport { read: items.len(), ..SweepReport::default() };
    let (work, cards): (Vec<_>, Vec<_>) = items.into_iter().partition(|i| WorkRecord::from_item(i).is_some());
    let work = in_turn_by_tenant(work.iter().filter_map(WorkRecord::from_item).collect());
    let mut errors = Vec::new();

    // The work.
    let mut longest = Duration::ZERO;
    let mut queue = work.into_iter();
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < AT_ONCE && left_before(end) >= longest + request {
            let Some(record) = queue.next() else { break };
            running.push(async move {
                let started = Instant::now();
                let ran = rerun(t, &record, false).await;
                (record, started.elapsed(), ran)
            });
        }
        let Some((record, took, ran)) = running.next().await else { break };
        longest = longest.max(took);
        match ran {
            Ok(Ran::Done(_)) => report.rerun += 1,
            Ok(Ran::Skipped) => {}
            Ok(Ran::Released) => report.left += 1,
            Err(e) => {
                tracing::warn!(record = %record.pk, error = %e.detail, "due work not run");
                errors.push(e.detail);
            }
        }
    }
    report.left += queue.len();
    if report.left > 0 {
        report.stopped = Some(format!(
            "{} ms were left; one item needs {} ms (the longest so far and one request's time-out)",
            left_before(end).as_millis(),
            (longest + request).as_millis()
        ));
    }

    // The cards, after the work, under their own cap.
    report.cards_left = cards.len().saturating_sub(CARD_CAP);
    let mut cards = cards.into_iter().take(CARD_CAP);
    let mut sending = FuturesUnordered::new();
    loop {
        while sending.len() < AT_ONCE && left_before(end) >= request {
            let Some(card) = cards.next() else { break };
            sending.push(async move { cards::redeliver_due(platform, std::slice::from_ref(&card)).await });
        }
        match sending.next().await {
            Some(Ok(sent)) => report.cards_sent += sent,
            Some(Err(e)) => {
                tracing::warn!(error = %e.detail, "due card not sent");
                errors.push(e.detail);
            }
            None => break,
        }
    }
    let unsent = cards.len();
    if unsent > 0 || report.cards_left > 0 {
        report.cards_left += unsent;
        report.stopped.get_or_insert_with(|| {
            format!("at most {CARD_CAP} cards are sent in one run, each while one request's time-out is left")
        });
    }

    report.failed = errors.len();
    if let Some(first) = errors.first() {
        report.error = Some(format!("{} due item(s) could not be run; the first: {first}", errors.len()));
    }
    tracing::info!(
        integration = T::INTEGRATION,
        read = report.read,
        rerun = report.rerun,
        left = report.left,
        cards_sent = report.cards_sent,
        cards_left = report.cards_left,
        failed = report.failed,
        "sweep"
    );
    Ok(report)
}

/// The time left before `end`.
fn left_before(end: Instant) -> Duration {
    end.saturating_duration_since(Instant::now())
}

/// Due work in turns: one item of each tenant (in the order they first come), then the next of
/// each, so that one tenant's backlog cannot take another's turns.
fn in_turn_by_tenant(records: Vec<WorkRecord>) -> Vec<WorkRecord> {
    let mut tenants: Vec<(String, VecDeque<WorkRecord>)> = Vec::new();
    for record in records {
        // `EVENT#{integration}#{tenant}#…`
        let tenant = record.pk.split('#').nth(2).unwrap_or_default().to_owned();
        match tenants.iter_mut().find(|(t, _)| *t == tenant) {
            Some((_, queue)) => queue.push_back(record),
            None => tenants.push((tenant, VecDeque::from([record]))),
        }
    }
    let mut turns = Vec::new();
    while !tenants.is_empty() {
        tenants.retain_mut(|(_, queue)| match queue.pop_front() {
            Some(record) => {
                turns.push(record);
                true
            }
            None => false,
        });
    }
    turns
}

/// `GET /{integration}/work?state=failed|due|given_up` (admin).
pub async fn list<T: Trigger>(t: &T, req: &Request) -> AppResult<Response> {
    crate::admin::require_scope(t.platform(), req, T::INTEGRATION).await?;
    let query = web::query(req);
    let wanted = query.get("state").map(String::as_str).unwrap_or("failed");
    let state = ListState::parse(wanted)
        .ok_or_else(|| AppError::bad_request("state must be failed, due or given_up"))?;
    let records = t.platform().idempotency.list(T::INTEGRATION, state, SWEEP_LIMIT).await?;
    let work: Vec<Value> = records.iter().map(describe).collect();
    let mut answer = json!({ "state": wanted, "work": work });
    // Card updates Teamtailor refused for good are given up too, and shown with the work.
    if state == ListState::GivenUp {
        let refused = cards::given_up(t.platform(), T::INTEGRATION, SWEEP_LIMIT).await?;
        answer["cards"] = serde_json::to_value(refused).map_err(AppError::internal)?;
    }
    Ok(web::json(StatusCode::OK, &answer))
}

fn describe(r: &WorkRecord) -> Value {
    let tenant = r.work.get("tenant").and_then(Value::as_str).unwrap_or_default();
    json!({
        "id": format!("{tenant}:{}", r.id),
        "event_id": r.id,
        "state": r.state.as_str(),
        "attempts": r.attempts,
        "error": r.error,
        "due_at": r.due_at,
    })
}

/// `POST /{integration}/work/{id}/retry` (admin, audited): runs failed or given-up work again now.
pub async fn retry<T: Trigger>(t: &T, req: &Request, id: &str) -> AppResult<Response> {
    crate::admin::write(t.platform(), req, T::INTEGRATION, &format!("work {id}")).await?;
    let record = find(t, id).await?;
    retry_record(t, &record).await
}

/// Runs one recorded trigger again by hand (the operator's retry, also under its older routes).
async fn retry_record<T: Trigger>(t: &T, record: &WorkRecord) -> AppResult<Response> {
    if !matches!(record.state, WorkState::Failed | WorkState::GivenUp) {
        return Err(AppError::conflict(format!(
            "work {} is {}; only failed or given-up work is retried",
            record.id,
            record.state.as_str()
        )));
    }
    let Ran::Done(answer) = rerun(t, record, true).await? else {
        return Err(AppError::conflict(format!("work {} is being run right now", record.id)));
    };
    Ok(web::json(
        StatusCode::OK,
        &json!({
            "id": record.id,
            "status": if answer.status().is_success() { "completed" } else { "failed" },
            "answer": String::from_utf8_lossy(answer.body()),
        }),
    ))
}

/// The work item `id` of this integration: an id is `{tenant}:{event id}` as listed, a trigger's
/// or a vendor event's.
async fn find<T: Trigger>(t: &T, id: &str) -> AppResult<WorkRecord> {
    let (tenant, event) = id.split_once(':').ok_or_else(|| AppError::not_found(format!("no work {id}")))?;
    let idempotency = &t.platform().idempotency;
    if let Some(record) = idempotency.record(&scope::<T>(tenant), event).await? {
        return Ok(record);
    }
    idempotency
        .record(&format!("{}#vendor", scope::<T>(tenant)), event)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no work {id}")))
}
