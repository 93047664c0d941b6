//! Fuzzing: property tests over every parser of outside input. Each
//! property runs [`CASES`] cases of random input and of near-valid input (valid values with a few
//! characters inserted, removed or replaced, multi-byte characters at every position, numbers at
//! and past the ends of their types) and asserts that the parser answers, `Ok` or `Err`, without
//! panicking (in production `panic = "abort"` ends the process), and, where it means something, a
//! property of the answer: a signature that verifies was made with the secret, a personnummer that
//! parses is 12 digits, a wait is bounded.
//!
//! None of these needs moto or the sandbox: handlers are driven on an in-memory platform, and no
//! case ever reaches the network (a key that would be checked with a service is always malformed).
//! Failures are not persisted to files; proptest prints the minimal failing input.
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use bytes::Bytes;
use hirebridge::config::Config;
use hirebridge::lambda::{self, Invocation};
use hirebridge::platform::{Listing, Platform};
use hirebridge::secrets::MemorySecretStore;
use hirebridge::teamtailor::provider_key::{self, ProviderKey};
use hirebridge::teamtailor::webhook::Webhook;
use hirebridge::teamtailor::{activations, signature, API_HOSTS};
use hirebridge::web::{self, Request, Response};
use hirebridge::{body_signature, tickets, SecretString};
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderValue, StatusCode};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::{json, Map, Value};
use sha2::Sha256;
use stackone::totp::TotpSecret;
use twosecure::personnummer::{Date, Personnummer};

/// Cases per property (at least 10,000 each).
const CASES: u32 = 10_000;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        // ChaCha, the default, is most of a case's time in a debug build; XorShift is enough here.
        rng_algorithm: proptest::test_runner::RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    }
}

const SECRET: &str = "the-right-secret";
const OTHER: &str = "another-secret";
const CALLBACK_SECRET: &str = "2secure-callback-secret";
const DOCS_WEBHOOK: &str = include_str!("../../fixtures/teamtailor-webhook-docs-example.json");

fn secret(right: bool) -> SecretString {
    SecretString::from(if right { SECRET } else { OTHER })
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Characters that break byte-indexed or ASCII-minded code: multi-byte UTF-8 of every width,
/// controls, a BOM, bidi overrides, separators of the formats under test.
fn tricky_char() -> BoxedStrategy<char> {
    prop_oneof![
        3 => any::<char>(),
        3 => prop::sample::select(vec![
            'é', 'ß', '€', '✓', '𝄞', '😀', '\u{0}', '\u{7f}', '\u{80}', '\u{a0}', '\u{feff}', '\u{202e}',
            '\u{2028}', '\u{fffd}', '\u{10ffff}', '=', ',', '.', '-', '+', ' ', '\t', '\n', '\r', '%', '/',
            '?', '&', '#', ':', ';', '"', '\'', '\\', '{', '}', '[', ']',
        ]),
        4 => prop::char::range('!', '~'),
    ]
    .boxed()
}

fn text_of(len: std::ops::Range<usize>) -> BoxedStrategy<String> {
    prop::collection::vec(tricky_char(), len).prop_map(|v| v.into_iter().collect()).boxed()
}

fn text() -> BoxedStrategy<String> {
    text_of(0..48).boxed()
}

/// Numbers as text at and past the ends of the integer and float types, and look-alikes.
fn number_text() -> BoxedStrategy<String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        (-1_000i64..1_000).prop_map(|n| n.to_string()),
        prop::sample::select(vec![
            "-9223372036854775808",
            "9223372036854775807",
            "-9223372036854775807",
            "9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "340282366920938463463374607431768211456",
            "99999999999999999999999999999999999999999999",
            "1e308",
            "1.7976931348623157e308",
            "1e309",
            "-1e309",
            "5e-324",
            "inf",
            "-inf",
            "infinity",
            "NaN",
            "-0",
            "+0",
            "+5",
            "0x10",
            " 7 ",
            "1_000",
            "١٢٣",
            "",
        ])
        .prop_map(String::from),
    ]
    .boxed()
}

/// A small edit of a string: what a fuzzer does to a valid value.
#[derive(Clone, Debug)]
enum Edit {
    Insert(Index, char),
    Remove(Index),
    Replace(Index, char),
    Truncate(Index),
    Splice(Index, String),
    Duplicate(Index, Index),
}

fn edit() -> BoxedStrategy<Edit> {
    prop_oneof![
        3 => (any::<Index>(), tricky_char()).prop_map(|(i, c)| Edit::Insert(i, c)),
        2 => any::<Index>().prop_map(Edit::Remove),
        3 => (any::<Index>(), tricky_char()).prop_map(|(i, c)| Edit::Replace(i, c)),
        1 => any::<Index>().prop_map(Edit::Truncate),
        2 => (any::<Index>(), prop_oneof![number_text(), text_of(0..8)]).prop_map(|(i, s)| Edit::Splice(i, s)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Duplicate(a, b)),
    ]
    .boxed()
}

/// Zero to three edits (zero keeps the valid value, so every property also sees it whole).
fn edits() -> BoxedStrategy<Vec<Edit>> {
    prop_oneof![2 => Just(Vec::new()), 3 => prop::collection::vec(edit(), 1..4)].boxed()
}

fn apply(s: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for e in edits {
        let n = chars.len();
        match e {
            Edit::Insert(i, c) => chars.insert(i.index(n + 1), *c),
            Edit::Remove(i) if n > 0 => {
                chars.remove(i.index(n));
            }
            Edit::Replace(i, c) if n > 0 => chars[i.index(n)] = *c,
            Edit::Truncate(i) => chars.truncate(i.index(n + 1)),
            Edit::Splice(i, s) => {
                let at = i.index(n + 1);
                chars.splice(at..at, s.chars());
            }
            Edit::Duplicate(a, b) if n > 0 => {
                let (from, to) = (a.index(n), b.index(n));
                let (from, to) = (from.min(to), from.max(to) + 1);
                let copy: Vec<char> = chars[from..to].to_vec();
                chars.splice(to..to, copy);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// `base` with a few edits.
fn mutated(base: impl Strategy<Value = String> + 'static) -> BoxedStrategy<String> {
    (base, edits()).prop_map(|(s, e)| apply(&s, &e)).boxed()
}

/// Keys that the parsers look for, so that random objects often have the right names.
const KNOWN_KEYS: &[&str] = &[
    "partner-event",
    "id",
    "webhook-data",
    "partner-result",
    "update-url",
    "status",
    "candidate",
    "custom-fields",
    "uploads",
    "resume",
    "job",
    "value",
    "type",
    "url",
    "company",
    "uuid",
    "alg",
    "enc",
    "exp",
    "nbf",
    "purpose",
    "subject",
    "label",
    "expires_at",
    "nonce",
    "order_id",
    "report_url",
    "detail-type",
    "source",
    "detail",
    "version",
    "rawPath",
    "rawQueryString",
    "headers",
    "cookies",
    "body",
    "isBase64Encoded",
    "requestContext",
    "http",
    "method",
    "api_key",
    "ticket",
    "secret_token",
];

fn json_key() -> BoxedStrategy<String> {
    prop_oneof![prop::sample::select(KNOWN_KEYS).prop_map(String::from), text_of(0..12)].boxed()
}

fn json_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX]).prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        text().prop_map(Value::String),
        number_text().prop_map(Value::String),
        // Just under and over the 128-character limits.
        (120usize..140).prop_map(|n| Value::String("a".repeat(n))),
    ]
    .boxed()
}

