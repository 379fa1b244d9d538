//! The receiving desk (docs/api.md, "Receiving desk"): station staff sign in with a PIN,
//! load the driver's manifest (replicated, or from its QR), scan every bag, and both
//! parties sign the hand-off, which goes back to the vehicle on its next pull.
//!
//! The desk page (`desk_ui`) only displays: what counts as missing, extra, wrong box,
//! excursion (one decision per box), over time or missing tubes, and each unit's status,
//! comes from `lifebridge_domain::handoff::reconcile` here.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use lifebridge_domain::cold_chain::{Manifest, Signatory};
use lifebridge_domain::din::Din;
use lifebridge_domain::entities::Role;
use lifebridge_domain::handoff::{
    self, DeskManual, DeskScan, HandoffError, Reasons, Reconciliation,
};
use lifebridge_domain::label_piece::{LabelKind, LabelPiece};
use lifebridge_domain::labels::{LabelScanError, read_typed};
use lifebridge_domain::messages::Message;
use lifebridge_domain::rules::RuleSet;
use lifebridge_protocol::manifest_code::{self, ManifestCodeError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::desk::ReceiptRow;
use crate::desk_auth::{DeskAuth, LOCKOUT_MINUTES, Refused, pin_matches};
use crate::manifests::ManifestRow;
use crate::staff::{StaffRole, StaffRow};
use crate::state::AppState;
use crate::storage::StorageError;

struct Desk {
    app: Arc<AppState>,
    auth: DeskAuth,
}

impl Desk {
    /// The rules table the station last published to its vehicles (its time limits and
    /// ranges are the station's), or the embedded GB 18467-2011 table before any was.
    async fn rules(&self) -> DeskResult<RuleSet> {
        Ok(match self.app.storage.latest_reference("rules").await? {
            Some(body) => RuleSet::from_json(&body).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "published rules table unreadable; using the embedded one");
                RuleSet::gb18467_2011()
            }),
            None => RuleSet::gb18467_2011(),
        })
    }
}

/// An error answer for the desk: a code the page switches on, the refusal as a catalogue
/// message (`text`, which the page renders in its language), the same in English
/// (`message`, for logs and scripts), and what it concerns.
#[derive(Debug, Serialize)]
pub struct DeskError {
    #[serde(skip)]
    status: StatusCode,
    pub error: &'static str,
    /// Boxed: an error stays small on the happy path's stack. The answer also carries
    /// it in English as `message` (see `into_response`).
    pub text: Box<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub din: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_parts: Option<Vec<usize>>,
    /// The box a refused signing names (a box excursion without its decision).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub box_code: Option<String>,
}

impl DeskError {
    fn new(status: StatusCode, error: &'static str, text: Message) -> DeskError {
        DeskError {
            status,
            error,
            text: Box::new(text),
            din: None,
            missing_parts: None,
            box_code: None,
        }
    }

    fn invalid(error: &'static str, text: Message) -> DeskError {
        DeskError::new(StatusCode::UNPROCESSABLE_ENTITY, error, text)
    }
}

