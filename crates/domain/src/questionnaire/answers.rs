//! A donor's answers against a questionnaire: which questions apply, whether each answer
//! fits its question, and what the answers mean on a given day.

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::common::Sex;
use crate::rules::{DeferralPeriod, DeferralScope, RuleSet};

use super::*;

/// The answers recorded with a screening, and the questionnaire version they answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QuestionnaireAnswers {
    pub version: String,
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    pub answers: BTreeMap<String, Value>,
}

/// The key under which a screening's answers keep the "endurance athlete" declaration
/// (a pulse rule, not a question), so a later correction is judged by the same rule.
pub const ATHLETE_ANSWER: &str = "endurance_athlete";

/// The one answer screenings recorded before the questionnaire was data hold: the
/// screener's "questionnaire completed, no findings" checkbox.
pub const LEGACY_NO_FINDINGS: &str = "no_findings";

/// The questionnaire answers among a screening's `answers`: without the athlete
/// declaration, and `None` for a screening recorded with the old checkbox alone
/// (legacy: no answer to any question, nothing to evaluate).
pub fn screening_answers(
    version: &str,
    answers: &BTreeMap<String, Value>,
) -> Option<QuestionnaireAnswers> {
    let questions: BTreeMap<String, Value> = answers
        .iter()
        .filter(|(k, _)| k.as_str() != ATHLETE_ANSWER)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // Legacy only when the old checkbox is there: a screening with no answers at all
    // is an unanswered questionnaire, not an old one.
    if questions.contains_key(LEGACY_NO_FINDINGS) && questions.len() == 1 {
        return None;
    }
    Some(QuestionnaireAnswers {
        version: version.to_owned(),
        answers: questions,
    })
}

/// An answer that does not fit the questionnaire; `question` is its id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("question {question}: {problem}")]
pub struct AnswerError {
    pub question: String,
    pub problem: String,
}

fn answer_error(question: &str, problem: impl Into<String>) -> AnswerError {
    AnswerError {
        question: question.to_owned(),
        problem: problem.into(),
    }
}

/// A deferral that follows from an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AnswerDeferral {
    /// The question whose answer defers.
    pub question: String,
    /// The deferral catalogue's code.
    pub code: String,
    /// The day the period counts from (the date answered, else the screening day).
    pub start: NaiveDate,
    /// The day the donor may donate again; `None` when permanent or when the physician
    /// sets the end (station-set periods).
    pub until: Option<NaiveDate>,
    pub period: DeferralPeriod,
    /// Only some products are ruled out (antiplatelet drugs).
    pub scope: DeferralScope,
    pub waivable: bool,
}

impl AnswerDeferral {
    /// Still in force on `date`.
    pub fn in_force(&self, date: NaiveDate) -> bool {
        self.until.is_none_or(|until| date < until)
    }
}

/// An answer the physician must review and record a finding for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReviewItem {
    pub question: String,
    pub text: Text,
    /// The answer as the donor gave it, in words for the physician (option text, date…).
    pub answer: Text,
}

/// What the answers mean on a day.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Outcome {
    /// Every deferral an answer calls for, in question order, whether or not it has
    /// already ended (see [`AnswerDeferral::in_force`]).
    pub deferrals: Vec<AnswerDeferral>,
    pub review: Vec<ReviewItem>,
    /// Questions that apply to this donor and have no answer yet, in order.
    pub unanswered: Vec<String>,
}

/// A date answer: a day, or how long ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateAnswer {
    On(NaiveDate),
    Ago(u32, AgoUnit),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgoUnit {
    Days,
    Weeks,
    Months,
    Years,
}

/// Longest "how long ago" a date answer may say, in years.
const MAX_YEARS_AGO: u32 = 100;

impl DateAnswer {
    pub fn parse(value: &Value) -> Result<DateAnswer, String> {
        const ALLOWED: &str =
            r#"a date "YYYY-MM-DD" or {"ago": N, "unit": "days" | "weeks" | "months" | "years"}"#;
        match value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(DateAnswer::On)
                .map_err(|_| format!("{s:?} is not a date; allowed: {ALLOWED}")),
            Value::Object(m) => {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Ago {
                    ago: u32,
                    unit: AgoUnit,
                }
                let ago: Ago = serde_json::from_value(Value::Object(m.clone()))
                    .map_err(|e| format!("{e}; allowed: {ALLOWED}"))?;
                Ok(DateAnswer::Ago(ago.ago, ago.unit))
            }
            other => Err(format!("{other} is not a date; allowed: {ALLOWED}")),
        }
    }

    /// The day meant, counted back from `today` for "how long ago".
    pub fn resolve(self, today: NaiveDate) -> Option<NaiveDate> {
        match self {
            DateAnswer::On(d) => Some(d),
            DateAnswer::Ago(n, unit) => {
                let years = match unit {
                    AgoUnit::Days => n / 365,
                    AgoUnit::Weeks => n / 52,
                    AgoUnit::Months => n / 12,
                    AgoUnit::Years => n,
                };
                if years > MAX_YEARS_AGO {
                    return None;
                }
                match unit {
                    AgoUnit::Days => today.checked_sub_days(chrono::Days::new(u64::from(n))),
                    AgoUnit::Weeks => today.checked_sub_days(chrono::Days::new(u64::from(n) * 7)),
                    AgoUnit::Months => today.checked_sub_months(Months::new(n)),
                    AgoUnit::Years => today.checked_sub_months(Months::new(n.checked_mul(12)?)),
                }
            }
        }
    }
}

