//! The signed transport manifest as an A4 PDF: what the driver hands over with the boxes,
//! and what the receiving desk scans (the manifest QR) when the bus never had a signal.
//!
//! Unlike labels, which draw glyph outlines so a label printer needs no font, the
//! manifest is a document people search and copy DINs from, so its text is real text: the
//! embedded GB 2312 font is written into the file as a CID font with a Unicode map. QR
//! symbols are drawn as filled modules, the same matrices the label renderers use.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use lifebridge_domain::cold_chain::{Manifest, ManifestBox, UnitStatus, abo_rh_label};
use lifebridge_domain::messages::{Lang, Message, bilingual};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::LabelError;
use crate::font::{EMBEDDED, LabelFont};
use crate::symbols::qr_matrix;

const PT_PER_MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 15.0;
const BODY: f32 = 3.6;
const SMALL: f32 = 3.1;
const QR_SIDE: f32 = 70.0;
/// Printed in place of a character the embedded font lacks (a rare name character), so
/// the gap is visible instead of silently dropped.
const MISSING: char = '□';

/// The embedded font, compressed once per process: every manifest embeds it.
fn font_stream() -> &'static (Vec<u8>, usize) {
    static STREAM: OnceLock<(Vec<u8>, usize)> = OnceLock::new();
    STREAM.get_or_init(|| {
        (
            miniz_oxide::deflate::compress_to_vec_zlib(EMBEDDED, 6),
            EMBEDDED.len(),
        )
    })
}

/// The character as printed: itself if the font has it, else the GB 2312 look-alike
/// people type for it (the middle dot of "人民广场 · 东门" is U+00B7, which GB 2312 only
/// has as U+30FB), else [`MISSING`].
fn printable(font: &LabelFont, ch: char) -> char {
    let candidates: &[char] = match ch {
        '·' | '•' => &['・'],
        '–' | '—' => &['-'],
        _ => &[],
    };
    std::iter::once(ch)
        .chain(candidates.iter().copied())
        .find(|c| font.covers(&c.to_string()))
        .unwrap_or(MISSING)
}

