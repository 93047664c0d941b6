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

/// The provider every account hirebridge links is for.
pub const PROVIDER: &str = "teamtailor";

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

/// More than one StackOne account is the owner's Teamtailor account: hirebridge cannot tell
/// which to update, so it updates none.
#[derive(Debug, PartialEq, Eq)]
pub struct Ambiguous(pub usize);

/// The owner's Teamtailor account among `accounts`, checked here whatever StackOne filtered:
/// an account of another owner or provider is never the one to update.
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
        let path = format!("/accounts?origin_owner_id={}&provider={PROVIDER}", enc(owner));
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
