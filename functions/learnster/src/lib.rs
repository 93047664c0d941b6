//! Learnster onboarding (SPEC §5.2): an admin switches the integration on and gets a Secret Token;
//! the customer pastes it into Learnster's activation in Teamtailor; a trigger on Offered or Hired
//! creates one Learnster student per candidate and adds the enabled `tt_*` tags.
pub mod api;
pub mod integrations;
pub mod trigger;

use hirebridge::error::{AppResult, Style};
use hirebridge::platform::Platform;
use hirebridge::web::{self, Request, Response};
use hirebridge::AppError;
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

/// Every `/learnster/*` route. Errors become answers here, in the style the caller expects.
pub async fn handle(deps: &Deps, req: Request) -> Response {
    let method = req.method().clone();
    let segments: Vec<String> = web::segments(&req).into_iter().map(str::to_owned).collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (style, result): (Style, AppResult<Response>) = match (&method, segs.as_slice()) {
        (&Method::POST, ["learnster", "webhook"]) => (Style::PlainText, trigger::webhook(deps, &req).await),
        (&Method::GET, ["learnster", "config"]) => (Style::Form, trigger::config(deps, &req).await),
        (&Method::GET, ["learnster", "activation"]) => (Style::Form, Ok(trigger::activation())),
        (&Method::GET, ["learnster", "validate"]) => (Style::Errors, trigger::validate(deps, &req).await),
        (&Method::POST, ["learnster", "integrations"]) => {
            (Style::Problem, integrations::create(deps, &req).await)
        }
        (&Method::GET, ["learnster", "integrations", id]) => {
            (Style::Problem, integrations::show(deps, &req, id).await)
        }
        (&Method::PUT, ["learnster", "integrations", id]) => {
            (Style::Problem, integrations::update(deps, &req, id).await)
        }
        (&Method::DELETE, ["learnster", "integrations", id]) => {
            (Style::Problem, integrations::switch_off(deps, &req, id).await)
        }
        (&Method::GET, ["learnster", "integrations", id, "events"]) => {
            (Style::Problem, trigger::failed_events(deps, &req, id).await)
        }
        (&Method::POST, ["learnster", "integrations", id, "events", event_id, "retry"]) => {
            (Style::Problem, trigger::retry(deps, &req, id, event_id).await)
        }
        (_, ["learnster", ..]) => {
            (Style::Problem, Err(AppError::not_found(format!("no route {method} {}", req.uri().path()))))
        }
        _ => (Style::Problem, Err(AppError::not_found("not a Learnster route"))),
    };
    result.unwrap_or_else(|e| e.into_response(style))
}
