//! The user actions that create records. Each validates its input completely before
//! writing anything, then runs as one [`Store::act`] transaction.

use chrono::{DateTime, NaiveDate, Utc};
use lifebridge_domain::din::{Din, DinRange};
use lifebridge_domain::entities::{
    AboRh, AdverseReaction, Arm, BagSet, DinRangeRecord, DinRangeSource, Donation, Donor, Drive,
    EntityKind, Outcome, RecordId, Role, SiteKind, Staff,
};
use lifebridge_domain::resident_id::IdentityDocument;
use lifebridge_domain::{Procedure, Sex};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::action::ActionCtx;
use crate::tables::{self, donation::Filing};
use crate::{Actor, Result, Store, StoreError, queries};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewStaff {
    pub display_name: String,
    pub roles: Vec<Role>,
    pub pin: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewDrive {
    pub site_name: String,
    pub site_kind: SiteKind,
    pub vehicle: Option<String>,
    pub date: NaiveDate,
    pub crew: Vec<RecordId>,
}

/// A donor's own details as registration records them, declared once: the registration
/// screen sends them with the document as typed (`screens::DonorForm`), the store takes
/// them with the document parsed (`NewDonor`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DonorDetails {
    pub name: String,
    /// Required for documents that do not encode them; checked against a resident ID.
    pub sex: Option<Sex>,
    pub birth_date: Option<NaiveDate>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub rural: Option<bool>,
}

