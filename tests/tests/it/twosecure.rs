//! 2Secure end to end: `twosecure-order` and `twosecure-status` against the DynamoDB and Secrets
//! Manager API (moto) and the sandbox playing Teamtailor and 2Secure over HTTP.
use bytes::Bytes;
use hirebridge_tests::*;
use serde_json::{json, Value};
use testkit::driver::Move;
use testkit::sandbox::Fault;
use twosecure::orders::{self, Order, Status};

const PNR: &str = "811218-9876";
const PNR_12: &str = "198112189876";

struct TwoSecure {
    w: World,
    /// The customer's 2Secure API key: its own per test, as tenants share the table.
    api_key: String,
    key: String,
}

impl TwoSecure {
    async fn new() -> Self {
        let w = World::new().await;
        let api_key = format!("ts-key-{}", uuid::Uuid::new_v4());
        w.sandbox.add_twosecure_key(&api_key, "Acme AB").await;
        let key = w.teamtailor_2secure.provider_key(&json!({ "api_key": api_key }));
        TwoSecure { w, api_key, key }
    }

    fn tenant(&self) -> String {
        twosecure::tenant_id(&self.api_key.as_str().into())
    }

    fn candidate(&self, id: u64, pnr: Option<&str>) -> Move {
        let mut mv =
            Move::new(id, &format!("c{id}@example.com"), Some((4711, "Engineer", "Background check")));
        mv.custom_fields = match pnr {
            Some(p) => json!([{"personnummer": {"value": p, "type": "text"}}]),
            None => json!([]),
        };
        mv.webhook_data = json!({"level": "standard", "billing-reference": "HR-17", "orderer-email": "hr@acme.se", "auto-move": "true"});
        mv
    }

    async fn order(&self, mv: &Move, company_token: &str) -> hirebridge::web::Response {
        let req = self.w.teamtailor_2secure.webhook("2secure", &self.key, mv, now());
        twosecure::handle_order(
            &self.w.twosecure_order,
            with_header(req, "teamtailor-api-token", company_token),
        )
        .await
    }

    async fn callback(&self, body: Value, secret: &str) -> hirebridge::web::Response {
        let body = body.to_string();
        let sig = twosecure::sign(now(), body.as_bytes(), &secret.into());
        let req = http::Request::builder()
            .method("POST")
            .uri("/2secure/callback")
            .header("x-2secure-signature", sig)
            .header("content-type", "application/json")
            .body(Bytes::from(body))
            .unwrap();
        twosecure::handle_status(&self.w.twosecure_status, req).await
    }

    async fn only_order_id(&self) -> String {
        let st = self.w.sandbox.state().await;
        assert_eq!(st.twosecure.orders.len(), 1);
        st.twosecure.orders[0].id.clone()
    }
}

