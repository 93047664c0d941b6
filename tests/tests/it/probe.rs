//! The go-live probe (`hirebridge-local probe`, `make probe`) against the testkit's fakes: strict
//! ones (everything holds), ones that differ (the probe says so and exits with 1), missing
//! credentials (could not be checked), and at no point a request that could change something.
use hirebridge::outbound::RetryPolicy;
use hirebridge::SecretString;
use hirebridge_local::probe::{self, Given, Report, SecretSource, Targets, Verdict, LISTINGS};
use serde_json::{json, Value};
use testkit::differs::{self, Difference};
use testkit::sandbox::{Access, Sandbox, Scope};

const COMPANY_KEY: &str = "probe-company-key-read-write-admin";
const STACKONE_KEY: &str = "probe-stackone-key";
const SPARKHIRE_KEY: &str = "probe-sparkhire-recruiter-key";
const TWOSECURE_KEY: &str = "probe-2secure-key";
const ALVA_KEY: &str = "probe-alva-vendor-key";

fn partner_key(integration: &str) -> String {
    format!("probe-{integration}-partner-api-key")
}

fn webhook_secret(integration: &str) -> String {
    format!("probe-{integration}-webhook-secret")
}

/// Every secret the probe reads, as a secrets file holds them: the listings', the vendors', and a
/// tenant of each kind the functions write.
fn secrets_file() -> Value {
    let mut file = json!({
        "hirebridge/vendor/stackone": {"api_key": STACKONE_KEY, "webhook_secret": "w"},
        "hirebridge/vendor/alva": {"api_key": ALVA_KEY, "webhook_secret": "w"},
        "hirebridge/vendor/2secure": {"callback_secret": "c"},
        "hirebridge/tenant/sparkhire/company-1/events": {"username": "u", "password": "p"},
        "hirebridge/tenant/sparkhire/company-1/users/31/v1": {"api_key": SPARKHIRE_KEY},
        "hirebridge/tenant/2secure/0123456789abcdef0123456789abcdef": {"api_key": TWOSECURE_KEY},
        "hirebridge/tenant/learnster/integration-1": {"client_id": "client-1", "client_secret": "client-secret-1"},
    });
    for integration in LISTINGS {
        file[format!("hirebridge/teamtailor/{integration}")] = json!({"partner_api_key": partner_key(integration), "webhook_secret": webhook_secret(integration)});
    }
    file
}

/// The services know every credential of [`secrets_file`], and each listing has activations
/// (three, so that the fake's two-to-a-page list has a second page).
async fn register(sb: &Sandbox) {
    for integration in LISTINGS {
        sb.add_listing(&partner_key(integration)).await;
    }
    let secret = SecretString::new(webhook_secret("alva"));
    for n in 1..=3 {
        let key = uuid::Uuid::new_v4().to_string();
        sb.add_activation(&key, &secret, &format!("company-{n}"), &format!("Company {n}")).await;
    }
    sb.add_teamtailor_key(COMPANY_KEY, Scope::Admin, Access::ReadWrite).await;
    sb.add_stackone_key(STACKONE_KEY).await;
    sb.add_sparkhire_user(SPARKHIRE_KEY, "Rita", "rita@acme.se", &["Designer", "Engineer"]).await;
    sb.add_twosecure_key(TWOSECURE_KEY, "Acme AB").await;
    sb.add_alva_key(ALVA_KEY).await;
}

fn given() -> Given {
    Given {
        teamtailor_key: Some(SecretString::from(COMPANY_KEY)),
        learnster_space: Some("acme".into()),
        alva_company: Some("acme".into()),
        ..Given::default()
    }
}

fn source(file: &Value) -> SecretSource {
    SecretSource::from_json(file, "hirebridge").expect("a secrets file")
}

/// The fake lists every activation to every listing, and [`register`] makes them with the Alva
/// listing's webhook secret: with this file every listing has that secret, so each decrypts them.
fn one_webhook_secret(mut file: Value) -> Value {
    for integration in LISTINGS {
        file[format!("hirebridge/teamtailor/{integration}")]["webhook_secret"] =
            json!(webhook_secret("alva"));
    }
    file
}

fn verdict_of<'a>(report: &'a Report, service: &str, contract: &str) -> &'a Verdict {
    &report
        .lines
        .iter()
        .find(|l| l.service == service && l.contract.contains(contract))
        .unwrap_or_else(|| panic!("no line for {service} {contract}:\n{report}"))
        .verdict
}

