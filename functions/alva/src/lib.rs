//! Alva Labs assessments (docs/routes.md): the customer connects Teamtailor to an Alva company with
//! Teamtailor's partner key, adds Read Write Admin accounts, may switch on hiring-team sync; a
//! trigger invites the candidate to a test profile; Alva's results come back to the card.
pub mod alva;
mod companies;
mod hiring_team;
pub mod results;
pub mod store;
pub mod trigger;

use hirebridge::error::Style;
use hirebridge::platform::Platform;
use hirebridge::routes::{self, Access, Route};
use hirebridge::teamtailor::activations::Activations;
use hirebridge::web::{Request, Response};
use http::Method;

pub use alva::AlvaApi;

pub const INTEGRATION: &str = "alva";
pub const VENDOR_SECRET: &str = "vendor/alva";

/// `vendor/alva`.
pub type VendorSecret = hirebridge::secrets::VendorKeys;

pub struct Deps {
    pub platform: Platform,
    pub alva: AlvaApi,
    /// The listing's activations learnt so far (UUID provider keys).
    pub activations: Activations,
}

impl Deps {
    pub fn new(platform: Platform) -> Self {
        let alva = AlvaApi::new(platform.http.clone(), &platform.config.alva_api_url);
        Deps { platform, alva, activations: Activations::new() }
    }
}

/// Every route of this integration, once: the router, the local runner and the template test read it.
pub static ROUTES: &[Route<Deps>] = &[
    Route {
        method: Method::POST,
        path: "/alva/webhook",
        function: "alva-activation",
        access: Access::Teamtailor,
        style: Style::PlainText,
        handler: |d, r, _| Box::pin(trigger::webhook(d, r)),
    },
    Route {
        method: Method::GET,
        path: "/alva/config",
        function: "alva-activation",
        access: Access::Teamtailor,
        style: Style::Form,
        handler: |d, r, _| Box::pin(trigger::config(d, r)),
    },
    Route {
        method: Method::POST,
        path: "/alva/events",
        function: "alva-activation",
        access: Access::Vendor,
        style: Style::Problem,
        handler: |d, r, _| Box::pin(results::events(d, r)),
    },
    Route {
        method: Method::POST,
        path: "/alva/companies/{id}/teamtailor",
        function: "alva-activation",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(companies::connect(d, r, p.get(0))),
    },
    Route {
        method: Method::POST,
        path: "/alva/companies/{id}/teamtailor/accounts",
        function: "alva-activation",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(companies::add_account(d, r, p.get(0))),
    },
    Route {
        method: Method::GET,
        path: "/alva/companies/{id}/teamtailor/accounts",
        function: "alva-activation",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(companies::list_accounts(d, r, p.get(0))),
    },
    Route {
        method: Method::DELETE,
        path: "/alva/companies/{id}/teamtailor/accounts/{account}",
        function: "alva-activation",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(companies::remove_account(d, r, p.get(0), p.get(1))),
    },
    Route {
        method: Method::PUT,
        path: "/alva/companies/{id}/teamtailor/settings",
        function: "alva-activation",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(companies::settings(d, r, p.get(0))),
    },
    Route {
        method: Method::GET,
        path: "/alva/work",
        function: "alva-activation",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, _| Box::pin(hirebridge::trigger::list(d, r)),
    },
    Route {
        method: Method::POST,
        path: "/alva/work/{id}/retry",
        function: "alva-activation",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(hirebridge::trigger::retry(d, r, p.get(0))),
    },
];

/// The scheduled run (EventBridge, every 5 minutes): the due work, undelivered cards, and the
/// hiring team's access that Alva did not confirm.
pub async fn sweep(deps: &Deps) -> serde_json::Value {
    let mut report = hirebridge::lambda::report(hirebridge::trigger::sweep(deps).await);
    report["grants"] = hirebridge::lambda::report(hiring_team::sweep(deps).await);
    report
}

pub async fn handle(deps: &Deps, req: Request) -> Response {
    routes::dispatch(ROUTES, deps, req).await
}
