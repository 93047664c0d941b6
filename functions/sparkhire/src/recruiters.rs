//! Recruiters' Spark Hire keys, one per company and user: the table's [`KeyRecord`] says which
//! version is current (read on every use, so a disconnect or a new key counts at once on every
//! instance), the versioned secret holds the key (cached for good: a version never changes).
use hirebridge::error::AppResult;
use hirebridge::{AppError, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::store::{self, KeyRecord, Recruiter};
use crate::Deps;

/// A connected key and what the table says about it.
pub struct Connected {
    pub record: KeyRecord,
    pub api_key: SecretString,
}

#[derive(Deserialize)]
struct StoredKey {
    api_key: SecretString,
}

/// A key as it was kept before keys were per company.
#[derive(Deserialize)]
struct LegacyKey {
    api_key: SecretString,
    #[serde(default)]
    name: String,
    #[serde(default)]
    company_uuid: Option<String>,
}

/// At most this many versions are cached per instance (then the cache starts again).
const CACHED_KEYS: usize = 1_000;

pub fn check_user(user: &str) -> AppResult<()> {
    let ok =
        !user.is_empty() && user.len() <= 64 && user.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ok.then_some(())
        .ok_or_else(|| AppError::unprocessable("the Teamtailor user id must be 1–64 letters, digits or '-'"))
}

/// The recruiter's key for this company, if they connected one (or had one before keys were
/// per company, which is moved over now).
pub async fn key(deps: &Deps, r: &Recruiter) -> AppResult<Option<Connected>> {
    let item = deps.platform.store.get(&store::key_pk(&r.user), &store::key_sk(&r.company)).await?;
    let Some(record) = item.as_ref().and_then(KeyRecord::from_item) else {
        return migrate_legacy(deps, r).await;
    };
    let name = store::key_secret(r, &record.version);
    if let Some(api_key) = deps.keys.read().await.get(&name).cloned() {
        return Ok(Some(Connected { record, api_key }));
    }
    let Some(stored) = deps.platform.secrets.get_json::<StoredKey>(&name).await? else {
        tracing::warn!(user = %r.user, "the key's secret is missing; the recruiter must connect again");
        return Ok(None);
    };
    let mut cache = deps.keys.write().await;
    if cache.len() >= CACHED_KEYS {
        cache.clear();
    }
    cache.insert(name, stored.api_key.clone());
    Ok(Some(Connected { record, api_key: stored.api_key }))
}

/// Stores `api_key` as the recruiter's new key: a new version's secret, then the record that
/// makes it current, then the previous version is deleted.
pub async fn save(
    deps: &Deps,
    r: &Recruiter,
    api_key: &SecretString,
    name: &str,
    webhook: bool,
) -> AppResult<KeyRecord> {
    let platform = &deps.platform;
    let record = KeyRecord {
        recruiter: r.clone(),
        version: uuid::Uuid::new_v4().simple().to_string(),
        name: name.to_owned(),
        webhook,
    };
    let previous = platform.store.get(&store::key_pk(&r.user), &store::key_sk(&r.company)).await?;
    platform
        .secrets
        .put_json(&store::key_secret(r, &record.version), &json!({"api_key": api_key.expose()}))
        .await?;
    platform.store.put(record.item(), None).await?;
    if let Some(old) = previous.as_ref().and_then(KeyRecord::from_item) {
        forget_version(deps, &old).await;
    }
    Ok(record)
}

/// Records that hirebridge's events webhook is registered for this key.
pub async fn mark_webhook(deps: &Deps, record: &KeyRecord) -> AppResult<()> {
    let marked = KeyRecord { webhook: true, ..record.clone() };
    deps.platform.store.put(marked.item(), None).await?;
    Ok(())
}

/// Disconnects `user` from `company`, or from every company when none is named.
pub async fn remove(deps: &Deps, user: &str, company: Option<&str>) -> AppResult<()> {
    let store = &deps.platform.store;
    let pk = store::key_pk(user);
    let items = match company {
        Some(c) => store.get(&pk, &store::key_sk(c)).await?.into_iter().collect(),
        None => store.query(&pk, store::COMPANY_SK).await?,
    };
    let records: Vec<KeyRecord> = items.iter().filter_map(KeyRecord::from_item).collect();
    for record in &records {
        // The record first: from then on no instance uses the key.
        store.delete(&pk, &store::key_sk(&record.recruiter.company)).await?;
        forget_version(deps, record).await;
    }
    // A key from before keys were per company must not be moved over again.
    deps.platform.secrets.delete(&store::legacy_key_secret(user)).await?;
    Ok(())
}

async fn forget_version(deps: &Deps, record: &KeyRecord) {
    let name = store::key_secret(&record.recruiter, &record.version);
    deps.keys.write().await.remove(&name);
    if let Err(e) = deps.platform.secrets.delete(&name).await {
        tracing::warn!(error = %e, "an old version of a recruiter's key was not deleted");
    }
}

/// A key kept under `tenant/sparkhire/users/{user}` is moved to this company's key when it names
/// this company; one with no company, or another company, is never used (its recruiter connects
/// again). Checked once per recruiter and instance.
async fn migrate_legacy(deps: &Deps, r: &Recruiter) -> AppResult<Option<Connected>> {
    let memo = r.id();
    if deps.legacy_checked.read().await.contains(&memo) {
        return Ok(None);
    }
    let legacy_name = store::legacy_key_secret(&r.user);
    let legacy: Option<LegacyKey> = deps.platform.secrets.get_json(&legacy_name).await?;
    let Some(legacy) = legacy.filter(|l| l.company_uuid.as_deref() == Some(r.company.as_str())) else {
        let mut checked = deps.legacy_checked.write().await;
        if checked.len() >= CACHED_KEYS {
            checked.clear();
        }
        checked.insert(memo);
        return Ok(None);
    };
    // Its events webhook was registered with the old shared credentials: register again.
    let record = save(deps, r, &legacy.api_key, &legacy.name, false).await?;
    deps.platform.secrets.delete(&legacy_name).await?;
    tracing::info!(user = %r.user, "spark hire key moved to its company");
    Ok(Some(Connected { record, api_key: legacy.api_key }))
}
