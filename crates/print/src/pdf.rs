//! PDF output: one page per label, page size = label size, so a PDF label printer or an
//! office printer with label stock prints each page onto one label.
//!
//! Text is drawn from the embedded font's outlines, so Chinese prints without any
//! installed font. Each glyph is a form XObject written once per document and placed
//! wherever it is used: a roll of thousands of labels repeats the same few dozen glyphs.

use std::collections::HashMap;

use ab_glyph::GlyphId;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, TextStr};

use crate::font::{LabelFont, Segment};
use crate::layout::{Item, Scene};

const PT_PER_MM: f32 = 72.0 / 25.4;

/// Builds a multi-page PDF one label at a time, so a roll never needs all its scenes in
/// memory at once.
pub struct PdfBuilder {
    pdf: Pdf,
    tree: Ref,
    next: i32,
    pages: Vec<Ref>,
    font: LabelFont,
    glyphs: HashMap<u16, Ref>,
}

fn draw(c: &mut Content, segments: &[Segment], map: impl Fn(f32, f32) -> (f32, f32)) {
    for s in segments {
        match *s {
            Segment::Move(x, y) => {
                let (a, b) = map(x, y);
                c.move_to(a, b);
            }
            Segment::Line(x, y) => {
                let (a, b) = map(x, y);
                c.line_to(a, b);
            }
            Segment::Cubic(x1, y1, x2, y2, x3, y3) => {
                let (a1, b1) = map(x1, y1);
                let (a2, b2) = map(x2, y2);
                let (a3, b3) = map(x3, y3);
                c.cubic_to(a1, b1, a2, b2, a3, b3);
            }
            Segment::Close => {
                c.close_path();
            }
        }
    }
}

/// Dark runs of one row of modules, as (first, length).
fn runs(modules: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < modules.len() {
        let run = modules[i..]
            .iter()
            .take_while(|m| **m == modules[i])
            .count();
        if modules[i] {
            out.push((i, run));
        }
        i += run;
    }
    out
}

impl PdfBuilder {
    pub fn new(font: &LabelFont, title: &str) -> PdfBuilder {
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let info = Ref::new(3);
        pdf.catalog(catalog).pages(tree);
        pdf.document_info(info)
            .title(TextStr(title))
            .creator(TextStr("Lifebridge"));
        PdfBuilder {
            pdf,
            tree,
            next: 4,
            pages: Vec::new(),
            font: font.clone(),
            glyphs: HashMap::new(),
        }
    }

    fn alloc(&mut self) -> Ref {
        let r = Ref::new(self.next);
        self.next += 1;
        r
    }

    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The form XObject of glyph `id`, in font units, written on first use.
    fn glyph(&mut self, id: GlyphId) -> Ref {
        if let Some(r) = self.glyphs.get(&id.0) {
            return *r;
        }
        let r = self.alloc();
        let mut c = Content::new();
        draw(&mut c, &self.font.glyph_units(id), |x, y| (x, y));
        c.fill_nonzero();
        let data = c.finish();
        let em = self.font.units_per_em();
        self.pdf
            .form_xobject(r, &data)
            .bbox(Rect::new(-em, -em, 3.0 * em, 2.0 * em));
        self.glyphs.insert(id.0, r);
        r
    }

    pub fn add(&mut self, scene: &Scene) {
        let page_id = self.alloc();
        let content_id = self.alloc();
        let hm = scene.height_mm;
        let p = |x: f32, y: f32| (x * PT_PER_MM, (hm - y) * PT_PER_MM);
        let rect = |c: &mut Content, x: f32, y: f32, rw: f32, rh: f32| {
            let (px, py) = p(x, y + rh);
            c.rect(px, py, rw * PT_PER_MM, rh * PT_PER_MM);
        };
        let mut c = Content::new();
        let mut used: Vec<(String, Ref)> = Vec::new();
        c.set_fill_gray(0.0);
        for item in &scene.items {
            match item {
                Item::Fill { x, y, w, h } => rect(&mut c, *x, *y, *w, *h),
                Item::Frame { x, y, w, h, stroke } => {
                    rect(&mut c, *x, *y, *w, *stroke);
                    rect(&mut c, *x, y + h - stroke, *w, *stroke);
                    rect(&mut c, *x, *y, *stroke, *h);
                    rect(&mut c, x + w - stroke, *y, *stroke, *h);
                }
                Item::Code128 {
                    x,
                    y,
                    module,
                    height,
                    modules,
                    ..
                } => {
                    for (i, n) in runs(modules) {
                        rect(
                            &mut c,
                            x + i as f32 * module,
                            *y,
                            n as f32 * module,
                            *height,
                        );
                    }
                }
                Item::DataMatrix {
                    x,
                    y,
                    module,
                    matrix,
                    ..
                } => {
                    for (r, row) in matrix.modules.chunks(matrix.width.max(1)).enumerate() {
                        for (i, n) in runs(row) {
                            let top = y + r as f32 * module;
                            rect(
                                &mut c,
                                x + i as f32 * module,
                                top,
                                n as f32 * module,
                                *module,
                            );
                        }
                    }
                }
                Item::Text { .. } => {}
            }
        }
        c.fill_nonzero();
        for item in &scene.items {
            if let Item::Text {
                x,
                baseline,
                size,
                text,
            } = item
            {
                let k = self.font.mm_per_unit(*size) * PT_PER_MM;
                let mut pen = *x;
                for ch in text.chars() {
                    let id = self.font.glyph(ch);
                    let r = self.glyph(id);
                    let name = format!("G{}", id.0);
                    if !used.iter().any(|(n, _)| *n == name) {
                        used.push((name.clone(), r));
                    }
                    let (tx, ty) = p(pen, *baseline);
                    c.save_state();
                    c.transform([k, 0.0, 0.0, k, tx, ty]);
                    c.x_object(Name(name.as_bytes()));
                    c.restore_state();
                    pen += self.font.advance_units(id) * k / PT_PER_MM;
                }
            }
        }
        let raw = c.finish();
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 1);
        self.pdf
            .stream(content_id, &compressed)
            .filter(Filter::FlateDecode);

        let (w, h) = (scene.width_mm * PT_PER_MM, scene.height_mm * PT_PER_MM);
        let mut page = self.pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, w, h));
        page.parent(self.tree);
        page.contents(content_id);
        {
            let mut resources = page.resources();
            let mut xobjects = resources.x_objects();
            for (name, r) in &used {
                xobjects.pair(Name(name.as_bytes()), *r);
            }
        }
        page.finish();
        self.pages.push(page_id);
    }

    pub fn finish(mut self) -> Vec<u8> {
        let count = i32::try_from(self.pages.len()).unwrap_or(i32::MAX);
        self.pdf
            .pages(self.tree)
            .kids(self.pages.iter().copied())
            .count(count);
        self.pdf.finish()
    }
}

/// A single-label PDF.
pub fn render_pdf(scene: &Scene, font: &LabelFont, title: &str) -> Vec<u8> {
    let mut b = PdfBuilder::new(font, title);
    b.add(scene);
    b.finish()
}