impl IntoResponse for DeskError {
    fn into_response(self) -> Response {
        let mut body = json!(&self);
        body["message"] = json!(self.text.to_string());
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<StorageError> for DeskError {
    fn from(e: StorageError) -> DeskError {
        tracing::error!(error = %e, "desk storage failure");
        DeskError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            Message::new("receiving.unavailable"),
        )
    }
}

impl From<JsonRejection> for DeskError {
    fn from(e: JsonRejection) -> DeskError {
        DeskError::new(
            StatusCode::BAD_REQUEST,
            "malformed_body",
            Message::new("receiving.malformed_body").with("detail", e.body_text()),
        )
    }
}

type DeskResult<T> = Result<T, DeskError>;

/// The desk's routes: the pages and `/desk/api/*`.
pub fn router(app: Arc<AppState>) -> Router {
    let desk = Arc::new(Desk {
        app,
        auth: DeskAuth::default(),
    });
    Router::new()
        .route("/", get(|| async { axum::response::Redirect::to("/desk") }))
        .route("/desk", get(crate::desk_ui::desk_page))
        .route("/stats", get(crate::desk_ui::stats_page))
        .route("/desk/assets/{file}", get(crate::desk_ui::asset))
        .route("/desk/api/sign-in", post(sign_in))
        .route("/desk/api/manifests", get(manifests))
        .route("/desk/api/manifests/qr", post(load_qr))
        .route("/desk/api/receipts", post(open_receipt))
        .route("/desk/api/receipts/{id}", get(receipt))
        .route("/desk/api/receipts/{id}/scans", post(scan))
        .route("/desk/api/receipts/{id}/manual", post(manual_entry))
        .route("/desk/api/receipts/{id}/sign", post(sign))
        .route("/desk/api/statistics", get(statistics))
        .with_state(desk)
}

fn session(desk: &Desk, headers: &HeaderMap) -> DeskResult<Signatory> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    desk.auth.session(token, Utc::now()).ok_or_else(|| {
        DeskError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            Message::new("receiving.unauthorized"),
        )
    })
}

fn poisoned() -> DeskError {
    DeskError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        Message::new("receiving.internal"),
    )
}

/// Who is asked for a PIN, as the refusals name them (`receiving.who.*`).
#[derive(Debug, Clone, Copy)]
enum Who {
    /// Signing in at the desk.
    ReceivingStaff,
    /// The signed-in receiver, signing.
    Receiver,
    Driver,
    SecondPerson,
}

impl Who {
    fn name(self) -> Message {
        Message::new(match self {
            Who::ReceivingStaff => "receiving.who.receiving_staff",
            Who::Receiver => "receiving.who.receiver",
            Who::Driver => "receiving.who.driver",
            Who::SecondPerson => "receiving.who.second_person",
        })
    }
}

/// Checks `name`'s PIN, counted against the name's lock-out and the address's budget
/// before it is checked; the staff member when the PIN is right, the account open and
/// (if `role` is given) holding that role. Every failure answers the same `wrong_pin`,
/// so a right PIN of a closed account or of someone without the role tells nothing.
async fn check_pin(
    desk: &Desk,
    from: IpAddr,
    name: &str,
    pin: &str,
    who: Who,
    role: Option<StaffRole>,
) -> DeskResult<StaffRow> {
    let name = name.trim();
    let attempt = desk
        .auth
        .begin(name, from, Utc::now())
        .map_err(|refused| match refused {
            Refused::NameLocked { until } => DeskError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "locked_out",
                Message::new("receiving.locked_out")
                    .with("who", who.name())
                    .with("name", name)
                    .with("until", until.format("%H:%M").to_string()),
            ),
            Refused::AddressLimited { until } => DeskError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                Message::new("receiving.too_many_attempts")
                    .with("until", until.format("%H:%M").to_string()),
            ),
        })?;
    let staff = desk.app.storage.staff_by_name(name).await?;
    let hash = staff.as_ref().map(|s| s.pin_hash.clone());
    let pin = pin.to_owned();
    // argon2 takes tens of milliseconds of CPU by design: off the async workers, so
    // a burst of sign-ins cannot stall pushes.
    let matches = tokio::task::spawn_blocking(move || pin_matches(hash.as_deref(), &pin))
        .await
        .map_err(|_| poisoned())?;
    match staff {
        Some(s) if matches && s.active && role.is_none_or(|r| s.has_role(r)) => {
            desk.auth.succeeded(attempt);
            Ok(s)
        }
        _ => Err(DeskError::new(
            StatusCode::UNAUTHORIZED,
            "wrong_pin",
            Message::new("receiving.wrong_pin")
                .with("who", who.name())
                .with("left", attempt.left.to_string())
                .with("minutes", LOCKOUT_MINUTES.to_string()),
        )),
    }
}

