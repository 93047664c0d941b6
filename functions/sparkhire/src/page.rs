//! The connect page: one labelled field, works without JavaScript, never shows the key back.
use hirebridge::web::escape;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}\
label{display:block;font-weight:600;margin-top:1rem}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}\
.help{color:#444;margin:.25rem 0}.error{color:#b00020;font-weight:600}button{margin-top:1.5rem;padding:.6rem 1.4rem;font-size:1rem}";

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head><body><main><h1>{t}</h1>{body}</main></body></html>",
        t = escape(title)
    )
}

pub fn form(ticket: &str, error: Option<&str>) -> String {
    let mut body = String::from(
        "<p>Connect your own Spark Hire account so that interviews you trigger from Teamtailor are sent in your name.</p>",
    );
    body.push_str("<form method=\"post\" action=\"/sparkhire/connect\">");
    body.push_str(&format!("<input type=\"hidden\" name=\"ticket\" value=\"{}\">", escape(ticket)));
    let described = if error.is_some() { "api_key-help api_key-error" } else { "api_key-help" };
    body.push_str(&format!(
        "<label for=\"api_key\">Spark Hire User API Key</label>\
         <p class=\"help\" id=\"api_key-help\">In Spark Hire, open your profile → API and copy your User API Key.</p>\
         <input id=\"api_key\" name=\"api_key\" type=\"password\" autocomplete=\"off\" required aria-describedby=\"{described}\"{}>",
        if error.is_some() { " aria-invalid=\"true\"" } else { "" }
    ));
    if let Some(error) = error {
        body.push_str(&format!(
            "<p class=\"error\" id=\"api_key-error\" role=\"alert\">{}</p>",
            escape(error)
        ));
    }
    body.push_str("<button type=\"submit\">Connect</button></form>");
    layout("Connect Spark Hire", &body)
}

pub fn connected(name: &str) -> String {
    layout(
        "Spark Hire is connected",
        &format!(
            "<p role=\"status\" id=\"result\">Connected as {}. Go back to Teamtailor and open the trigger again.</p>",
            escape(name)
        ),
    )
}

pub fn problem(message: &str) -> String {
    layout("This link cannot be used", &format!("<p role=\"alert\" id=\"result\">{}</p>", escape(message)))
}
