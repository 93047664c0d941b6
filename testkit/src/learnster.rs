//! Learnster's public API v1 (`/_sandbox/learnster/{space}/api/public/v1/...`; docs/contracts.md
//! §5):
//! - `POST auth/token/` with client credentials (JSON) answers an access token; every other call
//!   needs `Authorization: Bearer <that token>`, issued for the same space (else `401`);
//! - every path ends in `/` (a path without it is `404`, as Django answers it);
//! - students (`users/students/`, `?search=`), tags (`tags/`, `?name=`) and a student's tags in
//!   bulk (`users/students/{id}/tags/bulk/`, tags by id); `400 {"error","code","detail"}` for a bad
//!   body, `404` for an unknown student.
use std::collections::{BTreeSet, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};

use crate::common::{self, Here};
use crate::sandbox::{Sandbox, SandboxState};

#[derive(Clone, Debug, Serialize)]
pub struct Student {
    pub id: String,
    pub space: String,
    pub vendor_id: String,
    /// The `user` object as created (`first_name`, `last_name`, `email`, ...).
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

/// An access token `auth/token/` issued.
#[derive(Clone, Debug, Serialize)]
pub struct AccessToken {
    pub space: String,
    pub client_id: String,
}

#[derive(Default, Serialize)]
pub struct LearnsterState {
    pub students: Vec<Student>,
    pub tags: Vec<Tag>,
    #[serde(skip)]
    pub tokens: HashMap<String, AccessToken>,
}

pub(crate) fn routes() -> Router<Sandbox> {
    const BASE: &str = "/learnster/{space}/api/public/v1";
    Router::new()
        .route(&format!("{BASE}/auth/token/"), post(token))
        .route(
            &format!("{BASE}/vendor/{{vendor}}/users/students/"),
            get(search_students).post(create_student),
        )
        .route(&format!("{BASE}/vendor/{{vendor}}/users/students/{{student}}/tags/bulk/"), put(bulk_tags))
        .route(&format!("{BASE}/vendor/{{vendor}}/tags/"), get(search_tags).post(create_tag))
}

fn error(status: StatusCode, code: &str, detail: &str) -> Response {
    (status, Json(json!({"error": detail, "code": code, "detail": detail}))).into_response()
}

/// Django's answer to a path it has no route for (a missing trailing slash, say).
pub(crate) async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"detail": "Not found."}))).into_response()
}

async fn token(State(sb): State<Sandbox>, Path(space): Path<String>, body: Bytes) -> Response {
    let Some(body) = common::json_of(&body) else {
        return error(StatusCode::BAD_REQUEST, "parse_error", "The body must be JSON.");
    };
    let present = |k: &str| body.get(k).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    if !present("client_id") || !present("client_secret") || body["grant_type"] != "client_credentials" {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "client_id, client_secret and grant_type client_credentials are required.",
        );
    }
    let token = uuid::Uuid::new_v4().to_string();
    let client_id = body["client_id"].as_str().unwrap_or_default().to_owned();
    sb.state().await.learnster.tokens.insert(token.clone(), AccessToken { space, client_id });
    Json(json!({"access_token": token, "expires_in": 3600, "token_type": "Bearer", "scope": "api"}))
        .into_response()
}

/// `401` unless the call carries a token issued for this space.
fn authorized(st: &SandboxState, headers: &HeaderMap, space: &str) -> Result<(), Response> {
    match common::bearer(headers).and_then(|t| st.learnster.tokens.get(&t).cloned()) {
        Some(t) if t.space == space => Ok(()),
        _ => Err(error(
            StatusCode::UNAUTHORIZED,
            "not_authenticated",
            "Authentication credentials were not provided.",
        )),
    }
}

fn student_json(s: &Student) -> Value {
    json!({"id": s.id, "vendor": s.vendor_id, "user": s.user, "active": true, "controlled_by_integration": true})
}