#[derive(Deserialize)]
struct SignInRequest {
    name: String,
    pin: String,
}

async fn sign_in(
    State(desk): State<Arc<Desk>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    body: Result<axum::Json<SignInRequest>, JsonRejection>,
) -> DeskResult<Response> {
    let axum::Json(req) = body?;
    let staff = check_pin(
        &desk,
        from.ip(),
        &req.name,
        &req.pin,
        Who::ReceivingStaff,
        Some(StaffRole::Receiving),
    )
    .await?;
    let signatory = Signatory {
        staff_id: staff.staff_id,
        name: staff.name,
    };
    let token = desk.auth.open_session(signatory.clone(), Utc::now());
    Ok(axum::Json(json!({"token": token, "staff": signatory})).into_response())
}

/// A manifest as the desk lists it.
#[derive(Debug, Serialize)]
pub struct ManifestSummary {
    pub manifest_id: Uuid,
    pub device_id: Uuid,
    pub site_name: String,
    pub vehicle: Option<String>,
    pub driver: String,
    pub dispatched_at: String,
    pub boxes: usize,
    pub bags: usize,
    pub replicated: bool,
    pub by_qr: bool,
    /// Whether the QR copy and the replicated copy are the same manifest, once both are in.
    pub qr_matches: Option<bool>,
}

fn summary(row: &ManifestRow) -> DeskResult<ManifestSummary> {
    let m = row.manifest()?;
    Ok(ManifestSummary {
        manifest_id: row.manifest_id,
        device_id: row.device_id,
        site_name: row.site_name.clone(),
        vehicle: m.vehicle.clone(),
        driver: m.driver.name.clone(),
        dispatched_at: row.dispatched_at.clone(),
        boxes: m.boxes.len(),
        bags: m.boxes.iter().map(|b| b.bags.len()).sum(),
        replicated: row.replicated_body.is_some(),
        by_qr: row.qr_body.is_some(),
        qr_matches: row.qr_matches,
    })
}

async fn manifests(State(desk): State<Arc<Desk>>, headers: HeaderMap) -> DeskResult<Response> {
    session(&desk, &headers)?;
    let rows = desk.app.storage.manifest_rows(50).await?;
    let list = rows.iter().map(summary).collect::<DeskResult<Vec<_>>>()?;
    Ok(axum::Json(list).into_response())
}

#[derive(Deserialize)]
struct QrRequest {
    /// The scanned QR part(s), in any order.
    parts: Vec<String>,
}

async fn load_qr(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    body: Result<axum::Json<QrRequest>, JsonRejection>,
) -> DeskResult<Response> {
    session(&desk, &headers)?;
    let axum::Json(req) = body?;
    let manifest = manifest_code::decode(&req.parts).map_err(|e| {
        let mut err = DeskError::invalid("manifest_qr", e.message());
        if let ManifestCodeError::MissingParts { missing, .. } = e {
            err.error = "manifest_qr_incomplete";
            err.missing_parts = Some(missing);
        }
        err
    })?;
    let row = desk
        .app
        .storage
        .put_manifest_qr(&manifest, Utc::now())
        .await?;
    tracing::info!(manifest_id = %row.manifest_id, qr_matches = ?row.qr_matches, "manifest loaded from QR");
    Ok(axum::Json(summary(&row)?).into_response())
}

#[derive(Deserialize)]
struct OpenRequest {
    manifest_ids: Vec<Uuid>,
}

