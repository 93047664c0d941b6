//! StackOne linking, as StackOne publishes it. StackOne's own Hub takes the customer's Teamtailor
//! credentials and creates (or re-links) the linked account; StackOne's API has no call that
//! creates an account from credentials (`StackOneHQ/stackone-client-typescript`,
//! `docs/sdks/accounts/README.md` at fd6727ef5f3d49ae081cba729716aa1a42c7218e: list, get, update,
//! delete, no create). hirebridge's part is everything around the Hub:
//!
//! - an operator opens a link session ([`session`]): a StackOne connect session for the owner,
//!   handed to the customer as a signed link to hirebridge's page;
//! - the customer's page ([`page`], [`check`]): how to prepare, an optional check of what was
//!   prepared (nothing entered is stored or logged), and the hand-off to the Hub;
//! - StackOne's account webhooks ([`events`]) are the truth about the link, which operators read
//!   back ([`session::status`]).
//!
//! hirebridge stores no Teamtailor credential for StackOne.
mod check;
mod events;
mod page;
pub mod seal;
mod session;
pub mod signature;
pub mod stackone;
pub mod store;
pub mod totp;

use hirebridge::error::Style;
use hirebridge::platform::Platform;
use hirebridge::routes::{self, Access, Route};
use hirebridge::web::{Request, Response};
use http::Method;

pub use stackone::StackOneApi;

/// The scope of this integration's admin tokens and audit records.
pub const INTEGRATION: &str = "stackone";
pub const VENDOR_SECRET: &str = "vendor/stackone";
pub const TICKET_PURPOSE: &str = "stackone-link";

/// `vendor/stackone`: hirebridge's StackOne API key and the signing secret of its webhook.
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
        handler: |d, r, _| Box::pin(session::create(d, r)),
    },
    Route {
        method: Method::GET,
        path: "/stackone/link",
        function: "stackone-credential-link",
        access: Access::Ticket,
        style: Style::Html,
        handler: |d, r, _| Box::pin(check::show(d, r)),
    },
    Route {
        method: Method::POST,
        path: "/stackone/link",
        function: "stackone-credential-link",
        access: Access::Ticket,
        style: Style::Html,
        handler: |d, r, _| Box::pin(check::submit(d, r)),
    },
    Route {
        method: Method::GET,
        path: "/stackone/links/{owner}",
        function: "stackone-credential-link",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(session::status(d, r, p.get(0))),
    },
    Route {
        method: Method::POST,
        path: "/stackone/events",
        function: "stackone-credential-link",
        access: Access::Vendor,
        style: Style::Problem,
        handler: |d, r, _| Box::pin(events::receive(d, r)),
    },
];

pub async fn handle(deps: &Deps, req: Request) -> Response {
    routes::dispatch(ROUTES, deps, req).await
}
