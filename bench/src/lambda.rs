//! A Lambda execution environment on loopback: the Runtime API (`AWS_LAMBDA_RUNTIME_API`,
//! version 2018-06-01) served to one child process, the release binary of a function started
//! with the environment a deployment gives it.
//!
//! - `GET  /2018-06-01/runtime/invocation/next` holds until an event is queued, then answers it
//!   with `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms`,
//!   `Lambda-Runtime-Invoked-Function-Arn` and `Lambda-Runtime-Trace-Id`;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` and `.../error` end the invocation;
//! - `POST /2018-06-01/runtime/init/error` reports a failed start.
//!
//! The init time is from just before the process is started to its first `next`; an
//! invocation's duration from the moment its event is handed out to its response, as Lambda's
//! `Duration` is.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};

use crate::events::{ACCOUNT, REGION};
use crate::procfs;
use crate::proxy::{Call, Proxy};

/// Lambda's timeout for every function (`template.yaml`: `Timeout: 25`).
pub const TIMEOUT: Duration = Duration::from_secs(25);

struct Queued {
    event: Bytes,
    reply: oneshot::Sender<Ended>,
}

/// How an invocation ended.
#[derive(Debug)]
pub struct Ended {
    /// `/response` (true) or `/error` (false).
    pub ok: bool,
    pub body: Bytes,
    pub duration: Duration,
}

struct Api {
    function_arn: String,
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    in_flight: Mutex<HashMap<String, (oneshot::Sender<Ended>, Instant)>>,
    first_next: watch::Sender<Option<Instant>>,
    init_error: Mutex<Option<String>>,
    counter: Mutex<u64>,
}

async fn next(State(api): State<Arc<Api>>) -> Response {
    let arrived = Instant::now();
    api.first_next.send_if_modified(|first| {
        if first.is_none() {
            *first = Some(arrived);
            true
        } else {
            false
        }
    });
    let mut queue = api.queue.lock().await;
    let Some(queued) = queue.recv().await else {
        return StatusCode::GONE.into_response();
    };
    drop(queue);
    let id = {
        let mut n = api.counter.lock().unwrap();
        *n += 1;
        format!("{:08x}-b3c4-4d5e-8f60-{:012x}", *n, uuid::Uuid::new_v4().as_u128() as u64 & 0xffff_ffff_ffff)
    };
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + TIMEOUT;
    let trace = format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        deadline.as_secs(),
        &uuid::Uuid::new_v4().simple().to_string()[..24],
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    let headers = [
        ("content-type", "application/json".to_owned()),
        ("lambda-runtime-aws-request-id", id.clone()),
        ("lambda-runtime-deadline-ms", deadline.as_millis().to_string()),
        ("lambda-runtime-invoked-function-arn", api.function_arn.clone()),
        ("lambda-runtime-trace-id", trace),
    ];
    let mut response = Response::builder().status(StatusCode::OK);
    for (name, value) in headers {
        response = response.header(name, value);
    }
    api.in_flight.lock().unwrap().insert(id, (queued.reply, Instant::now()));
    response.body(axum::body::Body::from(queued.event)).unwrap_or_default()
}

fn end(api: &Api, id: &str, ok: bool, body: Bytes) -> StatusCode {
    let Some((reply, handed_out)) = api.in_flight.lock().unwrap().remove(id) else {
        return StatusCode::BAD_REQUEST;
    };
    let _ = reply.send(Ended { ok, body, duration: handed_out.elapsed() });
    StatusCode::ACCEPTED
}

async fn response(State(api): State<Arc<Api>>, UrlPath(id): UrlPath<String>, body: Bytes) -> StatusCode {
    end(&api, &id, true, body)
}

async fn error(State(api): State<Arc<Api>>, UrlPath(id): UrlPath<String>, body: Bytes) -> StatusCode {
    end(&api, &id, false, body)
}

