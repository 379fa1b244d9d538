//! The end of a drive: the summary, its export and the label account.

use lifebridge_domain::entities::RecordId;
use lifebridge_store::drive_day::DriveSummary;
use lifebridge_store::file_export::FileExport;
use lifebridge_store::labels::DriveLabelAccount;
use tauri::State;

use crate::error::{CommandError, CommandResult};
use crate::state::AppState;

#[tauri::command]
pub fn drive_summary(
    state: State<'_, AppState>,
    drive_id: RecordId,
) -> CommandResult<DriveSummary> {
    state.signed_in()?;
    state.call(|s| s.drive_summary(drive_id))
}

/// Writes the drive summary as JSON next to the store, when asked, and returns the
/// file's path.
#[tauri::command]
pub fn export_drive_summary(
    state: State<'_, AppState>,
    drive_id: RecordId,
) -> CommandResult<String> {
    export_drive_summary_checked(&state, drive_id)
}

pub(crate) fn export_drive_summary_checked(
    state: &AppState,
    drive_id: RecordId,
) -> CommandResult<String> {
    let staff = state.signed_in()?;
    let summary = state.call(|s| s.drive_summary(drive_id))?;
    let json = serde_json::to_vec_pretty(&summary)
        .map_err(|e| CommandError::new("export", e.to_string()))?;
    let file_name = format!("drive-{}-{}.json", summary.drive.date, summary.drive.id);
    super::save_beside_store(
        state,
        &staff,
        (FileExport::DriveSummary, drive_id),
        "exports",
        &file_name,
        &json,
    )
}

/// What the crew must account for before leaving: unverified sets, printed labels never
/// scanned, superseded prints to destroy, refused scans, DINs left unissued.
#[tauri::command]
pub fn drive_label_account(
    state: State<'_, AppState>,
    drive_id: RecordId,
) -> CommandResult<DriveLabelAccount> {
    state.signed_in()?;
    state.call(|s| s.drive_label_account(drive_id))
}
