//! Labels rendered to PNG and read by decoders that share no code with ours: libdmtx's
//! `dmtxread` (Debian `dmtx-utils`) for the Data Matrix, zbar's `zbarimg` (`zbar-tools`)
//! for the Code 128. Both come with `scripts/install-deps.sh`; without them the test says
//! so and passes, unless `CI` is set, where a missing decoder fails it.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use lifebridge_domain::din::{Din, DinFlag};
use lifebridge_domain::entities::{AboRh, BagSetKind};
use lifebridge_domain::label_piece::LabelKind;
use lifebridge_domain::labels::{
    DataStructure, EntryMethod, LabelContent, ProductCode, label_set, parse_scan, read_entry,
};
use lifebridge_print::png::render_png;
use lifebridge_print::{LabelFont, LabelSize, layout};

fn tool(name: &str) -> bool {
    let found = Command::new(name).arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is not installed (scripts/install-deps.sh installs it)"
        );
        eprintln!("{name} not installed: this decoder is not tried");
    }
    found
}

fn run(program: &str, args: &[&str], png: &Path) -> String {
    let out = Command::new(program).args(args).arg(png).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {} failed: {}",
        png.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn every_piece_decodes_with_libdmtx_and_zbar_to_its_isbt128_structures() {
    let (dmtx, zbar) = (tool("dmtxread"), tool("zbarimg"));
    if !dmtx && !zbar {
        return;
    }
    let font = LabelFont::embedded().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let din = Din::parse("Z9999 26 000003").unwrap();
    // A quadruple set with four tubes: every flag kind (containers, test tube, NAT
    // tube, locally defined tubes, donor record).
    let set = label_set(BagSetKind::Quadruple, 4).unwrap();
    let mut flags_seen = Vec::new();
    for dpi in [300, 203] {
        for piece in &set {
            let c = LabelContent {
                din: din.clone(),
                piece: *piece,
                facility_name: "示范血站".into(),
                abo_rh: Some(AboRh::BPos),
                collected_at: NaiveDate::from_ymd_opt(2026, 11, 25)
                    .unwrap()
                    .and_hms_opt(9, 5, 0),
                volume_ml: Some(400),
                product: Some(ProductCode::new("E0398", 'V', "00").unwrap()),
                expiry: NaiveDate::from_ymd_opt(2026, 12, 30)
                    .unwrap()
                    .and_hms_opt(23, 59, 0),
            };
            let scene = layout(&c, LabelSize::for_kind(piece.kind), dpi, &font).unwrap();
            let png = dir.path().join(format!("{}-{dpi}.png", piece.flags()));
            std::fs::write(&png, render_png(&scene, &font).unwrap()).unwrap();

            if dmtx {
                let text = run("dmtxread", &["-N1"], &png);
                assert_eq!(text, c.datamatrix_data(), "{piece} at {dpi} dpi");
                let structures = parse_scan(&text).unwrap();
                let bag = matches!(piece.kind, LabelKind::Bag | LabelKind::Satellite);
                if bag {
                    // Several structures: the compound message header counts them.
                    assert_eq!(
                        structures[0],
                        DataStructure::Compound {
                            count: 5,
                            reference: 0
                        },
                        "{piece}"
                    );
                    assert!(structures.contains(&DataStructure::ExpiryTime(c.expiry.unwrap())));
                    assert!(structures.contains(&DataStructure::AboRh {
                        group: AboRh::BPos,
                        rest: "00".into()
                    }));
                } else {
                    assert_eq!(structures, vec![c.din_structure()], "{piece}");
                }
                // Read as a scanner would send it (Data Matrix ECC 200: `]d1`), it is a
                // scan of exactly this piece.
                let entry = read_entry(&format!("]d1{text}")).unwrap();
                assert_eq!(entry.method, EntryMethod::Scanned);
                assert_eq!(entry.din, din);
                assert_eq!(entry.piece, Some(*piece), "{piece}");
            }
            if zbar {
                let text = run(
                    "zbarimg",
                    &["--raw", "-q", "-Sdisable", "-Scode128.enable"],
                    &png,
                );
                assert_eq!(text, c.code128_data(), "{piece} at {dpi} dpi");
                let entry = read_entry(&format!("]C0{text}")).unwrap();
                assert_eq!(entry.piece, Some(*piece), "{piece}");
                let flag = entry.flag.unwrap();
                assert!(
                    !matches!(flag, DinFlag::NotUsed | DinFlag::CheckValue { .. }),
                    "{piece}"
                );
                flags_seen.push(entry.flags.unwrap());
            }
        }
    }
    if zbar {
        flags_seen.truncate(set.len());
        assert_eq!(
            flags_seen,
            ["01", "02", "03", "04", "07", "09", "23", "24", "08"]
        );
    }
}
