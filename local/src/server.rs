//! One HTTP server for every function's routes, as API Gateway would route them.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::Router;
use hirebridge::clock::SystemClock;
use hirebridge::config::Config;
use hirebridge::error::Style;
use hirebridge::outbound::RetryPolicy;
use hirebridge::platform::Platform;
use hirebridge::routes::{self, Access};
use hirebridge::secrets::{MemorySecretStore, SecretStore};
use hirebridge::store::{DynamoStore, ItemStore, MemoryStore};
use hirebridge::web::{self, MAX_BODY_BYTES};
use hirebridge::AppError;

use testkit::sandbox::Sandbox;

/// The development secrets that ship with the repository (`local/dev-secrets.json`).
pub const DEV_SECRETS: &str = include_str!("../dev-secrets.json");
/// The routes' OpenAPI description, served at `/openapi.yaml`.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

/// The admin token whose SHA-256 is in the development secrets.
pub const DEV_ADMIN_TOKEN: &str = "dev-admin-token";

/// Every function, built as its Lambda builds it.
pub struct Functions {
    pub learnster: learnster::Deps,
    pub twosecure_order: twosecure::Deps,
    pub twosecure_status: twosecure::Deps,
    pub alva: alva::Deps,
    pub stackone: stackone::Deps,
    pub sparkhire: sparkhire::Deps,
}

/// What a route table declares: (method, path, function, access).
pub type Declared = Vec<(http::Method, &'static str, &'static str, Access)>;

/// Each Lambda and the routes it serves, as declared by its integration.
pub fn route_tables() -> Vec<(&'static str, Declared)> {
    vec![
        ("alva", routes::describe(alva::ROUTES)),
        ("learnster", routes::describe(learnster::ROUTES)),
        ("2secure", routes::describe(twosecure::ORDER_ROUTES)),
        ("2secure", routes::describe(twosecure::STATUS_ROUTES)),
        ("sparkhire", routes::describe(sparkhire::ROUTES)),
        ("stackone", routes::describe(stackone::ROUTES)),
    ]
}

/// The Lambda that API Gateway would invoke for `method path`, from the integrations' tables.
pub fn function_for(method: &http::Method, path: &str) -> Option<&'static str> {
    route_tables().into_iter().flat_map(|(_, table)| table).find_map(|(m, pattern, function, _)| {
        (m == method && routes::match_path(pattern, path).is_some()).then_some(function)
    })
}

impl Functions {
    /// Every function's scheduled run, as EventBridge would start them.
    pub async fn sweep(&self) -> serde_json::Value {
        serde_json::json!({
            "alva": alva::sweep(&self.alva).await,
            "learnster": learnster::sweep(&self.learnster).await,
            "2secure": twosecure::sweep(&self.twosecure_order).await,
            "2secure-status": twosecure::status_sweep(&self.twosecure_status).await,
            "sparkhire": sparkhire::sweep(&self.sparkhire).await,
        })
    }

    pub async fn dispatch(&self, req: web::Request) -> web::Response {
        match function_for(req.method(), req.uri().path()) {
            Some("alva-activation") => alva::handle(&self.alva, req).await,
            Some("learnster-webhook") => learnster::handle(&self.learnster, req).await,
            Some("twosecure-order") => twosecure::handle_order(&self.twosecure_order, req).await,
            Some("twosecure-status") => twosecure::handle_status(&self.twosecure_status, req).await,
            Some("sparkhire-key-exchange") => sparkhire::handle(&self.sparkhire, req).await,
            Some("stackone-credential-link") => stackone::handle(&self.stackone, req).await,
            _ => AppError::not_found(format!("no route {} {}", req.method(), req.uri().path()))
                .into_response(Style::Problem),
        }
    }
}

