//! `POST /stackone/events`: StackOne's account webhooks, the truth about a link. Signature and
//! body as StackOne's own example has them (`StackOneHQ/examples`,
//! `apps/rag-knowledge-agent/src/app/api/stackone/webhook/route.ts` at
//! 7897f08a8fa7405d449156334dba1aaf1c8ad758): `x-stackone-signature` (see [`crate::signature`])
//! and a flat body `{event, account_id, provider, origin_owner_id, origin_owner_name,
//! origin_username?, project_id?, event_date?, sent_at?}`; `account.created`,
//! `account.updated` and `account.deleted` (https://docs.stackone.com/guides/webhooks).
//!
//! An event changes a link only if hirebridge opened a link session for its owner, and only if
//! it is dated after the last event applied (a conditional write: an older event, however late
//! it arrives, never puts back older state).
use hirebridge::error::AppResult;
use hirebridge::web::{self, Request, Response};
use hirebridge::AppError;
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::session::check_owner;
use crate::stackone::PROVIDER;
use crate::store::{self, LinkStatus};
use crate::{signature, Deps, VendorSecret, VENDOR_SECRET};

/// The fields hirebridge reads; others are allowed and ignored.
#[derive(Deserialize)]
struct Event {
    event: String,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    origin_owner_id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    event_date: Option<String>,
    #[serde(default)]
    sent_at: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Created,
    Updated,
    Deleted,
}

fn ignored(why: &str) -> Response {
    web::json(StatusCode::OK, &json!({ "ignored": why }))
}

fn account_id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
}

/// An RFC 3339 date (`2024-01-31T10:00:00Z`, `…00.123+01:00`) in milliseconds since 1970.
pub(crate) fn parse_date_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() < 20 || s.len() > 40 || !s.is_ascii() {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        s.get(r).filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?.parse::<i64>().ok()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if seps.iter().any(|(i, c)| s.as_bytes()[*i] != *c) || !matches!(s.as_bytes()[10], b'T' | b't' | b' ') {
        return None;
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        let padded = format!("{:0<3}", &fraction[..digits.min(3)]);
        millis = padded.parse::<i64>().ok()?;
        rest = &fraction[digits..];
    }
    let offset_secs = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(rest.as_bytes()[0], b'+' | b'-') && rest.as_bytes()[3] == b':' => {
            let (h, m) = (rest[1..3].parse::<i64>().ok()?, rest[4..6].parse::<i64>().ok()?);
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs) * 1000 + millis)
}

