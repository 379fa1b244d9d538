//! `lifebridge label render` and `lifebridge label roll`.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use lifebridge_labels::{Symbology, decode_frame};

fn lifebridge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lifebridge"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn render(dir: &Path, kind: &str, format: &str, extra: &[&str]) -> (Output, std::path::PathBuf) {
    let out = dir.join(format!("{kind}.{format}"));
    let mut args = vec![
        "label",
        "render",
        "--din",
        "G1234 26 012345",
        "--kind",
        kind,
        "--format",
        format,
        "--out",
        out.to_str().unwrap(),
        "--facility-name",
        "深圳市血液中心",
    ];
    args.extend_from_slice(extra);
    (lifebridge(&args), out)
}

#[test]
fn render_writes_a_png_at_300_dpi_whose_symbols_read_back() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, flags, width) in [
        ("bag", "01", 1181),
        ("satellite", "02", 1181),
        ("tube", "T1", 591),
        ("record", "R1", 1181),
    ] {
        let (o, out) = render(dir.path(), kind, "png", &[]);
        assert!(o.status.success(), "{}", stderr(&o));
        let img = image::open(&out).unwrap().to_luma8();
        assert_eq!(img.width(), width, "{kind}: 100 or 50 mm at 300 dpi");
        let found = decode_frame(&img);
        let code128 = found
            .iter()
            .find(|d| d.symbology == Symbology::Code128)
            .unwrap();
        assert_eq!(code128.text, format!("=G123426012345{flags}"));
        assert!(found.iter().any(|d| d.symbology == Symbology::Qr));
    }
    let (o, out) = render(dir.path(), "tube", "png", &["--dpi", "203", "--piece", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let img = image::open(&out).unwrap().to_luma8();
    assert_eq!(img.width(), 400);
    let found = decode_frame(&img);
    assert!(
        found.iter().any(|d| d.text == "=G123426012345T2"),
        "{found:?}"
    );
}

#[test]
fn render_writes_svg_pdf_and_zpl() {
    let dir = tempfile::tempdir().unwrap();
    let (o, out) = render(dir.path(), "bag", "svg", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(out).unwrap().starts_with("<svg"));
    let (o, out) = render(dir.path(), "bag", "pdf", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read(out).unwrap().starts_with(b"%PDF-"));
    let (o, out) = render(dir.path(), "record", "zpl", &["--size", "80x40"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let zpl = std::fs::read_to_string(out).unwrap();
    assert!(zpl.starts_with("^XA\n^CI28\n^PW945\n^LL472\n"), "{zpl}");
    assert!(zpl.contains("^FD=G123426012345R1^FS"));
}

#[test]
fn render_refuses_bad_input_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.png");
    let o = lifebridge(&[
        "label",
        "render",
        "--din",
        "G1234 26 012345 X",
        "--kind",
        "bag",
        "--format",
        "png",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.starts_with("lifebridge: invalid DIN"), "{e}");
    assert!(e.contains("check character mismatch"), "{e}");
    assert!(!out.exists());

    let (o, _) = render(dir.path(), "satellite", "png", &["--piece", "5"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--piece 5 is not a satellite bag 5"),
        "{}",
        stderr(&o)
    );

    let (o, _) = render(dir.path(), "bag", "png", &["--dpi", "50"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("allowed 100-1200"), "{}", stderr(&o));

    let (o, _) = render(dir.path(), "bag", "png", &["--send", "127.0.0.1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--send goes with --format zpl"));
}

#[test]
fn zpl_can_be_sent_to_a_device_file() {
    let dir = tempfile::tempdir().unwrap();
    let device = dir.path().join("lp0");
    let (o, out) = render(
        dir.path(),
        "tube",
        "zpl",
        &["--send", device.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(device).unwrap(), std::fs::read(out).unwrap());
}

#[test]
fn roll_renders_every_label_of_every_set_in_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("roll.pdf");
    let o = lifebridge(&[
        "label",
        "roll",
        "--facility",
        "G1234",
        "--year",
        "26",
        "--from",
        "100",
        "--count",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Quadruple set: 4 bags, 2 tubes, the record sheet = 7 labels per DIN.
    assert_eq!(
        String::from_utf8(o.stdout).unwrap().trim(),
        format!(
            "21 labels for 3 DINs (7 per set) written to {}",
            out.display()
        )
    );
    let pdf = std::fs::read(&out).unwrap();
    assert!(String::from_utf8_lossy(&pdf).contains("/Count 21"));

    let o = lifebridge(&[
        "label",
        "roll",
        "--facility",
        "G1234",
        "--year",
        "26",
        "--from",
        "999999",
        "--count",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "single",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("runs past the last sequence number"),
        "{}",
        stderr(&o)
    );

    let o = lifebridge(&[
        "label",
        "roll",
        "--facility",
        "O1234",
        "--year",
        "26",
        "--from",
        "1",
        "--count",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("letter O and digit 0 are never used"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_bag_label_carries_the_product_code_in_its_qr_and_a_bad_code_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (o, out) = render(dir.path(), "bag", "png", &["--product", "E0398V00"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let img = image::open(&out).unwrap().to_luma8();
    let qr = decode_frame(&img)
        .into_iter()
        .find(|d| d.symbology == Symbology::Qr)
        .unwrap();
    assert!(qr.text.starts_with("=G123426012345"), "{}", qr.text);
    assert!(qr.text.contains("=<E0398V00"), "{}", qr.text);

    let (o, _) = render(dir.path(), "bag", "png", &["--product", "E03"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("8 characters"), "{}", stderr(&o));
}
