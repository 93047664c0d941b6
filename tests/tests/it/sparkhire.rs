//! Spark Hire end to end: `sparkhire-key-exchange` against the DynamoDB and Secrets Manager API
//! (moto) and the fakes playing Teamtailor and Spark Hire over HTTP.
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use hirebridge::config::Config;
use hirebridge_tests::*;
use serde_json::{json, Value};
use testkit::driver::{admin, Move};
use testkit::sandbox::Fault;
use testkit::sparkhire::Envelope;

/// The tests that run the scheduled sweep take turns: a sweep re-runs every due Spark Hire item
/// in the shared table, another test's too.
static SWEEPING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct SparkHire {
    w: World,
    partner_key: String,
    /// The Teamtailor company: its own per test, as tests share the table.
    company: String,
}

impl SparkHire {
    async fn new() -> SparkHire {
        let w = World::new().await;
        let partner_key = uuid::Uuid::new_v4().to_string();
        let company = format!("company-{}", uuid::Uuid::new_v4().simple());
        w.sandbox.add_activation(&partner_key, &SH_WEBHOOK_SECRET.into(), &company, "Sandbox: Acme AB").await;
        SparkHire { w, partner_key, company }
    }

    /// Another company activating the same listing (before anything is called: activations are
    /// listed at most once per 30 seconds); answers its partner key and uuid.
    async fn another_company(&self) -> (String, String) {
        let partner_key = uuid::Uuid::new_v4().to_string();
        let company = format!("company-{}", uuid::Uuid::new_v4().simple());
        self.w
            .sandbox
            .add_activation(&partner_key, &SH_WEBHOOK_SECRET.into(), &company, "Sandbox: Beta AB")
            .await;
        (partner_key, company)
    }

    async fn call(&self, req: hirebridge::web::Request) -> hirebridge::web::Response {
        sparkhire::handle(&self.w.sparkhire, req).await
    }

    async fn config_as(&self, partner_key: &str, user: &str) -> Value {
        let path = format!("/sparkhire/config?job_id=9&stage_id=1&user_id={user}");
        json_of(&self.call(self.w.teamtailor_sparkhire.get(&path, partner_key)).await)
    }

    async fn config(&self, user: &str) -> Value {
        self.config_as(&self.partner_key, user).await
    }

    async fn connect_to(&self, company: &str, user: &str, key: &str) -> hirebridge::web::Response {
        let body = json!({"api_key": key, "company_uuid": company});
        self.call(admin("PUT", &format!("/sparkhire/users/{user}/key"), ADMIN_TOKEN, Some(&body))).await
    }

    async fn connect(&self, user: &str, key: &str) -> hirebridge::web::Response {
        self.connect_to(&self.company, user, key).await
    }

    fn candidate(&self, id: u64, recruiter: u64, job: &str) -> Move {
        let mut mv = Move::new(
            id,
            &format!("talent{id}@example.com"),
            Some((9, "Product Designer", "Video interview")),
        );
        mv.webhook_data = json!({"job": job, "interview-type": "one_way", "question-set": "qs-general", "deadline": "2026-12-15", "message": "Looking forward!"});
        mv.triggered_by = recruiter;
        mv
    }

    async fn trigger_as(&self, partner_key: &str, mv: &Move) -> hirebridge::web::Response {
        self.call(self.w.fire("sparkhire", partner_key, mv).await).await
    }

    async fn trigger(&self, mv: &Move) -> hirebridge::web::Response {
        self.trigger_as(&self.partner_key, mv).await
    }

    async fn card(&self, mv: &Move) -> Value {
        self.w.sandbox.state().await.partner.results.get(&mv.result_id).cloned().unwrap_or_default()
    }

    async fn interviews(&self) -> usize {
        self.w.sandbox.state().await.sparkhire.interviews.len()
    }

    async fn jobs_created(&self) -> usize {
        self.w.sandbox.count("sparkhire", "POST", "/sparkhire/jobs").await
    }

    /// Failed work is due again after a second (instead of a minute).
    fn retry_soon(&mut self) {
        self.w.sparkhire.platform.idempotency.retry_schedule = vec![1, 1, 1];
    }

    /// Waits until the failed work is due, then runs the scheduled sweep.
    async fn sweep_when_due(&self) -> Value {
        tokio::time::sleep(Duration::from_millis(2100)).await;
        sparkhire::sweep(&self.w.sparkhire).await
    }
}

fn connect_ticket(form: &Value) -> String {
    let content = form["config"]["fields"][0]["content"].as_str().unwrap_or_default();
    let start = content.find("ticket=").expect("a connect link in the infobox") + "ticket=".len();
    content[start..].split('"').next().unwrap().to_owned()
}

fn shows_connect_link(form: &Value) -> bool {
    form["config"]["fields"][1]["type"] == "error"
        && form["config"]["fields"][0]["content"].as_str().is_some_and(|c| c.contains("ticket="))
}

fn field<'a>(form: &'a Value, id: &str) -> &'a Value {
    let fields = form["config"]["fields"].as_array().expect("form fields");
    fields.iter().find(|f| f["id"] == id).unwrap_or(&Value::Null)
}

