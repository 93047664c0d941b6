//! One submission's StackOne account sync, as durable work (`hirebridge::idempotency`): recorded
//! before StackOne is called, finished with its outcome, and — when StackOne was down or answered
//! a `5xx` — due again for the scheduled [`sweep`] after `HIREBRIDGE_RETRY_SCHEDULE`'s delays.
//! Every run looks the owner's account up before creating one, so a `POST /accounts` that StackOne
//! performed but did not confirm never leaves a duplicate. Operators list and retry it through
//! `GET /stackone/work` and `POST /stackone/work/{id}/retry`.
use hirebridge::admin;
use hirebridge::error::AppResult;
use hirebridge::idempotency::{Claim, Finish, Lease, ListState, Outcome, WorkRecord, WorkState};
use hirebridge::outbound::OutboundError;
use hirebridge::store::Cond;
use hirebridge::trigger::{SweepReport, SWEEP_LIMIT};
use hirebridge::web::{self, Request, Response};
use hirebridge::AppError;
use http::StatusCode;
use serde_json::{json, Value};

use crate::stackone::{owned_by, Ambiguous, LinkedAccount, PROVIDER};
use crate::store::{self, Link, LinkStatus, LinkWork};
use crate::{Deps, VendorSecret, INTEGRATION, VENDOR_SECRET};

/// What one run did: the owner's account, or nothing because a newer submission took over.
pub type Ran = AppResult<Option<LinkedAccount>>;

/// Records the work of a submission before anything is sent to StackOne.
pub async fn record(deps: &Deps, work: &LinkWork) -> AppResult<Lease> {
    let value = serde_json::to_value(work).map_err(AppError::internal)?;
    let scope = store::work_scope(&work.owner);
    match deps.platform.idempotency.claim(&scope, &work.submission, value).await? {
        Claim::Acquired(lease) => Ok(lease),
        // A submission is recorded once; a replay means it is already being handled.
        Claim::Replay(_) => Err(AppError::conflict("this link was submitted already; refresh the page")),
    }
}

/// Runs the work under `lease` and records how it ended.
pub async fn run_and_finish(deps: &Deps, lease: Lease, work: &LinkWork) -> AppResult<(WorkState, Ran)> {
    let ran = run(deps, work).await;
    let (answer, finish) = match &ran {
        Ok(Some(a)) => (json!({"account_id": a.id, "status": a.status}), Finish::Completed),
        Ok(None) => (json!({"superseded": true}), Finish::Completed),
        Err(e) if e.status.is_server_error() => {
            (json!({"error": e.detail}), Finish::Failed(e.detail.clone()))
        }
        Err(e) => (json!({"error": e.detail}), Finish::GivenUp(e.detail.clone())),
    };
    let status = ran.as_ref().err().map_or(StatusCode::OK, |e| e.status);
    let outcome = Outcome::from_response(&web::json(status, &answer));
    let state = deps.platform.idempotency.finish(lease, &outcome, finish).await?;
    if state == WorkState::GivenUp {
        mark(deps, work, LinkStatus::Failed).await?;
    }
    tracing::info!(owner = %work.owner, submission = %work.submission, state = state.as_str(), "stackone account sync");
    Ok((state, ran))
}

/// Creates or updates the owner's StackOne account with the credentials of this submission.
async fn run(deps: &Deps, work: &LinkWork) -> Ran {
    let platform = &deps.platform;
    let (pk, sk) = Link::key(&work.owner);
    let link = platform.store.get(&pk, sk).await?.as_ref().and_then(Link::from_item);
    if link.and_then(|l| l.submission).as_deref() != Some(work.submission.as_str()) {
        return Ok(None);
    }
    let mut credentials: Value =
        platform.secrets.get_json(&store::credentials_secret(&work.owner)).await?.ok_or_else(|| {
            AppError::conflict("the saved credentials are gone; open a new link to save them again")
        })?;
    // A warm instance may still hold an older copy of the secret: wait for this submission's.
    if credentials.get("submission").and_then(Value::as_str) != Some(work.submission.as_str()) {
        return Err(AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the saved credentials are not readable yet; hirebridge will try again",
        ));
    }
    if let Some(object) = credentials.as_object_mut() {
        object.remove("submission");
    }
    let vendor: VendorSecret = platform.secrets.require_json(VENDOR_SECRET).await?;
    let api = &deps.stackone;
    let accounts = api.accounts_of(&vendor.api_key, &work.owner).await.map_err(failed)?;
    let account = match owned_by(&accounts, &work.owner) {
        Err(Ambiguous(n)) => return Err(AppError::conflict(format!(
            "StackOne has {n} Teamtailor accounts for this owner, so hirebridge cannot tell which one to update and changed none. \
             Ask your hirebridge admin to remove the extra accounts in StackOne and retry this link."
        ))),
        Ok(Some(mine)) => {
            api.update(&vendor.api_key, &mine.id, &json!({"credentials": credentials})).await.map_err(failed)?
        }
        Ok(None) => {
            let body = json!({"provider": PROVIDER, "origin_owner_id": work.owner,
                              "origin_owner_name": work.owner_name, "credentials": credentials});
            api.create(&vendor.api_key, &body).await.map_err(failed)?
        }
    };
    save(deps, work, &account).await?;
    Ok(Some(account))
}

/// StackOne's failure, in fixed words (its own text stays in the log); always worth a retry:
/// an outage passes, a `409` or `404` is cured by looking the account up again.
fn failed(e: OutboundError) -> AppError {
    tracing::warn!(error = %e, maybe_performed = e.maybe_performed(), "stackone call failed");
    let why = match e.status() {
        Some(status) => format!("StackOne answered {}", status.as_u16()),
        None => "StackOne could not be reached".to_owned(),
    };
    AppError::upstream(format!("{why}; the Teamtailor account is not linked yet, hirebridge will try again"))
}

