//! Teamtailor: the partner protocol inbound and the two APIs we call back (public and partner
//! results), on the company's own stack ([`Stack`]).
pub mod activations;
pub mod forms;
pub mod key_check;
pub mod partner_results;
pub mod provider_key;
pub mod public_api;
pub mod signature;
pub mod stack;
pub mod stages;
pub mod webhook;

pub use stack::Stack;

use crate::config::Config;

/// Teamtailor's API hosts, one per stack. A host named by a request must be one of these, so that
/// a forged `Teamtailor-Host` or `update-url` cannot make us send a key elsewhere.
pub const API_HOSTS: [&str; 2] = [Stack::Eu.host(), Stack::Na.host()];

/// The base of the stack `Teamtailor-Host` names, else EU's. Never an error: a header we cannot
/// read says nothing. Prefer [`Stack::of_company`] where the trigger's `update-url` is known.
pub fn api_base(config: &Config, teamtailor_host: Option<&str>) -> String {
    config.teamtailor_base(Stack::of_company(config, None, teamtailor_host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_teamtailor_hosts_are_trusted_and_an_unknown_one_says_nothing() {
        let c = Config::from_lookup(|k| (k == "PUBLIC_BASE_URL").then(|| "https://hb".into())).unwrap();
        assert_eq!(api_base(&c, None), "https://api.teamtailor.com");
        assert_eq!(api_base(&c, Some("api.na.teamtailor.com")), "https://api.na.teamtailor.com");
        assert_eq!(api_base(&c, Some("evil.example.com")), "https://api.teamtailor.com");
    }
}
