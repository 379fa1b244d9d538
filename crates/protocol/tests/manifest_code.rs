//! The manifest QR, end to end: a manifest as the bus signs it, encoded, drawn as a QR
//! symbol the way labels draw theirs, read back by the camera decoder, and assembled.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use image::{GrayImage, Luma};
use lifebridge_domain::FacilityId;
use lifebridge_domain::cold_chain::{
    Excursion, Manifest, ManifestBag, ManifestBox, ManifestReading, Signatory,
};
use lifebridge_domain::entities::AboRh;
use lifebridge_domain::product::{ProductClass, TemperatureRange};
use lifebridge_domain::{Din, Procedure};
use lifebridge_protocol::manifest_code::{self, Assembly, ManifestCodeError};
use proptest::prelude::*;
use uuid::Uuid;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 1, 0, 0).unwrap()
}

fn id(n: u128) -> Uuid {
    // v7-shaped ids as devices write them: a shared time prefix, random-looking tail.
    Uuid::from_u128(
        (0x0196_8a3e_5c00u128 << 80)
            | (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) & ((1u128 << 80) - 1)),
    )
}

/// A manifest of `bags` bags spread over red-cell and platelet boxes, with readings.
fn manifest(bags: u32) -> Manifest {
    let facility: FacilityId = "A9999".parse().unwrap();
    let mut boxes = Vec::new();
    let per_box = 20;
    let n_boxes = bags.div_ceil(per_box).max(1);
    for b in 0..n_boxes {
        let class = if b % 3 == 2 {
            ProductClass::PlateletWholeBlood
        } else {
            ProductClass::RedCellWholeBlood
        };
        let range = if class == ProductClass::RedCellWholeBlood {
            TemperatureRange {
                min_c: 2.0,
                max_c: 10.0,
            }
        } else {
            TemperatureRange {
                min_c: 20.0,
                max_c: 24.0,
            }
        };
        let bag_list: Vec<ManifestBag> = (b * per_box..((b + 1) * per_box).min(bags))
            .map(|i| ManifestBag {
                din: Din::new(&facility, 26, 1000 + i).unwrap(),
                donation_id: id(u128::from(i) + 1),
                procedure: Procedure::WholeBlood,
                collected_volume_ml: Some(400),
                abo_rh: if i % 4 == 0 { None } else { Some(AboRh::OPos) },
                collected_at: t0() + Duration::minutes(i64::from(i) * 7),
                tubes: Vec::new(),
                unit: Default::default(),
                manual_labels: Vec::new(),
            })
            .collect();
        let readings: Vec<ManifestReading> = (0..12)
            .map(|k| ManifestReading {
                at: t0() + Duration::minutes(k * 30),
                celsius: range.min_c + 1.5 + (k % 3) as f64 * 0.5,
            })
            .collect();
        boxes.push(ManifestBox {
            box_id: id(9000 + u128::from(b)),
            code: format!("BOX-{:04}", b + 1),
            class,
            range,
            first_collection_at: bag_list.first().map(|x| x.collected_at),
            bags: bag_list,
            readings,
            excursions: if b == 0 {
                vec![Excursion {
                    from: t0() + Duration::minutes(90),
                    to: t0() + Duration::minutes(120),
                    extreme_c: 12.5,
                    readings: 2,
                }]
            } else {
                vec![]
            },
        });
    }
    Manifest {
        id: id(1_000_000),
        drive_id: id(2_000_000),
        device_id: id(3_000_000),
        site_name: "昆明市五华区人民广场献血车".into(),
        vehicle: Some("云A·12345".into()),
        drive_date: t0().date_naive(),
        driver: Signatory {
            staff_id: id(4_000_000),
            name: "李司机".into(),
        },
        dispatched_at: t0() + Duration::hours(7),
        boxes,
        rules_version: "GB18467-2011/1".into(),
    }
}

#[test]
fn a_typical_manifest_is_one_qr_and_round_trips() {
    for bags in [40, 50, 60] {
        let m = manifest(bags);
        let parts = manifest_code::encode(&m);
        assert_eq!(
            parts.len(),
            1,
            "{bags} bags should fit one QR, got {} parts",
            parts.len()
        );
        assert!(parts[0].starts_with("LBM1:1/1:"));
        assert_eq!(manifest_code::decode(&parts).unwrap(), m);
    }
}

