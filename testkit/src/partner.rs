//! Teamtailor's partner API (`/_sandbox/teamtailor/partner/v1/...`; docs/contracts.md §2,
//! docs/contracts.md §2):
//! - `X-Api-Version: 20180828` on every call, else `406`;
//! - partner results: `PUT` on the `update-url` path only (`/partner-results/{id}`), with
//!   `Authorization: Bearer <partner API key>` (else `401`), `Content-Type:
//!   application/vnd.api+json` (else `415`), `{"data":{"type":"partner-results","id":<the URL's id>,
//!   "attributes":{...}}}` (else `400`); an unknown result is `404`; invalid attributes are `422`
//!   (`status` ∈ sending, sent, pending, completed, failed; `url` http(s); `assessment.score`
//!   0–100; `grade`; `attachments` of exactly `url` and `description`; `details` at most two
//!   levels deep; no `candidate-id` on update);
//! - partner activations: a JSON:API list, `page[size]` at most 30, each `provider-key` a JWE
//!   (`alg: dir`) made with the listing's webhook secret; two to a page, so that callers follow
//!   `links.next`.
use std::collections::{BTreeSet, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, put};
use axum::Router;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::common::{self, Here, Region, Unregistered};
use crate::jsonapi;
use crate::sandbox::{Sandbox, SandboxState};

pub const PARTNER_API_VERSION: &str = "20180828";
pub const RESULT_STATUSES: &[&str] = &["sending", "sent", "pending", "completed", "failed"];
const GRADES: &[&str] = &["top_fit", "might_be_fit", "might_not_be_fit", "unknown"];

/// One update of a partner result, as received.
#[derive(Clone, Debug, Serialize)]
pub struct ResultUpdate {
    pub id: String,
    pub attributes: Value,
}

/// An activation of the listing, as `GET /partner-activations` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct Activation {
    /// A compact JWE of the provider key, made with the listing's webhook secret.
    pub provider_key: String,
    pub company_uuid: String,
    pub company_name: String,
    /// The stack the company is on: only that stack lists it.
    pub region: Region,
}

#[derive(Default, Serialize)]
pub struct PartnerState {
    /// The listings' partner API keys; see [`Unregistered`] for keys not in here.
    #[serde(skip)]
    pub listings: BTreeSet<String>,
    /// Partner results by id: their attributes as the card now shows them (each update merged in).
    pub results: HashMap<String, Value>,
    /// The stack of each partner result on NA; every other one is on EU. A result is updated
    /// only on its own stack (`404` on the other).
    pub result_regions: HashMap<String, Region>,
    /// Every partner-result update, in order.
    pub updates: Vec<ResultUpdate>,
    pub activations: Vec<Activation>,
}

impl Sandbox {
    /// A listing's partner API key (the Integration's Hub "API key").
    pub async fn add_listing(&self, partner_api_key: &str) {
        self.state().await.partner.listings.insert(partner_api_key.into());
    }

    /// A partner result Teamtailor created (status `sending`) when it sent a trigger.
    pub async fn add_partner_result(&self, id: &str) {
        self.state().await.partner.results.entry(id.into()).or_insert_with(|| json!({"status": "sending"}));
    }

    /// A partner result of a company on the `region` stack.
    pub async fn add_partner_result_on(&self, region: Region, id: &str) {
        self.add_partner_result(id).await;
        self.state().await.partner.result_regions.insert(id.into(), region);
    }

    /// Adds an activation (on the EU stack) of the listing whose webhook secret is `webhook_secret`.
    pub async fn add_activation(
        &self,
        provider_key: &str,
        webhook_secret: &hirebridge::SecretString,
        company_uuid: &str,
        company_name: &str,
    ) {
        self.add_activation_on(Region::Eu, provider_key, webhook_secret, (company_uuid, company_name)).await;
    }

    /// Adds an activation of a company on the `region` stack.
    pub async fn add_activation_on(
        &self,
        region: Region,
        provider_key: &str,
        webhook_secret: &hirebridge::SecretString,
        (company_uuid, company_name): (&str, &str),
    ) {
        let jwe =
            hirebridge::teamtailor::activations::encrypt(provider_key, webhook_secret, "A128GCM", rand_iv());
        self.state().await.partner.activations.push(Activation {
            provider_key: jwe,
            company_uuid: company_uuid.into(),
            company_name: company_name.into(),
            region,
        });
    }
}

fn rand_iv() -> [u8; 12] {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut iv = [0u8; 12];
    iv.copy_from_slice(&bytes[..12]);
    iv
}

