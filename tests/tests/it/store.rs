//! The storage port against DynamoDB's API (moto) and the in-memory adapter alike.
use hirebridge::store::{AllOutcome, Cond, Item, ItemStore, MemoryStore, PutOutcome};
use hirebridge_tests::World;
use serde_json::json;

/// Writes recorded together (a step's outcome with its card and what it learnt) land all
/// together or not at all, and the answer names the put whose condition failed.
async fn writes_made_together_are_all_or_nothing(store: &dyn ItemStore) {
    let id = uuid::Uuid::new_v4();
    let (a, b) = (format!("TEST#{id}#a"), format!("TEST#{id}#b"));
    assert_eq!(store.put(Item::new(&b, "S").with("version", 5), None).await.unwrap(), PutOutcome::Written);
    let both = |version: i64| {
        vec![
            (Item::new(&a, "S").with("n", 1), Some(Cond::NotExists)),
            (Item::new(&b, "S").with("version", version), Some(Cond::Lt("version", version))),
        ]
    };
    assert_eq!(store.put_all(both(4)).await.unwrap(), AllOutcome::Rejected(vec![1]));
    assert_eq!(store.get(&a, "S").await.unwrap(), None, "nothing written when one condition fails");
    assert_eq!(store.get(&b, "S").await.unwrap().unwrap().i64("version"), Some(5));
    assert_eq!(store.put_all(both(6)).await.unwrap(), AllOutcome::Written);
    assert_eq!(store.get(&a, "S").await.unwrap().unwrap().attrs.get("n"), Some(&json!(1)));
    assert_eq!(store.get(&b, "S").await.unwrap().unwrap().i64("version"), Some(6));
    assert_eq!(store.put_all(both(7)).await.unwrap(), AllOutcome::Rejected(vec![0]));
}

#[tokio::test]
async fn writes_made_together_in_dynamodb_are_all_or_nothing_and_name_the_failed_condition() {
    let w = World::new().await;
    let platform = w.another_instance().await;
    writes_made_together_are_all_or_nothing(platform.store.as_ref()).await;
}

#[tokio::test]
async fn writes_made_together_in_memory_are_all_or_nothing_and_name_the_failed_condition() {
    writes_made_together_are_all_or_nothing(&MemoryStore::new()).await;
}

const THROTTLED: (&str, &str) = (
    "400 Bad Request",
    r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#,
);
const FAILED: (&str, &str) = (
    "500 Internal Server Error",
    r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}"#,
);
const CONFLICT: (&str, &str) = (
    "400 Bad Request",
    r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionConflictException","message":"Transaction is ongoing for the item"}"#,
);

/// A DynamoDB endpoint on loopback that gives `script`'s answers in turn, then `200 {}`; it
/// counts the connections it was opened.
async fn flaky_dynamodb(
    script: &'static [(&'static str, &'static str)],
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (connections, requests) =
        (std::sync::Arc::new(AtomicUsize::new(0)), std::sync::Arc::new(AtomicUsize::new(0)));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let requests = requests.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let mut chunk = [0u8; 4096];
                    let Ok(n) = socket.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() < end + 4 + length {
                        continue;
                    }
                    buf.drain(..end + 4 + length);
                    let n = requests.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = script.get(n).copied().unwrap_or(("200 OK", "{}"));
                    let answer = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\nx-amzn-requestid: r\r\n\r\n{body}",
                        body.len()
                    );
                    if socket.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, connections)
}

/// The SDK's retries over hirebridge's HTTP client: a throttle and a `500` are retried and the
/// call succeeds; the connection behind the `500` is closed (the next attempt opens a new one);
/// and no `ERROR` line is logged for what recovered.
#[tokio::test]
async fn dynamodb_throttling_and_failing_then_recovering_logs_no_error_and_renews_the_connection() {
    let (_capture, logs) = hirebridge_tests::capture_logs();
    let (url, connections) = flaky_dynamodb(&[THROTTLED, FAILED]).await;
    let client = loopback_client(&url);
    let key = aws_sdk_dynamodb::types::AttributeValue::S("a".into());
    let got = client.get_item().table_name("t").key("pk", key.clone()).key("sk", key).send().await;
    assert!(got.is_ok(), "recovered after a throttle and a 500: {got:?}");
    assert!(
        connections.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the failed connection was not reused"
    );
    let text = logs.text();
    assert!(!text.contains("\"level\":\"ERROR\""), "{text}");
    assert!(!text.contains("unable to mark the connection"), "{text}");
}

/// A single write to an item a transaction holds is refused with TransactionConflictException
/// while the transaction runs (the SDK does not retry it): the store writes it again, so the
/// caller gets no `500`.
#[tokio::test]
async fn a_write_refused_by_a_transaction_conflict_is_written_once_the_conflict_passes() {
    let (url, _) = flaky_dynamodb(&[CONFLICT; 3]).await;
    let store = hirebridge::store::DynamoStore::new(loopback_client(&url), "t");
    let outcome = store.put(Item::new("TEST#conflict", "S").with("n", 1), Some(Cond::NotExists)).await;
    assert_eq!(outcome.unwrap(), PutOutcome::Written);
}

fn loopback_client(url: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .http_client(hirebridge::aws_http::http_client())
        .endpoint_url(url)
        .region(aws_sdk_dynamodb::config::Region::new("eu-north-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("k", "s", None, None, "test"))
        .retry_config(
            aws_sdk_dynamodb::config::retry::RetryConfig::standard()
                .with_max_attempts(4)
                .with_initial_backoff(std::time::Duration::from_millis(5)),
        )
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}
