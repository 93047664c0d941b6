//! Link pages in a real browser: Debian's headless Chromium, driven over WebDriver, against the
//! local runner (`hirebridge-local`) on loopback with the table on the moto server.
use hirebridge_local::sandbox::SANDBOX_COMPANY_ID;
use hirebridge_local::server::{self, DEV_ADMIN_TOKEN};
use hirebridge_tests::webdriver::Browser;
use hirebridge_tests::{fast_policy, moto};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stackone_link_page_in_a_browser() {
    moto();
    let secrets = server::load_secrets(None).unwrap();
    let running = server::start("127.0.0.1:0".parse().unwrap(), secrets, fast_policy()).await.unwrap();
    let sandbox = running.sandbox.clone().expect("the sandbox stands in for Teamtailor and StackOne");
    sandbox.add_non_admin_token("tt-public-read-key").await;
    let base = format!("http://{}", running.addr);
    let owner = format!("org-{}", uuid::Uuid::new_v4().simple());
    let session: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/stackone/link-sessions"))
        .bearer_auth(DEV_ADMIN_TOKEN)
        .json(&json!({"origin_owner_id": owner, "origin_owner_name": "Acme AB"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = session["url"].as_str().expect("a link").to_owned();

    let browser = Browser::start().await;
    browser.goto(&url).await;
    let text = browser.text().await;
    assert!(text.contains("Link your Teamtailor account") && text.contains("Acme AB"), "{text}");

    // A read-only (non-Admin) key and a bad two-factor secret: both fields say what is wrong.
    browser.fill_labelled("Teamtailor API key", "tt-public-read-key").await;
    browser.fill_labelled("Company ID", SANDBOX_COMPANY_ID).await;
    browser.fill_labelled("E-mail of the dedicated user", "link@acme.se").await;
    browser.fill_labelled("Password of the dedicated user", "s3cret-Passw0rd").await;
    browser.fill_labelled("Two-factor secret (optional)", "not base32 at all!").await;
    browser.click("button[type=submit]").await;
    let text = browser.text().await;
    assert!(text.contains("does not have Admin scope"), "{text}");
    assert!(text.contains("must be base32"), "{text}");
    assert!(text.contains("Nothing was saved"), "{text}");
    let source = browser.source().await;
    for secret in ["s3cret-Passw0rd", "tt-public-read-key", "not base32 at all!"] {
        assert!(!source.contains(secret), "the page must not show a secret back");
    }
    assert!(sandbox.state().await.stackone_accounts.is_empty(), "nothing linked");

    // Correct values: linked.
    browser.fill_labelled("Teamtailor API key", "tt-admin-read-key").await;
    browser.fill_labelled("Password of the dedicated user", "s3cret-Passw0rd").await;
    browser.fill_labelled("Two-factor secret (optional)", "jbsw y3dp ehpk 3pxp").await;
    browser.click("button[type=submit]").await;
    let text = browser.text().await;
    assert!(text.contains("Connected") && text.contains("active"), "{text}");
    assert_eq!(sandbox.state().await.stackone_accounts.len(), 1);

    // The link works once.
    browser.goto(&url).await;
    let text = browser.text().await;
    assert!(text.contains("already been used"), "{text}");
    browser.quit().await;
    running.task.abort();
}
