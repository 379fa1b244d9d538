//! The statistics page's figures, behind a desk session.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;

use super::{Desk, DeskResult, session};

#[derive(Deserialize)]
pub(super) struct StatisticsQuery {
    date: Option<chrono::NaiveDate>,
}

/// The figures need a desk session: they are the station's collection counts by site,
/// which nobody on the network without a staff PIN needs.
pub(super) async fn statistics(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    Query(q): Query<StatisticsQuery>,
) -> DeskResult<Response> {
    session(&desk, &headers)?;
    let date = q
        .date
        .unwrap_or_else(|| lifebridge_domain::china_date(Utc::now()));
    // The tally kept at each push: one period's rows, no body parsed.
    let figures = desk.app.storage.statistics(date).await?;
    Ok(axum::Json(figures).into_response())
}
