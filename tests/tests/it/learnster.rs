//! Learnster end to end: the `learnster-webhook` handler against the DynamoDB and Secrets
//! Manager API (moto) and the sandbox playing Teamtailor and Learnster over HTTP.
use std::collections::BTreeSet;
use std::time::Duration;

use hirebridge::outbound::RetryPolicy;
use hirebridge_tests::*;
use serde_json::json;
use testkit::driver::{admin, Move};
use testkit::sandbox::{Access, Fault, Job, Scope};

fn tags_of(students: &[testkit::sandbox::Student], email: &str) -> BTreeSet<String> {
    students.iter().find(|s| s.user["email"] == email).map(|s| s.tags.clone()).unwrap_or_default()
}

#[tokio::test]
async fn offered_then_hired_tags_one_student() {
    let w = World::new().await;
    w.sandbox
        .add_job(Job {
            id: "4711".into(),
            title: "Product Designer".into(),
            department: Some("Design Ops".into()),
        })
        .await;
    // The listing requires the company's API key: a read key is enough to read the job.
    w.sandbox.add_teamtailor_key("company-read-key", Scope::Public, Access::Read).await;
    let (_, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);

    let offered = Move::new(1001, "ada@example.com", Some((4711, "Product Designer", "Offered")));
    let req =
        with_header(w.fire("learnster", &key, &offered).await, "teamtailor-api-token", "company-read-key");
    let resp = w.call(req).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    assert_eq!(json_of(&resp)["partner_result_attributes"]["status"], "completed");

    let hired = Move {
        event_id: uuid::Uuid::new_v4().to_string(),
        result_id: uuid::Uuid::new_v4().to_string(),
        job: Some((4711, "Product Designer".into(), "Hired".into())),
        ..offered.clone()
    };
    let req =
        with_header(w.fire("learnster", &key, &hired).await, "teamtailor-api-token", "company-read-key");
    let resp = w.call(req).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));

    let st = w.sandbox.state().await;
    assert_eq!(st.learnster.students.len(), 1, "one student for the candidate");
    let expected: BTreeSet<String> =
        ["tt_title_product designer", "tt_department_design ops", "tt_stage_offered", "tt_stage_hired"]
            .into_iter()
            .map(String::from)
            .collect();
    assert_eq!(tags_of(&st.learnster.students, "ada@example.com"), expected);
    let user = &st.learnster.students[0].user;
    assert_eq!(
        (user["first_name"].as_str(), user["last_name"].as_str(), user["phone"].as_str()),
        (Some("Juston"), Some("Becker"), Some("+4670432121"))
    );

    // Both partner results completed, written with the listing's partner key and version.
    for mv in [&offered, &hired] {
        let r = &st.partner.results[&mv.result_id];
        assert_eq!(r["status"], "completed");
        assert!(r["summary"].as_str().unwrap().contains("ada@example.com"));
    }
    assert!(st.partner.results[&offered.result_id]["summary"].as_str().unwrap().contains("created"));
    let puts: Vec<_> =
        st.requests.iter().filter(|r| r.service == "teamtailor" && r.method == "PUT").collect();
    assert_eq!(puts.len(), 2);
    assert!(puts.iter().all(|r| r.authorization.as_deref() == Some(&format!("Bearer {PARTNER_API_KEY}"))
        && r.api_version.as_deref() == Some("20180828")));
    // The department was read from Teamtailor's job with the company's token.
    let job_reads: Vec<_> =
        st.requests.iter().filter(|r| r.path.starts_with("/teamtailor/v1/jobs/4711")).collect();
    assert!(
        !job_reads.is_empty()
            && job_reads.iter().all(|r| r.authorization.as_deref() == Some("Token token=company-read-key"))
    );
}