fn form_post(ticket: &str, key: &str) -> hirebridge::web::Request {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("ticket", ticket), ("api_key", key)])
        .finish();
    http::Request::builder()
        .method("POST")
        .uri("/sparkhire/connect")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from(body))
        .unwrap()
}

/// The ticket with one of its signed claims changed (and the old signature).
fn forged(ticket: &str, claim: &str, value: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (payload, sig) = ticket.split_once('.').unwrap();
    let mut claims: Value = serde_json::from_slice(&b64.decode(payload).unwrap()).unwrap();
    claims[claim] = json!(value);
    format!("{}.{sig}", b64.encode(claims.to_string()))
}

/// `Authorization: Basic` of a webhook's `http_auth` (`username:password`).
fn basic(http_auth: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(http_auth))
}

fn event(kind: &str, interview: &Value, authorization: &str) -> hirebridge::web::Request {
    http::Request::builder()
        .method("POST")
        .uri("/sparkhire/events")
        .header("authorization", authorization)
        .body(Bytes::from(json!({"event": kind, "data": interview}).to_string()))
        .unwrap()
}

/// A second instance of the function (another warm Lambda) on the same table and secrets, whose
/// Secrets Manager calls are counted.
async fn another_instance(w: &World) -> (sparkhire::Deps, Arc<AtomicUsize>) {
    let vars = [
        ("PUBLIC_BASE_URL", "http://hirebridge.test".to_owned()),
        ("TABLE_NAME", w.table.clone()),
        ("SECRETS_PREFIX", w.prefix.clone()),
        ("TEAMTAILOR_API_URL", format!("{}/_sandbox/teamtailor", w.sandbox_url)),
        ("SPARKHIRE_API_URL", format!("{}/_sandbox/sparkhire", w.sandbox_url)),
    ];
    let config = Config::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).unwrap();
    let (platform, calls) = counted_platform(w, config).await;
    (sparkhire::Deps::new(platform), calls)
}

