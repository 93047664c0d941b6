//! "A vendor's event lands on a card" (Alva results, Spark Hire events, 2Secure callbacks), once:
//! the integration verifies the event and finds the card; this records the event under its id
//! (a redelivery is answered with the first outcome) and sends the card update durably
//! ([`crate::cards`]: recorded first, never backwards, re-sent by the sweep when Teamtailor is down).
//! An event whose run ended before its outcome was recorded is run again by the sweep (or an
//! operator): when its card was recorded, that card is sent and the event is done; when not, the
//! event stays due (failed), so that the vendor's next delivery lands it.
use http::StatusCode;
use serde_json::{json, Value};

use crate::cards::{self, CardUpdate, Delivery};
use crate::error::AppResult;
use crate::idempotency::{Claim, Finish, Outcome, WorkRecord};
use crate::platform::Platform;
use crate::store::{Cond, Item};
use crate::web::{self, Response};
use crate::AppError;

/// One verified vendor event.
pub struct VendorEvent<'a> {
    /// The listing whose card it lands on (`alva`, `2secure`, `sparkhire`).
    pub integration: &'a str,
    /// The tenant it belongs to (checked by the integration).
    pub tenant: &'a str,
    /// The vendor's id of the event (or of the order and status, when the vendor gives none).
    pub id: &'a str,
}

/// Lands `card` (the result for the card at `update_url`) for `event`.
pub async fn land(
    platform: &Platform,
    event: VendorEvent<'_>,
    update: CardUpdate<'_>,
) -> AppResult<Response> {
    Ok(land_recording(platform, event, update, Vec::new()).await?.response)
}

/// What became of an event landed with [`land_recording`].
pub struct Landed {
    pub response: Response,
    /// Whether its records were written with its outcome (not when the event was answered
    /// before, or a record's condition failed).
    pub recorded: bool,
}

/// [`land`], writing `records` (conditional puts) with the event's outcome in one round trip.
pub async fn land_recording(
    platform: &Platform,
    event: VendorEvent<'_>,
    update: CardUpdate<'_>,
    records: Vec<(Item, Option<Cond>)>,
) -> AppResult<Landed> {
    let scope = format!("{}#{}#vendor", event.integration, event.tenant);
    // The card is recorded before it is sent (never backwards), in the claim's round trip when
    // it can be; it is marked sent with the event's outcome.
    let card = cards::item(platform, update).ok();
    // Where the card is and which one it is, so that a re-run can tell whether it was recorded.
    let mut record = json!({"tenant": event.tenant, "update_url": update.update_url});
    if let Some(c) = &card {
        record["card"] = json!({"pk": c.pk, "sk": c.sk, "rank": c.i64("rank"), "version": c.i64("version"), "status": update.result.status});
    }
    let with_claim: Vec<_> = card.iter().map(|c| (c.clone(), Some(cards::newer_than_stored(c)))).collect();
    let (claim, card_recorded) =
        platform.idempotency.claim_with(&scope, event.id, record, with_claim).await?;
    let lease = match claim {
        Claim::Replay(outcome) => return Ok(Landed { response: outcome.to_response(), recorded: false }),
        Claim::Acquired(lease) => lease,
    };
    let status = update.result.status;
    let listing = platform.listing(update.integration).await?;
    let key = &listing.partner_api_key;
    let recorded = match card.filter(|_| card_recorded) {
        Some(item) => Ok(Some(item)),
        None => cards::record(platform, update).await,
    };
    let (delivery, with) = match recorded {
        Ok(Some(item)) => {
            let unchanged = cards::still_stored(&item);
            let (marked, delivery) = cards::put(platform, item, key).await;
            (Ok(delivery), vec![(marked, Some(unchanged))])
        }
        Ok(None) => (Ok(Delivery::Superseded), Vec::new()),
        Err(e) => (Err(e), Vec::new()),
    };
    let card_pk = with.first().map(|(item, _)| item.pk.clone());
    let (response, finish) = match delivery {
        Ok(delivery) => {
            (web::json(StatusCode::OK, &json!({"status": status, "card": said(delivery)})), Finish::Completed)
        }
        Err(e) => (e.clone().into_response(crate::error::Style::Problem), Finish::Failed(e.detail)),
    };
    // The records go with a landed event only.
    let landed = matches!(finish, Finish::Completed);
    let mut with = with;
    if landed {
        with.extend(records);
    }
    let finished =
        platform.idempotency.finish_with(lease, &Outcome::from_response(&response), finish, with).await?;
    let has_card = usize::from(card_pk.is_some());
    if let Some(pk) = card_pk.filter(|_| finished.refused.first() == Some(&0)) {
        // A newer update was recorded while ours was on its way: the card ends on the newer one.
        cards::resend_stored(platform, &pk, key).await?;
    }
    let recorded = landed && !finished.refused.iter().any(|&i| i >= has_card);
    Ok(Landed { response, recorded })
}