#[tokio::test]
async fn a_switched_off_tag_category_is_not_added_and_bulk_mode_uses_the_candidates_department() {
    let w = World::new().await;
    let (_, token) = w.switch_on(json!({"title": false})).await;
    let key = w.provider_key(&token);
    let mv = Move::new(1002, "bo@example.com", Some((99, "Chief Tester", "Offered")));
    assert_eq!(w.call(w.fire("learnster", &key, &mv).await).await.status(), 200);
    // Bulk mode: no job at all.
    let bulk = Move::new(1003, "cy@example.com", None);
    let resp = w.call(w.fire("learnster", &key, &bulk).await).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let st = w.sandbox.state().await;
    let bo = tags_of(&st.learnster.students, "bo@example.com");
    assert!(bo.iter().all(|t| !t.starts_with("tt_title_")), "{bo:?}");
    assert!(bo.contains("tt_department_product development") && bo.contains("tt_stage_offered"), "{bo:?}");
    assert_eq!(
        tags_of(&st.learnster.students, "cy@example.com"),
        BTreeSet::from(["tt_department_product development".to_owned()])
    );
}

#[tokio::test]
async fn duplicate_and_concurrent_deliveries_have_one_effect() {
    let w = World::new().await;
    let (_, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);

    let mv = Move::new(2001, "dup@example.com", Some((1, "Engineer", "Hired")));
    let first = w.call(w.fire("learnster", &key, &mv).await).await;
    let again = w.call(w.fire("learnster", &key, &mv).await).await;
    assert_eq!(first.status(), 200);
    assert_eq!((again.status(), text(&again)), (first.status(), text(&first)));

    let mv = Move::new(2002, "five@example.com", Some((1, "Engineer", "Hired")));
    let copies = (0..5).map(|_| async { w.call(w.fire("learnster", &key, &mv).await).await });
    let answers = futures::future::join_all(copies).await;
    let bodies: BTreeSet<(u16, String)> = answers.iter().map(|r| (r.status().as_u16(), text(r))).collect();
    assert_eq!(bodies.len(), 1, "every copy gets the same answer: {bodies:?}");
    assert_eq!(bodies.iter().next().unwrap().0, 200);

    let creations = w.sandbox.count("learnster", "POST", "/users/students/").await;
    assert_eq!(creations, 2, "one student-creation call per candidate");
    let st = w.sandbox.state().await;
    assert_eq!(st.learnster.students.iter().filter(|s| s.user["email"] == "five@example.com").count(), 1);
    assert_eq!(st.partner.updates.iter().filter(|u| u.id == mv.result_id).count(), 1);
}

