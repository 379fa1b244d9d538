//! The donor health questionnaire (献血者健康征询表) as data: sections and questions in
//! zh-CN and English, answer types, follow-ups, sex-specific questions, and what each
//! answer means (a deferral from the rules table's catalogue counted from a date the
//! donor gives, a product exclusion — a product-scoped catalogue entry —, or "the
//! physician must review"). The station publishes new versions as reference documents;
//! the built-in one follows GB 18467-2011 (`crates/domain/questionnaire/`).
//!
//! The document says what answers mean; [`Questionnaire::evaluate`] turns a donor's
//! answers into deferrals and review items on a given day, and eligibility reports them
//! beside the vitals and tests. The format is documented in docs/questionnaire.md.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::common::Sex;
use crate::messages::Localized;
use crate::rules::RuleSet;

mod answers;

pub use answers::*;

/// The built-in questionnaire's JSON (GB 18467-2011's questions).
pub const BUILT_IN_JSON: &str = include_str!("../../questionnaire/gb18467-2011-q1.json");

/// Longest question or option id.
pub const MAX_ID_LEN: usize = 32;

/// Longest free-text answer a document may allow.
pub const MAX_TEXT_LEN: usize = 1_000;

/// Text in both languages, as the document gives it (`{"zh", "en"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    /// The same text as a message parameter.
    pub fn localized(&self) -> Localized {
        Localized {
            zh: self.zh.clone(),
            en: self.en.clone(),
        }
    }
}

/// A versioned questionnaire with its consent text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Questionnaire {
    /// Stored with every screening answered against it; never reused for other content.
    pub version: String,
    /// The standard its questions follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard: Option<String>,
    pub title: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<Text>,
    pub consent: ConsentText,
    pub sections: Vec<Section>,
}

/// The informed consent the donor reads and signs, versioned like the questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ConsentText {
    pub version: String,
    pub title: Text,
    pub text: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub id: String,
    pub title: Text,
    pub questions: Vec<Question>,
}

/// One question, shown on its own row. (Its answer type is flattened into it, which
/// serde cannot combine with refusing unknown fields.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Question {
    pub id: String,
    pub text: Text,
    #[serde(flatten)]
    pub kind: QuestionKind,
    /// Asked only when an earlier question was answered so (a "yes" asks "when?").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// Asked only of donors of this sex (pregnancy, breastfeeding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
}

/// The answer type, with what the answers mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    YesNo {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        yes: Option<Meaning>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        no: Option<Meaning>,
    },
    /// A day: a date, or how long ago.
    Date,
    Choice {
        options: Vec<ChoiceOption>,
    },
    Number {
        min: f64,
        max: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<Text>,
    },
    Text {
        max_length: usize,
    },
}

impl QuestionKind {
    /// The wire name of the answer type.
    pub fn name(&self) -> &'static str {
        match self {
            QuestionKind::YesNo { .. } => "yes_no",
            QuestionKind::Date => "date",
            QuestionKind::Choice { .. } => "choice",
            QuestionKind::Number { .. } => "number",
            QuestionKind::Text { .. } => "text",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub id: String,
    pub text: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub means: Option<Meaning>,
}

/// What an answer means.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Meaning {
    /// A code of the rules table's deferral catalogue: its period and scope apply (a
    /// product-scoped entry excludes products rather than deferring the donor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defer: Option<String>,
    /// The date question the period counts from; absent: from the screening day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The physician must review this answer and record what they found.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub review: bool,
}

/// "Asked when question `question` was answered `is`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub question: String,
    /// `true`/`false` for a yes/no question, an option id for a choice.
    #[cfg_attr(feature = "ts", ts(type = "boolean | string"))]
    pub is: serde_json::Value,
}

/// Why a questionnaire document cannot be used; `path` names the place in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("questionnaire {path}: {problem}")]
pub struct DocumentError {
    pub path: String,
    pub problem: String,
}

