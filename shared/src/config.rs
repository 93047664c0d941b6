//! Configuration from the environment (docs/reference.md). A missing or malformed variable stops start-up
//! with a message that names it.
use url::Url;

#[derive(Clone, Debug)]
pub struct Config {
    /// DynamoDB table; `None` means the embedded store (local runner only).
    pub table_name: Option<String>,
    pub secrets_prefix: String,
    pub public_base_url: Url,
    /// `TEAMTAILOR_API_URL`: the base of Teamtailor's EU stack, when not the real host.
    pub teamtailor_api_url: Option<Url>,
    /// `TEAMTAILOR_NA_API_URL`: the base of Teamtailor's NA stack, when not the real host.
    pub teamtailor_na_api_url: Option<Url>,
    pub teamtailor_api_version: String,
    pub alva_api_url: String,
    /// May contain `{space}`, replaced by the tenant's Learnster space.
    pub learnster_api_url: String,
    pub twosecure_api_url: String,
    pub sparkhire_api_url: String,
    pub stackone_api_url: String,
    /// Seconds between automatic retries of failed work (`HIREBRIDGE_RETRY_SCHEDULE`); after the
    /// last one the work is given up.
    pub retry_schedule: Vec<u64>,
}

pub const DEFAULT_RETRY_SCHEDULE: [u64; 6] = [60, 300, 900, 3600, 10800, 21600];

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("environment variable {name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every variable through `lookup`, so tests and the local runner need not touch the
    /// process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let public_base_url = match get("PUBLIC_BASE_URL") {
            Some(v) => parse_base_url("PUBLIC_BASE_URL", &v)?,
            None => return Err(ConfigError::Missing("PUBLIC_BASE_URL")),
        };
        let optional_url = |name: &'static str| get(name).map(|v| parse_base_url(name, &v)).transpose();
        let teamtailor_api_url = optional_url("TEAMTAILOR_API_URL")?;
        let teamtailor_na_api_url = optional_url("TEAMTAILOR_NA_API_URL")?;
        let api_url = |name: &'static str, default: &str| -> Result<String, ConfigError> {
            let value = get(name).unwrap_or_else(|| default.to_owned());
            // `{space}` is a placeholder; check the rest is a URL.
            parse_base_url(name, &value.replace("{space}", "space"))?;
            Ok(value.trim_end_matches('/').to_owned())
        };
        let version = get("TEAMTAILOR_API_VERSION").unwrap_or_else(|| "20240904".to_owned());
        if version.len() != 8 || !version.chars().all(|c| c.is_ascii_digit()) {
            return Err(ConfigError::Invalid {
                name: "TEAMTAILOR_API_VERSION",
                reason: format!("expected a date like 20240904, got {version:?}"),
            });
        }
        let secrets_prefix = get("SECRETS_PREFIX").unwrap_or_else(|| "hirebridge".to_owned());
        if secrets_prefix.contains(char::is_whitespace) {
            return Err(ConfigError::Invalid {
                name: "SECRETS_PREFIX",
                reason: "must not contain spaces".into(),
            });
        }
        let retry_schedule = match get("HIREBRIDGE_RETRY_SCHEDULE") {
            None => DEFAULT_RETRY_SCHEDULE.to_vec(),
            Some(v) => parse_schedule(&v).ok_or_else(|| ConfigError::Invalid {
                name: "HIREBRIDGE_RETRY_SCHEDULE",
                reason: format!("expected 1 to 20 comma-separated delays in seconds (each at most 604800), e.g. 60,300,900; got {v:?}"),
            })?,
        };
        Ok(Config {
            retry_schedule,
            table_name: get("TABLE_NAME"),
            secrets_prefix: secrets_prefix.trim_end_matches('/').to_owned(),
            public_base_url,
            teamtailor_api_url,
            teamtailor_na_api_url,
            teamtailor_api_version: version,
            alva_api_url: api_url("ALVA_API_URL", "https://api.alvalabs.io/v1")?,
            learnster_api_url: api_url("LEARNSTER_API_URL", "https://{space}.learnster.com/api/public/v1")?,
            twosecure_api_url: api_url("TWOSECURE_API_URL", "https://api.2secure.se/v1")?,
            sparkhire_api_url: api_url("SPARKHIRE_API_URL", "https://api.sparkhire.com/v1.0")?,
            stackone_api_url: api_url("STACKONE_API_URL", "https://api.stackone.com")?,
        })
    }

    /// In Lambda the table is not optional.
    pub fn require_table(&self) -> Result<&str, ConfigError> {
        self.table_name.as_deref().ok_or(ConfigError::Missing("TABLE_NAME"))
    }

    /// The base of a Teamtailor stack's APIs (public and partner), without a trailing slash.
    pub fn teamtailor_base(&self, stack: crate::teamtailor::Stack) -> String {
        let configured = match stack {
            crate::teamtailor::Stack::Eu => &self.teamtailor_api_url,
            crate::teamtailor::Stack::Na => &self.teamtailor_na_api_url,
        };
        match configured {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("https://{}", stack.host()),
        }
    }

    /// `{PUBLIC_BASE_URL}/{path}` without a doubled slash.
    pub fn public_url(&self, path: &str) -> String {
        format!("{}/{}", self.public_base_url.as_str().trim_end_matches('/'), path.trim_start_matches('/'))
    }
}

