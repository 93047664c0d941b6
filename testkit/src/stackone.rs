//! StackOne's accounts API (`/_sandbox/stackone/...`; docs/contracts.md §8, `research/partners.md`
//! §5, SPEC §6.5):
//! - HTTP Basic with the API key as username (the password empty); without it `401`;
//! - every error is `{"statusCode","message","timestamp"}`;
//! - `GET /accounts?origin_owner_id=&provider=` answers a bare list of linked accounts;
//! - `POST /accounts` (assumed by SPEC) needs `provider`, `origin_owner_id`, `origin_owner_name`
//!   (`400`), and a second account for the same owner and provider is `409`;
//! - `PATCH /accounts/{id}` of an unknown account is `404`.
use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};

use crate::common::{self, Here, Unregistered};
use crate::sandbox::{Sandbox, SandboxState};

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
    /// The credentials as last sent (in memory only, never served).
    #[serde(skip)]
    pub credentials: Value,
    /// How many times `PATCH` changed it.
    pub updates: u32,
}

impl StackOneAccount {
    fn json(&self) -> Value {
        json!({"id": self.id, "provider": self.provider, "status": self.status, "status_reasons": [],
            "origin_owner_id": self.origin_owner_id, "origin_owner_name": self.origin_owner_name,
            "type": "PRODUCTION"})
    }
}

#[derive(Default, Serialize)]
pub struct StackOneState {
    /// The API keys StackOne issued; see [`Unregistered`] for keys not in here.
    #[serde(skip)]
    pub keys: BTreeSet<String>,
    pub accounts: Vec<StackOneAccount>,
}

impl Sandbox {
    /// An API key StackOne issued (only needed when the sandbox refuses unregistered keys).
    pub async fn add_stackone_key(&self, key: &str) {
        self.state().await.stackone.keys.insert(key.into());
    }
}

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/stackone/accounts", get(list_accounts).post(create_account))
        .route("/stackone/accounts/{id}", axum::routing::patch(update_account))
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

async fn list_accounts(State(sb): State<Sandbox>, here: Here, headers: HeaderMap) -> Response {
    let st = sb.state().await;
    if let Err(refused) = authorized(&st, &headers) {
        return refused;
    }
    let owner = here.param("origin_owner_id");
    let provider = here.param("provider");
    let list: Vec<Value> = st
        .stackone
        .accounts
        .iter()
        .filter(|a| owner.is_none_or(|o| a.origin_owner_id == o))
        .filter(|a| provider.is_none_or(|p| a.provider == p))
        .map(StackOneAccount::json)
        .collect();
    Json(Value::Array(list)).into_response()
}

async fn create_account(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let mut st = sb.state().await;
    if let Err(refused) = authorized(&st, &headers) {
        return refused;
    }
    let Some(body) = common::json_of(&body).filter(Value::is_object) else {
        return error(StatusCode::BAD_REQUEST, "The body must be a JSON object");
    };
    let field = |name: &str| body[name].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let (Some(provider), Some(owner), Some(owner_name)) =
        (field("provider"), field("origin_owner_id"), field("origin_owner_name"))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "provider, origin_owner_id and origin_owner_name are required",
        );
    };
    if st.stackone.accounts.iter().any(|a| a.origin_owner_id == owner && a.provider == provider) {
        return error(
            StatusCode::CONFLICT,
            &format!("A {provider} account already exists for origin_owner_id {owner}"),
        );
    }
    let account = StackOneAccount {
        id: common::new_id("acc_", 12),
        provider,
        origin_owner_id: owner,
        origin_owner_name: owner_name,
        status: AccountStatus::Active,
        credentials: body["credentials"].clone(),
        updates: 0,
    };
    let answer = account.json();
    st.stackone.accounts.push(account);
    (StatusCode::CREATED, Json(answer)).into_response()
}

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
    let Some(body) = common::json_of(&body).filter(Value::is_object) else {
        return error(StatusCode::BAD_REQUEST, "The body must be a JSON object");
    };
    let Some(account) = st.stackone.accounts.iter_mut().find(|a| a.id == id) else {
        return error(StatusCode::NOT_FOUND, &format!("Account {id} not found"));
    };
    if let Some(credentials) = body.get("credentials") {
        account.credentials = credentials.clone();
    }
    account.updates += 1;
    Json(account.json()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::testing::*;

    fn call(method: &str, path: &str) -> axum::http::request::Builder {
        request(method, &format!("/stackone{path}")).header("authorization", basic("stackone-key", ""))
    }

    fn account(owner: &str) -> Value {
        json!({"provider": "teamtailor", "origin_owner_id": owner, "origin_owner_name": "Acme AB",
            "credentials": {"api_key": "k", "company_id": "c", "email": "e@acme.se", "password": "p"}})
    }

    fn is_stackone_error(body: &Value, status: u16) -> bool {
        body["statusCode"] == status && body["message"].is_string() && body["timestamp"].is_string()
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
        assert_eq!(send(&sb, call("GET", "/accounts"), None).await.status, StatusCode::UNAUTHORIZED);
        sb.add_stackone_key("stackone-key").await;
        assert_eq!(send(&sb, call("GET", "/accounts"), None).await.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_second_account_for_the_same_owner_and_provider_is_refused_with_409() {
        let sb = Sandbox::new();
        let a = send(&sb, call("POST", "/accounts"), Some(account("org-1"))).await;
        assert_eq!(a.status, StatusCode::CREATED);
        assert_eq!(a.body["status"], "active");
        let again = send(&sb, call("POST", "/accounts"), Some(account("org-1"))).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(is_stackone_error(&again.body, 409), "{}", again.body);
        assert_eq!(
            send(&sb, call("POST", "/accounts"), Some(account("org-2"))).await.status,
            StatusCode::CREATED
        );
        let listed =
            send(&sb, call("GET", "/accounts?origin_owner_id=org-1&provider=teamtailor"), None).await;
        assert_eq!(listed.body.as_array().unwrap().len(), 1, "a bare list, filtered by owner");
        assert!(listed.body[0].get("credentials").is_none(), "credentials are never served");
    }

    #[tokio::test]
    async fn an_account_without_its_owner_is_refused_with_400() {
        let sb = Sandbox::new();
        let mut body = account("org-1");
        body.as_object_mut().unwrap().remove("origin_owner_id");
        let a = send(&sb, call("POST", "/accounts"), Some(body)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert!(is_stackone_error(&a.body, 400));
    }

    #[tokio::test]
    async fn a_patch_of_an_unknown_account_is_refused_with_404() {
        let sb = Sandbox::new();
        let a = send(&sb, call("PATCH", "/accounts/acc_nope"), Some(json!({"credentials": {}}))).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        assert!(is_stackone_error(&a.body, 404));
        let created = send(&sb, call("POST", "/accounts"), Some(account("org-1"))).await;
        let id = created.body["id"].as_str().unwrap();
        let a = send(
            &sb,
            call("PATCH", &format!("/accounts/{id}")),
            Some(json!({"credentials": {"password": "new"}})),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        let st = sb.state().await;
        assert_eq!(
            (st.stackone.accounts[0].updates, &st.stackone.accounts[0].credentials["password"]),
            (1, &json!("new"))
        );
    }
}
