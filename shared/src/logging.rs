//! Logging: JSON lines through `tracing`, the level from Lambda's log-level variables
//! (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `info`). Secret-bearing values are wrapped in
//! [`crate::Secret`], whose `Debug`/`Display` are redacted, so logging them shows nothing.
//! A plain level filter, not `EnvFilter`: it needs no regex engine (smaller binary) and Lambda's
//! log levels are plain levels.
use tracing_subscriber::filter::LevelFilter;

/// The level named by `value` (`TRACE` … `ERROR`, Lambda's `FATAL` as `ERROR`), else `INFO`.
pub fn level(value: &str) -> LevelFilter {
    match value.trim().to_ascii_lowercase().as_str() {
        "fatal" => LevelFilter::ERROR,
        "trace" => LevelFilter::TRACE,
        "debug" => LevelFilter::DEBUG,
        "warn" => LevelFilter::WARN,
        "error" => LevelFilter::ERROR,
        "off" => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    }
}

pub fn init() {
    let value =
        std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_default();
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(level(&value))
        .with_target(false)
        .with_current_span(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_and_rust_log_levels_are_read_and_anything_else_means_info() {
        assert_eq!(level("DEBUG"), LevelFilter::DEBUG);
        assert_eq!(level("fatal"), LevelFilter::ERROR);
        assert_eq!(level("warn"), LevelFilter::WARN);
        assert_eq!(level("info,hirebridge=trace"), LevelFilter::INFO);
        assert_eq!(level(""), LevelFilter::INFO);
    }
}
