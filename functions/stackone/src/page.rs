//! The Link Account page: server-rendered HTML in the one layout (`web::page`) with labelled
//! fields, described errors, and no JavaScript. Secrets are never written back into the page.
use std::collections::BTreeMap;

use hirebridge::web::{escape, page};

pub const FIELDS: [(&str, &str, &str, &str); 5] = [
    ("api_key", "Teamtailor API key", "password", "An API key with Admin scope and Read access (Teamtailor → Settings → Integrations → API keys)."),
    ("company_id", "Company ID", "text", "The ID in your Teamtailor address: https://app.teamtailor.com/companies/<ID>/…"),
    ("email", "E-mail of the dedicated user", "email", "A user kept for this link, with the role Recruitment Admin."),
    ("password", "Password of the dedicated user", "password", "If your company signs in with SSO, exclude this user from SSO and give it a password."),
    ("totp_secret", "Two-factor secret (optional)", "password", "Only if two-factor authentication is on: the authenticator key (base32) or the otpauth:// link behind the QR code."),
];

/// Where the form is posted (built from `PUBLIC_BASE_URL`, path included), with which ticket,
/// for whom.
pub struct Form<'a> {
    pub action: &'a str,
    pub ticket: &'a str,
    pub owner_name: &'a str,
}

/// The form. `values` refills the non-secret fields after an error; `errors` holds one message per field.
pub fn form(f: &Form, values: &BTreeMap<String, String>, errors: &BTreeMap<&str, String>) -> String {
    let mut body = format!(
        "<p>Link the Teamtailor account of <strong>{}</strong> to StackOne. Use a dedicated Recruitment Admin user for this, not a person's own login.</p>",
        escape(f.owner_name)
    );
    if !errors.is_empty() {
        body.push_str("<div class=\"summary\" role=\"alert\" id=\"error-summary\"><p>Nothing was saved. Please correct:</p><ul>");
        for (id, label, _, _) in FIELDS {
            if let Some(message) = errors.get(id) {
                body.push_str(&format!(
                    "<li><a href=\"#{id}\">{}</a>: {}</li>",
                    escape(label),
                    escape(message)
                ));
            }
        }
        body.push_str("</ul></div>");
    }
    body.push_str(&format!("<form method=\"post\" action=\"{}\">", escape(f.action)));
    body.push_str(&format!("<input type=\"hidden\" name=\"ticket\" value=\"{}\">", escape(f.ticket)));
    for (id, label, kind, help) in FIELDS {
        let error = errors.get(id);
        let value = match kind {
            "password" => String::new(),
            _ => values.get(id).map(|v| escape(v)).unwrap_or_default(),
        };
        let described = if error.is_some() { format!("{id}-help {id}-error") } else { format!("{id}-help") };
        body.push_str(&format!(
            "<label for=\"{id}\">{label}</label><p class=\"help\" id=\"{id}-help\">{help}</p>\
             <input id=\"{id}\" name=\"{id}\" type=\"{kind}\" value=\"{value}\" autocomplete=\"off\"{required} aria-describedby=\"{described}\"{invalid}>",
            label = escape(label),
            help = escape(help),
            required = if id == "totp_secret" { "" } else { " required" },
            invalid = if error.is_some() { " aria-invalid=\"true\"" } else { "" },
        ));
        if let Some(message) = error {
            body.push_str(&format!("<p class=\"error\" id=\"{id}-error\">{}</p>", escape(message)));
        }
    }
    body.push_str("<button type=\"submit\">Connect</button></form>");
    page("Link your Teamtailor account", &body)
}

pub fn connected(owner_name: &str, account_id: &str, status: &str) -> String {
    page(
        "Teamtailor is linked",
        &format!(
            "<p role=\"status\" id=\"result\">Connected: the Teamtailor account of <strong>{}</strong> is linked to StackOne (account {}, status <strong>{}</strong>). You can close this page.</p>",
            escape(owner_name),
            escape(account_id),
            escape(status)
        ),
    )
}

/// The credentials are saved, StackOne has not taken them yet: hirebridge finishes on its own.
pub fn pending(owner_name: &str) -> String {
    page(
        "Your details are saved",
        &format!(
            "<p role=\"status\" id=\"result\">The Teamtailor details of <strong>{}</strong> are checked and saved. The link to StackOne could not be finished just now; hirebridge will finish it automatically, you do not need to do anything. You can close this page.</p>",
            escape(owner_name)
        ),
    )
}

pub fn problem(title: &str, message: &str) -> String {
    page(title, &format!("<p role=\"alert\" id=\"result\">{}</p>", escape(message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_password_fields_never_refilled_and_the_action_is_absolute() {
        let f = Form { action: "https://x.example/prod/stackone/link", ticket: "t", owner_name: "Acme" };
        let values: BTreeMap<String, String> = [
            ("totp_secret", "JBSWY3DPEHPK3PXP"),
            ("password", "pw-s3cret"),
            ("api_key", "key-s3cret"),
            ("email", "link@acme.se"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let html = form(&f, &values, &BTreeMap::from([("email", "Wrong".to_owned())]));
        assert!(html.contains("action=\"https://x.example/prod/stackone/link\""), "{html}");
        assert!(html.contains("id=\"totp_secret\" name=\"totp_secret\" type=\"password\""), "{html}");
        for secret in ["JBSWY3DPEHPK3PXP", "pw-s3cret", "key-s3cret"] {
            assert!(!html.contains(secret), "{secret} written back");
        }
        assert!(html.contains("value=\"link@acme.se\""), "the e-mail is refilled");
    }
}
