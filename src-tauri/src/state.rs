//! What the running app holds: the open store (shared with the replicator), who is
//! signed in, and the replicator's latest status.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use lifebridge_domain::entities::{Role, Staff};
use lifebridge_store::{Store, StoreKey};
use lifebridge_sync::replicator::SyncStatus;
use tokio::sync::Notify;

use crate::error::{CommandError, CommandResult};

/// The facility name the labels carry when `LIFEBRIDGE_FACILITY_NAME` gives none.
pub const DEFAULT_FACILITY_NAME: &str = "血站 Blood station";
/// Sign-out after this long without a command from the person signed in, unless
/// `LIFEBRIDGE_IDLE_MINUTES` says otherwise.
pub const DEFAULT_IDLE_MINUTES: u64 = 10;

pub struct AppState {
    pub store_path: PathBuf,
    pub device_name: String,
    /// The facility printed top left on the labels (start-up configuration, see
    /// [`crate::run`]).
    pub facility_name: String,
    /// How long a sign-in lasts without a command (docs/security.md).
    pub idle_timeout: Duration,
    store: OnceLock<Arc<Mutex<Store>>>,
    /// The screen is locked: the store stays open (the replicator keeps syncing), but
    /// no command reads or writes it until the passphrase is typed again.
    locked: Mutex<bool>,
    session: Mutex<Option<Session>>,
    pub sync: Mutex<Option<SyncHandle>>,
}

/// Who is signed in, and when they last did something.
struct Session {
    staff: Staff,
    last_action: Instant,
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
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_MINUTES * 60),
            store: OnceLock::new(),
            locked: Mutex::new(false),
            session: Mutex::new(None),
            sync: Mutex::new(None),
        }
    }

    pub fn with_idle_timeout(self, idle_timeout: Duration) -> AppState {
        AppState {
            idle_timeout,
            ..self
        }
    }

    /// Opens the existing store with `key`; a store already open (the screen was
    /// locked) is unlocked only if `key` opens its file too. Never creates a store: a
    /// missing file is an error, so a store whose disk is not mounted is not silently
    /// replaced by a new empty one (see [`AppState::create_store`]).
    pub fn unlock(&self, key: &StoreKey) -> CommandResult<Arc<Mutex<Store>>> {
        if let Some(open) = self.store.get() {
            Store::check_key(&self.store_path, key)?;
            *lock(&self.locked) = false;
            return Ok(open.clone());
        }
        let store = Store::open(&self.store_path, key)?;
        *lock(&self.locked) = false;
        Ok(self
            .store
            .get_or_init(|| Arc::new(Mutex::new(store)))
            .clone())
    }

    /// First-run set-up: creates a new, empty store for this device at `store_path`
    /// with `key`. Refused when a file is already there.
    pub fn create_store(&self, key: &StoreKey) -> CommandResult<Arc<Mutex<Store>>> {
        if self.store.get().is_some() {
            return Err(CommandError::new("store", "the store is already open"));
        }
        if let Some(parent) = self.store_path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                CommandError::new("store", format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let store = Store::create(&self.store_path, key, &self.device_name)?;
        *lock(&self.locked) = false;
        Ok(self
            .store
            .get_or_init(|| Arc::new(Mutex::new(store)))
            .clone())
    }

    /// Whether a store file is at `store_path` (if not, the app offers set-up).
    pub fn store_exists(&self) -> bool {
        self.store.get().is_some() || self.store_path.exists()
    }

    /// The lock button: signs out and asks for the passphrase again. Replication goes
    /// on; nothing on the screen shows or changes the store until then.
    pub fn lock_screen(&self) {
        *lock(&self.session) = None;
        if self.store.get().is_some() {
            *lock(&self.locked) = true;
        }
    }

    pub fn is_unlocked(&self) -> bool {
        self.store.get().is_some() && !*lock(&self.locked)
    }

    pub fn with_store<T>(
        &self,
        f: impl FnOnce(&mut Store) -> CommandResult<T>,
    ) -> CommandResult<T> {
        if *lock(&self.locked) {
            return Err(CommandError::locked());
        }
        let shared = self.store.get().ok_or_else(CommandError::locked)?;
        let mut guard = lock(shared);
        let before = guard.last_change_seq().ok();
        let result = f(&mut guard);
        let wrote = before.is_some_and(|b| guard.last_change_seq().is_ok_and(|a| a > b));
        drop(guard);
        if wrote {
            // A record joined the change log: push it now (other tablets of the bus see
            // it within a second), not at the next periodic sync. Nothing waits on it.
            if let Some(handle) = lock(&self.sync).as_ref() {
                handle.wake.notify_one();
            }
        }
        result
    }

    /// One call on the open store, its error turned into the UI's [`CommandError`].
    pub fn call<T, E: Into<CommandError>>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, E>,
    ) -> CommandResult<T> {
        self.with_store(|s| f(s).map_err(Into::into))
    }

    /// Who is signed in, as the store holds the account now; counts as an action for
    /// the idle time. Signs out (and refuses) after the idle time, and when the
    /// account was closed since sign-in (a closed account stops working at its next
    /// action, not at its next sign-in).
    pub fn signed_in(&self) -> CommandResult<Staff> {
        self.check_session(true)
    }

    /// [`AppState::signed_in`] for the reads a screen repeats on a timer (the chair
    /// queue): the account is checked the same way, but a screen left open is not a
    /// person acting, so it does not keep the sign-in alive.
    pub fn still_signed_in(&self) -> CommandResult<Staff> {
        self.check_session(false)
    }

    fn check_session(&self, action: bool) -> CommandResult<Staff> {
        let staff = self.current()?;
        // The account as the store holds it now: the station may have closed it since.
        let now = self.with_store(|s| Ok(s.staff_member(staff.id)?))?;
        let mut session = lock(&self.session);
        if session.as_ref().map(|s| s.staff.id) != Some(staff.id) {
            // Signed out (or someone else signed in) while the account was read.
            return Err(CommandError::signed_out());
        }
        if !now.active {
            *session = None;
            return Err(lifebridge_store::StoreError::AccountClosed {
                staff: now.display_name,
            }
            .into());
        }
        if let Some(s) = session.as_mut() {
            s.staff = now.clone();
            if action {
                s.last_action = Instant::now();
            }
        }
        Ok(now)
    }

    /// Who is signed in, unless the idle time has passed (then nobody); does not count
    /// as an action. For the status the screens poll.
    pub fn current(&self) -> CommandResult<Staff> {
        let mut session = lock(&self.session);
        match session.as_ref() {
            Some(s) if s.last_action.elapsed() < self.idle_timeout => Ok(s.staff.clone()),
            Some(_) => {
                *session = None;
                Err(CommandError::signed_out())
            }
            None => Err(CommandError::signed_out()),
        }
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
        *lock(&self.session) = staff.map(|staff| Session {
            staff,
            last_action: Instant::now(),
        });
    }
}

