//! The secrets port (docs/reference.md): every credential lives in Secrets Manager under
//! `{SECRETS_PREFIX}/…`, read through a TTL cache so a warm invocation makes no Secrets Manager call.
mod aws;
mod memory;

pub use aws::SecretsManagerStore;
pub use memory::MemorySecretStore;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use tokio::sync::RwLock;

use crate::SecretString;

#[derive(Debug, thiserror::Error)]
#[error("secrets store failed: {0}")]
pub struct SecretsError(pub String);

impl From<SecretsError> for crate::AppError {
    fn from(e: SecretsError) -> Self {
        crate::AppError::internal(e)
    }
}

/// Raw access by full secret name.
#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn get(&self, name: &str) -> Result<Option<SecretString>, SecretsError>;
    /// Creates the secret or replaces its value.
    async fn put(&self, name: &str, value: &SecretString) -> Result<(), SecretsError>;
    async fn delete(&self, name: &str) -> Result<(), SecretsError>;
}

/// The most secrets one instance keeps cached.
pub const MAX_CACHED: usize = 1024;

/// Secrets by name under the prefix, cached for `ttl`.
pub struct Secrets {
    store: Arc<dyn SecretStore>,
    prefix: String,
    ttl: Duration,
    cache: RwLock<HashMap<String, (Instant, SecretString)>>,
    /// One fetch at a time per name: concurrent misses of one secret share a single call.
    fetching: tokio::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

impl Secrets {
    pub fn new(store: Arc<dyn SecretStore>, prefix: impl Into<String>, ttl: Duration) -> Self {
        Secrets {
            store,
            prefix: prefix.into(),
            ttl,
            cache: RwLock::new(HashMap::new()),
            fetching: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    pub fn full_name(&self, name: &str) -> String {
        format!("{}/{}", self.prefix, name)
    }

    /// The secret `name` (relative to the prefix); `None` when it does not exist.
    pub async fn get(&self, name: &str) -> Result<Option<SecretString>, SecretsError> {
        let full = self.full_name(name);
        if let Some(value) = self.cached(&full).await {
            return Ok(Some(value));
        }
        let gate = self.fetching.lock().await.entry(full.clone()).or_default().clone();
        let _one_fetch = gate.lock().await;
        if let Some(value) = self.cached(&full).await {
            return Ok(Some(value));
        }
        let value = self.store.get(&full).await;
        drop(_one_fetch);
        self.forget_gate(&full, gate).await;
        let value = value?;
        let mut cache = self.cache.write().await;
        match &value {
            Some(v) => self.keep(&mut cache, full, v.clone()),
            None => {
                cache.remove(&full);
            }
        }
        Ok(value)
    }

    /// A fetch's gate is dropped once nobody waits on it: one per name would grow without bound
    /// with the tenants a warm instance serves.
    async fn forget_gate(&self, full: &str, gate: Arc<tokio::sync::Mutex<()>>) {
        let mut fetching = self.fetching.lock().await;
        // Ours and the map's: nobody else waits.
        if Arc::strong_count(&gate) <= 2 {
            fetching.remove(full);
        }
    }

    /// Caches `value`, keeping at most [`MAX_CACHED`] secrets: expired ones go first, then the
    /// oldest.
    fn keep(&self, cache: &mut HashMap<String, (Instant, SecretString)>, full: String, value: SecretString) {
        if cache.len() >= MAX_CACHED && !cache.contains_key(&full) {
            cache.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if cache.len() >= MAX_CACHED {
                let oldest = cache.iter().min_by_key(|(_, (at, _))| *at).map(|(name, _)| name.clone());
                if let Some(oldest) = oldest {
                    cache.remove(&oldest);
                }
            }
        }
        cache.insert(full, (Instant::now(), value));
    }

    async fn cached(&self, full: &str) -> Option<SecretString> {
        let cache = self.cache.read().await;
        cache.get(full).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, value)| value.clone())
    }

    /// The secret parsed as JSON of type `T`. A value that does not parse is an error naming the
    /// secret, never showing its content.
    pub async fn get_json<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, SecretsError> {
        match self.get(name).await? {
            None => Ok(None),
            Some(raw) => serde_json::from_str(raw.expose()).map(Some).map_err(|e| {
                SecretsError(format!(
                    "secret {} is not the expected JSON (line {}, column {})",
                    self.full_name(name),
                    e.line(),
                    e.column()
                ))
            }),
        }
    }

