//! A built-in sandbox of the outside services, so that the local runner, the demo and the tests
//! run offline: Teamtailor (partner results, jobs) and Learnster (OAuth, students, tags).
//! It is stateful, records every request it gets, and can be told to fail (`/control/faults`).
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Mutex;

/// One request the sandbox received.
#[derive(Clone, Debug, Serialize)]
pub struct Recorded {
    pub service: String,
    pub method: String,
    pub path: String,
    /// Kept in memory for assertions (which key was used); never logged or served.
    #[serde(skip)]
    pub authorization: Option<String>,
    #[serde(skip)]
    pub api_version: Option<String>,
}

/// Make matching requests fail: answer `status` (or hang for `delay_ms` first), `times` times.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Fault {
    pub service: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path_contains: String,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(default = "one")]
    pub times: u32,
    /// With status 429: the seconds Spark Hire-style `X-Rate-Limit-Try-Again-Seconds` asks for.
    #[serde(default)]
    pub try_again_seconds: Option<u32>,
}

fn one() -> u32 {
    1
}

#[derive(Clone, Debug, Serialize)]
pub struct Student {
    pub id: String,
    pub space: String,
    pub vendor_id: String,
    pub user: Value,
    /// Tag names (the sandbox resolves ids to names for easy reading).
    pub tags: BTreeSet<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tag {
    pub id: String,
    pub space: String,
    pub vendor_id: String,
    pub name: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Job {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub department: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StackOneAccount {
    pub id: String,
    pub origin_owner_id: String,
    pub origin_owner_name: String,
    pub status: String,
    #[serde(skip)]
    pub credentials: Value,
    pub updates: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct Application {
    pub id: String,
    pub candidate_id: String,
    pub job_id: String,
    pub stage_id: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Stage {
    pub id: String,
    pub name: String,
    pub row_order: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct TwoSecureOrder {
    pub id: String,
    pub idempotency_key: String,
    pub status: String,
    pub report_url: Option<String>,
    /// The order as sent (it holds the personnummer: in memory only, never served or logged).
    #[serde(skip)]
    pub body: Value,
    pub attachment_names: Vec<String>,
}

impl State_ {
    /// How many pages of team memberships were read.
    pub fn count_pages(&self) -> usize {
        self.requests.iter().filter(|r| r.path.contains("/team-memberships")).count()
    }
}

#[derive(Default, Serialize)]
pub struct State_ {
    pub requests: Vec<Recorded>,
    pub faults: Vec<Fault>,
    /// Partner results by id: the latest attributes written.
    pub partner_results: HashMap<String, Value>,
    /// Every partner-result update, in order.
    pub partner_result_updates: Vec<(String, Value)>,
    pub jobs: HashMap<String, Job>,
    /// The listing's activations as Teamtailor lists them (`provider-key` is a JWE).
    pub activations: Vec<Value>,
    /// Teamtailor: job applications and each job's stages.
    pub applications: Vec<Application>,
    pub stages: HashMap<String, Vec<Stage>>,
    /// Teamtailor company API keys that may only read (PATCH answers 403).
    #[serde(skip)]
    pub read_only_tokens: BTreeSet<String>,
    /// Teamtailor's short-lived file URLs: name → content.
    #[serde(skip)]
    pub files: HashMap<String, Vec<u8>>,
    /// Teamtailor users (id → name, e-mail) and each job's recruiter and team members.
    pub users: HashMap<String, (String, String)>,
    pub teams: HashMap<String, (Option<String>, Vec<String>)>,
    /// Teamtailor company API keys without Admin scope (users answer 403).
    #[serde(skip)]
    pub non_admin_tokens: BTreeSet<String>,
    /// Spark Hire: users by key (uuid, name, e-mail), jobs, interviews and registered webhooks.
    #[serde(skip)]
    pub sparkhire_keys: HashMap<String, (String, String, String)>,
    pub sparkhire_jobs: Vec<(String, String, String)>,
    pub sparkhire_interviews: Vec<Value>,
    pub sparkhire_webhooks: Vec<Value>,
    /// StackOne linked accounts (credentials kept in memory only, never served).
    pub stackone_accounts: Vec<StackOneAccount>,
    /// Teamtailor company API keys Teamtailor does not know (answers 401).
    #[serde(skip)]
    pub invalid_tokens: BTreeSet<String>,
    /// Alva: test profiles, candidates invited (by idempotency key), users, and access grants.
    pub alva_profiles: Vec<(String, String)>,
    pub alva_candidates: Vec<Value>,
    pub alva_users: Vec<(String, String, String)>,
    pub alva_invitations: Vec<String>,
    pub alva_grants: Vec<(String, String)>,
    /// 2Secure: accepted API keys → company name, and the orders placed.
    #[serde(skip)]
    pub twosecure_keys: HashMap<String, String>,
    pub twosecure_orders: Vec<TwoSecureOrder>,
    pub students: Vec<Student>,
    pub tags: Vec<Tag>,
    #[serde(skip)]
    pub learnster_tokens: BTreeSet<String>,
}

/// A handle on the sandbox's state, shared with its router.
#[derive(Clone, Default)]
pub struct Sandbox {
    state: Arc<Mutex<State_>>,
}

impl Sandbox {
    pub fn new() -> Self {
        Self::default()
    }

    pub async fn state(&self) -> tokio::sync::MutexGuard<'_, State_> {
        self.state.lock().await
    }

    pub async fn add_fault(&self, fault: Fault) {
        self.state.lock().await.faults.push(fault);
    }

    /// Adds an activation of the listing whose webhook secret is `webhook_secret`.
    pub async fn add_activation(
        &self,
        provider_key: &str,
        webhook_secret: &hirebridge::SecretString,
        company_uuid: &str,
        company_name: &str,
    ) {
        let jwe =
            hirebridge::teamtailor::activations::encrypt(provider_key, webhook_secret, "A128GCM", rand_iv());
        self.state.lock().await.activations.push(json!({
            "provider-key": jwe, "company-uuid": company_uuid, "company-name": company_name
        }));
    }

    /// A job's stages, in row order as given, and a candidate's application in `stage_id`.
    pub async fn add_pipeline(&self, job_id: &str, stages: &[(&str, &str)], application: (&str, &str, &str)) {
        let mut st = self.state.lock().await;
        let stages = stages
            .iter()
            .enumerate()
            .map(|(i, (id, name))| Stage {
                id: (*id).into(),
                name: (*name).into(),
                row_order: (i as i64 + 1) * 10,
            })
            .collect();
        st.stages.insert(job_id.into(), stages);
        let (id, candidate_id, stage_id) = application;
        st.applications.push(Application {
            id: id.into(),
            candidate_id: candidate_id.into(),
            job_id: job_id.into(),
            stage_id: stage_id.into(),
        });
    }

    pub async fn add_file(&self, name: &str, content: &[u8]) {
        self.state.lock().await.files.insert(name.into(), content.to_vec());
    }

    /// A job whose recruiter and team members are Teamtailor users `(id, name, e-mail)`.
    pub async fn add_team(
        &self,
        job_id: &str,
        title: &str,
        recruiter: (&str, &str, &str),
        members: &[(&str, &str, &str)],
    ) {
        let mut st = self.state.lock().await;
        for (id, name, email) in std::iter::once(&recruiter).chain(members.iter()) {
            st.users.insert((*id).into(), ((*name).into(), (*email).into()));
        }
        st.teams.insert(
            job_id.into(),
            (Some(recruiter.0.into()), members.iter().map(|m| m.0.to_owned()).collect()),
        );
        st.jobs.entry(job_id.into()).or_insert(Job {
            id: job_id.into(),
            title: title.into(),
            department: None,
        });
    }

    /// A person Alva already knows.
    pub async fn add_alva_user(&self, email: &str, name: &str) {
        let id = format!("alva-user-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        self.state.lock().await.alva_users.push((id, email.into(), name.into()));
    }

    /// A Spark Hire user and their User API Key; `jobs` are that user's job titles.
    pub async fn add_sparkhire_user(&self, key: &str, name: &str, email: &str, jobs: &[&str]) {
        let mut st = self.state.lock().await;
        let uuid = format!("shu-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        for title in jobs {
            st.sparkhire_jobs.push((
                format!("shj-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
                (*title).into(),
                uuid.clone(),
            ));
        }
        st.sparkhire_keys.insert(key.into(), (uuid, name.into(), email.into()));
    }

    /// Revokes a Spark Hire key (its user is disabled, say).
    pub async fn revoke_sparkhire_key(&self, key: &str) {
        self.state.lock().await.sparkhire_keys.remove(key);
    }

    pub async fn add_non_admin_token(&self, token: &str) {
        self.state.lock().await.non_admin_tokens.insert(token.into());
    }

    pub async fn add_invalid_token(&self, token: &str) {
        self.state.lock().await.invalid_tokens.insert(token.into());
    }

    pub async fn add_read_only_token(&self, token: &str) {
        self.state.lock().await.read_only_tokens.insert(token.into());
    }

    pub async fn add_twosecure_key(&self, key: &str, company_name: &str) {
        self.state.lock().await.twosecure_keys.insert(key.into(), company_name.into());
    }

    /// 2Secure moves an order on (as its staff would).
    pub async fn set_twosecure_status(&self, order_id: &str, status: &str, report_url: Option<&str>) {
        let mut st = self.state.lock().await;
        if let Some(o) = st.twosecure_orders.iter_mut().find(|o| o.id == order_id) {
            o.status = status.into();
            o.report_url = report_url.map(str::to_owned);
        }
    }

    pub async fn add_job(&self, job: Job) {
        self.state.lock().await.jobs.insert(job.id.clone(), job);
    }

    /// Requests to `service` whose method and path match.
    pub async fn count(&self, service: &str, method: &str, path_contains: &str) -> usize {
        self.state
            .lock()
            .await
            .requests
            .iter()
            .filter(|r| r.service == service && r.method == method && r.path.contains(path_contains))
            .count()
    }

    /// The routes, to be nested under `/_sandbox`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/teamtailor/partner/v1/partner-results/{id}", put(put_partner_result))
            .route("/teamtailor/v1/jobs/{id}", get(get_job))
            .route("/teamtailor/partner/v1/partner-activations", get(list_activations))
            .route("/learnster/{space}/api/public/v1/auth/token/", post(learnster_token))
            .route(
                "/learnster/{space}/api/public/v1/vendor/{vendor}/users/students/",
                get(search_students).post(create_student),
            )
            .route(
                "/learnster/{space}/api/public/v1/vendor/{vendor}/users/students/{student}/tags/bulk/",
                put(bulk_tags),
            )
            .route(
                "/learnster/{space}/api/public/v1/vendor/{vendor}/tags/",
                get(search_tags).post(create_tag),
            )
            .route("/teamtailor/v1/candidates/{id}/job-applications", get(candidate_applications))
            .route("/teamtailor/v1/jobs/{id}/stages", get(job_stages))
            .route("/teamtailor/v1/job-applications/{id}", axum::routing::patch(move_application))
            .route("/teamtailor/files/{name}", get(get_file))
            .route("/teamtailor/v1/company", get(get_company).patch(patch_company))
            .route("/teamtailor/v1/users", get(list_users))
            .route("/stackone/accounts", get(stackone_accounts).post(stackone_create))
            .route("/sparkhire/me", get(sparkhire_me))
            .route("/sparkhire/jobs", get(sparkhire_jobs).post(sparkhire_create_job))
            .route("/sparkhire/question_sets", get(sparkhire_question_sets))
            .route("/sparkhire/interviews", post(sparkhire_interview))
            .route("/sparkhire/webhooks", post(sparkhire_webhook))
            .route("/stackone/accounts/{id}", axum::routing::patch(stackone_update))
            .route("/teamtailor/v1/jobs/{id}/team-memberships", get(team_memberships))
            .route("/alva/test-profiles", get(alva_profiles))
            .route("/alva/candidates", post(alva_candidate))
            .route("/alva/users", get(alva_find_user))
            .route("/alva/users/invitations", post(alva_invite))
            .route("/alva/test-profiles/{profile}/members/{user}", put(alva_grant))
            .route("/2secure/account", get(twosecure_account))
            .route("/2secure/packages", get(twosecure_packages))
            .route("/2secure/orders", post(twosecure_order))
            .route("/2secure/orders/{id}", get(twosecure_get_order))
            .route("/control/faults", post(control_fault))
            .route("/control/jobs", post(control_job))
            .route("/control/state", get(control_state))
            .layer(middleware::from_fn_with_state(self.clone(), record_and_fault))
            .with_state(self.clone())
    }
}

fn rand_iv() -> [u8; 12] {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut iv = [0u8; 12];
    iv.copy_from_slice(&bytes[..12]);
    iv
}

/// Records the request, then applies the first matching fault.
async fn record_and_fault(State(sb): State<Sandbox>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let rest = path.trim_start_matches("/_sandbox");
    let service = rest.trim_start_matches('/').split('/').next().unwrap_or_default().to_owned();
    let method = req.method().to_string();
    let (authorization, api_version) = {
        let h = req.headers();
        let header = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        (header("authorization"), header("x-api-version"))
    };
    let fault = {
        let mut st = sb.state.lock().await;
        if service != "control" {
            st.requests.push(Recorded {
                service: service.clone(),
                method: method.clone(),
                path: rest.to_owned(),
                authorization,
                api_version,
            });
        }
        let found = st.faults.iter_mut().find(|f| {
            f.times > 0
                && f.service == service
                && f.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(&method))
                && rest.contains(&f.path_contains)
        });
        found.map(|f| {
            f.times -= 1;
            f.clone()
        })
    };
    if let Some(fault) = fault {
        if fault.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
        }
        if let Some(status) = fault.status {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response =
                (status, Json(json!({"error": "sandbox fault", "status": status.as_u16()}))).into_response();
            if let Some(seconds) = fault.try_again_seconds {
                response.headers_mut().insert("x-rate-limit-try-again-seconds", seconds.into());
            }
            return response;
        }
    }
    next.run(req).await
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ").map(str::to_owned)
}

async fn put_partner_result(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if headers.get("x-api-version").and_then(|v| v.to_str().ok()) != Some("20180828") {
        return (StatusCode::NOT_ACCEPTABLE, "X-Api-Version 20180828 is required").into_response();
    }
    if bearer(&headers).is_none() {
        return (StatusCode::UNAUTHORIZED, "partner API key required").into_response();
    }
    let Ok(doc) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    if doc["data"]["type"] != "partner-results" {
        return (StatusCode::UNPROCESSABLE_ENTITY, "data.type must be partner-results").into_response();
    }
    let attributes = doc["data"]["attributes"].clone();
    let mut st = sb.state.lock().await;
    st.partner_results.insert(id.clone(), attributes.clone());
    st.partner_result_updates.push((id.clone(), attributes.clone()));
    Json(json!({"data": {"id": id, "type": "partner-results", "attributes": attributes}})).into_response()
}

/// Activations two to a page, so that callers must follow `links.next`.
async fn list_activations(
    State(sb): State<Sandbox>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !auth.starts_with("Token ") || headers.get("x-api-version").is_none() {
        return (StatusCode::UNAUTHORIZED, "partner API key (Token) and X-Api-Version required")
            .into_response();
    }
    let page: usize = q.get("page[number]").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    let st = sb.state.lock().await;
    let per_page = 2;
    let rows: Vec<Value> = st
        .activations
        .iter()
        .enumerate()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(i, a)| json!({"id": (i + 1).to_string(), "type": "partner-activations", "attributes": a}))
        .collect();
    let pages = st.activations.len().div_ceil(per_page).max(1);
    let host = headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let mut links = json!({});
    if page < pages {
        links["next"] = json!(format!(
            "http://{host}/_sandbox/teamtailor/partner/v1/partner-activations?page%5Bnumber%5D={}&page%5Bsize%5D={per_page}",
            page + 1
        ));
    }
    Json(json!({"data": rows, "meta": {"record-count": st.activations.len(), "page-count": pages}, "links": links})).into_response()
}

fn company_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Token token=")
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn jsonapi_unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"errors": [{"status": "401", "title": "Unauthorized"}]})))
        .into_response()
}

