//! 2Secure's API as SPEC §6.2 assumes it (no public contract exists): the one module that knows
//! its wire format, so the real one can be swapped in here.
use serde::Deserialize;
use serde_json::{json, Value};

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
        let body = json!({
            "package_id": o.package_id,
            "candidate": {
                "first_name": o.first_name,
                "last_name": o.last_name,
                "personal_number": o.personnummer.twelve_digits(),
                "email": o.email,
                "phone": o.phone,
            },
            "billing": {"reference": o.billing_reference},
            "orderer_email": o.orderer_email,
            "callback_url": o.callback_url,
            "external_reference": o.external_reference,
            "attachments": o.attachments.iter().map(|a| json!({"file_name": a.file_name, "content_base64": a.content_base64})).collect::<Vec<_>>(),
        });
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

/// 2Secure's error body (`{"error","message"}`) as a sentence, when it sent one.
pub fn error_message(e: &OutboundError) -> Option<String> {
    let OutboundError::Status { body, .. } = e else {
        return None;
    };
    let v: Value = serde_json::from_str(body).ok()?;
    v.get("message").and_then(Value::as_str).map(str::to_owned)
}
