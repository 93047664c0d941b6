//! Alva: the partner key connects an Alva company, a Read Write Admin account is added (a
//! read-only one is refused), hiring-team sync is switched on, a trigger invites the candidate and
//! grants the job's team, and Alva's result reaches the card.
use super::*;
use testkit::sandbox::{Access, Scope};

pub(super) async fn story(
    client: &Client,
    running: &server::Running,
    sandbox: &Sandbox,
) -> Result<(), String> {
    let platform = &running.functions.alva.platform;
    let listing = platform
        .listing("alva")
        .await
        .map_err(|e| format!("the secrets file has no Alva listing keys: {}", e.detail))?;
    let vendor: ::alva::VendorSecret = platform
        .secrets
        .require_json(::alva::VENDOR_SECRET)
        .await
        .map_err(|e| format!("the secrets file has no vendor/alva: {e}"))?;
    // Teamtailor knows the listing, Alva its vendor key, and the company has two Admin keys: one
    // that may only read and one that may read and write.
    sandbox.add_listing(listing.partner_api_key.expose()).await;
    sandbox.add_alva_key(vendor.api_key.expose()).await;
    sandbox.add_read_only_token("tt-read-admin-key").await;
    sandbox.add_teamtailor_key("tt-read-write-admin-key", Scope::Admin, Access::ReadWrite).await;
    let partner_key = uuid::Uuid::new_v4().to_string();
    sandbox.add_activation(&partner_key, &listing.webhook_secret, "Uf90iujmioh12", "Sandbox: Acme AB").await;
    let teamtailor =
        Teamtailor { partner_api_key: listing.partner_api_key, webhook_secret: listing.webhook_secret };
    sandbox
        .add_team(
            "4711",
            "Product Designer",
            ("u1", "Rita Recruiter", "rita@acme.example"),
            &[("u2", "Hugo Manager", "hugo@acme.example"), ("u3", "Ines Interviewer", "ines@acme.example")],
        )
        .await;
    sandbox.add_alva_user("hugo@acme.example", "Hugo Manager").await;
    let company = "/alva/companies/acme-alva/teamtailor";

    step("Alva: the customer pastes Teamtailor's Partner Key into Alva (POST /alva/companies/acme-alva/teamtailor)");
    let (status, text) = client
        .send(admin("POST", company, DEV_ADMIN_TOKEN, Some(&json!({"partner_key": partner_key}))))
        .await?;
    outcome(status, &text);
    expect(status == 201, "the partner key should connect")?;

    step("\"Add account\" with a Read Admin key, then with a Read Write Admin key");
    let (status, text) = client
        .send(admin(
            "POST",
            &format!("{company}/accounts"),
            DEV_ADMIN_TOKEN,
            Some(&json!({"api_key": "tt-read-admin-key"})),
        ))
        .await?;
    let detail: Value = serde_json::from_str(&text).unwrap_or_default();
    outcome(status, detail["detail"].as_str().unwrap_or(&text));
    expect(status == 422, "a read-only key should be refused")?;
    let (status, text) = client
        .send(admin(
            "POST",
            &format!("{company}/accounts"),
            DEV_ADMIN_TOKEN,
            Some(&json!({"api_key": "tt-read-write-admin-key"})),
        ))
        .await?;
    outcome(status, &text);
    expect(status == 201, "a Read Write Admin key should be added")?;
    let (status, text) = client
        .send(admin(
            "PUT",
            &format!("{company}/settings"),
            DEV_ADMIN_TOKEN,
            Some(&json!({"sync_hiring_team": true})),
        ))
        .await?;
    outcome(status, &text);

    step("A recruiter sets up \"Send Alva Labs Assessment\" (GET /alva/config)");
    let (status, text) =
        client.send(teamtailor.get("/alva/config?job_id=4711&stage_id=1&user_id=31", &partner_key)).await?;
    let form: Value = serde_json::from_str(&text).unwrap_or_default();
    let profiles: Vec<String> = form["config"]["fields"][0]["options"]
        .as_array()
        .map(|o| o.iter().map(|p| p["label"].as_str().unwrap_or("").to_owned()).collect())
        .unwrap_or_default();
    outcome(status, &format!("test profiles: {}", profiles.join(", ")));

    step("Juston is moved to the assessment stage: Alva invites him, and the hiring team gets access (POST /alva/webhook)");
    let mut mv =
        Move::new(54321, "juston.becker@example.com", Some((4711, "Product Designer", "Assessment")));
    mv.webhook_data = json!({"test-profile": "tp-logic"});
    let (status, text) =
        client.send(teamtailor.fire(sandbox, "alva", &partner_key, &mv, now()).await).await?;
    outcome(status, &text);
    expect(status == 200, "the invitation should be sent")?;
    let alva_candidate = {
        let st = sandbox.state().await;
        println!(
            "   Alva: {} candidate(s) invited, {} grant(s), invited to Alva: {}",
            st.alva.candidates.len(),
            st.alva.grants.len(),
            st.alva.invitations.join(", ")
        );
        st.alva.candidates.first().map(|c| c.id.clone()).unwrap_or_default()
    };

    step("Juston completes the test; Alva sends the result (POST /alva/events, signed)");
    let body = json!({"id": "evt-demo-1", "type": "test_result.completed", "company_id": "acme-alva",
        "candidate": {"id": alva_candidate, "external_id": "54321"},
        "data": {"score": 82, "summary": "Strong logical reasoning; top 20 %", "report_url": "https://app.alvalabs.io/reports/demo"}})
    .to_string();
    let req = http::Request::builder()
        .method("POST")
        .uri("/alva/events")
        .header("content-type", "application/json")
        .header("x-alva-signature", hirebridge::body_signature::sign(body.as_bytes(), &vendor.webhook_secret))
        .body(Bytes::from(body))
        .expect("a valid request");
    let (status, text) = client.send(req).await?;
    outcome(status, &text);
    print_card(sandbox, &mv).await;
    let score =
        sandbox.state().await.partner.results.get(&mv.result_id).map(|r| r["assessment"]["score"].clone());
    expect(score == Some(json!(82)), "the result should reach the card with its score")?;
    Ok(())
}
