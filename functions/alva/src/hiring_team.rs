//! Hiring-team sync: the job's recruiter and team members (read from Teamtailor with the
//! company's account key) get access to the test profile's results in Alva; those without an Alva
//! account are invited first. Each person is granted once per profile, however often triggers
//! fire (a claim per person, [`store::claim_grant`]). Access Alva did not confirm is due work of
//! its own: the scheduled [`sweep`] grants it again after the retry schedule's delays.
use std::collections::BTreeMap;
use std::time::Duration;

use hirebridge::error::AppResult;
use hirebridge::outbound::{self, OutboundError};
use hirebridge::teamtailor::public_api::{PublicApi, Resource};
use hirebridge::teamtailor::Stack;
use hirebridge::SecretString;
use http::StatusCode;
use serde::Serialize;

use crate::store::{self, Company, Grant, GrantClaim, GrantLease};
use crate::trigger::Work;
use crate::{Deps, VendorSecret};

/// What a grant claim outlives its invocation by.
const GRANT_GRACE: Duration = Duration::from_secs(5);

/// Syncs the job's hiring team; answers a sentence for the card (fixed words, never a service's
/// own error text).
pub async fn sync(deps: &Deps, vendor: &VendorSecret, company: &Company, work: &Work) -> String {
    let Some(job_id) = work.job_id.as_deref() else {
        return "Hiring team not synced: the trigger ran without a job.".into();
    };
    let people = match team(deps, company, job_id, work.teamtailor_host.as_deref()).await {
        Ok(people) => people,
        Err(why) => return format!("Hiring team not synced: {why}."),
    };
    let (mut granted, mut invited, mut missed) = (0, 0, Vec::new());
    for (email, name) in &people {
        let grant_of = Grant { company: company.id(), profile: &work.test_profile, email, name };
        match grant(deps, vendor, &grant_of).await {
            Ok(Granted::Now { invited: i }) => {
                granted += 1;
                invited += usize::from(i);
            }
            Ok(Granted::Before) => {}
            Err(e) => {
                tracing::warn!(error = %e, "a hiring team member was not granted access in alva");
                missed.push(email.as_str());
            }
        }
    }
    let mut text = format!(
        "Hiring team: {} member(s), {granted} newly granted access ({invited} invited to Alva).",
        people.len()
    );
    if !missed.is_empty() {
        text.push_str(&format!(
            " Not granted yet, Alva did not answer: {}; hirebridge tries again automatically.",
            missed.join(", ")
        ));
    }
    text
}

/// Why the team could not be read, in words the recruiter can act on.
fn unread(e: &OutboundError) -> &'static str {
    match e.status() {
        Some(StatusCode::UNAUTHORIZED) => {
            "Teamtailor refused the account's API key; add a current Read Write Admin key in Alva"
        }
        Some(StatusCode::FORBIDDEN) => {
            "the account's API key needs Admin scope; add a Read Write Admin key in Alva"
        }
        Some(StatusCode::NOT_FOUND) => "the job was not found in Teamtailor",
        _ => "Teamtailor could not be read; the next trigger for this job tries again",
    }
}

/// The job's recruiter and team members as e-mail (lower-cased) → name, read with the company's
/// first account key on its stack (as of the company item just read: a removed key is never used).
async fn team(
    deps: &Deps,
    company: &Company,
    job_id: &str,
    host: Option<&str>,
) -> Result<BTreeMap<String, String>, &'static str> {
    if job_id.is_empty() || !job_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("the job id is not valid");
    }
    let platform = &deps.platform;
    let accounts = store::accounts(&platform.secrets, company)
        .await
        .map_err(|_| "the Teamtailor accounts could not be read")?;
    // A key is sent only to its own stack: the company's (the trigger's) stack.
    let config = &platform.config;
    let stack = Stack::of_company(config, None, host);
    let account = accounts
        .accounts
        .into_iter()
        .find(|a| Stack::of_company(config, None, a.teamtailor_host.as_deref()) == stack)
        .ok_or(
            "no Teamtailor account of this company's Teamtailor stack has been added in Alva (Add account)",
        )?;
    let base = config.teamtailor_base(stack);
    let token = SecretString::new(account.api_key);
    let api = PublicApi::new(&platform.http, base, &platform.config.teamtailor_api_version, &token);
    let mut people = BTreeMap::new();
    let mut add = |user: &Resource| {
        if let Some(email) = user.attr_str("email").filter(|e| hirebridge::web::valid_email(e)) {
            people.insert(email.to_ascii_lowercase(), user.attr_str("name").unwrap_or(email).to_owned());
        }
    };
    let job = api.get(&format!("/v1/jobs/{job_id}?include=user")).await.map_err(|e| unread(&e))?;
    let recruiter = job.resource().ok().and_then(|j| j.related_id("user").map(str::to_owned));
    if let Some(user) = recruiter.and_then(|id| job.included_of("users", &id)) {
        add(user);
    }
    let (members, included) = api
        .get_all_with_included(&format!("/v1/jobs/{job_id}/team-memberships?include=user"))
        .await
        .map_err(|e| unread(&e))?;
    for member in &members {
        let user = member
            .related_id("user")
            .and_then(|id| included.iter().find(|u| u.kind == "users" && u.id == id));
        if let Some(user) = user {
            add(user);
        }
    }
    Ok(people)
}

