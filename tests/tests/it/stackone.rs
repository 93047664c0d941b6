//! StackOne end to end: `stackone-credential-link` against the DynamoDB and Secrets Manager API
//! (moto) and the sandbox playing Teamtailor and StackOne over HTTP. StackOne's Hub completing a
//! session is the sandbox's control call; its account event reaches this function over HTTP,
//! signed as StackOne signs.
use std::sync::Arc;

use bytes::Bytes;
use hirebridge::config::Config;
use hirebridge::platform::Platform;
use hirebridge_tests::*;
use serde_json::{json, Value};
use testkit::driver::admin;
use testkit::sandbox::{Access, Fault, Region, Scope, StackOneAccount, SANDBOX_COMPANY_ID};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ADMIN_KEY: &str = "tt-admin-read-key-123";
const WRITE_ONLY_KEY: &str = "tt-admin-create-only-key";
const TOTP: &str = "otpauth://totp/Teamtailor:link@acme.se?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=Teamtailor";

/// A world whose Teamtailor company has an Admin key with Read access (what the page asks for)
/// and one that may not read, and whose StackOne sends its account events to this function.
async fn world() -> World {
    let w = World::new().await;
    w.sandbox.add_teamtailor_key(ADMIN_KEY, Scope::Admin, Access::Read).await;
    w.sandbox.add_teamtailor_key(WRITE_ONLY_KEY, Scope::Admin, Access::Write).await;
    let url = serve_events(deps_with(&w, |_| {}).await).await;
    w.sandbox.set_stackone_webhook(&url, STACKONE_WEBHOOK_SECRET).await;
    w
}

fn new_owner() -> String {
    format!("org-{}", uuid::Uuid::new_v4().simple())
}

/// This function built again on the same table and secrets, with its configuration changed.
async fn deps_with(w: &World, change: impl FnOnce(&mut Config)) -> stackone::Deps {
    let mut config = w.stackone.platform.config.clone();
    change(&mut config);
    stackone::Deps::new(Platform::aws(config, fast_policy()).await.expect("platform on moto"))
}

/// `POST /stackone/events` of `deps` on a loopback port, as API Gateway would route it; answers
/// its URL.
async fn serve_events(deps: stackone::Deps) -> String {
    let deps = Arc::new(deps);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/stackone/events", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(exchange(socket, deps.clone()));
        }
    });
    url
}

/// One HTTP/1.1 exchange: read the request, hand it to the function, answer, close.
async fn exchange(mut socket: tokio::net::TcpStream, deps: Arc<stackone::Deps>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, target) =
        (first.next().unwrap_or_default().to_owned(), first.next().unwrap_or("/").to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize =
        headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    while buf.len() < head_end + length {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let mut req = http::Request::builder().method(method.as_str()).uri(target);
    for (k, v) in &headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let req = req.body(Bytes::copy_from_slice(&buf[head_end..head_end + length])).unwrap();
    let resp = stackone::handle(&deps, req).await;
    let body = resp.body().clone();
    let head = format!(
        "HTTP/1.1 {} Answered\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        resp.status().as_u16(),
        body.len()
    );
    let _ = socket.write_all(head.as_bytes()).await;
    let _ = socket.write_all(&body).await;
    let _ = socket.shutdown().await;
}

/// Opens a link session; answers the whole answer.
async fn open_with(d: &stackone::Deps, owner: &str, name: &str) -> hirebridge::web::Response {
    let body = json!({"origin_owner_id": owner, "origin_owner_name": name});
    stackone::handle(d, admin("POST", "/stackone/link-sessions", ADMIN_TOKEN, Some(&body))).await
}

/// Opens a link session; answers the page's ticket.
async fn session_with(d: &stackone::Deps, owner: &str) -> String {
    let resp = open_with(d, owner, "Acme AB").await;
    assert_eq!(resp.status(), 201, "{}", text(&resp));
    let url = json_of(&resp)["url"].as_str().unwrap().to_owned();
    url.split_once("ticket=").unwrap().1.to_owned()
}

async fn session(w: &World, owner: &str) -> String {
    session_with(&w.stackone, owner).await
}

async fn page(w: &World, ticket: &str) -> hirebridge::web::Response {
    let req =
        http::Request::builder().uri(format!("/stackone/link?ticket={ticket}")).body(Bytes::new()).unwrap();
    stackone::handle(&w.stackone, req).await
}

/// The page's hand-off link to StackOne's Hub.
fn hub_link(html: &str) -> String {
    let rest = html.split("id=\"hub-link\" href=\"").nth(1).expect("a hand-off link");
    rest.split('"').next().unwrap().replace("&amp;", "&")
}

/// StackOne's Hub completing the session the page hands off to.
async fn hub_completes(w: &World, ticket: &str) -> testkit::stackone::Completed {
    let hub = hub_link(&text(&page(w, ticket).await));
    let token = hub.split_once("token=").expect("the Hub link carries the session's token").1;
    w.sandbox.complete_stackone_session(token).await.expect("the Hub completes")
}

fn check(body: &Value) -> hirebridge::web::Request {
    http::Request::builder()
        .method("POST")
        .uri("/stackone/link")
        .header("content-type", "application/json")
        .body(Bytes::from(body.to_string()))
        .unwrap()
}

fn form_post(fields: &Value) -> hirebridge::web::Request {
    let encoded: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.as_object().unwrap().iter().map(|(k, v)| (k, v.as_str().unwrap())))
        .finish();
    http::Request::builder()
        .method("POST")
        .uri("/stackone/link")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from(encoded))
        .unwrap()
}

