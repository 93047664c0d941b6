//! `hirebridge-local probe`: a go-live check. With the real credentials (the deployed secrets in
//! Secrets Manager under `SECRETS_PREFIX`, or a secrets file of name → value), it calls each
//! outside service the way the functions call it (same paths, headers and authentication, through
//! the functions' own clients where they are public) and prints one line per contract: `holds`,
//! `differs: <what came back>` or `could not be checked: <why>`. It exits with 1 when something
//! differs, else 0.
//!
//! It changes nothing anywhere: it sends only `GET` requests, except Learnster's token request
//! (`POST auth/token/`, OAuth2 client credentials), which issues a short-lived access token and
//! creates nothing; writes the functions make (Alva's no-op `PATCH /v1/company`) are named and left
//! unchecked. Secrets are read from Secrets Manager (`GetSecretValue`) or the file, never written.
//! No credential appears in what it prints: an answer's text is quoted only in part, with the
//! credentials used for it masked.
//!
//! Teamtailor's side is checked against what its docs promise: "Successful API requests will have
//! the used API version in the response header `X-Api-Version`" (partner API:
//! github.com/Teamtailor/tt-partner-docs, `source/includes/partners/_versioning.md.erb`, and the
//! activations list, `source/includes/partners/partner_activations/_index.md.erb`, at commit
//! f7574955d9a9f62d5be2621cfdec8f78cfea43b0; public API: github.com/Teamtailor/docs,
//! `source/includes/_versioning.md.erb`, and `page[size]` "Default: 10, max: 30" in
//! `source/includes/_pagination.md.erb`, at commit 435312b9e3ff190eea80ad6a6ac7e677a45a9752).
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use hirebridge::config::Config;
use hirebridge::outbound::{HttpClient, OutboundError, RetryPolicy};
use hirebridge::platform::Listing;
use hirebridge::secrets::{MemorySecretStore, SecretStore, Secrets, SecretsManagerStore, DEFAULT_TTL};
use hirebridge::teamtailor::activations::decrypt;
use hirebridge::teamtailor::partner_results::PARTNER_API_VERSION;
use hirebridge::teamtailor::public_api::{next_page, MAX_PAGES};
use hirebridge::SecretString;
use serde::de::DeserializeOwned;
use serde_json::Value;

const USAGE: &str = "usage: hirebridge-local probe [--secrets FILE] [--sandbox URL] [--teamtailor-key KEY] \
[--sparkhire-key KEY] [--twosecure-key KEY] [--learnster-space SPACE] [--alva-company ID]
  Keys may be given in the environment instead (kept out of the process list): PROBE_TEAMTAILOR_API_KEY,
  PROBE_SPARKHIRE_API_KEY, PROBE_TWOSECURE_API_KEY, PROBE_LEARNSTER_CLIENT_ID and PROBE_LEARNSTER_CLIENT_SECRET.
  Without --secrets the deployed secrets are read from Secrets Manager (SECRETS_PREFIX, AWS_REGION).";

/// The Teamtailor partner listings, each with its `teamtailor/{integration}` secret.
pub const LISTINGS: [&str; 4] = ["alva", "learnster", "2secure", "sparkhire"];

/// The owner StackOne is asked about: nobody's, so that the list read is empty and harmless.
const PROBE_OWNER: &str = "hirebridge-go-live-probe";

/// Where each service is.
#[derive(Clone, Debug)]
pub struct Targets {
    /// Teamtailor's EU stack (`TEAMTAILOR_API_URL`).
    pub teamtailor_eu: String,
    /// Teamtailor's NA stack (`TEAMTAILOR_NA_API_URL`).
    pub teamtailor_na: String,
    /// The public API's `X-Api-Version` (`TEAMTAILOR_API_VERSION`).
    pub teamtailor_api_version: String,
    /// May hold `{space}`.
    pub learnster: String,
    pub twosecure: String,
    pub sparkhire: String,
    pub stackone: String,
    pub alva: String,
}

pub const DEFAULT_TEAMTAILOR_EU: &str = "https://api.teamtailor.com";
pub const DEFAULT_TEAMTAILOR_NA: &str = "https://api.na.teamtailor.com";

