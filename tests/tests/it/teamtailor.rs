//! The shared Teamtailor parts against the sandbox over HTTP: UUID provider keys verified through
//! the listing's partner activations (JWE, pagination, memory of what was learnt).
use hirebridge::config::Config;
use hirebridge::outbound::HttpClient;
use hirebridge::platform::Listing;
use hirebridge::teamtailor::activations::Activations;
use hirebridge::teamtailor::Stack;
use hirebridge_tests::{fast_policy, spawn_sandbox};
use testkit::sandbox::Region;

fn stacks_config(url: &str) -> Config {
    Config::from_lookup(|k| match k {
        "PUBLIC_BASE_URL" => Some("http://hirebridge.test".into()),
        "TEAMTAILOR_API_URL" => Some(format!("{url}/_sandbox/teamtailor")),
        "TEAMTAILOR_NA_API_URL" => Some(format!("{url}/_sandbox/teamtailor-na")),
        _ => None,
    })
    .unwrap()
}

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
    let config = stacks_config(&url);
    let activations = Activations::new();
    let found = activations.verify(&http, &config, &listing, &key).await.expect("a listed key verifies").0;
    assert_eq!(
        (found.company_uuid.as_str(), found.company_name.as_str()),
        ("Uf90iujmioh12", "Sandbox: Acme AB")
    );
    let listed = sandbox.count("teamtailor", "GET", "partner-activations").await;
    assert_eq!(listed, 3, "every page was read, following links.next");

    // A warm call does not list them again.
    activations.verify(&http, &config, &listing, &key).await.unwrap();
    assert_eq!(sandbox.count("teamtailor", "GET", "partner-activations").await, listed);

    for unknown in [uuid::Uuid::new_v4(), foreign] {
        let err = activations.verify(&http, &config, &listing, &unknown).await.unwrap_err();
        assert_eq!(err.status, 401);
    }
}

#[tokio::test]
async fn an_operators_partner_key_is_found_on_the_na_stack_and_named_so() {
    let (sandbox, url) = spawn_sandbox().await;
    let listing = Listing { partner_api_key: "pk".into(), webhook_secret: "listing-secret".into() };
    sandbox.add_listing("pk").await;
    let key = uuid::Uuid::new_v4();
    sandbox
        .add_activation_on(Region::Na, &key.to_string(), &listing.webhook_secret, ("na-co", "Acme Inc"))
        .await;
    let http = HttpClient::new(fast_policy());
    let (found, stack) =
        Activations::new().verify(&http, &stacks_config(&url), &listing, &key).await.expect("found on NA");
    assert_eq!((found.company_uuid.as_str(), stack), ("na-co", Stack::Na));
}
