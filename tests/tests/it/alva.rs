//! Alva end to end: `alva-activation` against the DynamoDB and Secrets Manager API (moto) and the
//! testkit's fakes of Teamtailor (partner activations, public API) and Alva over HTTP.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hirebridge::config::Config;
use hirebridge::platform::Platform;
use hirebridge_tests::*;
use serde_json::{json, Value};
use testkit::driver::{admin, Move};
use testkit::sandbox::{Access, Fault, Scope};
use tokio::net::TcpListener;

struct Alva {
    w: World,
    company: String,
    partner_key: String,
}

const RW_KEY: &str = "tt-read-write-admin-key";
const SECOND_KEY: &str = "tt-second-admin-key";
const ALVA_OPS_TOKEN: &str = "alva-operator-token";
const LEARNSTER_OPS_TOKEN: &str = "learnster-operator-token";

/// The sweeps of these tests run one at a time: they share the table's queue of due Alva work.
static SWEEPS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Alva {
    /// An Alva company connected to a Teamtailor activation, with a Read Write Admin account.
    async fn connected(sync: bool) -> Alva {
        Self::connect(World::new().await, sync).await
    }

    async fn connect(w: World, sync: bool) -> Alva {
        // The company's Teamtailor keys that the tests add as accounts: Admin, Read and Write.
        for key in [RW_KEY, SECOND_KEY] {
            w.sandbox.add_teamtailor_key(key, Scope::Admin, Access::ReadWrite).await;
        }
        let (company, partner_key) = connect_company(&w, ("Uf90iujmioh12", "Sandbox: Acme AB"), RW_KEY).await;
        let a = Alva { w, company, partner_key };
        if sync {
            let resp = a.admin("PUT", "teamtailor/settings", json!({"sync_hiring_team": true})).await;
            assert_eq!(resp.status(), 200, "{}", text(&resp));
        }
        a
    }

    async fn admin(&self, method: &str, path: &str, body: Value) -> hirebridge::web::Response {
        company_call(&self.w.alva, ADMIN_TOKEN, (method, &self.company, path), body).await
    }

    async fn trigger(&self, mv: &Move) -> hirebridge::web::Response {
        self.trigger_on(&self.w.alva, mv).await
    }

    async fn trigger_on(&self, deps: &alva::Deps, mv: &Move) -> hirebridge::web::Response {
        alva::handle(deps, self.w.fire("alva", &self.partner_key, mv).await).await
    }

    fn candidate(&self, id: u64) -> Move {
        let mut mv =
            Move::new(id, &format!("cand{id}@example.com"), Some((501, "Data Engineer", "Assessment")));
        mv.webhook_data = json!({"test-profile": "tp-logic"});
        mv
    }

    async fn event(&self, body: &Value, secret: &str) -> hirebridge::web::Response {
        let body = body.to_string();
        let sig = hirebridge::body_signature::sign(body.as_bytes(), &secret.into());
        let req = http::Request::builder()
            .method("POST")
            .uri("/alva/events")
            .header("x-alva-signature", sig)
            .body(Bytes::from(body))
            .unwrap();
        alva::handle(&self.w.alva, req).await
    }

    /// The candidates Alva holds for this company.
    async fn invitations(&self) -> usize {
        self.w.sandbox.state().await.alva.candidates.iter().filter(|c| c.company == self.company).count()
    }

    async fn card(&self, mv: &Move) -> Value {
        self.w.sandbox.state().await.partner.results.get(&mv.result_id).cloned().unwrap_or_default()
    }

    /// The name of the secret that holds this company's accounts now.
    async fn accounts_secret(&self) -> String {
        let store = self.w.alva.platform.store.as_ref();
        alva::store::company(store, &self.company).await.unwrap().expect("connected").accounts_secret()
    }
}

/// `{method} /alva/companies/{company}/{path}` with an admin token.
async fn company_call(
    deps: &alva::Deps,
    token: &str,
    (method, company, path): (&str, &str, &str),
    body: Value,
) -> hirebridge::web::Response {
    let uri = format!("/alva/companies/{company}/{path}");
    alva::handle(deps, admin(method, &uri, token, Some(&body))).await
}

