//! Helpers for the integration tests: a world of one function on the real DynamoDB and Secrets
//! Manager API (the moto server `make test` starts), the sandbox as the outside services on a
//! loopback port, and log capture.
pub mod webdriver;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hirebridge::config::Config;
use hirebridge::outbound::RetryPolicy;
use hirebridge::platform::Platform;
use hirebridge::web::{Request, Response};
use serde_json::{json, Value};
use testkit::driver::{admin, Move, Teamtailor};
use testkit::sandbox::Sandbox;

pub const ADMIN_TOKEN: &str = "test-admin-token";

/// An admin token that may manage only `scope` (`alva`, `learnster`, `2secure`, `sparkhire`,
/// `stackone`), as seeded in every World's `operator` secret.
pub fn scoped_token(scope: &str) -> String {
    format!("test-{scope}-only-token")
}

/// The moto server's endpoint and table, set by `scripts/test.sh` (`make test`).
pub fn moto() -> (String, String) {
    match (std::env::var("AWS_ENDPOINT_URL"), std::env::var("TABLE_NAME")) {
        (Ok(endpoint), Ok(table)) => (endpoint, table),
        _ => panic!(
            "these tests need the local DynamoDB/Secrets Manager API server: run them with `make test`"
        ),
    }
}

/// The fakes on their own loopback port, knowing only what is registered with them (an unknown
/// key is `401`, an unknown partner result `404`, as with the real services); answers their base
/// URL.
pub async fn spawn_sandbox() -> (Sandbox, String) {
    testkit::spawn_strict().await
}

/// A table of this world's own, defined as the one `make test` created from template.yaml: the
/// due queues are per table, so one world's sweep never runs another world's work.
async fn own_table(dynamodb: &aws_sdk_dynamodb::Client, template_table: &str) -> String {
    use aws_sdk_dynamodb::types::{BillingMode, GlobalSecondaryIndex};
    let described =
        dynamodb.describe_table().table_name(template_table).send().await.expect("describe the table");
    let t = described.table().expect("a table");
    let name = format!("{template_table}-{}", uuid::Uuid::new_v4().simple());
    let indexes: Vec<GlobalSecondaryIndex> = t
        .global_secondary_indexes()
        .iter()
        .map(|i| {
            GlobalSecondaryIndex::builder()
                .index_name(i.index_name().unwrap_or_default())
                .set_key_schema(Some(i.key_schema().to_vec()))
                .set_projection(i.projection().cloned())
                .build()
                .expect("an index")
        })
        .collect();
    dynamodb
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(t.attribute_definitions().to_vec()))
        .set_key_schema(Some(t.key_schema().to_vec()))
        .set_global_secondary_indexes(Some(indexes))
        .send()
        .await
        .expect("create this world's table");
    name
}

/// A fast policy for tests: same rules, shorter waits.
pub fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        max_rate_limit_wait: Duration::from_secs(1),
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(700),
    }
}

/// One test's world: its own secrets prefix (so tests run side by side), the shared table.
pub struct World {
    pub deps: learnster::Deps,
    pub twosecure_order: twosecure::Deps,
    pub twosecure_status: twosecure::Deps,
    pub alva: alva::Deps,
    pub stackone: stackone::Deps,
    pub sparkhire: sparkhire::Deps,
    pub teamtailor_sparkhire: Teamtailor,
    pub teamtailor_alva: Teamtailor,
    pub sandbox: Sandbox,
    pub sandbox_url: String,
    /// Teamtailor as the Learnster listing, and as the 2Secure listing.
    pub teamtailor: Teamtailor,
    pub teamtailor_2secure: Teamtailor,
    pub prefix: String,
    /// The configuration every function of this world was built with.
    pub config: Config,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub table: String,
}