    /// Like [`Self::get_json`], but a missing secret is an error (devops must create it).
    pub async fn require_json<T: DeserializeOwned>(&self, name: &str) -> Result<T, SecretsError> {
        self.get_json(name)
            .await?
            .ok_or_else(|| SecretsError(format!("secret {} does not exist", self.full_name(name))))
    }

    pub async fn put_json(&self, name: &str, value: &serde_json::Value) -> Result<(), SecretsError> {
        let full = self.full_name(name);
        let secret = SecretString::new(value.to_string());
        self.store.put(&full, &secret).await?;
        let mut cache = self.cache.write().await;
        self.keep(&mut cache, full, secret);
        Ok(())
    }

    pub async fn delete(&self, name: &str) -> Result<(), SecretsError> {
        let full = self.full_name(name);
        self.store.delete(&full).await?;
        self.cache.write().await.remove(&full);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(MemorySecretStore, AtomicUsize);

    #[async_trait]
    impl SecretStore for Counting {
        async fn get(&self, name: &str) -> Result<Option<SecretString>, SecretsError> {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.get(name).await
        }
        async fn put(&self, name: &str, value: &SecretString) -> Result<(), SecretsError> {
            self.0.put(name, value).await
        }
        async fn delete(&self, name: &str) -> Result<(), SecretsError> {
            self.0.delete(name).await
        }
    }

    #[tokio::test]
    async fn warm_reads_come_from_the_cache() {
        let raw = Arc::new(Counting(MemorySecretStore::default(), AtomicUsize::new(0)));
        raw.0.put("p/x", &SecretString::from(r#"{"k":"v"}"#)).await.unwrap();
        let secrets = Secrets::new(raw.clone(), "p", DEFAULT_TTL);
        for _ in 0..5 {
            let v: serde_json::Value = secrets.require_json("x").await.unwrap();
            assert_eq!(v["k"], "v");
        }
        assert_eq!(raw.1.load(Ordering::SeqCst), 1);
        let expired = Secrets::new(raw.clone(), "p", Duration::ZERO);
        expired.get("x").await.unwrap();
        expired.get("x").await.unwrap();
        assert_eq!(raw.1.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_first_reads_of_one_secret_make_one_call() {
        let raw = Arc::new(Counting(MemorySecretStore::default(), AtomicUsize::new(0)));
        raw.0.put("p/tenant", &SecretString::from("v")).await.unwrap();
        let secrets = Arc::new(Secrets::new(raw.clone(), "p", DEFAULT_TTL));
        let reads: Vec<_> = (0..8)
            .map(|_| {
                let secrets = secrets.clone();
                tokio::spawn(async move { secrets.get("tenant").await.unwrap() })
            })
            .collect();
        for read in reads {
            assert_eq!(read.await.unwrap().unwrap().expose(), "v");
        }
        assert_eq!(raw.1.load(Ordering::SeqCst), 1, "eight cold reads, one Secrets Manager call");
    }

    #[tokio::test]
    async fn a_warm_instance_serving_many_tenants_keeps_a_bounded_cache() {
        let store = Arc::new(MemorySecretStore::default());
        for i in 0..(MAX_CACHED + 500) {
            store.put(&format!("p/tenant/{i}"), &SecretString::new(format!("{{\"n\":{i}}}"))).await.unwrap();
        }
        let secrets = Secrets::new(store, "p", Duration::from_secs(300));
        for i in 0..(MAX_CACHED + 500) {
            assert!(secrets.get(&format!("tenant/{i}")).await.unwrap().is_some());
        }
        assert_eq!(secrets.cache.read().await.len(), MAX_CACHED);
        assert!(secrets.fetching.lock().await.is_empty(), "no gate is kept once its fetch is done");
        // The newest stay cached.
        assert!(secrets.cached(&secrets.full_name(&format!("tenant/{}", MAX_CACHED + 499))).await.is_some());
    }

    #[tokio::test]
    async fn malformed_secrets_are_named_not_shown() {
        let raw = Arc::new(MemorySecretStore::default());
        raw.put("p/bad", &SecretString::from("not-json-s3cr3t")).await.unwrap();
        let secrets = Secrets::new(raw, "p", DEFAULT_TTL);
        let e = secrets.get_json::<serde_json::Value>("bad").await.unwrap_err().to_string();
        assert!(e.contains("p/bad") && !e.contains("s3cr3t"), "{e}");
    }
}

/// A service's keys for hirebridge (`vendor/alva`, `vendor/stackone`): its API key, and the
/// secret its webhooks are signed with.
#[derive(serde::Deserialize)]
pub struct VendorKeys {
    pub api_key: crate::SecretString,
    pub webhook_secret: crate::SecretString,
}
