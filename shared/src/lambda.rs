//! The Lambda entry point shared by every function. One function receives two kinds of event:
//! API Gateway HTTP API (payload format 2.0) requests, which become a [`crate::web::Request`] for
//! the function's HTTP handler, and EventBridge's scheduled events, which run its scheduled
//! handler. The event shapes are `aws_lambda_events`' own. An HTTP handler never fails its
//! invocation (every HTTP error is already an HTTP answer); a scheduled run whose report has an
//! `error` does, so that the schedule's on-failure destination and its alarm see it.
//!
//! The handlers may borrow what `main` built (`lambda::run(|req| handle(&deps, req))`): the
//! runtime loop runs inside the `run` future, so nothing has to live for `'static`.
use std::future::Future;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use bytes::Bytes;
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use lambda_http::Error;
use serde::{Deserialize, Serialize};

use crate::web::{Request, Response};

/// What a scheduled run answers: its report, or the error that stopped it. A report with an
/// `error` (this one, or the report's own: a sweep that could not run an item) fails the
/// invocation.
pub fn report<T: Serialize>(outcome: crate::error::AppResult<T>) -> serde_json::Value {
    match outcome {
        Ok(report) => serde_json::to_value(report).unwrap_or_default(),
        Err(e) => serde_json::json!({"error": e.detail}),
    }
}

/// A function's `main`: logging, the configuration, the platform and the function's `Deps`
/// built once per cold start, then its routes and its scheduled run, borrowing them.
/// `hirebridge::lambda_main!(alva::Deps, alva::handle, alva::sweep);`
#[macro_export]
macro_rules! lambda_main {
    ($deps:path, $handle:path, $scheduled:path) => {
        #[tokio::main]
        async fn main() -> Result<(), lambda_http::Error> {
            $crate::logging::init();
            let config = $crate::config::Config::from_env()?;
            let platform =
                $crate::platform::Platform::aws(config, $crate::outbound::RetryPolicy::default()).await?;
            let deps = <$deps>::new(platform);
            let deps = &deps;
            $crate::lambda::run_with_schedule(|req| $handle(deps, req), || $scheduled(deps)).await
        }
    };
}

/// Runs a function that only serves HTTP routes. A scheduled event fails the invocation: this
/// function has no schedule.
pub async fn run<H, HF>(http_handler: H) -> Result<(), Error>
where
    H: Fn(Request) -> HF,
    HF: Future<Output = Response>,
{
    serve(&http_handler, None::<&fn() -> std::future::Ready<serde_json::Value>>).await
}

/// Runs a function that serves HTTP routes and also runs on a schedule: an EventBridge
/// scheduled event runs `scheduled` (its value is the invocation's result), an HTTP API request
/// runs `http_handler`.
pub async fn run_with_schedule<H, HF, S, SF>(http_handler: H, scheduled: S) -> Result<(), Error>
where
    H: Fn(Request) -> HF,
    HF: Future<Output = Response>,
    S: Fn() -> SF,
    SF: Future<Output = serde_json::Value>,
{
    serve(&http_handler, Some(&scheduled)).await
}

async fn serve<H, HF, S, SF>(http_handler: &H, scheduled: Option<&S>) -> Result<(), Error>
where
    H: Fn(Request) -> HF,
    HF: Future<Output = Response>,
    S: Fn() -> SF,
    SF: Future<Output = serde_json::Value>,
{
    // `lambda_runtime::run` (unlike `run_concurrent` or `lambda_http::runtime`) asks neither
    // `'static` nor `Send` of the service: it polls one invocation at a time inside this future.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Invocation>| async move {
        let deadline = work_deadline(event.context.deadline);
        crate::outbound::within(deadline, async move { handle(http_handler, scheduled, event.payload).await })
            .await
    }))
    .await
}

/// Time kept back from the invocation's deadline to record the outcome of the work.
pub const OUTCOME_MARGIN: std::time::Duration = std::time::Duration::from_secs(3);

/// When calls out must stop: the runtime's deadline (ms since the epoch) less [`OUTCOME_MARGIN`].
fn work_deadline(deadline_ms: u64) -> tokio::time::Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let left = std::time::Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    tokio::time::Instant::now() + left.saturating_sub(OUTCOME_MARGIN)
}

