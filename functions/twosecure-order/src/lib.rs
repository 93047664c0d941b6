//! Ordering 2Secure background checks (SPEC §5.3): the activation form with the customer's
//! 2Secure API key, the trigger form, and the trigger webhook that orders the check.
mod order;

use hirebridge::error::{AppResult, Style};
use hirebridge::platform::{Listing, Platform};
use hirebridge::teamtailor::forms::{Field, Form};
use hirebridge::teamtailor::provider_key::{verify_jwt, ProviderKey};
use hirebridge::twosecure::api::TwoSecureApi;
use hirebridge::twosecure::INTEGRATION;
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use http::{Method, StatusCode};
use serde_json::json;

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

pub async fn handle(deps: &Deps, req: Request) -> Response {
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

/// Verifies the provider key (an HS256 JWT of the activation form) and answers the customer's
/// 2Secure API key from it.
pub(crate) async fn authenticate(deps: &Deps, req: &Request) -> AppResult<(Listing, SecretString)> {
    let listing = deps.platform.listing(INTEGRATION).await?;
    let ProviderKey::Jwt(jwt) = ProviderKey::parse(web::bearer(req))? else {
        return Err(AppError::unauthorized(
            "2Secure's activation must carry the 2Secure API key; activate 2Secure in Teamtailor again",
        ));
    };
    let claims = verify_jwt(jwt, &listing.partner_api_key, deps.platform.now_secs())?;
    let api_key = claims.secret("api_key").ok_or_else(|| {
        AppError::unauthorized("the activation has no 2Secure API key; activate 2Secure in Teamtailor again")
    })?;
    Ok((listing, api_key))
}

fn key_refused() -> AppError {
    AppError::unprocessable("2Secure did not accept the API key in the activation. Copy the key again from 2Secure's portal and save the activation.")
}

/// `GET /2secure/activation`.
pub fn activation() -> Response {
    Form::new()
        .infobox("Paste your company's <b>2Secure API key</b>. Candidates need the custom field <b>Personnummer</b> before the check is ordered.", "info")
        .field(Field::password("api_key", "2Secure API key").required())
        .validate_endpoint("validate")
        .into_response()
}

/// `GET /2secure/validate`: checks the key with 2Secure.
pub async fn validate(deps: &Deps, req: &Request) -> AppResult<Response> {
    let (_, api_key) = authenticate(deps, req).await?;
    match deps.twosecure.account(&api_key).await {
        Ok(account) => {
            Ok(web::json(StatusCode::OK, &json!({"valid": true, "company": account.company_name})))
        }
        Err(e) if e.status().is_some_and(|s| s.is_client_error()) => Err(key_refused()),
        Err(e) => Err(AppError::upstream(format!("{e}; try again in a minute"))),
    }
}

/// `GET /2secure/config`: the trigger form.
pub async fn config(deps: &Deps, req: &Request) -> AppResult<Response> {
    let (_, api_key) = authenticate(deps, req).await?;
    let packages = match deps.twosecure.packages(&api_key).await {
        Ok(p) => p,
        Err(e) if e.status().is_some_and(|s| s.is_client_error()) => return Err(key_refused()),
        Err(e) => return Err(AppError::upstream(format!("{e}; open the trigger again in a minute"))),
    };
    let levels: Vec<(String, String)> = packages.into_iter().map(|p| (p.id, p.name)).collect();
    let files = [
        ("resume".to_owned(), "Resume (CV)".to_owned()),
        ("uploads".to_owned(), "Other uploaded files".to_owned()),
    ];
    Ok(Form::new()
        .field(Field::select("level", "Level of the check", &levels).required())
        .field(Field::text("billing_reference", "Billing reference").required())
        .field(Field::email("orderer_email", "Orderer's e-mail").required())
        .field(Field::multiselect("attachments", "Files to send", &files))
        .field(Field::checkbox("auto_move", "Move to the next stage when the check is completed"))
        .into_response())
}
