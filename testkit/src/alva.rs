//! Alva Labs' API as docs/contracts.md assumes it (`/_sandbox/alva/...`; docs/contracts.md §4):
//! - every call carries `Authorization: Bearer <api key>` and `X-Alva-Company: <company id>`
//!   (else `401`);
//! - `GET /test-profiles`; `POST /candidates` needs an `Idempotency-Key` (else `400`), and a
//!   repeated key gets the first answer back; an unknown test profile or no e-mail is `422`;
//! - `GET /users?email=`, `POST /users/invitations`, `PUT /test-profiles/{id}/members/{user}`
//!   (`404` for an unknown user).
use std::collections::{BTreeSet, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};

use crate::common::{self, Here, StoredAnswer, Unregistered};
use crate::sandbox::{Sandbox, SandboxState};

#[derive(Clone, Debug, Serialize)]
pub struct TestProfile {
    pub id: String,
    pub name: String,
}

/// A candidate invited to a test profile.
#[derive(Clone, Debug, Serialize)]
pub struct AlvaCandidate {
    pub id: String,
    /// The `X-Alva-Company` it was created for.
    pub company: String,
    pub idempotency_key: String,
    pub candidate_url: String,
    /// The request body as sent.
    pub body: Value,
}

/// A person with an Alva account.
#[derive(Clone, Debug, Serialize)]
pub struct AlvaUser {
    pub id: String,
    pub email: String,
    pub name: String,
}

/// Access to a test profile's results.
#[derive(Clone, Debug, Serialize)]
pub struct Grant {
    pub profile: String,
    pub user: String,
}

#[derive(Serialize)]
pub struct AlvaState {
    /// The API keys Alva issued; see [`Unregistered`] for keys not in here.
    #[serde(skip)]
    pub keys: BTreeSet<String>,
    pub profiles: Vec<TestProfile>,
    pub candidates: Vec<AlvaCandidate>,
    pub users: Vec<AlvaUser>,
    /// E-mail addresses invited to Alva.
    pub invitations: Vec<String>,
    pub grants: Vec<Grant>,
    /// First answers to `POST /candidates`, by company and idempotency key.
    #[serde(skip)]
    pub replays: HashMap<(String, String), StoredAnswer>,
}

impl Default for AlvaState {
    fn default() -> Self {
        let profile = |id: &str, name: &str| TestProfile { id: id.into(), name: name.into() };
        AlvaState {
            keys: BTreeSet::new(),
            profiles: vec![profile("tp-logic", "Logic test"), profile("tp-personality", "Personality test")],
            candidates: vec![],
            users: vec![],
            invitations: vec![],
            grants: vec![],
            replays: HashMap::new(),
        }
    }
}

impl Sandbox {
    /// A person Alva already knows.
    pub async fn add_alva_user(&self, email: &str, name: &str) {
        let id = common::new_id("alva-user-", 8);
        self.state().await.alva.users.push(AlvaUser { id, email: email.into(), name: name.into() });
    }

    /// An API key Alva issued (only needed when the sandbox refuses unregistered keys).
    pub async fn add_alva_key(&self, key: &str) {
        self.state().await.alva.keys.insert(key.into());
    }
}

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/alva/test-profiles", get(profiles))
        .route("/alva/candidates", post(create_candidate))
        .route("/alva/users", get(find_user))
        .route("/alva/users/invitations", post(invite))
        .route("/alva/test-profiles/{profile}/members/{user}", put(grant))
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": code, "message": message}))).into_response()
}

/// The Alva company a call acts for: `401` without a (known) key or without `X-Alva-Company`.
fn company(st: &SandboxState, headers: &HeaderMap) -> Result<String, Response> {
    let unauthorized = |m: &str| error(StatusCode::UNAUTHORIZED, "unauthorized", m);
    let Some(key) = common::bearer(headers) else {
        return Err(unauthorized("Authorization: Bearer <api key> is required"));
    };
    if st.unregistered == Unregistered::Refuse && !st.alva.keys.contains(&key) {
        return Err(unauthorized("invalid API key"));
    }
    common::header(headers, "x-alva-company")
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| unauthorized("X-Alva-Company is required"))
}

async fn profiles(State(sb): State<Sandbox>, headers: HeaderMap) -> Response {
    let st = sb.state().await;
    if let Err(refused) = company(&st, &headers) {
        return refused;
    }
    Json(json!({"data": st.alva.profiles})).into_response()
}

async fn create_candidate(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let mut st = sb.state().await;
    let company = match company(&st, &headers) {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let Some(key) = common::header(&headers, "idempotency-key").filter(|k| !k.is_empty()).map(str::to_owned)
    else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "Idempotency-Key is required");
    };
    if let Some(first) = st.alva.replays.get(&(company.clone(), key.clone())) {
        return first.response();
    }
    let Some(body) = common::json_of(&body).filter(Value::is_object) else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "the body must be a JSON object");
    };
    let profile = body["test_profile_id"].as_str().unwrap_or_default();
    if !st.alva.profiles.iter().any(|p| p.id == profile) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_test_profile", "unknown test_profile_id");
    }
    if body["email"].as_str().is_none_or(|e| !e.contains('@')) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_email", "email is required");
    }
    let id = common::new_id("ac-", 10);
    let candidate_url = format!("https://app.alvalabs.io/candidates/{id}");
    let answer = StoredAnswer::new(StatusCode::CREATED, json!({"id": id, "candidate_url": candidate_url}));
    st.alva.candidates.push(AlvaCandidate {
        id,
        company: company.clone(),
        idempotency_key: key.clone(),
        candidate_url,
        body,
    });
    st.alva.replays.insert((company, key), answer.clone());
    answer.response()
}

