//! The donor's pre-fill QR (docs/prefill.md): how large the code is for the built-in
//! questionnaire with every question and every follow-up answered, and how long the
//! tablet takes to read it from a 1280×720 camera frame, beside a bag label's DIN
//! Code 128 read from a frame in the same run (the scan the chair already does).
//!
//! `cargo run -p lifebridge-bench --bin lifebridge-prefill-bench -- [--runs 50] [--frames DIR]`

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::Parser;
use image::{GrayImage, Luma};
use lifebridge_domain::din::Din;
use lifebridge_domain::entities::{AboRh, BagSetKind};
use lifebridge_domain::labels::{LabelContent, ProductCode, label_set};
use lifebridge_domain::resident_id::IdentityDocument;
use lifebridge_print::png::rasterize;
use lifebridge_print::symbols::qr_matrix;
use lifebridge_print::{LabelFont, LabelSize, Symbology, decode_frame, layout};
use lifebridge_protocol::prefill_code::{self, Prefill};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "Lifebridge pre-fill QR: size and decode time")]
struct Args {
    /// Decodes to time (p50 and p99 are reported).
    #[arg(long, default_value_t = 50)]
    runs: usize,
    /// Save the two camera frames here as PNG.
    #[arg(long)]
    frames: Option<std::path::PathBuf>,
}

/// A realistic free-text answer at its longest: 40 Chinese characters.
const LONG_TEXT: &str =
    "高血压，每天早上服用硝苯地平缓释片一片，已服用三年，血压控制在一百三十左右，无其他不适";