async fn link_status(d: &stackone::Deps, owner: &str) -> Value {
    json_of(&stackone::handle(d, admin("GET", &format!("/stackone/links/{owner}"), ADMIN_TOKEN, None)).await)
}

async fn accounts_of(w: &World, owner: &str) -> Vec<StackOneAccount> {
    w.sandbox.state().await.stackone.accounts.iter().filter(|a| a.origin_owner_id == owner).cloned().collect()
}

/// An account event as StackOne sends it, signed with `signature`.
fn event(body: &Value, signature: &str) -> hirebridge::web::Request {
    http::Request::builder()
        .method("POST")
        .uri("/stackone/events")
        .header("content-type", "application/json")
        .header("x-stackone-signature", signature)
        .body(Bytes::from(body.to_string()))
        .unwrap()
}

fn signed(body: &Value) -> hirebridge::web::Request {
    event(body, &testkit::stackone::signature(body.to_string().as_bytes(), STACKONE_WEBHOOK_SECRET))
}

fn account_event(kind: &str, account: &str, owner: &str, date: &str) -> Value {
    json!({"event": kind, "account_id": account, "provider": "teamtailor", "origin_owner_id": owner,
           "origin_owner_name": "Acme AB", "project_id": "p", "event_date": date, "sent_at": date})
}

fn stackone_down(status: Option<u16>, delay_ms: u64) -> Fault {
    Fault {
        service: "stackone".into(),
        method: None,
        path_contains: String::new(),
        status,
        delay_ms,
        times: 1000,
        try_again_seconds: None,
    }
}