impl Questionnaire {
    /// The answers of a donor of `sex` with nothing to declare: each yes/no question the
    /// answer that means nothing ("yes, I feel well", "no tattoo"), each choice its first
    /// option that means nothing; the follow-ups then do not apply. For the training
    /// drive and tests; a question with no such answer is left unanswered.
    pub fn nothing_to_declare(&self, sex: Sex) -> BTreeMap<String, Value> {
        let mut answers = BTreeMap::new();
        for q in self.questions() {
            if !self.applies(q, sex, &answers) {
                continue;
            }
            let value = match &q.kind {
                QuestionKind::YesNo { yes, no } => match (yes, no) {
                    (_, None) => Value::Bool(false),
                    (None, Some(_)) => Value::Bool(true),
                    (Some(_), Some(_)) => continue,
                },
                QuestionKind::Choice { options } => {
                    match options.iter().find(|o| o.means.is_none()) {
                        Some(o) => Value::String(o.id.clone()),
                        None => continue,
                    }
                }
                QuestionKind::Date | QuestionKind::Number { .. } | QuestionKind::Text { .. } => {
                    continue;
                }
            };
            answers.insert(q.id.clone(), value);
        }
        answers
    }

    /// Whether `q` is asked of a donor of `sex` with these answers so far.
    pub fn applies(&self, q: &Question, sex: Sex, answers: &BTreeMap<String, Value>) -> bool {
        if q.sex.is_some_and(|s| s != sex) {
            return false;
        }
        match &q.when {
            None => true,
            Some(cond) => {
                let parent_applies = self
                    .question(&cond.question)
                    .is_some_and(|p| self.applies(p, sex, answers));
                parent_applies && answers.get(&cond.question) == Some(&cond.is)
            }
        }
    }

    /// The ids of the questions asked of this donor with these answers, in order.
    pub fn applicable(&self, sex: Sex, answers: &BTreeMap<String, Value>) -> Vec<String> {
        self.questions()
            .filter(|q| self.applies(q, sex, answers))
            .map(|q| q.id.clone())
            .collect()
    }

    /// Checks each answer against its question and says what the answers mean on
    /// `date` for a donor of `sex`, with `rules`' deferral catalogue.
    ///
    /// Refused, naming the question: an answer to a question the document does not
    /// have, one of the wrong type or out of bounds, one to a question that does not
    /// apply (a follow-up whose condition does not hold, the other sex's), a date after
    /// `date`, or a meaning whose code the catalogue does not have. Unanswered questions
    /// are not an error: [`Outcome::unanswered`] lists them.
    pub fn evaluate(
        &self,
        rules: &RuleSet,
        sex: Sex,
        date: NaiveDate,
        answers: &BTreeMap<String, Value>,
    ) -> Result<Outcome, AnswerError> {
        for id in answers.keys() {
            let Some(q) = self.question(id) else {
                return Err(answer_error(
                    id,
                    format!("questionnaire {} has no such question", self.version),
                ));
            };
            if !self.applies(q, sex, answers) {
                let why = match (&q.sex, &q.when) {
                    (Some(s), _) if *s != sex => {
                        format!("asked only of {} donors", s.as_str())
                    }
                    (_, Some(cond)) => {
                        format!("asked only when {} is answered {}", cond.question, cond.is)
                    }
                    _ => "not asked".to_owned(),
                };
                return Err(answer_error(id, format!("has an answer but is {why}")));
            }
        }
        let mut out = Outcome::default();
        for q in self.questions() {
            if !self.applies(q, sex, answers) {
                continue;
            }
            let Some(value) = answers.get(&q.id) else {
                out.unanswered.push(q.id.clone());
                continue;
            };
            let (meaning, words) = self.check_answer(q, value, date)?;
            let Some(meaning) = meaning else { continue };
            if meaning.review {
                out.review.push(ReviewItem {
                    question: q.id.clone(),
                    text: q.text.clone(),
                    answer: words,
                });
            }
            if let Some(code) = &meaning.defer {
                out.deferrals
                    .push(self.deferral(rules, q, meaning, code, date, answers)?);
            }
        }
        Ok(out)
    }

