//! The device's local store: an encrypted SQLite file that never loses an
//! acknowledged record.
//!
//! Every user action is one `BEGIN IMMEDIATE` transaction that writes the domain rows,
//! one change-log entry per row (what replication sends) and one audit entry
//! (hash-chained). When [`Store`]'s action methods return `Ok`, the transaction has
//! committed with `synchronous=FULL`, so the record survives a power cut.

mod action;
pub mod appointments;
pub mod audit;
pub mod check;
pub mod cold_chain;
pub mod demo;
pub mod drive_day;
mod error;
pub mod export;
pub mod file_export;
pub mod handoff;
pub mod labels;
mod migrate;
pub mod prefill;
pub mod queries;
pub mod records;
pub mod replication;
pub mod screening;
pub mod screens;
pub mod session;
mod tables;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use lifebridge_domain::hlc::{Hlc, HlcClock};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use uuid::Uuid;

pub use action::Actor;
pub use error::StoreError;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The passphrase SQLCipher derives the database key from. Kept out of `Debug` output.
#[derive(Clone)]
pub struct StoreKey(String);

impl StoreKey {
    pub fn new(passphrase: impl Into<String>) -> Result<StoreKey> {
        let passphrase = passphrase.into();
        if passphrase.trim().len() < 8 {
            return Err(StoreError::invalid(
                "key",
                "the store key must be at least 8 characters",
            ));
        }
        Ok(StoreKey(passphrase))
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    device_id: Uuid,
    clock: HlcClock,
}

impl Store {
    /// Creates a new store for a device named `device_name`. Refuses to touch an
    /// existing file.
    ///
    /// The store is built beside `path` and renamed into place only once its schema and
    /// identity are written, so a crash or a full disk during the first start leaves no
    /// half-made store that would refuse to open at the next one.
    pub fn create(path: &Path, key: &StoreKey, device_name: &str) -> Result<Store> {
        if path.exists() {
            return Err(StoreError::AlreadyExists(path.to_owned()));
        }
        let name = device_name.trim();
        if name.is_empty() {
            return Err(StoreError::invalid("device_name", "must not be empty"));
        }
        let building = building_path(path);
        remove_database_files(&building)?;
        let made = (|| -> Result<()> {
            let mut conn = connect(&building, key, OpenFlags::SQLITE_OPEN_CREATE)?;
            migrate::apply(&mut conn)?;
            let device_id = Uuid::now_v7();
            let clock = HlcClock::new(device_id);
            conn.execute(
                "INSERT INTO device (singleton, device_id, name, created_at, last_hlc)
                 VALUES (1, ?1, ?2, ?3, ?4)",
                (
                    device_id.to_string(),
                    name,
                    now().to_rfc3339(),
                    clock.last().to_string(),
                ),
            )?;
            // Everything into the main file, so the rename moves the whole store.
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            conn.close().map_err(|(_, e)| StoreError::from(e))?;
            Ok(())
        })();
        if let Err(e) = made {
            let _ = remove_database_files(&building);
            return Err(e);
        }
        remove_database_files_except_main(&building)?;
        if path.exists() {
            let _ = remove_database_files(&building);
            return Err(StoreError::AlreadyExists(path.to_owned()));
        }
        std::fs::rename(&building, path).map_err(|e| io_error(path, e))?;
        sync_parent_dir(path)?;
        Store::open(path, key)
    }

    /// Opens an existing store, applying any migrations this build ships that it lacks.
    pub fn open(path: &Path, key: &StoreKey) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::NotFound(path.to_owned()));
        }
        let mut conn = connect(path, key, OpenFlags::empty())?;
        migrate::apply(&mut conn)?;
        let row: Option<(String, String)> = conn
            .query_row(
                "SELECT device_id, last_hlc FROM device WHERE singleton = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (device_id, last_hlc) =
            row.ok_or_else(|| StoreError::Corrupt("the device identity row is missing".into()))?;
        // From here on, only an action (or a pulled page) writes; see `allow_writes`.
        allow_writes(&conn, false)?;
        let device_id = Uuid::parse_str(&device_id)
            .map_err(|e| StoreError::Corrupt(format!("device id {device_id:?}: {e}")))?;
        let last: Hlc = last_hlc
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("device clock: {e}")))?;
        Ok(Store {
            conn,
            path: path.to_owned(),
            device_id,
            clock: HlcClock::resume(last),
        })
    }

    /// Checks that `key` opens the store at `path`, on a connection of its own that is
    /// closed again: for unlocking an app whose store is already open (the replicator
    /// keeps it open while the screen is locked), so the passphrase is still checked.
    pub fn check_key(path: &Path, key: &StoreKey) -> Result<()> {
        if !path.exists() {
            return Err(StoreError::NotFound(path.to_owned()));
        }
        let conn = connect(path, key, OpenFlags::empty())?;
        conn.close().map_err(|(_, e)| StoreError::from(e))
    }

    /// Opens the store at `path`, creating it first if there is none.
    pub fn open_or_create(path: &Path, key: &StoreKey, device_name: &str) -> Result<Store> {
        if path.exists() {
            Store::open(path, key)
        } else {
            Store::create(path, key, device_name)
        }
    }

    pub fn device_id(&self) -> Uuid {
        self.device_id
    }

    /// The name this device was created with (what the station knows it as).
    pub fn device_name(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("SELECT name FROM device WHERE singleton = 1", [], |r| {
                r.get(0)
            })?)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read-only access for queries and checks: a write through it fails
    /// (`attempt to write a readonly database`), because writes go through actions only.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Runs `write` with writes allowed on the store's connection, bypassing actions:
    /// no change-log entry, no audit entry, no clock. Only for tests that forge or
    /// corrupt rows on purpose (to see `store check` or a refusal catch it) and for
    /// benchmarks that bulk-load synthetic rows; nothing a device runs calls it.
    #[doc(hidden)]
    pub fn raw_write_for_tests<T, E: From<rusqlite::Error>>(
        &self,
        write: impl FnOnce(&Connection) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        with_writes(&self.conn, write)
    }

    /// A device setting written outside any action (cursors, credential, station
    /// address): not a record, so neither logged nor audited.
    pub(crate) fn write_setting(&mut self, key: &str, value: &serde_json::Value) -> Result<()> {
        with_writes(&self.conn, |conn| tables::sync_state::set(conn, key, value))
    }
}

