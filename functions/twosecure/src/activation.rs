//! The activation form with the customer's 2Secure API key, its validation, and the trigger form.

use hirebridge::error::AppResult;
use hirebridge::platform::Listing;
use hirebridge::teamtailor::forms::{Field, Form};
use hirebridge::teamtailor::key_check::{KeyCheck, Probe, Scope};
use hirebridge::teamtailor::provider_key::{verify_jwt, ProviderKey};
use hirebridge::teamtailor::Stack;
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use http::StatusCode;

use crate::{Deps, INTEGRATION};
use serde_json::json;

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
        Err(e) => Err(AppError::upstream(format!("{}; try again in a minute", crate::api::describe(&e)))),
    }
}

/// `GET /2secure/config`: the trigger form.
pub async fn config(deps: &Deps, req: &Request) -> AppResult<Response> {
    let (_, api_key) = authenticate(deps, req).await?;
    let packages = match deps.twosecure.packages(&api_key).await {
        Ok(p) => p,
        Err(e) if e.status().is_some_and(|s| s.is_client_error()) => return Err(key_refused()),
        Err(e) => {
            return Err(AppError::upstream(format!(
                "{}; open the trigger again in a minute",
                crate::api::describe(&e)
            )))
        }
    };
    let levels: Vec<(String, String)> = packages.into_iter().map(|p| (p.id, p.name)).collect();
    let files = [
        ("resume".to_owned(), "Resume (CV)".to_owned()),
        ("uploads".to_owned(), "Other uploaded files".to_owned()),
    ];
    let form = Form::new()
        .field(Field::select("level", "Level of the check", &levels).required())
        .field(Field::text("billing_reference", "Billing reference").required())
        .field(Field::email("orderer_email", "Orderer's e-mail").required())
        .field(Field::multiselect("attachments", "Files to send", &files));
    Ok(auto_move_field(deps, req, form).await.into_response())
}

/// Moving the candidate on is a write to Teamtailor (the job application's stage), so it needs the
/// company's key to be an Admin key with Read and Write, while 2Secure's set-up guide has the
/// customer select an Admin key with Read only. The form says so before anything is ordered: with
/// a key that cannot write, the option is not offered and an infobox says what to do instead
/// (select a Read and Write key, or move the candidate with Teamtailor's own stage automation);
/// when the key could not be checked, the option carries the requirement in its label.
async fn auto_move_field(deps: &Deps, req: &Request, form: Form) -> Form {
    let Some(token) = web::header(req, "teamtailor-api-token").map(|t| SecretString::from(t.trim())) else {
        return form.field(Field::checkbox("auto_move", AUTO_MOVE_NEEDS_WRITE));
    };
    let config = &deps.platform.config;
    let first = Stack::of_company(config, None, web::header(req, "teamtailor-host"));
    let stacks: Vec<Stack> = Stack::starting_with(first).collect();
    let probe = Probe { http: &deps.platform.http, config, stacks: &stacks, write: true };
    match probe.check(&token).await {
        KeyCheck::Valid { scope: Scope::Admin { can_write: Some(true) }, .. } => {
            form.field(Field::checkbox("auto_move", "Move to the next stage when the check is completed"))
        }
        KeyCheck::Valid { scope: Scope::Admin { can_write: Some(false) } | Scope::NotAdmin, .. } => {
            form.infobox(AUTO_MOVE_UNAVAILABLE, "info")
        }
        _ => form.field(Field::checkbox("auto_move", AUTO_MOVE_NEEDS_WRITE)),
    }
}

const AUTO_MOVE_NEEDS_WRITE: &str =
    "Move to the next stage when the check is completed (needs a Teamtailor Admin API key with Read and Write)";

const AUTO_MOVE_UNAVAILABLE: &str = "<b>Moving the candidate on when the check is completed</b> is not offered: the Teamtailor API key selected for 2Secure may only read, and moving a candidate is a write. To have it, select an Admin key with <b>Read and Write</b> in 2Secure's activation, or move candidates with a Teamtailor stage automation on this stage.";
