//! Spark Hire's events (`POST /sparkhire/events`): each company has its own random Basic
//! credentials, registered with the Spark Hire webhooks of each of its recruiters; an event, in
//! either envelope Spark Hire may use (`{event, data}` or the bare interview), is taken only with
//! the credentials of the company whose interview it is about, logged with its envelope, and lands
//! on that interview's card once (completed → the share link, "Watch"; expired → failed).
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hirebridge::cards::CardUpdate;
use hirebridge::claim::{self, Claimed};
use hirebridge::error::AppResult;
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::vendor_event::{self, VendorEvent};
use hirebridge::web::{self, Request, Response};
use hirebridge::{AppError, SecretString};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use crate::sparkhire;
use crate::store::{self, InterviewCard, KeyRecord};
use crate::{Deps, INTEGRATION};

/// A company's credentials for Spark Hire's events.
#[derive(Deserialize)]
pub struct EventsAuth {
    pub username: String,
    pub password: SecretString,
}

impl EventsAuth {
    fn random() -> EventsAuth {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).expect("the system's random source works");
        EventsAuth { username: "hirebridge".into(), password: SecretString::new(hex::encode(bytes)) }
    }

    fn basic(&self) -> String {
        format!("Basic {}", STANDARD.encode(format!("{}:{}", self.username, self.password.expose())))
    }
}

/// The company's events credentials, made once (the first of its recruiters to connect makes
/// them; the others wait for them).
pub async fn credentials(deps: &Deps, company: &str) -> AppResult<EventsAuth> {
    let platform = &deps.platform;
    let name = store::events_secret(company);
    for _ in 0..50 {
        if let Some(auth) = platform.secrets.get_json::<EventsAuth>(&name).await? {
            return Ok(auth);
        }
        let lease = Duration::from_secs(30);
        match claim::once(
            platform.store.as_ref(),
            platform.clock.as_ref(),
            store::events_claim(company),
            lease,
        )
        .await?
        {
            Claimed::Won => {
                let auth = EventsAuth::random();
                let value = json!({"username": auth.username, "password": auth.password.expose()});
                platform.secrets.put_json(&name, &value).await?;
                claim::done(platform.store.as_ref(), store::events_claim(company)).await?;
                return Ok(auth);
            }
            Claimed::Held(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    Err(AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "Spark Hire's events for this company are still being set up; try again in a minute.",
    ))
}

/// Registers hirebridge's events endpoint in the recruiter's Spark Hire account with the
/// company's credentials, and records that it is. A failure is logged: the next trigger tries again.
pub async fn register(deps: &Deps, api_key: &SecretString, company: &str) -> bool {
    let registered = async {
        let auth = credentials(deps, company).await?;
        let url = deps.platform.config.public_url("/sparkhire/events");
        deps.sparkhire
            .register_webhook(api_key, &url, &auth.username, &auth.password)
            .await
            .map_err(|e| AppError::upstream(e.to_string()))
    };
    match registered.await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(company, error = %e.detail, "spark hire events webhook not registered");
            false
        }
    }
}

/// Before a trigger: the recruiter's account sends its events here (keys connected before
/// per-company credentials, or whose registration failed, are registered now).
pub async fn ensure_registered(deps: &Deps, record: &KeyRecord, api_key: &SecretString) -> AppResult<()> {
    if !record.webhook && register(deps, api_key, &record.recruiter.company).await {
        crate::recruiters::mark_webhook(deps, record).await?;
    }
    Ok(())
}

/// `POST /sparkhire/events`: an event in either envelope ([`sparkhire::delivered`]).
pub async fn events(deps: &Deps, req: &Request) -> AppResult<Response> {
    let presented = web::header(req, "authorization").filter(|h| h.starts_with("Basic "));
    let presented = presented.ok_or_else(refused)?;
    let body: Value = web::read_json(req)?;
    let subscribed = web::query(req).remove("event");
    let Some(event) = sparkhire::delivered(body, subscribed.as_deref()) else {
        return Err(AppError::unprocessable(
            "a Spark Hire event is {\"event\", \"data\": {the interview}} or the interview itself",
        ));
    };
    let uuid = event.interview.get("uuid").and_then(Value::as_str).unwrap_or_default();
    if uuid.is_empty() || uuid.len() > 128 {
        return Err(AppError::unprocessable("the interview's uuid is required"));
    }
    let platform = &deps.platform;
    let item = platform.store.get(&store::interview_pk(uuid), store::INTERVIEW_SK).await?;
    let Some(card) = item.and_then(|i| InterviewCard::from_item(uuid, &i)) else {
        return Ok(ignored("hirebridge did not create this interview"));
    };
    let expected: Option<EventsAuth> =
        platform.secrets.get_json(&store::events_secret(&card.company)).await?;
    let matches =
        expected.is_some_and(|auth| bool::from(presented.as_bytes().ct_eq(auth.basic().as_bytes())));
    if !matches {
        return Err(refused());
    }
    let kind = event.event.as_deref().unwrap_or_default();
    tracing::info!(envelope = event.envelope.as_str(), event = kind, interview = uuid, company = %card.company, "spark hire event received");
    let Some(result) = card_of(kind, &event.interview) else {
        return Ok(ignored("this event is not handled"));
    };
    let id = format!("{uuid}-{kind}");
    let landing = VendorEvent { integration: INTEGRATION, tenant: &card.company, id: &id };
    let update = CardUpdate { integration: INTEGRATION, update_url: &card.update_url, result: &result };
    vendor_event::land(platform, landing, update).await
}

fn refused() -> AppError {
    AppError::unauthorized("Spark Hire events must carry the Basic credentials registered with the webhook")
}

fn ignored(why: &str) -> Response {
    web::json(StatusCode::OK, &json!({ "ignored": why }))
}

/// The card an event means, if it means one.
fn card_of(event: &str, interview: &Value) -> Option<PartnerResult> {
    match event {
        sparkhire::COMPLETED => {
            let link = interview.pointer("/share_link/url").and_then(Value::as_str);
            let link = link.filter(|u| u.starts_with("https://") || u.starts_with("http://"));
            let done = PartnerResult::new(ResultStatus::Completed)
                .summary("The candidate completed the Spark Hire interview.");
            Some(match link {
                Some(link) => done.url(link).attachment(link, "Watch"),
                None => done,
            })
        }
        sparkhire::EXPIRED => Some(PartnerResult::new(ResultStatus::Failed).summary(
            "The Spark Hire interview expired before the candidate completed it; invite them again if needed.",
        )),
        _ => None,
    }
}
