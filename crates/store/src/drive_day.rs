//! The day of a drive: check-in, the chair queue, collection from start to finish, the
//! end-of-drive summary.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lifebridge_domain::entities::{
    AdverseReaction, Arm, BagSet, Donation, Donor, Drive, EntityKind, Outcome, PhysicianDecision,
    RecordId, Role, Screening, Visit,
};
use lifebridge_domain::questionnaire::QuestionnaireAnswers;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::records::{NewDonation, actor_staff, require_role};
use crate::{Actor, Result, Store, StoreError, queries};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum QueueStatus {
    /// Checked in, not yet screened.
    Waiting,
    /// Accepted by the physician, not yet on the chair.
    Screened,
    Deferred,
    OnChair,
    Done,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QueueEntry {
    pub visit: Visit,
    pub donor: Donor,
    pub status: QueueStatus,
    pub screening: Option<Screening>,
    pub donation: Option<Donation>,
    /// Product classes this donor's blood may not become today (product-scoped
    /// deferrals), for the collection screen.
    pub excluded_products: Vec<lifebridge_domain::product::ProductClass>,
    /// Who recorded where the donor stands (the nurse who checked them in while they
    /// wait, the physician once screened, the phlebotomist from the chair on), by name
    /// when this device holds the account (the station's accounts are on every tablet).
    pub recorded_by: Option<String>,
    /// Whether that record came from another tablet (of the bus, through its hub).
    pub recorded_elsewhere: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartCollection {
    pub screening_id: RecordId,
    pub bag_set: BagSet,
    pub planned_volume_ml: u32,
    pub phlebotomist_id: RecordId,
    pub arm: Arm,
}

/// A collection finished at the chair, as the screen sends it and the store records it
/// (one type, so a new field of the finished donation is added here once);
/// `ended_at` absent ends it now.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FinishCollection {
    pub donation_id: RecordId,
    pub ended_at: Option<DateTime<Utc>>,
    pub collected_volume_ml: u32,
    pub reactions: Vec<AdverseReaction>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProcedureTotals {
    pub units: u32,
    pub volume_ml: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DriveSummary {
    pub drive: Drive,
    pub donors_checked_in: u32,
    pub donors_screened: u32,
    pub deferrals_by_code: BTreeMap<String, u32>,
    pub by_procedure: BTreeMap<String, ProcedureTotals>,
    pub aborted: u32,
    pub reactions: u32,
    pub still_on_chair: u32,
    /// Collected bags no signed transport manifest carries yet (still on the bus).
    pub bags_not_dispatched: Vec<String>,
}

/// What check-in knows from eligibility before anyone has measured anything: whether
/// history, deferrals and age allow whole blood on the drive's date, and if not, why and
/// from when.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckInStatus {
    pub eligible_today: bool,
    /// The first day time alone allows whole blood; `None` when time alone will not.
    pub next_eligible: Option<chrono::NaiveDate>,
    /// The failing rules (intervals, deferrals, age), in both languages.
    pub reasons: Vec<lifebridge_domain::eligibility::Reason>,
}

impl Store {
    /// Whether the donor may give whole blood on `date` as far as history decides (the
    /// check-in screen shows it in red with the date when not).
    pub fn check_in_status(
        &self,
        donor_id: RecordId,
        date: chrono::NaiveDate,
    ) -> Result<CheckInStatus> {
        let decision =
            self.history_decision(donor_id, date, lifebridge_domain::Procedure::WholeBlood)?;
        Ok(CheckInStatus {
            eligible_today: decision.eligible,
            next_eligible: decision.eligible_from,
            reasons: decision.reasons,
        })
    }

    /// Checks a donor in to a drive. A donor already in the queue is not added twice.
    pub fn check_in(
        &mut self,
        actor: Actor,
        drive_id: RecordId,
        donor_id: RecordId,
    ) -> Result<Visit> {
        self.check_in_confirmed(actor, drive_id, donor_id, None)
    }

    /// Checks a donor in. A donor whom history, deferrals or age do not allow today is
    /// checked in only with `confirmation` (why, e.g. "came for apheresis plasma"),
    /// audited with the failing rules; a donor still open in another drive's queue is
    /// refused.
    pub fn check_in_confirmed(
        &mut self,
        actor: Actor,
        drive_id: RecordId,
        donor_id: RecordId,
        confirmation: Option<&str>,
    ) -> Result<Visit> {
        self.check_in_with_answers(actor, drive_id, donor_id, confirmation, None)
    }

    /// [`Store::check_in_confirmed`] with the questionnaire answers the donor brought in
    /// a pre-fill code, checked (version held, answers fit for the donor's sex on the
    /// drive's date) before anything is written and kept on the visit.
    pub fn check_in_with_answers(
        &mut self,
        actor: Actor,
        drive_id: RecordId,
        donor_id: RecordId,
        confirmation: Option<&str>,
        prefill: Option<QuestionnaireAnswers>,
    ) -> Result<Visit> {
        let staff_id = actor_staff(actor, "checking a donor in")?;
        require_role(&self.conn, staff_id, Role::Registration, "check donors in")?;
        let drive = self.drive(drive_id)?;
        if drive.ended_at.is_some() {
            return Err(StoreError::invalid("drive_id", "this drive has ended"));
        }
        let donor = self.donor(donor_id)?.ok_or(StoreError::Missing {
            entity: "donor",
            id: donor_id.to_string(),
        })?;
        if let Some(prefill) = &prefill {
            self.check_prefill(prefill, donor.sex, drive.date)?;
        }
        if let Some(open) = self.chair_queue(drive_id)?.into_iter().find(|e| {
            e.donor.id == donor_id && !matches!(e.status, QueueStatus::Done | QueueStatus::Deferred)
        }) {
            return Err(StoreError::invalid(
                "donor_id",
                format!("this donor is already in today's queue ({:?})", open.status),
            ));
        }
        let other_drives: Vec<String> = {
            let mut stmt = self.conn.prepare(
                "SELECT DISTINCT drive_id FROM visit WHERE donor_id = ?1 AND drive_id != ?2",
            )?;
            let rows = stmt.query_map((donor_id.to_string(), drive_id.to_string()), |r| {
                r.get::<_, String>(0)
            })?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        for other in other_drives {
            let Ok(other_id) = other.parse::<RecordId>() else {
                continue;
            };
            let other_drive = self.drive(other_id)?;
            if other_drive.ended_at.is_some() {
                continue;
            }
            let open = self.chair_queue(other_id)?.into_iter().any(|e| {
                e.donor.id == donor_id
                    && !matches!(e.status, QueueStatus::Done | QueueStatus::Deferred)
            });
            if open {
                return Err(StoreError::invalid(
                    "donor_id",
                    format!(
                        "this donor is checked in at another drive ({} on {}) and not finished there; one donor is in one queue at a time",
                        other_drive.site_name, other_drive.date
                    ),
                ));
            }
        }
        let status = self.check_in_status(donor_id, drive.date)?;
        let confirmation = confirmation.map(str::trim).filter(|c| !c.is_empty());
        let detail = if status.eligible_today {
            serde_json::json!({})
        } else {
            let Some(confirmation) = confirmation else {
                let when = status
                    .next_eligible
                    .map_or("not by time alone".to_owned(), |d| format!("from {d}"));
                let codes: Vec<&str> = status.reasons.iter().map(|r| r.code.as_str()).collect();
                return Err(StoreError::invalid(
                    "confirmation",
                    format!(
                        "this donor may not give whole blood today ({}; eligible {when}): confirm the check-in with a reason",
                        codes.join(", ")
                    ),
                ));
            };
            let confirmation = crate::records::require_text("confirmation", confirmation, 500)?;
            serde_json::json!({
                "confirmed_despite": status.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
                "next_eligible": status.next_eligible,
                "confirmation": confirmation,
            })
        };
        let visit = Visit {
            id: Uuid::now_v7(),
            drive_id,
            donor_id,
            checked_in_at: crate::now(),
            checked_in_by: staff_id,
            prefill,
        };
        self.act(actor, "visit.check_in", detail, |ctx| {
            let body = ctx.log_change(EntityKind::Visit, visit.id, &visit)?;
            crate::tables::visit::insert(ctx.tx, &visit, &donor_id.to_string(), &body)?;
            Ok(visit.clone())
        })
    }

    pub fn drive(&self, drive_id: RecordId) -> Result<Drive> {
        queries::get_body(&self.conn, "drive", drive_id)?.ok_or(StoreError::Missing {
            entity: "drive",
            id: drive_id.to_string(),
        })
    }

    /// Everyone checked in to the drive, in arrival order, with where they stand.
    pub fn chair_queue(&self, drive_id: RecordId) -> Result<Vec<QueueEntry>> {
        let visits: Vec<Visit> = queries::bodies(
            &self.conn,
            "SELECT body FROM visit WHERE drive_id = ?1 ORDER BY checked_in_at, rowid",
            [drive_id.to_string()],
        )?;
        let drive_date = self.drive(drive_id)?.date;
        let mut out = Vec::with_capacity(visits.len());
        for visit in visits {
            let donor = self.donor(visit.donor_id)?.ok_or(StoreError::Missing {
                entity: "donor",
                id: visit.donor_id.to_string(),
            })?;
            let screening: Option<Screening> = queries::bodies(
                &self.conn,
                "SELECT body FROM screening s WHERE donor_id = ?1 AND drive_id = ?2 AND recorded_at >= ?3
                 AND NOT EXISTS (SELECT 1 FROM screening n WHERE n.supersedes = s.id)
                 ORDER BY recorded_at DESC LIMIT 1",
                (visit.donor_id.to_string(), drive_id.to_string(), visit.checked_in_at.to_rfc3339()),
            )?
            .pop();
            let donation = match &screening {
                Some(s) => queries::current_donation_for_screening(&self.conn, s.id)?,
                None => None,
            };
            let status = match (&screening, &donation) {
                (None, _) => QueueStatus::Waiting,
                (Some(s), None) if s.decision.permits_donation() => QueueStatus::Screened,
                (Some(_), None) => QueueStatus::Deferred,
                (Some(_), Some(d)) if d.outcome == Outcome::InProgress => QueueStatus::OnChair,
                (Some(_), Some(_)) => QueueStatus::Done,
            };
            let excluded_products = match (&status, &donation) {
                (QueueStatus::Screened, _) => self.product_exclusions(donor.id, drive_date)?,
                (_, Some(d)) => d.excluded_products.clone(),
                _ => Vec::new(),
            };
            let (kind, id, who) = match (&donation, &screening) {
                (Some(d), _) => ("donation", d.id, d.phlebotomist_id),
                (None, Some(s)) => ("screening", s.id, s.physician_id),
                (None, None) => ("visit", visit.id, visit.checked_in_by),
            };
            let recorded_by =
                queries::get_body::<lifebridge_domain::entities::Staff>(&self.conn, "staff", who)?
                    .map(|s| s.display_name);
            let recorded_elsewhere = queries::written_elsewhere(&self.conn, kind, id)?.is_some();
            out.push(QueueEntry {
                visit,
                donor,
                status,
                screening,
                donation,
                excluded_products,
                recorded_by,
                recorded_elsewhere,
            });
        }
        Ok(out)
    }

    /// The donor sits down: the DIN is issued now, from this device's ranges.
    pub fn start_collection(&mut self, actor: Actor, start: StartCollection) -> Result<Donation> {
        self.record_donation(
            actor,
            NewDonation {
                screening_id: start.screening_id,
                bag_set: start.bag_set,
                planned_volume_ml: start.planned_volume_ml,
                collected_volume_ml: None,
                started_at: crate::now(),
                ended_at: None,
                phlebotomist_id: start.phlebotomist_id,
                arm: start.arm,
                reactions: Vec::new(),
                outcome: Outcome::InProgress,
            },
        )
    }

    /// The needle is out: end time (now, unless the form gives one), volume from the
    /// scale, reactions and outcome are recorded on the donation (a new change-log
    /// entry; the earlier one stays).
    pub fn finish_collection(
        &mut self,
        actor: Actor,
        finish: FinishCollection,
    ) -> Result<Donation> {
        let donation_id = finish.donation_id;
        let ended_at = finish.ended_at.unwrap_or_else(crate::now);
        let staff_id = actor_staff(actor, "finishing a collection")?;
        require_role(
            &self.conn,
            staff_id,
            Role::Phlebotomist,
            "finish collections",
        )?;
        let mut donation = self.donation(donation_id)?.ok_or(StoreError::Missing {
            entity: "donation",
            id: donation_id.to_string(),
        })?;
        // The chair that started the collection finishes it: one writer per record.
        queries::require_written_here(&self.conn, "donation", donation_id)?;
        if donation.outcome != Outcome::InProgress {
            return Err(StoreError::invalid(
                "donation_id",
                "this collection is already finished; use a correction to change it",
            ));
        }
        if finish.outcome == Outcome::InProgress {
            return Err(StoreError::invalid(
                "outcome",
                "must be complete, partial or aborted",
            ));
        }
        if ended_at < donation.started_at {
            return Err(StoreError::invalid(
                "ended_at",
                "is before the collection started",
            ));
        }
        crate::records::validate_volumes(
            donation.procedure,
            donation.planned_volume_ml,
            Some(finish.collected_volume_ml),
        )?;
        if finish.outcome == Outcome::Complete
            && finish.collected_volume_ml < donation.planned_volume_ml * 9 / 10
        {
            return Err(StoreError::invalid(
                "outcome",
                format!(
                    "{} mL is under 90% of the planned {} mL: record the outcome as partial",
                    finish.collected_volume_ml, donation.planned_volume_ml
                ),
            ));
        }
        donation.ended_at = Some(ended_at);
        donation.collected_volume_ml = Some(finish.collected_volume_ml);
        donation.reactions = finish.reactions;
        donation.outcome = finish.outcome;
        // A slow draw excludes platelets from this bag.
        donation.excluded_products =
            lifebridge_domain::cold_chain::excluded_products(&donation, &self.rules()?);
        self.act(actor, "donation.finish", serde_json::json!({}), |ctx| {
            donation.recorded_at = ctx.now;
            let body = ctx.log_change(EntityKind::Donation, donation.id, &donation)?;
            crate::tables::donation::replace_body(ctx.tx, &donation, &body)?;
            Ok(donation.clone())
        })
    }

    pub fn end_drive(&mut self, actor: Actor, drive_id: RecordId) -> Result<Drive> {
        let staff_id = actor_staff(actor, "ending a drive")?;
        let mut drive = self.drive(drive_id)?;
        // The crew lead's tablet that opened the drive ends it for the whole bus.
        queries::require_written_here(&self.conn, "drive", drive_id)?;
        if !drive.crew.contains(&staff_id) {
            require_role(
                &self.conn,
                staff_id,
                Role::Supervisor,
                "end a drive they are not crew of",
            )?;
        }
        if drive.ended_at.is_some() {
            return Err(StoreError::invalid(
                "drive_id",
                "this drive has already ended",
            ));
        }
        let on_chair = self
            .chair_queue(drive_id)?
            .iter()
            .filter(|e| e.status == QueueStatus::OnChair)
            .count();
        if on_chair > 0 {
            return Err(StoreError::invalid(
                "drive_id",
                format!("{on_chair} donors are still on the chair: finish their collections first"),
            ));
        }
        // A bag whose labels were never all scanned back has not left the chair safely.
        let mut unreleased = Vec::new();
        for donation in self.drive_donations(drive_id)? {
            if matches!(donation.outcome, Outcome::Complete | Outcome::Partial)
                && !self.label_status(donation.id)?.released
            {
                unreleased.push(donation.din.to_string());
            }
        }
        if !unreleased.is_empty() {
            return Err(StoreError::invalid(
                "drive_id",
                format!(
                    "these donations were never released from the chair (labels not all scanned back): {}",
                    unreleased.join(", ")
                ),
            ));
        }
        self.act(actor, "drive.end", serde_json::json!({}), |ctx| {
            drive.ended_at = Some(ctx.now);
            let body = ctx.log_change(EntityKind::Drive, drive.id, &drive)?;
            crate::tables::drive::update(ctx.tx, &drive, &body)?;
            Ok(drive.clone())
        })
    }

    pub fn drive_summary(&self, drive_id: RecordId) -> Result<DriveSummary> {
        let drive = self.drive(drive_id)?;
        let queue = self.chair_queue(drive_id)?;
        let mut summary = DriveSummary {
            drive,
            donors_checked_in: queue.len() as u32,
            donors_screened: 0,
            deferrals_by_code: BTreeMap::new(),
            by_procedure: BTreeMap::new(),
            aborted: 0,
            reactions: 0,
            still_on_chair: 0,
            bags_not_dispatched: self
                .bags_not_dispatched(drive_id)?
                .iter()
                .map(ToString::to_string)
                .collect(),
        };
        for entry in &queue {
            if let Some(s) = &entry.screening {
                summary.donors_screened += 1;
                if let PhysicianDecision::Defer { code, .. } = &s.decision {
                    *summary.deferrals_by_code.entry(code.clone()).or_default() += 1;
                }
            }
            if let Some(d) = &entry.donation {
                summary.reactions += d.reactions.len() as u32;
                match d.outcome {
                    Outcome::InProgress => summary.still_on_chair += 1,
                    Outcome::Aborted => summary.aborted += 1,
                    Outcome::Complete | Outcome::Partial => {
                        let totals = summary
                            .by_procedure
                            .entry(d.procedure.as_str().to_owned())
                            .or_default();
                        totals.units += 1;
                        totals.volume_ml += u64::from(d.collected_volume_ml.unwrap_or(0));
                    }
                }
            }
        }
        Ok(summary)
    }
}
