//! Camera scanning for tablets without a hand-held scanner: frames in, symbols out.
//!
//! Frames come from a [`FrameSource`] so the decoder pipeline is exercised on image
//! files in tests; the live camera (feature `camera`) is just another source.

use std::path::PathBuf;

use image::GrayImage;
use rxing::BarcodeFormat;

use crate::LabelError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbology {
    Code128,
    /// Data Matrix ECC 200: the 2-D symbol of ISBT 128 container labels.
    DataMatrix,
    /// QR: the transport manifest and other things that are not ISBT 128 labels.
    Qr,
}

impl Symbology {
    /// The AIM symbology identifier a hand scanner sends before the data: `]C0` Code
    /// 128, `]d1` Data Matrix ECC 200, `]Q1` QR.
    pub fn aim_identifier(self) -> &'static str {
        match self {
            Symbology::Code128 => "]C0",
            Symbology::DataMatrix => "]d1",
            Symbology::Qr => "]Q1",
        }
    }
}

/// One symbol read from a frame. `text` is the decoded data; [`Decoded::scanner_text`]
/// is what a hand-held scanner would have typed (symbology identifier first), so it goes
/// through the same reading (`lifebridge_domain::labels::read_entry`) and counts as a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub symbology: Symbology,
    pub text: String,
}

impl Decoded {
    pub fn scanner_text(&self) -> String {
        format!("{}{}", self.symbology.aim_identifier(), self.text)
    }
}

/// Anything that yields greyscale frames: a camera, a folder of photos, a test.
pub trait FrameSource {
    /// The next frame, or `None` when the source has no more.
    fn next_frame(&mut self) -> Result<Option<GrayImage>, LabelError>;
}

/// Frames read from image files, in order.
pub struct ImageFiles {
    paths: std::vec::IntoIter<PathBuf>,
}

impl ImageFiles {
    pub fn new(paths: Vec<PathBuf>) -> ImageFiles {
        ImageFiles {
            paths: paths.into_iter(),
        }
    }
}

impl FrameSource for ImageFiles {
    fn next_frame(&mut self) -> Result<Option<GrayImage>, LabelError> {
        let Some(path) = self.paths.next() else {
            return Ok(None);
        };
        let img = image::open(&path).map_err(|e| LabelError::Frame {
            name: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(Some(img.to_luma8()))
    }
}

/// Every Data Matrix, QR and Code 128 symbol found in `frame` (at most one of each).
pub fn decode_frame(frame: &GrayImage) -> Vec<Decoded> {
    let (w, h) = frame.dimensions();
    let mut out = Vec::new();
    for (format, symbology) in [
        (BarcodeFormat::DATA_MATRIX, Symbology::DataMatrix),
        (BarcodeFormat::QR_CODE, Symbology::Qr),
        (BarcodeFormat::CODE_128, Symbology::Code128),
    ] {
        // rxing reports "not found" as an error; for a camera frame that is the
        // common case, not a failure.
        if let Ok(result) = rxing::helpers::detect_in_luma_slice(frame.as_raw(), w, h, Some(format))
        {
            out.push(Decoded {
                symbology,
                text: result.getText().to_owned(),
            });
        }
    }
    out
}

/// Reads frames until one yields a symbol of `want` (or any symbol when `None`), giving
/// up after `max_frames`. A camera source keeps producing frames, so the bound matters.
pub fn scan_until(
    source: &mut dyn FrameSource,
    want: Option<Symbology>,
    max_frames: usize,
) -> Result<Option<Decoded>, LabelError> {
    for _ in 0..max_frames {
        let Some(frame) = source.next_frame()? else {
            return Ok(None);
        };
        if let Some(found) = decode_frame(&frame)
            .into_iter()
            .find(|d| want.is_none_or(|s| d.symbology == s))
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}
