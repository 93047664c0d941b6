//! Spark Hire end to end: `sparkhire-key-exchange` against the DynamoDB and Secrets Manager API
//! (moto) and the sandbox playing Teamtailor and Spark Hire over HTTP.
use base64::Engine;
use bytes::Bytes;
use hirebridge_tests::*;
use serde_json::{json, Value};
use testkit::driver::{admin, Move};
use testkit::sandbox::Fault;

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

    async fn call(&self, req: hirebridge::web::Request) -> hirebridge::web::Response {
        sparkhire::handle(&self.w.sparkhire, req).await
    }

    async fn config(&self, user: &str) -> Value {
        json_of(
            &self
                .call(
                    self.w.teamtailor_sparkhire.get(
                        &format!("/sparkhire/config?job_id=9&stage_id=1&user_id={user}"),
                        &self.partner_key,
                    ),
                )
                .await,
        )
    }

    async fn connect(&self, user: &str, key: &str) -> hirebridge::web::Response {
        let body = json!({"api_key": key, "company_uuid": self.company});
        self.call(admin("PUT", &format!("/sparkhire/users/{user}/key"), ADMIN_TOKEN, Some(&body))).await
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

    async fn trigger(&self, mv: &Move) -> hirebridge::web::Response {
        self.call(self.w.teamtailor_sparkhire.webhook("sparkhire", &self.partner_key, mv, now())).await
    }
}

