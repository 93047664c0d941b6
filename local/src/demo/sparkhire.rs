//! Spark Hire: a recruiter without a key is sent to the connect page, connects, sets up the
//! trigger, invites a candidate to a live interview (creating the Spark Hire job from the
//! Teamtailor job), and the completed interview comes back with its share link.
use super::*;

pub(super) async fn story(
    client: &Client,
    running: &server::Running,
    sandbox: &Sandbox,
) -> Result<(), String> {
    let platform = &running.functions.sparkhire.platform;
    let listing = platform
        .listing("sparkhire")
        .await
        .map_err(|e| format!("the secrets file has no Spark Hire listing keys: {}", e.detail))?;
    sandbox.add_listing(listing.partner_api_key.expose()).await;
    let partner_key = uuid::Uuid::new_v4().to_string();
    sandbox.add_activation(&partner_key, &listing.webhook_secret, "acme-tt-uuid", "Sandbox: Acme AB").await;
    sandbox
        .add_sparkhire_user(
            "rita-sparkhire-user-key",
            "Rita Recruiter",
            "rita@acme.example",
            &["Existing Spark Hire job"],
        )
        .await;
    let teamtailor =
        Teamtailor { partner_api_key: listing.partner_api_key, webhook_secret: listing.webhook_secret };

    step("Spark Hire: Rita opens the trigger before connecting her key (GET /sparkhire/config)");
    let (status, text) = client
        .send(teamtailor.get("/sparkhire/config?job_id=4711&stage_id=5&user_id=31", &partner_key))
        .await?;
    let form: Value = serde_json::from_str(&text).unwrap_or_default();
    outcome(status, form["config"]["fields"][1]["message"].as_str().unwrap_or(&text));
    let info = form["config"]["fields"][0]["content"].as_str().unwrap_or_default();
    let ticket = info
        .split("ticket=")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .ok_or("no connect link in the form")?
        .to_owned();

    step("She follows the link and pastes her Spark Hire User API Key (POST /sparkhire/connect)");
    let (status, html) = client
        .send(form_post("/sparkhire/connect", &[("ticket", &ticket), ("api_key", "mistyped-key")]))
        .await?;
    outcome(status, &page_messages(&html).join(" "));
    let (status, html) = client
        .send(form_post("/sparkhire/connect", &[("ticket", &ticket), ("api_key", "rita-sparkhire-user-key")]))
        .await?;
    outcome(status, &page_messages(&html).join(" "));
    expect(status == 200, "the right key should connect")?;

    step("Now the trigger form lists her Spark Hire jobs and question sets");
    let (status, text) = client
        .send(teamtailor.get("/sparkhire/config?job_id=4711&stage_id=5&user_id=31", &partner_key))
        .await?;
    let form: Value = serde_json::from_str(&text).unwrap_or_default();
    let labels: Vec<String> = form["config"]["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|f| f["label"].as_str().map(str::to_owned))
                .filter(|l| l != "Set up by")
                .collect()
        })
        .unwrap_or_default();
    outcome(status, &labels.join(" · "));

    step("Juston is moved to Video interview: a live interview, with the job created from the Teamtailor job (POST /sparkhire/webhook)");
    let mut mv =
        Move::new(54321, "juston.becker@example.com", Some((4711, "Product Designer", "Video interview")));
    mv.webhook_data = json!({"job": "create", "interview-type": "live", "question-set": "qs-design", "interview-time": "2026-12-03T14:30", "set-up-by": "31"});
    let (status, text) =
        client.send(teamtailor.fire(sandbox, "sparkhire", &partner_key, &mv, now()).await).await?;
    outcome(status, &text);
    expect(status == 200, "the interview should be created")?;
    let interview =
        sandbox.state().await.sparkhire.interviews.last().map(|i| i.uuid.clone()).unwrap_or_default();

    step("Juston completes the interview; Spark Hire sends InterviewCompleted, the interview itself (POST /sparkhire/events)");
    // Spark Hire sends back the credentials it was given when Rita connected: Acme's own.
    let req = sandbox
        .sparkhire_events(&interview, "InterviewCompleted", testkit::sparkhire::Envelope::Bare)
        .await
        .into_iter()
        .next()
        .ok_or("no Spark Hire webhook for InterviewCompleted was registered")?;
    let (status, text) = client.send(req).await?;
    outcome(status, &text);
    print_card(sandbox, &mv).await;
    let done = sandbox
        .state()
        .await
        .partner
        .results
        .get(&mv.result_id)
        .map(|r| r["status"] == "completed")
        .unwrap_or(false);
    expect(done, "the card should show the completed interview")?;
    Ok(())
}
