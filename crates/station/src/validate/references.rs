//! The donor a record is about is known: the station holds it (`donor_state`, every
//! donor any device pushed) or the same batch carries it.

use std::collections::BTreeSet;

use lifebridge_domain::entities::EntityKind;
use uuid::Uuid;

use super::{Checked, about, refuse, rows_for};
use crate::storage::sql::Tx;
use crate::storage::{Result, parse_uuid};

pub async fn donors_known(tx: &mut dyn Tx, checked: &[Checked<'_>]) -> Result<()> {
    let in_batch: BTreeSet<Uuid> = checked
        .iter()
        .filter(|c| c.entry.entity == EntityKind::Donor)
        .map(|c| c.record.id)
        .collect();
    let wanted: BTreeSet<Uuid> = checked
        .iter()
        .filter_map(|c| c.record.donor)
        .filter(|d| !in_batch.contains(d))
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let mut known = BTreeSet::new();
    let sql = "SELECT donor_id FROM donor_state WHERE donor_id IN ({ids})";
    for r in rows_for(tx, sql, &wanted).await? {
        known.insert(parse_uuid(r.str(0)?)?);
    }
    for c in checked {
        if let Some(donor) = c.record.donor
            && !in_batch.contains(&donor)
            && !known.contains(&donor)
        {
            return Err(refuse(
                c.entry,
                about("push_refused.donor_unknown", c.entry).with("donor", donor.to_string()),
            ));
        }
    }
    Ok(())
}
