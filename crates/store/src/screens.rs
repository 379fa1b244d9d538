//! What the app's screens send and read, defined once: the forms, the views assembled
//! from several queries, the options a screen offers (from the rules table in force),
//! and the checks the command layer makes before the store is asked to write. The Tauri
//! commands take these types as they are and make one call each; the UI's TypeScript
//! types are generated from them (feature `ts`).

use chrono::{DateTime, NaiveDate, Utc};
use lifebridge_domain::Sex;
use lifebridge_domain::eligibility::{self, Decision, DeferralChoice, Reason};
use lifebridge_domain::entities::{
    AboRh, Arm, BagSet, BagSetKind, Deferral, Donation, Donor, Drive, Outcome, PhysicianDecision,
    ReactionKind, RecordId, Role, Screening, Severity, SiteKind, Visit,
};
use lifebridge_domain::handoff::HandoffRecord;
use lifebridge_domain::messages::Message;
use lifebridge_domain::product::ProductClass;
use lifebridge_domain::questionnaire::QuestionnaireAnswers;
use lifebridge_domain::resident_id::{DocumentKind, IdentityDocument, IdentityDocumentError};
use lifebridge_domain::rules::RuleSet;
use lifebridge_domain::slip::DeferralSlip;
use serde::{Deserialize, Serialize};

use crate::cold_chain::{
    ClassOption, ColdChainError, LoggerImport, ManualPackEntry, SignedManifest, TransportView,
};
use crate::drive_day::{CheckInStatus, StartCollection};
use crate::labels::{LabelError, LabelSetStatus, ManualLabelEntry};
use crate::records::{DonorDetails, NewDonor, NewDrive};
pub use crate::screening::ScreeningForm;
use crate::{Actor, Result, Store, StoreError};

/// The questionnaire a screening records when the station has sent none: the donor
/// health questionnaire of GB 18467-2011 as this build asks it.
pub const BUILT_IN_QUESTIONNAIRE: &str = "GB18467-2011-Q1";

/// A drive started on this tablet today, with no crew listed yet.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DriveForm {
    pub site_name: String,
    pub site_kind: SiteKind,
    pub vehicle: Option<String>,
}

impl DriveForm {
    pub fn into_new(self, date: NaiveDate) -> NewDrive {
        NewDrive {
            site_name: self.site_name,
            site_kind: self.site_kind,
            vehicle: self.vehicle,
            date,
            crew: vec![],
        }
    }
}

/// A donor as the registration screen types them: the document still as text, then the
/// donor's details (flattened, so the JSON is one object).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DonorForm {
    pub document_kind: String,
    pub document_number: String,
    #[serde(flatten)]
    pub details: DonorDetails,
}

impl DonorForm {
    /// The donor to register, with the document checked as of `today`.
    pub fn into_new(
        self,
        today: NaiveDate,
    ) -> std::result::Result<NewDonor, IdentityDocumentError> {
        Ok(NewDonor {
            document: IdentityDocument::parse(&self.document_kind, &self.document_number, today)?,
            details: self.details,
        })
    }
}

/// An identity document as it is typed or scanned, with what a resident ID encodes.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DocumentCheck {
    pub kind: String,
    pub number: String,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
}

impl DocumentCheck {
    pub fn parse(
        kind: &str,
        number: &str,
        today: NaiveDate,
    ) -> std::result::Result<DocumentCheck, IdentityDocumentError> {
        Ok(DocumentCheck::of(&IdentityDocument::parse(
            kind, number, today,
        )?))
    }

    /// A document already parsed (one read from a pre-fill code).
    pub fn of(doc: &IdentityDocument) -> DocumentCheck {
        let (birth_date, sex) = match doc {
            IdentityDocument::ResidentId(id) => (Some(id.birth_date()), Some(id.sex())),
            _ => (None, None),
        };
        DocumentCheck {
            kind: doc.kind().as_str().to_owned(),
            number: doc.number().to_owned(),
            birth_date,
            sex,
        }
    }
}