fn parse_schedule(value: &str) -> Option<Vec<u64>> {
    let delays: Vec<u64> = value
        .split(',')
        .map(|d| d.trim().parse::<u64>().ok().filter(|s| *s <= 604_800))
        .collect::<Option<_>>()?;
    (1..=20).contains(&delays.len()).then_some(delays)
}

fn parse_base_url(name: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|e| ConfigError::Invalid {
        name,
        reason: format!("{e} (expected an absolute http(s) URL)"),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::Invalid { name, reason: "expected an absolute http(s) URL".into() });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_follow_the_spec() {
        let c = with(&[("PUBLIC_BASE_URL", "https://hb.example.com")]).unwrap();
        assert_eq!(c.secrets_prefix, "hirebridge");
        assert_eq!(c.teamtailor_api_version, "20240904");
        assert_eq!(c.learnster_api_url, "https://{space}.learnster.com/api/public/v1");
        assert_eq!(c.table_name, None);
        assert_eq!(c.public_url("/learnster/webhook"), "https://hb.example.com/learnster/webhook");
    }

    #[test]
    fn missing_or_malformed_variables_are_named() {
        assert_eq!(with(&[]).unwrap_err(), ConfigError::Missing("PUBLIC_BASE_URL"));
        let err = with(&[("PUBLIC_BASE_URL", "https://x"), ("LEARNSTER_API_URL", "not a url")]).unwrap_err();
        assert!(err.to_string().contains("LEARNSTER_API_URL"), "{err}");
        let err = with(&[("PUBLIC_BASE_URL", "https://x"), ("TEAMTAILOR_API_VERSION", "v2")]).unwrap_err();
        assert!(err.to_string().contains("TEAMTAILOR_API_VERSION"), "{err}");
        let c = with(&[("PUBLIC_BASE_URL", "https://x")]).unwrap();
        assert_eq!(c.require_table().unwrap_err(), ConfigError::Missing("TABLE_NAME"));
    }

    #[test]
    fn the_retry_schedule_is_read_and_checked() {
        let base = ("PUBLIC_BASE_URL", "https://hb.example");
        assert_eq!(with(&[base]).unwrap().retry_schedule, DEFAULT_RETRY_SCHEDULE.to_vec());
        assert_eq!(
            with(&[base, ("HIREBRIDGE_RETRY_SCHEDULE", "1, 2,3")]).unwrap().retry_schedule,
            vec![1, 2, 3]
        );
        for bad in ["x", "1,,2", "-1", "99999999999"] {
            let e = with(&[base, ("HIREBRIDGE_RETRY_SCHEDULE", bad)]).unwrap_err();
            assert!(e.to_string().contains("HIREBRIDGE_RETRY_SCHEDULE"), "{e}");
        }
    }
}
