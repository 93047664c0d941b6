//! What a company's Teamtailor API key is: valid on which stack, Admin or not, and whether it may
//! write. Teamtailor documents the company resource (`/v1/company`) as needing an Admin key
//! (`github:Teamtailor/docs`, `source/includes/companies.md.erb`), so reading it tells validity
//! (`401` on a stack that does not know the key) and Admin scope (`403`); a `PATCH /v1/company`
//! that names the company and changes no attribute tells whether the key may write.
use http::StatusCode;
use serde_json::json;

use super::public_api::PublicApi;
use super::Stack;
use crate::config::Config;
use crate::outbound::{HttpClient, OutboundError};
use crate::SecretString;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyCheck {
    /// Valid on `stack`.
    Valid { stack: Stack, scope: Scope, company_ids: Vec<String> },
    /// No stack tried knows the key (`401` on each).
    Invalid,
    /// Teamtailor did not answer as expected; the reason is for the log only.
    Unchecked(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Not an Admin key (the company resource answered `403`).
    NotAdmin,
    /// An Admin key; whether it may write, when that was asked (`None`: not asked, or unknown).
    Admin { can_write: Option<bool> },
}

/// Where a key is tried: `stacks` in order (a key is sent to a stack only when the ones before
/// did not know it).
pub struct Probe<'a> {
    pub http: &'a HttpClient,
    pub config: &'a Config,
    pub stacks: &'a [Stack],
    /// Also find out whether the key may write (a no-op `PATCH`).
    pub write: bool,
}

impl Probe<'_> {
    pub async fn check(&self, token: &SecretString) -> KeyCheck {
        for stack in self.stacks {
            let base = self.config.teamtailor_base(*stack);
            let api = PublicApi::new(self.http, base, &self.config.teamtailor_api_version, token);
            let company = match api.get("/v1/company").await {
                Ok(doc) => match doc.resource() {
                    Ok(company) => company,
                    Err(e) => return KeyCheck::Unchecked(e.to_string()),
                },
                Err(e) if e.status() == Some(StatusCode::UNAUTHORIZED) => continue,
                Err(e) if e.status() == Some(StatusCode::FORBIDDEN) => {
                    return KeyCheck::Valid { stack: *stack, scope: Scope::NotAdmin, company_ids: vec![] }
                }
                Err(e) => return KeyCheck::Unchecked(e.to_string()),
            };
            let mut company_ids = vec![company.id.clone()];
            company_ids.extend(company.attr_str("uuid").map(str::to_owned));
            let can_write = match self.write {
                false => None,
                true => {
                    let noop = json!({"data": {"type": "companies", "id": company.id, "attributes": {}}});
                    writes(api.patch("/v1/company", &noop).await)
                }
            };
            return KeyCheck::Valid { stack: *stack, scope: Scope::Admin { can_write }, company_ids };
        }
        KeyCheck::Invalid
    }
}

fn writes<T>(answer: Result<T, OutboundError>) -> Option<bool> {
    match answer {
        Ok(_) => Some(true),
        Err(e) if e.status() == Some(StatusCode::FORBIDDEN) => Some(false),
        Err(e) => {
            tracing::warn!(error = %e, "teamtailor write probe failed");
            None
        }
    }
}
