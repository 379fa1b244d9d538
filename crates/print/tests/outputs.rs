//! ZPL, SVG and PDF carry what they must.
#![allow(clippy::unwrap_used)]

use lifebridge_domain::din::Din;
use lifebridge_domain::entities::AboRh;
use lifebridge_domain::label_piece::{LabelKind, LabelPiece};
use lifebridge_domain::labels::LabelContent;
use lifebridge_print::pdf::{PdfBuilder, render_pdf};
use lifebridge_print::svg::render_svg;
use lifebridge_print::zpl::{ZplOptions, render_zpl};
use lifebridge_print::{LabelFont, LabelSize, layout};

const KNOWN: [&str; 19] = [
    "^XA", "^CI28", "^PW", "^LL", "^LH", "^FO", "^FT", "^GB", "^GFA", "^FS", "^FH", "^FD", "^BY",
    "^BCN", "^BXN", "^A0N", "^A@N", "^PQ1", "^XZ",
];

fn bag(abo: Option<AboRh>) -> LabelContent {
    let mut c = LabelContent::blank(
        Din::parse("G1234 26 012345").unwrap(),
        LabelPiece::new(LabelKind::Bag, 1),
        "广州血液中心_^~",
    );
    c.abo_rh = abo;
    c
}

#[test]
fn zpl_has_the_commands_a_thermal_printer_needs() {
    let font = LabelFont::embedded().unwrap();
    let c = bag(Some(AboRh::APos));
    let scene = layout(&c, LabelSize::BAG, 203, &font).unwrap();
    let zpl = render_zpl(&scene, &font, &ZplOptions::default());
    // By default every line of text is a bitmap from the embedded font.
    assert!(!zpl.contains("^A0") && !zpl.contains("^A@"));
    let text_lines = scene
        .items
        .iter()
        .filter(|i| matches!(i, lifebridge_print::layout::Item::Text { .. }))
        .count();
    assert_eq!(zpl.matches("^GFA,").count(), text_lines);
    let zpl = render_zpl(
        &scene,
        &font,
        &ZplOptions {
            resident_font_for_ascii: true,
            printer_cjk_font: None,
        },
    );
    assert!(zpl.starts_with("^XA\n^CI28\n"), "{zpl}");
    assert!(zpl.trim_end().ends_with("^XZ"));
    assert!(zpl.contains("^PW799\n^LL400\n"), "100x50 mm at 203 dpi");
    assert!(zpl.contains("^FO"));
    assert!(
        zpl.contains(&format!("^BCN,56,N,N,N,A^FH^FD{}^FS", c.code128_data())),
        "{zpl}"
    );
    // The 2-D symbol is Data Matrix ECC 200 (^BX, quality 200), never QR (^BQ).
    assert!(
        zpl.contains(&format!(",200^FH^FD{}^FS", c.datamatrix_data())),
        "{zpl}"
    );
    assert!(zpl.contains("^BXN,") && !zpl.contains("^BQ"), "{zpl}");
    // Chinese goes as a bitmap from the embedded font unless the printer has a CJK font.
    assert!(zpl.contains("^GFA,"));
    assert!(zpl.contains("^A0N,"), "ASCII text uses the resident font");
    assert!(zpl.contains("^FH^FDA^FS"), "the group, large");
    // ^ and ~ in data are hex-escaped so they cannot start a command.
    let with_font = render_zpl(
        &scene,
        &font,
        &ZplOptions {
            resident_font_for_ascii: true,
            printer_cjk_font: Some("E:SIMSUN.TTF".into()),
        },
    );
    assert!(with_font.contains("^A@N,"));
    assert!(with_font.contains("广州血液中心_5F_5E_7E"), "{with_font}");
    assert!(!with_font.contains("^GFA"));
    for zpl in [&zpl, &with_font] {
        for (i, _) in zpl.match_indices('^') {
            let command = &zpl[i..];
            assert!(
                KNOWN.iter().any(|k| command.starts_with(k)),
                "stray command at {:?}",
                &command[..command.len().min(12)]
            );
        }
    }
}

#[test]
fn zpl_without_a_group_prints_no_group() {
    let font = LabelFont::embedded().unwrap();
    let scene = layout(&bag(None), LabelSize::BAG, 300, &font).unwrap();
    let zpl = render_zpl(
        &scene,
        &font,
        &ZplOptions {
            resident_font_for_ascii: true,
            printer_cjk_font: None,
        },
    );
    assert!(!zpl.contains("^FH^FDA^FS"));
    assert_eq!(
        zpl.matches("^GFA").count(),
        2,
        "only the facility name and the piece caption"
    );
    assert!(!zpl.contains("=%"));
}

