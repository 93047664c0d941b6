//! StackOne credential linking (SPEC §5.5): an operator opens a link session for an origin owner;
//! the customer fills in the Link Account page; the credentials are checked field by field,
//! kept in Secrets Manager only, and the owner's StackOne linked account is created or updated.
mod link;
mod page;
pub mod stackone;
pub mod totp;

use hirebridge::error::Style;
use hirebridge::platform::Platform;
use hirebridge::web::{self, Request, Response};
use hirebridge::AppError;
use http::Method;
use serde::Deserialize;

pub use stackone::StackOneApi;

pub const VENDOR_SECRET: &str = "vendor/stackone";
pub const TICKET_PURPOSE: &str = "stackone-link";

/// `vendor/stackone`.
#[derive(Deserialize)]
pub struct VendorSecret {
    pub api_key: hirebridge::SecretString,
    pub webhook_secret: hirebridge::SecretString,
}

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

pub async fn handle(deps: &Deps, req: Request) -> Response {
    let path: Vec<String> = web::segments(&req).into_iter().map(str::to_owned).collect();
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let (style, result) = match (req.method(), path.as_slice()) {
        (&Method::POST, ["stackone", "link-sessions"]) => {
            (Style::Problem, link::create_session(deps, &req).await)
        }
        (&Method::GET, ["stackone", "link"]) => (Style::Html, link::show(deps, &req).await),
        (&Method::POST, ["stackone", "link"]) => (Style::Html, link::submit(deps, &req).await),
        (&Method::GET, ["stackone", "links", owner]) => {
            (Style::Problem, link::status(deps, &req, owner).await)
        }
        (&Method::POST, ["stackone", "events"]) => (Style::Problem, link::events(deps, &req).await),
        _ => (
            Style::Problem,
            Err(AppError::not_found(format!("no route {} {}", req.method(), req.uri().path()))),
        ),
    };
    result.unwrap_or_else(|e| e.into_response(style))
}
