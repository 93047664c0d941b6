//! The connect page: one labelled field, works without JavaScript, never shows the key back. The
//! layout and headers are the shared page's (`hirebridge::web`).
use hirebridge::web::{escape, page};

pub fn form(action: &str, ticket: &str, error: Option<&str>) -> String {
    let described = if error.is_some() { "api_key-help api_key-error" } else { "api_key-help" };
    let invalid = if error.is_some() { " aria-invalid=\"true\"" } else { "" };
    let error = error
        .map(|e| format!("<p class=\"error\" id=\"api_key-error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<p>Connect your own Spark Hire account so that interviews you trigger from Teamtailor are sent in your name.</p>\
         <form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\
         <label for=\"api_key\">Spark Hire User API Key</label>\
         <p class=\"help\" id=\"api_key-help\">In Spark Hire, open your profile → API and copy your User API Key.</p>\
         <input id=\"api_key\" name=\"api_key\" type=\"password\" autocomplete=\"off\" required aria-describedby=\"{described}\"{invalid}>\
         {error}<button type=\"submit\">Connect</button></form>",
        action = escape(action),
        ticket = escape(ticket),
    );
    page("Connect Spark Hire", &body)
}

pub fn connected(name: &str) -> String {
    page(
        "Spark Hire is connected",
        &format!(
            "<p role=\"status\" id=\"result\">Connected as {}. Go back to Teamtailor and open the trigger again.</p>",
            escape(name)
        ),
    )
}

pub fn problem(message: &str) -> String {
    page("This link cannot be used", &format!("<p role=\"alert\" id=\"result\">{}</p>", escape(message)))
}
