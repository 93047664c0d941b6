//! StackOne (`/_sandbox/stackone/...`), as StackOne's SDK generated from its OpenAPI describes it
//! (`StackOneHQ/stackone-client-typescript` at fd6727ef5f3d49ae081cba729716aa1a42c7218e) and as
//! StackOne's example receives its webhooks (`StackOneHQ/examples`,
//! `apps/rag-knowledge-agent/src/app/api/stackone/webhook/route.ts` at
//! 7897f08a8fa7405d449156334dba1aaf1c8ad758):
//! - HTTP Basic with the API key as username and an empty password; without it `401`;
//! - every error is `{"statusCode","message","timestamp"}` (`src/sdk/models/errors/*`);
//! - `POST /connect_sessions` needs `origin_owner_id` and `origin_owner_name` (non-empty
//!   strings, `400`; `docs/sdk/models/shared/connectsessioncreate.md`); `categories` are the
//!   SDK's; `expires_in` a positive number of seconds (default 1800); `account_id` an existing
//!   account (`404`); answers `201` with `id`, `token` and `auth_link_url`
//!   (`…/connectsessiontokenauthlink.md`);
//! - there is no `POST /accounts` (`docs/sdks/accounts/README.md` lists none): `405`;
//! - `GET /accounts` filters by `origin_owner_id`, `providers` (`providers=a,b`, repeated, or
//!   `providers[]=`), the deprecated `provider`, `status` and `account_ids`, a bare list;
//!   `GET`/`PATCH`/`DELETE /accounts/{id}`, `404` when unknown; a `DELETE` answers the deleted
//!   account and sends `account.deleted`;
//! - `GET /hub?token=`: the Hub behind a session's `auth_link_url` (`401` for an unknown or
//!   expired token).
//!
//! The Hub completing is played by `POST /_sandbox/control/stackone/complete` `{"token"}`
//! ([`Sandbox::complete_stackone_session`]): the session's account is re-linked when the
//! session names one, the owner's Teamtailor account is updated when it has one (StackOne:
//! "origin_owner_id combined with origin_owner_name and provider determines whether a new
//! linked account is created or an existing one is updated"), else one is created; then
//! `account.created` / `account.updated` goes to the registered webhook
//! (`POST /_sandbox/control/stackone/webhook` `{"url","secret"}`), a flat body signed in
//! `x-stackone-signature` as StackOne signs: base64url, unpadded, of HMAC-SHA256(secret, body).
use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::Serialize;
use serde_json::{json, Value};

use crate::common::{self, Here, Unregistered};
use crate::sandbox::{Sandbox, SandboxState};

/// `LinkedAccountStatus` (`docs/sdk/models/shared/linkedaccountstatus.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    Active,
    Inactive,
    Suspended,
    Archived,
    Expired,
    Error,
}

#[derive(Clone, Debug, Serialize)]
pub struct StackOneAccount {
    pub id: String,
    pub provider: String,
    pub origin_owner_id: String,
    pub origin_owner_name: String,
    pub status: AccountStatus,
    /// How many times it was changed (`PATCH`, or a Hub session re-linking it).
    pub updates: u32,
    pub created_at: String,
    pub updated_at: String,
}

impl StackOneAccount {
    pub fn new(owner: &str, owner_name: &str, provider: &str) -> Self {
        let now = common::timestamp();
        StackOneAccount {
            id: common::new_id("acc_", 12),
            provider: provider.into(),
            origin_owner_id: owner.into(),
            origin_owner_name: owner_name.into(),
            status: AccountStatus::Active,
            updates: 0,
            created_at: now.clone(),
            updated_at: now,
        }
    }

    fn json(&self) -> Value {
        json!({"id": self.id, "provider": self.provider, "status": self.status, "status_reasons": [],
            "origin_owner_id": self.origin_owner_id, "origin_owner_name": self.origin_owner_name,
            "type": "PRODUCTION", "created_at": self.created_at, "updated_at": self.updated_at})
    }
}

/// A connect session.
#[derive(Clone, Debug, Serialize)]
pub struct ConnectSession {
    pub id: u64,
    /// The session's token (a credential: never served by `/control/state`).
    #[serde(skip)]
    pub token: String,
    pub origin_owner_id: String,
    pub origin_owner_name: String,
    pub provider: Option<String>,
    pub categories: Vec<String>,
    pub account_id: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
    pub completed: bool,
}