fn cst(t: DateTime<Utc>) -> String {
    lifebridge_domain::china_local(t)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A printed document's caption in both languages ("采血点 / Site"): the manifest and
/// the slip travel on paper to readers of either, so each caption prints both, from the
/// one catalogue.
pub(crate) fn caption(code: &str) -> String {
    both(&Message::new(code))
}

/// A message in both languages, Chinese first.
pub(crate) fn both(message: &Message) -> String {
    bilingual(message, Lang::ZhCn)
}

/// A table heading in both languages, without the slash ("献血码 DIN"): columns are narrow.
fn cell(code: &str) -> String {
    let m = Message::new(code);
    format!("{} {}", m.render(Lang::ZhCn), m.render(Lang::En))
}

fn celsius(c: f64) -> String {
    format!("{c:.1} °C")
}

pub(crate) struct Writer {
    font: LabelFont,
    pages: Vec<Vec<u8>>,
    page: Content,
    /// Top of the next line, mm from the page top.
    pub(crate) y: f32,
    /// Glyph id → the character it shows (ToUnicode and widths).
    used: BTreeMap<u16, char>,
    footer: String,
}

impl Writer {
    pub(crate) fn new(font: LabelFont, footer: String) -> Writer {
        Writer {
            font,
            pages: Vec::new(),
            page: Content::new(),
            y: MARGIN,
            used: BTreeMap::new(),
            footer,
        }
    }

    fn pt(&self, x: f32, y: f32) -> (f32, f32) {
        (x * PT_PER_MM, (PAGE_H - y) * PT_PER_MM)
    }

    fn break_page(&mut self) {
        let footer = format!(
            "{}  {}",
            self.footer,
            both(&Message::new("print.page").with("n", (self.pages.len() + 1).to_string()))
        );
        self.put(&footer, MARGIN, PAGE_H - MARGIN / 2.0, SMALL);
        let page = std::mem::replace(&mut self.page, Content::new());
        self.pages.push(page.finish().to_vec());
        self.y = MARGIN;
    }

    fn ensure(&mut self, height: f32) {
        if self.y + height > PAGE_H - MARGIN {
            self.break_page();
        }
    }

    /// Text at a baseline, no wrapping.
    fn put(&mut self, text: &str, x: f32, baseline: f32, size: f32) {
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for ch in text.chars() {
            let ch = printable(&self.font, ch);
            let id = self.font.glyph(ch).0;
            self.used.entry(id).or_insert(ch);
            bytes.extend_from_slice(&id.to_be_bytes());
        }
        let font_pt = self.font.units_per_em() * self.font.mm_per_unit(size) * PT_PER_MM;
        let (px, py) = self.pt(x, baseline);
        self.page
            .begin_text()
            .set_font(Name(b"F1"), font_pt)
            .set_text_matrix([1.0, 0.0, 0.0, 1.0, px, py])
            .show(Str(&bytes))
            .end_text();
    }

    /// Splits `text` into lines no wider than `width` mm, at spaces where possible.
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_inclusive(' ') {
            let candidate = format!("{line}{word}");
            if self.font.text_width_mm(candidate.trim_end(), size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(line.trim_end().to_owned());
                line.clear();
            }
            // A word wider than the line (a long run of Chinese): break by character.
            for ch in word.chars() {
                let candidate = format!("{line}{ch}");
                if self.font.text_width_mm(candidate.trim_end(), size) > width && !line.is_empty() {
                    lines.push(line.trim_end().to_owned());
                    line.clear();
                }
                line.push(ch);
            }
        }
        if !line.trim().is_empty() {
            lines.push(line.trim_end().to_owned());
        }
        lines
    }

    pub(crate) fn line_at(&mut self, text: &str, size: f32, indent: f32) {
        for part in self.wrap(text, size, PAGE_W - 2.0 * MARGIN - indent) {
            self.ensure(size * 1.5);
            let baseline = self.y + size;
            self.put(&part, MARGIN + indent, baseline, size);
            self.y += size * 1.5;
        }
    }

    pub(crate) fn line(&mut self, text: &str) {
        self.line_at(text, BODY, 0.0);
    }

    pub(crate) fn heading(&mut self, text: &str, size: f32) {
        self.ensure(size * 2.2 + BODY * 3.0);
        self.y += size * 0.4;
        self.line_at(text, size, 0.0);
        self.rule();
    }

    pub(crate) fn rule(&mut self) {
        let (x, y) = self.pt(MARGIN, self.y);
        self.page
            .rect(x, y, (PAGE_W - 2.0 * MARGIN) * PT_PER_MM, 0.25 * PT_PER_MM)
            .fill_nonzero();
        self.y += 1.5;
    }

    /// Columns at fixed offsets (mm from the margin); one row.
    fn row(&mut self, cells: &[(&str, f32)], size: f32) {
        self.ensure(size * 1.5);
        let baseline = self.y + size;
        for (text, offset) in cells {
            self.put(text, MARGIN + offset, baseline, size);
        }
        self.y += size * 1.5;
    }

    fn qr(&mut self, data: &str, caption: &str) -> Result<(), LabelError> {
        let matrix = qr_matrix(data)?;
        self.ensure(QR_SIDE + BODY * 3.0);
        self.line(caption);
        let quiet = 4.0;
        let module = QR_SIDE / (matrix.width as f32 + 2.0 * quiet);
        let left = MARGIN + quiet * module;
        let top = self.y + quiet * module;
        for (r, row) in matrix.modules.chunks(matrix.width.max(1)).enumerate() {
            for (i, dark) in row.iter().enumerate() {
                if *dark {
                    let (x, y) = self.pt(left + i as f32 * module, top + (r as f32 + 1.0) * module);
                    self.page.rect(x, y, module * PT_PER_MM, module * PT_PER_MM);
                }
            }
        }
        self.page.fill_nonzero();
        self.y += QR_SIDE + 2.0;
        Ok(())
    }

    pub(crate) fn finish(mut self, title: &str) -> Vec<u8> {
        self.break_page();
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let info = Ref::new(3);
        let type0 = Ref::new(4);
        let cid = Ref::new(5);
        let descriptor = Ref::new(6);
        let file = Ref::new(7);
        let cmap_ref = Ref::new(8);
        let mut next = 9;
        pdf.catalog(catalog).pages(tree);
        pdf.document_info(info)
            .title(TextStr(title))
            .creator(TextStr("Lifebridge"));

        let em = self.font.units_per_em();
        let per_mille = |units: f32| units * 1000.0 / em;
        pdf.type0_font(type0)
            .base_font(Name(b"WenQuanYiMicroHei"))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(cmap_ref);
        let system = || SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        {
            let mut cid_font = pdf.cid_font(cid);
            cid_font
                .subtype(CidFontType::Type2)
                .base_font(Name(b"WenQuanYiMicroHei"))
                .system_info(system())
                .font_descriptor(descriptor)
                .cid_to_gid_map_predefined(Name(b"Identity"));
            let mut widths = cid_font.widths();
            for id in self.used.keys() {
                let advance = self.font.advance_units(ab_glyph::GlyphId(*id));
                widths.consecutive(*id, [per_mille(advance)]);
            }
            widths.finish();
        }
        let ascent = self.font.ascent_mm(BODY) / self.font.mm_per_unit(BODY);
        pdf.font_descriptor(descriptor)
            .name(Name(b"WenQuanYiMicroHei"))
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(
                0.0,
                per_mille(-0.25 * em),
                1000.0,
                per_mille(ascent),
            ))
            .italic_angle(0.0)
            .ascent(per_mille(ascent))
            .descent(per_mille(-0.25 * em))
            .cap_height(per_mille(ascent * 0.8))
            .stem_v(80.0)
            .font_file2(file);
        let (deflated, raw_len) = font_stream();
        pdf.stream(file, deflated).filter(Filter::FlateDecode).pair(
            Name(b"Length1"),
            i32::try_from(*raw_len).unwrap_or(i32::MAX),
        );
        let mut cmap = UnicodeCmap::new(Name(b"Lifebridge-UCS"), system());
        for (id, ch) in &self.used {
            cmap.pair(*id, *ch);
        }
        let cmap_data = cmap.finish();
        pdf.cmap(cmap_ref, &cmap_data)
            .name(Name(b"Lifebridge-UCS"))
            .system_info(system());

        let mut kids = Vec::new();
        for content in &self.pages {
            let page_id = Ref::new(next);
            let content_id = Ref::new(next + 1);
            next += 2;
            let compressed = miniz_oxide::deflate::compress_to_vec_zlib(content, 6);
            pdf.stream(content_id, &compressed)
                .filter(Filter::FlateDecode);
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_W * PT_PER_MM, PAGE_H * PT_PER_MM));
            page.parent(tree);
            page.contents(content_id);
            page.resources().fonts().pair(Name(b"F1"), type0);
            page.finish();
            kids.push(page_id);
        }
        let count = i32::try_from(kids.len()).unwrap_or(i32::MAX);
        pdf.pages(tree).kids(kids).count(count);
        pdf.finish()
    }
}

