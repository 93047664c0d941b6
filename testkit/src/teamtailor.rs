//! Teamtailor's public API (`/_sandbox/teamtailor/v1/...`), JSON:API as Teamtailor serves it
//! (docs/contracts.md §3):
//! - `Authorization: Token token=<key>` exactly; an unknown or revoked key is `401`;
//! - `X-Api-Version` is required (a date, `YYYYMMDD`), else `406`; answers echo it;
//! - key scopes: the company, candidates (their job applications, custom field values), stages
//!   and team memberships need an Admin key, else `403` (users and jobs do not: Teamtailor's
//!   public-API docs, `github:Teamtailor/docs` at `435312b`, mark only those resources Admin); a read-only key cannot `PATCH` (`403`), a
//!   create-only key cannot read;
//! - writes carry `Content-Type: application/vnd.api+json` (`415` otherwise); a `PATCH`'s resource
//!   object carries `data.id` (109), equal to the URL's (110), and `data.type` (106, 101), else `400`;
//! - a relationship has linkage (`data`) only when the request names it in `include=`, else only
//!   `links`; unknown includes are `400` (112);
//! - lists are pages: `page[size]` 1–30 (default 10; else `400`, 118), `links.next` except on the
//!   last page.
//!
//! Also the short-lived signed file URLs that webhooks carry (`/_sandbox/teamtailor/files/{name}`).
use std::collections::{BTreeSet, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::common::{self, Here, Region, Unregistered};
use crate::jsonapi::{self, Page};
use crate::sandbox::{Sandbox, SandboxState};

/// The company ID of the sandbox's Teamtailor company (`GET /v1/company` → `attributes.uuid`).
pub const SANDBOX_COMPANY_ID: &str = "acmesandbox42";
/// Its resource id (`data.id`), which a `PATCH /v1/company` must carry.
pub const COMPANY_RESOURCE_ID: &str = "1";
pub const COMPANY_NAME: &str = "Sandbox: Acme AB";

/// What a key may see: Public (career site), Internal (+ internal jobs), Admin (everything).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Scope {
    Public,
    Internal,
    Admin,
}

/// What a key may do: read, write (create only), or read and write (create and update).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Access {
    Read,
    Write,
    ReadWrite,
}

/// A company API key as Teamtailor holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ApiKey {
    Granted {
        scope: Scope,
        access: Access,
    },
    /// Deleted in Teamtailor (or never valid): `401`.
    Revoked,
}

