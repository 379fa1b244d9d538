//! The records a crew creates during a drive. Each is written by exactly one device
//! (the one whose crew did the work), identified by an id made on that device, and
//! replicated as a whole row. Medical records are never edited in place: a correction
//! is a new record that names the one it supersedes and why.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::common::{Procedure, Sex};
use crate::din::Din;
use crate::label_piece::LabelKind;
use crate::measurements::{TestResult, Vitals};
use crate::resident_id::IdentityDocument;

pub type RecordId = Uuid;

/// The kinds of record that travel in the change log. The text form is the wire name
/// and the store's entity column; it must never change once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Staff,
    Drive,
    Donor,
    Screening,
    Deferral,
    Donation,
    DinRange,
    LabelPrint,
    LabelScan,
    Visit,
    DonationRelease,
    TransportBox,
    BoxPacking,
    TemperatureReading,
    Manifest,
}

impl EntityKind {
    pub const ALL: [EntityKind; 15] = [
        EntityKind::Staff,
        EntityKind::Drive,
        EntityKind::Donor,
        EntityKind::Screening,
        EntityKind::Deferral,
        EntityKind::Donation,
        EntityKind::DinRange,
        EntityKind::LabelPrint,
        EntityKind::LabelScan,
        EntityKind::Visit,
        EntityKind::DonationRelease,
        EntityKind::TransportBox,
        EntityKind::BoxPacking,
        EntityKind::TemperatureReading,
        EntityKind::Manifest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Staff => "staff",
            EntityKind::Drive => "drive",
            EntityKind::Donor => "donor",
            EntityKind::Screening => "screening",
            EntityKind::Deferral => "deferral",
            EntityKind::Donation => "donation",
            EntityKind::DinRange => "din_range",
            EntityKind::LabelPrint => "label_print",
            EntityKind::LabelScan => "label_scan",
            EntityKind::Visit => "visit",
            EntityKind::DonationRelease => "donation_release",
            EntityKind::TransportBox => "transport_box",
            EntityKind::BoxPacking => "box_packing",
            EntityKind::TemperatureReading => "temperature_reading",
            EntityKind::Manifest => "manifest",
        }
    }

    pub fn parse(text: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Registration,
    Physician,
    Phlebotomist,
    Driver,
    Supervisor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Registration,
        Role::Physician,
        Role::Phlebotomist,
        Role::Driver,
        Role::Supervisor,
    ];

    /// Whether a PIN of this role signs for more than its holder's own work (a dispatch,
    /// a hand-off, a medical decision or lift, a new account), so needs
    /// [`crate::pin::MIN_SIGNING_DIGITS`].
    pub fn signs(self) -> bool {
        matches!(self, Role::Physician | Role::Driver | Role::Supervisor)
    }

    /// The role named by its wire name ([`Role::as_str`]).
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// The wire and display name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Registration => "registration",
            Role::Physician => "physician",
            Role::Phlebotomist => "phlebotomist",
            Role::Driver => "driver",
            Role::Supervisor => "supervisor",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Staff {
    pub id: RecordId,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub active: bool,
}

