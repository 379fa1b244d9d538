//! Label rendering and scanning for Lifebridge.
//!
//! A donation's labels are laid out once, in millimetres, as a [`layout::Scene`]; each
//! output format draws that scene: PNG and SVG for preview and office printers, PDF for
//! sheets and pre-printed rolls, ZPL for the thermal printers blood services use. The
//! symbols' data comes from [`lifebridge_domain::labels::LabelContent`], so what is
//! printed and what the scan interlock expects cannot drift apart.
//!
//! Text is drawn from an embedded CJK font subset ([`font::LabelFont`]): as outlines in
//! SVG and PDF, rasterised in PNG, and as bitmaps in ZPL when the printer would need a
//! downloaded font for it. No output depends on fonts installed on the machine.

pub mod decode;
pub mod deferral_slip;
pub mod font;
pub mod layout;
pub mod manifest_pdf;
pub mod pdf;
pub mod png;
pub mod svg;
pub mod symbols;
pub mod zpl;

#[cfg(feature = "camera")]
pub mod camera;

pub use decode::{Decoded, FrameSource, ImageFiles, Symbology, decode_frame};
pub use font::LabelFont;
pub use layout::{LabelSize, Scene, layout};

/// Why a label could not be rendered, sent or read.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("cannot encode {symbol} data {data:?}: {reason}")]
    Symbol {
        symbol: &'static str,
        data: String,
        reason: String,
    },
    #[error("font {source_name}: {reason}")]
    Font { source_name: String, reason: String },
    #[error("resolution {dpi} dpi is out of range: allowed 100-1200")]
    Dpi { dpi: u32 },
    #[error("label size {width_mm}x{height_mm} mm is out of range: allowed 20-300 mm each side")]
    Size { width_mm: f32, height_mm: f32 },
    #[error("PNG encoding failed: {0}")]
    Png(String),
    #[error("cannot send to printer {target}: {source}")]
    Printer {
        target: String,
        source: std::io::Error,
    },
    #[error("cannot read frame {name}: {reason}")]
    Frame { name: String, reason: String },
}