#[tokio::test]
async fn an_order_moves_from_sent_to_completed_and_the_candidate_moves_on_once() {
    let t = TwoSecure::new().await;
    let w = &t.w;
    w.sandbox
        .add_pipeline(
            "4711",
            &[("s1", "Screening"), ("s2", "Background check"), ("s3", "Offer")],
            ("app-1", "7001", "s2"),
        )
        .await;
    w.sandbox.add_file("cv.pdf", b"%PDF-1.4 resume").await;
    let mut mv = t.candidate(7001, Some(PNR));
    mv.resume = Some(("cv.pdf".into(), format!("{}/_sandbox/teamtailor/files/cv.pdf", w.sandbox_url)));
    mv.webhook_data["attachments"] = json!(["resume"]);

    let resp = t.order(&mv, "rw-company-token").await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    assert_eq!(json_of(&resp)["partner_result_attributes"]["status"], "sent");
    let order_id = t.only_order_id().await;
    {
        let st = w.sandbox.state().await;
        let sent = &st.twosecure.orders[0];
        assert_eq!(sent.body["candidate"]["personal_number"], PNR_12, "normalised to 12 digits");
        assert_eq!(sent.body["candidate"]["phone"], "+4670432121");
        assert_eq!(sent.body["package_id"], "standard");
        assert_eq!(sent.body["billing"]["reference"], "HR-17");
        assert_eq!(sent.body["callback_url"], "http://hirebridge.test/2secure/callback");
        assert_eq!(sent.attachment_names, vec!["cv.pdf".to_owned()]);
        assert_eq!(st.partner.results[&mv.result_id]["status"], "sent");
    }

    let resp = t
        .callback(
            json!({"order_id": order_id, "status": "pending", "occurred_at": "2026-11-25T10:00:00Z"}),
            TS_CALLBACK_SECRET,
        )
        .await;
    assert_eq!(json_of(&resp)["status"], "pending", "{}", text(&resp));
    assert_eq!(w.sandbox.state().await.partner.results[&mv.result_id]["status"], "pending");

    let done = json!({"order_id": order_id, "status": "completed", "report_url": "https://portal.2secure.se/reports/r1"});
    let resp = t.callback(done.clone(), TS_CALLBACK_SECRET).await;
    assert_eq!(json_of(&resp)["status"], "completed", "{}", text(&resp));
    // Completed twice, then a late "pending": the candidate moved once, the order stays completed.
    t.callback(done, TS_CALLBACK_SECRET).await;
    let resp = t.callback(json!({"order_id": order_id, "status": "pending"}), TS_CALLBACK_SECRET).await;
    assert_eq!(json_of(&resp)["status"], "completed");

    let st = w.sandbox.state().await;
    let result = &st.partner.results[&mv.result_id];
    assert_eq!(result["status"], "completed");
    assert_eq!(result["url"], "https://portal.2secure.se/reports/r1");
    assert_eq!(result["attachments"][0]["description"], "View report");
    let summary = result["summary"].as_str().unwrap();
    assert!(
        summary.contains("does not mean clean") && summary.contains("moved to the next stage, Offer"),
        "{summary}"
    );
    assert_eq!(st.teamtailor.applications[0].stage_id, "s3");
    let moves =
        st.requests.iter().filter(|r| r.method == "PATCH" && r.path.contains("job-applications")).count();
    assert_eq!(moves, 1, "moved once");
    let updates = st.partner.updates.iter().filter(|u| u.id == mv.result_id).count();
    assert_eq!(updates, 3, "sent, pending, completed; repeats change nothing");
}

#[tokio::test]
async fn invalid_input_gets_a_plain_message_and_no_order_and_the_personnummer_stays_out_of_sight() {
    let (_guard, logs) = capture_logs();
    let t = TwoSecure::new().await;
    let cases = [
        (t.candidate(7101, None), "no Personnummer"),
        (t.candidate(7102, Some("811218-9875")), "check digit"),
        (t.candidate(7103, Some("810230-9875")), "not a real date"),
        (t.candidate(7104, Some("81121X-9876")), "only contain digits"),
    ];
    for (mv, expected) in cases {
        let resp = t.order(&mv, "tok").await;
        assert_eq!(resp.status(), 422);
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let message = text(&resp);
        assert!(message.contains(expected) && message.contains("Personnummer"), "{message}");
        assert!(
            !message.contains("811218") && !message.contains("81121"),
            "the number is not echoed: {message}"
        );
    }
    let mut no_email = t.candidate(7105, Some(PNR));
    no_email.email = String::new();
    let resp = t.order(&no_email, "tok").await;
    assert_eq!(resp.status(), 422);
    assert!(text(&resp).contains("e-mail address"), "{}", text(&resp));
    assert!(!text(&resp).contains("8112"));

    // A valid order too, so that the number has been through every layer once.
    let ok = t.candidate(7106, Some(PNR));
    assert_eq!(t.order(&ok, "tok").await.status(), 200);
    let st = t.w.sandbox.state().await;
    assert_eq!(st.twosecure.orders.len(), 1, "no order for invalid input");
    drop(st);
    let captured = logs.text();
    assert!(captured.lines().count() > 3);
    for needle in ["811218", "8112189876", PNR_12, "81121X", &t.api_key] {
        assert!(!captured.contains(needle), "{needle} reached the logs");
    }
    let table = t.w.table_text().await;
    for needle in ["811218", PNR_12, &t.api_key] {
        assert!(!table.contains(needle), "{needle} reached DynamoDB");
    }
}