async fn candidate_applications(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if company_token(&headers).is_none() {
        return jsonapi_unauthorized();
    }
    let st = sb.state.lock().await;
    let data: Vec<Value> = st
        .applications
        .iter()
        .filter(|a| a.candidate_id == id)
        .map(|a| json!({"id": a.id, "type": "job-applications", "attributes": {},
            "relationships": {"job": {"data": {"id": a.job_id, "type": "jobs"}}, "stage": {"data": {"id": a.stage_id, "type": "stages"}}}}))
        .collect();
    Json(json!({"data": data, "links": {}})).into_response()
}

async fn job_stages(State(sb): State<Sandbox>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if company_token(&headers).is_none() {
        return jsonapi_unauthorized();
    }
    let st = sb.state.lock().await;
    let data: Vec<Value> = st
        .stages
        .get(&id)
        .map(|stages| {
            stages
                .iter()
                .rev() // not in row order, so that callers must sort
                .map(|s| json!({"id": s.id, "type": "stages", "attributes": {"name": s.name, "row-order": s.row_order}}))
                .collect()
        })
        .unwrap_or_default();
    Json(json!({"data": data, "links": {}})).into_response()
}

async fn move_application(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let Some(token) = company_token(&headers) else {
        return jsonapi_unauthorized();
    };
    let mut st = sb.state.lock().await;
    if st.read_only_tokens.contains(&token) {
        return (StatusCode::FORBIDDEN, Json(json!({"errors": [{"status": "403", "title": "Forbidden", "detail": "the API key has read access only"}]}))).into_response();
    }
    let doc: Value = serde_json::from_str(&body).unwrap_or_default();
    let Some(stage) = doc["data"]["relationships"]["stage"]["data"]["id"].as_str().map(str::to_owned) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, "stage relationship required").into_response();
    };
    let Some(app) = st.applications.iter_mut().find(|a| a.id == id) else {
        return (StatusCode::NOT_FOUND, "no such job application").into_response();
    };
    app.stage_id = stage.clone();
    Json(json!({"data": {"id": id, "type": "job-applications", "relationships": {"stage": {"data": {"id": stage, "type": "stages"}}}}})).into_response()
}

