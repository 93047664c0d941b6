//! The Lambda entry point shared by every function: it turns API Gateway's request into a
//! [`crate::web::Request`], runs the handler, and turns the answer back. Handlers never fail as
//! Lambda invocations; every error is already an HTTP answer.
use std::future::Future;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use lambda_http::Body;

use crate::web::{Request, Response};

pub async fn run<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send,
{
    lambda_http::run(lambda_http::service_fn(move |event: lambda_http::Request| {
        let fut = handler(from_lambda(event));
        async move { Ok::<_, lambda_http::Error>(to_lambda(fut.await)) }
    }))
    .await
}

pub fn from_lambda(event: lambda_http::Request) -> Request {
    let (parts, body) = event.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(s) => Bytes::from(s),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    Request::from_parts(parts, bytes)
}

pub fn to_lambda(response: Response) -> http::Response<Body> {
    let (parts, body) = response.into_parts();
    let textual = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/") || ct.contains("json") || ct.contains("html"));
    let body = if body.is_empty() {
        Body::Empty
    } else if textual {
        match String::from_utf8(body.to_vec()) {
            Ok(s) => Body::Text(s),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    } else {
        Body::Binary(body.to_vec())
    };
    http::Response::from_parts(parts, body)
}

/// For a function that serves HTTP routes and also runs on a schedule: an EventBridge scheduled
/// event runs `scheduled`, anything else is read as an API Gateway HTTP API (v2) request.
pub async fn run_with_schedule<H, HF, S, SF>(http_handler: H, scheduled: S) -> Result<(), lambda_http::Error>
where
    H: Fn(Request) -> HF + Send + Sync + 'static,
    HF: Future<Output = Response> + Send,
    S: Fn() -> SF + Send + Sync + 'static,
    SF: Future<Output = serde_json::Value> + Send,
{
    let http_handler = std::sync::Arc::new(http_handler);
    let scheduled = std::sync::Arc::new(scheduled);
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: lambda_http::LambdaEvent<serde_json::Value>| {
            let http_handler = http_handler.clone();
            let scheduled = scheduled.clone();
            async move {
                if is_scheduled(&event.payload) {
                    return Ok::<_, lambda_http::Error>(scheduled().await);
                }
                let request = from_http_api_v2(event.payload)?;
                Ok(to_http_api_v2(http_handler(request).await))
            }
        },
    ))
    .await
}

pub fn is_scheduled(payload: &serde_json::Value) -> bool {
    payload.get("source").and_then(|s| s.as_str()) == Some("aws.events")
        || payload.get("detail-type").and_then(|s| s.as_str()) == Some("Scheduled Event")
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpApiEvent {
    raw_path: String,
    #[serde(default)]
    raw_query_string: String,
    #[serde(default)]
    headers: std::collections::HashMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    is_base64_encoded: bool,
    request_context: HttpApiContext,
}

#[derive(serde::Deserialize)]
struct HttpApiContext {
    http: HttpApiMethod,
}

#[derive(serde::Deserialize)]
struct HttpApiMethod {
    method: String,
}

/// An HTTP API payload-format-2.0 event as a [`Request`].
pub fn from_http_api_v2(payload: serde_json::Value) -> Result<Request, lambda_http::Error> {
    use base64::Engine;
    let event: HttpApiEvent = serde_json::from_value(payload)?;
    let uri = if event.raw_query_string.is_empty() {
        event.raw_path
    } else {
        format!("{}?{}", event.raw_path, event.raw_query_string)
    };
    let body = match event.body {
        Some(b) if event.is_base64_encoded => {
            Bytes::from(base64::engine::general_purpose::STANDARD.decode(b)?)
        }
        Some(b) => Bytes::from(b),
        None => Bytes::new(),
    };
    let mut builder = http::Request::builder().method(event.request_context.http.method.as_str()).uri(uri);
    for (name, value) in &event.headers {
        builder = builder.header(name, value);
    }
    Ok(builder.body(body)?)
}

/// A [`Response`] as an HTTP API payload-format-2.0 answer.
pub fn to_http_api_v2(response: Response) -> serde_json::Value {
    use base64::Engine;
    let headers: serde_json::Map<String, serde_json::Value> = response
        .headers()
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.to_string(), serde_json::Value::from(v))))
        .collect();
    let (body, encoded) = match std::str::from_utf8(response.body()) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(response.body()), true),
    };
    serde_json::json!({
        "statusCode": response.status().as_u16(),
        "headers": headers,
        "body": body,
        "isBase64Encoded": encoded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn http_api_events_and_schedules_are_told_apart() {
        let schedule =
            json!({"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
        assert!(is_scheduled(&schedule));
        let event = json!({
            "version": "2.0", "routeKey": "POST /2secure/callback", "rawPath": "/2secure/callback",
            "rawQueryString": "a=1", "headers": {"content-type": "application/json", "x-2secure-signature": "t=1,v1=00"},
            "requestContext": {"http": {"method": "POST", "path": "/2secure/callback"}},
            "body": "eyJhIjoxfQ==", "isBase64Encoded": true
        });
        assert!(!is_scheduled(&event));
        let req = from_http_api_v2(event).unwrap();
        assert_eq!(req.method(), "POST");
        assert_eq!(req.uri(), "/2secure/callback?a=1");
        assert_eq!(req.body().as_ref(), br#"{"a":1}"#);
        assert_eq!(req.headers()["x-2secure-signature"], "t=1,v1=00");
        let answer = to_http_api_v2(crate::web::text(http::StatusCode::CREATED, "ok"));
        assert_eq!(answer["statusCode"], 201);
        assert_eq!(answer["body"], "ok");
    }
}