/// The configuration the local runner uses: the environment, with the sandbox standing in for
/// every outside API whose `*_API_URL` is unset, and `PUBLIC_BASE_URL` defaulting to `addr`.
pub fn local_config(addr: SocketAddr) -> Result<(Config, bool), String> {
    let base = format!("http://{addr}");
    let mut defaults: HashMap<&str, String> = HashMap::new();
    defaults.insert("PUBLIC_BASE_URL", base.clone());
    defaults.insert("TEAMTAILOR_API_URL", format!("{base}/_sandbox/teamtailor"));
    defaults.insert("TEAMTAILOR_NA_API_URL", format!("{base}/_sandbox/teamtailor-na"));
    defaults.insert("LEARNSTER_API_URL", format!("{base}/_sandbox/learnster/{{space}}/api/public/v1"));
    defaults.insert("TWOSECURE_API_URL", format!("{base}/_sandbox/2secure"));
    defaults.insert("ALVA_API_URL", format!("{base}/_sandbox/alva"));
    defaults.insert("STACKONE_API_URL", format!("{base}/_sandbox/stackone"));
    defaults.insert("SPARKHIRE_API_URL", format!("{base}/_sandbox/sparkhire"));
    let from_env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let uses_sandbox = [
        "TEAMTAILOR_API_URL",
        "TEAMTAILOR_NA_API_URL",
        "LEARNSTER_API_URL",
        "TWOSECURE_API_URL",
        "ALVA_API_URL",
        "STACKONE_API_URL",
        "SPARKHIRE_API_URL",
    ]
    .iter()
    .any(|k| from_env(k).is_none());
    let config = Config::from_lookup(|k| from_env(k).or_else(|| defaults.get(k).cloned()))
        .map_err(|e| e.to_string())?;
    Ok((config, uses_sandbox))
}

/// Builds the functions on shared storage: DynamoDB when `TABLE_NAME` is set, else embedded.
pub async fn functions(config: Config, secrets: Arc<MemorySecretStore>, policy: RetryPolicy) -> Functions {
    let store: Arc<dyn ItemStore> = match &config.table_name {
        Some(table) => {
            let sdk = aws_config_load().await;
            Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table.clone()))
        }
        None => Arc::new(MemoryStore::new()),
    };
    let secret_store: Arc<dyn SecretStore> = secrets;
    let platform = || {
        Platform::new(
            config.clone(),
            store.clone(),
            secret_store.clone(),
            policy.clone(),
            Arc::new(SystemClock),
        )
    };
    Functions {
        learnster: learnster::Deps::new(platform()),
        twosecure_order: twosecure::Deps::new(platform()),
        twosecure_status: twosecure::Deps::new(platform()),
        alva: alva::Deps::new(platform()),
        stackone: stackone::Deps::new(platform()),
        sparkhire: sparkhire::Deps::new(platform()),
    }
}

async fn aws_config_load() -> aws_config::SdkConfig {
    hirebridge::aws_http::sdk_loader().load().await
}

/// The router: the sandbox under `/_sandbox` (when used), every function's routes elsewhere.
pub fn router(functions: Arc<Functions>, sandbox: Option<&Sandbox>) -> Router {
    let openapi = || async { ([(http::header::CONTENT_TYPE, "application/yaml")], OPENAPI_YAML) };
    let mut router = Router::new()
        .route("/openapi.yaml", axum::routing::get(openapi))
        .fallback(dispatch)
        .with_state(functions);
    if let Some(sandbox) = sandbox {
        router = router.nest("/_sandbox", sandbox.router());
    }
    router
}

async fn dispatch(
    State(functions): State<Arc<Functions>>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            let e = AppError::too_large(format!("the request body is larger than {MAX_BODY_BYTES} bytes"));
            return e.into_response(Style::Problem).map(Body::from);
        }
    };
    functions.dispatch(http::Request::from_parts(parts, bytes)).await.map(Body::from)
}

/// Loads a secrets file (secret name → value); without one, the development secrets.
pub fn load_secrets(path: Option<&str>) -> Result<MemorySecretStore, String> {
    let text = match path {
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("cannot read secrets file {p}: {e}"))?,
        None => DEV_SECRETS.to_owned(),
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("the secrets file is not JSON: {e}"))?;
    MemorySecretStore::from_json(&value)
}

