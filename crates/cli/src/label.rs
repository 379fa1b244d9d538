//! `lifebridge label`: render one label, or the label sets of a DIN range (a roll that
//! a station pre-prints for a bus), or read a scan or typed entry the way every scan
//! field does (`label read`, for a blood establishment's scripted validation).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use lifebridge_domain::din::{Din, FacilityId};
use lifebridge_domain::entities::BagSetKind;
use lifebridge_domain::label_piece::{DEFAULT_TUBE_COUNT, LabelKind, LabelPiece, MAX_TUBE_COUNT};
use lifebridge_domain::labels::{LabelContent, label_set};
use lifebridge_domain::messages::Lang;
use lifebridge_print::pdf::PdfBuilder;
use lifebridge_print::zpl::{ZplOptions, render_zpl, send_tcp, send_to_device};
use lifebridge_print::{LabelFont, LabelSize, layout};

/// A roll larger than this is better split: the PDF is built in memory.
const MAX_ROLL: u32 = 20_000;

#[derive(Subcommand)]
pub enum LabelCommand {
    /// Read scanner output or a typed DIN as the app does and print its ISBT 128 data
    /// structure(s) as JSON; exit 1 with the reason on stderr when it is invalid.
    Read {
        /// The text typed by hand: the eye-readable DIN, whose check character is then
        /// required. Without it, TEXT is classified the way the scan field does: a
        /// symbology identifier (`]C0`, `]d1`) then data is a scan, data content alone
        /// is unprefixed, anything else is typed.
        #[arg(long)]
        typed: bool,
        /// Language of the flag's meaning and the piece's name; without it, English when
        /// the locale (LC_ALL, LC_MESSAGES or LANG) is English, zh-CN otherwise.
        #[arg(long, value_enum)]
        lang: Option<crate::LangArg>,
        /// What the scanner sent, e.g. `]C0=G12349865432101`, or `G1234 98 654321 H`.
        text: String,
    },
    /// Render one label of a DIN's set (PNG at 300 dpi unless --dpi says otherwise).
    Render {
        /// The DIN, typed (`G1234 26 012345 H`) or scanned (`=G12342601234500`).
        #[arg(long)]
        din: String,
        #[arg(long, value_enum)]
        kind: KindArg,
        #[arg(long, value_enum)]
        format: FormatArg,
        #[arg(long)]
        out: PathBuf,
        /// Which piece: satellite bag 2-4 (default 2), sample tube 1-9 (default 1).
        #[arg(long)]
        piece: Option<u8>,
        /// Send the ZPL to a printer as well: HOST[:PORT] (raw port 9100) or a device
        /// file such as /dev/usb/lp0.
        #[arg(long)]
        send: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Render the full label sets of a DIN range into one PDF, one label per page.
    Roll {
        /// Facility identification number (5 characters).
        #[arg(long)]
        facility: String,
        /// Nominal year, two digits.
        #[arg(long)]
        year: u8,
        /// First sequence number.
        #[arg(long)]
        from: u32,
        /// How many DINs.
        #[arg(long)]
        count: u32,
        #[arg(long)]
        out: PathBuf,
        /// Bag set each DIN's labels are for; pre-printed rolls default to the largest.
        #[arg(long, value_enum, default_value_t = SetArg::Quadruple)]
        set: SetArg,
        /// Sample tubes per donation.
        #[arg(long, default_value_t = DEFAULT_TUBE_COUNT)]
        tubes: u8,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Args)]
pub struct Common {
    /// Printer resolution in dots per inch: PNG pixels, symbol module alignment.
    #[arg(long, default_value_t = 300)]
    dpi: u32,
    /// Facility name printed top left (defaults to the facility identification number).
    #[arg(long)]
    facility_name: Option<String>,
    /// A TrueType/OpenType font to use instead of the embedded GB 2312 subset.
    #[arg(long)]
    font: Option<PathBuf>,
    /// Label stock as WIDTHxHEIGHT in mm (default 100x50 for bags and the record
    /// sheet, 50x25 for tubes).
    #[arg(long)]
    size: Option<String>,
    /// ISBT 128 product code for bag labels, e.g. E0398V00 (description code, donation
    /// type, division); which codes a station uses is its reference data.
    #[arg(long)]
    product: Option<String>,
}

impl Common {
    fn product(&self) -> Result<Option<lifebridge_domain::labels::ProductCode>> {
        let Some(code) = self.product.as_deref().map(str::trim) else {
            return Ok(None);
        };
        let chars: Vec<char> = code.chars().collect();
        if chars.len() != 8 {
            bail!(
                "--product {code:?}: expected 8 characters, e.g. E0398V00 (5-character description code, donation type, 2-character division)"
            );
        }
        let description: String = chars[..5].iter().collect();
        let division: String = chars[6..].iter().collect();
        Ok(Some(
            lifebridge_domain::labels::ProductCode::new(&description, chars[5], &division)
                .with_context(|| format!("--product {code:?}"))?,
        ))
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum KindArg {
    Bag,
    Satellite,
    Tube,
    Record,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Png,
    Pdf,
    Svg,
    Zpl,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SetArg {
    Single,
    Double,
    Triple,
    Quadruple,
}

impl Common {
    fn font(&self) -> Result<LabelFont> {
        Ok(match &self.font {
            Some(path) => LabelFont::from_file(path)?,
            None => LabelFont::embedded()?,
        })
    }

    fn size(&self, kind: LabelKind) -> Result<LabelSize> {
        let Some(text) = &self.size else {
            return Ok(LabelSize::for_kind(kind));
        };
        let parsed = text
            .split_once(['x', 'X', '×'])
            .and_then(|(w, h)| Some((w.trim().parse().ok()?, h.trim().parse().ok()?)));
        let Some((w, h)) = parsed else {
            bail!("--size {text:?}: expected WIDTHxHEIGHT in millimetres, e.g. 100x50");
        };
        Ok(LabelSize::new(w, h)?)
    }
}

pub fn run(cmd: LabelCommand) -> Result<()> {
    match cmd {
        LabelCommand::Read { typed, lang, text } => read(&text, typed, crate::user_lang(lang)),
        LabelCommand::Render {
            din,
            kind,
            format,
            out,
            piece,
            send,
            common,
        } => render(&din, kind, format, &out, piece, send.as_deref(), &common),
        LabelCommand::Roll {
            facility,
            year,
            from,
            count,
            out,
            set,
            tubes,
            common,
        } => roll(&facility, year, from, count, &out, set, tubes, &common),
    }
}

/// `label read`: one JSON object on stdout; names in `lang`.
fn read(text: &str, typed: bool, lang: Lang) -> Result<()> {
    let entry = if typed {
        lifebridge_domain::labels::read_typed(text)
    } else {
        lifebridge_domain::labels::read_entry(text)
    }
    .with_context(|| format!("invalid label entry {text:?}"))?;
    let structures: Vec<serde_json::Value> = entry
        .structures
        .iter()
        .map(|s| {
            serde_json::json!({
                "data_identifier": s.identifier(),
                "data_content": s.data_content(),
                "value": s,
            })
        })
        .collect();
    let flag = entry.flag.map(|f| {
        serde_json::json!({
            "value": entry.flags,
            "meaning": f.meaning().render(lang),
            "kind": f,
        })
    });
    let out = serde_json::json!({
        "method": entry.method,
        "symbology": entry.symbology,
        "din": entry.din.as_str(),
        "check_character_verified": entry.check_character_verified,
        "flags": entry.flags,
        "flag": flag,
        "piece": entry.piece,
        "piece_name": entry.piece.map(|p| p.name().render(lang)),
        // Only a scan whose flag names the piece verifies that label at the chair.
        "verifies_piece": entry.scanned_piece().is_some(),
        "stop": entry.stop().map(|m| serde_json::json!({"code": m.code(), "meaning": m.meaning()})),
        "structures": structures,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

fn piece_for(kind: KindArg, piece: Option<u8>) -> Result<LabelPiece> {
    let (kind, default, range, allowed) = match kind {
        KindArg::Bag => (LabelKind::Bag, 1, 1..=1, "1"),
        // The largest bag set is a quadruple: satellites 2-4.
        KindArg::Satellite => (LabelKind::Satellite, 2, 2..=4, "2-4"),
        KindArg::Tube => (LabelKind::Tube, 1, 1..=MAX_TUBE_COUNT, "1-9"),
        KindArg::Record => (LabelKind::Record, 1, 1..=1, "1"),
    };
    let p = LabelPiece::new(kind, piece.unwrap_or(default));
    if !range.contains(&p.piece) || LabelPiece::from_flags(&p.flags()) != Some(p) {
        bail!("--piece {} is not a {}: allowed {allowed}", p.piece, p);
    }
    Ok(p)
}

fn write(out: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(out, bytes).with_context(|| format!("cannot write {}", out.display()))
}

fn render(
    din: &str,
    kind: KindArg,
    format: FormatArg,
    out: &Path,
    piece: Option<u8>,
    send: Option<&str>,
    common: &Common,
) -> Result<()> {
    let din = Din::parse(din).with_context(|| format!("invalid DIN {din:?}"))?;
    let piece = piece_for(kind, piece)?;
    if send.is_some() && format != FormatArg::Zpl {
        bail!("--send goes with --format zpl: label printers take ZPL");
    }
    let font = common.font()?;
    let name = common
        .facility_name
        .clone()
        .unwrap_or_else(|| din.facility().to_string());
    let mut content = LabelContent::blank(din, piece, &name);
    if matches!(piece.kind, LabelKind::Bag | LabelKind::Satellite) {
        content.product = common.product()?;
    }
    let scene = layout(&content, common.size(piece.kind)?, common.dpi, &font)?;
    match format {
        FormatArg::Png => write(out, &lifebridge_print::png::render_png(&scene, &font)?)?,
        FormatArg::Svg => write(
            out,
            lifebridge_print::svg::render_svg(&scene, &font).as_bytes(),
        )?,
        FormatArg::Pdf => write(
            out,
            &lifebridge_print::pdf::render_pdf(&scene, &font, &content.din.eye_readable()),
        )?,
        FormatArg::Zpl => {
            let zpl = render_zpl(&scene, &font, &ZplOptions::default());
            write(out, zpl.as_bytes())?;
            match send {
                Some(target) if target.starts_with('/') => {
                    send_to_device(Path::new(target), zpl.as_bytes())?;
                }
                Some(target) => send_tcp(target, zpl.as_bytes(), Duration::from_secs(10))?,
                None => {}
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn roll(
    facility: &str,
    year: u8,
    from: u32,
    count: u32,
    out: &Path,
    set: SetArg,
    tubes: u8,
    common: &Common,
) -> Result<()> {
    let facility: FacilityId = facility
        .parse()
        .with_context(|| format!("invalid facility identification number {facility:?}"))?;
    if count == 0 || count > MAX_ROLL {
        bail!("--count {count}: allowed 1-{MAX_ROLL} DINs per roll; split larger rolls");
    }
    let last = from
        .checked_add(count - 1)
        .filter(|l| *l <= lifebridge_domain::din::MAX_SEQUENCE)
        .with_context(|| {
            format!("--from {from} --count {count} runs past the last sequence number 999999")
        })?;
    // Validate both ends before rendering anything.
    Din::new(&facility, year, from).context("invalid first DIN")?;
    Din::new(&facility, year, last).context("invalid last DIN")?;
    let kind = match set {
        SetArg::Single => BagSetKind::Single,
        SetArg::Double => BagSetKind::Double,
        SetArg::Triple => BagSetKind::Triple,
        SetArg::Quadruple => BagSetKind::Quadruple,
    };
    let pieces = label_set(kind, tubes)?;
    let product = common.product()?;
    let font = common.font()?;
    let name = common
        .facility_name
        .clone()
        .unwrap_or_else(|| facility.to_string());
    let mut pdf = PdfBuilder::new(
        &font,
        &format!("Lifebridge label roll {facility} {year:02} {from:06}-{last:06}"),
    );
    // Draws only on a terminal, so scripts and tests see clean output.
    let bar = ProgressBar::new(u64::from(count));
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} DINs  {elapsed_precise} (ETA {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for seq in from..=last {
        let din = Din::new(&facility, year, seq)?;
        for piece in &pieces {
            let mut content = LabelContent::blank(din.clone(), *piece, &name);
            if matches!(piece.kind, LabelKind::Bag | LabelKind::Satellite) {
                content.product = product.clone();
            }
            let scene = layout(&content, common.size(piece.kind)?, common.dpi, &font)?;
            pdf.add(&scene);
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let pages = pdf.page_count();
    write(out, &pdf.finish())?;
    println!(
        "{pages} labels for {count} DINs ({} per set) written to {}",
        pieces.len(),
        out.display()
    );
    Ok(())
}
