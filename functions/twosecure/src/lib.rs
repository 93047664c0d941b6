//! 2Secure background checks (docs/routes.md): activation with the customer's 2Secure API key, the
//! trigger form, orders placed from the candidate's Personnummer on the shared trigger pipeline,
//! signed callbacks and the status poll. Two Lambdas: `twosecure-order` ([`handle_order`], with
//! [`sweep`] on its schedule) and `twosecure-status` ([`handle_status`], with [`poll`]).
mod activation;
pub mod api;
mod candidate;
pub mod files;
pub mod lifecycle;
pub mod order;
pub mod personnummer;
pub mod seal;
pub mod status;
pub mod store;

use hirebridge::admin::sha256_hex;
use hirebridge::error::Style;
use hirebridge::platform::Platform;
use hirebridge::routes::{self, Access, Route};
use hirebridge::web::{Request, Response};
use hirebridge::SecretString;
use http::Method;
use serde::Deserialize;

use crate::api::TwoSecureApi;
use crate::files::{FileHosts, Files};
pub(crate) use activation::authenticate;
pub use activation::{activation, config, validate};
pub use status::{poll, sign, PollReport};

pub struct Deps {
    pub platform: Platform,
    pub twosecure: TwoSecureApi,
    /// The candidates' files: from Teamtailor's file hosts only, within limits.
    pub files: Files,
}

impl Deps {
    pub fn new(platform: Platform) -> Self {
        let twosecure = TwoSecureApi::new(platform.http.clone(), &platform.config.twosecure_api_url);
        let files = Files::new(platform.http.policy(), FileHosts::from_env(&platform.config));
        Deps { platform, twosecure, files }
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
    Route {
        method: Method::GET,
        path: "/2secure/work",
        function: "twosecure-order",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, _| Box::pin(hirebridge::trigger::list(d, r)),
    },
    Route {
        method: Method::POST,
        path: "/2secure/work/{id}/retry",
        function: "twosecure-order",
        access: Access::Admin,
        style: Style::Problem,
        handler: |d, r, p| Box::pin(hirebridge::trigger::retry(d, r, p.get(0))),
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

/// `twosecure-order`: activation, validation, the trigger form, the trigger webhook, and the
/// operator's view of its work.
pub async fn handle_order(deps: &Deps, req: Request) -> Response {
    routes::dispatch(ORDER_ROUTES, deps, req).await
}

/// `twosecure-status`: 2Secure's signed callback.
pub async fn handle_status(deps: &Deps, req: Request) -> Response {
    routes::dispatch(STATUS_ROUTES, deps, req).await
}

/// `twosecure-order`'s scheduled run (EventBridge, every 5 minutes): the triggers that are due
/// again, and every 2Secure card update that did not reach Teamtailor.
pub async fn sweep(deps: &Deps) -> serde_json::Value {
    hirebridge::lambda::report(hirebridge::trigger::sweep(deps).await)
}

/// `twosecure-status`'s scheduled run: the poll of the orders whose look is due.
pub async fn status_sweep(deps: &Deps) -> serde_json::Value {
    hirebridge::lambda::report(poll(deps).await)
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

/// `tenant/2secure/{tenant}`: what retries, the status poll and the move need later, without a
/// request to read it from.
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

/// `text` with every run of three or more digits replaced by `…`: text from outside (2Secure's
/// error codes, file names) may quote a personnummer.
pub fn redacted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() >= 3 { "…" } else { &run });
        run.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs_are_redacted() {
        assert_eq!(redacted("CV 19811218-9876 v2.pdf"), "CV …-… v2.pdf");
        assert_eq!(redacted("invalid_pn_198112189876"), "invalid_pn_…");
        assert_eq!(redacted("12 ab"), "12 ab");
    }
}
