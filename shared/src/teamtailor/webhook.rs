//! The trigger webhook body (docs/contracts.md), parsed leniently: kebab-case keys,
//! ids as numbers or strings, `candidate.job` absent in bulk mode, custom fields as a list of
//! one-key objects, unknown fields ignored. Malformed JSON is refused with `400`.
use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::AppError;
use crate::platform::{Listing, Platform};
use crate::web::{self, Request};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Webhook {
    pub partner_event: PartnerEvent,
    #[serde(default)]
    pub company: Option<Company>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PartnerEvent {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default, deserialize_with = "object_or_null")]
    pub webhook_data: Map<String, Value>,
    pub partner_result: PartnerResultRef,
    pub candidate: Candidate,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PartnerResultRef {
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    pub update_url: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Candidate {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub job: Option<Job>,
    #[serde(default)]
    pub recruiter: Option<Person>,
    #[serde(default)]
    pub custom_fields: CustomFields,
    #[serde(default, deserialize_with = "list_or_null")]
    pub uploads: Vec<Upload>,
    #[serde(default)]
    pub resume: Option<Upload>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Job {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub stage_id: Option<String>,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub trigger_id: Option<String>,
    #[serde(default)]
    pub triggered_by: Option<Person>,
    #[serde(default)]
    pub custom_fields: CustomFields,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Person {
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Upload {
    #[serde(default)]
    pub file_name: Option<String>,
    pub url: String,
}

#[derive(Debug, Deserialize)]
pub struct Company {
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// `[{"api-name": {"value": …, "type": "text"}}, …]` as (api-name, field) pairs.
#[derive(Debug, Default)]
pub struct CustomFields(pub Vec<(String, CustomField)>);

#[derive(Debug, Clone)]
pub struct CustomField {
    pub value: Value,
    pub kind: Option<String>,
}

impl CustomFields {
    /// The field with this api-name (case-insensitive, `_` and `-` alike).
    pub fn get(&self, api_name: &str) -> Option<&CustomField> {
        let norm = |s: &str| s.to_ascii_lowercase().replace('_', "-");
        let wanted = norm(api_name);
        self.0.iter().find(|(k, _)| norm(k) == wanted).map(|(_, f)| f)
    }
}

impl<'de> Deserialize<'de> for CustomFields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Option::<Vec<Map<String, Value>>>::deserialize(d)?.unwrap_or_default();
        let fields = raw
            .into_iter()
            .flat_map(|entry| entry.into_iter())
            .map(|(name, v)| {
                let field = match v {
                    Value::Object(mut o) if o.contains_key("value") => CustomField {
                        value: o.remove("value").unwrap_or(Value::Null),
                        kind: o.get("type").and_then(Value::as_str).map(str::to_owned),
                    },
                    other => CustomField { value: other, kind: None },
                };
                (name, field)
            })
            .collect();
        Ok(CustomFields(fields))
    }
}

/// The candidate as a service needs them: both names and a valid e-mail address (phone optional).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Contact {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
}

impl Contact {
    /// The candidate's contact, or a `422` that tells the recruiter what `service` is missing.
    pub fn of(candidate: &Candidate, service: &str) -> Result<Self, AppError> {
        let (first, last, email) = (
            crate::web::present(&candidate.first_name),
            crate::web::present(&candidate.last_name),
            crate::web::present(&candidate.email),
        );
        let missing: Vec<&str> = [
            (first.is_none(), "first name"),
            (last.is_none(), "last name"),
            (email.is_none(), "e-mail address"),
        ]
        .into_iter()
        .filter_map(|(absent, what)| absent.then_some(what))
        .collect();
        if !missing.is_empty() {
            return Err(AppError::unprocessable(format!(
                "{service} needs the candidate's {}; add it to the candidate and move them again.",
                missing.join(" and ")
            )));
        }
        let email = email.unwrap_or_default();
        if !crate::web::valid_email(&email) {
            return Err(AppError::unprocessable(
                "The candidate's e-mail address is not valid; correct it and move the candidate again.",
            ));
        }
        Ok(Contact {
            first_name: first.unwrap_or_default(),
            last_name: last.unwrap_or_default(),
            email,
            phone: crate::web::present(&candidate.phone),
        })
    }
}

impl Webhook {
    /// Receives a trigger webhook: the body bounded and parsed, `Teamtailor-Signature` verified
    /// against the event id, and the `update-url` checked to be a Teamtailor partner result.
    pub fn receive(platform: &Platform, listing: &Listing, req: &Request) -> Result<Self, AppError> {
        let hook = Self::parse(web::bounded_body(req)?)?;
        super::signature::verify(
            web::header(req, "teamtailor-signature"),
            &hook.partner_event.id,
            &listing.webhook_secret,
            platform.now_secs(),
        )?;
        platform.partner_results.resolve(&hook.partner_event.partner_result.update_url)?;
        Ok(hook)
    }

    /// Parses a webhook body. Not JSON, or JSON without the partner event's required parts, is a
    /// `400` that says what is missing.
    pub fn parse(body: &[u8]) -> Result<Self, AppError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| AppError::bad_request(format!("the webhook body is not valid JSON ({e})")))?;
        let hook: Webhook = serde_json::from_value(value).map_err(|e| {
            AppError::bad_request(format!("the webhook body is not a Teamtailor partner event: {e}"))
        })?;
        let id = &hook.partner_event.id;
        if id.is_empty()
            || id.len() > 128
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(AppError::bad_request("partner-event.id must be 1–128 letters, digits, '-' or '_'"));
        }
        if hook.partner_event.partner_result.update_url.len() > 2048 {
            return Err(AppError::bad_request("partner-result.update-url is too long"));
        }
        Ok(hook)
    }
}

