//! Everything StackOne keeps, and where: every table key (all under `STACKONE#`, the prefix
//! `template.yaml` grants this function), the link's status as a type, and the one conditional
//! write that changes a link. No credential is kept anywhere: StackOne's Hub holds them.
//!
//! | pk | sk | what |
//! |---|---|---|
//! | `STACKONE#{origin owner}` | `LINK` | the owner's link: name, StackOne account id, status, when StackOne's latest applied event happened, a version |
//! | `STACKONE#ACCOUNT#{account id}` | `ACCOUNT` | which owner a StackOne account belongs to (for events that do not name it) |
//!
//! Owner ids never contain `#` (see `session::check_owner`), so `ACCOUNT#…` is never an owner.
//!
//! Links written before hirebridge used StackOne's Hub carry a `submission` attribute and had
//! the owner's Teamtailor credentials in the secret `tenant/stackone/{owner}`: that secret is
//! deleted the next time the link is touched ([`retire_legacy_secret`]), and nothing reads it.
use hirebridge::error::AppResult;
use hirebridge::platform::Platform;
use hirebridge::store::{Cond, Item, PutOutcome};
use serde::{Deserialize, Serialize};
use serde_json::json;

const LINK: &str = "LINK";
const ACCOUNT: &str = "ACCOUNT";

/// Where a link stands: `not_linked` until StackOne reports an account, then StackOne's own
/// account status (`LinkedAccountStatus`: active, inactive, suspended, archived, expired, error),
/// `deleted` once StackOne deleted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    /// A link session was opened; StackOne has reported no account yet.
    NotLinked,
    Active,
    Inactive,
    Suspended,
    Archived,
    Expired,
    Error,
    /// StackOne deleted the account.
    Deleted,
    /// A status StackOne sent that hirebridge does not know, or could not read.
    Unknown,
}

impl LinkStatus {
    const ALL: [LinkStatus; 9] = [
        LinkStatus::NotLinked,
        LinkStatus::Active,
        LinkStatus::Inactive,
        LinkStatus::Suspended,
        LinkStatus::Archived,
        LinkStatus::Expired,
        LinkStatus::Error,
        LinkStatus::Deleted,
        LinkStatus::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::NotLinked => "not_linked",
            LinkStatus::Active => "active",
            LinkStatus::Inactive => "inactive",
            LinkStatus::Suspended => "suspended",
            LinkStatus::Archived => "archived",
            LinkStatus::Expired => "expired",
            LinkStatus::Error => "error",
            LinkStatus::Deleted => "deleted",
            LinkStatus::Unknown => "unknown",
        }
    }

    /// A status as StackOne or the table spells it; anything else is `Unknown`.
    pub fn parse(s: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
            .unwrap_or(LinkStatus::Unknown)
    }
}

/// One origin owner's link to StackOne.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub owner: String,
    pub owner_name: String,
    /// StackOne's account, once StackOne reported one.
    pub account_id: Option<String>,
    pub status: LinkStatus,
    /// When StackOne's latest applied event happened (its `event_date`, else `sent_at`, else
    /// its arrival), in milliseconds; `0` before any. An event dated no later is not applied.
    pub event_at: i64,
    /// When the link last changed (seconds).
    pub updated_at: i64,
    /// When the latest link session expires (seconds).
    pub session_expires_at: Option<i64>,
    /// Bumped by every write; each write is conditional on the version it read.
    pub version: i64,
    /// Written before the Hub (see the module): its credential secret is still to delete.
    pub legacy: bool,
    /// Whether the item had a `version` (links written before the Hub have none).
    versioned: bool,
}

impl Link {
    pub fn new(owner: &str, owner_name: &str) -> Self {
        Link {
            owner: owner.to_owned(),
            owner_name: owner_name.to_owned(),
            account_id: None,
            status: LinkStatus::NotLinked,
            event_at: 0,
            updated_at: 0,
            session_expires_at: None,
            version: 0,
            legacy: false,
            versioned: false,
        }
    }

    pub fn key(owner: &str) -> (String, &'static str) {
        (format!("STACKONE#{owner}"), LINK)
    }

    pub fn to_item(&self) -> Item {
        let (pk, sk) = Self::key(&self.owner);
        let mut item = Item::new(pk, sk)
            .with("origin_owner_id", self.owner.as_str())
            .with("origin_owner_name", self.owner_name.as_str())
            .with("status", self.status.as_str())
            .with("event_at", self.event_at)
            .with("updated_at", self.updated_at)
            .with("version", self.version);
        if let Some(account) = &self.account_id {
            item = item.with("account_id", account.as_str());
        }
        if let Some(expires) = self.session_expires_at {
            item = item.with("session_expires_at", expires);
        }
        item
    }

