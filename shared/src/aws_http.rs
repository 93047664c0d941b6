//! The AWS SDK's HTTP client: reqwest with [`crate::https`]'s TLS set-up, the same stack every
//! other call uses. The SDK's own default client (aws-smithy-http-client on hyper-rustls) would
//! bring a second HTTP stack into every binary and read the system CA store at every cold start.
//!
//! Requests to DynamoDB and Secrets Manager have their body in memory; a streaming body is refused.
//! Answers are read whole before the SDK sees them (they are small JSON documents).
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::client::connection::{CaptureSmithyConnection, ConnectionMetadata};
use aws_smithy_runtime_api::client::http::{
    http_client_fn, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;

/// When the SDK's settings give no connect timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The region and credentials of the environment when it has them (Lambda sets `AWS_REGION` and
/// the execution role's `AWS_ACCESS_KEY_ID`…; so do the tests and the bench), without aws-config's
/// default chains (profile files, SSO, web identity, ECS, IMDS); else those chains. Either way
/// over [`http_client`], and `AWS_ENDPOINT_URL` is honoured.
pub fn sdk_loader() -> aws_config::ConfigLoader {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http_client());
    let region = std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty());
    let has_key = std::env::var_os("AWS_ACCESS_KEY_ID").is_some_and(|k| !k.is_empty());
    match region {
        Some(region) if has_key => loader
            .region(aws_config::Region::new(region))
            .credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new()),
        _ => loader,
    }
}

/// The SDK's configuration, loaded on first use, once per process: a cold start's init builds no
/// SDK client (measured by `make bench`: loading the configuration and building the two clients
/// was about 0.4 ms of a 1.3 ms init); the first call builds them, and every later call borrows.
pub struct LazySdk {
    config: tokio::sync::OnceCell<aws_config::SdkConfig>,
    timeouts: aws_config::timeout::TimeoutConfig,
}

impl LazySdk {
    pub fn new(timeouts: aws_config::timeout::TimeoutConfig) -> std::sync::Arc<Self> {
        std::sync::Arc::new(LazySdk { config: tokio::sync::OnceCell::new(), timeouts })
    }

    pub async fn config(&self) -> &aws_config::SdkConfig {
        self.config.get_or_init(|| sdk_loader().timeout_config(self.timeouts.clone()).load()).await
    }
}

/// How an SDK client is made from the configuration (e.g. `aws_sdk_dynamodb::Client::new`).
type Make<C> = fn(&aws_config::SdkConfig) -> C;

/// An SDK client: built on its first use from a [`LazySdk`], or given built.
pub struct Lazy<C> {
    client: tokio::sync::OnceCell<C>,
    from: Option<(std::sync::Arc<LazySdk>, Make<C>)>,
}

impl<C> Lazy<C> {
    pub fn on_first_use(sdk: std::sync::Arc<LazySdk>, make: Make<C>) -> Self {
        Lazy { client: tokio::sync::OnceCell::new(), from: Some((sdk, make)) }
    }

    pub fn built(client: C) -> Self {
        Lazy { client: tokio::sync::OnceCell::new_with(Some(client)), from: None }
    }

    pub async fn get(&self) -> &C {
        self.client
            .get_or_init(|| async {
                let (sdk, make) = self.from.as_ref().expect("a client not given built has its SDK");
                make(sdk.config().await)
            })
            .await
    }
}

/// A connect and a read timeout, as the SDK's settings give them.
type Timeouts = (Option<Duration>, Option<Duration>);

/// The SDK's HTTP client: one reqwest client per distinct timeout setting (in practice one).
pub fn http_client() -> SharedHttpClient {
    let built: Mutex<Vec<(Timeouts, SharedHttpConnector)>> = Mutex::new(Vec::new());
    http_client_fn(move |settings: &HttpConnectorSettings, _components| {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut built = built.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, connector)) = built.iter().find(|(timeouts, _)| *timeouts == key) {
            return connector.clone();
        }
        let connector = SharedHttpConnector::new(Connector::new(key.0, key.1));
        built.push((key, connector.clone()));
        connector
    })
}

/// One reqwest client; a connection the SDK marks for closure (after a transient error: a
/// throttle, a `5xx`, a time-out) is closed by starting a fresh pool, so the next attempt opens a
/// new connection. Every response names its connection to the SDK ([`ConnectionMetadata`]), as
/// the SDK's own client does: without it the SDK logs an `ERROR` at every retry.
#[derive(Debug)]
struct Connector {
    pool: Arc<Pool>,
}

#[derive(Debug)]
struct Pool {
    timeouts: Timeouts,
    client: Mutex<reqwest::Client>,
}

