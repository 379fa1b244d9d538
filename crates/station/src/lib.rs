//! The Lifebridge station: receives every vehicle's records exactly once and sends
//! each vehicle what it needs to work offline (docs/api.md).

pub mod appointments;
pub mod auth;
pub mod config;
pub mod db;
pub mod desk;
pub mod desk_ui;
pub mod devices;
pub mod feed;
pub mod handoff;
pub mod ingest;
pub mod leases;
pub mod manifests;
pub mod migrations;
pub mod server;
pub mod staff;
pub mod state;
pub mod statistics;
pub mod storage;
pub mod tls;
pub mod validate;

use std::sync::Arc;

use crate::config::Config;
use crate::db::Storage;
use crate::storage::StorageError;

/// Opens the storage the configuration names: PostgreSQL for a `database_url`, else
/// the SQLite file `station.db` in the data folder (created if needed).
pub async fn open_storage(config: &Config) -> Result<Arc<dyn Storage>, StorageError> {
    if let Some(url) = &config.database_url {
        let storage = storage::postgres::PostgresStorage::connect(url).await?;
        return Ok(Arc::new(storage));
    }
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        StorageError::Database(format!(
            "cannot create data folder {}: {e}",
            config.data_dir.display()
        ))
    })?;
    let path = config.data_dir.join("station.db");
    let storage = tokio::task::spawn_blocking(move || storage::sqlite::SqliteStorage::open(&path))
        .await
        .map_err(|e| StorageError::Database(e.to_string()))??;
    Ok(Arc::new(storage))
}
