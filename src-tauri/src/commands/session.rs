//! Unlocking the device, signing in, staff accounts, drives, sync and the options every
//! screen offers.

use chrono::NaiveDate;
use lifebridge_domain::entities::{Drive, RecordId, Role, Staff};
use lifebridge_store::records::NewStaff;
use lifebridge_store::screens::{DriveForm, ScreenOptions};
use lifebridge_store::{Actor, StoreKey, china_today};
use serde::Serialize;
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

#[derive(Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AppStatus {
    unlocked: bool,
    /// False on a device without a store: the app then offers first-run set-up,
    /// naming `store_path`, instead of asking for a passphrase.
    store_exists: bool,
    store_path: String,
    device_name: String,
    staff: Option<Staff>,
    /// Minutes without a command before the person signed in is signed out.
    idle_minutes: u32,
    today: NaiveDate,
}

#[tauri::command]
pub fn app_status(state: State<'_, AppState>) -> AppStatus {
    AppStatus {
        unlocked: state.is_unlocked(),
        store_exists: state.store_exists(),
        store_path: state.store_path.display().to_string(),
        // The station's name for this tablet once enrolled: the one on its manifests.
        device_name: state
            .with_store(|s| {
                Ok(match lifebridge_sync::replicator::enrolled_name(s)? {
                    Some(name) => name,
                    None => s.device_name()?,
                })
            })
            .unwrap_or_else(|_| state.device_name.clone()),
        // Polled by the screens: reading it is not an action, so it does not keep an
        // idle session alive.
        staff: state.current().ok(),
        idle_minutes: u32::try_from(state.idle_timeout.as_secs().div_ceil(60)).unwrap_or(u32::MAX),
        today: china_today(),
    }
}

#[tauri::command]
pub fn unlock(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    passphrase: String,
) -> CommandResult<()> {
    let key = StoreKey::new(passphrase)?;
    let store = state.unlock(&key)?;
    crate::sync::start(&app, store);
    Ok(())
}

/// First-run set-up, asked for explicitly: a new, empty store at the path the set-up
/// screen names, encrypted with `passphrase`. Refused when a file is already there.
#[tauri::command]
pub fn create_store(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    passphrase: String,
) -> CommandResult<()> {
    let key = StoreKey::new(passphrase)?;
    let store = state.create_store(&key)?;
    crate::sync::start(&app, store);
    Ok(())
}

/// The lock button: signs out and asks for the device passphrase again.
#[tauri::command]
pub fn lock_device(state: State<'_, AppState>) {
    state.lock_screen();
}

/// What the screens offer (volumes, bag sets, tubes, box classes, the questionnaire,
/// the drives' time zone, documents, roles, outcomes, reactions), from the core.
#[tauri::command]
pub fn screen_options(state: State<'_, AppState>) -> CommandResult<ScreenOptions> {
    state.call(|s| s.screen_options())
}

#[tauri::command]
pub fn list_staff(state: State<'_, AppState>) -> CommandResult<Vec<Staff>> {
    state.call(|s| s.staff_list())
}

/// A supervisor adds a colleague's account on this tablet (no network needed).
#[tauri::command]
pub fn add_staff(
    state: State<'_, AppState>,
    display_name: String,
    roles: Vec<Role>,
    pin: String,
) -> CommandResult<Staff> {
    let supervisor = state.require(Role::Supervisor)?;
    state.call(|s| {
        s.add_staff(
            Actor::staff(supervisor.id),
            NewStaff {
                display_name,
                roles,
                pin,
            },
        )
    })
}

#[tauri::command]
pub fn sign_in(
    state: State<'_, AppState>,
    staff_id: RecordId,
    pin: String,
) -> CommandResult<Staff> {
    let staff = state.with_store(|s| Ok(s.sign_in(staff_id, &pin)??))?;
    state.set_session(Some(staff.clone()));
    Ok(staff)
}

#[tauri::command]
pub fn sign_out(state: State<'_, AppState>) {
    state.set_session(None);
}

#[tauri::command]
pub fn todays_drives(state: State<'_, AppState>) -> CommandResult<Vec<Drive>> {
    state.signed_in()?;
    state.call(|s| s.drives_on(china_today()))
}

#[tauri::command]
pub fn start_drive(state: State<'_, AppState>, form: DriveForm) -> CommandResult<Drive> {
    let staff = state.signed_in()?;
    state.call(|s| s.start_drive_form(Actor::staff(staff.id), form, china_today()))
}

#[tauri::command]
pub fn end_drive(state: State<'_, AppState>, drive_id: RecordId) -> CommandResult<Drive> {
    let staff = state.signed_in()?;
    state.call(|s| s.end_drive(Actor::staff(staff.id), drive_id))
}

#[tauri::command]
pub fn sync_status(state: State<'_, AppState>) -> CommandResult<crate::sync::SyncView> {
    // Pending comes from the store itself: the replicator only recounts when it syncs,
    // and the crew must see a record join the queue the moment it is saved.
    let pending = state.call(|s| s.pending_changes())?;
    Ok(match crate::state::lock(&state.sync).as_ref() {
        Some(handle) => crate::sync::SyncView {
            pending,
            ..crate::sync::SyncView::from_status(&handle.status.borrow())
        },
        None => crate::sync::SyncView::unconfigured(pending),
    })
}

/// Wakes the replicator now; returns at once (nothing in the UI waits on the network).
#[tauri::command]
pub fn sync_now(state: State<'_, AppState>) -> CommandResult<bool> {
    state.signed_in()?;
    Ok(match crate::state::lock(&state.sync).as_ref() {
        Some(handle) => {
            handle.wake.notify_one();
            true
        }
        None => false,
    })
}
