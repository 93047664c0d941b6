//! The `sparkhire-key-exchange` Lambda: build the dependencies once, then serve.
use hirebridge::config::Config;
use hirebridge::outbound::RetryPolicy;
use hirebridge::platform::Platform;
use sparkhire::Deps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hirebridge::logging::init();
    let platform = Platform::aws(Config::from_env()?, RetryPolicy::default()).await?;
    let deps = Deps::new(platform);
    hirebridge::lambda::run(|req| sparkhire::handle(&deps, req)).await
}