#[tokio::test]
async fn a_recruiter_without_a_key_is_sent_to_the_connect_page_then_sees_their_jobs_by_title() {
    let (_guard, logs) = capture_logs();
    let s = SparkHire::new().await;
    let many: Vec<String> = (1..=23).map(|i| format!("Job {i:02}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    s.w.sandbox.add_sparkhire_user("sh-key-rita", "Rita Recruiter", "rita@acme.se", &many).await;

    let form = s.config("31").await;
    assert!(shows_connect_link(&form), "saving is blocked: {form}");
    let ticket = connect_ticket(&form);
    let page = s
        .call(
            http::Request::builder()
                .uri(format!("/sparkhire/connect?ticket={ticket}"))
                .body(Bytes::new())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status(), 200);
    assert!(text(&page).contains("<label for=\"api_key\">Spark Hire User API Key</label>"));
    assert!(text(&page).contains("action=\"http://hirebridge.test/sparkhire/connect\""), "{}", text(&page));

    let wrong = s.call(form_post(&ticket, "not-a-key")).await;
    assert_eq!(wrong.status(), 422);
    assert!(text(&wrong).contains("did not accept this key") && !text(&wrong).contains("not-a-key"));
    let right = s.call(form_post(&ticket, "sh-key-rita")).await;
    assert_eq!(right.status(), 200, "{}", text(&right));
    assert!(text(&right).contains("Connected as Rita Recruiter"));
    assert!(!text(&right).contains("sh-key-rita"));
    assert_eq!(s.call(form_post(&ticket, "sh-key-rita")).await.status(), 410, "the ticket works once");

    // Spark Hire's jobs carry both `name` and `title`: the form lists them all, by title.
    let form = s.config("31").await;
    let jobs = field(&form, "job")["options"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 24, "every page of jobs, plus Create from this Teamtailor job: {form}");
    assert_eq!(jobs[0]["id"], "create");
    assert_eq!(jobs[1]["label"], "Job 01");
    for id in ["job", "interview_type", "question_set", "deadline", "interview_time", "message"] {
        assert!(!field(&form, id).is_null(), "{id} in {form}");
    }
    let types = field(&form, "interview_type").to_string();
    for unsupported in ["sms", "SMS", "invite link", "reference", "behavioral", "behavioural", "embed"] {
        assert!(!form.to_string().contains(unsupported), "{unsupported} is not offered: {types}");
    }
    let events: Vec<String> =
        s.w.sandbox.state().await.sparkhire.webhooks.iter().map(|w| w.event.clone()).collect();
    assert_eq!(events, ["InterviewCompleted", "InterviewExpired"], "the events webhooks were registered");
    assert!(!logs.text().contains("sh-key-rita") && !logs.text().contains("not-a-key"), "no key in the logs");
}

#[tokio::test]
async fn a_ticket_serves_only_its_own_user_of_its_own_company_and_cannot_be_forged() {
    let s = SparkHire::new().await;
    let (_, other_company) = s.another_company().await;
    s.w.sandbox.add_sparkhire_user("sh-key-a", "Anna", "anna@acme.se", &[]).await;
    let ticket = connect_ticket(&s.config("41").await);
    for (claim, value) in [("subject", "42"), ("label", other_company.as_str()), ("label", "")] {
        let resp = s.call(form_post(&forged(&ticket, claim, value), "sh-key-a")).await;
        assert_eq!(resp.status(), 401, "{claim} changed to {value:?}");
    }
    assert_eq!(s.call(form_post(&ticket, "sh-key-a")).await.status(), 200);
    assert!(!shows_connect_link(&s.config("41").await), "user 41 is connected");
    assert!(shows_connect_link(&s.config("42").await), "user 42 got nothing");
}

#[tokio::test]
async fn the_eleventh_submission_of_one_connect_link_is_refused() {
    let s = SparkHire::new().await;
    s.w.sandbox.add_sparkhire_user("sh-key-a", "Anna", "anna@acme.se", &[]).await;
    let ticket = connect_ticket(&s.config("41").await);
    for _ in 0..10 {
        assert_eq!(s.call(form_post(&ticket, "a-wrong-key")).await.status(), 422);
    }
    let resp = s.call(form_post(&ticket, "sh-key-a")).await;
    assert_eq!(resp.status(), 429, "{}", text(&resp));
    assert!(text(&resp).contains("ask for a new one"));
    assert!(shows_connect_link(&s.config("41").await), "nothing was stored");
}

#[tokio::test]
async fn each_recruiter_invites_with_their_own_key() {
    let s = SparkHire::new().await;
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &["Designer"]).await;
    s.w.sandbox.add_sparkhire_user("sh-key-32", "Sam", "sam@acme.se", &["Designer"]).await;
    assert_eq!(s.connect("31", "sh-key-31").await.status(), 200);
    assert_eq!(s.connect("32", "sh-key-32").await.status(), 200);
    let first = s.trigger(&s.candidate(9001, 31, "create")).await;
    assert_eq!(first.status(), 200, "{}", text(&first));
    assert!(json_of(&first)["partner_result_attributes"]["summary"]
        .as_str()
        .unwrap()
        .contains("One-way Spark Hire interview sent"));
    let second = s.trigger(&s.candidate(9002, 32, "create")).await;
    assert_eq!(second.status(), 200, "{}", text(&second));
    let st = s.w.sandbox.state().await;
    let owners: Vec<&str> = st.sparkhire.interviews.iter().map(|i| i.owner.as_str()).collect();
    let (rita, sam) = (&st.sparkhire.keys["sh-key-31"].uuid, &st.sparkhire.keys["sh-key-32"].uuid);
    assert_eq!(owners, [rita.as_str(), sam.as_str()]);
    assert_eq!(st.sparkhire.interviews[0].json()["scheduled_at"], "2026-12-15T23:59:59Z");
}

#[tokio::test]
async fn duplicate_deliveries_make_one_interview_and_job_sync_one_job() {
    let s = SparkHire::new().await;
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &[]).await;
    s.connect("31", "sh-key-31").await;
    let mv = s.candidate(9101, 31, "create");
    let answers = futures::future::join_all((0..5).map(|_| s.trigger(&mv))).await;
    let bodies: BTreeSet<(u16, String)> = answers.iter().map(|r| (r.status().as_u16(), text(r))).collect();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    // Four more candidates of the same Teamtailor job at once.
    let others: Vec<Move> = (9102..9106).map(|id| s.candidate(id, 31, "create")).collect();
    let answers = futures::future::join_all(others.iter().map(|m| s.trigger(m))).await;
    assert!(answers.iter().all(|r| r.status() == 200), "{:?}", answers.iter().map(text).collect::<Vec<_>>());
    assert_eq!(s.interviews().await, 5, "one interview per candidate");
    assert_eq!(s.jobs_created().await, 1, "one job");
    let st = s.w.sandbox.state().await;
    let job = st.sparkhire.interviews[0].job_post.uuid.clone();
    assert!(st.sparkhire.interviews.iter().all(|i| i.job_post.uuid == job));
}

#[tokio::test]
async fn a_rate_limited_interview_is_sent_once_spark_hire_asks_us_to_try_again() {
    let s = SparkHire::new().await;
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &["Designer"]).await;
    s.connect("31", "sh-key-31").await;
    let job = s.w.sandbox.state().await.sparkhire.jobs[0].uuid.clone();
    s.w.sandbox
        .add_fault(Fault {
            service: "sparkhire".into(),
            method: Some("POST".into()),
            path_contains: "/interviews".into(),
            status: Some(429),
            delay_ms: 0,
            times: 1,
            try_again_seconds: Some(1),
        })
        .await;
    let started = std::time::Instant::now();
    assert_eq!(s.trigger(&s.candidate(9201, 31, &job)).await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(900), "the retry waited as asked");
    assert_eq!(s.w.sandbox.count("sparkhire", "POST", "/interviews").await, 2);
    assert_eq!(s.interviews().await, 1);
}

