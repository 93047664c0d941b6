//! Spark Hire video interviews (docs/routes.md): each recruiter connects their own Spark Hire User API
//! Key for their company (a connect page reached from the trigger form, or an admin route); a
//! trigger, on the shared pipeline, creates the interview with the triggering recruiter's key,
//! creating the Spark Hire job once per Teamtailor job when asked; Spark Hire's events, with the
//! company's own credentials, bring the result back to the card.
mod connect;
mod events;
mod page;
mod recruiters;
mod send;
pub mod sparkhire;
pub mod store;
mod trigger;

use std::collections::{HashMap, HashSet};

use hirebridge::error::Style;
use hirebridge::platform::Platform;
use hirebridge::routes::{self, Access, Route};
use hirebridge::teamtailor::activations::Activations;
use hirebridge::web::{Request, Response};
use hirebridge::SecretString;
use http::Method;
use tokio::sync::RwLock;

pub use sparkhire::SparkHireApi;

pub const INTEGRATION: &str = "sparkhire";
pub const TICKET_PURPOSE: &str = "sparkhire-connect";

pub struct Deps {
    pub platform: Platform,
    pub sparkhire: SparkHireApi,
    pub activations: Activations,
    /// Recruiters' keys by versioned secret name (a version never changes).
    keys: RwLock<HashMap<String, SecretString>>,
    /// Recruiters (`{company}.{user}`) whose pre-company key was looked for already.
    legacy_checked: RwLock<HashSet<String>>,
}

impl Deps {
    pub fn new(platform: Platform) -> Self {
        let sparkhire = SparkHireApi::new(platform.http.clone(), &platform.config.sparkhire_api_url);
        Deps {
            platform,
            sparkhire,
            activations: Activations::new(),
            keys: RwLock::default(),
            legacy_checked: RwLock::default(),
        }
    }
}

/// Every route of this integration, once: the router, the local runner and the template test read it.
pub static ROUTES: &[Route<Deps>] = &[
    Route {
        method: Method::GET,
        path: "/sparkhire/config",
        function: "sparkhire-key-exchange",
        access: Access::Teamtailor,
        style: Style::Form,
        handler: |d, r, _| Box::pin(trigger::config(d, r)),
    },
    Route {
        method: Method::POST,
        path: "/sparkhire/webhook",
        function: "sparkhire-key-exchange",
        access: Access::Teamtailor,
        style: Style::PlainText,
        handler: |d, r, _| Box::pin(trigger::webhook(d, r)),
    },
    Route {
        method: Method::GET,
        path: "/sparkhire/connect",
        function: "sparkhire-key-exchange",
        access: Access::Ticket,
        style: Style::Html,
        handler: |d, r, _| Box::pin(connect::page(d, r)),
    },
    Route {
        method: Method::POST,
        path: "/sparkhire/connect",
        function: "sparkhire-key-exchange",
        access: Access::Ticket,
        style: Style::Html,
        handler: |d, r, _| Box::pin(connect::submit(d, r)),
    },
    Route {
        method: Method::PUT,
        path: "/sparkhire/users/{user_id}/key",
        function: "sparkhire-key-exchange",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(connect::put_key(d, r, p.get(0))),
    },
    Route {
        method: Method::DELETE,
        path: "/sparkhire/users/{user_id}/key",
        function: "sparkhire-key-exchange",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(connect::delete_key(d, r, p.get(0))),
    },
    Route {
        method: Method::POST,
        path: "/sparkhire/events",
        function: "sparkhire-key-exchange",
        access: Access::Vendor,
        style: Style::Problem,
        handler: |d, r, _| Box::pin(events::events(d, r)),
    },
    Route {
        method: Method::GET,
        path: "/sparkhire/work",
        function: "sparkhire-key-exchange",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, _| Box::pin(hirebridge::trigger::list(d, r)),
    },
    Route {
        method: Method::POST,
        path: "/sparkhire/work/{id}/retry",
        function: "sparkhire-key-exchange",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(hirebridge::trigger::retry(d, r, p.get(0))),
    },
];

/// The scheduled run (EventBridge, every 5 minutes): the due work and undelivered cards.
pub async fn sweep(deps: &Deps) -> serde_json::Value {
    hirebridge::lambda::report(hirebridge::trigger::sweep(deps).await)
}

pub async fn handle(deps: &Deps, req: Request) -> Response {
    routes::dispatch(ROUTES, deps, req).await
}
