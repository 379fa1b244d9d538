//! Starts the replicator from the sync crate in the background once the store is open,
//! and forwards its status to the window as `sync-status` events. Nothing the crew does
//! waits on it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lifebridge_store::Store;
use lifebridge_sync::client::{StationClient, Trust};
use lifebridge_sync::replicator::{Phase, Replicator, ReplicatorConfig, SyncStatus};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager};

use crate::state::{AppState, SyncHandle, lock};

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SyncView {
    /// False until this device is enrolled with a station.
    pub configured: bool,
    pub syncing: bool,
    pub pending: u64,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub clock_skew_seconds: Option<i64>,
    /// Why the station refused one of this device's records (a catalogue message), shown
    /// to the crew until a sync succeeds; the records after it wait on the device.
    pub refusal: Option<lifebridge_domain::messages::Message>,
    /// "hub/station unreachable since HH:MM" (China time, where the drives work) while
    /// nothing answers; the crew's work goes on, stored on the tablet.
    pub unreachable: Option<lifebridge_domain::messages::Message>,
}

/// The sync bar's notice for a station (or bus hub) unreachable since `since`.
pub fn unreachable_since(since: DateTime<Utc>) -> lifebridge_domain::messages::Message {
    lifebridge_domain::messages::Message::new("sync.unreachable_since").with(
        "since",
        lifebridge_domain::china_local(since)
            .format("%H:%M")
            .to_string(),
    )
}

impl SyncView {
    pub fn from_status(status: &SyncStatus) -> SyncView {
        SyncView {
            configured: true,
            syncing: matches!(status.phase, Phase::Pushing | Phase::Pulling),
            pending: status.pending,
            last_success: status.last_success,
            last_error: status.last_error.clone(),
            clock_skew_seconds: status.clock_warning.as_ref().map(|w| w.skew_ms / 1000),
            refusal: status.refused.as_ref().map(|r| r.reason.clone()),
            unreachable: status.unreachable_since.map(unreachable_since),
        }
    }

    pub fn unconfigured(pending: u64) -> SyncView {
        SyncView {
            configured: false,
            syncing: false,
            pending,
            last_success: None,
            last_error: None,
            clock_skew_seconds: None,
            refusal: None,
            unreachable: None,
        }
    }
}

fn client_for(url: &str) -> Result<StationClient, String> {
    let trust = match std::env::var("LIFEBRIDGE_STATION_CERT") {
        Ok(path) => Trust::PinnedPem(
            std::fs::read_to_string(&path)
                .map_err(|e| format!("station certificate {path}: {e}"))?,
        ),
        Err(_) => Trust::LoopbackHttp,
    };
    StationClient::new(url, trust, Duration::from_secs(20)).map_err(|e| e.to_string())
}

/// Enrolls with `LIFEBRIDGE_STATION_URL` using `LIFEBRIDGE_ENROLL_CODE` when this device
/// has no credential yet (what `make run` does with its embedded station).
pub async fn enroll_from_env(store: &Arc<Mutex<Store>>, device_name: &str) -> Result<(), String> {
    let (Ok(url), Ok(code)) = (
        std::env::var("LIFEBRIDGE_STATION_URL"),
        std::env::var("LIFEBRIDGE_ENROLL_CODE"),
    ) else {
        return Ok(());
    };
    let configured = lock(store)
        .sync_value(lifebridge_sync::STATION_KEY)
        .map_err(|e| e.to_string())?
        .is_some();
    if configured {
        return Ok(());
    }
    let client = client_for(&url)?;
    lifebridge_sync::replicator::enroll(store, &client, &code, device_name)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Starts the replicator if the device is enrolled. Safe to call more than once.
pub fn start(app: &AppHandle, store: Arc<Mutex<Store>>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        if lock(&state.sync).is_some() {
            return;
        }
        if let Err(e) = enroll_from_env(&store, &state.device_name).await {
            eprintln!("lifebridge-app: enrollment failed: {e}");
        }
        let config = lifebridge_sync::replicator::enrolled_station(&lock(&store))
            .ok()
            .flatten();
        let Some(config) = config else {
            return;
        };
        let client = match client_for(&config.url) {
            Ok(c) => c.with_token(config.token),
            Err(e) => {
                eprintln!("lifebridge-app: cannot reach the station: {e}");
                return;
            }
        };
        let interval = std::env::var("LIFEBRIDGE_SYNC_INTERVAL_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map_or(Duration::from_secs(60), Duration::from_secs);
        let (replicator, mut status) = Replicator::new(
            store,
            client,
            ReplicatorConfig {
                interval,
                backoff_max: interval.max(Duration::from_secs(5)) * 5,
                ..ReplicatorConfig::default()
            },
        );
        *lock(&state.sync) = Some(SyncHandle {
            status: status.clone(),
            wake: replicator.waker(),
        });
        let (_shutdown_tx, shutdown) = tokio::sync::watch::channel(false);
        tauri::async_runtime::spawn(async move {
            // Keep the sender alive as long as the replicator runs.
            let _keep = _shutdown_tx;
            replicator.run(shutdown).await;
        });
        while status.changed().await.is_ok() {
            let view = SyncView::from_status(&status.borrow_and_update());
            if let Err(e) = app.emit("sync-status", &view) {
                eprintln!("lifebridge-app: cannot send sync status to the window: {e}");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use lifebridge_domain::messages::{Lang, render};

    #[test]
    fn the_sync_bar_says_since_when_the_station_is_unreachable_in_china_time() {
        let mut status = SyncStatus::default();
        assert_eq!(SyncView::from_status(&status).unreachable, None);
        status.unreachable_since = Some("2026-12-02T01:05:30Z".parse().unwrap());
        let notice = SyncView::from_status(&status).unreachable.unwrap();
        assert_eq!(
            render(&notice, Lang::En),
            "hub/station unreachable since 09:05: records are kept on this tablet and sync once it answers again"
        );
    }
}
