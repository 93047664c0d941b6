//! The counting proxy in front of moto: a function's `AWS_ENDPOINT_URL` points here; every
//! request is forwarded to moto as it is and recorded on the way — which service and operation
//! (`X-Amz-Target`), which items it touched (the `pk` of its keys, its variable parts elided), and
//! for a `Query` the items the answer carried.
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use serde_json::Value;

/// One call on the wire.
#[derive(Clone, Debug)]
pub struct Call {
    /// `dynamodb`, `secretsmanager` or what else the target names.
    pub service: String,
    pub op: String,
    /// The pk of every item it names, with variable parts as `*` (e.g. `EVENT#learnster#*#*`).
    pub keys: Vec<String>,
    /// `Query` only: the index it read (`None` for the table) and the items the answer carried.
    pub index: Option<String>,
    pub items: u64,
    pub scanned: u64,
    pub status: u16,
    /// From the request's arrival at the proxy to moto's answer.
    pub elapsed_us: u64,
}

impl Call {
    /// Whether it is a round trip of the work item of an event (`EVENT#…`): its claim, or its
    /// outcome with what a transaction writes along with it (no round trip of their own).
    pub fn is_work_item(&self) -> bool {
        self.keys.iter().any(|k| k.starts_with("EVENT#"))
    }
}

#[derive(Clone)]
struct Shared {
    moto: String,
    client: reqwest::Client,
    calls: Arc<Mutex<Vec<Call>>>,
}

pub struct Proxy {
    pub addr: SocketAddr,
    calls: Arc<Mutex<Vec<Call>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    pub async fn start(moto: &str, client: reqwest::Client) -> std::io::Result<Proxy> {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared { moto: moto.trim_end_matches('/').to_owned(), client, calls: calls.clone() };
        let app = Router::new().fallback(forward).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Proxy { addr, calls, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many calls so far (a mark for [`Proxy::since`]).
    pub fn mark(&self) -> usize {
        self.calls.lock().unwrap().len()
    }

    pub fn since(&self, mark: usize) -> Vec<Call> {
        self.calls.lock().unwrap()[mark..].to_vec()
    }
}

const HOP_BY_HOP: [&str; 6] =
    ["host", "connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"];

async fn forward(State(s): State<Shared>, req: Request) -> Response {
    let arrived = std::time::Instant::now();
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20).await.unwrap_or_default();
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut out = s.client.request(parts.method.clone(), format!("{}{path}", s.moto)).body(body.clone());
    for (name, value) in &parts.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            out = out.header(name, value);
        }
    }
    let (status, headers, answer) = match out.send().await {
        Ok(r) => {
            let status = r.status();
            let headers = r.headers().clone();
            (status, headers, r.bytes().await.unwrap_or_default())
        }
        Err(e) => {
            (http::StatusCode::BAD_GATEWAY, http::HeaderMap::new(), bytes::Bytes::from(format!("proxy: {e}")))
        }
    };
    let mut call = describe(&target, &parts.headers, &body, &answer, status.as_u16());
    call.elapsed_us = arrived.elapsed().as_micros() as u64;
    s.calls.lock().unwrap().push(call);
    let mut response = Response::builder().status(status);
    for (name, value) in &headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            response = response.header(name, value);
        }
    }
    response.body(Body::from(answer)).unwrap_or_default()
}

fn describe(target: &str, headers: &http::HeaderMap, body: &[u8], answer: &[u8], status: u16) -> Call {
    let (service, op) = match target.split_once('.') {
        Some((prefix, op)) if prefix.starts_with("DynamoDB") => ("dynamodb".to_owned(), op.to_owned()),
        Some((prefix, op)) => (prefix.to_ascii_lowercase(), op.to_owned()),
        None => {
            // Not a JSON-protocol call: name it by the signing scope's service.
            let scope = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|a| a.split("Credential=").nth(1))
                .and_then(|c| c.split('/').nth(3))
                .unwrap_or("unknown");
            (scope.to_owned(), "?".to_owned())
        }
    };
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut call =
        Call { service, op, keys: Vec::new(), index: None, items: 0, scanned: 0, status, elapsed_us: 0 };
    if call.service == "dynamodb" {
        collect_keys(&request, &mut call.keys);
        if call.op == "Query" || call.op == "Scan" {
            call.index = request.get("IndexName").and_then(Value::as_str).map(str::to_owned);
            let answer: Value = serde_json::from_slice(answer).unwrap_or(Value::Null);
            call.items = answer.get("Count").and_then(Value::as_u64).unwrap_or(0);
            call.scanned = answer.get("ScannedCount").and_then(Value::as_u64).unwrap_or(0);
        }
    }
    call
}

/// The pk of every item a DynamoDB request names (Key, Item, transaction and batch entries, a
/// Query's `:pk`), each as a class.
fn collect_keys(request: &Value, out: &mut Vec<String>) {
    let pk_of = |v: &Value| v.get("pk").and_then(|p| p.get("S")).and_then(Value::as_str).map(class);
    for field in ["Key", "Item"] {
        if let Some(pk) = request.get(field).and_then(pk_of) {
            out.push(pk);
        }
    }
    if let Some(items) = request.get("TransactItems").and_then(Value::as_array) {
        for entry in items {
            for op in ["Put", "Update", "Delete", "ConditionCheck", "Get"] {
                if let Some(e) = entry.get(op) {
                    if let Some(pk) = e.get("Key").or_else(|| e.get("Item")).and_then(pk_of) {
                        out.push(pk);
                    }
                }
            }
        }
    }
    if let Some(tables) = request.get("RequestItems").and_then(Value::as_object) {
        for entries in tables.values() {
            if let Some(keys) = entries.get("Keys").and_then(Value::as_array) {
                out.extend(keys.iter().filter_map(pk_of));
            }
            if let Some(writes) = entries.as_array() {
                for w in writes {
                    let item = w.pointer("/PutRequest/Item").or_else(|| w.pointer("/DeleteRequest/Key"));
                    out.extend(item.and_then(pk_of));
                }
            }
        }
    }
    if request.get("KeyConditionExpression").is_some() {
        if let Some(values) = request.get("ExpressionAttributeValues").and_then(Value::as_object) {
            // The partition key's value: the first string value the condition names with `=`.
            let expr = request["KeyConditionExpression"].as_str().unwrap_or_default();
            for (name, v) in values {
                if expr.contains(&format!("= {name}")) || expr.contains(&format!("={name}")) {
                    if let Some(s) = v.get("S").and_then(Value::as_str) {
                        out.push(class(s));
                        break;
                    }
                }
            }
        }
    }
}

/// A key with its variable parts as `*`: segments of upper-case words and the integrations'
/// names stay, ids and hashes go.
pub fn class(pk: &str) -> String {
    const WORDS: [&str; 12] = [
        "alva",
        "learnster",
        "2secure",
        "sparkhire",
        "stackone",
        "card",
        "token",
        "due",
        "given_up",
        "open",
        "users",
        "KEY",
    ];
    pk.split('#')
        .map(|seg| {
            let constant = (!seg.is_empty() && seg.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
                || WORDS.contains(&seg);
            if constant {
                seg
            } else {
                "*"
            }
        })
        .collect::<Vec<_>>()
        .join("#")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_classed() {
        assert_eq!(class("EVENT#learnster#3f2a#f3d7e8e2-da33"), "EVENT#learnster#*#*");
        assert_eq!(class("LEARNSTER#token#ab12"), "LEARNSTER#token#*");
        assert_eq!(class("WORK#alva#card#00ff"), "WORK#alva#card#*");
        assert_eq!(class("due#learnster"), "due#learnster");
    }
}
