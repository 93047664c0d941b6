//! The functions and their real triggers: each function's tenant set up through its own admin
//! routes (or the fakes' registrations, as Teamtailor's side would hold them), then the event that
//! drives it — a signed Teamtailor webhook, a signed 2Secure callback, the StackOne link page, an
//! EventBridge schedule. Only the functions' HTTP interfaces are used.
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use testkit::driver::{admin, Move, Teamtailor};
use testkit::sandbox::{Job, Sandbox};

use crate::events::{http_api_v2, now_secs, scheduled};
use crate::lambda::{Env, Spec};

pub const ADMIN_TOKEN: &str = "bench-admin-token";
pub const LEARNSTER_PARTNER_KEY: &str = "bench-partner-api-key-learnster";
pub const LEARNSTER_WEBHOOK_SECRET: &str = "bench-webhook-secret-learnster";
pub const TS_PARTNER_KEY: &str = "bench-partner-api-key-2secure";
pub const TS_WEBHOOK_SECRET: &str = "bench-webhook-secret-2secure";
pub const TS_CALLBACK_SECRET: &str = "bench-2secure-callback-secret";
pub const SH_PARTNER_KEY: &str = "bench-partner-api-key-sparkhire";
pub const SH_WEBHOOK_SECRET: &str = "bench-webhook-secret-sparkhire";
pub const ALVA_PARTNER_KEY: &str = "bench-partner-api-key-alva";
pub const ALVA_WEBHOOK_SECRET: &str = "bench-webhook-secret-alva";
pub const ALVA_VENDOR_KEY: &str = "bench-alva-vendor-key";
pub const ALVA_RESULTS_SECRET: &str = "bench-alva-results-secret";
pub const STACKONE_KEY: &str = "bench-stackone-api-key";
pub const STACKONE_WEBHOOK_SECRET: &str = "bench-stackone-webhook-secret";
pub const LINK_SIGNING_KEY: &str = "YmVuY2gtbGluay1zaWduaW5nLWtleS0zMi1ieXRlcyEhIQ==";
const CLIENT_SECRET: &str = "bench-learnster-client-secret";
const RW_KEY: &str = "bench-tt-read-write-admin-key";

/// What drives a binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Floor,
    BareFloor,
    Learnster,
    Alva,
    TwoSecureOrder,
    TwoSecureStatus,
    SparkHire,
    StackOne,
}

pub struct Function {
    /// The binary (and Lambda function) name.
    pub name: &'static str,
    pub kind: Kind,
    /// What its measured event is.
    pub event: &'static str,
}

pub const FUNCTIONS: [Function; 8] = [
    Function { name: "hello-floor", kind: Kind::Floor, event: "GET /hello (HTTP API v2)" },
    Function { name: "bare-floor", kind: Kind::BareFloor, event: "GET /hello (HTTP API v2)" },
    Function { name: "alva-activation", kind: Kind::Alva, event: "signed webhook POST /alva/webhook" },
    Function {
        name: "learnster-webhook",
        kind: Kind::Learnster,
        event: "signed webhook POST /learnster/webhook",
    },
    Function {
        name: "twosecure-order",
        kind: Kind::TwoSecureOrder,
        event: "signed webhook POST /2secure/webhook",
    },
    Function {
        name: "twosecure-status",
        kind: Kind::TwoSecureStatus,
        event: "signed callback POST /2secure/callback",
    },
    Function {
        name: "sparkhire-key-exchange",
        kind: Kind::SparkHire,
        event: "signed webhook POST /sparkhire/webhook",
    },
    Function {
        name: "stackone-credential-link",
        kind: Kind::StackOne,
        event: "link page GET /stackone/link",
    },
];

/// What the set-up left for the events.
#[derive(Default)]
struct Tenants {
    learnster_key: Option<String>,
    alva_partner_key: Option<String>,
    twosecure_key: Option<String>,
    sparkhire_partner_key: Option<String>,
    stackone_ticket: Option<String>,
}

/// The fakes, moto, the table and this run's secrets prefix, and what the set-up made.
pub struct World {
    pub sandbox: Sandbox,
    pub sandbox_url: String,
    pub moto: String,
    pub table: String,
    pub prefix: String,
    pub bins: PathBuf,
    pub logs: PathBuf,
    pub client: reqwest::Client,
    tenants: Mutex<Tenants>,
    candidates: AtomicU64,
    /// How many of the fake's 2Secure orders have had their callback.
    orders_called_back: Mutex<usize>,
    /// Variables added to every environment (e.g. the sweep's short retry schedule).
    pub extra_vars: Mutex<Vec<(String, String)>>,
}

