//! The outside world, faked: Teamtailor and the five services over HTTP ([`sandbox`]), and
//! Teamtailor's side of the partner protocol ([`driver`]: provider keys, signed webhooks).
//! Used by the dev runner, the demo and the integration tests.
pub mod driver;
pub mod sandbox;

use axum::Router;

pub use sandbox::Sandbox;

/// Only the fakes, under `/_sandbox` (the tests' stand-in for the outside services).
pub fn router(sandbox: &Sandbox) -> Router {
    Router::new().nest("/_sandbox", sandbox.router())
}

/// The fakes on their own loopback port; answers their base URL (`…/_sandbox` is under it).
pub async fn spawn() -> (Sandbox, String) {
    let sandbox = Sandbox::new();
    let app = router(&sandbox);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (sandbox, url)
}
