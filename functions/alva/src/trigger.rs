//! What Teamtailor calls: the trigger form and the trigger webhook, which invites the candidate
//! to an Alva test profile and, with hiring-team sync on, grants the job's team access.
use std::collections::BTreeMap;

use hirebridge::error::AppResult;
use hirebridge::idempotency::Claim;
use hirebridge::platform::Listing;
use hirebridge::store::{Cond, Item, PutOutcome};
use hirebridge::teamtailor::api_base;
use hirebridge::teamtailor::forms::{Field, Form};
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::teamtailor::public_api::PublicApi;
use hirebridge::teamtailor::webhook::Webhook;
use hirebridge::web::{self, Request, Response};
use hirebridge::AppError;
use http::StatusCode;
use serde_json::{json, Value};

use crate::alva::NewCandidate;
use crate::companies::{self, key_pk, Connection};
use crate::{Deps, VendorSecret, INTEGRATION, VENDOR_SECRET};

const NOT_CONNECTED: &str = "This Teamtailor account is not connected to Alva yet. In Alva, open Settings → Integrations → Add integration → Teamtailor and paste the Partner Key.";

/// The provider key is Teamtailor's UUID: it must be one of the listing's activations and be
/// connected to an Alva company.
async fn authenticate(deps: &Deps, req: &Request) -> AppResult<(Listing, Connection)> {
    let platform = &deps.platform;
    let auth = deps.activations.authenticate(platform, INTEGRATION, req).await?;
    let (listing, key) = (auth.listing, auth.key);
    let binding = platform
        .store
        .get(&key_pk(&key.to_string()), "KEY")
        .await?
        .ok_or_else(|| AppError::forbidden(NOT_CONNECTED))?;
    let company = binding.str("alva_company_id").unwrap_or_default().to_owned();
    let connection =
        companies::connection(deps, &company).await?.ok_or_else(|| AppError::forbidden(NOT_CONNECTED))?;
    Ok((listing, connection))
}

async fn vendor(deps: &Deps) -> AppResult<VendorSecret> {
    Ok(deps.platform.secrets.require_json(VENDOR_SECRET).await?)
}

/// `GET /alva/config`: the test profile to send.
pub async fn config(deps: &Deps, req: &Request) -> AppResult<Response> {
    let (_, connection) = authenticate(deps, req).await?;
    let vendor = vendor(deps).await?;
    let profiles = deps
        .alva
        .test_profiles(&vendor.api_key, &connection.alva_company_id)
        .await
        .map_err(|e| AppError::upstream(format!("{e}; open the trigger again in a minute")))?;
    let options: Vec<(String, String)> = profiles.into_iter().map(|p| (p.id, p.name)).collect();
    let mut form = Form::new().field(Field::select("test_profile", "Alva test profile", &options).required());
    if connection.sync_hiring_team {
        form = form.infobox(
            "Hiring team sync is on: the job's recruiter and hiring team get access to the results in Alva.",
            "info",
        );
    }
    Ok(form.into_response())
}

/// `POST /alva/webhook`.
pub async fn webhook(deps: &Deps, req: &Request) -> AppResult<Response> {
    let (listing, connection) = authenticate(deps, req).await?;
    let platform = &deps.platform;
    let event = Webhook::receive(platform, &listing, req)?.partner_event;
    let c = &event.candidate;
    let (first, last, email) = (
        hirebridge::web::present(&c.first_name),
        hirebridge::web::present(&c.last_name),
        hirebridge::web::present(&c.email),
    );
    let (Some(first), Some(last), Some(email)) = (first, last, email) else {
        return Err(AppError::unprocessable("Alva needs the candidate's first name, last name and e-mail address; add them and move the candidate again."));
    };
    let profile = ["test_profile", "test-profile"]
        .iter()
        .find_map(|k| event.webhook_data.get(*k))
        .and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            AppError::unprocessable("The trigger has no Alva test profile; edit the trigger and choose one.")
        })?;
    let job_id = c.job.as_ref().map(|j| j.id.clone());
    let host = web::header(req, "teamtailor-host").map(str::to_owned);
    let work = json!({"candidate_id": c.id, "email": email, "test_profile": profile, "job_id": job_id, "update_url": event.partner_result.update_url});
    let scope = format!("{INTEGRATION}#{}", connection.alva_company_id);
    let lease = match platform.idempotency.claim(&scope, &event.id, work).await? {
        Claim::Replay(outcome) => return Ok(outcome.to_response()),
        Claim::Acquired(lease) => lease,
    };
    let vendor = vendor(deps).await?;
    let company = &connection.alva_company_id;
    let new = NewCandidate {
        test_profile_id: &profile,
        first_name: &first,
        last_name: &last,
        email: &email,
        phone: c.phone.as_deref(),
        external_id: &c.id,
    };
    let (result, error) = match deps
        .alva
        .create_candidate(&vendor.api_key, company, &format!("{scope}#{}", event.id), &new)
        .await
    {
        Ok(created) => {
            let mapping = Item::new(format!("ALVA_CANDIDATE#{}", created.id), "CANDIDATE")
                .with("alva_company_id", company.clone())
                .with("update_url", event.partner_result.update_url.clone())
                .with("event_id", event.id.clone());
            platform.store.put(mapping, None).await?;
            let mut summary = format!("Alva test invitation sent to {email}.");
            if connection.sync_hiring_team {
                summary.push(' ');
                summary.push_str(&match job_id.as_deref() {
                    Some(job) => sync_team(deps, &vendor, &connection, &profile, job, host.as_deref()).await,
                    None => "Hiring team not synced: the trigger ran without a job.".into(),
                });
            }
            let mut result = PartnerResult::new(ResultStatus::Sent).summary(summary);
            if let Some(url) = created.candidate_url {
                result = result.url(url);
            }
            (result, None)
        }
        Err(e) => {
            let message =
                format!("The Alva test was not sent: {e}. Move the candidate to this stage again to retry.");
            (PartnerResult::new(ResultStatus::Failed).summary(message.clone()), Some(message))
        }
    };
    let response = hirebridge::teamtailor::conclude(
        platform,
        lease,
        &event.partner_result.update_url,
        &listing.partner_api_key,
        &result,
        error.as_deref(),
        StatusCode::BAD_GATEWAY,
    )
    .await?;
    tracing::info!(event = %event.id, company = %company, failed = error.is_some(), "alva trigger handled");
    Ok(response)
}