enum Granted {
    Now { invited: bool },
    Before,
}

/// How long a grant is ours: to the invocation's deadline, and a little more.
fn lease() -> Duration {
    outbound::time_left().unwrap_or(Duration::from_secs(60)) + GRANT_GRACE
}

/// One person's access, claimed first so that concurrent triggers grant once. An invitation is
/// not sent twice: a retry finds the person Alva already knows. Access Alva did not confirm is
/// left due for the sweep.
async fn grant(deps: &Deps, vendor: &VendorSecret, access: &Grant<'_>) -> Result<Granted, String> {
    let platform = &deps.platform;
    let lease = match store::claim_grant(platform, access, lease()).await.map_err(|e| e.to_string())? {
        GrantClaim::Ours(lease) => lease,
        GrantClaim::Granted | GrantClaim::Granting => return Ok(Granted::Before),
    };
    attempt(deps, vendor, access, &lease).await.map(|invited| Granted::Now { invited })
}

/// One attempt at a claimed grant; answers whether the person was invited to Alva first. On
/// failure the grant is recorded as due again (or given up) and the error is answered.
async fn attempt(
    deps: &Deps,
    vendor: &VendorSecret,
    access: &Grant<'_>,
    lease: &GrantLease,
) -> Result<bool, String> {
    let platform = &deps.platform;
    let (key, company) = (&vendor.api_key, access.company);
    let granted = async {
        let (user, invited) = match deps.alva.find_user(key, company, access.email).await? {
            Some(id) => (id, false),
            None => (deps.alva.invite_user(key, company, access.email, access.name).await?, true),
        };
        deps.alva.grant(key, company, access.profile, &user).await?;
        Ok::<_, OutboundError>((user, invited))
    }
    .await;
    match granted {
        Ok((user, invited)) => {
            store::grant_done(platform.store.as_ref(), access, &user).await.map_err(|e| e.to_string())?;
            Ok(invited)
        }
        Err(e) => {
            let why = not_granted(&e);
            // A refusal for good is given up at once; anything else is retried on the schedule.
            let retry = e.is_transient() || e.maybe_performed();
            if let Err(store_error) = store::grant_failed(platform, access, lease, why, retry).await {
                // The claim stays and is due when its lease ends: the sweep tries again.
                tracing::warn!(error = %store_error, "a failed grant was not recorded");
            }
            Err(e.to_string())
        }
    }
}

/// Why Alva did not grant access, in fixed words (never Alva's text).
fn not_granted(e: &OutboundError) -> &'static str {
    match e.status() {
        Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => "Alva refused hirebridge's API key",
        Some(s) if s.is_client_error() && !e.is_transient() => "Alva refused the grant or the invitation",
        _ => "Alva did not answer",
    }
}

/// What one scheduled run did with due hiring-team access.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct GrantReport {
    /// Due grants read from the index.
    pub due: usize,
    pub granted: usize,
    /// Failed again (due later, or given up).
    pub failed: usize,
    /// No longer wanted: the company disconnected, or switched hiring-team sync off.
    pub dropped: usize,
    pub errors: usize,
}

/// How many due grants one scheduled run takes.
const SWEEP_LIMIT: usize = 50;

/// The scheduled run's part for hiring-team access: every due grant (failed, its delay over; or
/// claimed by a run that ended) is granted again, once, while its company still wants it.
pub async fn sweep(deps: &Deps) -> AppResult<GrantReport> {
    let platform = &deps.platform;
    let due = store::due_grants(platform, SWEEP_LIMIT).await?;
    let mut report = GrantReport { due: due.len(), ..GrantReport::default() };
    if due.is_empty() {
        return Ok(report);
    }
    let vendor = crate::trigger::vendor(deps).await?;
    for item in &due {
        let access = item.grant();
        let wanted = match store::company(platform.store.as_ref(), &item.company).await {
            Ok(company) => company.is_some_and(|c| c.connection.sync_hiring_team),
            Err(e) => {
                tracing::warn!(error = %e.detail, "a due grant's company was not read");
                report.errors += 1;
                continue;
            }
        };
        if !wanted {
            match store::grant_dropped(platform, &access).await {
                Ok(()) => report.dropped += 1,
                Err(_) => report.errors += 1,
            }
            continue;
        }
        let lease = match store::claim_due_grant(platform, item, lease()).await {
            Ok(Some(lease)) => lease,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "a due grant was not claimed");
                report.errors += 1;
                continue;
            }
        };
        match attempt(deps, &vendor, &access, &lease).await {
            Ok(_) => report.granted += 1,
            Err(e) => {
                tracing::warn!(error = %e, attempt = lease.attempt, "a hiring team member was not granted access in alva");
                report.failed += 1;
            }
        }
    }
    tracing::info!(
        due = report.due,
        granted = report.granted,
        failed = report.failed,
        dropped = report.dropped,
        errors = report.errors,
        "alva grants swept"
    );
    Ok(report)
}
