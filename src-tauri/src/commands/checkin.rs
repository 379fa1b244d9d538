//! The check-in screen: documents, finding and registering donors, the donor overview,
//! check-in, the queue and the station's appointments.

use lifebridge_domain::entities::{Donor, RecordId, Role, Visit};
use lifebridge_store::appointments::AppointmentEntry;
use lifebridge_store::drive_day::QueueEntry;
use lifebridge_store::screens::{DocumentCheck, DonorForm, DonorOverview};
use lifebridge_store::{Actor, china_today};
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

/// Validates an identity document as it is typed or scanned.
#[tauri::command]
pub fn check_document(kind: String, number: String) -> CommandResult<DocumentCheck> {
    Ok(DocumentCheck::parse(&kind, &number, china_today())?)
}

/// By document number when the text is one, else by name or phone.
#[tauri::command]
pub fn find_donors(state: State<'_, AppState>, query: String) -> CommandResult<Vec<Donor>> {
    state.require(Role::Registration)?;
    state.call(|s| s.find_donors(&query, china_today()))
}

#[tauri::command]
pub fn register_donor(state: State<'_, AppState>, form: DonorForm) -> CommandResult<Donor> {
    let staff = state.require(Role::Registration)?;
    state.call(|s| s.register_donor_form(Actor::staff(staff.id), form, china_today()))
}

#[tauri::command]
pub fn donor_overview(
    state: State<'_, AppState>,
    donor_id: RecordId,
) -> CommandResult<DonorOverview> {
    state.signed_in()?;
    state.call(|s| s.donor_overview_of(donor_id, china_today()))
}

/// Checks a donor in. A donor whom history, deferrals or age do not allow today needs
/// `confirmation` (why they are checked in anyway); refused here first, then by the store.
#[tauri::command]
pub fn check_in(
    state: State<'_, AppState>,
    drive_id: RecordId,
    donor_id: RecordId,
    confirmation: Option<String>,
) -> CommandResult<Visit> {
    check_in_with(&state, drive_id, donor_id, confirmation)
}

pub(crate) fn check_in_with(
    state: &AppState,
    drive_id: RecordId,
    donor_id: RecordId,
    confirmation: Option<String>,
) -> CommandResult<Visit> {
    let staff = state.require(Role::Registration)?;
    state.call(|s| {
        s.check_in_checked(
            Actor::staff(staff.id),
            drive_id,
            donor_id,
            confirmation.as_deref(),
        )
    })
}

#[tauri::command]
pub fn chair_queue(
    state: State<'_, AppState>,
    drive_id: RecordId,
) -> CommandResult<Vec<QueueEntry>> {
    // The queue screen reloads this every few seconds: not an action for the idle time.
    state.still_signed_in()?;
    state.call(|s| s.chair_queue(drive_id))
}

/// Who the station booked for this drive's site and day, and who has arrived.
#[tauri::command]
pub fn drive_appointments(
    state: State<'_, AppState>,
    drive_id: RecordId,
) -> CommandResult<Vec<AppointmentEntry>> {
    state.signed_in()?;
    state.call(|s| s.drive_appointments(drive_id))
}
