//! `GET /v1/events` (docs/api.md): server-sent events telling devices that the feed
//! advanced, so a tablet on the bus pulls a record another tablet pushed within a
//! second instead of at its next periodic sync.
//!
//! The stream carries cursors only (the last station seq), never records: what a device
//! may see is still decided by `/v1/pull`. It opens with the current head (a device that
//! reconnects learns at once what it missed), then sends each head the storage publishes
//! after a commit ([`crate::db::Storage::feed_head`]), with a keep-alive comment between.
//! The route is outside the request deadline and the turn count (`server::router`): a
//! stream is open for hours and works no database. Open streams are bounded instead.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use lifebridge_protocol::wire::{ErrorBody, ErrorCode, FEED_EVENT, FeedEvent};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::devices::DeviceRecord;
use crate::state::AppState;

/// A comment line this often on an idle stream: proxies and NAT keep the connection, and
/// a device that hears nothing for a few of these knows the link is gone.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The open event streams: a bound on their number, and the signal that ends them all
/// when the station stops (a graceful shutdown would otherwise wait for them).
pub struct Streams {
    open: Arc<Semaphore>,
    stopping: watch::Sender<bool>,
}

impl Streams {
    pub fn new(max_open: usize) -> Streams {
        Streams {
            open: Arc::new(Semaphore::new(max_open)),
            stopping: watch::Sender::new(false),
        }
    }

    /// Ends every open stream (the station is stopping).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Streams open now.
    pub fn open_count(&self, max_open: usize) -> usize {
        max_open.saturating_sub(self.open.available_permits())
    }
}

/// What one open stream holds until it ends.
struct Open {
    head: watch::Receiver<u64>,
    stopping: watch::Receiver<bool>,
    /// Returned to the bound when the stream is dropped (the device went away).
    _permit: OwnedSemaphorePermit,
    first: bool,
}

fn feed_event(cursor: u64) -> Event {
    // Serialising two integers cannot fail; an empty data line would still wake the device.
    let data = serde_json::to_string(&FeedEvent { cursor }).unwrap_or_default();
    Event::default()
        .event(FEED_EVENT)
        .id(cursor.to_string())
        .data(data)
}

/// The heads to send: the current one at once, then each new one, until the station
/// stops or its storage goes away.
fn heads(open: Open) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    stream::unfold(open, |mut open| async move {
        if *open.stopping.borrow() {
            return None;
        }
        if open.first {
            open.first = false;
            let cursor = *open.head.borrow_and_update();
            return Some((Ok(feed_event(cursor)), open));
        }
        let moved = tokio::select! {
            changed = open.head.changed() => changed.is_ok(),
            _ = open.stopping.wait_for(|stop| *stop) => false,
        };
        if !moved {
            return None;
        }
        let cursor = *open.head.borrow_and_update();
        Some((Ok(feed_event(cursor)), open))
    })
}

pub async fn events(
    State(state): State<Arc<AppState>>,
    Extension(device): Extension<DeviceRecord>,
) -> Response {
    let Ok(permit) = state.events.open.clone().try_acquire_owned() else {
        tracing::warn!(device_id = %device.device_id, "event stream refused: too many open");
        state
            .metrics
            .count("events", axum::http::StatusCode::SERVICE_UNAVAILABLE);
        return crate::server::ApiError(ErrorBody::new(
            ErrorCode::Unavailable,
            format!(
                "this station already serves {} open event streams (max_event_streams); \
                 the device syncs at its interval and tries again later",
                state.config.max_event_streams
            ),
        ))
        .into_response();
    };
    state.metrics.count("events", axum::http::StatusCode::OK);
    let open = Open {
        head: state.storage.feed_head(),
        stopping: state.events.stopping.subscribe(),
        _permit: permit,
        first: true,
    };
    Sse::new(heads(open))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}
