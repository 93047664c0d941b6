//! What a trigger does in Spark Hire, each thing once however often it is run: the Spark Hire job
//! made from the Teamtailor job (once per Teamtailor job), and the candidate's interview (once
//! per trigger). Spark Hire takes no idempotency key, so a `POST` that may have reached it without
//! an answer is followed, on the next run, by a look-up (the job by its title, the interview by
//! job and e-mail, made since the trigger and no other trigger's) before anything is created again.
use std::time::Duration;

use hirebridge::claim::{self, Claimed};
use hirebridge::error::AppResult;
use hirebridge::outbound::OutboundError;
use hirebridge::store::{Cond, Item};
use hirebridge::{AppError, SecretString};
use serde_json::json;

use crate::sparkhire::{Interview, NewInterview};
use crate::store::{self, Recruiter, JOB_UUID, MAYBE_CREATED};
use crate::Deps;

pub const RECONNECT: &str = "Spark Hire no longer accepts the triggering recruiter's key. Reconnect Spark Hire from the trigger's settings, then move the candidate again.";

/// Spark Hire's failure as the card says it: a fixed text per kind, never Spark Hire's own words.
/// Outages and rate limits are retried (5xx); refusals are final (4xx).
pub fn failure(e: &OutboundError, what: &str) -> AppError {
    match e.status().map(|s| s.as_u16()) {
        Some(401 | 403) => AppError::unprocessable(RECONNECT),
        _ if e.is_transient() => {
            AppError::upstream(format!("Spark Hire did not answer when asked for {what}, or was unavailable"))
        }
        _ => AppError::unprocessable(format!(
            "Spark Hire refused {what}; check the trigger's job, question set and dates, then move the candidate again"
        )),
    }
}

/// The recruiter's Spark Hire job made from Teamtailor job `teamtailor_job`: created once, however
/// many candidates are invited at once (the others wait for its uuid).
pub async fn synced_job(
    deps: &Deps,
    r: &Recruiter,
    (teamtailor_job, title, location): (&str, &str, &str),
    key: &SecretString,
) -> AppResult<String> {
    let platform = &deps.platform;
    let (store, clock) = (platform.store.as_ref(), platform.clock.as_ref());
    let claim_item = || store::job_claim(r, teamtailor_job);
    for _ in 0..100 {
        let current = store.get(&claim_item().pk, &claim_item().sk).await?;
        if let Some(uuid) = current.as_ref().filter(|c| claim::is_done(c)).and_then(|c| c.str(JOB_UUID)) {
            return Ok(uuid.to_owned());
        }
        let maybe_created = current.as_ref().and_then(|c| c.bool(MAYBE_CREATED)).unwrap_or(false);
        let mine = claim_item().with(MAYBE_CREATED, maybe_created);
        match claim::once(store, clock, mine, Duration::from_secs(60)).await? {
            Claimed::Won => {
                return create_job(deps, claim_item(), (title, location, maybe_created), key).await
            }
            Claimed::Held(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    Err(AppError::upstream("the Spark Hire job for this Teamtailor job is still being created"))
}

/// Holding the job's claim: looks it up when an earlier `POST` may have made it, else creates it.
async fn create_job(
    deps: &Deps,
    claim_item: Item,
    (title, location, look_up): (&str, &str, bool),
    key: &SecretString,
) -> AppResult<String> {
    let store = deps.platform.store.as_ref();
    let found = match look_up {
        true => deps.sparkhire.find_job(key, title).await.map_err(|e| failure(&e, "its jobs"))?,
        false => None,
    };
    let created = match found {
        Some(uuid) => Ok(uuid),
        None => deps.sparkhire.create_job(key, title, location).await.map(|job| job.uuid),
    };
    match created {
        Ok(uuid) => {
            claim::done(store, claim_item.with(JOB_UUID, uuid.clone())).await?;
            Ok(uuid)
        }
        Err(e) => {
            // Free the claim now; remember whether the job may exist after all.
            let free = claim_item
                .with("state", "claimed")
                .with("lease_until", 0)
                .with(MAYBE_CREATED, e.maybe_performed());
            store.put(free, Some(Cond::Eq("state", json!("claimed")))).await?;
            Err(failure(&e, "the job"))
        }
    }
}

/// The trigger's interview: created once. When an earlier attempt of the trigger ran (it may
/// have posted the interview without an answer), Spark Hire is asked first whether it has it:
/// an interview for the same job and e-mail made since the trigger's first attempt (`since`)
/// and not already another trigger's (its card is recorded), so that a candidate invited again
/// gets a new interview.
pub async fn interview_once(
    deps: &Deps,
    interview: &NewInterview<'_>,
    key: &SecretString,
    (earlier, since): (bool, Option<i64>),
) -> AppResult<Interview> {
    if earlier {
        let found = deps.sparkhire.find_interviews(key, (interview.job_uuid, interview.email), since).await;
        for found in found.map_err(|e| failure(&e, "its interviews"))? {
            let store = deps.platform.store.as_ref();
            if store.get(&store::interview_pk(&found.uuid), store::INTERVIEW_SK).await?.is_some() {
                continue;
            }
            tracing::info!(interview = %found.uuid, "spark hire interview found; not created again");
            return Ok(found);
        }
    }
    deps.sparkhire.create_interview(key, interview).await.map_err(|e| failure(&e, "the interview"))
}