/// An account event as StackOne sent it, and how the receiver answered.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    pub event: String,
    pub account_id: String,
    pub origin_owner_id: String,
    /// The receiver's HTTP status; `None` when it could not be reached.
    pub status: Option<u16>,
}

#[derive(Default, Serialize)]
pub struct StackOneState {
    /// The API keys StackOne issued; see [`Unregistered`] for keys not in here.
    #[serde(skip)]
    pub keys: BTreeSet<String>,
    pub accounts: Vec<StackOneAccount>,
    pub sessions: Vec<ConnectSession>,
    /// Where account events go, and the secret they are signed with.
    #[serde(skip)]
    pub webhook: Option<(String, String)>,
    pub deliveries: Vec<Delivery>,
    /// The latest `event_date`, in milliseconds: each event is dated after the one before.
    #[serde(skip)]
    last_event_ms: i64,
}

/// The categories `ConnectSessionCreate` knows (`connectsessioncreatecategories.md`).
const CATEGORIES: [&str; 14] = [
    "ats",
    "hris",
    "hrisLegacy",
    "crm",
    "iam",
    "marketing",
    "lms",
    "stackOne",
    "documents",
    "ticketing",
    "screening",
    "messaging",
    "accounting",
    "scheduling",
];

/// What completing a session did.
#[derive(Clone, Debug, Serialize)]
pub struct Completed {
    pub event: String,
    pub account_id: String,
    /// The webhook's answer (`None`: no webhook, or it could not be reached).
    pub delivered: Option<u16>,
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// StackOne's signature of `body`: base64url, unpadded, of HMAC-SHA256(secret, body).
pub fn signature(body: &[u8], secret: &str) -> String {
    // The shared signer gives `sha256=<hex>` of the same HMAC; re-encoded here as StackOne sends it.
    let hex = hirebridge::body_signature::sign(body, &secret.into());
    let hex = hex.trim_start_matches("sha256=");
    let bytes: Vec<u8> =
        (0..hex.len()).step_by(2).filter_map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl StackOneState {
    /// An account event's flat body, dated after every event before it.
    fn event_body(&mut self, event: &str, account: &StackOneAccount) -> Value {
        let ms = (SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0))
            .max(self.last_event_ms + 1);
        self.last_event_ms = ms;
        json!({"event": event, "account_id": account.id, "provider": account.provider,
            "origin_owner_id": account.origin_owner_id, "origin_owner_name": account.origin_owner_name,
            "project_id": "sandbox-project", "event_date": common::rfc3339_ms(ms), "sent_at": common::rfc3339_ms(ms)})
    }
}

impl Sandbox {
    /// An API key StackOne issued (only needed when the sandbox refuses unregistered keys).
    pub async fn add_stackone_key(&self, key: &str) {
        self.state().await.stackone.keys.insert(key.into());
    }

    /// Where StackOne sends account events, and the signing secret StackOne generated for it.
    pub async fn set_stackone_webhook(&self, url: &str, secret: &str) {
        self.state().await.stackone.webhook = Some((url.into(), secret.into()));
    }

    /// The Hub completing the session of `token`: the account re-linked, updated or created,
    /// and its event sent (after the sandbox's state is released, so the receiver may call back).
    pub async fn complete_stackone_session(&self, token: &str) -> Result<Completed, String> {
        let (event, account, delivery) = {
            let mut st = self.state().await;
            let so = &mut st.stackone;
            let session = so
                .sessions
                .iter_mut()
                .find(|s| s.token == token && s.expires_at >= now_secs())
                .ok_or("no live connect session has this token")?;
            if session.completed {
                return Err("this connect session was completed already".into());
            }
            session.completed = true;
            let session = session.clone();
            let provider = session.provider.clone().unwrap_or_else(|| "teamtailor".into());
            let existing = match &session.account_id {
                Some(id) => so.accounts.iter().position(|a| &a.id == id),
                None => so
                    .accounts
                    .iter()
                    .position(|a| a.origin_owner_id == session.origin_owner_id && a.provider == provider),
            };
            let (event, account) = match existing {
                Some(i) => {
                    let a = &mut so.accounts[i];
                    a.status = AccountStatus::Active;
                    a.origin_owner_name = session.origin_owner_name.clone();
                    a.updates += 1;
                    a.updated_at = common::timestamp();
                    ("account.updated", a.clone())
                }
                None => {
                    let a =
                        StackOneAccount::new(&session.origin_owner_id, &session.origin_owner_name, &provider);
                    so.accounts.push(a.clone());
                    ("account.created", a)
                }
            };
            let body = so.event_body(event, &account);
            (event, account, so.webhook.clone().map(|w| (w, body)))
        };
        let delivered = match delivery {
            Some(((url, secret), body)) => self.deliver(&url, &secret, &body).await,
            None => None,
        };
        self.record_delivery(event, &account, delivered).await;
        Ok(Completed { event: event.into(), account_id: account.id, delivered })
    }

