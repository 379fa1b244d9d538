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
    Qr,
}

/// One symbol read from a frame. `text` is what a hand-held scanner would have typed,
/// so it goes through the same parsing (`lifebridge_domain::labels::parse_scan`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub symbology: Symbology,
    pub text: String,
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

/// Every QR and Code 128 symbol found in `frame` (at most one of each).
pub fn decode_frame(frame: &GrayImage) -> Vec<Decoded> {
    let (w, h) = frame.dimensions();
    let mut out = Vec::new();
    for (format, symbology) in [
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