/// Whether a work item is a vendor event's (`EVENT#{integration}#{tenant}#vendor#{id}`).
pub(crate) fn is_vendor_event(record: &WorkRecord) -> bool {
    record.pk.split('#').nth(3) == Some("vendor")
}

/// Runs again a vendor event whose run ended before its outcome was recorded (the sweep), or that
/// failed (an operator): when its card is recorded (or a later one is), the stored card is sent
/// and the event is done; otherwise it stays failed and due, for the vendor's next delivery.
/// `None` when it could not be claimed.
pub(crate) async fn rerun(
    platform: &Platform,
    record: &WorkRecord,
    by_hand: bool,
) -> AppResult<Option<Response>> {
    let Some(lease) = platform.idempotency.claim_again(record, by_hand).await? else {
        return Ok(None);
    };
    let card = &record.work["card"];
    let stored = match (card["pk"].as_str(), card["sk"].as_str()) {
        (Some(pk), Some(sk)) => platform.store.get(pk, sk).await?,
        _ => None,
    };
    let (rank, version) =
        (card["rank"].as_i64().unwrap_or(i64::MAX), card["version"].as_i64().unwrap_or(i64::MAX));
    let recorded = stored.as_ref().is_some_and(|s| {
        let (r, v) = (s.i64("rank").unwrap_or(-1), s.i64("version").unwrap_or(-1));
        r > rank || (r == rank && v >= version)
    });
    let (response, finish) = if platform.idempotency.past_last(lease.attempt) && !by_hand {
        let why = format!("its runs ended before they finished, {} times", lease.attempt - 1);
        (AppError::upstream(why.clone()).into_response(crate::error::Style::Problem), Finish::GivenUp(why))
    } else if recorded {
        let integration = record.pk.split('#').nth(1).unwrap_or_default();
        let listing = platform.listing(integration).await?;
        let pk = card["pk"].as_str().unwrap_or_default();
        match cards::resend_stored(platform, pk, &listing.partner_api_key).await {
            Ok(delivery) => {
                let status = card.get("status").cloned().unwrap_or(Value::Null);
                (
                    web::json(StatusCode::OK, &json!({"status": status, "card": said(delivery)})),
                    Finish::Completed,
                )
            }
            Err(e) => (e.clone().into_response(crate::error::Style::Problem), Finish::Failed(e.detail)),
        }
    } else {
        let why = "its run ended before its card was recorded; the vendor's next delivery of it lands it";
        (AppError::upstream(why).into_response(crate::error::Style::Problem), Finish::Failed(why.to_owned()))
    };
    platform.idempotency.finish(lease, &Outcome::from_response(&response), finish).await?;
    Ok(Some(response))
}

/// What the answer says of the card.
fn said(delivery: Delivery) -> &'static str {
    match delivery {
        Delivery::Delivered => "updated",
        Delivery::Later => "recorded; Teamtailor will be updated by the next retry",
        Delivery::Superseded => "already shows a later status",
    }
}
