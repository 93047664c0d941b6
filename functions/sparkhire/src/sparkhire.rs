//! Spark Hire's API (https://docs.sparkhire.com/; Basic auth with the user's key as username): the
//! one module that knows its wire format. Lists are pages of `range=<from>-<to>`.
//!
//! Spark Hire publishes no OpenAPI; beyond its overview (base URL, Basic auth, the 400 requests a
//! minute limit) the shapes here come from two third-party transcriptions of its reference:
//! - jentic/oak `apis/openapi/sparkhire.com/spark-hire-api/1.0.0/openapi.json` at
//!   9967e2d5a5f373099df2663438d5b1eec1910653 ("jentic" below);
//! - api-evangelist/spark-hire `openapi/_original/spark-hire-openapi.yml` at
//!   d0a8b69478df3ac5d3d9cdb2360dde67c05be35b ("api-evangelist" below).
//!
//! Where they disagree and nothing settles it, the choice is marked "assumed" with what happens
//! if it is wrong.
use hirebridge::outbound::{HttpClient, OutboundError};
use hirebridge::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

const SERVICE: &str = "Spark Hire";
const PAGE: usize = 20;
const MAX_PAGES: usize = 50;
/// How many interviews a look-up reads a page (Spark Hire's largest range), and at most how many
/// pages: the look-up reads back, most recently updated first, to the trigger's first attempt.
const LOOKUP: usize = 100;
const LOOKUP_PAGES: usize = 20;
/// How far apart Spark Hire's clock and ours may be when an interview's time is compared with
/// the trigger's.
const CLOCK_SKEW_SECS: i64 = 300;

/// The events hirebridge subscribes to (api-evangelist's `WebhookEventType` names).
pub const EVENTS: [&str; 2] = [COMPLETED, EXPIRED];
pub const COMPLETED: &str = "InterviewCompleted";
pub const EXPIRED: &str = "InterviewExpired";

/// The `location` of a job made from a Teamtailor job that has none. Assumed: no source lists
/// the values Spark Hire takes; if it refuses this one, the job is not created and the card says
/// Spark Hire refused it (the recruiter can pick an existing Spark Hire job instead).
pub const NO_LOCATION: &str = "Not specified";

pub struct SparkHireApi {
    http: HttpClient,
    base: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    #[serde(default)]
    pub uuid: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
}

