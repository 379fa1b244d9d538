//! Where everything goes on a label, in millimetres from the top-left corner.
//!
//! Symbol modules are whole printer dots (the scene is laid out for one resolution):
//! a module of 2.5 dots prints as alternating 2 and 3, which scanners read as noise.

use lifebridge_domain::label_piece::LabelKind;
use lifebridge_domain::labels::LabelContent;

use crate::LabelError;
use crate::font::LabelFont;
use crate::symbols::{DataMatrix, code128_modules, datamatrix};

/// Physical label stock. Configurable per printer; the common sizes are constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelSize {
    pub width_mm: f32,
    pub height_mm: f32,
}

impl LabelSize {
    /// Bag labels and the record-sheet label.
    pub const BAG: LabelSize = LabelSize {
        width_mm: 100.0,
        height_mm: 50.0,
    };
    /// Sample-tube labels.
    pub const TUBE: LabelSize = LabelSize {
        width_mm: 50.0,
        height_mm: 25.0,
    };

    pub fn new(width_mm: f32, height_mm: f32) -> Result<LabelSize, LabelError> {
        let ok = |v: f32| v.is_finite() && (20.0..=300.0).contains(&v);
        if !ok(width_mm) || !ok(height_mm) {
            return Err(LabelError::Size {
                width_mm,
                height_mm,
            });
        }
        Ok(LabelSize {
            width_mm,
            height_mm,
        })
    }

    pub fn for_kind(kind: LabelKind) -> LabelSize {
        match kind {
            LabelKind::Tube => LabelSize::TUBE,
            LabelKind::Bag | LabelKind::Satellite | LabelKind::Record => LabelSize::BAG,
        }
    }
}

/// One drawing instruction.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A solid black rectangle.
    Fill { x: f32, y: f32, w: f32, h: f32 },
    /// A rectangle outline (the box around the check character).
    Frame {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        stroke: f32,
    },
    /// A line of text; `size` is the font height (ascent to descent).
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        text: String,
    },
    /// A Code 128 symbol: `modules` from left, each `module` mm wide, `height` tall.
    Code128 {
        x: f32,
        y: f32,
        module: f32,
        height: f32,
        modules: Vec<bool>,
        data: String,
    },
    /// A Data Matrix (ECC 200) symbol, top-left of its first module at (`x`, `y`);
    /// quiet zone kept free.
    DataMatrix {
        x: f32,
        y: f32,
        module: f32,
        matrix: DataMatrix,
        data: String,
    },
}

/// A laid-out label.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub width_mm: f32,
    pub height_mm: f32,
    /// The printer resolution the symbols were aligned to.
    pub dpi: u32,
    pub items: Vec<Item>,
}

impl Scene {
    pub fn dot_mm(&self) -> f32 {
        25.4 / self.dpi as f32
    }
}

pub(crate) fn check_dpi(dpi: u32) -> Result<(), LabelError> {
    if (100..=1200).contains(&dpi) {
        Ok(())
    } else {
        Err(LabelError::Dpi { dpi })
    }
}

/// ISBT 128 recommends a nominal 0.25 mm module (X dimension) for the DIN's Code 128.
const CODE128_MODULE_MM: f32 = 0.25;
/// ISO/IEC 16022 asks for a quiet zone of at least one module; two leave room for the
/// printer's registration.
const DM_QUIET_MODULES: f32 = 2.0;

struct Ctx<'f> {
    font: &'f LabelFont,
    dot: f32,
    items: Vec<Item>,
}

impl Ctx<'_> {
    fn snap(&self, v: f32) -> f32 {
        (v / self.dot).round() * self.dot
    }

    /// Text shrunk, if need be, to fit `max_w`.
    fn text(&mut self, text: &str, x: f32, baseline: f32, size: f32, max_w: f32) -> f32 {
        if text.is_empty() {
            return 0.0;
        }
        let w = self.font.text_width_mm(text, size);
        let size = if w > max_w && w > 0.0 {
            size * max_w / w
        } else {
            size
        };
        self.items.push(Item::Text {
            x,
            baseline,
            size,
            text: text.to_owned(),
        });
        self.font.text_width_mm(text, size)
    }

    fn code128(
        &mut self,
        data: &str,
        x: f32,
        y: f32,
        height: f32,
        max_w: f32,
    ) -> Result<f32, LabelError> {
        let modules = code128_modules(data)?;
        let mut dots = (CODE128_MODULE_MM / self.dot).round().max(2.0);
        // Narrower than recommended rather than off the label; never under 2 dots.
        while dots > 2.0 && modules.len() as f32 * dots * self.dot > max_w {
            dots -= 1.0;
        }
        let module = dots * self.dot;
        let width = modules.len() as f32 * module;
        self.items.push(Item::Code128 {
            x: self.snap(x),
            y: self.snap(y),
            module,
            height: self.snap(height),
            modules,
            data: data.to_owned(),
        });
        Ok(width)
    }

    /// A Data Matrix whose symbol plus quiet zone fits a `side` mm square with top-left
    /// (x, y), modules a whole number of printer dots.
    fn datamatrix(&mut self, data: &str, x: f32, y: f32, side: f32) -> Result<(), LabelError> {
        let matrix = datamatrix(data)?;
        let total = matrix.width.max(matrix.height) as f32 + 2.0 * DM_QUIET_MODULES;
        let dots = (side / self.dot / total).floor().max(2.0);
        let module = dots * self.dot;
        self.items.push(Item::DataMatrix {
            x: self.snap(x + DM_QUIET_MODULES * module),
            y: self.snap(y + DM_QUIET_MODULES * module),
            module,
            matrix,
            data: data.to_owned(),
        });
        Ok(())
    }

    /// `G1234 26 012345` followed by the boxed check character.
    fn eye_readable(&mut self, content: &LabelContent, x: f32, baseline: f32, size: f32) {
        let din = &content.din;
        let groups = format!("{} {:02} {:06}", din.facility(), din.year(), din.sequence());
        let w = self.text(&groups, x, baseline, size, f32::MAX);
        let check = din.check_char().to_string();
        let cx = x + w + size * 0.45;
        let cw = self.font.text_width_mm(&check, size);
        self.text(&check, cx, baseline, size, f32::MAX);
        let ascent = self.font.ascent_mm(size);
        let pad = size * 0.12;
        self.items.push(Item::Frame {
            x: cx - pad,
            y: baseline - ascent * 0.8 - pad,
            w: cw + 2.0 * pad,
            h: ascent * 0.8 + 2.0 * pad + size * 0.08,
            stroke: (size * 0.06).max(self.dot),
        });
    }
}