async fn get_file(State(sb): State<Sandbox>, Path(name): Path<String>) -> Response {
    match sb.state.lock().await.files.get(&name) {
        Some(bytes) => bytes.clone().into_response(),
        None => (StatusCode::FORBIDDEN, "the signed URL has expired").into_response(),
    }
}

fn token_problem(st: &State_, headers: &HeaderMap) -> Option<Response> {
    match company_token(headers) {
        None => Some(jsonapi_unauthorized()),
        Some(t) if st.invalid_tokens.contains(&t) => Some(jsonapi_unauthorized()),
        Some(_) => None,
    }
}

async fn get_company(State(sb): State<Sandbox>, headers: HeaderMap) -> Response {
    let st = sb.state.lock().await;
    if let Some(problem) = token_problem(&st, &headers) {
        return problem;
    }
    Json(json!({"data": {"id": "1", "type": "companies", "attributes": {"name": "Sandbox: Acme AB", "uuid": SANDBOX_COMPANY_ID}}}))
        .into_response()
}

/// The company ID of the sandbox's Teamtailor company.
pub const SANDBOX_COMPANY_ID: &str = "acmesandbox42";

async fn list_users(State(sb): State<Sandbox>, headers: HeaderMap) -> Response {
    let st = sb.state.lock().await;
    if let Some(problem) = token_problem(&st, &headers) {
        return problem;
    }
    if company_token(&headers).is_some_and(|t| st.non_admin_tokens.contains(&t)) {
        return (StatusCode::FORBIDDEN, Json(json!({"errors": [{"status": "403", "title": "Forbidden", "detail": "Admin scope required"}]})))
            .into_response();
    }
    let data: Vec<Value> = st
        .users
        .iter()
        .map(|(id, (name, email))| json!({"id": id, "type": "users", "attributes": {"name": name, "email": email}}))
        .collect();
    Json(json!({"data": data, "links": {}})).into_response()
}

