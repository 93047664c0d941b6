//! The Alva side's admin routes (scope `alva`): connecting an Alva company to Teamtailor with the
//! partner key, the company's Teamtailor accounts, and its settings. Each route acts on the
//! company in its path only; every write leaves an audit record.
use hirebridge::admin;
use hirebridge::error::AppResult;
use hirebridge::platform::Platform;
use hirebridge::teamtailor::key_check::{KeyCheck, Probe, Scope};
use hirebridge::teamtailor::Stack;
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::store::{self, Account, Accounts, Company, Connection};
use crate::{Deps, INTEGRATION};

const NOT_A_PARTNER_KEY: &str = "This is not a Teamtailor partner key for Alva. In Teamtailor, open Marketplace → Assessment → Alva Labs, copy the Partner Key shown after activation, and paste it here.";

/// What the audit record names as the target.
fn target(company: &str) -> String {
    format!("alva company {company}")
}

/// The company in the path, authorized for a write (audited).
async fn write(deps: &Deps, req: &Request, company: &str) -> AppResult<()> {
    store::check_company_id(company)?;
    admin::write(&deps.platform, req, INTEGRATION, &target(company)).await.map(|_| ())
}

/// The company in the path, connected to Teamtailor.
async fn connected(deps: &Deps, company: &str) -> AppResult<Company> {
    store::company(deps.platform.store.as_ref(), company).await?.ok_or_else(|| {
        AppError::not_found(format!(
            "Alva company {company} is not connected to Teamtailor yet; add the partner key first"
        ))
    })
}

#[derive(Deserialize)]
struct ConnectBody {
    partner_key: String,
}

/// `POST /alva/companies/{id}/teamtailor`: the pasted partner key must be one of the listing's
/// activations; a key already bound to another Alva company is refused. A company that changes
/// its key frees the old one.
pub async fn connect(deps: &Deps, req: &Request, company: &str) -> AppResult<Response> {
    write(deps, req, company).await?;
    let body: ConnectBody = web::read_json(req)?;
    let key = body.partner_key.trim();
    let uuid = uuid::Uuid::parse_str(key).map_err(|_| AppError::unprocessable(NOT_A_PARTNER_KEY))?;
    let platform = &deps.platform;
    let listing = platform.listing(INTEGRATION).await?;
    let (activation, stack) =
        match deps.activations.verify(&platform.http, &platform.config, &listing, &uuid).await {
            Ok(found) => found,
            Err(e) if e.status == StatusCode::UNAUTHORIZED => {
                return Err(AppError::unprocessable(NOT_A_PARTNER_KEY))
            }
            Err(e) => return Err(e),
        };
    let before = store::company(platform.store.as_ref(), company).await?;
    let connection = Connection {
        alva_company_id: company.to_owned(),
        company_uuid: activation.company_uuid,
        company_name: activation.company_name,
        sync_hiring_team: before.as_ref().is_some_and(|b| b.connection.sync_hiring_team),
        stack: Some(stack),
    };
    if !store::bind_key(platform.store.as_ref(), key, &connection).await? {
        return Err(AppError::conflict(
            "This partner key is already connected to another Alva company. Each Teamtailor activation connects to one Alva company.",
        ));
    }
    let now = Company::connected(connection, key, before.as_ref());
    if !store::save_company(platform.store.as_ref(), &now, before.as_ref()).await? {
        return Err(AppError::conflict(
            "the company was changed by another request at the same time; try again",
        ));
    }
    if let Some(old) = before.filter(|b| !b.uses_key(key)) {
        store::unbind_key(platform.store.as_ref(), &old).await?;
    }
    let c = &now.connection;
    tracing::info!(company = %company, teamtailor = %c.company_uuid, "alva company connected to teamtailor");
    Ok(web::json(
        StatusCode::CREATED,
        &json!({
            "message": format!("Teamtailor integration added for {}", c.company_name),
            "company_name": c.company_name,
            "company_uuid": c.company_uuid,
        }),
    ))
}

fn masked(key: &str) -> String {
    let tail: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("••••{tail}")
}

fn shown(a: &Account) -> serde_json::Value {
    json!({"id": a.id, "key": masked(&a.api_key), "added_at": a.added_at})
}

#[derive(Deserialize)]
struct AccountBody {
    api_key: SecretString,
    #[serde(default)]
    teamtailor_host: Option<String>,
}