fn json_value() -> BoxedStrategy<Value> {
    json_leaf()
        .prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((json_key(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
        .boxed()
}

/// An edit of a JSON document: at a node chosen among all of its nodes.
#[derive(Clone, Debug)]
enum JsonEdit {
    Replace(Index, Value),
    Remove(Index),
    Insert(Index, String, Value),
    Text(Index, Vec<Edit>),
}

fn json_edits() -> BoxedStrategy<Vec<JsonEdit>> {
    let one = prop_oneof![
        3 => (any::<Index>(), json_value()).prop_map(|(i, v)| JsonEdit::Replace(i, v)),
        2 => any::<Index>().prop_map(JsonEdit::Remove),
        1 => (any::<Index>(), json_key(), json_value()).prop_map(|(i, k, v)| JsonEdit::Insert(i, k, v)),
        3 => (any::<Index>(), edits()).prop_map(|(i, e)| JsonEdit::Text(i, e)),
    ];
    prop::collection::vec(one, 0..4).boxed()
}

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    At(usize),
}

fn paths(v: &Value, here: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                here.push(Seg::Key(k.clone()));
                paths(child, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                here.push(Seg::At(i));
                paths(child, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, seg| match seg {
        Seg::Key(k) => v.get_mut(k.as_str()),
        Seg::At(i) => v.get_mut(*i),
    })
}

fn apply_json(mut doc: Value, edits: &[JsonEdit]) -> Value {
    for e in edits {
        let mut all = Vec::new();
        paths(&doc, &mut Vec::new(), &mut all);
        let pick = |i: &Index| all[i.index(all.len())].clone();
        match e {
            JsonEdit::Replace(i, v) => {
                if let Some(node) = node_mut(&mut doc, &pick(i)) {
                    *node = v.clone();
                }
            }
            JsonEdit::Remove(i) => {
                let path = pick(i);
                if let Some((last, parent)) = path.split_last() {
                    match (node_mut(&mut doc, parent), last) {
                        (Some(Value::Object(m)), Seg::Key(k)) => {
                            m.remove(k);
                        }
                        (Some(Value::Array(a)), Seg::At(i)) => {
                            a.remove(*i);
                        }
                        _ => {}
                    }
                }
            }
            JsonEdit::Insert(i, k, v) => match node_mut(&mut doc, &pick(i)) {
                Some(Value::Object(m)) => {
                    m.insert(k.clone(), v.clone());
                }
                Some(Value::Array(a)) => a.push(v.clone()),
                _ => {}
            },
            JsonEdit::Text(i, edits) => {
                if let Some(node) = node_mut(&mut doc, &pick(i)) {
                    let mutated = match &*node {
                        Value::String(s) => apply(s, edits),
                        other => apply(&other.to_string(), edits),
                    };
                    *node = serde_json::from_str(&mutated).unwrap_or(Value::String(mutated));
                }
            }
        }
    }
    doc
}

/// A JSON document with a few edits anywhere in it.
fn mutated_json(base: Value) -> BoxedStrategy<Value> {
    json_edits().prop_map(move |e| apply_json(base.clone(), &e)).boxed()
}

fn bytes_up_to(n: usize) -> BoxedStrategy<Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..n).boxed()
}

/// A body: random bytes, random JSON, or random JSON as text with edits (broken JSON).
fn any_body() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        bytes_up_to(256),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        mutated(json_value().prop_map(|v| v.to_string())).prop_map(String::into_bytes),
    ]
    .boxed()
}

fn hex_text() -> BoxedStrategy<String> {
    prop_oneof!["[0-9a-f]{64}", "[0-9a-fA-F]{0,70}", text(),].boxed()
}

/// `t=…,v1=…` headers: random text, or random parts in that shape.
fn timestamped_header_shapes() -> BoxedStrategy<String> {
    let part = prop_oneof![
        number_text().prop_map(|t| format!("t={t}")),
        hex_text().prop_map(|v| format!("v1={v}")),
        hex_text().prop_map(|v| format!("v0={v}")),
        (text_of(0..6), text_of(0..12)).prop_map(|(k, v)| format!("{k}={v}")),
        text_of(0..12),
    ];
    prop_oneof![
        text(),
        prop::collection::vec(part, 0..6).prop_map(|p| p.join(",")),
        // More parts than anyone sends.
        (number_text(), 10usize..40).prop_map(|(t, n)| format!("t={t}{}", ",v1=00".repeat(n))),
    ]
    .boxed()
}