#[tokio::test]
async fn the_whole_link_a_session_the_hub_completing_a_signed_account_created_and_an_active_link() {
    let (_guard, logs) = capture_logs();
    let w = world().await;
    let owner = new_owner();
    let ticket = session(&w, &owner).await;
    {
        let st = w.sandbox.state().await;
        let s = st.stackone.sessions.iter().find(|s| s.origin_owner_id == owner).expect("a connect session");
        assert_eq!(
            (s.provider.as_deref(), s.categories.as_slice()),
            (Some("teamtailor"), ["ats".to_owned()].as_slice())
        );
        assert_eq!((s.origin_owner_name.as_str(), s.account_id.as_deref()), ("Acme AB", None));
    }
    assert_eq!(link_status(&w.stackone, &owner).await["status"], "not_linked");

    // The customer checks what they prepared (optional), then goes on to the Hub.
    let checked = stackone::handle(
        &w.stackone,
        check(&json!({"ticket": ticket, "api_key": ADMIN_KEY, "company_id": SANDBOX_COMPANY_ID, "totp_secret": TOTP})),
    )
    .await;
    assert_eq!(checked.status(), 200, "{}", text(&checked));
    let done = hub_completes(&w, &ticket).await;
    assert_eq!((done.event.as_str(), done.delivered), ("account.created", Some(200)));
    let status = link_status(&w.stackone, &owner).await;
    assert_eq!(
        (status["status"].as_str(), status["account_id"].as_str()),
        (Some("active"), Some(done.account_id.as_str()))
    );
    assert!(status["changed_at"].as_i64().unwrap() >= now() - 60, "{status}");
    let html = text(&page(&w, &ticket).await);
    assert!(html.contains("id=\"linked\"") && html.contains(&done.account_id), "the page says it is linked");

    // A second session re-links that account: StackOne is told which, and no second one appears.
    let ticket = session(&w, &owner).await;
    {
        let st = w.sandbox.state().await;
        let s = st.stackone.sessions.iter().rfind(|s| s.origin_owner_id == owner).unwrap();
        assert_eq!(
            s.account_id.as_deref(),
            Some(done.account_id.as_str()),
            "the session re-links the account"
        );
    }
    let again = hub_completes(&w, &ticket).await;
    assert_eq!(
        (again.event.as_str(), again.account_id.as_str(), again.delivered),
        ("account.updated", done.account_id.as_str(), Some(200))
    );
    assert_eq!(accounts_of(&w, &owner).await.len(), 1, "never a second account");
    assert_eq!(link_status(&w.stackone, &owner).await["status"], "active");

    // No Teamtailor credential of the link anywhere: Secrets Manager, DynamoDB, the logs.
    assert!(w.secret(&format!("tenant/stackone/{owner}")).await.is_none());
    let table = w.table_text().await;
    let captured = logs.text();
    assert!(captured.contains("stackone link changed"), "the logs were captured");
    for secret in [ADMIN_KEY, "JBSWY3DPEHPK3PXP", "cst_"] {
        assert!(!table.contains(secret), "{secret} reached DynamoDB");
        assert!(!captured.contains(secret), "{secret} reached the logs");
    }
}

#[tokio::test]
async fn the_old_sha256_hex_signature_and_a_wrong_secret_are_refused_with_401_and_change_nothing() {
    let w = world().await;
    let owner = new_owner();
    session(&w, &owner).await;
    let body = account_event("account.created", "acc_forged", &owner, "2030-01-01T00:00:00.000Z");
    let old = hirebridge::body_signature::sign(body.to_string().as_bytes(), &STACKONE_WEBHOOK_SECRET.into());
    let resp = stackone::handle(&w.stackone, event(&body, &old)).await;
    assert_eq!(resp.status(), 401);
    assert!(text(&resp).contains("not sha256=<hex>"), "{}", text(&resp));
    let wrong = testkit::stackone::signature(body.to_string().as_bytes(), "not-the-secret");
    assert_eq!(stackone::handle(&w.stackone, event(&body, &wrong)).await.status(), 401);
    let unsigned = http::Request::builder()
        .method("POST")
        .uri("/stackone/events")
        .body(Bytes::from(body.to_string()))
        .unwrap();
    assert_eq!(stackone::handle(&w.stackone, unsigned).await.status(), 401);
    assert_eq!(link_status(&w.stackone, &owner).await["status"], "not_linked", "nothing changed");
    assert_eq!(stackone::handle(&w.stackone, signed(&body)).await.status(), 200, "signed as StackOne signs");
}