impl Targets {
    /// From the variables the functions read (and their defaults), plus `TEAMTAILOR_NA_API_URL`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        // The probe builds no link, so the deployment's own URL does not matter here.
        let config = Config::from_lookup(|name| match name {
            "PUBLIC_BASE_URL" => Some(get(name).unwrap_or_else(|| "http://localhost".into())),
            _ => get(name),
        })
        .map_err(|e| e.to_string())?;
        let na = get("TEAMTAILOR_NA_API_URL").unwrap_or_else(|| DEFAULT_TEAMTAILOR_NA.into());
        match url::Url::parse(&na) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
            _ => {
                return Err(format!(
                    "environment variable TEAMTAILOR_NA_API_URL is not an http(s) URL: {na:?}"
                ))
            }
        }
        let trim = |s: &str| s.trim_end_matches('/').to_owned();
        Ok(Targets {
            teamtailor_eu: config
                .teamtailor_api_url
                .as_ref()
                .map_or_else(|| DEFAULT_TEAMTAILOR_EU.to_owned(), |u| trim(u.as_str())),
            teamtailor_na: trim(&na),
            teamtailor_api_version: config.teamtailor_api_version,
            learnster: config.learnster_api_url,
            twosecure: config.twosecure_api_url,
            sparkhire: config.sparkhire_api_url,
            stackone: config.stackone_api_url,
            alva: config.alva_api_url,
        })
    }

    /// Every service at the local runner's sandbox (`{base}/_sandbox/...`, as `make dev` serves it);
    /// its one Teamtailor stands in for both stacks.
    pub fn sandbox(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        Targets {
            teamtailor_eu: format!("{base}/_sandbox/teamtailor"),
            teamtailor_na: format!("{base}/_sandbox/teamtailor-na"),
            teamtailor_api_version: "20240904".into(),
            learnster: format!("{base}/_sandbox/learnster/{{space}}/api/public/v1"),
            twosecure: format!("{base}/_sandbox/2secure"),
            sparkhire: format!("{base}/_sandbox/sparkhire"),
            stackone: format!("{base}/_sandbox/stackone"),
            alva: format!("{base}/_sandbox/alva"),
        }
    }
}

/// Credentials and names given on the command line or in the environment; what is not given is
/// looked for in the secrets where the functions keep it.
#[derive(Debug, Default)]
pub struct Given {
    /// A Teamtailor company API key.
    pub teamtailor_key: Option<SecretString>,
    /// A Spark Hire recruiter's User API Key.
    pub sparkhire_key: Option<SecretString>,
    /// A 2Secure customer's API key.
    pub twosecure_key: Option<SecretString>,
    /// The tenant's Learnster space (kept in the integration's settings, not its secret).
    pub learnster_space: Option<String>,
    /// A Learnster API client (id, secret).
    pub learnster_client: Option<(String, SecretString)>,
    /// An Alva company id (sent as `X-Alva-Company`).
    pub alva_company: Option<String>,
}

/// Where the secrets come from.
pub struct SecretSource {
    secrets: Secrets,
    prefix: String,
    /// Every secret's full name, when the source can list them (a file). Secrets Manager's are
    /// not listed: tenant credentials must then be given.
    names: Option<Vec<String>>,
    /// The first failure of the store: later reads give it again instead of calling once more.
    broken: tokio::sync::Mutex<Option<String>>,
}

impl SecretSource {
    /// A JSON object of full secret name → value (`local/dev-secrets.json`'s shape).
    pub fn from_json(value: &Value, prefix: &str) -> Result<Self, String> {
        let names = value.as_object().map(|o| o.keys().cloned().collect());
        let store = MemorySecretStore::from_json(value)?;
        Ok(Self::with(Arc::new(store), prefix, names))
    }

    /// A secrets file, as `make dev` reads it.
    pub fn file(path: &str, prefix: &str) -> Result<Self, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read secrets file {path}: {e}"))?;
        let value: Value =
            serde_json::from_str(&text).map_err(|e| format!("the secrets file is not JSON: {e}"))?;
        Self::from_json(&value, prefix)
    }

    /// The deployed secrets: Secrets Manager through the AWS SDK, as the functions read them.
    pub fn secrets_manager(prefix: &str) -> Self {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .operation_timeout(Duration::from_secs(15))
            .build();
        let store = SecretsManagerStore::on_first_use(hirebridge::aws_http::LazySdk::new(timeouts));
        Self::with(Arc::new(store), prefix, None)
    }

    fn with(store: Arc<dyn SecretStore>, prefix: &str, names: Option<Vec<String>>) -> Self {
        let prefix = prefix.trim_end_matches('/').to_owned();
        SecretSource {
            secrets: Secrets::new(store, prefix.clone(), DEFAULT_TTL),
            prefix,
            names,
            broken: tokio::sync::Mutex::new(None),
        }
    }

    /// The secret `name` (under the prefix) as `T`; `Ok(None)` when it does not exist.
    async fn json<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, String> {
        let mut broken = self.broken.lock().await;
        if let Some(e) = broken.as_ref() {
            return Err(e.clone());
        }
        match self.secrets.get(name).await {
            Ok(None) => Ok(None),
            Ok(Some(raw)) => serde_json::from_str(raw.expose())
                .map(Some)
                .map_err(|_| format!("secret {} is not the expected JSON", self.secrets.full_name(name))),
            Err(e) => {
                // The SDK's errors are long and name the secret asked for: the first part says why.
                let why = format!("the secrets could not be read: {}", shorten(&e.0, 160));
                *broken = Some(why.clone());
                Err(why)
            }
        }
    }

    /// Names (under the prefix) that start with `start`, in order; `None` when the source
    /// cannot list its secrets.
    fn names_under(&self, start: &str) -> Option<Vec<String>> {
        let full = format!("{}/{start}", self.prefix);
        let names = self.names.as_ref()?;
        let mut found: Vec<String> = names
            .iter()
            .filter_map(|n| n.strip_prefix(&format!("{}/", self.prefix)).filter(|_| n.starts_with(&full)))
            .map(str::to_owned)
            .collect();
        found.sort();
        Some(found)
    }

    /// The first secret under `start` that reads as `T` and passes `fits`, with its name.
    async fn find<T: DeserializeOwned>(
        &self,
        start: &str,
        fits: impl Fn(&str) -> bool,
    ) -> Result<Option<(String, T)>, String> {
        let Some(names) = self.names_under(start) else { return Ok(None) };
        for name in names.into_iter().filter(|n| fits(n)) {
            if let Ok(Some(value)) = self.json::<T>(&name).await {
                return Ok(Some((name, value)));
            }
        }
        Ok(None)
    }

    fn can_list(&self) -> bool {
        self.names.is_some()
    }
}

