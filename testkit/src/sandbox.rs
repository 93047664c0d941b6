//! The sandbox: one handle on the fakes of Teamtailor and the five services, so that the local
//! runner, the demo and the tests run offline. Each service is its own module with its own state
//! ([`crate::teamtailor`], [`crate::partner`], [`crate::learnster`], [`crate::alva`],
//! [`crate::twosecure`], [`crate::sparkhire`], [`crate::stackone`]); this module composes them
//! under one lock, serves them under `/<service>/...` (nested at `/_sandbox` by its users), records
//! every request and can be told to fail ([`crate::common`], `/control/faults`).
//!
//! The fakes are as strict as the contracts in `docs/contracts.md`: a request the real service
//! would refuse gets that service's refusal. Only identities are lenient in [`Sandbox::new`] (the
//! dev runner's): see [`Unregistered`]. The demo and the integration tests use
//! [`Sandbox::refusing_unregistered`] and register the listings, keys and partner results they
//! use, as the real services know them.
use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use tokio::sync::{Mutex, MutexGuard};

pub use crate::alva::{AlvaCandidate, AlvaState, AlvaUser, Grant, TestProfile};
pub use crate::common::{Fault, Recorded, Region, StoredAnswer, Unregistered};
pub use crate::learnster::{LearnsterState, Student, Tag};
pub use crate::partner::{Activation, PartnerState, ResultUpdate};
pub use crate::sparkhire::{Interview, SparkHireJob, SparkHireState, SparkHireUser};
pub use crate::stackone::{StackOneAccount, StackOneState};
pub use crate::teamtailor::{
    Access, ApiKey, Application, CustomFieldValue, Job, Scope, Stage, Team, TeamtailorState, User,
    SANDBOX_COMPANY_ID,
};
pub use crate::twosecure::{OrderStatus, TwoSecureOrder, TwoSecureState};

/// Everything the fakes hold, one part per service.
#[derive(Default, Serialize)]
pub struct SandboxState {
    /// Every request received, in order.
    pub requests: Vec<Recorded>,
    pub faults: Vec<Fault>,
    /// Faults applied after the request was performed: the service did the work, then answered
    /// the fault's status (or answered only after the delay).
    pub faults_after: Vec<Fault>,
    pub unregistered: Unregistered,
    /// Teamtailor's public API: keys, jobs, stages, applications, users, teams, files.
    pub teamtailor: TeamtailorState,
    /// Teamtailor's partner API: listings, partner results, activations.
    pub partner: PartnerState,
    pub learnster: LearnsterState,
    pub alva: AlvaState,
    pub twosecure: TwoSecureState,
    pub sparkhire: SparkHireState,
    pub stackone: StackOneState,
}

/// The former name of [`SandboxState`].
pub type State_ = SandboxState;

/// A handle on the sandbox's state, shared with its router.
#[derive(Clone, Default)]
pub struct Sandbox {
    state: Arc<Mutex<SandboxState>>,
}

impl Sandbox {
    /// A sandbox that takes unregistered keys and partner results to exist ([`Unregistered::Admit`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// A sandbox that knows only what it was told: an unregistered Teamtailor key, partner API key,
    /// Alva or StackOne key is `401`, an unregistered partner result `404`.
    pub fn refusing_unregistered() -> Self {
        let sandbox = Self::default();
        sandbox.state.try_lock().expect("a new sandbox is not locked").unregistered = Unregistered::Refuse;
        sandbox
    }

    pub async fn state(&self) -> MutexGuard<'_, SandboxState> {
        self.state.lock().await
    }

    pub async fn add_fault(&self, fault: Fault) {
        self.state().await.faults.push(fault);
    }

    /// A service that performs the request but answers `fault.status` (e.g. `502`) or answers
    /// only after `fault.delay_ms` (past the caller's time-out).
    pub async fn add_fault_after_performing(&self, fault: Fault) {
        self.state().await.faults_after.push(fault);
    }

    /// Requests to `service` whose method and path match.
    pub async fn count(&self, service: &str, method: &str, path_contains: &str) -> usize {
        self.state()
            .await
            .requests
            .iter()
            .filter(|r| r.service == service && r.method == method && r.path.contains(path_contains))
            .count()
    }

    /// The routes, to be nested under `/_sandbox`.
    pub fn router(&self) -> Router {
        Router::new()
            .merge(crate::teamtailor::routes())
            .merge(crate::partner::routes())
            .merge(crate::learnster::routes())
            .merge(crate::alva::routes())
            .merge(crate::twosecure::routes())
            .merge(crate::sparkhire::routes())
            .merge(crate::stackone::routes())
            .route("/control/faults", post(control_fault))
            .route("/control/jobs", post(control_job))
            .route("/control/state", get(control_state))
            .fallback(unknown_path)
            .layer(middleware::from_fn_with_state(self.clone(), crate::common::record_and_fault))
            .with_state(self.clone())
    }
}

/// A path no fake serves: `404`, in Learnster's (Django's) shape under `/learnster`.
async fn unknown_path(uri: Uri) -> Response {
    if uri.path().trim_start_matches("/_sandbox").starts_with("/learnster/") {
        return crate::learnster::not_found().await;
    }
    (StatusCode::NOT_FOUND, "no such path in the sandbox").into_response()
}

async fn control_fault(State(sb): State<Sandbox>, Json(fault): Json<Fault>) -> StatusCode {
    sb.add_fault(fault).await;
    StatusCode::NO_CONTENT
}

async fn control_job(State(sb): State<Sandbox>, Json(job): Json<Job>) -> StatusCode {
    sb.add_job(job).await;
    StatusCode::NO_CONTENT
}

async fn control_state(State(sb): State<Sandbox>) -> Response {
    let st = sb.state().await;
    Json(serde_json::to_value(&*st).unwrap_or_default()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::testing::*;
    use serde_json::json;

    #[tokio::test]
    async fn the_state_is_served_without_keys_or_credentials() {
        let sb = Sandbox::new();
        sb.add_twosecure_key("secret-2secure-key", "Acme AB").await;
        sb.add_sparkhire_user("secret-sparkhire-key", "Rita", "rita@acme.se", &["Designer"]).await;
        sb.add_read_only_token("secret-teamtailor-key").await;
        let a = send(&sb, request("GET", "/control/state"), None).await;
        assert_eq!(a.status, StatusCode::OK);
        let text = a.body.to_string();
        for secret in ["secret-2secure-key", "secret-sparkhire-key", "secret-teamtailor-key"] {
            assert!(!text.contains(secret), "{secret} is served");
        }
        assert_eq!(a.body["sparkhire"]["jobs"][0]["title"], "Designer");
    }

    #[tokio::test]
    async fn a_job_can_be_added_over_http() {
        let sb = Sandbox::new();
        let job = json!({"id": "7", "title": "Engineer", "department": "R&D"});
        let a =
            send(&sb, request("POST", "/control/jobs").header("content-type", "application/json"), Some(job))
                .await;
        assert_eq!(a.status, StatusCode::NO_CONTENT);
        assert_eq!(sb.state().await.teamtailor.jobs["7"].department.as_deref(), Some("R&D"));
    }

    #[tokio::test]
    async fn an_unknown_service_path_is_not_found() {
        let sb = Sandbox::new();
        assert_eq!(send(&sb, request("GET", "/nowhere/at/all"), None).await.status, StatusCode::NOT_FOUND);
    }
}
