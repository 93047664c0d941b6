//! What every fake shares: the record of the requests the sandbox received, faults that make
//! matching requests fail (`POST /_sandbox/control/faults`), the policy for keys nobody registered,
//! answers kept for idempotent replays, and small readers of headers.
use std::collections::HashMap;
use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{FromRequestParts, OriginalUri, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::sandbox::Sandbox;

/// One request the sandbox received.
#[derive(Clone, Debug, Serialize)]
pub struct Recorded {
    /// The first path segment under `/_sandbox` (`teamtailor`, `learnster`, `2secure`, ...).
    pub service: String,
    pub method: String,
    /// The path under `/_sandbox`, e.g. `/teamtailor/v1/jobs/4711`.
    pub path: String,
    /// The query string as sent (`include=user&page%5Bsize%5D=30`), if any.
    pub query: Option<String>,
    /// Kept in memory for assertions (which key was used); never logged or served.
    #[serde(skip)]
    pub authorization: Option<String>,
    #[serde(skip)]
    pub api_version: Option<String>,
    /// The status the sandbox answered (a fault's, when one applied); `None` until it answered.
    pub status: Option<u16>,
}

/// Make matching requests fail: answer `status` (or hang for `delay_ms` first), `times` times.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Fault {
    pub service: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path_contains: String,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(default = "one")]
    pub times: u32,
    /// With status 429: the seconds Spark Hire-style `X-Rate-Limit-Try-Again-Seconds` asks for.
    #[serde(default)]
    pub try_again_seconds: Option<u32>,
}

fn one() -> u32 {
    1
}

impl Fault {
    fn matches(&self, service: &str, method: &str, path: &str) -> bool {
        self.times > 0
            && self.service == service
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.contains(&self.path_contains)
    }
}

/// What the fakes do with a credential or a partner result that nobody registered with them:
/// a Teamtailor API key, a listing's partner API key, a partner result id, an Alva or StackOne
/// API key. (2Secure and Spark Hire keys are always registered: the tests add them.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unregistered {
    /// Taken to exist: a Teamtailor key is then an Admin key with read and write, a partner
    /// result is one Teamtailor created when it sent the trigger. The default ([`Sandbox::new`]),
    /// for the dev runner (`make dev`), where people experiment with keys of their own. The demo
    /// and the integration tests refuse instead, and register what they use.
    #[default]
    Admit,
    /// Refused as the real services refuse unknown ones (`401`, or `404` for a partner result).
    Refuse,
}

/// An answer kept under an `Idempotency-Key`, given again to a request that repeats the key.
#[derive(Clone, Debug, Serialize)]
pub struct StoredAnswer {
    #[serde(serialize_with = "status_code")]
    pub status: StatusCode,
    pub body: Value,
}

fn status_code<S: serde::Serializer>(status: &StatusCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u16(status.as_u16())
}

impl StoredAnswer {
    pub fn new(status: StatusCode, body: Value) -> Self {
        StoredAnswer { status, body }
    }

    pub fn response(&self) -> Response {
        (self.status, Json(self.body.clone())).into_response()
    }
}

/// Records the request, then applies the first matching fault.
pub(crate) async fn record_and_fault(State(sb): State<Sandbox>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let rest = path.strip_prefix("/_sandbox").unwrap_or(&path).to_owned();
    let service = rest.trim_start_matches('/').split('/').next().unwrap_or_default().to_owned();
    let method = req.method().to_string();
    let (index, fault, after) = {
        let mut st = sb.state().await;
        let index = (service != "control").then_some(st.requests.len());
        if index.is_some() {
            let h = req.headers();
            st.requests.push(Recorded {
                service: service.clone(),
                method: method.clone(),
                path: rest.clone(),
                query: req.uri().query().map(str::to_owned),
                authorization: header(h, "authorization").map(str::to_owned),
                api_version: header(h, "x-api-version").map(str::to_owned),
                status: None,
            });
        }
        let take = |faults: &mut Vec<Fault>| {
            faults.iter_mut().find(|f| f.matches(&service, &method, &rest)).map(|f| {
                f.times -= 1;
                f.clone()
            })
        };
        (index, take(&mut st.faults), take(&mut st.faults_after))
    };
    let response = answer(req, next, fault, after).await;
    if let Some(i) = index {
        if let Some(recorded) = sb.state().await.requests.get_mut(i) {
            recorded.status = Some(response.status().as_u16());
        }
    }
    response
}

