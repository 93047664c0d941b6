//! Candidate cards and the work behind them, end to end on moto and the strict fakes: an
//! operator's retry starts a new epoch of the card, a late failure never replaces a completion,
//! updates Teamtailor refuses for good are given up and listed, and hiring-team access Alva did
//! not confirm is granted again by Alva's scheduled sweep.
use bytes::Bytes;
use hirebridge::cards::{self, CardUpdate};
use hirebridge::platform::Platform;
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge_tests::*;
use serde_json::{json, Value};
use testkit::driver::{admin, Move};
use testkit::sandbox::{Access, Fault, Scope};

const PNR: &str = "811218-9876";

/// A world with a 2Secure customer whose failed work is due again at once.
struct TwoSecure {
    w: World,
    api_key: String,
    key: String,
    /// `twosecure-order` retrying without waiting.
    order: twosecure::Deps,
}

impl TwoSecure {
    async fn new() -> Self {
        let w = World::new().await;
        let api_key = format!("ts-key-{}", uuid::Uuid::new_v4());
        w.sandbox.add_twosecure_key(&api_key, "Acme AB").await;
        w.sandbox.add_teamtailor_key("tok", Scope::Admin, Access::ReadWrite).await;
        let key = w.teamtailor_2secure.provider_key(&json!({ "api_key": api_key }));
        let mut config = w.twosecure_order.platform.config.clone();
        config.retry_schedule = vec![0, 0, 0];
        let order =
            twosecure::Deps::new(Platform::aws(config, fast_policy()).await.expect("platform on moto"));
        TwoSecure { w, api_key, key, order }
    }

    fn candidate(&self, id: u64) -> Move {
        let mut mv =
            Move::new(id, &format!("c{id}@example.com"), Some((4711, "Engineer", "Background check")));
        mv.custom_fields = json!([{"personnummer": {"value": PNR, "type": "text"}}]);
        mv.webhook_data = json!({"level": "standard", "billing-reference": "HR-17", "orderer-email": "hr@acme.se", "auto-move": "false"});
        mv
    }

    async fn order(&self, mv: &Move) -> hirebridge::web::Response {
        let req = self.w.fire("2secure", &self.key, mv).await;
        twosecure::handle_order(&self.order, with_header(req, "teamtailor-api-token", "tok")).await
    }

    async fn callback(&self, body: Value) -> hirebridge::web::Response {
        let body = body.to_string();
        let signature = twosecure::sign(now(), body.as_bytes(), &TS_CALLBACK_SECRET.into());
        let req = http::Request::builder()
            .method("POST")
            .uri("/2secure/callback")
            .header("x-2secure-signature", signature)
            .header("content-type", "application/json")
            .body(Bytes::from(body))
            .unwrap();
        twosecure::handle_status(&self.w.twosecure_status, req).await
    }

    async fn card(&self, mv: &Move) -> Value {
        self.w.sandbox.state().await.partner.results[&mv.result_id].clone()
    }
}

#[tokio::test]
async fn a_given_up_2secure_order_retried_by_the_operator_shows_sent_pending_then_completed_with_the_report()
{
    let t = TwoSecure::new().await;
    let mv = t.candidate(9101);
    t.w.sandbox
        .add_fault(Fault {
            service: "2secure".into(),
            method: Some("POST".into()),
            path_contains: "/orders".into(),
            status: Some(503),
            delay_ms: 0,
            times: 1000,
            try_again_seconds: None,
        })
        .await;
    assert_eq!(t.order(&mv).await.status(), 502);
    for _ in 0..3 {
        twosecure::sweep(&t.order).await;
    }
    let card = t.card(&mv).await;
    assert_eq!(card["status"], "failed", "given up after its retries: {card}");
    assert!(card["summary"].as_str().unwrap().contains("gave up"), "{card}");

    // 2Secure is back; the operator retries the work.
    t.w.sandbox.state().await.faults.clear();
    let updates_before = t.w.sandbox.state().await.partner.updates.len();
    let tenant = twosecure::tenant_id(&t.api_key.as_str().into());
    let retry = admin(
        "POST",
        &format!("/2secure/work/{tenant}:{}/retry", mv.event_id),
        &scoped_token("2secure"),
        None,
    );
    let resp = twosecure::handle_order(&t.w.twosecure_order, retry).await;
    assert_eq!(json_of(&resp)["status"], "completed", "{}", text(&resp));
    assert_eq!(t.card(&mv).await["status"], "sent", "the retry's card replaces the given-up one");
    let order_id = t.w.sandbox.state().await.twosecure.orders[0].id.clone();

    let resp = t.callback(json!({"order_id": order_id, "status": "pending"})).await;
    assert_eq!(json_of(&resp)["status"], "pending", "{}", text(&resp));
    assert_eq!(t.card(&mv).await["status"], "pending", "2Secure's pending is not dropped");

    let report = "https://portal.2secure.se/reports/r9101";
    let resp = t.callback(json!({"order_id": order_id, "status": "completed", "report_url": report})).await;
    assert_eq!(json_of(&resp)["status"], "completed", "{}", text(&resp));
    let card = t.card(&mv).await;
    assert_eq!((card["status"].as_str(), card["url"].as_str()), (Some("completed"), Some(report)), "{card}");
    assert_eq!(card["attachments"][0]["url"], report);

    // What Teamtailor was told since the retry: sent, pending, completed, never "failed" again.
    let st = t.w.sandbox.state().await;
    let mut told: Vec<&str> = st.partner.updates[updates_before..]
        .iter()
        .filter(|u| u.id == mv.result_id)
        .filter_map(|u| u.attributes["status"].as_str())
        .collect();
    told.dedup();
    assert_eq!(told, ["sent", "pending", "completed"]);
}