/// What one check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds(String),
    Differs(String),
    Unchecked(String),
}

/// One contract and its verdict.
#[derive(Clone, Debug)]
pub struct Line {
    pub service: String,
    pub contract: String,
    pub verdict: Verdict,
}

fn line(service: &str, contract: impl Into<String>, verdict: Verdict) -> Line {
    Line { service: service.to_owned(), contract: contract.into(), verdict }
}

/// Every line, in a fixed order.
#[derive(Debug)]
pub struct Report {
    pub lines: Vec<Line>,
}

impl Report {
    pub fn differs(&self) -> bool {
        self.lines.iter().any(|l| matches!(l.verdict, Verdict::Differs(_)))
    }

    /// `1` when something differs, else `0`.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.differs())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let service = self.lines.iter().map(|l| l.service.len()).max().unwrap_or(0);
        let contract = self.lines.iter().map(|l| l.contract.len()).max().unwrap_or(0);
        for l in &self.lines {
            let verdict = match &l.verdict {
                Verdict::Holds(d) if d.is_empty() => "holds".to_owned(),
                Verdict::Holds(d) => format!("holds ({d})"),
                Verdict::Differs(d) => format!("differs: {d}"),
                Verdict::Unchecked(d) => format!("could not be checked: {d}"),
            };
            writeln!(f, "{:<service$}  {:<contract$}  {verdict}", l.service, l.contract)?;
        }
        Ok(())
    }
}

/// `404 Not Found`.
fn status_text(status: http::StatusCode) -> String {
    format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("")).trim_end().to_owned()
}

/// A short piece of an answer: its error message when it has one, on one line, at most 100
/// characters, with every credential in `masked` replaced by `***`.
fn excerpt(body: &str, masked: &[&SecretString]) -> String {
    let message = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        let e = &v["errors"][0];
        [&e["detail"], &e["title"], &v["message"], &v["error"], &v["detail"]]
            .into_iter()
            .find_map(|m| m.as_str().map(str::to_owned))
    });
    let text = message.unwrap_or_else(|| body.to_owned());
    let mut text = text;
    for secret in masked {
        let s = secret.expose();
        if s.len() >= 4 {
            text = text.replace(s.as_str(), "***");
        }
    }
    shorten(&text, 100)
}