/// A timestamp: near `now`, or anywhere in i64, or at its ends.
fn timestamp(now: i64) -> BoxedStrategy<i64> {
    prop_oneof![
        4 => (-400i64..400).prop_map(move |o| now + o),
        1 => any::<i64>(),
        1 => prop::sample::select(vec![i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX]),
        1 => prop::sample::select(vec![300i64, 301, -300, -301]).prop_map(move |o| now + o),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------------
// An in-memory platform for the parsers that are reached through a handler
// ---------------------------------------------------------------------------------------------

/// The operator's link-signing key (base64 of 32 bytes) and the key `tickets` derives from it.
const LINK_SIGNING_BYTES: [u8; 32] = [7; 32];

fn ticket_key() -> SecretString {
    SecretString::new(hex::encode(LINK_SIGNING_BYTES))
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    platform: Platform,
    twosecure: twosecure::Deps,
    stackone: stackone::Deps,
    sparkhire: sparkhire::Deps,
    /// Partner results under `TEAMTAILOR_API_URL` (a proxy or sandbox with a path).
    proxied_results: hirebridge::teamtailor::partner_results::PartnerResults,
}

fn fixture_config() -> Config {
    // Every outside service on a closed loopback port: nothing here may reach a network.
    let vars: HashMap<&str, &str> = HashMap::from([
        ("PUBLIC_BASE_URL", "https://hb.example.com"),
        ("TWOSECURE_API_URL", "http://127.0.0.1:9/2secure"),
        ("SPARKHIRE_API_URL", "http://127.0.0.1:9/sparkhire"),
        ("STACKONE_API_URL", "http://127.0.0.1:9/stackone"),
        ("ALVA_API_URL", "http://127.0.0.1:9/alva"),
        ("LEARNSTER_API_URL", "http://127.0.0.1:9/learnster"),
    ]);
    Config::from_lookup(|k| vars.get(k).map(|v| v.to_string())).expect("the fixture's config")
}

impl Fixture {
    fn new() -> Fixture {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let _guard = rt.enter();
        let seed = json!({
            "hirebridge/operator": {"admin_tokens": [], "link_signing_key": STANDARD.encode(LINK_SIGNING_BYTES)},
            "hirebridge/vendor/2secure": {"callback_secret": CALLBACK_SECRET},
            "hirebridge/vendor/stackone": {"api_key": "so-key", "webhook_secret": SECRET},
            "hirebridge/teamtailor/2secure": {"partner_api_key": "pk", "webhook_secret": SECRET},
            "hirebridge/teamtailor/sparkhire": {"partner_api_key": "pk", "webhook_secret": SECRET},
        });
        let store = Arc::new(MemorySecretStore::from_json(&seed).unwrap());
        let platform = || Platform::in_memory(fixture_config(), store.clone());
        Fixture {
            platform: platform(),
            twosecure: twosecure::Deps::new(platform()),
            stackone: stackone::Deps::new(platform()),
            sparkhire: sparkhire::Deps::new(platform()),
            proxied_results: hirebridge::teamtailor::partner_results::PartnerResults::new(
                hirebridge::outbound::HttpClient::new(Default::default()),
                &Config::from_lookup(|k| match k {
                    "PUBLIC_BASE_URL" => Some("https://hb.example.com".into()),
                    "TEAMTAILOR_API_URL" => Some("http://127.0.0.1:9/tt/".into()),
                    _ => None,
                })
                .unwrap(),
            ),
            rt,
        }
    }
}

thread_local! {
    static FIXTURE: RefCell<Option<Fixture>> = const { RefCell::new(None) };
}

fn with_fixture<T>(f: impl FnOnce(&Fixture) -> T) -> T {
    FIXTURE.with(|cell| {
        let mut cell = cell.borrow_mut();
        f(cell.get_or_insert_with(Fixture::new))
    })
}

fn request(method: &str, uri: &str, headers: &[(&str, Option<&str>)], body: Vec<u8>) -> Request {
    let uri = if uri.parse::<http::Uri>().is_ok() { uri } else { "/" };
    let mut req = http::Request::builder().method(method).uri(uri).body(Bytes::from(body)).unwrap();
    for (name, value) in headers {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            req.headers_mut().insert(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value);
        }
    }
    req
}

fn html_page(resp: &Response) -> bool {
    resp.headers()
        .get("content-type")
        .is_some_and(|c| c.to_str().unwrap_or_default().starts_with("text/html"))
}

// ---------------------------------------------------------------------------------------------
// Teamtailor: webhook JSON, Teamtailor-Signature, update-url, Teamtailor-Host
// ---------------------------------------------------------------------------------------------

fn docs_webhook() -> Value {
    serde_json::from_str(DOCS_WEBHOOK).unwrap()
}

proptest! {
    #![proptest_config(config())]

    /// Webhook JSON: random bytes, random JSON and the documented example with edits anywhere.
    #[test]
    fn a_webhook_body_of_any_bytes_parses_or_is_refused_with_400_and_what_parses_has_a_clean_event_id(
        body in prop_oneof![
            any_body(),
            mutated_json(docs_webhook()).prop_map(|v| v.to_string().into_bytes()),
            mutated(Just(DOCS_WEBHOOK.to_owned())).prop_map(String::into_bytes),
        ]
    ) {
        match Webhook::parse(&body) {
            Ok(hook) => {
                let id = &hook.partner_event.id;
                prop_assert!(!id.is_empty() && id.len() <= 128);
                prop_assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
                prop_assert!(hook.partner_event.partner_result.update_url.len() <= 2048);
                let _ = hook.partner_event.candidate.custom_fields.get("social_security_number");
            }
            Err(e) => prop_assert_eq!(e.status, 400),
        }
    }

    /// `Teamtailor-Signature` as a whole request: the body, the header and the `update-url`.
    #[test]
    fn a_webhook_is_received_only_when_its_signature_was_made_with_the_listing_secret(
        (body, header, right) in (
            mutated_json(docs_webhook()),
            prop_oneof![Just("f3d7e8e2-da33-4c10-ae5f-0e7f4d46f6d7".to_owned()), text_of(0..20)],
            timestamp(now()),
            any::<bool>(),
            edits(),
            timestamped_header_shapes(),
            0u8..4,
        ).prop_map(|(doc, other_id, t, right, e, random, shape)| {
            let body = doc.to_string();
            let id = doc.pointer("/partner-event/id").and_then(Value::as_str).unwrap_or_default().to_owned();
            match shape {
                0 => (body, random, false),
                1 => (body, apply(&signature::sign(t, &other_id, &secret(right)), &e), right),
                _ => (body, apply(&signature::sign(t, &id, &secret(right)), &e), right),
            }
        })
    ) {
        let listing = Listing { partner_api_key: "pk".into(), webhook_secret: SECRET.into() };
        let req = request("POST", "/x/webhook", &[("teamtailor-signature", Some(&header))], body.into_bytes());
        match with_fixture(|f| Webhook::receive(&f.platform, &listing, &req)) {
            Ok(hook) => {
                prop_assert!(right, "received without the secret: {:?}", header);
                // The header carries the secret's v1 for one of its t= and this event.
                let lower = header.to_ascii_lowercase();
                let made = header
                    .split(',')
                    .filter_map(|p| p.trim().strip_prefix("t=").and_then(|t| t.trim().parse::<i64>().ok()))
                    .any(|t| {
                        let v1 = hirebridge::timestamped::sign(t, hook.partner_event.id.as_bytes(), &secret(true));
                        lower.contains(v1.split_once(",v1=").map(|(_, v)| v).unwrap_or("-"))
                    });
                prop_assert!(made, "verified without the secret's v1: {:?}", header);
            }
            Err(e) => prop_assert!(matches!(e.status.as_u16(), 400 | 401 | 413), "{}", e.status),
        }
    }

    /// `Teamtailor-Signature` checked directly: any text at all (not only what a header can carry),
    /// timestamps at the ends of i64, and valid signatures with edits.
    #[test]
    fn a_teamtailor_signature_of_any_text_is_refused_with_401_unless_made_with_the_secret(
        (header, event_id, signed_right, now) in (
            timestamped_header_shapes(),
            timestamp(now()),
            any::<bool>(),
            edits(),
            prop_oneof![Just("evt-1".to_owned()), text_of(0..20)],
            prop_oneof![Just(now()), 0i64..4_102_444_800],
            any::<bool>(),
        ).prop_map(|(random, t, right, e, id, now, near_valid)| {
            if near_valid {
                (apply(&signature::sign(t, &id, &secret(right)), &e), id, right, now)
            } else {
                (random, id, false, now)
            }
        }),
        missing in prop::bool::weighted(0.02),
    ) {
        let header = (!missing).then_some(header.as_str());
        match signature::verify(header, &event_id, &secret(true), now) {
            Ok(()) => prop_assert!(signed_right, "verified without the secret: {:?}", header),
            Err(e) => prop_assert_eq!(e.status, 401),
        }
    }

    /// The shared `t=…,v1=…` check behind `Teamtailor-Signature` and `X-2Secure-Signature`.
    #[test]
    fn a_timestamped_signature_over_any_payload_verifies_only_when_made_with_the_secret_over_that_payload(
        header_shape in timestamped_header_shapes(),
        t in timestamp(now()),
        right in any::<bool>(),
        e in edits(),
        signed in bytes_up_to(64),
        payload in prop_oneof![bytes_up_to(64), Just(Vec::new())],
        same_payload in any::<bool>(),
        near_valid in any::<bool>(),
        now in prop_oneof![Just(now()), any::<i64>(), Just(i64::MIN), Just(i64::MAX)],
    ) {
        let payload = if same_payload { signed.clone() } else { payload };
        let (header, made_right) = if near_valid {
            (apply(&hirebridge::timestamped::sign(t, &signed, &secret(right)), &e), right && signed == payload)
        } else {
            (header_shape, false)
        };
        match hirebridge::timestamped::verify("X-Sig", Some(&header), &payload, &secret(true), now) {
            Ok(()) => prop_assert!(made_right, "verified without the secret: {:?}", header),
            Err(e) => prop_assert_eq!(e.status, 401),
        }
    }

    /// `partner-result.update-url`, with and without `TEAMTAILOR_API_URL`.
    #[test]
    fn an_update_url_of_any_text_resolves_only_to_a_partner_result_on_a_teamtailor_host(
        url in prop_oneof![
            text(),
            mutated(Just("https://api.teamtailor.com/partner/v1/partner-results/1a6d".to_owned())),
            mutated(Just("https://api.na.teamtailor.com.evil.net/partner/v1/partner-results/7".to_owned())),
            mutated(Just("http://127.0.0.1:9/tt/partner/v1/partner-results/7".to_owned())),
            (prop::sample::select(vec!["https", "http", "HTTPS", "ftp", ""]), prop::sample::select(API_HOSTS.to_vec()), text_of(0..16))
                .prop_map(|(s, h, rest)| format!("{s}://{h}/partner/v1/partner-results/{rest}")),
        ],
        proxied in any::<bool>(),
    ) {
        let resolved = with_fixture(|f| {
            if proxied { f.proxied_results.resolve(&url) } else { f.platform.partner_results.resolve(&url) }
        });
        match resolved {
            Ok(resolved) => {
                // The proxy stands for the EU stack only; NA stays on its own host.
                let bases: Vec<String> = if proxied {
                    vec![
                        "http://127.0.0.1:9/tt/partner/v1/partner-results/".to_owned(),
                        "https://api.na.teamtailor.com/partner/v1/partner-results/".to_owned(),
                    ]
                } else {
                    API_HOSTS.iter().map(|h| format!("https://{h}/partner/v1/partner-results/")).collect()
                };
                let rest = bases.iter().find_map(|b| resolved.strip_prefix(b.as_str()));
                prop_assert!(rest.is_some_and(|id| !id.is_empty() && !id.contains('/')), "{} → {}", url, resolved);
            }
            Err(e) => prop_assert_eq!(e.status, 400),
        }
    }

    /// `Teamtailor-Host`, and the environment's URLs behind it.
    #[test]
    fn a_teamtailor_host_of_any_text_names_a_teamtailor_stack_or_says_nothing(
        host in prop_oneof![
            text(),
            mutated(prop::sample::select(API_HOSTS.to_vec()).prop_map(String::from)),
            prop::sample::select(API_HOSTS.to_vec()).prop_map(|h| format!("https://{h}/")),
        ],
        missing in prop::bool::weighted(0.05),
    ) {
        let config = Config::from_lookup(|k| (k == "PUBLIC_BASE_URL").then(|| "https://hb".into())).unwrap();
        let base = hirebridge::teamtailor::api_base(&config, (!missing).then_some(host.as_str()));
        prop_assert!(API_HOSTS.iter().any(|h| base == format!("https://{h}")), "{}", base);
    }
}

// ---------------------------------------------------------------------------------------------
// The provider key: its shape, the HS256 JWT, and the partner-activation JWE
// ---------------------------------------------------------------------------------------------

const UUID: &str = "6f1c2f1e-8d2a-4c59-9a39-0a4b1e2f3c4d";

fn b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

/// An HS256 JWT over any header and claims, signed with the right or another key.
fn crafted_jwt(header: &str, claims: &str, key: &SecretString) -> String {
    let (h, c) = (b64(header), b64(claims));
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()).unwrap();
    mac.update(format!("{h}.{c}").as_bytes());
    format!("{h}.{c}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn jwt_claims() -> BoxedStrategy<Value> {
    prop_oneof![
        json_value(),
        (
            prop::option::of(prop_oneof![any::<i64>().prop_map(Value::from), json_leaf()]),
            prop::option::of(prop_oneof![any::<i64>().prop_map(Value::from), json_leaf()]),
            prop::option::of(json_leaf()),
        )
            .prop_map(|(exp, nbf, token)| {
                let mut m = Map::new();
                exp.map(|v| m.insert("exp".into(), v));
                nbf.map(|v| m.insert("nbf".into(), v));
                token.map(|v| m.insert("secret_token".into(), v));
                Value::Object(m)
            }),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_bearer_provider_key_of_any_text_is_a_uuid_a_jwt_or_refused_with_401(
        token in prop_oneof![
            text(),
            mutated(Just(UUID.to_owned())),
            mutated(Just(UUID.to_uppercase())),
            mutated(Just(format!("{{{UUID}}}"))),
            mutated(Just(format!("urn:uuid:{UUID}"))),
            mutated(Just("eyJh.eyJi.c2ln".to_owned())),
            (8180usize..8200).prop_map(|n| format!("a.b.{}", "c".repeat(n))),
        ],
        missing in prop::bool::weighted(0.02),
    ) {
        match ProviderKey::parse((!missing).then_some(token.as_str())) {
            Ok(ProviderKey::Uuid(u)) => prop_assert_eq!(Ok(u), uuid::Uuid::parse_str(&token)),
            Ok(ProviderKey::Jwt(jwt)) => {
                prop_assert_eq!(jwt, token.as_str());
                prop_assert!(jwt.len() <= 8192 && jwt.split('.').count() == 3);
            }
            Err(e) => prop_assert_eq!(e.status, 401),
        }
    }

    /// The provider-key JWT: random tokens, tokens over random headers and claims (with `exp`
    /// and `nbf` at the ends of i64) signed with the right key or another, with edits.
    #[test]
    fn a_provider_key_jwt_verifies_only_when_signed_with_the_partner_key_and_current(
        (token, signed_right) in prop_oneof![
            text().prop_map(|t| (t, false)),
            mutated(Just("eyJhbGciOiJIUzI1NiJ9.e30.".to_owned())).prop_map(|t| (t, false)),
            (jwt_claims(), any::<bool>(), edits()).prop_map(|(claims, right, e)| {
                (apply(&provider_key::encode_jwt(&claims, &secret(right)), &e), right)
            }),
            (
                prop_oneof![
                    prop::sample::select(vec![r#"{"alg":"HS256"}"#, r#"{"alg":"none"}"#, r#"{"alg":"hs256"}"#,
                        r#"{"alg":"HS512","typ":"JWT"}"#, r#"{"alg":["HS256"]}"#, r#"[]"#, "", "null"]).prop_map(String::from),
                    json_value().prop_map(|v| v.to_string()),
                    mutated(Just(r#"{"alg":"HS256","typ":"JWT"}"#.to_owned())),
                ],
                prop_oneof![jwt_claims().prop_map(|c| c.to_string()), text()],
                any::<bool>(),
            ).prop_map(|(h, c, right)| (crafted_jwt(&h, &c, &secret(right)), right)),
        ],
        now in prop_oneof![Just(now()), 0i64..4_102_444_800],
    ) {
        match provider_key::verify_jwt(&token, &secret(true), now) {
            Ok(claims) => {
                prop_assert!(signed_right, "verified without the key: {}", token);
                let _ = claims.secret("secret_token");
                let _ = format!("{claims:?}");
            }
            Err(e) => prop_assert_eq!(e.status, 401),
        }
    }

    /// The partner-activation JWE: random text, JWEs sealed with the listing's secret or another
    /// (both encodings, any provider key), hand-made ones with random headers and IVs, with edits.
    #[test]
    fn a_partner_activation_jwe_decrypts_only_with_the_listing_secret_and_to_what_was_sealed(
        (jwe, sealed) in prop_oneof![
            text().prop_map(|t| (t, None)),
            (
                prop_oneof![Just(UUID.to_owned()), text(), json_value().prop_map(|v| v.to_string())],
                any::<bool>(),
                prop::sample::select(vec!["A128GCM", "A256GCM"]),
                any::<[u8; 12]>(),
                edits(),
            ).prop_map(|(key, right, enc, iv, e)| {
                let jwe = activations::encrypt(&key, &secret(right), enc, iv);
                let edited = apply(&jwe, &e);
                let whole = edited == jwe;
                (edited, right.then_some((key, whole)))
            }),
            (
                prop_oneof![
                    json_value().prop_map(|v| v.to_string()),
                    prop::sample::select(vec!["A128GCM", "A256GCM", "A192GCM", "", "a128gcm"])
                        .prop_map(|enc| format!(r#"{{"alg":"dir","enc":"{enc}"}}"#)),
                    text().prop_map(|enc| json!({"alg": "dir", "enc": enc}).to_string()),
                ],
                prop_oneof![Just(String::new()), text_of(0..8)],
                prop_oneof![bytes_up_to(20), Just(vec![0; 12])],
                bytes_up_to(40),
                prop_oneof![bytes_up_to(20), Just(vec![0; 16])],
            ).prop_map(|(h, ek, iv, ct, tag)| {
                let e = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
                (format!("{}.{ek}.{}.{}.{}", b64(&h), e(&iv), e(&ct), e(&tag)), None)
            }),
        ],
    ) {
        match (activations::decrypt(&jwe, &secret(true)), sealed) {
            (Some(key), Some((sealed, _))) => {
                let expected = serde_json::from_str::<String>(&sealed).unwrap_or(sealed);
                prop_assert_eq!(key, expected);
            }
            (Some(_), None) => prop_assert!(false, "decrypted what was not sealed with the secret: {}", jwe),
            (None, Some((_, whole))) => {
                prop_assert!(!whole, "a whole JWE sealed with the secret did not decrypt: {}", jwe)
            }
            (None, None) => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tickets, body signatures, 2Secure's callback signature
// ---------------------------------------------------------------------------------------------

const PURPOSE: &str = "stackone-link";

fn signed_payload(payload: &str, key: &SecretString) -> String {
    let payload = URL_SAFE_NO_PAD.encode(payload);
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// Tickets: random text, issued tickets (either key, either purpose, any expiry) with edits, and
/// payloads of any JSON signed with the right key (so the JSON is read).
fn ticket_text(key_right: impl Fn(bool) -> SecretString + Clone + 'static) -> BoxedStrategy<(String, bool)> {
    let k1 = key_right.clone();
    let k2 = key_right;
    prop_oneof![
        text().prop_map(|t| (t, false)),
        (
            any::<bool>(),
            prop::sample::select(vec![PURPOSE, "sparkhire-connect", ""]),
            text(),
            text(),
            prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), Just(4_102_444_800i64)],
            edits(),
        )
            .prop_map(move |(right, purpose, subject, label, exp, e)| {
                (apply(&tickets::issue(&k1(right), purpose, &subject, &label, exp), &e), right)
            }),
        prop_oneof![
            json_value().prop_map(|v| v.to_string()),
            mutated_json(json!({"purpose": PURPOSE, "subject": "s", "label": "", "expires_at": 4_102_444_800i64, "nonce": "n"}))
                .prop_map(|v| v.to_string()),
            text(),
        ]
        .prop_map(move |payload| (signed_payload(&payload, &k2(true)), true)),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_ticket_of_any_text_verifies_only_when_signed_with_the_key_for_its_purpose_and_unexpired(
        (raw, signed_right) in ticket_text(secret),
        purpose in prop::sample::select(vec![PURPOSE, "sparkhire-connect"]),
        now in prop_oneof![Just(now()), any::<i64>()],
    ) {
        match tickets::verify(&secret(true), &raw, purpose, now) {
            Ok(t) => {
                prop_assert!(signed_right, "verified without the key: {}", raw);
                prop_assert_eq!(t.purpose.as_str(), purpose);
                prop_assert!(t.expires_at >= now);
            }
            Err(e) => {
                let status = hirebridge::AppError::from(e).status;
                prop_assert!(status == 401 || status == 410);
            }
        }
    }

    /// `X-Alva-Signature`: `sha256=<hex>` over the raw body.
    #[test]
    fn a_body_signature_verifies_only_when_made_with_the_secret_over_that_body(
        (header, made_right, body) in prop_oneof![
            (text(), bytes_up_to(64)).prop_map(|(h, b)| (h, false, b)),
            (hex_text(), bytes_up_to(64)).prop_map(|(h, b)| (format!("sha256={h}"), false, b)),
            (bytes_up_to(64), bytes_up_to(64), any::<bool>(), any::<bool>(), edits()).prop_map(|(signed, other, same, right, e)| {
                let body = if same { signed.clone() } else { other };
                let made = right && body == signed;
                (apply(&body_signature::sign(&signed, &secret(right)), &e), made, body)
            }),
        ],
        missing in prop::bool::weighted(0.02),
    ) {
        match body_signature::verify("X-Sig", (!missing).then_some(header.as_str()), &body, &secret(true)) {
            Ok(()) => prop_assert!(made_right, "verified without the secret: {}", header),
            Err(e) => prop_assert_eq!(e.status, 401),
        }
    }

    /// `x-stackone-signature`: base64url (unpadded) HMAC-SHA256 over the raw body, as StackOne
    /// signs; random headers, the old `sha256=<hex>` form (even made with the secret), and
    /// signatures made with the secret or another, over that body or another, with edits.
    #[test]
    fn a_stackone_signature_verifies_only_when_made_with_the_secret_over_that_body(
        (header, made_right, body) in prop_oneof![
            (text(), bytes_up_to(64)).prop_map(|(h, b)| (h, false, b)),
            bytes_up_to(64).prop_map(|b| (body_signature::sign(&b, &secret(true)), false, b)),
            (bytes_up_to(64), bytes_up_to(64), any::<bool>(), any::<bool>(), edits()).prop_map(|(signed, other, same, right, e)| {
                let body = if same { signed.clone() } else { other };
                let sig = stackone::signature::sign(&signed, &secret(right));
                let edited = apply(&sig, &e);
                // Header values arrive trimmed of surrounding white space.
                let made = right && body == signed && edited.trim() == sig;
                (edited, made, body)
            }),
        ],
        missing in prop::bool::weighted(0.02),
    ) {
        match stackone::signature::verify((!missing).then_some(header.as_str()), &body, &secret(true)) {
            Ok(()) => prop_assert!(made_right, "verified without the secret: {}", header),
            Err(e) => {
                prop_assert_eq!(e.status, 401);
                prop_assert!(!made_right || missing, "refused a good signature: {}", header);
            }
        }
    }

    /// `X-2Secure-Signature`, through `POST /2secure/callback` (its check is private to the
    /// crate): random headers and bodies, and callbacks signed with the secret or another, at any
    /// time, with edits.
    #[test]
    fn a_2secure_callback_is_refused_with_401_unless_signed_with_the_callback_secret(
        (header, body, made_right) in prop_oneof![
            (timestamped_header_shapes(), any_body()).prop_map(|(h, b)| (h, b, false)),
            (
                prop_oneof![
                    any_body(),
                    mutated_json(json!({"order_id": "o-1", "status": "completed", "report_url": "https://x/r"}))
                        .prop_map(|v| v.to_string().into_bytes()),
                ],
                timestamp(now()),
                any::<bool>(),
                edits(),
            ).prop_map(|(body, t, right, e)| {
                let secret = SecretString::from(if right { CALLBACK_SECRET } else { OTHER });
                (apply(&hirebridge::timestamped::sign(t, &body, &secret), &e), body, right)
            }),
        ],
    ) {
        let req = request("POST", "/2secure/callback",
            &[("x-2secure-signature", Some(&header)), ("content-type", Some("application/json"))], body);
        let resp = with_fixture(|f| f.rt.block_on(twosecure::handle_status(&f.twosecure, req)));
        prop_assert!(made_right || resp.status() == StatusCode::UNAUTHORIZED, "{} for {:?}", resp.status(), header);
        prop_assert!(!resp.status().is_server_error(), "{}", resp.status());
    }
}

// ---------------------------------------------------------------------------------------------
// Personnummer and TOTP secrets
// ---------------------------------------------------------------------------------------------

fn luhn(nine: &[u8]) -> u8 {
    let sum: u32 = nine
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let p = u32::from(d - b'0') * if i % 2 == 0 { 2 } else { 1 };
            p / 10 + p % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// A valid number in one of its written forms.
fn personnummer_form() -> BoxedStrategy<String> {
    (1850i32..2030, 1u32..=12, 1u32..=28, any::<bool>(), 0u32..1000, 0usize..6)
        .prop_map(|(year, month, day, coordination, serial, form)| {
            let shown_day = if coordination { day + 60 } else { day };
            let nine = format!("{:02}{month:02}{shown_day:02}{serial:03}", year % 100);
            let c = luhn(nine.as_bytes());
            let twelve = format!("{}{nine}{c}", year / 100);
            match form {
                0 => twelve,
                1 => format!("{nine}{c}"),
                2 => format!("{}-{}{c}", &nine[..6], &nine[6..]),
                3 => format!("{}+{}{c}", &nine[..6], &nine[6..]),
                4 => format!("{}-{}", &twelve[..8], &twelve[8..]),
                _ => format!(" {twelve} "),
            }
        })
        .boxed()
}

const TOTP_CANONICAL: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn totp_text() -> BoxedStrategy<String> {
    let ascii_bases = vec![
        TOTP_CANONICAL.to_owned(),
        "gezd gnbv gy3t qojq".to_owned(),
        format!("otpauth://totp/Teamtailor:admin@acme.se?secret={TOTP_CANONICAL}&issuer=Teamtailor"),
        format!("otpauth://totp/X?secret={TOTP_CANONICAL}&algorithm=SHA1&digits=6&period=30"),
        "OTPAUTH://TOTP/X?secret=GEZDGNBVGY3TQOJQ".to_owned(),
    ];
    prop_oneof![
        text(),
        "[A-Za-z2-7 =-]{0,40}",
        mutated(prop::sample::select(ascii_bases.clone())),
        // A multi-byte character at every byte position of the first 16 (all of it ASCII before).
        (
            prop::sample::select(ascii_bases),
            0usize..16,
            prop::sample::select(vec!['é', '€', '𝄞', 'ß', '\u{a0}'])
        )
            .prop_map(|(base, at, c)| {
                let at = at.min(base.len());
                format!("{}{c}{}", &base[..at], &base[at..])
            }),
        (
            prop::sample::select(vec!["secret", "algorithm", "digits", "period", "SECRET", "issuer"]),
            prop_oneof![text_of(0..20), number_text(), "[A-Z2-7]{0,40}"],
        )
            .prop_map(|(k, v)| format!(
                "otpauth://totp/X?secret={TOTP_CANONICAL}&{k}={}",
                url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            )),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_personnummer_of_any_text_parses_to_twelve_digits_with_a_valid_check_digit_or_is_refused(
        input in prop_oneof![
            text(),
            "[0-9+ -]{0,16}",
            personnummer_form(),
            mutated(personnummer_form()),
        ],
        today in prop_oneof![Just(now()), 0i64..4_102_444_800].prop_map(Date::from_unix),
    ) {
        if let Ok(p) = Personnummer::parse(&input, today) {
            let twelve = p.twelve_digits();
            prop_assert_eq!(twelve.len(), 12);
            prop_assert!(twelve.bytes().all(|b| b.is_ascii_digit()), "{}", twelve);
            let digits = twelve.as_bytes();
            prop_assert_eq!(luhn(&digits[2..11]), digits[11] - b'0');
            prop_assert_eq!(p.is_coordination_number(), digits[6] >= b'6');
            // The normal form is a fixed point.
            prop_assert_eq!(Personnummer::parse(&twelve, today).map(|q| q.twelve_digits()), Ok(twelve.clone()));
            let shown = format!("{:?}", p);
            prop_assert!(!shown.contains(&twelve[2..]), "Debug shows the number");
        }
    }

    #[test]
    fn a_totp_secret_of_any_text_parses_to_at_least_ten_bytes_or_is_refused(
        input in totp_text(),
        t in any::<u64>(),
    ) {
        if let Ok(secret) = TotpSecret::parse(&input) {
            let canonical = secret.base32();
            prop_assert!(canonical.len() >= 16, "{}", canonical);
            prop_assert_eq!(TotpSecret::parse(&canonical), Ok(secret.clone()));
            let code = secret.code(t, 6);
            prop_assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{}", code);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests: query, headers, Bearer, JSON bodies; link-page forms
// ---------------------------------------------------------------------------------------------

/// A URI path and query from any bytes: those a URI may carry as they are (a stray `%` included),
/// the rest percent-encoded, invalid UTF-8 too.
fn uri_text() -> BoxedStrategy<String> {
    let chunk = |bytes: Vec<u8>| -> String {
        bytes
            .iter()
            .map(|b| {
                let c = *b as char;
                if c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/%".contains(c) {
                    c.to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    (bytes_up_to(24), prop::option::of(bytes_up_to(64)))
        .prop_map(move |(path, query)| match query {
            Some(q) => format!("/{}?{}", chunk(path), chunk(q)),
            None => format!("/{}", chunk(path)),
        })
        .boxed()
}

/// A header value from any bytes (those `http` refuses are left out of the request).
fn header_bytes(valid: &'static [&'static str]) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        bytes_up_to(40),
        mutated(prop::sample::select(valid).prop_map(String::from)).prop_map(String::into_bytes),
    ]
    .boxed()
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Shape {
    name: String,
    count: u32,
    #[serde(default)]
    tags: Vec<String>,
}

/// One request in five has a body just over the limit.
fn request_body() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        20 => any_body(),
        5 => mutated_json(json!({"name": "n", "count": 1, "tags": ["a"]})).prop_map(|v| v.to_string().into_bytes()),
        1 => Just(vec![b' '; web::MAX_BODY_BYTES + 1]),
    ]
    .boxed()
}

fn link_ticket_forms(purpose: &'static str, allow_json: bool) -> BoxedStrategy<(String, bool)> {
    // A ticket for the page, valid or not, and its form around it.
    let ticket = prop_oneof![
        1 => (text(), Just(false)),
        2 => (any::<bool>(), edits(), prop_oneof![Just(4_102_444_800i64), any::<i64>()])
            .prop_map(move |(right, e, exp)| {
                let key = if right { ticket_key() } else { SecretString::from(OTHER) };
                (apply(&tickets::issue(&key, purpose, "owner-1", "Acme é", exp), &e), right && e.is_empty())
            }),
        // Whole and current: the form's fields are read.
        3 => Just(()).prop_map(move |()| (tickets::issue(&ticket_key(), purpose, "owner-1", "Acme é", 4_102_444_800), true)),
    ];
    let field = (
        prop::sample::select(vec![
            "company_id",
            "email",
            "password",
            "totp_secret",
            "ticket",
            "x",
            "api_key",
        ]),
        prop_oneof![text(), totp_text(), mutated(Just("name@company.com".to_owned()))],
    );
    (ticket, prop::collection::vec(field, 0..6), any::<bool>())
        .prop_map(move |((ticket, valid), fields, as_json)| {
            let as_json = as_json && allow_json;
            // The key that would be checked with the service is always malformed: no case reaches a network.
            let bad_key = "not a key";
            let body = if as_json {
                let mut m: Map<String, Value> =
                    fields.into_iter().map(|(k, v)| (k.to_owned(), Value::String(v))).collect();
                m.insert("ticket".into(), Value::String(ticket));
                m.insert("api_key".into(), Value::String(bad_key.into()));
                format!("J{}", Value::Object(m))
            } else {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("ticket", &ticket);
                for (k, v) in &fields {
                    form.append_pair(k, v);
                }
                form.append_pair("ticket", &ticket);
                form.append_pair("api_key", bad_key);
                form.finish()
            };
            (body, valid)
        })
        .boxed()
}

fn form_body() -> BoxedStrategy<(Vec<u8>, bool)> {
    prop_oneof![
        any_body().prop_map(|b| (b, false)),
        mutated(Just("ticket=x&api_key=a+b&company_id=acme&email=a%40b.se&totp_secret=%C3%A9".to_owned()))
            .prop_map(|b| (b.into_bytes(), false)),
        bytes_up_to(64).prop_map(|b| {
            // Percent-escapes of any bytes, broken ones too.
            let mut s = String::from("ticket=");
            for x in b {
                s.push_str(&format!("%{x:02x}"));
            }
            s.push_str("%&%zz=%e9&=&&==");
            (s.into_bytes(), false)
        }),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_request_has_its_query_headers_bearer_and_json_body_read_without_panicking(
        method in prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
        uri in uri_text(),
        authorization in header_bytes(&["Bearer 6f1c2f1e-8d2a-4c59-9a39-0a4b1e2f3c4d", "bearer   t  ", "Basic eA==", "Bearer", "Bearer  "]),
        content_type in header_bytes(&["application/json", "application/x-www-form-urlencoded", "text/plain; charset=utf-8"]),
        body in request_body(),
    ) {
        let uri = if uri.parse::<http::Uri>().is_ok() { uri } else { "/".to_owned() };
        let mut req = http::Request::builder().method(method).uri(&uri).body(Bytes::from(body)).unwrap();
        if let Ok(v) = HeaderValue::from_bytes(&authorization) {
            req.headers_mut().insert("authorization", v);
        }
        if let Ok(v) = HeaderValue::from_bytes(&content_type) {
            req.headers_mut().insert("content-type", v);
        }
        let _ = web::query(&req);
        let _ = web::segments(&req);
        let _ = web::header(&req, "content-type");
        if let Some(token) = web::bearer(&req) {
            prop_assert!(!token.is_empty() && token.trim() == token, "{:?}", token);
        }
        let _ = ProviderKey::parse(web::bearer(&req));
        for status in [
            web::read_json::<Value>(&req).err().map(|e| e.status),
            web::read_json::<Shape>(&req).err().map(|e| e.status),
        ].into_iter().flatten() {
            prop_assert!(matches!(status.as_u16(), 400 | 413 | 422), "{}", status);
        }
    }

    /// The StackOne link page's form (`POST /stackone/link`, form-encoded or JSON): random
    /// bodies, and forms around a valid, edited or foreign ticket with random fields (the TOTP
    /// secret among them).
    #[test]
    fn a_stackone_link_form_of_any_body_is_answered_with_a_4xx_page_and_never_crashes(
        (body, json_body) in prop_oneof![
            1 => form_body().prop_map(|(b, _)| (b, false)),
            3 => link_ticket_forms(stackone::TICKET_PURPOSE, true).prop_map(|(b, _)| match b.strip_prefix('J') {
                Some(json) => (json.as_bytes().to_vec(), true),
                None => (b.into_bytes(), false),
            }),
        ],
    ) {
        let content_type = if json_body { "application/json" } else { "application/x-www-form-urlencoded" };
        let req = request("POST", "/stackone/link", &[("content-type", Some(content_type))], body);
        let resp = with_fixture(|f| f.rt.block_on(stackone::handle(&f.stackone, req)));
        prop_assert!(resp.status().is_client_error(), "{}", resp.status());
        prop_assert!(json_body || html_page(&resp) || resp.status() == StatusCode::BAD_REQUEST);
    }

    /// The Spark Hire connect page's form (`POST /sparkhire/connect`), and both link pages' `GET`
    /// with any query.
    #[test]
    fn a_spark_hire_connect_form_of_any_body_is_answered_with_a_4xx_page_and_never_crashes(
        body in prop_oneof![
            1 => form_body().prop_map(|(b, _)| b),
            3 => link_ticket_forms(sparkhire::TICKET_PURPOSE, false).prop_map(|(b, _)| b.into_bytes()),
        ],
        query in uri_text(),
    ) {
        let req = request("POST", "/sparkhire/connect", &[("content-type", Some("application/x-www-form-urlencoded"))], body);
        let resp = with_fixture(|f| f.rt.block_on(sparkhire::handle(&f.sparkhire, req)));
        prop_assert!(resp.status().is_client_error(), "{}", resp.status());
        prop_assert!(html_page(&resp), "not a page: {}", resp.status());
        let q = query.split_once('?').map(|(_, q)| q).unwrap_or_default();
        for path in ["/sparkhire/connect", "/stackone/link"] {
            let req = request("GET", &format!("{path}?{q}"), &[], Vec::new());
            let resp = with_fixture(|f| f.rt.block_on(async {
                if path.starts_with("/sparkhire") {
                    sparkhire::handle(&f.sparkhire, req).await
                } else {
                    stackone::handle(&f.stackone, req).await
                }
            }));
            prop_assert!(resp.status().is_client_error(), "{} {}", path, resp.status());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lambda events: API Gateway HTTP API (payload 2.0) and EventBridge
// ---------------------------------------------------------------------------------------------

/// AWS's example of an HTTP API payload-format-2.0 event ("Working with AWS Lambda proxy
/// integrations for HTTP APIs", API Gateway Developer Guide).
const HTTP_API_V2_EXAMPLE: &str = include_str!("../../../shared/fixtures/aws-http-api-v2-example.json");

/// AWS's example of the event an EventBridge schedule sends ("Scheduled Events", EventBridge User
/// Guide).
const SCHEDULED_EVENT_EXAMPLE: &str =
    include_str!("../../../shared/fixtures/aws-scheduled-event-example.json");

fn read_invocation(payload: &[u8]) -> Result<(), String> {
    match serde_json::from_slice::<Invocation>(payload) {
        Ok(Invocation::Http(event)) => {
            if let Ok(req) = lambda::from_http_api_v2(*event) {
                let _ = web::query(&req);
                let _ = web::bearer(&req);
                let _ = web::read_json::<Value>(&req);
                let _ = web::header(&req, "cookie");
                let _ = lambda::to_http_api_v2(web::text(StatusCode::OK, "ok"));
            }
            Ok(())
        }
        Ok(Invocation::EventBridge(event)) => {
            let _ = lambda::is_scheduled(&event);
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn an_api_gateway_event_of_any_json_becomes_a_request_or_is_refused(
        payload in prop_oneof![
            bytes_up_to(256),
            json_value().prop_map(|v| v.to_string().into_bytes()),
            mutated_json(serde_json::from_str(HTTP_API_V2_EXAMPLE).unwrap()).prop_map(|v| v.to_string().into_bytes()),
            mutated(Just(HTTP_API_V2_EXAMPLE.to_owned())).prop_map(String::into_bytes),
        ],
    ) {
        let _ = read_invocation(&payload);
    }

    #[test]
    fn an_eventbridge_event_of_any_json_is_read_as_one_or_refused(
        payload in prop_oneof![
            json_value().prop_map(|mut v| {
                if let Value::Object(m) = &mut v {
                    m.insert("detail-type".into(), Value::String("Scheduled Event".into()));
                }
                v.to_string().into_bytes()
            }),
            mutated_json(serde_json::from_str(SCHEDULED_EVENT_EXAMPLE).unwrap()).prop_map(|v| v.to_string().into_bytes()),
            mutated(Just(SCHEDULED_EVENT_EXAMPLE.to_owned())).prop_map(String::into_bytes),
        ],
    ) {
        let _ = read_invocation(&payload);
    }
}

// ---------------------------------------------------------------------------------------------
// Outbound answers' rate-limit headers; the environment
// ---------------------------------------------------------------------------------------------

const ENV_NAMES: [&str; 12] = [
    "PUBLIC_BASE_URL",
    "TEAMTAILOR_API_URL",
    "TEAMTAILOR_NA_API_URL",
    "TEAMTAILOR_API_VERSION",
    "SECRETS_PREFIX",
    "HIREBRIDGE_RETRY_SCHEDULE",
    "TABLE_NAME",
    "ALVA_API_URL",
    "LEARNSTER_API_URL",
    "TWOSECURE_API_URL",
    "SPARKHIRE_API_URL",
    "STACKONE_API_URL",
];

fn env_value() -> BoxedStrategy<Option<String>> {
    prop::option::weighted(
        0.6,
        prop_oneof![
            text(),
            number_text(),
            mutated(
                prop::sample::select(vec![
                    "https://hb.example.com/base/",
                    "http://127.0.0.1:8080",
                    "https://{space}.learnster.com/api/public/v1",
                    "https://[::1]:443/x",
                    "60,300,900",
                    "20240904",
                    "hirebridge/",
                    "hirebridge-table",
                ])
                .prop_map(String::from)
            ),
        ],
    )
    .boxed()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_rate_limit_header_of_any_value_gives_a_wait_of_at_most_a_day(
        values in prop::collection::vec(
            prop::option::of(prop_oneof![
                number_text().prop_map(String::into_bytes),
                mutated(number_text()).prop_map(String::into_bytes),
                bytes_up_to(24),
                Just(b"Wed, 21 Oct 2015 07:28:00 GMT".to_vec()),
            ]),
            3,
        ),
    ) {
        let mut headers = HeaderMap::new();
        for (name, value) in ["retry-after", "x-rate-limit-reset", "x-rate-limit-try-again-seconds"].iter().zip(values) {
            if let Some(v) = value.and_then(|v| HeaderValue::from_bytes(&v).ok()) {
                headers.insert(*name, v);
            }
        }
        if let Some(wait) = hirebridge::outbound::rate_limit_wait(&headers) {
            prop_assert!(wait <= std::time::Duration::from_secs(86_400), "{:?}", wait);
        }
    }

    #[test]
    fn any_environment_gives_a_valid_config_or_an_error_that_names_the_variable(
        values in prop::collection::vec(env_value(), ENV_NAMES.len()),
        public_base_url in prop_oneof![
            Just(Some("https://hb.example.com".to_owned())),
            env_value(),
        ],
        path in text(),
        host in prop_oneof![text(), prop::sample::select(API_HOSTS.to_vec()).prop_map(String::from)],
    ) {
        let mut env: HashMap<&str, String> =
            ENV_NAMES.iter().zip(values).filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
        match public_base_url {
            Some(v) => env.insert("PUBLIC_BASE_URL", v),
            None => env.remove("PUBLIC_BASE_URL"),
        };
        match Config::from_lookup(|k| env.get(k).cloned()) {
            Ok(c) => {
                prop_assert!(matches!(c.public_base_url.scheme(), "http" | "https"));
                prop_assert!(c.public_base_url.host_str().is_some());
                prop_assert!(c.teamtailor_api_version.len() == 8 && c.teamtailor_api_version.bytes().all(|b| b.is_ascii_digit()));
                prop_assert!((1..=20).contains(&c.retry_schedule.len()));
                prop_assert!(c.retry_schedule.iter().all(|s| *s <= 604_800));
                prop_assert!(!c.secrets_prefix.contains(char::is_whitespace));
                let _ = c.public_url(&path);
                let _ = hirebridge::teamtailor::api_base(&c, Some(&host));
            }
            Err(e) => {
                let message = e.to_string();
                prop_assert!(ENV_NAMES.iter().any(|n| message.contains(n)), "{}", message);
            }
        }
    }
}