async fn handle<H, HF, S, SF>(
    http_handler: &H,
    scheduled: Option<&S>,
    payload: Invocation,
) -> Result<Answer, Error>
where
    H: Fn(Request) -> HF,
    HF: Future<Output = Response>,
    S: Fn() -> SF,
    SF: Future<Output = serde_json::Value>,
{
    {
        match payload {
            Invocation::Http(request) => {
                let request = from_http_api_v2(*request)?;
                Ok::<_, Error>(Answer::Http(Box::new(to_http_api_v2(http_handler(request).await))))
            }
            Invocation::EventBridge(event) if is_scheduled(&event) => match scheduled {
                Some(scheduled) => {
                    let report = scheduled().await;
                    if report.get("error").is_some_and(|e| !e.is_null()) {
                        tracing::error!(event = "scheduled_run_failed", %report, "scheduled run failed");
                        return Err(format!("the scheduled run failed: {report}").into());
                    }
                    Ok(Answer::Scheduled(report))
                }
                None => Err("this function has no schedule, yet a scheduled event arrived".into()),
            },
            Invocation::EventBridge(event) => Err(format!(
                "an EventBridge event this function does not handle: {} / {}",
                event.source, event.detail_type
            )
            .into()),
        }
    }
}

/// What one invocation carries: an EventBridge event (it has a `detail-type`), else an HTTP API
/// payload-format-2.0 request.
#[derive(Debug)]
pub enum Invocation {
    Http(Box<ApiGatewayV2httpRequest>),
    EventBridge(Box<EventBridgeEvent>),
}

impl<'de> Deserialize<'de> for Invocation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let payload = serde_json::Value::deserialize(deserializer)?;
        if payload.get("detail-type").is_some() {
            serde_json::from_value(payload)
                .map(|e| Invocation::EventBridge(Box::new(e)))
                .map_err(D::Error::custom)
        } else {
            serde_json::from_value(payload).map(|r| Invocation::Http(Box::new(r))).map_err(D::Error::custom)
        }
    }
}

/// What one invocation answers: API Gateway's response, or the scheduled handler's value.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Answer {
    Http(Box<ApiGatewayV2httpResponse>),
    Scheduled(serde_json::Value),
}

/// A schedule's event (an EventBridge rule's `Scheduled Event` from `aws.events`).
pub fn is_scheduled(event: &EventBridgeEvent) -> bool {
    event.source == "aws.events" || event.detail_type == "Scheduled Event"
}