async fn open_receipt(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    body: Result<axum::Json<OpenRequest>, JsonRejection>,
) -> DeskResult<Response> {
    let staff = session(&desk, &headers)?;
    let axum::Json(req) = body?;
    if req.manifest_ids.is_empty() {
        return Err(DeskError::invalid(
            "no_manifest",
            HandoffError::NoManifest.message(),
        ));
    }
    for id in &req.manifest_ids {
        if desk.app.storage.manifest_row(*id).await?.is_none() {
            return Err(DeskError::new(
                StatusCode::NOT_FOUND,
                "unknown_manifest",
                Message::new("receiving.unknown_manifest").with("id", id.to_string()),
            ));
        }
    }
    let receipt = ReceiptRow {
        receipt_id: Uuid::now_v7(),
        manifest_ids: req.manifest_ids,
        opened_by: staff.staff_id,
        opened_at: Utc::now(),
        signed_at: None,
        scans: vec![],
    };
    desk.app.storage.open_receipt(&receipt).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"receipt_id": receipt.receipt_id})),
    )
        .into_response())
}

/// Everything the desk page shows for one receiving.
#[derive(Debug, Serialize)]
pub struct ReceiptView {
    pub receipt_id: Uuid,
    pub manifests: Vec<ManifestSummary>,
    /// Box codes on the loaded manifests, so the page knows a box scan from a bag scan.
    pub boxes: Vec<BoxView>,
    pub reconciliation: Reconciliation,
    /// Each line's discrepancies described (same order as the lines).
    pub descriptions: Vec<Vec<Message>>,
    /// Each line's unit status described (same order as the lines).
    pub unit_descriptions: Vec<Message>,
    /// Each box excursion described (same order as `reconciliation.box_excursions`):
    /// one decision per box.
    pub box_descriptions: Vec<Message>,
    pub signed: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub struct BoxView {
    pub code: String,
    /// The product class's code; the page names it from the catalogue (`product_class.*`).
    pub class: String,
    pub range: String,
    pub bags: usize,
    pub excursions: usize,
}

struct Loaded {
    receipt: ReceiptRow,
    manifests: Vec<Manifest>,
    rows: Vec<ManifestRow>,
}

async fn load(desk: &Desk, id: Uuid) -> DeskResult<Loaded> {
    let Some(receipt) = desk.app.storage.receipt(id).await? else {
        return Err(DeskError::new(
            StatusCode::NOT_FOUND,
            "unknown_receipt",
            Message::new("receiving.unknown_receipt").with("id", id.to_string()),
        ));
    };
    let mut manifests = Vec::new();
    let mut rows = Vec::new();
    for mid in &receipt.manifest_ids {
        let row =
            desk.app.storage.manifest_row(*mid).await?.ok_or_else(|| {
                StorageError::Corrupt(format!("receipt {id} names manifest {mid}"))
            })?;
        manifests.push(row.manifest()?);
        rows.push(row);
    }
    Ok(Loaded {
        receipt,
        manifests,
        rows,
    })
}

async fn view(desk: &Desk, loaded: &Loaded) -> DeskResult<ReceiptView> {
    let rules = desk.rules().await?;
    let reconciliation =
        handoff::reconcile(&loaded.manifests, &loaded.receipt.scans, Utc::now(), &rules);
    let descriptions = reconciliation
        .lines
        .iter()
        .map(|l| l.discrepancies.iter().map(|d| d.message()).collect())
        .collect();
    let unit_descriptions = reconciliation
        .lines
        .iter()
        .map(|l| l.unit.message())
        .collect();
    let box_descriptions = reconciliation
        .box_excursions
        .iter()
        .map(|b| b.message())
        .collect();
    let signed = match desk
        .app
        .storage
        .handoff_of(loaded.receipt.receipt_id)
        .await?
    {
        Some(body) => Some(serde_json::from_str(&body).map_err(StorageError::from)?),
        None => None,
    };
    Ok(ReceiptView {
        receipt_id: loaded.receipt.receipt_id,
        manifests: loaded.rows.iter().map(summary).collect::<DeskResult<_>>()?,
        boxes: loaded
            .manifests
            .iter()
            .flat_map(|m| &m.boxes)
            .map(|b| BoxView {
                code: b.code.clone(),
                class: b.class.as_str().to_owned(),
                range: b.range.to_string(),
                bags: b.bags.len(),
                excursions: b.excursions.len(),
            })
            .collect(),
        reconciliation,
        descriptions,
        unit_descriptions,
        box_descriptions,
        signed,
    })
}

async fn receipt(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> DeskResult<Response> {
    session(&desk, &headers)?;
    let loaded = load(&desk, id).await?;
    Ok(axum::Json(view(&desk, &loaded).await?).into_response())
}

#[derive(Deserialize)]
struct ScanRequest {
    /// What the hand scanner typed (a bag label's DIN barcode or QR, or a typed DIN).
    text: String,
    /// The box the bag came out of, when the desk scanned the box first.
    box_code: Option<String>,
}

async fn scan(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: Result<axum::Json<ScanRequest>, JsonRejection>,
) -> DeskResult<Response> {
    let staff = session(&desk, &headers)?;
    let axum::Json(req) = body?;
    let label = handoff::read_bag_scan(&req.text).map_err(|e| {
        let (code, text) = match &e {
            LabelScanError::Unreadable(_) => (
                "unreadable_scan",
                Message::new("receiving.scan_not_a_din").with("detail", e.to_string()),
            ),
            LabelScanError::Typed { .. } => ("typed_not_scanned", e.message()),
            LabelScanError::Unprefixed { .. } => ("not_a_scan", e.message()),
        };
        let mut err = DeskError::invalid(code, text);
        if let LabelScanError::Typed { din } | LabelScanError::Unprefixed { din } = &e {
            err.din = Some(din.to_string());
        }
        err
    })?;
    let loaded = load(&desk, id).await?;
    let box_code = known_box(&loaded, req.box_code)?;
    let scan = DeskScan {
        din: label.din,
        box_code,
        scanned_at: Utc::now(),
        piece: label.piece,
        manual: None,
    };
    add_scan(&desk, id, &scan, staff.staff_id).await
}

/// The box code the desk scanned first, if any, when it is on a loaded manifest.
fn known_box(loaded: &Loaded, box_code: Option<String>) -> DeskResult<Option<String>> {
    let box_code = box_code
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty());
    if let Some(code) = &box_code
        && !loaded
            .manifests
            .iter()
            .flat_map(|m| &m.boxes)
            .any(|b| b.code == *code)
    {
        return Err(DeskError::invalid(
            "unknown_box",
            Message::new("receiving.unknown_box").with("code", code.as_str()),
        ));
    }
    Ok(box_code)
}

async fn add_scan(desk: &Desk, id: Uuid, scan: &DeskScan, staff_id: Uuid) -> DeskResult<Response> {
    if !desk
        .app
        .storage
        .add_desk_scan(id, Uuid::now_v7(), scan, staff_id)
        .await?
    {
        return Err(DeskError::new(
            StatusCode::CONFLICT,
            "already_signed",
            Message::new("receiving.signed_no_scan"),
        ));
    }
    let loaded = load(desk, id).await?;
    Ok(axum::Json(view(desk, &loaded).await?).into_response())
}

#[derive(Deserialize)]
struct ManualRequest {
    /// The label piece whose DIN is typed: the bag (`{"kind":"bag","piece":1}`) or one
    /// of the sample tubes the manifest lists with it.
    piece: LabelPiece,
    /// The DIN as printed under the barcode, with its boxed check character.
    typed: String,
    reason: String,
    /// A second station account (not the signed-in receiver), e.g. the driver who
    /// hands over, and their PIN.
    witness_name: String,
    witness_pin: String,
    box_code: Option<String>,
}

/// The exception path for a label that cannot be scanned: its DIN typed with the check
/// character, a reason, and a second station account's PIN. Recorded as a desk scan
/// marked manual; shown as manual on the reconciliation and in the signed hand-off.
/// A refusal writes nothing (a wrong PIN counts towards that name's lock-out).
async fn manual_entry(
    State(desk): State<Arc<Desk>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: Result<axum::Json<ManualRequest>, JsonRejection>,
) -> DeskResult<Response> {
    let staff = session(&desk, &headers)?;
    let axum::Json(req) = body?;
    let reason = req.reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(DeskError::invalid(
            "reason_missing",
            Message::new("receiving.manual_reason_missing"),
        ));
    }
    let typed = read_typed(&req.typed).map_err(|e| {
        DeskError::invalid(
            "typed_din",
            Message::new("receiving.typed_din").with("detail", e.to_string()),
        )
    })?;
    let loaded = load(&desk, id).await?;
    if loaded.receipt.signed_at.is_some() {
        return Err(DeskError::new(
            StatusCode::CONFLICT,
            "already_signed",
            Message::new("receiving.signed_no_manual"),
        ));
    }
    let Some(bag) = loaded
        .manifests
        .iter()
        .flat_map(|m| &m.boxes)
        .flat_map(|b| &b.bags)
        .find(|b| b.din == typed.din)
    else {
        let mut err = DeskError::invalid(
            "not_on_manifest",
            Message::new("receiving.manual_not_on_manifest").with("din", typed.din.to_string()),
        );
        err.din = Some(typed.din.to_string());
        return Err(err);
    };
    let is_bag = req.piece == LabelPiece::new(LabelKind::Bag, 1);
    if !is_bag && !bag.tubes.contains(&req.piece) {
        let mut allowed = vec![LabelPiece::new(LabelKind::Bag, 1).name()];
        allowed.extend(bag.tubes.iter().map(|t| t.name()));
        let mut err = DeskError::invalid(
            "piece_not_listed",
            Message::new("receiving.piece_not_listed")
                .with("piece", req.piece.name())
                .with("din", typed.din.to_string())
                .with("allowed", allowed),
        );
        err.din = Some(typed.din.to_string());
        return Err(err);
    }
    let box_code = known_box(&loaded, req.box_code)?;
    let witness = check_pin(
        &desk,
        from.ip(),
        &req.witness_name,
        &req.witness_pin,
        Who::SecondPerson,
        None,
    )
    .await?;
    if witness.staff_id == staff.staff_id {
        return Err(DeskError::invalid(
            "same_person",
            Message::new("receiving.same_person"),
        ));
    }
    let scan = DeskScan {
        din: typed.din,
        box_code,
        scanned_at: Utc::now(),
        piece: Some(req.piece),
        manual: Some(DeskManual {
            reason: reason.to_owned(),
            authorised_by: Signatory {
                staff_id: witness.staff_id,
                name: witness.name,
            },
        }),
    };
    tracing::info!(receipt_id = %id, din = %scan.din, piece = %req.piece, "label entered by hand at the desk");
    add_scan(&desk, id, &scan, staff.staff_id).await
}