impl Staff {
    pub fn has_role(&self, role: Role) -> bool {
        self.active && (self.roles.contains(&role) || self.roles.contains(&Role::Supervisor))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    /// A collection bus parked at a town, school or village.
    Vehicle,
    /// A fixed donation house, often open at weekends with a small crew.
    DonationHouse,
}

/// One collection session: a site, on one date, with one crew.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Drive {
    pub id: RecordId,
    pub site_name: String,
    pub site_kind: SiteKind,
    /// The vehicle's plate or call sign when `site_kind` is a vehicle.
    pub vehicle: Option<String>,
    pub date: NaiveDate,
    pub crew: Vec<RecordId>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum AboRh {
    #[serde(rename = "A+")]
    APos,
    #[serde(rename = "A-")]
    ANeg,
    #[serde(rename = "B+")]
    BPos,
    #[serde(rename = "B-")]
    BNeg,
    #[serde(rename = "AB+")]
    AbPos,
    #[serde(rename = "AB-")]
    AbNeg,
    #[serde(rename = "O+")]
    OPos,
    #[serde(rename = "O-")]
    ONeg,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Donor {
    pub id: RecordId,
    pub document: IdentityDocument,
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Unknown until typed at the station, or from a bedside rapid test; never guessed.
    pub abo_rh: Option<AboRh>,
    /// Rural residence, for the station's statistics (domain.md section 7).
    pub rural: Option<bool>,
    pub registered_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RapidTests {
    pub hemoglobin_g_l: Option<f64>,
    pub alt_u_l: Option<f64>,
    pub hbsag: Option<TestResult>,
    pub abo_rh: Option<AboRh>,
    pub hematocrit: Option<f64>,
    pub platelet_count_10e9_l: Option<f64>,
}

/// What the physician decided, after seeing the computed eligibility.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PhysicianDecision {
    Accept,
    Defer {
        code: String,
        until: Option<NaiveDate>,
    },
    /// Accept despite failing rules; the reason is mandatory and audited.
    Override {
        overridden_codes: Vec<String>,
        reason: String,
    },
}

impl PhysicianDecision {
    pub fn permits_donation(&self) -> bool {
        matches!(
            self,
            PhysicianDecision::Accept | PhysicianDecision::Override { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Screening {
    pub id: RecordId,
    pub donor_id: RecordId,
    pub drive_id: RecordId,
    pub procedure: Procedure,
    pub planned_volume_ml: Option<u32>,
    pub questionnaire_version: String,
    pub answers: BTreeMap<String, serde_json::Value>,
    pub vitals: Vitals,
    pub tests: RapidTests,
    pub rules_version: String,
    /// Codes of the rules that failed when the physician decided.
    pub failed_rules: Vec<String>,
    pub decision: PhysicianDecision,
    pub physician_id: RecordId,
    pub recorded_at: DateTime<Utc>,
    pub supersedes: Option<RecordId>,
    pub correction_reason: Option<String>,
    /// What the physician found for each questionnaire answer they had to review
    /// (question id → finding); absent in screenings recorded before the questionnaire.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub review_findings: BTreeMap<String, String>,
    /// The donor's informed consent (`consent`): required to accept or waive; absent
    /// on a deferral the donor did not sign for, and on screenings recorded before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<crate::consent::Consent>,
    /// The physician's note on today's rapid ABO/RhD differing from the group on the
    /// donor's record (`blood_group::mismatch`): required to accept with a mismatch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abo_rh_note: Option<String>,
}

/// Deferrals only accumulate: lifting one early is a new entry naming it in `lifts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Deferral {
    pub id: RecordId,
    pub donor_id: RecordId,
    pub code: String,
    pub reason: String,
    pub start: NaiveDate,
    /// `None` is permanent. The donor may donate again on this date.
    pub until: Option<NaiveDate>,
    pub screening_id: Option<RecordId>,
    pub recorded_by: RecordId,
    pub recorded_at: DateTime<Utc>,
    pub lifts: Option<RecordId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum BagSetKind {
    Single,
    Double,
    Triple,
    Quadruple,
    ApheresisKit,
}

impl BagSetKind {
    /// Every bag set, in the order the chair offers them.
    pub const ALL: [BagSetKind; 5] = [
        BagSetKind::Single,
        BagSetKind::Double,
        BagSetKind::Triple,
        BagSetKind::Quadruple,
        BagSetKind::ApheresisKit,
    ];

    /// Bags in the set, primary included: each one gets a label.
    pub fn bag_count(self) -> u8 {
        match self {
            BagSetKind::Single | BagSetKind::ApheresisKit => 1,
            BagSetKind::Double => 2,
            BagSetKind::Triple => 3,
            BagSetKind::Quadruple => 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BagSet {
    pub kind: BagSetKind,
    pub lot: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    Left,
    Right,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReactionKind {
    Vasovagal,
    Haematoma,
    CitrateReaction,
    ArterialPuncture,
    NerveIrritation,
    Other,
}

impl ReactionKind {
    /// Every kind, in the order the chair offers them.
    pub const ALL: [ReactionKind; 6] = [
        ReactionKind::Vasovagal,
        ReactionKind::Haematoma,
        ReactionKind::CitrateReaction,
        ReactionKind::ArterialPuncture,
        ReactionKind::NerveIrritation,
        ReactionKind::Other,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Mild,
    Moderate,
    Severe,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Mild, Severity::Moderate, Severity::Severe];
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AdverseReaction {
    pub kind: ReactionKind,
    pub severity: Severity,
    pub onset: DateTime<Utc>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// On the chair: collection started and not yet finished.
    InProgress,
    Complete,
    /// Under-volume: collected less than planned.
    Partial,
    Aborted,
}

impl Outcome {
    /// What a collection may be finished with: every outcome but `InProgress`.
    pub const FINISHED: [Outcome; 3] = [Outcome::Complete, Outcome::Partial, Outcome::Aborted];
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Donation {
    pub id: RecordId,
    pub donor_id: RecordId,
    pub drive_id: RecordId,
    pub screening_id: RecordId,
    pub din: Din,
    pub procedure: Procedure,
    pub bag_set: BagSet,
    pub planned_volume_ml: u32,
    pub collected_volume_ml: Option<u32>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub phlebotomist_id: RecordId,
    pub arm: Arm,
    pub reactions: Vec<AdverseReaction>,
    pub outcome: Outcome,
    pub recorded_at: DateTime<Utc>,
    pub supersedes: Option<RecordId>,
    pub correction_reason: Option<String>,
    /// Product classes this bag may never become: from a product-scoped deferral found at
    /// screening (antiplatelet drugs exclude platelets) or from the collection itself (a
    /// slow draw). Packing into a box of an excluded class is refused. Omitted from the
    /// body when empty, so bodies written before this field existed keep their digest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_products: Vec<crate::product::ProductClass>,
}

impl Donation {
    /// Minutes from venepuncture to the end of collection, when both are known.
    pub fn collection_minutes(&self) -> Option<i64> {
        self.ended_at
            .map(|end| (end - self.started_at).num_seconds().div_euclid(60))
    }
}

/// Volume from the scale: (gross − tare) grams at `grams_per_ml` (1.05, or the 1.053 many
/// stations use). `None` when the weights cannot be a collection (tare heavier than gross).
pub fn volume_from_scale_ml(gross_g: f64, tare_g: f64, grams_per_ml: f64) -> Option<u32> {
    let net = gross_g - tare_g;
    if !net.is_finite() || net < 0.0 || !(grams_per_ml.is_finite() && grams_per_ml > 0.0) {
        return None;
    }
    let ml = (net / grams_per_ml).round();
    (ml <= f64::from(u32::MAX)).then_some(ml as u32)
}

/// One donor's pass through one drive, from check-in. Where the donor stands in the
/// chair queue is derived from the screening and donation, not stored here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Visit {
    pub id: RecordId,
    pub drive_id: RecordId,
    pub donor_id: RecordId,
    pub checked_in_at: DateTime<Utc>,
    pub checked_in_by: RecordId,
    /// The questionnaire answers the donor brought in a pre-fill QR (checked against the
    /// questionnaire at check-in); the screening tablet starts from them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub prefill: Option<crate::questionnaire::QuestionnaireAnswers>,
}

/// Where a DIN range came from: leased by the station to this device, or a roll of
/// labels the station pre-printed and registered for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DinRangeSource {
    Leased,
    PrePrinted,
    /// Made locally for demos and training; never valid at a station.
    Training,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DinRangeRecord {
    pub id: RecordId,
    pub range: crate::din::DinRange,
    pub source: DinRangeSource,
    pub device_id: Uuid,
    pub granted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LabelPrint {
    pub id: RecordId,
    pub donation_id: RecordId,
    pub din: Din,
    pub kind: LabelKind,
    /// Which piece of the set: bag 1..n, tube 1..n.
    pub piece: u8,
    pub printed_by: RecordId,
    pub printed_at: DateTime<Utc>,
    pub supersedes: Option<RecordId>,
}

/// The bag may leave the donor chair: every label of its set was scanned back and
/// matched. Written once per DIN, by the device at that chair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DonationRelease {
    pub id: RecordId,
    pub donation_id: RecordId,
    pub din: Din,
    pub released_by: RecordId,
    pub released_at: DateTime<Utc>,
    pub pieces: Vec<crate::label_piece::LabelPiece>,
    /// The pieces verified by manual entry (typed, with a second crew member's PIN)
    /// rather than a scan; omitted when empty so earlier bodies keep their digest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manual_pieces: Vec<crate::label_piece::LabelPiece>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ScanResult {
    Matched,
    OtherDonation,
    UnknownDin,
    Duplicate,
    Unreadable,
    /// Typed, or data content without a scanner's symbology identifier: verifies nothing.
    NotScanned,
    /// A scan of the right DIN whose flags name no piece of the set.
    NoPiece,
}

/// A piece verified by typing its DIN instead of scanning it: the exception path, with
/// the reason and a second crew member who confirmed it with their PIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManualVerification {
    pub reason: String,
    /// The second crew member (not the one at the chair) whose PIN authorised it.
    pub authorised_by: RecordId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LabelScan {
    pub id: RecordId,
    pub donation_id: RecordId,
    pub scanned_text: String,
    pub din: Option<Din>,
    pub result: ScanResult,
    pub scanned_by: RecordId,
    pub scanned_at: DateTime<Utc>,
    /// The piece a matched entry verified. Absent in scans recorded before this field
    /// existed (their piece is re-read from `scanned_text`), so old bodies keep their
    /// bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub piece: Option<crate::label_piece::LabelPiece>,
    /// Set when the piece was verified by manual entry instead of a scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<ManualVerification>,
}

/// A donor booked for a site on a day, made at the station (its booking desk or call
/// list) and pulled by the vehicles. The station is its only writer: a change or a
/// cancellation is the same id sent again, and the later one replaces the earlier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Appointment {
    pub id: RecordId,
    /// The drive's calendar date (China Standard Time).
    pub date: NaiveDate,
    /// Matches the drive's `site_name`.
    pub site_name: String,
    /// Start of the booked slot, China Standard Time.
    pub time: Option<chrono::NaiveTime>,
    pub document: IdentityDocument,
    pub name: String,
    pub phone: Option<String>,
    pub procedure: Procedure,
    pub note: Option<String>,
    pub cancelled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_wire_names_only() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(
                serde_json::to_value(role).ok(),
                Some(serde_json::Value::String(role.as_str().into()))
            );
        }
        assert_eq!(Role::parse("Driver"), None);
        assert_eq!(Role::parse("receiving"), None);
    }

    #[test]
    fn entity_names_round_trip_and_match_serde() {
        for kind in EntityKind::ALL {
            assert_eq!(EntityKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.as_str().to_owned())
            );
        }
        assert_eq!(EntityKind::parse("bag"), None);
    }

    #[test]
    fn scale_volume_uses_density_and_refuses_negative_net_weight() {
        assert_eq!(volume_from_scale_ml(520.0, 100.0, 1.05), Some(400));
        assert_eq!(volume_from_scale_ml(521.2, 100.0, 1.053), Some(400));
        assert_eq!(volume_from_scale_ml(90.0, 100.0, 1.05), None);
        assert_eq!(volume_from_scale_ml(f64::NAN, 100.0, 1.05), None);
        assert_eq!(volume_from_scale_ml(500.0, 100.0, 0.0), None);
    }

    #[test]
    fn supervisor_can_act_in_any_role_but_inactive_staff_cannot() {
        let mut staff = Staff {
            id: Uuid::nil(),
            display_name: "王护士".into(),
            roles: vec![Role::Supervisor],
            active: true,
        };
        assert!(staff.has_role(Role::Physician));
        staff.active = false;
        assert!(!staff.has_role(Role::Physician));
    }
}