/// The Spark Hire user of a Basic-auth key (username = key).
fn sparkhire_user(st: &State_, headers: &HeaderMap) -> Option<(String, String, String)> {
    use base64::Engine;
    let value = headers.get("authorization")?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(value).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let key = text.split(':').next()?;
    st.sparkhire_keys.get(key).cloned()
}

fn sparkhire_unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"status": "error", "code": "unauthorized", "message": "Invalid API key"})),
    )
        .into_response()
}

/// `range=<from>-<to>` (1-based, inclusive) of a list.
fn sparkhire_range(q: &HashMap<String, String>, items: Vec<Value>) -> Vec<Value> {
    let (from, to) = q
        .get("range")
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
        .unwrap_or((1, 20));
    items.into_iter().skip(from.saturating_sub(1)).take(to.saturating_sub(from) + 1).collect()
}

async fn sparkhire_me(State(sb): State<Sandbox>, headers: HeaderMap) -> Response {
    let st = sb.state.lock().await;
    match sparkhire_user(&st, &headers) {
        Some((uuid, name, email)) => {
            Json(json!({"uuid": uuid, "name": name, "email": email})).into_response()
        }
        None => sparkhire_unauthorized(),
    }
}

async fn sparkhire_jobs(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let st = sb.state.lock().await;
    let Some((user, _, _)) = sparkhire_user(&st, &headers) else { return sparkhire_unauthorized() };
    let jobs: Vec<Value> = st
        .sparkhire_jobs
        .iter()
        .filter(|(_, _, owner)| *owner == user)
        .map(|(uuid, title, _)| json!({"uuid": uuid, "title": title, "status": "active"}))
        .collect();
    Json(Value::Array(sparkhire_range(&q, jobs))).into_response()
}

