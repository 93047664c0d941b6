//! Alva Labs' API as docs/contracts.md assumes it (Alva publishes none): the one module that knows its
//! wire format. Every call carries the vendor key and the Alva company it acts for.
use hirebridge::outbound::{HttpClient, OutboundError};
use hirebridge::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

const SERVICE: &str = "Alva";

pub struct AlvaApi {
    http: HttpClient,
    base: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Named {
    #[serde(deserialize_with = "hirebridge::outbound::any_id")]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
}

#[derive(Deserialize)]
struct DataList {
    #[serde(default)]
    data: Vec<Named>,
}

#[derive(Debug, Deserialize)]
pub struct CreatedCandidate {
    #[serde(deserialize_with = "hirebridge::outbound::any_id")]
    pub id: String,
    #[serde(default)]
    pub candidate_url: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    #[serde(deserialize_with = "hirebridge::outbound::any_id")]
    id: String,
}

pub struct NewCandidate<'a> {
    pub test_profile_id: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    pub phone: Option<&'a str>,
    pub external_id: &'a str,
}

/// A link of Alva's (a candidate's page, a report) fit for a card: an absolute http(s) URL.
pub fn web_link(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    matches!(parsed.scheme(), "https" | "http").then(|| parsed.into())
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl AlvaApi {
    pub fn new(http: HttpClient, base: &str) -> Self {
        AlvaApi { http, base: base.trim_end_matches('/').to_owned() }
    }

    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &SecretString,
        company: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, &format!("{}{}", self.base, path))
            .bearer_auth(key.expose())
            .header("X-Alva-Company", company)
    }

    pub async fn test_profiles(
        &self,
        key: &SecretString,
        company: &str,
    ) -> Result<Vec<Named>, OutboundError> {
        let list: DataList = self
            .http
            .send_json(SERVICE, self.request(reqwest::Method::GET, "/test-profiles", key, company))
            .await?;
        Ok(list.data)
    }

    /// Invites the candidate to a test profile; the idempotency key makes a retry invite once.
    pub async fn create_candidate(
        &self,
        key: &SecretString,
        company: &str,
        idempotency_key: &str,
        c: &NewCandidate<'_>,
    ) -> Result<CreatedCandidate, OutboundError> {
        let body = json!({
            "test_profile_id": c.test_profile_id,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "email": c.email,
            "phone": c.phone,
            "external_id": c.external_id,
        });
        let request = self
            .request(reqwest::Method::POST, "/candidates", key, company)
            .header("Idempotency-Key", idempotency_key)
            .json(&body);
        self.http.send_json(SERVICE, request).await
    }

    pub async fn find_user(
        &self,
        key: &SecretString,
        company: &str,
        email: &str,
    ) -> Result<Option<String>, OutboundError> {
        let path = format!("/users?email={}", enc(email));
        let list: DataList =
            self.http.send_json(SERVICE, self.request(reqwest::Method::GET, &path, key, company)).await?;
        Ok(list.data.into_iter().find(|u| u.email.eq_ignore_ascii_case(email)).map(|u| u.id))
    }

    pub async fn invite_user(
        &self,
        key: &SecretString,
        company: &str,
        email: &str,
        name: &str,
    ) -> Result<String, OutboundError> {
        let request = self
            .request(reqwest::Method::POST, "/users/invitations", key, company)
            .json(&json!({"email": email, "name": name}));
        let created: Created = self.http.send_json(SERVICE, request).await?;
        Ok(created.id)
    }

    pub async fn grant(
        &self,
        key: &SecretString,
        company: &str,
        profile: &str,
        user_id: &str,
    ) -> Result<(), OutboundError> {
        let path = format!("/test-profiles/{}/members/{}", enc(profile), enc(user_id));
        let _: Value =
            self.http.send_json(SERVICE, self.request(reqwest::Method::PUT, &path, key, company)).await?;
        Ok(())
    }
}
