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

/// A page, with the headers every page carries: it may not be framed (clickjacking), cached
/// (it holds a single-use ticket), sniffed as another type, or leak its address (the ticket) in a
/// `Referer`; it loads nothing and runs no script, and posts its form only to its own origin.
pub fn html(status: StatusCode, html: &str) -> Response {
    let mut r = with_body(status, "text/html; charset=utf-8", Bytes::copy_from_slice(html.as_bytes()));
    let headers = r.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

/// The pages' policy: nothing but [`STYLE`] (allowed by its hash, so no other inline style or
/// script runs), forms posted to the page's own origin, never framed.
pub fn content_security_policy() -> String {
    static POLICY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use base64::Engine;
        use sha2::Digest;
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE.as_bytes()));
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    });
    POLICY.clone()
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

/// The one style of every page (link pages, error pages): readable, labelled fields, visible errors.
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}\
label{display:block;font-weight:600;margin-top:1rem}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}\
.help{color:#444;margin:.25rem 0}.error{color:#b00020;font-weight:600;margin:.25rem 0}\
button{margin-top:1.5rem;padding:.6rem 1.4rem;font-size:1rem}.summary{border:2px solid #b00020;padding:.5rem 1rem}";

/// The one page layout: a minimal, accessible HTML page around `body_html` (already escaped),
/// styled by [`STYLE`]. Answer it with [`html`], which adds the headers every page needs.
pub fn page(title: &str, body_html: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{t}</title><style>{STYLE}</style></head>\
         <body><main><h1>{t}</h1>{body_html}</main></body></html>",
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
/// does not have the expected shape — each saying what is wrong, naming the field but never
/// repeating a value (serde's own messages quote the offending value, which may be a secret).
pub fn read_json<T: DeserializeOwned>(req: &Request) -> Result<T, AppError> {
    let body = bounded_body(req)?;
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        AppError::bad_request(format!(
            "the request body is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    match serde_json::from_value::<T>(value.clone()) {
        Ok(v) => Ok(v),
        Err(e) => Err(AppError::unprocessable(format!(
            "the request body is not as expected: {}",
            shape_error::<T>(&value, &e)
        ))),
    }
}

/// What is wrong with `value`'s shape, without any of its values: serde's message when it names
/// only a field (missing, unknown, duplicate), else the field found by trying without each one in
/// turn, and what was expected there.
fn shape_error<T: DeserializeOwned>(value: &serde_json::Value, e: &serde_json::Error) -> String {
    let message = e.to_string();
    let message = message.split(" at line ").next().unwrap_or_default();
    for names_a_field in ["missing field `", "unknown field `", "duplicate field `"] {
        if let Some(rest) = message.strip_prefix(names_a_field) {
            let field = rest.split('`').next().unwrap_or_default();
            let what = names_a_field.trim_end_matches(" `");
            return format!("{what} `{}`", field.chars().take(64).collect::<String>());
        }
    }
    // serde puts the offending value before the last ", expected …", which it builds from the
    // type alone.
    let expected = message.rsplit_once(", expected ").map(|(_, x)| x.to_owned());
    let field = value.as_object().filter(|o| o.len() <= 64).and_then(|object| {
        object.keys().find(|key| {
            let mut without = object.clone();
            without.remove(*key);
            match serde_json::from_value::<T>(serde_json::Value::Object(without)) {
                Ok(_) => true,
                Err(e) => e.to_string().starts_with(&format!("missing field `{key}`")),
            }
        })
    });
    match (field, expected) {
        (Some(field), Some(expected)) => {
            format!("the field `{}` must be {expected}", field.chars().take(64).collect::<String>())
        }
        (Some(field), None) => {
            format!("the field `{}` has the wrong type or value", field.chars().take(64).collect::<String>())
        }
        (None, Some(expected)) => format!("a field has the wrong type or value (expected {expected})"),
        (None, None) => "a field has the wrong type or value".to_owned(),
    }
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

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Shape {
        name: String,
        count: u32,
        #[serde(default)]
        kind: Option<Kind>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Small,
    }

    fn detail_of(body: &str) -> String {
        let req = http::Request::builder().body(Bytes::from(body.to_owned())).unwrap();
        let e = read_json::<Shape>(&req).unwrap_err();
        assert_eq!(e.status, 422, "{}", e.detail);
        e.detail
    }

    #[test]
    fn shape_errors_name_the_field_and_never_repeat_its_value() {
        let d = detail_of(r#"{"name":"x","count":"s3cr3t-value"}"#);
        assert!(d.contains("`count`") && d.contains("u32") && !d.contains("s3cr3t"), "{d}");
        let d = detail_of(r#"{"name":"x","count":1,"kind":"s3cr3t-kind"}"#);
        assert!(d.contains("`kind`") && d.contains("small") && !d.contains("s3cr3t"), "{d}");
        let d = detail_of(r#"{"name":["s3cr3t, expected x"],"count":2}"#);
        assert!(d.contains("`name`") && !d.contains("s3cr3t"), "{d}");
        let d = detail_of(r#"{"name":"s3cr3t"}"#);
        assert!(d.contains("missing field `count`") && !d.contains("s3cr3t"), "{d}");
        let d = detail_of(r#"{"name":7,"count":"s3cr3t"}"#);
        assert!(!d.contains("s3cr3t") && !d.contains('7'), "two wrong fields: none repeated: {d}");
        let req = http::Request::builder().body(Bytes::from_static(b"{\"name\": s3cr3t}")).unwrap();
        let e = read_json::<Shape>(&req).unwrap_err();
        assert!(e.status == 400 && !e.detail.contains("s3cr3t"), "{}", e.detail);
    }

    #[test]
    fn pages_may_not_be_framed_cached_sniffed_or_referred() {
        let r = html(StatusCode::OK, &page("T", "<p>x</p>"));
        let h = |name: &str| r.headers()[name].to_str().unwrap().to_owned();
        let csp = h("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{csp}");
        assert_eq!(h("cache-control"), "no-store");
        assert_eq!(h("referrer-policy"), "no-referrer");
        assert_eq!(h("x-content-type-options"), "nosniff");
        // The page's one style is allowed by its hash, nothing else inline.
        use base64::Engine;
        use sha2::Digest;
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE.as_bytes()));
        assert!(csp.contains(&format!("style-src 'sha256-{hash}'")), "{csp}");
        assert!(String::from_utf8_lossy(r.body()).contains(&format!("<style>{STYLE}</style>")));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
