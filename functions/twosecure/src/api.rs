//! 2Secure's API as docs/contracts.md assumes it (no public contract exists): the one module that knows
//! its wire format, so the real one can be swapped in here.
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::personnummer::Personnummer;
use hirebridge::outbound::{HttpClient, OutboundError};
use hirebridge::SecretString;

const SERVICE: &str = "2Secure";

#[derive(Clone)]
pub struct TwoSecureApi {
    http: HttpClient,
    base: String,
}

#[derive(Debug, Deserialize)]
pub struct Account {
    #[serde(default)]
    pub company_name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Package {
    #[serde(deserialize_with = "hirebridge::outbound::any_id")]
    pub id: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct OrderAnswer {
    #[serde(deserialize_with = "hirebridge::outbound::any_id")]
    pub id: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub report_url: Option<String>,
}

/// One file of an order, base64-encoded as 2Secure takes it.
#[derive(Serialize)]
pub struct Attachment {
    pub file_name: String,
    pub content_base64: String,
}

/// Everything an order needs. The personnummer goes only into the request body.
pub struct NewOrder<'a> {
    pub package_id: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub personnummer: &'a Personnummer,
    pub email: &'a str,
    pub phone: Option<&'a str>,
    pub billing_reference: &'a str,
    pub orderer_email: &'a str,
    pub callback_url: &'a str,
    pub external_reference: &'a str,
    pub attachments: &'a [Attachment],
}

/// `POST /orders`'s body, serialized once straight from the order (the files are large).
#[derive(Serialize)]
struct OrderBody<'a> {
    package_id: &'a str,
    candidate: CandidateBody<'a>,
    billing: BillingBody<'a>,
    orderer_email: &'a str,
    callback_url: &'a str,
    external_reference: &'a str,
    attachments: &'a [Attachment],
}

#[derive(Serialize)]
struct CandidateBody<'a> {
    first_name: &'a str,
    last_name: &'a str,
    personal_number: String,
    email: &'a str,
    phone: Option<&'a str>,
}

#[derive(Serialize)]
struct BillingBody<'a> {
    reference: &'a str,
}

impl TwoSecureApi {
    pub fn new(http: HttpClient, base: &str) -> Self {
        TwoSecureApi { http, base: base.trim_end_matches('/').to_owned() }
    }

    fn request(&self, method: reqwest::Method, path: &str, key: &SecretString) -> reqwest::RequestBuilder {
        self.http.request(method, &format!("{}{}", self.base, path)).bearer_auth(key.expose())
    }

    pub async fn account(&self, key: &SecretString) -> Result<Account, OutboundError> {
        self.http.send_json(SERVICE, self.request(reqwest::Method::GET, "/account", key)).await
    }

    pub async fn packages(&self, key: &SecretString) -> Result<Vec<Package>, OutboundError> {
        self.http.send_json(SERVICE, self.request(reqwest::Method::GET, "/packages", key)).await
    }

    /// `POST /orders` with an idempotency key, so a retried request orders once.
    pub async fn order(
        &self,
        key: &SecretString,
        idempotency_key: &str,
        o: &NewOrder<'_>,
    ) -> Result<OrderAnswer, OutboundError> {
        let body = OrderBody {
            package_id: o.package_id,
            candidate: CandidateBody {
                first_name: o.first_name,
                last_name: o.last_name,
                personal_number: o.personnummer.twelve_digits(),
                email: o.email,
                phone: o.phone,
            },
            billing: BillingBody { reference: o.billing_reference },
            orderer_email: o.orderer_email,
            callback_url: o.callback_url,
            external_reference: o.external_reference,
            attachments: o.attachments,
        };
        let request = self
            .request(reqwest::Method::POST, "/orders", key)
            .header("Idempotency-Key", idempotency_key)
            .json(&body);
        self.http.send_json(SERVICE, request).await
    }

    pub async fn get_order(&self, key: &SecretString, order_id: &str) -> Result<OrderAnswer, OutboundError> {
        let path = format!(
            "/orders/{}",
            url::form_urlencoded::byte_serialize(order_id.as_bytes()).collect::<String>()
        );
        self.http.send_json(SERVICE, self.request(reqwest::Method::GET, &path, key)).await
    }
}

/// What went wrong with a call to 2Secure, in hirebridge's own words: 2Secure's error text is
/// never shown (it may quote the personnummer), only its error code, with digit runs redacted.
pub fn describe(e: &OutboundError) -> String {
    match e {
        OutboundError::TimedOut { .. } => "2Secure did not answer in time".into(),
        OutboundError::OutOfTime { .. } => {
            "2Secure could not be asked again before this run's time ran out".into()
        }
        OutboundError::Unreachable { .. } => "2Secure could not be reached".into(),
        OutboundError::Malformed { .. } => "2Secure's answer could not be read".into(),
        OutboundError::Unsendable { .. } => "the 2Secure API key holds characters that cannot be sent".into(),
        OutboundError::Status { status, .. } => match error_code(e) {
            Some(code) => format!("2Secure answered {} ({code})", status.as_u16()),
            None => format!("2Secure answered {}", status.as_u16()),
        },
    }
}

/// 2Secure's error code (`{"error": "..."}`), when it sent one: letters, digits and `_` only, at
/// most 40, digit runs redacted.
pub fn error_code(e: &OutboundError) -> Option<String> {
    let OutboundError::Status { body, .. } = e else {
        return None;
    };
    let v: Value = serde_json::from_str(body).ok()?;
    let code: String = v
        .get("error")?
        .as_str()?
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    (!code.is_empty()).then(|| crate::redacted(&code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    #[test]
    fn two_secures_error_text_is_never_repeated_and_its_code_has_no_digit_runs() {
        let e = OutboundError::Status {
            service: SERVICE,
            status: StatusCode::UNPROCESSABLE_ENTITY,
            attempts: 1,
            body: r#"{"error":"invalid_pn_198112189876","message":"198112189876 is not a valid personal number"}"#.into(),
        };
        let text = describe(&e);
        assert!(text.starts_with("2Secure answered 422 (invalid_pn_"), "{text}");
        assert!(!text.contains("198112189876") && !text.contains("not a valid"), "{text}");
    }
}