#[tokio::test]
async fn duplicate_and_concurrent_deliveries_place_one_order() {
    let t = TwoSecure::new().await;
    let mv = t.candidate(7201, Some(PNR));
    let copies = (0..5).map(|_| t.order(&mv, "tok"));
    let answers = futures::future::join_all(copies).await;
    let again = t.order(&mv, "tok").await;
    let bodies: std::collections::BTreeSet<(u16, String)> =
        answers.iter().chain([&again]).map(|r| (r.status().as_u16(), text(r))).collect();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(t.w.sandbox.count("2secure", "POST", "/orders").await, 1);
    assert_eq!(t.w.sandbox.state().await.twosecure.orders.len(), 1);
}

#[tokio::test]
async fn a_callback_with_a_bad_signature_changes_nothing() {
    let t = TwoSecure::new().await;
    let mv = t.candidate(7301, Some(PNR));
    assert_eq!(t.order(&mv, "tok").await.status(), 200);
    let order_id = t.only_order_id().await;
    let resp =
        t.callback(json!({"order_id": order_id, "status": "completed"}), "not-the-callback-secret").await;
    assert_eq!(resp.status(), 401);
    let unsigned = http::Request::builder()
        .method("POST")
        .uri("/2secure/callback")
        .body(Bytes::from_static(b"{}"))
        .unwrap();
    assert_eq!(twosecure::handle_status(&t.w.twosecure_status, unsigned).await.status(), 401);
    let st = t.w.sandbox.state().await;
    assert_eq!(st.partner.results[&mv.result_id]["status"], "sent");
    drop(st);
    let tenant = t.tenant();
    let order = orders::load(&t.w.twosecure_status.platform, &tenant, &mv.event_id).await.unwrap().unwrap();
    assert_eq!(order.status, Status::Sent);
}

#[tokio::test]
async fn the_poll_asks_only_about_open_orders() {
    let t = TwoSecure::new().await;
    let platform = &t.w.twosecure_status.platform;
    let tenant = t.tenant();
    // Three open orders, placed through the webhook.
    for id in 7401..7404 {
        assert_eq!(t.order(&t.candidate(id, Some(PNR)), "tok").await.status(), 200);
    }
    // A thousand finished ones.
    let finished = futures::stream::iter(0..1000).map(|i| {
        let order = Order {
            tenant: tenant.clone(),
            event_id: format!("done-{}-{i}", uuid::Uuid::new_v4()),
            status: Status::Completed,
            order_id: Some(format!("old-{i}")),
            candidate_id: "1".into(),
            job_id: None,
            level: "basic".into(),
            auto_move: false,
            update_url: "https://api.teamtailor.com/partner/v1/partner-results/x".into(),
            teamtailor_host: None,
            report_url: None,
            created_at: now() - 3600,
            error: None,
            moved: None,
        };
        async move { orders::save(platform, &order, None).await.unwrap() }
    });
    use futures::StreamExt;
    finished.buffer_unordered(16).collect::<Vec<_>>().await;

    let ids: Vec<String> = t.w.sandbox.state().await.twosecure.orders.iter().map(|o| o.id.clone()).collect();
    t.w.sandbox.set_twosecure_status(&ids[0], "pending", None).await;
    t.w.sandbox.set_twosecure_status(&ids[1], "completed", Some("https://portal.2secure.se/r/2")).await;
    let report = twosecure::poll(&t.w.twosecure_status).await.unwrap();
    assert_eq!(t.w.sandbox.count("2secure", "GET", "/orders/").await, 3, "one question per open order");
    assert!(report.changed >= 2, "{report:?}");
    // The completed one left the index; the next poll asks about two.
    twosecure::poll(&t.w.twosecure_status).await.unwrap();
    assert_eq!(t.w.sandbox.count("2secure", "GET", "/orders/").await, 5);
}

#[tokio::test]
async fn two_secure_down_leaves_the_order_recorded_as_not_sent_and_a_repeat_sends_it() {
    let t = TwoSecure::new().await;
    t.w.sandbox
        .add_fault(Fault {
            service: "2secure".into(),
            method: Some("POST".into()),
            path_contains: "/orders".into(),
            status: Some(503),
            delay_ms: 0,
            times: 3,
            try_again_seconds: None,
        })
        .await;
    let mv = t.candidate(7501, Some(PNR));
    let resp = t.order(&mv, "tok").await;
    assert_eq!(resp.status(), 502, "{}", text(&resp));
    assert!(text(&resp).contains("503") && text(&resp).contains("tried 3 times"), "{}", text(&resp));
    assert_eq!(t.w.sandbox.count("2secure", "POST", "/orders").await, 3, "retried with backoff");
    let tenant = t.tenant();
    let order = orders::load(&t.w.twosecure_order.platform, &tenant, &mv.event_id).await.unwrap().unwrap();
    assert_eq!(order.status, Status::NotSent);
    assert!(order.error.as_deref().unwrap().contains("503"));
    assert_eq!(t.w.sandbox.state().await.partner.results[&mv.result_id]["status"], "failed");

    // 2Secure is back; the same event delivered again is ordered, once.
    let resp = t.order(&mv, "tok").await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    assert_eq!(t.w.sandbox.state().await.twosecure.orders.len(), 1);
    let order = orders::load(&t.w.twosecure_order.platform, &tenant, &mv.event_id).await.unwrap().unwrap();
    assert_eq!(order.status, Status::Sent);
}