    /// `value` in words for people (the option's text, "是 / yes", the day meant), or
    /// why it does not fit `q`; what check-in shows of a donor's pre-filled answers.
    pub fn answer_words(
        &self,
        q: &Question,
        value: &Value,
        date: NaiveDate,
    ) -> Result<Text, AnswerError> {
        self.check_answer(q, value, date).map(|(_, words)| words)
    }

    /// The meaning of `value` for `q` and the answer in words, or why it does not fit.
    fn check_answer<'q>(
        &self,
        q: &'q Question,
        value: &Value,
        date: NaiveDate,
    ) -> Result<(Option<&'q Meaning>, Text), AnswerError> {
        let same = |s: String| Text {
            zh: s.clone(),
            en: s,
        };
        match &q.kind {
            QuestionKind::YesNo { yes, no } => match value {
                Value::Bool(true) => Ok((
                    yes.as_ref(),
                    Text {
                        zh: "是".into(),
                        en: "yes".into(),
                    },
                )),
                Value::Bool(false) => Ok((
                    no.as_ref(),
                    Text {
                        zh: "否".into(),
                        en: "no".into(),
                    },
                )),
                other => Err(answer_error(
                    &q.id,
                    format!(
                        "{other} is not an answer to a yes/no question; allowed: true or false"
                    ),
                )),
            },
            QuestionKind::Choice { options } => {
                let chosen = value
                    .as_str()
                    .and_then(|id| options.iter().find(|o| o.id == id));
                match chosen {
                    Some(o) => Ok((o.means.as_ref(), o.text.clone())),
                    None => Err(answer_error(
                        &q.id,
                        format!(
                            "{value} is not one of its options; allowed: {}",
                            options
                                .iter()
                                .map(|o| o.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )),
                }
            }
            QuestionKind::Date => {
                let day = resolve_date(q, value, date)?;
                Ok((None, same(day.to_string())))
            }
            QuestionKind::Number { min, max, .. } => match value.as_f64() {
                Some(n) if n.is_finite() && (*min..=*max).contains(&n) => {
                    Ok((None, same(n.to_string())))
                }
                _ => Err(answer_error(
                    &q.id,
                    format!("{value} is not allowed; allowed: a number from {min} to {max}"),
                )),
            },
            QuestionKind::Text { max_length } => match value.as_str() {
                Some(s) if s.trim().is_empty() => Err(answer_error(
                    &q.id,
                    "is empty; write the answer, or answer the question before it no",
                )),
                Some(s) if s.chars().count() <= *max_length => Ok((None, same(s.to_owned()))),
                Some(s) => Err(answer_error(
                    &q.id,
                    format!(
                        "has {} characters; at most {max_length} allowed",
                        s.chars().count()
                    ),
                )),
                None => Err(answer_error(
                    &q.id,
                    format!("{value} is not text; allowed: a string"),
                )),
            },
        }
    }

    fn deferral(
        &self,
        rules: &RuleSet,
        q: &Question,
        meaning: &Meaning,
        code: &str,
        date: NaiveDate,
        answers: &BTreeMap<String, Value>,
    ) -> Result<AnswerDeferral, AnswerError> {
        let kind = rules.deferrals.deferral(code).ok_or_else(|| {
            answer_error(
                &q.id,
                format!(
                    "means deferral {code}, which the deferral catalogue of rules table {} does not have",
                    rules.version
                ),
            )
        })?;
        let start = match &meaning.from {
            None => date,
            Some(from) => {
                let from_q = self
                    .question(from)
                    .ok_or_else(|| answer_error(&q.id, format!("no question {from}")))?;
                match answers.get(from) {
                    Some(v) => resolve_date(from_q, v, date)?,
                    // Not answered yet: counted from today until the date is given (the
                    // questionnaire is incomplete meanwhile, so no one decides on it).
                    None => date,
                }
            }
        };
        Ok(AnswerDeferral {
            question: q.id.clone(),
            code: kind.code.clone(),
            start,
            until: kind.until(start),
            period: kind.period,
            scope: kind.scope.clone(),
            waivable: kind.waivable,
        })
    }
}

fn resolve_date(q: &Question, value: &Value, date: NaiveDate) -> Result<NaiveDate, AnswerError> {
    let answer = DateAnswer::parse(value).map_err(|p| answer_error(&q.id, p))?;
    let day = answer.resolve(date).ok_or_else(|| {
        answer_error(
            &q.id,
            format!("{value} is too long ago; at most {MAX_YEARS_AGO} years"),
        )
    })?;
    if day > date {
        return Err(answer_error(
            &q.id,
            format!("{day} is after the screening day {date}; a date on or before it is allowed"),
        ));
    }
    let earliest = date
        .checked_sub_months(Months::new(MAX_YEARS_AGO * 12))
        .unwrap_or(NaiveDate::MIN);
    if day < earliest {
        return Err(answer_error(
            &q.id,
            format!("{day} is more than {MAX_YEARS_AGO} years ago"),
        ));
    }
    Ok(day)
}