/// What the screening screen shows: the core's decision, and the deferral catalogue as
/// offered for it (answering codes first, one pre-selected).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScreeningView {
    pub decision: Decision,
    /// The failing rules no one may waive: why there is no waiver button.
    pub hard_stops: Vec<Reason>,
    /// Every failing rule may be waived (with a reason and the physician's PIN).
    pub waivable: bool,
    pub deferral_choices: Vec<DeferralChoice>,
    /// Today's rapid ABO/RhD differs from the group on the donor's record: the
    /// physician's flag (an acceptance then needs their note).
    pub abo_rh_mismatch: Option<Message>,
}

/// A collection started at the chair for a screened donor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StartForm {
    pub screening_id: RecordId,
    pub bag_set: BagSet,
    /// Absent: the volume the physician planned at screening, or for a procedure
    /// planned without one the largest whole-blood volume of the rules table.
    #[serde(default)]
    pub planned_volume_ml: Option<u32>,
    pub arm: Arm,
}

/// A donor at check-in: record, history and whether they may give whole blood today.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DonorOverview {
    pub donor: Donor,
    pub donations: Vec<Donation>,
    pub active_deferrals: Vec<Deferral>,
    pub cumulative_volume_ml: u64,
    pub next_eligible: Option<NaiveDate>,
    /// Time and history allow a donation today (the day's measurements still decide).
    pub eligible_today: bool,
    /// Why not, when not: the check-in screen shows it in red with the date, and
    /// checking the donor in then needs a confirmation.
    pub check_in: CheckInStatus,
    pub probable_duplicates: Vec<Donor>,
}

/// The label set of a donation with what has been scanned back, and the eye-readable
/// DIN as it is printed.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LabelView {
    pub status: LabelSetStatus,
    pub eye_readable: String,
    /// The data each piece's barcode carries, in print order (for the preview).
    pub barcodes: Vec<String>,
}

/// What a deferral slip prints for the deferral a screening recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeferralSlipFacts {
    pub deferral_id: RecordId,
    pub slip: DeferralSlip,
}

impl DeferralSlipFacts {
    /// The slip's file name: its date and the deferral, so re-saving one overwrites it.
    pub fn file_name(&self) -> String {
        format!("slip-{}-{}.pdf", self.slip.date, self.deferral_id)
    }
}

/// A logger file imported into a box: what the import found, and the driver's screen
/// after it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoggerImportView {
    pub import: LoggerImport,
    pub view: TransportView,
}

/// A signed manifest as the driver's screen shows it: the manifest, the texts of its
/// QR code(s) (`lifebridge_protocol::manifest_code`), and the station's signed
/// hand-off of it once one has come back by sync. The app draws the QR codes.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestSheet {
    pub signed: SignedManifest,
    pub qr_texts: Vec<String>,
    pub handoffs: Vec<HandoffRecord>,
}

impl ManifestSheet {
    /// The manifest PDF's file name: the drive's date and the manifest.
    pub fn file_name(&self) -> String {
        format!(
            "manifest-{}-{}.pdf",
            self.signed.manifest.drive_date, self.signed.manifest.id
        )
    }
}

/// What the screens offer, from the rules table in force and the core's constants, so
/// the UI holds no rules data of its own.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScreenOptions {
    pub rules_version: String,
    /// The planned volumes a whole-blood donation may have.
    pub whole_blood_volumes_ml: Vec<u32>,
    /// The bag sets the chair may use, in the order offered.
    pub bag_sets: Vec<BagSetKind>,
    /// Sample tubes printed per donation.
    pub tubes: u8,
    /// The transport box classes with their band and processing limit.
    pub classes: Vec<ClassOption>,
    /// The questionnaire a screening is recorded against.
    pub questionnaire_version: String,
    /// The offset from UTC of the zone the drives work in (the drive's local day and
    /// the times the crew reads), in seconds.
    pub utc_offset_seconds: i32,
    /// The identity documents registration accepts, resident ID first.
    pub document_kinds: Vec<DocumentKind>,
    /// The roles a supervisor may give an account.
    pub roles: Vec<Role>,
    /// What a collection may be finished with.
    pub finish_outcomes: Vec<Outcome>,
    /// The adverse reactions the chair records, and their severities.
    pub reaction_kinds: Vec<ReactionKind>,
    pub severities: Vec<Severity>,
    /// The groups the bus's rapid ABO/RhD typing may record.
    pub abo_rh_groups: Vec<AboRh>,
}

