//! The `stackone-credential-link` Lambda: its dependencies built once, then its routes. It has no
//! scheduled run: StackOne's Hub links the account and StackOne's webhooks report it, so nothing
//! of this function's is ever due.
use hirebridge::outbound::RetryPolicy;
use hirebridge::platform::Platform;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hirebridge::logging::init();
    let config = hirebridge::config::Config::from_env()?;
    let platform = Platform::aws(config, RetryPolicy::default()).await?;
    let deps = stackone::Deps::new(platform);
    let deps = &deps;
    hirebridge::lambda::run(|req| stackone::handle(deps, req)).await
}