/// A fault's answer, else the service's (unless a fault applies after performing).
async fn answer(req: Request, next: Next, fault: Option<Fault>, after: Option<Fault>) -> Response {
    if let Some(fault) = fault {
        if let Some(response) = apply(fault).await {
            return response;
        }
    }
    let performed = next.run(req).await;
    if let Some(fault) = after {
        if let Some(response) = apply(fault).await {
            return response;
        }
    }
    performed
}

/// Waits out a fault's delay; answers its status, when it has one.
async fn apply(fault: Fault) -> Option<Response> {
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    }
    let status = StatusCode::from_u16(fault.status?).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response =
        (status, Json(json!({"error": "sandbox fault", "status": status.as_u16()}))).into_response();
    if let Some(seconds) = fault.try_again_seconds {
        response.headers_mut().insert("x-rate-limit-try-again-seconds", seconds.into());
    }
    Some(response)
}

/// A header's value, when it is text.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The token of `Authorization: Bearer <token>` (not empty).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    header(headers, "authorization")?.strip_prefix("Bearer ").filter(|t| !t.is_empty()).map(str::to_owned)
}

/// The username of `Authorization: Basic base64(<username>:<password>)` (not empty).
pub(crate) fn basic_username(headers: &HeaderMap) -> Option<String> {
    use base64::Engine;
    let value = header(headers, "authorization")?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(value.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, _password) = text.split_once(':')?;
    (!user.is_empty()).then(|| user.to_owned())
}

/// A fresh id: `prefix` and `len` hex digits.
pub(crate) fn new_id(prefix: &str, len: usize) -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &hex[..len.min(hex.len())])
}

/// The request body as JSON, when it is.
pub(crate) fn json_of(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body).ok()
}

/// The current time as RFC 3339 (UTC, seconds), as StackOne's error bodies carry it.
pub(crate) fn timestamp() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let with_ms = rfc3339_ms(secs * 1000);
    format!("{}Z", &with_ms[..with_ms.len() - 5])
}

/// `ms` since 1970 as RFC 3339 with milliseconds, UTC (Howard Hinnant's civil-date algorithm).
pub(crate) fn rfc3339_ms(ms: i64) -> String {
    let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

/// Teamtailor's regional stacks (EU `api.teamtailor.com`, NA `api.na.teamtailor.com`): a
/// company, its keys and its partner results live on one. The sandbox serves EU under
/// `/teamtailor/...` and NA under `/teamtailor-na/...`, the same API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    #[default]
    Eu,
    Na,
}

impl Region {
    pub const ALL: [Region; 2] = [Region::Eu, Region::Na];

    /// The path the stack is served under, e.g. `/teamtailor-na`.
    pub fn segment(self) -> &'static str {
        match self {
            Region::Eu => "/teamtailor",
            Region::Na => "/teamtailor-na",
        }
    }
}

/// Where a request arrived: the origin the sandbox is served under (`http://host/_sandbox`, from
/// the `Host` header and the prefix it is nested under) and the query parameters. Links in
/// answers are built from it, so that callers can follow them back to the sandbox.
#[derive(Clone, Debug)]
pub(crate) struct Here {
    /// `http://<host><mount>`, e.g. `http://127.0.0.1:3000/_sandbox`.
    pub origin: String,
    /// The Teamtailor stack a Teamtailor path is on (`/teamtailor-na/...` is NA).
    pub region: Region,
    pub query: HashMap<String, String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Here {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let inner = parts.uri.path();
        let original = parts.extensions.get::<OriginalUri>().map(|o| o.0.path().to_owned());
        let mount = original
            .as_deref()
            .and_then(|o| o.strip_suffix(inner))
            .map(|m| m.trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let host = header(&parts.headers, header::HOST.as_str()).unwrap_or("localhost");
        let query = parts
            .uri
            .query()
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let region = if inner.starts_with(Region::Na.segment()) { Region::Na } else { Region::Eu };
        Ok(Here { origin: format!("http://{host}{mount}"), region, query })
    }
}

impl Here {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
}

/// Helpers for the fakes' own tests: requests sent through the router, as a client would.
#[cfg(test)]
pub(crate) mod testing {
    use axum::body::Body;
    use axum::http::{HeaderMap, Request, StatusCode};
    use serde_json::Value;
    use tower::ServiceExt;

