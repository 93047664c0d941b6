//! Spark Hire's API (docs.sparkhire.com; Basic auth with the user's key as username): the one
//! module that knows its wire format. Lists are pages of `range=<from>-<to>`.
use hirebridge::outbound::{HttpClient, OutboundError};
use hirebridge::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

const SERVICE: &str = "Spark Hire";
const PAGE: usize = 20;
const MAX_PAGES: usize = 50;
/// How many of the most recent interviews a look-up reads (Spark Hire's largest range).
const LOOKUP: usize = 100;

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

    /// `email`'s interview for the job, among the user's most recent interviews (the one a
    /// `POST /interviews` without an answer made).
    pub async fn find_interview(
        &self,
        key: &SecretString,
        job_uuid: &str,
        email: &str,
    ) -> Result<Option<Interview>, OutboundError> {
        let path = format!("/interviews?orderby=updated_desc&range=1-{LOOKUP}");
        let recent: Vec<Interview> =
            self.http.send_json(SERVICE, self.request(reqwest::Method::GET, &path, key)).await?;
        Ok(recent.into_iter().find(|i| i.is_for(job_uuid, email)))
    }

    pub async fn create_job(&self, key: &SecretString, title: &str) -> Result<Named, OutboundError> {
        let body =
            json!({"title": title, "status": "active", "description": format!("{title} (from Teamtailor)")});
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

    /// Registers hirebridge's events endpoint with Basic credentials Spark Hire will send back.
    pub async fn register_webhook(
        &self,
        key: &SecretString,
        url: &str,
        username: &str,
        password: &SecretString,
    ) -> Result<(), OutboundError> {
        let body = json!({"url": url, "description": "hirebridge: interview results to Teamtailor",
                          "http_auth": {"username": username, "password": password.expose()}});
        let _: Value = self
            .http
            .send_json(SERVICE, self.request(reqwest::Method::POST, "/webhooks", key).json(&body))
            .await?;
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