impl ApiKey {
    pub const ADMIN_READ_WRITE: ApiKey = ApiKey::Granted { scope: Scope::Admin, access: Access::ReadWrite };
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Job {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub department: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Stage {
    pub id: String,
    pub name: String,
    pub row_order: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Application {
    pub id: String,
    pub candidate_id: String,
    pub job_id: String,
    pub stage_id: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// A job's hiring team: its recruiter (the job's `user`) and its team memberships.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Team {
    pub recruiter: Option<String>,
    pub members: Vec<String>,
}

/// A candidate's value of a custom field (`custom-field-values`, with its `custom-fields`).
#[derive(Clone, Debug, Serialize)]
pub struct CustomFieldValue {
    pub id: String,
    pub candidate_id: String,
    /// The custom field's `api-name` (e.g. `personnummer`).
    pub api_name: String,
    pub value: Value,
}

/// The Teamtailor company behind the public API.
#[derive(Default, Serialize)]
pub struct TeamtailorState {
    /// Company API keys by key; see [`Unregistered`] for keys not in here.
    #[serde(skip)]
    pub keys: HashMap<String, ApiKey>,
    /// The stack of each NA key; every other key is on the EU stack, and a key presented to the
    /// other stack is `401` there, as Teamtailor does not know it.
    #[serde(skip)]
    pub key_regions: HashMap<String, Region>,
    pub jobs: HashMap<String, Job>,
    /// Each job's stages (by job id).
    pub stages: HashMap<String, Vec<Stage>>,
    pub applications: Vec<Application>,
    pub users: HashMap<String, User>,
    /// Each job's hiring team (by job id).
    pub teams: HashMap<String, Team>,
    /// Candidates' custom field values (they may hold a personnummer: never served as state).
    #[serde(skip)]
    pub custom_field_values: Vec<CustomFieldValue>,
    /// The short-lived file URLs: name → content.
    #[serde(skip)]
    pub files: HashMap<String, Vec<u8>>,
}

impl TeamtailorState {
    fn job_exists(&self, id: &str) -> bool {
        self.jobs.contains_key(id) || self.stages.contains_key(id) || self.teams.contains_key(id)
    }
}

impl SandboxState {
    /// How many pages of team memberships were read.
    pub fn count_pages(&self) -> usize {
        self.requests.iter().filter(|r| r.path.contains("/team-memberships")).count()
    }
}

impl Sandbox {
    /// A company API key with this scope and access.
    pub async fn add_teamtailor_key(&self, key: &str, scope: Scope, access: Access) {
        self.state().await.teamtailor.keys.insert(key.into(), ApiKey::Granted { scope, access });
    }

    /// A company API key of a company on the `region` stack.
    pub async fn add_teamtailor_key_on(&self, region: Region, key: &str, scope: Scope, access: Access) {
        let mut st = self.state().await;
        st.teamtailor.keys.insert(key.into(), ApiKey::Granted { scope, access });
        st.teamtailor.key_regions.insert(key.into(), region);
    }

    /// An Admin key that may only read (`PATCH` answers `403`).
    pub async fn add_read_only_token(&self, token: &str) {
        self.add_teamtailor_key(token, Scope::Admin, Access::Read).await;
    }

    /// A key without Admin scope (users, stages, applications answer `403`).
    pub async fn add_non_admin_token(&self, token: &str) {
        self.add_teamtailor_key(token, Scope::Public, Access::Read).await;
    }

    /// A key Teamtailor does not know (deleted): every call answers `401`.
    pub async fn add_invalid_token(&self, token: &str) {
        self.state().await.teamtailor.keys.insert(token.into(), ApiKey::Revoked);
    }

    pub async fn add_job(&self, job: Job) {
        self.state().await.teamtailor.jobs.insert(job.id.clone(), job);
    }

    /// A job's stages, in row order as given, and a candidate's application in `stage_id`.
    pub async fn add_pipeline(&self, job_id: &str, stages: &[(&str, &str)], application: (&str, &str, &str)) {
        let mut st = self.state().await;
        let tt = &mut st.teamtailor;
        let stages = stages
            .iter()
            .enumerate()
            .map(|(i, (id, name))| Stage {
                id: (*id).into(),
                name: (*name).into(),
                row_order: (i as i64 + 1) * 10,
            })
            .collect();
        tt.stages.insert(job_id.into(), stages);
        tt.jobs.entry(job_id.into()).or_insert_with(|| Job {
            id: job_id.into(),
            title: format!("Job {job_id}"),
            department: None,
        });
        let (id, candidate_id, stage_id) = application;
        tt.applications.push(Application {
            id: id.into(),
            candidate_id: candidate_id.into(),
            job_id: job_id.into(),
            stage_id: stage_id.into(),
        });
    }

    /// A job whose recruiter and team members are Teamtailor users `(id, name, e-mail)`.
    pub async fn add_team(
        &self,
        job_id: &str,
        title: &str,
        recruiter: (&str, &str, &str),
        members: &[(&str, &str, &str)],
    ) {
        let mut st = self.state().await;
        let tt = &mut st.teamtailor;
        for (id, name, email) in std::iter::once(&recruiter).chain(members.iter()) {
            tt.users.insert(
                (*id).into(),
                User { id: (*id).into(), name: (*name).into(), email: (*email).into() },
            );
        }
        tt.teams.insert(
            job_id.into(),
            Team {
                recruiter: Some(recruiter.0.into()),
                members: members.iter().map(|m| m.0.to_owned()).collect(),
            },
        );
        tt.jobs.entry(job_id.into()).or_insert(Job {
            id: job_id.into(),
            title: title.into(),
            department: None,
        });
    }

    /// A candidate's value of the custom field whose `api-name` is `api_name`.
    pub async fn add_custom_field_value(&self, candidate_id: &str, api_name: &str, value: Value) {
        let mut st = self.state().await;
        let values = &mut st.teamtailor.custom_field_values;
        let id = format!("cfv-{}", values.len() + 1);
        values.push(CustomFieldValue {
            id,
            candidate_id: candidate_id.into(),
            api_name: api_name.into(),
            value,
        });
    }

    pub async fn add_file(&self, name: &str, content: &[u8]) {
        self.state().await.teamtailor.files.insert(name.into(), content.to_vec());
    }
}

pub(crate) fn routes() -> Router<Sandbox> {
    let mut router = Router::new();
    for region in Region::ALL {
        let at = |path: &str| format!("{}{path}", region.segment());
        router = router
            .route(&at("/v1/company"), get(get_company).patch(patch_company))
            .route(&at("/v1/jobs/{id}"), get(get_job))
            .route(&at("/v1/jobs/{id}/stages"), get(job_stages))
            .route(&at("/v1/jobs/{id}/team-memberships"), get(team_memberships))
            .route(&at("/v1/candidates/{id}/job-applications"), get(candidate_applications))
            .route(&at("/v1/candidates/{id}/custom-field-values"), get(custom_field_values))
            .route(&at("/v1/job-applications/{id}"), axum::routing::patch(patch_application))
            .route(&at("/v1/users"), get(list_users));
    }
    router.route("/teamtailor/files/{name}", get(get_file))
}

/// What a call needs of its key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    Read,
    Update,
}

fn unauthorized(detail: &str) -> Response {
    jsonapi::error(StatusCode::UNAUTHORIZED, "401", "Unauthorized", detail)
}

fn forbidden(detail: &str) -> Response {
    jsonapi::error(StatusCode::FORBIDDEN, "403", "Forbidden", detail)
}

/// A date `YYYYMMDD` from 2016-11-08 (the oldest version Teamtailor documents) on.
fn valid_version(v: &str) -> bool {
    v.len() == 8
        && v.bytes().all(|b| b.is_ascii_digit())
        && v >= "20161108"
        && (1..=12).contains(&v[4..6].parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&v[6..8].parse::<u8>().unwrap_or(0))
}

/// Authentication, version and authorization, in that order; answers the version to echo.
fn authorize(
    st: &SandboxState,
    (here, headers): (&Here, &HeaderMap),
    admin: bool,
    need: Need,
) -> Result<String, Response> {
    let Some(key) = common::header(headers, "authorization")
        .and_then(|a| a.strip_prefix("Token token="))
        .filter(|k| !k.is_empty())
    else {
        return Err(unauthorized("Authenticate with the header Authorization: Token token=<API key>."));
    };
    let region = st.teamtailor.key_regions.get(key).copied().unwrap_or_default();
    if st.teamtailor.keys.contains_key(key) && region != here.region {
        return Err(unauthorized("The API key is not valid."));
    }
    let granted = match (st.teamtailor.keys.get(key), st.unregistered) {
        (Some(ApiKey::Granted { scope, access }), _) => (*scope, *access),
        (None, Unregistered::Admit) => (Scope::Admin, Access::ReadWrite),
        (Some(ApiKey::Revoked), _) | (None, Unregistered::Refuse) => {
            return Err(unauthorized("The API key is not valid."))
        }
    };
    let version = common::header(headers, "x-api-version").unwrap_or_default();
    if !valid_version(version) {
        let detail = if version.is_empty() {
            "The X-Api-Version header is required.".to_owned()
        } else {
            format!("{version} is not a valid API version.")
        };
        return Err(jsonapi::error(StatusCode::NOT_ACCEPTABLE, "406", "Not acceptable", &detail));
    }
    let (scope, access) = granted;
    if admin && scope != Scope::Admin {
        return Err(forbidden("This resource needs an API key with Admin scope."));
    }
    match (need, access) {
        (Need::Read, Access::Write) => Err(forbidden("This API key may not read.")),
        (Need::Update, Access::Read | Access::Write) => Err(forbidden("This API key may not update.")),
        _ => Ok(version.to_owned()),
    }
}

fn api(here: &Here) -> String {
    format!("{}{}/v1", here.origin, here.region.segment())
}

fn company_resource(here: &Here) -> Value {
    json!({"id": COMPANY_RESOURCE_ID, "type": "companies",
        "links": {"self": format!("{}/company", api(here))},
        "attributes": {"name": COMPANY_NAME, "uuid": SANDBOX_COMPANY_ID}})
}

async fn get_company(State(sb): State<Sandbox>, here: Here, headers: HeaderMap) -> Response {
    let st = sb.state().await;
    match authorize(&st, (&here, &headers), true, Need::Read) {
        Ok(v) => jsonapi::document(StatusCode::OK, &v, json!({"data": company_resource(&here)})),
        Err(refused) => refused,
    }
}

/// Company settings: Admin, read and write. A no-op update (no attributes) is accepted.
async fn patch_company(State(sb): State<Sandbox>, here: Here, headers: HeaderMap, body: Bytes) -> Response {
    let st = sb.state().await;
    let version = match authorize(&st, (&here, &headers), true, Need::Update) {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    if let Err(refused) = jsonapi::require_media_type(&headers) {
        return refused;
    }
    if let Err(refused) = jsonapi::resource_object(&body, "companies", COMPANY_RESOURCE_ID) {
        return refused;
    }
    jsonapi::document(StatusCode::OK, &version, json!({"data": company_resource(&here)}))
}

fn user_resource(user: &User, api: &str) -> Value {
    json!({"id": user.id, "type": "users", "links": {"self": format!("{api}/users/{}", user.id)},
        "attributes": {"name": user.name, "email": user.email}})
}

fn department_id(job: &Job) -> String {
    format!("dep-{}", job.id)
}

/// A job and, for each included relationship, its linkage and side-loaded resources.
fn job_resource(
    tt: &TeamtailorState,
    job: &Job,
    include: &BTreeSet<String>,
    api: &str,
) -> (Value, Vec<Value>) {
    let url = format!("{api}/jobs/{}", job.id);
    let included_rel = |name: &str| include.contains(name);
    let mut side = Vec::new();
    let team = tt.teams.get(&job.id).cloned().unwrap_or_default();
    let user = included_rel("user").then(|| match &team.recruiter {
        Some(id) => {
            if let Some(u) = tt.users.get(id) {
                side.push(user_resource(u, api));
            }
            json!({"id": id, "type": "users"})
        }
        None => Value::Null,
    });
    let department = included_rel("department").then(|| match &job.department {
        Some(name) => {
            side.push(json!({"id": department_id(job), "type": "departments", "attributes": {"name": name}}));
            json!({"id": department_id(job), "type": "departments"})
        }
        None => Value::Null,
    });
    let stages = included_rel("stages").then(|| {
        let list = tt.stages.get(&job.id).cloned().unwrap_or_default();
        side.extend(list.iter().map(|s| stage_resource(s, &job.id, &BTreeSet::new(), api)));
        Value::Array(list.iter().map(|s| json!({"id": s.id, "type": "stages"})).collect())
    });
    let memberships = included_rel("team-memberships").then(|| {
        side.extend(team.members.iter().map(|u| membership_resource(&job.id, u, &BTreeSet::new(), api)));
        Value::Array(
            team.members
                .iter()
                .map(|u| json!({"id": membership_id(&job.id, u), "type": "team-memberships"}))
                .collect(),
        )
    });
    let empty_list = |name: &str| included_rel(name).then(|| json!([]));
    let resource = json!({
        "id": job.id, "type": "jobs", "links": {"self": url},
        "attributes": {"title": job.title, "status": "open"},
        "relationships": {
            "user": jsonapi::relationship(&url, "user", user),
            "department": jsonapi::relationship(&url, "department", department),
            "role": jsonapi::relationship(&url, "role", included_rel("role").then_some(Value::Null)),
            "locations": jsonapi::relationship(&url, "locations", empty_list("locations")),
            "stages": jsonapi::relationship(&url, "stages", stages),
            "team-memberships": jsonapi::relationship(&url, "team-memberships", memberships),
            "colleagues": jsonapi::relationship(&url, "colleagues", empty_list("colleagues")),
            "candidates": jsonapi::relationship(&url, "candidates", empty_list("candidates")),
        }
    });
    (resource, side)
}

const JOB_INCLUDES: &[&str] =
    &["user", "department", "role", "locations", "stages", "team-memberships", "colleagues", "candidates"];

async fn get_job(
    State(sb): State<Sandbox>,
    here: Here,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let st = sb.state().await;
    let version = match authorize(&st, (&here, &headers), false, Need::Read) {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let include = match jsonapi::includes(&here, "jobs", JOB_INCLUDES) {
        Ok(i) => i,
        Err(refused) => return refused,
    };
    let Some(job) = st.teamtailor.jobs.get(&id) else {
        return jsonapi::not_found(&id);
    };
    let (data, included) = job_resource(&st.teamtailor, job, &include, &api(&here));
    let mut doc = json!({"data": data});
    if !include.is_empty() {
        doc["included"] = Value::Array(included);
    }
    jsonapi::document(StatusCode::OK, &version, doc)
}

fn stage_resource(stage: &Stage, job_id: &str, include: &BTreeSet<String>, api: &str) -> Value {
    let url = format!("{api}/stages/{}", stage.id);
    let job = include.contains("job").then(|| json!({"id": job_id, "type": "jobs"}));
    json!({"id": stage.id, "type": "stages", "links": {"self": url},
        "attributes": {"name": stage.name, "row-order": stage.row_order, "stage-type": "In process"},
        "relationships": {"job": jsonapi::relationship(&url, "job", job)}})
}

/// A list answer: one page of `rows` with its links and meta, and what it side-loads.
fn list_document(
    version: &str,
    rows: &[(Value, Vec<Value>)],
    page: Page,
    serve_at_most: Option<usize>,
    here: &Here,
    url: &str,
    include: &BTreeSet<String>,
) -> Response {
    let (slice, links, meta) = jsonapi::paged(rows, page, serve_at_most, here, url);
    let mut included: Vec<Value> = Vec::new();
    for side in slice.iter().flat_map(|(_, side)| side) {
        if !included.iter().any(|i| i["type"] == side["type"] && i["id"] == side["id"]) {
            included.push(side.clone());
        }
    }
    let data: Vec<Value> = slice.into_iter().map(|(r, _)| r).collect();
    let mut doc = json!({"data": data, "links": links, "meta": meta});
    if !include.is_empty() {
        doc["included"] = Value::Array(included);
    }
    jsonapi::document(StatusCode::OK, version, doc)
}

/// The checks every list shares: key, includes, page.
fn list_request(
    st: &SandboxState,
    (headers, admin): (&HeaderMap, bool),
    here: &Here,
    kind: &str,
    allowed: &[&str],
) -> Result<(String, BTreeSet<String>, Page), Response> {
    let version = authorize(st, (here, headers), admin, Need::Read)?;
    let include = jsonapi::includes(here, kind, allowed)?;
    let page = jsonapi::page(here)?;
    Ok((version, include, page))
}

/// The job's stages, not in row order, so that callers must sort.
async fn job_stages(
    State(sb): State<Sandbox>,
    here: Here,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let st = sb.state().await;
    let (version, include, page) = match list_request(&st, (&headers, true), &here, "stages", &["job"]) {
        Ok(r) => r,
        Err(refused) => return refused,
    };
    if !st.teamtailor.job_exists(&id) {
        return jsonapi::not_found(&id);
    }
    let api = api(&here);
    let job = st.teamtailor.jobs.get(&id);
    let rows: Vec<(Value, Vec<Value>)> = st
        .teamtailor
        .stages
        .get(&id)
        .map(|stages| {
            stages
                .iter()
                .rev()
                .map(|s| {
                    let side = match (include.contains("job"), job) {
                        (true, Some(j)) => vec![job_resource(&st.teamtailor, j, &BTreeSet::new(), &api).0],
                        _ => vec![],
                    };
                    (stage_resource(s, &id, &include, &api), side)
                })
                .collect()
        })
        .unwrap_or_default();
    list_document(&version, &rows, page, None, &here, &format!("{api}/jobs/{id}/stages"), &include)
}

fn membership_id(job_id: &str, user_id: &str) -> String {
    format!("tm-{job_id}-{user_id}")
}

fn membership_resource(job_id: &str, user_id: &str, include: &BTreeSet<String>, api: &str) -> Value {
    let url = format!("{api}/team-memberships/{}", membership_id(job_id, user_id));
    let user = include.contains("user").then(|| json!({"id": user_id, "type": "users"}));
    let team = include.contains("team").then(|| json!({"id": job_id, "type": "jobs"}));
    json!({"id": membership_id(job_id, user_id), "type": "team-memberships", "links": {"self": url},
    "attributes": {},
    "relationships": {
        "user": jsonapi::relationship(&url, "user", user),
        "team": jsonapi::relationship(&url, "team", team),
    }})
}

/// The job's team members, two to a page whatever `page[size]` asks, so that callers must follow
/// `links.next`.
async fn team_memberships(
    State(sb): State<Sandbox>,
    here: Here,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let st = sb.state().await;
    let (version, include, page) =
        match list_request(&st, (&headers, true), &here, "team-memberships", &["user", "team"]) {
            Ok(r) => r,
            Err(refused) => return refused,
        };
    if !st.teamtailor.job_exists(&id) {
        return jsonapi::not_found(&id);
    }
    let api = api(&here);
    let tt = &st.teamtailor;
    let members = tt.teams.get(&id).map(|t| t.members.clone()).unwrap_or_default();
    let rows: Vec<(Value, Vec<Value>)> = members
        .iter()
        .map(|u| {
            let mut side = vec![];
            if include.contains("user") {
                side.extend(tt.users.get(u).map(|user| user_resource(user, &api)));
            }
            if include.contains("team") {
                side.extend(tt.jobs.get(&id).map(|j| job_resource(tt, j, &BTreeSet::new(), &api).0));
            }
            (membership_resource(&id, u, &include, &api), side)
        })
        .collect();
    list_document(
        &version,
        &rows,
        page,
        Some(2),
        &here,
        &format!("{api}/jobs/{id}/team-memberships"),
        &include,
    )
}

const APPLICATION_INCLUDES: &[&str] = &["candidate", "job", "stage", "reject-reason"];

fn application_resource(
    tt: &TeamtailorState,
    app: &Application,
    include: &BTreeSet<String>,
    api: &str,
) -> (Value, Vec<Value>) {
    let url = format!("{api}/job-applications/{}", app.id);
    let mut side = Vec::new();
    let candidate = include.contains("candidate").then(|| {
        side.push(json!({"id": app.candidate_id, "type": "candidates", "attributes": {},
            "links": {"self": format!("{api}/candidates/{}", app.candidate_id)}}));
        json!({"id": app.candidate_id, "type": "candidates"})
    });
    let job = include.contains("job").then(|| {
        if let Some(j) = tt.jobs.get(&app.job_id) {
            side.push(job_resource(tt, j, &BTreeSet::new(), api).0);
        }
        json!({"id": app.job_id, "type": "jobs"})
    });
    let stage = include.contains("stage").then(|| {
        if let Some(s) = tt.stages.get(&app.job_id).and_then(|l| l.iter().find(|s| s.id == app.stage_id)) {
            side.push(stage_resource(s, &app.job_id, &BTreeSet::new(), api));
        }
        json!({"id": app.stage_id, "type": "stages"})
    });
    let reject = include.contains("reject-reason").then_some(Value::Null);
    let resource = json!({"id": app.id, "type": "job-applications", "links": {"self": url},
    "attributes": {"sourced": false},
    "relationships": {
        "candidate": jsonapi::relationship(&url, "candidate", candidate),
        "job": jsonapi::relationship(&url, "job", job),
        "stage": jsonapi::relationship(&url, "stage", stage),
        "reject-reason": jsonapi::relationship(&url, "reject-reason", reject),
    }});
    (resource, side)
}

async fn candidate_applications(
    State(sb): State<Sandbox>,
    here: Here,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let st = sb.state().await;
    let (version, include, page) =
        match list_request(&st, (&headers, true), &here, "job-applications", APPLICATION_INCLUDES) {
            Ok(r) => r,
            Err(refused) => return refused,
        };
    let api = api(&here);
    let rows: Vec<(Value, Vec<Value>)> = st
        .teamtailor
        .applications
        .iter()
        .filter(|a| a.candidate_id == id)
        .map(|a| application_resource(&st.teamtailor, a, &include, &api))
        .collect();
    list_document(
        &version,
        &rows,
        page,
        None,
        &here,
        &format!("{api}/candidates/{id}/job-applications"),
        &include,
    )
}

/// Moves an application: `relationships.stage.data` must name a stage of the application's job.
async fn patch_application(
    State(sb): State<Sandbox>,
    here: Here,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut st = sb.state().await;
    let version = match authorize(&st, (&here, &headers), true, Need::Update) {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    if let Err(refused) = jsonapi::require_media_type(&headers) {
        return refused;
    }
    let data = match jsonapi::resource_object(&body, "job-applications", &id) {
        Ok(d) => d,
        Err(refused) => return refused,
    };
    let tt = &mut st.teamtailor;
    let Some(index) = tt.applications.iter().position(|a| a.id == id) else {
        return jsonapi::not_found(&id);
    };
    if let Some(linkage) = data.get("relationships").and_then(|r| r.get("stage")).map(|s| &s["data"]) {
        let kind = linkage["type"].as_str().unwrap_or_default();
        if kind != "stages" {
            return jsonapi::error(
                StatusCode::BAD_REQUEST,
                "116",
                "Type Mismatch",
                &format!("{kind} is not a valid type for this operation."),
            );
        }
        let stage = linkage["id"].as_str().unwrap_or_default().to_owned();
        let job = tt.applications[index].job_id.clone();
        if !tt.stages.get(&job).is_some_and(|l| l.iter().any(|s| s.id == stage)) {
            return jsonapi::invalid("/data/relationships/stage", "stage", "must be a stage of the job");
        }
        tt.applications[index].stage_id = stage;
    }
    let (resource, _) = application_resource(tt, &tt.applications[index], &BTreeSet::new(), &api(&here));
    jsonapi::document(StatusCode::OK, &version, json!({"data": resource}))
}

fn custom_field_id(api_name: &str) -> String {
    format!("cf-{api_name}")
}

async fn custom_field_values(
    State(sb): State<Sandbox>,
    here: Here,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let st = sb.state().await;
    let (version, include, page) =
        match list_request(&st, (&headers, true), &here, "custom-field-values", &["custom-field", "owner"]) {
            Ok(r) => r,
            Err(refused) => return refused,
        };
    let api = api(&here);
    let rows: Vec<(Value, Vec<Value>)> = st
        .teamtailor
        .custom_field_values
        .iter()
        .filter(|v| v.candidate_id == id)
        .map(|v| {
            let url = format!("{api}/custom-field-values/{}", v.id);
            let mut side = vec![];
            let field = include.contains("custom-field").then(|| {
                side.push(json!({"id": custom_field_id(&v.api_name), "type": "custom-fields",
                    "attributes": {"api-name": v.api_name, "name": v.api_name, "field-type": "CustomField::Text"}}));
                json!({"id": custom_field_id(&v.api_name), "type": "custom-fields"})
            });
            let owner = include.contains("owner").then(|| json!({"id": v.candidate_id, "type": "candidates"}));
            let resource = json!({"id": v.id, "type": "custom-field-values", "links": {"self": url},
                "attributes": {"value": v.value, "field-type": "CustomField::Text"},
                "relationships": {
                    "custom-field": jsonapi::relationship(&url, "custom-field", field),
                    "owner": jsonapi::relationship(&url, "owner", owner),
                }});
            (resource, side)
        })
        .collect();
    let url = format!("{api}/candidates/{id}/custom-field-values");
    list_document(&version, &rows, page, None, &here, &url, &include)
}

async fn list_users(State(sb): State<Sandbox>, here: Here, headers: HeaderMap) -> Response {
    let st = sb.state().await;
    // Users are not Admin-only in Teamtailor's docs.
    let (version, include, page) = match list_request(&st, (&headers, false), &here, "users", &[]) {
        Ok(r) => r,
        Err(refused) => return refused,
    };
    let api = api(&here);
    let mut users: Vec<&User> = st.teamtailor.users.values().collect();
    users.sort_by(|a, b| a.id.cmp(&b.id));
    let rows: Vec<(Value, Vec<Value>)> = users.iter().map(|u| (user_resource(u, &api), vec![])).collect();
    list_document(&version, &rows, page, None, &here, &format!("{api}/users"), &include)
}

/// A signed URL: `403` once it has "expired" (here: when the file is unknown), as S3 answers.
async fn get_file(State(sb): State<Sandbox>, Path(name): Path<String>) -> Response {
    match sb.state().await.teamtailor.files.get(&name) {
        Some(bytes) => bytes.clone().into_response(),
        None => (StatusCode::FORBIDDEN, "the signed URL has expired").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::testing::*;

    const VERSION: &str = "20240904";

    fn tt(method: &str, path: &str, key: &str) -> axum::http::request::Builder {
        request(method, &format!("/teamtailor{path}"))
            .header("authorization", format!("Token token={key}"))
            .header("x-api-version", VERSION)
    }

    fn patch(path: &str, key: &str) -> axum::http::request::Builder {
        tt("PATCH", path, key).header("content-type", jsonapi::MEDIA_TYPE)
    }

    fn first_error(a: &Answer) -> &Value {
        &a.body["errors"][0]
    }

    async fn pipeline() -> Sandbox {
        let sb = Sandbox::new();
        sb.add_pipeline("4711", &[("s1", "Screening"), ("s2", "Offer")], ("app-1", "7001", "s1")).await;
        sb
    }

    #[tokio::test]
    async fn the_key_must_be_sent_as_token_token() {
        let sb = Sandbox::new();
        for auth in ["Token tok", "Bearer tok", "token token=tok", "Token token="] {
            let req = request("GET", "/teamtailor/v1/company")
                .header("authorization", auth)
                .header("x-api-version", VERSION);
            let a = send(&sb, req, None).await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{auth}");
            assert_eq!(first_error(&a)["status"], "401");
        }
        let a =
            send(&sb, request("GET", "/teamtailor/v1/company").header("x-api-version", VERSION), None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        let a = send(&sb, tt("GET", "/v1/company", "tok"), None).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body["data"]["attributes"]["uuid"], SANDBOX_COMPANY_ID);
    }

    #[tokio::test]
    async fn an_unknown_key_is_refused_with_401_when_the_sandbox_refuses_unregistered_keys() {
        let sb = Sandbox::refusing_unregistered();
        let a = send(&sb, tt("GET", "/v1/company", "never-created"), None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        sb.add_teamtailor_key("created", Scope::Admin, Access::Read).await;
        assert_eq!(send(&sb, tt("GET", "/v1/company", "created"), None).await.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_revoked_key_is_refused_with_401() {
        let sb = Sandbox::new();
        sb.add_invalid_token("deleted-key").await;
        let a = send(&sb, tt("GET", "/v1/company", "deleted-key"), None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert!(first_error(&a)["detail"].is_string(), "tt-rb reads errors[0].detail");
    }

    #[tokio::test]
    async fn a_request_without_x_api_version_is_refused_with_406() {
        let sb = Sandbox::new();
        let req = request("GET", "/teamtailor/v1/company").header("authorization", "Token token=tok");
        let a = send(&sb, req, None).await;
        assert_eq!(a.status, StatusCode::NOT_ACCEPTABLE);
        assert_eq!(first_error(&a)["status"], "406");
        for bad in ["latest", "2024-09-04", "20100101"] {
            let req = request("GET", "/teamtailor/v1/company")
                .header("authorization", "Token token=tok")
                .header("x-api-version", bad);
            assert_eq!(send(&sb, req, None).await.status, StatusCode::NOT_ACCEPTABLE, "{bad}");
        }
    }

    #[tokio::test]
    async fn a_successful_answer_echoes_the_api_version_as_json_api() {
        let sb = Sandbox::new();
        let a = send(&sb, tt("GET", "/v1/company", "tok"), None).await;
        assert_eq!(a.headers["x-api-version"], VERSION);
        assert_eq!(a.headers["content-type"], jsonapi::MEDIA_TYPE);
    }

    #[tokio::test]
    async fn admin_resources_refuse_a_key_without_admin_scope_with_403() {
        let sb = pipeline().await;
        sb.add_team("4711", "Engineer", ("u1", "Rita", "rita@acme.se"), &[("u2", "Hugo", "hugo@acme.se")])
            .await;
        sb.add_non_admin_token("public-key").await;
        for path in [
            "/v1/company",
            "/v1/jobs/4711/stages",
            "/v1/jobs/4711/team-memberships",
            "/v1/candidates/7001/job-applications",
            "/v1/candidates/7001/custom-field-values",
        ] {
            let a = send(&sb, tt("GET", path, "public-key"), None).await;
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}");
            assert_eq!(send(&sb, tt("GET", path, "admin-key"), None).await.status, StatusCode::OK, "{path}");
        }
        // Jobs and users are not Admin-only (Teamtailor/docs, `users.md.erb`: no scope notice).
        assert_eq!(send(&sb, tt("GET", "/v1/jobs/4711", "public-key"), None).await.status, StatusCode::OK);
        assert_eq!(send(&sb, tt("GET", "/v1/users", "public-key"), None).await.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_read_only_key_cannot_patch_and_gets_403() {
        let sb = pipeline().await;
        sb.add_read_only_token("read-key").await;
        let body = json!({"data": {"id": "app-1", "type": "job-applications",
            "relationships": {"stage": {"data": {"type": "stages", "id": "s2"}}}}});
        let a = send(&sb, patch("/v1/job-applications/app-1", "read-key"), Some(body.clone())).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        let company = json!({"data": {"id": COMPANY_RESOURCE_ID, "type": "companies", "attributes": {}}});
        assert_eq!(
            send(&sb, patch("/v1/company", "read-key"), Some(company)).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(sb.state().await.teamtailor.applications[0].stage_id, "s1", "not moved");
        assert_eq!(
            send(&sb, tt("GET", "/v1/company", "read-key"), None).await.status,
            StatusCode::OK,
            "it may read"
        );
    }

    #[tokio::test]
    async fn a_create_only_key_cannot_read_and_gets_403() {
        let sb = Sandbox::new();
        sb.add_teamtailor_key("create-key", Scope::Admin, Access::Write).await;
        assert_eq!(send(&sb, tt("GET", "/v1/users", "create-key"), None).await.status, StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn a_write_without_the_json_api_media_type_is_refused_with_415() {
        let sb = pipeline().await;
        let body = json!({"data": {"id": "app-1", "type": "job-applications",
            "relationships": {"stage": {"data": {"type": "stages", "id": "s2"}}}}});
        for ct in [None, Some("application/json"), Some("application/vnd.api+json; charset=utf-8")] {
            let mut req = tt("PATCH", "/v1/job-applications/app-1", "k");
            if let Some(ct) = ct {
                req = req.header("content-type", ct);
            }
            let a = send(&sb, req, Some(body.clone())).await;
            assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
            assert_eq!(first_error(&a)["code"], "415");
        }
        let a = send(&sb, patch("/v1/job-applications/app-1", "k"), Some(body)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }

    #[tokio::test]
    async fn a_patch_without_an_id_is_refused_with_400() {
        let sb = Sandbox::new();
        let a = send(
            &sb,
            patch("/v1/company", "k"),
            Some(json!({"data": {"type": "companies", "attributes": {}}})),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            a.body,
            json!({"errors":[{"title":"A key is required","detail":"The resource object does not contain a key.","code":"109","status":"400"}]})
        );
        let ok = json!({"data": {"type": "companies", "id": COMPANY_RESOURCE_ID, "attributes": {}}});
        let a = send(&sb, patch("/v1/company", "k"), Some(ok)).await;
        assert_eq!(a.status, StatusCode::OK, "a no-op PATCH with type and id is accepted: {}", a.body);
    }

    #[tokio::test]
    async fn a_patch_without_a_type_is_refused_with_400() {
        let sb = pipeline().await;
        let body = json!({"data": {"id": "app-1", "relationships": {"stage": {"data": {"type": "stages", "id": "s2"}}}}});
        let a = send(&sb, patch("/v1/job-applications/app-1", "k"), Some(body)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert_eq!(first_error(&a)["code"], "106");
        assert_eq!(first_error(&a)["detail"], "The required parameter, type, is missing.");
    }

    #[tokio::test]
    async fn a_patch_of_another_type_is_refused_with_400() {
        let sb = Sandbox::new();
        let body = json!({"data": {"id": COMPANY_RESOURCE_ID, "type": "company"}});
        let a = send(&sb, patch("/v1/company", "k"), Some(body)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert_eq!(first_error(&a)["code"], "101");
    }

    #[tokio::test]
    async fn a_patch_whose_id_is_not_the_urls_is_refused_with_400() {
        let sb = pipeline().await;
        let body = json!({"data": {"id": "app-2", "type": "job-applications"}});
        let a = send(&sb, patch("/v1/job-applications/app-1", "k"), Some(body)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert_eq!(first_error(&a)["code"], "110");
        let company = json!({"data": {"id": "acmesandbox42", "type": "companies"}});
        let a = send(&sb, patch("/v1/company", "k"), Some(company)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "the company's resource id, not its uuid");
    }

    #[tokio::test]
    async fn a_patch_without_data_is_refused_with_400() {
        let sb = Sandbox::new();
        let a = send(&sb, patch("/v1/company", "k"), Some(json!({"type": "companies", "id": "1"}))).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert_eq!(first_error(&a)["detail"], "The required parameter, data, is missing.");
    }

    #[tokio::test]
    async fn a_move_to_a_stage_of_the_job_is_made_and_to_another_is_refused_with_422() {
        let sb = pipeline().await;
        let to = |stage: &str| {
            json!({"data": {"id": "app-1", "type": "job-applications",
                "relationships": {"stage": {"data": {"type": "stages", "id": stage}}}}})
        };
        let a = send(&sb, patch("/v1/job-applications/app-1", "k"), Some(to("s-elsewhere"))).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        let a = send(&sb, patch("/v1/job-applications/app-1", "k"), Some(to("s2"))).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body["data"]["relationships"]["stage"].get("data").is_none(), "links only in the answer");
        assert_eq!(sb.state().await.teamtailor.applications[0].stage_id, "s2");
        let missing = json!({"data": {"id": "app-9", "type": "job-applications"}});
        let a = send(&sb, patch("/v1/job-applications/app-9", "k"), Some(missing)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn relationships_carry_linkage_only_when_included() {
        let sb = pipeline().await;
        let a = send(&sb, tt("GET", "/v1/candidates/7001/job-applications", "k"), None).await;
        assert_eq!(a.status, StatusCode::OK);
        let app = &a.body["data"][0];
        assert!(app["relationships"]["job"].get("data").is_none(), "{app}");
        assert!(app["relationships"]["stage"].get("data").is_none());
        assert!(app["relationships"]["job"]["links"]["related"]
            .as_str()
            .unwrap()
            .ends_with("/job-applications/app-1/job"));
        assert!(a.body.get("included").is_none());

        let a =
            send(&sb, tt("GET", "/v1/candidates/7001/job-applications?include=job,stage", "k"), None).await;
        let app = &a.body["data"][0];
        assert_eq!(app["relationships"]["job"]["data"], json!({"id": "4711", "type": "jobs"}));
        assert_eq!(app["relationships"]["stage"]["data"], json!({"id": "s1", "type": "stages"}));
        assert!(app["relationships"]["candidate"].get("data").is_none(), "only what was named");
        let kinds: Vec<&str> =
            a.body["included"].as_array().unwrap().iter().map(|r| r["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["jobs", "stages"]);
    }

    #[tokio::test]
    async fn custom_field_values_need_admin_scope_and_name_their_field_only_when_included() {
        let sb = Sandbox::new();
        sb.add_custom_field_value("7001", "personnummer", json!("19811218-9876")).await;
        sb.add_non_admin_token("public-key").await;
        let path = "/v1/candidates/7001/custom-field-values?include=custom-field";
        assert_eq!(send(&sb, tt("GET", path, "public-key"), None).await.status, StatusCode::FORBIDDEN);
        let a = send(&sb, tt("GET", path, "admin-key"), None).await;
        assert_eq!(a.body["data"][0]["attributes"]["value"], "19811218-9876");
        assert_eq!(a.body["data"][0]["relationships"]["custom-field"]["data"]["type"], "custom-fields");
        assert_eq!(a.body["included"][0]["attributes"]["api-name"], "personnummer");
        let a = send(&sb, tt("GET", "/v1/candidates/7001/custom-field-values", "admin-key"), None).await;
        assert!(a.body["data"][0]["relationships"]["custom-field"].get("data").is_none());
    }

    #[tokio::test]
    async fn a_jobs_recruiter_and_department_are_linked_only_when_included() {
        let sb = Sandbox::new();
        sb.add_job(Job { id: "9".into(), title: "Designer".into(), department: Some("Design".into()) }).await;
        sb.add_team("9", "Designer", ("u1", "Rita", "rita@acme.se"), &[]).await;
        let a = send(&sb, tt("GET", "/v1/jobs/9", "k"), None).await;
        assert!(a.body["data"]["relationships"]["user"].get("data").is_none());
        assert!(a.body["data"]["relationships"]["department"].get("data").is_none());
        assert!(a.body.get("included").is_none());
        let a = send(&sb, tt("GET", "/v1/jobs/9?include=department", "k"), None).await;
        assert_eq!(a.body["included"][0]["attributes"]["name"], "Design");
        assert!(a.body["data"]["relationships"]["user"].get("data").is_none());
        let a = send(&sb, tt("GET", "/v1/jobs/9?include=user", "k"), None).await;
        assert_eq!(a.body["data"]["relationships"]["user"]["data"]["id"], "u1");
        assert_eq!(a.body["included"][0]["attributes"]["email"], "rita@acme.se");
        assert_eq!(send(&sb, tt("GET", "/v1/jobs/404", "k"), None).await.status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn an_unknown_include_is_refused_with_400() {
        let sb = Sandbox::new();
        sb.add_job(Job { id: "9".into(), title: "Designer".into(), department: None }).await;
        let a = send(&sb, tt("GET", "/v1/jobs/9?include=recruiter", "k"), None).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert_eq!(first_error(&a)["code"], "112");
    }

    #[tokio::test]
    async fn a_page_size_over_thirty_is_refused_with_400() {
        let sb = Sandbox::new();
        let a = send(&sb, tt("GET", "/v1/users?page%5Bsize%5D=31", "k"), None).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert_eq!(first_error(&a)["code"], "118");
        assert_eq!(first_error(&a)["detail"], "size exceeds maximum page size of 30.");
        let a = send(&sb, tt("GET", "/v1/users?page%5Bsize%5D=0", "k"), None).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            send(&sb, tt("GET", "/v1/users?page%5Bsize%5D=30", "k"), None).await.status,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn lists_carry_links_next_except_on_the_last_page() {
        let sb = Sandbox::new();
        let members: Vec<(String, String, String)> =
            (0..12).map(|i| (format!("u{i:02}"), format!("User {i}"), format!("u{i}@acme.se"))).collect();
        let members: Vec<(&str, &str, &str)> =
            members.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
        sb.add_team("9", "Designer", ("r", "Rita", "rita@acme.se"), &members).await;
        // Thirteen users: pages of ten by default.
        let a = send(&sb, tt("GET", "/v1/users", "k"), None).await;
        assert_eq!(a.body["data"].as_array().unwrap().len(), 10);
        assert_eq!(a.body["meta"], json!({"record-count": 13, "page-count": 2}));
        let next = a.body["links"]["next"].as_str().unwrap();
        assert!(next.starts_with("http://sandbox.test/_sandbox/teamtailor/v1/users?"), "{next}");
        let path = next.trim_start_matches("http://sandbox.test/_sandbox/teamtailor");
        let a = send(&sb, tt("GET", path, "k"), None).await;
        assert_eq!(a.body["data"].as_array().unwrap().len(), 3);
        assert!(a.body["links"].get("next").is_none(), "the last page has no next");
        // Team memberships come two to a page, and links keep include=.
        let a = send(&sb, tt("GET", "/v1/jobs/9/team-memberships?include=user&page%5Bsize%5D=30", "k"), None)
            .await;
        assert_eq!(a.body["data"].as_array().unwrap().len(), 2);
        assert!(a.body["links"]["next"].as_str().unwrap().contains("include=user"));
        assert_eq!(a.body["included"].as_array().unwrap().len(), 2);
        assert_eq!(a.body["data"][0]["relationships"]["user"]["data"]["type"], "users");
    }

    #[tokio::test]
    async fn stages_are_listed_out_of_row_order_with_their_row_order() {
        let sb = pipeline().await;
        let a = send(&sb, tt("GET", "/v1/jobs/4711/stages?page%5Bsize%5D=30", "k"), None).await;
        let orders: Vec<i64> = a.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["attributes"]["row-order"].as_i64().unwrap())
            .collect();
        assert_eq!(orders, [20, 10]);
        assert_eq!(send(&sb, tt("GET", "/v1/jobs/1/stages", "k"), None).await.status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn a_file_url_serves_its_file_until_it_expires() {
        let sb = Sandbox::new();
        sb.add_file("cv.pdf", b"%PDF").await;
        let a = send(&sb, request("GET", "/teamtailor/files/cv.pdf"), None).await;
        assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, Some("%PDF")));
        assert_eq!(
            send(&sb, request("GET", "/teamtailor/files/gone.pdf"), None).await.status,
            StatusCode::FORBIDDEN
        );
    }

    #[tokio::test]
    async fn a_key_is_valid_only_on_its_companys_stack() {
        let sb = Sandbox::refusing_unregistered();
        sb.add_teamtailor_key_on(Region::Na, "na-key", Scope::Admin, Access::Read).await;
        sb.add_teamtailor_key("eu-key", Scope::Admin, Access::Read).await;
        for (segment, key, status) in [
            ("/teamtailor-na", "na-key", StatusCode::OK),
            ("/teamtailor", "na-key", StatusCode::UNAUTHORIZED),
            ("/teamtailor", "eu-key", StatusCode::OK),
            ("/teamtailor-na", "eu-key", StatusCode::UNAUTHORIZED),
        ] {
            let req = request("GET", &format!("{segment}/v1/company"))
                .header("authorization", format!("Token token={key}"))
                .header("x-api-version", VERSION);
            let a = send(&sb, req, None).await;
            assert_eq!(a.status, status, "{key} on {segment}");
            if status == StatusCode::OK {
                let link = a.body["data"]["links"]["self"].as_str().unwrap();
                assert!(link.contains(&format!("{segment}/v1/company")), "{link}");
            }
        }
    }
}