/// A running local server.
pub struct Running {
    pub addr: SocketAddr,
    pub sandbox: Option<Sandbox>,
    pub functions: Arc<Functions>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Binds `addr` and serves until the task is dropped or aborted. The sandbox (when used) takes
/// keys and partner results nobody registered to exist ([`Sandbox::new`]), so that people
/// experimenting with `make dev` can use any key.
pub async fn start(
    addr: SocketAddr,
    secrets: MemorySecretStore,
    policy: RetryPolicy,
) -> Result<Running, String> {
    start_with(addr, secrets, policy, Sandbox::new()).await
}

/// As [`start`], with `sandbox` standing in for the outside services whose `*_API_URL` is unset:
/// the demo and the tests give one that refuses what was not registered with it
/// ([`Sandbox::refusing_unregistered`]), as the real services do.
pub async fn start_with(
    addr: SocketAddr,
    secrets: MemorySecretStore,
    policy: RetryPolicy,
    sandbox: Sandbox,
) -> Result<Running, String> {
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (config, uses_sandbox) = local_config(addr)?;
    let sandbox = uses_sandbox.then_some(sandbox);
    let functions = Arc::new(functions(config, Arc::new(secrets), policy).await);
    let app = router(functions.clone(), sandbox.as_ref());
    // StackOne's webhook, registered with the sandbox as devops register it with StackOne: the
    // Hub completing a session sends its account event here, signed with vendor/stackone's secret.
    if let Some(sandbox) = &sandbox {
        let vendor: Result<stackone::VendorSecret, _> =
            functions.stackone.platform.secrets.require_json(stackone::VENDOR_SECRET).await;
        if let Ok(vendor) = vendor {
            let url = functions.stackone.platform.config.public_url("/stackone/events");
            sandbox.set_stackone_webhook(&url, vendor.webhook_secret.expose()).await;
        }
    }
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "local server stopped");
        }
    });
    // EventBridge's schedules, locally: the 2Secure status poll and every sweep on a timer.
    let every = std::env::var("HIREBRIDGE_POLL_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(300u64);
    let poller = functions.clone();
    tokio::spawn(async move {
        let mut timer = tokio::time::interval(std::time::Duration::from_secs(every.max(1)));
        timer.tick().await;
        loop {
            timer.tick().await;
            poller.sweep().await;
        }
    });
    Ok(Running { addr, sandbox, functions, task })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// `(function, METHOD, path)` with parameter names erased (`{}`), so that only the shape counts.
    type Shapes = BTreeSet<(String, String, String)>;

    fn shape(path: &str) -> String {
        path.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect::<Vec<_>>().join("/")
    }

    /// The string inside a value, through a CloudFormation tag (`!Sub "…"`, `!GetAtt X.Arn`).
    fn text(v: &serde_yaml::Value) -> Option<&str> {
        match v {
            serde_yaml::Value::Tagged(t) => text(&t.value),
            other => other.as_str(),
        }
    }

    /// Routes as SAM `HttpApi` events of a function, or as `AWS::ApiGatewayV2::Route`s whose target
    /// integration invokes a function; each named by the function's binary.
    fn template_routes(template: &str) -> Shapes {
        let doc: serde_yaml::Value = serde_yaml::from_str(template).expect("template.yaml is YAML");
        let resources = doc["Resources"].as_mapping().expect("Resources");
        let name = |k: &serde_yaml::Value| k.as_str().unwrap_or_default().to_owned();
        let mut binaries = std::collections::HashMap::new();
        let mut integrations = std::collections::HashMap::new();
        let mut out = Shapes::new();
        for (key, r) in resources {
            match r["Type"].as_str() {
                Some("AWS::Serverless::Function") => {
                    let binary =
                        text(&r["Metadata"]["BuildProperties"]["Binary"]).expect("Binary").to_owned();
                    for (_, event) in r["Properties"]["Events"].as_mapping().into_iter().flatten() {
                        if event["Type"].as_str() == Some("HttpApi") {
                            let p = &event["Properties"];
                            let (m, path) =
                                (text(&p["Method"]).expect("Method"), text(&p["Path"]).expect("Path"));
                            out.insert((binary.clone(), m.to_uppercase(), shape(path)));
                        }
                    }
                    binaries.insert(name(key), binary);
                }
                Some("AWS::ApiGatewayV2::Integration") => {
                    let uri = text(&r["Properties"]["IntegrationUri"]).unwrap_or_default();
                    integrations.insert(name(key), uri.trim_end_matches(".Arn").to_owned());
                }
                _ => {}
            }
        }
        for (_, r) in resources {
            if r["Type"].as_str() != Some("AWS::ApiGatewayV2::Route") {
                continue;
            }
            let key = text(&r["Properties"]["RouteKey"]).expect("RouteKey");
            let target = text(&r["Properties"]["Target"]).expect("Target");
            let integration = target.trim_start_matches("integrations/${").trim_end_matches('}');
            let function = integrations.get(integration).and_then(|f| binaries.get(f)).expect("route target");
            let (m, path) = key.split_once(' ').expect("METHOD /path");
            out.insert((function.clone(), m.to_uppercase(), shape(path)));
        }
        out
    }

    fn code_routes() -> Shapes {
        route_tables()
            .into_iter()
            .flat_map(|(_, table)| table)
            .map(|(m, path, function, _)| (function.to_owned(), m.to_string(), shape(path)))
            .collect()
    }

    fn disagreements(template: &Shapes, code: &Shapes) -> Vec<String> {
        let mut out: Vec<String> =
            template.difference(code).map(|r| format!("only in template.yaml: {r:?}")).collect();
        out.extend(code.difference(template).map(|r| format!("only in the code: {r:?}")));
        out
    }

    #[test]
    fn template_yaml_the_local_runner_and_the_code_declare_the_same_routes() {
        let template = template_routes(include_str!("../../template.yaml"));
        let code = code_routes();
        assert!(template.len() >= 30, "the template's routes were read: {template:?}");
        let differ = disagreements(&template, &code);
        assert!(differ.is_empty(), "routes disagree:\n{}", differ.join("\n"));
        // The local runner sends every route to the Lambda the template names.
        for (function, method, path) in &template {
            let concrete = path.replace("{}", "x1");
            let method: http::Method = method.parse().expect("method");
            assert_eq!(function_for(&method, &concrete), Some(function.as_str()), "{method} {path}");
        }
    }

    #[test]
    fn a_route_missing_from_the_template_is_reported() {
        let full = include_str!("../../template.yaml");
        let cut = full.replacen("POST /alva/webhook\"", "POST /alva/webhook-renamed\"", 1);
        assert!(cut != full, "the template declares POST /alva/webhook");
        let differ = disagreements(&template_routes(&cut), &code_routes());
        assert!(
            differ.iter().any(|d| d.contains("only in the code") && d.contains("/alva/webhook")),
            "{differ:?}"
        );
    }

    /// IAM's `StringLike`: `*` stands for any run of characters.
    fn like(pattern: &str, key: &str) -> bool {
        match pattern.split_once('*') {
            None => pattern == key,
            Some((head, rest)) => {
                key.starts_with(head)
                    && (0..=key.len() - head.len()).any(|i| like(rest, &key[head.len() + i..]))
            }
        }
    }

    /// Keys the code writes for each integration: the shared mechanisms' (work items, cards,
    /// audit records, used tickets) and the integration's own prefix.
    fn keys_of(integration: &str) -> Vec<String> {
        let scope = match integration {
            "twosecure" => "2secure",
            other => other,
        };
        let mut keys = vec![
            hirebridge::keys::event(&format!("{scope}#tenant"), "e1"),
            hirebridge::keys::card(scope, "https://api.teamtailor.com/partner/v1/partner-results/1"),
            hirebridge::keys::audit(scope, "2026-12-08"),
            format!("{}#x", integration.to_uppercase()),
        ];
        let ticket_purpose = match integration {
            "sparkhire" => Some(sparkhire::TICKET_PURPOSE),
            "stackone" => Some(stackone::TICKET_PURPOSE),
            _ => None,
        };
        keys.extend(ticket_purpose.map(|p| format!("TICKET#{p}#nonce")));
        if integration == "stackone" {
            keys.retain(|k| !k.starts_with("EVENT#") && !k.starts_with("WORK#"));
        }
        keys
    }

    /// The table access of each function, from template.yaml's `ItemKeys` (the `LeadingKeys`
    /// condition of every function's table statement): each integration reaches its own keys and
    /// none of another's, audit records and used tickets included.
    #[test]
    fn each_function_reaches_its_own_items_and_no_other_integrations() {
        let doc: serde_yaml::Value = serde_yaml::from_str(include_str!("../../template.yaml")).unwrap();
        let item_keys = doc["Mappings"]["ItemKeys"].as_mapping().expect("Mappings.ItemKeys");
        let granted: Vec<(String, Vec<String>)> = item_keys
            .iter()
            .map(|(k, v)| {
                let patterns = v["LeadingKeys"].as_sequence().expect("LeadingKeys");
                (
                    k.as_str().unwrap().to_owned(),
                    patterns.iter().filter_map(|p| p.as_str()).map(str::to_owned).collect(),
                )
            })
            .collect();
        assert_eq!(granted.len(), 5, "{granted:?}");
        let mut table = vec!["| function's integration | key | Get/Put/Update/Delete/Query |".to_owned()];
        for (integration, patterns) in &granted {
            for (owner, _) in &granted {
                for key in keys_of(owner) {
                    let allowed = patterns.iter().any(|p| like(p, &key));
                    table.push(format!(
                        "| {integration} | `{key}` | {} |",
                        if allowed { "allowed" } else { "denied" }
                    ));
                    assert_eq!(
                        allowed,
                        owner == integration,
                        "{integration} on {key} (owned by {owner}): {patterns:?}"
                    );
                }
            }
        }
        println!("{}", table.join("\n"));
    }
}