/// Refusals the command layer makes before the store is asked (the store refuses the
/// same again), each with the code the screen translates.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScreenRefusal {
    /// A failing rule the rules table does not let anyone waive.
    #[error("{what}: {} cannot be waived (rules table {rules_version})", codes.join(", "))]
    HardStop {
        what: &'static str,
        codes: Vec<String>,
        rules_version: String,
    },
    #[error("a waiver needs your PIN again (electronic signature)")]
    WaiverPinRequired,
    /// The chosen deferral does not answer the failing rules.
    #[error("{problem}")]
    DeferralMismatch {
        code: String,
        field: &'static str,
        problem: String,
    },
    /// Time, history or age do not allow whole blood today, and no reason was given.
    #[error("this donor may not donate whole blood today: confirm the check-in with a reason")]
    NeedsConfirmation {
        next_eligible: Option<NaiveDate>,
        codes: Vec<String>,
    },
}

/// A screen's action failed: refused before the store, or by the store.
#[derive(Debug, thiserror::Error)]
pub enum ScreenError {
    #[error(transparent)]
    Refused(#[from] ScreenRefusal),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The identity document typed on a form does not parse.
    #[error(transparent)]
    Document(#[from] IdentityDocumentError),
}

/// The box classes the rules table in force defines, as the option list shows them.
pub fn class_options(rules: &RuleSet) -> Vec<ClassOption> {
    ProductClass::ALL
        .into_iter()
        .filter_map(|class| {
            rules.cold_chain.class(class).map(|rule| ClassOption {
                class,
                range: rule.range,
                processing_limit_hours: rule.processing_limit_hours,
            })
        })
        .collect()
}

/// The command layer's own refusal of a decision the core's verdict does not allow.
pub fn refuse_decision(
    rules: &RuleSet,
    date: NaiveDate,
    decision: &Decision,
    physician: &PhysicianDecision,
    waiver_pin: Option<&str>,
) -> std::result::Result<(), ScreenRefusal> {
    let hard: Vec<String> = decision
        .hard_stops()
        .into_iter()
        .map(|r| r.code.as_str().to_owned())
        .collect();
    let hard_stop = |what| ScreenRefusal::HardStop {
        what,
        codes: hard.clone(),
        rules_version: rules.version.clone(),
    };
    match physician {
        PhysicianDecision::Accept if !decision.reasons.is_empty() && !hard.is_empty() => {
            Err(hard_stop("cannot accept"))
        }
        PhysicianDecision::Override { .. } if !hard.is_empty() => Err(hard_stop("no waiver")),
        PhysicianDecision::Override { .. } if waiver_pin.is_none_or(|p| p.trim().is_empty()) => {
            Err(ScreenRefusal::WaiverPinRequired)
        }
        PhysicianDecision::Defer { code, until } => {
            eligibility::check_deferral(rules, decision, date, code, *until)
                .map(|_| ())
                .map_err(|e| ScreenRefusal::DeferralMismatch {
                    code: code.clone(),
                    field: e.field,
                    problem: e.problem,
                })
        }
        _ => Ok(()),
    }
}

/// A donor whom history, deferrals or age do not allow today is checked in only with a
/// confirmation (why they are checked in anyway).
pub fn refuse_check_in(
    status: &CheckInStatus,
    confirmation: Option<&str>,
) -> std::result::Result<(), ScreenRefusal> {
    let confirmed = confirmation.is_some_and(|c| !c.trim().is_empty());
    if status.eligible_today || confirmed {
        return Ok(());
    }
    Err(ScreenRefusal::NeedsConfirmation {
        next_eligible: status.next_eligible,
        codes: status
            .reasons
            .iter()
            .map(|r| r.code.as_str().to_owned())
            .collect(),
    })
}

impl Store {
    /// The check-in screen's view of a donor on `today`; `None` for an unknown donor.
    pub fn donor_overview(
        &self,
        donor_id: RecordId,
        today: NaiveDate,
    ) -> Result<Option<DonorOverview>> {
        let Some(history) = self.donor_history(donor_id)? else {
            return Ok(None);
        };
        let check_in = self.check_in_status(donor_id, today)?;
        let next_eligible = check_in.next_eligible;
        Ok(Some(DonorOverview {
            check_in,
            probable_duplicates: self.probable_duplicates(&history.donor)?,
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
        }))
    }

    /// Checks a donor in on the drive's date, refusing first a donor who needs a
    /// confirmation and has none (see [`refuse_check_in`]).
    pub fn check_in_checked(
        &mut self,
        actor: Actor,
        drive_id: RecordId,
        donor_id: RecordId,
        confirmation: Option<&str>,
    ) -> std::result::Result<Visit, ScreenError> {
        self.check_in_checked_with(actor, drive_id, donor_id, confirmation, None)
    }

    /// [`Store::check_in_checked`] keeping the donor's pre-filled answers on the visit.
    pub fn check_in_checked_with(
        &mut self,
        actor: Actor,
        drive_id: RecordId,
        donor_id: RecordId,
        confirmation: Option<&str>,
        prefill: Option<QuestionnaireAnswers>,
    ) -> std::result::Result<Visit, ScreenError> {
        let drive = self.drive(drive_id)?;
        refuse_check_in(&self.check_in_status(donor_id, drive.date)?, confirmation)?;
        Ok(self.check_in_with_answers(actor, drive_id, donor_id, confirmation, prefill)?)
    }

    /// The core's decision on a screening form, as of the drive's date; records nothing.
    pub fn evaluate_form(&self, form: &ScreeningForm) -> Result<Decision> {
        let drive = self.drive(form.drive_id)?;
        self.evaluate_screening(
            form.donor_id,
            drive.date,
            form.procedure,
            form.planned_volume_ml,
            &form.vitals,
            &form.tests,
            form.athlete,
            &form.restrictions,
            Some(&form.questionnaire()),
        )
    }

    /// Live eligibility while the physician fills the form.
    pub fn screening_view(&self, form: &ScreeningForm) -> Result<ScreeningView> {
        let drive = self.drive(form.drive_id)?;
        let decision = self.evaluate_form(form)?;
        Ok(ScreeningView {
            hard_stops: decision.hard_stops().into_iter().cloned().collect(),
            waivable: decision.is_waivable(),
            deferral_choices: self.deferral_choices(&decision, drive.date)?,
            decision,
            abo_rh_mismatch: self.abo_rh_flag(form.donor_id, form.tests.abo_rh)?,
        })
    }

    /// Records a screening with the physician's decision, refusing first what the
    /// core's verdict does not allow (see [`refuse_decision`]).
    pub fn record_screening_form(
        &mut self,
        actor: Actor,
        form: ScreeningForm,
        decision: PhysicianDecision,
        waiver_pin: Option<String>,
    ) -> std::result::Result<Screening, ScreenError> {
        let drive = self.drive(form.drive_id)?;
        let verdict = self.evaluate_form(&form)?;
        refuse_decision(
            &self.rules()?,
            drive.date,
            &verdict,
            &decision,
            waiver_pin.as_deref(),
        )?;
        Ok(self.record_screening(actor, form.into_new(decision, waiver_pin))?)
    }

    /// The whole deferral catalogue (for restrictions and manual deferrals), as the core
    /// offers it when no rule fails.
    pub fn deferral_catalogue(&self, today: NaiveDate) -> Result<Vec<DeferralChoice>> {
        let rules = self.rules()?;
        let passing = Decision {
            eligible: true,
            reasons: Vec::new(),
            eligible_from: Some(today),
            rules_version: rules.version.clone(),
            excluded_products: Vec::new(),
            review: Vec::new(),
        };
        Ok(eligibility::deferral_choices(&rules, &passing, today))
    }

    /// Starts a collection for the signed-in phlebotomist. Product-scoped deferrals are
    /// refused first when they rule out what the procedure yields (the store refuses
    /// again).
    pub fn start_collection_form(
        &mut self,
        actor: Actor,
        phlebotomist_id: RecordId,
        form: StartForm,
    ) -> Result<Donation> {
        let screening = self
            .screening(form.screening_id)?
            .ok_or_else(|| StoreError::Missing {
                entity: "screening",
                id: form.screening_id.to_string(),
            })?;
        let date = self.drive(screening.drive_id)?.date;
        self.excluded_products(screening.donor_id, date, screening.procedure)?;
        let planned_volume_ml = match form.planned_volume_ml.or(screening.planned_volume_ml) {
            Some(volume) => volume,
            None => largest_volume(&self.rules()?)?,
        };
        self.start_collection(
            actor,
            StartCollection {
                screening_id: form.screening_id,
                bag_set: form.bag_set,
                planned_volume_ml,
                phlebotomist_id,
                arm: form.arm,
            },
        )
    }

    /// The label set of a donation as the chair shows it.
    pub fn label_view(&self, donation_id: RecordId) -> Result<LabelView> {
        let status = self.label_status(donation_id)?;
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

    /// The slip of the deferral a screening recorded (not a product restriction, which
    /// defers no one); `None` when the screening deferred no one.
    pub fn deferral_slip_facts(&self, screening_id: RecordId) -> Result<Option<DeferralSlipFacts>> {
        let screening = self
            .screening(screening_id)?
            .ok_or_else(|| StoreError::Missing {
                entity: "screening",
                id: screening_id.to_string(),
            })?;
        let history =
            self.donor_history(screening.donor_id)?
                .ok_or_else(|| StoreError::Missing {
                    entity: "donor",
                    id: screening.donor_id.to_string(),
                })?;
        let rules = self.rules()?;
        let Some(deferral) = history
            .deferrals
            .iter()
            .filter(|d| d.screening_id == Some(screening_id) && d.lifts.is_none())
            .find(|d| {
                rules
                    .deferrals
                    .deferral(&d.code)
                    .is_none_or(|k| k.scope.is_all())
            })
        else {
            return Ok(None);
        };
        let kind = rules.deferrals.deferral(&deferral.code);
        let physician_name = self
            .staff_list()?
            .into_iter()
            .find(|p| p.id == screening.physician_id)
            .map(|p| p.display_name)
            .unwrap_or_default();
        Ok(Some(DeferralSlipFacts {
            deferral_id: deferral.id,
            slip: DeferralSlip {
                donor_name: history.donor.name.clone(),
                code: deferral.code.clone(),
                reason_zh: kind.map_or(deferral.reason.clone(), |k| k.zh.clone()),
                reason_en: kind.map_or(deferral.code.clone(), |k| k.en.clone()),
                date: deferral.start,
                until: deferral.until,
                site_name: self.drive(screening.drive_id)?.site_name,
                physician_name,
            },
        }))
    }

    /// The check-in search: by document number when the text is a resident ID, else by
    /// name or phone (at most 20).
    pub fn find_donors(&self, query: &str, today: NaiveDate) -> Result<Vec<Donor>> {
        match IdentityDocument::parse("resident_id", query, today) {
            Ok(doc) => Ok(self
                .donor_by_document("resident_id", doc.number())?
                .into_iter()
                .collect()),
            Err(_) => self.search_donors(query, 20),
        }
    }

    /// Collected volume from the scale with the density of the rules table in force;
    /// `None` when the gross weight does not exceed the tare.
    pub fn volume_from_scale(&self, gross_g: f64, tare_g: f64) -> Result<Option<u32>> {
        let density = self.rules()?.collection.grams_per_ml;
        Ok(lifebridge_domain::entities::volume_from_scale_ml(
            gross_g, tare_g, density,
        ))
    }

    /// The questionnaire in force: the newest one the station sent, else the built-in.
    pub fn questionnaire_version(&self) -> Result<String> {
        Ok(self.questionnaire()?.version)
    }

    /// What the screens offer (see [`ScreenOptions`]).
    pub fn screen_options(&self) -> Result<ScreenOptions> {
        let rules = self.rules()?;
        Ok(ScreenOptions {
            rules_version: rules.version.clone(),
            whole_blood_volumes_ml: rules.whole_blood_volumes_ml.clone(),
            bag_sets: BagSetKind::ALL.to_vec(),
            tubes: lifebridge_domain::label_piece::DEFAULT_TUBE_COUNT,
            classes: class_options(&rules),
            questionnaire_version: self.questionnaire_version()?,
            utc_offset_seconds: lifebridge_domain::CHINA_STANDARD_TIME.local_minus_utc(),
            document_kinds: DocumentKind::ALL.to_vec(),
            roles: Role::ALL.to_vec(),
            finish_outcomes: Outcome::FINISHED.to_vec(),
            reaction_kinds: ReactionKind::ALL.to_vec(),
            severities: Severity::ALL.to_vec(),
            abo_rh_groups: lifebridge_domain::blood_group::ALL.to_vec(),
        })
    }
}

/// Each screen action as one call: the store's action, then what the screen shows after
/// it. The actions themselves ([`Store::print_label_set`], [`Store::pack_bag`], …) stay
/// as they are for the CLI, the demo and the tests; these only add the view, so a Tauri
/// command is its role check and one of these.
impl Store {
    /// Registers a donor from the registration form, the document checked as of `today`.
    pub fn register_donor_form(
        &mut self,
        actor: Actor,
        form: DonorForm,
        today: NaiveDate,
    ) -> std::result::Result<Donor, ScreenError> {
        let donor = form.into_new(today)?;
        Ok(self.register_donor(actor, donor)?)
    }

    /// Starts a drive on `date` from the drive form (no crew listed yet).
    pub fn start_drive_form(
        &mut self,
        actor: Actor,
        form: DriveForm,
        date: NaiveDate,
    ) -> Result<Drive> {
        self.start_drive(actor, form.into_new(date))
    }

    /// Collected volume from the scale (see [`Store::volume_from_scale`]), refused on
    /// the gross weight when it does not exceed the tare.
    pub fn collected_volume(&self, gross_g: f64, tare_g: f64) -> Result<u32> {
        self.volume_from_scale(gross_g, tare_g)?.ok_or_else(|| {
            StoreError::invalid(
                "gross_g",
                "the gross weight must exceed the bag's tare weight",
            )
        })
    }

    /// The check-in screen's view of a donor (see [`Store::donor_overview`]), an unknown
    /// donor refused as missing.
    pub fn donor_overview_of(&self, donor_id: RecordId, today: NaiveDate) -> Result<DonorOverview> {
        self.donor_overview(donor_id, today)?
            .ok_or_else(|| StoreError::Missing {
                entity: "donor",
                id: donor_id.to_string(),
            })
    }

    /// Prints the label set ([`Store::print_label_set`]) and returns the chair's view.
    pub fn print_labels_view(
        &mut self,
        actor: Actor,
        donation_id: RecordId,
        tubes: u8,
    ) -> std::result::Result<LabelView, LabelError> {
        self.print_label_set(actor, donation_id, tubes)?;
        Ok(self.label_view(donation_id)?)
    }

    /// Records a scan at the chair ([`Store::record_label_scan`]) and returns the view.
    pub fn scan_label_view(
        &mut self,
        actor: Actor,
        donation_id: RecordId,
        scanned_text: &str,
    ) -> std::result::Result<LabelView, LabelError> {
        self.record_label_scan(actor, donation_id, scanned_text)?;
        Ok(self.label_view(donation_id)?)
    }

    /// Records a manual label entry ([`Store::record_manual_label_entry`]) and returns
    /// the view.
    pub fn manual_label_entry_view(
        &mut self,
        actor: Actor,
        donation_id: RecordId,
        entry: &ManualLabelEntry,
    ) -> std::result::Result<LabelView, LabelError> {
        self.record_manual_label_entry(actor, donation_id, entry)?;
        Ok(self.label_view(donation_id)?)
    }

    /// Releases the donation from the chair ([`Store::release_donation`]) and returns
    /// the view.
    pub fn release_donation_view(
        &mut self,
        actor: Actor,
        donation_id: RecordId,
    ) -> std::result::Result<LabelView, LabelError> {
        self.release_donation(actor, donation_id)?;
        Ok(self.label_view(donation_id)?)
    }

    /// The driver's screen for the drive a box belongs to.
    pub fn transport_view_of_box(&self, box_id: RecordId) -> Result<TransportView> {
        let transport_box = self
            .transport_box(box_id)?
            .ok_or_else(|| StoreError::Missing {
                entity: "transport box",
                id: box_id.to_string(),
            })?;
        self.transport_view(transport_box.drive_id)
    }

    /// Opens a box ([`Store::open_box`]) and returns the driver's screen.
    pub fn open_box_view(
        &mut self,
        actor: Actor,
        drive_id: RecordId,
        code: &str,
        class: ProductClass,
    ) -> std::result::Result<TransportView, ColdChainError> {
        self.open_box(actor, drive_id, code, class)?;
        Ok(self.transport_view(drive_id)?)
    }

    /// Packs a scanned bag ([`Store::pack_bag`]) and returns the driver's screen.
    pub fn pack_bag_view(
        &mut self,
        actor: Actor,
        box_id: RecordId,
        scanned_text: &str,
    ) -> std::result::Result<TransportView, ColdChainError> {
        let packing = self.pack_bag(actor, box_id, scanned_text)?;
        Ok(self.transport_view_of_box(packing.box_id)?)
    }

    /// Packs a bag by manual entry ([`Store::pack_bag_manual`]) and returns the
    /// driver's screen.
    pub fn pack_bag_manual_view(
        &mut self,
        actor: Actor,
        box_id: RecordId,
        entry: &ManualPackEntry,
    ) -> std::result::Result<TransportView, ColdChainError> {
        let packing = self.pack_bag_manual(actor, box_id, entry)?;
        Ok(self.transport_view_of_box(packing.box_id)?)
    }

    /// Takes a bag out of its box ([`Store::unpack_bag`]) and returns the driver's
    /// screen.
    pub fn unpack_bag_view(
        &mut self,
        actor: Actor,
        packing_id: RecordId,
    ) -> std::result::Result<TransportView, ColdChainError> {
        let undo = self.unpack_bag(actor, packing_id)?;
        Ok(self.transport_view_of_box(undo.box_id)?)
    }

    /// Records a thermometer reading ([`Store::record_temperature`]), taken now when
    /// `measured_at` is absent, and returns the driver's screen.
    pub fn record_temperature_view(
        &mut self,
        actor: Actor,
        box_id: RecordId,
        measured_at: Option<DateTime<Utc>>,
        celsius: f64,
    ) -> std::result::Result<TransportView, ColdChainError> {
        let at = measured_at.unwrap_or_else(crate::now);
        self.record_temperature(actor, box_id, at, celsius)?;
        Ok(self.transport_view_of_box(box_id)?)
    }

    /// Imports a logger file ([`Store::import_logger_csv`]): what it found, and the
    /// driver's screen after it.
    pub fn import_logger_csv_view(
        &mut self,
        actor: Actor,
        box_id: RecordId,
        file_name: &str,
        text: &str,
    ) -> std::result::Result<LoggerImportView, ColdChainError> {
        let import = self.import_logger_csv(actor, box_id, file_name, text)?;
        Ok(LoggerImportView {
            import,
            view: self.transport_view_of_box(box_id)?,
        })
    }

    /// The driver signs the dispatch ([`Store::dispatch`]) with their PIN; returns the
    /// manifest as the screen shows it.
    pub fn dispatch_sheet(
        &mut self,
        actor: Actor,
        drive_id: RecordId,
        driver_id: RecordId,
        pin: &str,
    ) -> std::result::Result<ManifestSheet, ColdChainError> {
        let signed = self.dispatch(actor, drive_id, driver_id, pin)?;
        Ok(self.sheet_of(signed)?)
    }

    /// A signed manifest as the screen shows it; an unknown one is refused as missing.
    pub fn manifest_sheet(&self, manifest_id: RecordId) -> Result<ManifestSheet> {
        let signed = self
            .manifest(manifest_id)?
            .ok_or_else(|| StoreError::Missing {
                entity: "manifest",
                id: manifest_id.to_string(),
            })?;
        self.sheet_of(signed)
    }

    fn sheet_of(&self, signed: SignedManifest) -> Result<ManifestSheet> {
        Ok(ManifestSheet {
            handoffs: self.manifest_handoffs(signed.manifest.id)?,
            qr_texts: lifebridge_protocol::manifest_code::encode(&signed.manifest),
            signed,
        })
    }

    /// The slip of the deferral a screening recorded (see
    /// [`Store::deferral_slip_facts`]); refused as missing when it deferred no one.
    pub fn deferral_slip(&self, screening_id: RecordId) -> Result<DeferralSlipFacts> {
        self.deferral_slip_facts(screening_id)?
            .ok_or_else(|| StoreError::Missing {
                entity: "deferral slip of screening",
                id: screening_id.to_string(),
            })
    }
}

/// The largest whole-blood volume the rules table allows: the planned volume of a
/// collection whose screening planned none (apheresis).
fn largest_volume(rules: &RuleSet) -> Result<u32> {
    rules
        .whole_blood_volumes_ml
        .iter()
        .copied()
        .max()
        .ok_or_else(|| StoreError::invalid("planned_volume_ml", "the rules table lists no volumes"))
}