/// Every question of `questionnaire` answered as the largest realistic code would be:
/// "yes" everywhere (so every follow-up applies), the option whose id is longest, a date
/// as "how long ago" in months (its longer form), a number at its maximum, text at 40
/// Chinese characters. A woman, so the questions for women apply too.
fn answer_everything(questionnaire: &Value) -> BTreeMap<String, Value> {
    let mut answers = BTreeMap::new();
    let sections = questionnaire["sections"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for q in sections
        .iter()
        .flat_map(|s| s["questions"].as_array().cloned().unwrap_or_default())
    {
        let id = q["id"].as_str().unwrap_or_default().to_owned();
        let answer = match q["type"].as_str().unwrap_or_default() {
            "yes_no" => json!(true),
            "choice" => q["options"]
                .as_array()
                .and_then(|o| {
                    o.iter()
                        .filter_map(|o| o["id"].as_str())
                        .max_by_key(|s| s.len())
                })
                .map_or(Value::Null, |s| json!(s)),
            "date" => json!({"ago": 11, "unit": "months"}),
            "number" => q["max"].clone(),
            "text" => {
                let max = q["max_length"].as_u64().unwrap_or(40) as usize;
                json!(LONG_TEXT.chars().take(max).collect::<String>())
            }
            _ => Value::Null,
        };
        answers.insert(id, answer);
    }
    answers
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples.get(i).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// p50 and p99 of `runs` calls of `f`.
fn time(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    f();
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    (
        percentile(&mut samples, 0.5),
        percentile(&mut samples, 0.99),
    )
}

/// A grey 1280×720 frame with `symbol` (dark = true) drawn at `scale` pixels a module,
/// centred, on white with a quiet zone, and softened like a phone camera's picture.
fn frame(modules: &[bool], width: usize, height: usize, scale: u32, quiet: u32) -> GrayImage {
    let mut f = GrayImage::from_pixel(1280, 720, Luma([140]));
    let (w, h) = (
        (width as u32 + 2 * quiet) * scale,
        (height as u32 + if height == 1 { 0 } else { 2 * quiet }) * scale,
    );
    let (x0, y0) = ((1280 - w.min(1280)) / 2, (720 - h.min(720)) / 2);
    for y in 0..h.min(720) {
        for x in 0..w.min(1280) {
            let (mx, my) = (
                (x / scale) as i64 - quiet as i64,
                if height == 1 {
                    0
                } else {
                    (y / scale) as i64 - quiet as i64
                },
            );
            let inside = (0..width as i64).contains(&mx) && (0..height as i64).contains(&my);
            let dark = inside && modules[my as usize * width + mx as usize];
            f.put_pixel(x0 + x, y0 + y, Luma([if dark { 25 } else { 235 }]));
        }
    }
    image::imageops::blur(&f, 0.8)
}

/// The bag label of a triple set, filling most of a 1280×720 frame on a grey desk and
/// slightly soft: the frame crates/print's label benchmark decodes.
fn label_frame() -> Result<GrayImage> {
    let font = LabelFont::embedded()?;
    let content = LabelContent {
        din: Din::parse("G1234 26 012345")?,
        piece: label_set(BagSetKind::Triple, 2)?
            .into_iter()
            .next()
            .context("empty label set")?,
        facility_name: "深圳市血液中心 流动采血车".into(),
        abo_rh: Some(AboRh::APos),
        collected_at: NaiveDate::from_ymd_opt(2026, 11, 25).and_then(|d| d.and_hms_opt(10, 42, 0)),
        volume_ml: Some(400),
        product: ProductCode::new("E0398", 'V', "00").ok(),
        expiry: NaiveDate::from_ymd_opt(2026, 12, 30).and_then(|d| d.and_hms_opt(23, 59, 0)),
    };
    let scene = layout(
        &content,
        LabelSize::for_kind(content.piece.kind),
        300,
        &font,
    )?;
    let label = rasterize(&scene, &font);
    let scaled = image::imageops::resize(&label, 1100, 550, image::imageops::FilterType::Triangle);
    let mut frame = GrayImage::from_pixel(1280, 720, Luma([140]));
    image::imageops::overlay(&mut frame, &scaled, 90, 85);
    Ok(image::imageops::blur(&frame, 0.8))
}

fn main() -> Result<()> {
    let args = Args::parse();
    let questionnaire: Value =
        serde_json::from_str(lifebridge_domain::questionnaire::BUILT_IN_JSON)
            .context("the built-in questionnaire")?;
    let today = NaiveDate::from_ymd_opt(2026, 12, 5).context("date")?;
    let answers = answer_everything(&questionnaire);
    let prefill = Prefill {
        questionnaire_version: questionnaire["version"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        valid_on: today,
        document: IdentityDocument::parse("resident_id", "11010519491231002X", today)?,
        name: "欧阳明月".into(),
        sex: None,
        birth_date: None,
        phone: Some("13800138000".into()),
        answers,
    };
    let json_bytes = serde_json::to_vec(&json!({
        "q": prefill.questionnaire_version, "d": today, "i": {"t": "resident_id", "n": "11010519491231002X", "m": prefill.name},
        "p": prefill.phone, "a": prefill.answers,
    }))?
    .len();
    let code = prefill_code::encode(&prefill);
    let deflated = (code.len() - prefill_code::PREFIX.len()) / 3 * 2
        + (code.len() - prefill_code::PREFIX.len()) % 3 / 2;
    let qr = qr_matrix(&code)?;
    let version = (qr.width - 17) / 4;
    println!(
        "pre-fill code, built-in questionnaire {} ({} questions, every one and every follow-up answered, text answers 40 Chinese characters)",
        prefill.questionnaire_version,
        prefill.answers.len()
    );
    println!("| what | figure |");
    println!("| --- | --- |");
    println!("| answers JSON (short keys, UTF-8) | {json_bytes} bytes |");
    println!("| raw DEFLATE | {deflated} bytes |");
    println!(
        "| code text `LBQ1:`+base45 | {} characters = {} bytes (all QR alphanumeric) |",
        code.chars().count(),
        code.len()
    );
    println!(
        "| QR at level M | version {version}, {0}×{0} modules |",
        qr.width
    );
    if version > 25 {
        bail!("the full code needs QR version {version}, above the target of 25");
    }

    // The phone's code in the middle of the frame at 4, 3 and 2 px a module (for a
    // version-20 symbol about 58 %, 44 % and 29 % of the frame's height).
    let mut frames = Vec::new();
    for scale in [4u32, 3, 2] {
        let f = frame(&qr.modules, qr.width, qr.width, scale, 4);
        let found = decode_frame(&f);
        let read = match found.iter().find(|d| d.symbology == Symbology::Qr) {
            Some(d) => prefill_code::decode(&d.text, today)?,
            None => bail!("the pre-fill frame at {scale} px a module does not decode"),
        };
        // The number carries sex and birth date, so the read pre-fill has them too.
        if read.answers != prefill.answers || read.document != prefill.document {
            bail!("the pre-fill frame decodes to something else");
        }
        frames.push((scale, f));
    }
    let label_frame = label_frame()?;
    if !decode_frame(&label_frame)
        .iter()
        .any(|d| d.symbology == Symbology::Code128)
    {
        bail!("the label frame does not decode");
    }
    let detect = |f: &GrayImage, format| {
        rxing::helpers::detect_in_luma_slice(f.as_raw(), f.width(), f.height(), Some(format)).ok()
    };
    println!();
    println!("decode from a 1280×720 frame, {} runs", args.runs);
    println!("| what | p50 | p99 |");
    println!("| --- | --- | --- |");
    for (scale, f) in &frames {
        let share = (qr.width as u32 + 8) * scale * 100 / 720;
        let (p50, p99) = time(args.runs, || {
            if let Some(r) = detect(f, rxing::BarcodeFormat::QR_CODE) {
                let _ = prefill_code::decode(r.getText(), today);
            }
        });
        println!(
            "| pre-fill QR read and decoded, {scale} px a module ({share} % of the height) | {} | {} |",
            ms(p50),
            ms(p99)
        );
    }
    let (all50, all99) = time(args.runs, || {
        let _ = decode_frame(&frames[0].1);
    });
    println!(
        "| pre-fill frame (4 px) through decode_frame, all symbologies | {} | {} |",
        ms(all50),
        ms(all99)
    );
    let (code50, code99) = time(args.runs, || {
        let _ = prefill_code::decode(&code, today);
    });
    println!(
        "| prefill_code::decode of the text alone | {} | {} |",
        ms(code50),
        ms(code99)
    );
    let (c50, c99) = time(args.runs, || {
        let _ = detect(&label_frame, rxing::BarcodeFormat::CODE_128);
    });
    println!(
        "| baseline: bag label's DIN Code 128 (the label filling the frame) | {} | {} |",
        ms(c50),
        ms(c99)
    );
    if let Some(dir) = args.frames {
        std::fs::create_dir_all(&dir)?;
        for (scale, f) in &frames {
            f.save(dir.join(format!("prefill-frame-{scale}px-1280x720.png")))?;
        }
        label_frame.save(dir.join("din-code128-frame-1280x720.png"))?;
    }
    Ok(())
}
