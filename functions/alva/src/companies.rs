//! The Alva side's admin routes: connecting an Alva company to Teamtailor with the partner key,
//! the company's Teamtailor accounts, and its settings.
//!
//! Items: `ALVA#{company}`/`TEAMTAILOR` (the connection and settings), `ALVA_KEY#{sha256 of the
//! partner key}`/`KEY` (which company a provider key belongs to). Secret:
//! `tenant/alva/{company}` = `{"accounts":[{"id","api_key","teamtailor_host","added_at"}]}`.
use hirebridge::admin::{require_admin, sha256_hex};
use hirebridge::error::AppResult;
use hirebridge::store::{Cond, Item, PutOutcome};
use hirebridge::teamtailor::api_base;
use hirebridge::teamtailor::public_api::PublicApi;
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Deps, INTEGRATION};

pub fn company_pk(company: &str) -> String {
    format!("ALVA#{company}")
}

pub fn key_pk(partner_key: &str) -> String {
    format!("ALVA_KEY#{}", sha256_hex(partner_key))
}

fn accounts_secret(company: &str) -> String {
    format!("tenant/alva/{company}")
}

/// Alva company ids become parts of keys and headers: letters, digits, `-` and `_`.
pub fn check_company(company: &str) -> AppResult<()> {
    let ok = !company.is_empty()
        && company.len() <= 64
        && company.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then_some(())
        .ok_or_else(|| AppError::bad_request("the Alva company id must be 1–64 letters, digits, '-' or '_'"))
}

/// The connection of an Alva company to a Teamtailor company.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Connection {
    pub alva_company_id: String,
    pub company_uuid: String,
    pub company_name: String,
    #[serde(default)]
    pub sync_hiring_team: bool,
}

pub async fn connection(deps: &Deps, company: &str) -> AppResult<Option<Connection>> {
    let item = deps.platform.store.get(&company_pk(company), "TEAMTAILOR").await?;
    item.map(|i| {
        serde_json::from_value(i.attrs.get("connection").cloned().unwrap_or_default())
            .map_err(AppError::internal)
    })
    .transpose()
}

async fn save_connection(deps: &Deps, c: &Connection, key_hash_pk: &str) -> AppResult<()> {
    let value = serde_json::to_value(c).map_err(AppError::internal)?;
    let item = Item::new(company_pk(&c.alva_company_id), "TEAMTAILOR")
        .with("connection", value)
        .with("key", key_hash_pk);
    deps.platform.store.put(item, None).await?;
    Ok(())
}

#[derive(Deserialize)]
struct ConnectBody {
    partner_key: String,
}

/// `POST /alva/companies/{id}/teamtailor`: the pasted partner key must be one of the listing's
/// activations; a key already bound to another Alva company is refused.
pub async fn connect(deps: &Deps, req: &Request, company: &str) -> AppResult<Response> {
    require_admin(&deps.platform.secrets, req).await?;
    check_company(company)?;
    let body: ConnectBody = web::read_json(req)?;
    let key = body.partner_key.trim();
    let unknown = || {
        AppError::unprocessable(
            "This is not a Teamtailor partner key for Alva. In Teamtailor, open Marketplace → Assessment → Alva Labs, copy the Partner Key shown after activation, and paste it here.",
        )
    };
    let uuid = uuid::Uuid::parse_str(key).map_err(|_| unknown())?;
    let platform = &deps.platform;
    let listing = platform.listing(INTEGRATION).await?;
    let base = api_base(&platform.config, None)?;
    let activation = match deps.activations.verify(&platform.http, &base, &listing, &uuid).await {
        Ok(a) => a,
        Err(e) if e.status == StatusCode::UNAUTHORIZED => return Err(unknown()),
        Err(e) => return Err(e),
    };
    let key_item_pk = key_pk(key);
    let binding = Item::new(key_item_pk.clone(), "KEY")
        .with("alva_company_id", company)
        .with("company_uuid", activation.company_uuid.clone())
        .with("company_name", activation.company_name.clone());
    let free = Cond::Or(vec![Cond::NotExists, Cond::Eq("alva_company_id", json!(company))]);
    if let PutOutcome::Rejected(_) = platform.store.put(binding, Some(free)).await? {
        return Err(AppError::conflict(
            "This partner key is already connected to another Alva company. Each Teamtailor activation connects to one Alva company.",
        ));
    }
    let sync = connection(deps, company).await?.map(|c| c.sync_hiring_team).unwrap_or(false);
    let connection = Connection {
        alva_company_id: company.to_owned(),
        company_uuid: activation.company_uuid,
        company_name: activation.company_name.clone(),
        sync_hiring_team: sync,
    };
    save_connection(deps, &connection, &key_item_pk).await?;
    tracing::info!(company = %company, teamtailor = %connection.company_uuid, "alva company connected to teamtailor");
    Ok(web::json(
        StatusCode::CREATED,
        &json!({
            "message": format!("Teamtailor integration added for {}", activation.company_name),
            "company_name": activation.company_name,
            "company_uuid": connection.company_uuid,
        }),
    ))
}

#[derive(Serialize, Deserialize, Default)]
struct Accounts {
    #[serde(default)]
    accounts: Vec<Account>,
}

#[derive(Serialize, Deserialize, Clone)]
struct Account {
    id: String,
    api_key: String,
    #[serde(default)]
    teamtailor_host: Option<String>,
    added_at: i64,
}

/// A company's Teamtailor account key (the first one added) and its API host.
pub async fn account_key(deps: &Deps, company: &str) -> AppResult<Option<(SecretString, Option<String>)>> {
    let accounts: Option<Accounts> = deps.platform.secrets.get_json(&accounts_secret(company)).await?;
    Ok(accounts
        .and_then(|a| a.accounts.into_iter().next())
        .map(|a| (SecretString::new(a.api_key), a.teamtailor_host)))
}

