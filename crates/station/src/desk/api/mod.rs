//! The desk's HTTP API (`/desk/api/*`, docs/api.md "Receiving desk") and its pages
//! routes. Each route lives with its concern: sign-in, manifests, one receipt's view,
//! scans (and the typed exception path), signing the hand-off, statistics. The page
//! (`desk::pages`) only displays: what counts as missing, extra, wrong box, excursion,
//! over time or missing tubes, and each unit's status, comes from
//! `lifebridge_domain::handoff::reconcile` here.

mod manifests;
mod receipt;
mod scans;
mod sign;
mod sign_in;
mod statistics;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use lifebridge_domain::cold_chain::Signatory;
use lifebridge_domain::handoff::HandoffError;
use lifebridge_domain::messages::Message;
use lifebridge_domain::rules::RuleSet;
use serde::Serialize;
use serde_json::json;

use crate::desk::auth::DeskAuth;
use crate::state::AppState;
use crate::storage::StorageError;

/// PIN checks that may run at once: each argon2 verify holds 64 MiB
/// (`lifebridge_domain::pin`), so 4 bound the desk's PIN memory to 256 MiB whatever
/// arrives; a signing desk needs two checks (receiver and driver).
const PIN_CHECKS_AT_ONCE: usize = 4;

struct Desk {
    app: Arc<AppState>,
    auth: DeskAuth,
    pin_checks: tokio::sync::Semaphore,
}

impl Desk {
    /// The rules table the station last published to its vehicles (its time limits and
    /// ranges are the station's), or the embedded GB 18467-2011 table before any was.
    async fn rules(&self) -> DeskResult<RuleSet> {
        Ok(crate::feed::rules_in_force(
            self.app.storage.latest_reference("rules").await?,
        ))
    }
}

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
    fn new(status: StatusCode, error: &'static str, text: Message) -> DeskError {
        DeskError {
            status,
            error,
            text: Box::new(text),
            din: None,
            missing_parts: None,
            box_code: None,
        }
    }

    fn invalid(error: &'static str, text: Message) -> DeskError {
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

type DeskResult<T> = Result<T, DeskError>;

/// The desk's routes: the pages and `/desk/api/*`.
pub fn router(app: Arc<AppState>) -> Router {
    let desk = Arc::new(Desk {
        app,
        auth: DeskAuth::default(),
        pin_checks: tokio::sync::Semaphore::new(PIN_CHECKS_AT_ONCE),
    });
    Router::new()
        .route("/", get(|| async { axum::response::Redirect::to("/desk") }))
        .route("/desk", get(super::pages::desk_page))
        .route("/stats", get(super::pages::stats_page))
        .route(
            "/prefill",
            get(|State(desk): State<Arc<Desk>>| super::prefill::page(desk.app.clone())),
        )
        .route("/desk/assets/{file}", get(super::pages::asset))
        .route("/desk/api/sign-in", post(sign_in::sign_in))
        .route("/desk/api/manifests", get(manifests::manifests))
        .route("/desk/api/manifests/qr", post(manifests::load_qr))
        .route("/desk/api/receipts", post(manifests::open_receipt))
        .route("/desk/api/receipts/{id}", get(receipt::receipt))
        .route("/desk/api/receipts/{id}/scans", post(scans::scan))
        .route("/desk/api/receipts/{id}/manual", post(scans::manual_entry))
        .route("/desk/api/receipts/{id}/sign", post(sign::sign))
        .route("/desk/api/statistics", get(statistics::statistics))
        .with_state(desk)
}

fn session(desk: &Desk, headers: &HeaderMap) -> DeskResult<Signatory> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    desk.auth.session(token, Utc::now()).ok_or_else(|| {
        DeskError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            Message::new("receiving.unauthorized"),
        )
    })
}

fn poisoned() -> DeskError {
    DeskError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        Message::new("receiving.internal"),
    )
}

fn handoff_error(e: HandoffError) -> DeskError {
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
