//! A company on Teamtailor's NA stack through every integration: its activation is found on NA,
//! its keys are used on NA only, and its cards are written on NA. The fake serves both stacks and
//! knows each key, activation and partner result on one of them.
use hirebridge_tests::*;
use serde_json::{json, Value};
use testkit::driver::{admin, Move, Teamtailor};
use testkit::sandbox::{Access, Region, Scope};

/// Every request that carried `key` (as `Token token=` or Bearer) went to the NA fake, and at
/// least one did.
async fn only_on_na(w: &World, key: &str) {
    let st = w.sandbox.state().await;
    let carrying: Vec<_> = st
        .requests
        .iter()
        .filter(|r| r.authorization.as_deref().is_some_and(|a| a.ends_with(key)))
        .map(|r| (r.service.clone(), r.method.clone(), r.path.clone()))
        .collect();
    assert!(!carrying.is_empty(), "{key} was used");
    assert!(
        carrying.iter().all(|(service, _, _)| service == "teamtailor-na"),
        "{key} reached another stack: {carrying:?}"
    );
}

fn na_move(id: u64, email: &str, job: Option<(u64, &str, &str)>) -> Move {
    let mut mv = Move::new(id, email, job);
    mv.stack = Region::Na;
    mv
}

/// The card of `mv` as the NA stack holds it, and that every update of it went to NA.
async fn na_card(w: &World, mv: &Move) -> Value {
    let st = w.sandbox.state().await;
    let puts: Vec<_> = st.requests.iter().filter(|r| r.path.ends_with(&mv.result_id)).collect();
    assert!(!puts.is_empty() && puts.iter().all(|r| r.service == "teamtailor-na"), "{puts:?}");
    st.partner.results.get(&mv.result_id).cloned().unwrap_or_default()
}

#[tokio::test]
async fn an_na_company_gets_its_learnster_student_with_the_department_read_on_na() {
    let w = World::new().await;
    w.sandbox
        .add_job(testkit::sandbox::Job {
            id: "4711".into(),
            title: "Designer".into(),
            department: Some("Design Ops".into()),
        })
        .await;
    w.sandbox.add_teamtailor_key_on(Region::Na, "na-company-key", Scope::Public, Access::Read).await;
    let (_, token) = w.switch_on(json!({})).await;
    let mv = na_move(1001, "ada.na@example.com", Some((4711, "Designer", "Offered")));
    // Teamtailor-Host in a form we do not know must not matter: the update-url names the stack.
    let req = with_header(
        w.fire("learnster", &w.provider_key(&token), &mv).await,
        "teamtailor-api-token",
        "na-company-key",
    );
    let resp = w.call(with_header(req, "teamtailor-host", "something-new")).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    assert_eq!(na_card(&w, &mv).await["status"], "completed");
    let st = w.sandbox.state().await;
    let student = st.learnster.students.iter().find(|s| s.user["email"] == "ada.na@example.com").unwrap();
    assert!(student.tags.iter().any(|t| t == "tt_department_design ops"), "{:?}", student.tags);
    drop(st);
    only_on_na(&w, "na-company-key").await;
}

#[tokio::test]
async fn an_na_companys_2secure_order_completes_and_moves_the_candidate_on_na() {
    let w = World::new().await;
    let api_key = format!("ts-key-{}", uuid::Uuid::new_v4());
    w.sandbox.add_twosecure_key(&api_key, "Acme Inc").await;
    w.sandbox.add_teamtailor_key_on(Region::Na, "na-rw-key", Scope::Admin, Access::ReadWrite).await;
    w.sandbox.add_pipeline("4711", &[("s1", "Check"), ("s2", "Offer")], ("app-na", "7101", "s1")).await;
    let provider_key = w.teamtailor_2secure.provider_key(&json!({ "api_key": api_key }));
    let mut mv = na_move(7101, "c7101@example.com", Some((4711, "Engineer", "Check")));
    mv.custom_fields = json!([{"personnummer": {"value": "19811218-9876", "type": "text"}}]);
    mv.webhook_data = json!({"level": "standard", "billing-reference": "HR-1", "orderer-email": "hr@acme.com", "auto-move": "true"});
    let req = with_header(w.fire("2secure", &provider_key, &mv).await, "teamtailor-api-token", "na-rw-key");
    let resp = twosecure::handle_order(&w.twosecure_order, req).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let order_id = w.sandbox.state().await.twosecure.orders[0].id.clone();
    let body =
        json!({"order_id": order_id, "status": "completed", "report_url": "https://portal.2secure.se/r/1"});
    let resp = twosecure_callback(&w, &body).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let card = na_card(&w, &mv).await;
    assert_eq!(card["status"], "completed");
    assert!(card["summary"].as_str().unwrap().contains("moved to the next stage, Offer"), "{card}");
    assert_eq!(w.sandbox.state().await.teamtailor.applications[0].stage_id, "s2");
    only_on_na(&w, "na-rw-key").await;
}