async fn find_user(State(sb): State<Sandbox>, here: Here, headers: HeaderMap) -> Response {
    let st = sb.state().await;
    if let Err(refused) = company(&st, &headers) {
        return refused;
    }
    let email = here.param("email").unwrap_or_default().to_lowercase();
    let data: Vec<&AlvaUser> = st.alva.users.iter().filter(|u| u.email.to_lowercase() == email).collect();
    Json(json!({"data": data})).into_response()
}

async fn invite(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let mut st = sb.state().await;
    if let Err(refused) = company(&st, &headers) {
        return refused;
    }
    let body = common::json_of(&body).unwrap_or_default();
    let Some(email) = body["email"].as_str().filter(|e| e.contains('@')).map(str::to_owned) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_email", "email is required");
    };
    let name = body["name"].as_str().unwrap_or_default().to_owned();
    let id = common::new_id("alva-user-", 8);
    st.alva.invitations.push(email.clone());
    st.alva.users.push(AlvaUser { id: id.clone(), email, name });
    (StatusCode::CREATED, Json(json!({"id": id}))).into_response()
}

async fn grant(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    Path((profile, user)): Path<(String, String)>,
) -> Response {
    let mut st = sb.state().await;
    if let Err(refused) = company(&st, &headers) {
        return refused;
    }
    if !st.alva.users.iter().any(|u| u.id == user) {
        return error(StatusCode::NOT_FOUND, "not_found", "no such user");
    }
    st.alva.grants.push(Grant { profile, user });
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::testing::*;

    fn alva(method: &str, path: &str) -> axum::http::request::Builder {
        request(method, &format!("/alva{path}"))
            .header("authorization", "Bearer vendor-key")
            .header("x-alva-company", "acme")
    }

    fn candidate() -> Value {
        json!({"test_profile_id": "tp-logic", "first_name": "Ada", "last_name": "L", "email": "ada@example.com",
            "phone": null, "external_id": "1001"})
    }

    #[tokio::test]
    async fn a_call_without_the_key_or_the_company_is_refused_with_401() {
        let sb = Sandbox::new();
        let no_key = request("GET", "/alva/test-profiles").header("x-alva-company", "acme");
        assert_eq!(send(&sb, no_key, None).await.status, StatusCode::UNAUTHORIZED);
        let no_company = request("GET", "/alva/test-profiles").header("authorization", "Bearer vendor-key");
        assert_eq!(send(&sb, no_company, None).await.status, StatusCode::UNAUTHORIZED);
        let a = send(&sb, alva("GET", "/test-profiles"), None).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body["data"][0], json!({"id": "tp-logic", "name": "Logic test"}));
    }

    #[tokio::test]
    async fn an_unknown_key_is_refused_with_401_when_the_sandbox_refuses_unregistered_keys() {
        let sb = Sandbox::refusing_unregistered();
        assert_eq!(send(&sb, alva("GET", "/test-profiles"), None).await.status, StatusCode::UNAUTHORIZED);
        sb.add_alva_key("vendor-key").await;
        assert_eq!(send(&sb, alva("GET", "/test-profiles"), None).await.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_candidate_without_an_idempotency_key_is_refused_with_400() {
        let sb = Sandbox::new();
        let a = send(&sb, alva("POST", "/candidates"), Some(candidate())).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert!(sb.state().await.alva.candidates.is_empty());
    }

    #[tokio::test]
    async fn a_repeated_idempotency_key_gets_the_first_answer() {
        let sb = Sandbox::new();
        let first =
            send(&sb, alva("POST", "/candidates").header("idempotency-key", "evt-1"), Some(candidate()))
                .await;
        assert_eq!(first.status, StatusCode::CREATED);
        let again =
            send(&sb, alva("POST", "/candidates").header("idempotency-key", "evt-1"), Some(candidate()))
                .await;
        assert_eq!((again.status, &again.body), (first.status, &first.body));
        assert_eq!(sb.state().await.alva.candidates.len(), 1);
        let other =
            send(&sb, alva("POST", "/candidates").header("idempotency-key", "evt-2"), Some(candidate()))
                .await;
        assert_ne!(other.body["id"], first.body["id"]);
    }

    #[tokio::test]
    async fn a_candidate_for_an_unknown_test_profile_is_refused_with_422() {
        let sb = Sandbox::new();
        let mut body = candidate();
        body["test_profile_id"] = json!("tp-nope");
        let a = send(&sb, alva("POST", "/candidates").header("idempotency-key", "k"), Some(body)).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.body["error"].is_string() && a.body["message"].is_string());
    }

    #[tokio::test]
    async fn users_are_found_invited_and_granted() {
        let sb = Sandbox::new();
        sb.add_alva_user("hugo@acme.se", "Hugo").await;
        let found = send(&sb, alva("GET", "/users?email=HUGO%40acme.se"), None).await;
        let hugo = found.body["data"][0]["id"].as_str().unwrap().to_owned();
        let invited = send(
            &sb,
            alva("POST", "/users/invitations"),
            Some(json!({"email": "ines@acme.se", "name": "Ines"})),
        )
        .await;
        assert_eq!(invited.status, StatusCode::CREATED);
        assert_eq!(
            send(&sb, alva("PUT", &format!("/test-profiles/tp-logic/members/{hugo}")), None).await.status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            send(&sb, alva("PUT", "/test-profiles/tp-logic/members/nobody"), None).await.status,
            StatusCode::NOT_FOUND
        );
        let st = sb.state().await;
        assert_eq!(st.alva.invitations, ["ines@acme.se"]);
        assert_eq!(st.alva.grants.len(), 1);
    }
}
