//! Teamtailor's regional stacks. Teamtailor runs an EU stack (`api.teamtailor.com`) and an NA
//! stack (`api.na.teamtailor.com`) (https://docs.teamtailor.com, "Regions"; and the partner docs'
//! `Teamtailor-Host` header, https://partner.teamtailor.com). A company's data, API keys and partner
//! results live on one of them, so every call made for a company goes to its stack's base
//! (`TEAMTAILOR_API_URL` / `TEAMTAILOR_NA_API_URL`), and a company key is never sent to the other.
//!
//! Which stack a company is on: the host of its trigger's `update-url` (documented on every
//! trigger), else the `Teamtailor-Host` header in any reasonable spelling, else EU. A header we
//! cannot read is not an error by itself: it just says nothing.
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Config;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Stack {
    Eu,
    Na,
}

impl Stack {
    pub const ALL: [Stack; 2] = [Stack::Eu, Stack::Na];

    /// The stack's public API host.
    pub const fn host(self) -> &'static str {
        match self {
            Stack::Eu => "api.teamtailor.com",
            Stack::Na => "api.na.teamtailor.com",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stack::Eu => "eu",
            Stack::Na => "na",
        }
    }

    /// For people: "EU" or "NA".
    pub fn label(self) -> &'static str {
        match self {
            Stack::Eu => "EU",
            Stack::Na => "NA",
        }
    }

    pub fn parse(s: &str) -> Option<Stack> {
        Stack::ALL.into_iter().find(|stack| stack.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// `Teamtailor-Host` as Teamtailor may spell it: a host (`api.na.teamtailor.com`,
    /// `app.na.teamtailor.com`, `na.teamtailor.com`, `teamtailor.com`), a URL of one, or a region
    /// name (`na`, `eu`). Anything else: `None`.
    pub fn from_host_header(value: &str) -> Option<Stack> {
        let value = value.trim();
        if value.is_empty() || value.len() > 253 {
            return None;
        }
        if let Some(stack) = Stack::parse(value) {
            return Some(stack);
        }
        let host = match Url::parse(value) {
            Ok(url) if url.host_str().is_some() => url.host_str().unwrap_or_default().to_ascii_lowercase(),
            _ => value
                .split('/')
                .next()
                .unwrap_or_default()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase(),
        };
        let host = host.trim_end_matches('.');
        let rest = host.strip_suffix("teamtailor.com")?;
        if !(rest.is_empty() || rest.ends_with('.')) {
            return None; // `evilteamtailor.com`
        }
        let labels: Vec<&str> = rest.trim_end_matches('.').split('.').filter(|l| !l.is_empty()).collect();
        match labels.as_slice() {
            [] | ["api" | "app" | "www" | "eu"] | ["api" | "app", "eu"] => Some(Stack::Eu),
            ["na"] | ["api" | "app", "na"] => Some(Stack::Na),
            _ => None,
        }
    }

    /// The stack whose base `url` is under (a configured base, or the stack's own host), with
    /// the rest of the path. A URL under neither is `None`.
    pub fn of_url(config: &Config, url: &Url) -> Option<(Stack, String)> {
        Stack::ALL.into_iter().find_map(|stack| {
            let rest = under(&config.teamtailor_base(stack), url).or_else(|| {
                let real =
                    url.scheme() == "https" && url.host_str() == Some(stack.host()) && url.port().is_none();
                real.then(|| url.path().to_owned())
            })?;
            Some((stack, rest))
        })
    }

    /// A company's stack: its `update-url`'s, else `Teamtailor-Host`'s, else EU.
    pub fn of_company(config: &Config, update_url: Option<&str>, host_header: Option<&str>) -> Stack {
        let from_update_url = update_url
            .and_then(|u| Url::parse(u).ok())
            .and_then(|u| Stack::of_url(config, &u))
            .map(|(s, _)| s);
        from_update_url.or_else(|| host_header.and_then(Stack::from_host_header)).unwrap_or(Stack::Eu)
    }

    /// The host of the stack of the company behind a trigger (its `update-url`, else its
    /// `Teamtailor-Host`, else EU), as work records keep it.
    pub fn host_of_trigger(config: &Config, update_url: &str, req: &crate::web::Request) -> String {
        Stack::of_company(config, Some(update_url), crate::web::header(req, "teamtailor-host"))
            .host()
            .to_owned()
    }

    /// The stacks in the order to try them for a key whose stack is not known: `first`, then
    /// the others.
    pub fn starting_with(first: Stack) -> impl Iterator<Item = Stack> {
        std::iter::once(first).chain(Stack::ALL.into_iter().filter(move |s| *s != first))
    }
}

impl std::fmt::Display for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// The path of `url` under `base` (same origin, `base`'s path a prefix at a `/`).
fn under(base: &str, url: &Url) -> Option<String> {
    let base = Url::parse(base).ok()?;
    let rest = url.path().strip_prefix(base.path().trim_end_matches('/'))?;
    (base.origin() == url.origin() && rest.starts_with('/')).then(|| rest.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(eu: Option<&str>, na: Option<&str>) -> Config {
        Config::from_lookup(|k| match k {
            "PUBLIC_BASE_URL" => Some("https://hb".into()),
            "TEAMTAILOR_API_URL" => eu.map(str::to_owned),
            "TEAMTAILOR_NA_API_URL" => na.map(str::to_owned),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn teamtailor_host_is_read_in_any_reasonable_spelling() {
        for na in [
            "api.na.teamtailor.com",
            "https://api.na.teamtailor.com/",
            "NA",
            "app.na.teamtailor.com",
            "na.teamtailor.com",
            " api.na.teamtailor.com:443 ",
        ] {
            assert_eq!(Stack::from_host_header(na), Some(Stack::Na), "{na}");
        }
        for eu in
            ["api.teamtailor.com", "https://api.teamtailor.com", "eu", "teamtailor.com", "app.teamtailor.com"]
        {
            assert_eq!(Stack::from_host_header(eu), Some(Stack::Eu), "{eu}");
        }
        for unknown in [
            "",
            "evil.example.com",
            "evilteamtailor.com",
            "api.na.teamtailor.com.evil.net",
            "x.y.teamtailor.com",
            "au",
        ] {
            assert_eq!(Stack::from_host_header(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn the_update_url_names_the_stack_before_the_header() {
        let c = config(None, None);
        let na = "https://api.na.teamtailor.com/partner/v1/partner-results/1";
        assert_eq!(Stack::of_company(&c, Some(na), Some("api.teamtailor.com")), Stack::Na);
        assert_eq!(Stack::of_company(&c, Some("not a url"), Some("na")), Stack::Na);
        assert_eq!(Stack::of_company(&c, None, Some("gibberish")), Stack::Eu);
        assert_eq!(c.teamtailor_base(Stack::Na), "https://api.na.teamtailor.com");
    }

    #[test]
    fn configured_bases_name_their_stack() {
        let c = config(Some("http://127.0.0.1:9/tt"), Some("http://127.0.0.1:9/tt-na"));
        let url = Url::parse("http://127.0.0.1:9/tt-na/partner/v1/partner-results/7").unwrap();
        assert_eq!(Stack::of_url(&c, &url), Some((Stack::Na, "/partner/v1/partner-results/7".into())));
        let url = Url::parse("https://api.na.teamtailor.com/partner/v1/partner-results/7").unwrap();
        assert_eq!(Stack::of_url(&c, &url).map(|(s, _)| s), Some(Stack::Na), "the real host still names it");
        let url = Url::parse("http://127.0.0.1:9/other/partner/v1/partner-results/7").unwrap();
        assert_eq!(Stack::of_url(&c, &url), None);
    }
}