/// An HTTP API payload-format-2.0 event as a [`Request`]: method, raw path and query, headers
/// (the `cookies` array becomes the `Cookie` header) and body (base64-decoded when so marked).
pub fn from_http_api_v2(event: ApiGatewayV2httpRequest) -> Result<Request, Error> {
    use base64::Engine;
    let path = event.raw_path.filter(|p| !p.is_empty()).unwrap_or_else(|| "/".to_owned());
    let uri = match event.raw_query_string.filter(|q| !q.is_empty()) {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let body = match event.body {
        Some(b) if event.is_base64_encoded => {
            Bytes::from(base64::engine::general_purpose::STANDARD.decode(b)?)
        }
        Some(b) => Bytes::from(b),
        None => Bytes::new(),
    };
    let mut headers = event.headers;
    if let Some(cookies) = event.cookies.filter(|c| !c.is_empty()) {
        headers.insert(COOKIE, HeaderValue::from_str(&cookies.join("; "))?);
    }
    let mut request =
        http::Request::builder().method(event.request_context.http.method).uri(uri).body(body)?;
    *request.headers_mut() = headers;
    Ok(request)
}

/// A [`Response`] as an HTTP API payload-format-2.0 answer: `Set-Cookie` headers go to `cookies`,
/// a header given twice is sent once with its values joined by commas, and a body that is not
/// UTF-8 is sent base64-encoded.
pub fn to_http_api_v2(response: Response) -> ApiGatewayV2httpResponse {
    let (parts, body) = response.into_parts();
    let mut headers = HeaderMap::new();
    let mut cookies = Vec::new();
    for name in parts.headers.keys() {
        let values: Vec<&str> = parts.headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        if name == SET_COOKIE {
            cookies.extend(values.iter().map(|v| v.to_string()));
        } else if let Ok(value) = HeaderValue::from_str(&values.join(", ")) {
            if !values.is_empty() {
                headers.insert(name.clone(), value);
            }
        }
    }
    let (body, encoded) = if body.is_empty() {
        (None, false)
    } else {
        match String::from_utf8(body.to_vec()) {
            Ok(text) => (Some(Body::Text(text)), false),
            Err(e) => (Some(Body::Binary(e.into_bytes())), true),
        }
    };
    let mut answer = ApiGatewayV2httpResponse::default();
    answer.status_code = i64::from(parts.status.as_u16());
    answer.headers = headers;
    answer.body = body;
    answer.is_base64_encoded = encoded;
    answer.cookies = cookies;
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn invocation(payload: serde_json::Value) -> Invocation {
        serde_json::from_value(payload).expect("an invocation")
    }

    #[test]
    fn http_api_events_and_schedules_are_told_apart() {
        let schedule =
            json!({"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
        assert!(matches!(invocation(schedule), Invocation::EventBridge(e) if is_scheduled(&e)));
        let event = json!({
            "version": "2.0", "routeKey": "POST /2secure/callback", "rawPath": "/2secure/callback",
            "rawQueryString": "a=1", "headers": {"content-type": "application/json", "x-2secure-signature": "t=1,v1=00"},
            "requestContext": {"http": {"method": "POST", "path": "/2secure/callback"}},
            "body": "eyJhIjoxfQ==", "isBase64Encoded": true
        });
        let Invocation::Http(event) = invocation(event) else { panic!("an HTTP API request") };
        let req = from_http_api_v2(*event).unwrap();
        assert_eq!(req.method(), "POST");
        assert_eq!(req.uri(), "/2secure/callback?a=1");
        assert_eq!(req.body().as_ref(), br#"{"a":1}"#);
        assert_eq!(req.headers()["x-2secure-signature"], "t=1,v1=00");
        let answer =
            serde_json::to_value(to_http_api_v2(crate::web::text(http::StatusCode::CREATED, "ok"))).unwrap();
        assert_eq!(answer["statusCode"], 201);
        assert_eq!(answer["body"], "ok");
    }

    /// AWS's example of an HTTP API payload-format-2.0 event ("Working with AWS Lambda proxy
    /// integrations for HTTP APIs", API Gateway Developer Guide).
    const HTTP_API_V2_EXAMPLE: &str = include_str!("../fixtures/aws-http-api-v2-example.json");

    /// AWS's example of the event an EventBridge schedule sends ("Scheduled Events", EventBridge
    /// User Guide).
    const SCHEDULED_EVENT_EXAMPLE: &str = include_str!("../fixtures/aws-scheduled-event-example.json");

    #[test]
    fn aws_example_http_api_event_becomes_a_request() {
        let Invocation::Http(event) = serde_json::from_str(HTTP_API_V2_EXAMPLE).unwrap() else {
            panic!("an HTTP API request")
        };
        let req = from_http_api_v2(*event).unwrap();
        assert_eq!(req.method(), "POST");
        assert_eq!(req.uri(), "/my/path?parameter1=value1&parameter1=value2&parameter2=value");
        assert_eq!(req.headers()["header1"], "value1");
        assert_eq!(req.headers()["header2"], "value1,value2");
        assert_eq!(req.headers()["cookie"], "cookie1; cookie2");
        assert_eq!(req.body().as_ref(), b"Hello from Lambda");
        let query = crate::web::query(&req);
        assert_eq!(query["parameter2"], "value");
    }

    #[test]
    fn aws_example_scheduled_event_is_a_schedule() {
        let Invocation::EventBridge(event) = serde_json::from_str(SCHEDULED_EVENT_EXAMPLE).unwrap() else {
            panic!("an EventBridge event")
        };
        assert!(is_scheduled(&event));
        assert_eq!(event.detail_type, "Scheduled Event");
        assert_eq!(event.source, "aws.events");
        assert_eq!(
            event.resources.unwrap(),
            ["arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"]
        );
    }

    #[test]
    fn an_event_that_is_neither_fails_to_parse() {
        assert!(serde_json::from_value::<Invocation>(json!({"detail-type": "Scheduled Event"})).is_err());
        assert!(serde_json::from_value::<Invocation>(json!({"hello": "world"})).is_err());
    }

    #[test]
    fn answers_keep_headers_cookies_and_binary_bodies() {
        let response = http::Response::builder()
            .status(303)
            .header("location", "/next")
            .header("vary", "accept")
            .header("vary", "origin")
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .body(Bytes::from_static(&[0xff, 0x00]))
            .unwrap();
        let answer = serde_json::to_value(to_http_api_v2(response)).unwrap();
        assert_eq!(answer["statusCode"], 303);
        assert_eq!(answer["headers"]["location"], "/next");
        assert_eq!(answer["headers"]["vary"], "accept, origin");
        assert!(answer["headers"].get("set-cookie").is_none());
        assert_eq!(answer["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(answer["isBase64Encoded"], true);
        assert_eq!(answer["body"], "/wA=");

        let empty =
            serde_json::to_value(to_http_api_v2(crate::web::text(http::StatusCode::NO_CONTENT, ""))).unwrap();
        assert_eq!(empty["statusCode"], 204);
        assert!(empty.get("body").is_none());
    }

    /// A stand-in for the Lambda Runtime API on loopback: it hands out `events` one per
    /// `/invocation/next` (then holds the next call forever) and reports each answer as
    /// (request id, "response" or "error", body).
    fn fake_runtime_api(
        events: Vec<serde_json::Value>,
    ) -> (String, tokio::sync::mpsc::UnboundedReceiver<(String, String, serde_json::Value)>) {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let events = std::sync::Arc::new(std::sync::Mutex::new(
            events.into_iter().enumerate().collect::<std::collections::VecDeque<_>>(),
        ));
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let (mut writer, events, tx) = (stream.unwrap(), events.clone(), tx.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(writer.try_clone().unwrap());
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let path = line.split_whitespace().nth(1).unwrap_or_default().to_owned();
                        let mut length = 0;
                        loop {
                            let mut header = String::new();
                            reader.read_line(&mut header).unwrap();
                            let Some((name, value)) = header.trim_end().split_once(':') else { break };
                            if name.eq_ignore_ascii_case("content-length") {
                                length = value.trim().parse().unwrap();
                            }
                        }
                        let mut body = vec![0; length];
                        reader.read_exact(&mut body).unwrap();
                        let answer = if path.ends_with("/invocation/next") {
                            let next = events.lock().unwrap().pop_front();
                            let Some((n, event)) = next else {
                                std::thread::sleep(std::time::Duration::from_secs(3600));
                                return;
                            };
                            let event = event.to_string();
                            let deadline = std::time::SystemTime::now()
                                .duration_since(std::time::UNIX_EPOCH)
                                .unwrap()
                                .as_millis()
                                + 60_000;
                            format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                                 lambda-runtime-aws-request-id: req-{n}\r\nlambda-runtime-deadline-ms: {deadline}\r\n\
                                 lambda-runtime-invoked-function-arn: arn:aws:lambda:eu-north-1:123456789012:function:f\r\n\
                                 content-length: {}\r\n\r\n{event}",
                                event.len()
                            )
                        } else {
                            let parts: Vec<&str> = path.split('/').collect();
                            let (id, kind) = (parts[parts.len() - 2], parts[parts.len() - 1]);
                            let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                            let _ = tx.send((id.to_owned(), kind.to_owned(), body));
                            "HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}".to_owned()
                        };
                        writer.write_all(answer.as_bytes()).unwrap();
                    }
                });
            }
        });
        (addr, rx)
    }

    async fn answers(
        mut rx: tokio::sync::mpsc::UnboundedReceiver<(String, String, serde_json::Value)>,
        count: usize,
    ) -> Vec<(String, String, serde_json::Value)> {
        let mut answers = Vec::new();
        while answers.len() < count {
            answers.push(rx.recv().await.unwrap());
        }
        answers
    }

    /// The real runtime loop against a fake Runtime API, with handlers that borrow a local: HTTP
    /// API requests reach the HTTP handler, schedules the scheduled one, anything else is an
    /// invocation error; a function without a schedule fails a scheduled event.
    #[tokio::test]
    async fn the_runtime_serves_both_kinds_of_event_with_borrowed_dependencies() {
        let deps = String::from("deps built in main");
        let deps = &deps;
        let http_handler = |req: Request| async move {
            crate::web::text(
                http::StatusCode::ACCEPTED,
                &format!("{deps}: {} {}", req.method(), req.uri().path()),
            )
        };
        let other = json!({"version": "0", "id": "1", "detail-type": "EC2 Instance State-change Notification",
                           "source": "aws.ec2", "detail": {}});
        let (addr, rx) = fake_runtime_api(vec![
            serde_json::from_str(HTTP_API_V2_EXAMPLE).unwrap(),
            serde_json::from_str(SCHEDULED_EVENT_EXAMPLE).unwrap(),
            other,
        ]);
        std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "f");
        std::env::set_var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
        std::env::set_var("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        std::env::set_var("AWS_LAMBDA_RUNTIME_API", &addr);
        let served = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            tokio::select! {
                answers = answers(rx, 3) => answers,
                stopped = run_with_schedule(http_handler, || async move { json!({"ran": deps}) }) => {
                    panic!("the runtime stopped: {stopped:?}")
                }
            }
        })
        .await
        .expect("three answers");
        assert_eq!((served[0].0.as_str(), served[0].1.as_str()), ("req-0", "response"));
        assert_eq!(served[0].2["statusCode"], 202);
        assert_eq!(served[0].2["body"], "deps built in main: POST /my/path");
        assert_eq!((served[1].0.as_str(), served[1].1.as_str()), ("req-1", "response"));
        assert_eq!(served[1].2, json!({"ran": "deps built in main"}));
        assert_eq!((served[2].0.as_str(), served[2].1.as_str()), ("req-2", "error"));

        let (addr, rx) = fake_runtime_api(vec![serde_json::from_str(SCHEDULED_EVENT_EXAMPLE).unwrap()]);
        std::env::set_var("AWS_LAMBDA_RUNTIME_API", &addr);
        let served = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            tokio::select! {
                answers = answers(rx, 1) => answers,
                stopped = run(http_handler) => panic!("the runtime stopped: {stopped:?}"),
            }
        })
        .await
        .expect("one answer");
        assert_eq!((served[0].0.as_str(), served[0].1.as_str()), ("req-0", "error"));

        // A scheduled run that reports an error fails its invocation (the on-failure destination
        // and its alarm see it); one that reports none succeeds.
        let (addr, rx) = fake_runtime_api(vec![
            serde_json::from_str(SCHEDULED_EVENT_EXAMPLE).unwrap(),
            serde_json::from_str(SCHEDULED_EVENT_EXAMPLE).unwrap(),
        ]);
        std::env::set_var("AWS_LAMBDA_RUNTIME_API", &addr);
        let runs = std::sync::atomic::AtomicUsize::new(0);
        let runs = &runs;
        let scheduled = || async move {
            match runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                0 => json!({"rerun": 3, "failed": 1, "error": "1 due item(s) could not be run"}),
                _ => json!({"rerun": 3, "failed": 0}),
            }
        };
        let served = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            tokio::select! {
                answers = answers(rx, 2) => answers,
                stopped = run_with_schedule(http_handler, scheduled) => panic!("the runtime stopped: {stopped:?}"),
            }
        })
        .await
        .expect("two answers");
        assert_eq!((served[0].0.as_str(), served[0].1.as_str()), ("req-0", "error"));
        assert!(served[0].2.to_string().contains("could not be run"), "{}", served[0].2);
        assert_eq!((served[1].0.as_str(), served[1].1.as_str()), ("req-1", "response"));
    }
}