async fn sparkhire_create_job(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut st = sb.state.lock().await;
    let Some((user, _, _)) = sparkhire_user(&st, &headers) else { return sparkhire_unauthorized() };
    let uuid = format!("shj-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let title = body["title"].as_str().unwrap_or_default().to_owned();
    st.sparkhire_jobs.push((uuid.clone(), title.clone(), user));
    (StatusCode::CREATED, Json(json!({"uuid": uuid, "title": title, "status": "active"}))).into_response()
}

async fn sparkhire_question_sets(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let st = sb.state.lock().await;
    if sparkhire_user(&st, &headers).is_none() {
        return sparkhire_unauthorized();
    }
    let sets = vec![
        json!({"uuid": "qs-general", "name": "General screening"}),
        json!({"uuid": "qs-design", "name": "Design portfolio"}),
    ];
    Json(Value::Array(sparkhire_range(&q, sets))).into_response()
}

async fn sparkhire_interview(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut st = sb.state.lock().await;
    let Some((user, _, _)) = sparkhire_user(&st, &headers) else { return sparkhire_unauthorized() };
    let job = body["job_post"]["uuid"].as_str().unwrap_or_default();
    if !st.sparkhire_jobs.iter().any(|(uuid, _, _)| uuid == job) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"status": "error", "code": "invalid_job", "message": "unknown job"})),
        )
            .into_response();
    }
    let uuid = format!("shi-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let live = body["type"] == "live";
    let interview = json!({
        "uuid": uuid, "status": "created", "type": body["type"], "job_post": {"uuid": job}, "owner": user,
        "assigned_to": body["assigned_to"], "scheduled_at": body["scheduled_at"],
        "share_link": {"url": format!("https://app.sparkhire.com/share/{uuid}")},
        "join_url": if live { json!(format!("https://app.sparkhire.com/live/{uuid}")) } else { Value::Null },
    });
    st.sparkhire_interviews.push(interview.clone());
    (StatusCode::CREATED, Json(interview)).into_response()
}

async fn sparkhire_webhook(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut st = sb.state.lock().await;
    if sparkhire_user(&st, &headers).is_none() {
        return sparkhire_unauthorized();
    }
    st.sparkhire_webhooks.push(body);
    (StatusCode::CREATED, Json(json!({"uuid": uuid::Uuid::new_v4().to_string()}))).into_response()
}

fn stackone_key(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("Basic "))
}

fn stackone_unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"statusCode": 401, "message": "Unauthorized"}))).into_response()
}

async fn stackone_accounts(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !stackone_key(&headers) {
        return stackone_unauthorized();
    }
    let owner = q.get("origin_owner_id").cloned().unwrap_or_default();
    let st = sb.state.lock().await;
    let list: Vec<Value> = st
        .stackone_accounts
        .iter()
        .filter(|a| a.origin_owner_id == owner)
        .map(|a| json!({"id": a.id, "provider": "teamtailor", "status": a.status, "origin_owner_id": a.origin_owner_id, "origin_owner_name": a.origin_owner_name}))
        .collect();
    Json(Value::Array(list)).into_response()
}