#[tokio::test]
async fn a_recruiter_whose_key_was_revoked_gets_a_fresh_connect_link_like_one_with_no_key() {
    let s = SparkHire::new().await;
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &["Designer"]).await;
    s.connect("31", "sh-key-31").await;
    let job = s.w.sandbox.state().await.sparkhire.jobs[0].uuid.clone();
    s.w.sandbox.revoke_sparkhire_key("sh-key-31").await;

    // The trigger fails, and its card says how to reconnect.
    let mv = s.candidate(9202, 31, &job);
    let resp = s.trigger(&mv).await;
    assert!(resp.status().is_client_error() || resp.status().is_server_error());
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(text(&resp).contains("Reconnect Spark Hire"), "{}", text(&resp));
    assert_eq!(s.card(&mv).await["status"], "failed");

    // The form offers the connect link, and the recruiter reconnects themselves.
    let form = s.config("31").await;
    assert!(shows_connect_link(&form), "{form}");
    assert!(form["config"]["fields"][0]["content"].as_str().unwrap().contains("no longer accepts your key"));
    s.w.sandbox.add_sparkhire_user("sh-key-31-new", "Rita", "rita@acme.se", &["Designer 2"]).await;
    let resp = s.call(form_post(&connect_ticket(&form), "sh-key-31-new")).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let form = s.config("31").await;
    assert_eq!(field(&form, "job")["options"][1]["label"], "Designer 2", "{form}");

    // A recruiter who never connected is told to.
    let resp = s.trigger(&s.candidate(9203, 77, &job)).await;
    assert!(!resp.status().is_success());
    assert!(text(&resp).contains("connect your Spark Hire account"), "{}", text(&resp));
}

#[tokio::test]
async fn after_a_disconnect_another_warm_instance_stops_using_the_key_at_once() {
    let s = SparkHire::new().await;
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &["Designer"]).await;
    let job = s.w.sandbox.state().await.sparkhire.jobs[0].uuid.clone();
    let (other, secrets_read) = another_instance(&s.w).await;
    let (s_, other_) = (&s, &other);
    let via_other = move |mv: Move| async move {
        let req = s_.w.fire("sparkhire", &s_.partner_key, &mv).await;
        sparkhire::handle(other_, req).await
    };
    assert_eq!(s.connect("31", "sh-key-31").await.status(), 200);
    // Both instances are warm: each has used the key.
    assert_eq!(s.trigger(&s.candidate(9401, 31, &job)).await.status(), 200);
    assert_eq!(via_other(s.candidate(9402, 31, &job)).await.status(), 200);
    assert_eq!(s.interviews().await, 2);
    let warm = secrets_read.load(Ordering::SeqCst);
    assert_eq!(via_other(s.candidate(9405, 31, &job)).await.status(), 200);
    assert_eq!(secrets_read.load(Ordering::SeqCst), warm, "no Secrets Manager call on a warm trigger");
    assert_eq!(s.interviews().await, 3);

    // (Without `company_uuid` the user is disconnected from every company: the tests share a table.)
    let path = format!("/sparkhire/users/31/key?company_uuid={}", s.company);
    let resp = s.call(admin("DELETE", &path, ADMIN_TOKEN, None)).await;
    assert_eq!(resp.status(), 204);
    let mv = s.candidate(9403, 31, &job);
    let resp = via_other(mv.clone()).await;
    assert!(!resp.status().is_success(), "{}", text(&resp));
    assert!(text(&resp).contains("not connected"), "{}", text(&resp));
    assert_eq!(s.interviews().await, 3, "no interview with the disconnected key");
    assert_eq!(s.card(&mv).await["status"], "failed");

    // A new key counts at once too.
    s.w.sandbox.add_sparkhire_user("sh-key-31-b", "Rita B", "rita@acme.se", &["Designer B"]).await;
    assert_eq!(s.connect("31", "sh-key-31-b").await.status(), 200);
    let job_b = s.w.sandbox.state().await.sparkhire.jobs[1].uuid.clone();
    assert_eq!(via_other(s.candidate(9404, 31, &job_b)).await.status(), 200);
    let st = s.w.sandbox.state().await;
    assert_eq!(st.sparkhire.interviews.last().unwrap().owner, st.sparkhire.keys["sh-key-31-b"].uuid);
}

