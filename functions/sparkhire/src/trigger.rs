//! What Teamtailor calls: the trigger form (`GET /sparkhire/config`) and the trigger on the shared
//! pipeline (`POST /sparkhire/webhook`). The provider key is the listing's UUID (no activation
//! fields), verified against its activations; the tenant is the company and the recruiter whose
//! own Spark Hire key sends the interview.
use async_trait::async_trait;
use hirebridge::error::AppResult;
use hirebridge::platform::{Listing, Platform};
use hirebridge::teamtailor::forms::{Field, Form};
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::teamtailor::webhook::Webhook;
use hirebridge::trigger::{self, Done, Job, Trigger};
use hirebridge::web::{self, Request, Response};
use hirebridge::{tickets, AppError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::recruiters::{self, check_user};
use crate::sparkhire::{Named, NewInterview, NO_LOCATION};
use crate::store::{InterviewCard, Recruiter};
use crate::{events, send, Deps, INTEGRATION, TICKET_PURPOSE};

const CREATE_JOB: &str = "create";
const CONNECT_TTL_SECS: i64 = 30 * 60;
/// The signed recruiter in a trigger's form: bulk mode names no recruiter in the webhook.
const RECRUITER_PURPOSE: &str = "sparkhire-recruiter";
/// Saved triggers keep their form values, so the recruiter they name stays valid.
const RECRUITER_TTL_SECS: i64 = 10 * 365 * 24 * 3600;

const NOT_CONNECTED: &str =
    "Spark Hire sends interviews in your name, so connect your own Spark Hire account first:";
const REVOKED: &str = "Spark Hire no longer accepts your key (it was revoked, or your Spark Hire user was disabled), so connect your Spark Hire account again:";
const NOT_CONNECTED_CARD: &str = "Spark Hire is not connected for the recruiter who triggered this. Open the trigger's settings in Teamtailor and connect your Spark Hire account, then move the candidate again.";

/// `GET /sparkhire/config?job_id=&stage_id=&user_id=`: for the authenticated company's user only.
pub async fn config(deps: &Deps, req: &Request) -> AppResult<Response> {
    let auth = deps.activations.authenticate(&deps.platform, INTEGRATION, req).await?;
    let user = web::query(req).get("user_id").cloned().unwrap_or_default();
    check_user(&user)?;
    let r = Recruiter { company: auth.activation.company_uuid, user };
    let Some(key) = recruiters::key(deps, &r).await? else {
        return connect_form(deps, &r, NOT_CONNECTED).await;
    };
    let api = &deps.sparkhire;
    match tokio::try_join!(api.jobs(&key.api_key), api.question_sets(&key.api_key)) {
        Ok((jobs, sets)) => trigger_form(deps, &r, &key.record.name, (&jobs, &sets)).await,
        Err(e) if matches!(e.status().map(|s| s.as_u16()), Some(401 | 403)) => {
            connect_form(deps, &r, REVOKED).await
        }
        Err(_) => Err(AppError::upstream(
            "Spark Hire could not list your jobs just now; open the trigger again in a minute.",
        )),
    }
}

/// A link to the connect page with a fresh ticket for this company's user, and an error that
/// blocks saving until they have connected.
async fn connect_form(deps: &Deps, r: &Recruiter, why: &str) -> AppResult<Response> {
    let platform = &deps.platform;
    let signing = tickets::signing_key(&platform.secrets).await?;
    let expires = platform.now_secs() + CONNECT_TTL_SECS;
    let ticket = tickets::issue(&signing, TICKET_PURPOSE, &r.user, &r.company, expires);
    let url = format!("{}?ticket={ticket}", platform.config.public_url("/sparkhire/connect"));
    let link = format!("<a href=\"{}\" target=\"_blank\">Connect Spark Hire</a>", web::escape(&url));
    Ok(Form::new()
        .infobox(&format!("{why} {link}. Then open this trigger again."), "warning")
        .error("Connect your Spark Hire account first (the link above), then open this trigger again.")
        .into_response())
}

async fn trigger_form(
    deps: &Deps,
    r: &Recruiter,
    name: &str,
    (jobs, sets): (&[Named], &[Named]),
) -> AppResult<Response> {
    let platform = &deps.platform;
    let signing = tickets::signing_key(&platform.secrets).await?;
    let expires = platform.now_secs() + RECRUITER_TTL_SECS;
    let set_up_by = tickets::issue(&signing, RECRUITER_PURPOSE, &r.user, &r.company, expires);
    let mut job_options = vec![(CREATE_JOB.to_owned(), "Create from this Teamtailor job".to_owned())];
    job_options.extend(jobs.iter().map(|j| (j.uuid.clone(), j.label().to_owned())));
    let types = [
        ("one_way".to_owned(), "One-way interview".to_owned()),
        ("live".to_owned(), "Live interview".to_owned()),
    ];
    let sets: Vec<(String, String)> = sets.iter().map(|s| (s.uuid.clone(), s.label().to_owned())).collect();
    Ok(Form::new()
        .infobox(
            &format!("Interviews are sent with the Spark Hire account of {}.", web::escape(name)),
            "info",
        )
        .field(Field::select("job", "Spark Hire job", &job_options).required())
        .field(Field::select("interview_type", "Interview type", &types).required())
        .field(Field::select("question_set", "Question set", &sets).required())
        .field(Field::new_typed("date", "deadline", "Deadline (one-way interviews)"))
        .field(Field::new_typed("datetime-local", "interview_time", "Interview time (live interviews, UTC)"))
        .field(Field::text("message", "Message to the candidate (optional)"))
        .field(Field::new_typed("hidden", "set_up_by", "Set up by").set("value", json!(set_up_by)))
        .into_response())
}

/// `POST /sparkhire/webhook`: the shared trigger pipeline with Spark Hire's part below. A
/// recruiter who must act (no Spark Hire key, or one Spark Hire no longer accepts) is answered
/// `422` with the card's words, as every refusal the pipeline records.
pub async fn webhook(deps: &Deps, req: &Request) -> AppResult<Response> {
    trigger::receive(deps, req).await
}

/// The Spark Hire job the trigger names.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobChoice {
    Existing {
        uuid: String,
    },
    /// "Create from this Teamtailor job": made once per Teamtailor job (and recruiter).
    FromTeamtailor {
        id: String,
        title: String,
        /// Where the job is, as the webhook says (work recorded before this was kept has none).
        #[serde(default)]
        location: Option<String>,
    },
}