async fn init_error(State(api): State<Arc<Api>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let kind = headers.get("lambda-runtime-function-error-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    *api.init_error.lock().unwrap() = Some(format!("{kind} {}", String::from_utf8_lossy(&body)));
    StatusCode::ACCEPTED
}

/// What a function's environment is started with.
#[derive(Clone)]
pub struct Spec {
    /// The function's name (`learnster-webhook`): its log group, ARN and log file.
    pub name: String,
    pub binary: PathBuf,
    /// The deployment's variables (TABLE_NAME, …); the Lambda ones are added.
    pub vars: Vec<(String, String)>,
    /// Runs the binary under this command (e.g. `strace -f -o …`), for the init investigation.
    pub wrapper: Vec<String>,
}

/// One execution environment: its Runtime API, its counting proxy to moto, its process.
pub struct Env {
    pub name: String,
    child: std::process::Child,
    pub pid: u32,
    api: Arc<Api>,
    tx: mpsc::UnboundedSender<Queued>,
    first_next: watch::Receiver<Option<Instant>>,
    pub proxy: Proxy,
    /// The Runtime API's address (`AWS_LAMBDA_RUNTIME_API`).
    pub runtime_addr: SocketAddr,
    started: Instant,
    log: PathBuf,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.server.abort();
    }
}

