//! PDF output: one page per label, page size = label size, so a PDF label printer or an
//! office printer with label stock prints each page onto one label. Text is drawn as
//! outlines from the embedded font, so Chinese prints without any installed font.

use pdf_writer::{Content, Filter, Finish, Pdf, Rect, Ref, TextStr};

use crate::font::{LabelFont, Segment};
use crate::layout::{Item, Scene};

const PT_PER_MM: f32 = 72.0 / 25.4;

/// Builds a multi-page PDF one label at a time, so a roll of thousands of labels never
/// needs all its scenes in memory at once.
pub struct PdfBuilder {
    pdf: Pdf,
    tree: Ref,
    next: i32,
    pages: Vec<Ref>,
    font: LabelFont,
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

    pub fn add(&mut self, scene: &Scene) {
        let page_id = self.alloc();
        let content_id = self.alloc();
        let (w, h) = (scene.width_mm * PT_PER_MM, scene.height_mm * PT_PER_MM);
        let mut page = self.pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, w, h));
        page.parent(self.tree);
        page.contents(content_id);
        page.finish();
        self.pages.push(page_id);

        let mut c = Content::new();
        c.set_fill_gray(0.0);
        let hm = scene.height_mm;
        let p = |x: f32, y: f32| (x * PT_PER_MM, (hm - y) * PT_PER_MM);
        let rect = |c: &mut Content, x: f32, y: f32, rw: f32, rh: f32| {
            let (px, py) = p(x, y + rh);
            c.rect(px, py, rw * PT_PER_MM, rh * PT_PER_MM);
        };
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
                    let mut i = 0;
                    while i < modules.len() {
                        let run = modules[i..]
                            .iter()
                            .take_while(|m| **m == modules[i])
                            .count();
                        if modules[i] {
                            rect(
                                &mut c,
                                x + i as f32 * module,
                                *y,
                                run as f32 * module,
                                *height,
                            );
                        }
                        i += run;
                    }
                }
                Item::Qr {
                    x,
                    y,
                    module,
                    matrix,
                    ..
                } => {
                    for (i, dark) in matrix.modules.iter().enumerate() {
                        if *dark {
                            let (r, col) = (i / matrix.width, i % matrix.width);
                            rect(
                                &mut c,
                                x + col as f32 * module,
                                y + r as f32 * module,
                                *module,
                                *module,
                            );
                        }
                    }
                }
                Item::Text {
                    x,
                    baseline,
                    size,
                    text,
                } => {
                    for s in self.font.outline_text(text, *x, *baseline, *size) {
                        match s {
                            Segment::Move(x, y) => {
                                let (a, b) = p(x, y);
                                c.move_to(a, b);
                            }
                            Segment::Line(x, y) => {
                                let (a, b) = p(x, y);
                                c.line_to(a, b);
                            }
                            Segment::Cubic(x1, y1, x2, y2, x3, y3) => {
                                let (a1, b1) = p(x1, y1);
                                let (a2, b2) = p(x2, y2);
                                let (a3, b3) = p(x3, y3);
                                c.cubic_to(a1, b1, a2, b2, a3, b3);
                            }
                            Segment::Close => {
                                c.close_path();
                            }
                        }
                    }
                }
            }
        }
        c.fill_nonzero();
        let raw = c.finish();
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6);
        self.pdf
            .stream(content_id, &compressed)
            .filter(Filter::FlateDecode);
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
