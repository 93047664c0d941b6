//! The `learnster-webhook` Lambda: build the dependencies once, then serve the routes and
//! the scheduled sweep of due work.
use hirebridge::config::Config;
use hirebridge::outbound::RetryPolicy;
use hirebridge::platform::Platform;
use learnster::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hirebridge::logging::init();
    let config = Config::from_env()?;
    let platform = Platform::aws(config, RetryPolicy::default()).await?;
    let deps = Deps::new(platform);
    let deps = &deps;
    hirebridge::lambda::run_with_schedule(|req| learnster::handle(deps, req), || learnster::sweep(deps)).await
}
