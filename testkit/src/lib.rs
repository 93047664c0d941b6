//! The outside world, faked: Teamtailor and the five services over HTTP ([`sandbox`], one module
//! per service), and Teamtailor's side of the partner protocol ([`driver`]: provider keys, signed
//! webhooks). Used by the dev runner, the demo and the integration tests.
//!
//! | module | fakes | under `/_sandbox` |
//! |---|---|---|
//! | [`teamtailor`] | Teamtailor's public API (JSON:API) and signed file URLs | `/teamtailor/v1/...`, `/teamtailor/files/...` |
//! | [`partner`] | Teamtailor's partner API: partner results, partner activations | `/teamtailor/partner/v1/...` |
//! | [`learnster`] | Learnster's public API v1 | `/learnster/{space}/api/public/v1/...` |
//! | [`alva`] | Alva Labs (docs/contracts.md) | `/alva/...` |
//! | [`twosecure`] | 2Secure (docs/contracts.md) | `/2secure/...` |
//! | [`sparkhire`] | Spark Hire | `/sparkhire/...` |
//! | [`stackone`] | StackOne's accounts API | `/stackone/...` |
//! | [`common`] | the record of requests, faults, idempotent replays | `/control/...` |
// The fakes' checks answer `Result<_, Response>`: the refusal is the response itself.
#![allow(clippy::result_large_err)]

pub mod alva;
pub mod common;
pub mod differs;
pub mod driver;
mod jsonapi;
pub mod learnster;
pub mod partner;
pub mod sandbox;
pub mod sparkhire;
pub mod stackone;
pub mod teamtailor;
pub mod twosecure;

use axum::Router;

pub use sandbox::Sandbox;

/// Only the fakes, under `/_sandbox` (the tests' stand-in for the outside services).
pub fn router(sandbox: &Sandbox) -> Router {
    Router::new().nest("/_sandbox", sandbox.router())
}

/// The fakes on their own loopback port, taking unregistered identities to exist
/// ([`Sandbox::new`]); answers their base URL (`…/_sandbox` is under it).
pub async fn spawn() -> (Sandbox, String) {
    serve(Sandbox::new()).await
}

/// The fakes on their own loopback port, knowing only the keys, listings and partner results
/// registered with them ([`Sandbox::refusing_unregistered`]), as the real services do; answers
/// their base URL.
pub async fn spawn_strict() -> (Sandbox, String) {
    serve(Sandbox::refusing_unregistered()).await
}

async fn serve(sandbox: Sandbox) -> (Sandbox, String) {
    let app = router(&sandbox);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (sandbox, url)
}
