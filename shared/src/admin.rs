//! Operator (admin) authentication (docs/routes.md): `Authorization: Bearer <token>` whose SHA-256 is
//! listed in the `operator` secret, each token with the integrations it may manage
//! (`{"admin_tokens":[{"name","sha256","scopes":[…]}]}`; the older `admin_tokens_sha256` list
//! means every scope). Every admin write leaves an audit item and a log line.
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::platform::Platform;
use crate::secrets::Secrets;
use crate::store::{Item, EXPIRES_AT};
use crate::web::{self, Request};
use crate::SecretString;

pub const OPERATOR_SECRET: &str = "operator";
/// The integrations a token can be scoped to.
pub const SCOPES: [&str; 5] = ["alva", "learnster", "2secure", "sparkhire", "stackone"];

#[derive(Deserialize)]
pub struct OperatorSecret {
    #[serde(default)]
    pub admin_tokens: Vec<AdminToken>,
    /// Older form: every token listed here has every scope.
    #[serde(default)]
    pub admin_tokens_sha256: Vec<String>,
    #[serde(default)]
    pub link_signing_key: Option<SecretString>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct AdminToken {
    pub name: String,
    pub sha256: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// Who an admin request is from.
#[derive(Clone, Debug)]
pub struct Admin {
    pub name: String,
}

pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

fn same(hash: &str, presented: &str) -> bool {
    bool::from(hash.to_ascii_lowercase().as_bytes().ct_eq(presented.as_bytes()))
}

/// The token's holder if it is listed and may manage `scope`: `401` for an unknown token, `403`
/// for one scoped to other integrations.
pub async fn authorize(secrets: &Secrets, req: &Request, scope: &str) -> Result<Admin, AppError> {
    let token = web::bearer(req).ok_or_else(|| {
        AppError::unauthorized("this route needs an admin token: Authorization: Bearer <token>")
    })?;
    let operator: OperatorSecret = secrets.require_json(OPERATOR_SECRET).await?;
    let presented = sha256_hex(token);
    // Every entry is compared, so the time taken does not tell which one matched.
    let mut found: Option<Admin> = None;
    let mut in_scope = false;
    for (i, hash) in operator.admin_tokens_sha256.iter().enumerate() {
        if same(hash, &presented) {
            found = Some(Admin { name: format!("admin-token-{}", i + 1) });
            in_scope = true;
        }
    }
    for entry in &operator.admin_tokens {
        if same(&entry.sha256, &presented) {
            found = Some(Admin { name: entry.name.clone() });
            in_scope = entry.scopes.iter().any(|s| s == scope || s == "*");
        }
    }
    match found {
        None => Err(AppError::unauthorized("the admin token is not valid")),
        Some(_) if !in_scope => Err(AppError::forbidden(format!(
            "this admin token may not manage {scope}; ask for a token with the {scope} scope"
        ))),
        Some(admin) => Ok(admin),
    }
}

/// [`authorize`] for `scope`, on the platform's secrets.
pub async fn require_scope(platform: &Platform, req: &Request, scope: &str) -> Result<Admin, AppError> {
    authorize(&platform.secrets, req, scope).await
}

/// Refuses the request unless it carries an admin token, whatever its scope (read-only uses that
/// predate scopes; writes use [`write`]).
pub async fn require_admin(secrets: &Secrets, req: &Request) -> Result<(), AppError> {
    match authorize(secrets, req, "*").await {
        Ok(_) => Ok(()),
        Err(e) if e.status == http::StatusCode::FORBIDDEN => Ok(()),
        Err(e) => Err(e),
    }
}

/// Authorizes an admin write on `target` within `scope` and records it: an audit item (token
/// name, route, target, time) and a log line.
pub async fn write(platform: &Platform, req: &Request, scope: &str, target: &str) -> Result<Admin, AppError> {
    let admin = authorize(&platform.secrets, req, scope).await?;
    let now = platform.clock.now_ms();
    let day = now / 86_400_000;
    let route = format!("{} {}", req.method(), req.uri().path());
    let item = Item::new(
        crate::keys::audit(scope, &day.to_string()),
        format!("{now}#{}", uuid::Uuid::new_v4().simple()),
    )
    .with("admin", admin.name.clone())
    .with("route", route.clone())
    .with("target", target)
    .with("at", now)
    .with(EXPIRES_AT, now / 1000 + 400 * 86_400);
    platform.store.put(item, None).await?;
    tracing::info!(event = "admin_write", admin = %admin.name, route = %route, target, scope, "admin write");
    Ok(admin)
}
