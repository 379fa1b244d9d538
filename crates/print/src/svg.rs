//! Vector output for previews in the UI: text as outlines, so it needs no fonts.

use std::fmt::Write;

use crate::font::{LabelFont, Segment};
use crate::layout::{Item, Scene};

fn path_data(segments: &[Segment]) -> String {
    let mut d = String::new();
    for s in segments {
        // Writing to a String cannot fail.
        let _ = match *s {
            Segment::Move(x, y) => write!(d, "M{x:.3} {y:.3}"),
            Segment::Line(x, y) => write!(d, "L{x:.3} {y:.3}"),
            Segment::Cubic(a, b, c, e, x, y) => {
                write!(d, "C{a:.3} {b:.3} {c:.3} {e:.3} {x:.3} {y:.3}")
            }
            Segment::Close => write!(d, "Z"),
        };
    }
    d
}

fn rect(out: &mut String, x: f32, y: f32, w: f32, h: f32) {
    let _ = write!(
        out,
        r#"<rect x="{x:.3}" y="{y:.3}" width="{w:.3}" height="{h:.3}"/>"#
    );
}

pub fn render_svg(scene: &Scene, font: &LabelFont) -> String {
    let (w, h) = (scene.width_mm, scene.height_mm);
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}" shape-rendering="crispEdges"><rect width="{w}" height="{h}" fill="white"/><g fill="black">"#
    );
    for item in &scene.items {
        match item {
            Item::Fill { x, y, w, h } => rect(&mut out, *x, *y, *w, *h),
            Item::Frame { x, y, w, h, stroke } => {
                let _ = write!(
                    out,
                    r#"<rect x="{:.3}" y="{:.3}" width="{:.3}" height="{:.3}" fill="none" stroke="black" stroke-width="{stroke:.3}"/>"#,
                    x + stroke / 2.0,
                    y + stroke / 2.0,
                    w - stroke,
                    h - stroke
                );
            }
            Item::Code128 {
                x,
                y,
                module,
                height,
                modules,
                data,
            } => {
                let _ = write!(out, r#"<g data-code128="{}">"#, xml_escape(data));
                let mut i = 0;
                while i < modules.len() {
                    let run = modules[i..]
                        .iter()
                        .take_while(|m| **m == modules[i])
                        .count();
                    if modules[i] {
                        rect(
                            &mut out,
                            x + i as f32 * module,
                            *y,
                            run as f32 * module,
                            *height,
                        );
                    }
                    i += run;
                }
                out.push_str("</g>");
            }
            Item::DataMatrix {
                x,
                y,
                module,
                matrix,
                data,
            } => {
                let _ = write!(out, r#"<g data-datamatrix="{}">"#, xml_escape(data));
                for (i, dark) in matrix.modules.iter().enumerate() {
                    if *dark {
                        let (r, c) = (i / matrix.width, i % matrix.width);
                        rect(
                            &mut out,
                            x + c as f32 * module,
                            y + r as f32 * module,
                            *module,
                            *module,
                        );
                    }
                }
                out.push_str("</g>");
            }
            Item::Text {
                x,
                baseline,
                size,
                text,
            } => {
                let _ = write!(
                    out,
                    r#"<path aria-label="{}" d="{}"/>"#,
                    xml_escape(text),
                    path_data(&font.outline_text(text, *x, *baseline, *size))
                );
            }
        }
    }
    out.push_str("</g></svg>\n");
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The resolution previews are laid out at: that of the crew's thermal label printers,
/// so symbols are aligned to the same dots as on the printed label.
pub const PREVIEW_DPI: u32 = 203;

/// SVG previews of a donation's label set, one per piece in the order given, each on its
/// stock ([`crate::LabelSize::for_kind`]) and drawn with the embedded font: the same
/// layout that prints them.
pub fn label_set_svgs(
    contents: &[lifebridge_domain::labels::LabelContent],
) -> Result<Vec<String>, crate::LabelError> {
    let font = LabelFont::embedded()?;
    contents
        .iter()
        .map(|content| {
            let size = crate::LabelSize::for_kind(content.piece.kind);
            let scene = crate::layout(content, size, PREVIEW_DPI, &font)?;
            Ok(render_svg(&scene, &font))
        })
        .collect()
}