/// `text` on one line, cut at `max` characters.
fn shorten(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// A status and, when the answer says something, a piece of it.
fn answered(status: http::StatusCode, body: &str, masked: &[&SecretString]) -> String {
    let piece = excerpt(body, masked);
    if piece.is_empty() {
        status_text(status)
    } else {
        format!("{} ({piece})", status_text(status))
    }
}

/// A client's error as a verdict: a refusal or an answer the functions cannot read differs; an
/// outage, a time-out or a network failure leaves the contract unchecked.
fn failed(e: &OutboundError, masked: &[&SecretString]) -> Verdict {
    match e {
        OutboundError::Status { status, body, attempts, .. } if is_outage(*status) => {
            Verdict::Unchecked(format!("{} (tried {attempts} times)", answered(*status, body, masked)))
        }
        OutboundError::Status { status, body, .. } => Verdict::Differs(answered(*status, body, masked)),
        OutboundError::Malformed { reason, .. } => {
            Verdict::Differs(format!("an answer the functions cannot read: {}", excerpt(reason, masked)))
        }
        other => Verdict::Unchecked(excerpt(&other.to_string(), masked)),
    }
}

fn is_outage(status: http::StatusCode) -> bool {
    status.is_server_error() || matches!(status.as_u16(), 408 | 429)
}

/// Runs every check; the report lists them in a fixed order.
pub async fn run(targets: &Targets, source: &SecretSource, given: &Given) -> Report {
    let http = HttpClient::new(RetryPolicy {
        max_attempts: 2,
        request_timeout: Duration::from_secs(10),
        ..RetryPolicy::default()
    });
    let (teamtailor, stackone, sparkhire, learnster, twosecure, alva) = futures::join!(
        teamtailor(&http, targets, source, given),
        stackone(&http, targets, source),
        sparkhire(&http, targets, source, given),
        learnster(&http, targets, source, given),
        twosecure(&http, targets, source, given),
        alva(&http, targets, source, given),
    );
    let lines = [teamtailor, stackone, sparkhire, learnster, twosecure, alva].into_iter().flatten().collect();
    Report { lines }
}

// ---------------------------------------------------------------------------------------------
// Teamtailor

fn stacks(targets: &Targets) -> [(&'static str, &str); 2] {
    [("teamtailor-eu", targets.teamtailor_eu.as_str()), ("teamtailor-na", targets.teamtailor_na.as_str())]
}

async fn teamtailor(http: &HttpClient, targets: &Targets, source: &SecretSource, given: &Given) -> Vec<Line> {
    let mut lines = Vec::new();
    for (stack, base) in stacks(targets) {
        for integration in LISTINGS {
            let contract = format!("GET /partner/v1/partner-activations [{integration}]");
            let verdict = match source.json::<Listing>(&format!("teamtailor/{integration}")).await {
                Ok(Some(listing)) => partner_activations(http, base, &listing).await,
                Ok(None) => Verdict::Unchecked(format!("no secret teamtailor/{integration}")),
                Err(e) => Verdict::Unchecked(e),
            };
            lines.push(line(stack, contract, verdict));
        }
    }
    lines.extend(company_key(http, targets, given).await);
    lines
}

/// The listing's activations as `activations.rs` lists them: `Authorization: Token <partner API
/// key>`, `X-Api-Version: 20180828`, `page[size]=30`, `links.next` followed on the same origin;
/// each answer echoes the version, each row is a `partner-activations` resource whose
/// `provider-key` decrypts with the listing's webhook secret.
async fn partner_activations(http: &HttpClient, base: &str, listing: &Listing) -> Verdict {
    let masked = [&listing.partner_api_key, &listing.webhook_secret];
    let mut url = format!("{base}/partner/v1/partner-activations?page%5Bsize%5D=30");
    let (mut rows, mut decrypted, mut pages) = (0usize, 0usize, 0usize);
    loop {
        pages += 1;
        let request = http
            .request(reqwest::Method::GET, &url)
            .header("Authorization", format!("Token {}", listing.partner_api_key.expose()))
            .header("X-Api-Version", PARTNER_API_VERSION)
            .header("Accept", "application/vnd.api+json");
        let resp = match http.send("Teamtailor", request).await {
            Ok(resp) => resp,
            Err(e) => return failed(&e, &masked),
        };
        let status = resp.status();
        let echoed = resp.headers().get("x-api-version").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = match read_bounded(resp).await {
            Ok(b) => b,
            Err(why) => return Verdict::Unchecked(why),
        };
        if !status.is_success() {
            return Verdict::Differs(answered(status, &body, &masked));
        }
        match echoed.as_deref() {
            Some(PARTNER_API_VERSION) => {}
            Some(other) => {
                return Verdict::Differs(format!(
                    "the answer's X-Api-Version is {:?}, not {PARTNER_API_VERSION}",
                    excerpt(other, &masked)
                ))
            }
            None => {
                return Verdict::Differs(format!(
                    "the answer does not echo X-Api-Version {PARTNER_API_VERSION}"
                ))
            }
        }
        let doc: Value = match serde_json::from_str(&body) {
            Ok(v) => v,
            Err(_) => return Verdict::Differs("the answer is not JSON".into()),
        };
        let Some(data) = doc["data"].as_array() else {
            return Verdict::Differs("the answer has no data list".into());
        };
        for (i, row) in data.iter().enumerate() {
            let attr = |name: &str| row["attributes"][name].as_str();
            if row["type"] != "partner-activations" {
                return Verdict::Differs(format!("row {} is not of type partner-activations", rows + i + 1));
            }
            for name in ["provider-key", "company-uuid", "company-name"] {
                if attr(name).is_none() {
                    return Verdict::Differs(format!("row {} has no {name}", rows + i + 1));
                }
            }
            if attr("provider-key").and_then(|k| decrypt(k, &listing.webhook_secret)).is_some() {
                decrypted += 1;
            }
        }
        rows += data.len();
        let Some(next) = doc["links"]["next"].as_str() else { break };
        let same_origin = url::Url::parse(next).ok().and(next_page(base, next));
        match same_origin {
            Some(next) if pages < MAX_PAGES => url = next,
            Some(_) => return Verdict::Differs(format!("links.next goes on past {MAX_PAGES} pages")),
            None => {
                return Verdict::Differs(
                    "links.next is not an absolute URL on the API's own origin (the functions stop there)"
                        .into(),
                )
            }
        }
    }
    if decrypted < rows {
        return Verdict::Differs(format!(
            "{} of {rows} provider keys do not decrypt with the listing's webhook secret",
            rows - decrypted
        ));
    }
    Verdict::Holds(format!(
        "{rows} activation{}, {pages} page{}, page[size]=30 accepted, X-Api-Version echoed{}",
        plural(rows),
        plural(pages),
        if rows > 0 { ", every provider key decrypts" } else { "" }
    ))
}

/// The most of one answer the probe reads (a page of 30 activations is a few kilobytes).
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// An answer's text, read with a running limit.
async fn read_bounded(mut resp: reqwest::Response) -> Result<String, String> {
    let mut bytes = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) if bytes.len() + chunk.len() > MAX_ANSWER_BYTES => {
                return Err(format!("the answer is larger than {MAX_ANSWER_BYTES} bytes"))
            }
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) => return Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) => return Err(format!("the answer could not be read: {}", e.without_url())),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// How a stack answered the company key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyOn {
    Valid,
    Refused,
    Unknown,
}