pub const PARTNER_API_KEY: &str = "test-partner-api-key-learnster";
pub const WEBHOOK_SECRET: &str = "test-webhook-secret-learnster";
pub const TS_PARTNER_API_KEY: &str = "test-partner-api-key-2secure";
pub const TS_WEBHOOK_SECRET: &str = "test-webhook-secret-2secure";
pub const TS_CALLBACK_SECRET: &str = "test-2secure-callback-secret";
pub const SH_PARTNER_API_KEY: &str = "test-partner-api-key-sparkhire";
pub const SH_WEBHOOK_SECRET: &str = "test-webhook-secret-sparkhire";
pub const STACKONE_KEY: &str = "test-stackone-api-key";
pub const STACKONE_WEBHOOK_SECRET: &str = "test-stackone-webhook-secret";
pub const ALVA_PARTNER_API_KEY: &str = "test-partner-api-key-alva";
pub const ALVA_WEBHOOK_SECRET: &str = "test-webhook-secret-alva";
pub const ALVA_VENDOR_KEY: &str = "test-alva-vendor-key";
pub const ALVA_RESULTS_SECRET: &str = "test-alva-results-secret";

impl World {
    pub async fn new() -> World {
        Self::with_policy(fast_policy()).await
    }

    pub async fn with_policy(policy: RetryPolicy) -> World {
        let (_endpoint, template_table) = moto();
        let (sandbox, sandbox_url) = spawn_sandbox().await;
        let prefix = format!("test-{}", uuid::Uuid::new_v4());
        let sdk = hirebridge::aws_http::sdk_loader().load().await;
        let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        let table = own_table(&dynamodb, &template_table).await;
        let seed = [
            (
                format!("{prefix}/teamtailor/learnster"),
                json!({"partner_api_key": PARTNER_API_KEY, "webhook_secret": WEBHOOK_SECRET}),
            ),
            (
                format!("{prefix}/teamtailor/2secure"),
                json!({"partner_api_key": TS_PARTNER_API_KEY, "webhook_secret": TS_WEBHOOK_SECRET}),
            ),
            (format!("{prefix}/vendor/2secure"), json!({"callback_secret": TS_CALLBACK_SECRET})),
            (
                format!("{prefix}/teamtailor/alva"),
                json!({"partner_api_key": ALVA_PARTNER_API_KEY, "webhook_secret": ALVA_WEBHOOK_SECRET}),
            ),
            (
                format!("{prefix}/teamtailor/sparkhire"),
                json!({"partner_api_key": SH_PARTNER_API_KEY, "webhook_secret": SH_WEBHOOK_SECRET}),
            ),
            (
                format!("{prefix}/vendor/stackone"),
                json!({"api_key": STACKONE_KEY, "webhook_secret": STACKONE_WEBHOOK_SECRET}),
            ),
            (
                format!("{prefix}/vendor/alva"),
                json!({"api_key": ALVA_VENDOR_KEY, "webhook_secret": ALVA_RESULTS_SECRET}),
            ),
            (
                format!("{prefix}/operator"),
                json!({"admin_tokens_sha256": [hirebridge::admin::sha256_hex(ADMIN_TOKEN)],
                       "admin_tokens": hirebridge::admin::SCOPES.iter().map(|scope| json!({
                           "name": format!("{scope}-operator"),
                           "sha256": hirebridge::admin::sha256_hex(&scoped_token(scope)),
                           "scopes": [scope],
                       })).collect::<Vec<_>>(),
                       "link_signing_key": "ZGV2LWxpbmstc2lnbmluZy1rZXktMzItYnl0ZXMhISE="}),
            ),
        ];
        for (name, value) in seed {
            secrets
                .create_secret()
                .name(name)
                .secret_string(value.to_string())
                .send()
                .await
                .expect("seed a secret in the Secrets Manager API");
        }
        let vars = [
            ("PUBLIC_BASE_URL", "http://hirebridge.test".to_owned()),
            ("TABLE_NAME", table.clone()),
            ("SECRETS_PREFIX", prefix.clone()),
            ("TEAMTAILOR_API_URL", format!("{sandbox_url}/_sandbox/teamtailor")),
            ("TEAMTAILOR_NA_API_URL", format!("{sandbox_url}/_sandbox/teamtailor-na")),
            ("LEARNSTER_API_URL", format!("{sandbox_url}/_sandbox/learnster/{{space}}/api/public/v1")),
            ("TWOSECURE_API_URL", format!("{sandbox_url}/_sandbox/2secure")),
            ("ALVA_API_URL", format!("{sandbox_url}/_sandbox/alva")),
            ("STACKONE_API_URL", format!("{sandbox_url}/_sandbox/stackone")),
            ("SPARKHIRE_API_URL", format!("{sandbox_url}/_sandbox/sparkhire")),
        ];
        let config = Config::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .expect("test configuration");
        // What the real services know of this deployment: the four listings' partner API keys
        // (Teamtailor) and hirebridge's own vendor keys (Alva, StackOne). Company keys, customers'
        // 2Secure and Spark Hire keys and partner results are registered by each test.
        for partner_api_key in [PARTNER_API_KEY, TS_PARTNER_API_KEY, SH_PARTNER_API_KEY, ALVA_PARTNER_API_KEY]
        {
            sandbox.add_listing(partner_api_key).await;
        }
        sandbox.add_alva_key(ALVA_VENDOR_KEY).await;
        sandbox.add_stackone_key(STACKONE_KEY).await;
        let platform = || Platform::aws(config.clone(), policy.clone());
        World {
            deps: learnster::Deps::new(platform().await.expect("platform on moto")),
            twosecure_order: twosecure::Deps::new(platform().await.expect("platform on moto")),
            twosecure_status: twosecure::Deps::new(platform().await.expect("platform on moto")),
            alva: alva::Deps::new(platform().await.expect("platform on moto")),
            stackone: stackone::Deps::new(platform().await.expect("platform on moto")),
            sparkhire: sparkhire::Deps::new(platform().await.expect("platform on moto")),
            teamtailor_sparkhire: Teamtailor {
                partner_api_key: SH_PARTNER_API_KEY.into(),
                webhook_secret: SH_WEBHOOK_SECRET.into(),
            },
            teamtailor_alva: Teamtailor {
                partner_api_key: ALVA_PARTNER_API_KEY.into(),
                webhook_secret: ALVA_WEBHOOK_SECRET.into(),
            },
            sandbox,
            sandbox_url,
            teamtailor: Teamtailor {
                partner_api_key: PARTNER_API_KEY.into(),
                webhook_secret: WEBHOOK_SECRET.into(),
            },
            teamtailor_2secure: Teamtailor {
                partner_api_key: TS_PARTNER_API_KEY.into(),
                webhook_secret: TS_WEBHOOK_SECRET.into(),
            },
            prefix,
            config: config.clone(),
            secrets,
            dynamodb,
            table,
        }
    }