async fn stackone_create(State(sb): State<Sandbox>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !stackone_key(&headers) {
        return stackone_unauthorized();
    }
    let account = StackOneAccount {
        id: format!("acc_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
        origin_owner_id: body["origin_owner_id"].as_str().unwrap_or_default().into(),
        origin_owner_name: body["origin_owner_name"].as_str().unwrap_or_default().into(),
        status: "active".into(),
        credentials: body["credentials"].clone(),
        updates: 0,
    };
    sb.state.lock().await.stackone_accounts.push(account.clone());
    (StatusCode::CREATED, Json(json!({"id": account.id, "status": account.status}))).into_response()
}

async fn stackone_update(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if !stackone_key(&headers) {
        return stackone_unauthorized();
    }
    let mut st = sb.state.lock().await;
    let Some(account) = st.stackone_accounts.iter_mut().find(|a| a.id == id) else {
        return (StatusCode::NOT_FOUND, Json(json!({"statusCode": 404, "message": "Not found"})))
            .into_response();
    };
    account.credentials = body["credentials"].clone();
    account.updates += 1;
    Json(json!({"id": account.id, "status": account.status})).into_response()
}

async fn patch_company(State(sb): State<Sandbox>, headers: HeaderMap) -> Response {
    let st = sb.state.lock().await;
    if let Some(problem) = token_problem(&st, &headers) {
        return problem;
    }
    if company_token(&headers).is_some_and(|t| st.read_only_tokens.contains(&t)) {
        return (StatusCode::FORBIDDEN, Json(json!({"errors": [{"status": "403", "title": "Forbidden"}]})))
            .into_response();
    }
    Json(json!({"data": {"id": "1", "type": "companies", "attributes": {"name": "Sandbox: Acme AB"}}}))
        .into_response()
}

/// Team members two to a page, so that callers must follow `links.next`.
async fn team_memberships(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let st = sb.state.lock().await;
    if let Some(problem) = token_problem(&st, &headers) {
        return problem;
    }
    let members = st.teams.get(&id).map(|t| t.1.clone()).unwrap_or_default();
    let page: usize = q.get("page[number]").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    let per_page = 2;
    let slice: Vec<&String> = members.iter().skip((page - 1) * per_page).take(per_page).collect();
    let data: Vec<Value> = slice
        .iter()
        .map(|u| json!({"id": format!("tm-{u}"), "type": "team-memberships", "relationships": {"user": {"data": {"id": u, "type": "users"}}}}))
        .collect();
    let included: Vec<Value> = slice
        .iter()
        .filter_map(|u| st.users.get(*u).map(|(name, email)| json!({"id": u, "type": "users", "attributes": {"name": name, "email": email}})))
        .collect();
    let host = headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let mut links = json!({});
    if page * per_page < members.len() {
        links["next"] = json!(format!("http://{host}/_sandbox/teamtailor/v1/jobs/{id}/team-memberships?include=user&page%5Bnumber%5D={}&page%5Bsize%5D={per_page}", page + 1));
    }
    Json(json!({"data": data, "included": included, "links": links})).into_response()
}

/// The Alva company a call acts for, when it carries a key and `X-Alva-Company`.
fn alva_company(headers: &HeaderMap) -> Option<String> {
    bearer(headers)?;
    headers.get("x-alva-company").and_then(|v| v.to_str().ok()).filter(|c| !c.is_empty()).map(str::to_owned)
}

fn alva_unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"error": "unauthorized"}))).into_response()
}

async fn alva_profiles(State(sb): State<Sandbox>, headers: HeaderMap) -> Response {
    if alva_company(&headers).is_none() {
        return alva_unauthorized();
    }
    let st = sb.state.lock().await;
    let mut profiles = st.alva_profiles.clone();
    if profiles.is_empty() {
        profiles = vec![
            ("tp-logic".into(), "Logic test".into()),
            ("tp-personality".into(), "Personality test".into()),
        ];
    }
    Json(json!({"data": profiles.iter().map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>()})).into_response()
}