fn connect_ticket(form: &Value) -> String {
    let content = form["config"]["fields"][0]["content"].as_str().unwrap_or_default();
    let start = content.find("ticket=").expect("a connect link in the infobox") + "ticket=".len();
    content[start..].split('"').next().unwrap().to_owned()
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

#[tokio::test]
async fn a_recruiter_without_a_key_is_sent_to_the_connect_page_then_sees_their_jobs() {
    let (_guard, logs) = capture_logs();
    let s = SparkHire::new().await;
    let many: Vec<String> = (1..=23).map(|i| format!("Job {i:02}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    s.w.sandbox.add_sparkhire_user("sh-key-rita", "Rita Recruiter", "rita@acme.se", &many).await;

    let form = s.config("31").await;
    assert_eq!(form["config"]["fields"][1]["type"], "error", "saving is blocked: {form}");
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

    let wrong = s.call(form_post(&ticket, "not-a-key")).await;
    assert_eq!(wrong.status(), 422);
    assert!(text(&wrong).contains("did not accept this key") && !text(&wrong).contains("not-a-key"));
    let right = s.call(form_post(&ticket, "sh-key-rita")).await;
    assert_eq!(right.status(), 200, "{}", text(&right));
    assert!(text(&right).contains("Connected as Rita Recruiter"));
    assert!(!text(&right).contains("sh-key-rita"));
    assert_eq!(s.call(form_post(&ticket, "sh-key-rita")).await.status(), 410, "the ticket works once");

    let form = s.config("31").await;
    let fields = form["config"]["fields"].as_array().unwrap();
    let jobs = fields.iter().find(|f| f["id"] == "job").unwrap()["options"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 24, "every page of jobs, plus Create from this Teamtailor job");
    assert_eq!(jobs[0]["id"], "create");
    let ids: Vec<&str> = fields.iter().filter_map(|f| f["id"].as_str()).collect();
    for id in ["job", "interview_type", "question_set", "deadline", "interview_time", "message"] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    let types = fields.iter().find(|f| f["id"] == "interview_type").unwrap().to_string();
    for unsupported in ["sms", "SMS", "invite link", "reference", "behavioral", "behavioural", "embed"] {
        assert!(!form.to_string().contains(unsupported), "{unsupported} is not offered: {types}");
    }
    assert!(s.w.sandbox.state().await.sparkhire.webhooks.len() == 1, "the events webhook was registered");
    assert!(!logs.text().contains("sh-key-rita") && !logs.text().contains("not-a-key"), "no key in the logs");
}

#[tokio::test]
async fn a_ticket_serves_only_its_own_user_and_cannot_be_forged() {
    let s = SparkHire::new().await;
    s.w.sandbox.add_sparkhire_user("sh-key-a", "Anna", "anna@acme.se", &[]).await;
    let ticket = connect_ticket(&s.config("41").await);
    let (payload, sig) = ticket.split_once('.').unwrap();
    let mut claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
            .unwrap();
    claims["subject"] = json!("42");
    let forged =
        format!("{}.{sig}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string()));
    assert_eq!(s.call(form_post(&forged, "sh-key-a")).await.status(), 401);
    assert_eq!(s.call(form_post(&ticket, "sh-key-a")).await.status(), 200);
    assert!(s.w.secret("tenant/sparkhire/users/41").await.is_some());
    assert!(s.w.secret("tenant/sparkhire/users/42").await.is_none(), "user B got nothing");
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
    let bodies: std::collections::BTreeSet<(u16, String)> =
        answers.iter().map(|r| (r.status().as_u16(), text(r))).collect();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    // Four more candidates of the same Teamtailor job at once.
    let others: Vec<Move> = (9102..9106).map(|id| s.candidate(id, 31, "create")).collect();
    let answers = futures::future::join_all(others.iter().map(|m| s.trigger(m))).await;
    assert!(answers.iter().all(|r| r.status() == 200), "{:?}", answers.iter().map(text).collect::<Vec<_>>());
    let st = s.w.sandbox.state().await;
    assert_eq!(st.sparkhire.interviews.len(), 5, "one interview per candidate");
    assert_eq!(
        st.requests
            .iter()
            .filter(|r| r.service == "sparkhire" && r.method == "POST" && r.path.ends_with("/jobs"))
            .count(),
        1,
        "one job"
    );
    let job = st.sparkhire.interviews[0].job_post.uuid.clone();
    assert!(st.sparkhire.interviews.iter().all(|i| i.job_post.uuid == job));
}

#[tokio::test]
async fn a_revoked_key_asks_the_recruiter_to_reconnect_and_rate_limits_are_waited_out() {
    let s = SparkHire::new().await;
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &["Designer"]).await;
    s.connect("31", "sh-key-31").await;
    let job = s.w.sandbox.state().await.sparkhire.jobs[0].uuid.clone();
    // 429 with Spark Hire's retry header: waited out, then sent.
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
    assert!(started.elapsed() >= std::time::Duration::from_millis(900), "the retry waited as asked");
    assert_eq!(s.w.sandbox.count("sparkhire", "POST", "/interviews").await, 2);

    s.w.sandbox.revoke_sparkhire_key("sh-key-31").await;
    let mv = s.candidate(9202, 31, &job);
    let resp = s.trigger(&mv).await;
    assert_eq!(resp.status(), 422);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(text(&resp).contains("Reconnect Spark Hire"), "{}", text(&resp));
    assert_eq!(s.w.sandbox.state().await.partner.results[&mv.result_id]["status"], "failed");
    // A recruiter who never connected gets told to.
    let resp = s.trigger(&s.candidate(9203, 77, &job)).await;
    assert_eq!(resp.status(), 422);
    assert!(text(&resp).contains("connect your Spark Hire account"));
}

#[tokio::test]
async fn results_come_back_with_the_share_link_and_need_the_registered_credentials() {
    let s = SparkHire::new().await;
    s.w.sandbox.add_sparkhire_user("sh-key-31", "Rita", "rita@acme.se", &["Designer"]).await;
    s.connect("31", "sh-key-31").await;
    let job = s.w.sandbox.state().await.sparkhire.jobs[0].uuid.clone();
    let mv = s.candidate(9301, 31, &job);
    assert_eq!(s.trigger(&mv).await.status(), 200);
    let interview = s.w.sandbox.state().await.sparkhire.interviews[0].json();
    let registered = s.w.sandbox.state().await.sparkhire.webhooks[0].http_auth.clone();
    let basic = |user: &str, pass: &str| {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
    };
    let event = |kind: &str, auth: String| {
        http::Request::builder()
            .method("POST")
            .uri("/sparkhire/events")
            .header("authorization", auth)
            .body(Bytes::from(json!({"event": kind, "data": interview}).to_string()))
            .unwrap()
    };
    let resp = s.call(event("InterviewCompleted", basic("hirebridge", "guess"))).await;
    assert_eq!(resp.status(), 401);
    let good = basic(registered["username"].as_str().unwrap(), registered["password"].as_str().unwrap());
    let resp = s.call(event("InterviewCompleted", good.clone())).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let result = s.w.sandbox.state().await.partner.results[&mv.result_id].clone();
    assert_eq!(result["status"], "completed");
    assert_eq!(result["attachments"][0]["description"], "Watch");
    assert_eq!(result["url"], interview["share_link"]["url"]);

    let other = s.candidate(9302, 31, &job);
    assert_eq!(s.trigger(&other).await.status(), 200);
    let second = s.w.sandbox.state().await.sparkhire.interviews[1].json();
    let expired = http::Request::builder()
        .method("POST")
        .uri("/sparkhire/events")
        .header("authorization", good)
        .body(Bytes::from(json!({"event": "InterviewExpired", "data": second}).to_string()))
        .unwrap();
    assert_eq!(s.call(expired).await.status(), 200);
    let result = s.w.sandbox.state().await.partner.results[&other.result_id].clone();
    assert_eq!(result["status"], "failed");
    assert!(result["summary"].as_str().unwrap().contains("expired"));
}
