//! StackOne: a link session, the Link Account page submitted with mistakes, then correctly, the
//! link's status, and StackOne reporting an error on the account.
use super::*;
use testkit::sandbox::{Access, Scope};

pub(super) async fn story(
    client: &Client,
    running: &server::Running,
    sandbox: &Sandbox,
) -> Result<(), String> {
    let vendor: ::stackone::VendorSecret = running
        .functions
        .stackone
        .platform
        .secrets
        .require_json(::stackone::VENDOR_SECRET)
        .await
        .map_err(|e| format!("the secrets file has no vendor/stackone: {e}"))?;
    // StackOne knows hirebridge's key; the company has a key without Admin scope and an Admin key
    // with Read access (what the form asks for).
    sandbox.add_stackone_key(vendor.api_key.expose()).await;
    sandbox.add_non_admin_token("tt-public-key").await;
    sandbox.add_teamtailor_key("tt-admin-read-key", Scope::Admin, Access::Read).await;

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
    let req = http::Request::builder()
        .method("POST")
        .uri("/stackone/events")
        .header(
            "x-stackone-signature",
            hirebridge::body_signature::sign(body.as_bytes(), &vendor.webhook_secret),
        )
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
