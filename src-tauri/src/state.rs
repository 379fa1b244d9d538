//! What the running app holds: the open store (shared with the replicator), who is
//! signed in, and the replicator's latest status.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use lifebridge_domain::entities::{Role, Staff};
use lifebridge_store::{Store, StoreKey};
use lifebridge_sync::replicator::SyncStatus;
use tokio::sync::Notify;

use crate::error::{CommandError, CommandResult};

/// The facility name the labels carry when `LIFEBRIDGE_FACILITY_NAME` gives none.
pub const DEFAULT_FACILITY_NAME: &str = "血站 Blood station";

pub struct AppState {
    pub store_path: PathBuf,
    pub device_name: String,
    /// The facility printed top left on the labels (start-up configuration, see
    /// [`crate::run`]).
    pub facility_name: String,
    store: OnceLock<Arc<Mutex<Store>>>,
    session: Mutex<Option<Staff>>,
    pub sync: Mutex<Option<SyncHandle>>,
}

/// The running replicator: its status as last reported and a way to wake it.
pub struct SyncHandle {
    pub status: tokio::sync::watch::Receiver<SyncStatus>,
    pub wake: Arc<Notify>,
}

impl AppState {
    pub fn new(store_path: PathBuf, device_name: String) -> AppState {
        AppState {
            store_path,
            device_name,
            facility_name: DEFAULT_FACILITY_NAME.to_owned(),
            store: OnceLock::new(),
            session: Mutex::new(None),
            sync: Mutex::new(None),
        }
    }

    /// Opens (or, on a new device, creates) the store with `key`.
    pub fn unlock(&self, key: &StoreKey) -> CommandResult<Arc<Mutex<Store>>> {
        if let Some(open) = self.store.get() {
            return Ok(open.clone());
        }
        if let Some(parent) = self.store_path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                CommandError::new("store", format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let store = Store::open_or_create(&self.store_path, key, &self.device_name)?;
        Ok(self
            .store
            .get_or_init(|| Arc::new(Mutex::new(store)))
            .clone())
    }

    pub fn is_unlocked(&self) -> bool {
        self.store.get().is_some()
    }

    pub fn with_store<T>(
        &self,
        f: impl FnOnce(&mut Store) -> CommandResult<T>,
    ) -> CommandResult<T> {
        let shared = self.store.get().ok_or_else(CommandError::locked)?;
        let mut guard = lock(shared);
        f(&mut guard)
    }

    /// One call on the open store, its error turned into the UI's [`CommandError`].
    pub fn call<T, E: Into<CommandError>>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, E>,
    ) -> CommandResult<T> {
        self.with_store(|s| f(s).map_err(Into::into))
    }

    pub fn signed_in(&self) -> CommandResult<Staff> {
        lock(&self.session)
            .clone()
            .ok_or_else(CommandError::signed_out)
    }

    /// The signed-in staff member, refused unless they hold `role`. The store checks
    /// again; this is so the UI gets a clear answer before anything is attempted.
    pub fn require(&self, role: Role) -> CommandResult<Staff> {
        let staff = self.signed_in()?;
        if staff.has_role(role) {
            Ok(staff)
        } else {
            Err(CommandError::forbidden(role.as_str()))
        }
    }

    pub fn set_session(&self, staff: Option<Staff>) {
        *lock(&self.session) = staff;
    }
}

/// A poisoned lock only means another command panicked mid-way; the store's own
/// transactions keep the data consistent, so carry on with the inner value.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
