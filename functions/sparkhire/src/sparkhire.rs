//! Spark Hire's API (docs.sparkhire.com; Basic auth with the user's key as username): the one
//! module that knows its wire format. Lists are pages of `range=<from>-<to>`.
use hirebridge::outbound::{HttpClient, OutboundError};
use hirebridge::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

const SERVICE: &str = "Spark Hire";
const PAGE: usize = 20;
const MAX_PAGES: usize = 50;

pub struct SparkHireApi {
    http: HttpClient,
    base: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    #[serde(default)]
    pub uuid: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Named {
    pub uuid: String,
    #[serde(default, alias = "title")]
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Interview {
    pub uuid: String,
    #[serde(default)]
    pub share_link: Option<Value>,
    #[serde(default)]
    pub join_url: Option<String>,
}

pub struct NewInterview<'a> {
    pub live: bool,
    pub job_uuid: &'a str,
    pub question_set: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub scheduled_at: &'a str,
    pub message: Option<&'a str>,
}

impl SparkHireApi {
    pub fn new(http: HttpClient, base: &str) -> Self {
        SparkHireApi { http, base: base.trim_end_matches('/').to_owned() }
    }

    fn request(&self, method: reqwest::Method, path: &str, key: &SecretString) -> reqwest::RequestBuilder {
        self.http.request(method, &format!("{}{}", self.base, path)).basic_auth(key.expose(), Some("x"))
    }

    pub async fn me(&self, key: &SecretString) -> Result<Me, OutboundError> {
        self.http.send_json(SERVICE, self.request(reqwest::Method::GET, "/me", key)).await
    }

    /// Every item of a list, page by page.
    async fn all<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        key: &SecretString,
    ) -> Result<Vec<T>, OutboundError> {
        let mut out = Vec::new();
        for page in 0..MAX_PAGES {
            let range = format!("{}-{}", page * PAGE + 1, (page + 1) * PAGE);
            let sep = if path.contains('?') { '&' } else { '?' };
            let items: Vec<T> = self
                .http
                .send_json(
                    SERVICE,
                    self.request(reqwest::Method::GET, &format!("{path}{sep}range={range}"), key),
                )
                .await?;
            let full = items.len() == PAGE;
            out.extend(items);
            if !full {
                break;
            }
        }
        Ok(out)
    }

    pub async fn jobs(&self, key: &SecretString) -> Result<Vec<Named>, OutboundError> {
        self.all("/jobs?orderby=title_asc", key).await
    }

    pub async fn question_sets(&self, key: &SecretString) -> Result<Vec<Named>, OutboundError> {
        self.all("/question_sets", key).await
    }

    pub async fn create_job(&self, key: &SecretString, title: &str) -> Result<Named, OutboundError> {
        let body =
            json!({"title": title, "status": "active", "description": format!("{title} (from Teamtailor)")});
        self.http.send_json(SERVICE, self.request(reqwest::Method::POST, "/jobs", key).json(&body)).await
    }

    pub async fn create_interview(
        &self,
        key: &SecretString,
        i: &NewInterview<'_>,
    ) -> Result<Interview, OutboundError> {
        let body = json!({
            "type": if i.live { "live" } else { "one_way" },
            "job_post": {"uuid": i.job_uuid},
            "interview_question_set": i.question_set,
            "assigned_to": [{"name": i.name, "email": i.email}],
            "scheduled_at": i.scheduled_at,
            "email_message": i.message,
        });
        self.http
            .send_json(SERVICE, self.request(reqwest::Method::POST, "/interviews", key).json(&body))
            .await
    }

    /// Registers hirebridge's events endpoint with Basic credentials Spark Hire will send back.
    pub async fn register_webhook(
        &self,
        key: &SecretString,
        url: &str,
        username: &str,
        password: &SecretString,
    ) -> Result<(), OutboundError> {
        let body = json!({"url": url, "description": "hirebridge: interview results to Teamtailor",
                          "http_auth": {"username": username, "password": password.expose()}});
        let _: Value = self
            .http
            .send_json(SERVICE, self.request(reqwest::Method::POST, "/webhooks", key).json(&body))
            .await?;
        Ok(())
    }
}