/// The stack the key belongs to, where it must be a Read Write Admin key: the company's stack
/// when its activation told it (the key goes nowhere else), else each stack in turn, the one the
/// admin named first. Every refusal is in words the admin can act on (never Teamtailor's own).
async fn read_write_admin_stack(
    platform: &Platform,
    (known, named): (Option<Stack>, Option<&str>),
    key: &SecretString,
) -> AppResult<Stack> {
    let config = &platform.config;
    let stacks: Vec<Stack> = match known {
        Some(stack) => vec![stack],
        None => Stack::starting_with(Stack::of_company(config, None, named)).collect(),
    };
    let probe = Probe { http: &platform.http, config, stacks: &stacks, write: true };
    let needs_admin_rw = "This Teamtailor API key needs Admin scope with Read and Write. Create a Read Write Admin key in Teamtailor and add that one.";
    match probe.check(key).await {
        KeyCheck::Valid { stack, scope: Scope::Admin { can_write: Some(true) }, .. } => Ok(stack),
        KeyCheck::Valid { scope: Scope::NotAdmin | Scope::Admin { can_write: Some(false) }, .. } => {
            Err(AppError::unprocessable(needs_admin_rw))
        }
        KeyCheck::Invalid => Err(AppError::unprocessable(
            "Teamtailor says this API key is not valid. Create a key in Teamtailor (Settings → Integrations → API keys) and paste it whole.",
        )),
        KeyCheck::Valid { .. } | KeyCheck::Unchecked(_) => Err(AppError::upstream(
            "Teamtailor could not check this API key right now; nothing was saved. Try again in a minute.",
        )),
    }
}

/// `POST /alva/companies/{id}/teamtailor/accounts`.
pub async fn add_account(deps: &Deps, req: &Request, company: &str) -> AppResult<Response> {
    write(deps, req, company).await?;
    let body: AccountBody = web::read_json(req)?;
    let key = body.api_key.expose().trim().to_owned();
    if key.is_empty() || key.len() > 200 || key.contains(char::is_whitespace) {
        return Err(AppError::unprocessable(
            "api_key must be a Teamtailor API key (no spaces, at most 200 characters)",
        ));
    }
    let platform = &deps.platform;
    let current = connected(deps, company).await?;
    let known = current.connection.stack;
    let named = body.teamtailor_host.as_deref();
    let stack = read_write_admin_stack(platform, (known, named), &SecretString::new(key.clone())).await?;
    let mut accounts = store::accounts(&platform.secrets, &current).await?;
    if let Some(existing) = accounts.accounts.iter().find(|a| a.api_key == key) {
        return Ok(web::json(StatusCode::OK, &shown(existing)));
    }
    let account = Account {
        id: uuid::Uuid::new_v4().to_string(),
        api_key: key,
        teamtailor_host: Some(stack.host().to_owned()),
        added_at: platform.now_secs(),
    };
    accounts.accounts.push(account.clone());
    store::replace_accounts(platform, &current, &accounts).await?;
    Ok(web::json(StatusCode::CREATED, &shown(&account)))
}

/// `GET /alva/companies/{id}/teamtailor/accounts`: the keys masked.
pub async fn list_accounts(deps: &Deps, req: &Request, company: &str) -> AppResult<Response> {
    store::check_company_id(company)?;
    admin::require_scope(&deps.platform, req, INTEGRATION).await?;
    let current = connected(deps, company).await?;
    let accounts = store::accounts(&deps.platform.secrets, &current).await?;
    let list: Vec<_> = accounts.accounts.iter().map(shown).collect();
    Ok(web::json(StatusCode::OK, &json!({ "accounts": list })))
}

/// `DELETE /alva/companies/{id}/teamtailor/accounts/{account}`: the key stops being used at
/// once, on every instance.
pub async fn remove_account(deps: &Deps, req: &Request, company: &str, account: &str) -> AppResult<Response> {
    write(deps, req, company).await?;
    let current = connected(deps, company).await?;
    let Accounts { mut accounts } = store::accounts(&deps.platform.secrets, &current).await?;
    let before = accounts.len();
    accounts.retain(|a| a.id != account);
    if accounts.len() == before {
        return Err(AppError::not_found(format!("Alva company {company} has no account {account}")));
    }
    store::replace_accounts(&deps.platform, &current, &Accounts { accounts }).await?;
    Ok(web::empty(StatusCode::NO_CONTENT))
}

#[derive(Deserialize)]
struct SettingsBody {
    sync_hiring_team: bool,
}

/// `PUT /alva/companies/{id}/teamtailor/settings`.
pub async fn settings(deps: &Deps, req: &Request, company: &str) -> AppResult<Response> {
    write(deps, req, company).await?;
    let body: SettingsBody = web::read_json(req)?;
    let current = connected(deps, company).await?;
    let mut changed = current.clone();
    changed.connection.sync_hiring_team = body.sync_hiring_team;
    if !store::save_company(deps.platform.store.as_ref(), &changed, Some(&current)).await? {
        return Err(AppError::conflict(
            "the company was changed by another request at the same time; try again",
        ));
    }
    Ok(web::json(StatusCode::OK, &json!({"sync_hiring_team": body.sync_hiring_team})))
}
