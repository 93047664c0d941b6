//! Alva end to end: `alva-activation` against the DynamoDB and Secrets Manager API (moto) and the
//! sandbox playing Teamtailor (partner activations, public API) and Alva over HTTP.
use bytes::Bytes;
use hirebridge_tests::*;
use serde_json::json;
use testkit::driver::{admin, Move};

struct Alva {
    w: World,
    company: String,
    partner_key: String,
}

const RW_KEY: &str = "tt-read-write-admin-key";

impl Alva {
    /// An Alva company connected to a Teamtailor activation, with a Read Write Admin account.
    async fn connected(sync: bool) -> Alva {
        let w = World::new().await;
        let partner_key = uuid::Uuid::new_v4().to_string();
        w.sandbox
            .add_activation(&partner_key, &ALVA_WEBHOOK_SECRET.into(), "Uf90iujmioh12", "Sandbox: Acme AB")
            .await;
        let company = format!("alva-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let a = Alva { w, company, partner_key };
        let resp = a.admin("POST", "teamtailor", json!({"partner_key": a.partner_key})).await;
        assert_eq!(resp.status(), 201, "{}", text(&resp));
        let resp = a.admin("POST", "teamtailor/accounts", json!({"api_key": RW_KEY})).await;
        assert_eq!(resp.status(), 201, "{}", text(&resp));
        if sync {
            let resp = a.admin("PUT", "teamtailor/settings", json!({"sync_hiring_team": true})).await;
            assert_eq!(resp.status(), 200, "{}", text(&resp));
        }
        a
    }

    async fn admin(&self, method: &str, path: &str, body: serde_json::Value) -> hirebridge::web::Response {
        let uri = format!("/alva/companies/{}/{path}", self.company);
        alva::handle(&self.w.alva, admin(method, &uri, ADMIN_TOKEN, Some(&body))).await
    }

    async fn trigger(&self, mv: &Move) -> hirebridge::web::Response {
        alva::handle(&self.w.alva, self.w.teamtailor_alva.webhook("alva", &self.partner_key, mv, now())).await
    }

    fn candidate(&self, id: u64) -> Move {
        let mut mv =
            Move::new(id, &format!("cand{id}@example.com"), Some((501, "Data Engineer", "Assessment")));
        mv.webhook_data = json!({"test-profile": "tp-logic"});
        mv
    }

    async fn event(&self, body: &serde_json::Value, secret: &str) -> hirebridge::web::Response {
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
    let fresh = alva::Deps::new(
        hirebridge::platform::Platform::aws(w.deps.platform.config.clone(), fast_policy()).await.unwrap(),
    );
    let resp = alva::handle(
        &fresh,
        admin(
            "POST",
            &format!("/alva/companies/{}/teamtailor", a.company),
            ADMIN_TOKEN,
            Some(&json!({"partner_key": tampered})),
        ),
    )
    .await;
    assert_eq!(resp.status(), 422, "{}", text(&resp));

    // The same key for another Alva company is refused.
    let resp = alva::handle(
        &a.w.alva,
        admin(
            "POST",
            "/alva/companies/another-company/teamtailor",
            ADMIN_TOKEN,
            Some(&json!({"partner_key": a.partner_key})),
        ),
    )
    .await;
    assert_eq!(resp.status(), 409, "{}", text(&resp));
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
    let second =
        json_of(&a.admin("POST", "teamtailor/accounts", json!({"api_key": "tt-second-admin-key"})).await);
    let id = second["id"].as_str().unwrap();
    assert_eq!(a.admin("DELETE", &format!("teamtailor/accounts/{id}"), json!({})).await.status(), 204);
    let listed = json_of(&a.admin("GET", "teamtailor/accounts", json!({})).await);
    assert_eq!(listed["accounts"].as_array().unwrap().len(), 1);
    let stored = a.w.secret(&format!("tenant/alva/{}", a.company)).await.unwrap();
    assert!(stored.contains(RW_KEY), "account keys live in Secrets Manager");
    assert!(!a.w.table_text().await.contains(RW_KEY), "and not in DynamoDB");
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
    assert_eq!(a.w.sandbox.state().await.partner.results[&mv.result_id]["status"], "sent", "nothing changed");

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
    let unknown = json!({"id": "evt-2", "type": "test_result.completed", "candidate": {"id": "ac-unknown"}, "data": {"score": 1}});
    let resp = a.event(&unknown, ALVA_RESULTS_SECRET).await;
    assert_eq!(resp.status(), 200);
    assert!(json_of(&resp)["ignored"].is_string());
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