#[tokio::test]
async fn company_a_cannot_change_read_or_use_company_b_recruiter_keys() {
    let s = SparkHire::new().await;
    let (key_b, company_b) = s.another_company().await;
    s.w.sandbox.add_sparkhire_user("sh-key-a", "Anna A", "anna@a.se", &["A job"]).await;
    s.w.sandbox.add_sparkhire_user("sh-key-b", "Bert B", "bert@b.se", &["B job"]).await;
    // The same Teamtailor user id in both companies, the worst case.
    assert_eq!(s.connect_to(&company_b, "31", "sh-key-b").await.status(), 200);

    // A's provider key does not see B's recruiter: it is offered a connect link.
    let form = s.config("31").await;
    assert!(shows_connect_link(&form), "{form}");
    assert!(!form.to_string().contains("B job") && !form.to_string().contains("Bert"));
    // Connecting through A's ticket stores a key for A only.
    assert_eq!(s.call(form_post(&connect_ticket(&form), "sh-key-a")).await.status(), 200);
    let st = s.w.sandbox.state().await;
    let (job_a, job_b) = (st.sparkhire.jobs[0].uuid.clone(), st.sparkhire.jobs[1].uuid.clone());
    let (anna, bert) =
        (st.sparkhire.keys["sh-key-a"].uuid.clone(), st.sparkhire.keys["sh-key-b"].uuid.clone());
    drop(st);
    assert_eq!(s.trigger(&s.candidate(9501, 31, &job_a)).await.status(), 200);
    assert_eq!(s.trigger_as(&key_b, &s.candidate(9502, 31, &job_b)).await.status(), 200);
    let owners: Vec<String> =
        s.w.sandbox.state().await.sparkhire.interviews.iter().map(|i| i.owner.clone()).collect();
    assert_eq!(owners, [anna, bert], "each company's trigger used its own recruiter's key");
    assert_eq!(field(&s.config_as(&key_b, "31").await, "job")["options"][1]["label"], "B job");

    // A key kept before keys were per company: never used without a company, and moved over
    // only by the company it names.
    let legacy = |user: &str, company: Option<&str>, key: &str| {
        let secrets = s.w.secrets.clone();
        let name = format!("{}/tenant/sparkhire/users/{user}", s.w.prefix);
        let value =
            json!({"api_key": key, "name": "Old", "email": "old@x.se", "company_uuid": company}).to_string();
        async move { secrets.create_secret().name(name).secret_string(value).send().await.unwrap() }
    };
    legacy("77", None, "sh-key-b").await;
    legacy("78", Some(&company_b), "sh-key-b").await;
    assert!(shows_connect_link(&s.config("77").await), "a key without a company serves nobody");
    assert!(shows_connect_link(&s.config("78").await), "B's old key does not serve A");
    assert_eq!(field(&s.config_as(&key_b, "78").await, "job")["options"][1]["label"], "B job");
    assert!(s.w.secret("tenant/sparkhire/users/78").await.is_none(), "moved to B's key");
}

#[tokio::test]
async fn bulk_mode_sends_with_the_recruiter_teamtailor_named_not_an_edited_form_value() {
    let s = SparkHire::new().await;
    let (key_b, company_b) = s.another_company().await;
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &["Designer"]).await;
    s.w.sandbox.add_sparkhire_user("sh-key-32", "Sam", "sam@acme.se", &["Designer"]).await;
    s.connect("31", "sh-key-31").await;
    s.connect("32", "sh-key-32").await;
    s.connect_to(&company_b, "32", "sh-key-32").await;
    let job = s.w.sandbox.state().await.sparkhire.jobs[0].uuid.clone();
    let set_up_by = field(&s.config("31").await, "set_up_by")["value"].as_str().unwrap().to_owned();
    let bulk = |id: u64, set_up_by: &str| {
        let mut mv = s.candidate(id, 31, &job);
        mv.job = None;
        mv.webhook_data["set-up-by"] = json!(set_up_by);
        mv
    };
    let resp = s.trigger(&bulk(9601, &set_up_by)).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let st = s.w.sandbox.state().await;
    assert_eq!(st.sparkhire.interviews[0].owner, st.sparkhire.keys["sh-key-31"].uuid);
    drop(st);
    // Edited into another recruiter, or signed for another company: refused, nothing sent.
    let from_b = field(&s.config_as(&key_b, "32").await, "set_up_by")["value"].as_str().unwrap().to_owned();
    let to_sam = forged(&set_up_by, "subject", "32");
    for edited in ["32", to_sam.as_str(), from_b.as_str()] {
        let resp = s.trigger(&bulk(9602, edited)).await;
        assert_eq!(resp.status(), 422, "{edited}: {}", text(&resp));
        assert!(text(&resp).contains("which recruiter"), "{}", text(&resp));
    }
    assert_eq!(s.interviews().await, 1);
}