fn doc_error(path: impl Into<String>, problem: impl Into<String>) -> DocumentError {
    DocumentError {
        path: path.into(),
        problem: problem.into(),
    }
}

/// The built-in questionnaire (GB 18467-2011's questions), parsed once.
pub fn built_in() -> &'static Questionnaire {
    static BUILT_IN: std::sync::OnceLock<Questionnaire> = std::sync::OnceLock::new();
    BUILT_IN.get_or_init(|| {
        // The file is part of the build and checked by the tests: it cannot fail here.
        Questionnaire::from_json(BUILT_IN_JSON)
            .unwrap_or_else(|e| panic!("built-in questionnaire: {e}"))
    })
}

impl Questionnaire {
    /// Parses and checks a document: ids unique and well-formed, follow-ups after the
    /// question they depend on and naming one of its answers, `from` naming a date
    /// question asked whenever the answer is, bounds that make sense.
    pub fn from_json(json: &str) -> Result<Questionnaire, DocumentError> {
        let doc: Questionnaire =
            serde_json::from_str(json).map_err(|e| doc_error("(document)", e.to_string()))?;
        doc.check()?;
        Ok(doc)
    }

    /// Every question in order.
    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.sections.iter().flat_map(|s| s.questions.iter())
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions().find(|q| q.id == id)
    }

    fn check(&self) -> Result<(), DocumentError> {
        check_text("version", &self.version, 64)?;
        check_text("consent.version", &self.consent.version, 64)?;
        if self.sections.is_empty() {
            return Err(doc_error("sections", "must list at least one section"));
        }
        let mut seen: BTreeMap<&str, &Question> = BTreeMap::new();
        let mut section_ids = BTreeSet::new();
        for (s, section) in self.sections.iter().enumerate() {
            check_id(&format!("sections[{s}].id"), &section.id)?;
            if !section_ids.insert(section.id.as_str()) {
                return Err(doc_error(
                    format!("sections[{s}].id"),
                    format!("{} is used twice", section.id),
                ));
            }
            for (i, q) in section.questions.iter().enumerate() {
                let path = format!("question {}", q.id);
                check_id(&format!("sections[{s}].questions[{i}].id"), &q.id)?;
                if seen.contains_key(q.id.as_str()) {
                    return Err(doc_error(path, "the id is used twice"));
                }
                self.check_question(q, &seen, &path)?;
                seen.insert(q.id.as_str(), q);
            }
        }
        // `from` may name a later date question, so it is checked once every id is known.
        for q in self.questions() {
            for (label, meaning) in meanings(q) {
                let Some(from) = &meaning.from else { continue };
                let path = format!("question {} answer {label}: from", q.id);
                let Some(date_q) = seen.get(from.as_str()) else {
                    return Err(doc_error(path, format!("no question {from}")));
                };
                if date_q.kind != QuestionKind::Date {
                    return Err(doc_error(path, format!("{from} is not a date question")));
                }
                // The date must be asked whenever this answer is given: its condition, if
                // any, is this very question (any answer that carries the meaning).
                if let Some(cond) = &date_q.when
                    && cond.question != q.id
                    && Some(cond) != q.when.as_ref()
                {
                    return Err(doc_error(
                        path,
                        format!("{from} is not asked whenever {} is answered", q.id),
                    ));
                }
                if meaning.defer.is_none() {
                    return Err(doc_error(path, "a date without a deferral means nothing"));
                }
            }
        }
        Ok(())
    }

    fn check_question(
        &self,
        q: &Question,
        earlier: &BTreeMap<&str, &Question>,
        path: &str,
    ) -> Result<(), DocumentError> {
        check_text(&format!("{path} text.zh"), &q.text.zh, 500)?;
        check_text(&format!("{path} text.en"), &q.text.en, 500)?;
        match &q.kind {
            QuestionKind::Choice { options } => {
                if options.len() < 2 {
                    return Err(doc_error(path, "a choice needs at least two options"));
                }
                let mut ids = BTreeSet::new();
                for o in options {
                    check_id(&format!("{path} option"), &o.id)?;
                    if !ids.insert(o.id.as_str()) {
                        return Err(doc_error(path, format!("option {} is listed twice", o.id)));
                    }
                }
            }
            QuestionKind::Number { min, max, .. } => {
                if !(min.is_finite() && max.is_finite() && min < max) {
                    return Err(doc_error(
                        path,
                        "min and max must be numbers with min < max",
                    ));
                }
            }
            QuestionKind::Text { max_length } => {
                if !(1..=MAX_TEXT_LEN).contains(max_length) {
                    return Err(doc_error(
                        path,
                        format!("max_length must be between 1 and {MAX_TEXT_LEN}"),
                    ));
                }
            }
            QuestionKind::YesNo { .. } | QuestionKind::Date => {}
        }
        for (label, meaning) in meanings(q) {
            if meaning.defer.is_none() && !meaning.review {
                return Err(doc_error(
                    format!("{path} answer {label}"),
                    "a meaning must defer or ask for review",
                ));
            }
        }
        if let Some(cond) = &q.when {
            let Some(parent) = earlier.get(cond.question.as_str()) else {
                return Err(doc_error(
                    format!("{path} when.question"),
                    format!(
                        "{} is not a question before this one (a follow-up comes after its question)",
                        cond.question
                    ),
                ));
            };
            let fits = match (&parent.kind, &cond.is) {
                (QuestionKind::YesNo { .. }, serde_json::Value::Bool(_)) => true,
                (QuestionKind::Choice { options }, serde_json::Value::String(id)) => {
                    options.iter().any(|o| &o.id == id)
                }
                _ => false,
            };
            if !fits {
                return Err(doc_error(
                    format!("{path} when.is"),
                    format!(
                        "{} is not an answer of {} ({})",
                        cond.is,
                        parent.id,
                        parent.kind.name()
                    ),
                ));
            }
            if parent.sex.is_some() && parent.sex != q.sex {
                return Err(doc_error(
                    format!("{path} sex"),
                    format!("a follow-up of {} must be asked of the same sex", parent.id),
                ));
            }
        }
        Ok(())
    }

    /// Problems of this document against a rules table: deferral codes its catalogue
    /// does not have. A station checks before it publishes.
    pub fn check_against(&self, rules: &RuleSet) -> Vec<DocumentError> {
        let mut out = Vec::new();
        for q in self.questions() {
            for (label, meaning) in meanings(q) {
                if let Some(code) = &meaning.defer
                    && rules.deferrals.deferral(code).is_none()
                {
                    out.push(doc_error(
                        format!("question {} answer {label}: defer", q.id),
                        format!(
                            "{code} is not in the deferral catalogue of rules table {}",
                            rules.version
                        ),
                    ));
                }
            }
        }
        out
    }
}

/// A question's answers that mean something, each with its meaning: `yes`, `no`, or a
/// choice's option id.
pub fn meanings(q: &Question) -> Vec<(String, &Meaning)> {
    match &q.kind {
        QuestionKind::YesNo { yes, no } => yes
            .iter()
            .map(|m| ("yes".to_owned(), m))
            .chain(no.iter().map(|m| ("no".to_owned(), m)))
            .collect(),
        QuestionKind::Choice { options } => options
            .iter()
            .filter_map(|o| o.means.as_ref().map(|m| (o.id.clone(), m)))
            .collect(),
        _ => Vec::new(),
    }
}

fn check_id(path: &str, id: &str) -> Result<(), DocumentError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(doc_error(
            path,
            format!(
                "{id:?} must be lower_snake_case (a-z, 0-9, _), at most {MAX_ID_LEN} characters"
            ),
        ))
    }
}

fn check_text(path: &str, text: &str, max: usize) -> Result<(), DocumentError> {
    if text.trim().is_empty() {
        return Err(doc_error(path, "must not be empty"));
    }
    if text.chars().count() > max {
        return Err(doc_error(path, format!("at most {max} characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
