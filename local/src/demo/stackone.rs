//! StackOne: a link session, the customer's page with its optional check (first with mistakes,
//! then right), the hand-off to StackOne's Hub, the Hub completing and its signed
//! `account.created`, the link's status, and a second session that re-links the same account.
use super::*;
use testkit::sandbox::{Access, Scope};

/// The `href` of the page's hand-off link to StackOne's Hub.
fn hub_link(html: &str) -> Option<String> {
    let rest = html.split("id=\"hub-link\" href=\"").nth(1)?;
    Some(rest.split('"').next()?.replace("&amp;", "&"))
}

/// Opens a session for Acme; answers (status, ticket, account id the session re-links).
async fn open_session(client: &Client) -> Result<(u16, String, Value), String> {
    let body = json!({"origin_owner_id": "acme-org-1", "origin_owner_name": "Acme AB"});
    let (status, text) =
        client.send(admin("POST", "/stackone/link-sessions", DEV_ADMIN_TOKEN, Some(&body))).await?;
    let session: Value = serde_json::from_str(&text).unwrap_or_default();
    let url = session["url"].as_str().unwrap_or_default().to_owned();
    let ticket = url.split_once("ticket=").map(|(_, t)| t.to_owned()).ok_or("the session has no link")?;
    Ok((status, ticket, session["account_id"].clone()))
}

fn check_request(fields: &Value) -> http::Request<Bytes> {
    http::Request::builder()
        .method("POST")
        .uri("/stackone/link")
        .header("content-type", "application/json")
        .body(Bytes::from(fields.to_string()))
        .expect("a valid request")
}

fn print_checks(text: &str) {
    let v: Value = serde_json::from_str(text).unwrap_or_default();
    if let Some(checks) = v["checks"].as_object() {
        for (field, c) in checks {
            let word = match c["ok"].as_bool() {
                Some(true) => "ok",
                Some(false) => "to fix",
                None => "not checked",
            };
            println!("     · {field} ({word}): {}", c["message"].as_str().unwrap_or_default());
        }
    }
}

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
    // StackOne knows hirebridge's key; the company has a key that may not read and an Admin key
    // with Read access (what the page asks for).
    sandbox.add_stackone_key(vendor.api_key.expose()).await;
    sandbox.add_teamtailor_key("tt-create-only-key", Scope::Admin, Access::Write).await;
    sandbox.add_teamtailor_key("tt-admin-read-key", Scope::Admin, Access::Read).await;

    step("StackOne: an operator opens a link session for Acme (POST /stackone/link-sessions)");
    let (status, ticket, _) = open_session(client).await?;
    outcome(
        status,
        "a StackOne connect session (provider teamtailor, category ats) and a link to the page, valid 5 days",
    );
    let (status, html) =
        client.send(admin("GET", &format!("/stackone/link?ticket={ticket}"), "", None)).await?;
    let steps = html.matches("<li>").count();
    outcome(
        status,
        &format!("the page: {steps} preparation steps, an optional check, the hand-off to StackOne's Hub"),
    );
    let hub = hub_link(&html).ok_or("the page has no link to StackOne's Hub")?;

    step("Acme's admin checks what they prepared: a key that may not read, and a mistyped two-factor secret");
    let fields = json!({"ticket": ticket, "api_key": "tt-create-only-key",
        "company_id": testkit::sandbox::SANDBOX_COMPANY_ID, "totp_secret": "JBSWY3DP!!"});
    let (status, text) = client.send(check_request(&fields)).await?;
    outcome(status, "per field (nothing entered is stored or logged):");
    print_checks(&text);

    step("Checked again with the Admin key with Read access and the secret behind the QR code");
    let fields = json!({"ticket": ticket, "api_key": "tt-admin-read-key",
        "company_id": testkit::sandbox::SANDBOX_COMPANY_ID,
        "totp_secret": "otpauth://totp/Teamtailor:link@acme.example?secret=JBSWY3DPEHPK3PXP&issuer=Teamtailor"});
    let (status, text) = client.send(check_request(&fields)).await?;
    outcome(status, "per field:");
    print_checks(&text);
    expect(!text.contains("\"ok\":false"), "everything should check out")?;

    step("Acme's admin continues to StackOne's Hub and connects Teamtailor there");
    let token = hub.split_once("token=").map(|(_, t)| t.to_owned()).ok_or("the Hub link has no token")?;
    let done = sandbox.complete_stackone_session(&token).await?;
    outcome(
        done.delivered.unwrap_or(0),
        &format!(
            "StackOne sent {} for account {} to /stackone/events, signed (x-stackone-signature)",
            done.event, done.account_id
        ),
    );
    let (status, text) =
        client.send(admin("GET", "/stackone/links/acme-org-1", DEV_ADMIN_TOKEN, None)).await?;
    outcome(status, &text);
    expect(text.contains("\"status\":\"active\""), "the link should be active")?;

    step("Later, a second session for Acme re-links the same account (no second one)");
    let (status, ticket, relinks) = open_session(client).await?;
    outcome(status, &format!("the session names account {relinks}"));
    let (_, html) = client.send(admin("GET", &format!("/stackone/link?ticket={ticket}"), "", None)).await?;
    let token = hub_link(&html)
        .and_then(|h| h.split_once("token=").map(|(_, t)| t.to_owned()))
        .ok_or("no Hub link")?;
    let again = sandbox.complete_stackone_session(&token).await?;
    let accounts =
        sandbox.state().await.stackone.accounts.iter().filter(|a| a.origin_owner_id == "acme-org-1").count();
    outcome(
        again.delivered.unwrap_or(0),
        &format!("{} for {}; Acme has {accounts} StackOne account", again.event, again.account_id),
    );
    expect(again.account_id == done.account_id && accounts == 1, "the same account should be re-linked")?;
    Ok(())
}
