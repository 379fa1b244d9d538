//! What the app's screens read from the core: the options they offer and the donor
//! overview at check-in.
#![allow(clippy::unwrap_used)]

use lifebridge_domain::label_piece::DEFAULT_TUBE_COUNT;
use lifebridge_domain::product::ProductClass;
use lifebridge_store::screens::{BUILT_IN_QUESTIONNAIRE, refuse_check_in};
use lifebridge_store::{Store, StoreKey, china_today, demo};

fn seeded() -> (tempfile::TempDir, Store, uuid::Uuid) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(
        &dir.path().join("d.db"),
        &StoreKey::new("key-key-key").unwrap(),
        "BUS",
    )
    .unwrap();
    let mut donations = Vec::new();
    demo::seed_collected(&mut store, 1, |id| {
        donations.push(id);
        Ok(())
    })
    .unwrap();
    let donor = store.donation(donations[0]).unwrap().unwrap().donor_id;
    (dir, store, donor)
}

#[test]
fn the_screens_offer_what_the_rules_table_in_force_says() {
    let (_dir, store, _) = seeded();
    let options = store.screen_options().unwrap();
    let rules = store.rules().unwrap();
    assert_eq!(options.rules_version, rules.version);
    assert_eq!(options.whole_blood_volumes_ml, rules.whole_blood_volumes_ml);
    assert_eq!(options.whole_blood_volumes_ml, [200, 300, 400]);
    assert_eq!(options.tubes, DEFAULT_TUBE_COUNT);
    assert_eq!(options.bag_sets.len(), 5);
    assert_eq!(options.questionnaire_version, BUILT_IN_QUESTIONNAIRE);
    // China Standard Time: the zone whose calendar day the rules count in.
    assert_eq!(options.utc_offset_seconds, 8 * 3600);
    let red = options
        .classes
        .iter()
        .find(|c| c.class == ProductClass::RedCellWholeBlood)
        .unwrap();
    let rule = rules
        .cold_chain
        .class(ProductClass::RedCellWholeBlood)
        .unwrap();
    assert_eq!(red.range, rule.range);
}

#[test]
fn a_donor_who_gave_today_is_eligible_again_only_from_the_date_the_core_gives() {
    let (_dir, store, donor) = seeded();
    let today = china_today();
    let overview = store.donor_overview(donor, today).unwrap().unwrap();
    assert!(!overview.eligible_today);
    assert!(!overview.check_in.eligible_today);
    let next = overview.next_eligible.unwrap();
    assert!(next > today);
    // Checking them in today needs a reason; on that date it does not.
    assert!(refuse_check_in(&overview.check_in, None).is_err());
    assert!(refuse_check_in(&overview.check_in, Some("  ")).is_err());
    assert!(refuse_check_in(&overview.check_in, Some("asked to see the physician")).is_ok());
    let then = store.donor_overview(donor, next).unwrap().unwrap();
    assert!(then.eligible_today);
    assert!(refuse_check_in(&then.check_in, None).is_ok());
    assert!(
        store
            .donor_overview(uuid::Uuid::now_v7(), today)
            .unwrap()
            .is_none()
    );
}

/// The forms embed the store's inputs flattened: the JSON the UI sends is still one flat
/// object, and the fields the screen leaves empty arrive as `None`.
#[test]
fn the_forms_read_the_flat_json_the_ui_sends() {
    let donor: lifebridge_store::screens::DonorForm = serde_json::from_value(serde_json::json!({
        "document_kind": "passport", "document_number": "E12345678", "name": "Ann",
        "sex": "female", "birth_date": "1990-01-02", "phone": null, "address": null,
        "rural": null,
    }))
    .unwrap();
    assert_eq!(donor.details.name, "Ann");
    assert_eq!(donor.details.phone, None);
    let back = serde_json::to_value(&donor).unwrap();
    assert_eq!(back["document_number"], "E12345678");
    assert_eq!(back["birth_date"], "1990-01-02");
}
