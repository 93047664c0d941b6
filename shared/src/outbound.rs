//! The one outbound HTTP policy every client uses: connect and request timeouts, a bounded number
//! of attempts with exponential backoff and jitter on transient failures, and `429` honoured
//! (`Retry-After`, else `X-Rate-Limit-Reset`, else backoff).
use std::future::Future;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use tokio::time::Instant;

tokio::task_local! {
    /// When the current invocation must have stopped calling out (its deadline less a margin to
    /// record the outcome). Every call's whole budget, retries included, ends there.
    static DEADLINE: Instant;
}

/// Runs `work` with every outbound call bounded by `deadline`.
pub async fn within<F: Future>(deadline: Instant, work: F) -> F::Output {
    DEADLINE.scope(deadline, work).await
}

/// The time left before the current deadline, if one is set.
pub fn time_left() -> Option<Duration> {
    DEADLINE.try_with(|d| d.saturating_duration_since(Instant::now())).ok()
}

/// Below this much time left no new attempt starts: it could not finish.
const LEAST_USEFUL: Duration = Duration::from_millis(300);

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The longest wait a `429` may ask for; a longer one is not waited out.
    pub max_rate_limit_wait: Duration,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
            max_rate_limit_wait: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with "equal jitter": half the step is fixed, half is random, so that
    /// concurrent callers spread out without ever retrying immediately.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let step = self.base_delay.saturating_mul(1u32 << attempt.min(16)).min(self.max_delay);
        let half = step / 2;
        let jitter_ms = random_u64() % (half.as_millis().max(1) as u64 + 1);
        half + Duration::from_millis(jitter_ms)
    }
}

/// A random number for jitter, from aws-lc-rs's generator (the one TLS already uses).
fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system's random source works");
    u64::from_le_bytes(bytes)
}

