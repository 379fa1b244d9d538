//! Render every label kind, read the symbols back from the pixels, get the same data.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use image::{GrayImage, Luma};
use imageproc::geometric_transformations::{Border, Interpolation, rotate_about_center};
use lifebridge_domain::din::Din;
use lifebridge_domain::entities::{AboRh, BagSetKind};
use lifebridge_domain::label_piece::{LabelKind, LabelPiece};
use lifebridge_domain::labels::{
    DataStructure, LabelContent, ProductCode, label_set, parse_scan, read_label_scan,
};
use lifebridge_print::png::{encode_png, png_dpi, rasterize, render_png};
use lifebridge_print::{LabelFont, LabelSize, Symbology, decode_frame, layout};

fn content(piece: LabelPiece, abo: Option<AboRh>) -> LabelContent {
    LabelContent {
        din: Din::parse("G1234 26 012345").unwrap(),
        piece,
        facility_name: "深圳市血液中心 流动采血车".into(),
        abo_rh: abo,
        collected_at: NaiveDate::from_ymd_opt(2026, 11, 25)
            .unwrap()
            .and_hms_opt(10, 42, 0),
        volume_ml: Some(400),
        product: Some(ProductCode::new("E0398", 'V', "00").unwrap()),
        expiry: NaiveDate::from_ymd_opt(2026, 12, 30)
            .unwrap()
            .and_hms_opt(23, 59, 0),
    }
}

fn every_piece() -> Vec<LabelPiece> {
    // Quadruple set: primary, satellites 2-4, two tubes, the record sheet.
    label_set(BagSetKind::Quadruple, 2).unwrap()
}

fn decoded(img: &GrayImage) -> (Option<String>, Option<String>) {
    let found = decode_frame(img);
    let get = |s| {
        found
            .iter()
            .find(|d| d.symbology == s)
            .map(|d| d.text.clone())
    };
    (get(Symbology::Code128), get(Symbology::DataMatrix))
}

#[test]
fn every_label_kind_round_trips_through_png_at_printer_resolutions() {
    let font = LabelFont::embedded().unwrap();
    for dpi in [300, 203] {
        for piece in every_piece() {
            let c = content(piece, Some(AboRh::APos));
            let scene = layout(&c, LabelSize::for_kind(piece.kind), dpi, &font).unwrap();
            let png = render_png(&scene, &font).unwrap();
            assert_eq!(png_dpi(&png), Some(dpi));
            let img = image::load_from_memory(&png).unwrap().to_luma8();
            let expected_w = (LabelSize::for_kind(piece.kind).width_mm / 25.4 * dpi as f32).round();
            assert_eq!(img.width(), expected_w as u32);
            let (code128, dm) = decoded(&img);
            assert_eq!(
                code128.as_deref(),
                Some(c.code128_data().as_str()),
                "{piece} at {dpi} dpi"
            );
            assert_eq!(
                dm.as_deref(),
                Some(c.datamatrix_data().as_str()),
                "{piece} at {dpi} dpi"
            );
            // And the scan reads back as this DIN and this piece.
            let scanned = read_label_scan(&format!("]C0{}\r\n", code128.unwrap())).unwrap();
            assert_eq!(scanned.din, c.din);
            assert_eq!(scanned.piece, Some(piece));
        }
    }
}

#[test]
fn bag_datamatrix_carries_collection_product_group_and_expiry_but_tube_only_the_din() {
    let font = LabelFont::embedded().unwrap();
    let bag = content(LabelPiece::new(LabelKind::Bag, 1), Some(AboRh::ONeg));
    let scene = layout(&bag, LabelSize::BAG, 300, &font).unwrap();
    let (_, dm) = decoded(&rasterize(&scene, &font));
    let dm = dm.unwrap();
    assert!(dm.starts_with("=+05000="), "compound message header: {dm}");
    let parsed = parse_scan(&dm).unwrap();
    assert!(parsed.contains(&DataStructure::ExpiryTime(bag.expiry.unwrap())));
    assert!(parsed.contains(&DataStructure::Product(
        ProductCode::new("E0398", 'V', "00").unwrap()
    )));
    assert!(
        parsed
            .iter()
            .any(|d| matches!(d, DataStructure::CollectionTime(_)))
    );
    assert!(parsed.iter().any(|d| matches!(
        d,
        DataStructure::AboRh {
            group: AboRh::ONeg,
            ..
        }
    )));

    let tube = content(LabelPiece::new(LabelKind::Tube, 2), Some(AboRh::ONeg));
    let scene = layout(&tube, LabelSize::TUBE, 300, &font).unwrap();
    let (_, dm) = decoded(&rasterize(&scene, &font));
    assert_eq!(
        parse_scan(&dm.unwrap()).unwrap(),
        vec![tube.din_structure()]
    );
}