#[derive(Deserialize)]
struct SignRequest {
    /// The signed-in receiver's PIN, again: signing is a deliberate act.
    receiver_pin: String,
    driver_name: String,
    driver_pin: String,
    /// Reason per DIN, for every bag with a discrepancy.
    #[serde(default)]
    reasons: BTreeMap<String, String>,
    /// One decision per box code, for every box that left its range.
    #[serde(default)]
    box_reasons: BTreeMap<String, String>,
}

async fn sign(
    State(desk): State<Arc<Desk>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    body: Result<axum::Json<SignRequest>, JsonRejection>,
) -> DeskResult<Response> {
    let receiver = session(&desk, &headers)?;
    let axum::Json(req) = body?;
    let mut reasons = Reasons {
        bags: BTreeMap::new(),
        boxes: req.box_reasons,
    };
    for (din, reason) in req.reasons {
        let parsed: Din = din.parse().map_err(|e: lifebridge_domain::DinError| {
            DeskError::invalid(
                "malformed_body",
                Message::new("receiving.reason_not_a_din")
                    .with("din", format!("{din:?}"))
                    .with("detail", e.to_string()),
            )
        })?;
        reasons.bags.insert(parsed, reason);
    }
    let loaded = load(&desk, id).await?;
    if loaded.receipt.signed_at.is_some() {
        return Err(DeskError::new(
            StatusCode::CONFLICT,
            "already_signed",
            Message::new("receiving.already_signed"),
        ));
    }
    let now = Utc::now();
    let rules = desk.rules().await?;
    let reconciliation = handoff::reconcile(&loaded.manifests, &loaded.receipt.scans, now, &rules);
    // Reasons are checked before PINs, so the desk learns what is missing without
    // spending PIN attempts.
    let unsigned = Signatory {
        staff_id: Uuid::nil(),
        name: String::new(),
    };
    if let Err(e) = handoff::sign(
        &loaded.manifests,
        &reconciliation,
        &reasons,
        receiver.clone(),
        unsigned,
        Uuid::nil(),
        now,
    ) {
        return Err(handoff_error(e));
    }
    let me = check_pin(
        &desk,
        from.ip(),
        &receiver.name,
        &req.receiver_pin,
        Who::Receiver,
        None,
    )
    .await?;
    if me.staff_id != receiver.staff_id {
        return Err(DeskError::new(
            StatusCode::UNAUTHORIZED,
            "wrong_pin",
            Message::new("receiving.pin_not_receivers"),
        ));
    }
    let driver = check_pin(
        &desk,
        from.ip(),
        &req.driver_name,
        &req.driver_pin,
        Who::Driver,
        Some(StaffRole::Device(Role::Driver)),
    )
    .await?;
    let record = handoff::sign(
        &loaded.manifests,
        &reconciliation,
        &reasons,
        receiver,
        Signatory {
            staff_id: driver.staff_id,
            name: driver.name,
        },
        Uuid::now_v7(),
        now,
    )
    .map_err(handoff_error)?;
    if !desk.app.storage.sign_receipt(id, &record).await? {
        return Err(DeskError::new(
            StatusCode::CONFLICT,
            "already_signed",
            Message::new("receiving.already_signed"),
        ));
    }
    tracing::info!(receipt_id = %id, handoff_id = %record.id, discrepancies = record.discrepancies.len(), "hand-off signed");
    Ok(axum::Json(record).into_response())
}

