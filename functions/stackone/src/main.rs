//! The `stackone-credential-link` Lambda: build the dependencies once, then serve the routes and
//! the scheduled sweep of due account syncs.
use hirebridge::config::Config;
use hirebridge::outbound::RetryPolicy;
use hirebridge::platform::Platform;
use stackone::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hirebridge::logging::init();
    let platform = Platform::aws(Config::from_env()?, RetryPolicy::default()).await?;
    let deps = Deps::new(platform);
    let deps = &deps;
    hirebridge::lambda::run_with_schedule(|req| stackone::handle(deps, req), || stackone::sweep(deps)).await
}
