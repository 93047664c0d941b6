//! Spark Hire's API (`/_sandbox/sparkhire/...`): https://docs.sparkhire.com/ (base URL, Basic
//! auth, rate limit) and the two transcriptions of its reference, jentic/oak
//! `apis/openapi/sparkhire.com/spark-hire-api/1.0.0/openapi.json` (9967e2d5a5f3) and
//! api-evangelist/spark-hire `openapi/_original/spark-hire-openapi.yml` (d0a8b69478df); where
//! they disagree, the fake takes what both allow:
//! - HTTP Basic with the user's API key as username (the password is ignored); an unknown or
//!   revoked key is `401 {"status":"error","code","message"}`; a key sees only its user's things;
//! - lists are bare arrays paged with `range=<from>-<to>` (1-based, inclusive), at most 100 items
//!   per page (else `400`);
//! - jobs carry both `name` and `title`; `POST /jobs` needs `title`, `location`, `description`
//!   and `status`, each a non-empty string (jentic's required list; else `422`);
//! - `POST /interviews` needs `type` (`one_way` or `live`), `job_post.uuid` (a job of the user)
//!   and `assigned_to: [{name, email}]` (else `422`); `GET /interviews/{uuid}` of an expired
//!   interview is `410`;
//! - `POST /webhooks` needs `url` (http or https), `description` (jentic), one `event` of
//!   [`EVENTS`] (api-evangelist), and `http_auth`, when given, as a `username:password` string
//!   (jentic types it a string) (else `422`); [`Sandbox::sparkhire_events`] sends an event to
//!   the webhooks subscribed to it, `{event, data}` or the bare interview, with the Basic
//!   credentials of their `http_auth`.
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};

use crate::common::{self, Here};
use crate::sandbox::{Sandbox, SandboxState};

/// At most this many items per `range=`.
pub const MAX_RANGE: usize = 100;
/// The page served when `range=` is absent.
pub const DEFAULT_RANGE: usize = 20;