impl DonorDetails {
    /// The details of a donor whose document (a resident ID) encodes sex and birth
    /// date and who gives no phone or address: the name alone.
    pub fn named(name: impl Into<String>) -> DonorDetails {
        DonorDetails {
            name: name.into(),
            sex: None,
            birth_date: None,
            phone: None,
            address: None,
            rural: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewDonor {
    pub document: IdentityDocument,
    #[serde(flatten)]
    pub details: DonorDetails,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewDonation {
    pub screening_id: RecordId,
    pub bag_set: BagSet,
    pub planned_volume_ml: u32,
    pub collected_volume_ml: Option<u32>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub phlebotomist_id: RecordId,
    pub arm: Arm,
    pub reactions: Vec<AdverseReaction>,
    pub outcome: Outcome,
}

/// What a correction may change. Identity fields (donor, DIN, screening) never change:
/// a wrong DIN is a labelling incident, not a correction.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DonationCorrection {
    pub collected_volume_ml: Option<u32>,
    pub ended_at: Option<DateTime<Utc>>,
    pub outcome: Option<Outcome>,
    pub reactions: Option<Vec<AdverseReaction>>,
}

pub(crate) fn require_text(field: &str, value: &str, max_chars: usize) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(StoreError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(StoreError::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

fn optional_text(field: &str, value: Option<&str>, max_chars: usize) -> Result<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => require_text(field, v, max_chars).map(Some),
    }
}

/// A phone number as the crew typed it: digits, spaces, + and -, at most 20 characters.
fn phone_number(value: Option<&str>) -> Result<Option<String>> {
    let phone = optional_text("phone", value, 20)?;
    if let Some(p) = &phone
        && !p.chars().all(|c| c.is_ascii_digit() || "+- ".contains(c))
    {
        return Err(StoreError::invalid(
            "phone",
            "may hold only digits, spaces, + and -, at most 20 characters",
        ));
    }
    Ok(phone)
}

pub(crate) fn load_staff(tx: &rusqlite::Connection, id: RecordId) -> Result<Staff> {
    queries::get_body(tx, "staff", id)?.ok_or(StoreError::Missing {
        entity: "staff member",
        id: id.to_string(),
    })
}

/// Refuses the action unless `staff_id` names an active staff member with `role`.
pub(crate) fn require_role(
    tx: &rusqlite::Connection,
    staff_id: RecordId,
    role: Role,
    action: &'static str,
) -> Result<Staff> {
    let staff = load_staff(tx, staff_id)?;
    if !staff.has_role(role) {
        return Err(StoreError::NotPermitted {
            staff: staff.display_name,
            action,
            role: role.as_str(),
        });
    }
    Ok(staff)
}

pub(crate) fn actor_staff(actor: Actor, action: &'static str) -> Result<RecordId> {
    actor.staff_id.ok_or_else(|| {
        StoreError::invalid(
            "actor",
            format!("{action} must be done by a signed-in staff member"),
        )
    })
}

impl Store {
    /// Adds an account on this device (a colleague joining a weekend shift with no
    /// network). Staff need the supervisor role for it; the system actor (provisioning,
    /// the demo) does not. Accounts the station issues arrive by replication instead.
    pub fn add_staff(&mut self, actor: Actor, new: NewStaff) -> Result<Staff> {
        if let Some(staff_id) = actor.staff_id {
            require_role(&self.conn, staff_id, Role::Supervisor, "add staff accounts")?;
        }
        let display_name = require_text("display_name", &new.display_name, 64)?;
        if self.staff_by_name(&display_name)?.is_some_and(|s| s.active) {
            return Err(StoreError::invalid(
                "display_name",
                format!(
                    "{display_name} already has an account here; names are how staff pick themselves at sign-in, so each must be unique"
                ),
            ));
        }
        if new.roles.is_empty() {
            return Err(StoreError::invalid(
                "roles",
                "a staff member needs at least one role",
            ));
        }
        if !lifebridge_domain::pin::pin_is_well_formed(&new.pin) {
            return Err(StoreError::invalid("pin", "must be 4 to 8 digits"));
        }
        let pin_hash = crate::session::new_pin_hash(&new.pin)
            .map_err(|e| StoreError::invalid("pin", format!("could not be hashed: {e}")))?;
        let mut roles = new.roles;
        roles.sort();
        roles.dedup();
        let staff = Staff {
            id: Uuid::now_v7(),
            display_name,
            roles,
            active: true,
        };
        self.act(actor, "staff.add", serde_json::json!({}), |ctx| {
            let body = ctx.log_change(EntityKind::Staff, staff.id, &staff)?;
            tables::staff::upsert(ctx.tx, &staff, &body)?;
            tables::staff::set_pin_hash(ctx.tx, &staff.id.to_string(), &pin_hash)?;
            Ok(staff.clone())
        })
    }

    pub fn start_drive(&mut self, actor: Actor, new: NewDrive) -> Result<Drive> {
        let staff_id = actor_staff(actor, "starting a drive")?;
        let site_name = require_text("site_name", &new.site_name, 100)?;
        let vehicle = optional_text("vehicle", new.vehicle.as_deref(), 32)?;
        if new.site_kind == SiteKind::Vehicle && vehicle.is_none() {
            return Err(StoreError::invalid(
                "vehicle",
                "a drive on a vehicle must name the vehicle",
            ));
        }
        let mut crew = new.crew;
        if !crew.contains(&staff_id) {
            crew.push(staff_id);
        }
        for member in &crew {
            load_staff(&self.conn, *member)?;
        }
        let drive = Drive {
            id: Uuid::now_v7(),
            site_name,
            site_kind: new.site_kind,
            vehicle,
            date: new.date,
            crew,
            started_at: crate::now(),
            ended_at: None,
        };
        self.act(actor, "drive.start", serde_json::json!({}), |ctx| {
            let body = ctx.log_change(EntityKind::Drive, drive.id, &drive)?;
            tables::drive::insert(ctx.tx, &drive, &body)?;
            Ok(drive.clone())
        })
    }

    pub fn register_donor(&mut self, actor: Actor, new: NewDonor) -> Result<Donor> {
        let NewDonor {
            document,
            details: new,
        } = new;
        let staff_id = actor_staff(actor, "registering a donor")?;
        require_role(&self.conn, staff_id, Role::Registration, "register donors")?;
        let name = require_text("name", &new.name, 64)?;
        let phone = phone_number(new.phone.as_deref())?;
        let address = optional_text("address", new.address.as_deref(), 200)?;
        let (sex, birth_date) = match &document {
            IdentityDocument::ResidentId(id) => {
                if new.sex.is_some_and(|s| s != id.sex()) {
                    return Err(StoreError::invalid(
                        "sex",
                        "does not match the sex encoded in the resident ID",
                    ));
                }
                if new.birth_date.is_some_and(|d| d != id.birth_date()) {
                    return Err(StoreError::invalid(
                        "birth_date",
                        "does not match the birth date encoded in the resident ID",
                    ));
                }
                (id.sex(), id.birth_date())
            }
            _ => (
                new.sex
                    .ok_or_else(|| StoreError::invalid("sex", "is required for this document"))?,
                new.birth_date.ok_or_else(|| {
                    StoreError::invalid("birth_date", "is required for this document")
                })?,
            ),
        };
        if birth_date > crate::now().date_naive() {
            return Err(StoreError::invalid("birth_date", "is in the future"));
        }
        if let Some(existing) = queries::find_donor_by_document(
            &self.conn,
            document.kind().as_str(),
            document.number(),
        )? {
            return Err(StoreError::invalid(
                "document",
                format!(
                    "a donor with this document is already registered ({})",
                    existing.id
                ),
            ));
        }
        let donor = Donor {
            id: Uuid::now_v7(),
            document,
            name,
            sex,
            birth_date,
            phone,
            address,
            abo_rh: None,
            rural: new.rural,
            registered_at: crate::now(),
        };
        self.act(actor, "donor.register", serde_json::json!({}), |ctx| {
            insert_donor(ctx, &donor)?;
            Ok(donor.clone())
        })
    }

    /// Registers a range of DINs this device may issue.
    pub fn register_din_range(
        &mut self,
        actor: Actor,
        range: DinRange,
        source: DinRangeSource,
    ) -> Result<DinRangeRecord> {
        if let Some(other) = tables::din_range::overlapping(&self.conn, &range)? {
            return Err(StoreError::invalid(
                "range",
                format!("overlaps the range {other} this device already holds"),
            ));
        }
        let record = DinRangeRecord {
            id: Uuid::now_v7(),
            range,
            source,
            device_id: self.device_id,
            granted_at: crate::now(),
        };
        self.act(actor, "din_range.register", serde_json::json!({}), |ctx| {
            let body = ctx.log_change(EntityKind::DinRange, record.id, &record)?;
            tables::din_range::insert(ctx.tx, &record, &body)?;
            Ok(record.clone())
        })
    }

    /// Records a collection. The DIN is issued here, from this device's ranges, inside
    /// the same transaction, so a DIN can never be issued twice or lost.
    pub fn record_donation(&mut self, actor: Actor, new: NewDonation) -> Result<Donation> {
        let staff_id = actor_staff(actor, "recording a donation")?;
        require_role(&self.conn, staff_id, Role::Phlebotomist, "record donations")?;
        require_role(
            &self.conn,
            new.phlebotomist_id,
            Role::Phlebotomist,
            "collect blood",
        )?;
        let screening =
            queries::get_screening(&self.conn, new.screening_id)?.ok_or(StoreError::Missing {
                entity: "screening",
                id: new.screening_id.to_string(),
            })?;
        if queries::is_superseded(&self.conn, "screening", screening.id)? {
            return Err(StoreError::invalid(
                "screening_id",
                "this screening was corrected; use the corrected screening",
            ));
        }
        if !screening.decision.permits_donation() {
            return Err(StoreError::invalid(
                "screening_id",
                "the physician did not accept this donor for donation",
            ));
        }
        if queries::donation_for_screening(&self.conn, screening.id)?.is_some() {
            return Err(StoreError::invalid(
                "screening_id",
                "a donation was already recorded for this screening",
            ));
        }
        validate_volumes(
            screening.procedure,
            new.planned_volume_ml,
            new.collected_volume_ml,
        )?;
        if let Some(end) = new.ended_at
            && end < new.started_at
        {
            return Err(StoreError::invalid("ended_at", "is before started_at"));
        }
        let bag_lot = require_text("bag_set.lot", &new.bag_set.lot, 32)?;
        let rules = self.rules()?;
        // Product-scoped deferrals in force: copied onto the bag, or the collection is
        // refused when they rule out everything the procedure yields.
        let drive_date = self.drive(screening.drive_id)?.date;
        let excluded_products =
            self.excluded_products(screening.donor_id, drive_date, screening.procedure)?;
        self.act(actor, "donation.record", serde_json::json!({}), |ctx| {
            let (range_id, din) = issue_din(ctx)?;
            let mut donation = Donation {
                id: Uuid::now_v7(),
                donor_id: screening.donor_id,
                drive_id: screening.drive_id,
                screening_id: screening.id,
                din: din.clone(),
                procedure: screening.procedure,
                bag_set: BagSet {
                    kind: new.bag_set.kind,
                    lot: bag_lot,
                },
                planned_volume_ml: new.planned_volume_ml,
                collected_volume_ml: new.collected_volume_ml,
                started_at: new.started_at,
                ended_at: new.ended_at,
                phlebotomist_id: new.phlebotomist_id,
                arm: new.arm,
                reactions: new.reactions,
                outcome: new.outcome,
                recorded_at: ctx.now,
                supersedes: None,
                correction_reason: None,
                excluded_products,
            };
            // A slow draw excludes platelets from this bag.
            donation.excluded_products =
                lifebridge_domain::cold_chain::excluded_products(&donation, &rules);
            insert_donation(ctx, &donation)?;
            ctx.tx.execute(
                "INSERT INTO din_issued (din, range_id, sequence, donation_id, issued_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                (
                    din.as_str(),
                    range_id,
                    din.sequence(),
                    donation.id.to_string(),
                    ctx.now.to_rfc3339(),
                ),
            )?;
            Ok(donation)
        })
    }

    /// A correction is a new donation record that supersedes the old one; both stay.
    pub fn correct_donation(
        &mut self,
        actor: Actor,
        donation_id: RecordId,
        correction: DonationCorrection,
        reason: &str,
    ) -> Result<Donation> {
        let staff_id = actor_staff(actor, "correcting a donation")?;
        require_role(
            &self.conn,
            staff_id,
            Role::Phlebotomist,
            "correct donations",
        )?;
        let reason = require_text("reason", reason, 500)?;
        let old = queries::get_donation(&self.conn, donation_id)?.ok_or(StoreError::Missing {
            entity: "donation",
            id: donation_id.to_string(),
        })?;
        if queries::is_superseded(&self.conn, "donation", old.id)? {
            return Err(StoreError::invalid(
                "donation_id",
                "this record was already corrected; correct the latest version",
            ));
        }
        let mut new = old.clone();
        new.id = Uuid::now_v7();
        new.supersedes = Some(old.id);
        new.correction_reason = Some(reason.clone());
        if let Some(v) = correction.collected_volume_ml {
            new.collected_volume_ml = Some(v);
        }
        if let Some(t) = correction.ended_at {
            new.ended_at = Some(t);
        }
        if let Some(o) = correction.outcome {
            new.outcome = o;
        }
        if let Some(r) = correction.reactions {
            new.reactions = r;
        }
        let changed = new.collected_volume_ml != old.collected_volume_ml
            || new.ended_at != old.ended_at
            || new.outcome != old.outcome
            || new.reactions != old.reactions;
        if !changed {
            return Err(StoreError::invalid("correction", "changes nothing"));
        }
        validate_volumes(
            new.procedure,
            new.planned_volume_ml,
            new.collected_volume_ml,
        )?;
        // A corrected end time can make it a slow draw (an exclusion is never lifted).
        new.excluded_products =
            lifebridge_domain::cold_chain::excluded_products(&new, &self.rules()?);
        self.act(
            actor,
            "donation.correct",
            serde_json::json!({"supersedes": old.id, "reason": reason}),
            |ctx| {
                new.recorded_at = ctx.now;
                insert_donation(ctx, &new)?;
                Ok(new.clone())
            },
        )
    }
}

pub(crate) fn validate_volumes(
    procedure: Procedure,
    planned: u32,
    collected: Option<u32>,
) -> Result<()> {
    let max = match procedure {
        Procedure::WholeBlood => 400,
        Procedure::ApheresisPlatelets | Procedure::ApheresisPlasma => 1000,
    };
    if planned == 0 || planned > max {
        return Err(StoreError::invalid(
            "planned_volume_ml",
            format!("must be between 1 and {max} mL for {}", procedure.as_str()),
        ));
    }
    if let Some(c) = collected
        && c > planned + planned / 10
    {
        return Err(StoreError::invalid(
            "collected_volume_ml",
            format!("{c} mL is more than 10% over the planned {planned} mL; check the scale"),
        ));
    }
    Ok(())
}

pub(crate) fn insert_donor(ctx: &mut ActionCtx<'_>, donor: &Donor) -> Result<()> {
    let body = ctx.log_change(EntityKind::Donor, donor.id, donor)?;
    tables::donor::write(ctx.tx, donor, None, &body)
}

fn insert_donation(ctx: &mut ActionCtx<'_>, donation: &Donation) -> Result<()> {
    let body = ctx.log_change(EntityKind::Donation, donation.id, donation)?;
    let filing = Filing {
        donor_id: &donation.donor_id.to_string(),
        drive_id: Some(&donation.drive_id.to_string()),
        origin_device: ctx.device_id,
    };
    tables::donation::insert(ctx.tx, donation, filing, &body)
}

/// The lowest unissued number of the oldest range that still has one. Training ranges
/// come last: once the station has leased real numbers, demos never use up labels.
fn issue_din(ctx: &ActionCtx<'_>) -> Result<(String, Din)> {
    let mut stmt = ctx.tx.prepare(
        "SELECT r.id, r.body, (SELECT MAX(sequence) FROM din_issued i WHERE i.range_id = r.id)
         FROM din_range r ORDER BY r.source = 'training', r.rowid",
    )?;
    let ranges = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<u32>>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (id, body, last_issued) in ranges {
        let record: DinRangeRecord = serde_json::from_str(&body)?;
        if let Some(din) = record.range.next_after(last_issued) {
            return Ok((id, din));
        }
    }
    Err(StoreError::DinsExhausted)
}

/// A change to a donor's demographics. Each `Some` sets that field (`Some(None)`
/// clears an optional one). The identity document and birth date never change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DonorEdit {
    pub name: Option<String>,
    pub phone: Option<Option<String>>,
    pub address: Option<Option<String>>,
    pub abo_rh: Option<Option<AboRh>>,
    pub rural: Option<Option<bool>>,
}

impl Store {
    /// Edits a donor's demographics as one user action. The change-log entry carries
    /// the whole row; replication derives which fields changed from the log, so two
    /// vehicles editing different fields of the same donor offline both keep their edit.
    pub fn edit_donor(
        &mut self,
        actor: Actor,
        donor_id: RecordId,
        edit: DonorEdit,
    ) -> Result<Donor> {
        let staff_id = actor_staff(actor, "editing a donor")?;
        require_role(&self.conn, staff_id, Role::Registration, "edit donors")?;
        let mut donor = self.donor(donor_id)?.ok_or(StoreError::Missing {
            entity: "donor",
            id: donor_id.to_string(),
        })?;
        let before = donor.clone();
        if let Some(name) = &edit.name {
            donor.name = require_text("name", name, 64)?;
        }
        if let Some(phone) = &edit.phone {
            donor.phone = phone_number(phone.as_deref())?;
        }
        if let Some(address) = &edit.address {
            donor.address = match address.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(a) => Some(require_text("address", a, 200)?),
            };
        }
        if let Some(abo) = edit.abo_rh {
            donor.abo_rh = abo;
        }
        if let Some(rural) = edit.rural {
            donor.rural = rural;
        }
        if donor == before {
            return Err(StoreError::invalid("edit", "changes nothing"));
        }
        self.act(actor, "donor.edit", serde_json::json!({}), |ctx| {
            let body = ctx.log_change(EntityKind::Donor, donor.id, &donor)?;
            tables::donor::write(ctx.tx, &donor, None, &body)?;
            Ok(donor.clone())
        })
    }
}
