//! The Tauri commands: each checks who is signed in, calls the store or the domain,
//! and returns data or a [`CommandError`]. No rule is decided here.

use chrono::{DateTime, NaiveDate, Utc};
use lifebridge_domain::eligibility::{self, Decision, DeferralChoice, Reason};
use lifebridge_domain::entities::{
    AdverseReaction, Arm, BagSet, Deferral, Donation, Donor, Drive, Outcome, PhysicianDecision,
    RapidTests, RecordId, Role, SiteKind, Staff, Visit, Vitals,
};
use lifebridge_domain::resident_id::IdentityDocument;
use lifebridge_domain::{Procedure, Sex};
use lifebridge_store::drive_day::{
    CheckInStatus, DriveSummary, FinishCollection, QueueEntry, StartCollection,
};
use lifebridge_store::records::{NewDonor, NewDrive, NewStaff};
use lifebridge_store::screening::NewScreening;
use lifebridge_store::{Actor, StoreKey, china_today};
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::error::{CommandError, CommandResult};
use crate::state::AppState;

#[derive(Serialize)]
pub struct AppStatus {
    unlocked: bool,
    device_name: String,
    staff: Option<Staff>,
    today: NaiveDate,
}

#[tauri::command]
pub fn app_status(state: State<'_, AppState>) -> AppStatus {
    AppStatus {
        unlocked: state.is_unlocked(),
        // The station's name for this tablet once enrolled: the one on its manifests.
        device_name: state
            .with_store(|s| {
                Ok(match lifebridge_sync::replicator::enrolled_name(s)? {
                    Some(name) => name,
                    None => s.device_name()?,
                })
            })
            .unwrap_or_else(|_| state.device_name.clone()),
        staff: state.signed_in().ok(),
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

#[tauri::command]
pub fn list_staff(state: State<'_, AppState>) -> CommandResult<Vec<Staff>> {
    state.with_store(|s| Ok(s.staff_list()?))
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
    state.with_store(|s| {
        Ok(s.add_staff(
            Actor::staff(supervisor.id),
            NewStaff {
                display_name,
                roles,
                pin,
            },
        )?)
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
    state.with_store(|s| Ok(s.drives_on(china_today())?))
}

#[derive(Deserialize)]
pub struct DriveForm {
    site_name: String,
    site_kind: SiteKind,
    vehicle: Option<String>,
}

#[tauri::command]
pub fn start_drive(state: State<'_, AppState>, form: DriveForm) -> CommandResult<Drive> {
    let staff = state.signed_in()?;
    state.with_store(|s| {
        Ok(s.start_drive(
            Actor::staff(staff.id),
            NewDrive {
                site_name: form.site_name,
                site_kind: form.site_kind,
                vehicle: form.vehicle,
                date: china_today(),
                crew: vec![],
            },
        )?)
    })
}

#[tauri::command]
pub fn end_drive(state: State<'_, AppState>, drive_id: RecordId) -> CommandResult<Drive> {
    let staff = state.signed_in()?;
    state.with_store(|s| Ok(s.end_drive(Actor::staff(staff.id), drive_id)?))
}

#[derive(Serialize)]
pub struct DocumentCheck {
    kind: String,
    number: String,
    birth_date: Option<NaiveDate>,
    sex: Option<Sex>,
}

/// Validates an identity document as it is typed or scanned.
#[tauri::command]
pub fn check_document(kind: String, number: String) -> CommandResult<DocumentCheck> {
    let doc = IdentityDocument::parse(&kind, &number, china_today())
        .map_err(|e| CommandError::field("invalid_document", "number", e.to_string()))?;
    let (birth_date, sex) = match &doc {
        IdentityDocument::ResidentId(id) => (Some(id.birth_date()), Some(id.sex())),
        _ => (None, None),
    };
    Ok(DocumentCheck {
        kind: doc.kind().as_str().to_owned(),
        number: doc.number().to_owned(),
        birth_date,
        sex,
    })
}

/// By document number when the text is one, else by name or phone.
#[tauri::command]
pub fn find_donors(state: State<'_, AppState>, query: String) -> CommandResult<Vec<Donor>> {
    state.require(Role::Registration)?;
    state.with_store(|s| {
        if let Ok(doc) = IdentityDocument::parse("resident_id", &query, china_today()) {
            return Ok(s
                .donor_by_document("resident_id", doc.number())?
                .into_iter()
                .collect());
        }
        Ok(s.search_donors(&query, 20)?)
    })
}

#[derive(Deserialize)]
pub struct DonorForm {
    document_kind: String,
    document_number: String,
    name: String,
    sex: Option<Sex>,
    birth_date: Option<NaiveDate>,
    phone: Option<String>,
    address: Option<String>,
    rural: Option<bool>,
}

#[tauri::command]
pub fn register_donor(state: State<'_, AppState>, form: DonorForm) -> CommandResult<Donor> {
    let staff = state.require(Role::Registration)?;
    let document =
        IdentityDocument::parse(&form.document_kind, &form.document_number, china_today())
            .map_err(|e| CommandError::field("invalid_document", "number", e.to_string()))?;
    state.with_store(|s| {
        Ok(s.register_donor(
            Actor::staff(staff.id),
            NewDonor {
                document,
                name: form.name,
                sex: form.sex,
                birth_date: form.birth_date,
                phone: form.phone,
                address: form.address,
                rural: form.rural,
            },
        )?)
    })
}

#[derive(Serialize)]
pub struct DonorOverview {
    donor: Donor,
    donations: Vec<Donation>,
    active_deferrals: Vec<Deferral>,
    cumulative_volume_ml: u64,
    next_eligible: Option<NaiveDate>,
    /// Time and history allow a donation today (the day's measurements still decide).
    eligible_today: bool,
    /// Why not, when not: the check-in screen shows it in red with the date, and
    /// checking the donor in then needs a confirmation.
    check_in: CheckInStatus,
    probable_duplicates: Vec<Donor>,
}

#[tauri::command]
pub fn donor_overview(
    state: State<'_, AppState>,
    donor_id: RecordId,
) -> CommandResult<DonorOverview> {
    state.signed_in()?;
    state.with_store(|s| {
        let history = s
            .donor_history(donor_id)?
            .ok_or_else(|| CommandError::new("missing", "no such donor"))?;
        let today = china_today();
        let check_in = s.check_in_status(donor_id, today)?;
        let next_eligible = check_in.next_eligible;
        Ok(DonorOverview {
            check_in,
            probable_duplicates: s.probable_duplicates(&history.donor)?,
            active_deferrals: history
                .active_deferrals(today)
                .into_iter()
                .cloned()
                .collect(),
            cumulative_volume_ml: history.cumulative_volume_ml(),
            donations: history.donations,
            donor: history.donor,
            eligible_today: next_eligible.is_some_and(|d| d <= today),
            next_eligible,
        })
    })
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
    state.with_store(|s| {
        let drive = s.drive(drive_id)?;
        let status = s.check_in_status(donor_id, drive.date)?;
        let confirmed = confirmation.as_deref().is_some_and(|c| !c.trim().is_empty());
        if !status.eligible_today && !confirmed {
            return Err(CommandError {
                detail: serde_json::json!({
                    "next_eligible": status.next_eligible,
                    "codes": status.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
                }),
                ..CommandError::field(
                    "checkin_needs_confirmation",
                    "confirmation",
                    "this donor may not donate whole blood today: confirm the check-in with a reason",
                )
            });
        }
        Ok(s.check_in_confirmed(
            Actor::staff(staff.id),
            drive_id,
            donor_id,
            confirmation.as_deref(),
        )?)
    })
}

#[tauri::command]
pub fn chair_queue(
    state: State<'_, AppState>,
    drive_id: RecordId,
) -> CommandResult<Vec<QueueEntry>> {
    state.signed_in()?;
    state.with_store(|s| Ok(s.chair_queue(drive_id)?))
}

/// Who the station booked for this drive's site and day, and who has arrived.
#[tauri::command]
pub fn drive_appointments(
    state: State<'_, AppState>,
    drive_id: RecordId,
) -> CommandResult<Vec<lifebridge_store::appointments::AppointmentEntry>> {
    state.signed_in()?;
    state.with_store(|s| Ok(s.drive_appointments(drive_id)?))
}

#[derive(Deserialize)]
pub struct ScreeningForm {
    donor_id: RecordId,
    drive_id: RecordId,
    procedure: Procedure,
    planned_volume_ml: Option<u32>,
    questionnaire_version: String,
    answers: std::collections::BTreeMap<String, serde_json::Value>,
    vitals: Vitals,
    tests: RapidTests,
    athlete: bool,
    /// Product-scoped deferral codes found at this screening (antiplatelet drugs).
    #[serde(default)]
    restrictions: Vec<String>,
}

/// What the screening screen shows: the core's decision, and the deferral catalogue as
/// offered for it (answering codes first, one pre-selected).
#[derive(Serialize)]
pub struct ScreeningView {
    decision: Decision,
    /// The failing rules no one may waive: why there is no waiver button.
    hard_stops: Vec<Reason>,
    /// Every failing rule may be waived (with a reason and the physician's PIN).
    waivable: bool,
    deferral_choices: Vec<DeferralChoice>,
}

fn evaluate_form(s: &lifebridge_store::Store, form: &ScreeningForm) -> CommandResult<Decision> {
    let drive = s.drive(form.drive_id)?;
    Ok(s.evaluate_screening(
        form.donor_id,
        drive.date,
        form.procedure,
        form.planned_volume_ml,
        &form.vitals,
        &form.tests,
        form.athlete,
        &form.restrictions,
    )?)
}

/// Live eligibility while the physician fills the form; records nothing.
#[tauri::command]
pub fn evaluate_screening(
    state: State<'_, AppState>,
    form: ScreeningForm,
) -> CommandResult<ScreeningView> {
    state.require(Role::Physician)?;
    state.with_store(|s| {
        let drive = s.drive(form.drive_id)?;
        let decision = evaluate_form(s, &form)?;
        Ok(ScreeningView {
            hard_stops: decision.hard_stops().into_iter().cloned().collect(),
            waivable: decision.is_waivable(),
            deferral_choices: s.deferral_choices(&decision, drive.date)?,
            decision,
        })
    })
}

/// The command layer's own refusal of a decision the core's verdict does not allow; the
/// store checks the same again.
pub(crate) fn refuse_decision(
    rules: &lifebridge_domain::rules::RuleSet,
    date: NaiveDate,
    decision: &Decision,
    physician: &PhysicianDecision,
    waiver_pin: Option<&str>,
) -> CommandResult<()> {
    let hard: Vec<&str> = decision
        .hard_stops()
        .into_iter()
        .map(|r| r.code.as_str())
        .collect();
    let hard_stop = |what: &str| CommandError {
        detail: serde_json::json!({ "codes": hard }),
        ..CommandError::field(
            "hard_stop",
            "decision",
            format!(
                "{what}: {} cannot be waived (rules table {})",
                hard.join(", "),
                rules.version
            ),
        )
    };
    match physician {
        PhysicianDecision::Accept if !decision.reasons.is_empty() && !hard.is_empty() => {
            Err(hard_stop("cannot accept"))
        }
        PhysicianDecision::Override { .. } if !hard.is_empty() => Err(hard_stop("no waiver")),
        PhysicianDecision::Override { .. } if waiver_pin.is_none_or(|p| p.trim().is_empty()) => {
            Err(CommandError::field(
                "waiver_pin_required",
                "waiver_pin",
                "a waiver needs your PIN again (electronic signature)",
            ))
        }
        PhysicianDecision::Defer { code, until } => {
            eligibility::check_deferral(rules, decision, date, code, *until)
                .map(|_| ())
                .map_err(|e| CommandError {
                    detail: serde_json::json!({ "code": code }),
                    ..CommandError::field("deferral_mismatch", e.field, e.problem)
                })
        }
        _ => Ok(()),
    }
}

#[tauri::command]
pub fn record_screening(
    state: State<'_, AppState>,
    form: ScreeningForm,
    decision: PhysicianDecision,
    waiver_pin: Option<String>,
) -> CommandResult<lifebridge_domain::entities::Screening> {
    record_screening_with(&state, form, decision, waiver_pin)
}

pub(crate) fn record_screening_with(
    state: &AppState,
    form: ScreeningForm,
    decision: PhysicianDecision,
    waiver_pin: Option<String>,
) -> CommandResult<lifebridge_domain::entities::Screening> {
    let staff = state.require(Role::Physician)?;
    state.with_store(|s| {
        let drive = s.drive(form.drive_id)?;
        let verdict = evaluate_form(s, &form)?;
        refuse_decision(
            &s.rules()?,
            drive.date,
            &verdict,
            &decision,
            waiver_pin.as_deref(),
        )?;
        Ok(s.record_screening(
            Actor::staff(staff.id),
            NewScreening {
                donor_id: form.donor_id,
                drive_id: form.drive_id,
                procedure: form.procedure,
                planned_volume_ml: form.planned_volume_ml,
                questionnaire_version: form.questionnaire_version,
                answers: form.answers,
                vitals: form.vitals,
                tests: form.tests,
                athlete: form.athlete,
                decision,
                restrictions: form.restrictions,
                waiver_pin,
            },
        )?)
    })
}

/// The whole deferral catalogue (for restrictions and manual deferrals), as the core
/// offers it when no rule fails.
#[tauri::command]
pub fn deferral_catalogue(state: State<'_, AppState>) -> CommandResult<Vec<DeferralChoice>> {
    state.with_store(|s| {
        let today = china_today();
        let rules = s.rules()?;
        let passing = Decision {
            eligible: true,
            reasons: Vec::new(),
            eligible_from: Some(today),
            rules_version: rules.version.clone(),
            excluded_products: Vec::new(),
        };
        Ok(eligibility::deferral_choices(&rules, &passing, today))
    })
}

/// Writes the slip for the deferral recorded with a screening as a PDF next to the
/// store and returns its path.
#[tauri::command]
pub fn save_deferral_slip(
    state: State<'_, AppState>,
    screening_id: RecordId,
) -> CommandResult<String> {
    state.require(Role::Physician)?;
    let (slip, folder) = state.with_store(|s| {
        let screening = s
            .screening(screening_id)?
            .ok_or_else(|| CommandError::new("missing", "no such screening"))?;
        let history = s
            .donor_history(screening.donor_id)?
            .ok_or_else(|| CommandError::new("missing", "no such donor"))?;
        let rules = s.rules()?;
        let deferral = history
            .deferrals
            .iter()
            .filter(|d| d.screening_id == Some(screening_id) && d.lifts.is_none())
            .find(|d| {
                rules
                    .deferrals
                    .deferral(&d.code)
                    .is_none_or(|k| k.scope.is_all())
            })
            .ok_or_else(|| {
                CommandError::new("missing", "this screening did not defer the donor")
            })?;
        let kind = rules.deferrals.deferral(&deferral.code);
        let drive = s.drive(screening.drive_id)?;
        let physician = s
            .staff_list()?
            .into_iter()
            .find(|p| p.id == screening.physician_id)
            .map(|p| p.display_name)
            .unwrap_or_default();
        Ok((
            lifebridge_labels::deferral_slip::DeferralSlip {
                donor_name: history.donor.name.clone(),
                code: deferral.code.clone(),
                reason_zh: kind.map_or(deferral.reason.clone(), |k| k.zh.clone()),
                reason_en: kind.map_or(deferral.code.clone(), |k| k.en.clone()),
                date: deferral.start,
                until: deferral.until,
                site_name: drive.site_name,
                physician_name: physician,
            },
            format!("slip-{}-{}.pdf", deferral.start, deferral.id),
        ))
    })?;
    let pdf = lifebridge_labels::deferral_slip::render_deferral_slip(&slip)
        .map_err(|e| CommandError::new("labels", e.to_string()))?;
    let dir = state
        .store_path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default()
        .join("slips");
    std::fs::create_dir_all(&dir).map_err(|e| {
        CommandError::new("export", format!("cannot create {}: {e}", dir.display()))
    })?;
    let path = dir.join(folder);
    std::fs::write(&path, pdf).map_err(|e| {
        CommandError::new("export", format!("cannot write {}: {e}", path.display()))
    })?;
    Ok(path.display().to_string())
}

#[derive(Deserialize)]
pub struct StartForm {
    screening_id: RecordId,
    bag_set: BagSet,
    planned_volume_ml: u32,
    arm: Arm,
}

#[tauri::command]
pub fn start_collection(state: State<'_, AppState>, form: StartForm) -> CommandResult<Donation> {
    let staff = state.require(Role::Phlebotomist)?;
    state.with_store(|s| {
        // Product-scoped deferrals: refused here when they rule out what the procedure
        // yields (the store refuses again).
        let screening = s
            .screening(form.screening_id)?
            .ok_or_else(|| CommandError::new("missing", "no such screening"))?;
        let date = s.drive(screening.drive_id)?.date;
        s.excluded_products(screening.donor_id, date, screening.procedure)?;
        Ok(s.start_collection(
            Actor::staff(staff.id),
            StartCollection {
                screening_id: form.screening_id,
                bag_set: form.bag_set,
                planned_volume_ml: form.planned_volume_ml,
                phlebotomist_id: staff.id,
                arm: form.arm,
            },
        )?)
    })
}

#[derive(Deserialize)]
pub struct FinishForm {
    donation_id: RecordId,
    ended_at: Option<DateTime<Utc>>,
    collected_volume_ml: u32,
    reactions: Vec<AdverseReaction>,
    outcome: Outcome,
}

#[tauri::command]
pub fn finish_collection(state: State<'_, AppState>, form: FinishForm) -> CommandResult<Donation> {
    let staff = state.require(Role::Phlebotomist)?;
    state.with_store(|s| {
        Ok(s.finish_collection(
            Actor::staff(staff.id),
            form.donation_id,
            FinishCollection {
                ended_at: form.ended_at.unwrap_or_else(Utc::now),
                collected_volume_ml: form.collected_volume_ml,
                reactions: form.reactions,
                outcome: form.outcome,
            },
        )?)
    })
}

/// Collected volume from the scale, with the station's density.
#[tauri::command]
pub fn volume_from_scale(
    state: State<'_, AppState>,
    gross_g: f64,
    tare_g: f64,
) -> CommandResult<u32> {
    let density = state.with_store(|s| Ok(s.rules()?.collection.grams_per_ml))?;
    lifebridge_domain::entities::volume_from_scale_ml(gross_g, tare_g, density).ok_or_else(|| {
        CommandError::field(
            "invalid",
            "gross_g",
            "the gross weight must exceed the bag's tare weight",
        )
    })
}

#[tauri::command]
pub fn drive_summary(
    state: State<'_, AppState>,
    drive_id: RecordId,
) -> CommandResult<DriveSummary> {
    state.signed_in()?;
    state.with_store(|s| Ok(s.drive_summary(drive_id)?))
}

fn label_error(e: lifebridge_store::labels::LabelError) -> CommandError {
    use lifebridge_store::labels::LabelError;
    let message = e.to_string();
    match e {
        LabelError::ScanRefused {
            result, message, ..
        } => CommandError {
            detail: serde_json::json!({ "result": result }),
            ..CommandError::field("scan_refused", "scan", message)
        },
        LabelError::NotVerified { missing, .. } => CommandError {
            detail: serde_json::json!({ "missing": missing }),
            ..CommandError::new("not_verified", message)
        },
        LabelError::ManualRefused(_) => CommandError::field("manual_refused", "manual", message),
        LabelError::Store(inner) => inner.into(),
        _ => CommandError::new("labels", message),
    }
}

/// The label set of a donation with what has been scanned back, and the eye-readable
/// DIN as it is printed.
#[derive(Serialize)]
pub struct LabelView {
    status: lifebridge_store::labels::LabelSetStatus,
    eye_readable: String,
    /// The data each piece's barcode carries, in print order (for the preview).
    barcodes: Vec<String>,
}

fn label_view(store: &lifebridge_store::Store, donation_id: RecordId) -> CommandResult<LabelView> {
    let status = store.label_status(donation_id)?;
    Ok(LabelView {
        eye_readable: status.din.eye_readable(),
        barcodes: status
            .set
            .iter()
            .map(|p| format!("={}{}", status.din.as_str(), p.flags()))
            .collect(),
        status,
    })
}

#[tauri::command]
pub fn label_status(state: State<'_, AppState>, donation_id: RecordId) -> CommandResult<LabelView> {
    state.signed_in()?;
    state.with_store(|s| label_view(s, donation_id))
}

#[tauri::command]
pub fn print_labels(
    state: State<'_, AppState>,
    donation_id: RecordId,
    tubes: u8,
) -> CommandResult<LabelView> {
    let staff = state.require(Role::Phlebotomist)?;
    state.with_store(|s| {
        s.print_label_set(Actor::staff(staff.id), donation_id, tubes)
            .map_err(label_error)?;
        label_view(s, donation_id)
    })
}

/// A scan (scanner keystrokes or typed) on the collection screen.
#[tauri::command]
pub fn scan_label(
    state: State<'_, AppState>,
    donation_id: RecordId,
    text: String,
) -> CommandResult<LabelView> {
    let staff = state.require(Role::Phlebotomist)?;
    state.with_store(|s| {
        s.record_label_scan(Actor::staff(staff.id), donation_id, &text)
            .map_err(label_error)?;
        label_view(s, donation_id)
    })
}

/// The exception path for a label that cannot be scanned: one piece, its DIN typed
/// with the check character, a reason, and a second crew member's PIN. The store
/// decides (check character, DIN, piece, who may confirm); this only names the actor.
#[tauri::command]
pub fn manual_label_entry(
    state: State<'_, AppState>,
    donation_id: RecordId,
    entry: lifebridge_store::labels::ManualLabelEntry,
) -> CommandResult<LabelView> {
    manual_label_entry_checked(&state, donation_id, &entry)
}

#[tauri::command]
pub fn release_donation(
    state: State<'_, AppState>,
    donation_id: RecordId,
) -> CommandResult<LabelView> {
    let staff = state.require(Role::Phlebotomist)?;
    state.with_store(|s| {
        s.release_donation(Actor::staff(staff.id), donation_id)
            .map_err(label_error)?;
        label_view(s, donation_id)
    })
}

#[tauri::command]
pub fn sync_status(state: State<'_, AppState>) -> CommandResult<crate::sync::SyncView> {
    // Pending comes from the store itself: the replicator only recounts when it syncs,
    // and the crew must see a record join the queue the moment it is saved.
    let pending = state.with_store(|s| Ok(s.pending_changes()?))?;
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

/// Writes the drive summary as JSON next to the store and returns the file's path.
#[tauri::command]
pub fn export_drive_summary(
    state: State<'_, AppState>,
    drive_id: RecordId,
) -> CommandResult<String> {
    state.signed_in()?;
    let summary = state.with_store(|s| Ok(s.drive_summary(drive_id)?))?;
    let dir = state
        .store_path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default()
        .join("exports");
    std::fs::create_dir_all(&dir).map_err(|e| {
        CommandError::new("export", format!("cannot create {}: {e}", dir.display()))
    })?;
    let path = dir.join(format!(
        "drive-{}-{}.json",
        summary.drive.date, summary.drive.id
    ));
    let json = serde_json::to_vec_pretty(&summary)
        .map_err(|e| CommandError::new("export", e.to_string()))?;
    std::fs::write(&path, json).map_err(|e| {
        CommandError::new("export", format!("cannot write {}: {e}", path.display()))
    })?;
    Ok(path.display().to_string())
}

/// What the crew must account for before leaving: unverified sets, printed labels never
/// scanned, superseded prints to destroy, refused scans, DINs left unissued.
#[tauri::command]
pub fn drive_label_account(
    state: State<'_, AppState>,
    drive_id: RecordId,
) -> CommandResult<lifebridge_store::labels::DriveLabelAccount> {
    state.signed_in()?;
    state.with_store(|s| Ok(s.drive_label_account(drive_id)?))
}

/// SVG previews of a donation's label set, drawn from the record by the same code that
/// prints them (the primary bag first).
#[tauri::command]
pub fn label_previews(
    state: State<'_, AppState>,
    donation_id: RecordId,
) -> CommandResult<Vec<String>> {
    state.signed_in()?;
    let facility = std::env::var("LIFEBRIDGE_FACILITY_NAME")
        .unwrap_or_else(|_| "血站 Blood station".to_owned());
    let contents =
        state.with_store(|s| Ok(s.donation_label_contents(donation_id, &facility, None)?))?;
    let font = lifebridge_labels::LabelFont::embedded()
        .map_err(|e| CommandError::new("labels", e.to_string()))?;
    contents
        .iter()
        .map(|content| {
            let size = match content.piece.kind {
                lifebridge_domain::entities::LabelKind::Tube => lifebridge_labels::LabelSize::TUBE,
                _ => lifebridge_labels::LabelSize::BAG,
            };
            let scene = lifebridge_labels::layout(content, size, 203, &font)
                .map_err(|e| CommandError::new("labels", e.to_string()))?;
            Ok(lifebridge_labels::svg::render_svg(&scene, &font))
        })
        .collect()
}

fn cold_chain_error(e: lifebridge_store::cold_chain::ColdChainError) -> CommandError {
    use lifebridge_store::cold_chain::ColdChainError as E;
    let message = e.to_string();
    // The specifics in the catalogue's words, which the screen renders in its language.
    let text = Some(Box::new(e.message()));
    let error = match e {
        // A bag whose product class was excluded (slow draw, product-scoped deferral)
        // has its own code, so the screen can say why it may never go in that box.
        E::Packing(refusal @ lifebridge_domain::cold_chain::PackingRefusal::Excluded { .. }) => {
            CommandError {
                detail: refusal_detail(&refusal),
                ..CommandError::field("product_excluded", "scan", message)
            }
        }
        E::Packing(refusal) => CommandError {
            detail: refusal_detail(&refusal),
            ..CommandError::field("packing_refused", "scan", message)
        },
        E::Unreadable(_) => CommandError::field("unreadable_scan", "scan", message),
        E::NotABagLabel { .. } => CommandError::field("not_a_bag_label", "scan", message),
        E::NotScanned(_) => CommandError::field("not_scanned", "scan", message),
        E::ManualRefused(_) => CommandError::field("manual_refused", "manual", message),
        E::UnknownDin { .. } => CommandError::field("unknown_din", "scan", message),
        E::OtherDrive { .. } => CommandError::field("other_drive", "scan", message),
        E::NotReleased { .. } => CommandError::field("not_released", "scan", message),
        E::AlreadyPacked { .. } => CommandError::field("already_packed", "scan", message),
        E::BoxDispatched { .. } => CommandError::new("box_dispatched", message),
        E::DuplicateBoxCode { .. } => CommandError::field("duplicate_box", "code", message),
        E::NothingToDispatch { .. } => CommandError::new("nothing_to_dispatch", message),
        E::Csv(csv) => CommandError {
            detail: serde_json::json!({ "line": csv.line, "column": csv.column }),
            ..CommandError::field("logger_csv", "file", message)
        },
        // These have codes of their own that the screen translates.
        E::SignIn(inner) => return inner.into(),
        E::Store(inner) => return inner.into(),
    };
    CommandError { text, ..error }
}

/// The DIN and allowed classes of a packing refusal, for the screen to highlight.
fn refusal_detail(refusal: &lifebridge_domain::cold_chain::PackingRefusal) -> serde_json::Value {
    use lifebridge_domain::cold_chain::PackingRefusal as R;
    match refusal {
        R::WrongClass {
            din,
            box_class,
            allowed,
            ..
        } => serde_json::json!({ "din": din, "box_class": box_class, "allowed": allowed }),
        R::Excluded {
            din,
            box_class,
            allowed,
            why,
        } => serde_json::json!({
            "din": din, "box_class": box_class, "allowed": allowed, "why": why,
        }),
        R::StillOnChair { din } | R::Aborted { din } => serde_json::json!({ "din": din }),
    }
}

/// Everything the driver's screen shows for a drive.
#[tauri::command]
pub fn transport_view(
    state: State<'_, AppState>,
    drive_id: RecordId,
) -> CommandResult<lifebridge_store::cold_chain::TransportView> {
    state.require(Role::Driver)?;
    state.with_store(|s| Ok(s.transport_view(drive_id)?))
}

#[tauri::command]
pub fn open_box(
    state: State<'_, AppState>,
    drive_id: RecordId,
    code: String,
    class: lifebridge_domain::cold_chain::ProductClass,
) -> CommandResult<lifebridge_store::cold_chain::TransportView> {
    let staff = state.require(Role::Driver)?;
    state.with_store(|s| {
        s.open_box(Actor::staff(staff.id), drive_id, &code, class)
            .map_err(cold_chain_error)?;
        Ok(s.transport_view(drive_id)?)
    })
}

/// A bag label scanned (or typed) into a box.
#[tauri::command]
pub fn pack_bag(
    state: State<'_, AppState>,
    box_id: RecordId,
    text: String,
) -> CommandResult<lifebridge_store::cold_chain::TransportView> {
    let staff = state.require(Role::Driver)?;
    state.with_store(|s| {
        let packing = s
            .pack_bag(Actor::staff(staff.id), box_id, &text)
            .map_err(cold_chain_error)?;
        let drive_id = drive_of_box(s, packing.box_id)?;
        Ok(s.transport_view(drive_id)?)
    })
}

#[tauri::command]
pub fn unpack_bag(
    state: State<'_, AppState>,
    packing_id: RecordId,
) -> CommandResult<lifebridge_store::cold_chain::TransportView> {
    let staff = state.require(Role::Driver)?;
    state.with_store(|s| {
        let undo = s
            .unpack_bag(Actor::staff(staff.id), packing_id)
            .map_err(cold_chain_error)?;
        let drive_id = drive_of_box(s, undo.box_id)?;
        Ok(s.transport_view(drive_id)?)
    })
}

fn drive_of_box(store: &lifebridge_store::Store, box_id: RecordId) -> CommandResult<RecordId> {
    Ok(store
        .transport_box(box_id)?
        .ok_or_else(|| CommandError::new("missing", format!("transport box {box_id} not found")))?
        .drive_id)
}

/// A temperature read off the box's thermometer; `measured_at` defaults to now.
#[tauri::command]
pub fn record_temperature(
    state: State<'_, AppState>,
    box_id: RecordId,
    celsius: f64,
    measured_at: Option<DateTime<Utc>>,
) -> CommandResult<lifebridge_store::cold_chain::TransportView> {
    let staff = state.require(Role::Driver)?;
    state.with_store(|s| {
        s.record_temperature(
            Actor::staff(staff.id),
            box_id,
            measured_at.unwrap_or_else(Utc::now),
            celsius,
        )
        .map_err(cold_chain_error)?;
        let drive_id = drive_of_box(s, box_id)?;
        Ok(s.transport_view(drive_id)?)
    })
}

#[derive(Serialize)]
pub struct LoggerImportView {
    import: lifebridge_store::cold_chain::LoggerImport,
    view: lifebridge_store::cold_chain::TransportView,
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
        let import = s
            .import_logger_csv(Actor::staff(staff.id), box_id, &file_name, &text)
            .map_err(cold_chain_error)?;
        let drive_id = drive_of_box(s, box_id)?;
        Ok(LoggerImportView {
            import,
            view: s.transport_view(drive_id)?,
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
    let signed = state.with_store(|s| {
        s.dispatch(Actor::staff(staff.id), drive_id, staff.id, &pin)
            .map_err(cold_chain_error)
    })?;
    manifest_view(&state, signed)
}

/// A signed manifest with its QR code(s) drawn for the screen, and the station's signed
/// hand-off of it once one has come back by sync.
#[derive(Serialize)]
pub struct ManifestView {
    signed: lifebridge_store::cold_chain::SignedManifest,
    qr_texts: Vec<String>,
    qr_svgs: Vec<String>,
    handoffs: Vec<lifebridge_domain::handoff::HandoffRecord>,
}

fn manifest_view(
    state: &AppState,
    signed: lifebridge_store::cold_chain::SignedManifest,
) -> CommandResult<ManifestView> {
    let handoffs = state.with_store(|s| Ok(s.manifest_handoffs(signed.manifest.id)?))?;
    let qr_texts = lifebridge_protocol::manifest_code::encode(&signed.manifest);
    let qr_svgs = qr_texts
        .iter()
        .map(|t| lifebridge_labels::manifest_pdf::qr_svg(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CommandError::new("labels", e.to_string()))?;
    Ok(ManifestView {
        signed,
        qr_texts,
        qr_svgs,
        handoffs,
    })
}

fn load_manifest(
    state: &AppState,
    manifest_id: RecordId,
) -> CommandResult<lifebridge_store::cold_chain::SignedManifest> {
    state
        .with_store(|s| Ok(s.manifest(manifest_id)?))?
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
    let pdf = lifebridge_labels::manifest_pdf::render_manifest_pdf(&signed.manifest, &qr_texts)
        .map_err(|e| CommandError::new("labels", e.to_string()))?;
    let dir = state
        .store_path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default()
        .join("manifests");
    std::fs::create_dir_all(&dir).map_err(|e| {
        CommandError::new("export", format!("cannot create {}: {e}", dir.display()))
    })?;
    let path = dir.join(format!(
        "manifest-{}-{}.pdf",
        signed.manifest.drive_date, signed.manifest.id
    ));
    std::fs::write(&path, pdf).map_err(|e| {
        CommandError::new("export", format!("cannot write {}: {e}", path.display()))
    })?;
    Ok(path.display().to_string())
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
        return Err(CommandError::field(
            "manual_refused",
            "witness",
            "the second crew member must be someone other than the one signed in / 须由另一名工作人员确认",
        ));
    }
    Ok(staff)
}

/// [`manual_label_entry`] without the window: the phlebotomist at the chair, a witness
/// who is not them, then the store.
pub(crate) fn manual_label_entry_checked(
    state: &AppState,
    donation_id: RecordId,
    entry: &lifebridge_store::labels::ManualLabelEntry,
) -> CommandResult<LabelView> {
    let staff = manual_entry_actor(state, Role::Phlebotomist, entry.witness)?;
    state.with_store(|s| {
        s.record_manual_label_entry(Actor::staff(staff.id), donation_id, entry)
            .map_err(label_error)?;
        label_view(s, donation_id)
    })
}

/// A bag whose label cannot be scanned, packed by typing its DIN with the check
/// character, a reason and a second crew member's PIN (not the signed-in driver's).
#[tauri::command]
pub fn pack_bag_manual(
    state: State<'_, AppState>,
    box_id: RecordId,
    entry: lifebridge_store::cold_chain::ManualPackEntry,
) -> CommandResult<lifebridge_store::cold_chain::TransportView> {
    pack_bag_manual_checked(&state, box_id, &entry)
}

pub(crate) fn pack_bag_manual_checked(
    state: &AppState,
    box_id: RecordId,
    entry: &lifebridge_store::cold_chain::ManualPackEntry,
) -> CommandResult<lifebridge_store::cold_chain::TransportView> {
    let staff = manual_entry_actor(state, Role::Driver, entry.witness)?;
    state.with_store(|s| {
        let packing = s
            .pack_bag_manual(Actor::staff(staff.id), box_id, entry)
            .map_err(cold_chain_error)?;
        let drive_id = drive_of_box(s, packing.box_id)?;
        Ok(s.transport_view(drive_id)?)
    })
}

#[cfg(test)]
mod manual_entry_tests {
    //! The command layer's checks of manual entry, without a window: an `AppState` on a
    //! real store file, the session set as sign-in would.
    #![allow(clippy::unwrap_used)]
    use super::*;
    use lifebridge_store::{StoreKey, demo};

    struct Fixture {
        state: AppState,
        dir: std::path::PathBuf,
        phleb: lifebridge_domain::entities::Staff,
        driver: lifebridge_domain::entities::Staff,
        donation: lifebridge_domain::entities::Donation,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn fixture() -> Fixture {
        let dir = std::env::temp_dir().join(format!("lifebridge-cmd-{}", uuid::Uuid::now_v7()));
        let state = AppState::new(dir.join("device.db"), "BUS-TEST".into());
        let shared = state
            .unlock(&StoreKey::new("correct horse battery").unwrap())
            .unwrap();
        let mut ids = Vec::new();
        let (phleb, driver, donation) = {
            let mut store = crate::state::lock(&shared);
            demo::seed(&mut store, 1, |id| {
                ids.push(id);
                Ok(())
            })
            .unwrap();
            (
                store.staff_by_name("采血护士 张静").unwrap().unwrap(),
                store.staff_by_name("司机 刘洋").unwrap().unwrap(),
                store.donation(ids[0]).unwrap().unwrap(),
            )
        };
        Fixture {
            state,
            dir,
            phleb,
            driver,
            donation,
        }
    }

    fn chair_entry(f: &Fixture, witness: RecordId) -> lifebridge_store::labels::ManualLabelEntry {
        lifebridge_store::labels::ManualLabelEntry {
            piece: lifebridge_domain::labels::LabelPiece::new(
                lifebridge_domain::entities::LabelKind::Bag,
                1,
            ),
            typed: format!(
                "{} {}",
                f.donation.din.as_str(),
                f.donation.din.check_char()
            ),
            reason: "label smudged".into(),
            witness,
            witness_pin: demo::DEMO_PIN.into(),
        }
    }

    #[test]
    fn chair_manual_entry_needs_the_phlebotomist_and_another_witness() {
        let f = fixture();
        let entry = chair_entry(&f, f.phleb.id);
        // Nobody signed in.
        let err = manual_label_entry_checked(&f.state, f.donation.id, &entry)
            .err()
            .unwrap();
        assert_eq!(err.code, "signed_out");
        // The driver may not verify labels at the chair.
        f.state.set_session(Some(f.driver.clone()));
        let err =
            manual_label_entry_checked(&f.state, f.donation.id, &chair_entry(&f, f.driver.id))
                .err()
                .unwrap();
        assert_eq!(err.code, "forbidden");
        // The phlebotomist cannot witness their own entry: refused before the store.
        f.state.set_session(Some(f.phleb.clone()));
        let err = manual_label_entry_checked(&f.state, f.donation.id, &entry)
            .err()
            .unwrap();
        assert_eq!(
            (err.code, err.field.as_deref()),
            ("manual_refused", Some("witness"))
        );
    }

    #[test]
    fn packing_by_manual_entry_needs_the_driver_and_another_witness() {
        let f = fixture();
        f.state.set_session(Some(f.driver.clone()));
        let box_id = f
            .state
            .with_store(|s| {
                Ok(s.open_box(
                    Actor::staff(f.driver.id),
                    f.donation.drive_id,
                    "BOX-R1",
                    lifebridge_domain::cold_chain::ProductClass::RedCellWholeBlood,
                )
                .map_err(cold_chain_error)?
                .id)
            })
            .unwrap();
        let entry =
            |witness: RecordId, typed: String| lifebridge_store::cold_chain::ManualPackEntry {
                typed,
                reason: "label torn".into(),
                witness,
                witness_pin: demo::DEMO_PIN.into(),
            };
        let typed = format!(
            "{} {}",
            f.donation.din.as_str(),
            f.donation.din.check_char()
        );
        // The signed-in driver as their own witness: refused in the command layer.
        let err = pack_bag_manual_checked(&f.state, box_id, &entry(f.driver.id, typed.clone()))
            .err()
            .unwrap();
        assert_eq!(
            (err.code, err.field.as_deref()),
            ("manual_refused", Some("witness"))
        );
        // A phlebotomist may not pack.
        f.state.set_session(Some(f.phleb.clone()));
        let err = pack_bag_manual_checked(&f.state, box_id, &entry(f.driver.id, typed.clone()))
            .err()
            .unwrap();
        assert_eq!(err.code, "forbidden");
        // The driver with the nurse as witness, but the DIN without its check character:
        // the store refuses, and the code says it was the manual entry.
        f.state.set_session(Some(f.driver.clone()));
        let err = pack_bag_manual_checked(
            &f.state,
            box_id,
            &entry(f.phleb.id, f.donation.din.as_str().to_owned()),
        )
        .err()
        .unwrap();
        assert_eq!(err.code, "manual_refused");
        // All of it: packed, and the transport view lists the bag in its box.
        let view = pack_bag_manual_checked(&f.state, box_id, &entry(f.phleb.id, typed)).unwrap();
        let json = serde_json::to_value(&view).unwrap();
        assert!(json.to_string().contains(f.donation.din.as_str()));
        // A scan of the bag label's data without the AIM prefix is not a scan.
        let err = f
            .state
            .with_store(|s| {
                s.pack_bag(
                    Actor::staff(f.driver.id),
                    box_id,
                    &format!("={}01", f.donation.din.as_str()),
                )
                .map_err(cold_chain_error)
            })
            .err()
            .unwrap();
        assert_eq!(err.code, "not_scanned");
    }
}

#[cfg(test)]
mod tests {
    //! The command layer refuses every hard stop itself, before the store (which refuses
    //! them again), with the code the screen translates.
    #![allow(clippy::unwrap_used)]

    use lifebridge_domain::entities::{PhysicianDecision, RapidTests, Role, SiteKind, TestResult};
    use lifebridge_domain::resident_id::IdentityDocument;
    use lifebridge_domain::rules::RuleSet;
    use lifebridge_store::records::{NewDonor, NewDrive, NewStaff};
    use lifebridge_store::{Actor, StoreKey, china_today};

    use super::*;

    struct Fixture {
        state: AppState,
        dir: std::path::PathBuf,
        drive: RecordId,
        physician: Staff,
        nurse: Staff,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn fixture() -> Fixture {
        let dir =
            std::env::temp_dir().join(format!("lifebridge-commands-{}", uuid::Uuid::now_v7()));
        let state = AppState::new(dir.join("device.db"), "TEST-BUS".into());
        state
            .unlock(&StoreKey::new("correct horse battery").unwrap())
            .unwrap();
        let (physician, nurse, drive) = state
            .with_store(|s| {
                let add = |s: &mut lifebridge_store::Store, name: &str, role| {
                    s.add_staff(
                        Actor::system(),
                        NewStaff {
                            display_name: name.into(),
                            roles: vec![role],
                            pin: "2468".into(),
                        },
                    )
                };
                let physician = add(s, "王强", Role::Physician)?;
                let nurse = add(s, "李敏", Role::Registration)?;
                let drive = s.start_drive(
                    Actor::staff(nurse.id),
                    NewDrive {
                        site_name: "城关中学".into(),
                        site_kind: SiteKind::Vehicle,
                        vehicle: Some("BUS-07".into()),
                        date: china_today(),
                        crew: vec![physician.id, nurse.id],
                    },
                )?;
                Ok((physician, nurse, drive.id))
            })
            .unwrap();
        Fixture {
            state,
            dir,
            drive,
            physician,
            nurse,
        }
    }

    fn donor(f: &Fixture, n: u64) -> RecordId {
        let number = lifebridge_store::demo::synthetic_resident_id(n, china_today());
        f.state
            .with_store(|s| {
                Ok(s.register_donor(
                    Actor::staff(f.nurse.id),
                    NewDonor {
                        document: IdentityDocument::parse("resident_id", &number, china_today())
                            .unwrap(),
                        name: format!("献血者{n}"),
                        sex: None,
                        birth_date: None,
                        phone: None,
                        address: None,
                        rural: None,
                    },
                )?
                .id)
            })
            .unwrap()
    }

    fn form(f: &Fixture, donor_id: RecordId, hbsag: TestResult) -> ScreeningForm {
        ScreeningForm {
            donor_id,
            drive_id: f.drive,
            procedure: Procedure::WholeBlood,
            planned_volume_ml: Some(400),
            questionnaire_version: "q1".into(),
            answers: Default::default(),
            vitals: Vitals {
                weight_kg: 70.0,
                systolic_mmhg: 120.0,
                diastolic_mmhg: 80.0,
                pulse_bpm: 72.0,
                temperature_c: 36.6,
            },
            tests: RapidTests {
                hemoglobin_g_l: Some(140.0),
                hbsag: Some(hbsag),
                ..RapidTests::default()
            },
            athlete: false,
            restrictions: Vec::new(),
        }
    }

    fn screenings(f: &Fixture) -> i64 {
        f.state
            .with_store(|s| {
                Ok(s.connection()
                    .query_row("SELECT COUNT(*) FROM screening", [], |r| r.get(0))
                    .map_err(lifebridge_store::StoreError::from)?)
            })
            .unwrap()
    }

    #[test]
    fn refuse_decision_names_every_hard_stop_before_the_store_is_asked() {
        let f = fixture();
        let d = donor(&f, 1);
        let decision = f
            .state
            .with_store(|s| evaluate_form(s, &form(&f, d, TestResult::Positive)))
            .unwrap();
        let rules = RuleSet::gb18467_2011();
        let waive = PhysicianDecision::Override {
            overridden_codes: vec!["HBSAG_POSITIVE".into()],
            reason: "rechecked".into(),
        };
        for physician in [PhysicianDecision::Accept, waive] {
            let err = refuse_decision(&rules, china_today(), &decision, &physician, Some("2468"))
                .unwrap_err();
            assert_eq!(err.code, "hard_stop");
            assert_eq!(err.detail["codes"], serde_json::json!(["HBSAG_POSITIVE"]));
        }
        let cold = PhysicianDecision::Defer {
            code: "COMMON_COLD".into(),
            until: None,
        };
        let err = refuse_decision(&rules, china_today(), &decision, &cold, None).unwrap_err();
        assert_eq!(err.code, "deferral_mismatch");
        let right = PhysicianDecision::Defer {
            code: "HBSAG_POSITIVE".into(),
            until: None,
        };
        assert!(refuse_decision(&rules, china_today(), &decision, &right, None).is_ok());
    }

    #[test]
    fn record_screening_refuses_hard_stops_and_writes_nothing() {
        let f = fixture();
        f.state.set_session(Some(f.physician.clone()));
        let d = donor(&f, 2);
        let waive = PhysicianDecision::Override {
            overridden_codes: vec!["HBSAG_POSITIVE".into()],
            reason: "rechecked".into(),
        };
        let err = record_screening_with(
            &f.state,
            form(&f, d, TestResult::Positive),
            waive,
            Some("2468".into()),
        )
        .unwrap_err();
        assert_eq!(err.code, "hard_stop");
        let err = record_screening_with(
            &f.state,
            form(&f, d, TestResult::Positive),
            PhysicianDecision::Accept,
            None,
        )
        .unwrap_err();
        assert_eq!(err.code, "hard_stop");
        assert_eq!(screenings(&f), 0);
        // The view tells the screen why there is no waiver button.
        let view = f
            .state
            .with_store(|s| evaluate_form(s, &form(&f, d, TestResult::Positive)))
            .unwrap();
        assert!(!view.is_waivable());
        let deferred = record_screening_with(
            &f.state,
            form(&f, d, TestResult::Positive),
            PhysicianDecision::Defer {
                code: "HBSAG_POSITIVE".into(),
                until: None,
            },
            None,
        )
        .unwrap();
        assert!(!deferred.decision.permits_donation());
    }

    #[test]
    fn check_in_of_a_donor_inside_an_interval_needs_a_confirmation() {
        let f = fixture();
        let d = donor(&f, 3);
        f.state
            .with_store(|s| {
                s.record_deferral(
                    Actor::staff(f.physician.id),
                    lifebridge_store::screening::NewDeferral {
                        donor_id: d,
                        code: "TATTOO".into(),
                        reason: "tattoo".into(),
                        start: china_today(),
                        until: None,
                    },
                )?;
                Ok(())
            })
            .unwrap();
        f.state.set_session(Some(f.nurse.clone()));
        let err = check_in_with(&f.state, f.drive, d, None).unwrap_err();
        assert_eq!(err.code, "checkin_needs_confirmation");
        assert_eq!(err.field.as_deref(), Some("confirmation"));
        assert!(err.detail["next_eligible"].is_string());
        let err = check_in_with(&f.state, f.drive, d, Some("  ".into())).unwrap_err();
        assert_eq!(err.code, "checkin_needs_confirmation");
        check_in_with(
            &f.state,
            f.drive,
            d,
            Some("asked to see the physician".into()),
        )
        .unwrap();
    }
}