/// The card of one partner result the sandbox knows, sent with the 2Secure listing's key.
async fn send(w: &World, result_id: &str, result: &PartnerResult) -> cards::Delivery {
    let update_url = format!("https://api.teamtailor.com/partner/v1/partner-results/{result_id}");
    let update = CardUpdate { integration: "2secure", update_url: &update_url, result };
    cards::send(&w.twosecure_order.platform, update, &TS_PARTNER_API_KEY.into()).await.unwrap()
}

#[tokio::test]
async fn a_late_failure_never_replaces_a_completed_card() {
    let w = World::new().await;
    w.sandbox.add_partner_result("r-late").await;
    let done =
        PartnerResult::new(ResultStatus::Completed).summary("2Secure has finished the background check.");
    assert_eq!(send(&w, "r-late", &done).await, cards::Delivery::Delivered);
    let late = PartnerResult::new(ResultStatus::Failed).summary("2Secure cancelled the order.");
    assert_eq!(send(&w, "r-late", &late).await, cards::Delivery::Superseded);
    let st = w.sandbox.state().await;
    assert_eq!(st.partner.results["r-late"]["status"], "completed");
    assert_eq!(st.partner.updates.iter().filter(|u| u.id == "r-late").count(), 1, "the failure was not sent");
}

#[tokio::test]
async fn card_updates_teamtailor_refuses_for_good_are_given_up_with_an_alarm_line_and_listed_not_resent() {
    let (_guard, logs) = capture_logs();
    let w = World::new().await;
    let platform = &w.twosecure_order.platform;
    // A partner result Teamtailor does not have (404), and content it refuses (422).
    let gone = PartnerResult::new(ResultStatus::Sent).summary("Background check ordered.");
    assert_eq!(send(&w, "r-gone", &gone).await, cards::Delivery::Later);
    w.sandbox.add_partner_result("r-invalid").await;
    let invalid = PartnerResult::new(ResultStatus::Completed).url("ftp://portal.example/report");
    assert_eq!(send(&w, "r-invalid", &invalid).await, cards::Delivery::Later);

    let captured = logs.text();
    let lines: Vec<&str> = captured.lines().filter(|l| l.contains(r#""event":"card_given_up""#)).collect();
    assert_eq!(lines.len(), 2, "{captured}");
    assert!(lines.iter().all(|l| l.contains(r#""integration":"2secure""#)), "{lines:?}");

    let listed = cards::given_up(platform, "2secure", 10).await.unwrap();
    let mut urls: Vec<&str> = listed.iter().map(|c| c.update_url.as_str()).collect();
    urls.sort();
    assert_eq!(
        urls,
        [
            "https://api.teamtailor.com/partner/v1/partner-results/r-gone",
            "https://api.teamtailor.com/partner/v1/partner-results/r-invalid"
        ]
    );
    let gone = listed.iter().find(|c| c.update_url.ends_with("r-gone")).unwrap();
    assert!(gone.error.contains("no longer has this candidate's card (404"), "{gone:?}");
    let invalid = listed.iter().find(|c| c.update_url.ends_with("r-invalid")).unwrap();
    assert!(invalid.error.contains("refused the card's content (422"), "{invalid:?}");
    assert_eq!(invalid.result["status"], "completed");
    assert!(cards::given_up(platform, "learnster", 10).await.unwrap().is_empty(), "per integration");

    // Not due any more: no sweep, now or in a month, sends them again.
    let due = platform.store.query_due("due#2secure", i64::MAX, 100).await.unwrap();
    assert!(due.iter().all(|i| i.sk != "CARD"), "{due:?}");
    let puts = w.sandbox.count("teamtailor", "PUT", "/partner-results/").await;
    twosecure::sweep(&w.twosecure_order).await;
    assert_eq!(w.sandbox.count("teamtailor", "PUT", "/partner-results/").await, puts);

    // A newer update of the same card takes the given-up one's place.
    w.sandbox.add_partner_result("r-gone").await;
    let pending = PartnerResult::new(ResultStatus::Pending);
    assert_eq!(send(&w, "r-gone", &pending).await, cards::Delivery::Delivered);
    let listed = cards::given_up(platform, "2secure", 10).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
}

const RW_KEY: &str = "tt-read-write-admin-key";

#[tokio::test]
async fn hiring_team_access_alva_did_not_confirm_is_granted_by_the_scheduled_sweep_once() {
    let w = World::new().await;
    w.sandbox.add_teamtailor_key(RW_KEY, Scope::Admin, Access::ReadWrite).await;
    let partner_key = uuid::Uuid::new_v4().to_string();
    w.sandbox
        .add_activation(&partner_key, &ALVA_WEBHOOK_SECRET.into(), "Uf90iujmioh12", "Sandbox: Acme AB")
        .await;
    let company = format!("alva-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    for (method, path, body) in [
        ("POST", "teamtailor", json!({"partner_key": partner_key})),
        ("POST", "teamtailor/accounts", json!({"api_key": RW_KEY})),
        ("PUT", "teamtailor/settings", json!({"sync_hiring_team": true})),
    ] {
        let uri = format!("/alva/companies/{company}/{path}");
        let resp = alva::handle(&w.alva, admin(method, &uri, ADMIN_TOKEN, Some(&body))).await;
        assert!(resp.status().is_success(), "{method} {path}: {}", text(&resp));
    }
    w.sandbox
        .add_team(
            "501",
            "Data Engineer",
            ("u1", "Rita Recruiter", "rita@acme.se"),
            &[("u2", "Hugo Manager", "hugo@acme.se")],
        )
        .await;
    w.sandbox.add_alva_user("rita@acme.se", "Rita Recruiter").await;
    w.sandbox.add_alva_user("hugo@acme.se", "Hugo Manager").await;
    // Alva does not answer when Hugo is granted access.
    let hugo =
        w.sandbox.state().await.alva.users.iter().find(|u| u.email == "hugo@acme.se").unwrap().id.clone();
    w.sandbox
        .add_fault(Fault {
            service: "alva".into(),
            method: Some("PUT".into()),
            path_contains: format!("/members/{hugo}"),
            status: Some(503),
            delay_ms: 0,
            times: 1000,
            try_again_seconds: None,
        })
        .await;
    let mut config = w.alva.platform.config.clone();
    config.retry_schedule = vec![0, 0, 0];
    let deps = alva::Deps::new(Platform::aws(config, fast_policy()).await.expect("platform on moto"));
    let mut mv = Move::new(9201, "cand9201@example.com", Some((501, "Data Engineer", "Assessment")));
    mv.webhook_data = json!({"test-profile": "tp-logic"});
    let resp = alva::handle(&deps, w.fire("alva", &partner_key, &mv).await).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let summary = json_of(&resp)["partner_result_attributes"]["summary"].as_str().unwrap().to_owned();
    assert!(summary.contains("hugo@acme.se; hirebridge tries again automatically"), "{summary}");
    assert_eq!(w.sandbox.state().await.alva.grants.len(), 1, "Rita only");

    // Alva answers again; no trigger comes for this job: the schedule grants Hugo's access.
    w.sandbox.state().await.faults.clear();
    let report = alva::sweep(&deps).await;
    assert_eq!(report["grants"]["granted"], 1, "{report}");
    let st = w.sandbox.state().await;
    let granted: Vec<&str> = st.alva.grants.iter().map(|g| g.user.as_str()).collect();
    assert_eq!(granted.len(), 2, "{granted:?}");
    assert!(granted.contains(&hugo.as_str()));
    drop(st);
    let report = alva::sweep(&deps).await;
    assert_eq!(report["grants"]["due"], 0, "{report}");
    assert_eq!(w.sandbox.state().await.alva.grants.len(), 2, "granted once");
}
