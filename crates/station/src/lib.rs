//! The Lifebridge station: receives every vehicle's records exactly once and sends
//! each vehicle what it needs to work offline (docs/api.md).

pub mod appointments;
pub mod audit_head;
pub mod auth;
pub mod config;
pub mod db;
pub mod desk;
pub mod devices;
pub mod events;
pub mod feed;
pub mod hub;
pub mod ingest;
pub mod leases;
pub mod manifests;
pub mod migrations;
pub mod relay;
pub mod restore;
pub mod rolls;
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
    private_dir(&config.data_dir).map_err(|e| {
        StorageError::Database(format!(
            "cannot create data folder {}: {e}",
            config.data_dir.display()
        ))
    })?;
    let path = config.data_dir.join("station.db");
    private_files(&path).map_err(|e| {
        StorageError::Database(format!(
            "cannot make {} readable by the station's user only: {e}",
            path.display()
        ))
    })?;
    let storage = tokio::task::spawn_blocking(move || storage::sqlite::SqliteStorage::open(&path))
        .await
        .map_err(|e| StorageError::Database(e.to_string()))??;
    Ok(Arc::new(storage))
}

/// Creates the data folder (and any missing parent) readable by the station's user only.
fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The database holds every donor the station knows: its file, and the write-ahead log
/// and shared-memory files beside it, are created (or narrowed to) mode 0600 before
/// SQLite opens them. SQLite gives the files it creates later the main file's mode.
fn private_files(db: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(db)?;
        for suffix in ["", "-wal", "-shm"] {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            let path = std::path::PathBuf::from(name);
            if path.exists() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = db;
    Ok(())
}
