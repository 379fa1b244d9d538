//! Collections: the DIN ranges a device issues from, recording a donation with its DIN,
//! and correcting one.

use chrono::{DateTime, Utc};
use lifebridge_domain::Procedure;
use lifebridge_domain::din::{Din, DinRange};
use lifebridge_domain::entities::{
    AdverseReaction, Arm, BagSet, DinRangeRecord, DinRangeSource, Donation, EntityKind, Outcome,
    RecordId, Role,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::action::ActionCtx;
use crate::tables::{self, donation::Filing};
use crate::{Actor, Result, Store, StoreError, queries};

use super::*;

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

impl Store {
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
        // No collection without the donor's informed consent.
        crate::screening::require_consent(&screening)?;
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
        if let Some(message) = self.deferred_after_screening(&screening, drive_date, &rules)? {
            return Err(StoreError::Refused {
                field: "screening_id".to_owned(),
                message,
            });
        }
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