/// The user a User API Key belongs to.
#[derive(Clone, Debug, Serialize)]
pub struct SparkHireUser {
    pub uuid: String,
    pub name: String,
    pub email: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct SparkHireJob {
    pub uuid: String,
    pub title: String,
    pub location: String,
    /// The user who owns it (the only one whose key sees it).
    pub owner: String,
    pub status: String,
}

impl SparkHireJob {
    /// As Spark Hire serves a job: both `name` and `title` (Crelate's `JobResponse`).
    pub fn json(&self) -> Value {
        json!({"uuid": self.uuid, "name": self.title, "title": self.title, "status": self.status,
            "location": self.location, "description": "", "created_by": self.owner})
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct QuestionSet {
    pub uuid: String,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InterviewType {
    OneWay,
    Live,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InterviewStatus {
    Created,
    Completed,
    Expired,
}

/// The job an interview is for, as an interview carries it.
#[derive(Clone, Debug, Serialize)]
pub struct JobPost {
    pub uuid: String,
    pub name: String,
    pub title: String,
    pub status: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Invitee {
    pub name: String,
    pub email: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ShareLink {
    pub url: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Interview {
    pub uuid: String,
    #[serde(rename = "type")]
    pub kind: InterviewType,
    pub status: InterviewStatus,
    /// The user whose key created it.
    pub owner: String,
    pub job_post: JobPost,
    pub assigned_to: Vec<Invitee>,
    pub interview_question_set: Option<String>,
    pub scheduled_at: Option<String>,
    pub email_message: Option<String>,
    pub share_link: ShareLink,
    pub join_url: Option<String>,
    /// RFC 3339, as both transcriptions list them.
    pub created_at: String,
    pub updated_at: String,
}

impl Interview {
    /// As Spark Hire serves it, and sends it in its webhooks' `data`.
    pub fn json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The events a webhook may subscribe to (api-evangelist's `WebhookEventType`).
pub const EVENTS: [&str; 11] = [
    "InterviewCreated",
    "InterviewAccepted",
    "InterviewCompleted",
    "InterviewDeleted",
    "InterviewExpired",
    "InterviewRescheduled",
    "InterviewReset",
    "InterviewRated",
    "JobCreated",
    "JobUpdated",
    "JobDeleted",
];

/// A webhook a user registered.
#[derive(Clone, Debug, Serialize)]
pub struct Webhook {
    pub uuid: String,
    pub owner: String,
    pub url: String,
    pub event: String,
    pub description: String,
    /// The credentials Spark Hire sends back, `username:password`.
    #[serde(skip)]
    pub http_auth: Option<String>,
}

/// How the fake sends an event: both shapes the transcriptions allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Envelope {
    /// `{"event": "InterviewCompleted", "data": {…the interview…}}`.
    Wrapped,
    /// The interview itself, its event only in the webhook's registration.
    Bare,
}

#[derive(Serialize)]
pub struct SparkHireState {
    /// Users by User API Key.
    #[serde(skip)]
    pub keys: HashMap<String, SparkHireUser>,
    pub jobs: Vec<SparkHireJob>,
    pub question_sets: Vec<QuestionSet>,
    pub interviews: Vec<Interview>,
    pub webhooks: Vec<Webhook>,
}

impl Default for SparkHireState {
    fn default() -> Self {
        let set = |uuid: &str, name: &str| QuestionSet { uuid: uuid.into(), name: name.into() };
        SparkHireState {
            keys: HashMap::new(),
            jobs: vec![],
            question_sets: vec![set("qs-general", "General screening"), set("qs-design", "Design portfolio")],
            interviews: vec![],
            webhooks: vec![],
        }
    }
}

impl Sandbox {
    /// A Spark Hire user and their User API Key; `jobs` are that user's job titles.
    pub async fn add_sparkhire_user(&self, key: &str, name: &str, email: &str, jobs: &[&str]) {
        let mut st = self.state().await;
        let uuid = common::new_id("shu-", 8);
        for title in jobs {
            st.sparkhire.jobs.push(SparkHireJob {
                uuid: common::new_id("shj-", 8),
                title: (*title).into(),
                location: "Chicago, IL".into(),
                owner: uuid.clone(),
                status: "active".into(),
            });
        }
        st.sparkhire.keys.insert(key.into(), SparkHireUser { uuid, name: name.into(), email: email.into() });
    }

    /// Revokes a Spark Hire key (its user is disabled, say).
    pub async fn revoke_sparkhire_key(&self, key: &str) {
        self.state().await.sparkhire.keys.remove(key);
    }

    /// `event` happens to interview `uuid` (`InterviewCompleted` and `InterviewExpired` change its
    /// status): the requests Spark Hire sends for it, one per webhook of the interview's owner
    /// subscribed to it, to the webhook URL's path and query, with `Authorization: Basic` of its
    /// `http_auth` (none without one), the body in `envelope`.
    pub async fn sparkhire_events(
        &self,
        uuid: &str,
        event: &str,
        envelope: Envelope,
    ) -> Vec<http::Request<bytes::Bytes>> {
        use base64::Engine;
        let mut st = self.state().await;
        let Some(interview) = st.sparkhire.interviews.iter_mut().find(|i| i.uuid == uuid) else {
            return vec![];
        };
        match event {
            "InterviewCompleted" => interview.status = InterviewStatus::Completed,
            "InterviewExpired" => interview.status = InterviewStatus::Expired,
            _ => {}
        }
        interview.updated_at = common::timestamp();
        let (owner, data) = (interview.owner.clone(), interview.json());
        let body = match envelope {
            Envelope::Wrapped => json!({"event": event, "data": data}),
            Envelope::Bare => data,
        };
        let hooks = st.sparkhire.webhooks.iter().filter(|w| w.owner == owner && w.event == event);
        hooks
            .map(|w| {
                let target = url::Url::parse(&w.url).ok();
                let path = target.as_ref().map_or("/".to_owned(), |u| match u.query() {
                    Some(q) => format!("{}?{q}", u.path()),
                    None => u.path().to_owned(),
                });
                let mut req = http::Request::builder()
                    .method("POST")
                    .uri(path)
                    .header("content-type", "application/json");
                if let Some(auth) = &w.http_auth {
                    let basic = base64::engine::general_purpose::STANDARD.encode(auth);
                    req = req.header("authorization", format!("Basic {basic}"));
                }
                req.body(bytes::Bytes::from(body.to_string())).expect("a valid request")
            })
            .collect()
    }

    /// The interview's deadline passes: `GET /interviews/{uuid}` answers `410` from now on.
    pub async fn expire_sparkhire_interview(&self, uuid: &str) {
        if let Some(i) = self.state().await.sparkhire.interviews.iter_mut().find(|i| i.uuid == uuid) {
            i.status = InterviewStatus::Expired;
            i.updated_at = common::timestamp();
        }
    }
}

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/sparkhire/me", get(me))
        .route("/sparkhire/jobs", get(list_jobs).post(create_job))
        .route("/sparkhire/question_sets", get(list_question_sets))
        .route("/sparkhire/interviews", get(list_interviews).post(create_interview))
        .route("/sparkhire/interviews/{uuid}", get(get_interview))
        .route("/sparkhire/webhooks", post(register_webhook))
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"status": "error", "code": code, "message": message}))).into_response()
}

/// The key's user, or `401`.
fn user(st: &SandboxState, headers: &HeaderMap) -> Result<SparkHireUser, Response> {
    common::basic_username(headers)
        .and_then(|key| st.sparkhire.keys.get(&key).cloned())
        .ok_or_else(|| error(StatusCode::UNAUTHORIZED, "unauthorized", "Invalid API key"))
}

/// The items of `range=<from>-<to>`; `400` for a malformed range or one over 100 items.
fn ranged<T: Clone>(here: &Here, items: &[T]) -> Result<Vec<T>, Response> {
    let (from, to) = match here.param("range") {
        None => (1, DEFAULT_RANGE),
        Some(r) => r
            .split_once('-')
            .and_then(|(a, b)| Some((a.trim().parse::<usize>().ok()?, b.trim().parse::<usize>().ok()?)))
            .filter(|(a, b)| *a >= 1 && b >= a && b - a < MAX_RANGE)
            .ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    "invalid_range",
                    &format!("range must be <from>-<to>, from 1, with at most {MAX_RANGE} items"),
                )
            })?,
    };
    Ok(items.iter().skip(from - 1).take(to - from + 1).cloned().collect())
}

async fn me(State(sb): State<Sandbox>, headers: HeaderMap) -> Response {
    match user(&*sb.state().await, &headers) {
        Ok(u) => Json(json!({"uuid": u.uuid, "name": u.name, "email": u.email})).into_response(),
        Err(refused) => refused,
    }
}

async fn list_jobs(State(sb): State<Sandbox>, here: Here, headers: HeaderMap) -> Response {
    let st = sb.state().await;
    let me = match user(&st, &headers) {
        Ok(u) => u,
        Err(refused) => return refused,
    };
    let mut jobs: Vec<&SparkHireJob> = st.sparkhire.jobs.iter().filter(|j| j.owner == me.uuid).collect();
    match here.param("orderby") {
        Some("title_asc") => jobs.sort_by(|a, b| a.title.cmp(&b.title)),
        Some("title_desc") => jobs.sort_by(|a, b| b.title.cmp(&a.title)),
        _ => {}
    }
    let jobs: Vec<Value> = jobs.iter().map(|j| j.json()).collect();
    match ranged(&here, &jobs) {
        Ok(page) => Json(Value::Array(page)).into_response(),
        Err(refused) => refused,
    }
}

async fn create_job(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let mut st = sb.state().await;
    let me = match user(&st, &headers) {
        Ok(u) => u,
        Err(refused) => return refused,
    };
    let body = common::json_of(&body).unwrap_or_default();
    let text = |field: &str| body[field].as_str().filter(|t| !t.trim().is_empty()).map(str::to_owned);
    if let Some(missing) =
        ["title", "location", "description", "status"].into_iter().find(|f| text(f).is_none())
    {
        let message = format!("{missing} is required");
        return error(StatusCode::UNPROCESSABLE_ENTITY, &format!("invalid_{missing}"), &message);
    }
    let job = SparkHireJob {
        uuid: common::new_id("shj-", 8),
        title: text("title").unwrap_or_default(),
        location: text("location").unwrap_or_default(),
        owner: me.uuid,
        status: text("status").unwrap_or_default(),
    };
    st.sparkhire.jobs.push(job.clone());
    (StatusCode::CREATED, Json(job.json())).into_response()
}

/// `GET /interviews`: the key's user's interviews, the most recently made first, or the most
/// recently updated first with `orderby=updated_desc`, paged by `range=` like every list.
async fn list_interviews(State(sb): State<Sandbox>, here: Here, headers: HeaderMap) -> Response {
    let st = sb.state().await;
    let me = match user(&st, &headers) {
        Ok(u) => u,
        Err(refused) => return refused,
    };
    let mut mine: Vec<&Interview> =
        st.sparkhire.interviews.iter().rev().filter(|i| i.owner == me.uuid).collect();
    if here.param("orderby") == Some("updated_desc") {
        mine.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
    }
    let mine: Vec<Value> = mine.iter().map(|i| i.json()).collect();
    match ranged(&here, &mine) {
        Ok(page) => Json(Value::Array(page)).into_response(),
        Err(refused) => refused,
    }
}

async fn list_question_sets(State(sb): State<Sandbox>, here: Here, headers: HeaderMap) -> Response {
    let st = sb.state().await;
    if let Err(refused) = user(&st, &headers) {
        return refused;
    }
    let sets: Vec<Value> = st
        .sparkhire
        .question_sets
        .iter()
        .map(|s| json!({"uuid": s.uuid, "name": s.name, "questions": []}))
        .collect();
    match ranged(&here, &sets) {
        Ok(page) => Json(Value::Array(page)).into_response(),
        Err(refused) => refused,
    }
}

fn invitees(v: &Value) -> Option<Vec<Invitee>> {
    let list = v.as_array().filter(|l| !l.is_empty())?;
    list.iter()
        .map(|p| {
            let name = p["name"].as_str().filter(|s| !s.trim().is_empty())?;
            let email = p["email"].as_str().filter(|s| s.contains('@'))?;
            Some(Invitee { name: name.into(), email: email.into() })
        })
        .collect()
}

async fn create_interview(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let mut st = sb.state().await;
    let me = match user(&st, &headers) {
        Ok(u) => u,
        Err(refused) => return refused,
    };
    let body = common::json_of(&body).unwrap_or_default();
    let kind = match body["type"].as_str() {
        Some("one_way") => InterviewType::OneWay,
        Some("live") => InterviewType::Live,
        _ => return error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_type", "type must be one_way or live"),
    };
    let job_uuid = body["job_post"]["uuid"].as_str().unwrap_or_default();
    let Some(job) = st.sparkhire.jobs.iter().find(|j| j.uuid == job_uuid && j.owner == me.uuid).cloned()
    else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_job",
            "job_post.uuid is not one of your jobs",
        );
    };
    let Some(assigned_to) = invitees(&body["assigned_to"]) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_assigned_to",
            "assigned_to must list {name, email}",
        );
    };
    let question_set = body["interview_question_set"].as_str().map(str::to_owned);
    if question_set.as_ref().is_some_and(|q| !st.sparkhire.question_sets.iter().any(|s| &s.uuid == q)) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_question_set",
            "unknown interview_question_set",
        );
    }
    let uuid = common::new_id("shi-", 10);
    let interview = Interview {
        kind,
        status: InterviewStatus::Created,
        owner: me.uuid,
        job_post: JobPost {
            uuid: job.uuid.clone(),
            name: job.title.clone(),
            title: job.title,
            status: job.status,
        },
        assigned_to,
        interview_question_set: question_set,
        scheduled_at: body["scheduled_at"].as_str().map(str::to_owned),
        email_message: body["email_message"].as_str().map(str::to_owned),
        share_link: ShareLink { url: format!("https://app.sparkhire.com/share/{uuid}") },
        join_url: (kind == InterviewType::Live).then(|| format!("https://app.sparkhire.com/live/{uuid}")),
        uuid,
        created_at: common::timestamp(),
        updated_at: common::timestamp(),
    };
    st.sparkhire.interviews.push(interview.clone());
    (StatusCode::CREATED, Json(interview.json())).into_response()
}

