//! Everything Alva keeps, in one place: its items in the table (every pk starts with `ALVA#`, the
//! prefix `template.yaml` grants `alva-activation`), their keys, and its secret's name.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | [`Company`]: an Alva company's connection to Teamtailor, its settings, its accounts' version | `ALVA#{company}` | `TEAMTAILOR` |
//! | which Alva company a partner key is connected to | `ALVA#KEY#{sha256 of the key}` | `KEY` |
//! | [`Invited`]: a candidate hirebridge invited, by Alva's candidate id | `ALVA#{company}#CANDIDATE#{alva id}` | `CANDIDATE` |
//! | one person's access to a test profile's results ([`claim_grant`]); due work (the sweep's) while it is not granted | `ALVA#{company}` | `GRANT#{profile}#{e-mail}` |
//!
//! Secret `tenant/alva/{company}/accounts/{version}` = [`Accounts`]: the company's Teamtailor
//! account keys. A change writes a new version and points the company item at it, so every
//! instance sees it on the item it reads anyway, and a cached old version is never used again.
use std::time::Duration;

use hirebridge::admin::sha256_hex;
use hirebridge::claim::{self, Claimed};
use hirebridge::error::AppResult;
use hirebridge::platform::Platform;
use hirebridge::secrets::Secrets;
use hirebridge::store::{Cond, Item, ItemStore, PutOutcome, StoreError, DUE_AT, DUE_QUEUE, EXPIRES_AT};
use hirebridge::AppError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const COMPANY_SK: &str = "TEAMTAILOR";
const KEY_SK: &str = "KEY";
const CANDIDATE_SK: &str = "CANDIDATE";
/// How long the mapping of an invited candidate is kept for Alva's result (a year).
const INVITED_RETENTION_SECS: i64 = 365 * 24 * 3600;

/// Alva company ids become parts of keys, secret names and headers: 1–64 letters, digits, `-`
/// and `_` (never `#`, so that a company's keys cannot reach another's).
pub fn check_company_id(company: &str) -> AppResult<()> {
    let ok = !company.is_empty()
        && company.len() <= 64
        && company.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then_some(())
        .ok_or_else(|| AppError::bad_request("the Alva company id must be 1–64 letters, digits, '-' or '_'"))
}

fn company_pk(company: &str) -> String {
    format!("ALVA#{company}")
}

fn key_pk(partner_key: &str) -> String {
    format!("ALVA#KEY#{}", sha256_hex(partner_key))
}

fn invited_pk(company: &str, alva_candidate: &str) -> String {
    format!("ALVA#{company}#CANDIDATE#{alva_candidate}")
}

fn grant_sk(profile: &str, email: &str) -> String {
    format!("GRANT#{profile}#{email}")
}

/// An Alva company's connection to a Teamtailor company (as the admin API shows it).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Connection {
    pub alva_company_id: String,
    pub company_uuid: String,
    pub company_name: String,
    #[serde(default)]
    pub sync_hiring_team: bool,
    /// The Teamtailor stack the company's activation was found on (`None`: connected before
    /// stacks were told apart); its account keys are checked there only.
    #[serde(default)]
    pub stack: Option<hirebridge::teamtailor::Stack>,
}

/// `ALVA#{company}`/`TEAMTAILOR`: what the trigger reads first, so it also carries the version
/// of the company's accounts.
#[derive(Clone, Debug)]
pub struct Company {
    pub connection: Connection,
    /// The partner key's binding (its pk) this company is connected with; a binding left from
    /// an earlier key does not authenticate.
    key: String,
    /// The version of the accounts secret; `None` on items from before versions (whose secret
    /// is `tenant/alva/{company}`).
    accounts_version: Option<String>,
}

impl Company {
    /// A company connected with `partner_key`, keeping `before`'s accounts and settings.
    pub fn connected(connection: Connection, partner_key: &str, before: Option<&Company>) -> Self {
        let accounts_version = match before {
            Some(b) => b.accounts_version.clone(),
            None => Some(new_version()),
        };
        Company { connection, key: key_pk(partner_key), accounts_version }
    }

    pub fn id(&self) -> &str {
        &self.connection.alva_company_id
    }

    /// Whether `partner_key` is the key this company is connected with now.
    pub fn uses_key(&self, partner_key: &str) -> bool {
        self.key == key_pk(partner_key)
    }

