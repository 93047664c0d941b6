//! Writing the outcome back to the candidate's card: `PUT {update-url}` with the listing's partner
//! API key, `X-Api-Version: 20180828`, JSON:API (docs/contracts.md).
use serde::Serialize;
use serde_json::{json, Value};

use crate::config::Config;
use crate::error::AppError;
use crate::outbound::{expect_success, HttpClient, OutboundError};
use crate::SecretString;

pub const PARTNER_API_VERSION: &str = "20180828";
const RESULTS_PATH: &str = "/partner/v1/partner-results/";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultStatus {
    /// Still being sent (e.g. waiting for an automatic retry).
    Sending,
    Sent,
    Pending,
    Completed,
    Failed,
}

#[derive(Clone, Debug, Serialize)]
pub struct PartnerResult {
    pub status: ResultStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl PartnerResult {
    pub fn new(status: ResultStatus) -> Self {
        PartnerResult {
            status,
            summary: None,
            url: None,
            assessment: None,
            attachments: vec![],
            details: None,
        }
    }

    /// Teamtailor shows 150 characters on the card; longer summaries are cut at 500.
    pub fn summary(mut self, text: impl Into<String>) -> Self {
        let text: String = text.into();
        self.summary = Some(text.chars().take(500).collect());
        self
    }

    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    pub fn score(mut self, score: u8) -> Self {
        self.assessment = Some(json!({"score": score.min(100)}));
        self
    }

    pub fn attachment(mut self, url: impl Into<String>, description: impl Into<String>) -> Self {
        self.attachments.push(json!({"url": url.into(), "description": description.into()}));
        self
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// The same result as the webhook's inline answer (`partner_result_attributes`).
    pub fn inline(&self) -> Value {
        json!({ "partner_result_attributes": self })
    }
}

/// The partner-results client; built once, it sends each update to the company's stack.
#[derive(Clone)]
pub struct PartnerResults {
    http: HttpClient,
    config: Config,
}

impl PartnerResults {
    pub fn new(http: HttpClient, config: &Config) -> Self {
        PartnerResults { http, config: config.clone() }
    }

    /// Where to send an update. The `update-url` comes from the request, so it must name a
    /// partner result on one of Teamtailor's stacks: under that stack's configured base (a proxy,
    /// or a sandbox under a path prefix), or on the stack's own host, whose URL then keeps only
    /// its path.
    pub fn resolve(&self, update_url: &str) -> Result<String, AppError> {
        let (stack, path) = self.locate(update_url)?;
        Ok(format!("{}{path}", self.config.teamtailor_base(stack)))
    }

    /// The stack an `update-url` is on (and so the company's), and its path there.
    pub fn locate(&self, update_url: &str) -> Result<(super::Stack, String), AppError> {
        let bad = || {
            AppError::bad_request(format!(
                "partner-result.update-url must be https://<teamtailor api host>{RESULTS_PATH}<id>"
            ))
        };
        let url = url::Url::parse(update_url).map_err(|_| bad())?;
        let (stack, path) = super::Stack::of_url(&self.config, &url).ok_or_else(bad)?;
        let id = path.strip_prefix(RESULTS_PATH).ok_or_else(bad)?;
        if id.is_empty() || id.contains('/') || url.query().is_some() {
            return Err(bad());
        }
        Ok((stack, path))
    }

    pub async fn update(
        &self,
        update_url: &str,
        partner_api_key: &SecretString,
        result: &PartnerResult,
    ) -> Result<(), AppError> {
        self.update_raw(
            update_url,
            partner_api_key,
            &serde_json::to_value(result).map_err(AppError::internal)?,
        )
        .await
    }

    /// [`Self::update`] with the attributes as recorded (the card sweep).
    pub async fn update_raw(
        &self,
        update_url: &str,
        partner_api_key: &SecretString,
        result: &Value,
    ) -> Result<(), AppError> {
        let url = self.resolve(update_url)?;
        let id = url.rsplit('/').next().unwrap_or_default().to_owned();
        let body = json!({"data": {"type": "partner-results", "id": id, "attributes": result}});
        let request = self
            .http
            .request(reqwest::Method::PUT, &url)
            .bearer_auth(partner_api_key.expose())
            .header("X-Api-Version", PARTNER_API_VERSION)
            .header("Content-Type", "application/vnd.api+json")
            .header("Accept", "application/vnd.api+json")
            .body(body.to_string());
        let resp = self.http.send("Teamtailor", request).await?;
        expect_success("Teamtailor", resp).await.map_err(|e| refusal(&e))?;
        Ok(())
    }
}

/// Whether Teamtailor refused an update for good: the partner result is gone (`404`, `410`) or
/// its attributes are invalid (`422`, a validation error whose reason is `errors[0].detail`, as
/// Teamtailor's own client reads it: github.com/Teamtailor/teamtailor-rb, `lib/teamtailor/error.rb`
/// at 193277194af9e70f6e2bb0d04cb92e4817bf3a6d). Sending the same update again cannot succeed.
pub fn refused_for_good(e: &AppError) -> bool {
    matches!(e.status.as_u16(), 404 | 410 | 422)
}

/// An update Teamtailor did not take, in hirebridge's words: a refusal for good keeps its status
/// (see [`refused_for_good`]) with the first JSON:API error's `detail` (bounded, one line); any
/// other failure is a `502` that a later retry may mend.
fn refusal(e: &OutboundError) -> AppError {
    let Some(status) = e.status().filter(|s| matches!(s.as_u16(), 404 | 410 | 422)) else {
        return AppError::upstream(e.to_string());
    };
    let said = match e {
        OutboundError::Status { body, .. } => serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v["errors"][0]["detail"].as_str().map(str::to_owned))
            .map(|d| d.chars().filter(|c| !c.is_control()).take(200).collect::<String>()),
        _ => None,
    };
    let what = match status.as_u16() {
        422 => "Teamtailor refused the card's content",
        _ => "Teamtailor no longer has this candidate's card",
    };
    let detail = match said.filter(|d| !d.trim().is_empty()) {
        Some(d) => format!("{what} ({}: {d})", status.as_u16()),
        None => format!("{what} ({})", status.as_u16()),
    };
    AppError::new(status, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::RetryPolicy;

    fn client(api: Option<&str>) -> PartnerResults {
        let c = Config::from_lookup(|k| match k {
            "PUBLIC_BASE_URL" => Some("https://hb".into()),
            "TEAMTAILOR_API_URL" => api.map(str::to_owned),
            _ => None,
        })
        .unwrap();
        PartnerResults::new(HttpClient::new(RetryPolicy::default()), &c)
    }

    #[test]
    fn update_urls_must_be_teamtailor_partner_results() {
        let c = client(None);
        let ok = "https://api.na.teamtailor.com/partner/v1/partner-results/abc";
        assert_eq!(c.resolve(ok).unwrap(), ok);
        for bad in [
            "https://evil.example.com/partner/v1/partner-results/abc",
            "http://api.teamtailor.com/partner/v1/partner-results/abc",
            "https://api.teamtailor.com/v1/candidates/1",
            "https://api.teamtailor.com:8443/partner/v1/partner-results/abc",
            "not a url",
        ] {
            assert!(c.resolve(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn a_configured_api_url_takes_the_path_only() {
        let c = client(Some("http://127.0.0.1:9/_sandbox/teamtailor"));
        assert_eq!(
            c.resolve("https://api.teamtailor.com/partner/v1/partner-results/abc").unwrap(),
            "http://127.0.0.1:9/_sandbox/teamtailor/partner/v1/partner-results/abc"
        );
    }

    #[test]
    fn an_update_url_under_a_configured_base_with_a_path_is_that_bases_result() {
        let c = client(Some("https://proxy.example/tt/"));
        assert_eq!(
            c.resolve("https://proxy.example/tt/partner/v1/partner-results/abc").unwrap(),
            "https://proxy.example/tt/partner/v1/partner-results/abc"
        );
        for bad in [
            "https://proxy.example/other/partner/v1/partner-results/abc",
            "https://proxy.example/ttx/partner/v1/partner-results/abc",
            "https://proxy.example.evil.net/tt/partner/v1/partner-results/abc",
            "http://proxy.example/tt/partner/v1/partner-results/abc",
            "https://proxy.example/tt/v1/candidates/1",
        ] {
            assert!(c.resolve(bad).is_err(), "{bad} must be refused");
        }
    }
}