/// A job, a question set: Spark Hire's jobs carry both `name` and `title` (question sets only a
/// `name`), so both are read and [`Named::label`] picks one.
#[derive(Debug, Clone, Deserialize)]
pub struct Named {
    pub uuid: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

impl Named {
    /// The title, else the name.
    pub fn label(&self) -> &str {
        [&self.title, &self.name].into_iter().flatten().find(|s| !s.trim().is_empty()).map_or("", |s| s)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Interview {
    pub uuid: String,
    #[serde(default)]
    pub join_url: Option<String>,
    #[serde(default)]
    pub job_post: Option<Named>,
    /// A list of `{name, email}`, or one such object.
    #[serde(default)]
    pub assigned_to: Value,
    /// RFC 3339 (both transcriptions list `created_at` and `updated_at` on an interview).
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

impl Interview {
    /// Whether this is `email`'s interview for the job `job_uuid`.
    fn is_for(&self, job_uuid: &str, email: &str) -> bool {
        let invited =
            |p: &Value| p["email"].as_str().is_some_and(|e| e.trim().eq_ignore_ascii_case(email.trim()));
        let to_them = match &self.assigned_to {
            Value::Array(people) => people.iter().any(invited),
            person => invited(person),
        };
        to_them && self.job_post.as_ref().is_some_and(|j| j.uuid == job_uuid)
    }

    /// Whether it was made before `since` (seconds), by its `created_at`; unknown is "no".
    fn older_than(&self, since: i64) -> bool {
        self.created_at.as_deref().and_then(epoch_secs).is_some_and(|t| t < since - CLOCK_SKEW_SECS)
    }

    /// Whether it was last changed before `since` (seconds); unknown is "no".
    fn untouched_since(&self, since: i64) -> bool {
        self.updated_at.as_deref().and_then(epoch_secs).is_some_and(|t| t < since - CLOCK_SKEW_SECS)
    }
}

/// Seconds since 1970 of an RFC 3339 time (`2026-05-23T23:00:00Z`, `…+02:00`, fractions).
fn epoch_secs(t: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, m, d, hh, mm, ss) =
        (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if !seps.iter().all(|(i, c)| t.as_bytes().get(*i) == Some(c))
        || !matches!(t.as_bytes().get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let rest = t[19..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let (oh, om) = (rest.get(1..3)?.parse::<i64>().ok()?, rest.get(4..6)?.parse::<i64>().ok()?);
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss - offset)
}

/// How an event arrived at `POST /sparkhire/events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// `{"event": "InterviewCompleted", "data": {…the interview…}}`.
    Wrapped,
    /// The interview itself (api-evangelist: Spark Hire "POSTs the changed object").
    Bare,
}

impl Envelope {
    pub fn as_str(self) -> &'static str {
        match self {
            Envelope::Wrapped => "wrapped",
            Envelope::Bare => "bare",
        }
    }
}

/// An event Spark Hire sent: the interview it is about, and which event it is when that is known.
#[derive(Debug)]
pub struct Delivered {
    pub envelope: Envelope,
    pub event: Option<String>,
    pub interview: Value,
}

/// Reads an event in either envelope: the transcriptions disagree (the `{event, data}` shape is
/// also what the project's own contract expects; api-evangelist says the changed object is sent),
/// so both are taken. A bare interview's event is the one its webhook was registered for
/// (`subscribed`, the `?event=` of the URL, see [`SparkHireApi::register_webhook`]), else an
/// `event` it names itself, else what its `status` says (`completed`, `expired`; api-evangelist's
/// lifecycle names). `None` when the body is neither.
pub fn delivered(body: Value, subscribed: Option<&str>) -> Option<Delivered> {
    let named = |v: Option<&Value>| {
        v.and_then(Value::as_str).map(str::trim).filter(|e| !e.is_empty() && e.len() <= 64).map(str::to_owned)
    };
    let Value::Object(mut fields) = body else { return None };
    if fields.get("data").is_some_and(Value::is_object) && named(fields.get("event")).is_some() {
        let event = named(fields.get("event"));
        let interview = fields.remove("data").unwrap_or_default();
        return Some(Delivered { envelope: Envelope::Wrapped, event, interview });
    }
    fields.get("uuid").and_then(Value::as_str)?;
    let from_status = match fields.get("status").and_then(Value::as_str).map(str::to_ascii_lowercase) {
        Some(s) if s == "completed" => Some(COMPLETED.to_owned()),
        Some(s) if s == "expired" => Some(EXPIRED.to_owned()),
        _ => None,
    };
    let event = named(subscribed.map(|s| Value::String(s.to_owned())).as_ref())
        .or_else(|| named(fields.get("event")))
        .or(from_status);
    Some(Delivered { envelope: Envelope::Bare, event, interview: Value::Object(fields) })
}

pub struct NewInterview<'a> {
    pub live: bool,
    pub job_uuid: &'a str,
    pub question_set: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub scheduled_at: &'a str,
    pub message: Option<&'a str>,
}

impl SparkHireApi {
    pub fn new(http: HttpClient, base: &str) -> Self {
        SparkHireApi { http, base: base.trim_end_matches('/').to_owned() }
    }

    fn request(&self, method: reqwest::Method, path: &str, key: &SecretString) -> reqwest::RequestBuilder {
        self.http.request(method, &format!("{}{}", self.base, path)).basic_auth(key.expose(), Some("x"))
    }

    pub async fn me(&self, key: &SecretString) -> Result<Me, OutboundError> {
        self.http.send_json(SERVICE, self.request(reqwest::Method::GET, "/me", key)).await
    }

    /// Every item of a list, page by page.
    async fn all<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        key: &SecretString,
    ) -> Result<Vec<T>, OutboundError> {
        let mut out = Vec::new();
        for page in 0..MAX_PAGES {
            let range = format!("{}-{}", page * PAGE + 1, (page + 1) * PAGE);
            let sep = if path.contains('?') { '&' } else { '?' };
            let items: Vec<T> = self
                .http
                .send_json(
                    SERVICE,
                    self.request(reqwest::Method::GET, &format!("{path}{sep}range={range}"), key),
                )
                .await?;
            let full = items.len() == PAGE;
            out.extend(items);
            if !full {
                break;
            }
        }
        Ok(out)
    }