#[tokio::test]
async fn results_land_only_with_the_credentials_of_the_interviews_company() {
    let s = SparkHire::new().await;
    let (_, company_b) = s.another_company().await;
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &["Designer"]).await;
    s.w.sandbox.add_sparkhire_user("sh-key-b", "Bert", "bert@b.se", &["B job"]).await;
    s.connect("31", "sh-key-31").await;
    s.connect_to(&company_b, "50", "sh-key-b").await;
    let job = s.w.sandbox.state().await.sparkhire.jobs[0].uuid.clone();
    let mv = s.candidate(9301, 31, &job);
    assert_eq!(s.trigger(&mv).await.status(), 200);
    let st = s.w.sandbox.state().await;
    let interview = st.sparkhire.interviews[0].json();
    let auth_of = |key: &str| {
        let owner = &st.sparkhire.keys[key].uuid;
        let hook = st.sparkhire.webhooks.iter().find(|w| &w.owner == owner);
        basic(hook.and_then(|w| w.http_auth.as_deref()).unwrap())
    };
    let (ours, theirs) = (auth_of("sh-key-31"), auth_of("sh-key-b"));
    drop(st);
    assert_ne!(ours, theirs, "each company has its own credentials");

    for wrong in [theirs.clone(), basic("hirebridge:guess")] {
        assert_eq!(s.call(event("InterviewCompleted", &interview, &wrong)).await.status(), 401);
    }
    assert_eq!(s.card(&mv).await["status"], "sent", "nothing landed");
    let resp = s.call(event("InterviewCompleted", &interview, &ours)).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let result = s.card(&mv).await;
    assert_eq!(result["status"], "completed");
    assert_eq!(result["attachments"][0]["description"], "Watch");
    assert_eq!(result["url"], interview["share_link"]["url"]);
    // A redelivery lands once.
    let updates = s.w.sandbox.state().await.partner.updates.len();
    assert_eq!(s.call(event("InterviewCompleted", &interview, &ours)).await.status(), 200);
    assert_eq!(s.w.sandbox.state().await.partner.updates.len(), updates);

    let other = s.candidate(9302, 31, &job);
    assert_eq!(s.trigger(&other).await.status(), 200);
    let second = s.w.sandbox.state().await.sparkhire.interviews[1].json();
    assert_eq!(s.call(event("InterviewExpired", &second, &ours)).await.status(), 200);
    let result = s.card(&other).await;
    assert_eq!(result["status"], "failed");
    assert!(result["summary"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn random_provider_keys_cause_at_most_one_activations_listing_and_unsigned_webhooks_none() {
    let s = SparkHire::new().await;
    let listings = || s.w.sandbox.count("teamtailor", "GET", "partner-activations");
    for i in 0..50 {
        let mut mv = s.candidate(9700 + i, 31, "create");
        mv.event_id = uuid::Uuid::new_v4().to_string();
        let req = s.w.teamtailor_sparkhire.webhook_raw(
            "sparkhire",
            &uuid::Uuid::new_v4().to_string(),
            "t=1,v1=00",
            Bytes::from(mv.body().to_string()),
        );
        assert_eq!(s.call(req).await.status(), 401);
    }
    assert_eq!(listings().await, 0, "an unsigned webhook calls nothing out");
    for _ in 0..100 {
        let resp = s
            .call(
                s.w.teamtailor_sparkhire
                    .get("/sparkhire/config?user_id=31", &uuid::Uuid::new_v4().to_string()),
            )
            .await;
        assert_eq!(resp.status(), 200, "a form with an error");
        assert!(text(&resp).contains("not one of this listing's activations"), "{}", text(&resp));
    }
    assert_eq!(listings().await, 1, "one listing for 100 unknown keys");
    assert!(shows_connect_link(&s.config("31").await), "the listed key still works");
    assert_eq!(listings().await, 1);
}

#[tokio::test]
async fn spark_hire_down_for_a_whole_trigger_sends_one_interview_after_the_sweep() {
    let _turn = SWEEPING.lock().await;
    let mut s = SparkHire::new().await;
    s.retry_soon();
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &[]).await;
    s.connect("31", "sh-key-31").await;
    let down = Fault {
        service: "sparkhire".into(),
        method: None,
        path_contains: String::new(),
        status: Some(503),
        delay_ms: 0,
        times: 1_000,
        try_again_seconds: None,
    };
    s.w.sandbox.add_fault(down).await;
    let mv = s.candidate(9801, 31, "create");
    let resp = s.trigger(&mv).await;
    assert_eq!(resp.status(), 502, "{}", text(&resp));
    let card = s.card(&mv).await;
    assert_eq!(card["status"], "sending", "{card}");
    assert!(card["summary"].as_str().unwrap().contains("retry automatically"), "{card}");
    assert!(!card.to_string().contains("503"), "no raw service error on the card: {card}");

    s.w.sandbox.state().await.faults.clear();
    let report = s.sweep_when_due().await;
    assert!(report["rerun"].as_u64().unwrap() >= 1, "{report}");
    assert_eq!(s.interviews().await, 1, "exactly one interview");
    assert!(s.jobs_created().await <= 2, "one job posted while down (refused), one after");
    assert_eq!(s.w.sandbox.state().await.sparkhire.jobs.len(), 1, "one job in Spark Hire");
    assert_eq!(s.card(&mv).await["status"], "sent");
}

#[tokio::test]
async fn a_post_that_spark_hire_performs_but_answers_502_makes_no_second_job_or_interview() {
    let _turn = SWEEPING.lock().await;
    let mut s = SparkHire::new().await;
    s.retry_soon();
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &[]).await;
    assert_eq!(s.connect("31", "sh-key-31").await.status(), 200);
    for path in ["/sparkhire/jobs", "/sparkhire/interviews"] {
        let bad_gateway = Fault {
            service: "sparkhire".into(),
            method: Some("POST".into()),
            path_contains: path.into(),
            status: Some(502),
            delay_ms: 0,
            times: 1,
            try_again_seconds: None,
        };
        s.w.sandbox.add_fault_after_performing(bad_gateway).await;
    }

    let mv = s.candidate(9901, 31, "create");
    assert_eq!(s.trigger(&mv).await.status(), 502);
    assert_eq!(s.w.sandbox.state().await.sparkhire.jobs.len(), 1, "Spark Hire made the job");
    s.sweep_when_due().await;
    assert_eq!(s.interviews().await, 1, "Spark Hire made the interview");
    assert_eq!(s.card(&mv).await["status"], "sending");
    s.sweep_when_due().await;
    let st = s.w.sandbox.state().await;
    assert_eq!(st.sparkhire.jobs.len(), 1, "no second job");
    assert_eq!(st.sparkhire.interviews.len(), 1, "no second interview");
    drop(st);
    let card = s.card(&mv).await;
    assert_eq!(card["status"], "sent", "{card}");
}

