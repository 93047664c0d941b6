//! The floor, plus the steps of a hirebridge function's init that `BENCH_LADDER` names
//! (comma-separated, in this order):
//! - `envfilter`: JSON logs filtered by `tracing_subscriber::EnvFilter` (as shared/src/logging.rs);
//! - `levelfilter`: the same logs filtered by a `LevelFilter` instead (no regex engine);
//! - `sdk`: `aws_config` loaded as `Platform::aws` loads it, and the DynamoDB and Secrets Manager
//!   clients built (no call is made);
//! - `reqwest`: one `reqwest::Client` built (as shared/src/outbound.rs builds its client).
//!
//! Started in the same rounds as the functions, the difference between two rungs is what a step
//! costs the start.
use std::str::FromStr;
use std::time::Duration;

use lambda_http::{run, service_fn, Body, Error, Request, Response};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let steps = std::env::var("BENCH_LADDER").unwrap_or_default();
    let has = |s: &str| steps.split(',').any(|x| x.trim() == s);
    let level =
        std::env::var("AWS_LAMBDA_LOG_LEVEL").unwrap_or_else(|_| "info".to_owned()).to_ascii_lowercase();
    if has("envfilter") {
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter(EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("info")))
            .with_target(false)
            .with_current_span(false)
            .try_init();
    } else if has("levelfilter") {
        let _ = tracing_subscriber::fmt()
            .json()
            .with_max_level(LevelFilter::from_str(&level).unwrap_or(LevelFilter::INFO))
            .with_target(false)
            .with_current_span(false)
            .try_init();
    }
    let mut clients = None;
    if has("sdk") {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .operation_attempt_timeout(Duration::from_secs(5))
                    .build(),
            )
            .load()
            .await;
        clients = Some((aws_sdk_dynamodb::Client::new(&sdk), aws_sdk_secretsmanager::Client::new(&sdk)));
    }
    let http = has("reqwest").then(|| reqwest::Client::builder().build());
    let (clients, http) = (&clients, &http);
    run(service_fn(move |_event: Request| async move {
        let _ = (clients, http);
        Ok::<_, Error>(Response::builder().status(200).body(Body::from("Hello world"))?)
    }))
    .await
}
