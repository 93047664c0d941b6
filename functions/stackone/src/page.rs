//! The customer's page: server-rendered HTML in the one layout (`web::page`), no JavaScript. The
//! preparation steps as StackOne's Teamtailor connection guide gives them
//! (https://hub.stackone.com/connection-guides/ats/teamtailor and its `teamtailor-mfa` variant),
//! in order; the optional check of what was prepared; the hand-off to StackOne's Hub, a plain
//! link to the session's `auth_link_url` (https://docs.stackone.com/guides/auth-link). Nothing
//! entered in the check is ever written back into the page.
use hirebridge::web::{escape, page};

/// The check's fields: (id, label, input type, help).
pub const FIELDS: [(&str, &str, &str, &str); 3] = [
    ("api_key", "Teamtailor API key", "password", "The key from step 1. It is checked with Teamtailor and then forgotten."),
    ("company_id", "Company ID", "text", "The ID from step 2, or your whole Teamtailor address (it also tells which Teamtailor region your account is on)."),
    ("totp_secret", "Two-factor secret", "password", "Only if two-factor authentication is on: the key (base32) or the otpauth:// link behind the QR code."),
];

/// The preparation steps, in order.
pub const STEPS: [&str; 5] = [
    "Create a Teamtailor API key with Admin scope and Read only (Settings → Integrations → API keys → New API key; scope Admin, permission Read).",
    "Note your company ID: it is the part of your Teamtailor address after /companies/, as in https://app.teamtailor.com/companies/<ID>/….",
    "Create a dedicated user for this link (Employees → add employee) with the role Recruitment Admin, accept its invitation and set its password.",
    "If your company signs in with SSO: exclude that user from SSO and give it a password, so that it can sign in with its e-mail and password.",
    "If two-factor authentication is on: keep the user's two-factor secret (the key behind the QR code when you set up its authenticator).",
];

/// One field's finding: whether it is fine (`None`: could not be told) and what to do.
pub struct Finding {
    pub ok: Option<bool>,
    pub message: String,
}

pub struct View<'a> {
    /// Where the check is posted (built from `PUBLIC_BASE_URL`, path included).
    pub action: &'a str,
    pub ticket: &'a str,
    pub owner_name: &'a str,
    /// The session's Hub link (its `auth_link_url`).
    pub hub_url: &'a str,
    /// What StackOne reported about the owner's account, when it did: (status, account id).
    pub linked: Option<(&'a str, &'a str)>,
    /// The check's findings, per field id, in [`FIELDS`] order.
    pub findings: &'a [(&'static str, Finding)],
}

pub fn render(v: &View) -> String {
    let mut body = format!(
        "<p>Link the Teamtailor account of <strong>{}</strong> to StackOne. You enter your Teamtailor details in StackOne's Hub, \
         which keeps them; hirebridge stores none of them.</p>",
        escape(v.owner_name)
    );
    if let Some((status, account)) = v.linked {
        body.push_str(&format!(
            "<p role=\"status\" id=\"linked\">StackOne reports this Teamtailor account as linked (account {}, status <strong>{}</strong>). \
             Connecting again updates that account; it does not add another.</p>",
            escape(account),
            escape(status)
        ));
    }
    body.push_str("<h2>1. Prepare in Teamtailor</h2><ol id=\"steps\">");
    for step in STEPS {
        body.push_str(&format!("<li>{}</li>", escape(step)));
    }
    body.push_str("</ol>");

    body.push_str(
        "<h2>2. Check what you prepared (optional)</h2><p class=\"help\">Nothing you enter here is stored or logged; \
         you will enter it again in StackOne's Hub.</p>",
    );
    if !v.findings.is_empty() {
        body.push_str("<div id=\"check-results\" role=\"status\"><ul>");
        for (id, finding) in v.findings {
            let label = FIELDS.iter().find(|f| f.0 == *id).map_or(*id, |f| f.1);
            let (class, word) = match finding.ok {
                Some(true) => ("ok", "OK"),
                Some(false) => ("error", "To fix"),
                None => ("help", "Not checked"),
            };
            body.push_str(&format!(
                "<li id=\"{id}-result\" class=\"{class}\"><strong>{}: {word}.</strong> {}</li>",
                escape(label),
                escape(&finding.message)
            ));
        }
        body.push_str("</ul></div>");
    }
    body.push_str(&format!("<form method=\"post\" action=\"{}\">", escape(v.action)));
    body.push_str(&format!("<input type=\"hidden\" name=\"ticket\" value=\"{}\">", escape(v.ticket)));
    for (id, label, kind, help) in FIELDS {
        body.push_str(&format!(
            "<label for=\"{id}\">{label}</label><p class=\"help\" id=\"{id}-help\">{help}</p>\
             <input id=\"{id}\" name=\"{id}\" type=\"{kind}\" value=\"\" autocomplete=\"off\" aria-describedby=\"{id}-help\">",
            label = escape(label),
            help = escape(help),
        ));
    }
    body.push_str("<button type=\"submit\">Check what I prepared</button></form>");

    body.push_str(&format!(
        "<h2>3. Connect in StackOne's Hub</h2><p>StackOne's Hub asks for the API key, the company ID, the dedicated user's e-mail and \
         password and, if two-factor authentication is on, its secret.</p>\
         <p><a id=\"hub-link\" href=\"{}\" rel=\"noopener noreferrer\">Continue to StackOne to connect Teamtailor</a></p>",
        escape(v.hub_url)
    ));
    page("Link your Teamtailor account", &body)
}

pub fn problem(title: &str, message: &str) -> String {
    page(title, &format!("<p role=\"alert\" id=\"result\">{}</p>", escape(message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_the_steps_in_order_the_check_form_and_the_hand_off_and_never_a_value() {
        let findings = [
            ("api_key", Finding { ok: Some(true), message: "Valid.".into() }),
            ("totp_secret", Finding { ok: Some(false), message: "Not base32.".into() }),
        ];
        let v = View {
            action: "https://x.example/prod/stackone/link",
            ticket: "t",
            owner_name: "Acme <AB>",
            hub_url: "https://app.stackone.com/embedded/integrations?token=a&b",
            linked: None,
            findings: &findings,
        };
        let html = render(&v);
        assert!(html.contains("action=\"https://x.example/prod/stackone/link\""), "{html}");
        assert!(
            html.contains("href=\"https://app.stackone.com/embedded/integrations?token=a&amp;b\""),
            "{html}"
        );
        assert!(html.contains("Acme &lt;AB&gt;"));
        let mut at = 0;
        for step in
            ["Admin scope and Read only", "company ID", "Recruitment Admin", "SSO", "two-factor secret"]
        {
            let found = html[at..].find(step).unwrap_or_else(|| panic!("{step} after the previous step"));
            at += found;
        }
        assert!(html.contains("id=\"totp_secret\" name=\"totp_secret\" type=\"password\" value=\"\""));
        assert!(html.contains("id=\"api_key-result\" class=\"ok\""));
        assert!(!html.contains("<script"), "no JavaScript");
    }
}
