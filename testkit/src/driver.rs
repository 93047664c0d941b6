//! Plays Teamtailor's side of the partner protocol: provider keys, signed trigger webhooks with
//! the documented body. Used by the demo and the tests.
use bytes::Bytes;
use hirebridge::teamtailor::{provider_key, signature};
use hirebridge::SecretString;
use serde_json::{json, Value};

use crate::sandbox::{Region, Sandbox};

/// A partner listing as Teamtailor holds it.
pub struct Teamtailor {
    pub partner_api_key: SecretString,
    pub webhook_secret: SecretString,
}

/// A candidate moved into a stage that has the trigger.
#[derive(Clone, Debug)]
pub struct Move {
    pub event_id: String,
    pub result_id: String,
    pub candidate_id: u64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub department: Option<String>,
    /// (job id, title, stage name); `None` in bulk mode.
    pub job: Option<(u64, String, String)>,
    pub webhook_data: Value,
    /// Candidate custom fields as Teamtailor sends them: `[{"api-name": {"value", "type"}}]`.
    pub custom_fields: Value,
    /// (file name, short-lived URL)
    pub resume: Option<(String, String)>,
    pub uploads: Vec<(String, String)>,
    /// The Teamtailor user who triggered it (`job.triggered-by.id`).
    pub triggered_by: u64,
    /// The stack the company is on: its partner result (the `update-url`) is there.
    pub stack: Region,
}

impl Move {
    pub fn new(candidate_id: u64, email: &str, job: Option<(u64, &str, &str)>) -> Self {
        Move {
            event_id: uuid::Uuid::new_v4().to_string(),
            result_id: uuid::Uuid::new_v4().to_string(),
            candidate_id,
            first_name: "Juston".into(),
            last_name: "Becker".into(),
            email: email.into(),
            department: Some("Product development".into()),
            job: job.map(|(id, title, stage)| (id, title.to_owned(), stage.to_owned())),
            webhook_data: json!({}),
            custom_fields: json!([{"has-driver-license": {"value": true, "type": "boolean"}}]),
            resume: None,
            uploads: vec![],
            triggered_by: 31,
            stack: Region::Eu,
        }
    }

    pub fn update_url(&self) -> String {
        let host = match self.stack {
            Region::Eu => "api.teamtailor.com",
            Region::Na => "api.na.teamtailor.com",
        };
        format!("https://{host}/partner/v1/partner-results/{}", self.result_id)
    }

    /// The webhook body, shaped like Teamtailor's documented example.
    pub fn body(&self) -> Value {
        let mut candidate = json!({
            "id": self.candidate_id,
            "uuid": uuid::Uuid::new_v4().to_string(),
            "first-name": self.first_name,
            "last-name": self.last_name,
            "email": self.email,
            "phone": "+4670432121",
            "tags": ["developer"],
            "department": self.department,
            "custom-fields": self.custom_fields,
            "uploads": self.uploads.iter().map(|(n, u)| json!({"file-name": n, "url": u})).collect::<Vec<_>>(),
        });
        if let Some((name, url)) = &self.resume {
            candidate["resume"] = json!({"file-name": name, "url": url});
        }
        if let Some((id, title, stage)) = &self.job {
            candidate["job"] = json!({
                "id": id, "title": title, "stage-id": 1, "stage": stage, "tags": [], "trigger-id": 1,
                "custom-fields": [], "status": {"rejected": false},
                "triggered-by": {"id": self.triggered_by, "email": "recruiter@example.com", "name": "Rita Recruiter"}
            });
        }
        json!({
            "partner-event": {
                "id": self.event_id,
                "webhook-data": self.webhook_data,
                "partner-result": {"id": self.result_id, "status": "sending", "update-url": self.update_url()},
                "candidate": candidate,
            },
            "company": {"uuid": "vAXspNm0J2Y", "name": "Sandbox Company"}
        })
    }
}

impl Teamtailor {
    /// The provider key for an activation form's values (an HS256 JWT).
    pub fn provider_key(&self, claims: &Value) -> String {
        provider_key::encode_jwt(claims, &self.partner_api_key)
    }

    pub fn signature(&self, event_id: &str, t: i64) -> String {
        signature::sign(t, event_id, &self.webhook_secret)
    }

    /// Teamtailor fires a trigger: it creates the move's partner result in `sandbox` (status
    /// `sending`, as Teamtailor does before it calls the partner), then sends
    /// [`webhook`](Self::webhook). A sandbox that refuses unregistered results answers `404` to
    /// updates of a result that no trigger created.
    pub async fn fire(
        &self,
        sandbox: &Sandbox,
        integration: &str,
        provider_key: &str,
        mv: &Move,
        now: i64,
    ) -> http::Request<Bytes> {
        sandbox.add_partner_result_on(mv.stack, &mv.result_id).await;
        self.webhook(integration, provider_key, mv, now)
    }

    /// `POST /{integration}/webhook` as Teamtailor sends it (creating no partner result: see
    /// [`fire`](Self::fire)).
    pub fn webhook(
        &self,
        integration: &str,
        provider_key: &str,
        mv: &Move,
        now: i64,
    ) -> http::Request<Bytes> {
        self.webhook_raw(
            integration,
            provider_key,
            &self.signature(&mv.event_id, now),
            Bytes::from(mv.body().to_string()),
        )
    }

    pub fn webhook_raw(
        &self,
        integration: &str,
        provider_key: &str,
        signature: &str,
        body: Bytes,
    ) -> http::Request<Bytes> {
        http::Request::builder()
            .method("POST")
            .uri(format!("/{integration}/webhook"))
            .header("authorization", format!("Bearer {provider_key}"))
            .header("teamtailor-signature", signature)
            .header("content-type", "application/json")
            .body(body)
            .expect("a valid request")
    }

    /// `GET /{integration}/{path}` with the provider key.
    pub fn get(&self, path: &str, provider_key: &str) -> http::Request<Bytes> {
        http::Request::builder()
            .method("GET")
            .uri(path)
            .header("authorization", format!("Bearer {provider_key}"))
            .body(Bytes::new())
            .expect("a valid request")
    }
}

/// An admin call with a JSON body.
pub fn admin(method: &str, path: &str, token: &str, body: Option<&Value>) -> http::Request<Bytes> {
    http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(body.map(|b| Bytes::from(b.to_string())).unwrap_or_default())
        .expect("a valid request")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn firing_a_trigger_creates_its_partner_result_then_sends_the_webhook() {
        let sb = Sandbox::refusing_unregistered();
        let tt = Teamtailor { partner_api_key: "pk".into(), webhook_secret: "ws".into() };
        let mv = Move::new(1, "a@example.com", None);
        let req = tt.fire(&sb, "learnster", "provider-key", &mv, 0).await;
        assert_eq!(req.uri(), "/learnster/webhook");
        assert_eq!(req.headers()["authorization"], "Bearer provider-key");
        assert_eq!(sb.state().await.partner.results[&mv.result_id]["status"], "sending");
    }
}