#[tokio::test]
async fn bad_keys_and_signatures_are_refused_and_write_nothing() {
    let w = World::new().await;
    let (_, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    let mv = Move::new(3001, "eve@example.com", Some((1, "Engineer", "Offered")));

    let forged = hirebridge::teamtailor::provider_key::encode_jwt(
        &json!({"secret_token": token}),
        &"not-the-partner-key".into(),
    );
    let bad_sig =
        hirebridge::teamtailor::signature::sign(now(), &mv.event_id, &"not-the-webhook-secret".into());
    let stale_sig = w.teamtailor.signature(&mv.event_id, now() - 600);
    let body = bytes::Bytes::from(mv.body().to_string());
    let cases = [
        (
            "forged provider key",
            w.teamtailor.webhook_raw(
                "learnster",
                &forged,
                &w.teamtailor.signature(&mv.event_id, now()),
                body.clone(),
            ),
        ),
        (
            "no provider key",
            w.teamtailor.webhook_raw(
                "learnster",
                "",
                &w.teamtailor.signature(&mv.event_id, now()),
                body.clone(),
            ),
        ),
        ("bad signature", w.teamtailor.webhook_raw("learnster", &key, &bad_sig, body.clone())),
        ("stale signature", w.teamtailor.webhook_raw("learnster", &key, &stale_sig, body.clone())),
        (
            "signature of another event",
            w.teamtailor.webhook_raw(
                "learnster",
                &key,
                &w.teamtailor.signature("other-event", now()),
                body.clone(),
            ),
        ),
    ];
    for (what, req) in cases {
        let resp = w.call(req).await;
        assert_eq!(resp.status(), 401, "{what}: {}", text(&resp));
        assert!(!text(&resp).is_empty(), "{what}: the answer says why");
    }
    let malformed = w.teamtailor.webhook_raw(
        "learnster",
        &key,
        &w.teamtailor.signature(&mv.event_id, now()),
        bytes::Bytes::from_static(b"{\"partner-event\": "),
    );
    let resp = w.call(malformed).await;
    assert_eq!(resp.status(), 400, "{}", text(&resp));

    // Nothing reached the outside services (switching on checked the credentials once), and
    // nothing was recorded for the event.
    let st = w.sandbox.state().await;
    assert!(st.requests.iter().all(|r| r.path.ends_with("/auth/token/")), "{:?}", st.requests);
    assert!(!w.table_text().await.contains(&mv.event_id), "no record of the refused event");
}

#[tokio::test]
async fn a_switched_off_integration_refuses_triggers_in_plain_text() {
    let w = World::new().await;
    let (id, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    let resp = w.call(admin("DELETE", &format!("/learnster/integrations/{id}"), ADMIN_TOKEN, None)).await;
    assert_eq!(resp.status(), 204);
    let mv = Move::new(4001, "off@example.com", Some((1, "Engineer", "Offered")));
    let resp = w.call(w.fire("learnster", &key, &mv).await).await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(text(&resp).contains("switch Teamtailor on"), "{}", text(&resp));
    assert_eq!(w.sandbox.count("learnster", "POST", "/users/students/").await, 0);
    // The credentials are gone from Secrets Manager, and validate refuses the old token.
    assert!(w.secret(&format!("tenant/learnster/{id}")).await.is_none());
    let resp = w.call(w.teamtailor.get("/learnster/validate", &key)).await;
    assert_eq!(resp.status(), 422);
    assert!(json_of(&resp)["errors"][0].as_str().unwrap().contains("Secret Token"));
}

#[tokio::test]
async fn a_candidate_without_email_gets_a_message_saying_what_to_fix() {
    let w = World::new().await;
    let (_, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    let mut mv = Move::new(4002, "", Some((1, "Engineer", "Offered")));
    mv.last_name = " ".into();
    let resp = w.call(w.fire("learnster", &key, &mv).await).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(text(&resp), "Learnster needs the candidate's last name and e-mail address; add it to the candidate and move them again.");
}

#[tokio::test]
async fn learnster_down_is_recorded_as_failed_due_for_a_retry_and_can_be_retried_by_hand() {
    let w = World::new().await;
    let (id, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    w.sandbox
        .add_fault(Fault {
            service: "learnster".into(),
            method: Some("POST".into()),
            path_contains: "/users/students/".into(),
            status: Some(503),
            delay_ms: 0,
            times: 100,
            try_again_seconds: None,
        })
        .await;

    let mv = Move::new(5001, "down@example.com", Some((1, "Engineer", "Offered")));
    let resp = w.call(w.fire("learnster", &key, &mv).await).await;
    assert_eq!(resp.status(), 502, "{}", text(&resp));
    let message = text(&resp);
    assert!(message.contains("503") && message.contains("retry automatically"), "{message}");
    assert_eq!(
        w.sandbox.count("learnster", "POST", "/users/students/").await,
        1,
        "a POST without an idempotency key is not sent again at once: it may have been performed"
    );

    // The card says what happened and what comes next; the event stays recorded, due again.
    let result = w.sandbox.state().await.partner.results[&mv.result_id].clone();
    assert_eq!(result["status"], "sending");
    assert_eq!(result["summary"].as_str().unwrap(), message);
    let record =
        w.deps.platform.idempotency.record(&format!("learnster#{id}"), &mv.event_id).await.unwrap().unwrap();
    assert_eq!(record.state, hirebridge::idempotency::WorkState::Failed);
    assert!(record.error.unwrap().contains("503"));
    assert!(record.due_at.is_some(), "in the due index");
    let failed = json_of(
        &w.call(admin("GET", &format!("/learnster/integrations/{id}/events"), ADMIN_TOKEN, None)).await,
    );
    assert_eq!(failed["failed_events"][0]["event_id"], mv.event_id.as_str());

    // Learnster recovers; the admin retries the recorded event.
    w.sandbox.state().await.faults.clear();
    let resp = w
        .call(admin(
            "POST",
            &format!("/learnster/integrations/{id}/events/{}/retry", mv.event_id),
            ADMIN_TOKEN,
            None,
        ))
        .await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    assert_eq!(json_of(&resp)["status"], "completed");
    let st = w.sandbox.state().await;
    assert_eq!(st.partner.results[&mv.result_id]["status"], "completed");
    assert_eq!(st.learnster.students.iter().filter(|s| s.user["email"] == "down@example.com").count(), 1);
}

#[tokio::test]
async fn a_slow_learnster_is_retried_after_timeouts() {
    let policy = RetryPolicy { request_timeout: Duration::from_millis(300), ..fast_policy() };
    let w = World::with_policy(policy).await;
    let (_, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    w.sandbox
        .add_fault(Fault {
            service: "learnster".into(),
            method: Some("GET".into()),
            path_contains: "/users/students/".into(),
            status: None,
            delay_ms: 1500,
            times: 2,
            try_again_seconds: None,
        })
        .await;
    let mv = Move::new(5002, "slow@example.com", Some((1, "Engineer", "Offered")));
    let resp = w.call(w.fire("learnster", &key, &mv).await).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    assert_eq!(
        w.sandbox.count("learnster", "GET", "/users/students/").await,
        3,
        "two timeouts, then an answer"
    );

    // When it never answers in time, the failure says so.
    w.sandbox
        .add_fault(Fault {
            service: "learnster".into(),
            method: Some("GET".into()),
            path_contains: "/users/students/".into(),
            status: None,
            delay_ms: 1500,
            times: 3,
            try_again_seconds: None,
        })
        .await;
    let mv = Move::new(5003, "slower@example.com", Some((1, "Engineer", "Offered")));
    let resp = w.call(w.fire("learnster", &key, &mv).await).await;
    assert_eq!(resp.status(), 502);
    assert!(text(&resp).contains("did not answer"), "{}", text(&resp));
}

#[tokio::test]
async fn secrets_stay_out_of_logs_and_the_table() {
    let (_guard, logs) = capture_logs();
    let w = World::new().await;
    w.sandbox.add_teamtailor_key("company-token-SECRET", Scope::Public, Access::Read).await;
    let (id, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    let mv = Move::new(6001, "quiet@example.com", Some((1, "Engineer", "Offered")));
    let req =
        with_header(w.fire("learnster", &key, &mv).await, "teamtailor-api-token", "company-token-SECRET");
    assert_eq!(w.call(req).await.status(), 200);
    // A failing path logs too.
    w.sandbox
        .add_fault(Fault {
            service: "learnster".into(),
            method: None,
            path_contains: "".into(),
            status: Some(500),
            delay_ms: 0,
            times: 100,
            try_again_seconds: None,
        })
        .await;
    let mv = Move::new(6002, "loud@example.com", Some((1, "Engineer", "Offered")));
    assert_eq!(w.call(w.fire("learnster", &key, &mv).await).await.status(), 502);

    let captured = logs.text();
    assert!(captured.lines().count() >= 3, "logs were captured: {captured}");
    for secret in [
        token.as_str(),
        CLIENT_SECRET,
        PARTNER_API_KEY,
        WEBHOOK_SECRET,
        "company-token-SECRET",
        key.as_str(),
        ADMIN_TOKEN,
    ] {
        assert!(!captured.contains(secret), "a secret reached the logs");
    }
    let table = w.table_text().await;
    for secret in [token.as_str(), CLIENT_SECRET, "company-token-SECRET"] {
        assert!(!table.contains(secret), "a secret reached DynamoDB");
    }
    // The credentials are in Secrets Manager.
    let stored = w.secret(&format!("tenant/learnster/{id}")).await.expect("tenant secret");
    assert!(stored.contains(CLIENT_SECRET));
}

#[tokio::test]
async fn admin_routes_need_the_token_and_say_what_is_wrong() {
    let w = World::new().await;
    let resp = w.call(admin("POST", "/learnster/integrations", "wrong-token", Some(&json!({})))).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let bad = json!({"space": "Acme.evil.com", "vendor_id": "x", "client_id": "c", "client_secret": "s"});
    let resp = w.call(admin("POST", "/learnster/integrations", ADMIN_TOKEN, Some(&bad))).await;
    assert_eq!(resp.status(), 422);
    let detail = json_of(&resp)["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("space") && detail.contains("vendor_id"), "{detail}");
    // Learnster refusing the credentials is reported, and nothing is stored.
    w.sandbox
        .add_fault(Fault {
            service: "learnster".into(),
            method: None,
            path_contains: "auth/token".into(),
            status: Some(401),
            delay_ms: 0,
            times: 1,
            try_again_seconds: None,
        })
        .await;
    let good = json!({"space": "acme", "vendor_id": uuid::Uuid::new_v4().to_string(), "client_id": "c", "client_secret": "wrong"});
    let resp = w.call(admin("POST", "/learnster/integrations", ADMIN_TOKEN, Some(&good))).await;
    assert_eq!(resp.status(), 422, "{}", text(&resp));
    assert!(json_of(&resp)["detail"].as_str().unwrap().contains("did not accept"));
    // Tag switches can be changed.
    let (id, _) = w.switch_on(json!({})).await;
    let resp = w
        .call(admin(
            "PUT",
            &format!("/learnster/integrations/{id}"),
            ADMIN_TOKEN,
            Some(&json!({"tags": {"stage": false}})),
        ))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(json_of(&resp)["tags"], json!({"title": true, "department": true, "stage": false}));
}

#[tokio::test]
async fn forms_for_teamtailor() {
    let w = World::new().await;
    let (_, token) = w.switch_on(json!({"department": false})).await;
    let key = w.provider_key(&token);
    let resp = w.call(w.teamtailor.get("/learnster/activation?company_id=abc", "")).await;
    let form = json_of(&resp);
    assert_eq!(form["config"]["fields"][1]["id"], "secret_token");
    assert_eq!(form["config"]["fields"][1]["type"], "password");
    assert_eq!(w.call(w.teamtailor.get("/learnster/validate", &key)).await.status(), 200);
    let resp = w.call(w.teamtailor.get("/learnster/config?job_id=1&stage_id=2&user_id=3", &key)).await;
    let info = json_of(&resp)["config"]["fields"][0]["content"].as_str().unwrap().to_owned();
    assert!(info.contains("tt_title_") && !info.contains("tt_department_"), "{info}");
    // A bad provider key on /config is shown as an error field, still with 200.
    let resp = w.call(w.teamtailor.get("/learnster/config", "nonsense")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(json_of(&resp)["config"]["fields"][0]["type"], "error");
}

#[tokio::test]
async fn teamtailors_documented_example_is_accepted() {
    let w = World::new().await;
    let (_, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    let example = include_str!("../../fixtures/teamtailor-webhook-docs-example.json");
    let event_id = "f3d7e8e2-da33-4c10-ae5f-0e7f4d46f6d7";
    let fixture: serde_json::Value = serde_json::from_str(example).unwrap();
    let result_id = fixture["partner-event"]["partner-result"]["id"].as_str().unwrap();
    w.sandbox.add_partner_result(result_id).await;
    let req = w.teamtailor.webhook_raw(
        "learnster",
        &key,
        &w.teamtailor.signature(event_id, now()),
        bytes::Bytes::from_static(example.as_bytes()),
    );
    let resp = w.call(req).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let st = w.sandbox.state().await;
    assert_eq!(
        tags_of(&st.learnster.students, "applicant100@example.com"),
        BTreeSet::from([
            "tt_title_full-stack web developer".to_owned(),
            "tt_department_product development".to_owned(),
            "tt_stage_after interview".to_owned(),
        ])
    );
    assert_eq!(st.partner.results[result_id]["status"], "completed");
}

fn learnster_fault(method: &str, path: &str, status: Option<u16>, delay_ms: u64, times: u32) -> Fault {
    Fault {
        service: "learnster".into(),
        method: Some(method.into()),
        path_contains: path.into(),
        status,
        delay_ms,
        times,
        try_again_seconds: None,
    }
}

fn students_with(st: &testkit::sandbox::SandboxState, email: &str) -> usize {
    st.learnster.students.iter().filter(|s| s.user["email"] == email).count()
}

#[tokio::test]
async fn learnster_down_for_a_whole_trigger_is_finished_once_by_the_scheduled_sweep() {
    let mut w = World::new().await;
    w.deps.platform.idempotency.retry_schedule = vec![0, 0, 0];
    let (id, token) = w.switch_on(json!({"stage": true})).await;
    let key = w.provider_key(&token);
    w.sandbox.add_fault(learnster_fault("GET", "/", Some(503), 0, 1000)).await;
    w.sandbox.add_fault(learnster_fault("POST", "/", Some(503), 0, 1000)).await;
    let mv = Move::new(6001, "outage@example.com", Some((1, "Engineer", "Offered")));
    let resp = w.call(w.fire("learnster", &key, &mv).await).await;
    assert_eq!(resp.status(), 502);
    assert!(text(&resp).contains("will retry automatically"), "{}", text(&resp));
    assert_eq!(w.sandbox.state().await.partner.results[&mv.result_id]["status"], "sending");

    // Still down at the first scheduled run: still due, nothing created.
    let report = learnster::sweep(&w.deps).await;
    assert!(report["rerun"].as_u64().unwrap() >= 1, "{report}");
    assert_eq!(students_with(&*w.sandbox.state().await, "outage@example.com"), 0);

    // Learnster is back: the next run finishes it, once; Teamtailor delivered nothing again.
    w.sandbox.state().await.faults.clear();
    let report = learnster::sweep(&w.deps).await;
    assert!(report["rerun"].as_u64().unwrap() >= 1, "{report}");
    let st = w.sandbox.state().await;
    assert_eq!(students_with(&st, "outage@example.com"), 1);
    assert_eq!(st.partner.results[&mv.result_id]["status"], "completed");
    drop(st);
    let record =
        w.deps.platform.idempotency.record(&format!("learnster#{id}"), &mv.event_id).await.unwrap().unwrap();
    assert_eq!(record.state, hirebridge::idempotency::WorkState::Completed);
    let again = learnster::sweep(&w.deps).await;
    assert_eq!(again["rerun"], 0, "nothing left to do: {again}");
}

/// An older card that was being sent again (the sweep's redelivery) while the retried work sent
/// the newer one, and reached Teamtailor after it: the older delivery sees the newer card stored
/// and sends it again, so the card ends on the newer one.
#[tokio::test]
async fn an_older_card_arriving_after_the_newer_one_is_followed_by_the_newer_again() {
    let mut w = World::new().await;
    w.deps.platform.idempotency.retry_schedule = vec![0, 0];
    let (_, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    let teamtailor_put = |status: Option<u16>, delay_ms: u64, times: u32| Fault {
        service: "teamtailor".into(),
        method: Some("PUT".into()),
        path_contains: "/partner-results/".into(),
        status,
        delay_ms,
        times,
        try_again_seconds: None,
    };
    // Learnster and Teamtailor both down: the work fails, and so does its card ("will retry").
    w.sandbox.add_fault(learnster_fault("GET", "/", Some(503), 0, 1000)).await;
    w.sandbox.add_fault(learnster_fault("POST", "/", Some(503), 0, 1000)).await;
    w.sandbox.add_fault(teamtailor_put(Some(503), 0, 1000)).await;
    let mv = Move::new(6011, "late-card@example.com", Some((1, "Engineer", "Offered")));
    assert_eq!(w.call(w.fire("learnster", &key, &mv).await).await.status(), 502);
    assert!(w.sandbox.state().await.partner.updates.iter().all(|u| u.id != mv.result_id));

    // Both back; the older card's redelivery is slow to arrive, the retried work's card is not.
    w.sandbox.state().await.faults.clear();
    w.sandbox.add_fault(teamtailor_put(None, 1500, 1)).await;
    let card = hirebridge::keys::card("learnster", &mv.update_url());
    let partner_key = hirebridge::SecretString::from(PARTNER_API_KEY);
    let older = hirebridge::cards::resend_stored(&w.deps.platform, &card, &partner_key);
    let newer = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        learnster::sweep(&w.deps).await
    };
    let (older, swept) = tokio::join!(older, newer);
    older.unwrap();
    assert_eq!(swept["rerun"], 1, "{swept}");
    let st = w.sandbox.state().await;
    let updates: Vec<&serde_json::Value> =
        st.partner.updates.iter().filter(|u| u.id == mv.result_id).map(|u| &u.attributes["status"]).collect();
    assert_eq!(updates.first(), Some(&&json!("completed")), "the race happened: {updates:?}");
    assert_eq!(st.partner.results[&mv.result_id]["status"], "completed", "{updates:?}");
}

#[tokio::test]
async fn a_student_created_behind_a_502_is_not_created_again() {
    let mut w = World::new().await;
    w.deps.platform.idempotency.retry_schedule = vec![0];
    let (_, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    w.sandbox.add_fault_after_performing(learnster_fault("POST", "/users/students/", Some(502), 0, 1)).await;
    let mv = Move::new(6002, "twice@example.com", Some((1, "Engineer", "Offered")));
    let resp = w.call(w.fire("learnster", &key, &mv).await).await;
    assert_eq!(resp.status(), 502, "{}", text(&resp));
    assert_eq!(students_with(&*w.sandbox.state().await, "twice@example.com"), 1, "Learnster made it anyway");

    learnster::sweep(&w.deps).await;
    let st = w.sandbox.state().await;
    assert_eq!(students_with(&st, "twice@example.com"), 1, "found by e-mail, not created again");
    assert_eq!(st.partner.results[&mv.result_id]["status"], "completed");
}

#[tokio::test]
async fn a_learnster_hanging_past_the_invocations_deadline_is_recorded_and_retried_not_left_in_progress() {
    let mut w = World::new().await;
    w.deps.platform.idempotency.retry_schedule = vec![0];
    let (id, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    // Every attempt hangs: the calls go on until the invocation's time runs out.
    w.sandbox.add_fault(learnster_fault("GET", "/users/students/", None, 5_000, 10)).await;
    let mv = Move::new(6003, "slowpoke@example.com", Some((1, "Engineer", "Offered")));
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1_500);
    let req = w.fire("learnster", &key, &mv).await;
    let started = std::time::Instant::now();
    let resp = hirebridge::outbound::within(deadline, w.call(req)).await;
    assert!(started.elapsed() < Duration::from_secs(3), "answered within the invocation's time");
    assert_eq!(resp.status(), 502);
    assert!(text(&resp).contains("will retry automatically"), "{}", text(&resp));
    let record =
        w.deps.platform.idempotency.record(&format!("learnster#{id}"), &mv.event_id).await.unwrap().unwrap();
    assert_eq!(record.state, hirebridge::idempotency::WorkState::Failed, "recorded, not left in progress");

    w.sandbox.state().await.faults.clear();
    learnster::sweep(&w.deps).await;
    let st = w.sandbox.state().await;
    assert_eq!(students_with(&st, "slowpoke@example.com"), 1);
    assert_eq!(st.partner.results[&mv.result_id]["status"], "completed");
}

#[tokio::test]
async fn an_invocation_ended_mid_work_is_run_again_after_its_lease_and_finishes_once() {
    let mut w = World::new().await;
    w.deps.platform.idempotency.lease = Duration::from_millis(300);
    let (id, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    w.sandbox.add_fault(learnster_fault("GET", "/users/students/", None, 3_000, 1)).await;
    let mv = Move::new(6004, "ended@example.com", Some((1, "Engineer", "Offered")));
    let req = w.fire("learnster", &key, &mv).await;
    // Lambda ends the invocation while it waits for Learnster.
    let _ = tokio::time::timeout(Duration::from_millis(500), w.call(req)).await;
    let record =
        w.deps.platform.idempotency.record(&format!("learnster#{id}"), &mv.event_id).await.unwrap().unwrap();
    assert_eq!(record.state, hirebridge::idempotency::WorkState::InProgress);

    tokio::time::sleep(Duration::from_millis(2_100)).await; // the lease ends; the item is due
    let report = learnster::sweep(&w.deps).await;
    assert_eq!(report["rerun"], 1, "{report}");
    let st = w.sandbox.state().await;
    assert_eq!(students_with(&st, "ended@example.com"), 1);
    assert_eq!(st.partner.results[&mv.result_id]["status"], "completed");
}

#[tokio::test]
async fn the_operator_view_lists_failed_work_and_a_token_of_another_scope_gets_403() {
    let mut w = World::new().await;
    w.deps.platform.idempotency.retry_schedule = vec![3600];
    let (_, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    w.sandbox.add_fault(learnster_fault("GET", "/users/students/", Some(503), 0, 100)).await;
    let mv = Move::new(6005, "listed@example.com", Some((1, "Engineer", "Offered")));
    w.call(w.fire("learnster", &key, &mv).await).await;

    let learnster_token = scoped_token("learnster");
    let listed = w.call(admin("GET", "/learnster/work?state=failed", &learnster_token, None)).await;
    assert_eq!(listed.status(), 200, "{}", text(&listed));
    let work = json_of(&listed)["work"].as_array().cloned().unwrap_or_default();
    let mine = work.iter().find(|i| i["event_id"] == mv.event_id.as_str()).expect("listed");
    assert_eq!(mine["state"], "failed");
    let due = json_of(&w.call(admin("GET", "/learnster/work?state=due", &learnster_token, None)).await);
    assert!(
        due["work"].as_array().unwrap().iter().all(|i| i["event_id"] != mv.event_id.as_str()),
        "due in an hour"
    );

    let alva_token = scoped_token("alva");
    for (method, path) in [
        ("GET", "/learnster/work".to_owned()),
        ("POST", format!("/learnster/work/{}/retry", mine["id"].as_str().unwrap())),
        ("POST", "/learnster/integrations".to_owned()),
        ("GET", "/learnster/integrations/x".to_owned()),
    ] {
        let resp = w.call(admin(method, &path, &alva_token, Some(&json!({})))).await;
        assert_eq!(resp.status(), 403, "{method} {path}: {}", text(&resp));
    }

    w.sandbox.state().await.faults.clear();
    let retried = w
        .call(admin(
            "POST",
            &format!("/learnster/work/{}/retry", mine["id"].as_str().unwrap()),
            &learnster_token,
            None,
        ))
        .await;
    assert_eq!(retried.status(), 200, "{}", text(&retried));
    assert_eq!(w.sandbox.state().await.partner.results[&mv.result_id]["status"], "completed");
}

#[tokio::test]
async fn switching_learnster_off_takes_effect_at_once_on_another_warm_instance() {
    let w = World::new().await;
    let other = learnster::Deps::new(w.another_instance().await);
    let (id, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    let first = Move::new(6101, "warm@example.com", Some((1, "Engineer", "Offered")));
    let resp = learnster::handle(&other, w.fire("learnster", &key, &first).await).await;
    assert_eq!(resp.status(), 200, "the other instance is warm: {}", text(&resp));

    let off = w.call(admin("DELETE", &format!("/learnster/integrations/{id}"), ADMIN_TOKEN, None)).await;
    assert!(off.status().is_success(), "{}", text(&off));
    let later = Move::new(6102, "later@example.com", Some((1, "Engineer", "Offered")));
    let resp = learnster::handle(&other, w.fire("learnster", &key, &later).await).await;
    assert_eq!(resp.status(), 403, "{}", text(&resp));
    assert_eq!(students_with(&*w.sandbox.state().await, "later@example.com"), 0);
}

#[tokio::test]
async fn a_card_update_teamtailor_did_not_take_reaches_the_card_by_the_scheduled_run() {
    let w = World::new().await;
    let (_, token) = w.switch_on(json!({})).await;
    let key = w.provider_key(&token);
    let partner_down = Fault {
        service: "teamtailor".into(),
        method: Some("PUT".into()),
        path_contains: "/partner-results/".into(),
        status: Some(503),
        delay_ms: 0,
        times: 100,
        try_again_seconds: None,
    };
    w.sandbox.add_fault(partner_down).await;
    let mv = Move::new(6201, "card@example.com", Some((1, "Engineer", "Offered")));
    let resp = w.call(w.fire("learnster", &key, &mv).await).await;
    assert_eq!(resp.status(), 200, "the work is done; its answer carries the result: {}", text(&resp));
    let card = w.sandbox.state().await.partner.results.get(&mv.result_id).cloned().unwrap_or_default();
    assert_ne!(card["status"], "completed", "not on the card yet");

    // Teamtailor takes updates again; the card's update is recorded in the due index (its first
    // retry a minute later), and the scheduled run's card part sends it.
    w.sandbox.state().await.faults.clear();
    let due = w.deps.platform.store.query_due("due#learnster", i64::MAX, 10).await.unwrap();
    assert_eq!(due.iter().filter(|i| i.sk == "CARD").count(), 1, "the card update is recorded and due");
    let sent = hirebridge::cards::redeliver_due(&w.deps.platform, &due).await.unwrap();
    assert_eq!(sent, 1);
    assert_eq!(w.sandbox.state().await.partner.results[&mv.result_id]["status"], "completed");
    assert_eq!(students_with(&*w.sandbox.state().await, "card@example.com"), 1);
}
