//! The table's keys that shared mechanisms write, built in one place. Each integration builds its
//! own items' keys in its own `store` module; every key starts with a prefix `template.yaml`
//! grants that integration's functions (`dynamodb:LeadingKeys`).

/// A work item (one event of one tenant): `EVENT#{integration}#{tenant}#{event id}`.
pub fn event(scope: &str, event_id: &str) -> String {
    format!("EVENT#{scope}#{event_id}")
}

/// The sparse index's queue of an integration's work that is (or will be) due.
pub fn due_queue(integration: &str) -> String {
    format!("due#{integration}")
}

/// The sparse index's queue of an integration's work that was given up.
pub fn given_up_queue(integration: &str) -> String {
    format!("given_up#{integration}")
}

/// The latest update of one candidate card: `WORK#{integration}#card#{hash of its update-url}`.
pub fn card(integration: &str, update_url: &str) -> String {
    format!("WORK#{integration}#card#{}", &crate::admin::sha256_hex(update_url)[..32])
}

/// An admin write's audit record: `AUDIT#{integration}#{day}`.
pub fn audit(integration: &str, day: &str) -> String {
    format!("AUDIT#{integration}#{day}")
}