#[tokio::test]
async fn a_read_only_company_key_is_reported_on_the_card() {
    let t = TwoSecure::new().await;
    t.w.sandbox.add_pipeline("4711", &[("s1", "Screening"), ("s2", "Offer")], ("app-9", "7601", "s1")).await;
    t.w.sandbox.add_read_only_token("read-only-token").await;
    let mv = t.candidate(7601, Some(PNR));
    assert_eq!(t.order(&mv, "read-only-token").await.status(), 200);
    let order_id = t.only_order_id().await;
    t.callback(
        json!({"order_id": order_id, "status": "completed", "report_url": "https://portal.2secure.se/r/9"}),
        TS_CALLBACK_SECRET,
    )
    .await;
    let st = t.w.sandbox.state().await;
    let summary = st.partner.results[&mv.result_id]["summary"].as_str().unwrap().to_owned();
    assert!(summary.contains("may not write"), "{summary}");
    assert_eq!(st.partner.results[&mv.result_id]["status"], "completed");
    assert_eq!(st.teamtailor.applications[0].stage_id, "s1");
}

#[tokio::test]
async fn orders_open_for_thirty_days_are_given_up() {
    let t = TwoSecure::new().await;
    let mv = t.candidate(7701, Some(PNR));
    assert_eq!(t.order(&mv, "tok").await.status(), 200);
    let platform = &t.w.twosecure_status.platform;
    let tenant = t.tenant();
    let mut order = orders::load(platform, &tenant, &mv.event_id).await.unwrap().unwrap();
    order.created_at = now() - 31 * 24 * 3600;
    assert!(orders::save(platform, &order, Some(Status::Sent)).await.unwrap());
    let report = twosecure::poll(&t.w.twosecure_status).await.unwrap();
    assert!(report.gave_up >= 1, "{report:?}");
    let result = t.w.sandbox.state().await.partner.results[&mv.result_id].clone();
    assert_eq!(result["status"], "failed");
    assert!(result["summary"].as_str().unwrap().contains("30 days"));
    assert_eq!(orders::load(platform, &tenant, &mv.event_id).await.unwrap().unwrap().status, Status::GaveUp);
}

#[tokio::test]
async fn activation_validates_the_key_and_the_trigger_form_lists_packages() {
    let t = TwoSecure::new().await;
    let get = |path: &str, key: &str| {
        twosecure::handle_order(&t.w.twosecure_order, t.w.teamtailor_2secure.get(path, key))
    };
    let resp = get("/2secure/validate", &t.key).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(json_of(&resp)["company"], "Acme AB");
    let wrong = t.w.teamtailor_2secure.provider_key(&json!({"api_key": "wrong"}));
    let resp = get("/2secure/validate", &wrong).await;
    assert_eq!(resp.status(), 422);
    assert!(json_of(&resp)["errors"][0].as_str().unwrap().contains("did not accept the API key"));
    let form = json_of(&get("/2secure/config?job_id=1&stage_id=2", &t.key).await);
    let fields = form["config"]["fields"].as_array().unwrap();
    let ids: Vec<&str> = fields.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["level", "billing_reference", "orderer_email", "attachments", "auto_move"]);
    assert_eq!(fields[0]["options"].as_array().unwrap().len(), 3);
    let form = json_of(&get("/2secure/config", &wrong).await);
    assert_eq!(form["config"]["fields"][0]["type"], "error");
    let form = json_of(&get("/2secure/activation", "").await);
    assert_eq!(form["config"]["fields"][1]["id"], "api_key");
}
