//! 2Secure background checks (SPEC §5.3): activation with the customer's 2Secure API key, the
//! trigger form, orders placed from the candidate's Personnummer, signed callbacks and the status
//! poll. Two Lambdas: `twosecure-order` ([`handle_order`]) and `twosecure-status` ([`handle_status`]).
mod activation;
pub mod api;
mod order;
pub mod orders;
pub mod personnummer;
pub mod status;

use hirebridge::admin::sha256_hex;
use hirebridge::error::Style;
use hirebridge::platform::Platform;
use hirebridge::routes::{self, Access, Route};
use hirebridge::web::{Request, Response};
use hirebridge::SecretString;
use http::Method;
use serde::Deserialize;

use crate::api::TwoSecureApi;
pub(crate) use activation::authenticate;
pub use activation::{activation, config, validate};
pub use status::{poll, sign};

pub struct Deps {
    pub platform: Platform,
    pub twosecure: TwoSecureApi,
}

impl Deps {
    pub fn new(platform: Platform) -> Self {
        let twosecure = TwoSecureApi::new(platform.http.clone(), &platform.config.twosecure_api_url);
        Deps { platform, twosecure }
    }
}

/// Every route of `twosecure-order`, once.
pub static ORDER_ROUTES: &[Route<Deps>] = &[
    Route {
        method: Method::POST,
        path: "/2secure/webhook",
        function: "twosecure-order",
        access: Access::Teamtailor,
        style: Style::PlainText,
        handler: |d, r, _| Box::pin(order::webhook(d, r)),
    },
    Route {
        method: Method::GET,
        path: "/2secure/config",
        function: "twosecure-order",
        access: Access::Teamtailor,
        style: Style::Form,
        handler: |d, r, _| Box::pin(config(d, r)),
    },
    Route {
        method: Method::GET,
        path: "/2secure/activation",
        function: "twosecure-order",
        access: Access::Public,
        style: Style::Form,
        handler: |_, _, _| Box::pin(async { Ok(activation()) }),
    },
    Route {
        method: Method::GET,
        path: "/2secure/validate",
        function: "twosecure-order",
        access: Access::Teamtailor,
        style: Style::Errors,
        handler: |d, r, _| Box::pin(validate(d, r)),
    },
];

/// Every route of `twosecure-status` (it also runs the scheduled poll).
pub static STATUS_ROUTES: &[Route<Deps>] = &[Route {
    method: Method::POST,
    path: "/2secure/callback",
    function: "twosecure-status",
    access: Access::Vendor,
    style: Style::Problem,
    handler: |d, r, _| Box::pin(status::callback(d, r)),
}];

/// `twosecure-order`: activation, validation, the trigger form and the trigger webhook.
pub async fn handle_order(deps: &Deps, req: Request) -> Response {
    routes::dispatch(ORDER_ROUTES, deps, req).await
}

/// `twosecure-status`: 2Secure's signed callback.
pub async fn handle_status(deps: &Deps, req: Request) -> Response {
    routes::dispatch(STATUS_ROUTES, deps, req).await
}
pub const INTEGRATION: &str = "2secure";

/// A tenant is identified by its 2Secure API key's hash (the key arrives in the provider key);
/// the key itself is kept only in Secrets Manager.
pub fn tenant_id(api_key: &SecretString) -> String {
    sha256_hex(api_key.expose())[..32].to_owned()
}

pub fn tenant_secret_name(tenant: &str) -> String {
    format!("tenant/2secure/{tenant}")
}

/// `tenant/2secure/{tenant}`: what the status poll needs later, without a request to read it from.
#[derive(Deserialize)]
pub struct TenantSecret {
    pub api_key: SecretString,
    #[serde(default)]
    pub teamtailor_api_token: Option<SecretString>,
}

/// `vendor/2secure`.
#[derive(Deserialize)]
pub struct VendorSecret {
    pub callback_secret: SecretString,
}

pub const VENDOR_SECRET: &str = "vendor/2secure";
