//! Teamtailor's public API (JSON:API): `Authorization: Token token=<key>`, `X-Api-Version`, pages
//! of at most 30 followed through `links.next` (`research/teamtailor.md` §3).
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::outbound::{HttpClient, OutboundError};
use crate::SecretString;

pub const PAGE_SIZE: usize = 30;
/// A bound on how many pages one listing may take, so a looping `links.next` cannot hold us.
pub const MAX_PAGES: usize = 100;

#[derive(Debug, Clone, Deserialize)]
pub struct Resource {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub attributes: Map<String, Value>,
    #[serde(default)]
    pub relationships: Map<String, Value>,
}

impl Resource {
    pub fn attr_str(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).and_then(Value::as_str)
    }

    /// The id of a to-one relationship (`relationships.<name>.data.id`).
    pub fn related_id(&self, name: &str) -> Option<&str> {
        self.relationships.get(name)?.get("data")?.get("id")?.as_str()
    }
}

#[derive(Debug, Deserialize)]
pub struct Document {
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    pub included: Vec<Resource>,
    #[serde(default)]
    pub links: Map<String, Value>,
}

impl Document {
    pub fn resource(&self) -> Result<Resource, OutboundError> {
        serde_json::from_value(self.data.clone()).map_err(|e| OutboundError::Malformed {
            service: "Teamtailor",
            reason: format!("data is not a resource: {e}"),
        })
    }

    pub fn resources(&self) -> Result<Vec<Resource>, OutboundError> {
        serde_json::from_value(self.data.clone()).map_err(|e| OutboundError::Malformed {
            service: "Teamtailor",
            reason: format!("data is not a list of resources: {e}"),
        })
    }

    pub fn included_of(&self, kind: &str, id: &str) -> Option<&Resource> {
        self.included.iter().find(|r| r.kind == kind && r.id == id)
    }
}

/// A company's view of the public API, with its key.
pub struct PublicApi<'a> {
    http: &'a HttpClient,
    base: String,
    version: &'a str,
    token: &'a SecretString,
}

impl<'a> PublicApi<'a> {
    /// `base` comes from [`super::api_base`].
    pub fn new(http: &'a HttpClient, base: String, version: &'a str, token: &'a SecretString) -> Self {
        PublicApi { http, base, version, token }
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .header("Authorization", format!("Token token={}", self.token.expose()))
            .header("X-Api-Version", self.version)
            .header("Accept", "application/vnd.api+json")
    }

    /// `GET {base}{path}` (path starts with `/v1/`).
    pub async fn get(&self, path: &str) -> Result<Document, OutboundError> {
        let url = format!("{}{}", self.base, path);
        self.http.send_json("Teamtailor", self.request(reqwest::Method::GET, &url)).await
    }

    /// Every resource of a listing, following `links.next` (same host only).
    pub async fn get_all(&self, path: &str) -> Result<Vec<Resource>, OutboundError> {
        Ok(self.get_all_with_included(path).await?.0)
    }

    /// Like [`Self::get_all`], with the side-loaded resources (`include=`) of every page.
    pub async fn get_all_with_included(
        &self,
        path: &str,
    ) -> Result<(Vec<Resource>, Vec<Resource>), OutboundError> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut url = format!("{}{}{}page%5Bsize%5D={}", self.base, path, sep, PAGE_SIZE);
        let mut all = Vec::new();
        let mut included = Vec::new();
        for _ in 0..MAX_PAGES {
            let doc: Document =
                self.http.send_json("Teamtailor", self.request(reqwest::Method::GET, &url)).await?;
            all.extend(doc.resources()?);
            included.extend(doc.included);
            match doc.links.get("next").and_then(Value::as_str) {
                Some(next) if next.starts_with(&self.base) => url = next.to_owned(),
                Some(next) if next.starts_with('/') => url = format!("{}{}", self.base, next),
                _ => break,
            }
        }
        Ok((all, included))
    }

    /// `PATCH {base}{path}` with a JSON:API document.
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Document, OutboundError> {
        let url = format!("{}{}", self.base, path);
        let request = self
            .request(reqwest::Method::PATCH, &url)
            .header("Content-Type", "application/vnd.api+json")
            .body(body.to_string());
        self.http.send_json("Teamtailor", request).await
    }
}
