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
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
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

/// `twosecure-order`: activation, validation, the trigger form and the trigger webhook.
pub async fn handle_order(deps: &Deps, req: Request) -> Response {
    let path: Vec<String> = web::segments(&req).into_iter().map(str::to_owned).collect();
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let (style, result) = match (req.method(), path.as_slice()) {
        (&Method::POST, ["2secure", "webhook"]) => (Style::PlainText, order::webhook(deps, &req).await),
        (&Method::GET, ["2secure", "config"]) => (Style::Form, config(deps, &req).await),
        (&Method::GET, ["2secure", "activation"]) => (Style::Form, Ok(activation())),
        (&Method::GET, ["2secure", "validate"]) => (Style::Errors, validate(deps, &req).await),
        _ => (
            Style::Problem,
            Err(AppError::not_found(format!("no route {} {}", req.method(), req.uri().path()))),
        ),
    };
    result.unwrap_or_else(|e| e.into_response(style))
}

/// `twosecure-status`: 2Secure's signed callback.
pub async fn handle_status(deps: &Deps, req: Request) -> Response {
    let result = match (req.method(), req.uri().path()) {
        (&Method::POST, "/2secure/callback") => status::callback(deps, &req).await,
        _ => Err(AppError::not_found(format!("no route {} {}", req.method(), req.uri().path()))),
    };
    result.unwrap_or_else(|e| e.into_response(Style::Problem))
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