async fn alva_candidate(State(sb): State<Sandbox>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let Some(company) = alva_company(&headers) else {
        return alva_unauthorized();
    };
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let mut st = sb.state.lock().await;
    if let Some(existing) =
        st.alva_candidates.iter().find(|c| !key.is_empty() && c["idempotency_key"] == key.as_str())
    {
        return (
            StatusCode::CREATED,
            Json(json!({"id": existing["id"], "candidate_url": existing["candidate_url"]})),
        )
            .into_response();
    }
    let id = format!("ac-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let url = format!("https://app.alvalabs.io/candidates/{id}");
    st.alva_candidates.push(
        json!({"id": id, "company": company, "idempotency_key": key, "candidate_url": url, "body": body}),
    );
    (StatusCode::CREATED, Json(json!({"id": id, "candidate_url": url}))).into_response()
}

async fn alva_find_user(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if alva_company(&headers).is_none() {
        return alva_unauthorized();
    }
    let email = q.get("email").cloned().unwrap_or_default().to_lowercase();
    let st = sb.state.lock().await;
    let data: Vec<Value> = st
        .alva_users
        .iter()
        .filter(|(_, e, _)| e.to_lowercase() == email)
        .map(|(id, e, n)| json!({"id": id, "email": e, "name": n}))
        .collect();
    Json(json!({"data": data})).into_response()
}

async fn alva_invite(State(sb): State<Sandbox>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if alva_company(&headers).is_none() {
        return alva_unauthorized();
    }
    let email = body["email"].as_str().unwrap_or_default().to_owned();
    let name = body["name"].as_str().unwrap_or_default().to_owned();
    let id = format!("alva-user-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut st = sb.state.lock().await;
    st.alva_invitations.push(email.clone());
    st.alva_users.push((id.clone(), email, name));
    (StatusCode::CREATED, Json(json!({"id": id}))).into_response()
}

async fn alva_grant(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((profile, user)): Path<(String, String)>,
) -> Response {
    if alva_company(&headers).is_none() {
        return alva_unauthorized();
    }
    let mut st = sb.state.lock().await;
    if !st.alva_users.iter().any(|(id, _, _)| *id == user) {
        return (StatusCode::NOT_FOUND, Json(json!({"error": "no such user"}))).into_response();
    }
    st.alva_grants.push((profile, user));
    StatusCode::NO_CONTENT.into_response()
}

async fn twosecure_company(sb: &Sandbox, headers: &HeaderMap) -> Option<String> {
    let key = bearer(headers)?;
    sb.state.lock().await.twosecure_keys.get(&key).cloned()
}

async fn twosecure_account(State(sb): State<Sandbox>, headers: HeaderMap) -> Response {
    match twosecure_company(&sb, &headers).await {
        Some(name) => Json(json!({"company_name": name})).into_response(),
        None => {
            (StatusCode::UNAUTHORIZED, Json(json!({"error": "unauthorized", "message": "invalid API key"})))
                .into_response()
        }
    }
}

async fn twosecure_packages(State(sb): State<Sandbox>, headers: HeaderMap) -> Response {
    if twosecure_company(&sb, &headers).await.is_none() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "unauthorized", "message": "invalid API key"})),
        )
            .into_response();
    }
    Json(json!([{"id": "basic", "name": "Basic"}, {"id": "standard", "name": "Standard"}, {"id": "executive", "name": "Executive"}])).into_response()
}

async fn twosecure_order(State(sb): State<Sandbox>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if twosecure_company(&sb, &headers).await.is_none() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "unauthorized", "message": "invalid API key"})),
        )
            .into_response();
    }
    let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "bad_request", "message": "Idempotency-Key is required"})),
        )
            .into_response();
    };
    let pn = body["candidate"]["personal_number"].as_str().unwrap_or_default();
    if pn.len() != 12 || !pn.chars().all(|c| c.is_ascii_digit()) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "invalid_personal_number", "message": "personal_number must be 12 digits"})),
        )
            .into_response();
    }
    if !["basic", "standard", "executive"].contains(&body["package_id"].as_str().unwrap_or_default()) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "invalid_package", "message": "unknown package"})),
        )
            .into_response();
    }
    let mut st = sb.state.lock().await;
    if let Some(existing) = st.twosecure_orders.iter().find(|o| o.idempotency_key == key) {
        return (StatusCode::CREATED, Json(json!({"id": existing.id, "status": existing.status})))
            .into_response();
    }
    let order = TwoSecureOrder {
        id: format!("ord_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
        idempotency_key: key,
        status: "sent".into(),
        report_url: None,
        attachment_names: body["attachments"]
            .as_array()
            .map(|a| a.iter().filter_map(|f| f["file_name"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        body,
    };
    st.twosecure_orders.push(order.clone());
    (StatusCode::CREATED, Json(json!({"id": order.id, "status": "sent"}))).into_response()
}

async fn twosecure_get_order(
    State(sb): State<Sandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if twosecure_company(&sb, &headers).await.is_none() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "unauthorized", "message": "invalid API key"})),
        )
            .into_response();
    }
    let st = sb.state.lock().await;
    match st.twosecure_orders.iter().find(|o| o.id == id) {
        Some(o) => Json(json!({"id": o.id, "status": o.status, "report_url": o.report_url})).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": "not_found", "message": "no such order"})))
            .into_response(),
    }
}

async fn get_job(State(sb): State<Sandbox>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let token_ok = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Token token=") && v.len() > "Token token=".len());
    if !token_ok {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"errors": [{"status": "401", "title": "Unauthorized"}]})),
        )
            .into_response();
    }
    let st = sb.state.lock().await;
    let Some(job) = st.jobs.get(&id) else {
        return (StatusCode::NOT_FOUND, Json(json!({"errors": [{"status": "404"}]}))).into_response();
    };
    let mut doc = json!({"data": {"id": job.id, "type": "jobs", "attributes": {"title": job.title}, "relationships": {}}, "included": []});
    if let Some(dep) = &job.department {
        doc["data"]["relationships"]["department"] = json!({"data": {"id": "d1", "type": "departments"}});
        doc["included"] = json!([{"id": "d1", "type": "departments", "attributes": {"name": dep}}]);
    }
    if let Some((Some(recruiter), _)) = st.teams.get(&id) {
        doc["data"]["relationships"]["user"] = json!({"data": {"id": recruiter, "type": "users"}});
        if let Some((name, email)) = st.users.get(recruiter) {
            if let Some(list) = doc["included"].as_array_mut() {
                list.push(
                    json!({"id": recruiter, "type": "users", "attributes": {"name": name, "email": email}}),
                );
            }
        }
    }
    Json(doc).into_response()
}