/// The link now names the account; unless a newer submission took over meanwhile.
async fn save(deps: &Deps, work: &LinkWork, account: &LinkedAccount) -> AppResult<()> {
    let store = &deps.platform.store;
    store.put(store::account_item(&account.id, &work.owner), None).await?;
    let link = Link {
        owner: work.owner.clone(),
        owner_name: work.owner_name.clone(),
        account_id: Some(account.id.clone()),
        status: LinkStatus::parse(&account.status),
        submission: Some(work.submission.clone()),
        updated_at: deps.platform.now_secs(),
    };
    store.put(link.to_item(), Some(Cond::Eq("submission", json!(work.submission)))).await?;
    Ok(())
}

/// Sets the link's status, if the link is still this submission's.
async fn mark(deps: &Deps, work: &LinkWork, status: LinkStatus) -> AppResult<()> {
    let store = &deps.platform.store;
    let (pk, sk) = Link::key(&work.owner);
    let Some(mut link) = store.get(&pk, sk).await?.as_ref().and_then(Link::from_item) else { return Ok(()) };
    link.status = status;
    link.updated_at = deps.platform.now_secs();
    store.put(link.to_item(), Some(Cond::Eq("submission", json!(work.submission)))).await?;
    Ok(())
}

/// Runs a recorded sync again (the sweep, or an operator), if it can be claimed.
async fn rerun(deps: &Deps, record: &WorkRecord, by_hand: bool) -> AppResult<Option<(WorkState, Ran)>> {
    let Some(lease) = deps.platform.idempotency.claim_again(record, by_hand).await? else {
        return Ok(None);
    };
    let Some(work) = LinkWork::from_value(&record.work) else {
        let answer = Outcome::from_response(&web::json(StatusCode::OK, &json!({"error": "unreadable work"})));
        let finish = Finish::GivenUp("the recorded work could not be read".into());
        let state = deps.platform.idempotency.finish(lease, &answer, finish).await?;
        return Ok(Some((state, Err(AppError::internal("unreadable stackone work item")))));
    };
    run_and_finish(deps, lease, &work).await.map(Some)
}

/// The scheduled run: the due syncs (failed ones whose delay is over, claims whose lease ended),
/// at most [`SWEEP_LIMIT`], read from the sparse index only.
pub async fn sweep(deps: &Deps) -> AppResult<SweepReport> {
    let due = deps.platform.idempotency.due(INTEGRATION, SWEEP_LIMIT).await?;
    let mut report = SweepReport { read: due.len(), ..SweepReport::default() };
    for record in &due {
        match rerun(deps, record, false).await {
            Ok(Some(_)) => report.rerun += 1,
            Ok(None) => {}
            Err(e) => tracing::warn!(record = %record.pk, error = %e.detail, "due stackone work not run"),
        }
    }
    Ok(report)
}

fn describe(r: &WorkRecord) -> Value {
    let owner = r.work.get("owner").and_then(Value::as_str).unwrap_or_default();
    json!({
        "id": store::work_id(owner, &r.id),
        "origin_owner_id": owner,
        "state": r.state.as_str(),
        "attempts": r.attempts,
        "error": r.error,
        "due_at": r.due_at,
    })
}

/// `GET /stackone/work?state=failed|due|given_up` (admin, `stackone` scope).
pub async fn list(deps: &Deps, req: &Request) -> AppResult<Response> {
    admin::require_scope(&deps.platform, req, INTEGRATION).await?;
    let query = web::query(req);
    let wanted = query.get("state").map(String::as_str).unwrap_or("failed");
    let state = ListState::parse(wanted)
        .ok_or_else(|| AppError::bad_request("state must be failed, due or given_up"))?;
    let records = deps.platform.idempotency.list(INTEGRATION, state, SWEEP_LIMIT).await?;
    let work: Vec<Value> = records.iter().map(describe).collect();
    Ok(web::json(StatusCode::OK, &json!({ "state": wanted, "work": work })))
}

/// `POST /stackone/work/{id}/retry` (admin, `stackone` scope, audited): runs a failed or given-up
/// sync again now.
pub async fn retry(deps: &Deps, req: &Request, id: &str) -> AppResult<Response> {
    admin::write(&deps.platform, req, INTEGRATION, id).await?;
    let unknown = || AppError::not_found("no StackOne work with this id; list it with GET /stackone/work");
    let (owner, submission) = store::parse_work_id(id).ok_or_else(unknown)?;
    let record =
        deps.platform.idempotency.record(&store::work_scope(owner), submission).await?.ok_or_else(unknown)?;
    if !matches!(record.state, WorkState::Failed | WorkState::GivenUp) {
        return Err(AppError::conflict(format!(
            "this work is {}; only failed or given-up work is retried",
            record.state.as_str()
        )));
    }
    let (state, ran) = rerun(deps, &record, true)
        .await?
        .ok_or_else(|| AppError::conflict("this work is being run right now"))?;
    let mut answer = json!({"id": id, "state": state.as_str()});
    match ran {
        Ok(Some(account)) => {
            answer["account_id"] = json!(account.id);
            answer["status"] = json!(account.status);
        }
        Ok(None) => answer["detail"] = json!("a newer submission of the Link Account page replaced this one"),
        Err(e) => answer["error"] = json!(e.detail),
    }
    Ok(web::json(StatusCode::OK, &answer))
}