async fn search_students(
    State(sb): State<Sandbox>,
    Path((space, vendor)): Path<(String, String)>,
    here: Here,
    headers: HeaderMap,
) -> Response {
    let st = sb.state().await;
    if let Err(refused) = authorized(&st, &headers, &space) {
        return refused;
    }
    let search = here.param("search").unwrap_or_default().to_lowercase();
    let personal_id = here.param("personal_id");
    let results: Vec<Value> = st
        .learnster
        .students
        .iter()
        .filter(|s| s.space == space && s.vendor_id == vendor)
        .filter(|s| s.user["email"].as_str().unwrap_or_default().to_lowercase().contains(&search))
        .filter(|s| personal_id.is_none_or(|p| s.user["personal_id"].as_str() == Some(p)))
        .map(student_json)
        .collect();
    Json(json!({"count": results.len(), "next": null, "previous": null, "results": results})).into_response()
}

async fn create_student(
    State(sb): State<Sandbox>,
    Path((space, vendor)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut st = sb.state().await;
    if let Err(refused) = authorized(&st, &headers, &space) {
        return refused;
    }
    let user = common::json_of(&body).map(|b| b["user"].clone()).unwrap_or_default();
    if user["email"].as_str().is_none_or(str::is_empty) {
        return error(StatusCode::BAD_REQUEST, "invalid", "user.email is required.");
    }
    let student = Student {
        id: uuid::Uuid::new_v4().to_string(),
        space,
        vendor_id: vendor,
        user,
        tags: BTreeSet::new(),
    };
    st.learnster.students.push(student.clone());
    (StatusCode::CREATED, Json(student_json(&student))).into_response()
}

async fn search_tags(
    State(sb): State<Sandbox>,
    Path((space, vendor)): Path<(String, String)>,
    here: Here,
    headers: HeaderMap,
) -> Response {
    let st = sb.state().await;
    if let Err(refused) = authorized(&st, &headers, &space) {
        return refused;
    }
    let name = here.param("name").unwrap_or_default();
    let results: Vec<Value> = st
        .learnster
        .tags
        .iter()
        .filter(|t| t.space == space && t.vendor_id == vendor && t.name.contains(name))
        .map(|t| json!({"id": t.id, "name": t.name, "type": "course"}))
        .collect();
    Json(json!({"count": results.len(), "next": null, "previous": null, "results": results})).into_response()
}

async fn create_tag(
    State(sb): State<Sandbox>,
    Path((space, vendor)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut st = sb.state().await;
    if let Err(refused) = authorized(&st, &headers, &space) {
        return refused;
    }
    let body = common::json_of(&body).unwrap_or_default();
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "invalid", "name is required.");
    };
    let tag = Tag { id: uuid::Uuid::new_v4().to_string(), space, vendor_id: vendor, name: name.to_owned() };
    st.learnster.tags.push(tag.clone());
    (StatusCode::CREATED, Json(json!({"id": tag.id, "name": tag.name, "type": "course"}))).into_response()
}

