//! StackOne end to end: `stackone-credential-link` against the DynamoDB and Secrets Manager API
//! (moto) and the sandbox playing Teamtailor and StackOne over HTTP.
use bytes::Bytes;
use hirebridge_tests::*;
use serde_json::{json, Value};
use testkit::driver::admin;
use testkit::sandbox::SANDBOX_COMPANY_ID;

const ADMIN_KEY: &str = "tt-admin-read-key-123";
const PASSWORD: &str = "correct horse battery staple";
const TOTP: &str = "otpauth://totp/Teamtailor:link@acme.se?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=Teamtailor";

async fn session(w: &World, owner: &str) -> String {
    let body = json!({"origin_owner_id": owner, "origin_owner_name": "Acme AB"});
    let resp =
        stackone::handle(&w.stackone, admin("POST", "/stackone/link-sessions", ADMIN_TOKEN, Some(&body)))
            .await;
    assert_eq!(resp.status(), 201, "{}", text(&resp));
    let url = json_of(&resp)["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("http://hirebridge.test/stackone/link?ticket="), "{url}");
    url.split_once("ticket=").unwrap().1.to_owned()
}

fn good(ticket: &str) -> Value {
    json!({"ticket": ticket, "api_key": ADMIN_KEY, "company_id": SANDBOX_COMPANY_ID, "email": "link@acme.se",
           "password": PASSWORD, "totp_secret": TOTP})
}

async fn submit(w: &World, body: &Value) -> hirebridge::web::Response {
    let req = http::Request::builder()
        .method("POST")
        .uri("/stackone/link")
        .header("content-type", "application/json")
        .body(Bytes::from(body.to_string()))
        .unwrap();
    stackone::handle(&w.stackone, req).await
}

async fn page(w: &World, ticket: &str) -> hirebridge::web::Response {
    let req =
        http::Request::builder().uri(format!("/stackone/link?ticket={ticket}")).body(Bytes::new()).unwrap();
    stackone::handle(&w.stackone, req).await
}

#[tokio::test]
async fn linking_an_owner_twice_updates_one_stackone_account() {
    let (_guard, logs) = capture_logs();
    let w = World::new().await;
    let owner = format!("org-{}", uuid::Uuid::new_v4().simple());
    let ticket = session(&w, &owner).await;
    let form = page(&w, &ticket).await;
    assert_eq!(form.status(), 200);
    let html = text(&form);
    for label in [
        "Teamtailor API key",
        "Company ID",
        "E-mail of the dedicated user",
        "Password of the dedicated user",
        "Two-factor secret (optional)",
    ] {
        assert!(html.contains(&format!(">{label}</label>")), "{label} is labelled");
    }
    assert!(html.contains("Recruitment Admin") && html.contains("SSO"), "the guidance is on the page");

    let resp = submit(&w, &good(&ticket)).await;
    assert_eq!(resp.status(), 201, "{}", text(&resp));
    let first = json_of(&resp);
    assert_eq!(first["status"], "active");
    // The ticket worked once.
    assert_eq!(submit(&w, &good(&ticket)).await.status(), 410);
    assert_eq!(page(&w, &ticket).await.status(), 410);

    let ticket = session(&w, &owner).await;
    let resp = submit(&w, &good(&ticket)).await;
    assert_eq!(json_of(&resp)["account_id"], first["account_id"]);
    let st = w.sandbox.state().await;
    let accounts: Vec<_> = st.stackone.accounts.iter().filter(|a| a.origin_owner_id == owner).collect();
    assert_eq!(accounts.len(), 1, "never a duplicate");
    assert_eq!(accounts[0].updates, 1, "the second link updated it");
    assert_eq!(accounts[0].credentials["totp_secret"], "JBSWY3DPEHPK3PXPJBSWY3DP");
    assert_eq!(accounts[0].credentials["password"], PASSWORD);
    drop(st);

    let status =
        stackone::handle(&w.stackone, admin("GET", &format!("/stackone/links/{owner}"), ADMIN_TOKEN, None))
            .await;
    assert_eq!(json_of(&status)["status"], "active");
    assert_eq!(json_of(&status)["account_id"], first["account_id"]);

    let stored = w.secret(&format!("tenant/stackone/{owner}")).await.expect("credentials in Secrets Manager");
    assert!(stored.contains(PASSWORD));
    let table = w.table_text().await;
    let captured = logs.text();
    assert!(captured.lines().count() >= 2);
    for secret in [PASSWORD, ADMIN_KEY, "JBSWY3DPEHPK3PXP"] {
        assert!(!table.contains(secret), "a secret reached DynamoDB");
        assert!(!captured.contains(secret), "a secret reached the logs");
    }
}

#[tokio::test]
async fn every_field_gets_its_own_message_and_nothing_is_stored() {
    let w = World::new().await;
    w.sandbox.add_non_admin_token("tt-public-read-key").await;
    let owner = format!("org-{}", uuid::Uuid::new_v4().simple());
    let ticket = session(&w, &owner).await;
    let bad = json!({"ticket": ticket, "api_key": "tt-public-read-key", "company_id": "not a company!", "email": "nobody",
                     "password": "", "totp_secret": "otpauth://totp/X?secret=JBSWY3DPEHPK3PXP&digits=8"});
    let resp = submit(&w, &bad).await;
    assert_eq!(resp.status(), 422);
    let errors = json_of(&resp)["errors"].clone();
    assert!(errors["api_key"].as_str().unwrap().contains("Admin scope"), "{errors}");
    assert!(errors["company_id"].as_str().unwrap().contains("company ID"), "{errors}");
    assert!(errors["email"].as_str().unwrap().contains("e-mail"), "{errors}");
    assert!(errors["password"].as_str().unwrap().contains("password"), "{errors}");
    assert!(errors["totp_secret"].as_str().unwrap().contains("6-digit"), "{errors}");
    // The company must be the key's own.
    let mut wrong_company = good(&ticket);
    wrong_company["company_id"] = json!("someothercompany");
    let errors = json_of(&submit(&w, &wrong_company).await)["errors"].clone();
    assert_eq!(errors.as_object().unwrap().len(), 1, "{errors}");
    assert!(errors["company_id"].as_str().unwrap().contains("not the company ID of the API key"));

    assert!(w.secret(&format!("tenant/stackone/{owner}")).await.is_none(), "nothing stored");
    assert!(w.sandbox.state().await.stackone.accounts.is_empty(), "nothing linked");
    // Corrected, the same link still works.
    assert_eq!(submit(&w, &good(&ticket)).await.status(), 201);
}

#[tokio::test]
async fn tampered_or_expired_tickets_are_refused() {
    let w = World::new().await;
    let ticket = session(&w, "org-tamper").await;
    let (payload, sig) = ticket.split_once('.').unwrap();
    let mut chars: Vec<char> = payload.chars().collect();
    chars[5] = if chars[5] == 'A' { 'B' } else { 'A' };
    let tampered = format!("{}.{sig}", chars.into_iter().collect::<String>());
    let resp = page(&w, &tampered).await;
    assert_eq!(resp.status(), 401);
    assert!(text(&resp).contains("not valid"));
    assert_eq!(submit(&w, &good(&tampered)).await.status(), 401);

    let key = hirebridge::tickets::signing_key(&w.stackone.platform.secrets).await.unwrap();
    let expired = hirebridge::tickets::issue(&key, stackone::TICKET_PURPOSE, "org-x", "X", now() - 1);
    let resp = page(&w, &expired).await;
    assert_eq!(resp.status(), 410);
    assert!(text(&resp).contains("expired"));
    let other_purpose = hirebridge::tickets::issue(&key, "sparkhire-connect", "org-x", "X", now() + 600);
    assert_eq!(page(&w, &other_purpose).await.status(), 401);
}

#[tokio::test]
async fn account_events_keep_the_status_current_and_need_stackones_signature() {
    let w = World::new().await;
    let owner = format!("org-{}", uuid::Uuid::new_v4().simple());
    let ticket = session(&w, &owner).await;
    let account = json_of(&submit(&w, &good(&ticket)).await)["account_id"].as_str().unwrap().to_owned();
    let send = |body: Value, secret: &str| {
        let body = body.to_string();
        let sig = hirebridge::body_signature::sign(body.as_bytes(), &secret.into());
        http::Request::builder()
            .method("POST")
            .uri("/stackone/events")
            .header("x-stackone-signature", sig)
            .body(Bytes::from(body))
            .unwrap()
    };
    let event = json!({"event": "account.updated", "data": {"id": account, "status": "error", "origin_owner_id": owner}});
    let resp = stackone::handle(&w.stackone, send(event.clone(), "not-the-secret")).await;
    assert_eq!(resp.status(), 401);
    async fn status(w: &World, owner: &str) -> String {
        let resp = stackone::handle(
            &w.stackone,
            admin("GET", &format!("/stackone/links/{owner}"), ADMIN_TOKEN, None),
        )
        .await;
        json_of(&resp)["status"].as_str().unwrap_or_default().to_owned()
    }
    assert_eq!(status(&w, &owner).await, "active", "nothing changed");
    let resp = stackone::handle(&w.stackone, send(event, STACKONE_WEBHOOK_SECRET)).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    assert_eq!(status(&w, &owner).await, "error");
    let deleted = json!({"event": "account.deleted", "data": {"id": account}});
    stackone::handle(&w.stackone, send(deleted, STACKONE_WEBHOOK_SECRET)).await;
    assert_eq!(status(&w, &owner).await, "deleted");
}
