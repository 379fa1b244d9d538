//! Raster output: the scene drawn in 8-bit grey at the scene's resolution.

use ab_glyph::{Font, PxScale, point};
use image::{GrayImage, ImageEncoder, Luma};

use crate::LabelError;
use crate::font::LabelFont;
use crate::layout::{Item, Scene};

/// Draws the scene, white background, black ink.
pub fn rasterize(scene: &Scene, font: &LabelFont) -> GrayImage {
    let dot = scene.dot_mm();
    let px = |mm: f32| (mm / dot).round().max(0.0) as u32;
    let mut img = GrayImage::from_pixel(px(scene.width_mm), px(scene.height_mm), Luma([255]));
    let fill = |img: &mut GrayImage, x: f32, y: f32, w: f32, h: f32| {
        let (x0, y0) = (px(x), px(y));
        let (x1, y1) = (px(x + w).min(img.width()), px(y + h).min(img.height()));
        for yy in y0..y1 {
            for xx in x0..x1 {
                img.put_pixel(xx, yy, Luma([0]));
            }
        }
    };
    for item in &scene.items {
        match item {
            Item::Fill { x, y, w, h } => fill(&mut img, *x, *y, *w, *h),
            Item::Frame { x, y, w, h, stroke } => {
                fill(&mut img, *x, *y, *w, *stroke);
                fill(&mut img, *x, y + h - stroke, *w, *stroke);
                fill(&mut img, *x, *y, *stroke, *h);
                fill(&mut img, x + w - stroke, *y, *stroke, *h);
            }
            Item::Code128 {
                x,
                y,
                module,
                height,
                modules,
                ..
            } => {
                for (i, dark) in modules.iter().enumerate() {
                    if *dark {
                        fill(&mut img, x + i as f32 * module, *y, *module, *height);
                    }
                }
            }
            Item::DataMatrix {
                x,
                y,
                module,
                matrix,
                ..
            } => {
                for (i, dark) in matrix.modules.iter().enumerate() {
                    if *dark {
                        let (r, c) = (i / matrix.width, i % matrix.width);
                        fill(
                            &mut img,
                            x + c as f32 * module,
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
            } => draw_text(&mut img, font, text, *x / dot, *baseline / dot, *size / dot),
        }
    }
    img
}

fn draw_text(
    img: &mut GrayImage,
    font: &LabelFont,
    text: &str,
    x: f32,
    baseline: f32,
    size_px: f32,
) {
    let arc = font.arc();
    let scale = PxScale::from(size_px);
    let scaled = ab_glyph::Font::as_scaled(arc, scale);
    let mut pen = x;
    for c in text.chars() {
        let id = font.glyph(c);
        let glyph = id.with_scale_and_position(scale, point(pen, baseline));
        pen += ab_glyph::ScaleFont::h_advance(&scaled, id);
        if let Some(outlined) = arc.outline_glyph(glyph) {
            let b = outlined.px_bounds();
            outlined.draw(|gx, gy, coverage| {
                let xx = b.min.x as i64 + i64::from(gx);
                let yy = b.min.y as i64 + i64::from(gy);
                if let (Ok(xx), Ok(yy)) = (u32::try_from(xx), u32::try_from(yy))
                    && xx < img.width()
                    && yy < img.height()
                {
                    let p = img.get_pixel_mut(xx, yy);
                    let ink = (coverage.clamp(0.0, 1.0) * 255.0) as u8;
                    p.0[0] = p.0[0].min(255 - ink);
                }
            });
        }
    }
}

/// PNG bytes of the scene, with its resolution recorded (pHYs) so office printers and
/// viewers print it at true size.
pub fn render_png(scene: &Scene, font: &LabelFont) -> Result<Vec<u8>, LabelError> {
    encode_png(&rasterize(scene, font), scene.dpi)
}

pub fn encode_png(img: &GrayImage, dpi: u32) -> Result<Vec<u8>, LabelError> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::L8,
        )
        .map_err(|e| LabelError::Png(e.to_string()))?;
    Ok(with_phys(out, dpi))
}

/// Inserts a pHYs chunk (pixels per metre) right after IHDR.
fn with_phys(png: Vec<u8>, dpi: u32) -> Vec<u8> {
    // Signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 CRC).
    const AFTER_IHDR: usize = 33;
    if png.len() < AFTER_IHDR || png.get(12..16) != Some(b"IHDR") {
        return png;
    }
    let ppm = (f64::from(dpi) / 0.0254).round() as u32;
    let mut chunk = Vec::with_capacity(21);
    chunk.extend_from_slice(&9u32.to_be_bytes());
    let mut body = b"pHYs".to_vec();
    body.extend_from_slice(&ppm.to_be_bytes());
    body.extend_from_slice(&ppm.to_be_bytes());
    body.push(1); // unit: metre
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc32(&body).to_be_bytes());
    let mut out = Vec::with_capacity(png.len() + chunk.len());
    out.extend_from_slice(&png[..AFTER_IHDR]);
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&png[AFTER_IHDR..]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The resolution recorded in a PNG's pHYs chunk, if any.
pub fn png_dpi(png: &[u8]) -> Option<u32> {
    let at = png.windows(4).position(|w| w == b"pHYs")?;
    let ppm = u32::from_be_bytes(png.get(at + 4..at + 8)?.try_into().ok()?);
    (png.get(at + 12) == Some(&1)).then(|| (f64::from(ppm) * 0.0254).round() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_png_reference_value() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }
}
