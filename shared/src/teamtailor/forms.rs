//! Builders for the forms Teamtailor renders: the activation form (`/activation`) and the trigger
//! form (`/config`), both `{"config":{"fields":[…]}}` (docs/contracts.md).
use http::StatusCode;
use serde_json::{json, Map, Value};

use crate::web::{self, Response};

#[derive(Debug, Default, Clone)]
pub struct Form {
    fields: Vec<Value>,
    validate_endpoint: Option<String>,
}

/// One field; add attributes with [`Field::required`], [`Field::description`], [`Field::set`].
#[derive(Debug, Clone)]
pub struct Field(Map<String, Value>);

impl Field {
    fn new(kind: &str, id: &str, label: &str) -> Self {
        let mut m = Map::new();
        m.insert("id".into(), json!(id));
        m.insert("type".into(), json!(kind));
        m.insert("label".into(), json!(label));
        Field(m)
    }
    /// A field of any type Teamtailor renders (`date`, `datetime-local`, `hidden`, …).
    pub fn new_typed(kind: &str, id: &str, label: &str) -> Self {
        Self::new(kind, id, label)
    }
    pub fn text(id: &str, label: &str) -> Self {
        Self::new("text", id, label)
    }
    pub fn password(id: &str, label: &str) -> Self {
        Self::new("password", id, label)
    }
    pub fn email(id: &str, label: &str) -> Self {
        Self::new("email", id, label)
    }
    pub fn checkbox(id: &str, label: &str) -> Self {
        Self::new("checkbox", id, label)
    }
    /// A select of `(id, label)` options.
    pub fn select(id: &str, label: &str, options: &[(String, String)]) -> Self {
        Self::new("select", id, label).set("options", options_json(options))
    }
    pub fn multiselect(id: &str, label: &str, options: &[(String, String)]) -> Self {
        Self::new("multiselect", id, label).set("options", options_json(options))
    }
    pub fn required(self) -> Self {
        self.set("required", json!(true))
    }
    pub fn description(self, text: &str) -> Self {
        self.set("description", json!(text))
    }
    pub fn set(mut self, key: &str, value: Value) -> Self {
        self.0.insert(key.into(), value);
        self
    }
}

fn options_json(options: &[(String, String)]) -> Value {
    Value::Array(options.iter().map(|(id, label)| json!({"id": id, "label": label})).collect())
}

impl Form {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn field(mut self, field: Field) -> Self {
        self.fields.push(Value::Object(field.0));
        self
    }

    /// An information box; `html` is shown as HTML, so escape anything that came from outside.
    pub fn infobox(mut self, html: &str, icon: &str) -> Self {
        self.fields.push(json!({"type": "infobox", "content": html, "icon": icon}));
        self
    }

    /// A red alert that blocks saving the form.
    pub fn error(mut self, message: &str) -> Self {
        self.fields.push(json!({"id": "_error", "type": "error", "message": message, "required": "true"}));
        self
    }

    /// Teamtailor calls `GET {base}/{path}` to validate what was entered (activation forms).
    pub fn validate_endpoint(mut self, path: &str) -> Self {
        self.validate_endpoint = Some(path.to_owned());
        self
    }

    pub fn to_json(&self) -> Value {
        let mut out = json!({"config": {"fields": self.fields}});
        if let Some(path) = &self.validate_endpoint {
            out["validateEndpoint"] = json!(path);
        }
        out
    }

    pub fn into_response(self) -> Response {
        web::json(StatusCode::OK, &self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_render_as_teamtailor_expects() {
        let form = Form::new()
            .infobox("<b>hi</b>", "info")
            .field(Field::password("secret_token", "Secret Token").required())
            .validate_endpoint("validate");
        let v = form.to_json();
        assert_eq!(v["config"]["fields"][1]["type"], "password");
        assert_eq!(v["config"]["fields"][1]["required"], true);
        assert_eq!(v["validateEndpoint"], "validate");
    }
}