/// What one trigger asks for, recorded before anything is sent (no credential in it).
#[derive(Debug, Serialize, Deserialize)]
pub struct Work {
    pub event_id: String,
    pub update_url: String,
    pub name: String,
    pub email: String,
    pub job: JobChoice,
    pub question_set: String,
    pub live: bool,
    /// RFC 3339: the live interview's time, or the one-way interview's deadline.
    pub scheduled_at: String,
    pub message: Option<String>,
    /// When the trigger arrived (seconds): interviews made before it are not this trigger's.
    /// Work recorded before this was kept has none.
    #[serde(default)]
    pub requested_at: Option<i64>,
}

impl Work {
    fn from_webhook(hook: Webhook, body: &[u8], now_secs: i64) -> AppResult<Work> {
        let event = hook.partner_event;
        let (data, c) = (&event.webhook_data, &event.candidate);
        let (Some(first), Some(email)) = (web::present(&c.first_name), web::present(&c.email)) else {
            return Err(AppError::unprocessable("Spark Hire needs the candidate's name and e-mail address; add them and move the candidate again."));
        };
        let name = format!("{first} {}", web::present(&c.last_name).unwrap_or_default()).trim().to_owned();
        let chosen = data_str(data, "job").ok_or_else(|| {
            AppError::unprocessable("The trigger has no Spark Hire job: edit the trigger and choose one.")
        })?;
        let job = match (chosen.as_str(), &c.job) {
            (CREATE_JOB, Some(j)) => JobChoice::FromTeamtailor {
                id: j.id.clone(),
                title: j.title.clone().unwrap_or_else(|| format!("Teamtailor job {}", j.id)),
                location: location_of(body),
            },
            (CREATE_JOB, None) => return Err(AppError::unprocessable("\"Create from this Teamtailor job\" needs a job; run the trigger from a job, or choose a Spark Hire job.")),
            (uuid, _) => JobChoice::Existing { uuid: uuid.to_owned() },
        };
        let question_set = data_str(data, "question_set").ok_or_else(|| {
            AppError::unprocessable("The trigger has no question set: edit the trigger and choose one.")
        })?;
        let live = data_str(data, "interview_type").as_deref() == Some("live");
        Ok(Work {
            scheduled_at: schedule(live, data)?,
            message: data_str(data, "message").map(|m| m.chars().take(2000).collect()),
            event_id: event.id,
            update_url: event.partner_result.update_url,
            name,
            email,
            job,
            question_set,
            live,
            requested_at: Some(now_secs),
        })
    }

    fn interview<'a>(&'a self, job_uuid: &'a str) -> NewInterview<'a> {
        NewInterview {
            live: self.live,
            job_uuid,
            question_set: &self.question_set,
            name: &self.name,
            email: &self.email,
            scheduled_at: &self.scheduled_at,
            message: self.message.as_deref(),
        }
    }

    /// The card once the interview is sent (a live one with its join link).
    fn card(&self, join_url: Option<String>) -> PartnerResult {
        let sent = PartnerResult::new(ResultStatus::Sent);
        if !self.live {
            let deadline = self.scheduled_at.get(..10).unwrap_or_default();
            return sent.summary(format!(
                "One-way Spark Hire interview sent to {}; deadline {deadline}.",
                self.email
            ));
        }
        let sent = sent.summary(format!(
            "Live Spark Hire interview scheduled with {} at {}.",
            self.email, self.scheduled_at
        ));
        match join_url.filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
            Some(join) => sent.url(join.clone()).attachment(join, "Join the interview"),
            None => sent,
        }
    }
}

