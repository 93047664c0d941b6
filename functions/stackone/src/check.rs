//! The customer's page (`GET /stackone/link?ticket=`) and its optional check
//! (`POST /stackone/link`): the API key with Teamtailor (valid; Admin scope with Read; which
//! Teamtailor stack), the company ID against the key's own company, the two-factor secret's
//! format. Nothing entered is stored or logged: the log says which fields were checked and how
//! they fared, never a value. A ticket's check may be submitted at most
//! `tickets::MAX_SUBMISSIONS` times (a key check is a call to Teamtailor).
use std::collections::BTreeMap;

use hirebridge::error::AppResult;
use hirebridge::teamtailor::key_check::{KeyCheck, Probe, Scope};
use hirebridge::teamtailor::Stack;
use hirebridge::tickets::{self, Ticket};
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use http::StatusCode;
use serde_json::{json, Value};

use crate::page::{self, Finding, View};
use crate::session::{TicketLabel, LINK_PATH};
use crate::store::{self, LinkStatus};
use crate::totp::TotpSecret;
use crate::{seal, Deps, TICKET_PURPOSE};

/// A valid ticket, its owner's name and the session's Hub link.
struct Opened {
    ticket: Ticket,
    raw: String,
    name: String,
    hub: SecretString,
}

async fn open(deps: &Deps, raw: Option<&str>) -> AppResult<Opened> {
    let platform = &deps.platform;
    let raw = raw
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::unauthorized("this page needs the link you were sent; ask for a new one"))?;
    let key = tickets::signing_key(&platform.secrets).await?;
    let ticket = tickets::verify(&key, raw, TICKET_PURPOSE, platform.now_secs())?;
    let label: TicketLabel =
        serde_json::from_str(&ticket.label).map_err(|_| AppError::from(tickets::TicketError::Invalid))?;
    let hub = seal::open(&label.hub, &key, &ticket.subject).ok_or(tickets::TicketError::Invalid)?;
    Ok(Opened { raw: raw.to_owned(), name: label.name, hub, ticket })
}

fn refused(e: AppError, json: bool) -> AppResult<Response> {
    if e.status.is_client_error() && !json {
        return Ok(web::html(e.status, &page::problem("This link cannot be used", &e.detail)));
    }
    Err(e)
}

