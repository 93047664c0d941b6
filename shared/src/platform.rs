//! What every Lambda builds once per cold start and passes by reference to its handlers:
//! configuration, storage, secrets, the HTTP client, the clock, idempotency and partner results.
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::aws_http::LazySdk;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError};
use crate::error::AppError;
use crate::idempotency::Idempotency;
use crate::outbound::{HttpClient, RetryPolicy};
use crate::secrets::{SecretStore, Secrets, SecretsManagerStore, DEFAULT_TTL};
use crate::store::{DynamoStore, ItemStore, MemoryStore};
use crate::teamtailor::partner_results::PartnerResults;
use crate::SecretString;

pub struct Platform {
    pub config: Config,
    pub store: Arc<dyn ItemStore>,
    pub secrets: Secrets,
    pub http: HttpClient,
    pub clock: Arc<dyn Clock>,
    pub idempotency: Idempotency,
    pub partner_results: PartnerResults,
}

/// A Teamtailor partner listing's keys (`{prefix}/teamtailor/{integration}`).
#[derive(Deserialize)]
pub struct Listing {
    pub partner_api_key: SecretString,
    pub webhook_secret: SecretString,
}

impl Platform {
    pub fn new(
        config: Config,
        store: Arc<dyn ItemStore>,
        secret_store: Arc<dyn SecretStore>,
        policy: RetryPolicy,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let http = HttpClient::new(policy);
        let secrets = Secrets::new(secret_store, config.secrets_prefix.clone(), DEFAULT_TTL);
        let mut idempotency = Idempotency::new(store.clone(), clock.clone());
        idempotency.retry_schedule = config.retry_schedule.clone();
        let partner_results = PartnerResults::new(http.clone(), &config);
        Platform { config, store, secrets, http, clock, idempotency, partner_results }
    }

    /// Production: DynamoDB and Secrets Manager through the AWS SDK (which honours
    /// `AWS_ENDPOINT_URL`), with the table from `TABLE_NAME`; the SDK calls out over the same
    /// reqwest and TLS set-up as everything else, with the region and credentials of the
    /// environment when it has them ([`crate::aws_http::sdk_loader`]). The SDK clients are built
    /// on their first call, not at init ([`LazySdk`]).
    pub async fn aws(config: Config, policy: RetryPolicy) -> Result<Self, ConfigError> {
        let table = config.require_table()?.to_owned();
        let sdk = LazySdk::new(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(5))
                .build(),
        );
        let store = Arc::new(DynamoStore::on_first_use(sdk.clone(), table));
        let secrets = Arc::new(SecretsManagerStore::on_first_use(sdk));
        Ok(Self::new(config, store, secrets, policy, Arc::new(SystemClock)))
    }

    /// Embedded: in-memory storage, for the local runner and unit tests.
    pub fn in_memory(config: Config, secret_store: Arc<dyn SecretStore>) -> Self {
        Self::new(
            config,
            Arc::new(MemoryStore::new()),
            secret_store,
            RetryPolicy::default(),
            Arc::new(SystemClock),
        )
    }

    /// The keys of one partner listing; missing keys are a deployment fault, reported as such.
    pub async fn listing(&self, integration: &str) -> Result<Listing, AppError> {
        Ok(self.secrets.require_json(&format!("teamtailor/{integration}")).await?)
    }

    pub fn now_secs(&self) -> i64 {
        self.clock.now_secs()
    }
}