pub(crate) fn routes() -> Router<Sandbox> {
    let mut router = Router::new();
    for region in Region::ALL {
        let at = |path: &str| format!("{}/partner/v1{path}", region.segment());
        router = router
            .route(&at("/partner-results/{id}"), put(put_partner_result))
            .route(&at("/partner-activations"), get(list_activations));
    }
    router
}

fn version_refused(headers: &HeaderMap) -> Option<Response> {
    let given = common::header(headers, "x-api-version").unwrap_or_default();
    (given != PARTNER_API_VERSION).then(|| {
        jsonapi::error(
            StatusCode::NOT_ACCEPTABLE,
            "406",
            "Not acceptable",
            &format!("The partner API needs X-Api-Version: {PARTNER_API_VERSION}; this request specified '{given}'."),
        )
    })
}

fn unauthorized() -> Response {
    jsonapi::error(StatusCode::UNAUTHORIZED, "401", "Unauthorized", "The partner API key is not valid.")
}

fn known_listing(st: &SandboxState, key: &str) -> bool {
    st.unregistered == Unregistered::Admit || st.partner.listings.contains(key)
}

/// JSON nested at most `levels` deep (an object or list counts one level).
fn depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The documented rules on a result's attributes; the first broken one, as a 422.
fn check_attributes(attributes: &Map<String, Value>) -> Result<(), Response> {
    let invalid =
        |name: &str, message: &str| Err(jsonapi::invalid(&format!("/data/attributes/{name}"), name, message));
    if let Some(status) = attributes.get("status") {
        if !status.as_str().is_some_and(|s| RESULT_STATUSES.contains(&s)) {
            return invalid("status", "is not included in the list");
        }
    }
    if attributes.contains_key("candidate-id") {
        return invalid("candidate-id", "cannot be changed");
    }
    if let Some(url) = attributes.get("url").filter(|u| !u.is_null()) {
        let ok = url
            .as_str()
            .and_then(|u| url::Url::parse(u).ok())
            .is_some_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok {
            return invalid("url", "must be a valid HTTP or HTTPS URL");
        }
    }
    if let Some(assessment) = attributes.get("assessment").filter(|a| !a.is_null()) {
        if let Some(score) = assessment.get("score").filter(|s| !s.is_null()) {
            if !score.as_f64().is_some_and(|s| (0.0..=100.0).contains(&s)) {
                return invalid("assessment", "score must be between 0 and 100");
            }
        }
        if let Some(grade) = assessment.get("grade").filter(|g| !g.is_null()) {
            if !grade.as_str().is_some_and(|g| GRADES.contains(&g)) {
                return invalid("assessment", "grade is not included in the list");
            }
        }
    }
    if let Some(attachments) = attachments_of(attributes) {
        let exact = attachments.iter().all(|a| {
            a.as_object().is_some_and(|o| {
                o.len() == 2
                    && o.get("url").is_some_and(Value::is_string)
                    && o.get("description").is_some_and(Value::is_string)
            })
        });
        if !exact {
            return invalid("attachments", "must be a list of objects with exactly url and description");
        }
    } else if attributes.get("attachments").is_some_and(|a| !a.is_null()) {
        return invalid("attachments", "must be a list");
    }
    if let Some(details) = attributes.get("details").filter(|d| !d.is_null()) {
        if !details.is_object() || depth(details) > 2 {
            return invalid("details", "must be an object at most 2 levels deep");
        }
    }
    Ok(())
}

fn attachments_of(attributes: &Map<String, Value>) -> Option<&Vec<Value>> {
    attributes.get("attachments").and_then(Value::as_array)
}

async fn put_partner_result(
    State(sb): State<Sandbox>,
    here: Here,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = version_refused(&headers) {
        return refused;
    }
    let mut st = sb.state().await;
    let Some(key) = common::bearer(&headers) else {
        return unauthorized();
    };
    if !known_listing(&st, &key) {
        return unauthorized();
    }
    if let Err(refused) = jsonapi::require_media_type(&headers) {
        return refused;
    }
    let data = match jsonapi::resource_object(&body, "partner-results", &id) {
        Ok(d) => d,
        Err(refused) => return refused,
    };
    let exists = st.partner.results.contains_key(&id);
    if exists && st.partner.result_regions.get(&id).copied().unwrap_or_default() != here.region {
        return jsonapi::not_found(&id);
    }
    if !exists && st.unregistered == Unregistered::Refuse {
        return jsonapi::not_found(&id);
    }
    let attributes = match data.get("attributes") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return jsonapi::invalid("/data/attributes", "attributes", "must be an object"),
    };
    if let Err(refused) = check_attributes(&attributes) {
        return refused;
    }
    let partner = &mut st.partner;
    let card = partner.results.entry(id.clone()).or_insert_with(|| json!({"status": "sending"}));
    if let Some(card) = card.as_object_mut() {
        card.extend(attributes.clone());
    }
    let card = card.clone();
    partner.updates.push(ResultUpdate { id: id.clone(), attributes: Value::Object(attributes) });
    let url = format!("{}{}/partner/v1/partner-results/{id}", here.origin, here.region.segment());
    jsonapi::document(
        StatusCode::OK,
        PARTNER_API_VERSION,
        json!({"data": {"id": id, "type": "partner-results", "links": {"self": url}, "attributes": card}}),
    )
}