async fn get_interview(State(sb): State<Sandbox>, Path(uuid): Path<String>, headers: HeaderMap) -> Response {
    let st = sb.state().await;
    let me = match user(&st, &headers) {
        Ok(u) => u,
        Err(refused) => return refused,
    };
    match st.sparkhire.interviews.iter().find(|i| i.uuid == uuid && i.owner == me.uuid) {
        Some(i) if i.status == InterviewStatus::Expired => {
            error(StatusCode::GONE, "gone", "The interview has expired and is no longer available")
        }
        Some(i) => Json(i.json()).into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such interview"),
    }
}

async fn register_webhook(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let mut st = sb.state().await;
    let me = match user(&st, &headers) {
        Ok(u) => u,
        Err(refused) => return refused,
    };
    let body = common::json_of(&body).unwrap_or_default();
    let refuse = |field: &str, message: &str| {
        error(StatusCode::UNPROCESSABLE_ENTITY, &format!("invalid_{field}"), message)
    };
    let Some(url) = body["url"].as_str().filter(|u| u.starts_with("http://") || u.starts_with("https://"))
    else {
        return refuse("url", "url is required");
    };
    let Some(description) = body["description"].as_str().filter(|d| !d.trim().is_empty()) else {
        return refuse("description", "description is required");
    };
    let Some(event) = body["event"].as_str().filter(|e| EVENTS.contains(e)) else {
        return refuse("event", "event must be one of the webhook event types");
    };
    let http_auth = match &body["http_auth"] {
        Value::Null => None,
        Value::String(auth) if auth.split_once(':').is_some_and(|(user, _)| !user.is_empty()) => {
            Some(auth.clone())
        }
        _ => return refuse("http_auth", "http_auth must be a username:password string"),
    };
    let webhook = Webhook {
        uuid: uuid::Uuid::new_v4().to_string(),
        owner: me.uuid,
        url: url.to_owned(),
        event: event.to_owned(),
        description: description.to_owned(),
        http_auth,
    };
    let answer = json!({"uuid": webhook.uuid, "url": webhook.url, "event": webhook.event,
        "description": webhook.description});
    st.sparkhire.webhooks.push(webhook);
    (StatusCode::CREATED, Json(answer)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::testing::*;

    fn call(method: &str, path: &str, key: &str) -> axum::http::request::Builder {
        request(method, &format!("/sparkhire{path}")).header("authorization", basic(key, "x"))
    }

    async fn rita(jobs: &[&str]) -> Sandbox {
        let sb = Sandbox::new();
        sb.add_sparkhire_user("rita-key", "Rita", "rita@acme.se", jobs).await;
        sb
    }

    fn interview(job: &str) -> Value {
        json!({"type": "one_way", "job_post": {"uuid": job}, "interview_question_set": "qs-general",
            "assigned_to": [{"name": "Ada L", "email": "ada@example.com"}], "scheduled_at": "2026-12-15T23:59:59Z"})
    }

    #[tokio::test]
    async fn the_key_is_the_basic_username_and_an_unknown_one_is_refused_with_401() {
        let sb = rita(&[]).await;
        let a = send(&sb, call("GET", "/me", "rita-key"), None).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body["name"], "Rita");
        for auth in [basic("other-key", "x"), "Bearer rita-key".to_owned(), basic("", "rita-key")] {
            let a =
                send(&sb, request("GET", "/sparkhire/me").header("authorization", auth.as_str()), None).await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{auth}");
            assert_eq!(a.body["status"], "error");
        }
        sb.revoke_sparkhire_key("rita-key").await;
        assert_eq!(send(&sb, call("GET", "/me", "rita-key"), None).await.status, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn jobs_carry_both_name_and_title() {
        let sb = rita(&["Designer"]).await;
        let a = send(&sb, call("GET", "/jobs", "rita-key"), None).await;
        let job = &a.body[0];
        assert_eq!((job["name"].as_str(), job["title"].as_str()), (Some("Designer"), Some("Designer")));
        let created = send(&sb, call("POST", "/jobs", "rita-key"), Some(new_job("Engineer"))).await;
        assert_eq!(created.status, StatusCode::CREATED);
        assert_eq!(
            (created.body["name"].as_str(), created.body["title"].as_str()),
            (Some("Engineer"), Some("Engineer"))
        );
        assert_eq!(created.body["location"], "Stockholm");
    }

    fn new_job(title: &str) -> Value {
        json!({"title": title, "location": "Stockholm", "description": "From Teamtailor", "status": "active"})
    }

    #[tokio::test]
    async fn a_job_without_a_location_title_description_or_status_is_refused_with_422() {
        let sb = rita(&[]).await;
        for field in ["location", "title", "description", "status"] {
            for missing in [Value::Null, json!(""), json!("  "), json!({"city": "Stockholm"})] {
                let mut body = new_job("Engineer");
                body[field] = missing.clone();
                let a = send(&sb, call("POST", "/jobs", "rita-key"), Some(body)).await;
                assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {missing}");
                assert_eq!(a.body["status"], "error");
                assert_eq!(a.body["code"], format!("invalid_{field}"));
            }
        }
        assert!(sb.state().await.sparkhire.jobs.is_empty(), "nothing was created");
    }

    #[tokio::test]
    async fn interviews_are_listed_for_their_own_user_only_newest_first() {
        let sb = rita(&["Designer"]).await;
        sb.add_sparkhire_user("olle-key", "Olle", "olle@acme.se", &["Engineer"]).await;
        let job = |key: &str| {
            let sb = sb.clone();
            let key = key.to_owned();
            async move {
                send(&sb, call("GET", "/jobs", &key), None).await.body[0]["uuid"].as_str().unwrap().to_owned()
            }
        };
        let (rita_job, olle_job) = (job("rita-key").await, job("olle-key").await);
        for _ in 0..2 {
            let made = send(&sb, call("POST", "/interviews", "rita-key"), Some(interview(&rita_job))).await;
            assert_eq!(made.status, StatusCode::CREATED);
        }
        send(&sb, call("POST", "/interviews", "olle-key"), Some(interview(&olle_job))).await;
        let listed =
            send(&sb, call("GET", "/interviews?orderby=updated_desc&range=1-100", "rita-key"), None).await;
        let listed = listed.body.as_array().cloned().unwrap_or_default();
        assert_eq!(listed.len(), 2, "only Rita's");
        assert!(listed.iter().all(|i| i["job_post"]["uuid"] == rita_job.as_str()));
        let refused = send(&sb, call("GET", "/interviews", "unknown-key"), None).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        let too_many = send(&sb, call("GET", "/interviews?range=1-101", "rita-key"), None).await;
        assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn interviews_carry_their_times_and_are_listed_most_recently_updated_first() {
        let sb = rita(&["Designer"]).await;
        let job = sb.state().await.sparkhire.jobs[0].uuid.clone();
        for _ in 0..3 {
            send(&sb, call("POST", "/interviews", "rita-key"), Some(interview(&job))).await;
        }
        let uuids: Vec<String> = {
            let mut st = sb.state().await;
            // The first was made and last changed a day ago, the second changed just now.
            st.sparkhire.interviews[0].created_at = "2020-01-01T00:00:00Z".into();
            st.sparkhire.interviews[0].updated_at = "2020-01-01T00:00:00Z".into();
            st.sparkhire.interviews[1].updated_at = "2999-01-01T00:00:00Z".into();
            st.sparkhire.interviews.iter().map(|i| i.uuid.clone()).collect()
        };
        let order = |path: &str| {
            let sb = sb.clone();
            let path = path.to_owned();
            async move {
                let a = send(&sb, call("GET", &path, "rita-key"), None).await;
                let listed = a.body.as_array().cloned().unwrap_or_default();
                assert!(listed.iter().all(|i| i["created_at"].is_string() && i["updated_at"].is_string()));
                listed.iter().map(|i| i["uuid"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
            }
        };
        let (a, b, c) = (uuids[0].clone(), uuids[1].clone(), uuids[2].clone());
        assert_eq!(order("/interviews").await, [c.clone(), b.clone(), a.clone()], "newest made first");
        assert_eq!(order("/interviews?orderby=updated_desc").await, [b, c, a], "most recently updated first");
    }

    #[tokio::test]
    async fn lists_are_paged_by_range() {
        let titles: Vec<String> = (1..=23).map(|i| format!("Job {i:02}")).collect();
        let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
        let sb = rita(&titles).await;
        let a = send(&sb, call("GET", "/jobs?orderby=title_asc&range=21-40", "rita-key"), None).await;
        let names: Vec<&str> =
            a.body.as_array().unwrap().iter().map(|j| j["title"].as_str().unwrap()).collect();
        assert_eq!(names, ["Job 21", "Job 22", "Job 23"]);
        let a = send(&sb, call("GET", "/jobs", "rita-key"), None).await;
        assert_eq!(a.body.as_array().unwrap().len(), DEFAULT_RANGE);
        let a = send(&sb, call("GET", "/jobs?range=1-100", "rita-key"), None).await;
        assert_eq!(a.body.as_array().unwrap().len(), 23);
    }

    #[tokio::test]
    async fn a_range_of_more_than_a_hundred_items_is_refused_with_400() {
        let sb = rita(&["Designer"]).await;
        for range in ["1-101", "0-20", "20-1", "all"] {
            let a = send(&sb, call("GET", &format!("/jobs?range={range}"), "rita-key"), None).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{range}");
        }
        let a = send(&sb, call("GET", "/question_sets?range=1-500", "rita-key"), None).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn a_key_sees_only_its_users_jobs() {
        let sb = rita(&["Designer"]).await;
        sb.add_sparkhire_user("sam-key", "Sam", "sam@acme.se", &["Engineer"]).await;
        let a = send(&sb, call("GET", "/jobs", "sam-key"), None).await;
        assert_eq!(a.body.as_array().unwrap().len(), 1);
        let ritas = sb.state().await.sparkhire.jobs[0].uuid.clone();
        let a = send(&sb, call("POST", "/interviews", "sam-key"), Some(interview(&ritas))).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "Rita's job is not Sam's");
    }

    #[tokio::test]
    async fn an_interview_needs_a_type_a_job_and_someone_to_invite_else_422() {
        let sb = rita(&["Designer"]).await;
        let job = sb.state().await.sparkhire.jobs[0].uuid.clone();
        let mut no_type = interview(&job);
        no_type.as_object_mut().unwrap().remove("type");
        let mut sms = interview(&job);
        sms["type"] = json!("sms");
        let mut no_job = interview(&job);
        no_job["job_post"] = json!({});
        let mut nobody = interview(&job);
        nobody["assigned_to"] = json!([]);
        let mut no_email = interview(&job);
        no_email["assigned_to"] = json!([{"name": "Ada"}]);
        for body in [no_type, sms, no_job, nobody, no_email] {
            let a = send(&sb, call("POST", "/interviews", "rita-key"), Some(body.clone())).await;
            assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        }
        assert!(sb.state().await.sparkhire.interviews.is_empty());
        let a = send(&sb, call("POST", "/interviews", "rita-key"), Some(interview(&job))).await;
        assert_eq!(a.status, StatusCode::CREATED);
        assert_eq!(a.body["job_post"]["title"], "Designer");
        assert_eq!(a.body["job_post"]["name"], "Designer");
        assert!(a.body["share_link"]["url"].as_str().unwrap().starts_with("https://"));
        assert!(a.body["join_url"].is_null(), "one-way interviews have no join link");
    }

    #[tokio::test]
    async fn an_expired_interview_answers_410() {
        let sb = rita(&["Designer"]).await;
        let job = sb.state().await.sparkhire.jobs[0].uuid.clone();
        let created = send(&sb, call("POST", "/interviews", "rita-key"), Some(interview(&job))).await;
        let uuid = created.body["uuid"].as_str().unwrap().to_owned();
        assert_eq!(
            send(&sb, call("GET", &format!("/interviews/{uuid}"), "rita-key"), None).await.status,
            StatusCode::OK
        );
        sb.expire_sparkhire_interview(&uuid).await;
        let a = send(&sb, call("GET", &format!("/interviews/{uuid}"), "rita-key"), None).await;
        assert_eq!(a.status, StatusCode::GONE);
        assert_eq!(
            send(&sb, call("GET", "/interviews/shi-none", "rita-key"), None).await.status,
            StatusCode::NOT_FOUND
        );
    }

    fn webhook() -> Value {
        json!({"url": "https://hb.example/sparkhire/events?event=InterviewCompleted", "description": "results",
            "event": "InterviewCompleted", "http_auth": "hirebridge:p"})
    }

    #[tokio::test]
    async fn a_webhook_is_registered_for_one_event_with_its_credentials() {
        let sb = rita(&[]).await;
        let a = send(&sb, call("POST", "/webhooks", "rita-key"), Some(webhook())).await;
        assert_eq!(a.status, StatusCode::CREATED);
        assert_eq!(a.body["event"], "InterviewCompleted");
        let st = sb.state().await;
        assert_eq!(st.sparkhire.webhooks[0].http_auth.as_deref(), Some("hirebridge:p"));
        assert_eq!(st.sparkhire.webhooks[0].event, "InterviewCompleted");
    }

    #[tokio::test]
    async fn a_webhook_body_that_is_not_the_documented_one_is_refused_with_422() {
        let sb = rita(&[]).await;
        let with = |field: &str, value: Value| {
            let mut body = webhook();
            match value {
                Value::Null => body.as_object_mut().unwrap().remove(field),
                v => body.as_object_mut().unwrap().insert(field.to_owned(), v),
            };
            body
        };
        let refused = [
            ("url", with("url", Value::Null)),
            ("url", with("url", json!("ftp://hb.example/events"))),
            ("description", with("description", Value::Null)),
            ("description", with("description", json!(""))),
            ("event", with("event", Value::Null)),
            ("event", with("event", json!("interview.completed"))),
            ("event", with("event", json!(["InterviewCompleted"]))),
            ("http_auth", with("http_auth", json!({"username": "hirebridge", "password": "p"}))),
            ("http_auth", with("http_auth", json!("no-colon"))),
            ("http_auth", with("http_auth", json!(":password-only"))),
        ];
        for (field, body) in refused {
            let a = send(&sb, call("POST", "/webhooks", "rita-key"), Some(body.clone())).await;
            assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(a.body["code"], format!("invalid_{field}"), "{body}");
        }
        assert!(sb.state().await.sparkhire.webhooks.is_empty());
        let without_auth = with("http_auth", Value::Null);
        let a = send(&sb, call("POST", "/webhooks", "rita-key"), Some(without_auth)).await;
        assert_eq!(a.status, StatusCode::CREATED, "http_auth is optional");
    }

    #[tokio::test]
    async fn an_event_goes_to_the_webhooks_subscribed_to_it_in_either_envelope() {
        let sb = rita(&["Designer"]).await;
        let job = sb.state().await.sparkhire.jobs[0].uuid.clone();
        let created = send(&sb, call("POST", "/interviews", "rita-key"), Some(interview(&job))).await;
        let uuid = created.body["uuid"].as_str().unwrap().to_owned();
        send(&sb, call("POST", "/webhooks", "rita-key"), Some(webhook())).await;
        let mut expired = webhook();
        expired["event"] = json!("InterviewExpired");
        expired["url"] = json!("https://hb.example/sparkhire/events?event=InterviewExpired");
        send(&sb, call("POST", "/webhooks", "rita-key"), Some(expired)).await;

        let wrapped = sb.sparkhire_events(&uuid, "InterviewCompleted", Envelope::Wrapped).await;
        assert_eq!(wrapped.len(), 1, "only the InterviewCompleted webhook");
        let req = &wrapped[0];
        assert_eq!(req.uri(), "/sparkhire/events?event=InterviewCompleted");
        assert_eq!(req.headers()["authorization"], basic("hirebridge", "p").as_str());
        let body: Value = serde_json::from_slice(req.body()).unwrap();
        assert_eq!(
            (body["event"].as_str(), body["data"]["uuid"].as_str()),
            (Some("InterviewCompleted"), Some(uuid.as_str()))
        );
        assert_eq!(body["data"]["status"], "completed");

        let bare = sb.sparkhire_events(&uuid, "InterviewExpired", Envelope::Bare).await;
        assert_eq!(bare.len(), 1);
        assert_eq!(bare[0].uri(), "/sparkhire/events?event=InterviewExpired");
        let body: Value = serde_json::from_slice(bare[0].body()).unwrap();
        assert_eq!((body["uuid"].as_str(), body["status"].as_str()), (Some(uuid.as_str()), Some("expired")));
        assert!(body.get("event").is_none() && body.get("data").is_none(), "the interview itself: {body}");

        assert!(
            sb.sparkhire_events(&uuid, "InterviewRated", Envelope::Bare).await.is_empty(),
            "no subscriber"
        );
        assert!(sb.sparkhire_events("shi-none", "InterviewCompleted", Envelope::Bare).await.is_empty());
    }
}
