//! Everything Spark Hire keeps, in one place: its table items (every pk starts with `SPARKHIRE#`,
//! the prefix `template.yaml` grants this function), their keys and states, and the names of its
//! secrets. No credential is ever in an item: a recruiter's key and a company's events credential
//! are in Secrets Manager; the table says which version of a key is current.
use hirebridge::store::{Item, EXPIRES_AT};

const PREFIX: &str = "SPARKHIRE#";
/// How long per-trigger and per-interview items are kept (DynamoDB TTL).
const KEEP_SECS: i64 = 400 * 24 * 3600;

/// A recruiter of a Teamtailor company: whose key sends a trigger's interview (the pipeline's
/// tenant). Its id is `{company}.{user}` (a user id has no `.`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recruiter {
    pub company: String,
    pub user: String,
}

impl Recruiter {
    pub fn id(&self) -> String {
        format!("{}.{}", self.company, self.user)
    }

    pub fn parse(id: &str) -> Option<Recruiter> {
        let (company, user) = id.rsplit_once('.')?;
        (!company.is_empty() && !user.is_empty())
            .then(|| Recruiter { company: company.to_owned(), user: user.to_owned() })
    }
}

/// A recruiter's connected Spark Hire key as the table knows it: `SPARKHIRE#USER#{user}` /
/// `COMPANY#{company}`. Read on every use, so that a disconnect or a new key takes effect on
/// every instance at once; the key itself is the secret [`key_secret`] of `version`.
#[derive(Clone, Debug)]
pub struct KeyRecord {
    pub recruiter: Recruiter,
    pub version: String,
    /// The Spark Hire user's name (or e-mail), shown in the trigger form.
    pub name: String,
    /// Whether hirebridge's events webhook is registered in this recruiter's Spark Hire account.
    pub webhook: bool,
}

pub fn key_pk(user: &str) -> String {
    format!("{PREFIX}USER#{user}")
}

pub fn key_sk(company: &str) -> String {
    format!("{COMPANY_SK}{company}")
}

/// The sort-key prefix of a user's keys (one per company).
pub const COMPANY_SK: &str = "COMPANY#";

impl KeyRecord {
    pub fn item(&self) -> Item {
        Item::new(key_pk(&self.recruiter.user), key_sk(&self.recruiter.company))
            .with("version", self.version.clone())
            .with("name", self.name.clone())
            .with("webhook", self.webhook)
    }

    pub fn from_item(item: &Item) -> Option<KeyRecord> {
        let user = item.pk.strip_prefix(&key_pk(""))?;
        let company = item.sk.strip_prefix(COMPANY_SK)?;
        Some(KeyRecord {
            recruiter: Recruiter { company: company.to_owned(), user: user.to_owned() },
            version: item.str("version")?.to_owned(),
            name: item.str("name").unwrap_or_default().to_owned(),
            webhook: item.bool("webhook").unwrap_or(false),
        })
    }
}

/// The secret of one version of a recruiter's key: `{"api_key"}`. A version never changes, so
/// it may be cached for good; a new key is a new version.
pub fn key_secret(r: &Recruiter, version: &str) -> String {
    format!("tenant/sparkhire/{}/users/{}/{version}", r.company, r.user)
}

/// Where keys were kept before they were per company: `{"api_key","name","email","company_uuid"}`.
/// Moved to the company's key on first use, and only by the company it names.
pub fn legacy_key_secret(user: &str) -> String {
    format!("tenant/sparkhire/users/{user}")
}

/// The company's credentials for Spark Hire's events (`{"username","password"}`), random,
/// registered with every Spark Hire webhook of its recruiters.
pub fn events_secret(company: &str) -> String {
    format!("tenant/sparkhire/{company}/events")
}

/// The claim of making the company's events credentials, once.
pub fn events_claim(company: &str) -> Item {
    Item::new(format!("{PREFIX}COMPANY#{company}"), "EVENTS")
}

/// The claim of making a recruiter's Spark Hire job of a Teamtailor job, once (done: with its
/// `uuid`). Per recruiter: a Spark Hire key sees only its own user's jobs.
pub fn job_claim(r: &Recruiter, teamtailor_job: &str) -> Item {
    Item::new(format!("{PREFIX}JOB#{}#{teamtailor_job}", r.id()), "JOB")
}

/// On a job claim: a `POST /jobs` may have reached Spark Hire without an answer, so the next
/// claimant looks the job up by its title before creating it.
pub const MAYBE_CREATED: &str = "maybe_created";
/// On a job claim that is done: the Spark Hire job's uuid.
pub const JOB_UUID: &str = "uuid";

/// Which card an interview's events land on: `SPARKHIRE#INTERVIEW#{uuid}` / `CARD`.
#[derive(Clone, Debug)]
pub struct InterviewCard {
    pub uuid: String,
    pub company: String,
    pub update_url: String,
}

pub fn interview_pk(uuid: &str) -> String {
    format!("{PREFIX}INTERVIEW#{uuid}")
}

pub const INTERVIEW_SK: &str = "CARD";

impl InterviewCard {
    pub fn item(&self, now_secs: i64) -> Item {
        Item::new(interview_pk(&self.uuid), INTERVIEW_SK)
            .with("company", self.company.clone())
            .with("update_url", self.update_url.clone())
            .with(EXPIRES_AT, now_secs + KEEP_SECS)
    }

    pub fn from_item(uuid: &str, item: &Item) -> Option<InterviewCard> {
        Some(InterviewCard {
            uuid: uuid.to_owned(),
            company: item.str("company")?.to_owned(),
            update_url: item.str("update_url")?.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_the_granted_prefix_and_round_trips() {
        let r = Recruiter { company: "company-1".into(), user: "31".into() };
        assert_eq!(Recruiter::parse(&r.id()), Some(r.clone()));
        assert_eq!(Recruiter::parse("nouser."), None);
        let record =
            KeyRecord { recruiter: r.clone(), version: "v1".into(), name: "Rita".into(), webhook: true };
        let back = KeyRecord::from_item(&record.item()).unwrap();
        assert_eq!((back.recruiter, back.version, back.webhook), (r.clone(), "v1".into(), true));
        let card = InterviewCard { uuid: "shi-1".into(), company: "c".into(), update_url: "u".into() };
        let items = [record.item(), events_claim("c"), job_claim(&r, "9"), card.item(0)];
        assert!(items.iter().all(|i| i.pk.starts_with(PREFIX)), "{items:?}");
        assert!(key_secret(&r, "v1").starts_with("tenant/sparkhire/company-1/users/31/"));
    }
}