/// The variables Lambda sets for a `provided.al2023` function of 256 MB with JSON logs at INFO
/// (`template.yaml`'s Globals), with the credentials of the execution role.
fn lambda_vars(name: &str, runtime_api: SocketAddr) -> Vec<(String, String)> {
    let function = format!("hirebridge-{name}");
    let (y, m, d, ..) = crate::events::civil(crate::events::now_secs());
    [
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".to_owned()),
        (
            "LD_LIBRARY_PATH",
            "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib".to_owned(),
        ),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("TZ", ":UTC".to_owned()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("LAMBDA_TASK_ROOT", "/var/task".to_owned()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".to_owned()),
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_DEFAULT_REGION", REGION.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", function.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}")),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            format!("{y:04}/{m:02}/{d:02}/[$LATEST]{}", uuid::Uuid::new_v4().simple()),
        ),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
        ("AWS_LAMBDA_LOG_LEVEL", "INFO".to_owned()),
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
        ("AWS_ACCESS_KEY_ID", "ASIABENCHBENCHBENCH1".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "benchbenchbenchbenchbenchbenchbenchbench".to_owned()),
        ("AWS_SESSION_TOKEN", "bench-session-token".to_owned()),
        ("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR".to_owned()),
        ("AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129:2000".to_owned()),
        ("_AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129".to_owned()),
        ("_AWS_XRAY_DAEMON_PORT", "2000".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

impl Env {
    /// Starts the Runtime API, the proxy and the process (the init clock starts here).
    pub async fn start(spec: &Spec, moto: &str, client: reqwest::Client, logs: &Path) -> Result<Env, String> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (first_tx, first_rx) = watch::channel(None);
        let api = Arc::new(Api {
            function_arn: format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:hirebridge-{}", spec.name),
            queue: tokio::sync::Mutex::new(rx),
            in_flight: Mutex::new(HashMap::new()),
            first_next: first_tx,
            init_error: Mutex::new(None),
            counter: Mutex::new(0),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(api.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let proxy = Proxy::start(moto, client).await.map_err(|e| e.to_string())?;

        let mut vars = lambda_vars(&spec.name, addr);
        vars.push(("AWS_ENDPOINT_URL".into(), proxy.url()));
        vars.extend(spec.vars.iter().cloned());
        std::fs::create_dir_all(logs).map_err(|e| e.to_string())?;
        let log = logs.join(format!("{}.log", spec.name));
        let file =
            std::fs::OpenOptions::new().create(true).append(true).open(&log).map_err(|e| e.to_string())?;
        let mut command = match spec.wrapper.split_first() {
            Some((program, args)) => {
                let mut c = std::process::Command::new(program);
                c.args(args).arg(&spec.binary);
                c
            }
            None => std::process::Command::new(&spec.binary),
        };
        command
            .env_clear()
            .envs(vars)
            .current_dir(spec.binary.parent().unwrap_or(Path::new("/")))
            .stdin(std::process::Stdio::null())
            .stdout(file.try_clone().map_err(|e| e.to_string())?)
            .stderr(file);
        let started = Instant::now();
        let child = command.spawn().map_err(|e| format!("{}: {e}", spec.binary.display()))?;
        let pid = child.id();
        Ok(Env {
            name: spec.name.clone(),
            child,
            pid,
            api,
            tx,
            first_next: first_rx,
            proxy,
            runtime_addr: addr,
            started,
            log,
            server,
        })
    }

    /// Waits for the first `next`: the init time.
    pub async fn ready(&mut self, limit: Duration) -> Result<Duration, String> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(at) = *self.first_next.borrow() {
                return Ok(at.duration_since(self.started));
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let error = self.api.init_error.lock().unwrap().clone().unwrap_or_default();
                return Err(format!(
                    "{} exited ({status}) before its first next {error}\n{}",
                    self.name,
                    self.log_tail()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not ask for an event within {limit:?}\n{}",
                    self.name,
                    self.log_tail()
                ));
            }
            let _ = tokio::time::timeout(Duration::from_millis(20), self.first_next.changed()).await;
        }
    }

    /// One invocation: the event handed to the function, its answer, and the calls it made to
    /// AWS meanwhile.
    pub async fn invoke(&mut self, event: &Value) -> Result<Invoked, String> {
        let mark = self.proxy.mark();
        let (reply, ended) = oneshot::channel();
        let event = Bytes::from(serde_json::to_vec(event).map_err(|e| e.to_string())?);
        self.tx.send(Queued { event, reply }).map_err(|_| "the Runtime API is gone".to_owned())?;
        let ended = match tokio::time::timeout(TIMEOUT + Duration::from_secs(5), ended).await {
            Ok(Ok(ended)) => ended,
            Ok(Err(_)) => return Err(format!("{}: the invocation was dropped", self.name)),
            Err(_) => {
                let exited = self.child.try_wait().ok().flatten();
                return Err(format!(
                    "{}: no answer within the timeout (process: {exited:?})\n{}",
                    self.name,
                    self.log_tail()
                ));
            }
        };
        let body: Value = serde_json::from_slice(&ended.body).unwrap_or(Value::Null);
        let status = if !ended.ok {
            0
        } else {
            body.get("statusCode").and_then(Value::as_u64).map(|s| s as u16).unwrap_or(200)
        };
        Ok(Invoked { ok: ended.ok, status, body, duration: ended.duration, calls: self.proxy.since(mark) })
    }

    /// Ends a process started under a wrapper (strace) by killing what it runs, so that the
    /// wrapper finishes its output and exits.
    pub fn stop_traced(&mut self) {
        let children =
            std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", self.pid)).unwrap_or_default();
        for pid in children.split_whitespace() {
            let _ = std::process::Command::new("kill").args(["-KILL", pid]).status();
        }
        for _ in 0..200 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn cpu_ticks(&self) -> u64 {
        procfs::cpu_ticks(self.pid).unwrap_or(0)
    }

    pub fn cpu_ns(&self) -> u64 {
        procfs::cpu_ns(self.pid).unwrap_or(0)
    }

    pub fn minor_faults(&self) -> u64 {
        procfs::minor_faults(self.pid).unwrap_or(0)
    }

    pub fn peak_rss_kb(&self) -> u64 {
        procfs::vm_hwm_kb(self.pid).unwrap_or(0)
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(8)..].join("\n")
    }
}

/// One invocation's result.
#[derive(Debug)]
pub struct Invoked {
    /// Ended with `/response` (not `/error`).
    pub ok: bool,
    /// The HTTP answer's `statusCode` (200 for a scheduled run's value, 0 for an error).
    pub status: u16,
    pub body: Value,
    pub duration: Duration,
    pub calls: Vec<Call>,
}

impl Invoked {
    /// The answer's body as text (the HTTP body, or the whole value).
    pub fn text(&self) -> String {
        match self.body.get("body").and_then(Value::as_str) {
            Some(b) => b.to_owned(),
            None => self.body.to_string(),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text()).unwrap_or(Value::Null)
    }
}
