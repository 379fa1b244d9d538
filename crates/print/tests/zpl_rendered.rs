//! ZPL rendered by an independent ZPL renderer, then read back like a printed label.
//!
//! Runs when LIFEBRIDGE_ZPL_RENDER names a command taking `IN.zpl OUT.png WIDTH_MM
//! HEIGHT_MM DPMM`, e.g. `node crates/print/tests/zpl-render.cjs` after
//! `npm install zpl-renderer-js@3.4.0`; without it the test says so and passes.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use chrono::NaiveDate;
use lifebridge_domain::din::Din;
use lifebridge_domain::entities::{AboRh, BagSetKind};
use lifebridge_domain::labels::{LabelContent, ProductCode, label_set};
use lifebridge_print::zpl::{ZplOptions, render_zpl};
use lifebridge_print::{LabelFont, LabelSize, Symbology, decode_frame, layout};

#[test]
fn zpl_rendered_by_a_zpl_renderer_reads_back() {
    let Ok(command) = std::env::var("LIFEBRIDGE_ZPL_RENDER") else {
        eprintln!("LIFEBRIDGE_ZPL_RENDER not set: ZPL not rendered (see the file's header)");
        return;
    };
    let mut words = command.split_whitespace();
    let program = words.next().unwrap();
    let fixed: Vec<&str> = words.collect();
    let font = LabelFont::embedded().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for piece in label_set(BagSetKind::Double, 1).unwrap() {
        let c = LabelContent {
            din: Din::parse("G1234 26 012345").unwrap(),
            piece,
            facility_name: "深圳市血液中心".into(),
            abo_rh: Some(AboRh::OPos),
            collected_at: NaiveDate::from_ymd_opt(2026, 11, 25)
                .unwrap()
                .and_hms_opt(9, 5, 0),
            volume_ml: Some(400),
            product: Some(ProductCode::new("E0398", 'V', "00").unwrap()),
            expiry: None,
        };
        let size = LabelSize::for_kind(piece.kind);
        let scene = layout(&c, size, 203, &font).unwrap();
        let zpl_path = dir.path().join(format!("{}.zpl", piece.flags()));
        let png_path = dir.path().join(format!("{}.png", piece.flags()));
        std::fs::write(&zpl_path, render_zpl(&scene, &font, &ZplOptions::default())).unwrap();
        let status = Command::new(program)
            .args(&fixed)
            .arg(&zpl_path)
            .arg(&png_path)
            .arg(size.width_mm.to_string())
            .arg(size.height_mm.to_string())
            .arg("8")
            .status()
            .unwrap();
        assert!(status.success(), "renderer failed for {piece}");
        let img = image::open(&png_path).unwrap().to_luma8();
        let found = decode_frame(&img);
        let text = |s| {
            found
                .iter()
                .find(|d| d.symbology == s)
                .map(|d| d.text.clone())
        };
        assert_eq!(text(Symbology::Code128), Some(c.code128_data()), "{piece}");
        assert_eq!(
            text(Symbology::DataMatrix),
            Some(c.datamatrix_data()),
            "{piece}"
        );
    }
}
