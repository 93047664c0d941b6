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