    /// The name of the secret that holds this company's accounts now.
    pub fn accounts_secret(&self) -> String {
        match &self.accounts_version {
            Some(version) => format!("tenant/alva/{}/accounts/{version}", self.id()),
            None => format!("tenant/alva/{}", self.id()),
        }
    }

    fn from_item(item: &Item) -> AppResult<Self> {
        let connection = serde_json::from_value(item.attrs.get("connection").cloned().unwrap_or_default())
            .map_err(AppError::internal)?;
        Ok(Company {
            connection,
            key: item.str("key").unwrap_or_default().to_owned(),
            accounts_version: item.str("accounts_version").map(str::to_owned),
        })
    }

    fn to_item(&self) -> AppResult<Item> {
        let connection = serde_json::to_value(&self.connection).map_err(AppError::internal)?;
        let mut item = Item::new(company_pk(self.id()), COMPANY_SK)
            .with("connection", connection)
            .with("key", self.key.clone());
        if let Some(version) = &self.accounts_version {
            item = item.with("accounts_version", version.clone());
        }
        Ok(item)
    }

    /// The stored item is still this one (as far as accounts and the key go).
    fn unchanged(&self) -> Cond {
        match &self.accounts_version {
            Some(version) => Cond::Eq("accounts_version", json!(version)),
            None => Cond::Eq("key", json!(self.key)),
        }
    }
}

fn new_version() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
}

pub async fn company(store: &dyn ItemStore, company: &str) -> AppResult<Option<Company>> {
    store.get(&company_pk(company), COMPANY_SK).await?.as_ref().map(Company::from_item).transpose()
}

/// Writes `new` if the stored item is still `read` (`None`: there was none); `false` when another
/// request changed it meanwhile.
pub async fn save_company(store: &dyn ItemStore, new: &Company, read: Option<&Company>) -> AppResult<bool> {
    let cond = read.map_or(Cond::NotExists, Company::unchanged);
    Ok(store.put(new.to_item()?, Some(cond)).await? == PutOutcome::Written)
}

/// Binds `partner_key` to `company` unless it is bound to another company (`false`).
pub async fn bind_key(store: &dyn ItemStore, partner_key: &str, c: &Connection) -> AppResult<bool> {
    let item = Item::new(key_pk(partner_key), KEY_SK)
        .with("alva_company_id", c.alva_company_id.clone())
        .with("company_uuid", c.company_uuid.clone())
        .with("company_name", c.company_name.clone());
    let free = Cond::Or(vec![Cond::NotExists, Cond::Eq("alva_company_id", json!(c.alva_company_id))]);
    Ok(store.put(item, Some(free)).await? == PutOutcome::Written)
}

/// Frees the partner key `company` was connected with before, for another company to use.
/// Company items written before the binding was recorded name none: there is nothing to free (and
/// DynamoDB refuses an empty key).
pub async fn unbind_key(store: &dyn ItemStore, company: &Company) -> AppResult<()> {
    if company.key.is_empty() {
        return Ok(());
    }
    Ok(store.delete(&company.key, KEY_SK).await?)
}

/// The Alva company `partner_key` is connected to.
pub async fn company_of_key(store: &dyn ItemStore, partner_key: &str) -> AppResult<Option<String>> {
    let binding = store.get(&key_pk(partner_key), KEY_SK).await?;
    Ok(binding.and_then(|b| b.str("alva_company_id").map(str::to_owned)))
}

