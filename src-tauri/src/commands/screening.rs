//! The physician's screen: live eligibility, the decision, the deferral catalogue and
//! the deferral slip.

use lifebridge_domain::eligibility::DeferralChoice;
use lifebridge_domain::entities::{PhysicianDecision, RecordId, Role, Screening};
use lifebridge_store::file_export::FileExport;
use lifebridge_store::screening::ConsentView;
use lifebridge_store::screens::{ScreeningForm, ScreeningView};
use lifebridge_store::{Actor, china_today};
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

/// Live eligibility while the physician fills the form; records nothing.
#[tauri::command]
pub fn evaluate_screening(
    state: State<'_, AppState>,
    form: ScreeningForm,
) -> CommandResult<ScreeningView> {
    state.require(Role::Physician)?;
    state.call(|s| s.screening_view(&form))
}

#[tauri::command]
pub fn record_screening(
    state: State<'_, AppState>,
    form: ScreeningForm,
    decision: PhysicianDecision,
    waiver_pin: Option<String>,
) -> CommandResult<Screening> {
    record_screening_with(&state, form, decision, waiver_pin)
}

/// The decision is refused here first when the core's verdict does not allow it
/// (`lifebridge_store::screens::refuse_decision`); the store checks the same again.
pub(crate) fn record_screening_with(
    state: &AppState,
    form: ScreeningForm,
    decision: PhysicianDecision,
    waiver_pin: Option<String>,
) -> CommandResult<Screening> {
    let staff = state.require(Role::Physician)?;
    state.call(|s| s.record_screening_form(Actor::staff(staff.id), form, decision, waiver_pin))
}

/// The questionnaire a new screening is answered against (the newest the station sent,
/// else the built-in one): the screen renders whatever document this is, so no question
/// text lives in the UI. Read by the physician's screen and check-in alike.
#[tauri::command]
pub fn current_questionnaire(
    state: State<'_, AppState>,
) -> CommandResult<lifebridge_domain::questionnaire::Questionnaire> {
    state.call(|s| s.questionnaire())
}

/// The consent text the donor reads and signs (the questionnaire in force's).
#[tauri::command]
pub fn consent_text(state: State<'_, AppState>) -> CommandResult<ConsentView> {
    state.require(Role::Physician)?;
    state.call(|s| s.consent_text())
}

/// The whole deferral catalogue (for restrictions and manual deferrals), as the core
/// offers it when no rule fails.
#[tauri::command]
pub fn deferral_catalogue(state: State<'_, AppState>) -> CommandResult<Vec<DeferralChoice>> {
    state.call(|s| s.deferral_catalogue(china_today()))
}

/// Writes the slip for the deferral recorded with a screening as a PDF next to the
/// store and returns its path.
#[tauri::command]
pub fn save_deferral_slip(
    state: State<'_, AppState>,
    screening_id: RecordId,
) -> CommandResult<String> {
    let staff = state.require(Role::Physician)?;
    let facts = state.call(|s| s.deferral_slip(screening_id))?;
    let pdf = lifebridge_print::deferral_slip::render_deferral_slip(&facts.slip)?;
    super::save_beside_store(
        &state,
        &staff,
        (FileExport::DeferralSlip, screening_id),
        "slips",
        &facts.file_name(),
        &pdf,
    )
}
