//! Teamtailor's public API (JSON:API): `Authorization: Token token=<key>`, `X-Api-Version`, pages
//! of at most 30 followed through `links.next` (docs/contracts.md), but only on the
//! API's own origin.
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

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

/// The URL of the page `links.next` names, when it is on `base`'s origin (scheme, host and port):
/// the next request carries the key, so `https://api.teamtailor.com.evil.net/…` or
/// `https://api.teamtailor.com@evil.net/…` must not pass. A path (`/v1/…`) is taken on `base`.
pub fn next_page(base: &str, next: &str) -> Option<String> {
    if next.starts_with('/') && !next.starts_with("//") {
        return Some(format!("{}{next}", base.trim_end_matches('/')));
    }
    let (base, next) = (Url::parse(base).ok()?, Url::parse(next).ok()?);
    let same_origin = next.origin().is_tuple() && next.origin() == base.origin();
    let no_credentials = next.username().is_empty() && next.password().is_none();
    (same_origin && no_credentials).then(|| next.into())
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

    /// Every resource of a listing, following `links.next` (same origin only; another origin is
    /// refused as a malformed answer and never called).
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
            let Some(next) = doc.links.get("next").and_then(Value::as_str) else { break };
            url = next_page(&self.base, next).ok_or_else(|| OutboundError::Malformed {
                service: "Teamtailor",
                reason: "links.next points away from Teamtailor's API".into(),
            })?;
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::outbound::RetryPolicy;

    #[test]
    fn links_next_is_followed_only_on_the_same_origin() {
        let base = "https://api.teamtailor.com";
        let page = |p: &str| format!("{base}/v1/jobs/1/team-memberships?page%5Bnumber%5D={p}");
        assert_eq!(next_page(base, &page("2")).as_deref(), Some(page("2").as_str()));
        assert_eq!(
            next_page(base, "/v1/users?page%5Bnumber%5D=2").as_deref(),
            Some("https://api.teamtailor.com/v1/users?page%5Bnumber%5D=2")
        );
        for evil in [
            "https://api.teamtailor.com.evil.net/v1/users?page%5Bnumber%5D=2",
            "https://api.teamtailor.com@evil.net/v1/users",
            "https://api.teamtailor.com:8443/v1/users",
            "http://api.teamtailor.com/v1/users",
            "//evil.net/v1/users",
            "javascript:alert(1)",
            "not a url",
        ] {
            assert_eq!(next_page(base, evil), None, "{evil}");
        }
        let proxied = "http://127.0.0.1:8080/_sandbox/teamtailor";
        assert!(next_page(proxied, "http://127.0.0.1:8080/_sandbox/teamtailor/v1/users?x=2").is_some());
        assert_eq!(next_page(proxied, "http://127.0.0.1:8081/v1/users"), None);
    }

    /// A one-page HTTP server on `addr`: answers every request with the body `page` makes of
    /// its own URL, and records the request heads it received.
    async fn serve(addr: &str, page: impl FnOnce(&str) -> String) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind(addr).await.expect("bind a loopback address");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let body = page(&url);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let head = read_head(&stream).await;
                record.lock().unwrap().push(head);
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.api+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                write_all(&stream, answer.as_bytes()).await;
            }
        });
        (url, seen)
    }

    async fn read_head(stream: &TcpStream) -> String {
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") && stream.readable().await.is_ok() {
            let mut chunk = [0u8; 1024];
            match stream.try_read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => head.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
        }
        String::from_utf8_lossy(&head).into_owned()
    }

    async fn write_all(stream: &TcpStream, mut bytes: &[u8]) {
        while !bytes.is_empty() && stream.writable().await.is_ok() {
            match stream.try_write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
    }

    #[tokio::test]
    async fn a_links_next_on_another_origin_is_refused_and_the_key_is_not_sent_there() {
        // 127.0.0.2 is another host on the loopback network.
        let (evil, evil_seen) = serve("127.0.0.2:0", |_| r#"{"data":[]}"#.into()).await;
        let evil_host = evil.trim_start_matches("http://").to_owned();
        // `{api}@{evil host}/…` starts with the API's URL: a prefix check lets it through.
        let (api, api_seen) = serve("127.0.0.1:0", |api| {
            let next = format!("{api}@{evil_host}/v1/users?page=2");
            serde_json::json!({"data": [{"id": "1", "type": "users"}], "links": {"next": next}}).to_string()
        })
        .await;
        let http = HttpClient::new(RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });
        let token = SecretString::from("company-api-key");
        let client = PublicApi::new(&http, api, "20240904", &token);
        let answer = tokio::time::timeout(Duration::from_secs(5), client.get_all("/v1/users")).await.unwrap();
        assert!(matches!(answer, Err(OutboundError::Malformed { .. })), "{answer:?}");
        assert!(
            api_seen.lock().unwrap()[0].contains("company-api-key"),
            "the first page was asked with the key"
        );
        assert!(evil_seen.lock().unwrap().is_empty(), "the key went to another origin");
    }
}
