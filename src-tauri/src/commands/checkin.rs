//! The check-in screen: documents, finding and registering donors, the donor overview,
//! check-in, the queue, the station's appointments, and the donor's pre-filled QR (read
//! by the tablet's camera, a hand scanner, or pasted).

use std::time::{Duration, Instant};

use lifebridge_domain::entities::{Donor, RecordId, Role, Visit};
use lifebridge_domain::messages::Message;
use lifebridge_print::{FrameSource, ImageFiles, Symbology, decode_frame};
use lifebridge_store::appointments::AppointmentEntry;
use lifebridge_store::drive_day::QueueEntry;
use lifebridge_store::prefill::{PrefillView, PrefilledView};
use lifebridge_store::screens::{DocumentCheck, DonorForm, DonorOverview};
use lifebridge_store::{Actor, china_today};
use tauri::State;

use crate::error::{CommandError, CommandResult};
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

/// What a scanned pre-fill code holds and whom it names, checked against this tablet's
/// questionnaires for the drive's day (China time); refused in the catalogue's words (expired,
/// other version, damaged, not a pre-fill code) so the nurse falls back to the tablet.
#[tauri::command]
pub fn read_prefill(
    state: State<'_, AppState>,
    drive_id: RecordId,
    text: String,
) -> CommandResult<PrefillView> {
    state.require(Role::Registration)?;
    state.call(|s| s.read_prefill(drive_id, &text))
}

/// Checks in the donor a pre-fill code names (registering them from it when this
/// tablet does not know the document), the answers kept with the visit. The code is read
/// again here: the screen's copy of what it holds is not trusted.
#[tauri::command]
pub fn check_in_prefilled(
    state: State<'_, AppState>,
    drive_id: RecordId,
    text: String,
    confirmation: Option<String>,
) -> CommandResult<Visit> {
    let staff = state.require(Role::Registration)?;
    state.call(|s| {
        s.check_in_prefilled(
            Actor::staff(staff.id),
            drive_id,
            &text,
            china_today(),
            confirmation.as_deref(),
        )
    })
}

/// The answers the donor brought to this drive (as recorded and in words), for the
/// screening questionnaire to start from.
#[tauri::command]
pub fn prefilled_answers(
    state: State<'_, AppState>,
    drive_id: RecordId,
    donor_id: RecordId,
) -> CommandResult<Option<PrefilledView>> {
    state.signed_in()?;
    state.call(|s| s.prefilled_view(drive_id, donor_id))
}

/// How long the camera looks for a QR before giving up.
pub(crate) const CAMERA_SECONDS: u64 = 10;

/// Reads camera frames until a QR is found (or [`CAMERA_SECONDS`] pass) and returns its
/// text for [`read_prefill`]. With `LIFEBRIDGE_CAMERA_FILES` set (image paths separated
/// by `:`), it reads those files instead: the test and training hook (docs/prefill.md).
#[tauri::command]
pub async fn scan_camera(state: State<'_, AppState>) -> CommandResult<String> {
    state.require(Role::Registration)?;
    // Off the main thread: the window stays responsive while the camera looks.
    tauri::async_runtime::spawn_blocking(|| {
        scan_frames(std::env::var_os("LIFEBRIDGE_CAMERA_FILES"))
    })
    .await
    .map_err(|e| camera_unavailable(e.to_string()))?
}

pub(crate) fn scan_frames(files: Option<std::ffi::OsString>) -> CommandResult<String> {
    let mut source: Box<dyn FrameSource> = match files {
        Some(paths) => Box::new(ImageFiles::new(std::env::split_paths(&paths).collect())),
        None => open_camera()?,
    };
    let deadline = Instant::now() + Duration::from_secs(CAMERA_SECONDS);
    while Instant::now() < deadline {
        let Some(frame) = source
            .next_frame()
            .map_err(|e| camera_unavailable(e.to_string()))?
        else {
            break;
        };
        if let Some(found) = decode_frame(&frame)
            .into_iter()
            .find(|d| d.symbology == Symbology::Qr)
        {
            return Ok(found.text);
        }
    }
    let text =
        Message::new("checkin.camera_nothing_found").with("seconds", CAMERA_SECONDS.to_string());
    Err(CommandError {
        message: text.to_string(),
        text: Some(Box::new(text)),
        ..CommandError::new("camera", "")
    })
}

#[cfg(feature = "camera")]
fn open_camera() -> CommandResult<Box<dyn FrameSource>> {
    lifebridge_print::camera::CameraSource::open(0)
        .map(|c| Box::new(c) as Box<dyn FrameSource>)
        .map_err(|e| camera_unavailable(e.to_string()))
}

#[cfg(not(feature = "camera"))]
fn open_camera() -> CommandResult<Box<dyn FrameSource>> {
    Err(camera_unavailable(
        "this build has no camera support (feature `camera`)".to_owned(),
    ))
}

fn camera_unavailable(detail: String) -> CommandError {
    let text = Message::new("checkin.camera_unavailable").with("detail", detail);
    CommandError {
        message: text.to_string(),
        text: Some(Box::new(text)),
        ..CommandError::new("camera", "")
    }
}