/// `GET /v1/company` on each stack with the company key, as the public API client sends it
/// (`Authorization: Token token=<key>`, `X-Api-Version`, JSON:API); the stack it is valid on; and
/// its Admin scope there: Teamtailor documents the company resource as Admin-only
/// (`github:Teamtailor/docs` at `435312b`, `source/includes/companies/_index.md.erb`), so a `403`
/// there is a valid key without Admin scope.
async fn company_key(http: &HttpClient, targets: &Targets, given: &Given) -> Vec<Line> {
    let Some(key) = &given.teamtailor_key else {
        return vec![line(
            "teamtailor",
            "GET /v1/company (company key)",
            Verdict::Unchecked("no company key given (--teamtailor-key or PROBE_TEAMTAILOR_API_KEY)".into()),
        )];
    };
    let version = targets.teamtailor_api_version.as_str();
    let mut lines = Vec::new();
    let mut on = Vec::new();
    for (stack, base) in stacks(targets) {
        let (verdict, key_on) = company(http, base, version, key).await;
        lines.push(line(stack, "GET /v1/company (company key)", verdict));
        on.push((stack, base, key_on));
    }
    let same_base = targets.teamtailor_eu == targets.teamtailor_na;
    let valid: Vec<&str> = on.iter().filter(|o| o.2 == KeyOn::Valid).map(|o| o.0).collect();
    let scope = if same_base && valid.len() == 2 {
        Verdict::Holds("valid; EU and NA are one base here, so the stack cannot be told".into())
    } else if !valid.is_empty() {
        let refused: Vec<&str> = on.iter().filter(|o| o.2 == KeyOn::Refused).map(|o| o.0).collect();
        let elsewhere =
            if refused.is_empty() { String::new() } else { format!(", refused on {}", refused.join(", ")) };
        Verdict::Holds(format!("valid on {}{elsewhere}", valid.join(", ")))
    } else if on.iter().all(|o| o.2 == KeyOn::Refused) {
        Verdict::Differs("the key is refused (401) on both stacks".into())
    } else {
        Verdict::Unchecked("no stack said whether the key is valid".into())
    };
    lines.push(line("teamtailor", "company key's stack", scope));
    lines.push(line(
        "teamtailor",
        "PATCH /v1/company (write access)",
        Verdict::Unchecked("a write (Alva's no-op update); the probe sends only reads".into()),
    ));
    lines
}

fn public_api_get(
    http: &HttpClient,
    url: &str,
    version: &str,
    key: &SecretString,
) -> reqwest::RequestBuilder {
    http.request(reqwest::Method::GET, url)
        .header("Authorization", format!("Token token={}", key.expose()))
        .header("X-Api-Version", version)
        .header("Accept", "application/vnd.api+json")
}

async fn company(http: &HttpClient, base: &str, version: &str, key: &SecretString) -> (Verdict, KeyOn) {
    let masked = [key];
    let request = public_api_get(http, &format!("{base}/v1/company"), version, key);
    let resp = match http.send("Teamtailor", request).await {
        Ok(resp) => resp,
        Err(e) => return (failed(&e, &masked), KeyOn::Unknown),
    };
    let status = resp.status();
    let echoed = resp.headers().get("x-api-version").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = match read_bounded(resp).await {
        Ok(b) => b,
        Err(why) => return (Verdict::Unchecked(why), KeyOn::Unknown),
    };
    match status.as_u16() {
        403 => {
            let why = "403 Forbidden: valid on this stack, without Admin scope (Alva, StackOne and 2Secure's move need one)";
            return (Verdict::Differs(why.into()), KeyOn::Valid);
        }
        401 => {
            return (
                Verdict::Holds("refused (401): the key is not valid on this stack".into()),
                KeyOn::Refused,
            )
        }
        406 => {
            let why = format!("406: X-Api-Version {version} is not accepted ({})", excerpt(&body, &masked));
            return (Verdict::Differs(why), KeyOn::Unknown);
        }
        _ if !status.is_success() => {
            let verdict: fn(String) -> Verdict =
                if is_outage(status) { Verdict::Unchecked } else { Verdict::Differs };
            return (verdict(answered(status, &body, &masked)), KeyOn::Unknown);
        }
        _ => {}
    }
    if echoed.as_deref() != Some(version) {
        let got = echoed.map_or("none".to_owned(), |v| format!("{:?}", excerpt(&v, &masked)));
        return (
            Verdict::Differs(format!("X-Api-Version {version} is not echoed (got {got})")),
            KeyOn::Valid,
        );
    }
    let doc: Value = serde_json::from_str(&body).unwrap_or_default();
    let data = &doc["data"];
    if data["type"] != "companies" || data["id"].as_str().is_none() {
        return (Verdict::Differs("the answer is not a companies resource with an id".into()), KeyOn::Valid);
    }
    let name = data["attributes"]["name"].as_str().unwrap_or("?");
    (
        Verdict::Holds(format!("company {:?}, X-Api-Version {version} echoed", excerpt(name, &masked))),
        KeyOn::Valid,
    )
}