/// Lays out `content` on `size` stock for a printer of `dpi`.
///
/// Labels at least 40 mm tall use the four-quadrant layout (domain.md section 1);
/// smaller ones (tubes) a compact layout with the same symbols.
pub fn layout(
    content: &LabelContent,
    size: LabelSize,
    dpi: u32,
    font: &LabelFont,
) -> Result<Scene, LabelError> {
    check_dpi(dpi)?;
    let mut ctx = Ctx {
        font,
        dot: 25.4 / dpi as f32,
        items: Vec::new(),
    };
    let (w, h) = (size.width_mm, size.height_mm);
    let quadrants = content.quadrants();
    let line = |i: usize, v: &Vec<String>| v.get(i).cloned().unwrap_or_default();
    if h >= 40.0 {
        let s = h / 50.0;
        let (m, mx, my) = (3.0 * s, w / 2.0, h / 2.0);
        let tl_w = mx - m - 1.0;
        ctx.text(&line(0, &quadrants.top_left), m, m + 1.9 * s, 2.8 * s, tl_w);
        ctx.code128(&content.code128_data(), m, 6.0 * s, 7.0 * s, tl_w)?;
        ctx.eye_readable(content, m, 17.5 * s, 3.8 * s);
        ctx.text(&line(1, &quadrants.top_left), m, 20.8 * s, 2.4 * s, tl_w);
        ctx.text(&line(2, &quadrants.top_left), m, 23.8 * s, 2.4 * s, tl_w);
        // Top right: ABO/RhD, left empty when unknown.
        if let [abo, rh, ..] = quadrants.top_right.as_slice() {
            ctx.text(abo, mx + 4.0 * s, m + 12.0 * s, 15.0 * s, w - mx - m - 4.0);
            ctx.text(rh, mx + 4.0 * s, m + 17.5 * s, 3.2 * s, w - mx - m - 4.0);
        }
        for (i, text) in quadrants.bottom_left.iter().enumerate() {
            ctx.text(text, m, my + (5.0 + 4.5 * i as f32) * s, 3.2 * s, tl_w);
        }
        let side = my - m - 1.0;
        let (qx, qy) = (w - m - side, h - m - side);
        ctx.datamatrix(&content.datamatrix_data(), qx, qy, side)?;
        for (i, text) in quadrants.bottom_right.iter().enumerate() {
            ctx.text(
                text,
                mx + 2.0,
                my + (5.0 + 4.0 * i as f32) * s,
                2.6 * s,
                qx - mx - 3.0,
            );
        }
        // Quadrant rules, clear of both symbols' quiet zones.
        let rule = ctx.dot.max(0.2);
        ctx.items.push(Item::Fill {
            x: mx,
            y: m,
            w: rule,
            h: h - 2.0 * m,
        });
        ctx.items.push(Item::Fill {
            x: m,
            y: my,
            w: w - 2.0 * m,
            h: rule,
        });
    } else {
        let s = h / 25.0;
        let m = 2.0 * s;
        ctx.text(
            &line(0, &quadrants.top_left),
            3.0 * s,
            3.6 * s,
            2.4 * s,
            w - 2.0 * m,
        );
        ctx.code128(
            &content.code128_data(),
            3.0 * s,
            4.8 * s,
            6.5 * s,
            w - 6.0 * s,
        )?;
        ctx.eye_readable(content, 3.0 * s, 15.5 * s, 3.2 * s);
        let side = h - 12.0 * s - m;
        ctx.text(
            &line(1, &quadrants.top_left),
            3.0 * s,
            19.5 * s,
            2.2 * s,
            w - side - 5.0 * s,
        );
        ctx.text(
            &line(2, &quadrants.top_left),
            3.0 * s,
            22.5 * s,
            2.0 * s,
            w - side - 5.0 * s,
        );
        ctx.datamatrix(&content.datamatrix_data(), w - m - side, h - m - side, side)?;
    }
    Ok(Scene {
        width_mm: w,
        height_mm: h,
        dpi,
        items: ctx.items,
    })
}
