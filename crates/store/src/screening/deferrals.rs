//! Deferrals outside a screening, and lifting one early (a new entry; nothing is erased).

use chrono::NaiveDate;
use lifebridge_domain::entities::{Deferral, EntityKind, RecordId, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::action::ActionCtx;
use crate::records::{actor_staff, require_role, require_text};
use crate::{Actor, Result, Store, StoreError};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewDeferral {
    pub donor_id: RecordId,
    pub code: String,
    pub reason: String,
    pub start: NaiveDate,
    /// Only for catalogue entries whose period the station sets case by case
    /// (e.g. after a transfusion); otherwise the catalogue decides.
    pub until: Option<NaiveDate>,
}

impl Store {
    /// A deferral outside a screening (e.g. reported by phone, or found at the station).
    pub fn record_deferral(&mut self, actor: Actor, new: NewDeferral) -> Result<Deferral> {
        let staff_id = actor_staff(actor, "recording a deferral")?;
        require_role(&self.conn, staff_id, Role::Physician, "defer donors")?;
        self.donor(new.donor_id)?.ok_or(StoreError::Missing {
            entity: "donor",
            id: new.donor_id.to_string(),
        })?;
        let reason = require_text("reason", &new.reason, 500)?;
        let rules = self.rules()?;
        let until = deferral_until(&rules, &new.code, new.start, new.until)?;
        let deferral = Deferral {
            id: Uuid::now_v7(),
            donor_id: new.donor_id,
            code: new.code,
            reason,
            start: new.start,
            until,
            screening_id: None,
            recorded_by: staff_id,
            recorded_at: crate::now(),
            lifts: None,
        };
        self.act(actor, "deferral.record", serde_json::json!({}), |ctx| {
            insert_deferral(ctx, &deferral)?;
            Ok(deferral.clone())
        })
    }

    /// Lifting a deferral early is a new entry naming the lifted one; nothing is erased.
    pub fn lift_deferral(
        &mut self,
        actor: Actor,
        deferral_id: RecordId,
        reason: &str,
    ) -> Result<Deferral> {
        let staff_id = actor_staff(actor, "lifting a deferral")?;
        require_role(&self.conn, staff_id, Role::Physician, "lift deferrals")?;
        let reason = require_text("reason", reason, 500)?;
        let lifted: Deferral = crate::queries::get_body(&self.conn, "deferral", deferral_id)?
            .ok_or(StoreError::Missing {
                entity: "deferral",
                id: deferral_id.to_string(),
            })?;
        if lifted.lifts.is_some() {
            return Err(StoreError::invalid(
                "deferral_id",
                "names a lifting entry, not a deferral",
            ));
        }
        let today = crate::china_today();
        let lift = Deferral {
            id: Uuid::now_v7(),
            donor_id: lifted.donor_id,
            code: lifted.code.clone(),
            reason,
            start: today,
            until: Some(today),
            screening_id: None,
            recorded_by: staff_id,
            recorded_at: crate::now(),
            lifts: Some(lifted.id),
        };
        self.act(
            actor,
            "deferral.lift",
            serde_json::json!({"lifts": lifted.id}),
            |ctx| {
                insert_deferral(ctx, &lift)?;
                Ok(lift.clone())
            },
        )
    }
}

/// The end date for a deferral of `code` starting on `start`, from the catalogue.
fn deferral_until(
    rules: &lifebridge_domain::rules::RuleSet,
    code: &str,
    start: NaiveDate,
    given: Option<NaiveDate>,
) -> Result<Option<NaiveDate>> {
    let kind = rules.deferrals.deferral(code).ok_or_else(|| {
        StoreError::invalid(
            "code",
            format!(
                "{code:?} is not in the deferral catalogue of rules table {}",
                rules.version
            ),
        )
    })?;
    if kind.is_permanent() {
        return Ok(None);
    }
    match (kind.until(start), given) {
        (Some(until), _) => Ok(Some(until)),
        (None, Some(until)) if until > start => Ok(Some(until)),
        (None, Some(_)) => Err(StoreError::invalid("until", "must be after the start date")),
        (None, None) => Err(StoreError::invalid(
            "until",
            format!("the period of deferral {code} is set case by case: give an end date"),
        )),
    }
}

pub(super) fn insert_deferral(ctx: &mut ActionCtx<'_>, deferral: &Deferral) -> Result<()> {
    let body = ctx.log_change(EntityKind::Deferral, deferral.id, deferral)?;
    crate::tables::deferral::insert(ctx.tx, deferral, &deferral.donor_id.to_string(), &body)
}