// ---------------------------------------------------------------------------------------------
// The services

async fn stackone(http: &HttpClient, targets: &Targets, source: &SecretSource) -> Vec<Line> {
    #[derive(serde::Deserialize)]
    struct Key {
        api_key: SecretString,
    }
    let contract = "GET /accounts";
    let verdict = match source.json::<Key>("vendor/stackone").await {
        Ok(Some(k)) => {
            let api = stackone::StackOneApi::new(http.clone(), &targets.stackone);
            match api.accounts_of(&k.api_key, PROBE_OWNER).await {
                Ok(list) => Verdict::Holds(format!(
                    "a list of linked accounts ({} for a probe owner), origin_owner_id and provider filters",
                    list.len()
                )),
                Err(e) => failed(&e, &[&k.api_key]),
            }
        }
        Ok(None) => Verdict::Unchecked("no secret vendor/stackone".into()),
        Err(e) => Verdict::Unchecked(e),
    };
    vec![line("stackone", contract, verdict)]
}

#[derive(serde::Deserialize)]
struct ApiKey {
    api_key: SecretString,
}

/// A key given, else the first one found under `start` (its name said), else why there is none.
async fn key_from(
    given: Option<&SecretString>,
    source: &SecretSource,
    (what, start): (&str, &str),
    fits: impl Fn(&str) -> bool,
    how_to_give: &str,
) -> Result<(SecretString, String), String> {
    if let Some(key) = given {
        return Ok((key.clone(), "the key given".into()));
    }
    match source.find::<ApiKey>(start, fits).await? {
        Some((name, k)) => Ok((k.api_key, format!("the key in {name}"))),
        None if source.can_list() => {
            Err(format!("no {what} in the secrets under {start} and none given ({how_to_give})"))
        }
        None => {
            Err(format!("no {what} given ({how_to_give}); tenant secrets in Secrets Manager are not listed"))
        }
    }
}

async fn sparkhire(http: &HttpClient, targets: &Targets, source: &SecretSource, given: &Given) -> Vec<Line> {
    let contract = "GET /jobs";
    let recruiter = |name: &str| name.contains("/users/");
    let how = "--sparkhire-key or PROBE_SPARKHIRE_API_KEY";
    let found = key_from(
        given.sparkhire_key.as_ref(),
        source,
        ("recruiter key", "tenant/sparkhire/"),
        recruiter,
        how,
    );
    let verdict = match found.await {
        Err(why) => Verdict::Unchecked(why),
        Ok((key, whose)) => {
            let api = sparkhire::SparkHireApi::new(http.clone(), &targets.sparkhire);
            match api.jobs(&key).await {
                Ok(jobs) => Verdict::Holds(format!(
                    "{} job{} in ranged pages, with {whose}",
                    jobs.len(),
                    plural(jobs.len())
                )),
                Err(e) => failed(&e, &[&key]),
            }
        }
    };
    vec![line("sparkhire", contract, verdict)]
}

async fn twosecure(http: &HttpClient, targets: &Targets, source: &SecretSource, given: &Given) -> Vec<Line> {
    let how = "--twosecure-key or PROBE_TWOSECURE_API_KEY";
    let any = |_: &str| true;
    let key =
        key_from(given.twosecure_key.as_ref(), source, ("tenant key", "tenant/2secure/"), any, how).await;
    let (key, whose) = match key {
        Ok(k) => k,
        Err(why) => {
            return ["GET /account", "GET /packages"]
                .into_iter()
                .map(|c| line("2secure", c, Verdict::Unchecked(why.clone())))
                .collect()
        }
    };
    let api = twosecure::api::TwoSecureApi::new(http.clone(), &targets.twosecure);
    let account = match api.account(&key).await {
        Ok(a) => Verdict::Holds(format!("account of {:?}, with {whose}", excerpt(&a.company_name, &[&key]))),
        Err(e) => failed(&e, &[&key]),
    };
    let packages = match api.packages(&key).await {
        Ok(p) => Verdict::Holds(format!("{} package{}", p.len(), plural(p.len()))),
        Err(e) => failed(&e, &[&key]),
    };
    vec![line("2secure", "GET /account", account), line("2secure", "GET /packages", packages)]
}