#[tokio::test]
async fn spark_hire_events_reach_the_card_whether_wrapped_or_the_bare_interview() {
    let (_guard, logs) = capture_logs();
    let s = SparkHire::new().await;
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &["Designer"]).await;
    s.connect("31", "sh-key-31").await;
    let job = s.w.sandbox.state().await.sparkhire.jobs[0].uuid.clone();
    let moves: Vec<Move> = (9950..9953).map(|id| s.candidate(id, 31, &job)).collect();
    for mv in &moves {
        assert_eq!(s.trigger(mv).await.status(), 200);
    }
    let uuids: Vec<String> =
        s.w.sandbox.state().await.sparkhire.interviews.iter().map(|i| i.uuid.clone()).collect();
    let deliveries = [
        (&uuids[0], "InterviewCompleted", Envelope::Wrapped),
        (&uuids[1], "InterviewCompleted", Envelope::Bare),
        (&uuids[2], "InterviewExpired", Envelope::Bare),
    ];
    for (uuid, event, envelope) in deliveries {
        let sent = s.w.sandbox.sparkhire_events(uuid, event, envelope).await;
        assert_eq!(sent.len(), 1, "one webhook per event");
        for req in sent {
            let resp = s.call(req).await;
            assert_eq!(resp.status(), 200, "{event} {envelope:?}: {}", text(&resp));
        }
    }
    for mv in &moves[..2] {
        let card = s.card(mv).await;
        assert_eq!(card["status"], "completed", "{card}");
        assert_eq!(card["attachments"][0]["description"], "Watch", "{card}");
        assert!(card["url"].as_str().unwrap().starts_with("https://app.sparkhire.com/share/"), "{card}");
    }
    let expired = s.card(&moves[2]).await;
    assert_eq!(expired["status"], "failed", "{expired}");
    assert!(expired["summary"].as_str().unwrap().contains("expired"));
    let logs = logs.text();
    assert!(logs.contains(r#""envelope":"wrapped""#) && logs.contains(r#""envelope":"bare""#), "{logs}");
}

#[tokio::test]
async fn a_bare_interview_without_its_event_lands_by_its_status_and_a_body_of_neither_shape_is_refused() {
    let s = SparkHire::new().await;
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &["Designer"]).await;
    s.connect("31", "sh-key-31").await;
    let job = s.w.sandbox.state().await.sparkhire.jobs[0].uuid.clone();
    let mv = s.candidate(9960, 31, &job);
    assert_eq!(s.trigger(&mv).await.status(), 200);
    let uuid = s.w.sandbox.state().await.sparkhire.interviews[0].uuid.clone();
    let mut req = s.w.sandbox.sparkhire_events(&uuid, "InterviewCompleted", Envelope::Bare).await.remove(0);
    let auth = req.headers()["authorization"].to_str().unwrap().to_owned();
    // The same interview posted to the bare events URL (no `?event=`): its status says completed.
    *req.uri_mut() = "/sparkhire/events".parse().unwrap();
    assert_eq!(s.call(req).await.status(), 200);
    assert_eq!(s.card(&mv).await["status"], "completed");
    for neither in [json!({"event": "InterviewCompleted"}), json!([{"uuid": uuid}])] {
        let req = body(event("x", &json!({}), &auth), &neither.to_string());
        assert_eq!(s.call(req).await.status(), 422, "{neither}");
    }
}

/// The Teamtailor webhook of `mv` with the candidate's locations (as Teamtailor's example carries
/// them), signed and with its partner result registered.
async fn fire_with_locations(s: &SparkHire, mv: &Move, locations: Value) -> hirebridge::web::Request {
    let mut hook = mv.body();
    hook["partner-event"]["candidate"]["locations"] = locations;
    s.w.sandbox.add_partner_result(&mv.result_id).await;
    let tt = &s.w.teamtailor_sparkhire;
    let signature = tt.signature(&mv.event_id, now());
    tt.webhook_raw("sparkhire", &s.partner_key, &signature, Bytes::from(hook.to_string()))
}

