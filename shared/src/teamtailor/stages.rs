//! Moving a candidate's job application to the job's next stage (by row order) through the
//! public API: `PATCH /v1/job-applications/{id}` of the `stage` relationship. The application's
//! job and stage are read with `include=job,stage`: Teamtailor gives a relationship's linkage only
//! for what the request includes (docs/contracts.md).
use http::StatusCode;
use serde_json::{json, Value};

use super::public_api::PublicApi;
use crate::outbound::OutboundError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveOutcome {
    Moved {
        stage: String,
    },
    /// The company's key may read but not write job applications.
    NotAllowed,
    AlreadyLast,
    NoApplication,
    Failed(String),
}

impl MoveOutcome {
    /// A sentence for the candidate's card.
    pub fn describe(&self) -> String {
        match self {
            MoveOutcome::Moved { stage } => format!("The candidate was moved to the next stage, {stage}."),
            MoveOutcome::NotAllowed => "The candidate was not moved to the next stage: the company's Teamtailor API key may not write. Give the integration an Admin key with read and write, or move the candidate by hand.".into(),
            MoveOutcome::AlreadyLast => "The candidate is already in the job's last stage, so was not moved.".into(),
            MoveOutcome::NoApplication => "The candidate's application for this job was not found, so was not moved.".into(),
            MoveOutcome::Failed(why) => format!("The candidate was not moved to the next stage ({why}); move them by hand."),
        }
    }
}

fn row_order(stage: &super::public_api::Resource) -> i64 {
    stage.attributes.get("row-order").and_then(Value::as_i64).unwrap_or(i64::MAX)
}

fn safe_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

pub async fn move_to_next_stage(api: &PublicApi<'_>, candidate_id: &str, job_id: &str) -> MoveOutcome {
    if !safe_id(candidate_id) || !safe_id(job_id) {
        return MoveOutcome::NoApplication;
    }
    let failed = |e: OutboundError| match e.status() {
        Some(StatusCode::FORBIDDEN) | Some(StatusCode::UNAUTHORIZED) => MoveOutcome::NotAllowed,
        // Fixed words: Teamtailor's own error text never reaches the card.
        Some(status) => MoveOutcome::Failed(format!("Teamtailor answered {}", status.as_u16())),
        None => MoveOutcome::Failed("Teamtailor did not answer as expected".into()),
    };
    let path = format!("/v1/candidates/{candidate_id}/job-applications?include=job,stage");
    let applications = match api.get_all(&path).await {
        Ok(a) => a,
        Err(e) => return failed(e),
    };
    let Some(application) = applications.iter().find(|a| a.related_id("job") == Some(job_id)) else {
        return MoveOutcome::NoApplication;
    };
    let mut stages = match api.get_all(&format!("/v1/jobs/{job_id}/stages")).await {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    stages.sort_by_key(row_order);
    let current = application.related_id("stage");
    let Some(position) = stages.iter().position(|s| Some(s.id.as_str()) == current) else {
        return MoveOutcome::Failed("the application's stage is not one of the job's stages".into());
    };
    let Some(next) = stages.get(position + 1) else {
        return MoveOutcome::AlreadyLast;
    };
    let body = json!({"data": {
        "id": application.id, "type": "job-applications",
        "relationships": {"stage": {"data": {"type": "stages", "id": next.id}}}
    }});
    match api.patch(&format!("/v1/job-applications/{}", application.id), &body).await {
        Ok(_) => MoveOutcome::Moved { stage: next.attr_str("name").unwrap_or(&next.id).to_owned() },
        Err(e) => failed(e),
    }
}