/// A phone-camera-like picture: the label on a grey desk, turned, soft, dimmer.
fn photo_like(label: &GrayImage, degrees: f32, blur_sigma: f32) -> GrayImage {
    let pad = 120;
    let mut canvas = GrayImage::from_pixel(
        label.width() + 2 * pad,
        label.height() + 2 * pad,
        Luma([150]),
    );
    image::imageops::overlay(&mut canvas, label, i64::from(pad), i64::from(pad));
    let turned = rotate_about_center(
        &canvas,
        degrees.to_radians(),
        Interpolation::Bilinear,
        Border::Constant(Luma([150])),
    );
    let mut soft = image::imageops::blur(&turned, blur_sigma);
    // Lower contrast and a brightness gradient, as under a bus's ceiling light.
    let w = soft.width() as f32;
    for (x, _, p) in soft.enumerate_pixels_mut() {
        let v = f32::from(p.0[0]) * 0.7 + 35.0 + 20.0 * (x as f32 / w);
        p.0[0] = v.clamp(0.0, 255.0) as u8;
    }
    soft
}

#[test]
fn symbols_are_read_from_a_turned_blurred_photo_like_image() {
    let font = LabelFont::embedded().unwrap();
    for piece in [
        LabelPiece::new(LabelKind::Bag, 1),
        LabelPiece::new(LabelKind::Satellite, 3),
        LabelPiece::new(LabelKind::Tube, 1),
        LabelPiece::new(LabelKind::Record, 1),
    ] {
        let c = content(piece, None);
        let scene = layout(&c, LabelSize::for_kind(piece.kind), 300, &font).unwrap();
        let label = rasterize(&scene, &font);
        for degrees in [-6.0, 4.0] {
            let photo = photo_like(&label, degrees, 1.0);
            let (code128, dm) = decoded(&photo);
            assert_eq!(
                code128.as_deref(),
                Some(c.code128_data().as_str()),
                "{piece} {degrees}°"
            );
            assert_eq!(
                dm.as_deref(),
                Some(c.datamatrix_data().as_str()),
                "{piece} {degrees}°"
            );
        }
    }
}

#[test]
fn a_blank_frame_decodes_to_nothing() {
    let frame = GrayImage::from_pixel(1280, 720, Luma([200]));
    assert!(decode_frame(&frame).is_empty());
}

#[test]
fn unknown_abo_rhd_leaves_the_group_quadrant_blank() {
    let font = LabelFont::embedded().unwrap();
    let top_right_ink = |abo| {
        let c = content(LabelPiece::new(LabelKind::Bag, 1), abo);
        let scene = layout(&c, LabelSize::BAG, 300, &font).unwrap();
        let img = rasterize(&scene, &font);
        // The quadrant right of the vertical rule and above the horizontal one.
        let (w, h) = img.dimensions();
        let mut ink = 0;
        for y in 40..h / 2 - 10 {
            for x in w / 2 + 10..w - 40 {
                if img.get_pixel(x, y).0[0] < 128 {
                    ink += 1;
                }
            }
        }
        ink
    };
    assert_eq!(top_right_ink(None), 0, "unknown group must print nothing");
    assert!(top_right_ink(Some(AboRh::AbNeg)) > 1000);
}

#[test]
fn png_files_feed_the_decoder_through_the_frame_source() {
    let font = LabelFont::embedded().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let c = content(LabelPiece::new(LabelKind::Tube, 1), None);
    let scene = layout(&c, LabelSize::TUBE, 300, &font).unwrap();
    let blank = dir.path().join("0-blank.png");
    let label = dir.path().join("1-label.png");
    std::fs::write(
        &blank,
        encode_png(&GrayImage::from_pixel(64, 64, Luma([255])), 300).unwrap(),
    )
    .unwrap();
    std::fs::write(&label, render_png(&scene, &font).unwrap()).unwrap();
    let mut source = lifebridge_print::ImageFiles::new(vec![blank, label]);
    let found = lifebridge_print::decode::scan_until(&mut source, Some(Symbology::Code128), 10)
        .unwrap()
        .unwrap();
    assert_eq!(found.text, c.code128_data());
    let mut missing = lifebridge_print::ImageFiles::new(vec![dir.path().join("nope.png")]);
    let err = lifebridge_print::decode::scan_until(&mut missing, None, 1).unwrap_err();
    assert!(err.to_string().contains("nope.png"), "{err}");
}