fn box_section(w: &mut Writer, b: &ManifestBox) {
    w.heading(
        &format!(
            "{} {}   {}   {}~{} °C",
            cell("print.manifest.box"),
            b.code,
            both(&b.class.name()),
            b.range.min_c,
            b.range.max_c
        ),
        4.2,
    );
    w.line(&format!(
        "{}: {}    {}: {}",
        caption("print.manifest.first_collection"),
        b.first_collection_at.map_or_else(|| "-".to_owned(), cst),
        caption("print.manifest.bags"),
        b.bags.len()
    ));
    let columns = [0.0, 40.0, 80.0, 100.0, 115.0, 130.0, 163.0];
    let header = [
        "print.manifest.column.din",
        "print.manifest.column.procedure",
        "print.manifest.column.abo_rh",
        "print.manifest.column.volume",
        "print.manifest.column.tubes",
        "print.manifest.column.collected",
        "print.manifest.column.status",
    ]
    .map(cell);
    w.row(
        &header
            .iter()
            .zip(columns)
            .map(|(t, c)| (t.as_str(), c))
            .collect::<Vec<_>>(),
        SMALL,
    );
    for bag in &b.bags {
        let din = bag.din.to_string();
        let procedure = bag.procedure.as_str().replace('_', " ");
        let group = match bag.abo_rh {
            Some(_) => abo_rh_label(bag.abo_rh).to_owned(),
            None => cell("print.unknown"),
        };
        let volume = bag
            .collected_volume_ml
            .map_or_else(|| "-".to_owned(), |v| v.to_string());
        let at = cst(bag.collected_at);
        let tubes = bag.tubes.len().to_string();
        // The column is narrow: the status in Chinese only (the English is in the
        // line below for a unit that is not suitable).
        let status = bag.unit.status.message().render(Lang::ZhCn);
        let cells = [din, procedure, group, volume, tubes, at, status];
        w.row(
            &cells
                .iter()
                .zip(columns)
                .map(|(t, c)| (t.as_str(), c))
                .collect::<Vec<_>>(),
            SMALL,
        );
        // Why the unit is downgraded or quarantined (why it is in this box and not a
        // platelet box, what happened in transit), in the core's words.
        if !bag.unit.is_suitable() {
            w.line_at(&format!("-> {}", both(&bag.unit.message())), SMALL, 4.0);
        }
        // Labels typed instead of scanned (the exception path, with a reason and a
        // second person's PIN): the receiving desk checks these by eye.
        if !bag.manual_labels.is_empty() {
            let pieces: Vec<Message> = bag.manual_labels.iter().map(|p| p.name()).collect();
            w.line_at(
                &format!(
                    "-> {}",
                    both(&Message::new("print.manifest.manual_entry").with("pieces", pieces))
                ),
                SMALL,
                4.0,
            );
        }
    }
    if b.readings.is_empty() {
        w.line(&format!(
            "{}: {}",
            caption("print.manifest.readings"),
            caption("print.none")
        ));
    } else {
        let readings = b
            .readings
            .iter()
            .map(|r| format!("{} {}", cst(r.at), celsius(r.celsius)))
            .collect::<Vec<_>>()
            .join(";  ");
        w.line(&format!(
            "{}: {readings}",
            both(
                &Message::new("print.manifest.readings_count")
                    .with("count", b.readings.len().to_string())
            )
        ));
    }
    if b.excursions.is_empty() {
        w.line(&format!(
            "{}: {}",
            caption("print.manifest.excursions"),
            caption("print.none")
        ));
    } else {
        for e in &b.excursions {
            w.line(&format!(
                "!! {}",
                both(
                    &Message::new("print.manifest.excursion")
                        .with("from", cst(e.from))
                        .with("to", cst(e.to))
                        .with("extreme", celsius(e.extreme_c))
                        .with("readings", e.readings.to_string())
                )
            ));
        }
    }
}

