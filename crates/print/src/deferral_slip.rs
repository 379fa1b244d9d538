//! The slip a deferred donor takes home (A4 PDF, real text in the embedded GB 2312
//! font, like the manifest): why they cannot donate today in plain Chinese with the
//! English beside it, and the day they may come back, or that the exclusion is permanent.

use crate::LabelError;
use lifebridge_domain::messages::{Lang, Message};
use lifebridge_domain::slip::DeferralSlip;

use crate::font::LabelFont;
use crate::manifest_pdf::{Writer, both, caption};

/// Renders the slip on one A4 page.
pub fn render_deferral_slip(slip: &DeferralSlip) -> Result<Vec<u8>, LabelError> {
    let font = LabelFont::embedded()?;
    let footer = both(&Message::new("print.slip.footer").with("code", slip.code.as_str()));
    let mut w = Writer::new(font, footer);
    w.line_at(&caption("print.slip.title"), 6.0, 0.0);
    w.rule();
    w.line(&format!(
        "{}: {}",
        caption("print.slip.donor"),
        slip.donor_name
    ));
    w.line(&format!(
        "{}: {}    {}: {}",
        caption("print.date"),
        slip.date,
        caption("print.site"),
        slip.site_name
    ));
    w.heading(&caption("print.slip.reason"), 4.2);
    w.line_at(&slip.reason_zh, 5.0, 0.0);
    w.line(&slip.reason_en);
    w.line(&format!("{}: {}", caption("print.slip.code"), slip.code));
    w.heading(
        &caption(if slip.until.is_some() {
            "print.slip.temporary"
        } else {
            "print.slip.permanent"
        }),
        4.2,
    );
    // The sentence that matters most, large, in the donor's language first.
    let come_back = slip.come_back();
    w.line_at(&come_back.render(Lang::ZhCn), 5.0, 0.0);
    w.line(&come_back.render(Lang::En));
    w.y += 4.0;
    let note = Message::new("print.slip.not_a_diagnosis");
    w.line(&note.render(Lang::ZhCn));
    w.line(&note.render(Lang::En));
    w.y += 6.0;
    w.line(&format!(
        "{}: {}",
        caption("print.slip.physician"),
        slip.physician_name
    ));
    Ok(w.finish(&format!("Deferral slip {}", slip.code)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn slip(until: Option<NaiveDate>) -> DeferralSlip {
        DeferralSlip {
            donor_name: "林小红".into(),
            code: "HBSAG_POSITIVE".into(),
            reason_zh: "乙型肝炎表面抗原阳性".into(),
            reason_en: "Hepatitis B surface antigen positive".into(),
            date: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
            until,
            site_name: "人民广场".into(),
            physician_name: "王强".into(),
        }
    }

    #[test]
    fn slip_says_when_to_come_back_or_that_it_is_permanent() {
        let temporary = slip(NaiveDate::from_ymd_opt(2026, 5, 8));
        let back = temporary.come_back();
        assert!(back.render(Lang::ZhCn).contains("2026 年 5 月 8 日"));
        assert!(back.render(Lang::En).contains("2026-05-08"));
        let permanent = slip(None);
        assert!(
            permanent
                .come_back()
                .render(Lang::ZhCn)
                .starts_with("永久不能献血")
        );
        let pdf = render_deferral_slip(&permanent).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
    }

    /// Every fixed caption and every catalogue reason prints in the embedded subset, or
    /// the donor would read boxes.
    #[test]
    fn captions_and_every_catalogue_reason_are_in_the_embedded_font() {
        let font = LabelFont::embedded().unwrap();
        let rules = lifebridge_domain::rules::RuleSet::gb18467_2011();
        // Every printed caption, with its placeholders filled as a slip fills them.
        let mut texts = crate::manifest_pdf::tests::printed_catalogue_texts();
        for until in [NaiveDate::from_ymd_opt(2026, 5, 8), None] {
            let back = slip(until).come_back();
            texts.push(back.render(Lang::ZhCn));
            texts.push(back.render(Lang::En));
        }
        texts.extend(rules.deferrals.iter().map(|k| k.zh.clone()));
        for text in texts {
            let missing: String = text
                .chars()
                .filter(|c| !c.is_whitespace() && !font.covers(&c.to_string()))
                .collect();
            assert!(missing.is_empty(), "{text:?} lacks {missing:?}");
        }
    }
}