/// A poisoned lock only means another command panicked mid-way; the store's own
/// transactions keep the data consistent, so carry on with the inner value.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::commands::tests::station_account;
    use lifebridge_store::records::NewStaff;
    use lifebridge_store::{Actor, StoreError};
    use uuid::Uuid;

    const PASSPHRASE: &str = "correct horse battery";

    fn key(passphrase: &str) -> StoreKey {
        StoreKey::new(passphrase).unwrap()
    }

    /// A store path in a folder of its own that does not exist yet, removed on drop.
    struct Place(PathBuf);

    impl Place {
        fn new() -> Place {
            Place(std::env::temp_dir().join(format!("lifebridge-state-{}", Uuid::now_v7())))
        }
        fn store(&self) -> PathBuf {
            self.0.join("device.db")
        }
    }

    impl Drop for Place {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn open(place: &Place) -> AppState {
        let state = AppState::new(place.store(), "BUS-STATE".into());
        state.create_store(&key(PASSPHRASE)).unwrap();
        state
    }

    fn supervisor(state: &AppState) -> Staff {
        state
            .call(|s| {
                s.add_staff(
                    Actor::system(),
                    NewStaff {
                        display_name: "护士长 孙艳".into(),
                        roles: vec![Role::Supervisor],
                        pin: "753186".into(),
                    },
                )
            })
            .unwrap()
    }

    /// Whether `wake` holds a notification (taken if so).
    fn woken(wake: &Notify) -> bool {
        let mut notified = std::pin::pin!(wake.notified());
        notified.as_mut().enable()
    }

    #[test]
    fn a_store_action_that_writes_wakes_the_replicator_and_a_read_does_not() {
        let place = Place::new();
        let state = open(&place);
        let wake = Arc::new(Notify::new());
        let (_status, rx) = tokio::sync::watch::channel(SyncStatus::default());
        *lock(&state.sync) = Some(SyncHandle {
            status: rx,
            wake: wake.clone(),
        });
        supervisor(&state);
        assert!(woken(&wake), "a new record waits for no periodic sync");
        state.call(|s| s.staff_list()).unwrap();
        assert!(!woken(&wake), "a read pushes nothing");
        assert!(state.call(|s| s.staff_by_name("nobody")).unwrap().is_none());
        assert!(!woken(&wake));
    }

    #[test]
    fn a_missing_store_is_never_created_by_unlocking() {
        let place = Place::new();
        let state = AppState::new(place.store(), "BUS-STATE".into());
        assert!(!state.store_exists());
        let Err(err) = state.unlock(&key(PASSPHRASE)) else {
            panic!("a missing store was unlocked")
        };
        assert_eq!(err.code, "no_store", "{err:?}");
        assert!(!place.store().exists(), "nothing was created");
        assert!(!state.is_unlocked());
        // Set-up is its own step, and it never replaces a store that is there.
        state.create_store(&key(PASSPHRASE)).unwrap();
        assert!(state.store_exists() && state.is_unlocked());
        let again = AppState::new(place.store(), "BUS-STATE".into());
        assert!(again.store_exists());
        assert!(again.create_store(&key(PASSPHRASE)).is_err());
        again.unlock(&key(PASSPHRASE)).unwrap();
    }

    #[test]
    fn the_lock_button_signs_out_and_unlocking_checks_the_passphrase_again() {
        let place = Place::new();
        let state = open(&place);
        let boss = supervisor(&state);
        state.set_session(Some(boss));
        state.lock_screen();
        assert!(!state.is_unlocked());
        assert_eq!(state.current().unwrap_err().code, "signed_out");
        assert_eq!(
            state.call(|s| s.staff_list()).unwrap_err().code,
            "device_locked"
        );
        // The store is still open (the replicator uses it), but a wrong passphrase
        // unlocks nothing.
        assert_eq!(
            state
                .unlock(&key("not the passphrase"))
                .err()
                .map(|e| e.code),
            Some("wrong_key")
        );
        assert!(!state.is_unlocked());
        state.unlock(&key(PASSPHRASE)).unwrap();
        assert!(state.is_unlocked());
        assert_eq!(state.call(|s| s.staff_list()).unwrap().len(), 1);
        assert_eq!(state.current().unwrap_err().code, "signed_out");
    }

    #[test]
    fn an_idle_sign_in_ends_and_each_action_restarts_the_idle_time() {
        let place = Place::new();
        let state = open(&place).with_idle_timeout(Duration::from_millis(300));
        let boss = supervisor(&state);
        state.set_session(Some(boss.clone()));
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(150));
            assert_eq!(state.signed_in().unwrap().id, boss.id);
        }
        // Looking at the status is not an action.
        std::thread::sleep(Duration::from_millis(200));
        assert!(state.current().is_ok());
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(state.current().unwrap_err().code, "signed_out");
        assert_eq!(state.signed_in().unwrap_err().code, "signed_out");
    }

    #[test]
    fn a_wrong_passphrase_is_refused_on_an_open_unlocked_store() {
        let place = Place::new();
        let state = open(&place);
        assert!(state.is_unlocked());
        assert_eq!(
            state
                .unlock(&key("not the passphrase"))
                .err()
                .map(|e| e.code),
            Some("wrong_key")
        );
        state.unlock(&key(PASSPHRASE)).unwrap();
        assert!(state.is_unlocked());
    }

    #[test]
    fn a_screen_that_reloads_on_a_timer_does_not_keep_a_sign_in_alive() {
        let place = Place::new();
        let state = open(&place).with_idle_timeout(Duration::from_millis(300));
        let boss = supervisor(&state);
        state.set_session(Some(boss.clone()));
        for _ in 0..2 {
            std::thread::sleep(Duration::from_millis(120));
            assert_eq!(state.still_signed_in().unwrap().id, boss.id);
        }
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(state.still_signed_in().unwrap_err().code, "signed_out");
    }

    #[test]
    fn a_closed_account_stops_at_its_next_action() {
        let place = Place::new();
        let state = open(&place);
        let station = Uuid::now_v7();
        let id = Uuid::now_v7();
        let issued = |active, wall_ms| station_account(id, station, active, wall_ms);
        let now = chrono::Utc::now().timestamp_millis() as u64;
        state
            .call(|s| s.apply_remote(&[issued(true, now)], 1))
            .unwrap();
        let boss = state.call(|s| s.sign_in(id, "753186")).unwrap().unwrap();
        state.set_session(Some(boss));
        state.require(Role::Supervisor).unwrap();
        // The station closes the account; the tablet hears of it while it is signed in.
        state
            .call(|s| s.apply_remote(&[issued(false, now + 1)], 2))
            .unwrap();
        let err = state.require(Role::Supervisor).unwrap_err();
        assert_eq!(err.code, "inactive");
        assert_eq!(err.text.unwrap().code, "session.account_closed");
        assert_eq!(state.current().unwrap_err().code, "signed_out");
        // And the store refuses the account's actions whatever the app holds.
        let err = state
            .with_store(|s| {
                Ok(s.add_staff(
                    Actor::staff(id),
                    NewStaff {
                        display_name: "吴静".into(),
                        roles: vec![Role::Registration],
                        pin: "246813".into(),
                    },
                ))
            })
            .unwrap()
            .unwrap_err();
        assert!(matches!(err, StoreError::AccountClosed { .. }), "{err}");
    }
}