    pub async fn jobs(&self, key: &SecretString) -> Result<Vec<Named>, OutboundError> {
        self.all("/jobs?orderby=title_asc", key).await
    }

    pub async fn question_sets(&self, key: &SecretString) -> Result<Vec<Named>, OutboundError> {
        self.all("/question_sets", key).await
    }

    /// The job titled `title`, if the user has one (the one a `POST /jobs` without an answer made).
    pub async fn find_job(&self, key: &SecretString, title: &str) -> Result<Option<String>, OutboundError> {
        let jobs = self.jobs(key).await?;
        Ok(jobs.into_iter().find(|j| j.label() == title).map(|j| j.uuid))
    }

    /// `email`'s interviews for the job made since `since` (the trigger's first attempt, in
    /// seconds; `None` for work recorded before it was kept), newest first: the ones a
    /// `POST /interviews` without an answer may have made. Pages are read, most recently updated
    /// first, until one reaches back before `since` (every interview made since then was updated
    /// since then), or is the last, or [`LOOKUP_PAGES`] were read.
    pub async fn find_interviews(
        &self,
        key: &SecretString,
        (job_uuid, email): (&str, &str),
        since: Option<i64>,
    ) -> Result<Vec<Interview>, OutboundError> {
        let mut found = Vec::new();
        let pages = if since.is_some() { LOOKUP_PAGES } else { 1 };
        for page in 0..pages {
            let range = format!("{}-{}", page * LOOKUP + 1, (page + 1) * LOOKUP);
            let path = format!("/interviews?orderby=updated_desc&range={range}");
            let items: Vec<Interview> =
                self.http.send_json(SERVICE, self.request(reqwest::Method::GET, &path, key)).await?;
            let done =
                items.len() < LOOKUP || since.is_some_and(|t| items.iter().any(|i| i.untouched_since(t)));
            let made_since = |i: &Interview| since.is_none_or(|t| !i.older_than(t));
            found.extend(items.into_iter().filter(|i| i.is_for(job_uuid, email) && made_since(i)));
            if done {
                break;
            }
        }
        Ok(found)
    }

    /// `POST /jobs`: jentic marks `location`, `title`, `description` and `status` required, each a
    /// string. `location` is free text (Spark Hire's own job form asks for a city, and its jobs are
    /// read back with the location geocoded); see [`NO_LOCATION`] for a job without one.
    pub async fn create_job(
        &self,
        key: &SecretString,
        title: &str,
        location: &str,
    ) -> Result<Named, OutboundError> {
        let body = json!({"title": title, "location": location, "status": "active",
                          "description": format!("{title} (from Teamtailor)")});
        self.http.send_json(SERVICE, self.request(reqwest::Method::POST, "/jobs", key).json(&body)).await
    }

    pub async fn create_interview(
        &self,
        key: &SecretString,
        i: &NewInterview<'_>,
    ) -> Result<Interview, OutboundError> {
        let body = json!({
            "type": if i.live { "live" } else { "one_way" },
            "job_post": {"uuid": i.job_uuid},
            "interview_question_set": i.question_set,
            "assigned_to": [{"name": i.name, "email": i.email}],
            "scheduled_at": i.scheduled_at,
            "email_message": i.message,
        });
        // Not replayed on a time-out or a 5xx (no idempotency key): the caller looks it up instead.
        self.http
            .send_json(SERVICE, self.request(reqwest::Method::POST, "/interviews", key).json(&body))
            .await
    }

