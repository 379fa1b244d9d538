//! The driver's screen: boxes, packing by scan or manual entry, temperatures, logger
//! files, the dispatch signed with a PIN, and the manifest with its QR codes.

use chrono::{DateTime, Utc};
use lifebridge_domain::entities::{RecordId, Role};
use lifebridge_domain::handoff::HandoffRecord;
use lifebridge_domain::product::ProductClass;
use lifebridge_store::cold_chain::{LoggerImport, ManualPackEntry, SignedManifest, TransportView};
use lifebridge_store::{Actor, Store};
use serde::Serialize;
use tauri::State;

use crate::error::{CommandError, CommandResult};
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
    state.with_store(|s| {
        s.open_box(Actor::staff(staff.id), drive_id, &code, class)?;
        Ok(s.transport_view(drive_id)?)
    })
}

/// A bag label scanned (or typed) into a box.
#[tauri::command]
pub fn pack_bag(
    state: State<'_, AppState>,
    box_id: RecordId,
    text: String,
) -> CommandResult<TransportView> {
    let staff = state.require(Role::Driver)?;
    state.with_store(|s| {
        let packing = s.pack_bag(Actor::staff(staff.id), box_id, &text)?;
        view_of_box(s, packing.box_id)
    })
}

#[tauri::command]
pub fn unpack_bag(
    state: State<'_, AppState>,
    packing_id: RecordId,
) -> CommandResult<TransportView> {
    let staff = state.require(Role::Driver)?;
    state.with_store(|s| {
        let undo = s.unpack_bag(Actor::staff(staff.id), packing_id)?;
        view_of_box(s, undo.box_id)
    })
}

/// The transport view of the drive a box belongs to.
fn view_of_box(store: &Store, box_id: RecordId) -> CommandResult<TransportView> {
    let drive_id = store
        .transport_box(box_id)?
        .ok_or_else(|| CommandError::new("missing", format!("transport box {box_id} not found")))?
        .drive_id;
    Ok(store.transport_view(drive_id)?)
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
    state.with_store(|s| {
        s.record_temperature(
            Actor::staff(staff.id),
            box_id,
            measured_at.unwrap_or_else(Utc::now),
            celsius,
        )?;
        view_of_box(s, box_id)
    })
}

#[derive(Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LoggerImportView {
    import: LoggerImport,
    view: TransportView,
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
    state.with_store(|s| {
        let import = s.import_logger_csv(Actor::staff(staff.id), box_id, &file_name, &text)?;
        Ok(LoggerImportView {
            import,
            view: view_of_box(s, box_id)?,
        })
    })
}

/// The signed-in driver signs the dispatch with their PIN.
#[tauri::command]
pub fn dispatch(
    state: State<'_, AppState>,
    drive_id: RecordId,
    pin: String,
) -> CommandResult<ManifestView> {
    let staff = state.require(Role::Driver)?;
    let signed = state.call(|s| s.dispatch(Actor::staff(staff.id), drive_id, staff.id, &pin))?;
    manifest_view(&state, signed)
}

/// A signed manifest with its QR code(s) drawn for the screen, and the station's signed
/// hand-off of it once one has come back by sync.
#[derive(Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ManifestView {
    signed: SignedManifest,
    qr_texts: Vec<String>,
    qr_svgs: Vec<String>,
    handoffs: Vec<HandoffRecord>,
}

fn manifest_view(state: &AppState, signed: SignedManifest) -> CommandResult<ManifestView> {
    let handoffs = state.call(|s| s.manifest_handoffs(signed.manifest.id))?;
    let qr_texts = lifebridge_protocol::manifest_code::encode(&signed.manifest);
    let qr_svgs = qr_texts
        .iter()
        .map(|t| lifebridge_print::manifest_pdf::qr_svg(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CommandError::new("labels", e.to_string()))?;
    Ok(ManifestView {
        signed,
        qr_texts,
        qr_svgs,
        handoffs,
    })
}

fn load_manifest(state: &AppState, manifest_id: RecordId) -> CommandResult<SignedManifest> {
    state
        .call(|s| s.manifest(manifest_id))?
        .ok_or_else(|| CommandError::new("missing", format!("manifest {manifest_id} not found")))
}

#[tauri::command]
pub fn manifest(state: State<'_, AppState>, manifest_id: RecordId) -> CommandResult<ManifestView> {
    state.require(Role::Driver)?;
    manifest_view(&state, load_manifest(&state, manifest_id)?)
}

/// Writes the manifest PDF into the app's data folder and returns its path.
#[tauri::command]
pub fn save_manifest_pdf(
    state: State<'_, AppState>,
    manifest_id: RecordId,
) -> CommandResult<String> {
    state.require(Role::Driver)?;
    let signed = load_manifest(&state, manifest_id)?;
    let qr_texts = lifebridge_protocol::manifest_code::encode(&signed.manifest);
    let pdf = lifebridge_print::manifest_pdf::render_manifest_pdf(&signed.manifest, &qr_texts)
        .map_err(|e| CommandError::new("labels", e.to_string()))?;
    let file_name = format!(
        "manifest-{}-{}.pdf",
        signed.manifest.drive_date, signed.manifest.id
    );
    super::save_beside_store(&state, "manifests", &file_name, &pdf)
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
    state.with_store(|s| {
        let packing = s.pack_bag_manual(Actor::staff(staff.id), box_id, entry)?;
        view_of_box(s, packing.box_id)
    })
}