    async fn deliver(&self, url: &str, secret: &str, body: &Value) -> Option<u16> {
        let raw = body.to_string();
        let client = hirebridge::outbound::HttpClient::new(hirebridge::outbound::RetryPolicy::default());
        let sent = client
            .request(http::Method::POST, url)
            .header("content-type", "application/json")
            .header("x-stackone-signature", signature(raw.as_bytes(), secret))
            .body(raw)
            .send()
            .await;
        sent.ok().map(|r| r.status().as_u16())
    }

    async fn record_delivery(&self, event: &str, account: &StackOneAccount, status: Option<u16>) {
        self.state().await.stackone.deliveries.push(Delivery {
            event: event.into(),
            account_id: account.id.clone(),
            origin_owner_id: account.origin_owner_id.clone(),
            status,
        });
    }
}

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/stackone/connect_sessions", post(create_session))
        .route("/stackone/accounts", get(list_accounts))
        .route("/stackone/accounts/{id}", get(get_account).patch(update_account).delete(delete_account))
        .route("/stackone/hub", get(hub))
        .route("/control/stackone/complete", post(control_complete))
        .route("/control/stackone/webhook", post(control_webhook))
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"statusCode": status.as_u16(), "message": message, "timestamp": common::timestamp()})),
    )
        .into_response()
}

fn authorized(st: &SandboxState, headers: &HeaderMap) -> Result<(), Response> {
    match common::basic_username(headers) {
        Some(key) if st.unregistered == Unregistered::Admit || st.stackone.keys.contains(&key) => Ok(()),
        _ => Err(error(StatusCode::UNAUTHORIZED, "Unauthorized")),
    }
}

fn object_body(body: &[u8]) -> Result<Value, Response> {
    common::json_of(body)
        .filter(Value::is_object)
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, "The body must be a JSON object"))
}

async fn create_session(State(sb): State<Sandbox>, here: Here, headers: HeaderMap, body: Bytes) -> Response {
    let mut st = sb.state().await;
    if let Err(refused) = authorized(&st, &headers) {
        return refused;
    }
    let body = match object_body(&body) {
        Ok(b) => b,
        Err(refused) => return refused,
    };
    let text = |name: &str| body[name].as_str().filter(|s| !s.trim().is_empty()).map(str::to_owned);
    let (Some(owner), Some(owner_name)) = (text("origin_owner_id"), text("origin_owner_name")) else {
        return error(StatusCode::BAD_REQUEST, "origin_owner_id and origin_owner_name are required");
    };
    let provider = match &body["provider"] {
        Value::Null => None,
        Value::String(p) if !p.is_empty() => Some(p.clone()),
        _ => return error(StatusCode::BAD_REQUEST, "provider must be a string"),
    };
    let categories: Vec<String> = match &body["categories"] {
        Value::Null => vec![],
        Value::Array(list) => {
            let names: Vec<String> = list.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect();
            if names.len() != list.len() || names.iter().any(|c| !CATEGORIES.contains(&c.as_str())) {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("categories must be among {}", CATEGORIES.join(", ")),
                );
            }
            names
        }
        _ => return error(StatusCode::BAD_REQUEST, "categories must be an array"),
    };
    let expires_in = match &body["expires_in"] {
        Value::Null => 1800,
        v => match v.as_f64() {
            Some(n) if n >= 1.0 => n as i64,
            _ => return error(StatusCode::BAD_REQUEST, "expires_in must be a positive number of seconds"),
        },
    };
    let account_id = match &body["account_id"] {
        Value::Null => None,
        Value::String(id) if st.stackone.accounts.iter().any(|a| &a.id == id) => Some(id.clone()),
        Value::String(id) => return error(StatusCode::NOT_FOUND, &format!("Account {id} not found")),
        _ => return error(StatusCode::BAD_REQUEST, "account_id must be a string"),
    };
    let token = common::new_id("cst_", 32);
    let session = ConnectSession {
        id: st.stackone.sessions.len() as u64 + 1,
        token: token.clone(),
        origin_owner_id: owner,
        origin_owner_name: owner_name,
        provider,
        categories,
        account_id,
        expires_at: now_secs() + expires_in,
        completed: false,
    };
    let answer = json!({
        "id": session.id, "organization_id": "sandbox-organization", "project_id": "sandbox-project",
        "origin_owner_id": session.origin_owner_id, "origin_owner_name": session.origin_owner_name,
        "provider": session.provider, "categories": session.categories, "account_id": session.account_id,
        "token": token, "auth_link_url": format!("{}/stackone/hub?token={token}", here.origin),
        "type": "PRODUCTION", "created_at": common::timestamp(),
    });
    st.stackone.sessions.push(session);
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// A query parameter's values: repeated, comma-separated, or with `[]`.
fn values(query: &str, name: &str) -> Vec<String> {
    let bracketed = format!("{name}[]");
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == name || *k == bracketed)
        .flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|v| !v.is_empty())
        .collect()
}

