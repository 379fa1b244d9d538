//! The donor's informed consent (`lifebridge_domain::consent`): a screening that
//! accepts or waives carries a well-formed one (the domain's own `validate`), a donor
//! who could not sign names a witness the station knows as staff, and a donation starts
//! from a screening with a consent (when the station holds that screening).

use std::collections::{BTreeMap, BTreeSet};

use lifebridge_domain::entities::{EntityKind, Screening};
use lifebridge_domain::messages::Message;
use lifebridge_protocol::records::LocalChange;
use uuid::Uuid;

use super::{Checked, Detail, about, refuse, rows_for};
use crate::storage::sql::Tx;
use crate::storage::{Result, parse_uuid};

/// The consent a screening must carry, checked on the entry alone.
pub fn given(entry: &LocalChange, s: &Screening) -> std::result::Result<(), Message> {
    match &s.consent {
        None if s.decision.permits_donation() => {
            Err(about("push_refused.consent_missing", entry).with("id", s.id.to_string()))
        }
        None => Ok(()),
        Some(consent) => consent.validate().map_err(|e| {
            about("push_refused.consent_invalid", entry)
                .with("id", s.id.to_string())
                .with("field", e.field)
                .with("detail", e.message)
        }),
    }
}

/// A witness is a staff member the station knows: an account it issued, or one a
/// device pushed (in this batch or before).
pub async fn witnesses_known(tx: &mut dyn Tx, checked: &[Checked<'_>]) -> Result<()> {
    let witnessed: Vec<(&Checked<'_>, Uuid)> = checked
        .iter()
        .filter_map(|c| {
            c.screening()
                .and_then(|s| s.consent.as_ref()?.witness())
                .map(|w| (c, w))
        })
        .collect();
    if witnessed.is_empty() {
        return Ok(());
    }
    let mut known: BTreeSet<Uuid> = checked
        .iter()
        .filter(|c| c.entry.entity == EntityKind::Staff)
        .map(|c| c.record.id)
        .collect();
    let wanted: BTreeSet<Uuid> = witnessed
        .iter()
        .map(|(_, w)| *w)
        .filter(|w| !known.contains(w))
        .collect();
    if !wanted.is_empty() {
        let sql = "SELECT staff_id FROM station_staff WHERE staff_id IN ({ids})";
        for r in rows_for(tx, sql, &wanted).await? {
            known.insert(parse_uuid(r.str(0)?)?);
        }
        let sql =
            "SELECT entity_id FROM change_entry WHERE entity = 'staff' AND entity_id IN ({ids})";
        for r in rows_for(tx, sql, &wanted).await? {
            known.insert(parse_uuid(r.str(0)?)?);
        }
    }
    for (c, witness) in witnessed {
        if !known.contains(&witness) {
            return Err(refuse(
                c.entry,
                about("push_refused.consent_witness_unknown", c.entry)
                    .with("id", c.record.id.to_string())
                    .with("witness", witness.to_string()),
            ));
        }
    }
    Ok(())
}

/// A donation starts from a screening with the donor's consent: the one in the batch,
/// else the one the station holds (a screening it does not hold is not judged here).
pub async fn donations_consented(tx: &mut dyn Tx, checked: &[Checked<'_>]) -> Result<()> {
    let donations: Vec<(&Checked<'_>, &lifebridge_domain::entities::Donation)> = checked
        .iter()
        .filter_map(|c| match &c.record.detail {
            Detail::Donation(d) => Some((c, d.as_ref())),
            _ => None,
        })
        .collect();
    if donations.is_empty() {
        return Ok(());
    }
    let mut consented: BTreeMap<Uuid, bool> = checked
        .iter()
        .filter_map(Checked::screening)
        .map(|s| (s.id, s.consent.is_some()))
        .collect();
    let wanted: BTreeSet<Uuid> = donations
        .iter()
        .map(|(_, d)| d.screening_id)
        .filter(|s| !consented.contains_key(s))
        .collect();
    if !wanted.is_empty() {
        let sql =
            "SELECT body FROM change_entry WHERE entity = 'screening' AND entity_id IN ({ids})";
        for r in rows_for(tx, sql, &wanted).await? {
            // A held body the domain cannot read says nothing about consent.
            if let Ok(s) = serde_json::from_str::<Screening>(r.str(0)?) {
                consented.insert(s.id, s.consent.is_some());
            }
        }
    }
    for (c, d) in donations {
        if consented.get(&d.screening_id) == Some(&false) {
            return Err(refuse(
                c.entry,
                about("push_refused.donation_without_consent", c.entry)
                    .with("din", d.din.to_string())
                    .with("screening", d.screening_id.to_string()),
            ));
        }
    }
    Ok(())
}
