//! Fakes that differ from the contracts, for the tests of checks that must notice (the go-live
//! probe): the sandbox behind a layer that changes chosen answers the way a service that changed
//! its API would. The sandbox still records every request (it answers first; the layer changes
//! its answer), so a test can count what was sent.
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::sandbox::Sandbox;

/// One way a service differs from its contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Difference {
    /// Teamtailor's partner API answers without the `X-Api-Version` header it should echo.
    PartnerApiVersionNotEchoed,
    /// StackOne's `GET /accounts` answers `404 Not Found`, as if the path had moved.
    StackOneAccountsNotFound,
    /// Spark Hire's lists come wrapped in `{"data": [...]}` instead of a bare array.
    SparkHireListsWrapped,
}

/// The fakes under `/_sandbox`, differing in `differences`.
pub fn router(sandbox: &Sandbox, differences: &[Difference]) -> Router {
    let differences: Arc<[Difference]> = differences.into();
    crate::router(sandbox).layer(middleware::from_fn_with_state(differences, differ))
}

/// [`router`] on its own loopback port; answers its base URL (`…/_sandbox` is under it).
pub async fn spawn(sandbox: &Sandbox, differences: &[Difference]) -> String {
    let app = router(sandbox, differences);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

async fn differ(State(differences): State<Arc<[Difference]>>, req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let mut resp = next.run(req).await;
    for difference in differences.iter() {
        resp = match difference {
            Difference::PartnerApiVersionNotEchoed if path.starts_with("/_sandbox/teamtailor/partner/") => {
                resp.headers_mut().remove("x-api-version");
                resp
            }
            Difference::StackOneAccountsNotFound
                if method == Method::GET && path == "/_sandbox/stackone/accounts" =>
            {
                let body =
                    json!({"statusCode": 404, "message": "Cannot GET /accounts", "error": "Not Found"});
                (StatusCode::NOT_FOUND, Json(body)).into_response()
            }
            Difference::SparkHireListsWrapped
                if method == Method::GET && path.starts_with("/_sandbox/sparkhire/") =>
            {
                wrapped(resp).await
            }
            _ => resp,
        };
    }
    resp
}

/// A bare JSON array answer as `{"data": [...]}`; any other answer as it was.
async fn wrapped(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 4 << 20).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "unreadable answer").into_response();
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(list @ Value::Array(_)) => {
            let text = json!({ "data": list }).to_string();
            parts.headers.insert("content-length", HeaderValue::from(text.len()));
            Response::from_parts(parts, Body::from(text))
        }
        _ => Response::from_parts(parts, Body::from(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use tower::ServiceExt;

    async fn get(app: Router, path: &str, headers: &[(&str, String)]) -> (StatusCode, Option<String>, Value) {
        let mut req = axum::http::Request::builder().method("GET").uri(path);
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let resp = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let version = resp.headers().get("x-api-version").map(|v| v.to_str().unwrap().to_owned());
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, version, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    fn basic(key: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{key}:x")))
    }

    #[tokio::test]
    async fn the_partner_api_answers_without_echoing_its_version() {
        let sb = Sandbox::refusing_unregistered();
        sb.add_listing("partner-key").await;
        let path = "/_sandbox/teamtailor/partner/v1/partner-activations?page%5Bsize%5D=30";
        let headers =
            [("authorization", "Token partner-key".to_owned()), ("x-api-version", "20180828".into())];
        let (status, version, _) = get(crate::router(&sb), path, &headers).await;
        assert_eq!(
            (status, version.as_deref()),
            (StatusCode::OK, Some("20180828")),
            "the strict fake echoes it"
        );
        let differing = router(&sb, &[Difference::PartnerApiVersionNotEchoed]);
        let (status, version, body) = get(differing, path, &headers).await;
        assert_eq!((status, version), (StatusCode::OK, None));
        assert!(body["data"].is_array(), "the rest of the answer is the fake's");
    }

    #[tokio::test]
    async fn stackone_accounts_are_not_found_and_the_request_is_still_recorded() {
        let sb = Sandbox::refusing_unregistered();
        sb.add_stackone_key("so-key").await;
        let app = router(&sb, &[Difference::StackOneAccountsNotFound]);
        let (status, _, body) =
            get(app, "/_sandbox/stackone/accounts", &[("authorization", basic("so-key"))]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["statusCode"], 404);
        assert_eq!(sb.count("stackone", "GET", "/stackone/accounts").await, 1);
    }

    #[tokio::test]
    async fn spark_hire_lists_come_wrapped_and_refusals_stay_as_they_were() {
        let sb = Sandbox::refusing_unregistered();
        sb.add_sparkhire_user("sh-key", "Rita", "rita@acme.se", &["Designer"]).await;
        let app = || router(&sb, &[Difference::SparkHireListsWrapped]);
        let (status, _, body) =
            get(app(), "/_sandbox/sparkhire/jobs", &[("authorization", basic("sh-key"))]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"][0]["title"], "Designer");
        let (status, _, body) =
            get(app(), "/_sandbox/sparkhire/jobs", &[("authorization", basic("other"))]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body.get("data").is_none(), "{body}");
    }
}
