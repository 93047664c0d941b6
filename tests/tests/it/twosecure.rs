//! 2Secure end to end: `twosecure-order` and `twosecure-status` against the DynamoDB and Secrets
//! Manager API (moto) and the sandbox playing Teamtailor and 2Secure over HTTP.
use std::time::Duration;

use bytes::Bytes;
use hirebridge::outbound::RetryPolicy;
use hirebridge::platform::Platform;
use hirebridge_tests::*;
use serde_json::{json, Value};
use testkit::driver::{admin, Move};
use testkit::sandbox::{Access, Fault, Region, Scope};
use twosecure::store::{self, Order, Status};

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
        Self::with_policy(fast_policy()).await
    }

    async fn with_policy(policy: RetryPolicy) -> Self {
        let w = World::with_policy(policy).await;
        let api_key = format!("ts-key-{}", uuid::Uuid::new_v4());
        w.sandbox.add_twosecure_key(&api_key, "Acme AB").await;
        // The company's key that the listing requires (`teamtailor-api-token`) in most tests:
        // Admin with Read and Write, as moving a candidate on needs.
        w.sandbox.add_teamtailor_key("tok", Scope::Admin, Access::ReadWrite).await;
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
        self.order_with(&self.w.twosecure_order, mv, company_token).await
    }

    async fn order_with(
        &self,
        deps: &twosecure::Deps,
        mv: &Move,
        company_token: &str,
    ) -> hirebridge::web::Response {
        let req = self.w.fire("2secure", &self.key, mv).await;
        twosecure::handle_order(deps, with_header(req, "teamtailor-api-token", company_token)).await
    }

    async fn callback(&self, body: Value, secret: &str) -> hirebridge::web::Response {
        let body = body.to_string();
        self.callback_signed(&twosecure::sign(now(), body.as_bytes(), &secret.into()), body).await
    }

    async fn callback_signed(&self, signature: &str, body: String) -> hirebridge::web::Response {
        let req = http::Request::builder()
            .method("POST")
            .uri("/2secure/callback")
            .header("x-2secure-signature", signature)
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

    async fn stored(&self, mv: &Move) -> Order {
        store::load(&self.w.twosecure_status.platform, &self.tenant(), &mv.event_id)
            .await
            .unwrap()
            .expect("the order is recorded")
    }

    async fn card(&self, mv: &Move) -> Value {
        self.w.sandbox.state().await.partner.results[&mv.result_id].clone()
    }

    /// This world's functions, but failed work is due again at once (no waiting in a test).
    async fn retrying_at_once(&self) -> twosecure::Deps {
        let mut config = self.w.twosecure_order.platform.config.clone();
        config.retry_schedule = vec![0, 0, 0];
        twosecure::Deps::new(Platform::aws(config, fast_policy()).await.expect("platform on moto"))
    }

    /// 2Secure fails every call of `method` under `path` for `times` calls.
    async fn fail(&self, method: &str, path: &str, status: Option<u16>, delay_ms: u64, times: u32) {
        let fault = Fault {
            service: "2secure".into(),
            method: Some(method.into()),
            path_contains: path.into(),
            status,
            delay_ms,
            times,
            try_again_seconds: None,
        };
        self.w.sandbox.add_fault(fault).await;
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
    w.sandbox.add_teamtailor_key("rw-company-token", Scope::Admin, Access::ReadWrite).await;
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
    assert_eq!(t.card(&mv).await["status"], "pending");

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
    // The application was read with its job and stage included: only then has it their ids.
    let read = st.requests.iter().find(|r| r.path.ends_with("/candidates/7001/job-applications")).unwrap();
    assert!(read.query.as_deref().unwrap_or_default().contains("include=job,stage"), "{:?}", read.query);
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
    assert_eq!(t.card(&mv).await["status"], "sent");
    assert_eq!(t.stored(&mv).await.status, Status::Sent);
}

/// `(now - t).abs()` overflowed (a panic, and with `panic = "abort"` the process).
#[tokio::test]
async fn a_callback_with_a_timestamp_at_the_end_of_the_range_is_refused_without_a_crash() {
    let t = TwoSecure::new().await;
    let body = json!({"order_id": "ord_1", "status": "completed"}).to_string();
    for hostile in [i64::MIN, i64::MIN + 1, i64::MAX] {
        let signature = twosecure::sign(hostile, body.as_bytes(), &TS_CALLBACK_SECRET.into());
        let resp = t.callback_signed(&signature, body.clone()).await;
        assert_eq!(resp.status(), 401, "t={hostile}: {}", text(&resp));
    }
}

#[tokio::test]
async fn the_poll_asks_only_about_open_orders_and_each_once_per_round() {
    let t = TwoSecure::new().await;
    let platform = &t.w.twosecure_status.platform;
    let moves: Vec<Move> = (7401..7404).map(|id| t.candidate(id, Some(PNR))).collect();
    for mv in &moves {
        assert_eq!(t.order(mv, "tok").await.status(), 200);
    }
    // Finished orders of the same tenant, which the poll must not read.
    for i in 0..50 {
        let mut order = t.stored(&moves[0]).await;
        order.event_id = format!("done-{}-{i}", uuid::Uuid::new_v4());
        order.order_id = format!("old_{i}");
        order.status = Status::Completed;
        store::create(platform, &order).await.unwrap();
    }
    let ids: Vec<String> = t.w.sandbox.state().await.twosecure.orders.iter().map(|o| o.id.clone()).collect();
    t.w.sandbox.set_twosecure_status(&ids[0], "pending", None).await;
    t.w.sandbox.set_twosecure_status(&ids[1], "completed", Some("https://portal.2secure.se/r/2")).await;
    let report = twosecure::poll(&t.w.twosecure_status).await.unwrap();
    assert_eq!(t.w.sandbox.count("2secure", "GET", "/orders/").await, 3, "one question per open order");
    assert!(report.changed >= 2, "{report:?}");
    // Each was asked about in this round: the next round comes minutes later.
    twosecure::poll(&t.w.twosecure_status).await.unwrap();
    assert_eq!(t.w.sandbox.count("2secure", "GET", "/orders/").await, 3);
}

#[tokio::test]
async fn two_secure_down_for_the_whole_trigger_is_ordered_once_by_the_scheduled_sweep() {
    let t = TwoSecure::new().await;
    let deps = t.retrying_at_once().await;
    t.fail("POST", "/orders", Some(503), 0, 3).await;
    let mv = t.candidate(7501, Some(PNR));
    let resp = t.order_with(&deps, &mv, "tok").await;
    assert_eq!(resp.status(), 502, "{}", text(&resp));
    assert!(text(&resp).contains("retry automatically"), "{}", text(&resp));
    assert_eq!(t.card(&mv).await["status"], "sending", "not failed: it is retried");
    assert!(t.w.sandbox.state().await.twosecure.orders.is_empty());

    // 2Secure is back; Teamtailor sends nothing again: the schedule finishes the trigger.
    let report = twosecure::sweep(&deps).await;
    assert!(report["rerun"].as_u64().unwrap() >= 1, "{report}");
    let st = t.w.sandbox.state().await;
    assert_eq!(st.twosecure.orders.len(), 1, "ordered once");
    assert_eq!(st.twosecure.orders[0].body["candidate"]["personal_number"], PNR_12, "from the sealed record");
    assert_eq!(st.partner.results[&mv.result_id]["status"], "sent");
    drop(st);
    assert_eq!(t.stored(&mv).await.status, Status::Sent);
    twosecure::sweep(&deps).await;
    assert_eq!(
        t.w.sandbox.count("2secure", "POST", "/orders").await,
        4,
        "three refused, one placed, none after"
    );
}

/// 2Secure took the order but its answer was lost. Neither "nothing was sent" nor a
/// second order: the retry asks again with the same idempotency key and gets the first order.
#[tokio::test]
async fn an_order_2secure_took_but_did_not_confirm_is_reconciled_not_placed_twice() {
    let t = TwoSecure::new().await;
    let mv = t.candidate(7502, Some(PNR));
    // 2Secure received the first attempt and created the order …
    let key = twosecure::order::idempotency_key(&t.tenant(), &mv.event_id);
    let first = reqwest::Client::new()
        .post(format!("{}/_sandbox/2secure/orders", t.w.sandbox_url))
        .bearer_auth(&t.api_key)
        .header("Idempotency-Key", &key)
        .json(&json!({"package_id": "standard", "candidate": {"first_name": "Juston", "last_name": "Becker",
            "personal_number": PNR_12, "email": "c7502@example.com"}, "billing": {"reference": "HR-17"},
            "orderer_email": "hr@acme.se", "external_reference": mv.event_id, "attachments": []}))
        .send()
        .await
        .unwrap();
    let first_id = first.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    // … but every answer hirebridge saw was a 502.
    t.fail("POST", "/orders", Some(502), 0, 3).await;
    let resp = t.order(&mv, "tok").await;
    assert_eq!(resp.status(), 502, "{}", text(&resp));
    let message = text(&resp);
    assert!(
        message.contains("may have received the order") && message.contains("never orders twice"),
        "{message}"
    );
    assert!(!message.contains("nothing") && !message.contains("not reached"), "{message}");

    // The operator sees it and retries it (with the 2Secure scope only).
    let id = format!("{}:{}", t.tenant(), mv.event_id);
    let list = |token: String| {
        twosecure::handle_order(
            &t.w.twosecure_order,
            admin("GET", "/2secure/work?state=failed", &token, None),
        )
    };
    assert_eq!(list(scoped_token("alva")).await.status(), 403);
    let listed = json_of(&list(scoped_token("2secure")).await);
    assert!(listed["work"].as_array().unwrap().iter().any(|w| w["id"] == id.as_str()), "{listed}");
    let retry = admin("POST", &format!("/2secure/work/{id}/retry"), &scoped_token("2secure"), None);
    let resp = twosecure::handle_order(&t.w.twosecure_order, retry).await;
    assert_eq!(json_of(&resp)["status"], "completed", "{}", text(&resp));

    assert_eq!(t.w.sandbox.state().await.twosecure.orders.len(), 1, "one order at 2Secure");
    assert_eq!(t.stored(&mv).await.order_id, first_id, "the order 2Secure took first");
    assert_eq!(t.card(&mv).await["status"], "sent");
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
    let card = t.card(&mv).await;
    assert!(card["summary"].as_str().unwrap().contains("may not write"), "{card}");
    assert_eq!(card["status"], "completed");
    assert_eq!(t.w.sandbox.state().await.teamtailor.applications[0].stage_id, "s1");
}

/// A file's name may quote the personnummer ("Personbevis 19811218-9876.pdf"): the file is sent
/// under its name, but the recorded work, kept 30 days and readable through the due index, holds
/// the name with its digits redacted.
#[tokio::test]
async fn a_personnummer_in_a_file_name_is_not_stored_with_the_work() {
    let t = TwoSecure::new().await;
    let name = "Personbevis 19811218-9876.pdf";
    t.w.sandbox.add_file("personbevis.pdf", b"%PDF-1.4 personbevis").await;
    let mut mv = t.candidate(7701, Some(PNR));
    mv.uploads =
        vec![(name.into(), format!("{}/_sandbox/teamtailor/files/personbevis.pdf", t.w.sandbox_url))];
    mv.webhook_data["attachments"] = json!(["uploads"]);
    let resp = t.order(&mv, "tok").await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    assert_eq!(t.w.sandbox.state().await.twosecure.orders[0].attachment_names, vec![name.to_owned()]);
    let table = t.w.table_text().await;
    for digits in ["19811218", "1218-9876", "12189876"] {
        assert!(!table.contains(digits), "{digits} stored: {table}");
    }
}

/// 2Secure's set-up guide has the customer select an Admin key with Read only, and moving a
/// candidate is a write: the trigger form says so before anything is ordered, and offers the
/// option only with a key that may write (checked on the key's own stack).
#[tokio::test]
async fn the_move_option_is_offered_only_with_a_key_that_can_write_and_a_read_only_key_is_told_why() {
    let t = TwoSecure::new().await;
    t.w.sandbox.add_read_only_token("seed-read-only").await;
    t.w.sandbox.add_teamtailor_key_on(Region::Na, "na-read-write", Scope::Admin, Access::ReadWrite).await;
    let form_with = |token: &str| {
        let req = t.w.teamtailor_2secure.get("/2secure/config?job_id=1&stage_id=2", &t.key);
        twosecure::handle_order(&t.w.twosecure_order, with_header(req, "teamtailor-api-token", token))
    };
    let form = json_of(&form_with("seed-read-only").await);
    let fields = form["config"]["fields"].as_array().unwrap();
    assert!(!fields.iter().any(|f| f["id"] == "auto_move"), "{form}");
    let info = fields.iter().find(|f| f["type"] == "infobox").expect("an infobox says why");
    assert!(info["content"].as_str().unwrap().contains("Read and Write"), "{info}");
    assert_eq!(t.w.sandbox.count("teamtailor", "PATCH", "/v1/company").await, 1, "a no-op write probe");

    let form = json_of(&form_with("na-read-write").await);
    let offered =
        form["config"]["fields"].as_array().unwrap().iter().find(|f| f["id"] == "auto_move").cloned();
    assert_eq!(offered.unwrap()["label"], "Move to the next stage when the check is completed", "{form}");
    assert_eq!(t.w.sandbox.count("teamtailor-na", "PATCH", "/v1/company").await, 1);
    // Nothing changed in Teamtailor: the probe names no attribute.
    let st = t.w.sandbox.state().await;
    assert!(st.requests.iter().all(|r| r.method != "PATCH" || r.path.ends_with("/v1/company")));
}

/// a `pending` callback whose card update is slow, racing a poll that finds the order
/// completed: the card ends at completed, whatever order the two updates reach Teamtailor in.
#[tokio::test]
async fn a_pending_callback_racing_a_completed_poll_never_leaves_pending_on_the_card() {
    let policy = RetryPolicy { request_timeout: Duration::from_secs(5), ..fast_policy() };
    let t = TwoSecure::with_policy(policy).await;
    let mut mv = t.candidate(7801, Some(PNR));
    mv.webhook_data["auto-move"] = json!("false");
    assert_eq!(t.order(&mv, "tok").await.status(), 200);
    let order_id = t.only_order_id().await;
    t.w.sandbox.set_twosecure_status(&order_id, "completed", Some("https://portal.2secure.se/r/8")).await;
    // The poll's question takes a moment; the pending callback's card update takes longer.
    t.fail("GET", "/orders/", None, 600, 1).await;
    t.w.sandbox
        .add_fault(Fault {
            service: "teamtailor".into(),
            method: Some("PUT".into()),
            path_contains: "/partner-results/".into(),
            status: None,
            delay_ms: 2000,
            times: 1,
            try_again_seconds: None,
        })
        .await;
    let pending = async {
        tokio::time::sleep(Duration::from_millis(60)).await;
        t.callback(json!({"order_id": order_id, "status": "pending"}), TS_CALLBACK_SECRET).await
    };
    let (polled, called_back) = tokio::join!(twosecure::poll(&t.w.twosecure_status), pending);
    assert!(polled.unwrap().changed >= 1);
    assert!(called_back.status().is_success(), "{}", text(&called_back));
    let st = t.w.sandbox.state().await;
    let updates: Vec<&Value> =
        st.partner.updates.iter().filter(|u| u.id == mv.result_id).map(|u| &u.attributes["status"]).collect();
    assert!(updates.contains(&&json!("pending")), "the race happened: {updates:?}");
    assert_eq!(st.partner.results[&mv.result_id]["status"], "completed", "{updates:?}");
}

/// A trigger's card is sent before it is recorded (with the trigger's outcome): a completed
/// callback that lands while the order's "sent" card is still on its way to Teamtailor is sent
/// again afterwards, so the card ends on completed.
#[tokio::test]
async fn a_completion_landing_while_the_orders_card_is_on_its_way_leaves_the_card_completed() {
    let policy = RetryPolicy { request_timeout: Duration::from_secs(5), ..fast_policy() };
    let t = TwoSecure::with_policy(policy).await;
    let mut mv = t.candidate(7811, Some(PNR));
    mv.webhook_data["auto-move"] = json!("false");
    t.w.sandbox
        .add_fault(Fault {
            service: "teamtailor".into(),
            method: Some("PUT".into()),
            path_contains: "/partner-results/".into(),
            status: None,
            delay_ms: 1500,
            times: 1,
            try_again_seconds: None,
        })
        .await;
    let completed = async {
        let order_id = loop {
            if let Some(order) = t.w.sandbox.state().await.twosecure.orders.first() {
                break order.id.clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let report = "https://portal.2secure.se/r/9";
        let body = json!({"order_id": order_id, "status": "completed", "report_url": report});
        // 2Secure's fake has the order a moment before hirebridge has recorded 2Secure's answer;
        // a callback in that moment is answered 404 and sent again, as a sender retries.
        for _ in 0..100 {
            let answer = t.callback(body.clone(), TS_CALLBACK_SECRET).await;
            if answer.status() != 404 {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        t.callback(body, TS_CALLBACK_SECRET).await
    };
    let (ordered, called_back) = tokio::join!(t.order(&mv, "tok"), completed);
    assert_eq!(ordered.status(), 200, "{}", text(&ordered));
    assert!(called_back.status().is_success(), "{}", text(&called_back));
    let st = t.w.sandbox.state().await;
    let updates: Vec<&Value> =
        st.partner.updates.iter().filter(|u| u.id == mv.result_id).map(|u| &u.attributes["status"]).collect();
    assert_eq!(updates.first(), Some(&&json!("completed")), "the race happened: {updates:?}");
    assert_eq!(st.partner.results[&mv.result_id]["status"], "completed", "{updates:?}");
}

/// files over the limits, off Teamtailor's hosts or beyond ten are left out, the
/// order goes ahead, and the card names them.
#[tokio::test]
async fn files_over_the_limits_or_from_elsewhere_are_left_out_and_named_on_the_card() {
    let t = TwoSecure::new().await;
    let file =
        |name: &str| (name.to_owned(), format!("{}/_sandbox/teamtailor/files/{name}", t.w.sandbox_url));
    t.w.sandbox.add_file("cv.pdf", b"%PDF-1.4 resume").await;
    t.w.sandbox.add_file("big.bin", &vec![b'x'; 26 * 1024 * 1024]).await;
    let mut mv = t.candidate(7901, Some(PNR));
    mv.resume = Some(file("cv.pdf"));
    mv.uploads =
        vec![file("big.bin"), ("elsewhere.pdf".into(), "https://files.example.com/elsewhere.pdf".into())];
    for i in 1..=9 {
        let name = format!("doc-{i}.pdf");
        t.w.sandbox.add_file(&name, b"%PDF-1.4 doc").await;
        mv.uploads.push(file(&name));
    }
    mv.webhook_data["attachments"] = json!(["resume", "uploads"]);

    let resp = t.order(&mv, "tok").await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let st = t.w.sandbox.state().await;
    let names = &st.twosecure.orders[0].attachment_names;
    assert_eq!(names.len(), 8, "the first ten files but the two left out: {names:?}");
    assert!(names.contains(&"cv.pdf".to_owned()) && !names.contains(&"big.bin".to_owned()));
    let summary = st.partner.results[&mv.result_id]["summary"].as_str().unwrap().to_owned();
    for expected in [
        "big.bin (over 25 MB",
        "elsewhere.pdf (not from Teamtailor's file hosts)",
        "doc-8.pdf (more than 10 files)",
        "doc-9.pdf (more than 10 files)",
    ] {
        assert!(summary.contains(expected), "{expected}: {summary}");
    }
    assert!(
        !st.requests.iter().any(|r| r.path.contains("doc-8.pdf")),
        "files beyond ten are not even fetched"
    );
}

/// 2Secure's own error text is never repeated (it may quote the personnummer).
#[tokio::test]
async fn two_secures_refusal_is_told_in_fixed_words() {
    let t = TwoSecure::new().await;
    let mut mv = t.candidate(7902, Some(PNR));
    mv.webhook_data["level"] = json!("platinum");
    let resp = t.order(&mv, "tok").await;
    assert!(!resp.status().is_success(), "{}", text(&resp));
    let message = text(&resp);
    assert!(message.contains("does not offer the trigger's level of check"), "{message}");
    assert!(!message.contains("unknown package"), "2Secure's words: {message}");
    let card = t.card(&mv).await;
    assert_eq!(card["status"], "failed");
    assert!(!card["summary"].as_str().unwrap().contains("unknown package"));
}

/// the callback index is written once, and a callback lands only on the order of the
/// tenant that placed it.
#[tokio::test]
async fn another_tenants_order_cannot_take_over_a_callback() {
    let t = TwoSecure::new().await;
    let mv = t.candidate(7903, Some(PNR));
    assert_eq!(t.order(&mv, "tok").await.status(), 200);
    let order_id = t.only_order_id().await;
    let platform = &t.w.twosecure_status.platform;
    let mut other = t.stored(&mv).await;
    other.tenant = format!("{:032x}", 7903);
    other.event_id = uuid::Uuid::new_v4().to_string();
    other.update_url = "https://api.teamtailor.com/partner/v1/partner-results/someone-elses".into();
    other.status = Status::Completed;
    store::create(platform, &other).await.unwrap();
    assert_eq!(store::index(platform, &other).await.unwrap_err().status, 409);
    assert_eq!(store::by_order_id(platform, &order_id).await.unwrap().unwrap().tenant, t.tenant());

    let resp = t.callback(json!({"order_id": order_id, "status": "pending"}), TS_CALLBACK_SECRET).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    assert_eq!(t.card(&mv).await["status"], "pending");
    let st = t.w.sandbox.state().await;
    assert!(!st.partner.results.contains_key("someone-elses"));
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