pub async fn receive(deps: &Deps, req: &Request) -> AppResult<Response> {
    let platform = &deps.platform;
    let body = web::bounded_body(req)?;
    let vendor: VendorSecret = platform.secrets.require_json(VENDOR_SECRET).await?;
    signature::verify(web::header(req, signature::HEADER), body, &vendor.webhook_secret)?;
    if !serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v.is_object()) {
        return Err(AppError::bad_request("the body must be a JSON object: StackOne's flat account event"));
    }
    let event: Event = web::read_json(req)?;
    let kind = match event.event.as_str() {
        "account.created" => Kind::Created,
        "account.updated" => Kind::Updated,
        "account.deleted" => Kind::Deleted,
        other if other.len() <= 100 => return Ok(ignored("hirebridge reads only account events")),
        _ => return Err(AppError::bad_request("event is longer than 100 characters")),
    };
    let account = event
        .account_id
        .as_deref()
        .filter(|a| account_id_ok(a))
        .ok_or_else(|| AppError::bad_request("account_id must be 1–128 letters, digits or - _ . :"))?;
    if event.provider.as_deref().is_some_and(|p| p != PROVIDER) {
        return Ok(ignored("not a Teamtailor account"));
    }
    if let Some(owner) = &event.origin_owner_id {
        check_owner(owner)
            .map_err(|_| AppError::bad_request("origin_owner_id is not an origin owner hirebridge uses"))?;
    }
    let dated = match (&event.event_date, &event.sent_at) {
        (Some(d), _) | (None, Some(d)) => Some(
            parse_date_ms(d)
                .ok_or_else(|| AppError::bad_request("event_date and sent_at must be RFC 3339 dates"))?,
        ),
        (None, None) => None,
    };
    let at = dated.unwrap_or_else(|| platform.clock.now_ms());
    let owner = match event.origin_owner_id.clone() {
        Some(owner) => owner,
        None => {
            let (pk, sk) = store::account_key(account);
            match platform.store.get(&pk, sk).await?.and_then(|i| i.str("origin_owner_id").map(str::to_owned))
            {
                Some(owner) => owner,
                None => {
                    return Ok(ignored(
                        "the event names no owner and hirebridge knows no link for this account",
                    ))
                }
            }
        }
    };
    let reported = event.status.as_deref().map(LinkStatus::parse);
    // StackOne's account status, read once, outside the retry loop below.
    let mut status_of_account = None;
    for _ in 0..5 {
        let Some(before) = store::read(platform, &owner).await? else {
            return Ok(ignored("hirebridge never opened a link session for this owner"));
        };
        if at <= before.event_at {
            return Ok(ignored("older than what the link already shows"));
        }
        let current = before.account_id.as_deref();
        if kind != Kind::Created
            && current.is_some_and(|c| c != account)
            && before.status != LinkStatus::Deleted
        {
            return Ok(ignored("not the owner's current account"));
        }
        let status = match kind {
            Kind::Deleted => LinkStatus::Deleted,
            _ => match (reported, status_of_account) {
                (Some(s), _) | (None, Some(s)) => s,
                (None, None) => {
                    let s = account_status(deps, &vendor, account).await;
                    status_of_account = Some(s);
                    s
                }
            },
        };
        store::retire_legacy_secret(platform, &before).await?;
        let mut next = before.clone();
        next.account_id = Some(account.to_owned());
        next.status = status;
        next.event_at = at;
        next.updated_at = platform.now_secs();
        if store::save(platform, Some(&before), &next, Some(at)).await? {
            if kind != Kind::Deleted {
                platform.store.put(store::account_item(account, &owner), None).await?;
            }
            tracing::info!(owner = %owner, account = %account, status = status.as_str(), event = %event.event, "stackone link changed");
            return Ok(web::json(
                StatusCode::OK,
                &json!({"origin_owner_id": owner, "account_id": account, "status": status}),
            ));
        }
    }
    Err(AppError::conflict("the link is being changed by other events right now; send this one again"))
}

/// The account's status as StackOne holds it (the account events carry none); `unknown` when
/// StackOne cannot say right now (the link still records the account).
async fn account_status(deps: &Deps, vendor: &VendorSecret, account: &str) -> LinkStatus {
    match deps.stackone.account(&vendor.api_key, account).await {
        Ok(a) => LinkStatus::parse(&a.status),
        Err(e) => {
            tracing::warn!(error = %e, "stackone account status not read");
            LinkStatus::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_3339_dates_are_read_to_the_millisecond_with_their_offset() {
        assert_eq!(parse_date_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date_ms("2024-02-29T12:34:56.789Z"), Some(1_709_210_096_789));
        assert_eq!(parse_date_ms("2024-02-29T13:34:56.789+01:00"), Some(1_709_210_096_789));
        assert_eq!(parse_date_ms("2024-02-29T12:34:56.7Z"), Some(1_709_210_096_700));
        for bad in [
            "",
            "yesterday",
            "2024-13-01T00:00:00Z",
            "2024-02-29 12:34:56",
            "2024-02-29T12:34:56.Z",
            "2024-02-29T12:34:56Zjunk",
            "２０２４-02-29T12:34:56Z",
        ] {
            assert_eq!(parse_date_ms(bad), None, "{bad}");
        }
    }
}