/// Renders the signed manifest on A4. `qr_texts` are the manifest QR payloads (one
/// string per symbol, from `lifebridge_protocol::manifest_code::encode`), printed in order.
pub fn render_manifest_pdf(
    manifest: &Manifest,
    qr_texts: &[String],
) -> Result<Vec<u8>, LabelError> {
    let font = LabelFont::embedded()?;
    let footer = both(&Message::new("print.manifest.footer").with("id", manifest.id.to_string()));
    let mut w = Writer::new(font, footer);
    w.line_at(&caption("print.manifest.title"), 6.0, 0.0);
    w.rule();
    w.line(&format!(
        "{}: {}",
        caption("print.site"),
        manifest.site_name
    ));
    w.line(&format!(
        "{}: {}    {}: {}",
        caption("print.vehicle"),
        manifest.vehicle.as_deref().unwrap_or("-"),
        caption("print.date"),
        manifest.drive_date
    ));
    w.line(&format!(
        "{}: {}",
        caption("print.drive"),
        manifest.drive_id
    ));
    w.line(&format!(
        "{}: {}    {}: {}",
        caption("print.driver"),
        manifest.driver.name,
        caption("print.dispatched"),
        cst(manifest.dispatched_at)
    ));
    w.line(&format!(
        "{}: {}    {}: {}",
        caption("print.manifest.id"),
        manifest.id,
        caption("print.manifest.rules"),
        manifest.rules_version
    ));

    let counts = manifest.counts();
    w.heading(&caption("print.manifest.counts"), 4.2);
    w.line(&format!(
        "{}: {}",
        caption("print.manifest.total"),
        both(
            &Message::new("print.manifest.total_value")
                .with("bags", counts.bags.to_string())
                .with("boxes", counts.boxes.to_string())
                .with("excursion_boxes", counts.boxes_with_excursions.to_string())
        )
    ));
    w.line(&format!(
        "{}: {}    {}: {}",
        both(&UnitStatus::Downgraded.message()),
        counts.downgraded,
        both(&UnitStatus::Quarantined.message()),
        counts.quarantined
    ));
    for c in &counts.by_class {
        w.line_at(&format!("{}: {}", both(&c.class.name()), c.bags), BODY, 4.0);
    }
    let groups = counts
        .by_abo_rh
        .iter()
        .map(|g| {
            let label = if g.abo_rh == "unknown" {
                cell("print.unknown")
            } else {
                g.abo_rh.clone()
            };
            format!("{label}: {}", g.bags)
        })
        .collect::<Vec<_>>()
        .join("   ");
    w.line(&format!(
        "{}: {groups}",
        caption("print.manifest.by_abo_rh")
    ));

    for b in &manifest.boxes {
        box_section(&mut w, b);
    }

    w.heading(&caption("print.manifest.signatures"), 4.2);
    w.line(&format!(
        "{}: {}",
        caption("print.driver"),
        both(
            &Message::new("print.manifest.signed_with_pin")
                .with("name", manifest.driver.name.as_str())
                .with("at", cst(manifest.dispatched_at))
        )
    ));
    w.y += 6.0;
    w.line(&format!(
        "{}: ______________________    {}: ______________",
        caption("print.manifest.received_by"),
        caption("print.time")
    ));

    if !qr_texts.is_empty() {
        w.heading(&caption("print.manifest.qr"), 4.2);
        let n = qr_texts.len();
        for (i, text) in qr_texts.iter().enumerate() {
            let part = Message::new("print.manifest.qr_part")
                .with("i", (i + 1).to_string())
                .with("n", n.to_string());
            w.qr(text, &both(&part))?;
        }
    }
    Ok(w.finish(&format!("Manifest {}", manifest.id)))
}