async fn learnster_token(State(sb): State<Sandbox>, Json(body): Json<Value>) -> Response {
    let present = |k: &str| body.get(k).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    if !present("client_id") || !present("client_secret") || body["grant_type"] != "client_credentials" {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_client"}))).into_response();
    }
    let token = uuid::Uuid::new_v4().to_string();
    sb.state.lock().await.learnster_tokens.insert(token.clone());
    Json(json!({"access_token": token, "expires_in": 3600, "token_type": "Bearer", "scope": "api"}))
        .into_response()
}

async fn authorized(sb: &Sandbox, headers: &HeaderMap) -> bool {
    match bearer(headers) {
        Some(t) => sb.state.lock().await.learnster_tokens.contains(&t),
        None => false,
    }
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"error": "not_authenticated"}))).into_response()
}

async fn search_students(
    State(sb): State<Sandbox>,
    Path((space, vendor)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&sb, &headers).await {
        return unauthorized();
    }
    let search = q.get("search").cloned().unwrap_or_default().to_lowercase();
    let st = sb.state.lock().await;
    let results: Vec<Value> = st
        .students
        .iter()
        .filter(|s| s.space == space && s.vendor_id == vendor)
        .filter(|s| s.user["email"].as_str().unwrap_or_default().to_lowercase().contains(&search))
        .map(|s| json!({"id": s.id, "vendor": s.vendor_id, "user": s.user, "active": true}))
        .collect();
    Json(json!({"count": results.len(), "next": null, "previous": null, "results": results})).into_response()
}

async fn create_student(
    State(sb): State<Sandbox>,
    Path((space, vendor)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&sb, &headers).await {
        return unauthorized();
    }
    let user = body["user"].clone();
    if user["email"].as_str().is_none_or(str::is_empty) {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "email is required", "code": "invalid"})))
            .into_response();
    }
    let mut st = sb.state.lock().await;
    let student = Student {
        id: uuid::Uuid::new_v4().to_string(),
        space,
        vendor_id: vendor,
        user,
        tags: BTreeSet::new(),
    };
    st.students.push(student.clone());
    (StatusCode::CREATED, Json(json!({"id": student.id, "vendor": student.vendor_id, "user": student.user, "active": true, "controlled_by_integration": true}))).into_response()
}

async fn search_tags(
    State(sb): State<Sandbox>,
    Path((space, vendor)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&sb, &headers).await {
        return unauthorized();
    }
    let name = q.get("name").cloned().unwrap_or_default();
    let st = sb.state.lock().await;
    let results: Vec<Value> = st
        .tags
        .iter()
        .filter(|t| t.space == space && t.vendor_id == vendor && t.name.contains(&name))
        .map(|t| json!({"id": t.id, "name": t.name, "type": "course"}))
        .collect();
    Json(json!({"count": results.len(), "results": results})).into_response()
}

async fn create_tag(
    State(sb): State<Sandbox>,
    Path((space, vendor)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&sb, &headers).await {
        return unauthorized();
    }
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "name is required"}))).into_response();
    };
    let tag = Tag { id: uuid::Uuid::new_v4().to_string(), space, vendor_id: vendor, name: name.to_owned() };
    sb.state.lock().await.tags.push(tag.clone());
    (StatusCode::CREATED, Json(json!({"id": tag.id, "name": tag.name}))).into_response()
}

async fn bulk_tags(
    State(sb): State<Sandbox>,
    Path((_space, _vendor, student)): Path<(String, String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&sb, &headers).await {
        return unauthorized();
    }
    let ids: Vec<String> = body["update_list"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let mut st = sb.state.lock().await;
    let names: Vec<String> =
        ids.iter().filter_map(|id| st.tags.iter().find(|t| &t.id == id).map(|t| t.name.clone())).collect();
    if names.len() != ids.len() {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "unknown tag id"}))).into_response();
    }
    let Some(s) = st.students.iter_mut().find(|s| s.id == student) else {
        return (StatusCode::NOT_FOUND, Json(json!({"error": "no such student"}))).into_response();
    };
    s.tags.extend(names);
    Json(json!({"updated": ids.len()})).into_response()
}

async fn control_fault(State(sb): State<Sandbox>, Json(fault): Json<Fault>) -> StatusCode {
    sb.add_fault(fault).await;
    StatusCode::NO_CONTENT
}

async fn control_job(State(sb): State<Sandbox>, Json(job): Json<Job>) -> StatusCode {
    sb.add_job(job).await;
    StatusCode::NO_CONTENT
}

async fn control_state(State(sb): State<Sandbox>) -> Response {
    let st = sb.state.lock().await;
    Json(serde_json::to_value(&*st).unwrap_or_default()).into_response()
}