/// The job's location as the trigger webhook carries it: Teamtailor's example body has
/// `candidate.locations: [{"name", "address"}]` (the job's locations the candidate applied to;
/// the job's own `locations` are a relationship of the public API, which would take another
/// call with the company's key). The first one's name, else its address; at most 200 characters.
fn location_of(body: &[u8]) -> Option<String> {
    let hook: Value = serde_json::from_slice(body).ok()?;
    let first = hook.pointer("/partner-event/candidate/locations/0")?;
    ["name", "address"]
        .iter()
        .filter_map(|k| first.get(*k).and_then(Value::as_str).map(str::trim))
        .find(|s| !s.is_empty())
        .map(|s| s.chars().take(200).collect())
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
        if t.len() >= 16
            && digits_at(&t, &[0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15])
            && t.get(10..11) == Some("T")
        {
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

/// Who triggered it: Teamtailor's `triggered-by`; in bulk mode (no job, so no `triggered-by`) the
/// user Teamtailor named when the form was opened (`GET /config?user_id=`), carried in the form as
/// a signed value bound to this company, so that it cannot be edited into another recruiter.
async fn recruiter_of(deps: &Deps, company: &str, hook: &Webhook) -> AppResult<String> {
    let event = &hook.partner_event;
    let triggered_by =
        event.candidate.job.as_ref().and_then(|j| j.triggered_by.as_ref()).and_then(|p| p.id.clone());
    if let Some(user) = triggered_by {
        check_user(&user)?;
        return Ok(user);
    }
    let unknown = || {
        AppError::unprocessable(
            "Teamtailor did not say which recruiter triggered this; open the trigger's settings again and save them.",
        )
    };
    let signed = data_str(&event.webhook_data, "set_up_by").ok_or_else(unknown)?;
    let signing = tickets::signing_key(&deps.platform.secrets).await?;
    let set_up = tickets::verify(&signing, &signed, RECRUITER_PURPOSE, deps.platform.now_secs())
        .map_err(|_| unknown())?;
    (set_up.label == company).then_some(set_up.subject).ok_or_else(unknown)
}

#[async_trait]
impl Trigger for Deps {
    type Tenant = Recruiter;
    type Work = Work;
    type Live = ();
    const INTEGRATION: &'static str = INTEGRATION;
    const NOT_DONE: &'static str = "The Spark Hire interview was not sent";

    fn platform(&self) -> &Platform {
        &self.platform
    }

    async fn authenticate(&self, req: &Request) -> AppResult<(Listing, Recruiter)> {
        let auth = self.activations.authenticate(&self.platform, INTEGRATION, req).await?;
        let hook = Webhook::parse(web::bounded_body(req)?)?;
        let company = auth.activation.company_uuid;
        let user = recruiter_of(self, &company, &hook).await?;
        Ok((auth.listing, Recruiter { company, user }))
    }

    fn tenant_id(r: &Recruiter) -> String {
        r.id()
    }

    async fn tenant(&self, id: &str) -> AppResult<Recruiter> {
        Recruiter::parse(id).ok_or_else(|| AppError::not_found(format!("no Spark Hire recruiter {id}")))
    }

    fn work(&self, _: &Recruiter, hook: Webhook, req: &Request) -> AppResult<(Work, ())> {
        Ok((Work::from_webhook(hook, web::bounded_body(req)?, self.platform.now_secs())?, ()))
    }

    async fn perform(&self, job: Job<'_, Self>) -> AppResult<Done> {
        let (r, work) = (job.tenant, job.work);
        let key =
            recruiters::key(self, r).await?.ok_or_else(|| AppError::unprocessable(NOT_CONNECTED_CARD))?;
        events::ensure_registered(self, &key.record, &key.api_key).await?;
        let job_uuid = match &work.job {
            JobChoice::Existing { uuid } => uuid.clone(),
            JobChoice::FromTeamtailor { id, title, location } => {
                let location = location.as_deref().unwrap_or(NO_LOCATION);
                send::synced_job(self, r, (id, title, location), &key.api_key).await?
            }
        };
        let tried = (job.earlier, work.requested_at);
        let interview = send::interview_once(self, &work.interview(&job_uuid), &key.api_key, tried).await?;
        // Which card the interview's events land on.
        let card = InterviewCard {
            uuid: interview.uuid.clone(),
            company: r.company.clone(),
            update_url: work.update_url.clone(),
        };
        Ok(Done::from(work.card(interview.join_url)).recording(card.item(self.platform.now_secs())))
    }
}
