//! The slip a deferred donor takes home (A4 PDF, real text in the embedded GB 2312
//! font, like the manifest): why they cannot donate today in plain Chinese with the
//! English beside it, and the day they may come back, or that the exclusion is permanent.

use crate::LabelError;
use lifebridge_domain::slip::DeferralSlip;

use crate::font::LabelFont;
use crate::manifest_pdf::Writer;

/// Renders the slip on one A4 page.
pub fn render_deferral_slip(slip: &DeferralSlip) -> Result<Vec<u8>, LabelError> {
    let font = LabelFont::embedded()?;
    let mut w = Writer::new(font, format!("暂缓献血告知单 Deferral slip {}", slip.code));
    w.line_at("献血者暂缓献血告知单 / Donor deferral slip", 6.0, 0.0);
    w.rule();
    w.line(&format!("献血者 / Donor: {}", slip.donor_name));
    w.line(&format!(
        "日期 / Date: {}    采血点 / Site: {}",
        slip.date, slip.site_name
    ));
    w.heading("原因 / Reason", 4.2);
    w.line_at(&slip.reason_zh, 5.0, 0.0);
    w.line(&slip.reason_en);
    w.line(&format!("代码 / Code: {}", slip.code));
    w.heading(
        if slip.until.is_some() {
            "暂缓献血 / Temporary deferral"
        } else {
            "永久不能献血 / Permanent exclusion"
        },
        4.2,
    );
    w.line_at(&slip.come_back_zh(), 5.0, 0.0);
    w.line(&slip.come_back_en());
    w.y += 4.0;
    w.line("这不是诊断。如有疑问，请咨询体检医生或血站。");
    w.line(
        "This is not a diagnosis. Ask the screening physician or the blood station if in doubt.",
    );
    w.y += 6.0;
    w.line(&format!("体检医生 / Physician: {}", slip.physician_name));
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
        assert!(temporary.come_back_zh().contains("2026 年 5 月 8 日"));
        assert!(temporary.come_back_en().contains("2026-05-08"));
        let permanent = slip(None);
        assert!(permanent.come_back_zh().starts_with("永久不能献血"));
        let pdf = render_deferral_slip(&permanent).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
    }

    /// Every fixed caption and every catalogue reason prints in the embedded subset, or
    /// the donor would read boxes.
    #[test]
    fn captions_and_every_catalogue_reason_are_in_the_embedded_font() {
        let font = LabelFont::embedded().unwrap();
        let rules = lifebridge_domain::rules::RuleSet::gb18467_2011();
        let mut texts: Vec<String> = [
            "献血者暂缓献血告知单 / Donor deferral slip 献血者 / Donor: 日期 / Date: 采血点 / Site:",
            "原因 / Reason 代码 / Code: 暂缓献血 / Temporary deferral 永久不能献血 / Permanent exclusion",
            "这不是诊断。如有疑问，请咨询体检医生或血站。体检医生 / Physician: 告知单",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        texts.push(slip(NaiveDate::from_ymd_opt(2026, 5, 8)).come_back_zh());
        texts.push(slip(None).come_back_zh());
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
