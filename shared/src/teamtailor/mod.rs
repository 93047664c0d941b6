//! Teamtailor: the partner protocol inbound (SPEC §4) and the two APIs we call back.
pub mod activations;
pub mod forms;
pub mod partner_results;
pub mod provider_key;
pub mod public_api;
pub mod signature;
pub mod stages;
pub mod webhook;

use crate::config::Config;
use crate::error::AppError;
use crate::idempotency::{Finish, Lease, Outcome};
use crate::platform::Platform;
use crate::web::{self, Response};
use crate::SecretString;
use partner_results::PartnerResult;

/// Teamtailor's API hosts (EU, NA, AU). A host named by a request must be one of these, so that a
/// forged `Teamtailor-Host` or `update-url` cannot make us send a key elsewhere.
pub const API_HOSTS: [&str; 3] = ["api.teamtailor.com", "api.na.teamtailor.com", "api.au.teamtailor.com"];

/// The base URL of Teamtailor's API for this request: `TEAMTAILOR_API_URL` when set, else the
/// request's `Teamtailor-Host` (if it is a Teamtailor host), else the EU host.
pub fn api_base(config: &Config, teamtailor_host: Option<&str>) -> Result<String, AppError> {
    if let Some(base) = &config.teamtailor_api_url {
        return Ok(base.as_str().trim_end_matches('/').to_owned());
    }
    let Some(host) = teamtailor_host.map(str::trim).filter(|h| !h.is_empty()) else {
        return Ok(format!("https://{}", API_HOSTS[0]));
    };
    let host = host.trim_start_matches("https://").trim_end_matches('/');
    if API_HOSTS.contains(&host) {
        Ok(format!("https://{host}"))
    } else {
        Err(AppError::bad_request(format!(
            "Teamtailor-Host {host:?} is not a Teamtailor API host ({})",
            API_HOSTS.join(", ")
        )))
    }
}

/// The end of a trigger: writes the partner result, answers Teamtailor (the result inline; on
/// failure its summary as plain text with `failure_status`, for the card), and records that
/// answer as the event's outcome, with `error` when it failed so that it can be tried again.
pub async fn conclude(
    platform: &Platform,
    lease: Lease,
    update_url: &str,
    partner_api_key: &SecretString,
    result: &PartnerResult,
    error: Option<&str>,
    failure_status: http::StatusCode,
) -> Result<Response, AppError> {
    if let Err(e) = platform.partner_results.update(update_url, partner_api_key, result).await {
        // The answer below carries the same result, so the card is still updated.
        tracing::warn!(error = %e.detail, "partner result not delivered");
    }
    let response = match error {
        None => web::json(http::StatusCode::OK, &result.inline()),
        Some(_) => web::text(failure_status, result.summary.as_deref().unwrap_or("The trigger failed.")),
    };
    let finish = error.map_or(Finish::Completed, |e| Finish::Failed(e.to_owned()));
    platform.idempotency.finish(lease, &Outcome::from_response(&response), finish).await?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_teamtailor_hosts_are_trusted() {
        let c = Config::from_lookup(|k| (k == "PUBLIC_BASE_URL").then(|| "https://hb".into())).unwrap();
        assert_eq!(api_base(&c, None).unwrap(), "https://api.teamtailor.com");
        assert_eq!(api_base(&c, Some("api.na.teamtailor.com")).unwrap(), "https://api.na.teamtailor.com");
        assert_eq!(api_base(&c, Some("evil.example.com")).unwrap_err().status, 400);
    }
}
