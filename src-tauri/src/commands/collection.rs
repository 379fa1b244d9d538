//! The chair: starting and finishing a collection, the scale, and the label set
//! (print, scan back, manual entry, release, previews).

use lifebridge_domain::entities::{Donation, RecordId, Role};
use lifebridge_domain::messages::Message;
use lifebridge_store::Actor;
use lifebridge_store::drive_day::FinishCollection;
use lifebridge_store::labels::ManualLabelEntry;
use lifebridge_store::screens::{LabelView, StartForm};
use tauri::State;

use crate::error::{CommandError, CommandResult};
use crate::state::AppState;

#[tauri::command]
pub fn start_collection(state: State<'_, AppState>, form: StartForm) -> CommandResult<Donation> {
    let staff = state.require(Role::Phlebotomist)?;
    state.call(|s| s.start_collection_form(Actor::staff(staff.id), staff.id, form))
}

#[tauri::command]
pub fn finish_collection(
    state: State<'_, AppState>,
    form: FinishCollection,
) -> CommandResult<Donation> {
    let staff = state.require(Role::Phlebotomist)?;
    state.call(|s| s.finish_collection(Actor::staff(staff.id), form))
}

/// Collected volume from the scale, with the station's density.
#[tauri::command]
pub fn volume_from_scale(
    state: State<'_, AppState>,
    gross_g: f64,
    tare_g: f64,
) -> CommandResult<u32> {
    state.call(|s| s.collected_volume(gross_g, tare_g))
}

#[tauri::command]
pub fn label_status(state: State<'_, AppState>, donation_id: RecordId) -> CommandResult<LabelView> {
    state.signed_in()?;
    state.call(|s| s.label_view(donation_id))
}

#[tauri::command]
pub fn print_labels(
    state: State<'_, AppState>,
    donation_id: RecordId,
    tubes: u8,
) -> CommandResult<LabelView> {
    let staff = state.require(Role::Phlebotomist)?;
    state.call(|s| s.print_labels_view(Actor::staff(staff.id), donation_id, tubes))
}

/// A scan (scanner keystrokes or typed) on the collection screen.
#[tauri::command]
pub fn scan_label(
    state: State<'_, AppState>,
    donation_id: RecordId,
    text: String,
) -> CommandResult<LabelView> {
    let staff = state.require(Role::Phlebotomist)?;
    state.call(|s| s.scan_label_view(Actor::staff(staff.id), donation_id, &text))
}

/// The exception path for a label that cannot be scanned: one piece, its DIN typed
/// with the check character, a reason, and a second crew member's PIN. The store
/// decides (check character, DIN, piece, who may confirm); this only names the actor.
#[tauri::command]
pub fn manual_label_entry(
    state: State<'_, AppState>,
    donation_id: RecordId,
    entry: ManualLabelEntry,
) -> CommandResult<LabelView> {
    manual_label_entry_checked(&state, donation_id, &entry)
}

/// [`manual_label_entry`] without the window: the phlebotomist at the chair, a witness
/// who is not them, then the store.
pub(crate) fn manual_label_entry_checked(
    state: &AppState,
    donation_id: RecordId,
    entry: &ManualLabelEntry,
) -> CommandResult<LabelView> {
    let staff = manual_entry_actor(state, Role::Phlebotomist, entry.witness)?;
    state.call(|s| s.manual_label_entry_view(Actor::staff(staff.id), donation_id, entry))
}

/// The command layer's own check before any manual label entry (the chair, packing):
/// the signed-in person holds `role`, and the second person who confirms is someone
/// else. The store checks both again, with the PIN.
pub(crate) fn manual_entry_actor(
    state: &AppState,
    role: Role,
    witness: RecordId,
) -> CommandResult<lifebridge_domain::entities::Staff> {
    let staff = state.require(role)?;
    if witness == staff.id {
        let text = Message::new("manual.witness_same_person");
        return Err(CommandError {
            text: Some(Box::new(text.clone())),
            ..CommandError::field("manual_refused", "witness", text.to_string())
        });
    }
    Ok(staff)
}

#[tauri::command]
pub fn release_donation(
    state: State<'_, AppState>,
    donation_id: RecordId,
) -> CommandResult<LabelView> {
    let staff = state.require(Role::Phlebotomist)?;
    state.call(|s| s.release_donation_view(Actor::staff(staff.id), donation_id))
}

/// SVG previews of a donation's label set, drawn from the record by the same code that
/// prints them (the primary bag first), with the facility name the app was started with.
#[tauri::command]
pub fn label_previews(
    state: State<'_, AppState>,
    donation_id: RecordId,
) -> CommandResult<Vec<String>> {
    state.signed_in()?;
    let contents =
        state.call(|s| s.donation_label_contents(donation_id, &state.facility_name, None))?;
    Ok(lifebridge_print::svg::label_set_svgs(&contents)?)
}
