//! 2Secure: activation, an order with a résumé and auto-move, a refused personnummer, the poll,
//! the completion callback and the move to the next stage.
use super::*;
use testkit::sandbox::{Access, Scope};

/// The company's Teamtailor key that the 2Secure listing sends (`teamtailor-api-token`): Admin
/// with Read and Write, as moving the candidate on needs.
const COMPANY_KEY: &str = "demo-company-read-write-key";

pub(super) async fn story(
    client: &Client,
    running: &server::Running,
    sandbox: &Sandbox,
) -> Result<(), String> {
    let platform = &running.functions.twosecure_order.platform;
    let listing = platform
        .listing("2secure")
        .await
        .map_err(|e| format!("the secrets file has no 2Secure listing keys: {}", e.detail))?;
    let vendor: ::twosecure::VendorSecret =
        platform
            .secrets
            .require_json(::twosecure::VENDOR_SECRET)
            .await
            .map_err(|e| format!("the secrets file has no vendor/2secure: {e}"))?;
    sandbox.add_listing(listing.partner_api_key.expose()).await;
    let teamtailor =
        Teamtailor { partner_api_key: listing.partner_api_key, webhook_secret: listing.webhook_secret };
    sandbox.add_teamtailor_key(COMPANY_KEY, Scope::Admin, Access::ReadWrite).await;
    sandbox.add_twosecure_key("demo-2secure-api-key", "Acme AB").await;
    sandbox
        .add_pipeline(
            "4711",
            &[("10", "Interview"), ("11", "Background check"), ("12", "Offer")],
            ("app-100", "54321", "11"),
        )
        .await;
    sandbox.add_file("juston-cv.pdf", b"%PDF-1.4 Juston's resume").await;

    step("2Secure: the customer activates 2Secure with its API key (GET /2secure/validate)");
    let key = teamtailor.provider_key(&json!({"api_key": "demo-2secure-api-key"}));
    let (status, text) = client.send(teamtailor.get("/2secure/validate", &key)).await?;
    outcome(status, &text);
    expect(status == 200, "the 2Secure key should validate")?;

    step("A recruiter sets up \"Order 2Secure background check\" on the Background check stage (GET /2secure/config)");
    let (status, text) =
        client.send(teamtailor.get("/2secure/config?job_id=4711&stage_id=11&user_id=31", &key)).await?;
    let form: Value = serde_json::from_str(&text).unwrap_or_default();
    let fields: Vec<String> = form["config"]["fields"]
        .as_array()
        .map(|f| f.iter().map(|f| f["label"].as_str().unwrap_or("").to_owned()).collect())
        .unwrap_or_default();
    outcome(status, &format!("fields: {}", fields.join(" · ")));

    let mut mv =
        Move::new(54321, "juston.becker@example.com", Some((4711, "Product Designer", "Background check")));
    mv.webhook_data = json!({"level": "standard", "billing-reference": "HR-2026-17", "orderer-email": "hr@acme.example", "attachments": ["resume"], "auto-move": "true"});
    mv.resume =
        Some(("juston-cv.pdf".into(), format!("{}/_sandbox/teamtailor/files/juston-cv.pdf", client.base)));

    step("Juston is moved there, but his Personnummer has a typo");
    mv.custom_fields = json!([{"personnummer": {"value": "811218-9875", "type": "text"}}]);
    let typo = Move { event_id: uuid::Uuid::new_v4().to_string(), ..mv.clone() };
    let (status, text) = client
        .send(with_company_token(teamtailor.fire(sandbox, "2secure", &key, &typo, now()).await, COMPANY_KEY))
        .await?;
    outcome(status, &text);
    expect(status == 422, "an invalid personnummer should be refused")?;

    step("The Personnummer is corrected and Juston is moved again: the check is ordered (POST /2secure/webhook)");
    mv.custom_fields = json!([{"personnummer": {"value": "811218-9876", "type": "text"}}]);
    let (status, text) = client
        .send(with_company_token(teamtailor.fire(sandbox, "2secure", &key, &mv, now()).await, COMPANY_KEY))
        .await?;
    outcome(status, &text);
    expect(status == 200, "the order should be sent")?;
    let order_id = {
        let st = sandbox.state().await;
        let o = st.twosecure.orders.first().ok_or("2Secure got no order")?;
        println!("   2Secure received order {} with attachment(s): {}", o.id, o.attachment_names.join(", "));
        o.id.clone()
    };
    print_card(sandbox, &mv).await;

    step("2Secure starts the check; the scheduled poll notices (EventBridge, every 5 minutes)");
    sandbox.set_twosecure_status(&order_id, "pending", None).await;
    let report = ::twosecure::poll(&running.functions.twosecure_status).await.map_err(|e| e.detail)?;
    outcome(200, &format!("poll: {} open order(s) asked about, {} changed", report.open, report.changed));
    print_card(sandbox, &mv).await;

    step("2Secure finishes and calls back (POST /2secure/callback, signed)");
    let report_url = "https://portal.2secure.se/reports/demo-1";
    sandbox.set_twosecure_status(&order_id, "completed", Some(report_url)).await;
    let body = json!({"order_id": order_id, "status": "completed", "report_url": report_url, "occurred_at": "2026-11-25T12:00:00Z"}).to_string();
    let callback = |body: String| {
        http::Request::builder()
            .method("POST")
            .uri("/2secure/callback")
            .header("content-type", "application/json")
            .header("x-2secure-signature", ::twosecure::sign(now(), body.as_bytes(), &vendor.callback_secret))
            .body(Bytes::from(body))
            .expect("a valid request")
    };
    let (status, text) = client.send(callback(body.clone())).await?;
    outcome(status, &text);
    print_card(sandbox, &mv).await;

    step("The same callback arrives a second time");
    let (status, text) = client.send(callback(body)).await?;
    outcome(status, &format!("{text} (nothing changes)"));
    let st = sandbox.state().await;
    let stage = st
        .teamtailor
        .applications
        .iter()
        .find(|a| a.id == "app-100")
        .map(|a| a.stage_id.clone())
        .unwrap_or_default();
    let moves = st.requests.iter().filter(|r| r.method == "PATCH").count();
    println!("   Juston's application is now in stage {stage} (Offer); moves made: {moves}");
    expect(stage == "12" && moves == 1, "the candidate should move to Offer exactly once")?;
    Ok(())
}