/// `(service, METHOD, path)` of every request the fakes received that was not a GET.
async fn not_gets(sb: &Sandbox) -> Vec<(String, String, String)> {
    let st = sb.state().await;
    st.requests
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| (r.service.clone(), r.method.clone(), r.path.clone()))
        .collect()
}

/// The one request that is not a GET: Learnster's token request.
fn only_the_token_request(sent: &[(String, String, String)]) {
    assert!(
        sent.iter().all(|(service, method, path)| service == "learnster"
            && method == "POST"
            && path.ends_with("/auth/token/")),
        "the probe sent something other than a read: {sent:?}"
    );
    assert_eq!(sent.len(), 1, "{sent:?}");
}

#[tokio::test]
async fn every_contract_holds_against_the_local_runners_strict_sandbox_and_only_reads_are_sent() {
    let sandbox = Sandbox::refusing_unregistered();
    register(&sandbox).await;
    let secrets = hirebridge_local::server::load_secrets(None).expect("the development secrets");
    let addr = "127.0.0.1:0".parse().unwrap();
    let running =
        hirebridge_local::server::start_with(addr, secrets, RetryPolicy::default(), sandbox.clone())
            .await
            .unwrap();
    let targets = Targets::sandbox(&format!("http://{}", running.addr));

    let report = probe::run(&targets, &source(&one_webhook_secret(secrets_file())), &given()).await;

    for l in &report.lines {
        let fine = matches!(l.verdict, Verdict::Holds(_))
            || l.contract.starts_with("PATCH") && matches!(l.verdict, Verdict::Unchecked(_));
        assert!(fine, "every contract holds (the one write is named, not sent):\n{report}");
    }
    assert_eq!(report.exit_code(), 0);
    // The activations are on the EU stack; the NA stack lists none of them.
    for (stack, listed) in
        [("teamtailor-eu", "3 activations, 2 pages"), ("teamtailor-na", "0 activations, 1 page")]
    {
        for integration in LISTINGS {
            let contract = format!("partner-activations [{integration}]");
            let Verdict::Holds(detail) = verdict_of(&report, stack, &contract) else { unreachable!() };
            assert!(detail.contains(listed), "{stack}: {detail}");
        }
    }
    for (service, contract) in [
        ("stackone", "GET /accounts"),
        ("sparkhire", "GET /jobs"),
        ("learnster", "auth/token/"),
        ("2secure", "GET /account"),
        ("alva", "GET /test-profiles"),
        ("teamtailor", "company key's stack"),
    ] {
        assert!(matches!(verdict_of(&report, service, contract), Verdict::Holds(_)), "{report}");
    }
    let text = report.to_string();
    assert!(
        text.contains("tenant/sparkhire/company-1/users/31/v1"),
        "the recruiter key found is named:\n{text}"
    );
    only_the_token_request(&not_gets(&sandbox).await);
    let st = sandbox.state().await;
    // As the functions list them: the partner API version on every page, 30 to a first page
    // (later pages are `links.next` as given), one first page per listing and stack.
    let listed: Vec<_> = st.requests.iter().filter(|r| r.path.ends_with("/partner-activations")).collect();
    assert!(listed.iter().all(|r| r.api_version.as_deref() == Some("20180828")));
    let first_pages: Vec<_> = listed
        .iter()
        .filter_map(|r| r.query.as_deref())
        .filter(|q| !q.contains("page%5Bnumber%5D"))
        .collect();
    assert_eq!(first_pages, vec!["page%5Bsize%5D=30"; 2 * LISTINGS.len()]);
    running.task.abort();
}