/// One manifest QR as a standalone SVG for the screen: dark modules on white with the
/// quiet zone, scaled by the viewer.
pub fn qr_svg(data: &str) -> Result<String, LabelError> {
    let matrix = qr_matrix(data)?;
    let quiet = 4;
    let side = matrix.width + 2 * quiet;
    let mut path = String::new();
    for (r, row) in matrix.modules.chunks(matrix.width.max(1)).enumerate() {
        for (c, dark) in row.iter().enumerate() {
            if *dark {
                path.push_str(&format!("M{} {}h1v1h-1z", c + quiet, r + quiet));
            }
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Every catalogue text a printed document uses (`print.*`, `slip.*`, the product
    /// classes, unit statuses and label pieces), in both languages, with each
    /// placeholder filled by digits and the separators the documents print.
    pub(crate) fn printed_catalogue_texts() -> Vec<String> {
        // Namespaces, matched on the code's segments.
        let printed = |code: &str| {
            let mut parts = code.split('.');
            matches!(
                (parts.next(), parts.next()),
                (Some("print" | "slip" | "product_class" | "piece"), _)
                    | (Some("unit"), Some("status"))
            )
        };
        let mut texts = Vec::new();
        for (code, entry) in lifebridge_domain::messages::catalogue() {
            if !printed(code) {
                continue;
            }
            for lang in [Lang::ZhCn, Lang::En] {
                let text = entry.text(lang);
                // Placeholders become a figure: the braces themselves never print.
                let mut filled = String::new();
                let mut in_placeholder = false;
                for c in text.chars() {
                    match c {
                        '{' => in_placeholder = true,
                        '}' => {
                            in_placeholder = false;
                            filled.push('7');
                        }
                        _ if !in_placeholder => filled.push(c),
                        _ => {}
                    }
                }
                texts.push(filled);
            }
        }
        texts
    }

    /// Every fixed caption must be in the embedded subset, or it prints as boxes.
    #[test]
    fn captions_are_in_the_embedded_font() {
        let font = LabelFont::embedded().unwrap();
        let mut texts = printed_catalogue_texts();
        texts.push("A+ B- AB+ O- ~ °C -> !! ____ □ ・ - / :".to_owned());
        for text in texts {
            let missing: String = text
                .chars()
                .filter(|c| !font.covers(&c.to_string()))
                .collect();
            assert!(
                missing.is_empty(),
                "not in the font: {missing:?} in {text:?}"
            );
        }
        assert_eq!(printable(&font, '·'), '・');
        assert_eq!(printable(&font, '—'), '-');
        assert_eq!(printable(&font, '𠀀'), MISSING);
        assert_eq!(printable(&font, '圳'), '圳');
    }

    /// The core's words for a unit's status print without gaps too.
    #[test]
    fn unit_findings_are_in_the_embedded_font() {
        use lifebridge_domain::cold_chain::{UnitAssessment, UnitFinding, time_findings};
        use lifebridge_domain::label_piece::{LabelKind, LabelPiece};
        use lifebridge_domain::product::{ProductClass, TemperatureRange};
        use lifebridge_domain::rules::RuleSet;
        let font = LabelFont::embedded().unwrap();
        let rules = RuleSet::gb18467_2011();
        let t0 = chrono::DateTime::<Utc>::UNIX_EPOCH;
        let mut findings = vec![
            UnitFinding::SlowDraw {
                volume_ml: 400,
                seconds: 700,
                limit_minutes: 10.0,
            },
            UnitFinding::Excluded {
                classes: ProductClass::ALL.to_vec(),
            },
            UnitFinding::Excursion {
                box_code: "BOX-1".into(),
                range: TemperatureRange {
                    min_c: 2.0,
                    max_c: 10.0,
                },
                extreme_c: 12.0,
            },
            UnitFinding::TubesMissing {
                pieces: vec![LabelPiece::new(LabelKind::Tube, 1)],
            },
        ];
        for class in ProductClass::ALL {
            findings.extend(time_findings(
                class,
                t0,
                t0 + chrono::Duration::hours(30),
                &rules,
            ));
        }
        let text = both(&UnitAssessment::new(findings).message());
        let missing: String = text
            .chars()
            .filter(|c| !font.covers(&c.to_string()) && printable(&font, *c) == MISSING)
            .collect();
        assert!(
            missing.is_empty(),
            "not in the font: {missing:?} in {text:?}"
        );
    }
}
