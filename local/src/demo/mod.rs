//! `make demo`: the recruitment story end to end against the local runner and its sandbox,
//! printing each step and its outcome. Fails (non-zero exit) when a step does not behave.
use std::net::SocketAddr;

use bytes::Bytes;
use hirebridge::outbound::RetryPolicy;
use hirebridge::secrets::MemorySecretStore;
use serde_json::{json, Value};

use crate::server::{self, DEV_ADMIN_TOKEN};

mod alva;
mod learnster;
mod sparkhire;
mod stackone;
mod twosecure;
use testkit::driver::{admin, Move, Teamtailor};
use testkit::sandbox::{Job, Sandbox};

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn send(&self, req: http::Request<Bytes>) -> Result<(u16, String), String> {
        let (parts, body) = req.into_parts();
        let url = format!("{}{}", self.base, parts.uri);
        let resp = self
            .http
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        Ok((status, resp.text().await.unwrap_or_default()))
    }
}

static STEP: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn step(title: &str) {
    let n = STEP.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    println!("\n{n}. {title}");
}

fn outcome(status: u16, text: &str) {
    println!("   → {status}: {text}");
}

fn expect(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what.to_owned())
    }
}

pub async fn run(addr: SocketAddr, secrets: MemorySecretStore) -> Result<(), String> {
    // The fakes know only what the story registers with them, as the real services do: the
    // listings' and vendor keys of the secrets file, each company key, each partner result.
    let sandbox = Sandbox::refusing_unregistered();
    let running = server::start_with(addr, secrets, RetryPolicy::default(), sandbox).await?;
    let sandbox = running
        .sandbox
        .clone()
        .ok_or("the demo plays against the sandbox; unset TEAMTAILOR_API_URL and the other *_API_URL")?;
    let client = Client { http: reqwest::Client::new(), base: format!("http://{}", running.addr) };
    println!("hirebridge-local on {} with the fakes of Teamtailor and the five services", client.base);
    learnster::story(&client, &running, &sandbox).await?;
    twosecure::story(&client, &running, &sandbox).await?;
    alva::story(&client, &running, &sandbox).await?;
    stackone::story(&client, &running, &sandbox).await?;
    sparkhire::story(&client, &running, &sandbox).await?;
    // Teamtailor took every card update: each was for a partner result one of its triggers made.
    let refused = sandbox
        .state()
        .await
        .requests
        .iter()
        .filter(|r| r.path.contains("/partner-results/") && r.status != Some(200))
        .count();
    expect(refused == 0, &format!("Teamtailor refused {refused} partner-result update(s)"))?;
    running.task.abort();
    Ok(())
}

/// The listing requires the company's API key, so Teamtailor sends the key the company chose for
/// it with every trigger (Learnster reads the job's department with it, 2Secure moves the
/// candidate on).
fn with_company_token(mut req: http::Request<Bytes>, key: &str) -> http::Request<Bytes> {
    req.headers_mut().insert("teamtailor-api-token", key.parse().expect("header"));
    req
}

async fn print_card(sandbox: &Sandbox, mv: &Move) {
    let state = sandbox.state().await;
    match state.partner.results.get(&mv.result_id) {
        Some(r) => println!(
            "   candidate card: {} — {}",
            r["status"].as_str().unwrap_or("?"),
            r["summary"].as_str().unwrap_or("")
        ),
        None => println!("   candidate card: no partner result written"),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn form_post(path: &str, fields: &[(&str, &str)]) -> http::Request<Bytes> {
    let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from(body))
        .expect("a valid request")
}

/// The messages a page shows (its `class="error"` paragraphs and its status line).
fn page_messages(html: &str) -> Vec<String> {
    let errors =
        html.split("<p class=\"error\"").skip(1).filter_map(|p| p.split_once('>').map(|(_, rest)| rest));
    let results = html.split("id=\"result\">").skip(1);
    errors
        .chain(results)
        .filter_map(|rest| rest.split("</p>").next())
        .map(|m| m.replace("<strong>", "").replace("</strong>", "").replace("&#39;", "'"))
        .collect()
}
