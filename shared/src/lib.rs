//! hirebridge's common library. Every Lambda composes these parts; none re-writes them.
//!
//! - [`config`]: the environment (docs/reference.md)
//! - [`error`] and [`web`]: one error type, turned into HTTP answers in one place (docs/routes.md)
//! - [`secret`]: values whose `Debug`/`Display` never show what they hold
//! - [`outbound`]: the one outbound HTTP policy (timeouts, retries, backoff, `429`)
//! - [`https`], [`aws_http`]: one TLS set-up (compiled-in roots) and one HTTP stack for every call out
//! - [`store`], [`secrets`], [`idempotency`]: storage and secrets ports with AWS and in-memory adapters
//! - [`teamtailor`]: the partner protocol inbound, partner results and the public API outbound
//! - [`admin`]: operator (admin) authentication
//! - [`platform`]: the dependencies a Lambda builds once per cold start
pub mod admin;
pub mod aws_http;
pub mod body_signature;
pub mod cards;
pub mod claim;
pub mod clock;
pub mod config;
pub mod error;
pub mod https;
pub mod idempotency;
pub mod keys;
pub mod lambda;
pub mod logging;
pub mod outbound;
pub mod platform;
pub mod routes;
pub mod sealed;
pub mod secret;
pub mod secrets;
pub mod store;
pub mod teamtailor;
pub mod tickets;
pub mod timestamped;
pub mod trigger;
pub mod vendor_event;
pub mod web;

pub use error::AppError;
pub use secret::{Secret, SecretString};