async fn list_accounts(State(sb): State<Sandbox>, uri: axum::http::Uri, headers: HeaderMap) -> Response {
    let st = sb.state().await;
    if let Err(refused) = authorized(&st, &headers) {
        return refused;
    }
    let query = uri.query().unwrap_or_default();
    let owners = [values(query, "origin_owner_id"), values(query, "origin_owner_ids")].concat();
    let providers = [values(query, "providers"), values(query, "provider")].concat();
    let (statuses, ids) = (values(query, "status"), values(query, "account_ids"));
    let keep = |wanted: &[String], v: &str| wanted.is_empty() || wanted.iter().any(|w| w == v);
    let list: Vec<Value> = st
        .stackone
        .accounts
        .iter()
        .filter(|a| keep(&owners, &a.origin_owner_id) && keep(&providers, &a.provider) && keep(&ids, &a.id))
        .filter(|a| {
            keep(&statuses, serde_json::to_value(a.status).unwrap_or_default().as_str().unwrap_or_default())
        })
        .map(StackOneAccount::json)
        .collect();
    Json(Value::Array(list)).into_response()
}

async fn get_account(State(sb): State<Sandbox>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let st = sb.state().await;
    if let Err(refused) = authorized(&st, &headers) {
        return refused;
    }
    match st.stackone.accounts.iter().find(|a| a.id == id) {
        Some(a) => Json(a.json()).into_response(),
        None => error(StatusCode::NOT_FOUND, &format!("Account {id} not found")),
    }
}

/// `PATCH /accounts/{id}`: the fields `PatchAccountExternalDto` names that this fake keeps.
async fn update_account(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut st = sb.state().await;
    if let Err(refused) = authorized(&st, &headers) {
        return refused;
    }
    let body = match object_body(&body) {
        Ok(b) => b,
        Err(refused) => return refused,
    };
    let Some(account) = st.stackone.accounts.iter_mut().find(|a| a.id == id) else {
        return error(StatusCode::NOT_FOUND, &format!("Account {id} not found"));
    };
    if let Some(name) = body["origin_owner_name"].as_str() {
        account.origin_owner_name = name.into();
    }
    account.updates += 1;
    account.updated_at = common::timestamp();
    Json(account.json()).into_response()
}

async fn delete_account(State(sb): State<Sandbox>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let (answer, delivery, account) = {
        let mut st = sb.state().await;
        if let Err(refused) = authorized(&st, &headers) {
            return refused;
        }
        let Some(i) = st.stackone.accounts.iter().position(|a| a.id == id) else {
            return error(StatusCode::NOT_FOUND, &format!("Account {id} not found"));
        };
        let account = st.stackone.accounts.remove(i);
        let body = st.stackone.event_body("account.deleted", &account);
        (account.json(), st.stackone.webhook.clone().map(|w| (w, body)), account)
    };
    let delivered = match delivery {
        Some(((url, secret), body)) => sb.deliver(&url, &secret, &body).await,
        None => None,
    };
    sb.record_delivery("account.deleted", &account, delivered).await;
    Json(answer).into_response()
}