async fn twosecure_callback(w: &World, body: &Value) -> hirebridge::web::Response {
    let body = body.to_string();
    let t = now();
    let signature = hirebridge::timestamped::sign(t, body.as_bytes(), &TS_CALLBACK_SECRET.into());
    let req = http::Request::builder()
        .method("POST")
        .uri("/2secure/callback")
        .header("x-2secure-signature", signature)
        .body(bytes::Bytes::from(body))
        .unwrap();
    twosecure::handle_status(&w.twosecure_status, req).await
}

#[tokio::test]
async fn an_na_alva_company_is_connected_and_its_hiring_team_read_on_na_with_its_na_account() {
    let w = World::new().await;
    w.sandbox.add_teamtailor_key_on(Region::Na, "na-alva-rw", Scope::Admin, Access::ReadWrite).await;
    let partner_key = uuid::Uuid::new_v4().to_string();
    let na_company = format!("na-{}", uuid::Uuid::new_v4().simple());
    w.sandbox
        .add_activation_on(Region::Na, &partner_key, &ALVA_WEBHOOK_SECRET.into(), (&na_company, "Acme Inc"))
        .await;
    let company = format!("alva-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let call = |method: &str, path: &str, body: Value| {
        let uri = format!("/alva/companies/{company}/{path}");
        let req = admin(method, &uri, ADMIN_TOKEN, Some(&body));
        alva::handle(&w.alva, req)
    };
    let resp = call("POST", "teamtailor", json!({"partner_key": partner_key})).await;
    assert_eq!(resp.status(), 201, "the NA activation is found: {}", text(&resp));
    let resp = call("POST", "teamtailor/accounts", json!({"api_key": "na-alva-rw"})).await;
    assert_eq!(resp.status(), 201, "the NA key is checked on NA: {}", text(&resp));
    let resp = call("PUT", "teamtailor/settings", json!({"sync_hiring_team": true})).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    w.sandbox.add_team("501", "Data Engineer", ("u1", "Rita", "rita@acme.com"), &[]).await;

    let mut mv = na_move(8101, "cand8101@example.com", Some((501, "Data Engineer", "Assessment")));
    mv.webhook_data = json!({"test-profile": "tp-logic"});
    let resp = alva::handle(&w.alva, w.fire("alva", &partner_key, &mv).await).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let summary =
        json_of(&resp)["partner_result_attributes"]["summary"].as_str().unwrap_or_default().to_owned();
    assert!(summary.contains("1 newly granted"), "{summary}");
    assert_eq!(na_card(&w, &mv).await["status"], "sent");
    only_on_na(&w, "na-alva-rw").await;
}

#[tokio::test]
async fn an_na_spark_hire_company_is_authenticated_on_na_and_its_card_written_there() {
    let w = World::new().await;
    let partner_key = uuid::Uuid::new_v4().to_string();
    let company = format!("company-{}", uuid::Uuid::new_v4().simple());
    w.sandbox
        .add_activation_on(Region::Na, &partner_key, &SH_WEBHOOK_SECRET.into(), (&company, "Acme Inc"))
        .await;
    w.sandbox.add_sparkhire_user("sh-key-na", "Rita", "rita@acme.com", &["Designer"]).await;
    let body = json!({"api_key": "sh-key-na", "company_uuid": company});
    let resp =
        sparkhire::handle(&w.sparkhire, admin("PUT", "/sparkhire/users/31/key", ADMIN_TOKEN, Some(&body)))
            .await;
    assert!(resp.status().is_success(), "{}", text(&resp));
    let job = w.sandbox.state().await.sparkhire.jobs[0].uuid.clone();
    let mut mv = na_move(9301, "talent9301@example.com", Some((9, "Product Designer", "Video interview")));
    mv.webhook_data = json!({"job": job, "interview-type": "one_way", "question-set": "qs-general", "deadline": "2026-12-15"});
    mv.triggered_by = 31;
    let resp = sparkhire::handle(&w.sparkhire, w.fire("sparkhire", &partner_key, &mv).await).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    assert_eq!(na_card(&w, &mv).await["status"], "sent");
    // The activation was found on NA, without a Teamtailor-Host header.
    assert!(w.sandbox.count("teamtailor-na", "GET", "partner-activations").await >= 1);
}

#[tokio::test]
async fn an_update_url_on_neither_stack_is_refused_and_nothing_is_sent() {
    let w = World::new().await;
    let (_, token) = w.switch_on(json!({})).await;
    let mut mv = Move::new(1002, "x@example.com", None);
    mv.result_id = "r-elsewhere".into();
    let listing: &Teamtailor = w.listing("learnster");
    let mut body = mv.body();
    body["partner-event"]["partner-result"]["update-url"] =
        json!("https://api.au.teamtailor.com/partner/v1/partner-results/r-elsewhere");
    let req = listing.webhook_raw(
        "learnster",
        &w.provider_key(&token),
        &listing.signature(&mv.event_id, now()),
        bytes::Bytes::from(body.to_string()),
    );
    let before = w.sandbox.state().await.requests.len();
    let resp = w.call(req).await;
    assert_eq!(resp.status(), 400, "{}", text(&resp));
    assert!(text(&resp).contains("update-url"), "{}", text(&resp));
    assert_eq!(w.sandbox.state().await.requests.len(), before, "nothing was called");
}