/// The partner API key of a list call: the docs show `Token <key>` (and used to show
/// `Token token=<key>`), the results examples `Bearer <key>`; any of them.
fn partner_key(headers: &HeaderMap) -> Option<String> {
    let auth = common::header(headers, "authorization")?;
    let key = auth
        .strip_prefix("Token token=")
        .or_else(|| auth.strip_prefix("Token "))
        .or_else(|| auth.strip_prefix("Bearer "))?;
    (!key.is_empty()).then(|| key.to_owned())
}

/// Activations two to a page, so that callers must follow `links.next`.
async fn list_activations(State(sb): State<Sandbox>, here: Here, headers: HeaderMap) -> Response {
    if let Some(refused) = version_refused(&headers) {
        return refused;
    }
    let st = sb.state().await;
    if !partner_key(&headers).is_some_and(|k| known_listing(&st, &k)) {
        return unauthorized();
    }
    let page = match jsonapi::page(&here) {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let rows: Vec<Value> = st
        .partner
        .activations
        .iter()
        .filter(|a| a.region == here.region)
        .enumerate()
        .map(|(i, a)| {
            json!({"id": (i + 1).to_string(), "type": "partner-activations", "attributes": {
                "provider-key": a.provider_key, "company-uuid": a.company_uuid, "company-name": a.company_name}})
        })
        .collect();
    let url = format!("{}{}/partner/v1/partner-activations", here.origin, here.region.segment());
    let (data, links, meta) = jsonapi::paged(&rows, page, Some(2), &here, &url);
    jsonapi::document(
        StatusCode::OK,
        PARTNER_API_VERSION,
        json!({"data": data, "links": links, "meta": meta}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::testing::*;

    fn put_result(id: &str) -> axum::http::request::Builder {
        request("PUT", &format!("/teamtailor/partner/v1/partner-results/{id}"))
            .header("authorization", "Bearer partner-key")
            .header("x-api-version", PARTNER_API_VERSION)
            .header("content-type", jsonapi::MEDIA_TYPE)
    }

    fn result(id: &str, attributes: Value) -> Value {
        json!({"data": {"type": "partner-results", "id": id, "attributes": attributes}})
    }

    #[tokio::test]
    async fn a_conforming_result_update_is_stored_and_answered_with_the_document() {
        let sb = Sandbox::new();
        let body = result(
            "r1",
            json!({"status": "completed", "summary": "Passed", "url": "https://x.example/r",
            "assessment": {"score": 82, "grade": "top_fit"}, "attachments": [{"url": "https://x.example/r", "description": "Report"}],
            "details": {"rating": {"value": "10"}}}),
        );
        let a = send(&sb, put_result("r1"), Some(body)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.body["data"]["type"], "partner-results");
        assert_eq!(a.headers["x-api-version"], PARTNER_API_VERSION);
        let st = sb.state().await;
        assert_eq!(st.partner.results["r1"]["status"], "completed");
        assert_eq!(st.partner.updates.len(), 1);
    }

    #[tokio::test]
    async fn updates_merge_into_what_the_card_shows() {
        let sb = Sandbox::new();
        send(&sb, put_result("r1"), Some(result("r1", json!({"status": "sent", "summary": "Invited"}))))
            .await;
        send(
            &sb,
            put_result("r1"),
            Some(result("r1", json!({"status": "completed", "url": "https://x.example"}))),
        )
        .await;
        let st = sb.state().await;
        assert_eq!(
            st.partner.results["r1"],
            json!({"status": "completed", "summary": "Invited", "url": "https://x.example"})
        );
    }

    #[tokio::test]
    async fn a_result_update_without_the_partner_api_version_is_refused_with_406() {
        let sb = Sandbox::new();
        for version in [None, Some("20240904")] {
            let mut req = request("PUT", "/teamtailor/partner/v1/partner-results/r1")
                .header("authorization", "Bearer partner-key")
                .header("content-type", jsonapi::MEDIA_TYPE);
            if let Some(v) = version {
                req = req.header("x-api-version", v);
            }
            let a = send(&sb, req, Some(result("r1", json!({"status": "sent"})))).await;
            assert_eq!(a.status, StatusCode::NOT_ACCEPTABLE, "{version:?}");
        }
    }

    #[tokio::test]
    async fn a_result_update_without_a_bearer_partner_key_is_refused_with_401() {
        let sb = Sandbox::new();
        for auth in [None, Some("Token partner-key"), Some("Bearer ")] {
            let mut req = request("PUT", "/teamtailor/partner/v1/partner-results/r1")
                .header("x-api-version", PARTNER_API_VERSION)
                .header("content-type", jsonapi::MEDIA_TYPE);
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let a = send(&sb, req, Some(result("r1", json!({"status": "sent"})))).await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        }
    }

    #[tokio::test]
    async fn an_unknown_partner_key_or_result_is_refused_when_the_sandbox_refuses_unregistered_ones() {
        let sb = Sandbox::refusing_unregistered();
        sb.add_partner_result("r1").await;
        let a = send(&sb, put_result("r1"), Some(result("r1", json!({"status": "sent"})))).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "the listing's key is not known");
        sb.add_listing("partner-key").await;
        let a = send(&sb, put_result("r2"), Some(result("r2", json!({"status": "sent"})))).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "Teamtailor never created r2");
        let a = send(&sb, put_result("r1"), Some(result("r1", json!({"status": "sent"})))).await;
        assert_eq!(a.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_result_update_that_is_not_json_api_is_refused_with_415() {
        let sb = Sandbox::new();
        let req = request("PUT", "/teamtailor/partner/v1/partner-results/r1")
            .header("authorization", "Bearer partner-key")
            .header("x-api-version", PARTNER_API_VERSION)
            .header("content-type", "application/json");
        let a = send(&sb, req, Some(result("r1", json!({"status": "sent"})))).await;
        assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(sb.state().await.partner.updates.is_empty());
    }

    #[tokio::test]
    async fn a_result_update_without_its_id_or_type_is_refused_with_400() {
        let sb = Sandbox::new();
        let cases = [
            (json!({"data": {"type": "partner-results", "attributes": {"status": "sent"}}}), "109"),
            (
                json!({"data": {"id": "r2", "type": "partner-results", "attributes": {"status": "sent"}}}),
                "110",
            ),
            (json!({"data": {"id": "r1", "attributes": {"status": "sent"}}}), "106"),
            (
                json!({"data": {"id": "r1", "type": "partner-result", "attributes": {"status": "sent"}}}),
                "101",
            ),
            (json!({"status": "sent"}), "106"),
        ];
        for (body, code) in cases {
            let a = send(&sb, put_result("r1"), Some(body.clone())).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(a.body["errors"][0]["code"], code, "{body}");
        }
        assert!(sb.state().await.partner.updates.is_empty());
    }

    #[tokio::test]
    async fn partner_results_are_written_only_on_their_update_url_path() {
        let sb = Sandbox::new();
        let body = result("r1", json!({"status": "sent"}));
        for (method, path) in [
            ("PUT", "/teamtailor/v1/partner-results/r1"),
            ("PUT", "/teamtailor/partner/v1/partner-results"),
            ("POST", "/teamtailor/partner/v1/partner-results/r1"),
        ] {
            let req = request(method, path)
                .header("authorization", "Bearer partner-key")
                .header("x-api-version", PARTNER_API_VERSION)
                .header("content-type", jsonapi::MEDIA_TYPE);
            let a = send(&sb, req, Some(body.clone())).await;
            assert!(
                a.status == StatusCode::NOT_FOUND || a.status == StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {}",
                a.status
            );
        }
        assert!(sb.state().await.partner.updates.is_empty());
    }

    #[tokio::test]
    async fn a_result_with_an_unknown_status_is_refused_with_422() {
        let sb = Sandbox::new();
        let a = send(&sb, put_result("r1"), Some(result("r1", json!({"status": "done"})))).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(a.body["errors"][0]["source"]["pointer"], "/data/attributes/status");
        for status in RESULT_STATUSES {
            let a = send(&sb, put_result("r1"), Some(result("r1", json!({"status": status})))).await;
            assert_eq!(a.status, StatusCode::OK, "{status}");
        }
    }

    #[tokio::test]
    async fn a_result_breaking_an_attribute_rule_is_refused_with_422() {
        let sb = Sandbox::new();
        for attributes in [
            json!({"status": "completed", "assessment": {"score": 101}}),
            json!({"status": "completed", "assessment": {"score": 50, "grade": "great"}}),
            json!({"status": "completed", "url": "ftp://x.example/r"}),
            json!({"status": "completed", "attachments": [{"url": "https://x.example"}]}),
            json!({"status": "completed", "attachments": [{"url": "https://x.example", "description": "d", "extra": 1}]}),
            json!({"status": "completed", "details": {"a": {"b": {"c": 1}}}}),
            json!({"status": "completed", "candidate-id": 333}),
        ] {
            let a = send(&sb, put_result("r1"), Some(result("r1", attributes.clone()))).await;
            assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{attributes}");
        }
    }

    fn activations(query: &str) -> axum::http::request::Builder {
        request("GET", &format!("/teamtailor/partner/v1/partner-activations{query}"))
            .header("authorization", "Token partner-key")
            .header("x-api-version", PARTNER_API_VERSION)
    }

    #[tokio::test]
    async fn activations_are_listed_as_jwe_two_to_a_page() {
        let sb = Sandbox::new();
        let secret = hirebridge::SecretString::from("listing-webhook-secret");
        for i in 0..3 {
            sb.add_activation(&format!("key-{i}"), &secret, &format!("c{i}"), "Acme AB").await;
        }
        let a = send(&sb, activations("?page%5Bsize%5D=30"), None).await;
        assert_eq!(a.status, StatusCode::OK);
        let data = a.body["data"].as_array().unwrap();
        assert_eq!(data.len(), 2);
        let jwe = data[0]["attributes"]["provider-key"].as_str().unwrap();
        assert_eq!(jwe.split('.').count(), 5, "a compact JWE");
        assert_eq!(hirebridge::teamtailor::activations::decrypt(jwe, &secret).as_deref(), Some("key-0"));
        assert_eq!(a.body["meta"], json!({"record-count": 3, "page-count": 2}));
        let next =
            a.body["links"]["next"].as_str().unwrap().trim_start_matches("http://sandbox.test/_sandbox");
        let a = send(&sb, activations("").uri(format!("/_sandbox{next}")), None).await;
        assert_eq!(a.body["data"].as_array().unwrap().len(), 1);
        assert!(a.body["links"].get("next").is_none());
    }

    #[tokio::test]
    async fn activations_need_the_partner_api_version_and_key() {
        let sb = Sandbox::new();
        let no_version = request("GET", "/teamtailor/partner/v1/partner-activations")
            .header("authorization", "Token partner-key");
        assert_eq!(send(&sb, no_version, None).await.status, StatusCode::NOT_ACCEPTABLE);
        let no_key = request("GET", "/teamtailor/partner/v1/partner-activations")
            .header("x-api-version", PARTNER_API_VERSION);
        assert_eq!(send(&sb, no_key, None).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(send(&sb, activations("?page%5Bsize%5D=31"), None).await.status, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn a_partner_result_is_updated_only_on_its_companys_stack() {
        let sb = Sandbox::refusing_unregistered();
        sb.add_listing("pk").await;
        sb.add_partner_result_on(Region::Na, "na1").await;
        let body = result("na1", json!({"status": "sent"}));
        let on = |segment: &str| {
            request("PUT", &format!("{segment}/partner/v1/partner-results/na1"))
                .header("authorization", "Bearer pk")
                .header("x-api-version", PARTNER_API_VERSION)
                .header("content-type", "application/vnd.api+json")
        };
        assert_eq!(send(&sb, on("/teamtailor"), Some(body.clone())).await.status, StatusCode::NOT_FOUND);
        let a = send(&sb, on("/teamtailor-na"), Some(body)).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body["data"]["links"]["self"].as_str().unwrap().contains("/teamtailor-na/partner/v1/"));
    }

    #[tokio::test]
    async fn each_stack_lists_only_its_own_companies_activations() {
        let sb = Sandbox::refusing_unregistered();
        sb.add_listing("pk").await;
        let secret = hirebridge::SecretString::new("ws".to_owned());
        sb.add_activation("eu-key", &secret, "eu-co", "EU AB").await;
        sb.add_activation_on(Region::Na, "na-key", &secret, ("na-co", "NA Inc")).await;
        for (segment, company) in [("/teamtailor", "eu-co"), ("/teamtailor-na", "na-co")] {
            let req = request("GET", &format!("{segment}/partner/v1/partner-activations"))
                .header("authorization", "Token pk")
                .header("x-api-version", PARTNER_API_VERSION);
            let a = send(&sb, req, None).await;
            assert_eq!(a.status, StatusCode::OK);
            let listed: Vec<&str> = a.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["attributes"]["company-uuid"].as_str().unwrap())
                .collect();
            assert_eq!(listed, vec![company], "{segment}");
        }
    }
}
