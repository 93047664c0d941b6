//! One error type for every handler. It carries what a person needs to fix the problem; how it is
//! shown (problem+json, plain text for Teamtailor, an `error` field in a form) is decided in one
//! place, [`AppError::into_response`], by the route's [`Style`].
use http::StatusCode;
use serde_json::json;

use crate::web::{self, Response};

#[derive(Debug, Clone, thiserror::Error)]
#[error("{status}: {detail}")]
pub struct AppError {
    pub status: StatusCode,
    /// Shown to people; never holds a secret or a personnummer.
    pub detail: String,
}

/// How a route answers with an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// JSON routes: `application/problem+json` (RFC 9457).
    Problem,
    /// Teamtailor webhooks: the plain-text body is shown on the candidate's card.
    PlainText,
    /// Teamtailor `/config` and `/activation`: `200` with an `error` field that blocks saving.
    Form,
    /// Teamtailor validate endpoints: `{"errors": ["..."]}`.
    Errors,
    /// Server-rendered pages.
    Html,
}

impl AppError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        AppError { status, detail: detail.into() }
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, detail)
    }
    /// An outside service failed; `detail` says which and what the person can do.
    pub fn upstream(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, detail)
    }
    /// Our own fault. The cause is logged here; the answer says only that it happened.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "hirebridge hit an internal error. Try again in a minute; if it happens again, tell your hirebridge admin.",
        )
    }

    fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("Error")
    }

    pub fn into_response(self, style: Style) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = self.status.as_u16(), detail = %self.detail, "request failed");
        } else {
            tracing::info!(status = self.status.as_u16(), detail = %self.detail, "request refused");
        }
        match style {
            Style::Problem => web::json_with_type(
                self.status,
                "application/problem+json",
                &json!({
                    "type": "about:blank",
                    "title": self.title(),
                    "status": self.status.as_u16(),
                    "detail": self.detail,
                }),
            ),
            Style::PlainText => web::text(self.status, &self.detail),
            Style::Form => web::json(
                StatusCode::OK,
                &json!({"config": {"fields": [
                    {"id": "_error", "type": "error", "message": self.detail, "required": "true"}
                ]}}),
            ),
            Style::Errors => web::json(self.status, &json!({ "errors": [self.detail] })),
            Style::Html => web::html(self.status, &web::page(self.title(), &web::escape(&self.detail))),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &Response) -> String {
        String::from_utf8(r.body().to_vec()).unwrap()
    }

    #[test]
    fn each_style_answers_as_its_caller_expects() {
        let e = AppError::unprocessable("add an e-mail address to the candidate");
        let p = e.clone().into_response(Style::Problem);
        assert_eq!(p.status(), 422);
        assert_eq!(p.headers()["content-type"], "application/problem+json");
        let v: serde_json::Value = serde_json::from_str(&body(&p)).unwrap();
        assert_eq!(v["detail"], "add an e-mail address to the candidate");

        let t = e.clone().into_response(Style::PlainText);
        assert_eq!(t.status(), 422);
        assert!(t.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        assert_eq!(body(&t), "add an e-mail address to the candidate");

        let f = e.clone().into_response(Style::Form);
        assert_eq!(f.status(), 200);
        let v: serde_json::Value = serde_json::from_str(&body(&f)).unwrap();
        assert_eq!(v["config"]["fields"][0]["type"], "error");

        let v: serde_json::Value = serde_json::from_str(&body(&e.into_response(Style::Errors))).unwrap();
        assert_eq!(v["errors"][0], "add an e-mail address to the candidate");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let r = AppError::internal("dynamodb said: table xyz missing").into_response(Style::Problem);
        assert_eq!(r.status(), 500);
        assert!(!body(&r).contains("dynamodb"));
    }
}