#[tokio::test]
async fn services_that_differ_give_differs_lines_and_exit_code_one() {
    let sandbox = Sandbox::refusing_unregistered();
    register(&sandbox).await;
    let differences = [
        Difference::PartnerApiVersionNotEchoed,
        Difference::StackOneAccountsNotFound,
        Difference::SparkHireListsWrapped,
    ];
    let base = differs::spawn(&sandbox, &differences).await;

    let report =
        probe::run(&Targets::sandbox(&base), &source(&one_webhook_secret(secrets_file())), &given()).await;

    assert_eq!(report.exit_code(), 1, "{report}");
    assert_eq!(
        verdict_of(&report, "teamtailor-eu", "partner-activations [alva]"),
        &Verdict::Differs("the answer does not echo X-Api-Version 20180828".into())
    );
    assert_eq!(
        verdict_of(&report, "stackone", "GET /accounts"),
        &Verdict::Differs("404 Not Found (Cannot GET /accounts)".into())
    );
    let Verdict::Differs(why) = verdict_of(&report, "sparkhire", "GET /jobs") else { panic!("{report}") };
    assert!(why.contains("an answer the functions cannot read"), "{why}");
    for (service, contract) in
        [("2secure", "GET /account"), ("learnster", "auth/token/"), ("alva", "GET /test-profiles")]
    {
        assert!(
            matches!(verdict_of(&report, service, contract), Verdict::Holds(_)),
            "the others still hold:\n{report}"
        );
    }
    only_the_token_request(&not_gets(&sandbox).await);
}

#[tokio::test]
async fn credentials_the_services_refuse_differ_and_are_never_printed() {
    let (sandbox, base) = testkit::spawn_strict().await;
    register(&sandbox).await;
    sandbox.revoke_sparkhire_key(SPARKHIRE_KEY).await;
    let mut file = secrets_file();
    file["hirebridge/vendor/stackone"]["api_key"] = json!("a-key-stackone-never-issued");
    let given = Given { teamtailor_key: Some(SecretString::from("a-deleted-company-key")), ..given() };

    let report = probe::run(&Targets::sandbox(&base), &source(&file), &given).await;

    assert_eq!(report.exit_code(), 1);
    assert_eq!(
        verdict_of(&report, "stackone", "GET /accounts"),
        &Verdict::Differs("401 Unauthorized (Unauthorized)".into())
    );
    assert!(
        matches!(verdict_of(&report, "sparkhire", "GET /jobs"), Verdict::Differs(d) if d.starts_with("401"))
    );
    assert_eq!(
        verdict_of(&report, "teamtailor", "company key's stack"),
        &Verdict::Differs("the key is refused (401) on both stacks".into())
    );
    // The activations are the Alva listing's: the other listings' webhook secrets do not open them.
    let Verdict::Differs(why) = verdict_of(&report, "teamtailor-eu", "[learnster]") else {
        panic!("{report}")
    };
    assert_eq!(why, "3 of 3 provider keys do not decrypt with the listing's webhook secret");
    assert!(matches!(verdict_of(&report, "teamtailor-eu", "[alva]"), Verdict::Holds(_)));
    let text = report.to_string();
    for secret in [
        COMPANY_KEY,
        "a-deleted-company-key",
        "a-key-stackone-never-issued",
        SPARKHIRE_KEY,
        "client-secret-1",
    ] {
        assert!(!text.contains(secret), "{secret} is printed:\n{text}");
    }
    only_the_token_request(&not_gets(&sandbox).await);
}

#[tokio::test]
async fn missing_credentials_could_not_be_checked_and_nothing_is_called_for_them() {
    let (sandbox, base) = testkit::spawn_strict().await;
    register(&sandbox).await;
    let file = json!({"hirebridge/teamtailor/alva": {"partner_api_key": partner_key("alva"), "webhook_secret": webhook_secret("alva")}});

    let report = probe::run(&Targets::sandbox(&base), &source(&file), &Given::default()).await;

    assert_eq!(report.exit_code(), 0, "nothing differs:\n{report}");
    let unchecked = |service, contract| match verdict_of(&report, service, contract) {
        Verdict::Unchecked(why) => why.clone(),
        other => panic!("{service} {contract}: {other:?}\n{report}"),
    };
    assert_eq!(unchecked("teamtailor-eu", "[learnster]"), "no secret teamtailor/learnster");
    assert_eq!(unchecked("stackone", "GET /accounts"), "no secret vendor/stackone");
    assert!(unchecked("sparkhire", "GET /jobs")
        .starts_with("no recruiter key in the secrets under tenant/sparkhire/"));
    assert!(unchecked("2secure", "GET /account").contains("--twosecure-key"));
    assert!(unchecked("learnster", "auth/token/").contains("PROBE_LEARNSTER_CLIENT_ID"));
    assert_eq!(unchecked("alva", "GET /test-profiles"), "no secret vendor/alva");
    assert!(unchecked("teamtailor", "GET /v1/company").contains("--teamtailor-key"));
    assert!(matches!(verdict_of(&report, "teamtailor-eu", "[alva]"), Verdict::Holds(_)));
    let text = report.to_string();
    assert!(text.contains("sparkhire      GET /jobs"), "{text}");
    assert!(text.contains("could not be checked: no recruiter key in the secrets"), "{text}");
    let st = sandbox.state().await;
    let called: std::collections::BTreeSet<&str> = st.requests.iter().map(|r| r.service.as_str()).collect();
    assert_eq!(called, ["teamtailor", "teamtailor-na"].into(), "only the listing with a secret was listed");
}

