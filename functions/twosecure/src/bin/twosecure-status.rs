//! The `twosecure-status` Lambda: API Gateway calls (the callback) and EventBridge's schedule
//! (the poll) arrive at the same function.
use hirebridge::config::Config;
use hirebridge::outbound::RetryPolicy;
use hirebridge::platform::Platform;
use twosecure::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hirebridge::logging::init();
    let platform = Platform::aws(Config::from_env()?, RetryPolicy::default()).await?;
    let deps = Deps::new(platform);
    let deps = &deps;
    hirebridge::lambda::run_with_schedule(
        |req| twosecure::handle_status(deps, req),
        || twosecure::status_sweep(deps),
    )
    .await
}