#[test]
fn a_large_manifest_splits_and_parts_come_in_any_order_with_duplicates() {
    let m = manifest(400);
    let mut parts = manifest_code::encode(&m);
    assert!(parts.len() >= 2, "400 bags should need several parts");
    let n = parts.len();
    assert!(
        parts
            .iter()
            .enumerate()
            .all(|(i, p)| p.starts_with(&format!("LBM1:{}/{n}:", i + 1)))
    );
    parts.reverse();
    parts.push(parts[0].clone());
    assert_eq!(manifest_code::decode(&parts).unwrap(), m);

    // Missing parts are named, so the desk can ask for them.
    let mut a = Assembly::new();
    a.add(&parts[0]).unwrap();
    match a.finish() {
        Err(ManifestCodeError::MissingParts { missing, count }) => {
            assert_eq!(count, n);
            assert_eq!(missing.len(), n - 1);
            assert!(!missing.contains(&n), "part {n} was scanned");
        }
        other => panic!("expected missing parts, got {other:?}"),
    }
}

#[test]
fn parts_of_two_manifests_never_mix() {
    let a = manifest_code::encode(&manifest(400));
    let mut other = manifest(400);
    other.driver.name = "王司机".into();
    let b = manifest_code::encode(&other);
    let mut assembly = Assembly::new();
    assembly.add(&a[0]).unwrap();
    assert!(matches!(
        assembly.add(&b[1]),
        Err(ManifestCodeError::MixedManifests { .. })
    ));
    // The refused part left the assembly as it was.
    assert_eq!(assembly.missing().len(), a.len() - 1);
}

#[test]
fn a_damaged_payload_is_caught_by_the_digest() {
    let parts = manifest_code::encode(&manifest(50));
    assert_eq!(parts.len(), 1);
    let mut damaged = parts[0].clone();
    // Flip one payload character to another base45 character.
    let last = damaged.pop().unwrap();
    damaged.push(if last == '0' { '1' } else { '0' });
    let err = manifest_code::decode(&[damaged]).unwrap_err();
    assert!(
        matches!(
            err,
            ManifestCodeError::DigestMismatch | ManifestCodeError::MalformedPart { .. }
        ),
        "{err:?}"
    );
}

/// Draws a QR matrix as the label renderer does (dark modules, 4-module quiet zone).
fn render(data: &str, scale: u32) -> GrayImage {
    let m = lifebridge_print::symbols::qr_matrix(data).unwrap();
    let quiet = 4;
    let side = (m.width as u32 + 2 * quiet) * scale;
    let mut img = GrayImage::from_pixel(side, side, Luma([255]));
    for y in 0..m.width {
        for x in 0..m.width {
            if m.modules[y * m.width + x] {
                for dy in 0..scale {
                    for dx in 0..scale {
                        img.put_pixel(
                            (x as u32 + quiet) * scale + dx,
                            (y as u32 + quiet) * scale + dy,
                            Luma([0]),
                        );
                    }
                }
            }
        }
    }
    img
}

#[test]
fn through_a_real_qr_image() {
    let m = manifest(60);
    let parts = manifest_code::encode(&m);
    let matrix = lifebridge_print::symbols::qr_matrix(&parts[0]).unwrap();
    // One symbol, at most version 40 (177 modules).
    assert!(matrix.width <= 177, "QR is {} modules wide", matrix.width);
    let scanned: Vec<String> = parts
        .iter()
        .map(|p| {
            let img = render(p, 4);
            let found = lifebridge_print::decode_frame(&img);
            let qr = found
                .into_iter()
                .find(|d| d.symbology == lifebridge_print::Symbology::Qr)
                .expect("the QR reads back");
            qr.text
        })
        .collect();
    assert_eq!(scanned, parts);
    assert_eq!(manifest_code::decode(&scanned).unwrap(), m);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip(bags in 0u32..120, site in "\\PC{0,30}", vehicle in proptest::option::of("\\PC{0,12}")) {
        let mut m = manifest(bags);
        m.site_name = site;
        m.vehicle = vehicle;
        let parts = manifest_code::encode(&m);
        prop_assert_eq!(manifest_code::decode(&parts).unwrap(), m);
    }

    #[test]
    fn arbitrary_text_never_panics(parts in proptest::collection::vec("\\PC{0,80}", 0..4)) {
        let _ = manifest_code::decode(&parts);
    }

    #[test]
    fn near_miss_parts_never_panic(
        index in 0usize..5, count in 0usize..5,
        digest in "[0-9A-F]{14,18}",
        payload in "[0-9A-Z $%*+\\-./:]{0,60}",
    ) {
        let _ = manifest_code::decode(&[format!("LBM1:{index}/{count}:{digest}:{payload}")]);
    }
}
