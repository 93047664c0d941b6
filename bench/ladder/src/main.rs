//! The floor, plus the steps of a hirebridge function's init that `BENCH_LADDER` names
//! (comma-separated, in this order):
//! - `envfilter`: JSON logs filtered by `tracing_subscriber::EnvFilter` (as shared/src/logging.rs);
//! - `levelfilter`: the same logs filtered by a `LevelFilter` instead (no regex engine);
//! - `sdk`: `aws_config` loaded as `Platform::aws` loads it, and the DynamoDB and Secrets Manager
//!   clients built (no call is made);
//! - `sdkenv`: the same with the region and credentials taken from the environment only (no
//!   default provider chains);
//! - `reqwest`: one `reqwest::Client` built (as shared/src/outbound.rs builds its client).
//!
//! Started in the same rounds as the functions, the difference between two rungs is what a step
//! costs the start.
//!
//! Each invocation then makes `BENCH_LADDER_DYNAMODB` DynamoDB `GetItem` calls (table
//! `TABLE_NAME`, through `AWS_ENDPOINT_URL`) and `BENCH_LADDER_HTTP` GETs of `BENCH_LADDER_URL`,
//! one after the other: their CPU per warm invocation, less the floor's, is what one such call
//! costs a function.
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
    if has("sdk") || has("sdkenv") {
        // Over hirebridge's HTTP client (the SDK's default one is not built in).
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(hirebridge::aws_http::http_client());
        if has("sdkenv") {
            // Lambda's own: region and the execution role's credentials from the environment,
            // without the default chains (profile files, SSO, STS web identity, ECS, IMDS).
            loader = loader
                .region(std::env::var("AWS_REGION").ok().map(aws_config::Region::new))
                .credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new());
        }
        let sdk = loader
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
    let http =
        has("reqwest").then(|| hirebridge::https::client(reqwest::Client::builder())).and_then(Result::ok);
    let count = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    let (ddb_calls, http_calls) = (count("BENCH_LADDER_DYNAMODB"), count("BENCH_LADDER_HTTP"));
    let table = std::env::var("TABLE_NAME").unwrap_or_default();
    let url = std::env::var("BENCH_LADDER_URL").unwrap_or_default();
    let (clients, http, table, url) = (&clients, &http, &table, &url);
    run(service_fn(move |_event: Request| async move {
        if let Some((dynamodb, _)) = clients {
            for _ in 0..ddb_calls {
                let _ = dynamodb
                    .get_item()
                    .table_name(table)
                    .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("BENCH#ladder".into()))
                    .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("NONE".into()))
                    .send()
                    .await;
            }
        }
        if let Some(http) = http {
            for _ in 0..http_calls {
                if let Ok(r) = http.get(url.as_str()).send().await {
                    let _ = r.bytes().await;
                }
            }
        }
        Ok::<_, Error>(Response::builder().status(200).body(Body::from("Hello world"))?)
    }))
    .await
}
