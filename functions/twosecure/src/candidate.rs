//! What a trigger asks of 2Secure, read from Teamtailor's webhook and checked: the candidate's
//! Personnummer, name and e-mail, and the trigger form's level, billing reference, orderer, files
//! and auto-move. Anything missing or invalid is one `422` that says exactly what to fix.
use hirebridge::error::AppResult;
use hirebridge::teamtailor::webhook::Candidate;
use hirebridge::web::{present, valid_email};
use hirebridge::AppError;
use serde_json::{Map, Value};

use crate::files::FileRef;
use crate::personnummer::{Date, Personnummer};

/// The custom-field api-names that may hold the personnummer.
const PERSONNUMMER_FIELDS: [&str; 3] = ["personnummer", "personal-number", "social-security-number"];

/// A checked order request. The personnummer exists only here, in memory.
pub struct OrderInput {
    pub personnummer: Personnummer,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub level: String,
    pub billing_reference: String,
    pub orderer_email: String,
    pub files: Vec<FileRef>,
    pub auto_move: bool,
}

fn data_value<'a>(data: &'a Map<String, Value>, id: &str) -> Option<&'a Value> {
    data.get(id).or_else(|| data.get(&id.replace('_', "-")))
}

fn data_str(data: &Map<String, Value>, id: &str) -> Option<String> {
    match data_value(data, id)? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.to_ascii_lowercase().as_str(), "true" | "1" | "on" | "yes"),
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

fn personnummer(candidate: &Candidate, today: Date, problems: &mut Vec<String>) -> Option<Personnummer> {
    let raw =
        PERSONNUMMER_FIELDS.iter().find_map(|f| candidate.custom_fields.get(f)).map(|f| match &f.value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        });
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            problems.push(
                "The candidate has no Personnummer: fill in the custom field Personnummer (YYYYMMDD-NNNN)."
                    .into(),
            );
            None
        }
        Some(raw) => Personnummer::parse(raw, today)
            .map_err(|e| {
                problems.push(format!(
                    "The candidate's Personnummer is not valid: {e}. Correct the custom field Personnummer."
                ))
            })
            .ok(),
    }
}

/// The files the trigger form asks for (`attachments`: `resume`, `uploads`).
fn files(candidate: &Candidate, data: &Map<String, Value>) -> Vec<FileRef> {
    let wanted: Vec<String> = match data_value(data, "attachments") {
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(Value::String(s)) => s.split(',').map(|p| p.trim().to_owned()).collect(),
        _ => vec![],
    };
    let mut files = Vec::new();
    if wanted.iter().any(|w| w == "resume") {
        if let Some(resume) = &candidate.resume {
            let name = resume.file_name.clone().unwrap_or_else(|| "resume.pdf".into());
            files.push(FileRef { name, url: resume.url.clone() });
        }
    }
    if wanted.iter().any(|w| w == "uploads") {
        for (i, upload) in candidate.uploads.iter().enumerate() {
            let name = upload.file_name.clone().unwrap_or_else(|| format!("upload-{}", i + 1));
            files.push(FileRef { name, url: upload.url.clone() });
        }
    }
    files
}

impl OrderInput {
    pub fn from_webhook(candidate: &Candidate, data: &Map<String, Value>, today: Date) -> AppResult<Self> {
        let mut problems: Vec<String> = Vec::new();
        let personnummer = personnummer(candidate, today, &mut problems);
        let (first_name, last_name) = (present(&candidate.first_name), present(&candidate.last_name));
        if first_name.is_none() || last_name.is_none() {
            problems.push("The candidate needs a first and last name.".into());
        }
        let email = present(&candidate.email);
        match &email {
            None => problems.push("The candidate needs an e-mail address.".into()),
            Some(e) if !valid_email(e) => {
                problems.push("The candidate's e-mail address is not valid.".into())
            }
            Some(_) => {}
        }
        let level = data_str(data, "level");
        let billing_reference = data_str(data, "billing_reference");
        let orderer_email = data_str(data, "orderer_email");
        if level.is_none() {
            problems.push("The trigger has no level of check: edit the trigger and choose one.".into());
        }
        if billing_reference.is_none() {
            problems.push("The trigger has no billing reference: edit the trigger and fill it in.".into());
        }
        if !orderer_email.as_deref().is_some_and(valid_email) {
            problems.push(
                "The trigger's orderer e-mail is missing or not valid: edit the trigger and correct it."
                    .into(),
            );
        }
        match (personnummer, problems.is_empty()) {
            (Some(personnummer), true) => Ok(OrderInput {
                personnummer,
                first_name: first_name.unwrap_or_default(),
                last_name: last_name.unwrap_or_default(),
                email: email.unwrap_or_default(),
                phone: present(&candidate.phone),
                level: level.unwrap_or_default(),
                billing_reference: billing_reference.unwrap_or_default(),
                orderer_email: orderer_email.unwrap_or_default(),
                files: files(candidate, data),
                auto_move: truthy(data_value(data, "auto_move")),
            }),
            _ => Err(AppError::unprocessable(format!(
                "No background check was ordered. {} Then move the candidate again.",
                problems.join(" ")
            ))),
        }
    }
}