fn masked(key: &str) -> String {
    let tail: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("••••{tail}")
}

#[derive(Deserialize)]
struct AccountBody {
    api_key: SecretString,
    #[serde(default)]
    teamtailor_host: Option<String>,
}

/// `POST /alva/companies/{id}/teamtailor/accounts`: the key must be valid and an Admin key that
/// may read and write (a no-op `PATCH /v1/company` proves the write).
pub async fn add_account(deps: &Deps, req: &Request, company: &str) -> AppResult<Response> {
    require_admin(&deps.platform.secrets, req).await?;
    check_company(company)?;
    let body: AccountBody = web::read_json(req)?;
    let key = body.api_key.expose().trim().to_owned();
    if key.is_empty() || key.len() > 200 || key.contains(char::is_whitespace) {
        return Err(AppError::unprocessable(
            "api_key must be a Teamtailor API key (no spaces, at most 200 characters)",
        ));
    }
    let platform = &deps.platform;
    let base = api_base(&platform.config, body.teamtailor_host.as_deref())?;
    let token = SecretString::new(key.clone());
    let api = PublicApi::new(&platform.http, base, &platform.config.teamtailor_api_version, &token);
    let refused = |status: Option<StatusCode>| {
        match status {
        Some(StatusCode::UNAUTHORIZED) => Some(AppError::unprocessable(
            "Teamtailor says this API key is not valid. Create a key in Teamtailor (Settings → Integrations → API keys) and paste it whole.",
        )),
        Some(StatusCode::FORBIDDEN) => Some(AppError::unprocessable(
            "This Teamtailor API key needs Admin scope with Read and Write. Create a Read Write Admin key in Teamtailor and add that one.",
        )),
        _ => None,
    }
    };
    if let Err(e) = api.get("/v1/company").await {
        return Err(
            refused(e.status()).unwrap_or_else(|| AppError::upstream(format!("{e}; nothing was saved")))
        );
    }
    let noop = json!({"data": {"type": "companies", "attributes": {}}});
    if let Err(e) = api.patch("/v1/company", &noop).await {
        return Err(
            refused(e.status()).unwrap_or_else(|| AppError::upstream(format!("{e}; nothing was saved")))
        );
    }
    let name = accounts_secret(company);
    let mut accounts: Accounts = platform.secrets.get_json(&name).await?.unwrap_or_default();
    if let Some(existing) = accounts.accounts.iter().find(|a| a.api_key == key) {
        return Ok(web::json(
            StatusCode::OK,
            &json!({"id": existing.id, "key": masked(&key), "added_at": existing.added_at}),
        ));
    }
    let account = Account {
        id: uuid::Uuid::new_v4().to_string(),
        api_key: key.clone(),
        teamtailor_host: body.teamtailor_host,
        added_at: platform.now_secs(),
    };
    accounts.accounts.push(account.clone());
    platform.secrets.put_json(&name, &serde_json::to_value(&accounts).map_err(AppError::internal)?).await?;
    Ok(web::json(
        StatusCode::CREATED,
        &json!({"id": account.id, "key": masked(&key), "added_at": account.added_at}),
    ))
}

pub async fn list_accounts(deps: &Deps, req: &Request, company: &str) -> AppResult<Response> {
    require_admin(&deps.platform.secrets, req).await?;
    check_company(company)?;
    let accounts: Accounts =
        deps.platform.secrets.get_json(&accounts_secret(company)).await?.unwrap_or_default();
    let list: Vec<_> = accounts
        .accounts
        .iter()
        .map(|a| json!({"id": a.id, "key": masked(&a.api_key), "added_at": a.added_at}))
        .collect();
    Ok(web::json(StatusCode::OK, &json!({ "accounts": list })))
}

pub async fn remove_account(deps: &Deps, req: &Request, company: &str, account: &str) -> AppResult<Response> {
    require_admin(&deps.platform.secrets, req).await?;
    check_company(company)?;
    let name = accounts_secret(company);
    let mut accounts: Accounts = deps.platform.secrets.get_json(&name).await?.unwrap_or_default();
    let before = accounts.accounts.len();
    accounts.accounts.retain(|a| a.id != account);
    if accounts.accounts.len() == before {
        return Err(AppError::not_found(format!("company {company} has no account {account}")));
    }
    deps.platform
        .secrets
        .put_json(&name, &serde_json::to_value(&accounts).map_err(AppError::internal)?)
        .await?;
    Ok(web::empty(StatusCode::NO_CONTENT))
}

#[derive(Deserialize)]
struct SettingsBody {
    sync_hiring_team: bool,
}

/// `PUT /alva/companies/{id}/teamtailor/settings`.
pub async fn settings(deps: &Deps, req: &Request, company: &str) -> AppResult<Response> {
    require_admin(&deps.platform.secrets, req).await?;
    check_company(company)?;
    let body: SettingsBody = web::read_json(req)?;
    let item = deps.platform.store.get(&company_pk(company), "TEAMTAILOR").await?.ok_or_else(|| {
        AppError::not_found(format!(
            "Alva company {company} is not connected to Teamtailor yet; add the partner key first"
        ))
    })?;
    let mut connection: Connection =
        serde_json::from_value(item.attrs.get("connection").cloned().unwrap_or_default())
            .map_err(AppError::internal)?;
    connection.sync_hiring_team = body.sync_hiring_team;
    save_connection(deps, &connection, item.str("key").unwrap_or_default()).await?;
    Ok(web::json(StatusCode::OK, &json!({"sync_hiring_team": connection.sync_hiring_team})))
}
