//! Figures for docs/benchmarks.md: time to render a donation's full label set to PNG,
//! PDF and ZPL, and to decode a Data Matrix and a Code 128 from a 1280x720 camera frame.
//!
//! `cargo run --release -p lifebridge-print --bin label-bench -- [RUNS] [SAMPLE_DIR]`

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use image::{GrayImage, Luma};
use lifebridge_domain::din::Din;
use lifebridge_domain::entities::{AboRh, BagSetKind};
use lifebridge_domain::labels::{LabelContent, ProductCode, label_set};
use lifebridge_print::pdf::PdfBuilder;
use lifebridge_print::png::{rasterize, render_png};
use lifebridge_print::zpl::{ZplOptions, render_zpl};
use lifebridge_print::{LabelFont, LabelSize, Symbology, decode_frame, layout};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm-up: first-touch allocations and font tables
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(50);
    let samples = args.next();
    let font = LabelFont::embedded()?;
    let din = Din::parse("G1234 26 012345")?;
    let set = label_set(BagSetKind::Triple, 2)?;
    let contents: Vec<LabelContent> = set
        .iter()
        .map(|piece| LabelContent {
            din: din.clone(),
            piece: *piece,
            facility_name: "深圳市血液中心 流动采血车".into(),
            abo_rh: Some(AboRh::APos),
            collected_at: NaiveDate::from_ymd_opt(2026, 11, 25)
                .and_then(|d| d.and_hms_opt(10, 42, 0)),
            volume_ml: Some(400),
            product: ProductCode::new("E0398", 'V', "00").ok(),
            expiry: NaiveDate::from_ymd_opt(2026, 12, 30).and_then(|d| d.and_hms_opt(23, 59, 0)),
        })
        .collect();
    let scenes = |dpi| {
        contents
            .iter()
            .map(|c| layout(c, LabelSize::for_kind(c.piece.kind), dpi, &font))
            .collect::<Result<Vec<_>, _>>()
    };
    let png = time(runs, || {
        for c in &contents {
            if let Ok(scene) = layout(c, LabelSize::for_kind(c.piece.kind), 300, &font) {
                let _ = render_png(&scene, &font);
            }
        }
    });
    let pdf = time(runs, || {
        let mut b = PdfBuilder::new(&font, "set");
        for c in &contents {
            if let Ok(scene) = layout(c, LabelSize::for_kind(c.piece.kind), 300, &font) {
                b.add(&scene);
            }
        }
        let _ = b.finish();
    });
    let zpl = time(runs, || {
        for c in &contents {
            if let Ok(scene) = layout(c, LabelSize::for_kind(c.piece.kind), 203, &font) {
                let _ = render_zpl(&scene, &font, &ZplOptions::default());
            }
        }
    });

    // A camera frame: the bag label filling most of a 1280x720 frame on a grey desk,
    // slightly soft.
    let bag = scenes(300)?.into_iter().next().ok_or("empty set")?;
    let label = rasterize(&bag, &font);
    let scaled = image::imageops::resize(&label, 1100, 550, image::imageops::FilterType::Triangle);
    let mut frame = GrayImage::from_pixel(1280, 720, Luma([140]));
    image::imageops::overlay(&mut frame, &scaled, 90, 85);
    let frame = image::imageops::blur(&frame, 0.8);
    let found = decode_frame(&frame);
    let ok = |s| found.iter().any(|d| d.symbology == s);
    if !ok(Symbology::DataMatrix) || !ok(Symbology::Code128) {
        return Err(format!("bench frame not decodable: {found:?}").into());
    }
    let (w, h) = frame.dimensions();
    let dm = time(runs, || {
        let _ = rxing::helpers::detect_in_luma_slice(
            frame.as_raw(),
            w,
            h,
            Some(rxing::BarcodeFormat::DATA_MATRIX),
        );
    });
    let c128 = time(runs, || {
        let _ = rxing::helpers::detect_in_luma_slice(
            frame.as_raw(),
            w,
            h,
            Some(rxing::BarcodeFormat::CODE_128),
        );
    });
    let both = time(runs, || {
        let _ = decode_frame(&frame);
    });

    println!(
        "label set: triple bag set = {} labels (3 bags, 2 tubes, record); median of {runs} runs",
        contents.len()
    );
    println!("| what | median |");
    println!("| --- | --- |");
    println!("| full set to PNG, 300 dpi | {} |", ms(png));
    println!("| full set to PDF (one page per label) | {} |", ms(pdf));
    println!("| full set to ZPL, 203 dpi | {} |", ms(zpl));
    println!("| decode Data Matrix from a 1280x720 frame | {} |", ms(dm));
    println!("| decode Code 128 from a 1280x720 frame | {} |", ms(c128));
    println!("| decode all symbologies (decode_frame) | {} |", ms(both));

    if let Some(dir) = samples {
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir)?;
        for (c, scene) in contents.iter().zip(scenes(300)?) {
            let name = format!("{}-{}.png", c.piece.flags(), c.din.as_str());
            std::fs::write(dir.join(name), render_png(&scene, &font)?)?;
        }
        frame.save(dir.join("frame-1280x720.png"))?;
    }
    Ok(())
}