/// The Hub behind `auth_link_url`: here only a page naming the session's owner.
async fn hub(State(sb): State<Sandbox>, here: Here) -> Response {
    let st = sb.state().await;
    let token = here.param("token").unwrap_or_default();
    match st.stackone.sessions.iter().find(|s| s.token == token && s.expires_at >= now_secs()) {
        Some(s) => Html(format!(
            "<!doctype html><title>StackOne Hub</title><h1 id=\"hub\">StackOne Hub (sandbox)</h1><p>Connect {} for {}</p>",
            s.provider.as_deref().unwrap_or("an integration"),
            s.origin_owner_name.replace('<', "&lt;")
        ))
        .into_response(),
        None => (StatusCode::UNAUTHORIZED, Html("<!doctype html><title>StackOne Hub</title><p>This link is not valid.")).into_response(),
    }
}

async fn control_complete(State(sb): State<Sandbox>, Json(body): Json<Value>) -> Response {
    let token = body["token"].as_str().unwrap_or_default().to_owned();
    match sb.complete_stackone_session(&token).await {
        Ok(done) => Json(json!(done)).into_response(),
        Err(why) => (StatusCode::NOT_FOUND, Json(json!({"error": why}))).into_response(),
    }
}

async fn control_webhook(State(sb): State<Sandbox>, Json(body): Json<Value>) -> StatusCode {
    match (body["url"].as_str(), body["secret"].as_str()) {
        (Some(url), Some(secret)) if !url.is_empty() && !secret.is_empty() => {
            sb.set_stackone_webhook(url, secret).await;
            StatusCode::NO_CONTENT
        }
        _ => StatusCode::BAD_REQUEST,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::testing::*;

    fn call(method: &str, path: &str) -> axum::http::request::Builder {
        request(method, &format!("/stackone{path}")).header("authorization", basic("stackone-key", ""))
    }

    fn session(owner: &str) -> Value {
        json!({"origin_owner_id": owner, "origin_owner_name": "Acme AB", "provider": "teamtailor",
            "categories": ["ats"], "expires_in": 600})
    }

    fn is_stackone_error(body: &Value, status: u16) -> bool {
        body["statusCode"] == status && body["message"].is_string() && body["timestamp"].is_string()
    }

    async fn open(sb: &Sandbox, body: Value) -> Answer {
        send(sb, call("POST", "/connect_sessions"), Some(body)).await
    }

    async fn complete(sb: &Sandbox, token: &str) -> Completed {
        sb.complete_stackone_session(token).await.expect("a live session")
    }

    #[tokio::test]
    async fn a_call_without_basic_credentials_is_refused_with_401_as_stackone_errors_look() {
        let sb = Sandbox::new();
        for auth in [None, Some("Bearer stackone-key".to_owned()), Some(basic("", "stackone-key"))] {
            let mut req = request("GET", "/stackone/accounts?origin_owner_id=o");
            if let Some(a) = &auth {
                req = req.header("authorization", a.as_str());
            }
            let a = send(&sb, req, None).await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{auth:?}");
            assert!(is_stackone_error(&a.body, 401), "{}", a.body);
        }
        assert_eq!(send(&sb, call("GET", "/accounts?origin_owner_id=o"), None).await.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn an_unknown_key_is_refused_with_401_when_the_sandbox_refuses_unregistered_keys() {
        let sb = Sandbox::refusing_unregistered();
        assert_eq!(open(&sb, session("o")).await.status, StatusCode::UNAUTHORIZED);
        sb.add_stackone_key("stackone-key").await;
        assert_eq!(open(&sb, session("o")).await.status, StatusCode::CREATED);
    }

    #[tokio::test]
    async fn there_is_no_post_accounts() {
        let sb = Sandbox::new();
        let a = send(
            &sb,
            call("POST", "/accounts"),
            Some(json!({"provider": "teamtailor", "origin_owner_id": "o",
            "origin_owner_name": "Acme", "credentials": {}})),
        )
        .await;
        assert!(matches!(a.status.as_u16(), 404 | 405), "{}", a.status);
        assert!(sb.state().await.stackone.accounts.is_empty());
    }

    #[tokio::test]
    async fn a_connect_session_needs_its_owner_and_the_owners_name_and_answers_a_token_and_a_hub_link() {
        let sb = Sandbox::new();
        for missing in ["origin_owner_id", "origin_owner_name"] {
            let mut body = session("org-1");
            body.as_object_mut().unwrap().remove(missing);
            let a = open(&sb, body).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{missing}");
            assert!(is_stackone_error(&a.body, 400), "{}", a.body);
        }
        let a = open(&sb, json!({"origin_owner_id": "org-1", "origin_owner_name": ""})).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "an empty name");
        let a = open(&sb, json!({"origin_owner_id": "org-1", "origin_owner_name": "Acme"})).await;
        assert_eq!(a.status, StatusCode::CREATED, "the rest is optional: {}", a.body);
        let a = open(&sb, session("org-1")).await;
        assert_eq!(a.status, StatusCode::CREATED);
        let token = a.body["token"].as_str().unwrap();
        assert!(a.body["id"].is_number());
        let hub = a.body["auth_link_url"].as_str().unwrap();
        assert_eq!(hub, format!("http://sandbox.test/_sandbox/stackone/hub?token={token}"));
        let page = send(&sb, request("GET", &format!("/stackone/hub?token={token}")), None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.as_str().unwrap().contains("Acme AB"));
        let page = send(&sb, request("GET", "/stackone/hub?token=nope"), None).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        let state = send(&sb, request("GET", "/control/state"), None).await.body["stackone"].to_string();
        assert!(state.contains("org-1") && !state.contains(token), "sessions are served without their token");
    }

    #[tokio::test]
    async fn unknown_categories_a_non_positive_expiry_and_an_unknown_account_are_refused() {
        let sb = Sandbox::new();
        let mut body = session("org-1");
        body["categories"] = json!(["ats", "payroll"]);
        assert_eq!(open(&sb, body).await.status, StatusCode::BAD_REQUEST);
        let mut body = session("org-1");
        body["expires_in"] = json!(0);
        assert_eq!(open(&sb, body).await.status, StatusCode::BAD_REQUEST);
        let mut body = session("org-1");
        body["account_id"] = json!("acc_nope");
        let a = open(&sb, body).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        assert!(is_stackone_error(&a.body, 404));
    }

    #[tokio::test]
    async fn an_expired_session_cannot_be_completed_nor_a_session_twice() {
        let sb = Sandbox::new();
        let token = open(&sb, session("org-1")).await.body["token"].as_str().unwrap().to_owned();
        complete(&sb, &token).await;
        assert!(sb.complete_stackone_session(&token).await.is_err(), "completed once");
        let token = open(&sb, session("org-2")).await.body["token"].as_str().unwrap().to_owned();
        sb.state().await.stackone.sessions.last_mut().unwrap().expires_at = now_secs() - 1;
        assert!(sb.complete_stackone_session(&token).await.is_err(), "expired");
    }

    #[tokio::test]
    async fn completing_creates_the_owners_account_then_relinks_it_never_a_second() {
        let sb = Sandbox::new();
        let token = open(&sb, session("org-1")).await.body["token"].as_str().unwrap().to_owned();
        let first = complete(&sb, &token).await;
        assert_eq!(first.event, "account.created");
        let token = open(&sb, session("org-1")).await.body["token"].as_str().unwrap().to_owned();
        let again = complete(&sb, &token).await;
        assert_eq!((again.event.as_str(), &again.account_id), ("account.updated", &first.account_id));
        let mut body = session("org-1");
        body["account_id"] = json!(first.account_id);
        let token = open(&sb, body).await.body["token"].as_str().unwrap().to_owned();
        assert_eq!(
            complete(&sb, &token).await.account_id,
            first.account_id,
            "the named account is re-linked"
        );
        let st = sb.state().await;
        assert_eq!(st.stackone.accounts.len(), 1);
        assert_eq!(st.stackone.accounts[0].updates, 2);
    }

    #[tokio::test]
    async fn accounts_are_listed_by_owner_and_provider_in_every_form_of_the_filter() {
        let sb = Sandbox::new();
        {
            let mut st = sb.state().await;
            st.stackone.accounts.push(StackOneAccount::new("org-1", "Acme", "teamtailor"));
            st.stackone.accounts.push(StackOneAccount::new("org-1", "Acme", "workday"));
            st.stackone.accounts.push(StackOneAccount::new("org-2", "Bravo", "teamtailor"));
        }
        for query in [
            "origin_owner_id=org-1&providers=teamtailor",
            "origin_owner_id=org-1&providers%5B%5D=teamtailor",
            "origin_owner_id=org-1&provider=teamtailor",
            "origin_owner_id=org-1&providers=teamtailor,greenhouse",
        ] {
            let a = send(&sb, call("GET", &format!("/accounts?{query}")), None).await;
            let list = a.body.as_array().unwrap();
            assert_eq!(list.len(), 1, "{query}: {}", a.body);
            assert_eq!(
                (list[0]["origin_owner_id"].as_str(), list[0]["provider"].as_str()),
                (Some("org-1"), Some("teamtailor"))
            );
        }
        let all = send(&sb, call("GET", "/accounts"), None).await;
        assert_eq!(all.body.as_array().unwrap().len(), 3);
        let none = send(&sb, call("GET", "/accounts?status=error"), None).await;
        assert!(none.body.as_array().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_unknown_account_is_404_for_get_patch_and_delete() {
        let sb = Sandbox::new();
        for method in ["GET", "PATCH", "DELETE"] {
            let a =
                send(&sb, call(method, "/accounts/acc_nope"), (method == "PATCH").then(|| json!({}))).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{method}");
            assert!(is_stackone_error(&a.body, 404));
        }
        let id = {
            let mut st = sb.state().await;
            st.stackone.accounts.push(StackOneAccount::new("org-1", "Acme", "teamtailor"));
            st.stackone.accounts[0].id.clone()
        };
        let a = send(
            &sb,
            call("PATCH", &format!("/accounts/{id}")),
            Some(json!({"origin_owner_name": "Acme AB"})),
        )
        .await;
        assert_eq!((a.status, a.body["origin_owner_name"].as_str()), (StatusCode::OK, Some("Acme AB")));
        let a = send(&sb, call("GET", &format!("/accounts/{id}")), None).await;
        assert_eq!(a.body["status"], "active");
        let a = send(&sb, call("DELETE", &format!("/accounts/{id}")), None).await;
        assert_eq!((a.status, a.body["id"].as_str()), (StatusCode::OK, Some(id.as_str())));
        assert!(sb.state().await.stackone.accounts.is_empty());
        assert_eq!(sb.state().await.stackone.deliveries[0].event, "account.deleted");
    }

    /// StackOne's example webhook receiver recomputes `createHmac('sha256', secret)
    /// .update(payload).digest('base64url')`: RFC 4231 test case 2 in that form.
    #[test]
    fn events_are_signed_with_the_unpadded_base64url_hmac_sha256_of_the_body() {
        assert_eq!(
            signature(b"what do ya want for nothing?", "Jefe"),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM"
        );
    }

    #[tokio::test]
    async fn the_hub_completing_sends_a_flat_signed_account_event_to_the_webhook() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/stackone/events", listener.local_addr().unwrap());
        let received = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::<(HeaderMap, Bytes)>::new()));
        let sink = received.clone();
        let app = Router::new().route(
            "/stackone/events",
            post(move |headers: HeaderMap, body: Bytes| async move {
                sink.lock().await.push((headers, body));
                StatusCode::OK
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let sb = Sandbox::new();
        let registered = send(
            &sb,
            request("POST", "/control/stackone/webhook").header("content-type", "application/json"),
            Some(json!({"url": url, "secret": "whsec"})),
        )
        .await;
        assert_eq!(registered.status, StatusCode::NO_CONTENT);
        let token = open(&sb, session("org-1")).await.body["token"].as_str().unwrap().to_owned();
        let done = send(
            &sb,
            request("POST", "/control/stackone/complete").header("content-type", "application/json"),
            Some(json!({"token": token})),
        )
        .await;
        assert_eq!(done.body["delivered"], 200, "{}", done.body);
        let got = received.lock().await;
        let (headers, body) = &got[0];
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["event"], "account.created");
        assert_eq!(event["account_id"], done.body["account_id"]);
        assert_eq!(
            (event["origin_owner_id"].as_str(), event["provider"].as_str()),
            (Some("org-1"), Some("teamtailor"))
        );
        assert!(event.get("data").is_none(), "a flat body");
        assert!(event["event_date"].as_str().unwrap().ends_with('Z'));
        let sig = headers.get("x-stackone-signature").unwrap().to_str().unwrap();
        assert_eq!(sig, signature(body, "whsec"));
        assert!(!sig.starts_with("sha256=") && !sig.ends_with('='));
    }
}