/// The secret's value: a company's Teamtailor accounts.
#[derive(Serialize, Deserialize, Default)]
pub struct Accounts {
    #[serde(default)]
    pub accounts: Vec<Account>,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct Account {
    pub id: String,
    pub api_key: String,
    #[serde(default)]
    pub teamtailor_host: Option<String>,
    pub added_at: i64,
}

/// The accounts of `company`'s current version (a cached copy only if it is that version).
pub async fn accounts(secrets: &Secrets, company: &Company) -> AppResult<Accounts> {
    Ok(secrets.get_json(&company.accounts_secret()).await?.unwrap_or_default())
}

/// Replaces `company`'s accounts: writes them as a new version, then points the company item at
/// it if nobody changed the item meanwhile (else `409`), then deletes the old version.
pub async fn replace_accounts(platform: &Platform, company: &Company, accounts: &Accounts) -> AppResult<()> {
    let next = Company { accounts_version: Some(new_version()), ..company.clone() };
    let value = serde_json::to_value(accounts).map_err(AppError::internal)?;
    platform.secrets.put_json(&next.accounts_secret(), &value).await?;
    if !save_company(platform.store.as_ref(), &next, Some(company)).await? {
        let _ = platform.secrets.delete(&next.accounts_secret()).await;
        return Err(AppError::conflict(
            "the company's accounts were changed by another request at the same time; try again",
        ));
    }
    if let Err(e) = platform.secrets.delete(&company.accounts_secret()).await {
        // Nothing points at it any more; it only waits to be cleaned up.
        tracing::warn!(error = %e, "an earlier version of an Alva company's accounts was not deleted");
    }
    Ok(())
}

/// `ALVA#{company}#CANDIDATE#{alva id}`: where Alva's result for a candidate lands.
#[derive(Debug, Serialize, Deserialize)]
pub struct Invited {
    pub alva_company_id: String,
    pub update_url: String,
    /// Teamtailor's candidate id.
    pub candidate_id: String,
}

/// The item saying whom Alva candidate `alva_candidate` is (recorded with the trigger's outcome).
pub fn invited_item(alva_candidate: &str, invited: &Invited, now: i64) -> AppResult<Item> {
    let mut item = Item::new(invited_pk(&invited.alva_company_id, alva_candidate), CANDIDATE_SK);
    if let Value::Object(attrs) = serde_json::to_value(invited).map_err(AppError::internal)? {
        item.attrs.extend(attrs);
    }
    Ok(item.with(EXPIRES_AT, now + INVITED_RETENTION_SECS))
}

/// The candidate of `company` whose Alva id is `alva_candidate`, when hirebridge invited them.
pub async fn invited(
    store: &dyn ItemStore,
    company: &str,
    alva_candidate: &str,
) -> AppResult<Option<Invited>> {
    let Some(item) = store.get(&invited_pk(company, alva_candidate), CANDIDATE_SK).await? else {
        return Ok(None);
    };
    let invited: Invited = serde_json::from_value(Value::Object(item.attrs)).map_err(AppError::internal)?;
    Ok(Some(invited))
}

/// Where one person's access to one test profile's results is claimed.
pub struct Grant<'a> {
    pub company: &'a str,
    pub profile: &'a str,
    /// Lower-cased.
    pub email: &'a str,
    /// The person's name, for Alva's invitation when Alva does not know them.
    pub name: &'a str,
}

/// How long an unfinished grant is kept as due work (then it is left to the next trigger).
const GRANT_RETENTION_SECS: i64 = 30 * 24 * 3600;

impl Grant<'_> {
    fn item(&self) -> Item {
        Item::new(company_pk(self.company), grant_sk(self.profile, self.email))
    }

    /// The item with what a retry needs to grant it again.
    fn described(&self, attempts: i64) -> Item {
        self.item()
            .with("company", self.company)
            .with("profile", self.profile)
            .with("email", self.email)
            .with("name", self.name)
            .with("attempts", attempts)
    }

    /// Claimed until `lease_until` (ms), and due when that lease ends: a run that ends before it
    /// finished leaves the grant to the sweep.
    fn claimed(&self, attempts: i64, lease_until: i64, now: i64) -> Item {
        self.described(attempts)
            .with("state", "claimed")
            .with("lease_until", lease_until)
            .with(DUE_QUEUE, hirebridge::keys::due_queue(crate::INTEGRATION))
            .with(DUE_AT, lease_until / 1000 + 1)
            .with(EXPIRES_AT, now / 1000 + GRANT_RETENTION_SECS)
    }
}

/// Proof that one attempt at a grant is ours.
#[derive(Debug, PartialEq, Eq)]
pub struct GrantLease {
    /// This attempt's number (a trigger starts again at 1; the sweep's re-runs count up).
    pub attempt: i64,
    lease_until: i64,
}

/// How a claim of one person's access went.
#[derive(Debug, PartialEq, Eq)]
pub enum GrantClaim {
    /// Ours to grant: [`grant_done`] or [`grant_failed`] when finished.
    Ours(GrantLease),
    /// Granted before.
    Granted,
    /// Another trigger (or the sweep) is granting it right now.
    Granting,
}