    pub async fn call(&self, req: Request) -> Response {
        learnster::handle(&self.deps, req).await
    }

    /// Switches Learnster on with these tag switches; answers (integration id, secret token).
    pub async fn switch_on(&self, tags: Value) -> (String, String) {
        let body = json!({
            "space": "acme",
            "vendor_id": uuid::Uuid::new_v4().to_string(),
            "client_id": "acme-client",
            "client_secret": CLIENT_SECRET,
            "tags": tags,
        });
        let resp = self.call(admin("POST", "/learnster/integrations", ADMIN_TOKEN, Some(&body))).await;
        assert_eq!(resp.status(), 201, "switch on: {}", text(&resp));
        let v = json_of(&resp);
        (v["id"].as_str().unwrap().to_owned(), v["secret_token"].as_str().unwrap().to_owned())
    }

    /// Teamtailor as the listing of `integration` (`learnster`, `2secure`, `alva`, `sparkhire`).
    pub fn listing(&self, integration: &str) -> &Teamtailor {
        match integration {
            "learnster" => &self.teamtailor,
            "2secure" => &self.teamtailor_2secure,
            "alva" => &self.teamtailor_alva,
            "sparkhire" => &self.teamtailor_sparkhire,
            other => panic!("no Teamtailor listing for {other:?}"),
        }
    }

    /// Teamtailor fires `integration`'s trigger for `mv`, now: it creates the partner result in
    /// the sandbox, then answers the signed `POST /{integration}/webhook` to hand to a function.
    pub async fn fire(&self, integration: &str, provider_key: &str, mv: &Move) -> Request {
        self.listing(integration).fire(&self.sandbox, integration, provider_key, mv, now()).await
    }

    pub fn provider_key(&self, secret_token: &str) -> String {
        self.teamtailor.provider_key(&json!({ "secret_token": secret_token }))
    }

