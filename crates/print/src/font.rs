//! The font labels are drawn with, embedded so Chinese renders wherever a label does.

use std::path::Path;

use ab_glyph::{Font, FontArc, GlyphId, OutlineCurve};

use crate::LabelError;

pub(crate) static EMBEDDED: &[u8] = include_bytes!("../fonts/wqy-microhei-gb2312.ttf");

/// A loaded font. Cheap to clone.
#[derive(Clone)]
pub struct LabelFont {
    font: FontArc,
}

impl std::fmt::Debug for LabelFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LabelFont")
    }
}

/// One glyph outline segment in millimetres, y growing downwards like the scene.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Segment {
    Move(f32, f32),
    Line(f32, f32),
    Cubic(f32, f32, f32, f32, f32, f32),
    Close,
}

impl LabelFont {
    /// The embedded WenQuanYi Micro Hei subset (ASCII + all of GB 2312).
    pub fn embedded() -> Result<LabelFont, LabelError> {
        let font = FontArc::try_from_slice(EMBEDDED).map_err(|e| LabelError::Font {
            source_name: "embedded wqy-microhei-gb2312.ttf".into(),
            reason: e.to_string(),
        })?;
        Ok(LabelFont { font })
    }

    /// A TrueType/OpenType file, for sites whose names need characters beyond GB 2312.
    pub fn from_file(path: &Path) -> Result<LabelFont, LabelError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| LabelError::Font {
            source_name: name.clone(),
            reason: e.to_string(),
        })?;
        let font = FontArc::try_from_vec(bytes).map_err(|e| LabelError::Font {
            source_name: name,
            reason: format!("not a TrueType/OpenType font: {e}"),
        })?;
        Ok(LabelFont { font })
    }

    pub(crate) fn arc(&self) -> &FontArc {
        &self.font
    }

    /// Millimetres per font unit for text `size_mm` tall (ascent to descent).
    fn unit_mm(&self, size_mm: f32) -> f32 {
        let height = self.font.height_unscaled();
        if height > 0.0 { size_mm / height } else { 0.0 }
    }

    pub(crate) fn glyph(&self, c: char) -> GlyphId {
        self.font.glyph_id(c)
    }

    /// Whether every character of `text` has a glyph (else it prints as a box).
    pub fn covers(&self, text: &str) -> bool {
        text.chars()
            .all(|c| c.is_whitespace() || self.font.glyph_id(c).0 != 0)
    }

    pub fn text_width_mm(&self, text: &str, size_mm: f32) -> f32 {
        let unit = self.unit_mm(size_mm);
        text.chars()
            .map(|c| self.font.h_advance_unscaled(self.font.glyph_id(c)) * unit)
            .sum()
    }

    /// Ascent in millimetres for text `size_mm` tall.
    pub fn ascent_mm(&self, size_mm: f32) -> f32 {
        self.font.ascent_unscaled() * self.unit_mm(size_mm)
    }

    /// The outlines of `text` set from (`x`, `baseline`), in millimetres.
    pub fn outline_text(&self, text: &str, x: f32, baseline: f32, size_mm: f32) -> Vec<Segment> {
        let unit = self.unit_mm(size_mm);
        let mut out = Vec::new();
        let mut pen = x;
        for c in text.chars() {
            let id = self.font.glyph_id(c);
            let origin = pen;
            out.extend(self.segments(id, |p| (origin + p.x * unit, baseline - p.y * unit)));
            pen += self.font.h_advance_unscaled(id) * unit;
        }
        out
    }

    /// One glyph's outline in font units, y up: drawn once and placed many times.
    pub(crate) fn glyph_units(&self, id: GlyphId) -> Vec<Segment> {
        self.segments(id, |p| (p.x, p.y))
    }

    pub(crate) fn advance_units(&self, id: GlyphId) -> f32 {
        self.font.h_advance_unscaled(id)
    }

    /// Millimetres per font unit for text `size_mm` tall.
    pub(crate) fn mm_per_unit(&self, size_mm: f32) -> f32 {
        self.unit_mm(size_mm)
    }

    pub(crate) fn units_per_em(&self) -> f32 {
        self.font.units_per_em().unwrap_or(1000.0)
    }

    fn segments(&self, id: GlyphId, map: impl Fn(ab_glyph::Point) -> (f32, f32)) -> Vec<Segment> {
        let mut out = Vec::new();
        let Some(outline) = self.font.outline(id) else {
            return out;
        };
        let mut current: Option<(f32, f32)> = None;
        for curve in &outline.curves {
            let (start, seg) = match *curve {
                OutlineCurve::Line(a, b) => {
                    let (bx, by) = map(b);
                    (map(a), Segment::Line(bx, by))
                }
                OutlineCurve::Quad(a, q, b) => {
                    // Exact quadratic-to-cubic: control points 2/3 of the way to q.
                    let (ax, ay) = map(a);
                    let (qx, qy) = map(q);
                    let (bx, by) = map(b);
                    let c1 = (ax + 2.0 / 3.0 * (qx - ax), ay + 2.0 / 3.0 * (qy - ay));
                    let c2 = (bx + 2.0 / 3.0 * (qx - bx), by + 2.0 / 3.0 * (qy - by));
                    ((ax, ay), Segment::Cubic(c1.0, c1.1, c2.0, c2.1, bx, by))
                }
                OutlineCurve::Cubic(a, c1, c2, b) => {
                    let (c1x, c1y) = map(c1);
                    let (c2x, c2y) = map(c2);
                    let (bx, by) = map(b);
                    (map(a), Segment::Cubic(c1x, c1y, c2x, c2y, bx, by))
                }
            };
            if current.is_none_or(|p| dist2(p, start) > 1e-8) {
                if current.is_some() {
                    out.push(Segment::Close);
                }
                out.push(Segment::Move(start.0, start.1));
            }
            current = Some(match seg {
                Segment::Line(x, y) | Segment::Cubic(_, _, _, _, x, y) => (x, y),
                _ => start,
            });
            out.push(seg);
        }
        if current.is_some() {
            out.push(Segment::Close);
        }
        out
    }
}

fn dist2(a: (f32, f32), b: (f32, f32)) -> f32 {
    (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)
}
