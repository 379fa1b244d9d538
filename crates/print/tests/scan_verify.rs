//! The whole story on one bus: print a donation's set from the record, "stick" it
//! (render to image files), scan every piece back through the camera pipeline, and only
//! then release the bag; another donor's label is refused on the way.
#![allow(clippy::unwrap_used)]

use lifebridge_print::{ImageFiles, LabelFont, LabelSize, Symbology, decode::scan_until, layout};
use lifebridge_store::labels::LabelError;
use lifebridge_store::{Actor, Store, StoreKey, demo};

#[test]
fn labels_printed_from_the_record_scan_back_through_the_camera_and_release_the_bag() {
    let dir = tempfile::tempdir().unwrap();
    let key = StoreKey::new("correct horse battery").unwrap();
    let mut store = Store::create(&dir.path().join("device.db"), &key, "BUS-07").unwrap();
    let mut ids = Vec::new();
    demo::seed_collected(&mut store, 2, |id| {
        ids.push(id);
        Ok(())
    })
    .unwrap();
    let phleb = Actor::staff(store.staff_by_name("采血护士 张静").unwrap().unwrap().id);
    let font = LabelFont::embedded().unwrap();
    let (mine, other) = (ids[0], ids[1]);
    store.print_label_set(phleb, mine, 2).unwrap();
    store.print_label_set(phleb, other, 2).unwrap();

    let render = |donation, name: &str| {
        let contents = store
            .donation_label_contents(donation, "深圳市血液中心", None)
            .unwrap();
        contents
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let scene = layout(c, LabelSize::for_kind(c.piece.kind), 300, &font).unwrap();
                let path = dir.path().join(format!("{name}-{i}.png"));
                std::fs::write(
                    &path,
                    lifebridge_print::png::render_png(&scene, &font).unwrap(),
                )
                .unwrap();
                path
            })
            .collect::<Vec<_>>()
    };
    let my_labels = render(mine, "mine");
    let other_labels = render(other, "other");
    assert_eq!(my_labels.len(), 6);

    // Another donor's bag label picked up by mistake: refused, loudly, and recorded.
    let mut camera = ImageFiles::new(vec![other_labels[0].clone()]);
    let wrong = scan_until(&mut camera, Some(Symbology::Code128), 5)
        .unwrap()
        .unwrap();
    let err = store
        .record_label_scan(phleb, mine, &wrong.scanner_text())
        .unwrap_err();
    assert!(matches!(err, LabelError::ScanRefused { .. }));
    assert!(err.to_string().contains("ANOTHER DONATION"), "{err}");

    for (i, path) in my_labels.iter().enumerate() {
        // The Data Matrix is what a phone camera locks onto first; it carries the same
        // DIN data (after a compound message header on bag labels).
        let want = if i % 2 == 0 {
            Symbology::DataMatrix
        } else {
            Symbology::Code128
        };
        let mut camera = ImageFiles::new(vec![path.clone()]);
        let found = scan_until(&mut camera, Some(want), 5).unwrap().unwrap();
        assert!(matches!(
            store.release_donation(phleb, mine),
            Err(LabelError::NotVerified { .. })
        ));
        // The decoded text alone, without the symbology identifier a scanner sends,
        // could have been typed: it verifies nothing.
        assert!(store.record_label_scan(phleb, mine, &found.text).is_err());
        store
            .record_label_scan(phleb, mine, &found.scanner_text())
            .unwrap();
    }
    let released = store.release_donation(phleb, mine).unwrap();
    assert!(released.released);
    assert_eq!(released.refused_scans, 1 + 6);
    assert!(store.check().unwrap().is_ok());
}