/// Claims `grant` for `lease` (a trigger): when nobody claimed it yet, an earlier attempt failed
/// or was given up, or its holder's lease ended.
pub async fn claim_grant(
    platform: &Platform,
    grant: &Grant<'_>,
    lease: Duration,
) -> Result<GrantClaim, StoreError> {
    let now = platform.clock.now_ms();
    let lease_until = now + lease.as_millis() as i64;
    let free = Cond::Or(vec![
        Cond::NotExists,
        Cond::And(vec![Cond::Eq("state", json!("claimed")), Cond::Lt("lease_until", now)]),
        Cond::Eq("state", json!("failed")),
        Cond::Eq("state", json!("given_up")),
    ]);
    let item = grant.claimed(1, lease_until, now);
    Ok(match claim::put_or_current(platform.store.as_ref(), item, free).await? {
        Claimed::Won => GrantClaim::Ours(GrantLease { attempt: 1, lease_until }),
        Claimed::Held(Some(current)) if claim::is_done(&current) => GrantClaim::Granted,
        Claimed::Held(_) => GrantClaim::Granting,
    })
}

/// A grant that is due: it failed and its delay is over, or its holder's run ended before it
/// finished.
#[derive(Clone, Debug)]
pub struct DueGrant {
    pub company: String,
    pub profile: String,
    pub email: String,
    pub name: String,
    pub attempts: i64,
    state: String,
    lease_until: i64,
}

impl DueGrant {
    fn from_item(item: &Item) -> Option<Self> {
        if !item.pk.starts_with("ALVA#") || !item.sk.starts_with("GRANT#") {
            return None;
        }
        let text = |name: &str| item.str(name).map(str::to_owned);
        let state = text("state").filter(|s| s == "failed" || s == "claimed")?;
        Some(DueGrant {
            company: text("company")?,
            profile: text("profile")?,
            email: text("email")?,
            name: text("name").unwrap_or_default(),
            attempts: item.i64("attempts").unwrap_or(1).clamp(0, 1000),
            state,
            lease_until: item.i64("lease_until").unwrap_or(0),
        })
    }

    pub fn grant(&self) -> Grant<'_> {
        Grant { company: &self.company, profile: &self.profile, email: &self.email, name: &self.name }
    }
}

/// Alva's grants that are due now, earliest first, at most `limit` (from the sparse index only;
/// Alva's other due work in the same queue is left out).
pub async fn due_grants(platform: &Platform, limit: usize) -> Result<Vec<DueGrant>, StoreError> {
    let queue = hirebridge::keys::due_queue(crate::INTEGRATION);
    let items = platform.store.query_due(&queue, platform.now_secs(), limit).await?;
    Ok(items.iter().filter_map(DueGrant::from_item).collect())
}

/// Claims a due grant again (the sweep), only if it is still as it was read, so that two runs
/// never grant it at once.
pub async fn claim_due_grant(
    platform: &Platform,
    due: &DueGrant,
    lease: Duration,
) -> Result<Option<GrantLease>, StoreError> {
    let now = platform.clock.now_ms();
    let lease_until = now + lease.as_millis() as i64;
    let attempt = due.attempts + 1;
    let mut same = vec![Cond::Eq("state", json!(due.state)), Cond::Eq("attempts", json!(due.attempts))];
    if due.state == "claimed" {
        same.push(Cond::Eq("lease_until", json!(due.lease_until)));
        same.push(Cond::Lt("lease_until", now));
    }
    let item = due.grant().claimed(attempt, lease_until, now);
    Ok(match claim::put_or_current(platform.store.as_ref(), item, Cond::And(same)).await? {
        Claimed::Won => Some(GrantLease { attempt, lease_until }),
        Claimed::Held(_) => None,
    })
}

/// Holds while `lease` still holds the grant.
fn still_ours(lease: &GrantLease) -> Cond {
    Cond::And(vec![Cond::Eq("state", json!("claimed")), Cond::Eq("lease_until", json!(lease.lease_until))])
}

pub async fn grant_done(store: &dyn ItemStore, grant: &Grant<'_>, alva_user: &str) -> Result<(), StoreError> {
    claim::done(store, grant.item().with("alva_user_id", alva_user)).await
}

