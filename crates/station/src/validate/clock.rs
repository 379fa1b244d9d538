//! No pushed clock stamp is more than [`MAX_CLOCK_LEAD_MS`] ahead of the station's
//! clock, so nothing the station stores can outrank an honest edit made an hour after
//! it; the merge ([`lifebridge_domain::merge::merge_fields_until`]) ranks any stamp past
//! [`latest_ms`] below every other, for what was stored before this check existed.

use chrono::{DateTime, Utc};
use lifebridge_domain::messages::Message;
use lifebridge_protocol::records::LocalChange;
use lifebridge_protocol::wire::{MAX_CLOCK_LEAD_MS, MAX_FIELD_CLOCKS, human_duration};
use uuid::Uuid;

use super::about;

/// The latest clock stamp the station accepts at `now`.
pub fn latest_ms(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp_millis())
        .unwrap_or(0)
        .saturating_add(MAX_CLOCK_LEAD_MS)
}

pub fn not_ahead(entry: &LocalChange, now: DateTime<Utc>) -> Result<(), Message> {
    if entry.hlc.wall_ms <= latest_ms(now) {
        return Ok(());
    }
    let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    Err(about("push_refused.clock_ahead", entry)
        .with("ahead", human_duration(entry.hlc.wall_ms - now_ms))
        .with("bound", human_duration(MAX_CLOCK_LEAD_MS)))
}

/// A donor entry's field clocks come from the device's own log up to this entry: each
/// is this device's and no later than the entry. Other kinds carry none.
pub fn field_clocks(device_id: Uuid, entry: &LocalChange) -> Result<(), Message> {
    let Some(clocks) = &entry.field_clocks else {
        return Ok(());
    };
    let invalid = |detail: String| -> Result<(), Message> {
        Err(about("push_refused.field_clocks_invalid", entry).with("detail", detail))
    };
    if entry.entity != lifebridge_domain::entities::EntityKind::Donor {
        return invalid(format!("a {} entry carries none", entry.entity.as_str()));
    }
    if clocks.len() > MAX_FIELD_CLOCKS {
        return invalid(format!(
            "{} clocks, at most {MAX_FIELD_CLOCKS}",
            clocks.len()
        ));
    }
    for (field, clock) in clocks {
        if clock.node != device_id {
            return invalid(format!("{field} is stamped by another device"));
        }
        if *clock > entry.hlc {
            return invalid(format!("{field} is stamped after the entry itself"));
        }
    }
    Ok(())
}
