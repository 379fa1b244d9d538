//! `lifebridge prefill read`: a donor's pre-fill QR (`lifebridge_protocol::prefill_code`)
//! read from a photo or screenshot (or from the text a 2-D hand scanner typed), printed
//! as the JSON the tablet fills check-in from. For people checking a code and for the
//! end-to-end tests of the `/prefill` page and the app.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use lifebridge_print::{FrameSource, ImageFiles, Symbology, decode_frame};
use lifebridge_protocol::prefill_code;

use crate::LangArg;

#[derive(Subcommand)]
pub enum PrefillCommand {
    /// Read a pre-fill QR from an image (PNG) and print what it holds as JSON; a code
    /// that is damaged, of another format version, not for today or answering a
    /// questionnaire version not held is refused (exit 1).
    Read(ReadArgs),
}

#[derive(Args)]
pub struct ReadArgs {
    /// The image file, or with --text the scanned text itself.
    input: String,
    /// INPUT is the scanned text (`LBQ1:…`), not an image.
    #[arg(long)]
    text: bool,
    /// The day it is read on (YYYY-MM-DD); a code is valid on its chosen day only.
    /// Default: today on this computer's clock.
    #[arg(long)]
    today: Option<NaiveDate>,
    /// Language of a refusal; default from the locale (English or zh-CN).
    #[arg(long, value_enum)]
    lang: Option<LangArg>,
    /// A questionnaire document (JSON) the code may answer besides the built-in one; a
    /// code answering any other version is refused, as the tablet refuses it.
    #[arg(long)]
    questionnaire: Option<PathBuf>,
}

pub fn run(cmd: PrefillCommand) -> Result<()> {
    match cmd {
        PrefillCommand::Read(args) => read(args),
    }
}

fn read(args: ReadArgs) -> Result<()> {
    let text = if args.text {
        args.input.clone()
    } else {
        let path = PathBuf::from(&args.input);
        let frame = ImageFiles::new(vec![path.clone()])
            .next_frame()?
            .ok_or_else(|| anyhow!("cannot read {}", path.display()))?;
        decode_frame(&frame)
            .into_iter()
            .find(|d| d.symbology == Symbology::Qr)
            .map(|d| d.text)
            .with_context(|| format!("no QR code found in {}", path.display()))?
    };
    let today = args
        .today
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let given = args
        .questionnaire
        .as_deref()
        .map(|p| crate::questionnaire::load(Some(p)))
        .transpose()?;
    let held = std::iter::once(lifebridge_domain::questionnaire::built_in())
        .chain(given.as_ref())
        .map(|q| q.version.as_str());
    match prefill_code::decode(&text, today).and_then(|p| {
        p.require_questionnaire(held)?;
        Ok(p)
    }) {
        Ok(prefill) => {
            println!("{}", serde_json::to_string_pretty(&prefill)?);
            Ok(())
        }
        Err(e) => bail!("{}", e.message().render(crate::user_lang(args.lang))),
    }
}