impl Pool {
    fn build((connect_timeout, read_timeout): Timeouts) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
            // The SDK follows no redirect; a redirected request would not be signed for its target.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout.unwrap_or(CONNECT_TIMEOUT))
            // Below the usual 60 s server keep-alive (as `HttpClient`'s).
            .pool_idle_timeout(Duration::from_secs(30));
        if let Some(read_timeout) = read_timeout {
            builder = builder.read_timeout(read_timeout);
        }
        crate::https::client(builder).expect("the AWS HTTP client's settings are valid")
    }

    fn current(&self) -> reqwest::Client {
        self.client.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Drops the pool's idle connections (requests under way keep theirs until they end).
    fn renew(&self) {
        let fresh = Pool::build(self.timeouts);
        *self.client.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
        tracing::debug!("aws http: a connection was marked for closure; new connections from now on");
    }
}

impl Connector {
    fn new(connect_timeout: Option<Duration>, read_timeout: Option<Duration>) -> Self {
        let timeouts = (connect_timeout, read_timeout);
        Connector { pool: Arc::new(Pool { timeouts, client: Mutex::new(Pool::build(timeouts)) }) }
    }
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.pool.current();
        if let Some(capture) = request.extension::<CaptureSmithyConnection>() {
            let pool = Arc::clone(&self.pool);
            capture.set_connection_retriever(move || {
                let pool = Arc::clone(&pool);
                Some(ConnectionMetadata::builder().proxied(false).poison_fn(move || pool.renew()).build())
            });
        }
        HttpConnectorFuture::new(async move {
            let request = to_reqwest(request)?;
            let mut response = client.execute(request).await.map_err(connector_error)?;
            let mut answer = http::Response::builder().status(response.status()).version(response.version());
            if let Some(headers) = answer.headers_mut() {
                *headers = std::mem::take(response.headers_mut());
            }
            let body = response.bytes().await.map_err(connector_error)?;
            let answer =
                answer.body(SdkBody::from(body)).map_err(|e| ConnectorError::other(e.into(), None))?;
            HttpResponse::try_from(answer).map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// The SDK's request as reqwest's; its body must be in memory.
fn to_reqwest(request: HttpRequest) -> Result<reqwest::Request, ConnectorError> {
    let request = request.try_into_http1x().map_err(|e| ConnectorError::user(e.into()))?;
    let (parts, body) = request.into_parts();
    let Some(bytes) = body.bytes() else {
        return Err(ConnectorError::user(
            "hirebridge's AWS HTTP client sends request bodies held in memory only, and this one streams"
                .into(),
        ));
    };
    let request = http::Request::from_parts(parts, bytes::Bytes::copy_from_slice(bytes));
    reqwest::Request::try_from(request).map_err(|e| ConnectorError::user(e.into()))
}

/// reqwest's errors as the SDK's retry classifier expects them: time-outs and I/O failures (a
/// refused or dropped connection) are transient and retried; anything else is not.
fn connector_error(e: reqwest::Error) -> ConnectorError {
    if e.is_timeout() {
        ConnectorError::timeout(e.into())
    } else if e.is_connect() || e.is_request() || e.is_body() {
        ConnectorError::io(e.into())
    } else {
        ConnectorError::other(e.into(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lazy_client_is_built_once_on_its_first_use_not_before() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static BUILT: AtomicUsize = AtomicUsize::new(0);
        fn make(config: &aws_config::SdkConfig) -> Option<String> {
            BUILT.fetch_add(1, Ordering::SeqCst);
            config.region().map(|r| r.to_string())
        }
        let sdk = LazySdk::new(aws_config::timeout::TimeoutConfig::disabled());
        let client = Lazy::on_first_use(sdk, make);
        assert_eq!(BUILT.load(Ordering::SeqCst), 0, "nothing built before the first use");
        let uses = futures::future::join_all((0..8).map(|_| client.get())).await;
        assert_eq!(uses.len(), 8);
        assert_eq!(BUILT.load(Ordering::SeqCst), 1, "eight first uses at once build one client");
        assert_eq!(*Lazy::built(7).get().await, 7);
    }

    #[test]
    fn a_streaming_body_is_refused_and_an_in_memory_one_is_sent() {
        // A body whose bytes are not in memory (as a taken or streaming one).
        let streaming = HttpRequest::new(SdkBody::taken());
        let err = to_reqwest(streaming).unwrap_err();
        assert!(err.is_user(), "{err:?}");

        let mut in_memory = HttpRequest::new(SdkBody::from("{}"));
        in_memory.set_uri("https://dynamodb.eu-north-1.amazonaws.com/").unwrap();
        let request = to_reqwest(in_memory).unwrap();
        assert_eq!(request.url().as_str(), "https://dynamodb.eu-north-1.amazonaws.com/");
        assert_eq!(request.body().and_then(|b| b.as_bytes()), Some(&b"{}"[..]));
    }
}
