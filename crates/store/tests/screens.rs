//! What the app's screens read from the core: the options they offer and the donor
//! overview at check-in.
#![allow(clippy::unwrap_used)]

use lifebridge_domain::label_piece::DEFAULT_TUBE_COUNT;
use lifebridge_domain::product::ProductClass;
use lifebridge_store::screens::{BUILT_IN_QUESTIONNAIRE, refuse_check_in};
use lifebridge_store::{Store, StoreKey, china_today, demo};

/// A demo drive with one donation collected at the chair, its labels not yet printed.
fn collected() -> (
    tempfile::TempDir,
    Store,
    lifebridge_domain::entities::Donation,
) {
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
    let donation = store.donation(donations[0]).unwrap().unwrap();
    (dir, store, donation)
}

fn seeded() -> (tempfile::TempDir, Store, uuid::Uuid) {
    let (dir, store, donation) = collected();
    (dir, store, donation.donor_id)
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

/// The screens' option lists are the core's own enumerations, so a new variant reaches
/// every select without a UI change.
#[test]
fn the_screens_offer_the_cores_lists_of_documents_roles_outcomes_and_reactions() {
    use lifebridge_domain::entities::{Outcome, ReactionKind, Role, Severity};
    use lifebridge_domain::resident_id::DocumentKind;
    let (_dir, store, _) = seeded();
    let options = store.screen_options().unwrap();
    assert_eq!(options.document_kinds, DocumentKind::ALL);
    assert_eq!(options.document_kinds[0], DocumentKind::ResidentId);
    assert_eq!(options.roles, Role::ALL);
    assert!(!options.finish_outcomes.contains(&Outcome::InProgress));
    assert_eq!(options.finish_outcomes.len(), 3);
    assert_eq!(options.reaction_kinds, ReactionKind::ALL);
    assert_eq!(options.severities, Severity::ALL);
    let json = serde_json::to_value(&options).unwrap();
    assert_eq!(json["document_kinds"][0], "resident_id");
    assert_eq!(
        json["finish_outcomes"],
        serde_json::json!(["complete", "partial", "aborted"])
    );
}

/// Each chair and driver action has one entry point that acts and returns what the
/// screen shows after it, so a command is its role check and one call.
#[test]
fn each_screen_action_returns_the_view_after_it() {
    use lifebridge_domain::entities::Role;
    use lifebridge_domain::label_piece::{LabelKind, LabelPiece};
    use lifebridge_domain::product::ProductClass;
    use lifebridge_store::{Actor, StoreError};

    let (_dir, mut store, donation) = collected();
    let staff = |store: &Store, role: Role| {
        let s = store
            .staff_list()
            .unwrap()
            .into_iter()
            .find(|s| s.has_role(role))
            .unwrap();
        Actor::staff(s.id)
    };
    let phleb = staff(&store, Role::Phlebotomist);
    let driver = staff(&store, Role::Driver);

    // The chair: print, scan every piece back, release; each answer is the label view.
    let printed = store
        .print_labels_view(phleb, donation.id, DEFAULT_TUBE_COUNT)
        .unwrap();
    assert_eq!(printed.status.missing.len(), printed.status.set.len());
    assert_eq!(printed.barcodes.len(), printed.status.set.len());
    let mut last = printed;
    for barcode in last.barcodes.clone() {
        last = store
            .scan_label_view(phleb, donation.id, &format!("]C0{barcode}"))
            .unwrap();
    }
    assert!(last.status.is_fully_verified());
    assert!(!last.status.released);
    let released = store.release_donation_view(phleb, donation.id).unwrap();
    assert!(released.status.released);

    // The driver: open a box, pack the bag, log a reading, unpack; each answer is the
    // drive's transport view.
    let opened = store
        .open_box_view(
            driver,
            donation.drive_id,
            "BOX-V1",
            ProductClass::RedCellWholeBlood,
        )
        .unwrap();
    let bx = opened.boxes[0].transport_box.id;
    assert_eq!(opened.boxes[0].transport_box.code, "BOX-V1");
    let bag = format!(
        "]C0={}{}",
        donation.din.as_str(),
        LabelPiece::new(LabelKind::Bag, 1).flags()
    );
    let packed = store.pack_bag_view(driver, bx, &bag).unwrap();
    assert_eq!(packed.boxes[0].bags.len(), 1);
    let logged = store
        .record_temperature_view(driver, bx, None, 4.0)
        .unwrap();
    assert_eq!(logged.boxes[0].readings.len(), 1);
    assert_eq!(logged.drive.id, donation.drive_id);
    let packing = store.transport_view_of_box(bx).unwrap().boxes[0].bags[0]
        .packing
        .id;
    let unpacked = store.unpack_bag_view(driver, packing).unwrap();
    assert!(unpacked.boxes[0].bags.is_empty());

    // What a screen asks for that is not there is refused as missing, not a blank view.
    let unknown = uuid::Uuid::now_v7();
    assert!(matches!(
        store.transport_view_of_box(unknown),
        Err(StoreError::Missing { .. })
    ));
    assert!(matches!(
        store.manifest_sheet(unknown),
        Err(StoreError::Missing { .. })
    ));
    assert!(matches!(
        store.donor_overview_of(unknown, china_today()),
        Err(StoreError::Missing { .. })
    ));
    // The scale: a gross weight under the tare names the gross field.
    assert!(matches!(
        store.collected_volume(90.0, 100.0),
        Err(StoreError::Invalid { field, .. }) if field == "gross_g"
    ));
    assert_eq!(
        store.collected_volume(520.0, 100.0).unwrap(),
        store.volume_from_scale(520.0, 100.0).unwrap().unwrap()
    );
}
