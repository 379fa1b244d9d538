//! The driver's screen: boxes, packing by scan or manual entry, temperatures, logger
//! files, the dispatch signed with a PIN, and the manifest with its QR codes.

use chrono::{DateTime, Utc};
use lifebridge_domain::entities::{RecordId, Role};
use lifebridge_domain::handoff::HandoffRecord;
use lifebridge_domain::product::ProductClass;
use lifebridge_store::Actor;
use lifebridge_store::cold_chain::{ManualPackEntry, SignedManifest, TransportView};
use lifebridge_store::file_export::FileExport;
use lifebridge_store::screens::{LoggerImportView, ManifestSheet};
use serde::Serialize;
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

/// Everything the driver's screen shows for a drive.
#[tauri::command]
pub fn transport_view(
    state: State<'_, AppState>,
    drive_id: RecordId,
) -> CommandResult<TransportView> {
    state.require(Role::Driver)?;
    state.call(|s| s.transport_view(drive_id))
}

#[tauri::command]
pub fn open_box(
    state: State<'_, AppState>,
    drive_id: RecordId,
    code: String,
    class: ProductClass,
) -> CommandResult<TransportView> {
    let staff = state.require(Role::Driver)?;
    state.call(|s| s.open_box_view(Actor::staff(staff.id), drive_id, &code, class))
}

/// A bag label scanned (or typed) into a box.
#[tauri::command]
pub fn pack_bag(
    state: State<'_, AppState>,
    box_id: RecordId,
    text: String,
) -> CommandResult<TransportView> {
    let staff = state.require(Role::Driver)?;
    state.call(|s| s.pack_bag_view(Actor::staff(staff.id), box_id, &text))
}

#[tauri::command]
pub fn unpack_bag(
    state: State<'_, AppState>,
    packing_id: RecordId,
) -> CommandResult<TransportView> {
    let staff = state.require(Role::Driver)?;
    state.call(|s| s.unpack_bag_view(Actor::staff(staff.id), packing_id))
}

/// A temperature read off the box's thermometer; `measured_at` defaults to now.
#[tauri::command]
pub fn record_temperature(
    state: State<'_, AppState>,
    box_id: RecordId,
    celsius: f64,
    measured_at: Option<DateTime<Utc>>,
) -> CommandResult<TransportView> {
    let staff = state.require(Role::Driver)?;
    state.call(|s| s.record_temperature_view(Actor::staff(staff.id), box_id, measured_at, celsius))
}

/// A data logger's CSV file, read by the UI's file input and imported whole.
#[tauri::command]
pub fn import_logger_csv(
    state: State<'_, AppState>,
    box_id: RecordId,
    file_name: String,
    text: String,
) -> CommandResult<LoggerImportView> {
    let staff = state.require(Role::Driver)?;
    state.call(|s| s.import_logger_csv_view(Actor::staff(staff.id), box_id, &file_name, &text))
}

/// The signed-in driver signs the dispatch with their PIN.
#[tauri::command]
pub fn dispatch(
    state: State<'_, AppState>,
    drive_id: RecordId,
    pin: String,
) -> CommandResult<ManifestView> {
    let staff = state.require(Role::Driver)?;
    let sheet =
        state.call(|s| s.dispatch_sheet(Actor::staff(staff.id), drive_id, staff.id, &pin))?;
    ManifestView::drawn(sheet)
}

/// A signed manifest as the store gives it ([`ManifestSheet`]) with its QR code(s)
/// drawn for the screen.
#[derive(Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ManifestView {
    signed: SignedManifest,
    qr_texts: Vec<String>,
    qr_svgs: Vec<String>,
    handoffs: Vec<HandoffRecord>,
}

impl ManifestView {
    fn drawn(sheet: ManifestSheet) -> CommandResult<ManifestView> {
        let qr_svgs = sheet
            .qr_texts
            .iter()
            .map(|t| lifebridge_print::manifest_pdf::qr_svg(t))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ManifestView {
            signed: sheet.signed,
            qr_texts: sheet.qr_texts,
            qr_svgs,
            handoffs: sheet.handoffs,
        })
    }
}

#[tauri::command]
pub fn manifest(state: State<'_, AppState>, manifest_id: RecordId) -> CommandResult<ManifestView> {
    state.require(Role::Driver)?;
    ManifestView::drawn(state.call(|s| s.manifest_sheet(manifest_id))?)
}

/// Writes the manifest PDF into the app's data folder, when asked, and returns its path.
#[tauri::command]
pub fn save_manifest_pdf(
    state: State<'_, AppState>,
    manifest_id: RecordId,
) -> CommandResult<String> {
    let staff = state.require(Role::Driver)?;
    let sheet = state.call(|s| s.manifest_sheet(manifest_id))?;
    let pdf = lifebridge_print::manifest_pdf::render_manifest_pdf(
        &sheet.signed.manifest,
        &sheet.qr_texts,
    )?;
    super::save_beside_store(
        &state,
        &staff,
        (FileExport::ManifestPdf, manifest_id),
        "manifests",
        &sheet.file_name(),
        &pdf,
    )
}

/// A bag whose label cannot be scanned, packed by typing its DIN with the check
/// character, a reason and a second crew member's PIN (not the signed-in driver's).
#[tauri::command]
pub fn pack_bag_manual(
    state: State<'_, AppState>,
    box_id: RecordId,
    entry: ManualPackEntry,
) -> CommandResult<TransportView> {
    pack_bag_manual_checked(&state, box_id, &entry)
}

pub(crate) fn pack_bag_manual_checked(
    state: &AppState,
    box_id: RecordId,
    entry: &ManualPackEntry,
) -> CommandResult<TransportView> {
    let staff = super::collection::manual_entry_actor(state, Role::Driver, entry.witness)?;
    state.call(|s| s.pack_bag_manual_view(Actor::staff(staff.id), box_id, entry))
}
