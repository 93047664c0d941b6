//! Switching Learnster on and off (admin routes), and the integration's records (keys in
//! [`crate::store`]).
use hirebridge::admin::{self, sha256_hex};
use hirebridge::error::AppResult;
use hirebridge::store::Item;
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::api::Credentials;
use crate::{store, Deps, INTEGRATION};

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct TagSwitches {
    #[serde(default = "on")]
    pub title: bool,
    #[serde(default = "on")]
    pub department: bool,
    #[serde(default = "on")]
    pub stage: bool,
}

fn on() -> bool {
    true
}

impl Default for TagSwitches {
    fn default() -> Self {
        TagSwitches { title: true, department: true, stage: true }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Integration {
    pub id: String,
    pub space: String,
    pub vendor_id: String,
    pub tags: TagSwitches,
    pub active: bool,
    pub created_at: i64,
}

fn from_item(item: &Item) -> AppResult<Integration> {
    let value = item.attrs.get("integration").cloned().unwrap_or(Value::Null);
    serde_json::from_value(value).map_err(AppError::internal)
}

/// The active integration a Secret Token belongs to.
pub async fn by_token(deps: &Deps, token: &SecretString) -> AppResult<Option<Integration>> {
    let (pk, sk) = store::token(&sha256_hex(token.expose()));
    let item = deps.platform.store.get(&pk, sk).await?;
    match item {
        Some(item) => Ok(Some(from_item(&item)?).filter(|i| i.active)),
        None => Ok(None),
    }
}

async fn load(deps: &Deps, id: &str) -> AppResult<(Integration, String)> {
    let (pk, sk) = store::integration(id);
    let item = deps
        .platform
        .store
        .get(&pk, sk)
        .await?
        .ok_or_else(|| AppError::not_found(format!("there is no Learnster integration {id}")))?;
    let hash = item.str("token_hash").unwrap_or_default().to_owned();
    Ok((from_item(&item)?, hash))
}

/// The settings and their copy under the token are written together (one transaction): a
/// failure never leaves them apart. A switched-off integration's copy says so (the token then
/// finds an inactive integration and is refused).
async fn save(deps: &Deps, integration: &Integration, token_hash: &str) -> AppResult<()> {
    let value = serde_json::to_value(integration).map_err(AppError::internal)?;
    let (pk, sk) = store::integration(&integration.id);
    let settings = Item::new(pk, sk).with("integration", value.clone()).with("token_hash", token_hash);
    let (pk, sk) = store::token(token_hash);
    let copy = Item::new(pk, sk).with("integration", value);
    match deps.platform.store.put_all(vec![(settings, None), (copy, None)]).await? {
        hirebridge::store::AllOutcome::Written => Ok(()),
        hirebridge::store::AllOutcome::Rejected(_) => {
            Err(AppError::conflict("the integration changed at the same moment; send the change again"))
        }
    }
}

pub async fn by_id(deps: &Deps, id: &str) -> AppResult<Integration> {
    Ok(load(deps, id).await?.0)
}

pub async fn credentials(deps: &Deps, id: &str) -> AppResult<Credentials> {
    deps.platform.secrets.get_json(&store::credentials_secret(id)).await?.ok_or_else(|| {
        AppError::internal(format!("the Learnster credentials of integration {id} are missing"))
    })
}

#[derive(Deserialize)]
struct CreateBody {
    space: String,
    vendor_id: String,
    client_id: String,
    client_secret: SecretString,
    #[serde(default)]
    tags: TagSwitches,
}

#[derive(Deserialize)]
struct UpdateBody {
    tags: PartialTags,
}

#[derive(Deserialize)]
struct PartialTags {
    title: Option<bool>,
    department: Option<bool>,
    stage: Option<bool>,
}

/// A DNS label, since the space becomes part of Learnster's host name.
fn valid_space(space: &str) -> bool {
    let bytes = space.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

fn validate(body: &CreateBody) -> AppResult<()> {
    let mut problems = Vec::new();
    if !valid_space(&body.space) {
        problems.push("space must be your Learnster space's name as in https://<space>.learnster.com (lower-case letters, digits and '-')");
    }
    if uuid::Uuid::parse_str(&body.vendor_id).is_err() {
        problems.push("vendor_id must be the Learnster vendor's UUID");
    }
    if body.client_id.trim().is_empty()
        || body.client_id.len() > 200
        || body.client_id.contains(char::is_whitespace)
    {
        problems.push("client_id must be the API client's ID (no spaces, at most 200 characters)");
    }
    let secret_len = body.client_secret.expose().len();
    if secret_len == 0 || secret_len > 1000 {
        problems.push("client_secret must be the API client's secret (1–1000 characters)");
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::unprocessable(problems.join("; ")))
    }
}

/// `POST /learnster/integrations`: checks the client credentials with Learnster, stores them in
/// Secrets Manager, and answers the Secret Token once.
pub async fn create(deps: &Deps, req: &Request) -> AppResult<Response> {
    admin::write(&deps.platform, req, INTEGRATION, "new integration").await?;
    let body: CreateBody = web::read_json(req)?;
    validate(&body)?;
    let credentials =
        Credentials { client_id: body.client_id.clone(), client_secret: body.client_secret.clone() };
    if let Err(e) = deps.learnster.fetch_token(&body.space, &credentials).await {
        return Err(match e.status() {
            Some(s) if s.is_client_error() => AppError::unprocessable(format!(
                "Learnster did not accept this client ID and secret for space {:?} (it answered {s}); copy them again from Learnster Studio",
                body.space
            )),
            _ => AppError::upstream(format!("{e}; nothing was saved, try again")),
        });
    }
    let id = uuid::Uuid::new_v4().to_string();
    let mut raw = [0u8; 32];
    aws_lc_rs::rand::fill(&mut raw).expect("the system's random source works");
    let secret_token = format!("lst_{}", hex::encode(raw));
    deps.platform
        .secrets
        .put_json(
            &store::credentials_secret(&id),
            &json!({"client_id": credentials.client_id, "client_secret": credentials.client_secret.expose()}),
        )
        .await?;
    let integration = Integration {
        id: id.clone(),
        space: body.space,
        vendor_id: body.vendor_id,
        tags: body.tags,
        active: true,
        created_at: deps.platform.now_secs(),
    };
    save(deps, &integration, &sha256_hex(&secret_token)).await?;
    tracing::info!(integration = %id, "learnster integration switched on");
    Ok(web::json(
        StatusCode::CREATED,
        &json!({
            "id": id,
            "secret_token": secret_token,
            "space": integration.space,
            "vendor_id": integration.vendor_id,
            "tags": integration.tags,
            "active": true,
            "note": "Paste secret_token into Learnster's activation in Teamtailor's marketplace. It is shown only now.",
        }),
    ))
}

pub async fn show(deps: &Deps, req: &Request, id: &str) -> AppResult<Response> {
    admin::require_scope(&deps.platform, req, INTEGRATION).await?;
    let (integration, _) = load(deps, id).await?;
    Ok(web::json(StatusCode::OK, &integration))
}

/// `PUT /learnster/integrations/{id}`: switches tag categories on or off.
pub async fn update(deps: &Deps, req: &Request, id: &str) -> AppResult<Response> {
    admin::write(&deps.platform, req, INTEGRATION, id).await?;
    let body: UpdateBody = web::read_json(req)?;
    let (mut integration, hash) = load(deps, id).await?;
    if !integration.active {
        return Err(AppError::conflict(
            "this integration is switched off; switch Learnster on again to get a new token",
        ));
    }
    let t = &mut integration.tags;
    t.title = body.tags.title.unwrap_or(t.title);
    t.department = body.tags.department.unwrap_or(t.department);
    t.stage = body.tags.stage.unwrap_or(t.stage);
    save(deps, &integration, &hash).await?;
    Ok(web::json(StatusCode::OK, &integration))
}

/// `DELETE /learnster/integrations/{id}`: the token stops working and the credentials are deleted.
pub async fn switch_off(deps: &Deps, req: &Request, id: &str) -> AppResult<Response> {
    admin::write(&deps.platform, req, INTEGRATION, id).await?;
    let (mut integration, hash) = load(deps, id).await?;
    integration.active = false;
    save(deps, &integration, &hash).await?;
    deps.platform.secrets.delete(&store::credentials_secret(id)).await?;
    tracing::info!(integration = %id, "learnster integration switched off");
    Ok(web::empty(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hirebridge::store::{AllOutcome, Cond, ItemStore, MemoryStore, PutOutcome, StoreError};
    use std::sync::Arc;

    /// A store whose single writes fail (as a throttled or failed second write would).
    struct SingleWritesFail(MemoryStore);

    #[async_trait::async_trait]
    impl ItemStore for SingleWritesFail {
        async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
            self.0.get(pk, sk).await
        }
        async fn put(&self, _: Item, _: Option<Cond>) -> Result<PutOutcome, StoreError> {
            Err(StoreError("injected: a single write failed".into()))
        }
        async fn put_all(&self, puts: Vec<(Item, Option<Cond>)>) -> Result<AllOutcome, StoreError> {
            self.0.put_all(puts).await
        }
        async fn delete(&self, _: &str, _: &str) -> Result<(), StoreError> {
            Err(StoreError("injected: a single write failed".into()))
        }
        async fn query(&self, pk: &str, prefix: &str) -> Result<Vec<Item>, StoreError> {
            self.0.query(pk, prefix).await
        }
        async fn query_due(&self, q: &str, before: i64, limit: usize) -> Result<Vec<Item>, StoreError> {
            self.0.query_due(q, before, limit).await
        }
    }

    #[tokio::test]
    async fn settings_and_their_token_copy_are_written_together_never_apart() {
        let config = hirebridge::config::Config::from_lookup(|k| {
            (k == "PUBLIC_BASE_URL").then(|| "https://hb".into())
        })
        .unwrap();
        let mut platform = hirebridge::platform::Platform::in_memory(
            config,
            Arc::new(hirebridge::secrets::MemorySecretStore::default()),
        );
        platform.store = Arc::new(SingleWritesFail(MemoryStore::new()));
        let deps = Deps::new(platform);
        let mut integration = Integration {
            id: "i1".into(),
            space: "acme".into(),
            vendor_id: "v".into(),
            tags: TagSwitches::default(),
            active: true,
            created_at: 0,
        };
        save(&deps, &integration, "hash").await.expect("one round trip, no single write");
        integration.active = false;
        save(&deps, &integration, "hash").await.expect("switched off in one round trip");
        let (pk, sk) = store::token("hash");
        let copy = deps.platform.store.get(&pk, sk).await.unwrap().expect("the copy");
        assert!(!from_item(&copy).unwrap().active, "the token's copy says switched off");
        assert!(!load(&deps, "i1").await.unwrap().0.active);
    }

    #[test]
    fn spaces_must_be_dns_labels() {
        for ok in ["acme", "acme-se", "a1"] {
            assert!(valid_space(ok), "{ok}");
        }
        for bad in ["", "-acme", "Acme", "acme.evil.com", "acme/x", "a b", &"a".repeat(64)] {
            assert!(!valid_space(bad), "{bad}");
        }
    }
}