    use crate::sandbox::Sandbox;

    /// An answer: status, headers and the body (JSON when it parses, else a JSON string).
    pub struct Answer {
        pub status: StatusCode,
        pub headers: HeaderMap,
        pub body: Value,
    }

    /// A request to `/_sandbox{path}` on host `sandbox.test`.
    pub fn request(method: &str, path: &str) -> axum::http::request::Builder {
        Request::builder().method(method).uri(format!("/_sandbox{path}")).header("host", "sandbox.test")
    }

    pub async fn send(sb: &Sandbox, req: axum::http::request::Builder, body: Option<Value>) -> Answer {
        let req = match body {
            Some(b) => req.body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .expect("a valid request");
        let resp = crate::router(sb).oneshot(req).await.expect("the router answers");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.expect("a body");
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Answer { status, headers, body }
    }

    pub fn basic(user: &str, password: &str) -> String {
        use base64::Engine;
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[tokio::test]
    async fn every_request_is_recorded_with_its_key_and_query() {
        let sb = Sandbox::new();
        send(&sb, request("GET", "/alva/test-profiles?x=1").header("authorization", "Bearer k"), None).await;
        let st = sb.state().await;
        let r = &st.requests[0];
        assert_eq!(
            (r.service.as_str(), r.method.as_str(), r.path.as_str()),
            ("alva", "GET", "/alva/test-profiles")
        );
        assert_eq!(r.query.as_deref(), Some("x=1"));
        assert_eq!(r.authorization.as_deref(), Some("Bearer k"));
        assert_eq!(r.status, Some(401), "the status answered is recorded");
    }

    #[tokio::test]
    async fn a_fault_after_performing_does_the_work_then_answers_its_status() {
        let sb = Sandbox::new();
        sb.add_twosecure_key("k", "Acme AB").await;
        let fault: Fault = serde_json::from_value(serde_json::json!(
            {"service": "2secure", "method": "GET", "path_contains": "/account", "status": 502}
        ))
        .unwrap();
        sb.add_fault_after_performing(fault).await;
        let a = send(&sb, request("GET", "/2secure/account").header("authorization", "Bearer k"), None).await;
        assert_eq!(a.status, StatusCode::BAD_GATEWAY);
        assert_eq!(sb.count("2secure", "GET", "/account").await, 1, "the request reached the service");
        let a = send(&sb, request("GET", "/2secure/account").header("authorization", "Bearer k"), None).await;
        assert_eq!(a.status, StatusCode::OK, "once");
    }

    #[tokio::test]
    async fn a_fault_answers_its_status_as_many_times_as_asked() {
        let sb = Sandbox::new();
        let fault = serde_json::json!({"service": "2secure", "method": "GET", "path_contains": "/packages",
            "status": 429, "times": 2, "try_again_seconds": 3});
        let added = send(
            &sb,
            request("POST", "/control/faults").header("content-type", "application/json"),
            Some(fault),
        )
        .await;
        assert_eq!(added.status, StatusCode::NO_CONTENT);
        sb.add_twosecure_key("k", "Acme AB").await;
        for _ in 0..2 {
            let a = send(&sb, request("GET", "/2secure/packages").header("authorization", "Bearer k"), None)
                .await;
            assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(a.headers["x-rate-limit-try-again-seconds"], "3");
        }
        let a =
            send(&sb, request("GET", "/2secure/packages").header("authorization", "Bearer k"), None).await;
        assert_eq!(a.status, StatusCode::OK);
    }

    #[test]
    fn timestamps_are_rfc_3339() {
        let t = timestamp();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
        assert!(t.as_str() > "2024-01-01", "{t}");
    }

    #[test]
    fn basic_credentials_need_a_username() {
        let mut h = HeaderMap::new();
        h.insert("authorization", testing::basic("key", "x").parse().unwrap());
        assert_eq!(basic_username(&h).as_deref(), Some("key"));
        h.insert("authorization", testing::basic("", "x").parse().unwrap());
        assert_eq!(basic_username(&h), None);
        h.insert("authorization", "Basic not-base64!".parse().unwrap());
        assert_eq!(basic_username(&h), None);
    }
}