/// A DNS label, as the functions require of a Learnster space (it becomes part of a host name).
fn valid_space(space: &str) -> bool {
    let b = space.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

async fn learnster(http: &HttpClient, targets: &Targets, source: &SecretSource, given: &Given) -> Vec<Line> {
    let contract = "POST auth/token/ (a token request: a read)";
    let verdict = match learnster_token(http, targets, source, given).await {
        Ok(v) | Err(v) => v,
    };
    vec![line("learnster", contract, verdict)]
}

async fn learnster_token(
    http: &HttpClient,
    targets: &Targets,
    source: &SecretSource,
    given: &Given,
) -> Result<Verdict, Verdict> {
    let credentials = match &given.learnster_client {
        Some((id, secret)) => {
            learnster::api::Credentials { client_id: id.clone(), client_secret: secret.clone() }
        }
        None => match source.find::<learnster::api::Credentials>("tenant/learnster/", |_: &str| true).await {
            Ok(Some((_, c))) => c,
            Ok(None) => {
                let how = "PROBE_LEARNSTER_CLIENT_ID and PROBE_LEARNSTER_CLIENT_SECRET";
                return Err(Verdict::Unchecked(if source.can_list() {
                    format!("no API client in the secrets under tenant/learnster/ and none given ({how})")
                } else {
                    format!("no API client given ({how}); tenant secrets in Secrets Manager are not listed")
                }));
            }
            Err(e) => return Err(Verdict::Unchecked(e)),
        },
    };
    let Some(space) = &given.learnster_space else {
        return Err(Verdict::Unchecked("no Learnster space given (--learnster-space)".into()));
    };
    if !valid_space(space) {
        return Err(Verdict::Unchecked(format!("{space:?} is not a Learnster space name (a DNS label)")));
    }
    let api = learnster::LearnsterApi::new(http.clone(), &targets.learnster);
    Ok(match api.fetch_token(space, &credentials).await {
        Ok(_) => Verdict::Holds(format!("an access token for space {space}; it creates nothing")),
        Err(e) => failed(&e, &[&credentials.client_secret]),
    })
}

async fn alva(http: &HttpClient, targets: &Targets, source: &SecretSource, given: &Given) -> Vec<Line> {
    let contract = "GET /test-profiles";
    let verdict = match (&given.alva_company, source.json::<ApiKey>("vendor/alva").await) {
        (_, Err(e)) => Verdict::Unchecked(e),
        (_, Ok(None)) => Verdict::Unchecked("no secret vendor/alva".into()),
        (None, Ok(Some(_))) => Verdict::Unchecked("no Alva company given (--alva-company)".into()),
        (Some(company), Ok(Some(k))) => {
            let api = alva::AlvaApi::new(http.clone(), &targets.alva);
            match api.test_profiles(&k.api_key, company).await {
                Ok(p) => Verdict::Holds(format!("{} test profile{}", p.len(), plural(p.len()))),
                Err(e) => failed(&e, &[&k.api_key]),
            }
        }
    };
    vec![line("alva", contract, verdict)]
}

// ---------------------------------------------------------------------------------------------
// The command line

/// `hirebridge-local probe …`: runs the checks, prints the report, answers the exit code (2 for
/// a usage error).
pub async fn cli(args: Vec<String>) -> i32 {
    match parse(args, |k| std::env::var(k).ok().filter(|v| !v.is_empty())) {
        Err(e) => {
            eprintln!("hirebridge-local probe: {e}\n{USAGE}");
            2
        }
        Ok(None) => {
            println!("{USAGE}");
            0
        }
        Ok(Some(Parsed { targets, secrets, given })) => {
            let prefix = std::env::var("SECRETS_PREFIX").ok().filter(|p| !p.trim().is_empty());
            let prefix = prefix.as_deref().unwrap_or("hirebridge").trim().to_owned();
            let source = match secrets {
                Some(path) => match SecretSource::file(&path, &prefix) {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("hirebridge-local probe: {e}");
                        return 2;
                    }
                },
                None => SecretSource::secrets_manager(&prefix),
            };
            let report = run(&targets, &source, &given).await;
            print!("{report}");
            report.exit_code()
        }
    }
}

#[derive(Debug)]
struct Parsed {
    targets: Targets,
    secrets: Option<String>,
    given: Given,
}

