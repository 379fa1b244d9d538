//! `lifebridge label render`, `lifebridge label roll` and `lifebridge label read`.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use lifebridge_print::{Symbology, decode_frame};

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
        ("tube", "07", 591),
        ("record", "08", 1181),
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
        assert!(found.iter().any(|d| d.symbology == Symbology::DataMatrix));
        assert!(!found.iter().any(|d| d.symbology == Symbology::Qr));
    }
    let (o, out) = render(dir.path(), "tube", "png", &["--dpi", "203", "--piece", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let img = image::open(&out).unwrap().to_luma8();
    assert_eq!(img.width(), 400);
    let found = decode_frame(&img);
    assert!(
        found.iter().any(|d| d.text == "=G12342601234509"),
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
    assert!(zpl.contains("^FD=G12342601234508^FS"));
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
    assert!(e.contains("check character 'X' does not match"), "{e}");
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
fn a_bag_label_carries_the_product_code_in_its_datamatrix_and_a_bad_code_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (o, out) = render(dir.path(), "bag", "png", &["--product", "E0398V00"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let img = image::open(&out).unwrap().to_luma8();
    let qr = decode_frame(&img)
        .into_iter()
        .find(|d| d.symbology == Symbology::DataMatrix)
        .unwrap();
    // Two structures (DIN, product): the compound message header counts them.
    assert!(qr.text.starts_with("=+02000=G123426012345"), "{}", qr.text);
    assert!(qr.text.contains("=<E0398V00"), "{}", qr.text);

    let (o, _) = render(dir.path(), "bag", "png", &["--product", "E03"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("8 characters"), "{}", stderr(&o));
}

fn read(args: &[&str]) -> (Output, serde_json::Value) {
    let mut all = vec!["label", "read"];
    all.extend_from_slice(args);
    let o = lifebridge(&all);
    let json = if o.status.success() {
        serde_json::from_slice(&o.stdout).unwrap()
    } else {
        serde_json::Value::Null
    };
    (o, json)
}

#[test]
fn label_read_prints_each_data_structure_and_whether_it_verifies_a_piece() {
    // A scan of the NAT tube's Code 128, as a scanner sends it.
    let (o, j) = read(&["--lang", "en", "]C0=G12349865432109\r\n"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(j["method"], "scanned");
    assert_eq!(j["symbology"], "]C0");
    assert_eq!(j["din"], "G123498654321");
    assert_eq!(j["flags"], "09");
    assert_eq!(j["flag"]["kind"]["type"], "nat_tube");
    assert!(
        j["flag"]["meaning"]
            .as_str()
            .unwrap()
            .contains("NAT sample tube")
    );
    assert_eq!(j["piece"]["kind"], "tube");
    assert_eq!(j["piece"]["piece"], 2);
    assert_eq!(j["piece_name"], "sample tube 2");
    // The names come from the message catalogue, zh-CN when asked (and by default).
    let (o_zh, zh) = read(&["--lang", "zh-CN", "]C0=G12349865432109"]);
    assert!(o_zh.status.success(), "{}", stderr(&o_zh));
    assert_eq!(zh["flag"]["meaning"], "核酸检测标本管");
    assert_eq!(zh["piece_name"], "标本管 2");
    assert_eq!(j["verifies_piece"], true);
    assert_eq!(j["check_character_verified"], false);
    assert_eq!(j["structures"][0]["data_identifier"], "=");

    // Full-width (Chinese IME) scanner output is folded, not refused.
    let (o, j) = read(&["］Ｃ０＝Ｇ１２３４９８６５４３２１０８"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(j["flag"]["kind"]["type"], "donor_record");

    // A bag's Data Matrix: compound header, collection time, product, a special
    // message that means stop, expiry date and time.
    let (o, j) = read(&["]d1=+05000=G12349865432101&*0260320930=<E0398V00=%Mq00&>0260672359"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ids: Vec<&str> = j["structures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["data_identifier"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["=+", "=", "&*", "=<", "=%", "&>"]);
    assert_eq!(j["stop"]["code"], "Mq");
    assert!(j["stop"]["meaning"].as_str().unwrap().starts_with("STOP"));

    // Flags 60 + check value: the check is verified against the DIN.
    let (o, j) = read(&["=G12349865432177"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(j["method"], "unprefixed");
    assert_eq!(j["check_character_verified"], true);
    assert_eq!(j["verifies_piece"], false);

    // Typed, with its check character: read, but it verifies no piece.
    for args in [
        &["--typed", "G1234 98 654321 H"][..],
        &["g1234-98-654321-h"][..],
    ] {
        let (o, j) = read(args);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(j["method"], "typed");
        assert_eq!(j["check_character_verified"], true);
        assert_eq!(j["verifies_piece"], false);
        assert_eq!(j["flags"], serde_json::Value::Null);
    }
}

#[test]
fn label_read_exits_1_with_the_reason_for_anything_invalid() {
    for (args, reason) in [
        (
            &["--typed", "G1234 98 654321"][..],
            "without its check character",
        ),
        (&["G123498654321"][..], "without its check character"),
        (&["--typed", "G1234 98 654321 J"][..], "does not match"),
        (
            &["--typed", "=G12349865432101"][..],
            "read only from a scanner",
        ),
        (&["]C0=G123498654321T1"][..], "\"T1\" is reserved"),
        (&["]C0=G123498654321R1"][..], "\"R1\" is reserved"),
        (&["]C0=G12349865432197"][..], "\"97\" is reserved"),
        (&["]C0=G12349865432178"][..], "misread or misprinted"),
        (
            &["]d1=+03000=G12349865432101"][..],
            "announces 3 data structures but 1 follow",
        ),
        (&["]C0=%5100"][..], "this symbol holds other data"),
        (&["]C0BOX-R1"][..], "not an ISBT 128 label"),
        (&["GO234 98 654321 H"][..], "never the letter O"),
        (&[""][..], "nothing was scanned"),
    ] {
        let (o, _) = read(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains(reason), "{args:?}: {err}");
    }
}
