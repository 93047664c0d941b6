//! Learnster's public API v1 (docs/contracts.md §5): OAuth2 client credentials,
//! vendor-scoped students and tags. The one module that knows Learnster's wire format.
use std::collections::HashMap;
use std::time::{Duration, Instant};

use hirebridge::outbound::{HttpClient, OutboundError};
use hirebridge::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::Mutex;

const SERVICE: &str = "Learnster";

#[derive(Deserialize)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: SecretString,
}

/// One tenant's Learnster: its space, vendor and credentials.
pub struct Tenant<'a> {
    pub space: &'a str,
    pub vendor_id: &'a str,
    pub credentials: &'a Credentials,
}

pub struct NewStudent<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    pub phone: Option<&'a str>,
    pub personal_id: &'a str,
}

pub struct LearnsterApi {
    http: HttpClient,
    url_template: String,
    /// Access tokens by (space, client id), reused until shortly before they expire.
    tokens: Mutex<HashMap<(String, String), (SecretString, Instant)>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: SecretString,
    #[serde(default = "default_expiry")]
    expires_in: u64,
}

fn default_expiry() -> u64 {
    300
}

#[derive(Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    results: Vec<T>,
}

#[derive(Deserialize)]
struct IdOnly {
    #[serde(deserialize_with = "hirebridge::outbound::any_id")]
    id: String,
}

#[derive(Deserialize)]
struct StudentRow {
    #[serde(deserialize_with = "hirebridge::outbound::any_id")]
    id: String,
    #[serde(default)]
    user: Value,
}

#[derive(Deserialize)]
struct TagRow {
    #[serde(deserialize_with = "hirebridge::outbound::any_id")]
    id: String,
    name: String,
}

impl LearnsterApi {
    pub fn new(http: HttpClient, url_template: &str) -> Self {
        LearnsterApi { http, url_template: url_template.to_owned(), tokens: Mutex::new(HashMap::new()) }
    }

    fn url(&self, space: &str, path: &str) -> String {
        format!("{}/{}", self.url_template.replace("{space}", space), path.trim_start_matches('/'))
    }

    /// A fresh token straight from Learnster (also how credentials are checked).
    pub async fn fetch_token(
        &self,
        space: &str,
        credentials: &Credentials,
    ) -> Result<SecretString, OutboundError> {
        let body = json!({
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret.expose(),
            "grant_type": "client_credentials",
        });
        let request = self.http.request(reqwest::Method::POST, &self.url(space, "auth/token/")).json(&body);
        let answer: TokenAnswer = self.http.send_json(SERVICE, request).await?;
        let key = (space.to_owned(), credentials.client_id.clone());
        let valid_for = Duration::from_secs(answer.expires_in.saturating_sub(20).max(1));
        self.tokens.lock().await.insert(key, (answer.access_token.clone(), Instant::now() + valid_for));
        Ok(answer.access_token)
    }

    async fn token(&self, tenant: &Tenant<'_>) -> Result<SecretString, OutboundError> {
        let key = (tenant.space.to_owned(), tenant.credentials.client_id.clone());
        if let Some((token, until)) = self.tokens.lock().await.get(&key) {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        self.fetch_token(tenant.space, tenant.credentials).await
    }

    /// Sends an authenticated call; a `401` (a token revoked early) gets one fresh token.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        tenant: &Tenant<'_>,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, OutboundError> {
        let url = self.url(tenant.space, path);
        let mut token = self.token(tenant).await?;
        for attempt in 0..2 {
            let mut request = self.http.request(method.clone(), &url).bearer_auth(token.expose());
            if let Some(body) = body {
                request = request.json(body);
            }
            match self.http.send_json(SERVICE, request).await {
                Err(e) if attempt == 0 && e.status() == Some(http::StatusCode::UNAUTHORIZED) => {
                    token = self.fetch_token(tenant.space, tenant.credentials).await?;
                }
                other => return other,
            }
        }
        unreachable!("the loop returns on its second pass")
    }

    /// The student whose login is `email`, if Learnster has one.
    pub async fn find_student(
        &self,
        tenant: &Tenant<'_>,
        email: &str,
    ) -> Result<Option<String>, OutboundError> {
        let path = format!(
            "vendor/{}/users/students/?search={}",
            tenant.vendor_id,
            url::form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>()
        );
        let page: Page<StudentRow> = self.call(tenant, reqwest::Method::GET, &path, None).await?;
        Ok(page
            .results
            .into_iter()
            .find(|s| {
                s.user.get("email").and_then(Value::as_str).is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .map(|s| s.id))
    }

    pub async fn create_student(
        &self,
        tenant: &Tenant<'_>,
        s: &NewStudent<'_>,
    ) -> Result<String, OutboundError> {
        let mut user = json!({
            "first_name": s.first_name,
            "last_name": s.last_name,
            "email": s.email,
            "personal_id": s.personal_id,
        });
        if let Some(phone) = s.phone {
            user["phone"] = json!(phone);
        }
        let body = json!({"user": user, "controlled_by_integration": true});
        let path = format!("vendor/{}/users/students/", tenant.vendor_id);
        let created: IdOnly = self.call(tenant, reqwest::Method::POST, &path, Some(&body)).await?;
        Ok(created.id)
    }

    /// The tag named `name`, created when Learnster has none.
    pub async fn ensure_tag(&self, tenant: &Tenant<'_>, name: &str) -> Result<String, OutboundError> {
        let path = format!(
            "vendor/{}/tags/?name={}",
            tenant.vendor_id,
            url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
        );
        let page: Page<TagRow> = self.call(tenant, reqwest::Method::GET, &path, None).await?;
        if let Some(tag) = page.results.into_iter().find(|t| t.name == name) {
            return Ok(tag.id);
        }
        let path = format!("vendor/{}/tags/", tenant.vendor_id);
        let created: IdOnly =
            self.call(tenant, reqwest::Method::POST, &path, Some(&json!({"name": name}))).await?;
        Ok(created.id)
    }

    pub async fn add_tags(
        &self,
        tenant: &Tenant<'_>,
        student_id: &str,
        tag_ids: &[String],
    ) -> Result<(), OutboundError> {
        if tag_ids.is_empty() {
            return Ok(());
        }
        let path = format!("vendor/{}/users/students/{}/tags/bulk/", tenant.vendor_id, student_id);
        let body = json!({"update_list": tag_ids, "remove_list": []});
        let _: Value = self.call(tenant, reqwest::Method::PUT, &path, Some(&body)).await?;
        Ok(())
    }
}

impl std::fmt::Debug for LearnsterApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LearnsterApi").field("url_template", &self.url_template).finish()
    }
}
