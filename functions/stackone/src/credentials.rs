//! The Link Account page's fields, checked one by one (SPEC §5.5): the key against Teamtailor
//! (valid, Admin scope), the company ID (the key's own company), the e-mail, the password, the
//! two-factor secret. Every message names what to fix and repeats no value.
use std::collections::BTreeMap;

use hirebridge::error::AppResult;
use hirebridge::teamtailor::api_base;
use hirebridge::teamtailor::public_api::PublicApi;
use hirebridge::web::{self, Request};
use hirebridge::{AppError, SecretString};
use http::StatusCode;
use serde_json::{json, Value};

use crate::totp::TotpSecret;
use crate::Deps;

/// What the page submits: form-encoded, or JSON (then the answer is JSON too).
pub struct Submitted {
    pub fields: BTreeMap<String, String>,
    pub json: bool,
}

impl Submitted {
    pub fn read(req: &Request) -> AppResult<Self> {
        let body = web::bounded_body(req)?;
        let json = web::header(req, "content-type").is_some_and(|c| c.contains("json"));
        let fields = if json {
            let value: Value = serde_json::from_slice(body).map_err(|e| {
                AppError::bad_request(format!(
                    "the body is not valid JSON (line {}, column {})",
                    e.line(),
                    e.column()
                ))
            })?;
            value
                .as_object()
                .ok_or_else(|| AppError::bad_request("the body must be a JSON object of field → value"))?
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        } else {
            url::form_urlencoded::parse(body).into_owned().collect()
        };
        Ok(Submitted { fields, json })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// The checked credentials; their `Debug` shows nothing secret.
pub struct Credentials {
    api_key: SecretString,
    company_id: String,
    email: String,
    password: SecretString,
    totp: Option<TotpSecret>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("company_id", &self.company_id)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// As StackOne takes them (and as they are kept in Secrets Manager, with the submission
    /// that saved them).
    pub fn to_json(&self, submission: &str) -> Value {
        json!({
            "api_key": self.api_key.expose(),
            "company_id": self.company_id,
            "email": self.email,
            "password": self.password.expose(),
            "totp_secret": self.totp.as_ref().map(TotpSecret::base32),
            "submission": submission,
        })
    }
}

/// Per field, what to fix.
pub type FieldErrors = BTreeMap<&'static str, String>;

fn company_id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Checks every field and answers one message per field that fails.
pub async fn validate(deps: &Deps, form: &Submitted) -> Result<Credentials, FieldErrors> {
    let mut errors = FieldErrors::new();
    let get = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let (api_key, company_id, email) = (get("api_key"), get("company_id"), get("email"));
    let password = form.get("password").unwrap_or_default().to_owned();
    let company_ok = company_id_ok(&company_id);
    if !company_ok {
        errors.insert(
            "company_id",
            "Enter the company ID from your Teamtailor address (letters and digits).".to_owned(),
        );
    }
    if !web::valid_email(&email) {
        errors
            .insert("email", "Enter the dedicated user's e-mail address, like name@company.com.".to_owned());
    }
    if password.is_empty() {
        errors.insert("password", "Enter the dedicated user's password.".to_owned());
    } else if password.len() > 1000 {
        errors.insert("password", "The password is longer than 1000 characters.".to_owned());
    }
    let totp = totp(&get("totp_secret"), &mut errors);
    if api_key.is_empty() || api_key.len() > 200 || api_key.contains(char::is_whitespace) {
        errors.insert("api_key", "Enter a Teamtailor API key (no spaces).".to_owned());
    } else {
        match check_key(deps, &SecretString::new(api_key.clone())).await {
            Err(message) => {
                errors.insert("api_key", message.to_owned());
            }
            Ok(ids) if company_ok && !ids.iter().any(|id| id.eq_ignore_ascii_case(&company_id)) => {
                errors.insert(
                    "company_id",
                    "This is not the company ID of the API key's Teamtailor account.".to_owned(),
                );
            }
            Ok(_) => {}
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Credentials {
        api_key: SecretString::new(api_key),
        company_id,
        email,
        password: SecretString::new(password),
        totp,
    })
}

/// The optional two-factor secret; a message (which never repeats it) when it does not parse.
fn totp(raw: &str, errors: &mut FieldErrors) -> Option<TotpSecret> {
    if raw.is_empty() {
        return None;
    }
    match TotpSecret::parse(raw) {
        Ok(t) => Some(t),
        Err(e) => {
            let mut message = e.to_string();
            if let Some(first) = message.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            errors.insert("totp_secret", format!("{message}."));
            None
        }
    }
}

const UNCHECKED: &str =
    "The key could not be checked: Teamtailor did not answer as expected. Try again in a minute.";

/// The key must be valid and have Admin scope; answers the ids of its company. The messages are
/// fixed: nothing Teamtailor or the network said reaches the page.
async fn check_key(deps: &Deps, token: &SecretString) -> Result<Vec<String>, &'static str> {
    let platform = &deps.platform;
    let base = api_base(&platform.config, None);
    let api = PublicApi::new(&platform.http, base, &platform.config.teamtailor_api_version, token);
    let company = match api.get("/v1/company").await {
        Ok(doc) => doc.resource().map_err(|_| UNCHECKED)?,
        Err(e) if e.status() == Some(StatusCode::UNAUTHORIZED) => {
            return Err("Teamtailor says this API key is not valid. Copy it again from Teamtailor (Settings → Integrations → API keys).")
        }
        Err(e) => {
            tracing::warn!(error = %e, "teamtailor key check failed");
            return Err(UNCHECKED);
        }
    };
    // Users are visible to Admin keys only.
    match api.get("/v1/users?page%5Bsize%5D=1").await {
        Ok(_) => {}
        Err(e) if matches!(e.status(), Some(StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED)) => {
            return Err("This API key does not have Admin scope. Create a key with Admin scope and Read access, and use that one.")
        }
        Err(e) => {
            tracing::warn!(error = %e, "teamtailor key check failed");
            return Err(UNCHECKED);
        }
    }
    let mut ids = vec![company.id.clone()];
    ids.extend(company.attr_str("uuid").map(str::to_owned));
    Ok(ids)
}
