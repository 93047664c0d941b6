//! The embedded secrets adapter (local runner, unit tests), seeded from a JSON file.
use std::collections::HashMap;

use async_trait::async_trait;
use tokio::sync::RwLock;

use super::{SecretStore, SecretsError};
use crate::SecretString;

#[derive(Default)]
pub struct MemorySecretStore {
    values: RwLock<HashMap<String, SecretString>>,
}

impl MemorySecretStore {
    /// From a JSON object of secret name → value (a string, or JSON that is stored as text).
    pub fn from_json(seed: &serde_json::Value) -> Result<Self, String> {
        let map = seed.as_object().ok_or("the secrets file must be a JSON object of name → value")?;
        let values = map
            .iter()
            .map(|(name, value)| {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (name.clone(), SecretString::new(text))
            })
            .collect();
        Ok(MemorySecretStore { values: RwLock::new(values) })
    }
}

#[async_trait]
impl SecretStore for MemorySecretStore {
    async fn get(&self, name: &str) -> Result<Option<SecretString>, SecretsError> {
        Ok(self.values.read().await.get(name).cloned())
    }

    async fn put(&self, name: &str, value: &SecretString) -> Result<(), SecretsError> {
        self.values.write().await.insert(name.to_owned(), value.clone());
        Ok(())
    }

    async fn delete(&self, name: &str) -> Result<(), SecretsError> {
        self.values.write().await.remove(name);
        Ok(())
    }
}