async fn render(deps: &Deps, o: &Opened, findings: &[(&'static str, Finding)]) -> AppResult<String> {
    let link = store::read(&deps.platform, &o.ticket.subject).await?;
    let linked = link
        .as_ref()
        .filter(|l| !matches!(l.status, LinkStatus::NotLinked | LinkStatus::Deleted))
        .and_then(|l| l.account_id.as_deref().map(|a| (l.status.as_str(), a)));
    let action = deps.platform.config.public_url(LINK_PATH);
    Ok(page::render(&View {
        action: &action,
        ticket: &o.raw,
        owner_name: &o.name,
        hub_url: o.hub.expose(),
        linked,
        findings,
    }))
}

/// `GET /stackone/link?ticket=`.
pub async fn show(deps: &Deps, req: &Request) -> AppResult<Response> {
    let query = web::query(req);
    let opened = match open(deps, query.get("ticket").map(String::as_str)).await {
        Ok(o) => o,
        Err(e) => return refused(e, false),
    };
    Ok(web::html(StatusCode::OK, &render(deps, &opened, &[]).await?))
}

/// What the check form submits: form-encoded, or JSON (then the answer is JSON too).
struct Submitted {
    fields: BTreeMap<String, String>,
    json: bool,
}

impl Submitted {
    fn read(req: &Request) -> AppResult<Self> {
        let body = web::bounded_body(req)?;
        let json = web::header(req, "content-type").is_some_and(|c| c.contains("json"));
        let fields = if json {
            let value: Value = serde_json::from_slice(body).map_err(|e| {
                AppError::bad_request(format!(
                    "the body is not valid JSON (line {}, column {})",
                    e.line(),
                    e.column()
                ))
            })?;
            value
                .as_object()
                .ok_or_else(|| AppError::bad_request("the body must be a JSON object of field → value"))?
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        } else {
            url::form_urlencoded::parse(body).into_owned().collect()
        };
        Ok(Submitted { fields, json })
    }

    /// A field's trimmed value, when one was entered.
    fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

/// `POST /stackone/link`: the check.
pub async fn submit(deps: &Deps, req: &Request) -> AppResult<Response> {
    let form = Submitted::read(req)?;
    let opened = match open(deps, form.get("ticket")).await {
        Ok(o) => tickets::count_submission(deps.platform.store.as_ref(), &o.ticket).await.map(|_| o),
        Err(e) => Err(e),
    };
    let opened = match opened {
        Ok(o) => o,
        Err(e) => return refused(e, form.json),
    };
    let findings = check(deps, &form).await;
    let outcome: Vec<String> = findings
        .iter()
        .map(|(id, f)| format!("{id}:{}", f.ok.map_or("unchecked", |ok| if ok { "ok" } else { "fix" })))
        .collect();
    tracing::info!(owner = %opened.ticket.subject, checked = ?outcome, "stackone preparation checked");
    if form.json {
        let checks: serde_json::Map<String, Value> = findings
            .iter()
            .map(|(id, f)| ((*id).to_owned(), json!({"ok": f.ok, "message": f.message})))
            .collect();
        return Ok(web::json(StatusCode::OK, &json!({ "checks": checks })));
    }
    Ok(web::html(StatusCode::OK, &render(deps, &opened, &findings).await?))
}

fn company_id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The company field: an ID, or the whole Teamtailor address it was copied from
/// (`https://app.na.teamtailor.com/companies/<ID>/…`), which also names the company's stack.
fn company_of(entered: &str) -> (String, Option<Stack>) {
    let Ok(url) = url::Url::parse(entered) else { return (entered.to_owned(), None) };
    let stack = url.host_str().and_then(Stack::from_host_header);
    let mut segments = url.path_segments().into_iter().flatten();
    let id = segments.by_ref().find(|s| *s == "companies").and_then(|_| segments.next());
    (id.unwrap_or_default().to_owned(), stack)
}

/// One finding per field entered, in the page's order; none for a field left empty.
async fn check(deps: &Deps, form: &Submitted) -> Vec<(&'static str, Finding)> {
    let mut findings = Vec::new();
    let company = form.get("company_id").map(company_of);
    let stack = company.as_ref().and_then(|(_, stack)| *stack);
    let key = match form.get("api_key") {
        None => None,
        Some(k) if k.len() > 200 || k.contains(char::is_whitespace) => {
            findings.push((
                "api_key",
                Finding {
                    ok: Some(false),
                    message: "This is not a Teamtailor API key: copy it again, without spaces.".into(),
                },
            ));
            None
        }
        Some(k) => {
            let checked = check_key(deps, &SecretString::new(k.to_owned()), stack).await;
            let finding = match &checked {
                KeyCheck::Valid { stack, scope: Scope::Admin { .. }, .. } => Finding {
                    ok: Some(true),
                    message: format!("Teamtailor accepts this key on its {stack} stack, with Admin scope and Read access."),
                },
                KeyCheck::Valid { stack, scope: Scope::NotAdmin, .. } => Finding {
                    ok: Some(false),
                    message: format!(
                        "Teamtailor knows this key (its {stack} stack) but refuses it your company's data, which needs Admin scope with Read. \
                         Create a key with scope Admin and permission Read, and use that one."
                    ),
                },
                KeyCheck::Invalid => Finding {
                    ok: Some(false),
                    message: "Teamtailor does not accept this key on any of its stacks. Copy it again from Teamtailor (Settings → Integrations → API keys).".into(),
                },
                KeyCheck::Unchecked(_) => Finding {
                    ok: None,
                    message: "The key could not be checked: Teamtailor did not answer as expected. Try again in a minute.".into(),
                },
            };
            findings.push(("api_key", finding));
            Some(checked)
        }
    };
    if let Some((company, _)) = &company {
        let company = company.as_str();
        let finding = match (&key, company_id_ok(company)) {
            (_, false) => Finding { ok: Some(false), message: "Enter the company ID from your Teamtailor address (letters and digits).".into() },
            (Some(KeyCheck::Valid { scope: Scope::Admin { .. }, company_ids, .. }), true) => {
                if company_ids.iter().any(|id| id.eq_ignore_ascii_case(company)) {
                    Finding { ok: Some(true), message: "This is the company of the API key.".into() }
                } else {
                    Finding { ok: Some(false), message: "This is not the company ID of the API key's Teamtailor account.".into() }
                }
            }
            (_, true) => Finding {
                ok: None,
                message: "The ID is well formed; whether it is the key's company can be told only with a key Teamtailor accepts with Admin scope.".into(),
            },
        };
        findings.push(("company_id", finding));
    }
    if let Some(raw) = form.get("totp_secret") {
        let finding = match TotpSecret::parse(raw) {
            Ok(_) => Finding {
                ok: Some(true),
                message: "The secret decodes: a SHA1, 6-digit, 30-second authenticator secret.".into(),
            },
            Err(e) => {
                let mut message = e.to_string();
                if let Some(first) = message.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                Finding { ok: Some(false), message: format!("{message}.") }
            }
        };
        findings.push(("totp_secret", finding));
    }
    findings
}

/// The key on each Teamtailor stack (a key is valid on its own stack only; Teamtailor runs an EU
/// and an NA stack: https://support.teamtailor.com/en/articles/5963369-use-our-teamtailor-api).
/// Reading the company proves Admin scope with Read ([`hirebridge::teamtailor::key_check`]).
/// Teamtailor's and the network's own words never reach the page.
/// When the company's address named its stack, the key goes there only.
async fn check_key(deps: &Deps, token: &SecretString, stack: Option<Stack>) -> KeyCheck {
    let platform = &deps.platform;
    let stacks: Vec<Stack> = match stack {
        Some(stack) => vec![stack],
        None => Stack::ALL.to_vec(),
    };
    let probe = Probe { http: &platform.http, config: &platform.config, stacks: &stacks, write: false };
    let checked = probe.check(token).await;
    if let KeyCheck::Unchecked(why) = &checked {
        tracing::warn!(error = %why, "teamtailor key check failed");
    }
    checked
}
