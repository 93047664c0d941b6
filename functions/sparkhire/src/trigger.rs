//! The trigger form and webhook. Teamtailor's provider key for this listing is its UUID (no
//! activation fields), verified against the listing's activations.
use std::time::Duration;

use hirebridge::error::AppResult;
use hirebridge::idempotency::Claim;
use hirebridge::platform::Listing;
use hirebridge::store::{Cond, Item, PutOutcome};
use hirebridge::teamtailor::activations::Activation;
use hirebridge::teamtailor::forms::{Field, Form};
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::teamtailor::webhook::Webhook;
use hirebridge::web::{self, Request, Response};
use hirebridge::{tickets, AppError, SecretString};
use http::StatusCode;
use serde_json::{json, Map, Value};

use crate::connect::{check_user, key_secret, UserKey};
use crate::sparkhire::NewInterview;
use crate::{Deps, INTEGRATION, TICKET_PURPOSE};

const CREATE_JOB: &str = "create";
const CONNECT_TTL_SECS: i64 = 30 * 60;

async fn authenticate(deps: &Deps, req: &Request) -> AppResult<(Listing, Activation)> {
    let auth = deps.activations.authenticate(&deps.platform, INTEGRATION, req).await?;
    Ok((auth.listing, auth.activation))
}

/// The recruiter's key, if they connected one for this company.
async fn user_key(deps: &Deps, user: &str, company: &str) -> AppResult<Option<UserKey>> {
    let key: Option<UserKey> = deps.platform.secrets.get_json(&key_secret(user)).await?;
    Ok(key.filter(|k| k.company_uuid.as_deref().is_none_or(|c| c == company)))
}

/// `GET /sparkhire/config?job_id=&stage_id=&user_id=`.
pub async fn config(deps: &Deps, req: &Request) -> AppResult<Response> {
    let (_, activation) = authenticate(deps, req).await?;
    let query = web::query(req);
    let user = query.get("user_id").cloned().unwrap_or_default();
    check_user(&user)?;
    let Some(key) = user_key(deps, &user, &activation.company_uuid).await? else {
        let platform = &deps.platform;
        let signing = tickets::signing_key(&platform.secrets).await?;
        let ticket = tickets::issue(
            &signing,
            TICKET_PURPOSE,
            &user,
            &activation.company_uuid,
            platform.now_secs() + CONNECT_TTL_SECS,
        );
        let url = format!("{}?ticket={ticket}", platform.config.public_url("/sparkhire/connect"));
        return Ok(Form::new()
            .infobox(
                &format!("Spark Hire sends interviews in your name, so connect your own Spark Hire account first: <a href=\"{}\" target=\"_blank\">Connect Spark Hire</a>. Then open this trigger again.", web::escape(&url)),
                "warning",
            )
            .error("Connect your Spark Hire account first (the link above), then open this trigger again.")
            .into_response());
    };
    let reconnect = |e: hirebridge::outbound::OutboundError| {
        match e.status() {
        Some(StatusCode::UNAUTHORIZED) | Some(StatusCode::FORBIDDEN) => AppError::unprocessable(
            "Spark Hire no longer accepts your key. Ask your admin to disconnect it, then connect your Spark Hire account again.",
        ),
        _ => AppError::upstream(format!("{e}; open the trigger again in a minute")),
    }
    };
    let jobs = deps.sparkhire.jobs(&key.api_key).await.map_err(reconnect)?;
    let sets = deps.sparkhire.question_sets(&key.api_key).await.map_err(reconnect)?;
    let mut job_options = vec![(CREATE_JOB.to_owned(), "Create from this Teamtailor job".to_owned())];
    job_options.extend(jobs.into_iter().map(|j| (j.uuid, j.name)));
    let types = [
        ("one_way".to_owned(), "One-way interview".to_owned()),
        ("live".to_owned(), "Live interview".to_owned()),
    ];
    let sets: Vec<(String, String)> = sets.into_iter().map(|s| (s.uuid, s.name)).collect();
    Ok(Form::new()
        .infobox(
            &format!("Interviews are sent with the Spark Hire account of {}.", web::escape(&key.name)),
            "info",
        )
        .field(Field::select("job", "Spark Hire job", &job_options).required())
        .field(Field::select("interview_type", "Interview type", &types).required())
        .field(Field::select("question_set", "Question set", &sets).required())
        .field(Field::new_typed("date", "deadline", "Deadline (one-way interviews)"))
        .field(Field::new_typed("datetime-local", "interview_time", "Interview time (live interviews, UTC)"))
        .field(Field::text("message", "Message to the candidate (optional)"))
        .field(Field::new_typed("hidden", "set_up_by", "Set up by").set("value", json!(user)))
        .into_response())
}

