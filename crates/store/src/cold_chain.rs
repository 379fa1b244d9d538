//! The cold chain on the vehicle: open transport boxes, pack released bags into them by
//! scanning their labels, log temperatures (typed or from a logger file), and dispatch
//! with the driver's PIN, which writes the manifest and makes those boxes read-only.
//!
//! Every refusal is decided before the action's transaction opens, so a refused scan,
//! reading or dispatch writes nothing.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use lifebridge_domain::cold_chain::{
    BoxContents, BoxPacking, Excursion, LoggerCsvError, Manifest, ManifestCounts, ManifestHeader,
    ManifestReading, PackedUnit, PackingRefusal, ProductClass, ReadingSource, Signatory,
    TemperatureRange, TemperatureReading, TransportBox, UnitAssessment, allowed_classes,
    build_manifest, check_celsius, check_packing, collection_findings, excursions,
    parse_logger_csv,
};
use lifebridge_domain::din::Din;
use lifebridge_domain::entities::DonationRelease;
use lifebridge_domain::entities::{AboRh, Donation, Donor, Drive, EntityKind, RecordId, Role};
use lifebridge_domain::entities::{LabelKind, ManualVerification};
use lifebridge_domain::labels::{
    LabelPiece, LabelScanError, read_label_scan, read_typed, strip_scanner_noise,
};
use lifebridge_domain::messages::Message;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use uuid::Uuid;

use crate::action::ActionCtx;
use crate::queries::{bodies, get_body};
use crate::records::{actor_staff, require_role, require_text};
use crate::session::SignInError;
use crate::{Actor, Result, Store, StoreError};

/// A bag packed by typing its DIN, with who confirms it (see [`Store::pack_bag_manual`]).
#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManualPackEntry {
    /// The DIN as typed from the bag's label, with its check character.
    pub typed: String,
    pub reason: String,
    /// The second crew member, who types their own PIN.
    pub witness: RecordId,
    pub witness_pin: String,
}

/// Box codes are what is printed on the box: short, printable, no spaces.
const MAX_BOX_CODE: usize = 32;
/// A reading may be stamped a little ahead of this device's clock (a logger's own clock),
/// but not hours ahead: that is a wrong date.
const FUTURE_TOLERANCE_MINUTES: i64 = 10;

