//! The receiving desk (docs/api.md, "Receiving desk"): station staff sign in with a PIN,
//! load the driver's manifest (replicated, or from its QR), scan every bag, and both
//! parties sign the hand-off, which goes back to the vehicle on its next pull.
//!
//! The desk page (`desk_ui`) only displays: what counts as missing, extra, wrong box,
//! excursion (one decision per box), over time or missing tubes, and each unit's status,
//! comes from `lifebridge_domain::handoff::reconcile` here.

mod error;
mod manifests;
mod receipt;
mod scans;
mod session;
mod signing;

pub use error::*;
pub use manifests::*;
pub use receipt::*;
use scans::*;
pub use session::*;
use signing::*;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use lifebridge_domain::rules::RuleSet;
use serde::Deserialize;

use crate::state::AppState;

struct Desk {
    app: Arc<AppState>,
    desk: DeskState,
}

impl Desk {
    /// The rules table the station last published to its vehicles (its time limits and
    /// ranges are the station's), or the embedded GB 18467-2011 table before any was.
    async fn rules(&self) -> DeskResult<RuleSet> {
        Ok(match self.app.storage.latest_reference("rules").await? {
            Some(body) => RuleSet::from_json(&body).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "published rules table unreadable; using the embedded one");
                RuleSet::gb18467_2011()
            }),
            None => RuleSet::gb18467_2011(),
        })
    }
}

/// The desk's routes: the pages and `/desk/api/*`.
pub fn router(app: Arc<AppState>) -> Router {
    let desk = Arc::new(Desk {
        app,
        desk: DeskState::default(),
    });
    Router::new()
        .route("/", get(|| async { axum::response::Redirect::to("/desk") }))
        .route("/desk", get(crate::desk_ui::desk_page))
        .route("/stats", get(crate::desk_ui::stats_page))
        .route("/desk/assets/{file}", get(crate::desk_ui::asset))
        .route("/desk/api/sign-in", post(sign_in))
        .route("/desk/api/manifests", get(manifests))
        .route("/desk/api/manifests/qr", post(load_qr))
        .route("/desk/api/receipts", post(open_receipt))
        .route("/desk/api/receipts/{id}", get(receipt))
        .route("/desk/api/receipts/{id}/scans", post(scan))
        .route("/desk/api/receipts/{id}/manual", post(manual_entry))
        .route("/desk/api/receipts/{id}/sign", post(sign))
        .route("/desk/api/statistics", get(statistics))
        .with_state(desk)
}

#[derive(Deserialize)]
struct StatisticsQuery {
    date: Option<chrono::NaiveDate>,
}

async fn statistics(
    State(desk): State<Arc<Desk>>,
    Query(q): Query<StatisticsQuery>,
) -> DeskResult<Response> {
    let date = q
        .date
        .unwrap_or_else(|| lifebridge_domain::china_date(Utc::now()));
    let sources = desk.app.storage.statistics_sources().await?;
    let figures = crate::statistics::compute(&sources, date);
    Ok(axum::Json(figures).into_response())
}