fn tt(partner: &str, secret: &str) -> Teamtailor {
    Teamtailor { partner_api_key: partner.into(), webhook_secret: secret.into() }
}

pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// A valid personnummer (`YYMMDD-NNNC`, Luhn check digit) for candidate `n`.
pub fn personnummer(n: u64) -> String {
    let month = 1 + (n / 1000) % 12;
    let day = 1 + (n / 12_000) % 28;
    let serial = n % 1000;
    let digits = format!("80{month:02}{day:02}{serial:03}");
    let sum: u32 = digits
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            d / 10 + d % 10
        })
        .sum();
    let check = (10 - sum % 10) % 10;
    format!("{}-{}{check}", &digits[..6], &digits[6..])
}

/// 2Secure's `X-2Secure-Signature`: `t=<unix>,v1=<hex HMAC-SHA256(secret, "{t}.{body}")>`
/// (docs/contracts.md).
fn twosecure_signature(t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(TS_CALLBACK_SECRET.as_bytes()).expect("any key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

impl World {
    pub fn new(
        sandbox: Sandbox,
        sandbox_url: String,
        moto: String,
        table: String,
        bins: PathBuf,
        logs: PathBuf,
    ) -> World {
        World {
            sandbox,
            sandbox_url,
            moto,
            table,
            prefix: format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
            bins,
            logs,
            client: reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("an HTTP client"),
            tenants: Mutex::new(Tenants::default()),
            candidates: AtomicU64::new(100_000),
            orders_called_back: Mutex::new(0),
            extra_vars: Mutex::new(Vec::new()),
        }
    }

    /// The secrets a deployment holds (as `tests/src/lib.rs` seeds them), under this run's prefix,
    /// created straight in moto's Secrets Manager API.
    pub async fn seed_secrets(&self) -> Result<(), String> {
        let p = &self.prefix;
        let seed = [
            (
                format!("{p}/teamtailor/learnster"),
                json!({"partner_api_key": LEARNSTER_PARTNER_KEY, "webhook_secret": LEARNSTER_WEBHOOK_SECRET}),
            ),
            (
                format!("{p}/teamtailor/2secure"),
                json!({"partner_api_key": TS_PARTNER_KEY, "webhook_secret": TS_WEBHOOK_SECRET}),
            ),
            (format!("{p}/vendor/2secure"), json!({"callback_secret": TS_CALLBACK_SECRET})),
            (
                format!("{p}/teamtailor/alva"),
                json!({"partner_api_key": ALVA_PARTNER_KEY, "webhook_secret": ALVA_WEBHOOK_SECRET}),
            ),
            (
                format!("{p}/teamtailor/sparkhire"),
                json!({"partner_api_key": SH_PARTNER_KEY, "webhook_secret": SH_WEBHOOK_SECRET}),
            ),
            (
                format!("{p}/vendor/stackone"),
                json!({"api_key": STACKONE_KEY, "webhook_secret": STACKONE_WEBHOOK_SECRET}),
            ),
            (
                format!("{p}/vendor/alva"),
                json!({"api_key": ALVA_VENDOR_KEY, "webhook_secret": ALVA_RESULTS_SECRET}),
            ),
            (
                format!("{p}/operator"),
                json!({"admin_tokens_sha256": [sha256_hex(ADMIN_TOKEN)], "link_signing_key": LINK_SIGNING_KEY}),
            ),
        ];
        let date = crate::events::rfc3339(now_secs()).replace(['-', ':'], "");
        for (name, value) in seed {
            let body = json!({"Name": name, "SecretString": value.to_string()});
            let answer = self
                .client
                .post(format!("{}/", self.moto))
                .header("x-amz-target", "secretsmanager.CreateSecret")
                .header("content-type", "application/x-amz-json-1.1")
                .header("x-amz-date", &date)
                .header(
                    "authorization",
                    format!(
                        "AWS4-HMAC-SHA256 Credential=bench/{}/{}/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00",
                        &date[..8],
                        crate::events::REGION
                    ),
                )
                .body(body.to_string())
                .send()
                .await
                .map_err(|e| format!("seed {name}: {e}"))?;
            if !answer.status().is_success() {
                let status = answer.status();
                return Err(format!("seed {name}: {status} {}", answer.text().await.unwrap_or_default()));
            }
        }
        Ok(())
    }

    /// The deployment's variables of every function (`template.yaml` Globals plus the services'
    /// URLs at the fakes).
    pub fn deployment_vars(&self) -> Vec<(String, String)> {
        let s = format!("{}/_sandbox", self.sandbox_url);
        let mut vars: Vec<(String, String)> = [
            ("TABLE_NAME", self.table.clone()),
            ("SECRETS_PREFIX", self.prefix.clone()),
            ("PUBLIC_BASE_URL", "http://hirebridge.test".to_owned()),
            ("TEAMTAILOR_API_URL", format!("{s}/teamtailor")),
            ("TEAMTAILOR_NA_API_URL", format!("{s}/teamtailor-na")),
            ("LEARNSTER_API_URL", format!("{s}/learnster/{{space}}/api/public/v1")),
            ("TWOSECURE_API_URL", format!("{s}/2secure")),
            ("ALVA_API_URL", format!("{s}/alva")),
            ("STACKONE_API_URL", format!("{s}/stackone")),
            ("SPARKHIRE_API_URL", format!("{s}/sparkhire")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        vars.extend(self.extra_vars.lock().unwrap().iter().cloned());
        vars
    }

    pub fn spec(&self, name: &str) -> Spec {
        Spec {
            name: name.to_owned(),
            binary: self.bins.join(name),
            vars: self.deployment_vars(),
            wrapper: Vec::new(),
        }
    }

    pub async fn start(&self, spec: &Spec) -> Result<Env, String> {
        Env::start(spec, &self.moto, self.client.clone(), &self.logs).await
    }

    fn next_candidate(&self) -> u64 {
        self.candidates.fetch_add(1, Ordering::Relaxed)
    }

    /// Sets up the tenant a function's events need, through that function's own admin routes
    /// (and the fakes' registrations of what the outside services would hold).
    pub async fn setup(&self, kind: Kind, env: &mut Env) -> Result<(), String> {
        let check = |what: &str, r: &crate::lambda::Invoked, want: &[u16]| {
            if want.contains(&r.status) {
                Ok(())
            } else {
                Err(format!("{what}: {} {}", r.status, r.text()))
            }
        };
        match kind {
            Kind::Floor | Kind::BareFloor | Kind::TwoSecureStatus => {}
            Kind::Learnster => {
                self.sandbox
                    .add_job(Job {
                        id: "4711".into(),
                        title: "Product Designer".into(),
                        department: Some("Design Ops".into()),
                    })
                    .await;
                let body = json!({
                    "space": "acme", "vendor_id": uuid::Uuid::new_v4().to_string(), "client_id": "acme-client",
                    "client_secret": CLIENT_SECRET, "tags": {},
                });
                let r = env
                    .invoke(&http_api_v2(
                        &admin("POST", "/learnster/integrations", ADMIN_TOKEN, Some(&body)),
                        "POST /learnster/integrations",
                    ))
                    .await?;
                check("switch Learnster on", &r, &[201])?;
                let token = r.json()["secret_token"].as_str().unwrap_or_default().to_owned();
                let key = tt(LEARNSTER_PARTNER_KEY, LEARNSTER_WEBHOOK_SECRET)
                    .provider_key(&json!({"secret_token": token}));
                self.tenants.lock().unwrap().learnster_key = Some(key);
            }
            Kind::Alva => {
                let partner_key = uuid::Uuid::new_v4().to_string();
                self.sandbox
                    .add_activation(
                        &partner_key,
                        &ALVA_WEBHOOK_SECRET.into(),
                        "Uf90iujmioh12",
                        "Sandbox: Acme AB",
                    )
                    .await;
                let company = format!("alva-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
                let base = format!("/alva/companies/{company}/teamtailor");
                let r = env
                    .invoke(&http_api_v2(
                        &admin("POST", &base, ADMIN_TOKEN, Some(&json!({"partner_key": partner_key}))),
                        "POST /alva/companies/{company}/teamtailor",
                    ))
                    .await?;
                check("connect Alva", &r, &[200, 201])?;
                let r = env
                    .invoke(&http_api_v2(
                        &admin(
                            "POST",
                            &format!("{base}/accounts"),
                            ADMIN_TOKEN,
                            Some(&json!({"api_key": RW_KEY})),
                        ),
                        "POST /alva/companies/{company}/teamtailor/accounts",
                    ))
                    .await?;
                check("add the Alva account's Teamtailor key", &r, &[200, 201])?;
                self.tenants.lock().unwrap().alva_partner_key = Some(partner_key);
            }
            Kind::TwoSecureOrder => {
                let api_key = format!("ts-key-{}", uuid::Uuid::new_v4());
                self.sandbox.add_twosecure_key(&api_key, "Acme AB").await;
                let key = tt(TS_PARTNER_KEY, TS_WEBHOOK_SECRET).provider_key(&json!({"api_key": api_key}));
                self.tenants.lock().unwrap().twosecure_key = Some(key);
            }
            Kind::SparkHire => {
                let partner_key = uuid::Uuid::new_v4().to_string();
                let company = format!("company-{}", uuid::Uuid::new_v4().simple());
                self.sandbox
                    .add_activation(&partner_key, &SH_WEBHOOK_SECRET.into(), &company, "Sandbox: Acme AB")
                    .await;
                self.sandbox
                    .add_sparkhire_user(
                        "bench-sh-key-31",
                        "Rita Recruiter",
                        "rita@acme.se",
                        &["Product Designer"],
                    )
                    .await;
                let body = json!({"api_key": "bench-sh-key-31", "company_uuid": company});
                let r = env
                    .invoke(&http_api_v2(
                        &admin("PUT", "/sparkhire/users/31/key", ADMIN_TOKEN, Some(&body)),
                        "PUT /sparkhire/users/{user_id}/key",
                    ))
                    .await?;
                check("connect the recruiter's Spark Hire key", &r, &[200, 201])?;
                self.tenants.lock().unwrap().sparkhire_partner_key = Some(partner_key);
            }
            Kind::StackOne => {
                let body = json!({"origin_owner_id": format!("org-{}", uuid::Uuid::new_v4().simple()), "origin_owner_name": "Acme AB"});
                let r = env
                    .invoke(&http_api_v2(
                        &admin("POST", "/stackone/link-sessions", ADMIN_TOKEN, Some(&body)),
                        "POST /stackone/link-sessions",
                    ))
                    .await?;
                check("open a StackOne link session", &r, &[201])?;
                let url = r.json()["url"].as_str().unwrap_or_default().to_owned();
                let ticket = url
                    .split_once("ticket=")
                    .map(|(_, t)| t.to_owned())
                    .ok_or_else(|| format!("no ticket in {url:?}"))?;
                self.tenants.lock().unwrap().stackone_ticket = Some(ticket);
            }
        }
        Ok(())
    }

    /// A Learnster webhook for a new candidate (its own event, partner result and e-mail).
    pub fn learnster_move(&self) -> Move {
        let n = self.next_candidate();
        Move::new(n, &format!("bench{n}@example.com"), Some((4711, "Product Designer", "Offered")))
    }

    pub fn learnster_webhook(&self, mv: &Move) -> Result<Value, String> {
        let key = self.tenants.lock().unwrap().learnster_key.clone().ok_or("Learnster was not set up")?;
        let mut req =
            tt(LEARNSTER_PARTNER_KEY, LEARNSTER_WEBHOOK_SECRET).webhook("learnster", &key, mv, now_secs());
        req.headers_mut().insert("teamtailor-api-token", "bench-company-read-key".parse().expect("a header"));
        Ok(http_api_v2(&req, "POST /learnster/webhook"))
    }

    /// The event a function's measured invocation gets (a new one each time).
    pub async fn event(&self, kind: Kind) -> Result<Value, String> {
        let tenants = |f: fn(&Tenants) -> Option<String>, what: &str| {
            f(&self.tenants.lock().unwrap()).ok_or_else(|| format!("{what} was not set up"))
        };
        Ok(match kind {
            Kind::Floor | Kind::BareFloor => {
                let req = http::Request::builder()
                    .method("GET")
                    .uri("/hello")
                    .body(Bytes::new())
                    .expect("a request");
                http_api_v2(&req, "GET /hello")
            }
            Kind::Learnster => self.learnster_webhook(&self.learnster_move())?,
            Kind::Alva => {
                let key = tenants(|t| t.alva_partner_key.clone(), "Alva")?;
                let n = self.next_candidate();
                let mut mv =
                    Move::new(n, &format!("cand{n}@example.com"), Some((501, "Data Engineer", "Assessment")));
                mv.webhook_data = json!({"test-profile": "tp-logic"});
                let req = tt(ALVA_PARTNER_KEY, ALVA_WEBHOOK_SECRET).webhook("alva", &key, &mv, now_secs());
                http_api_v2(&req, "POST /alva/webhook")
            }
            Kind::TwoSecureOrder => {
                let key = tenants(|t| t.twosecure_key.clone(), "2Secure")?;
                let n = self.next_candidate();
                let mut mv =
                    Move::new(n, &format!("c{n}@example.com"), Some((4711, "Engineer", "Background check")));
                mv.custom_fields = json!([{"personnummer": {"value": personnummer(n), "type": "text"}}]);
                mv.webhook_data =
                    json!({"level": "standard", "billing-reference": "HR-17", "orderer-email": "hr@acme.se"});
                let mut req = tt(TS_PARTNER_KEY, TS_WEBHOOK_SECRET).webhook("2secure", &key, &mv, now_secs());
                req.headers_mut()
                    .insert("teamtailor-api-token", "bench-company-token".parse().expect("a header"));
                http_api_v2(&req, "POST /2secure/webhook")
            }
            Kind::TwoSecureStatus => {
                let order = self.next_order().await?;
                let body = json!({"order_id": order, "status": "completed", "report_url": format!("https://portal.2secure.se/reports/{order}")}).to_string();
                let req = http::Request::builder()
                    .method("POST")
                    .uri("/2secure/callback")
                    .header("x-2secure-signature", twosecure_signature(now_secs(), body.as_bytes()))
                    .header("content-type", "application/json")
                    .body(Bytes::from(body))
                    .expect("a request");
                http_api_v2(&req, "POST /2secure/callback")
            }
            Kind::SparkHire => {
                let key = tenants(|t| t.sparkhire_partner_key.clone(), "Spark Hire")?;
                let n = self.next_candidate();
                let mut mv = Move::new(
                    n,
                    &format!("talent{n}@example.com"),
                    Some((9, "Product Designer", "Video interview")),
                );
                mv.webhook_data = json!({"job": "create", "interview-type": "one_way", "question-set": "qs-general", "deadline": "2027-06-30", "message": "Looking forward!"});
                mv.triggered_by = 31;
                let req = tt(SH_PARTNER_KEY, SH_WEBHOOK_SECRET).webhook("sparkhire", &key, &mv, now_secs());
                http_api_v2(&req, "POST /sparkhire/webhook")
            }
            Kind::StackOne => {
                let ticket = tenants(|t| t.stackone_ticket.clone(), "StackOne")?;
                let req = http::Request::builder()
                    .method("GET")
                    .uri(format!("/stackone/link?ticket={ticket}"))
                    .header("accept", "text/html")
                    .body(Bytes::new())
                    .expect("a request");
                http_api_v2(&req, "GET /stackone/link")
            }
        })
    }

    /// The next 2Secure order (as the fake holds them, in order) that has had no callback yet.
    async fn next_order(&self) -> Result<String, String> {
        let st = self.sandbox.state().await;
        let mut n = self.orders_called_back.lock().unwrap();
        let order = st
            .twosecure
            .orders
            .get(*n)
            .map(|o| o.id.clone())
            .ok_or("no 2Secure order is left to call back: run twosecure-order first")?;
        *n += 1;
        Ok(order)
    }

    /// Orders placed and not yet called back.
    pub async fn open_orders(&self) -> usize {
        let placed = self.sandbox.state().await.twosecure.orders.len();
        placed.saturating_sub(*self.orders_called_back.lock().unwrap())
    }

    pub fn schedule_event(&self, name: &str) -> Value {
        scheduled(&format!("hirebridge-{name}-due-work"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personnummer_check_digits() {
        // 811218-9876 is the tests' valid number; the same rule gives ours.
        let luhn = |s: &str| {
            let d: Vec<u32> =
                s.chars().filter(char::is_ascii_digit).map(|c| c.to_digit(10).unwrap()).collect();
            d.iter()
                .enumerate()
                .map(|(i, &x)| {
                    let y = if i % 2 == 0 { x * 2 } else { x };
                    y / 10 + y % 10
                })
                .sum::<u32>()
                % 10
                == 0
        };
        assert!(luhn("811218-9876"));
        for n in [0, 1, 999, 12_345, 99_999] {
            assert!(luhn(&personnummer(n)), "{}", personnummer(n));
        }
    }
}
