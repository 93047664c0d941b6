//! Spark Hire video interviews (SPEC §5.4): each recruiter connects their own Spark Hire User API
//! Key (a connect page reached from the trigger form, or an admin route); a trigger creates the
//! interview with the triggering recruiter's key, creating the Spark Hire job once per
//! Teamtailor job when asked; Spark Hire's events bring the result back to the card.
mod connect;
mod events;
mod page;
pub mod sparkhire;
mod trigger;

use hirebridge::error::Style;
use hirebridge::platform::Platform;
use hirebridge::teamtailor::activations::Activations;
use hirebridge::web::{self, Request, Response};
use hirebridge::AppError;
use http::Method;

pub use events::{webhook_credentials, EVENTS_USERNAME};
pub use sparkhire::SparkHireApi;

pub const INTEGRATION: &str = "sparkhire";
pub const TICKET_PURPOSE: &str = "sparkhire-connect";

pub struct Deps {
    pub platform: Platform,
    pub sparkhire: SparkHireApi,
    pub activations: Activations,
}

impl Deps {
    pub fn new(platform: Platform) -> Self {
        let sparkhire = SparkHireApi::new(platform.http.clone(), &platform.config.sparkhire_api_url);
        Deps { platform, sparkhire, activations: Activations::new() }
    }
}

pub async fn handle(deps: &Deps, req: Request) -> Response {
    let path: Vec<String> = web::segments(&req).into_iter().map(str::to_owned).collect();
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let (style, result) = match (req.method(), path.as_slice()) {
        (&Method::GET, ["sparkhire", "config"]) => (Style::Form, trigger::config(deps, &req).await),
        (&Method::POST, ["sparkhire", "webhook"]) => (Style::PlainText, trigger::webhook(deps, &req).await),
        (&Method::GET, ["sparkhire", "connect"]) => (Style::Html, connect::page(deps, &req).await),
        (&Method::POST, ["sparkhire", "connect"]) => (Style::Html, connect::submit(deps, &req).await),
        (&Method::PUT, ["sparkhire", "users", user, "key"]) => {
            (Style::Problem, connect::put_key(deps, &req, user).await)
        }
        (&Method::DELETE, ["sparkhire", "users", user, "key"]) => {
            (Style::Problem, connect::delete_key(deps, &req, user).await)
        }
        (&Method::POST, ["sparkhire", "events"]) => (Style::Problem, events::events(deps, &req).await),
        _ => (
            Style::Problem,
            Err(AppError::not_found(format!("no route {} {}", req.method(), req.uri().path()))),
        ),
    };
    result.unwrap_or_else(|e| e.into_response(style))
}