/// Why an outside call did not produce a response worth reading.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("{service} did not answer within {seconds} seconds (tried {attempts} times)")]
    TimedOut { service: &'static str, seconds: u64, attempts: u32 },
    /// The invocation's time ran out before a (further) attempt could be made.
    #[error(
        "{service} could not be called again before this invocation's time ran out (tried {attempts} times)"
    )]
    OutOfTime { service: &'static str, attempts: u32 },
    #[error("{service} could not be reached (tried {attempts} times): {reason}")]
    Unreachable {
        service: &'static str,
        attempts: u32,
        reason: String,
        /// Whether the request may have left: anything but a failure to connect (a connection
        /// reset after sending, an answer cut off) may have reached the service.
        sent: bool,
    },
    #[error("{service} answered {status} (tried {attempts} times)")]
    Status { service: &'static str, status: StatusCode, attempts: u32, body: String },
    #[error("{service} sent an answer hirebridge could not read: {reason}")]
    Malformed { service: &'static str, reason: String },
    /// The request could not be built: a value meant for a header holds characters HTTP does
    /// not allow (typically a pasted key with a control character). Nothing was sent.
    #[error("a value for {service} holds characters that cannot be sent; check it for stray characters and paste it again")]
    Unsendable { service: &'static str },
}

impl OutboundError {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            OutboundError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the request may have reached the service and had its effect (so "nothing was
    /// sent" would be a lie): anything but a failure to connect, a refusal before sending or a
    /// definite 4xx answer. An answer we could not read (`Malformed`) came from a service that
    /// received the request, and a connection that broke after the request left may have
    /// delivered it.
    pub fn maybe_performed(&self) -> bool {
        match self {
            OutboundError::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::REQUEST_TIMEOUT
            }
            OutboundError::OutOfTime { attempts, .. } => *attempts > 0,
            OutboundError::Unreachable { sent, .. } => *sent,
            OutboundError::Malformed { .. } | OutboundError::TimedOut { .. } => true,
            OutboundError::Unsendable { .. } => false,
        }
    }

    /// Whether trying again later may succeed (outages, time-outs, rate limits), as opposed to a
    /// refusal that will stay a refusal (other 4xx).
    pub fn is_transient(&self) -> bool {
        match self {
            OutboundError::Status { status, .. } => is_transient(*status),
            OutboundError::Malformed { .. } | OutboundError::Unsendable { .. } => false,
            _ => true,
        }
    }
}

impl From<OutboundError> for crate::AppError {
    fn from(e: OutboundError) -> Self {
        match e {
            OutboundError::Unsendable { .. } => crate::AppError::unprocessable(e.to_string()),
            _ => crate::AppError::upstream(e.to_string()),
        }
    }
}

/// A reqwest client with the policy above; built once per cold start and shared.
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    policy: RetryPolicy,
}

impl HttpClient {
    pub fn new(policy: RetryPolicy) -> Self {
        // With the one TLS set-up (compiled-in roots: no CA store read at a cold start).
        let inner = crate::https::client(
            reqwest::Client::builder()
                .connect_timeout(policy.connect_timeout)
                .timeout(policy.request_timeout)
                // Below the usual 60 s server keep-alive, so a thawed Lambda does not reuse a
                // connection the server already closed.
                .pool_idle_timeout(Duration::from_secs(30))
                .user_agent(concat!("hirebridge/", env!("CARGO_PKG_VERSION"))),
        )
        .expect("the HTTP client's settings are valid");
        HttpClient { inner, policy }
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    pub fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.inner.request(method, url)
    }

    /// Sends `request`, retrying transient failures. Returns the first response that is not
    /// transient (any 2xx, 3xx or non-retryable 4xx) for the caller to interpret; a response that
    /// stays transient after the last attempt becomes [`OutboundError::Status`].
    pub async fn send(
        &self,
        service: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, OutboundError> {
        // Built once: a value HTTP cannot carry is refused here, before anything is sent.
        let request = request.build().map_err(|_| OutboundError::Unsendable { service })?;
        // A POST without an idempotency key is sent again only when it cannot have reached the
        // service (a refused connection, a 429): a slow service must not get duplicates.
        let replayable =
            request.method() != reqwest::Method::POST || request.headers().contains_key("idempotency-key");
        let mut attempt = 0;
        loop {
            let left = time_left();
            if left.is_some_and(|l| l < LEAST_USEFUL) {
                return Err(OutboundError::OutOfTime { service, attempts: attempt });
            }
            attempt += 1;
            let mut this_try = request.try_clone().ok_or_else(|| OutboundError::Malformed {
                service,
                reason: "a streaming request body cannot be retried".into(),
            })?;
            *this_try.timeout_mut() =
                Some(left.map_or(self.policy.request_timeout, |l| l.min(self.policy.request_timeout)));
            let last = attempt >= self.policy.max_attempts;
            match self.inner.execute(this_try).await {
                Ok(resp) if is_transient(resp.status()) => {
                    let status = resp.status();
                    let wait = if status == StatusCode::TOO_MANY_REQUESTS {
                        rate_limit_wait(resp.headers())
                    } else {
                        None
                    };
                    let too_long = wait.is_some_and(|w| w > self.policy.max_rate_limit_wait);
                    let again = replayable || status == StatusCode::TOO_MANY_REQUESTS;
                    let delay = wait.unwrap_or_else(|| self.policy.backoff(attempt - 1));
                    if last || too_long || !again || !fits(delay) {
                        let body = resp.text().await.unwrap_or_default();
                        return Err(OutboundError::Status {
                            service,
                            status,
                            attempts: attempt,
                            body: truncate(&body, 500),
                        });
                    }
                    tracing::warn!(
                        service,
                        attempt,
                        status = status.as_u16(),
                        delay_ms = delay.as_millis() as u64,
                        "retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
                Ok(resp) => return Ok(resp),
                Err(e) => {
                    let e = e.without_url();
                    let delay = self.policy.backoff(attempt - 1);
                    let again = replayable || e.is_connect();
                    if last || !again || !fits(delay) {
                        return Err(if e.is_timeout() {
                            OutboundError::TimedOut {
                                service,
                                seconds: self.policy.request_timeout.as_secs().max(1),
                                attempts: attempt,
                            }
                        } else {
                            OutboundError::Unreachable {
                                service,
                                attempts: attempt,
                                reason: error_chain(&e),
                                sent: !e.is_connect(),
                            }
                        });
                    }
                    tracing::warn!(service, attempt, error = %e, delay_ms = delay.as_millis() as u64, "retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// Sends and reads a JSON answer; any non-2xx answer becomes [`OutboundError::Status`].
    pub async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        service: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<T, OutboundError> {
        let resp = self.send(service, request).await?;
        let resp = expect_success(service, resp).await?;
        let bytes = resp.bytes().await.map_err(|e| OutboundError::Unreachable {
            service,
            attempts: 1,
            reason: e.without_url().to_string(),
            sent: true,
        })?;
        // An empty answer (204) reads as `null`.
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(bytes).map_err(|e| OutboundError::Malformed { service, reason: e.to_string() })
    }
}

/// Turns a non-2xx answer into an error, keeping a short piece of its body for diagnosis.
pub async fn expect_success(
    service: &'static str,
    resp: reqwest::Response,
) -> Result<reqwest::Response, OutboundError> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    Err(OutboundError::Status { service, status, attempts: 1, body: truncate(&body, 500) })
}

/// Whether waiting `delay` still leaves time for a useful attempt before the deadline.
fn fits(delay: Duration) -> bool {
    time_left().is_none_or(|left| left > delay + LEAST_USEFUL)
}

fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// How long a `429` asks us to wait: `Retry-After` (seconds), else `X-Rate-Limit-Reset` (seconds
/// left in the window), else Spark Hire's `X-Rate-Limit-Try-Again-Seconds`.
pub fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    ["retry-after", "x-rate-limit-reset", "x-rate-limit-try-again-seconds"]
        .iter()
        .find_map(|name| {
            let value = headers.get(*name)?.to_str().ok()?.trim();
            value.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0)
        })
        // Capped before converting: `from_secs_f64` panics on a value too large for a Duration.
        .map(|s| Duration::from_secs_f64(s.min(86_400.0)))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    truncate(&out, 300)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Deserializes an id that an outside API may send as a string or a number.
pub fn any_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    use serde::Deserialize;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom("expected an id (a string or a number)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_within_its_cap_and_is_never_zero() {
        let p = RetryPolicy::default();
        for attempt in 0..10 {
            let d = p.backoff(attempt);
            let step = p.base_delay.saturating_mul(1 << attempt).min(p.max_delay);
            assert!(
                d >= step / 2 && d <= step,
                "attempt {attempt}: {d:?} outside [{:?}, {step:?}]",
                step / 2
            );
        }
    }

    #[test]
    fn rate_limit_headers_in_order_of_preference() {
        let mut h = HeaderMap::new();
        assert_eq!(rate_limit_wait(&h), None);
        h.insert("x-rate-limit-reset", "7".parse().unwrap());
        assert_eq!(rate_limit_wait(&h), Some(Duration::from_secs(7)));
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(rate_limit_wait(&h), Some(Duration::from_secs(2)));
    }

    #[tokio::test]
    async fn a_key_with_a_control_character_is_refused_before_sending_as_a_422() {
        let client = HttpClient::new(RetryPolicy::default());
        let request = client.request(reqwest::Method::GET, "http://127.0.0.1:9/x").bearer_auth("k\u{1}y");
        let e = client.send("Teamtailor", request).await.unwrap_err();
        assert!(matches!(e, OutboundError::Unsendable { .. }), "{e}");
        assert!(!e.maybe_performed());
        assert_eq!(crate::AppError::from(e).status, 422);
    }

    /// A server on loopback that reads each request, then either drops the connection without
    /// a word or answers `200` with a body that is not JSON.
    async fn server(answer: Option<&'static str>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                if let Some(body) = answer {
                    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                    let _ = socket.write_all(format!("{head}{body}").as_bytes()).await;
                }
            }
        });
        url
    }

    #[tokio::test]
    async fn a_call_whose_connection_broke_after_sending_or_whose_answer_was_unreadable_may_have_been_performed(
    ) {
        let policy = RetryPolicy { max_attempts: 1, ..RetryPolicy::default() };
        let client = HttpClient::new(policy);
        let post = |url: &str| client.request(reqwest::Method::POST, url).body("{}");
        let reset = client.send("Spark Hire", post(&server(None).await)).await.unwrap_err();
        assert!(matches!(reset, OutboundError::Unreachable { .. }), "{reset}");
        assert!(reset.maybe_performed(), "the request left before the connection broke");
        let unreadable = client
            .send_json::<serde_json::Value>("Spark Hire", post(&server(Some("<html>")).await))
            .await
            .unwrap_err();
        assert!(matches!(unreadable, OutboundError::Malformed { .. }), "{unreadable}");
        assert!(unreadable.maybe_performed(), "a 2xx answer came back");
        let refused = client.send("Spark Hire", post("http://127.0.0.1:9/x")).await.unwrap_err();
        assert!(!refused.maybe_performed(), "nothing left: the connection was refused");
    }

    #[test]
    fn a_huge_retry_after_is_capped_instead_of_panicking() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "1e300".parse().unwrap());
        assert_eq!(rate_limit_wait(&h), Some(Duration::from_secs(86_400)));
    }
}
