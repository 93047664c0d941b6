//! The Link Account page: server-rendered HTML with labelled fields, described errors, and no
//! JavaScript. Secrets are never written back into the page.
use std::collections::BTreeMap;

use hirebridge::web::escape;

pub const FIELDS: [(&str, &str, &str, &str); 5] = [
    ("api_key", "Teamtailor API key", "password", "An API key with Admin scope and Read access (Teamtailor → Settings → Integrations → API keys)."),
    ("company_id", "Company ID", "text", "The ID in your Teamtailor address: https://app.teamtailor.com/companies/<ID>/…"),
    ("email", "E-mail of the dedicated user", "email", "A user kept for this link, with the role Recruitment Admin."),
    ("password", "Password of the dedicated user", "password", "If your company signs in with SSO, exclude this user from SSO and give it a password."),
    ("totp_secret", "Two-factor secret (optional)", "text", "Only if two-factor authentication is on: the authenticator key (base32) or the otpauth:// link behind the QR code."),
];

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}\
label{display:block;font-weight:600;margin-top:1rem}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}\
.help{color:#444;margin:.25rem 0}.error{color:#b00020;font-weight:600;margin:.25rem 0}\
button{margin-top:1.5rem;padding:.6rem 1.4rem;font-size:1rem}.summary{border:2px solid #b00020;padding:.5rem 1rem}";

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head><body><main><h1>{t}</h1>{body}</main></body></html>",
        t = escape(title)
    )
}

/// The form. `values` refills the non-secret fields after an error; `errors` holds one message per field.
pub fn form(
    ticket: &str,
    owner_name: &str,
    values: &BTreeMap<String, String>,
    errors: &BTreeMap<&str, String>,
) -> String {
    let mut body = String::new();
    body.push_str(&format!(
        "<p>Link the Teamtailor account of <strong>{}</strong> to StackOne. Use a dedicated Recruitment Admin user for this, not a person's own login.</p>",
        escape(owner_name)
    ));
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
    body.push_str("<form method=\"post\" action=\"/stackone/link\">");
    body.push_str(&format!("<input type=\"hidden\" name=\"ticket\" value=\"{}\">", escape(ticket)));
    for (id, label, kind, help) in FIELDS {
        let error = errors.get(id);
        let value = match kind {
            "password" => String::new(),
            _ if id == "totp_secret" => String::new(),
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
    layout("Link your Teamtailor account", &body)
}

pub fn connected(owner_name: &str, account_id: &str, status: &str) -> String {
    layout(
        "Teamtailor is linked",
        &format!(
            "<p role=\"status\" id=\"result\">Connected: the Teamtailor account of <strong>{}</strong> is linked to StackOne (account {}, status <strong>{}</strong>). You can close this page.</p>",
            escape(owner_name),
            escape(account_id),
            escape(status)
        ),
    )
}

pub fn problem(title: &str, message: &str) -> String {
    layout(title, &format!("<p role=\"alert\" id=\"result\">{}</p>", escape(message)))
}