#[test]
fn a_label_set_previews_each_piece_on_its_own_stock_in_order() {
    let tube = LabelContent::blank(
        Din::parse("G1234 26 012345").unwrap(),
        LabelPiece::new(LabelKind::Tube, 1),
        "广州血液中心_^~",
    );
    let svgs = lifebridge_print::svg::label_set_svgs(&[bag(None), tube]).unwrap();
    assert_eq!(svgs.len(), 2);
    assert!(svgs[0].contains("width=\"100mm\""), "a bag on bag stock");
    assert!(svgs[0].contains("data-code128=\"=G12342601234501\""));
    assert!(svgs[1].contains("width=\"50mm\""), "a tube on tube stock");
    assert!(svgs[1].contains("data-code128=\"=G12342601234507\""));
    assert!(
        svgs.iter()
            .all(|s| s.contains("aria-label=\"广州血液中心_^~\""))
    );
}

#[test]
fn svg_is_self_contained_and_pdf_has_one_page_per_label() {
    let font = LabelFont::embedded().unwrap();
    let scene = layout(&bag(None), LabelSize::BAG, 300, &font).unwrap();
    let svg = render_svg(&scene, &font);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100mm\""));
    assert!(svg.contains("data-code128=\"=G12342601234501\""));
    assert!(svg.contains("aria-label=\"广州血液中心_^~\""));
    assert!(!svg.contains("<text"), "text is outlines, no font needed");

    let pdf = render_pdf(&scene, &font, "label");
    assert!(pdf.starts_with(b"%PDF-"));
    let mut b = PdfBuilder::new(&font, "roll");
    for _ in 0..3 {
        b.add(&scene);
    }
    assert_eq!(b.page_count(), 3);
    let roll = b.finish();
    let text = String::from_utf8_lossy(&roll);
    assert!(text.contains("/Count 3"));
    assert!(text.contains("/FlateDecode"));
    assert!(
        text.contains("/MediaBox [0 0 283.46457 141.73228]"),
        "100x50 mm in points"
    );
}

#[test]
fn the_embedded_font_covers_facility_names_and_captions() {
    let font = LabelFont::embedded().unwrap();
    assert!(
        font.covers(
            "深圳市血液中心 广州 北京 成都 采集 失效 主袋 转移袋 标本管 献血记录单 阳性 阴性"
        )
    );
    assert!(font.text_width_mm("血站", 3.0) > 5.0);
    let missing = LabelFont::from_file(std::path::Path::new("/nonexistent.ttf")).unwrap_err();
    assert!(missing.to_string().contains("/nonexistent.ttf"));
}

/// The PDF drawn by an independent renderer (poppler's pdftoppm, when installed) reads
/// back like the PNG: symbols intact, glyph XObjects placed.
#[test]
fn pdf_rasterised_by_poppler_reads_back() {
    let Ok(status) = std::process::Command::new("pdftoppm").arg("-v").output() else {
        eprintln!("pdftoppm not installed: PDF not rasterised");
        return;
    };
    assert!(status.status.success() || !status.stderr.is_empty());
    let font = LabelFont::embedded().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut b = PdfBuilder::new(&font, "roll");
    let contents: Vec<LabelContent> = [
        LabelPiece::new(LabelKind::Bag, 1),
        LabelPiece::new(LabelKind::Tube, 2),
    ]
    .into_iter()
    .map(|piece| {
        let mut c = bag(Some(AboRh::APos));
        c.piece = piece;
        c
    })
    .collect();
    for c in &contents {
        b.add(&layout(c, LabelSize::for_kind(c.piece.kind), 300, &font).unwrap());
    }
    let pdf = dir.path().join("roll.pdf");
    std::fs::write(&pdf, b.finish()).unwrap();
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "300", "-gray", "-png"])
        .arg(&pdf)
        .arg(dir.path().join("page"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (i, c) in contents.iter().enumerate() {
        let page = dir.path().join(format!("page-{}.png", i + 1));
        let img = image::open(&page).unwrap().to_luma8();
        let found = lifebridge_print::decode_frame(&img);
        let text = |s| {
            found
                .iter()
                .find(|d| d.symbology == s)
                .map(|d| d.text.clone())
        };
        assert_eq!(
            text(lifebridge_print::Symbology::Code128),
            Some(c.code128_data())
        );
        assert_eq!(
            text(lifebridge_print::Symbology::DataMatrix),
            Some(c.datamatrix_data())
        );
    }
}

#[test]
fn zpl_goes_to_a_network_printer_raw_port_unchanged() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let printer = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut conn, &mut got).unwrap();
        got
    });
    let font = LabelFont::embedded().unwrap();
    let scene = layout(&bag(None), LabelSize::BAG, 203, &font).unwrap();
    let zpl = render_zpl(&scene, &font, &ZplOptions::default());
    lifebridge_print::zpl::send_tcp(
        &format!("127.0.0.1:{port}"),
        zpl.as_bytes(),
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(printer.join().unwrap(), zpl.as_bytes());

    // Nothing listening: the error names the printer.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = closed.local_addr().unwrap();
    drop(closed);
    let err = lifebridge_print::zpl::send_tcp(
        &dead.to_string(),
        zpl.as_bytes(),
        std::time::Duration::from_secs(2),
    )
    .unwrap_err();
    assert!(err.to_string().contains(&dead.to_string()), "{err}");
}
