//! Learnster: switched on, activated, Offered then Hired on one student, a repeat delivery,
//! an outage healed by the scheduled retry, and switched off.
use super::*;
use testkit::sandbox::{Access, Scope};

/// The company's Teamtailor key that the Learnster listing sends (`teamtailor-api-token`).
const COMPANY_KEY: &str = "demo-company-read-key";

pub(super) async fn story(
    client: &Client,
    running: &server::Running,
    sandbox: &Sandbox,
) -> Result<(), String> {
    let listing = running
        .functions
        .learnster
        .platform
        .listing("learnster")
        .await
        .map_err(|e| format!("the secrets file has no Learnster listing keys: {}", e.detail))?;
    // The demo plays Teamtailor, which holds the same listing keys, and the company's read key
    // that the listing requires (reading a job needs no Admin scope).
    sandbox.add_listing(listing.partner_api_key.expose()).await;
    sandbox.add_teamtailor_key(COMPANY_KEY, Scope::Public, Access::Read).await;
    let teamtailor =
        Teamtailor { partner_api_key: listing.partner_api_key, webhook_secret: listing.webhook_secret };

    sandbox
        .add_job(Job {
            id: "4711".into(),
            title: "Product Designer".into(),
            department: Some("Design".into()),
        })
        .await;

    step("An admin switches Learnster on (POST /learnster/integrations)");
    let body = json!({
        "space": "acme",
        "vendor_id": "6f1c2f1e-8d2a-4c59-9a39-0a4b1e2f3c4d",
        "client_id": "acme-api-client",
        "client_secret": "acme-client-secret",
        "tags": {"title": true, "department": true, "stage": true}
    });
    let (status, text) =
        client.send(admin("POST", "/learnster/integrations", DEV_ADMIN_TOKEN, Some(&body))).await?;
    let created: Value = serde_json::from_str(&text).unwrap_or_default();
    let token = created["secret_token"].as_str().unwrap_or_default().to_owned();
    outcome(
        status,
        &format!(
            "integration {} switched on; Secret Token {}… (shown once, only its hash is kept)",
            created["id"].as_str().unwrap_or("?"),
            token.chars().take(8).collect::<String>()
        ),
    );
    expect(status == 201 && !token.is_empty(), "switching Learnster on should answer 201 with a token")?;

    step("The customer activates Learnster in Teamtailor and pastes the token");
    let (status, text) = client.send(teamtailor.get("/learnster/activation", "")).await?;
    let form: Value = serde_json::from_str(&text).unwrap_or_default();
    outcome(status, &format!("activation form with field {}", form["config"]["fields"][1]["id"]));
    let provider_key = teamtailor.provider_key(&json!({ "secret_token": token }));
    let (status, text) = client.send(teamtailor.get("/learnster/validate", &provider_key)).await?;
    outcome(status, &format!("validate: {text}"));
    expect(status == 200, "the pasted token should validate")?;
    let wrong_key = teamtailor.provider_key(&json!({ "secret_token": "lst_not-the-token" }));
    let (status, text) = client.send(teamtailor.get("/learnster/validate", &wrong_key)).await?;
    outcome(status, &format!("a mistyped token: {text}"));
    expect(status == 422, "a wrong token should be refused")?;

    step("A recruiter adds the trigger to the Offered stage (GET /learnster/config)");
    let (status, text) = client
        .send(teamtailor.get("/learnster/config?job_id=4711&stage_id=3&user_id=31", &provider_key))
        .await?;
    let form: Value = serde_json::from_str(&text).unwrap_or_default();
    let info = form["config"]["fields"][0]["content"].as_str().unwrap_or(&text);
    outcome(status, &info.replace("<b>", "").replace("</b>", "").replace("&lt;", "<").replace("&gt;", ">"));

    let mut offered =
        Move::new(54321, "juston.becker@example.com", Some((4711, "Product Designer", "Offered")));
    offered.first_name = "Juston".into();

    step("Juston is moved to Offered: Teamtailor fires the trigger (POST /learnster/webhook)");
    let (status, text) = client
        .send(with_company_token(
            teamtailor.fire(sandbox, "learnster", &provider_key, &offered, now()).await,
            COMPANY_KEY,
        ))
        .await?;
    outcome(status, &text);
    expect(status == 200, "the Offered trigger should complete")?;
    print_card(sandbox, &offered).await;

    step("Juston is moved on to Hired: the same student gets tt_stage_hired");
    let hired = Move {
        event_id: uuid::Uuid::new_v4().to_string(),
        result_id: uuid::Uuid::new_v4().to_string(),
        job: Some((4711, "Product Designer".into(), "Hired".into())),
        ..offered.clone()
    };
    let (status, text) = client
        .send(with_company_token(
            teamtailor.fire(sandbox, "learnster", &provider_key, &hired, now()).await,
            COMPANY_KEY,
        ))
        .await?;
    outcome(status, &text);
    expect(status == 200, "the Hired trigger should complete")?;
    print_card(sandbox, &hired).await;

    step("Teamtailor delivers the Hired event a second time");
    let (status, text) =
        client.send(teamtailor.fire(sandbox, "learnster", &provider_key, &hired, now()).await).await?;
    outcome(status, &format!("{text} (the first outcome, replayed)"));

    step("What Learnster now holds");
    let state = sandbox.state().await;
    for s in &state.learnster.students {
        println!(
            "   student {} <{}> tags: {}",
            s.id,
            s.user["email"].as_str().unwrap_or("?"),
            s.tags.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    let creations = state
        .requests
        .iter()
        .filter(|r| r.service == "learnster" && r.method == "POST" && r.path.ends_with("/users/students/"))
        .count();
    println!("   student-creation calls that reached Learnster: {creations}");
    let tags: Vec<String> =
        state.learnster.students.first().map(|s| s.tags.iter().cloned().collect()).unwrap_or_default();
    expect(state.learnster.students.len() == 1 && creations == 1, "exactly one student should exist")?;
    expect(
        tags == ["tt_department_design", "tt_stage_hired", "tt_stage_offered", "tt_title_product designer"],
        "the student should carry title, department, and both stage tags",
    )?;
    drop(state);

    step("Learnster is down when Ada is moved to Offered: the work is recorded and the card says it will be retried");
    let outage = testkit::sandbox::Fault {
        service: "learnster".into(),
        method: None,
        path_contains: "/".into(),
        status: Some(503),
        delay_ms: 0,
        times: 1000,
        try_again_seconds: None,
    };
    sandbox.add_fault(outage).await;
    let mut ada = Move::new(54322, "ada.lovelace@example.com", Some((4711, "Product Designer", "Offered")));
    ada.first_name = "Ada".into();
    let (status, text) =
        client.send(teamtailor.fire(sandbox, "learnster", &provider_key, &ada, now()).await).await?;
    outcome(status, &text);
    expect(
        status == 502 && text.contains("retry automatically"),
        "an outage should be recorded for a retry",
    )?;
    print_card(sandbox, &ada).await;

    step("Learnster is back; the scheduled run (EventBridge, every 5 minutes) retries the due work once");
    sandbox.state().await.faults.clear();
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let report = running.functions.sweep().await;
    outcome(200, &format!("scheduled run: {}", report["learnster"]));
    print_card(sandbox, &ada).await;
    let state = sandbox.state().await;
    let card = state.partner.results.get(&ada.result_id).map(|r| r["status"].clone()).unwrap_or_default();
    let students =
        state.learnster.students.iter().filter(|s| s.user["email"] == "ada.lovelace@example.com").count();
    expect(
        card == "completed" && students == 1,
        "the retry should create Ada's student once and complete her card",
    )?;
    drop(state);

    step("The admin switches Learnster off; the next trigger is refused with a message for the card");
    let id = created["id"].as_str().unwrap_or_default();
    let (status, _) =
        client.send(admin("DELETE", &format!("/learnster/integrations/{id}"), DEV_ADMIN_TOKEN, None)).await?;
    outcome(status, "switched off");
    let later = Move::new(777, "someone@example.com", Some((4711, "Product Designer", "Offered")));
    let (status, text) =
        client.send(teamtailor.fire(sandbox, "learnster", &provider_key, &later, now()).await).await?;
    outcome(status, &text);
    expect(status == 403, "a switched-off integration should refuse triggers")?;

    Ok(())
}