fn data_str(data: &Map<String, Value>, id: &str) -> Option<String> {
    let v = data.get(id).or_else(|| data.get(&id.replace('_', "-")))?;
    match v {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `YYYY-MM-DD` → the end of that day; `YYYY-MM-DDTHH:MM` → that minute (UTC).
fn schedule(live: bool, data: &Map<String, Value>) -> AppResult<String> {
    let digits_at =
        |s: &str, idx: &[usize]| idx.iter().all(|i| s.as_bytes().get(*i).is_some_and(u8::is_ascii_digit));
    if live {
        let t = data_str(data, "interview_time").ok_or_else(|| {
            AppError::unprocessable("A live interview needs an interview time: edit the trigger and set one.")
        })?;
        if t.len() >= 16 && digits_at(&t, &[0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15]) && &t[10..11] == "T" {
            return Ok(format!("{}:00Z", &t[..16]));
        }
        Err(AppError::unprocessable("The interview time must look like 2026-12-01T14:30: edit the trigger."))
    } else {
        let d = data_str(data, "deadline").ok_or_else(|| {
            AppError::unprocessable("A one-way interview needs a deadline: edit the trigger and set one.")
        })?;
        if d.len() == 10 && digits_at(&d, &[0, 1, 2, 3, 5, 6, 8, 9]) {
            return Ok(format!("{d}T23:59:59Z"));
        }
        Err(AppError::unprocessable("The deadline must be a date like 2026-12-01: edit the trigger."))
    }
}

/// `POST /sparkhire/webhook`.
pub async fn webhook(deps: &Deps, req: &Request) -> AppResult<Response> {
    let (listing, activation) = authenticate(deps, req).await?;
    let platform = &deps.platform;
    let event = Webhook::receive(platform, &listing, req)?.partner_event;
    let data = &event.webhook_data;
    let c = &event.candidate;
    // The recruiter who triggered it; in bulk mode, the one who set the trigger up.
    let user = c
        .job
        .as_ref()
        .and_then(|j| j.triggered_by.as_ref())
        .and_then(|p| p.id.clone())
        .or_else(|| data_str(data, "set_up_by"))
        .ok_or_else(|| {
            AppError::unprocessable(
                "Teamtailor did not say which recruiter triggered this; set the trigger up again.",
            )
        })?;
    check_user(&user)?;
    let Some(key) = user_key(deps, &user, &activation.company_uuid).await? else {
        return Err(AppError::unprocessable(
            "Spark Hire is not connected for the recruiter who triggered this. Open the trigger's settings in Teamtailor and connect your Spark Hire account, then move the candidate again.",
        ));
    };
    let (Some(first), Some(email)) =
        (hirebridge::web::present(&c.first_name), hirebridge::web::present(&c.email))
    else {
        return Err(AppError::unprocessable("Spark Hire needs the candidate's name and e-mail address; add them and move the candidate again."));
    };
    let name =
        format!("{first} {}", hirebridge::web::present(&c.last_name).unwrap_or_default()).trim().to_owned();
    let job_choice = data_str(data, "job").ok_or_else(|| {
        AppError::unprocessable("The trigger has no Spark Hire job: edit the trigger and choose one.")
    })?;
    let question_set = data_str(data, "question_set").ok_or_else(|| {
        AppError::unprocessable("The trigger has no question set: edit the trigger and choose one.")
    })?;
    let live = data_str(data, "interview_type").as_deref() == Some("live");
    let scheduled_at = schedule(live, data)?;
    let tt_job = c
        .job
        .as_ref()
        .map(|j| (j.id.clone(), j.title.clone().unwrap_or_else(|| format!("Teamtailor job {}", j.id))));
    if job_choice == CREATE_JOB && tt_job.is_none() {
        return Err(AppError::unprocessable("\"Create from this Teamtailor job\" needs a job; run the trigger from a job, or choose a Spark Hire job."));
    }

    let scope = format!("{INTEGRATION}#{}", activation.company_uuid);
    let work = json!({"candidate_id": c.id, "user": user, "job": job_choice, "live": live, "update_url": event.partner_result.update_url});
    let lease = match platform.idempotency.claim(&scope, &event.id, work).await? {
        Claim::Replay(outcome) => return Ok(outcome.to_response()),
        Claim::Acquired(lease) => lease,
    };
    let outcome = async {
        let job_uuid = match (&job_choice[..], &tt_job) {
            (CREATE_JOB, Some((id, title))) => synced_job(deps, &activation.company_uuid, id, title, &key.api_key).await?,
            _ => job_choice.clone(),
        };
        let message: Option<String> = data_str(data, "message").map(|m| m.chars().take(2000).collect());
        let interview = NewInterview {
            live,
            job_uuid: &job_uuid,
            question_set: &question_set,
            name: &name,
            email: &email,
            scheduled_at: &scheduled_at,
            message: message.as_deref(),
        };
        deps.sparkhire.create_interview(&key.api_key, &interview).await.map_err(|e| match e.status() {
            Some(StatusCode::UNAUTHORIZED) | Some(StatusCode::FORBIDDEN) => AppError::unprocessable(
                "Spark Hire no longer accepts the triggering recruiter's key. Reconnect Spark Hire from the trigger's settings, then move the candidate again.",
            ),
            _ => AppError::upstream(format!("The Spark Hire interview was not created: {e}. Move the candidate again to retry.")),
        })
    }
    .await;
    let (result, error, status) = match outcome {
        Ok(interview) => {
            platform
                .store
                .put(
                    Item::new(format!("SPARKHIRE_INTERVIEW#{}", interview.uuid), "INTERVIEW")
                        .with("update_url", event.partner_result.update_url.clone())
                        .with("company_uuid", activation.company_uuid.clone()),
                    None,
                )
                .await?;
            let mut result = PartnerResult::new(ResultStatus::Sent);
            if live {
                result = result
                    .summary(format!("Live Spark Hire interview scheduled with {email} at {scheduled_at}."));
                if let Some(join) =
                    interview.join_url.filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                {
                    result = result.url(join.clone()).attachment(join, "Join the interview");
                }
            } else {
                result = result.summary(format!(
                    "One-way Spark Hire interview sent to {email}; deadline {}.",
                    &scheduled_at[..10]
                ));
            }
            (result, None, StatusCode::OK)
        }
        Err(e) => (
            PartnerResult::new(ResultStatus::Failed).summary(e.detail.clone()),
            Some(e.detail.clone()),
            e.status,
        ),
    };
    let response = hirebridge::teamtailor::conclude(
        platform,
        lease,
        &event.partner_result.update_url,
        &listing.partner_api_key,
        &result,
        error.as_deref(),
        status,
    )
    .await?;
    tracing::info!(event = %event.id, user = %user, failed = error.is_some(), "spark hire trigger handled");
    Ok(response)
}

/// The Spark Hire job made from a Teamtailor job: created once, however many candidates are
/// invited at once (a claim in the table; the others wait for its uuid).
async fn synced_job(
    deps: &Deps,
    company: &str,
    tt_job: &str,
    title: &str,
    key: &SecretString,
) -> AppResult<String> {
    let store = &deps.platform.store;
    let pk = format!("SPARKHIRE_JOB#{company}#{tt_job}");
    for _ in 0..100 {
        if let Some(item) = store.get(&pk, "JOB").await? {
            if let Some(uuid) = item.str("uuid") {
                return Ok(uuid.to_owned());
            }
            let stale = item.i64("at").is_some_and(|at| at < deps.platform.now_secs() - 60);
            if !stale {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        }
        let now = deps.platform.now_secs();
        let claim = Item::new(pk.clone(), "JOB").with("status", "creating").with("at", now);
        let free = Cond::Or(vec![
            Cond::NotExists,
            Cond::And(vec![Cond::Eq("status", json!("creating")), Cond::Lt("at", now - 60)]),
        ]);
        if let PutOutcome::Rejected(_) = store.put(claim, Some(free)).await? {
            continue;
        }
        return match deps.sparkhire.create_job(key, title).await {
            Ok(job) => {
                store
                    .put(Item::new(pk, "JOB").with("status", "created").with("uuid", job.uuid.clone()), None)
                    .await?;
                Ok(job.uuid)
            }
            Err(e) => {
                store.delete(&pk, "JOB").await?;
                Err(AppError::upstream(format!(
                    "The Spark Hire job was not created: {e}. Move the candidate again to retry."
                )))
            }
        };
    }
    Err(AppError::conflict("The Spark Hire job for this Teamtailor job is still being created; move the candidate again in a minute."))
}
