//! StackOne's API, the calls hirebridge makes (the one module that knows their wire format), as
//! StackOne's SDK generated from its OpenAPI has them (`StackOneHQ/stackone-client-typescript` at
//! fd6727ef5f3d49ae081cba729716aa1a42c7218e):
//! - HTTP Basic with the API key as username and an empty password (`docs/sdks/*/README.md`:
//!   `security: {username, password}`);
//! - `POST /connect_sessions` (`docs/sdk/models/shared/connectsessioncreate.md`:
//!   `origin_owner_id`, `origin_owner_name` required; `provider`, `categories`, `expires_in`,
//!   `account_id` — "the hub will launch in edit mode" for that account) answers `201`
//!   `ConnectSessionTokenAuthLink` (`…/connectsessiontokenauthlink.md`: `id`, `token`,
//!   `auth_link_url`, `origin_owner_id`, …);
//! - `GET /accounts?origin_owner_id=&providers=` (`src/funcs/accountsListLinkedAccounts.ts`,
//!   form-encoded query) answers a list of `LinkedAccount`; `GET /accounts/{id}` one
//!   (`…/linkedaccount.md`: `id`, `provider`, `status`, `origin_owner_id`, …).
use hirebridge::outbound::{HttpClient, OutboundError};
use hirebridge::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

const SERVICE: &str = "StackOne";

/// The provider every account hirebridge links is for, and its category.
pub const PROVIDER: &str = "teamtailor";
pub const CATEGORY: &str = "ats";

pub struct StackOneApi {
    http: HttpClient,
    base: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LinkedAccount {
    pub id: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub origin_owner_id: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
}

/// What a connect session gives hirebridge: the Hub's link for it (a credential: it carries
/// the session's token).
pub struct Session {
    pub auth_link_url: SecretString,
    pub account_id: Option<String>,
}

#[derive(Deserialize)]
struct SessionWire {
    auth_link_url: String,
    #[serde(default)]
    account_id: Option<String>,
}

/// More than one StackOne account is the owner's Teamtailor account: hirebridge cannot tell
/// which the Hub should re-link.
#[derive(Debug, PartialEq, Eq)]
pub struct Ambiguous(pub usize);

/// The owner's Teamtailor account among `accounts`, checked here whatever StackOne filtered:
/// an account of another owner or provider is never the one to re-link.
pub fn owned_by<'a>(
    accounts: &'a [LinkedAccount],
    owner: &str,
) -> Result<Option<&'a LinkedAccount>, Ambiguous> {
    let mut mine = accounts
        .iter()
        .filter(|a| a.origin_owner_id.as_deref() == Some(owner) && a.provider.as_deref() == Some(PROVIDER));
    match (mine.next(), mine.count()) {
        (None, _) => Ok(None),
        (Some(account), 0) => Ok(Some(account)),
        (Some(_), more) => Err(Ambiguous(more + 1)),
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn malformed(e: impl std::fmt::Display) -> OutboundError {
    OutboundError::Malformed { service: SERVICE, reason: e.to_string() }
}

impl StackOneApi {
    pub fn new(http: HttpClient, base: &str) -> Self {
        StackOneApi { http, base: base.trim_end_matches('/').to_owned() }
    }

    fn request(&self, method: reqwest::Method, path: &str, key: &SecretString) -> reqwest::RequestBuilder {
        self.http.request(method, &format!("{}{}", self.base, path)).basic_auth(key.expose(), Some(""))
    }

    /// A connect session for `owner`'s Teamtailor account, valid `expires_in` seconds; with
    /// `account_id`, the Hub re-links that account instead of adding one.
    pub async fn create_session(
        &self,
        key: &SecretString,
        owner: &str,
        owner_name: &str,
        account_id: Option<&str>,
        expires_in: i64,
    ) -> Result<Session, OutboundError> {
        let mut body = json!({
            "origin_owner_id": owner,
            "origin_owner_name": owner_name,
            "provider": PROVIDER,
            "categories": [CATEGORY],
            "expires_in": expires_in,
        });
        if let Some(account) = account_id {
            body["account_id"] = json!(account);
        }
        let request = self.request(reqwest::Method::POST, "/connect_sessions", key).json(&body);
        let wire: SessionWire = self.http.send_json(SERVICE, request).await?;
        let parsed =
            url::Url::parse(&wire.auth_link_url).map_err(|_| malformed("auth_link_url is not a URL"))?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(malformed("auth_link_url is not an http(s) URL"));
        }
        Ok(Session { auth_link_url: SecretString::new(wire.auth_link_url), account_id: wire.account_id })
    }

    /// The owner's Teamtailor accounts (a list, or `{"data":[…]}`).
    pub async fn accounts_of(
        &self,
        key: &SecretString,
        owner: &str,
    ) -> Result<Vec<LinkedAccount>, OutboundError> {
        let path = format!("/accounts?origin_owner_id={}&providers={PROVIDER}", enc(owner));
        let value: Value =
            self.http.send_json(SERVICE, self.request(reqwest::Method::GET, &path, key)).await?;
        let list = match value {
            Value::Object(mut o) => o.remove("data").unwrap_or(Value::Array(vec![])),
            other => other,
        };
        serde_json::from_value(list).map_err(malformed)
    }

    pub async fn account(&self, key: &SecretString, id: &str) -> Result<LinkedAccount, OutboundError> {
        let path = format!("/accounts/{}", enc(id));
        self.http.send_json(SERVICE, self.request(reqwest::Method::GET, &path, key)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, owner: &str, provider: &str) -> LinkedAccount {
        LinkedAccount {
            id: id.into(),
            status: "active".into(),
            origin_owner_id: Some(owner.into()),
            provider: Some(provider.into()),
        }
    }

    #[test]
    fn only_the_owners_teamtailor_account_is_chosen() {
        let listed = vec![account("a", "org-b", PROVIDER), account("b", "org-a", "workday")];
        assert!(owned_by(&listed, "org-a").unwrap().is_none(), "another owner's or provider's: none");
        let mut listed = listed;
        listed.push(account("c", "org-a", PROVIDER));
        assert_eq!(owned_by(&listed, "org-a").unwrap().map(|a| a.id.as_str()), Some("c"));
        let unlabelled = LinkedAccount { origin_owner_id: None, provider: None, ..account("d", "", "") };
        assert!(
            owned_by(&[unlabelled], "org-a").unwrap().is_none(),
            "an account that does not say whose: none"
        );
        listed.push(account("e", "org-a", PROVIDER));
        assert_eq!(owned_by(&listed, "org-a").unwrap_err(), Ambiguous(2));
    }
}
