//! A donor's pre-fill QR as the tablet camera sees it, for the app's end-to-end test
//! (tests/e2e/prefill.test.mjs) and for training without a phone: the code made with
//! `lifebridge_protocol::prefill_code::encode`, drawn at about 30 % of a grey 1280×720
//! frame with mild blur and noise, written as a PNG; the code's text goes to stdout.
//!
//! `cargo run -p lifebridge-cli --example prefill_frame -- --out F.png --valid-on
//! 2026-12-05 --resident-id 11010519491231002X --name 张三 --answers '{"tattoo": true}'`

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Parser;
use image::{GrayImage, Luma};
use lifebridge_domain::resident_id::IdentityDocument;
use lifebridge_protocol::prefill_code::{self, Prefill};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    out: PathBuf,
    /// The day the code is for.
    #[arg(long)]
    valid_on: NaiveDate,
    #[arg(long)]
    resident_id: String,
    #[arg(long)]
    name: String,
    #[arg(long)]
    phone: Option<String>,
    /// `{question id: answer}` as the questionnaire contract defines answers.
    #[arg(long, default_value = "{}")]
    answers: String,
    #[arg(long, default_value = "GB18467-2011-Q1")]
    questionnaire: String,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let answers: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&args.answers).context("--answers is not a JSON object")?;
    let document = IdentityDocument::parse("resident_id", &args.resident_id, args.valid_on)
        .context("--resident-id")?;
    let code = prefill_code::encode(&Prefill {
        questionnaire_version: args.questionnaire,
        valid_on: args.valid_on,
        document,
        name: args.name,
        sex: None,
        birth_date: None,
        phone: args.phone,
        answers,
    });
    camera_frame(&code)?
        .save(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("{code}");
    Ok(())
}

/// The code on a phone screen in a 1280×720 camera frame: a light screen on a darker,
/// uneven background, the symbol about 30 % of the frame's height, a 3×3 blur and a
/// little noise (deterministic, so a failing run can be repeated).
fn camera_frame(code: &str) -> Result<GrayImage> {
    let m = lifebridge_print::symbols::qr_matrix(code)?;
    let (w, h) = (1280u32, 720u32);
    let quiet = 4u32;
    let modules = m.width as u32 + 2 * quiet;
    let scale = ((h * 3 / 10) / modules).max(2);
    let side = modules * scale;
    let (x0, y0) = ((w - side) / 2 + 90, (h - side) / 2 - 40);
    let mut frame = GrayImage::from_fn(w, h, |x, y| Luma([(110 + (x / 16 + y / 24) % 40) as u8]));
    // The phone's screen around the code.
    for y in y0.saturating_sub(60)..(y0 + side + 90).min(h) {
        for x in x0.saturating_sub(30)..(x0 + side + 30).min(w) {
            frame.put_pixel(x, y, Luma([228]));
        }
    }
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = ((x / scale) as i64 - 4, (y / scale) as i64 - 4);
            let width = m.width as i64;
            let inside = (0..width).contains(&mx) && (0..width).contains(&my);
            let dark = inside && m.modules[(my * width + mx) as usize];
            frame.put_pixel(x0 + x, y0 + y, Luma([if dark { 30 } else { 232 }]));
        }
    }
    let blurred = GrayImage::from_fn(w, h, |x, y| {
        let mut sum = 0u32;
        for dy in 0..3 {
            for dx in 0..3 {
                let (sx, sy) = (
                    (x + dx).saturating_sub(1).min(w - 1),
                    (y + dy).saturating_sub(1).min(h - 1),
                );
                sum += u32::from(frame.get_pixel(sx, sy).0[0]);
            }
        }
        Luma([(sum / 9) as u8])
    });
    let mut seed = 0x2545_f491_u32;
    Ok(GrayImage::from_fn(w, h, |x, y| {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let noise = (seed >> 24) as i32 % 13 - 6;
        let v = i32::from(blurred.get_pixel(x, y).0[0]) + noise;
        Luma([v.clamp(0, 255) as u8])
    }))
}
