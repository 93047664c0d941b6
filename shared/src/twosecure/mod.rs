//! 2Secure background checks (SPEC §5.3): the API client and the order lifecycle shared by the
//! `twosecure-order` and `twosecure-status` Lambdas.
pub mod api;
pub mod orders;

use serde::Deserialize;

use crate::admin::sha256_hex;
use crate::SecretString;

pub const INTEGRATION: &str = "2secure";

/// A tenant is identified by its 2Secure API key's hash (the key arrives in the provider key);
/// the key itself is kept only in Secrets Manager.
pub fn tenant_id(api_key: &SecretString) -> String {
    sha256_hex(api_key.expose())[..32].to_owned()
}

pub fn tenant_secret_name(tenant: &str) -> String {
    format!("tenant/2secure/{tenant}")
}

/// `tenant/2secure/{tenant}`: what the status poll needs later, without a request to read it from.
#[derive(Deserialize)]
pub struct TenantSecret {
    pub api_key: SecretString,
    #[serde(default)]
    pub teamtailor_api_token: Option<SecretString>,
}

/// `vendor/2secure`.
#[derive(Deserialize)]
pub struct VendorSecret {
    pub callback_secret: SecretString,
}

pub const VENDOR_SECRET: &str = "vendor/2secure";
