//! The checks an entry passes on its own; the ones that read the station's tables are
//! tested through a real station in `tests/validate.rs`, on both backends.

use chrono::{TimeZone, Utc};
use lifebridge_domain::entities::EntityKind;
use lifebridge_domain::hlc::Hlc;
use lifebridge_protocol::records::LocalChange;
use lifebridge_protocol::wire::MAX_CLOCK_LEAD_MS;
use uuid::Uuid;

use super::{Detail, entry_alone};

const DEVICE: Uuid = Uuid::from_u128(7);
const NOW_MS: i64 = 1_780_000_000_000;

fn staff_entry(id: Uuid, wall_ms: u64) -> LocalChange {
    LocalChange {
        seq: 3,
        hlc: Hlc {
            wall_ms,
            counter: 0,
            node: DEVICE,
        },
        entity: EntityKind::Staff,
        entity_id: id,
        body: serde_json::json!({
            "id": id, "display_name": "李敏", "roles": ["registration"], "active": true
        })
        .to_string(),
        field_clocks: None,
    }
}

fn code(e: &LocalChange) -> Option<String> {
    let now = Utc
        .timestamp_millis_opt(NOW_MS)
        .single()
        .unwrap_or_default();
    entry_alone(DEVICE, e, now).err().map(|m| m.code)
}

#[test]
fn a_body_must_read_as_its_own_kind_under_its_own_id() {
    let id = Uuid::from_u128(1);
    let good = staff_entry(id, NOW_MS as u64);
    assert_eq!(code(&good), None);
    let now = Utc
        .timestamp_millis_opt(NOW_MS)
        .single()
        .unwrap_or_default();
    assert!(matches!(
        entry_alone(DEVICE, &good, now).map(|r| r.detail),
        Ok(Detail::Plain)
    ));
    let as_donor = LocalChange {
        entity: EntityKind::Donor,
        ..good.clone()
    };
    assert_eq!(
        code(&as_donor).as_deref(),
        Some("push_refused.body_unreadable")
    );
    let elsewhere = LocalChange {
        entity_id: Uuid::from_u128(2),
        ..good.clone()
    };
    assert_eq!(
        code(&elsewhere).as_deref(),
        Some("push_refused.id_mismatch")
    );
    let not_json = LocalChange {
        body: "{\"id\":".into(),
        ..good
    };
    assert_eq!(
        code(&not_json).as_deref(),
        Some("push_refused.body_unreadable")
    );
}

#[test]
fn a_stamp_up_to_the_bound_ahead_is_accepted_and_one_past_it_refused() {
    let id = Uuid::from_u128(1);
    let edge = NOW_MS as u64 + MAX_CLOCK_LEAD_MS;
    assert_eq!(code(&staff_entry(id, edge)), None);
    assert_eq!(
        code(&staff_entry(id, edge + 1)).as_deref(),
        Some("push_refused.clock_ahead")
    );
}

#[test]
fn only_a_donor_carries_field_clocks_and_only_its_devices_own() {
    let id = Uuid::from_u128(1);
    let mut e = staff_entry(id, NOW_MS as u64);
    e.field_clocks = Some([("roles".to_owned(), e.hlc)].into());
    assert_eq!(
        code(&e).as_deref(),
        Some("push_refused.field_clocks_invalid")
    );
    let mut other = staff_entry(id, NOW_MS as u64);
    other.hlc.node = Uuid::from_u128(8);
    assert_eq!(code(&other).as_deref(), Some("push_refused.other_writer"));
}
