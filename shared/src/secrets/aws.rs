//! The production secrets adapter: AWS Secrets Manager.
use async_trait::async_trait;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::Client;

use super::{SecretStore, SecretsError};
use crate::aws_http::{Lazy, LazySdk};
use crate::SecretString;

pub struct SecretsManagerStore {
    client: Lazy<Client>,
}

impl SecretsManagerStore {
    pub fn new(client: Client) -> Self {
        SecretsManagerStore { client: Lazy::built(client) }
    }

    /// With the client built on the first call ([`LazySdk`]).
    pub fn on_first_use(sdk: std::sync::Arc<LazySdk>) -> Self {
        SecretsManagerStore { client: Lazy::on_first_use(sdk, Client::new) }
    }
}

fn is_not_found<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(e, SdkError::ServiceError(s) if s.err().code() == Some("ResourceNotFoundException"))
}

#[async_trait]
impl SecretStore for SecretsManagerStore {
    async fn get(&self, name: &str) -> Result<Option<SecretString>, SecretsError> {
        match self.client.get().await.get_secret_value().secret_id(name).send().await {
            Ok(out) => Ok(out.secret_string.map(SecretString::new)),
            Err(e) if is_not_found(&e) => Ok(None),
            // The SDK's errors name the secret, never its value.
            Err(e) => Err(SecretsError(format!("GetSecretValue {name}: {}", DisplayErrorContext(e)))),
        }
    }

    async fn put(&self, name: &str, value: &SecretString) -> Result<(), SecretsError> {
        match self
            .client
            .get()
            .await
            .put_secret_value()
            .secret_id(name)
            .secret_string(value.expose())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => self
                .client
                .get()
                .await
                .create_secret()
                .name(name)
                .secret_string(value.expose())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| SecretsError(format!("CreateSecret {name}: {}", DisplayErrorContext(e)))),
            Err(e) => Err(SecretsError(format!("PutSecretValue {name}: {}", DisplayErrorContext(e)))),
        }
    }

    async fn delete(&self, name: &str) -> Result<(), SecretsError> {
        match self
            .client
            .get()
            .await
            .delete_secret()
            .secret_id(name)
            .force_delete_without_recovery(true)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(SecretsError(format!("DeleteSecret {name}: {}", DisplayErrorContext(e)))),
        }
    }
}