    /// Every item in the table, as text, for "nothing secret is stored" checks (a test-only scan).
    pub async fn table_text(&self) -> String {
        let mut out = String::new();
        let mut start = None;
        loop {
            let page = self
                .dynamodb
                .scan()
                .table_name(&self.table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan the test table");
            for item in page.items() {
                out.push_str(&format!("{item:?}\n"));
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return out,
            }
        }
    }

    /// A second warm instance of a function: its own caches, the same table and secrets.
    pub async fn another_instance(&self) -> Platform {
        Platform::aws(self.config.clone(), fast_policy()).await.expect("platform on moto")
    }

    /// The value of a secret under this world's prefix, straight from Secrets Manager.
    pub async fn secret(&self, name: &str) -> Option<String> {
        self.secrets
            .get_secret_value()
            .secret_id(format!("{}/{}", self.prefix, name))
            .send()
            .await
            .ok()
            .and_then(|o| o.secret_string)
    }
}

pub const CLIENT_SECRET: &str = "acme-learnster-client-secret-XYZ";

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

pub fn text(resp: &Response) -> String {
    String::from_utf8_lossy(resp.body()).into_owned()
}

pub fn json_of(resp: &Response) -> Value {
    serde_json::from_slice(resp.body()).unwrap_or(Value::Null)
}

pub fn with_header(mut req: Request, name: &'static str, value: &str) -> Request {
    req.headers_mut().insert(name, value.parse().expect("header value"));
    req
}

pub fn body(req: Request, body: &str) -> Request {
    let (parts, _) = req.into_parts();
    Request::from_parts(parts, Bytes::from(body.to_owned()))
}

/// Log lines captured from this thread (use with a current-thread runtime, the default of
/// `#[tokio::test]`), in the JSON format production uses.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

thread_local! {
    static SINK: std::cell::RefCell<Option<Logs>> = const { std::cell::RefCell::new(None) };
}

/// Writes each line to the buffer of the thread that logged it.
struct ThreadSink;

impl Write for ThreadSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        SINK.with(|s| {
            if let Some(logs) = s.borrow_mut().as_mut() {
                let _ = logs.write(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops capturing on this thread when dropped.
pub struct Capture;

impl Drop for Capture {
    fn drop(&mut self) {
        SINK.with(|s| *s.borrow_mut() = None);
    }
}

/// Captures this thread's log lines (in production's JSON format). One global subscriber serves
/// every test, so tracing's per-callsite interest cache never hides a line from a test running
/// beside another.
pub fn capture_logs() -> (Capture, Logs) {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,hirebridge=trace,alva=trace,learnster=trace,twosecure=trace,sparkhire=trace,stackone=trace,testkit=trace",
            ))
            .with_writer(|| ThreadSink)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
    });
    let logs = Logs::default();
    SINK.with(|s| *s.borrow_mut() = Some(logs.clone()));
    (Capture, logs)
}

/// Secrets Manager, counting the calls that reach it (to show that a warm path makes none).
pub struct CountingSecrets(
    pub hirebridge::secrets::SecretsManagerStore,
    pub Arc<std::sync::atomic::AtomicUsize>,
);

#[async_trait::async_trait]
impl hirebridge::secrets::SecretStore for CountingSecrets {
    async fn get(
        &self,
        name: &str,
    ) -> Result<Option<hirebridge::SecretString>, hirebridge::secrets::SecretsError> {
        self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.0.get(name).await
    }
    async fn put(
        &self,
        name: &str,
        value: &hirebridge::SecretString,
    ) -> Result<(), hirebridge::secrets::SecretsError> {
        self.0.put(name, value).await
    }
    async fn delete(&self, name: &str) -> Result<(), hirebridge::secrets::SecretsError> {
        self.0.delete(name).await
    }
}

/// A platform on this world's table and Secrets Manager with `config`, whose Secrets Manager
/// calls are counted.
pub async fn counted_platform(w: &World, config: Config) -> (Platform, Arc<std::sync::atomic::AtomicUsize>) {
    let sdk = hirebridge::aws_http::sdk_loader().load().await;
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let secrets = CountingSecrets(
        hirebridge::secrets::SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&sdk)),
        calls.clone(),
    );
    let store = hirebridge::store::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), w.table.clone());
    let platform = Platform::new(
        config,
        Arc::new(store),
        Arc::new(secrets),
        fast_policy(),
        Arc::new(hirebridge::clock::SystemClock),
    );
    (platform, calls)
}