#[tokio::test]
async fn the_company_keys_stack_is_the_one_that_takes_it() {
    let (eu, eu_base) = testkit::spawn_strict().await;
    let (na, na_base) = testkit::spawn_strict().await;
    register(&eu).await;
    na.add_teamtailor_key("another-companys-key", Scope::Admin, Access::Read).await;
    let targets =
        Targets { teamtailor_na: format!("{na_base}/_sandbox/teamtailor"), ..Targets::sandbox(&eu_base) };

    let report = probe::run(&targets, &source(&secrets_file()), &given()).await;

    assert_eq!(
        verdict_of(&report, "teamtailor", "company key's stack"),
        &Verdict::Holds("valid on teamtailor-eu, refused on teamtailor-na".into())
    );
    assert!(matches!(verdict_of(&report, "teamtailor-eu", "GET /v1/company"), Verdict::Holds(_)));
    // The NA fake knows none of the listings: each is refused there.
    assert!(
        matches!(verdict_of(&report, "teamtailor-na", "[alva]"), Verdict::Differs(d) if d.starts_with("401"))
    );
    assert_eq!(na.count("teamtailor", "GET", "/v1/company").await, 1);
    only_the_token_request(&not_gets(&eu).await);
    assert!(not_gets(&na).await.is_empty());
}

#[tokio::test]
async fn a_key_without_admin_scope_differs_and_the_write_check_is_never_sent() {
    let (sandbox, base) = testkit::spawn_strict().await;
    register(&sandbox).await;
    sandbox.add_teamtailor_key("career-site-key", Scope::Public, Access::Read).await;
    let given = Given { teamtailor_key: Some(SecretString::from("career-site-key")), ..given() };

    let report = probe::run(&Targets::sandbox(&base), &source(&secrets_file()), &given).await;

    let Verdict::Differs(why) = verdict_of(&report, "teamtailor-eu", "GET /v1/company") else {
        panic!("{report}")
    };
    assert!(why.starts_with("403 Forbidden: valid on this stack, without Admin scope"), "{why}");
    assert!(matches!(verdict_of(&report, "teamtailor", "PATCH /v1/company"), Verdict::Unchecked(_)));
    assert_eq!(sandbox.count("teamtailor", "PATCH", "").await, 0);
}

/// The deployed secrets: read from Secrets Manager (the moto server `make test` starts) under
/// `SECRETS_PREFIX`, as the functions read them.
#[tokio::test]
async fn the_deployed_secrets_are_read_from_secrets_manager() {
    let _ = hirebridge_tests::moto();
    let (sandbox, base) = testkit::spawn_strict().await;
    register(&sandbox).await;
    let prefix = format!("probe-{}", uuid::Uuid::new_v4().simple());
    let sdk = hirebridge::aws_http::sdk_loader().load().await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let file = secrets_file();
    for (name, value) in file.as_object().unwrap() {
        let name = name.replacen("hirebridge/", &format!("{prefix}/"), 1);
        client
            .create_secret()
            .name(name)
            .secret_string(value.to_string())
            .send()
            .await
            .expect("create secret");
    }
    let given = Given { sparkhire_key: Some(SecretString::from(SPARKHIRE_KEY)), ..given() };

    let report = probe::run(&Targets::sandbox(&base), &SecretSource::secrets_manager(&prefix), &given).await;

    assert!(matches!(verdict_of(&report, "stackone", "GET /accounts"), Verdict::Holds(_)), "{report}");
    assert!(matches!(verdict_of(&report, "teamtailor-eu", "[alva]"), Verdict::Holds(_)), "{report}");
    assert!(
        matches!(verdict_of(&report, "sparkhire", "GET /jobs"), Verdict::Holds(d) if d.contains("the key given"))
    );
    let Verdict::Unchecked(why) = verdict_of(&report, "2secure", "GET /account") else { panic!("{report}") };
    assert!(why.contains("tenant secrets in Secrets Manager are not listed"), "{why}");
}