#[tokio::test]
async fn an_event_for_an_owner_without_a_session_is_answered_200_and_ignored() {
    let w = world().await;
    let owner = new_owner();
    let resp = stackone::handle(
        &w.stackone,
        signed(&account_event("account.created", "acc_1", &owner, "2030-01-01T00:00:00Z")),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(json_of(&resp)["ignored"].as_str().unwrap().contains("never opened"), "{}", text(&resp));
    assert_eq!(
        stackone::handle(&w.stackone, admin("GET", &format!("/stackone/links/{owner}"), ADMIN_TOKEN, None))
            .await
            .status(),
        404
    );
    let other = json!({"event": "ats_candidates.updated", "account_id": "acc_1"});
    assert_eq!(
        json_of(&stackone::handle(&w.stackone, signed(&other)).await)["ignored"],
        "hirebridge reads only account events"
    );
}

#[tokio::test]
async fn an_older_event_arriving_late_never_puts_back_older_state() {
    let w = world().await;
    let owner = new_owner();
    session(&w, &owner).await;
    let created = account_event("account.created", "acc_a1", &owner, "2030-01-01T10:00:00.000Z");
    let mut with_status = created.clone();
    with_status["status"] = json!("active");
    assert_eq!(stackone::handle(&w.stackone, signed(&with_status)).await.status(), 200);
    let deleted = account_event("account.deleted", "acc_a1", &owner, "2030-01-01T12:00:00.000Z");
    assert_eq!(json_of(&stackone::handle(&w.stackone, signed(&deleted)).await)["status"], "deleted");
    // StackOne's earlier `account.updated` (11:00, status error), delivered after the deletion.
    let mut late = account_event("account.updated", "acc_a1", &owner, "2030-01-01T11:00:00.000+00:00");
    late["status"] = json!("error");
    let resp = stackone::handle(&w.stackone, signed(&late)).await;
    assert_eq!(json_of(&resp)["ignored"], "older than what the link already shows", "{}", text(&resp));
    let status = link_status(&w.stackone, &owner).await;
    assert_eq!((status["status"].as_str(), status["account_id"].as_str()), (Some("deleted"), Some("acc_a1")));
    assert_eq!(status["changed_at"], 1_893_499_200i64, "{status}");
    // A later event of another account of the owner (a new link after the deletion) is applied.
    let relinked = account_event("account.created", "acc_a2", &owner, "2030-01-02T00:00:00Z");
    stackone::handle(&w.stackone, signed(&relinked)).await;
    let status = link_status(&w.stackone, &owner).await;
    assert_eq!(
        (status["status"].as_str(), status["account_id"].as_str()),
        (Some("unknown"), Some("acc_a2")),
        "StackOne does not know acc_a2: its status cannot be read"
    );
}

#[tokio::test]
async fn a_malformed_event_gets_a_clear_400() {
    let w = world().await;
    let owner = new_owner();
    session(&w, &owner).await;
    let cases = [
        (json!({"event": "account.created", "origin_owner_id": owner}), "account_id"),
        (
            json!({"event": "account.created", "account_id": "acc 1/../x", "origin_owner_id": owner}),
            "account_id",
        ),
        (account_event("account.created", "acc_1", &owner, "yesterday"), "RFC 3339"),
        (
            account_event("account.created", "acc_1", "not an owner!", "2030-01-01T00:00:00Z"),
            "origin_owner_id",
        ),
        (json!({"account_id": "acc_1"}), "event"),
        (json!(["not", "an", "object"]), ""),
    ];
    for (body, says) in cases {
        let resp = stackone::handle(&w.stackone, signed(&body)).await;
        assert!(matches!(resp.status().as_u16(), 400 | 422), "{body}: {}", resp.status());
        assert!(text(&resp).contains(says), "{body}: {}", text(&resp));
    }
    let not_json = Bytes::from_static(b"{not json");
    let sig = testkit::stackone::signature(&not_json, STACKONE_WEBHOOK_SECRET);
    let req = http::Request::builder()
        .method("POST")
        .uri("/stackone/events")
        .header("x-stackone-signature", sig)
        .body(not_json)
        .unwrap();
    assert_eq!(stackone::handle(&w.stackone, req).await.status(), 400);
    assert_eq!(link_status(&w.stackone, &owner).await["status"], "not_linked");
}

#[tokio::test]
async fn stackone_down_when_a_session_is_opened_is_a_clear_502_or_503_and_nothing_is_recorded() {
    let w = world().await;
    for (fault, expected) in [(stackone_down(Some(503), 0), 502), (stackone_down(None, 5_000), 503)] {
        let owner = new_owner();
        w.sandbox.add_fault(fault).await;
        let resp = open_with(&w.stackone, &owner, "Acme AB").await;
        assert_eq!(resp.status(), expected, "{}", text(&resp));
        assert!(resp.headers()["content-type"].to_str().unwrap().contains("problem+json"));
        assert!(text(&resp).contains("no link session was opened"), "{}", text(&resp));
        assert_eq!(
            stackone::handle(
                &w.stackone,
                admin("GET", &format!("/stackone/links/{owner}"), ADMIN_TOKEN, None)
            )
            .await
            .status(),
            404
        );
        w.sandbox.state().await.faults.clear();
    }
}

#[tokio::test]
async fn the_check_answers_per_field_and_stores_nothing_it_was_given() {
    let (_guard, logs) = capture_logs();
    let w = world().await;
    let owner = new_owner();
    let ticket = session(&w, &owner).await;
    let run = |body: Value| {
        let d = &w.stackone;
        async move { json_of(&stackone::handle(d, check(&body)).await)["checks"].clone() }
    };
    let c = run(json!({"ticket": ticket, "api_key": "tt-no-such-key", "company_id": SANDBOX_COMPANY_ID, "totp_secret": "JBSWY3DP!!"})).await;
    assert_eq!(c["api_key"]["ok"], false);
    assert!(c["api_key"]["message"].as_str().unwrap().contains("does not accept this key"), "{c}");
    assert_eq!(c["company_id"]["ok"], Value::Null, "cannot be told without a key Teamtailor accepts");
    assert!(c["totp_secret"]["message"].as_str().unwrap().contains("base32"), "{c}");
    let c = run(json!({"ticket": ticket, "api_key": WRITE_ONLY_KEY})).await;
    assert_eq!(c["api_key"]["ok"], false);
    assert!(c["api_key"]["message"].as_str().unwrap().contains("Admin scope with Read"), "{c}");
    assert!(
        c.get("company_id").is_none() && c.get("totp_secret").is_none(),
        "only what was entered is checked"
    );
    let c = run(json!({"ticket": ticket, "api_key": ADMIN_KEY, "company_id": "someothercompany", "totp_secret": TOTP})).await;
    assert_eq!(
        (c["api_key"]["ok"].as_bool(), c["totp_secret"]["ok"].as_bool()),
        (Some(true), Some(true)),
        "{c}"
    );
    assert!(c["api_key"]["message"].as_str().unwrap().contains("EU"), "which stack: {c}");
    assert!(
        c["company_id"]["message"].as_str().unwrap().contains("not the company ID of the API key"),
        "{c}"
    );
    let c = run(json!({"ticket": ticket, "api_key": ADMIN_KEY, "company_id": SANDBOX_COMPANY_ID})).await;
    assert_eq!(c["company_id"]["ok"], true);

    // The page's form: findings on the page, nothing entered written back.
    let resp = stackone::handle(
        &w.stackone,
        form_post(&json!({"ticket": ticket, "api_key": WRITE_ONLY_KEY, "totp_secret": "JBSWY3DP!!"})),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let html = text(&resp);
    assert!(
        html.contains("id=\"api_key-result\" class=\"error\"") && html.contains("id=\"hub-link\""),
        "{html}"
    );
    for value in [WRITE_ONLY_KEY, "JBSWY3DP!!"] {
        assert!(!html.contains(value), "{value} written back");
    }
    let table = w.table_text().await;
    let captured = logs.text();
    assert!(captured.contains("stackone preparation checked"));
    for value in [ADMIN_KEY, WRITE_ONLY_KEY, "tt-no-such-key", "JBSWY3DPEHPK3PXP", "someothercompany"] {
        assert!(!table.contains(value), "{value} reached DynamoDB");
        assert!(!captured.contains(value), "{value} reached the logs");
    }
    assert!(w.secret(&format!("tenant/stackone/{owner}")).await.is_none());
}

/// A link made when hirebridge still saved Teamtailor credentials: its account id stays, its
/// credential secret is deleted when the link is next touched.
#[tokio::test]
async fn a_link_saved_before_the_hub_keeps_its_account_and_loses_its_credential_secret_when_touched() {
    let w = world().await;
    let owner = new_owner();
    let account = StackOneAccount::new(&owner, "Acme AB", "teamtailor");
    w.sandbox.state().await.stackone.accounts.push(account.clone());
    let (pk, sk) = stackone::store::Link::key(&owner);
    let old = hirebridge::store::Item::new(pk, sk)
        .with("origin_owner_id", owner.as_str())
        .with("origin_owner_name", "Acme AB")
        .with("account_id", account.id.as_str())
        .with("status", "active")
        .with("submission", "n0ld")
        .with("updated_at", 1_700_000_000i64);
    w.stackone.platform.store.put(old, None).await.unwrap();
    w.secrets
        .create_secret()
        .name(format!("{}/tenant/stackone/{owner}", w.prefix))
        .secret_string(json!({"api_key": ADMIN_KEY, "password": "old-password"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(link_status(&w.stackone, &owner).await["account_id"], account.id.as_str());

    let ticket = session(&w, &owner).await;
    assert!(w.secret(&format!("tenant/stackone/{owner}")).await.is_none(), "the old credentials are deleted");
    let st = w.sandbox.state().await;
    let s = st.stackone.sessions.iter().rfind(|s| s.origin_owner_id == owner).unwrap();
    assert_eq!(s.account_id.as_deref(), Some(account.id.as_str()), "the session re-links the account it had");
    drop(st);
    let table = w.table_text().await;
    assert!(!table.contains("n0ld") && !table.contains("old-password"));
    assert_eq!(hub_completes(&w, &ticket).await.account_id, account.id);
    assert_eq!(link_status(&w.stackone, &owner).await["status"], "active");
}

#[tokio::test]
async fn an_owner_stackone_knows_but_hirebridge_does_not_is_relinked_and_two_accounts_are_refused() {
    let w = world().await;
    let owner = new_owner();
    let known = StackOneAccount::new(&owner, "Acme AB", "teamtailor");
    {
        let mut st = w.sandbox.state().await;
        st.stackone.accounts.push(known.clone());
        st.stackone.accounts.push(StackOneAccount::new(&owner, "Acme AB", "workday"));
        st.stackone.accounts.push(StackOneAccount::new(&new_owner(), "Other AB", "teamtailor"));
    }
    let resp = open_with(&w.stackone, &owner, "Acme AB").await;
    assert_eq!(json_of(&resp)["account_id"], known.id.as_str(), "{}", text(&resp));
    w.sandbox.state().await.stackone.accounts.push(StackOneAccount::new(&owner, "Acme AB", "teamtailor"));
    let owner2 = owner.clone();
    let resp = open_with(&w.stackone, &owner2, "Acme AB").await;
    assert_eq!(resp.status(), 409, "{}", text(&resp));
    assert!(text(&resp).contains("2 Teamtailor accounts"), "{}", text(&resp));
}

#[tokio::test]
async fn tampered_or_expired_tickets_are_refused() {
    let w = world().await;
    let ticket = session(&w, &new_owner()).await;
    let (payload, sig) = ticket.split_once('.').unwrap();
    let mut chars: Vec<char> = payload.chars().collect();
    chars[5] = if chars[5] == 'A' { 'B' } else { 'A' };
    let tampered = format!("{}.{sig}", chars.into_iter().collect::<String>());
    let resp = page(&w, &tampered).await;
    assert_eq!(resp.status(), 401);
    assert!(text(&resp).contains("not valid"));
    assert_eq!(stackone::handle(&w.stackone, check(&json!({"ticket": tampered}))).await.status(), 401);

    let key = hirebridge::tickets::signing_key(&w.stackone.platform.secrets).await.unwrap();
    let expired = hirebridge::tickets::issue(&key, stackone::TICKET_PURPOSE, "org-x", "X", now() - 1);
    let resp = page(&w, &expired).await;
    assert_eq!(resp.status(), 410);
    assert!(text(&resp).contains("expired"));
    // Signed, current, but without a sealed Hub link (or for another purpose): not a page's ticket.
    let bare = hirebridge::tickets::issue(&key, stackone::TICKET_PURPOSE, "org-x", "X", now() + 600);
    assert_eq!(page(&w, &bare).await.status(), 401);
    let other_purpose = hirebridge::tickets::issue(&key, "sparkhire-connect", "org-x", "X", now() + 600);
    assert_eq!(page(&w, &other_purpose).await.status(), 401);
}

#[tokio::test]
async fn an_admin_token_scoped_to_alva_gets_403_on_every_stackone_admin_route() {
    let w = world().await;
    let owner = new_owner();
    let body = json!({"origin_owner_id": owner, "origin_owner_name": "Acme AB"});
    let routes = [
        ("POST", "/stackone/link-sessions".to_owned(), Some(&body)),
        ("GET", format!("/stackone/links/{owner}"), None),
    ];
    for (method, path, body) in &routes {
        let resp = stackone::handle(&w.stackone, admin(method, path, &scoped_token("alva"), *body)).await;
        assert_eq!(resp.status(), 403, "{method} {path}: {}", text(&resp));
        assert!(text(&resp).contains("stackone scope"), "{}", text(&resp));
        let resp = stackone::handle(&w.stackone, admin(method, path, &scoped_token("stackone"), *body)).await;
        assert!(resp.status().is_success(), "{method} {path}: {}", text(&resp));
    }
    let day = now() / 86_400;
    let mut audited = Vec::new();
    for d_ in [day, day - 1] {
        let pk = hirebridge::keys::audit("stackone", &d_.to_string());
        audited.extend(w.stackone.platform.store.query(&pk, "1").await.unwrap());
    }
    assert!(
        audited.iter().any(|i| i.str("target") == Some(owner.as_str())
            && i.str("admin") == Some("stackone-operator")
            && i.str("route") == Some("POST /stackone/link-sessions")),
        "{audited:?}"
    );
}

#[tokio::test]
async fn every_page_answers_with_headers_that_forbid_framing_caching_sniffing_and_referrers() {
    let w = world().await;
    let ticket = session(&w, &new_owner()).await;
    let pages = vec![
        ("the page", page(&w, &ticket).await),
        ("a bad ticket", page(&w, "nonsense").await),
        (
            "the check",
            stackone::handle(&w.stackone, form_post(&json!({"ticket": ticket, "totp_secret": "x"}))).await,
        ),
    ];
    let statuses: Vec<u16> = pages.iter().map(|(_, r)| r.status().as_u16()).collect();
    assert_eq!(statuses, [200, 401, 200]);
    for (what, resp) in &pages {
        let h = |name: &str| {
            resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
        };
        assert!(h("content-type").starts_with("text/html"), "{what}");
        let csp = h("content-security-policy");
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
            "{what}: {csp}"
        );
        assert_eq!(h("cache-control"), "no-store", "{what}");
        assert_eq!(h("referrer-policy"), "no-referrer", "{what}");
        assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    }
    let html = text(&pages[0].1);
    assert!(
        html.contains("name=\"totp_secret\" type=\"password\"")
            && html.contains("name=\"api_key\" type=\"password\"")
    );
    assert!(!html.contains("<script"));
}

#[tokio::test]
async fn the_form_posts_to_the_public_base_url_with_its_path() {
    let w = world().await;
    let d = deps_with(&w, |c| c.public_base_url = url::Url::parse("https://x.example/prod").unwrap()).await;
    let resp = open_with(&d, &new_owner(), "Acme AB").await;
    let url = json_of(&resp)["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("https://x.example/prod/stackone/link?ticket="), "{url}");
    let ticket = url.split_once("ticket=").unwrap().1;
    let req =
        http::Request::builder().uri(format!("/stackone/link?ticket={ticket}")).body(Bytes::new()).unwrap();
    let html = text(&stackone::handle(&d, req).await);
    assert!(html.contains("action=\"https://x.example/prod/stackone/link\""), "{html}");
}

#[tokio::test]
async fn the_eleventh_check_of_one_link_is_refused() {
    let w = world().await;
    let ticket = session(&w, &new_owner()).await;
    for n in 1..=10 {
        assert_eq!(
            stackone::handle(&w.stackone, check(&json!({"ticket": ticket, "totp_secret": "x"})))
                .await
                .status(),
            200,
            "check {n}"
        );
    }
    let refused =
        stackone::handle(&w.stackone, form_post(&json!({"ticket": ticket, "api_key": ADMIN_KEY}))).await;
    assert_eq!(refused.status(), 429);
    assert!(text(&refused).contains("submitted too many times"), "{}", text(&refused));
    assert_eq!(page(&w, &ticket).await.status(), 200, "the page and its hand-off still work");
}

#[tokio::test]
async fn a_request_of_the_wrong_shape_is_told_which_field_without_its_value() {
    let w = world().await;
    let body = json!({"origin_owner_id": 987654321, "origin_owner_name": "Acme AB"});
    let resp =
        stackone::handle(&w.stackone, admin("POST", "/stackone/link-sessions", ADMIN_TOKEN, Some(&body)))
            .await;
    assert_eq!(resp.status(), 422);
    let detail = json_of(&resp)["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("origin_owner_id") && !detail.contains("987654321"), "{detail}");
}

#[tokio::test]
async fn internal_errors_never_reach_the_operator() {
    let w = world().await;
    w.secrets
        .delete_secret()
        .secret_id(format!("{}/vendor/stackone", w.prefix))
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let owner = new_owner();
    let resp = open_with(&deps_with(&w, |_| {}).await, &owner, "Acme AB").await;
    assert_eq!(resp.status(), 500);
    for internal in ["vendor/stackone", &w.prefix, "does not exist", "secrets store"] {
        assert!(!text(&resp).contains(internal), "{internal} shown: {}", text(&resp));
    }
    assert!(w.sandbox.state().await.stackone.sessions.is_empty(), "nothing opened");
}

/// A company on Teamtailor's NA stack: its key is checked on NA and the page says so; when the
/// company's Teamtailor address is given, the key goes to NA only, never to the EU stack.
#[tokio::test]
async fn an_na_companys_key_is_found_on_na_and_goes_only_there_when_its_address_names_na() {
    let w = world().await;
    w.sandbox.add_teamtailor_key_on(Region::Na, "tt-na-admin-read", Scope::Admin, Access::Read).await;
    let ticket = session(&w, &new_owner()).await;
    let run = |body: Value| {
        let d = &w.stackone;
        async move { json_of(&stackone::handle(d, check(&body)).await)["checks"].clone() }
    };
    let address = format!("https://app.na.teamtailor.com/companies/{SANDBOX_COMPANY_ID}/jobs");
    let c = run(json!({"ticket": ticket, "api_key": "tt-na-admin-read", "company_id": address})).await;
    assert_eq!(
        (c["api_key"]["ok"].as_bool(), c["company_id"]["ok"].as_bool()),
        (Some(true), Some(true)),
        "{c}"
    );
    assert!(c["api_key"]["message"].as_str().unwrap().contains("NA stack"), "{c}");
    let to_eu = |st: &testkit::sandbox::SandboxState| {
        st.requests
            .iter()
            .filter(|r| {
                r.service == "teamtailor"
                    && r.authorization.as_deref() == Some("Token token=tt-na-admin-read")
            })
            .count()
    };
    assert_eq!(to_eu(&*w.sandbox.state().await), 0, "the NA key never reached the EU stack");

    // Without the address, each stack is asked in turn, and the page names the key's stack.
    let c = run(json!({"ticket": ticket, "api_key": "tt-na-admin-read"})).await;
    assert!(c["api_key"]["message"].as_str().unwrap().contains("NA stack"), "{c}");
}
