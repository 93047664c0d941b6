//! `make bench`: the CPU a warm webhook spends in hirebridge's own code, beyond its network
//! calls — provider key, body, signature, personnummer, partner result, idempotency record —
//! measured over many iterations in a release build.
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use hirebridge::clock::SystemClock;
use hirebridge::idempotency::{Claim, Idempotency, Outcome};
use hirebridge::store::MemoryStore;
use hirebridge::teamtailor::partner_results::{PartnerResult, ResultStatus};
use hirebridge::teamtailor::provider_key::{encode_jwt, verify_jwt, ProviderKey};
use hirebridge::teamtailor::signature;
use hirebridge::teamtailor::webhook::Webhook;
use hirebridge::SecretString;
use serde_json::json;
use twosecure::personnummer::{Date, Personnummer};

const BODY: &str = include_str!("../../../tests/fixtures/teamtailor-webhook-docs-example.json");
const ITERATIONS: u32 = 20_000;

fn per_iteration(label: &str, started: Instant, n: u32) {
    let micros = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!("{label:<58} {micros:>8.2} µs");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let partner_key = SecretString::from("bench-partner-key");
    let webhook_secret = SecretString::from("bench-webhook-secret");
    let jwt = encode_jwt(&json!({"secret_token": "lst_0123456789abcdef"}), &partner_key);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let event_id = "f3d7e8e2-da33-4c10-ae5f-0e7f4d46f6d7";
    let header = signature::sign(now, event_id, &webhook_secret);
    let today = Date::from_unix(now);

    println!("hirebridge hot path, {ITERATIONS} iterations each (release build)");
    let started = Instant::now();
    for _ in 0..ITERATIONS {
        let ProviderKey::Jwt(token) = ProviderKey::parse(Some(&jwt)).unwrap() else { unreachable!() };
        black_box(verify_jwt(token, &partner_key, now).unwrap().secret("secret_token"));
    }
    per_iteration("provider key (HS256 JWT) verified", started, ITERATIONS);

    let started = Instant::now();
    for _ in 0..ITERATIONS {
        let hook = Webhook::parse(black_box(BODY.as_bytes())).unwrap();
        signature::verify(Some(&header), &hook.partner_event.id, &webhook_secret, now).unwrap();
        black_box(hook);
    }
    per_iteration("webhook body parsed and Teamtailor-Signature verified", started, ITERATIONS);

    let started = Instant::now();
    for _ in 0..ITERATIONS {
        black_box(Personnummer::parse(black_box("811218-9876"), today).unwrap());
    }
    per_iteration("personnummer parsed and checked", started, ITERATIONS);

    let started = Instant::now();
    for _ in 0..ITERATIONS {
        let result = PartnerResult::new(ResultStatus::Completed)
            .summary("Learnster account created; tagged tt_stage_hired.");
        black_box(
            serde_json::to_vec(&json!({"data": {"type": "partner-results", "attributes": result}})).unwrap(),
        );
    }
    per_iteration("partner result document built", started, ITERATIONS);

    let idempotency = Idempotency::new(Arc::new(MemoryStore::new()), Arc::new(SystemClock));
    let outcome = Outcome { status: 200, content_type: "application/json".into(), body: "{}".into() };
    let started = Instant::now();
    for i in 0..ITERATIONS {
        let Claim::Acquired(lease) =
            idempotency.claim("bench", &format!("e{i}"), json!({"candidate": i})).await.unwrap()
        else {
            unreachable!()
        };
        idempotency.finish(lease, &outcome, hirebridge::idempotency::Finish::Completed).await.unwrap();
    }
    per_iteration("idempotency claim + finish (in-memory store)", started, ITERATIONS);
}
