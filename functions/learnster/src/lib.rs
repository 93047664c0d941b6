//! Learnster onboarding (docs/routes.md): an admin switches the integration on and gets a Secret Token;
//! the customer pastes it into Learnster's activation in Teamtailor; a trigger on Offered or Hired
//! creates one Learnster student per candidate and adds the enabled `tt_*` tags.
pub mod api;
pub mod integrations;
pub mod store;
pub mod trigger;

use hirebridge::error::Style;
use hirebridge::platform::Platform;
use hirebridge::routes::{self, Access, Route};
use hirebridge::web::{Request, Response};
use http::Method;

pub use api::LearnsterApi;

/// The scope of this integration's events, secrets and items.
pub const INTEGRATION: &str = "learnster";

pub struct Deps {
    pub platform: Platform,
    pub learnster: LearnsterApi,
}

impl Deps {
    pub fn new(platform: Platform) -> Self {
        let learnster = LearnsterApi::new(platform.http.clone(), &platform.config.learnster_api_url);
        Deps { platform, learnster }
    }
}

/// Every route of this integration, once: the router, the local runner and the template test read it.
pub static ROUTES: &[Route<Deps>] = &[
    Route {
        method: Method::POST,
        path: "/learnster/webhook",
        function: "learnster-webhook",
        access: Access::Teamtailor,
        style: Style::PlainText,
        handler: |d, r, _| Box::pin(trigger::webhook(d, r)),
    },
    Route {
        method: Method::GET,
        path: "/learnster/config",
        function: "learnster-webhook",
        access: Access::Teamtailor,
        style: Style::Form,
        handler: |d, r, _| Box::pin(trigger::config(d, r)),
    },
    Route {
        method: Method::GET,
        path: "/learnster/activation",
        function: "learnster-webhook",
        access: Access::Public,
        style: Style::Form,
        handler: |_, _, _| Box::pin(async { Ok(trigger::activation()) }),
    },
    Route {
        method: Method::GET,
        path: "/learnster/validate",
        function: "learnster-webhook",
        access: Access::Teamtailor,
        style: Style::Errors,
        handler: |d, r, _| Box::pin(trigger::validate(d, r)),
    },
    Route {
        method: Method::POST,
        path: "/learnster/integrations",
        function: "learnster-webhook",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, _| Box::pin(integrations::create(d, r)),
    },
    Route {
        method: Method::GET,
        path: "/learnster/integrations/{id}",
        function: "learnster-webhook",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(integrations::show(d, r, p.get(0))),
    },
    Route {
        method: Method::PUT,
        path: "/learnster/integrations/{id}",
        function: "learnster-webhook",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(integrations::update(d, r, p.get(0))),
    },
    Route {
        method: Method::DELETE,
        path: "/learnster/integrations/{id}",
        function: "learnster-webhook",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(integrations::switch_off(d, r, p.get(0))),
    },
    Route {
        method: Method::GET,
        path: "/learnster/integrations/{id}/events",
        function: "learnster-webhook",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(trigger::failed_events(d, r, p.get(0))),
    },
    Route {
        method: Method::POST,
        path: "/learnster/integrations/{id}/events/{event_id}/retry",
        function: "learnster-webhook",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(trigger::retry(d, r, p.get(0), p.get(1))),
    },
    Route {
        method: Method::GET,
        path: "/learnster/work",
        function: "learnster-webhook",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, _| Box::pin(hirebridge::trigger::list(d, r)),
    },
    Route {
        method: Method::POST,
        path: "/learnster/work/{id}/retry",
        function: "learnster-webhook",
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