    pub fn from_item(item: &Item) -> Option<Self> {
        Some(Link {
            owner: item.str("origin_owner_id")?.to_owned(),
            owner_name: item.str("origin_owner_name").unwrap_or_default().to_owned(),
            account_id: item.str("account_id").map(str::to_owned),
            status: LinkStatus::parse(item.str("status").unwrap_or_default()),
            event_at: item.i64("event_at").unwrap_or(0),
            updated_at: item.i64("updated_at").unwrap_or(0),
            session_expires_at: item.i64("session_expires_at"),
            version: item.i64("version").unwrap_or(0),
            legacy: item.str("submission").is_some(),
            versioned: item.i64("version").is_some(),
        })
    }
}

pub async fn read(platform: &Platform, owner: &str) -> AppResult<Option<Link>> {
    let (pk, sk) = Link::key(owner);
    Ok(platform.store.get(&pk, sk).await?.as_ref().and_then(Link::from_item))
}

/// Writes `next` if the link is still as `before` was read (absent, or the same version) and,
/// with `event_at`, if no event dated at or after it was applied meanwhile. `false`: it changed;
/// read it again.
pub async fn save(
    platform: &Platform,
    before: Option<&Link>,
    next: &Link,
    event_at: Option<i64>,
) -> AppResult<bool> {
    let mut conds = vec![match before {
        None => Cond::NotExists,
        Some(b) if b.versioned => Cond::Eq("version", json!(b.version)),
        Some(b) => Cond::Eq("updated_at", json!(b.updated_at)),
    }];
    // Links written before the Hub have no `event_at` (and no event was ever applied to them).
    if let (Some(at), Some(b)) = (event_at, before) {
        if b.versioned {
            conds.push(Cond::Lt("event_at", at));
        }
    }
    let cond = if conds.len() == 1 { conds.remove(0) } else { Cond::And(conds) };
    let mut item = next.clone();
    item.version = before.map_or(0, |b| b.version) + 1;
    Ok(platform.store.put(item.to_item(), Some(cond)).await? == PutOutcome::Written)
}

/// Which owner a StackOne account belongs to.
pub fn account_key(account_id: &str) -> (String, &'static str) {
    (format!("STACKONE#ACCOUNT#{account_id}"), ACCOUNT)
}

pub fn account_item(account_id: &str, owner: &str) -> Item {
    let (pk, sk) = account_key(account_id);
    Item::new(pk, sk).with("origin_owner_id", owner)
}

/// The secret in which links made before the Hub kept the owner's Teamtailor credentials.
pub fn legacy_credentials_secret(owner: &str) -> String {
    format!("tenant/stackone/{owner}")
}

/// Deletes the Teamtailor credentials a link made before the Hub left in Secrets Manager (a
/// missing secret is fine). The caller's next write of the link drops its `legacy` mark.
pub async fn retire_legacy_secret(platform: &Platform, link: &Link) -> AppResult<()> {
    if link.legacy {
        platform.secrets.delete(&legacy_credentials_secret(&link.owner)).await?;
        tracing::info!(owner = %link.owner, "stackone: the credentials saved before the Hub were deleted");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_under_the_granted_prefix() {
        assert!(Link::key("org-1").0.starts_with("STACKONE#"));
        assert!(account_key("acc_1").0.starts_with("STACKONE#"));
    }

    #[test]
    fn a_link_survives_the_table_and_statuses_are_typed() {
        let mut link = Link::new("org:1", "Acme");
        link.account_id = Some("acc_1".into());
        link.status = LinkStatus::Active;
        link.event_at = 1_700_000_000_123;
        link.updated_at = 7;
        link.session_expires_at = Some(9);
        link.version = 3;
        link.versioned = true;
        assert_eq!(Link::from_item(&link.to_item()), Some(link));
        assert_eq!(LinkStatus::parse("ERROR"), LinkStatus::Error);
        assert_eq!(LinkStatus::parse("not_linked"), LinkStatus::NotLinked);
        assert_eq!(LinkStatus::parse("something new"), LinkStatus::Unknown);
    }

    #[test]
    fn a_link_written_before_the_hub_is_marked_legacy_and_loses_the_mark_when_written() {
        let (pk, sk) = Link::key("org-1");
        let old = Item::new(pk, sk)
            .with("origin_owner_id", "org-1")
            .with("status", "pending")
            .with("submission", "n1")
            .with("updated_at", 5i64);
        let link = Link::from_item(&old).unwrap();
        assert!(link.legacy && !link.versioned);
        assert_eq!(link.status, LinkStatus::Unknown);
        assert!(Link::from_item(&link.to_item()).unwrap().versioned);
        assert!(!Link::from_item(&link.to_item()).unwrap().legacy);
    }
}
