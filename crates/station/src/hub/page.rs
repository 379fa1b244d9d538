//! The hub's page (`/hub`): its tablets, what each has sent and what waits to go to the
//! station, and the upstream link, which can be switched off and on from the hub's own
//! screen (a bus that must not use mobile data, or a demo showing records cross the bus
//! before they reach the station). Plain HTML and JavaScript embedded in the binary, like
//! the desk's.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};

use super::relay::LinkStatus;
use crate::db::Storage;

const HUB_HTML: &str = include_str!("../../ui/hub.html");

/// What the page reads and switches.
#[derive(Clone)]
pub struct HubPage {
    pub storage: Arc<dyn Storage>,
    pub status: watch::Receiver<LinkStatus>,
    /// Starts a relay round (after the link is switched on).
    pub wake: Arc<Notify>,
}

pub fn router(page: HubPage) -> Router {
    Router::new()
        .route("/hub", get(|| async { Html(HUB_HTML) }))
        .route("/hub/api/status", get(status))
        .route("/hub/api/link", post(set_link))
        .with_state(page)
        .layer(DefaultBodyLimit::max(1024))
}

#[derive(Debug, Serialize)]
struct TabletView {
    device_id: uuid::Uuid,
    name: String,
    held_seq: u64,
    relayed_seq: u64,
    waiting: u64,
    registered: bool,
    last_record_at: Option<String>,
    last_error: Option<String>,
}

#[derive(Debug, Serialize)]
struct StatusView {
    station_url: String,
    name: String,
    link: LinkStatus,
    tablets: Vec<TabletView>,
}

fn failed(e: impl std::fmt::Display) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response()
}

async fn status(State(page): State<HubPage>) -> Response {
    let link = match page.storage.hub_upstream().await {
        Ok(Some(link)) => link,
        Ok(None) => return (StatusCode::NOT_FOUND, "this station is not a hub").into_response(),
        Err(e) => return failed(e),
    };
    let tablets = match page.storage.hub_tablets().await {
        Ok(t) => t,
        Err(e) => return failed(e),
    };
    let mut status = page.status.borrow().clone();
    // The database is the truth for the switch (a restart keeps it).
    status.paused = link.paused;
    Json(StatusView {
        station_url: link.url,
        name: link.name,
        link: status,
        tablets: tablets
            .into_iter()
            .filter(|t| !t.revoked)
            .map(|t| TabletView {
                waiting: t.waiting(),
                device_id: t.device_id,
                name: t.name,
                held_seq: t.held_seq,
                relayed_seq: t.relayed_seq,
                registered: t.registered,
                last_record_at: t.last_record_at,
                last_error: t.last_error,
            })
            .collect(),
    })
    .into_response()
}

#[derive(Debug, Deserialize)]
struct LinkSwitch {
    on: bool,
}

/// Switches the upstream link: only from the hub machine itself (loopback), so no
/// device on the bus's network can cut the bus off from the station.
async fn set_link(
    State(page): State<HubPage>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(switch): Json<LinkSwitch>,
) -> Response {
    if !peer.ip().is_loopback() {
        return (
            StatusCode::FORBIDDEN,
            "the upstream link can be switched only on the hub machine itself",
        )
            .into_response();
    }
    match page.storage.hub_set_paused(!switch.on).await {
        Ok(true) => {
            tracing::info!(
                on = switch.on,
                "hub: upstream link switched by the operator"
            );
            page.wake.notify_one();
            Json(serde_json::json!({ "paused": !switch.on })).into_response()
        }
        Ok(false) => (StatusCode::NOT_FOUND, "this station is not a hub").into_response(),
        Err(e) => failed(e),
    }
}