fn id_from(v: Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() && s.len() <= 128 => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    id_from(Value::deserialize(d)?)
        .ok_or_else(|| de::Error::custom("expected an id (a number or a short string)"))
}

fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.and_then(id_from))
}

fn object_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
    Ok(Option::<Map<String, Value>>::deserialize(d)?.unwrap_or_default())
}

fn list_or_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS_EXAMPLE: &str = include_str!("../../../tests/fixtures/teamtailor-webhook-docs-example.json");

    #[test]
    fn teamtailors_documented_example_parses() {
        let hook = Webhook::parse(DOCS_EXAMPLE.as_bytes()).unwrap();
        let e = &hook.partner_event;
        assert_eq!(e.id, "f3d7e8e2-da33-4c10-ae5f-0e7f4d46f6d7");
        assert_eq!(e.candidate.id, "54321");
        let job = e.candidate.job.as_ref().unwrap();
        assert_eq!(job.id, "12345");
        assert_eq!(job.stage_id.as_deref(), Some("1"));
        assert_eq!(job.triggered_by.as_ref().unwrap().id.as_deref(), Some("31"));
        assert_eq!(e.candidate.custom_fields.get("social_security_number").unwrap().value, "123456-7890");
        assert_eq!(e.candidate.uploads.len(), 1);
        assert_eq!(hook.company.unwrap().name.as_deref(), Some("Teamtailor"));
    }

    #[test]
    fn bulk_mode_has_no_job_and_odd_fields_are_tolerated() {
        let body = r#"{"partner-event":{"id":"e1","webhook-data":null,
            "partner-result":{"id":7,"update-url":"https://api.teamtailor.com/partner/v1/partner-results/7"},
            "candidate":{"id":"9","custom-fields":null,"uploads":null,"unknown":{"x":1}}}}"#;
        let hook = Webhook::parse(body.as_bytes()).unwrap();
        assert!(hook.partner_event.candidate.job.is_none());
        assert_eq!(hook.partner_event.partner_result.id.as_deref(), Some("7"));
    }

    #[test]
    fn malformed_or_incomplete_bodies_are_400() {
        assert_eq!(Webhook::parse(b"{not json").unwrap_err().status, 400);
        let err = Webhook::parse(br#"{"partner-event":{"id":"e"}}"#).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.detail.contains("partner"), "{}", err.detail);
        let bad_id =
            br#"{"partner-event":{"id":"a b","partner-result":{"update-url":"x"},"candidate":{"id":1}}}"#;
        assert_eq!(Webhook::parse(bad_id).unwrap_err().status, 400);
    }
}
