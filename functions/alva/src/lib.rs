//! Alva Labs assessments (SPEC §5.1): the customer connects Teamtailor to an Alva company with
//! Teamtailor's partner key, adds Read Write Admin accounts, may switch on hiring-team sync; a
//! trigger invites the candidate to a test profile; Alva's results come back to the card.
pub mod alva;
mod companies;
pub mod results;
mod trigger;

use hirebridge::error::Style;
use hirebridge::platform::Platform;
use hirebridge::teamtailor::activations::Activations;
use hirebridge::web::{self, Request, Response};
use hirebridge::AppError;
use http::Method;
use serde::Deserialize;

pub use alva::AlvaApi;

pub const INTEGRATION: &str = "alva";
pub const VENDOR_SECRET: &str = "vendor/alva";

/// `vendor/alva`.
#[derive(Deserialize)]
pub struct VendorSecret {
    pub api_key: hirebridge::SecretString,
    pub webhook_secret: hirebridge::SecretString,
}

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

pub async fn handle(deps: &Deps, req: Request) -> Response {
    let path: Vec<String> = web::segments(&req).into_iter().map(str::to_owned).collect();
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let (style, result) = match (req.method(), path.as_slice()) {
        (&Method::POST, ["alva", "webhook"]) => (Style::PlainText, trigger::webhook(deps, &req).await),
        (&Method::GET, ["alva", "config"]) => (Style::Form, trigger::config(deps, &req).await),
        (&Method::POST, ["alva", "events"]) => (Style::Problem, results::events(deps, &req).await),
        (&Method::POST, ["alva", "companies", company, "teamtailor"]) => {
            (Style::Problem, companies::connect(deps, &req, company).await)
        }
        (&Method::POST, ["alva", "companies", company, "teamtailor", "accounts"]) => {
            (Style::Problem, companies::add_account(deps, &req, company).await)
        }
        (&Method::GET, ["alva", "companies", company, "teamtailor", "accounts"]) => {
            (Style::Problem, companies::list_accounts(deps, &req, company).await)
        }
        (&Method::DELETE, ["alva", "companies", company, "teamtailor", "accounts", account]) => {
            (Style::Problem, companies::remove_account(deps, &req, company, account).await)
        }
        (&Method::PUT, ["alva", "companies", company, "teamtailor", "settings"]) => {
            (Style::Problem, companies::settings(deps, &req, company).await)
        }
        _ => (
            Style::Problem,
            Err(AppError::not_found(format!("no route {} {}", req.method(), req.uri().path()))),
        ),
    };
    result.unwrap_or_else(|e| e.into_response(style))
}
