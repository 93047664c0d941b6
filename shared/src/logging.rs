//! Logging: JSON lines through `tracing`, the level from Lambda's log-level variables
//! (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `info`). Secret-bearing values are wrapped in
//! [`crate::Secret`], whose `Debug`/`Display` are redacted, so logging them shows nothing.
use tracing_subscriber::EnvFilter;

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned())
        .to_ascii_lowercase();
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_target(false)
        .with_current_span(false)
        .try_init();
}