fn handoff_error(e: HandoffError) -> DeskError {
    let din = match &e {
        HandoffError::ReasonMissing { din, .. }
        | HandoffError::ReasonWithoutDiscrepancy { din } => Some(din.clone()),
        _ => None,
    };
    let box_code = match &e {
        HandoffError::BoxDecisionMissing { box_code, .. }
        | HandoffError::BoxDecisionWithoutExcursion { box_code } => Some(box_code.clone()),
        _ => None,
    };
    let code = match e {
        HandoffError::ReasonMissing { .. } => "reason_missing",
        HandoffError::ReasonWithoutDiscrepancy { .. } => "reason_without_discrepancy",
        HandoffError::BoxDecisionMissing { .. } => "box_decision_missing",
        HandoffError::BoxDecisionWithoutExcursion { .. } => "box_decision_without_excursion",
        HandoffError::SameSignatory { .. } => "same_signatory",
        HandoffError::NoManifest => "no_manifest",
    };
    let mut err = DeskError::invalid(code, e.message());
    err.din = din;
    err.box_code = box_code;
    err
}

#[derive(Deserialize)]
struct StatisticsQuery {
    date: Option<chrono::NaiveDate>,
}

/// The figures need a desk session: they are the station's collection counts by site,
/// which nobody on the network without a staff PIN needs.
async fn statistics(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    Query(q): Query<StatisticsQuery>,
) -> DeskResult<Response> {
    session(&desk, &headers)?;
    let date = q
        .date
        .unwrap_or_else(|| lifebridge_domain::china_date(Utc::now()));
    // The tally kept at each push: one period's rows, no body parsed.
    let figures = desk.app.storage.statistics(date).await?;
    Ok(axum::Json(figures).into_response())
}