fn parse(args: Vec<String>, env: impl Fn(&str) -> Option<String>) -> Result<Option<Parsed>, String> {
    let mut flags: BTreeMap<&str, String> = BTreeMap::new();
    let known = [
        "--secrets",
        "--sandbox",
        "--teamtailor-key",
        "--sparkhire-key",
        "--twosecure-key",
        "--learnster-space",
        "--alva-company",
    ];
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        let Some(flag) = known.iter().find(|k| **k == arg) else {
            return Err(format!("unknown argument {arg:?}"));
        };
        let value = args.next().filter(|v| !v.trim().is_empty()).ok_or(format!("{flag} needs a value"))?;
        if value.len() > 2048 {
            return Err(format!("{flag}'s value is too long"));
        }
        flags.insert(flag, value.trim().to_owned());
    }
    let targets = match flags.get("--sandbox") {
        Some(base) => {
            let ok = url::Url::parse(base).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                return Err(format!(
                    "--sandbox needs the local runner's URL, e.g. http://127.0.0.1:3000 (got {base:?})"
                ));
            }
            let version = Targets::from_lookup(&env)?.teamtailor_api_version;
            Targets { teamtailor_api_version: version, ..Targets::sandbox(base) }
        }
        None => Targets::from_lookup(&env)?,
    };
    let secret = |flag: &str, var: &str| flags.get(flag).cloned().or_else(|| env(var)).map(SecretString::new);
    let learnster_client = match (env("PROBE_LEARNSTER_CLIENT_ID"), env("PROBE_LEARNSTER_CLIENT_SECRET")) {
        (Some(id), Some(secret)) => Some((id, SecretString::new(secret))),
        (None, None) => None,
        _ => {
            return Err(
                "give both PROBE_LEARNSTER_CLIENT_ID and PROBE_LEARNSTER_CLIENT_SECRET, or neither".into()
            )
        }
    };
    let given = Given {
        teamtailor_key: secret("--teamtailor-key", "PROBE_TEAMTAILOR_API_KEY"),
        sparkhire_key: secret("--sparkhire-key", "PROBE_SPARKHIRE_API_KEY"),
        twosecure_key: secret("--twosecure-key", "PROBE_TWOSECURE_API_KEY"),
        learnster_space: flags.get("--learnster-space").cloned(),
        learnster_client,
        alva_company: flags.get("--alva-company").cloned(),
    };
    Ok(Some(Parsed { targets, secrets: flags.get("--secrets").cloned(), given }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str], env: &[(&str, &str)]) -> Result<Option<Parsed>, String> {
        let env: BTreeMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        parse(args.iter().map(|a| a.to_string()).collect(), |k| env.get(k).cloned())
    }

    #[test]
    fn the_stacks_default_to_teamtailors_eu_and_na_hosts_and_follow_the_environment() {
        let p = parsed(&[], &[]).unwrap().unwrap();
        assert_eq!(p.targets.teamtailor_eu, "https://api.teamtailor.com");
        assert_eq!(p.targets.teamtailor_na, "https://api.na.teamtailor.com");
        let env =
            [("TEAMTAILOR_API_URL", "https://eu.example/"), ("TEAMTAILOR_NA_API_URL", "https://na.example/")];
        let p = parsed(&[], &env).unwrap().unwrap();
        assert_eq!(
            (p.targets.teamtailor_eu.as_str(), p.targets.teamtailor_na.as_str()),
            ("https://eu.example", "https://na.example")
        );
        assert!(parsed(&[], &[("TEAMTAILOR_NA_API_URL", "ftp://x")])
            .unwrap_err()
            .contains("TEAMTAILOR_NA_API_URL"));
    }

    #[test]
    fn keys_come_from_flags_or_the_environment_and_unknown_arguments_are_refused() {
        let p = parsed(&["--teamtailor-key", "k1"], &[("PROBE_SPARKHIRE_API_KEY", "k2")]).unwrap().unwrap();
        assert_eq!(p.given.teamtailor_key.unwrap().expose(), "k1");
        assert_eq!(p.given.sparkhire_key.unwrap().expose(), "k2");
        assert!(parsed(&["--teamtailor-key"], &[]).unwrap_err().contains("needs a value"));
        assert!(parsed(&["--write"], &[]).unwrap_err().contains("unknown argument"));
        assert!(parsed(&["--sandbox", "not a url"], &[]).is_err());
        assert!(parsed(&[], &[("PROBE_LEARNSTER_CLIENT_ID", "c")]).unwrap_err().contains("both"));
    }

    #[test]
    fn an_excerpt_is_short_on_one_line_and_masks_the_credentials() {
        let key = SecretString::from("sekret-key-123");
        let body = r#"{"errors":[{"title":"Unauthorized","detail":"key sekret-key-123 is not valid"}]}"#;
        assert_eq!(excerpt(body, &[&key]), "key *** is not valid");
        let long = format!("line one\n{}", "x".repeat(300));
        let e = excerpt(&long, &[]);
        assert!(e.starts_with("line one x") && e.chars().count() == 101, "{e}");
    }

    #[test]
    fn an_outage_is_unchecked_and_a_refusal_differs() {
        let status = |code: u16| OutboundError::Status {
            service: "StackOne",
            status: http::StatusCode::from_u16(code).unwrap(),
            attempts: 2,
            body: String::new(),
        };
        assert_eq!(failed(&status(404), &[]), Verdict::Differs("404 Not Found".into()));
        assert!(matches!(failed(&status(503), &[]), Verdict::Unchecked(_)));
        let malformed =
            OutboundError::Malformed { service: "Spark Hire", reason: "expected a sequence".into() };
        assert!(matches!(failed(&malformed, &[]), Verdict::Differs(d) if d.contains("expected a sequence")));
    }

    #[tokio::test]
    async fn an_answer_is_read_up_to_a_megabyte() {
        let answer = |n: usize| reqwest::Response::from(http::Response::new("x".repeat(n)));
        assert_eq!(read_bounded(answer(10)).await.unwrap(), "x".repeat(10));
        assert!(read_bounded(answer(MAX_ANSWER_BYTES + 1)).await.unwrap_err().contains("larger than"));
    }

    #[test]
    fn the_exit_code_is_one_only_when_something_differs() {
        let report = |v: Verdict| Report {
            lines: vec![line("s", "c", Verdict::Holds(String::new())), line("s", "d", v)],
        };
        assert_eq!(report(Verdict::Unchecked("no key".into())).exit_code(), 0);
        assert_eq!(report(Verdict::Differs("404".into())).exit_code(), 1);
        let text = report(Verdict::Differs("404 Not Found".into())).to_string();
        assert_eq!(text, "s  c  holds\ns  d  differs: 404 Not Found\n");
    }
}
