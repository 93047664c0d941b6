//! Link pages in a real browser: Debian's headless Chromium, driven over WebDriver by `fantoccini`,
//! against the local runner (`hirebridge-local`) on loopback with the table on the moto server.
use hirebridge_local::server::{self, DEV_ADMIN_TOKEN};
use hirebridge_tests::webdriver::Browser;
use hirebridge_tests::{fast_policy, moto};
use serde_json::json;
use testkit::sandbox::{Access, Sandbox, Scope, SANDBOX_COMPANY_ID};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stackone_link_page_in_a_browser() {
    moto();
    let secrets = server::load_secrets(None).unwrap();
    // The fakes know only what the test registers with them, as the real services do.
    let strict = Sandbox::refusing_unregistered();
    let running =
        server::start_with("127.0.0.1:0".parse().unwrap(), secrets, fast_policy(), strict).await.unwrap();
    let sandbox = running.sandbox.clone().expect("the sandbox stands in for Teamtailor and StackOne");
    let vendor: stackone::VendorSecret =
        running.functions.stackone.platform.secrets.require_json(stackone::VENDOR_SECRET).await.unwrap();
    sandbox.add_stackone_key(vendor.api_key.expose()).await;
    sandbox.add_teamtailor_key("tt-create-only-key", Scope::Admin, Access::Write).await;
    sandbox.add_teamtailor_key("tt-admin-read-key", Scope::Admin, Access::Read).await;
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
    // The preparation steps, in order.
    let mut at = 0;
    for step in ["Admin scope and Read only", "company ID", "Recruitment Admin", "SSO", "two-factor secret"] {
        at +=
            text[at..].find(step).unwrap_or_else(|| panic!("{step} is not after the step before it: {text}"));
    }
    let source = browser.source().await;
    assert!(!source.contains("<script"), "the page works without JavaScript");
    assert!(source.contains("id=\"hub-link\""), "the hand-off to StackOne's Hub");

    // The optional check, a plain form: a key that may not read and a mistyped two-factor secret.
    browser.fill_labelled("Teamtailor API key", "tt-create-only-key").await;
    browser.fill_labelled("Company ID", SANDBOX_COMPANY_ID).await;
    browser.fill_labelled("Two-factor secret", "not base32 at all!").await;
    browser.click("button[type=submit]").await;
    let text = browser.text().await;
    assert!(text.contains("Admin scope with Read"), "{text}");
    assert!(text.contains("must be base32"), "{text}");
    let source = browser.source().await;
    for entered in ["tt-create-only-key", "not base32 at all!"] {
        assert!(!source.contains(entered), "the page must not show what was entered");
    }
    browser.fill_labelled("Teamtailor API key", "tt-admin-read-key").await;
    browser.fill_labelled("Company ID", SANDBOX_COMPANY_ID).await;
    browser.fill_labelled("Two-factor secret", "jbsw y3dp ehpk 3pxp").await;
    browser.click("button[type=submit]").await;
    let text = browser.text().await;
    assert!(
        text.contains("Teamtailor accepts this key") && text.contains("This is the company of the API key"),
        "{text}"
    );
    assert!(text.contains("The secret decodes"), "{text}");

    // The hand-off: StackOne's Hub for this session.
    browser.click("#hub-link").await;
    let text = browser.text().await;
    assert!(text.contains("StackOne Hub (sandbox)") && text.contains("Acme AB"), "{text}");
    let token = {
        let st = sandbox.state().await;
        st.stackone.sessions.iter().find(|s| s.origin_owner_id == owner).expect("a session").token.clone()
    };
    let done = sandbox.complete_stackone_session(&token).await.unwrap();
    assert_eq!((done.event.as_str(), done.delivered), ("account.created", Some(200)));
    let link: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/stackone/links/{owner}"))
        .bearer_auth(DEV_ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(link["status"], "active", "{link}");

    // The page says so when opened again.
    browser.goto(&url).await;
    assert!(browser.text().await.contains("StackOne reports this Teamtailor account as linked"));
    browser.quit().await;
    running.task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spark_hire_connect_page_in_a_browser() {
    moto();
    let secrets = server::load_secrets(None).unwrap();
    // The fakes know only what the test registers with them, as the real services do.
    let strict = Sandbox::refusing_unregistered();
    let running =
        server::start_with("127.0.0.1:0".parse().unwrap(), secrets, fast_policy(), strict).await.unwrap();
    let sandbox = running.sandbox.clone().expect("the sandbox stands in for Teamtailor and Spark Hire");
    let listing = running.functions.sparkhire.platform.listing("sparkhire").await.unwrap();
    sandbox.add_listing(listing.partner_api_key.expose()).await;
    let partner_key = uuid::Uuid::new_v4().to_string();
    let company = format!("company-{}", uuid::Uuid::new_v4().simple());
    sandbox.add_activation(&partner_key, &listing.webhook_secret, &company, "Sandbox: Acme AB").await;
    sandbox.add_sparkhire_user("sh-browser-key", "Rita Recruiter", "rita@acme.se", &["Designer"]).await;
    let base = format!("http://{}", running.addr);
    let user = format!("{}", 1000 + (uuid::Uuid::new_v4().as_u128() % 1_000_000));

    // The trigger form of a recruiter without a key links to the connect page.
    let form: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/sparkhire/config?job_id=1&stage_id=2&user_id={user}"))
        .bearer_auth(&partner_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let info = form["config"]["fields"][0]["content"].as_str().unwrap_or_default();
    let start = info.find("href=\"").expect("a connect link") + "href=\"".len();
    let url = info[start..].split('"').next().unwrap().replace("&amp;", "&");

    let browser = Browser::start().await;
    browser.goto(&url).await;
    assert!(browser.text().await.contains("Connect Spark Hire"));
    browser.fill_labelled("Spark Hire User API Key", "a-wrong-key").await;
    browser.click("button[type=submit]").await;
    let text = browser.text().await;
    assert!(text.contains("did not accept this key"), "{text}");
    assert!(!browser.source().await.contains("a-wrong-key"));

    browser.fill_labelled("Spark Hire User API Key", "sh-browser-key").await;
    browser.click("button[type=submit]").await;
    let text = browser.text().await;
    assert!(text.contains("Connected as Rita Recruiter"), "{text}");
    assert!(!browser.source().await.contains("sh-browser-key"));

    browser.goto(&url).await;
    assert!(browser.text().await.contains("already been used"));
    browser.quit().await;
    running.task.abort();
}