    /// Registers hirebridge's events endpoint (`url`) for each of [`EVENTS`], with the Basic
    /// credentials Spark Hire is to send back.
    ///
    /// `POST /webhooks`: jentic requires `description` and `url` and takes `http_auth` as a
    /// string; api-evangelist requires `url` and one `event` per webhook (of InterviewCreated,
    /// InterviewCompleted, InterviewExpired, …). The body carries all four, one webhook per event,
    /// which satisfies both transcriptions. Assumed:
    /// - `http_auth` is `username:password`, sent back as `Authorization: Basic base64(...)`. If
    ///   Spark Hire sends it otherwise, every event is refused with `401` (logged) and cards stay
    ///   at "sent" until the credentials' form is corrected here;
    /// - the event of a webhook is also in its URL (`?event=`), because Spark Hire may POST the
    ///   bare interview (api-evangelist: "POSTs the changed object") without naming the event. If
    ///   Spark Hire ignores `event` and sends every event to both webhooks, each event arrives
    ///   twice and lands once (events are idempotent by interview and event).
    pub async fn register_webhook(
        &self,
        key: &SecretString,
        url: &str,
        username: &str,
        password: &SecretString,
    ) -> Result<(), OutboundError> {
        let sep = if url.contains('?') { '&' } else { '?' };
        for event in EVENTS {
            let body = json!({
                "url": format!("{url}{sep}event={event}"),
                "event": event,
                "description": format!("hirebridge: {event} to Teamtailor"),
                "http_auth": format!("{username}:{}", password.expose()),
            });
            let _: Value = self
                .http
                .send_json(SERVICE, self.request(reqwest::Method::POST, "/webhooks", key).json(&body))
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_with_both_name_and_title_is_read_by_its_title() {
        let job: Named = serde_json::from_value(
            json!({"uuid": "j1", "name": "Designer (old)", "title": "Designer", "status": "active"}),
        )
        .unwrap();
        assert_eq!(job.label(), "Designer");
        let set: Named = serde_json::from_value(json!({"uuid": "q1", "name": "General"})).unwrap();
        assert_eq!(set.label(), "General");
    }

    #[test]
    fn an_event_is_read_from_either_envelope() {
        let interview = json!({"uuid": "i1", "status": "completed", "share_link": {"url": "https://x"}});
        let wrapped = delivered(json!({"event": "InterviewExpired", "data": interview}), None).unwrap();
        assert_eq!(wrapped.envelope, Envelope::Wrapped);
        assert_eq!(wrapped.event.as_deref(), Some("InterviewExpired"), "the envelope's event wins");
        assert_eq!(wrapped.interview["uuid"], "i1");
        let bare = delivered(interview.clone(), Some("InterviewCompleted")).unwrap();
        assert_eq!((bare.envelope, bare.event.as_deref()), (Envelope::Bare, Some("InterviewCompleted")));
        let by_status = delivered(json!({"uuid": "i1", "status": "Expired"}), None).unwrap();
        assert_eq!(by_status.event.as_deref(), Some("InterviewExpired"));
        let unknown = delivered(json!({"uuid": "i1", "status": 3}), None).unwrap();
        assert_eq!(unknown.event, None);
        for neither in [json!({"event": "InterviewCompleted"}), json!([interview]), json!("x")] {
            assert!(delivered(neither.clone(), None).is_none(), "{neither}");
        }
    }

    #[test]
    fn rfc_3339_times_are_read_as_seconds_since_1970() {
        assert_eq!(epoch_secs("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch_secs("2017-05-23T23:00:00+00:00"), Some(1_495_580_400));
        assert_eq!(epoch_secs("2017-05-24T01:00:00.123+02:00"), Some(1_495_580_400));
        assert_eq!(epoch_secs("2000-02-29T12:00:00-01:30"), Some(951_825_600 + 5400));
        for bad in ["", "2017-05-23", "2017-13-01T00:00:00Z", "2017-05-23T23:00:00", "2017/05/23T23:00:00Z"] {
            assert_eq!(epoch_secs(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_interview_is_matched_by_job_and_e_mail() {
        let i: Interview = serde_json::from_value(
            json!({"uuid": "i1", "job_post": {"uuid": "j1", "name": "D", "title": "D"},
            "assigned_to": [{"name": "Ada", "email": "Ada@Example.com"}]}),
        )
        .unwrap();
        assert!(i.is_for("j1", "ada@example.com"));
        assert!(!i.is_for("j2", "ada@example.com") && !i.is_for("j1", "bob@example.com"));
        let one: Interview = serde_json::from_value(json!({"uuid": "i2", "job_post": {"uuid": "j1"},
            "assigned_to": {"email": "ada@example.com"}}))
        .unwrap();
        assert!(one.is_for("j1", "ada@example.com"));
    }
}
