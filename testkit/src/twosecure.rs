//! 2Secure's API as docs/contracts.md assumes it (`/_sandbox/2secure/...`; docs/contracts.md §6):
//! - `Authorization: Bearer <the customer's API key>`; an unknown key is `401 {"error","message"}`;
//! - `GET /account`, `GET /packages` (a bare list);
//! - `POST /orders` needs an `Idempotency-Key` (else `400`), and a repeated key gets the first
//!   answer back; `candidate.personal_number` must be 12 digits and `package_id` a package, else
//!   `422 {"error","message"}`;
//! - `GET /orders/{id}` (an order of the same key; else `404`).
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};

use crate::common::{self, StoredAnswer};
use crate::sandbox::{Sandbox, SandboxState};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Sent,
    Pending,
    Completed,
    Cancelled,
}

impl OrderStatus {
    pub fn parse(s: &str) -> Option<OrderStatus> {
        match s {
            "sent" => Some(OrderStatus::Sent),
            "pending" => Some(OrderStatus::Pending),
            "completed" => Some(OrderStatus::Completed),
            "cancelled" => Some(OrderStatus::Cancelled),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Package {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct TwoSecureOrder {
    pub id: String,
    /// The API key it was placed with (in memory only).
    #[serde(skip)]
    pub api_key: String,
    pub idempotency_key: String,
    pub status: OrderStatus,
    pub report_url: Option<String>,
    /// The order as sent (it holds the personnummer: in memory only, never served or logged).
    #[serde(skip)]
    pub body: Value,
    pub attachment_names: Vec<String>,
}

#[derive(Serialize)]
pub struct TwoSecureState {
    /// Accepted API keys → the customer's company name.
    #[serde(skip)]
    pub keys: HashMap<String, String>,
    pub packages: Vec<Package>,
    pub orders: Vec<TwoSecureOrder>,
    /// First answers to `POST /orders`, by API key and idempotency key.
    #[serde(skip)]
    pub replays: HashMap<(String, String), StoredAnswer>,
}

impl Default for TwoSecureState {
    fn default() -> Self {
        let package = |id: &str, name: &str| Package { id: id.into(), name: name.into() };
        TwoSecureState {
            keys: HashMap::new(),
            packages: vec![
                package("basic", "Basic"),
                package("standard", "Standard"),
                package("executive", "Executive"),
            ],
            orders: vec![],
            replays: HashMap::new(),
        }
    }
}

impl Sandbox {
    pub async fn add_twosecure_key(&self, key: &str, company_name: &str) {
        self.state().await.twosecure.keys.insert(key.into(), company_name.into());
    }

    /// 2Secure moves an order on (as its staff would); `status` is sent, pending, completed or
    /// cancelled.
    pub async fn set_twosecure_status(&self, order_id: &str, status: &str, report_url: Option<&str>) {
        let status =
            OrderStatus::parse(status).unwrap_or_else(|| panic!("2Secure has no order status {status:?}"));
        let mut st = self.state().await;
        if let Some(o) = st.twosecure.orders.iter_mut().find(|o| o.id == order_id) {
            o.status = status;
            o.report_url = report_url.map(str::to_owned);
        }
    }
}

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/2secure/account", get(account))
        .route("/2secure/packages", get(packages))
        .route("/2secure/orders", post(place_order))
        .route("/2secure/orders/{id}", get(get_order))
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": code, "message": message}))).into_response()
}

/// The key and its company name, or `401`.
fn customer(st: &SandboxState, headers: &HeaderMap) -> Result<(String, String), Response> {
    common::bearer(headers)
        .and_then(|key| st.twosecure.keys.get(&key).map(|name| (key, name.clone())))
        .ok_or_else(|| error(StatusCode::UNAUTHORIZED, "unauthorized", "invalid API key"))
}

async fn account(State(sb): State<Sandbox>, headers: HeaderMap) -> Response {
    match customer(&*sb.state().await, &headers) {
        Ok((_, name)) => Json(json!({"company_name": name})).into_response(),
        Err(refused) => refused,
    }
}

async fn packages(State(sb): State<Sandbox>, headers: HeaderMap) -> Response {
    let st = sb.state().await;
    match customer(&st, &headers) {
        Ok(_) => Json(json!(st.twosecure.packages)).into_response(),
        Err(refused) => refused,
    }
}

async fn place_order(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let mut st = sb.state().await;
    let api_key = match customer(&st, &headers) {
        Ok((key, _)) => key,
        Err(refused) => return refused,
    };
    let Some(key) = common::header(&headers, "idempotency-key").filter(|k| !k.is_empty()).map(str::to_owned)
    else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "Idempotency-Key is required");
    };
    if let Some(first) = st.twosecure.replays.get(&(api_key.clone(), key.clone())) {
        return first.response();
    }
    let Some(body) = common::json_of(&body).filter(Value::is_object) else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "the body must be a JSON object");
    };
    let pn = body["candidate"]["personal_number"].as_str().unwrap_or_default();
    if pn.len() != 12 || !pn.chars().all(|c| c.is_ascii_digit()) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_personal_number",
            "personal_number must be 12 digits",
        );
    }
    let package = body["package_id"].as_str().unwrap_or_default();
    if !st.twosecure.packages.iter().any(|p| p.id == package) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_package", "unknown package");
    }
    let order = TwoSecureOrder {
        id: common::new_id("ord_", 12),
        api_key: api_key.clone(),
        idempotency_key: key.clone(),
        status: OrderStatus::Sent,
        report_url: None,
        attachment_names: body["attachments"]
            .as_array()
            .map(|a| a.iter().filter_map(|f| f["file_name"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        body,
    };
    let answer = StoredAnswer::new(StatusCode::CREATED, json!({"id": order.id, "status": order.status}));
    st.twosecure.orders.push(order);
    st.twosecure.replays.insert((api_key, key), answer.clone());
    answer.response()
}

async fn get_order(State(sb): State<Sandbox>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let st = sb.state().await;
    let api_key = match customer(&st, &headers) {
        Ok((key, _)) => key,
        Err(refused) => return refused,
    };
    match st.twosecure.orders.iter().find(|o| o.id == id && o.api_key == api_key) {
        Some(o) => Json(json!({"id": o.id, "status": o.status, "report_url": o.report_url})).into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such order"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::testing::*;

    fn call(method: &str, path: &str, key: &str) -> axum::http::request::Builder {
        request(method, &format!("/2secure{path}")).header("authorization", format!("Bearer {key}"))
    }

    fn order(pn: &str) -> Value {
        json!({"package_id": "standard", "candidate": {"first_name": "Ada", "last_name": "L", "personal_number": pn,
            "email": "ada@example.com", "phone": null}, "billing": {"reference": "HR-1"}, "orderer_email": "hr@acme.se",
            "callback_url": "https://hb.example/2secure/callback", "external_reference": "evt-1",
            "attachments": [{"file_name": "cv.pdf", "content_base64": "JVBERg=="}]})
    }

    async fn sandbox() -> Sandbox {
        let sb = Sandbox::new();
        sb.add_twosecure_key("key", "Acme AB").await;
        sb
    }

    #[tokio::test]
    async fn an_unknown_key_is_refused_with_401() {
        let sb = sandbox().await;
        let a = send(&sb, call("GET", "/account", "other"), None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert!(a.body["error"].is_string() && a.body["message"].is_string());
        assert_eq!(
            send(&sb, request("GET", "/2secure/packages"), None).await.status,
            StatusCode::UNAUTHORIZED
        );
        let a = send(&sb, call("GET", "/account", "key"), None).await;
        assert_eq!(a.body, json!({"company_name": "Acme AB"}));
        let a = send(&sb, call("GET", "/packages", "key"), None).await;
        assert_eq!(a.body.as_array().unwrap().len(), 3, "a bare list");
    }

    #[tokio::test]
    async fn an_order_without_an_idempotency_key_is_refused_with_400() {
        let sb = sandbox().await;
        let a = send(&sb, call("POST", "/orders", "key"), Some(order("198112189876"))).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert!(sb.state().await.twosecure.orders.is_empty());
    }

    #[tokio::test]
    async fn a_repeated_idempotency_key_gets_the_first_answer() {
        let sb = sandbox().await;
        let first = send(
            &sb,
            call("POST", "/orders", "key").header("idempotency-key", "evt-1"),
            Some(order("198112189876")),
        )
        .await;
        assert_eq!(first.status, StatusCode::CREATED);
        assert_eq!(first.body["status"], "sent");
        let again = send(
            &sb,
            call("POST", "/orders", "key").header("idempotency-key", "evt-1"),
            Some(order("198112189876")),
        )
        .await;
        assert_eq!((again.status, &again.body), (first.status, &first.body));
        let st = sb.state().await;
        assert_eq!(st.twosecure.orders.len(), 1);
        assert_eq!(st.twosecure.orders[0].attachment_names, ["cv.pdf"]);
    }

    #[tokio::test]
    async fn a_personal_number_of_other_than_twelve_digits_is_refused_with_422() {
        let sb = sandbox().await;
        for pn in ["8112189876", "811218-9876", "19811218987X", ""] {
            let a = send(
                &sb,
                call("POST", "/orders", "key").header("idempotency-key", format!("k-{pn}")),
                Some(order(pn)),
            )
            .await;
            assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{pn}");
            assert_eq!(a.body["error"], "invalid_personal_number");
            assert!(a.body["message"].is_string());
        }
        assert!(sb.state().await.twosecure.orders.is_empty());
    }

    #[tokio::test]
    async fn an_order_for_an_unknown_package_is_refused_with_422() {
        let sb = sandbox().await;
        let mut body = order("198112189876");
        body["package_id"] = json!("platinum");
        let a = send(&sb, call("POST", "/orders", "key").header("idempotency-key", "k"), Some(body)).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[tokio::test]
    async fn an_order_is_read_back_by_its_own_key_with_the_status_2secure_set() {
        let sb = sandbox().await;
        sb.add_twosecure_key("another", "Other AB").await;
        let placed = send(
            &sb,
            call("POST", "/orders", "key").header("idempotency-key", "k"),
            Some(order("198112189876")),
        )
        .await;
        let id = placed.body["id"].as_str().unwrap().to_owned();
        sb.set_twosecure_status(&id, "completed", Some("https://portal.2secure.se/r/1")).await;
        let a = send(&sb, call("GET", &format!("/orders/{id}"), "key"), None).await;
        assert_eq!(
            a.body,
            json!({"id": id, "status": "completed", "report_url": "https://portal.2secure.se/r/1"})
        );
        assert_eq!(
            send(&sb, call("GET", &format!("/orders/{id}"), "another"), None).await.status,
            StatusCode::NOT_FOUND
        );
    }
}