/// Why a cold-chain action was refused. Nothing was written when this is returned.
/// `Display` is the English text of [`ColdChainError::message`], which the app shows in
/// its language.
#[derive(Debug, thiserror::Error)]
pub enum ColdChainError {
    #[error(transparent)]
    Packing(#[from] PackingRefusal),
    #[error("{}", self.message())]
    Unreadable(String),
    #[error("{}", self.message())]
    UnknownDin { din: String },
    #[error("{}", self.message())]
    OtherDrive {
        din: String,
        box_code: String,
        site: String,
        date: String,
    },
    #[error("{}", self.message())]
    NotReleased { din: String },
    #[error("{}", self.message())]
    AlreadyPacked {
        din: String,
        box_code: String,
        dispatched: bool,
    },
    #[error("{}", self.message())]
    BoxDispatched { box_code: String },
    #[error("{}", self.message())]
    DuplicateBoxCode { code: String, class: ProductClass },
    #[error("{}", self.message())]
    NothingToDispatch { empty_boxes: Vec<String> },
    #[error("{}", self.message())]
    Csv(#[from] LoggerCsvError),
    #[error("{}", self.message())]
    NotABagLabel { din: String, piece: Message },
    /// A typed DIN, or scanner data without the symbology identifier: no label was read.
    #[error("{}", self.message())]
    NotScanned(Message),
    #[error("{}", self.message())]
    ManualRefused(Message),
    #[error("{}", self.message())]
    SignIn(#[from] SignInError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ColdChainError {
    /// The refusal for the driver (`packing.*`, `scan.*`).
    pub fn message(&self) -> Message {
        match self {
            ColdChainError::Packing(refusal) => refusal.message(),
            ColdChainError::Unreadable(detail) => {
                Message::new("scan.unreadable").with("detail", detail.as_str())
            }
            ColdChainError::UnknownDin { din } => {
                Message::new("packing.unknown_din").with("din", din.as_str())
            }
            ColdChainError::OtherDrive {
                din,
                box_code,
                site,
                date,
            } => Message::new("packing.other_drive")
                .with("din", din.as_str())
                .with("box_code", box_code.as_str())
                .with("site", site.as_str())
                .with("date", date.as_str()),
            ColdChainError::NotReleased { din } => {
                Message::new("packing.not_released").with("din", din.as_str())
            }
            ColdChainError::AlreadyPacked {
                din,
                box_code,
                dispatched,
            } => Message::new("packing.already_packed")
                .with("din", din.as_str())
                .with("box_code", box_code.as_str())
                .with(
                    "dispatched",
                    dispatched.then(|| Message::new("packing.dispatched_suffix")),
                ),
            ColdChainError::BoxDispatched { box_code } => {
                Message::new("packing.box_dispatched").with("box_code", box_code.as_str())
            }
            ColdChainError::DuplicateBoxCode { code, class } => {
                Message::new("packing.duplicate_box_code")
                    .with("code", code.as_str())
                    .with("class", class.as_str())
            }
            ColdChainError::NothingToDispatch { empty_boxes } => {
                Message::new("packing.nothing_to_dispatch").with(
                    "empty",
                    (!empty_boxes.is_empty()).then(|| {
                        Message::new("packing.empty_boxes").with("boxes", empty_boxes.join(", "))
                    }),
                )
            }
            ColdChainError::Csv(e) => {
                Message::new("packing.logger_csv").with("detail", e.message())
            }
            ColdChainError::NotABagLabel { din, piece } => Message::new("packing.not_a_bag_label")
                .with("din", din.as_str())
                .with("piece", piece.clone()),
            ColdChainError::NotScanned(m) => m.clone(),
            ColdChainError::ManualRefused(why) => {
                Message::new("packing.manual_refused").with("why", why.clone())
            }
            ColdChainError::SignIn(e) => {
                Message::new("packing.dispatch_not_signed").with("detail", e.to_string())
            }
            ColdChainError::Store(e) => Message::new("packing.store").with("detail", e.to_string()),
        }
    }
}

impl From<rusqlite::Error> for ColdChainError {
    fn from(e: rusqlite::Error) -> Self {
        ColdChainError::Store(e.into())
    }
}

impl From<serde_json::Error> for ColdChainError {
    fn from(e: serde_json::Error) -> Self {
        ColdChainError::Store(e.into())
    }
}

/// A bag in a box, as the driver's screen lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PackedBag {
    pub packing: BoxPacking,
    pub donation: Donation,
    pub abo_rh: Option<AboRh>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BoxView {
    pub transport_box: TransportBox,
    /// Current packings, in DIN order.
    pub bags: Vec<PackedBag>,
    /// In time order.
    pub readings: Vec<TemperatureReading>,
    pub excursions: Vec<Excursion>,
    /// The manifest that carried this box; `None` while it is open.
    pub manifest_id: Option<RecordId>,
}

/// A released bag of the drive that is in no box yet, and where it may go.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UnpackedBag {
    pub donation: Donation,
    pub allowed: Vec<ProductClass>,
    /// Why it goes in no box at all (still on the chair, aborted, every class excluded).
    pub refusal: Option<Message>,
    /// What the collection says about the unit (slow draw, products excluded at
    /// screening), so the driver sees why a bag goes only into a red-cell box.
    pub unit: UnitAssessment,
    pub unit_text: Message,
}

/// A box class the driver may open, with its band from the rules table in force: the
/// screen's option list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ClassOption {
    pub class: ProductClass,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub range: TemperatureRange,
    pub processing_limit_hours: u32,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignedManifest {
    pub manifest: Manifest,
    pub counts: ManifestCounts,
    /// Units not suitable as collected, in manifest order, with the core's words.
    pub units: Vec<UnitLine>,
}

/// One downgraded or quarantined unit of a manifest, as the screen lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UnitLine {
    pub din: Din,
    pub status: lifebridge_domain::cold_chain::UnitStatus,
    /// `unit.assessment`: the status and why.
    pub text: Message,
}

impl SignedManifest {
    pub fn of(manifest: Manifest) -> SignedManifest {
        let units = manifest
            .boxes
            .iter()
            .flat_map(|b| &b.bags)
            .filter(|g| !g.unit.is_suitable())
            .map(|g| UnitLine {
                din: g.din.clone(),
                status: g.unit.status,
                text: g.unit.message(),
            })
            .collect();
        SignedManifest {
            counts: manifest.counts(),
            manifest,
            units,
        }
    }
}

/// Everything the driver's screen shows for one drive.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TransportView {
    pub drive: Drive,
    /// Open boxes first, then dispatched ones; by code within each.
    pub boxes: Vec<BoxView>,
    pub unpacked: Vec<UnpackedBag>,
    /// What a dispatch now would sign (open boxes with bags), unsigned; `None` when
    /// there is nothing to dispatch.
    pub preview: Option<SignedManifest>,
    /// Signed manifests of this drive, oldest first.
    pub manifests: Vec<SignedManifest>,
    /// The box classes, in [`ProductClass::ALL`] order, with the rules' bands.
    pub classes: Vec<ClassOption>,
}