/// Grants the job's recruiter and team members access to the test profile's results in Alva,
/// inviting those Alva does not know. Each person is granted once per profile. Answers a
/// sentence for the card.
async fn sync_team(
    deps: &Deps,
    vendor: &VendorSecret,
    connection: &Connection,
    profile: &str,
    job_id: &str,
    host: Option<&str>,
) -> String {
    match team(deps, connection, job_id, host).await {
        Err(why) => format!("Hiring team not synced: {why}."),
        Ok(people) => {
            let (mut granted, mut invited, mut errors) = (0, 0, Vec::new());
            for (email, name) in &people {
                match grant(deps, vendor, &connection.alva_company_id, profile, email, name).await {
                    Ok(Granted::Now { invited: i }) => {
                        granted += 1;
                        invited += usize::from(i);
                    }
                    Ok(Granted::Before) => {}
                    Err(e) => errors.push(e),
                }
            }
            let mut text = format!(
                "Hiring team: {} member(s), {granted} newly granted access ({invited} invited to Alva).",
                people.len()
            );
            if !errors.is_empty() {
                text.push_str(&format!(" {} could not be granted: {}.", errors.len(), errors.join("; ")));
            }
            text
        }
    }
}

/// The job's recruiter and team members as e-mail → name, read with the company's account key.
async fn team(
    deps: &Deps,
    connection: &Connection,
    job_id: &str,
    host: Option<&str>,
) -> Result<BTreeMap<String, String>, String> {
    if !job_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("the job id is not valid".into());
    }
    let (token, account_host) = companies::account_key(deps, &connection.alva_company_id)
        .await
        .map_err(|e| e.detail)?
        .ok_or("no Teamtailor account has been added in Alva (Add account)")?;
    let platform = &deps.platform;
    let base = api_base(&platform.config, account_host.as_deref().or(host)).map_err(|e| e.detail)?;
    let api = PublicApi::new(&platform.http, base, &platform.config.teamtailor_api_version, &token);
    let mut people = BTreeMap::new();
    let mut add = |user: &hirebridge::teamtailor::public_api::Resource| {
        if let Some(email) = user.attr_str("email").filter(|e| e.contains('@')) {
            people.insert(email.to_ascii_lowercase(), user.attr_str("name").unwrap_or(email).to_owned());
        }
    };
    let job = api.get(&format!("/v1/jobs/{job_id}?include=user")).await.map_err(|e| e.to_string())?;
    if let Some(recruiter) = job.resource().ok().and_then(|j| j.related_id("user").map(str::to_owned)) {
        if let Some(user) = job.included_of("users", &recruiter) {
            add(user);
        }
    }
    let (members, included) = api
        .get_all_with_included(&format!("/v1/jobs/{job_id}/team-memberships?include=user"))
        .await
        .map_err(|e| e.to_string())?;
    for member in &members {
        if let Some(user) =
            member.related_id("user").and_then(|id| included.iter().find(|u| u.kind == "users" && u.id == id))
        {
            add(user);
        }
    }
    Ok(people)
}

enum Granted {
    Now { invited: bool },
    Before,
}

/// One person's access, claimed in the table first so that concurrent triggers grant once.
async fn grant(
    deps: &Deps,
    vendor: &VendorSecret,
    company: &str,
    profile: &str,
    email: &str,
    name: &str,
) -> Result<Granted, String> {
    let store = &deps.platform.store;
    let pk = crate::companies::company_pk(company);
    let sk = format!("GRANT#{profile}#{email}");
    let now = deps.platform.now_secs();
    let claim = Item::new(pk.clone(), sk.clone()).with("status", "granting").with("at", now);
    // A claim abandoned for a minute (a crash mid-way) may be taken over.
    let free = Cond::Or(vec![
        Cond::NotExists,
        Cond::And(vec![Cond::Eq("status", json!("granting")), Cond::Lt("at", now - 60)]),
    ]);
    match store.put(claim, Some(free)).await.map_err(|e| e.to_string())? {
        PutOutcome::Rejected(_) => return Ok(Granted::Before),
        PutOutcome::Written => {}
    }
    let result = async {
        let key = &vendor.api_key;
        let (user_id, invited) = match deps.alva.find_user(key, company, email).await? {
            Some(id) => (id, false),
            None => (deps.alva.invite_user(key, company, email, name).await?, true),
        };
        deps.alva.grant(key, company, profile, &user_id).await?;
        Ok::<_, hirebridge::outbound::OutboundError>((user_id, invited))
    }
    .await;
    match result {
        Ok((user_id, invited)) => {
            let done =
                Item::new(pk, sk).with("status", "granted").with("alva_user_id", user_id).with("at", now);
            store.put(done, None).await.map_err(|e| e.to_string())?;
            Ok(Granted::Now { invited })
        }
        Err(e) => {
            let _ = store.delete(&pk, &sk).await;
            Err(format!("{email} ({e})"))
        }
    }
}
