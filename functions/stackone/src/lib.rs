//! StackOne credential linking (SPEC §5.5): an operator opens a link session for an origin owner;
//! the customer fills in the Link Account page; the credentials are checked field by field,
//! kept in Secrets Manager only, and the owner's StackOne linked account is created or updated as
//! durable work (retried by the scheduled sweep when StackOne is down).
mod credentials;
mod events;
mod link;
mod page;
pub mod stackone;
pub mod store;
pub mod totp;
pub mod work;

use hirebridge::error::Style;
use hirebridge::platform::Platform;
use hirebridge::routes::{self, Access, Route};
use hirebridge::web::{Request, Response};
use http::Method;

pub use stackone::StackOneApi;

/// The scope of this integration's admin tokens, work items and audit records.
pub const INTEGRATION: &str = "stackone";
pub const VENDOR_SECRET: &str = "vendor/stackone";
pub const TICKET_PURPOSE: &str = "stackone-link";

/// `vendor/stackone`.
pub type VendorSecret = hirebridge::secrets::VendorKeys;

pub struct Deps {
    pub platform: Platform,
    pub stackone: StackOneApi,
}

impl Deps {
    pub fn new(platform: Platform) -> Self {
        let stackone = StackOneApi::new(platform.http.clone(), &platform.config.stackone_api_url);
        Deps { platform, stackone }
    }
}

/// Every route of this integration, once: the router, the local runner and the template test read it.
pub static ROUTES: &[Route<Deps>] = &[
    Route {
        method: Method::POST,
        path: "/stackone/link-sessions",
        function: "stackone-credential-link",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, _| Box::pin(link::create_session(d, r)),
    },
    Route {
        method: Method::GET,
        path: "/stackone/link",
        function: "stackone-credential-link",
        access: Access::Ticket,
        style: Style::Html,
        handler: |d, r, _| Box::pin(link::show(d, r)),
    },
    Route {
        method: Method::POST,
        path: "/stackone/link",
        function: "stackone-credential-link",
        access: Access::Ticket,
        style: Style::Html,
        handler: |d, r, _| Box::pin(link::submit(d, r)),
    },
    Route {
        method: Method::GET,
        path: "/stackone/links/{owner}",
        function: "stackone-credential-link",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(link::status(d, r, p.get(0))),
    },
    Route {
        method: Method::POST,
        path: "/stackone/events",
        function: "stackone-credential-link",
        access: Access::Vendor,
        style: Style::Problem,
        handler: |d, r, _| Box::pin(events::receive(d, r)),
    },
    Route {
        method: Method::GET,
        path: "/stackone/work",
        function: "stackone-credential-link",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, _| Box::pin(work::list(d, r)),
    },
    Route {
        method: Method::POST,
        path: "/stackone/work/{id}/retry",
        function: "stackone-credential-link",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(work::retry(d, r, p.get(0))),
    },
];

/// The scheduled run (EventBridge, every 5 minutes): account syncs that are due again.
pub async fn sweep(deps: &Deps) -> serde_json::Value {
    hirebridge::lambda::report(work::sweep(deps).await)
}

pub async fn handle(deps: &Deps, req: Request) -> Response {
    routes::dispatch(ROUTES, deps, req).await
}