/// Records that a grant was not made (`why`, in fixed words): due again after the retry
/// schedule's delay for its attempt (`retry`: a passing failure), else given up (logged as
/// `work_given_up`; a later trigger for the job asks again). Answers whether it is due again.
pub async fn grant_failed(
    platform: &Platform,
    grant: &Grant<'_>,
    lease: &GrantLease,
    why: &str,
    retry: bool,
) -> Result<bool, StoreError> {
    let now = platform.now_secs();
    let delay = platform.config.retry_schedule.get((lease.attempt.max(1) - 1) as usize).filter(|_| retry);
    let item = grant.described(lease.attempt).with("error", why).with(EXPIRES_AT, now + GRANT_RETENTION_SECS);
    let item = match delay {
        Some(delay) => item
            .with("state", "failed")
            .with(DUE_QUEUE, hirebridge::keys::due_queue(crate::INTEGRATION))
            .with(DUE_AT, now + *delay as i64),
        None => {
            tracing::error!(
                event = "work_given_up",
                integration = crate::INTEGRATION,
                company = grant.company,
                profile = grant.profile,
                attempts = lease.attempt,
                error = why,
                "hiring-team access given up"
            );
            item.with("state", "given_up")
        }
    };
    match platform.store.put(item, Some(still_ours(lease))).await? {
        PutOutcome::Written => Ok(delay.is_some()),
        PutOutcome::Rejected(_) => {
            tracing::warn!(
                company = grant.company,
                "a grant's claim was taken over before its failure was recorded"
            );
            Ok(false)
        }
    }
}

/// Forgets a grant nobody wants any more (the company disconnected, or hiring-team sync off).
pub async fn grant_dropped(platform: &Platform, grant: &Grant<'_>) -> Result<(), StoreError> {
    let item = grant.item();
    platform.store.delete(&item.pk, &item.sk).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_starts_with_the_granted_prefix_and_company_ids_cannot_reach_anothers() {
        for pk in [company_pk("acme"), key_pk("k"), invited_pk("acme", "ac-1")] {
            assert!(pk.starts_with("ALVA#"), "{pk}");
        }
        for bad in ["", "a#b", "a/b", "a b", &"x".repeat(65)] {
            assert_eq!(check_company_id(bad).unwrap_err().status, 400, "{bad:?}");
        }
        check_company_id("acme-Alva_1").unwrap();
    }

    #[test]
    fn a_new_accounts_version_names_a_new_secret_under_the_company() {
        let connection = Connection {
            alva_company_id: "acme".into(),
            company_uuid: "u".into(),
            company_name: "Acme".into(),
            sync_hiring_team: false,
            stack: None,
        };
        let first = Company::connected(connection, "key", None);
        let second = Company { accounts_version: Some(new_version()), ..first.clone() };
        assert!(first.accounts_secret().starts_with("tenant/alva/acme/accounts/"));
        assert_ne!(first.accounts_secret(), second.accounts_secret());
        let legacy = Company { accounts_version: None, ..first };
        assert_eq!(legacy.accounts_secret(), "tenant/alva/acme");
    }

    /// A store that refuses an empty key, as DynamoDB does.
    struct RefusesEmptyKeys(hirebridge::store::MemoryStore);

    #[async_trait::async_trait]
    impl ItemStore for RefusesEmptyKeys {
        async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, hirebridge::store::StoreError> {
            self.0.get(pk, sk).await
        }
        async fn put(&self, i: Item, c: Option<Cond>) -> Result<PutOutcome, hirebridge::store::StoreError> {
            self.0.put(i, c).await
        }
        async fn put_all(
            &self,
            puts: Vec<(Item, Option<Cond>)>,
        ) -> Result<hirebridge::store::AllOutcome, hirebridge::store::StoreError> {
            self.0.put_all(puts).await
        }
        async fn delete(&self, pk: &str, sk: &str) -> Result<(), hirebridge::store::StoreError> {
            if pk.is_empty() {
                return Err(hirebridge::store::StoreError("a key attribute cannot be empty".into()));
            }
            self.0.delete(pk, sk).await
        }
        async fn query(&self, pk: &str, p: &str) -> Result<Vec<Item>, hirebridge::store::StoreError> {
            self.0.query(pk, p).await
        }
        async fn query_due(
            &self,
            q: &str,
            b: i64,
            l: usize,
        ) -> Result<Vec<Item>, hirebridge::store::StoreError> {
            self.0.query_due(q, b, l).await
        }
    }

    #[tokio::test]
    async fn a_company_written_before_key_bindings_frees_nothing_and_does_not_fail() {
        let legacy = Item::new(company_pk("acme"), COMPANY_SK).with(
            "connection",
            json!({"alva_company_id": "acme", "company_uuid": "u", "company_name": "Acme"}),
        );
        let company = Company::from_item(&legacy).unwrap();
        let store = RefusesEmptyKeys(hirebridge::store::MemoryStore::new());
        unbind_key(&store, &company).await.expect("nothing to free");
    }
}