#[tokio::test]
async fn a_job_created_from_the_teamtailor_job_has_its_location_or_a_neutral_one() {
    let s = SparkHire::new().await;
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &[]).await;
    s.connect("31", "sh-key-31").await;
    let stockholm = json!([{"name": "Stockholm", "address": "Åsögatan 18, 126 41, Stockholm"}]);
    let resp = s.call(fire_with_locations(&s, &s.candidate(9970, 31, "create"), stockholm).await).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let mut elsewhere = s.candidate(9971, 31, "create");
    elsewhere.job = Some((10, "Engineer".into(), "Video interview".into()));
    let resp = s.call(fire_with_locations(&s, &elsewhere, json!([])).await).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let st = s.w.sandbox.state().await;
    let jobs: Vec<(&str, &str)> =
        st.sparkhire.jobs.iter().map(|j| (j.title.as_str(), j.location.as_str())).collect();
    assert_eq!(jobs, [("Product Designer", "Stockholm"), ("Engineer", "Not specified")]);
    assert_eq!(st.sparkhire.interviews.len(), 2);
}

#[tokio::test]
async fn a_recruiter_without_a_key_or_with_a_revoked_one_is_answered_422_with_the_cards_words() {
    let s = SparkHire::new().await;
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &["Designer"]).await;
    s.connect("31", "sh-key-31").await;
    let job = s.w.sandbox.state().await.sparkhire.jobs[0].uuid.clone();
    s.w.sandbox.revoke_sparkhire_key("sh-key-31").await;
    let revoked = s.candidate(9980, 31, &job);
    let never_connected = s.candidate(9981, 77, &job);
    for (mv, words) in
        [(&revoked, "Reconnect Spark Hire"), (&never_connected, "connect your Spark Hire account")]
    {
        for delivery in ["first", "repeated"] {
            let resp = s.trigger(mv).await;
            assert_eq!(resp.status(), 422, "{delivery}: {}", text(&resp));
            assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
            let card = s.card(mv).await;
            assert_eq!(card["status"], "failed", "{card}");
            assert_eq!(text(&resp), card["summary"].as_str().unwrap(), "the card's own words");
            assert!(text(&resp).contains(words), "{}", text(&resp));
        }
    }
    assert_eq!(s.interviews().await, 0);
}

#[tokio::test]
async fn a_candidate_invited_again_to_the_same_job_gets_a_new_interview_even_when_the_first_post_failed() {
    let _turn = SWEEPING.lock().await;
    let mut s = SparkHire::new().await;
    s.retry_soon();
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &["Designer"]).await;
    s.connect("31", "sh-key-31").await;
    let job = s.w.sandbox.state().await.sparkhire.jobs[0].uuid.clone();
    let first = s.candidate(9990, 31, &job);
    assert_eq!(s.trigger(&first).await.status(), 200);
    // Invited again (a new trigger for the same candidate and job); Spark Hire is down for its
    // first attempt, so the retry looks before it posts.
    let outage = Fault {
        service: "sparkhire".into(),
        method: Some("POST".into()),
        path_contains: "/interviews".into(),
        status: Some(503),
        delay_ms: 0,
        times: 1,
        try_again_seconds: None,
    };
    s.w.sandbox.add_fault(outage).await;
    let again = s.candidate(9990, 31, &job);
    assert_eq!(s.trigger(&again).await.status(), 502);
    s.sweep_when_due().await;
    let st = s.w.sandbox.state().await;
    assert_eq!(st.sparkhire.interviews.len(), 2, "a new interview, not the first one adopted");
    drop(st);
    assert_eq!(s.card(&again).await["status"], "sent");
}

#[tokio::test]
async fn a_retry_after_a_lost_answer_finds_its_interview_behind_a_hundred_busier_ones() {
    let _turn = SWEEPING.lock().await;
    let mut s = SparkHire::new().await;
    s.retry_soon();
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &["Designer"]).await;
    s.connect("31", "sh-key-31").await;
    let job = s.w.sandbox.state().await.sparkhire.jobs[0].uuid.clone();
    let lost = Fault {
        service: "sparkhire".into(),
        method: Some("POST".into()),
        path_contains: "/sparkhire/interviews".into(),
        status: Some(502),
        delay_ms: 0,
        times: 1,
        try_again_seconds: None,
    };
    s.w.sandbox.add_fault_after_performing(lost).await;
    let mv = s.candidate(9995, 31, &job);
    assert_eq!(s.trigger(&mv).await.status(), 502);
    {
        // A busy account: 150 other interviews of Rita's change before the retry.
        let mut st = s.w.sandbox.state().await;
        let made = st.sparkhire.interviews[0].clone();
        for n in 0..150 {
            let mut other = made.clone();
            other.uuid = format!("shi-busy-{n:03}");
            other.assigned_to[0].email = format!("other{n}@example.com");
            st.sparkhire.interviews.push(other);
        }
    }
    s.sweep_when_due().await;
    let st = s.w.sandbox.state().await;
    let theirs = st.sparkhire.interviews.iter().filter(|i| i.assigned_to[0].email == mv.email).count();
    assert_eq!(theirs, 1, "no second interview");
    drop(st);
    assert_eq!(s.card(&mv).await["status"], "sent");
}
