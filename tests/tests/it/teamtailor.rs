//! The shared Teamtailor parts against the sandbox over HTTP: UUID provider keys verified through
//! the listing's partner activations (JWE, pagination, memory of what was learnt).
use hirebridge::outbound::HttpClient;
use hirebridge::platform::Listing;
use hirebridge::teamtailor::activations::Activations;
use hirebridge_tests::{fast_policy, spawn_sandbox};

#[tokio::test]
async fn uuid_provider_keys_are_verified_through_partner_activations() {
    let (sandbox, url) = spawn_sandbox().await;
    let listing = Listing { partner_api_key: "pk".into(), webhook_secret: "listing-secret".into() };
    sandbox.add_listing("pk").await;
    let key = uuid::Uuid::new_v4();
    // Five activations: ours is on the third page; one belongs to another listing.
    for i in 0..4 {
        sandbox
            .add_activation(
                &uuid::Uuid::new_v4().to_string(),
                &listing.webhook_secret,
                &format!("c{i}"),
                "Other AB",
            )
            .await;
    }
    let foreign = uuid::Uuid::new_v4();
    sandbox.add_activation(&foreign.to_string(), &"another-listing".into(), "cx", "Foreign AB").await;
    sandbox
        .add_activation(&key.to_string(), &listing.webhook_secret, "Uf90iujmioh12", "Sandbox: Acme AB")
        .await;

    let http = HttpClient::new(fast_policy());
    let base = format!("{url}/_sandbox/teamtailor");
    let activations = Activations::new();
    let found = activations.verify(&http, &base, &listing, &key).await.expect("a listed key verifies");
    assert_eq!(
        (found.company_uuid.as_str(), found.company_name.as_str()),
        ("Uf90iujmioh12", "Sandbox: Acme AB")
    );
    let listed = sandbox.count("teamtailor", "GET", "partner-activations").await;
    assert_eq!(listed, 3, "every page was read, following links.next");

    // A warm call does not list them again.
    activations.verify(&http, &base, &listing, &key).await.unwrap();
    assert_eq!(sandbox.count("teamtailor", "GET", "partner-activations").await, listed);

    for unknown in [uuid::Uuid::new_v4(), foreign] {
        let err = activations.verify(&http, &base, &listing, &unknown).await.unwrap_err();
        assert_eq!(err.status, 401);
    }
}