/// The result of a logger file import.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoggerImport {
    pub imported: u32,
    /// Rows whose instant this box already had a reading for (or that repeat in the file).
    pub skipped: u32,
    pub excursions: Vec<Excursion>,
}

fn load_box(conn: &Connection, box_id: RecordId) -> Result<TransportBox> {
    get_body(conn, "transport_box", box_id)?.ok_or(StoreError::Missing {
        entity: "transport box",
        id: box_id.to_string(),
    })
}

fn manifest_of_box(conn: &Connection, box_id: RecordId) -> Result<Option<RecordId>> {
    let id: Option<String> = conn
        .query_row(
            "SELECT manifest_id FROM manifest_box WHERE box_id = ?1",
            [box_id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    id.map(|s| {
        Uuid::parse_str(&s).map_err(|e| StoreError::Corrupt(format!("manifest id {s:?}: {e}")))
    })
    .transpose()
}

/// Refuses changes to a box once a manifest carried it.
fn require_open(conn: &Connection, b: &TransportBox) -> Result<(), ColdChainError> {
    if manifest_of_box(conn, b.id)?.is_some() {
        return Err(ColdChainError::BoxDispatched {
            box_code: b.code.clone(),
        });
    }
    Ok(())
}

/// Packings in force: not undoing another, and not undone.
fn current_packings(conn: &Connection, box_id: RecordId) -> Result<Vec<BoxPacking>> {
    bodies(
        conn,
        "SELECT body FROM box_packing p WHERE box_id = ?1 AND removes IS NULL
         AND NOT EXISTS (SELECT 1 FROM box_packing u WHERE u.removes = p.id)
         ORDER BY din",
        [box_id.to_string()],
    )
}

fn current_packing_of_din(conn: &Connection, din: &Din) -> Result<Option<BoxPacking>> {
    Ok(bodies(
        conn,
        "SELECT body FROM box_packing p WHERE din = ?1 AND removes IS NULL
         AND NOT EXISTS (SELECT 1 FROM box_packing u WHERE u.removes = p.id)",
        [din.as_str()],
    )?
    .pop())
}

fn readings_of(conn: &Connection, box_id: RecordId) -> Result<Vec<TemperatureReading>> {
    let mut readings: Vec<TemperatureReading> = bodies(
        conn,
        "SELECT body FROM temperature_reading WHERE box_id = ?1",
        [box_id.to_string()],
    )?;
    readings.sort_by_key(|r| (r.measured_at, r.recorded_at));
    Ok(readings)
}

/// The current (not superseded) donation carrying `din`.
fn current_donation_by_din(conn: &Connection, din: &Din) -> Result<Option<Donation>> {
    Ok(bodies(
        conn,
        "SELECT body FROM donation d WHERE din = ?1
         AND NOT EXISTS (SELECT 1 FROM donation n WHERE n.supersedes = d.id)",
        [din.as_str()],
    )?
    .pop())
}

/// The label pieces verified when the bag left the chair (its tubes travel with it).
fn released_pieces(
    conn: &Connection,
    din: &Din,
) -> Result<Vec<lifebridge_domain::labels::LabelPiece>> {
    Ok(bodies::<DonationRelease>(
        conn,
        "SELECT body FROM donation_release WHERE din = ?1",
        [din.as_str()],
    )?
    .into_iter()
    .flat_map(|r| r.pieces)
    .collect())
}

/// The label pieces verified by manual entry instead of a scan at the chair.
fn released_manual_pieces(conn: &Connection, din: &Din) -> Result<Vec<LabelPiece>> {
    Ok(bodies::<DonationRelease>(
        conn,
        "SELECT body FROM donation_release WHERE din = ?1",
        [din.as_str()],
    )?
    .into_iter()
    .flat_map(|r| r.manual_pieces)
    .collect())
}

fn is_released(conn: &Connection, din: &Din) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM donation_release WHERE din = ?1",
            [din.as_str()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The donor's ABO/RhD as typed at registration, else from the bedside rapid test of
/// this donation's screening; never guessed.
fn known_abo_rh(conn: &Connection, donation: &Donation) -> Result<Option<AboRh>> {
    let donor: Option<Donor> = get_body(conn, "donor", donation.donor_id)?;
    if let Some(group) = donor.and_then(|d| d.abo_rh) {
        return Ok(Some(group));
    }
    Ok(crate::queries::get_screening(conn, donation.screening_id)?.and_then(|s| s.tests.abo_rh))
}

fn box_contents(conn: &Connection, b: &TransportBox) -> Result<BoxContents> {
    let mut bags = Vec::new();
    for packing in current_packings(conn, b.id)? {
        let donation =
            current_donation_by_din(conn, &packing.din)?.ok_or_else(|| StoreError::Missing {
                entity: "donation",
                id: packing.din.to_string(),
            })?;
        let mut manual_pieces = released_manual_pieces(conn, &packing.din)?;
        if packing.manual.is_some() {
            manual_pieces.push(LabelPiece::new(LabelKind::Bag, 1));
        }
        bags.push(PackedUnit {
            abo_rh: known_abo_rh(conn, &donation)?,
            released_pieces: released_pieces(conn, &packing.din)?,
            manual_pieces,
            donation,
        });
    }
    Ok(BoxContents {
        transport_box: b.clone(),
        bags,
        readings: readings_of(conn, b.id)?,
    })
}

fn drive_boxes(conn: &Connection, drive_id: RecordId) -> Result<Vec<TransportBox>> {
    bodies(
        conn,
        "SELECT body FROM transport_box WHERE drive_id = ?1 ORDER BY code",
        [drive_id.to_string()],
    )
}

fn insert_reading(ctx: &mut ActionCtx<'_>, reading: &TemperatureReading) -> Result<()> {
    let body = ctx.log_change(EntityKind::TemperatureReading, reading.id, reading)?;
    ctx.tx.execute(
        "INSERT INTO temperature_reading (id, box_id, measured_at, body) VALUES (?1, ?2, ?3, ?4)",
        (
            reading.id.to_string(),
            reading.box_id.to_string(),
            reading.measured_at.to_rfc3339(),
            body,
        ),
    )?;
    Ok(())
}

fn insert_packing(ctx: &mut ActionCtx<'_>, packing: &BoxPacking) -> Result<()> {
    let body = ctx.log_change(EntityKind::BoxPacking, packing.id, packing)?;
    ctx.tx.execute(
        "INSERT INTO box_packing (id, box_id, donation_id, din, removes, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        (
            packing.id.to_string(),
            packing.box_id.to_string(),
            packing.donation_id.to_string(),
            packing.din.as_str(),
            packing.removes.map(|r| r.to_string()),
            body,
        ),
    )?;
    Ok(())
}

fn check_measured_at(measured_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<()> {
    if measured_at > now + Duration::minutes(FUTURE_TOLERANCE_MINUTES) {
        return Err(StoreError::invalid(
            "measured_at",
            format!(
                "{} is in the future; enter the time the thermometer was read",
                measured_at.to_rfc3339()
            ),
        ));
    }
    Ok(())
}

impl Store {
    /// Opens a transport box for a drive: the scanned code on the box and the class it
    /// carries. Its range is copied from the rules table in force.
    pub fn open_box(
        &mut self,
        actor: Actor,
        drive_id: RecordId,
        code: &str,
        class: ProductClass,
    ) -> Result<TransportBox, ColdChainError> {
        let staff_id = actor_staff(actor, "opening a transport box")?;
        require_role(&self.conn, staff_id, Role::Driver, "open transport boxes")?;
        let drive = self.drive(drive_id)?;
        // Scanned box codes arrive with the scanner's prefix and Enter like any other scan.
        let code = require_text("code", &strip_scanner_noise(code), MAX_BOX_CODE)?;
        if !code.chars().all(|c| c.is_ascii_graphic()) {
            return Err(StoreError::invalid(
                "code",
                "a box code holds letters, digits and punctuation only (no spaces), as printed on the box",
            )
            .into());
        }
        if let Some(existing) = drive_boxes(&self.conn, drive.id)?
            .into_iter()
            .find(|b| b.code == code)
        {
            return Err(ColdChainError::DuplicateBoxCode {
                code,
                class: existing.class,
            });
        }
        let rules = self.rules()?;
        let range = rules
            .cold_chain
            .class(class)
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "rules table {} has no range for {class}",
                    rules.version
                ))
            })?
            .range;
        let b = self.act(
            actor,
            "cold_chain.open_box",
            serde_json::json!({"code": code, "class": class}),
            |ctx| {
                let b = TransportBox {
                    id: Uuid::now_v7(),
                    code: code.clone(),
                    class,
                    range,
                    drive_id: drive.id,
                    opened_by: staff_id,
                    opened_at: ctx.now,
                };
                let body = ctx.log_change(EntityKind::TransportBox, b.id, &b)?;
                ctx.tx.execute(
                    "INSERT INTO transport_box (id, drive_id, code, class, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                    (
                        b.id.to_string(),
                        drive.id.to_string(),
                        &b.code,
                        class.as_str(),
                        body,
                    ),
                )?;
                Ok(b)
            },
        )?;
        Ok(b)
    }

    /// Packs the bag whose label was scanned into `box_id`, after every check: a scan
    /// (the scanner's symbology identifier, then the bag label's data; a typed DIN or
    /// data without the identifier is refused, see [`Store::pack_bag_manual`]) of a
    /// container label, a known DIN of this drive, released from the chair, in no other
    /// box, of the box's class.
    pub fn pack_bag(
        &mut self,
        actor: Actor,
        box_id: RecordId,
        scanned_text: &str,
    ) -> Result<BoxPacking, ColdChainError> {
        let staff_id = actor_staff(actor, "packing a bag")?;
        require_role(&self.conn, staff_id, Role::Driver, "pack transport boxes")?;
        let b = load_box(&self.conn, box_id)?;
        require_open(&self.conn, &b)?;
        let label = read_label_scan(scanned_text).map_err(|e| match e {
            LabelScanError::Unreadable(e) => ColdChainError::Unreadable(e.to_string()),
            not_scanned => ColdChainError::NotScanned(not_scanned.message()),
        })?;
        if let Some(piece) = label
            .piece
            .filter(|p| matches!(p.kind, LabelKind::Tube | LabelKind::Record))
        {
            return Err(ColdChainError::NotABagLabel {
                din: label.din.to_string(),
                piece: piece.name(),
            });
        }
        let donation = self.check_pack(&b, &label.din)?;
        self.write_packing(actor, staff_id, &b, donation, None)
    }

    /// Packs a bag whose label cannot be scanned, by typing its DIN: the exception path.
    /// The DIN must be typed as printed under the barcode **with its check character**,
    /// with a reason, and a second crew member (an active account other than the
    /// signed-in driver) confirms with their PIN. Every packing check of
    /// [`Store::pack_bag`] applies; the packing is marked manual and the bag's label is
    /// listed as typed on the manifest. A refusal writes nothing (a wrong PIN is counted
    /// by sign-in).
    pub fn pack_bag_manual(
        &mut self,
        actor: Actor,
        box_id: RecordId,
        entry: &ManualPackEntry,
    ) -> Result<BoxPacking, ColdChainError> {
        let staff_id = actor_staff(actor, "packing a bag by manual entry")?;
        require_role(&self.conn, staff_id, Role::Driver, "pack transport boxes")?;
        let reason = require_text("reason", &entry.reason, 200)?;
        if entry.witness == staff_id {
            return Err(ColdChainError::ManualRefused(Message::new(
                "packing.manual_same_person",
            )));
        }
        let typed = read_typed(&entry.typed).map_err(|e| {
            ColdChainError::ManualRefused(
                Message::new("packing.manual_typed_din").with("detail", e.to_string()),
            )
        })?;
        let b = load_box(&self.conn, box_id)?;
        require_open(&self.conn, &b)?;
        let donation = self.check_pack(&b, &typed.din)?;
        if let Err(e) = self.sign_in(entry.witness, &entry.witness_pin)? {
            return Err(ColdChainError::ManualRefused(
                Message::new("packing.manual_witness_pin").with("detail", e.to_string()),
            ));
        }
        let manual = ManualVerification {
            reason,
            authorised_by: entry.witness,
        };
        self.write_packing(actor, staff_id, &b, donation, Some(manual))
    }

    /// Every check before a bag goes into box `b`; the current donation of `din`.
    fn check_pack(&self, b: &TransportBox, din: &Din) -> Result<Donation, ColdChainError> {
        let donation = current_donation_by_din(&self.conn, din)?.ok_or_else(|| {
            ColdChainError::UnknownDin {
                din: din.to_string(),
            }
        })?;
        if donation.drive_id != b.drive_id {
            let other = self.drive(donation.drive_id)?;
            return Err(ColdChainError::OtherDrive {
                din: din.to_string(),
                box_code: b.code.clone(),
                site: other.site_name,
                date: other.date.to_string(),
            });
        }
        if let Some(packed) = current_packing_of_din(&self.conn, din)? {
            let in_box = load_box(&self.conn, packed.box_id)?;
            return Err(ColdChainError::AlreadyPacked {
                din: din.to_string(),
                dispatched: manifest_of_box(&self.conn, in_box.id)?.is_some(),
                box_code: in_box.code,
            });
        }
        check_packing(&donation, b.class, &self.rules()?)?;
        if !is_released(&self.conn, din)? {
            return Err(ColdChainError::NotReleased {
                din: din.to_string(),
            });
        }
        Ok(donation)
    }

    fn write_packing(
        &mut self,
        actor: Actor,
        staff_id: RecordId,
        b: &TransportBox,
        donation: Donation,
        manual: Option<ManualVerification>,
    ) -> Result<BoxPacking, ColdChainError> {
        let action = if manual.is_some() {
            "cold_chain.pack_manual"
        } else {
            "cold_chain.pack"
        };
        let packing = self.act(
            actor,
            action,
            serde_json::json!({"box": b.code, "din": donation.din.as_str(), "manual": manual}),
            |ctx| {
                let packing = BoxPacking {
                    id: Uuid::now_v7(),
                    box_id: b.id,
                    donation_id: donation.id,
                    din: donation.din.clone(),
                    packed_by: staff_id,
                    packed_at: ctx.now,
                    removes: None,
                    manual: manual.clone(),
                };
                insert_packing(ctx, &packing)?;
                Ok(packing)
            },
        )?;
        Ok(packing)
    }

    /// Takes a bag out of its box again (before dispatch): a packing that removes the
    /// earlier one. Returns the undo record.
    pub fn unpack_bag(
        &mut self,
        actor: Actor,
        packing_id: RecordId,
    ) -> Result<BoxPacking, ColdChainError> {
        let staff_id = actor_staff(actor, "unpacking a bag")?;
        require_role(&self.conn, staff_id, Role::Driver, "unpack transport boxes")?;
        let packing: BoxPacking =
            get_body(&self.conn, "box_packing", packing_id)?.ok_or(StoreError::Missing {
                entity: "box packing",
                id: packing_id.to_string(),
            })?;
        let b = load_box(&self.conn, packing.box_id)?;
        require_open(&self.conn, &b)?;
        if packing.removes.is_some()
            || !current_packings(&self.conn, b.id)?
                .iter()
                .any(|p| p.id == packing.id)
        {
            return Err(StoreError::invalid(
                "packing_id",
                format!("{} is no longer in box {}", packing.din, b.code),
            )
            .into());
        }
        let undo = self.act(
            actor,
            "cold_chain.unpack",
            serde_json::json!({"box": b.code, "din": packing.din.as_str()}),
            |ctx| {
                let undo = BoxPacking {
                    id: Uuid::now_v7(),
                    packed_by: staff_id,
                    packed_at: ctx.now,
                    manual: None,
                    removes: Some(packing.id),
                    ..packing.clone()
                };
                insert_packing(ctx, &undo)?;
                Ok(undo)
            },
        )?;
        Ok(undo)
    }

    /// A temperature read off the box's thermometer and typed in.
    pub fn record_temperature(
        &mut self,
        actor: Actor,
        box_id: RecordId,
        measured_at: DateTime<Utc>,
        celsius: f64,
    ) -> Result<TemperatureReading, ColdChainError> {
        let staff_id = actor_staff(actor, "recording a temperature")?;
        require_role(
            &self.conn,
            staff_id,
            Role::Driver,
            "record box temperatures",
        )?;
        let b = load_box(&self.conn, box_id)?;
        require_open(&self.conn, &b)?;
        let celsius = check_celsius(celsius).map_err(|p| StoreError::invalid("celsius", p))?;
        check_measured_at(measured_at, crate::now())?;
        let reading = self.act(
            actor,
            "cold_chain.reading",
            serde_json::json!({"box": b.code, "celsius": celsius, "in_range": b.range.contains(celsius)}),
            |ctx| {
                let reading = TemperatureReading {
                    id: Uuid::now_v7(),
                    box_id: b.id,
                    measured_at,
                    celsius,
                    source: ReadingSource::Manual,
                    recorded_by: staff_id,
                    recorded_at: ctx.now,
                };
                insert_reading(ctx, &reading)?;
                Ok(reading)
            },
        )?;
        Ok(reading)
    }

    /// Imports a data logger's CSV file into a box, all or nothing. Rows at an instant
    /// the box already has a reading for are skipped and counted.
    pub fn import_logger_csv(
        &mut self,
        actor: Actor,
        box_id: RecordId,
        file_name: &str,
        text: &str,
    ) -> Result<LoggerImport, ColdChainError> {
        let staff_id = actor_staff(actor, "importing a logger file")?;
        require_role(&self.conn, staff_id, Role::Driver, "import logger files")?;
        let b = load_box(&self.conn, box_id)?;
        require_open(&self.conn, &b)?;
        let file_name = require_text("file_name", file_name, 200)?;
        let rows = parse_logger_csv(text)?;
        let now = crate::now();
        for row in &rows {
            check_measured_at(row.at, now).map_err(|_| LoggerCsvError {
                line: Some(row.line),
                column: None,
                problem: Message::new("logger_csv.in_the_future").with("at", row.at.to_rfc3339()),
            })?;
        }
        let mut held: BTreeSet<DateTime<Utc>> = readings_of(&self.conn, b.id)?
            .into_iter()
            .map(|r| r.measured_at)
            .collect();
        let mut fresh = Vec::new();
        let mut skipped = 0u32;
        for row in rows {
            if held.insert(row.at) {
                fresh.push(row);
            } else {
                skipped += 1;
            }
        }
        let imported = fresh.len() as u32;
        self.act(
            actor,
            "cold_chain.logger_import",
            serde_json::json!({"box": b.code, "file": file_name, "imported": imported, "skipped": skipped}),
            |ctx| {
                for row in &fresh {
                    insert_reading(
                        ctx,
                        &TemperatureReading {
                            id: Uuid::now_v7(),
                            box_id: b.id,
                            measured_at: row.at,
                            celsius: row.celsius,
                            source: ReadingSource::Logger {
                                file_name: file_name.clone(),
                            },
                            recorded_by: staff_id,
                            recorded_at: ctx.now,
                        },
                    )?;
                }
                Ok(())
            },
        )?;
        let all: Vec<ManifestReading> = readings_of(&self.conn, b.id)?
            .iter()
            .map(|r| ManifestReading {
                at: r.measured_at,
                celsius: r.celsius,
            })
            .collect();
        Ok(LoggerImport {
            imported,
            skipped,
            excursions: excursions(&all, b.range),
        })
    }

    /// The driver signs the dispatch with their PIN: every open box of the drive that
    /// holds a bag goes onto one manifest, and those boxes become read-only. A wrong PIN
    /// writes no manifest and counts toward the driver's lock-out.
    pub fn dispatch(
        &mut self,
        actor: Actor,
        drive_id: RecordId,
        driver_id: RecordId,
        pin: &str,
    ) -> Result<SignedManifest, ColdChainError> {
        actor_staff(actor, "dispatching")?;
        let driver = require_role(&self.conn, driver_id, Role::Driver, "sign a dispatch")?;
        let drive = self.drive(drive_id)?;
        let (contents, empty) = self.open_contents(drive.id)?;
        if contents.is_empty() {
            return Err(ColdChainError::NothingToDispatch { empty_boxes: empty });
        }
        self.sign_in(driver_id, pin)??;
        let rules = self.rules()?;
        let rules_version = rules.version.clone();
        let device_id = self.device_id;
        let manifest = self.act(
            Actor::staff(driver_id),
            "cold_chain.dispatch",
            serde_json::json!({
                "drive": drive.id,
                "boxes": contents.iter().map(|c| c.transport_box.code.clone()).collect::<Vec<_>>(),
            }),
            |ctx| {
                let manifest = build_manifest(
                    ManifestHeader {
                        id: Uuid::now_v7(),
                        drive: drive.clone(),
                        device_id,
                        driver: Signatory {
                            staff_id: driver.id,
                            name: driver.display_name.clone(),
                        },
                        dispatched_at: ctx.now,
                        rules_version,
                    },
                    contents,
                    &rules,
                );
                let body = ctx.log_change(EntityKind::Manifest, manifest.id, &manifest)?;
                ctx.tx.execute(
                    "INSERT INTO manifest (id, drive_id, dispatched_at, body) VALUES (?1, ?2, ?3, ?4)",
                    (
                        manifest.id.to_string(),
                        drive.id.to_string(),
                        manifest.dispatched_at.to_rfc3339(),
                        body,
                    ),
                )?;
                for b in &manifest.boxes {
                    ctx.tx.execute(
                        "INSERT INTO manifest_box (box_id, manifest_id) VALUES (?1, ?2)",
                        (b.box_id.to_string(), manifest.id.to_string()),
                    )?;
                }
                Ok(manifest)
            },
        )?;
        Ok(SignedManifest::of(manifest))
    }

    /// Open boxes of the drive with their bags, and the codes of the open boxes that
    /// hold none.
    fn open_contents(&self, drive_id: RecordId) -> Result<(Vec<BoxContents>, Vec<String>)> {
        let mut contents = Vec::new();
        let mut empty = Vec::new();
        for b in drive_boxes(&self.conn, drive_id)? {
            if manifest_of_box(&self.conn, b.id)?.is_some() {
                continue;
            }
            let c = box_contents(&self.conn, &b)?;
            if c.bags.is_empty() {
                empty.push(b.code);
            } else {
                contents.push(c);
            }
        }
        Ok((contents, empty))
    }

    /// One transport box.
    pub fn transport_box(&self, box_id: RecordId) -> Result<Option<TransportBox>> {
        get_body(&self.conn, "transport_box", box_id)
    }

    /// One signed manifest.
    pub fn manifest(&self, id: RecordId) -> Result<Option<SignedManifest>> {
        Ok(get_body::<Manifest>(&self.conn, "manifest", id)?.map(SignedManifest::of))
    }

    /// Signed manifests of a drive, oldest first.
    pub fn drive_manifests(&self, drive_id: RecordId) -> Result<Vec<SignedManifest>> {
        let manifests: Vec<Manifest> = bodies(
            &self.conn,
            "SELECT body FROM manifest WHERE drive_id = ?1 ORDER BY dispatched_at, rowid",
            [drive_id.to_string()],
        )?;
        Ok(manifests.into_iter().map(SignedManifest::of).collect())
    }

    /// Complete or partial bags of the drive that no signed manifest carries yet: what
    /// is still on the bus, for the end of the drive.
    pub fn bags_not_dispatched(&self, drive_id: RecordId) -> Result<Vec<Din>> {
        let dispatched: BTreeSet<Din> = self
            .drive_manifests(drive_id)?
            .into_iter()
            .flat_map(|m| m.manifest.boxes.into_iter())
            .flat_map(|b| b.bags.into_iter().map(|g| g.din))
            .collect();
        Ok(self
            .drive_donations(drive_id)?
            .into_iter()
            .filter(|d| {
                matches!(
                    d.outcome,
                    lifebridge_domain::entities::Outcome::Complete
                        | lifebridge_domain::entities::Outcome::Partial
                )
            })
            .map(|d| d.din)
            .filter(|din| !dispatched.contains(din))
            .collect())
    }

    /// What the driver's screen shows: boxes with bags, readings and excursions,
    /// released bags in no box yet, the manifest a dispatch would sign, and the signed
    /// ones.
    pub fn transport_view(&self, drive_id: RecordId) -> Result<TransportView> {
        let drive = self.drive(drive_id)?;
        let rules = self.rules()?;
        let mut open = Vec::new();
        let mut closed = Vec::new();
        let mut packed: BTreeSet<Din> = BTreeSet::new();
        for b in drive_boxes(&self.conn, drive.id)? {
            let manifest_id = manifest_of_box(&self.conn, b.id)?;
            let mut bags = Vec::new();
            for packing in current_packings(&self.conn, b.id)? {
                let donation =
                    current_donation_by_din(&self.conn, &packing.din)?.ok_or_else(|| {
                        StoreError::Missing {
                            entity: "donation",
                            id: packing.din.to_string(),
                        }
                    })?;
                packed.insert(packing.din.clone());
                bags.push(PackedBag {
                    abo_rh: known_abo_rh(&self.conn, &donation)?,
                    packing,
                    donation,
                });
            }
            let readings = readings_of(&self.conn, b.id)?;
            let as_manifest: Vec<ManifestReading> = readings
                .iter()
                .map(|r| ManifestReading {
                    at: r.measured_at,
                    celsius: r.celsius,
                })
                .collect();
            let view = BoxView {
                excursions: excursions(&as_manifest, b.range),
                transport_box: b,
                bags,
                readings,
                manifest_id,
            };
            if manifest_id.is_some() {
                closed.push(view);
            } else {
                open.push(view);
            }
        }
        let mut unpacked = Vec::new();
        for donation in self.drive_donations(drive.id)? {
            if packed.contains(&donation.din) || !is_released(&self.conn, &donation.din)? {
                continue;
            }
            let (allowed, refusal) = match allowed_classes(&donation, &rules) {
                Ok(classes) if classes.is_empty() => {
                    // Every class excluded: the refusal for its own class says why.
                    let why = ProductClass::ALL
                        .into_iter()
                        .find_map(|c| check_packing(&donation, c, &rules).err())
                        .map(|e| e.message());
                    (classes, why)
                }
                Ok(classes) => (classes, None),
                Err(e) => (Vec::new(), Some(e.message())),
            };
            let unit = UnitAssessment::new(collection_findings(&donation, &rules));
            unpacked.push(UnpackedBag {
                unit_text: unit.message(),
                unit,
                donation,
                allowed,
                refusal,
            });
        }
        let (contents, _) = self.open_contents(drive.id)?;
        let preview = (!contents.is_empty()).then(|| {
            let manifest = build_manifest(
                ManifestHeader {
                    id: Uuid::nil(),
                    drive: drive.clone(),
                    device_id: self.device_id,
                    driver: Signatory {
                        staff_id: Uuid::nil(),
                        name: String::new(),
                    },
                    dispatched_at: crate::now(),
                    rules_version: rules.version.clone(),
                },
                contents,
                &rules,
            );
            SignedManifest::of(manifest)
        });
        open.extend(closed);
        let classes = crate::screens::class_options(&rules);
        Ok(TransportView {
            classes,
            manifests: self.drive_manifests(drive.id)?,
            drive,
            boxes: open,
            unpacked,
            preview,
        })
    }
}
