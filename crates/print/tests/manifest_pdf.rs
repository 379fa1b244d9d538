//! The manifest PDF read back by independent tools: poppler's pdftotext for the words
//! a person checks, pdftoppm + the QR decoder for the code the receiving desk scans.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use lifebridge_domain::cold_chain::Manifest;
use lifebridge_domain::label_piece::{LabelKind, LabelPiece};
use lifebridge_domain::product::ProductClass;
use lifebridge_print::manifest_pdf::render_manifest_pdf;
use lifebridge_store::{Actor, Store, StoreKey, demo};

/// A dispatched demo drive: a red-cell box with an excursion and a platelet box.
fn dispatched() -> Manifest {
    let dir = tempfile::tempdir().unwrap();
    let key = StoreKey::new("correct horse battery").unwrap();
    let mut store = Store::create(&dir.path().join("device.db"), &key, "BUS-07").unwrap();
    let mut ids = Vec::new();
    demo::seed(&mut store, 3, |id| {
        ids.push(id);
        Ok(())
    })
    .unwrap();
    let driver_id = store.staff_by_name("司机 刘洋").unwrap().unwrap().id;
    let driver = Actor::staff(driver_id);
    let donations: Vec<_> = ids
        .iter()
        .map(|id| store.donation(*id).unwrap().unwrap())
        .collect();
    let drive = donations[0].drive_id;
    let scan = |i: usize| {
        format!(
            "]C0={}{}",
            donations[i].din.as_str(),
            LabelPiece::new(LabelKind::Bag, 1).flags()
        )
    };
    let red = store
        .open_box(driver, drive, "BOX-R1", ProductClass::RedCellWholeBlood)
        .unwrap();
    let plt = store
        .open_box(driver, drive, "BOX-P1", ProductClass::PlateletWholeBlood)
        .unwrap();
    store.pack_bag(driver, red.id, &scan(0)).unwrap();
    store.pack_bag(driver, red.id, &scan(1)).unwrap();
    // The third bag's label would not scan: packed by typing its DIN, witnessed.
    let nurse = store.staff_by_name("采血护士 张静").unwrap().unwrap().id;
    store
        .pack_bag_manual(
            driver,
            plt.id,
            &lifebridge_store::cold_chain::ManualPackEntry {
                typed: format!(
                    "{} {}",
                    donations[2].din.as_str(),
                    donations[2].din.check_char()
                ),
                reason: "label wet".to_owned(),
                witness: nurse,
                witness_pin: demo::DEMO_PIN.to_owned(),
            },
        )
        .unwrap();
    let now = Utc::now();
    store
        .record_temperature(driver, red.id, now - Duration::minutes(20), 4.0)
        .unwrap();
    store
        .record_temperature(driver, red.id, now - Duration::minutes(10), 10.1)
        .unwrap();
    store
        .record_temperature(driver, plt.id, now - Duration::minutes(10), 22.0)
        .unwrap();
    store
        .dispatch(driver, drive, driver_id, demo::DEMO_PIN)
        .unwrap()
        .manifest
}

fn tool_missing(name: &str) -> bool {
    std::process::Command::new(name).arg("-v").output().is_err()
}

#[test]
fn manifest_pdf_reads_back_as_text() {
    if tool_missing("pdftotext") {
        eprintln!("pdftotext not installed: manifest PDF not read back");
        return;
    }
    let manifest = dispatched();
    let pdf = render_manifest_pdf(&manifest, &["LBM1:TEST-PAYLOAD".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("manifest.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "血液运输交接单",
        "Blood transport manifest",
        // U+00B7 is not in GB 2312: printed as its look-alike U+30FB.
        "示范采血点 ・ 人民广场",
        "DEMO-BUS",
        "司机 刘洋",
        "BOX-R1",
        "BOX-P1",
        "全血（制备红细胞）",
        "全血（制备血小板）",
        "2~10 °C",
        "20~24 °C",
        "10.1 °C",
        "EXCURSION",
        "合计 / Total: 3 袋，2 箱，其中 1 箱有温度超限 / 3 bags, 2 boxes, 1 with excursions",
        "未知 unknown: 3",
        "MANUAL ENTRY",
        "手工录入",
        &manifest.id.to_string(),
        &manifest.drive_date.to_string(),
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    for b in &manifest.boxes {
        for bag in &b.bags {
            assert!(text.contains(bag.din.as_str()), "{} missing", bag.din);
        }
    }
    // The platelet box stayed in range: exactly one excursion is printed.
    assert_eq!(text.matches("EXCURSION").count(), 1, "{text}");
    // The two bags of the hot box are quarantined, each with why; their tubes travel.
    assert!(text.contains("隔离 / quarantined: 2"), "{text}");
    assert_eq!(text.matches("-> 隔离").count(), 2, "{text}");
}

#[test]
fn manifest_qr_codes_decode_to_the_given_strings() {
    if tool_missing("pdftoppm") {
        eprintln!("pdftoppm not installed: manifest QR not rasterised");
        return;
    }
    let manifest = dispatched();
    let payloads = vec![
        "LBM1:1/2:FIRST-PART".to_owned(),
        "LBM1:2/2:SECOND".to_owned(),
    ];
    let pdf = render_manifest_pdf(&manifest, &payloads).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("manifest.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "100", "-gray", "-png"])
        .arg(&path)
        .arg(dir.path().join("page"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "png") {
            let img = image::open(&p).unwrap().to_luma8();
            // The decoder reads one QR per frame and a page may hold two: read it in
            // overlapping strips, each taller than one QR (70 mm is 276 px at 100 dpi).
            let (w, h) = img.dimensions();
            let strip = 420.min(h);
            let mut top = 0;
            loop {
                let part = image::imageops::crop_imm(&img, 0, top, w, strip).to_image();
                found.extend(
                    lifebridge_print::decode_frame(&part)
                        .into_iter()
                        .filter(|d| d.symbology == lifebridge_print::Symbology::Qr)
                        .map(|d| d.text),
                );
                if top + strip >= h {
                    break;
                }
                top = (top + 140).min(h - strip);
            }
        }
    }
    found.sort();
    found.dedup();
    let mut expected = payloads.clone();
    expected.sort();
    assert_eq!(found, expected);
}
