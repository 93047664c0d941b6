//! Every key of Learnster's items and secrets, built here only. Items (all under `LEARNSTER#`,
//! the prefix template.yaml grants this function):
//! - [`integration`]: the settings and the Secret Token's SHA-256;
//! - [`token`]: a copy of the settings under the token's hash, so a webhook finds its integration
//!   in one read;
//! - [`student`]: the candidate's Learnster student id.
//!
//! Secret: [`credentials_secret`] = `{"client_id","client_secret"}`.

/// (pk, sk) of an integration's settings.
pub fn integration(id: &str) -> (String, &'static str) {
    (format!("LEARNSTER#{id}"), "INTEGRATION")
}

/// (pk, sk) of the settings found by the Secret Token's hash.
pub fn token(hash: &str) -> (String, &'static str) {
    (format!("LEARNSTER#token#{hash}"), "TOKEN")
}

/// (pk, sk) of a candidate's Learnster student within an integration.
pub fn student(integration_id: &str, candidate_id: &str) -> (String, String) {
    (format!("LEARNSTER#{integration_id}"), format!("STUDENT#{candidate_id}"))
}

/// The Secrets Manager name of an integration's Learnster API client credentials.
pub fn credentials_secret(id: &str) -> String {
    format!("tenant/learnster/{id}")
}
