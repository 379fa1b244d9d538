//! The desk's error answer: a code, the refusal as a catalogue message, and what it
//! concerns.

use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lifebridge_domain::handoff::HandoffError;
use lifebridge_domain::messages::Message;
use serde::Serialize;
use serde_json::json;

use crate::storage::StorageError;

/// An error answer for the desk: a code the page switches on, the refusal as a catalogue
/// message (`text`, which the page renders in its language), the same in English
/// (`message`, for logs and scripts), and what it concerns.
#[derive(Debug, Serialize)]
pub struct DeskError {
    #[serde(skip)]
    status: StatusCode,
    pub error: &'static str,
    /// Boxed: an error stays small on the happy path's stack. The answer also carries
    /// it in English as `message` (see `into_response`).
    pub text: Box<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub din: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_parts: Option<Vec<usize>>,
    /// The box a refused signing names (a box excursion without its decision).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub box_code: Option<String>,
}

impl DeskError {
    pub(super) fn new(status: StatusCode, error: &'static str, text: Message) -> DeskError {
        DeskError {
            status,
            error,
            text: Box::new(text),
            din: None,
            missing_parts: None,
            box_code: None,
        }
    }

    pub(super) fn invalid(error: &'static str, text: Message) -> DeskError {
        DeskError::new(StatusCode::UNPROCESSABLE_ENTITY, error, text)
    }
}

impl IntoResponse for DeskError {
    fn into_response(self) -> Response {
        let mut body = json!(&self);
        body["message"] = json!(self.text.to_string());
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<StorageError> for DeskError {
    fn from(e: StorageError) -> DeskError {
        tracing::error!(error = %e, "desk storage failure");
        DeskError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            Message::new("receiving.unavailable"),
        )
    }
}

impl From<JsonRejection> for DeskError {
    fn from(e: JsonRejection) -> DeskError {
        DeskError::new(
            StatusCode::BAD_REQUEST,
            "malformed_body",
            Message::new("receiving.malformed_body").with("detail", e.body_text()),
        )
    }
}

pub(super) type DeskResult<T> = Result<T, DeskError>;

pub(super) fn poisoned() -> DeskError {
    DeskError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        Message::new("receiving.internal"),
    )
}

pub(super) fn handoff_error(e: HandoffError) -> DeskError {
    let din = match &e {
        HandoffError::ReasonMissing { din, .. }
        | HandoffError::ReasonWithoutDiscrepancy { din } => Some(din.clone()),
        _ => None,
    };
    let box_code = match &e {
        HandoffError::BoxDecisionMissing { box_code, .. }
        | HandoffError::BoxDecisionWithoutExcursion { box_code } => Some(box_code.clone()),
        _ => None,
    };
    let code = match e {
        HandoffError::ReasonMissing { .. } => "reason_missing",
        HandoffError::ReasonWithoutDiscrepancy { .. } => "reason_without_discrepancy",
        HandoffError::BoxDecisionMissing { .. } => "box_decision_missing",
        HandoffError::BoxDecisionWithoutExcursion { .. } => "box_decision_without_excursion",
        HandoffError::SameSignatory { .. } => "same_signatory",
        HandoffError::NoManifest => "no_manifest",
    };
    let mut err = DeskError::invalid(code, e.message());
    err.din = din;
    err.box_code = box_code;
    err
}