/// Runs `write` with writes allowed, and closes the connection for writes again
/// whether it succeeded or not.
fn with_writes<T, E: From<rusqlite::Error>>(
    conn: &Connection,
    write: impl FnOnce(&Connection) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    set_query_only(conn, false)?;
    let done = write(conn);
    let locked = set_query_only(conn, true);
    let value = done?;
    locked?;
    Ok(value)
}

/// Opens or closes the connection for writes. Outside [`Store::act`] (and the few
/// settings) it stays closed, so [`Store::connection`] is a read-only handle.
pub(crate) fn allow_writes(conn: &Connection, allow: bool) -> Result<()> {
    Ok(set_query_only(conn, !allow)?)
}

fn set_query_only(conn: &Connection, on: bool) -> rusqlite::Result<()> {
    conn.pragma_update(None, "query_only", on)
}

fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Where [`Store::create`] builds a store before renaming it to `path`.
fn building_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".creating");
    path.with_file_name(name)
}

/// The SQLite files of a database at `main`: itself, its write-ahead log and its
/// shared-memory index.
fn database_files(main: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = main.as_os_str().to_os_string();
        name.push(suffix);
        PathBuf::from(name)
    };
    [main.to_owned(), with("-wal"), with("-shm")]
}

fn remove_database_files(main: &Path) -> Result<()> {
    for file in database_files(main) {
        remove_if_present(&file)?;
    }
    Ok(())
}

fn remove_database_files_except_main(main: &Path) -> Result<()> {
    for file in database_files(main).iter().skip(1) {
        remove_if_present(file)?;
    }
    Ok(())
}

fn remove_if_present(file: &Path) -> Result<()> {
    match std::fs::remove_file(file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(file, e)),
    }
}

/// A rename is durable only once the folder holding it is on disk (POSIX). Windows
/// cannot open a folder as a file; NTFS journals the rename itself.
#[cfg(unix)]
fn sync_parent_dir(path: &Path) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::File::open(parent)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| io_error(parent, e))
}

#[cfg(not(unix))]
fn sync_parent_dir(_path: &Path) -> Result<()> {
    Ok(())
}

fn connect(path: &Path, key: &StoreKey, extra: OpenFlags) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI
        | extra;
    // Keying is serialised in the process. Two stores keyed at the same instant on
    // two threads failed "An error occurred with PRAGMA key or rekey" (SQLCipher 4.20,
    // seen twice on 2026-12-02 in a test file whose two tests create a store at once;
    // a retry on a new connection failed too), which points at SQLCipher's one-time
    // crypto set-up racing. The lock covers the key and the first read, where the key is
    // derived; a tablet opens one store, so nothing waits in practice.
    static KEYING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let keying = KEYING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let conn = Connection::open_with_flags(path, flags)?;
    // A wrong key is reported as our own error; SQLCipher's log lines would only
    // confuse a nurse reading the terminal.
    conn.execute_batch("PRAGMA cipher_log_level = NONE")?;
    conn.pragma_update(None, "key", &key.0)?;
    // SQLCipher only notices a wrong key when it first reads a page.
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            return Err(StoreError::WrongKey(path.to_owned()));
        }
        Err(e) => return Err(e.into()),
    }
    drop(keying);
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "could not switch to write-ahead logging (journal mode is {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Today's date where the drives work (see [`lifebridge_domain::china_date`]).
pub fn china_today() -> chrono::NaiveDate {
    lifebridge_domain::china_date(now())
}
