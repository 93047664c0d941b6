//! `make demo`: the recruitment story end to end against the local runner and its sandbox,
//! printing each step and its outcome. Fails (non-zero exit) when a step does not behave.
use std::net::SocketAddr;

use bytes::Bytes;
use hirebridge::outbound::RetryPolicy;
use hirebridge::secrets::MemorySecretStore;
use serde_json::{json, Value};

use crate::server::{self, DEV_ADMIN_TOKEN};
use testkit::driver::{admin, Move, Teamtailor};
use testkit::sandbox::Job;

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn send(&self, req: http::Request<Bytes>) -> Result<(u16, String), String> {
        let (parts, body) = req.into_parts();
        let url = format!("{}{}", self.base, parts.uri);
        let resp = self
            .http
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        Ok((status, resp.text().await.unwrap_or_default()))
    }
}

static STEP: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn step(title: &str) {
    let n = STEP.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    println!("\n{n}. {title}");
}

fn outcome(status: u16, text: &str) {
    println!("   → {status}: {text}");
}

fn expect(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what.to_owned())
    }
}

pub async fn run(addr: SocketAddr, secrets: MemorySecretStore) -> Result<(), String> {
    let running = server::start(addr, secrets, RetryPolicy::default()).await?;
    let sandbox = running
        .sandbox
        .clone()
        .ok_or("the demo plays against the sandbox; unset TEAMTAILOR_API_URL and LEARNSTER_API_URL")?;
    let listing = running
        .functions
        .learnster
        .platform
        .listing("learnster")
        .await
        .map_err(|e| format!("the secrets file has no Learnster listing keys: {}", e.detail))?;
    // The demo plays Teamtailor, which holds the same listing keys.
    let teamtailor =
        Teamtailor { partner_api_key: listing.partner_api_key, webhook_secret: listing.webhook_secret };
    let client = Client { http: reqwest::Client::new(), base: format!("http://{}", running.addr) };
    println!("hirebridge-local on {} with the sandbox of Teamtailor, Learnster and 2Secure", client.base);

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
        .send(with_company_token(teamtailor.webhook("learnster", &provider_key, &offered, now())))
        .await?;
    outcome(status, &text);
    expect(status == 200, "the Offered trigger should complete")?;
    print_card(&sandbox, &offered).await;

    step("Juston is moved on to Hired: the same student gets tt_stage_hired");
    let hired = Move {
        event_id: uuid::Uuid::new_v4().to_string(),
        result_id: uuid::Uuid::new_v4().to_string(),
        job: Some((4711, "Product Designer".into(), "Hired".into())),
        ..offered.clone()
    };
    let (status, text) = client
        .send(with_company_token(teamtailor.webhook("learnster", &provider_key, &hired, now())))
        .await?;
    outcome(status, &text);
    expect(status == 200, "the Hired trigger should complete")?;
    print_card(&sandbox, &hired).await;

    step("Teamtailor delivers the Hired event a second time");
    let (status, text) = client.send(teamtailor.webhook("learnster", &provider_key, &hired, now())).await?;
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

    step("The admin switches Learnster off; the next trigger is refused with a message for the card");
    let id = created["id"].as_str().unwrap_or_default();
    let (status, _) =
        client.send(admin("DELETE", &format!("/learnster/integrations/{id}"), DEV_ADMIN_TOKEN, None)).await?;
    outcome(status, "switched off");
    let later = Move::new(777, "someone@example.com", Some((4711, "Product Designer", "Offered")));
    let (status, text) = client.send(teamtailor.webhook("learnster", &provider_key, &later, now())).await?;
    outcome(status, &text);
    expect(status == 403, "a switched-off integration should refuse triggers")?;

    twosecure_story(&client, &running, &sandbox).await?;
    alva_story(&client, &running, &sandbox).await?;
    stackone_story(&client, &sandbox).await?;
    sparkhire_story(&client, &running, &sandbox).await?;
    running.task.abort();
    Ok(())
}

/// The listing requires the company's API key, so Teamtailor sends it with every trigger; with it
/// the department comes from the job.
fn with_company_token(mut req: http::Request<Bytes>) -> http::Request<Bytes> {
    req.headers_mut().insert("teamtailor-api-token", "demo-company-read-key".parse().expect("header"));
    req
}