async fn bulk_tags(
    State(sb): State<Sandbox>,
    Path((space, _vendor, student)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut st = sb.state().await;
    if let Err(refused) = authorized(&st, &headers, &space) {
        return refused;
    }
    let body = common::json_of(&body).unwrap_or_default();
    let Some(list) = body["update_list"].as_array() else {
        return error(StatusCode::BAD_REQUEST, "invalid", "update_list is required.");
    };
    let ids: Vec<String> = list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
    let learnster = &mut st.learnster;
    let names: Vec<String> = ids
        .iter()
        .filter_map(|id| learnster.tags.iter().find(|t| &t.id == id).map(|t| t.name.clone()))
        .collect();
    if names.len() != list.len() {
        return error(StatusCode::BAD_REQUEST, "invalid", "update_list holds an unknown tag id.");
    }
    let Some(s) = learnster.students.iter_mut().find(|s| s.id == student) else {
        return not_found().await;
    };
    s.tags.extend(names);
    Json(json!({"updated": ids.len()})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::testing::*;

    const BASE: &str = "/learnster/acme/api/public/v1";

    async fn token_for(sb: &Sandbox, space: &str) -> String {
        let body = json!({"client_id": "c", "client_secret": "s", "grant_type": "client_credentials"});
        let a =
            send(sb, request("POST", &format!("/learnster/{space}/api/public/v1/auth/token/")), Some(body))
                .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        a.body["access_token"].as_str().unwrap().to_owned()
    }

    fn call(method: &str, path: &str, token: &str) -> axum::http::request::Builder {
        request(method, &format!("{BASE}{path}")).header("authorization", format!("Bearer {token}"))
    }

    #[tokio::test]
    async fn client_credentials_get_an_access_token_and_anything_else_is_refused_with_400() {
        let sb = Sandbox::new();
        let token = token_for(&sb, "acme").await;
        assert!(!token.is_empty());
        for body in [
            json!({"client_id": "c", "client_secret": "s"}),
            json!({"client_id": "c", "grant_type": "client_credentials"}),
            json!({"client_id": "c", "client_secret": "s", "grant_type": "password"}),
        ] {
            let a = send(&sb, request("POST", &format!("{BASE}/auth/token/")), Some(body.clone())).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
            assert!(
                a.body["error"].is_string() && a.body["code"].is_string() && a.body["detail"].is_string()
            );
        }
    }

    #[tokio::test]
    async fn a_call_without_a_bearer_token_is_refused_with_401() {
        let sb = Sandbox::new();
        let a = send(&sb, request("GET", &format!("{BASE}/vendor/v1/users/students/")), None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        let a = send(&sb, call("GET", "/vendor/v1/users/students/", "made-up"), None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        let other_space = token_for(&sb, "other").await;
        let a = send(&sb, call("GET", "/vendor/v1/users/students/", &other_space), None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "a token serves its own space");
        let token = token_for(&sb, "acme").await;
        assert_eq!(
            send(&sb, call("GET", "/vendor/v1/users/students/", &token), None).await.status,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn a_path_without_its_trailing_slash_is_not_found() {
        let sb = Sandbox::new();
        let token = token_for(&sb, "acme").await;
        for (method, path) in
            [("GET", "/vendor/v1/users/students"), ("POST", "/vendor/v1/tags"), ("POST", "/auth/token")]
        {
            let a = send(&sb, call(method, path, &token), Some(json!({"name": "x"}))).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{method} {path}");
        }
    }

    #[tokio::test]
    async fn a_student_is_created_found_and_tagged_by_tag_id() {
        let sb = Sandbox::new();
        let token = token_for(&sb, "acme").await;
        let a = send(
            &sb,
            call("POST", "/vendor/v1/users/students/", &token),
            Some(json!({"user": {"first_name": "Ada"}})),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "an e-mail is required");
        let a = send(
            &sb,
            call("POST", "/vendor/v1/users/students/", &token),
            Some(json!({"user": {"first_name": "Ada", "last_name": "L", "email": "ada@example.com"}, "controlled_by_integration": true})),
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED);
        let student = a.body["id"].as_str().unwrap().to_owned();
        let found =
            send(&sb, call("GET", "/vendor/v1/users/students/?search=ADA@example.com", &token), None).await;
        assert_eq!(found.body["count"], 1);
        let tag =
            send(&sb, call("POST", "/vendor/v1/tags/", &token), Some(json!({"name": "tt_stage_offered"})))
                .await;
        let tag_id = tag.body["id"].as_str().unwrap().to_owned();
        let bulk = |list: Value| Some(json!({"update_list": list, "remove_list": []}));
        let path = format!("/vendor/v1/users/students/{student}/tags/bulk/");
        assert_eq!(
            send(&sb, call("PUT", &path, &token), bulk(json!(["no-such-tag"]))).await.status,
            StatusCode::BAD_REQUEST
        );
        let a = send(
            &sb,
            call("PUT", "/vendor/v1/users/students/nobody/tags/bulk/", &token),
            bulk(json!([tag_id])),
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        assert_eq!(send(&sb, call("PUT", &path, &token), bulk(json!([tag_id]))).await.status, StatusCode::OK);
        let st = sb.state().await;
        assert_eq!(st.learnster.students[0].tags, BTreeSet::from(["tt_stage_offered".to_owned()]));
    }
}
