//! The HTTP shapes every handler works with, independent of Lambda or the local runner:
//! a request with its whole body, a response with its whole body, and the helpers to read and
//! answer them within bounds.
use std::collections::HashMap;

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::AppError;

pub type Request = http::Request<Bytes>;
pub type Response = http::Response<Bytes>;

/// The largest body any route reads. Teamtailor's webhooks are a few kilobytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    json_with_type(status, "application/json", value)
}

pub fn json_with_type<T: Serialize + ?Sized>(
    status: StatusCode,
    content_type: &'static str,
    value: &T,
) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    with_body(status, content_type, Bytes::from(body))
}

pub fn text(status: StatusCode, text: &str) -> Response {
    with_body(status, "text/plain; charset=utf-8", Bytes::copy_from_slice(text.as_bytes()))
}

pub fn html(status: StatusCode, html: &str) -> Response {
    with_body(status, "text/html; charset=utf-8", Bytes::copy_from_slice(html.as_bytes()))
}

pub fn empty(status: StatusCode) -> Response {
    let mut r = Response::new(Bytes::new());
    *r.status_mut() = status;
    r
}

fn with_body(status: StatusCode, content_type: &'static str, body: Bytes) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A minimal, accessible HTML page around `body_html` (already escaped).
pub fn page(title: &str, body_html: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{t}</title></head><body><main>\
         <h1>{t}</h1>{body_html}</main></body></html>",
        t = escape(title)
    )
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The path split into segments, for matching routes: `/learnster/integrations/x` →
/// `["learnster", "integrations", "x"]`.
pub fn segments(req: &Request) -> Vec<&str> {
    req.uri().path().split('/').filter(|s| !s.is_empty()).collect()
}

pub fn query(req: &Request) -> HashMap<String, String> {
    req.uri()
        .query()
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The token of `Authorization: Bearer <token>`, if there is one.
pub fn bearer(req: &Request) -> Option<&str> {
    let value = header(req, "authorization")?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

/// The body as JSON of type `T`: `413` when too large, `400` when not JSON, `422` when the JSON
/// does not have the expected shape — each saying what is wrong.
pub fn read_json<T: DeserializeOwned>(req: &Request) -> Result<T, AppError> {
    let body = bounded_body(req)?;
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| AppError::bad_request(format!("the request body is not valid JSON ({e})")))?;
    serde_json::from_value(value)
        .map_err(|e| AppError::unprocessable(format!("the request body is not as expected: {e}")))
}

pub fn bounded_body(req: &Request) -> Result<&[u8], AppError> {
    let body = req.body();
    if body.len() > MAX_BODY_BYTES {
        return Err(AppError::too_large(format!(
            "the request body is {} bytes; at most {MAX_BODY_BYTES} are accepted",
            body.len()
        )));
    }
    Ok(body)
}

/// A plausible e-mail address: something@domain.tld, no spaces, at most 254 characters.
pub fn valid_email(e: &str) -> bool {
    e.len() <= 254
        && !e.contains(char::is_whitespace)
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
}

/// The trimmed text of an optional field, when there is any.
pub fn present(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_after_the_scheme() {
        let req =
            http::Request::builder().header("authorization", "Bearer abc.def").body(Bytes::new()).unwrap();
        assert_eq!(bearer(&req), Some("abc.def"));
        let req = http::Request::builder().header("authorization", "Basic abc").body(Bytes::new()).unwrap();
        assert_eq!(bearer(&req), None);
    }

    #[test]
    fn bodies_are_bounded_and_parsed_with_clear_errors() {
        let req = http::Request::builder().body(Bytes::from_static(b"{nope")).unwrap();
        let err = read_json::<serde_json::Value>(&req).unwrap_err();
        assert_eq!(err.status, 400);
        let big = Bytes::from(vec![b' '; MAX_BODY_BYTES + 1]);
        let req = http::Request::builder().body(big).unwrap();
        assert_eq!(read_json::<serde_json::Value>(&req).unwrap_err().status, 413);
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
