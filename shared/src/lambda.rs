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
    lambda_http::run(lambda_http::service_fn(
        move |event: lambda_http::Request| {
            let fut = handler(from_lambda(event));
            async move { Ok::<_, lambda_http::Error>(to_lambda(fut.await)) }
        },
    ))
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
