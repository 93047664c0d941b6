//! Operator authentication (SPEC §5.6): `Authorization: Bearer <token>` whose SHA-256 is listed
//! in the `operator` secret.
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::secrets::Secrets;
use crate::web::{self, Request};
use crate::SecretString;

pub const OPERATOR_SECRET: &str = "operator";

#[derive(Deserialize)]
pub struct OperatorSecret {
    pub admin_tokens_sha256: Vec<String>,
    #[serde(default)]
    pub link_signing_key: Option<SecretString>,
}

pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Refuses the request with `401` unless it carries an admin token.
pub async fn require_admin(secrets: &Secrets, req: &Request) -> Result<(), AppError> {
    let token = web::bearer(req).ok_or_else(|| {
        AppError::unauthorized("this route needs an admin token: Authorization: Bearer <token>")
    })?;
    let operator: OperatorSecret = secrets.require_json(OPERATOR_SECRET).await?;
    let presented = sha256_hex(token);
    let known = operator.admin_tokens_sha256.iter().fold(false, |found, h| {
        found | bool::from(h.to_ascii_lowercase().as_bytes().ct_eq(presented.as_bytes()))
    });
    if known {
        Ok(())
    } else {
        Err(AppError::unauthorized("the admin token is not valid"))
    }
}
