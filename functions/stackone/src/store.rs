//! Everything StackOne keeps, and where: every table key (all under `STACKONE#`, the prefix
//! `template.yaml` grants this function), the scope of its work items, the name of the
//! credentials' secret, and the link's status as a type.
//!
//! | pk | sk | what |
//! |---|---|---|
//! | `STACKONE#{origin owner}` | `LINK` | the owner's link: account id, status, latest submission; never a credential |
//! | `STACKONE#ACCOUNT#{account id}` | `ACCOUNT` | which owner a StackOne account belongs to (for StackOne's events) |
//! | `EVENT#stackone#{origin owner}#{submission}` | `EVENT` | one submission's account sync (durable work, `hirebridge::idempotency`) |
//!
//! Owner ids never contain `#` (see `link::check_owner`), so `ACCOUNT#…` is never an owner.
use hirebridge::store::Item;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::INTEGRATION;

const LINK: &str = "LINK";
const ACCOUNT: &str = "ACCOUNT";

/// Where a link stands: ours while StackOne has not taken the credentials yet (`pending`), then
/// StackOne's own account status as its events report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkStatus {
    /// The credentials are saved; StackOne's account is being created or updated (retried
    /// automatically when StackOne was unreachable).
    Pending,
    Active,
    Inactive,
    Suspended,
    Archived,
    Expired,
    Error,
    /// StackOne deleted the account.
    Deleted,
    /// hirebridge gave up creating or updating StackOne's account (see `GET /stackone/work`).
    Failed,
    /// A status StackOne sent that hirebridge does not know.
    Unknown,
}

impl LinkStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::Pending => "pending",
            LinkStatus::Active => "active",
            LinkStatus::Inactive => "inactive",
            LinkStatus::Suspended => "suspended",
            LinkStatus::Archived => "archived",
            LinkStatus::Expired => "expired",
            LinkStatus::Error => "error",
            LinkStatus::Deleted => "deleted",
            LinkStatus::Failed => "failed",
            LinkStatus::Unknown => "unknown",
        }
    }

    /// A status as StackOne or the table spells it; anything else is `Unknown`.
    pub fn parse(s: &str) -> Self {
        [
            LinkStatus::Pending,
            LinkStatus::Active,
            LinkStatus::Inactive,
            LinkStatus::Suspended,
            LinkStatus::Archived,
            LinkStatus::Expired,
            LinkStatus::Error,
            LinkStatus::Deleted,
            LinkStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str().eq_ignore_ascii_case(s.trim()))
        .unwrap_or(LinkStatus::Unknown)
    }
}

/// One origin owner's link to StackOne.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub owner: String,
    pub owner_name: String,
    /// StackOne's account, once it exists.
    pub account_id: Option<String>,
    pub status: LinkStatus,
    /// The latest submission of the Link Account page: only its work may change the account.
    pub submission: Option<String>,
    pub updated_at: i64,
}

impl Link {
    pub fn key(owner: &str) -> (String, &'static str) {
        (format!("STACKONE#{owner}"), LINK)
    }

    pub fn to_item(&self) -> Item {
        let (pk, sk) = Self::key(&self.owner);
        let mut item = Item::new(pk, sk)
            .with("origin_owner_id", self.owner.as_str())
            .with("origin_owner_name", self.owner_name.as_str())
            .with("status", self.status.as_str())
            .with("updated_at", self.updated_at);
        if let Some(account) = &self.account_id {
            item = item.with("account_id", account.as_str());
        }
        if let Some(submission) = &self.submission {
            item = item.with("submission", submission.as_str());
        }
        item
    }

    pub fn from_item(item: &Item) -> Option<Self> {
        Some(Link {
            owner: item.str("origin_owner_id")?.to_owned(),
            owner_name: item.str("origin_owner_name").unwrap_or_default().to_owned(),
            account_id: item.str("account_id").map(str::to_owned),
            status: LinkStatus::parse(item.str("status").unwrap_or_default()),
            submission: item.str("submission").map(str::to_owned),
            updated_at: item.i64("updated_at").unwrap_or(0),
        })
    }
}

/// Which owner a StackOne account belongs to.
pub fn account_key(account_id: &str) -> (String, &'static str) {
    (format!("STACKONE#ACCOUNT#{account_id}"), ACCOUNT)
}

pub fn account_item(account_id: &str, owner: &str) -> Item {
    let (pk, sk) = account_key(account_id);
    Item::new(pk, sk).with("origin_owner_id", owner)
}

/// The scope of an owner's work items (`hirebridge::keys::event` builds their key).
pub fn work_scope(owner: &str) -> String {
    format!("{INTEGRATION}#{owner}")
}

/// The operator's id of a work item, `{owner}:{submission}`, and back. Owners may contain `:`,
/// submissions never do.
pub fn work_id(owner: &str, submission: &str) -> String {
    format!("{owner}:{submission}")
}

pub fn parse_work_id(id: &str) -> Option<(&str, &str)> {
    id.rsplit_once(':').filter(|(owner, submission)| !owner.is_empty() && !submission.is_empty())
}

/// What one submission's work records: enough to redo it, never a credential (those are in
/// [`credentials_secret`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkWork {
    pub owner: String,
    pub owner_name: String,
    pub submission: String,
}

impl LinkWork {
    pub fn from_value(value: &Value) -> Option<Self> {
        serde_json::from_value(value.clone()).ok()
    }
}

/// The secret with the owner's Teamtailor credentials (SPEC §3, `tenant/...`).
pub fn credentials_secret(owner: &str) -> String {
    format!("tenant/stackone/{owner}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_under_the_granted_prefix() {
        assert!(Link::key("org-1").0.starts_with("STACKONE#"));
        assert!(account_key("acc_1").0.starts_with("STACKONE#"));
        assert!(hirebridge::keys::event(&work_scope("org-1"), "s").starts_with("EVENT#stackone#"));
    }

    #[test]
    fn a_link_survives_the_table_and_statuses_are_typed() {
        let link = Link {
            owner: "org:1".into(),
            owner_name: "Acme".into(),
            account_id: Some("acc_1".into()),
            status: LinkStatus::Active,
            submission: Some("n-1".into()),
            updated_at: 7,
        };
        assert_eq!(Link::from_item(&link.to_item()), Some(link));
        assert_eq!(LinkStatus::parse("ERROR"), LinkStatus::Error);
        assert_eq!(LinkStatus::parse("something new"), LinkStatus::Unknown);
        assert_eq!(parse_work_id(&work_id("org:1", "n-1")), Some(("org:1", "n-1")));
        assert_eq!(parse_work_id("nothing"), None);
    }
}