async fn print_card(sandbox: &testkit::sandbox::Sandbox, mv: &Move) {
    let state = sandbox.state().await;
    match state.partner.results.get(&mv.result_id) {
        Some(r) => println!(
            "   candidate card: {} — {}",
            r["status"].as_str().unwrap_or("?"),
            r["summary"].as_str().unwrap_or("")
        ),
        None => println!("   candidate card: no partner result written"),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// 2Secure: activation, an order with a résumé and auto-move, a refused personnummer, the poll,
/// the completion callback and the move to the next stage.
async fn twosecure_story(
    client: &Client,
    running: &server::Running,
    sandbox: &testkit::sandbox::Sandbox,
) -> Result<(), String> {
    let platform = &running.functions.twosecure_order.platform;
    let listing = platform
        .listing("2secure")
        .await
        .map_err(|e| format!("the secrets file has no 2Secure listing keys: {}", e.detail))?;
    let vendor: twosecure::VendorSecret = platform
        .secrets
        .require_json(twosecure::VENDOR_SECRET)
        .await
        .map_err(|e| format!("the secrets file has no vendor/2secure: {e}"))?;
    let teamtailor =
        Teamtailor { partner_api_key: listing.partner_api_key, webhook_secret: listing.webhook_secret };
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
    let (status, text) =
        client.send(with_company_token(teamtailor.webhook("2secure", &key, &typo, now()))).await?;
    outcome(status, &text);
    expect(status == 422, "an invalid personnummer should be refused")?;

    step("The Personnummer is corrected and Juston is moved again: the check is ordered (POST /2secure/webhook)");
    mv.custom_fields = json!([{"personnummer": {"value": "811218-9876", "type": "text"}}]);
    let (status, text) =
        client.send(with_company_token(teamtailor.webhook("2secure", &key, &mv, now()))).await?;
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
    let report = twosecure::poll(&running.functions.twosecure_status).await.map_err(|e| e.detail)?;
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
            .header("x-2secure-signature", twosecure::sign(now(), body.as_bytes(), &vendor.callback_secret))
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

/// Alva: the partner key connects an Alva company, a Read Write Admin account is added (a
/// read-only one is refused), hiring-team sync is switched on, a trigger invites the candidate and
/// grants the job's team, and Alva's result reaches the card.
async fn alva_story(
    client: &Client,
    running: &server::Running,
    sandbox: &testkit::sandbox::Sandbox,
) -> Result<(), String> {
    let platform = &running.functions.alva.platform;
    let listing = platform
        .listing("alva")
        .await
        .map_err(|e| format!("the secrets file has no Alva listing keys: {}", e.detail))?;
    let vendor: alva::VendorSecret = platform
        .secrets
        .require_json(alva::VENDOR_SECRET)
        .await
        .map_err(|e| format!("the secrets file has no vendor/alva: {e}"))?;
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
    sandbox.add_read_only_token("tt-read-admin-key").await;
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
    let (status, text) = client.send(teamtailor.webhook("alva", &partner_key, &mv, now())).await?;
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

fn form_post(path: &str, fields: &[(&str, &str)]) -> http::Request<Bytes> {
    let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from(body))
        .expect("a valid request")
}

/// The messages a page shows (its `class="error"` paragraphs and its status line).
fn page_messages(html: &str) -> Vec<String> {
    let errors =
        html.split("<p class=\"error\"").skip(1).filter_map(|p| p.split_once('>').map(|(_, rest)| rest));
    let results = html.split("id=\"result\">").skip(1);
    errors
        .chain(results)
        .filter_map(|rest| rest.split("</p>").next())
        .map(|m| m.replace("<strong>", "").replace("</strong>", "").replace("&#39;", "'"))
        .collect()
}

/// StackOne: a link session, the Link Account page submitted with mistakes, then correctly, the
/// link's status, and StackOne reporting an error on the account.
async fn stackone_story(client: &Client, sandbox: &testkit::sandbox::Sandbox) -> Result<(), String> {
    sandbox.add_non_admin_token("tt-public-key").await;

    step("StackOne: an operator opens a link session for Acme (POST /stackone/link-sessions)");
    let body = json!({"origin_owner_id": "acme-org-1", "origin_owner_name": "Acme AB"});
    let (status, text) =
        client.send(admin("POST", "/stackone/link-sessions", DEV_ADMIN_TOKEN, Some(&body))).await?;
    let session: Value = serde_json::from_str(&text).unwrap_or_default();
    let url = session["url"].as_str().unwrap_or_default().to_owned();
    outcome(
        status,
        &format!("link for Acme, valid 30 minutes, once: {}…", url.chars().take(70).collect::<String>()),
    );
    let ticket = url.split_once("ticket=").map(|(_, t)| t.to_owned()).ok_or("the session has no link")?;
    let (status, html) =
        client.send(admin("GET", &format!("/stackone/link?ticket={ticket}"), "", None)).await?;
    outcome(status, &format!("the Link Account page ({} bytes of HTML, no JavaScript)", html.len()));

    step("Acme's admin submits a key without Admin scope and a mistyped two-factor secret");
    let mut fields = vec![
        ("ticket", ticket.as_str()),
        ("api_key", "tt-public-key"),
        ("company_id", testkit::sandbox::SANDBOX_COMPANY_ID),
        ("email", "link@acme.example"),
        ("password", "dedicated-user-password"),
        ("totp_secret", "JBSWY3DP!!"),
    ];
    let (status, html) = client.send(form_post("/stackone/link", &fields)).await?;
    outcome(status, "the page shows a message per field, and nothing was saved:");
    for message in page_messages(&html) {
        println!("     · {message}");
    }
    expect(status == 422 && sandbox.state().await.stackone.accounts.is_empty(), "nothing should be linked")?;

    step("Corrected and submitted again (POST /stackone/link)");
    fields[1] = ("api_key", "tt-admin-read-key");
    fields[5] = (
        "totp_secret",
        "otpauth://totp/Teamtailor:link@acme.example?secret=JBSWY3DPEHPK3PXP&issuer=Teamtailor",
    );
    let (status, html) = client.send(form_post("/stackone/link", &fields)).await?;
    outcome(status, &page_messages(&html).join(" "));
    expect(
        status == 200 && sandbox.state().await.stackone.accounts.len() == 1,
        "the account should be linked",
    )?;
    let (status, html) = client.send(form_post("/stackone/link", &fields)).await?;
    outcome(status, &format!("the same link once more: {}", page_messages(&html).join(" ")));

    step("StackOne reports a problem with the account; the operator checks the link (GET /stackone/links/acme-org-1)");
    let account = sandbox.state().await.stackone.accounts[0].id.clone();
    let body = json!({"event": "account.updated", "data": {"id": account, "status": "error", "origin_owner_id": "acme-org-1"}}).to_string();
    let vendor_secret = hirebridge::SecretString::from("dev-stackone-webhook-secret");
    let req = http::Request::builder()
        .method("POST")
        .uri("/stackone/events")
        .header("x-stackone-signature", hirebridge::body_signature::sign(body.as_bytes(), &vendor_secret))
        .body(Bytes::from(body))
        .expect("a valid request");
    let (status, text) = client.send(req).await?;
    outcome(status, &text);
    let (status, text) =
        client.send(admin("GET", "/stackone/links/acme-org-1", DEV_ADMIN_TOKEN, None)).await?;
    outcome(status, &text);
    expect(text.contains("\"status\":\"error\""), "the status should follow StackOne's event")?;
    Ok(())
}

/// Spark Hire: a recruiter without a key is sent to the connect page, connects, sets up the
/// trigger, invites a candidate to a live interview (creating the Spark Hire job from the
/// Teamtailor job), and the completed interview comes back with its share link.
async fn sparkhire_story(
    client: &Client,
    running: &server::Running,
    sandbox: &testkit::sandbox::Sandbox,
) -> Result<(), String> {
    let platform = &running.functions.sparkhire.platform;
    let listing = platform
        .listing("sparkhire")
        .await
        .map_err(|e| format!("the secrets file has no Spark Hire listing keys: {}", e.detail))?;
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
    let (status, text) = client.send(teamtailor.webhook("sparkhire", &partner_key, &mv, now())).await?;
    outcome(status, &text);
    expect(status == 200, "the interview should be created")?;
    let interview = sandbox.state().await.sparkhire.interviews.last().map(|i| i.json()).unwrap_or_default();

    step("Juston completes the interview; Spark Hire sends InterviewCompleted (POST /sparkhire/events)");
    let (user, password) = sparkhire::webhook_credentials(&platform.secrets).await.map_err(|e| e.detail)?;
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose()))
    };
    let req = http::Request::builder()
        .method("POST")
        .uri("/sparkhire/events")
        .header("authorization", format!("Basic {basic}"))
        .header("content-type", "application/json")
        .body(Bytes::from(json!({"event": "InterviewCompleted", "data": interview}).to_string()))
        .expect("a valid request");
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
