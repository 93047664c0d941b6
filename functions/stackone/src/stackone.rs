//! StackOne's accounts API (SPEC §6.5; Basic auth with the API key as username): the one module
//! that knows its wire format.
use hirebridge::outbound::{HttpClient, OutboundError};
use hirebridge::SecretString;
use serde::Deserialize;
use serde_json::Value;

const SERVICE: &str = "StackOne";

pub struct StackOneApi {
    http: HttpClient,
    base: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LinkedAccount {
    pub id: String,
    #[serde(default)]
    pub status: String,
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl StackOneApi {
    pub fn new(http: HttpClient, base: &str) -> Self {
        StackOneApi { http, base: base.trim_end_matches('/').to_owned() }
    }

    fn request(&self, method: reqwest::Method, path: &str, key: &SecretString) -> reqwest::RequestBuilder {
        self.http.request(method, &format!("{}{}", self.base, path)).basic_auth(key.expose(), Some(""))
    }

    /// The owner's Teamtailor accounts (a list, or `{"data":[…]}`).
    pub async fn accounts_of(
        &self,
        key: &SecretString,
        owner: &str,
    ) -> Result<Vec<LinkedAccount>, OutboundError> {
        let path = format!("/accounts?origin_owner_id={}&provider=teamtailor", enc(owner));
        let value: Value =
            self.http.send_json(SERVICE, self.request(reqwest::Method::GET, &path, key)).await?;
        let list = match value {
            Value::Object(mut o) => o.remove("data").unwrap_or(Value::Array(vec![])),
            other => other,
        };
        serde_json::from_value(list)
            .map_err(|e| OutboundError::Malformed { service: SERVICE, reason: e.to_string() })
    }

    /// `body` holds the credentials; it is built by the caller and sent as is.
    pub async fn create(&self, key: &SecretString, body: &Value) -> Result<LinkedAccount, OutboundError> {
        self.http.send_json(SERVICE, self.request(reqwest::Method::POST, "/accounts", key).json(body)).await
    }

    pub async fn update(
        &self,
        key: &SecretString,
        id: &str,
        body: &Value,
    ) -> Result<LinkedAccount, OutboundError> {
        let path = format!("/accounts/{}", enc(id));
        self.http.send_json(SERVICE, self.request(reqwest::Method::PATCH, &path, key).json(body)).await
    }
}