/// Connects a new Alva company to a new activation of the Teamtailor company `(uuid, name)` and
/// adds `account_key`; answers (company id, partner key).
async fn connect_company(w: &World, teamtailor: (&str, &str), account_key: &str) -> (String, String) {
    let partner_key = uuid::Uuid::new_v4().to_string();
    w.sandbox.add_activation(&partner_key, &ALVA_WEBHOOK_SECRET.into(), teamtailor.0, teamtailor.1).await;
    let company = format!("alva-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let call = |method, path, body| company_call(&w.alva, ADMIN_TOKEN, (method, &company, path), body);
    let resp = call("POST", "teamtailor", json!({"partner_key": partner_key})).await;
    assert_eq!(resp.status(), 201, "{}", text(&resp));
    let resp = call("POST", "teamtailor/accounts", json!({"api_key": account_key})).await;
    assert_eq!(resp.status(), 201, "{}", text(&resp));
    (company, partner_key)
}

/// Another warm instance of `alva-activation` on the same table and secrets, with `edit` made
/// to its configuration.
async fn instance(w: &World, edit: impl FnOnce(&mut Config)) -> alva::Deps {
    let mut config = w.alva.platform.config.clone();
    edit(&mut config);
    alva::Deps::new(Platform::aws(config, fast_policy()).await.expect("platform on moto"))
}

/// Retries without waiting, so that a sweep right after a failure runs the work again.
fn at_once(config: &mut Config) {
    config.retry_schedule = vec![0, 0, 0];
}

/// An instance whose Secrets Manager calls are counted.
async fn counted_instance(w: &World) -> (alva::Deps, Arc<AtomicUsize>) {
    let (platform, calls) = counted_platform(w, w.alva.platform.config.clone()).await;
    (alva::Deps::new(platform), calls)
}

/// Which Teamtailor keys the requests for job 501 carried, from request `from` on.
async fn keys_used_for_the_job(w: &World, from: usize) -> Vec<String> {
    let st = w.sandbox.state().await;
    let mut keys: Vec<String> = st.requests[from..]
        .iter()
        .filter(|r| r.path.contains("/v1/jobs/501"))
        .filter_map(|r| r.authorization.clone())
        .collect();
    keys.dedup();
    keys
}

async fn requests_so_far(w: &World) -> usize {
    w.sandbox.state().await.requests.len()
}

#[tokio::test]
async fn the_partner_key_must_be_one_of_the_listings_activations() {
    let a = Alva::connected(false).await;
    let w = &a.w;
    let answer = json_of(&a.admin("POST", "teamtailor", json!({"partner_key": a.partner_key})).await);
    assert_eq!(answer["message"], "Teamtailor integration added for Sandbox: Acme AB");

    // A key of another listing (encrypted with another webhook secret), an unknown key, garbage.
    let foreign = uuid::Uuid::new_v4().to_string();
    w.sandbox.add_activation(&foreign, &"another-listings-secret".into(), "cx", "Foreign AB").await;
    for key in [foreign.as_str(), &uuid::Uuid::new_v4().to_string(), "not-a-key"] {
        let resp = a.admin("POST", "teamtailor", json!({"partner_key": key})).await;
        assert_eq!(resp.status(), 422, "{key}: {}", text(&resp));
        assert!(json_of(&resp)["detail"].as_str().unwrap().contains("Partner Key"));
    }
    // A tampered token in Teamtailor's list does not decrypt, so its key is not matched.
    let tampered = uuid::Uuid::new_v4().to_string();
    w.sandbox.add_activation(&tampered, &ALVA_WEBHOOK_SECRET.into(), "ct", "Tampered AB").await;
    {
        let mut st = w.sandbox.state().await;
        let last = st.partner.activations.last_mut().unwrap();
        let jwe = last.provider_key.clone();
        let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
        parts[3] = parts[3].chars().rev().collect();
        last.provider_key = parts.join(".");
    }
    let fresh = instance(w, |_| {}).await;
    let resp = company_call(
        &fresh,
        ADMIN_TOKEN,
        ("POST", &a.company, "teamtailor"),
        json!({"partner_key": tampered}),
    )
    .await;
    assert_eq!(resp.status(), 422, "{}", text(&resp));

    // The same key for another Alva company is refused.
    let resp = company_call(
        &a.w.alva,
        ADMIN_TOKEN,
        ("POST", "another-company", "teamtailor"),
        json!({"partner_key": a.partner_key}),
    )
    .await;
    assert_eq!(resp.status(), 409, "{}", text(&resp));
}

#[tokio::test]
async fn adding_a_read_write_admin_account_passes_teamtailors_strict_write_probe() {
    // The probe is a no-op `PATCH /v1/company` that names the company (`type` and `id`, JSON:API's
    // rule); without the id Teamtailor answers 400 and no account could be added.
    let a = Alva::connected(false).await;
    let resp = a.admin("POST", "teamtailor/accounts", json!({"api_key": SECOND_KEY})).await;
    assert_eq!(resp.status(), 201, "{}", text(&resp));
    assert!(a.w.sandbox.count("teamtailor", "PATCH", "/v1/company").await >= 2, "each key was probed");
    let listed = json_of(&a.admin("GET", "teamtailor/accounts", json!({})).await);
    assert_eq!(listed["accounts"].as_array().unwrap().len(), 2, "{listed}");
}

#[tokio::test]
async fn accounts_need_a_valid_read_write_admin_key_and_are_listed_masked() {
    let a = Alva::connected(false).await;
    a.w.sandbox.add_read_only_token("tt-read-only-key").await;
    a.w.sandbox.add_invalid_token("tt-revoked-key").await;
    let resp = a.admin("POST", "teamtailor/accounts", json!({"api_key": "tt-read-only-key"})).await;
    assert_eq!(resp.status(), 422);
    assert!(json_of(&resp)["detail"].as_str().unwrap().contains("Admin scope with Read and Write"));
    let resp = a.admin("POST", "teamtailor/accounts", json!({"api_key": "tt-revoked-key"})).await;
    assert_eq!(resp.status(), 422);
    assert!(json_of(&resp)["detail"].as_str().unwrap().contains("not valid"));

    let listed = json_of(&a.admin("GET", "teamtailor/accounts", json!({})).await);
    let accounts = listed["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1, "refused keys are not stored: {listed}");
    assert_eq!(accounts[0]["key"], "••••-key");
    assert!(!listed.to_string().contains(RW_KEY));
    let second = json_of(&a.admin("POST", "teamtailor/accounts", json!({"api_key": SECOND_KEY})).await);
    let id = second["id"].as_str().unwrap();
    let with_both = a.accounts_secret().await;
    assert_eq!(a.admin("DELETE", &format!("teamtailor/accounts/{id}"), json!({})).await.status(), 204);
    let listed = json_of(&a.admin("GET", "teamtailor/accounts", json!({})).await);
    assert_eq!(listed["accounts"].as_array().unwrap().len(), 1);
    let stored = a.w.secret(&a.accounts_secret().await).await.unwrap();
    assert!(stored.contains(RW_KEY) && !stored.contains(SECOND_KEY), "account keys live in Secrets Manager");
    assert_eq!(a.w.secret(&with_both).await, None, "the earlier version is deleted");
    assert!(!a.w.table_text().await.contains(RW_KEY), "and not in DynamoDB");
}

#[tokio::test]
async fn removing_an_account_takes_effect_at_once_on_another_warm_instance_without_a_secrets_manager_call() {
    let a = Alva::connected(true).await;
    let w = &a.w;
    w.sandbox.add_team("501", "Data Engineer", ("u1", "Rita Recruiter", "rita@acme.se"), &[]).await;
    let (other, secrets_calls) = counted_instance(w).await;
    assert_eq!(a.trigger_on(&other, &a.candidate(8401)).await.status(), 200);
    let from = requests_so_far(w).await;
    let before = secrets_calls.load(Ordering::SeqCst);
    assert_eq!(a.trigger_on(&other, &a.candidate(8402)).await.status(), 200);
    assert_eq!(secrets_calls.load(Ordering::SeqCst), before, "a warm trigger makes no Secrets Manager call");
    assert_eq!(keys_used_for_the_job(w, from).await, [format!("Token token={RW_KEY}")]);

    // On this instance: a second account, then the first one removed.
    assert_eq!(a.admin("POST", "teamtailor/accounts", json!({"api_key": SECOND_KEY})).await.status(), 201);
    let listed = json_of(&a.admin("GET", "teamtailor/accounts", json!({})).await);
    let first = listed["accounts"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(a.admin("DELETE", &format!("teamtailor/accounts/{first}"), json!({})).await.status(), 204);

    // The other instance, still warm, never uses the removed key again.
    let from = requests_so_far(w).await;
    assert_eq!(a.trigger_on(&other, &a.candidate(8403)).await.status(), 200);
    assert_eq!(keys_used_for_the_job(w, from).await, [format!("Token token={SECOND_KEY}")]);
    let before = secrets_calls.load(Ordering::SeqCst);
    assert_eq!(a.trigger_on(&other, &a.candidate(8404)).await.status(), 200);
    assert_eq!(secrets_calls.load(Ordering::SeqCst), before, "and is warm again after one read");
}

#[tokio::test]
async fn hiring_team_sync_grants_every_member_once_inviting_the_unknown() {
    let a = Alva::connected(true).await;
    let w = &a.w;
    w.sandbox
        .add_team(
            "501",
            "Data Engineer",
            ("u1", "Rita Recruiter", "rita@acme.se"),
            &[
                ("u2", "Hugo Manager", "hugo@acme.se"),
                ("u3", "Ines Interviewer", "ines@acme.se"),
                ("u4", "Olle Owner", "olle@acme.se"),
            ],
        )
        .await;
    w.sandbox.add_alva_user("hugo@acme.se", "Hugo Manager").await;

    let first = a.candidate(8001);
    let resp = a.trigger(&first).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let summary = json_of(&resp)["partner_result_attributes"]["summary"].as_str().unwrap().to_owned();
    assert!(summary.contains("4 member(s), 4 newly granted access (3 invited to Alva)"), "{summary}");
    {
        let st = w.sandbox.state().await;
        assert_eq!(st.count_pages(), 2, "the team spans two pages");
        assert_eq!(st.alva.grants.len(), 4);
        let mut invited = st.alva.invitations.clone();
        invited.sort();
        assert_eq!(invited, ["ines@acme.se", "olle@acme.se", "rita@acme.se"]);
        assert_eq!(st.alva.candidates.len(), 1);
        assert_eq!(st.alva.candidates[0].body["test_profile_id"], "tp-logic");
        assert_eq!(st.alva.candidates[0].company, a.company);
        let recorded = &st.requests.iter().filter(|r| r.path.contains("/v1/jobs/501")).collect::<Vec<_>>();
        assert!(recorded
            .iter()
            .all(|r| r.authorization.as_deref() == Some(&format!("Token token={RW_KEY}"))));
    }
    // Another candidate of the same job: nobody is granted twice.
    let resp = a.trigger(&a.candidate(8002)).await;
    let summary = json_of(&resp)["partner_result_attributes"]["summary"].as_str().unwrap().to_owned();
    assert!(summary.contains("0 newly granted"), "{summary}");
    let st = w.sandbox.state().await;
    assert_eq!(st.alva.grants.len(), 4);
    assert_eq!(st.alva.invitations.len(), 3);
    assert_eq!(st.partner.results[&first.result_id]["status"], "sent");
}

#[tokio::test]
async fn duplicate_and_concurrent_deliveries_invite_once() {
    let a = Alva::connected(false).await;
    let mv = a.candidate(8101);
    let answers = futures::future::join_all((0..5).map(|_| a.trigger(&mv))).await;
    let again = a.trigger(&mv).await;
    let bodies: std::collections::BTreeSet<(u16, String)> =
        answers.iter().chain([&again]).map(|r| (r.status().as_u16(), text(r))).collect();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(a.w.sandbox.count("alva", "POST", "/candidates").await, 1);
    assert_eq!(a.w.sandbox.state().await.alva.candidates.len(), 1);
}

#[tokio::test]
async fn results_need_alvas_signature_and_reach_the_card_once() {
    let a = Alva::connected(false).await;
    let mv = a.candidate(8201);
    assert_eq!(a.trigger(&mv).await.status(), 200);
    let alva_candidate = a.w.sandbox.state().await.alva.candidates[0].id.clone();
    let event = json!({"id": "evt-1", "type": "test_result.completed", "company_id": a.company,
        "candidate": {"id": alva_candidate, "external_id": "8201"},
        "data": {"score": 87, "summary": "Strong logical reasoning", "report_url": "https://app.alvalabs.io/reports/1"}});

    let resp = a.event(&event, "not-the-secret").await;
    assert_eq!(resp.status(), 401);
    assert_eq!(a.card(&mv).await["status"], "sent", "nothing changed");

    let resp = a.event(&event, ALVA_RESULTS_SECRET).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    let again = a.event(&event, ALVA_RESULTS_SECRET).await;
    assert_eq!(text(&again), text(&resp));
    let st = a.w.sandbox.state().await;
    let result = &st.partner.results[&mv.result_id];
    assert_eq!(result["status"], "completed");
    assert_eq!(result["assessment"]["score"], 87);
    assert_eq!(result["url"], "https://app.alvalabs.io/reports/1");
    assert_eq!(
        st.partner.updates.iter().filter(|u| u.id == mv.result_id).count(),
        2,
        "sent, then completed once"
    );
    drop(st);
    let unknown = json!({"id": "evt-2", "type": "test_result.completed", "company_id": a.company,
        "candidate": {"id": "ac-unknown"}, "data": {"score": 1}});
    let resp = a.event(&unknown, ALVA_RESULTS_SECRET).await;
    assert_eq!(resp.status(), 200);
    assert!(json_of(&resp)["ignored"].is_string());
    let no_company =
        json!({"id": "evt-3", "type": "test_result.completed", "candidate": {"id": alva_candidate}});
    assert_eq!(a.event(&no_company, ALVA_RESULTS_SECRET).await.status(), 422);
}

#[tokio::test]
async fn one_companys_partner_key_never_reaches_another_companys_accounts_or_cards() {
    let a = Alva::connected(true).await;
    let w = &a.w;
    w.sandbox.add_team("501", "Data Engineer", ("u1", "Rita Recruiter", "rita@acme.se"), &[]).await;
    let (b_company, b_key) = connect_company(w, ("Zb81beta0000", "Beta AB"), SECOND_KEY).await;
    let resp = company_call(
        &w.alva,
        ADMIN_TOKEN,
        ("PUT", &b_company, "teamtailor/settings"),
        json!({"sync_hiring_team": true}),
    )
    .await;
    assert_eq!(resp.status(), 200);

    // A's trigger reads the team with A's account only and invites into A only.
    let from = requests_so_far(w).await;
    let mv = a.candidate(8501);
    assert_eq!(a.trigger(&mv).await.status(), 200);
    assert_eq!(keys_used_for_the_job(w, from).await, [format!("Token token={RW_KEY}")]);
    assert_eq!(a.invitations().await, 1);
    let from = requests_so_far(w).await;
    let resp = alva::handle(&w.alva, w.fire("alva", &b_key, &a.candidate(8502)).await).await;
    assert_eq!(resp.status(), 200, "{}", text(&resp));
    assert_eq!(keys_used_for_the_job(w, from).await, [format!("Token token={SECOND_KEY}")]);
    let b_candidates =
        w.sandbox.state().await.alva.candidates.iter().filter(|c| c.company == b_company).count();
    assert_eq!((a.invitations().await, b_candidates), (1, 1));

    // B's result for A's candidate does not land on A's card.
    let alva_candidate =
        w.sandbox.state().await.alva.candidates.iter().find(|c| c.company == a.company).unwrap().id.clone();
    let forged = json!({"id": "evt-b", "type": "test_result.completed", "company_id": b_company,
        "candidate": {"id": alva_candidate}, "data": {"score": 3}});
    let resp = a.event(&forged, ALVA_RESULTS_SECRET).await;
    assert!(json_of(&resp)["ignored"].is_string(), "{}", text(&resp));
    assert_eq!(a.card(&mv).await["status"], "sent");

    // A connects another activation: its old key no longer reaches A, and is free for others.
    let (new_key, old_key) = (uuid::Uuid::new_v4().to_string(), a.partner_key.clone());
    w.sandbox
        .add_activation(&new_key, &ALVA_WEBHOOK_SECRET.into(), "Uf90iujmioh12", "Sandbox: Acme AB")
        .await;
    assert_eq!(a.admin("POST", "teamtailor", json!({"partner_key": new_key})).await.status(), 201);
    let resp = alva::handle(&w.alva, w.fire("alva", &old_key, &a.candidate(8503)).await).await;
    assert_eq!(resp.status(), 403, "{}", text(&resp));
    let config = alva::handle(&w.alva, w.teamtailor_alva.get("/alva/config", &old_key)).await;
    assert_eq!(json_of(&config)["config"]["fields"][0]["type"], "error");
    let gamma = format!("alva-gamma-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let resp =
        company_call(&w.alva, ADMIN_TOKEN, ("POST", &gamma, "teamtailor"), json!({"partner_key": old_key}))
            .await;
    assert_eq!(resp.status(), 201, "{}", text(&resp));
    assert_eq!(a.invitations().await, 1);
}

#[tokio::test]
async fn a_token_scoped_to_another_integration_gets_403_and_alva_writes_are_audited() {
    let w = World::new().await;
    let token = |name: &str, secret: &str, scope: &str| json!({"name": name, "sha256": hirebridge::admin::sha256_hex(secret), "scopes": [scope]});
    let operator = json!({
        "admin_tokens_sha256": [hirebridge::admin::sha256_hex(ADMIN_TOKEN)],
        "admin_tokens": [token("alva-ops", ALVA_OPS_TOKEN, "alva"), token("learnster-ops", LEARNSTER_OPS_TOKEN, "learnster")],
        "link_signing_key": "ZGV2LWxpbmstc2lnbmluZy1rZXktMzItYnl0ZXMhISE=",
    });
    w.secrets
        .put_secret_value()
        .secret_id(format!("{}/operator", w.prefix))
        .secret_string(operator.to_string())
        .send()
        .await
        .unwrap();
    let a = Alva::connect(w, false).await;
    let call = |token: &'static str, method: &'static str, path: &'static str, body: Value| {
        company_call(&a.w.alva, token, (method, &a.company, path), body)
    };
    let routes = [
        ("GET", "teamtailor/accounts", json!({})),
        ("POST", "teamtailor/accounts", json!({"api_key": SECOND_KEY})),
        ("DELETE", "teamtailor/accounts/any", json!({})),
        ("PUT", "teamtailor/settings", json!({"sync_hiring_team": true})),
        ("POST", "teamtailor", json!({"partner_key": a.partner_key})),
    ];
    for (method, path, body) in routes.clone() {
        let resp = call(LEARNSTER_OPS_TOKEN, method, path, body).await;
        assert_eq!(resp.status(), 403, "{method} {path}: {}", text(&resp));
    }
    for uri in ["/alva/work?state=failed", "/alva/work/x:y/retry"] {
        let method = if uri.ends_with("retry") { "POST" } else { "GET" };
        let resp = alva::handle(&a.w.alva, admin(method, uri, LEARNSTER_OPS_TOKEN, None)).await;
        assert_eq!(resp.status(), 403, "{uri}");
    }
    let listed = json_of(&call(ALVA_OPS_TOKEN, "GET", "teamtailor/accounts", json!({})).await);
    assert_eq!(listed["accounts"].as_array().map(Vec::len), Some(1), "{listed}");
    let resp = call(ALVA_OPS_TOKEN, "PUT", "teamtailor/settings", json!({"sync_hiring_team": true})).await;
    assert_eq!(resp.status(), 200);
    let table = a.w.table_text().await;
    let audit = table
        .lines()
        .find(|l| l.contains("alva-ops") && l.contains(&a.company))
        .expect("the write left an audit record");
    assert!(audit.contains(&format!("PUT /alva/companies/{}/teamtailor/settings", a.company)), "{audit}");
}

#[tokio::test]
async fn a_refused_or_unreachable_alva_puts_only_hirebridges_own_words_on_the_card() {
    let a = Alva::connected(false).await;
    // Alva refuses the profile: a final failure that says what to fix, not what Alva said.
    let mut mv = a.candidate(8601);
    mv.webhook_data = json!({"test-profile": "tp-nope"});
    let resp = a.trigger(&mv).await;
    assert!(resp.status().is_client_error() || resp.status().is_server_error());
    let card = a.card(&mv).await;
    assert_eq!(card["status"], "failed", "{card}");
    let summary = card["summary"].as_str().unwrap();
    assert!(summary.contains("test profile") && !summary.contains("test_profile_id"), "{summary}");

    // Alva unreachable: the card says it will retry, and names no address of ours.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let offline = instance(&a.w, |c| {
        c.alva_api_url = format!("http://{closed}/v1");
        c.retry_schedule = vec![3600];
    })
    .await;
    let mv = a.candidate(8602);
    let resp = a.trigger_on(&offline, &mv).await;
    let card = a.card(&mv).await;
    let summary = card["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("retry automatically"), "{card}");
    for shown in [summary, &text(&resp)] {
        assert!(
            !shown.contains("127.0.0.1") && !shown.contains("http") && !shown.contains("error sending"),
            "{shown}"
        );
    }
}

/// Alva down for a whole trigger (`fault` on every call), then up: the sweep invites once.
async fn alva_down_then_up(fault: Fault, deadline: Option<Duration>) {
    let _one_sweep_at_a_time = SWEEPS.lock().await;
    let a = Alva::connected(false).await;
    let deps = instance(&a.w, at_once).await;
    a.w.sandbox.add_fault(fault).await;
    let mv = a.candidate(8701);
    let resp = match deadline {
        Some(d) => {
            hirebridge::outbound::within(tokio::time::Instant::now() + d, a.trigger_on(&deps, &mv)).await
        }
        None => a.trigger_on(&deps, &mv).await,
    };
    assert_eq!(resp.status(), 502, "{}", text(&resp));
    assert!(text(&resp).contains("retry automatically"), "{}", text(&resp));
    let listed =
        json_of(&alva::handle(&deps, admin("GET", "/alva/work?state=failed", ADMIN_TOKEN, None)).await);
    assert!(
        listed["work"].as_array().unwrap().iter().any(|w| w["event_id"] == mv.event_id.as_str()),
        "{listed}"
    );

    a.w.sandbox.state().await.faults.clear();
    let report = alva::sweep(&deps).await;
    assert!(report["rerun"].as_u64().unwrap_or(0) >= 1, "{report}");
    assert_eq!(a.invitations().await, 1, "invited exactly once");
    assert_eq!(a.card(&mv).await["status"], "sent");
    alva::sweep(&deps).await;
    assert_eq!(a.invitations().await, 1, "finished work is not run again");
}

#[tokio::test]
async fn alva_answering_503_to_every_call_of_a_trigger_invites_once_after_the_sweep() {
    let fault = Fault {
        service: "alva".into(),
        method: None,
        path_contains: String::new(),
        status: Some(503),
        delay_ms: 0,
        times: 1000,
        try_again_seconds: None,
    };
    alva_down_then_up(fault, None).await;
}

#[tokio::test]
async fn alva_hanging_past_the_invocations_deadline_invites_once_after_the_sweep() {
    let fault = Fault {
        service: "alva".into(),
        method: None,
        path_contains: String::new(),
        status: None,
        delay_ms: 5_000,
        times: 1000,
        try_again_seconds: None,
    };
    alva_down_then_up(fault, Some(Duration::from_millis(1500))).await;
}

#[tokio::test]
async fn alva_performing_the_invitation_but_answering_502_invites_once() {
    let _one_sweep_at_a_time = SWEEPS.lock().await;
    let a = Alva::connected(false).await;
    // Alva makes the candidate, but the answer is lost on the way: 502.
    let lost_answers = Fault {
        service: "alva".into(),
        method: Some("POST".into()),
        path_contains: "/candidates".into(),
        status: Some(502),
        delay_ms: 0,
        times: 1000,
        try_again_seconds: None,
    };
    a.w.sandbox.add_fault_after_performing(lost_answers).await;
    let deps = instance(&a.w, at_once).await;
    let mv = a.candidate(8801);
    let resp = a.trigger_on(&deps, &mv).await;
    assert_eq!(resp.status(), 502, "{}", text(&resp));
    assert!(!text(&resp).contains("nothing was sent"), "{}", text(&resp));
    assert!(a.w.sandbox.count("alva", "POST", "/candidates").await >= 2, "the POST was replayed");
    assert_eq!(a.invitations().await, 1, "Alva honoured the Idempotency-Key");

    a.w.sandbox.state().await.faults_after.clear();
    alva::sweep(&deps).await;
    assert_eq!(a.invitations().await, 1, "no duplicate invitation");
    assert_eq!(a.card(&mv).await["status"], "sent");
}

#[tokio::test]
async fn keys_stay_out_of_the_logs() {
    let (_guard, logs) = capture_logs();
    let a = Alva::connected(true).await;
    a.w.sandbox.add_team("501", "Data Engineer", ("u1", "Rita", "rita@acme.se"), &[]).await;
    a.w.sandbox.add_read_only_token("tt-read-only-secret-key").await;
    a.admin("POST", "teamtailor/accounts", json!({"api_key": "tt-read-only-secret-key"})).await;
    assert_eq!(a.trigger(&a.candidate(8301)).await.status(), 200);
    let captured = logs.text();
    assert!(captured.lines().count() >= 2, "{captured}");
    for secret in [
        a.partner_key.as_str(),
        ADMIN_TOKEN,
        ALVA_VENDOR_KEY,
        RW_KEY,
        "tt-read-only-secret-key",
        ALVA_PARTNER_API_KEY,
        ALVA_WEBHOOK_SECRET,
    ] {
        assert!(!captured.contains(secret), "a key reached the logs");
    }
}
