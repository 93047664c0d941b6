//! The events a deployment delivers: API Gateway HTTP API requests (payload format 2.0, as
//! `template.yaml`'s integrations declare) and EventBridge's scheduled events.
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "eu-north-1";
const API_ID: &str = "b3nch0api1";

pub fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// (year, month, day, hour, minute, second) of a Unix time, UTC.
pub fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, (rem / 3600) as u32, (rem % 3600 / 60) as u32, (rem % 60) as u32)
}

pub fn rfc3339(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

fn clf_time(secs: i64) -> String {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{d:02}/{}/{y:04}:{h:02}:{mi:02}:{s:02} +0000", MONTHS[(mo - 1) as usize])
}

fn hex_id(n: usize) -> String {
    uuid::Uuid::new_v4().simple().to_string()[..n].to_owned()
}

/// An HTTP API (payload format 2.0) event for `req`, as API Gateway builds it for the route
/// `route_key` (e.g. `POST /learnster/webhook`): header names lower-cased and repeated values
/// joined with commas, cookies in `cookies`, the query parsed, a non-UTF-8 body base64-encoded.
pub fn http_api_v2(req: &http::Request<Bytes>, route_key: &str) -> Value {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for name in req.headers().keys() {
        let values: Vec<String> =
            req.headers().get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect();
        if name == http::header::COOKIE {
            cookies.extend(values.iter().flat_map(|v| v.split("; ").map(str::to_owned)));
        } else {
            headers.insert(name.as_str().to_ascii_lowercase(), Value::String(values.join(",")));
        }
    }
    let host = format!("{API_ID}.execute-api.{REGION}.amazonaws.com");
    let user_agent =
        headers.get("user-agent").and_then(Value::as_str).unwrap_or("Teamtailor-Webhooks/1.0").to_owned();
    let trace = format!("Root=1-{:08x}-{}", now_secs(), hex_id(24));
    for (name, value) in [
        ("host", host.clone()),
        ("content-length", req.body().len().to_string()),
        ("user-agent", user_agent.clone()),
        ("x-amzn-trace-id", trace),
        ("x-forwarded-for", "192.0.2.10".to_owned()),
        ("x-forwarded-port", "443".to_owned()),
        ("x-forwarded-proto", "https".to_owned()),
    ] {
        headers.entry(name).or_insert(Value::String(value));
    }
    let mut params = Map::new();
    for (k, v) in url_decode_pairs(&query) {
        match params.get_mut(&k) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                params.insert(k, Value::String(v));
            }
        }
    }
    let (body, encoded) = match std::str::from_utf8(req.body()) {
        _ if req.body().is_empty() => (Value::Null, false),
        Ok(text) => (Value::String(text.to_owned()), false),
        Err(_) => (Value::String(base64::engine::general_purpose::STANDARD.encode(req.body())), true),
    };
    let now = now_ms();
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": API_ID,
            "http": {
                "method": req.method().as_str(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": user_agent,
            },
            "requestId": format!("{}=", hex_id(14)),
            "routeKey": route_key,
            "stage": "$default",
            "time": clf_time(now / 1000),
            "timeEpoch": now,
        },
        "isBase64Encoded": encoded,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !params.is_empty() {
        event["queryStringParameters"] = Value::Object(params);
    }
    if !body.is_null() {
        event["body"] = body;
    }
    event
}

fn url_decode_pairs(query: &str) -> Vec<(String, String)> {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let escaped = match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
                (b'%', Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| h * 16 + l),
                _ => None,
            };
            match escaped {
                Some(b) => {
                    out.push(b);
                    i += 3;
                }
                None => {
                    out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// The event an EventBridge schedule (`rate(5 minutes)`) delivers to `function`.
pub fn scheduled(rule: &str) -> Value {
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": rfc3339(now_secs()),
        "region": REGION,
        "resources": [format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}")],
        "detail": {}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_796_083_200), "2026-12-01T00:00:00Z");
        assert_eq!(clf_time(951_782_400), "29/Feb/2000:00:00:00 +0000");
    }

    #[test]
    fn query_strings_are_decoded() {
        assert_eq!(
            url_decode_pairs("a=1&b=x%2By+z&c"),
            [("a".into(), "1".into()), ("b".into(), "x+y z".into()), ("c".into(), String::new())]
        );
    }
}
