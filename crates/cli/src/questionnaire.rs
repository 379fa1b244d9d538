//! `lifebridge questionnaire show`: the donor health questionnaire with every question's
//! id, text, answer type and what each answer means (the deferral, its period and scope
//! from the rules table, the date it counts from, or "physician reviews").

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use lifebridge_domain::questionnaire::{self, Meaning, QuestionKind, Questionnaire};
use lifebridge_domain::rules::{DeferralScope, RuleSet};
use serde_json::{Value, json};

#[derive(Subcommand)]
pub(crate) enum QuestionnaireCommand {
    /// The built-in (GB 18467-2011) or given questionnaire: every question's id, text,
    /// answer type and what each answer means under the rules table.
    Show {
        /// Print it as JSON (the document's questions with their meanings resolved).
        #[arg(long)]
        json: bool,
        /// A questionnaire document (JSON) to show instead of the built-in one.
        #[arg(long)]
        file: Option<PathBuf>,
        /// A rules table (JSON) whose deferral catalogue the meanings refer to, instead
        /// of the built-in GB 18467-2011 table.
        #[arg(long)]
        rules: Option<PathBuf>,
    },
}

pub(crate) fn run(cmd: QuestionnaireCommand) -> Result<()> {
    match cmd {
        QuestionnaireCommand::Show { json, file, rules } => {
            show(json, file.as_deref(), &crate::load_rules(rules.as_deref())?)
        }
    }
}

/// The built-in questionnaire, or the one in `path`, checked.
pub(crate) fn load(path: Option<&Path>) -> Result<Questionnaire> {
    Ok(match path {
        None => questionnaire::built_in().clone(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read questionnaire {}", path.display()))?;
            Questionnaire::from_json(&text)
                .with_context(|| format!("questionnaire {}", path.display()))?
        }
    })
}

fn show(as_json: bool, path: Option<&Path>, rules: &RuleSet) -> Result<()> {
    let doc = load(path)?;
    let problems = doc.check_against(rules);
    if as_json {
        println!("{}", serde_json::to_string_pretty(&to_json(&doc, rules))?);
    } else {
        print_text(&doc, rules);
    }
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        bail!(
            "the questionnaire does not fit rules table {}: {}",
            rules.version,
            list.join("; ")
        );
    }
    Ok(())
}

/// One meaning in words: "defer TATTOO (12 months, from tattoo_when)", "physician reviews".
fn meaning_text(m: &Meaning, rules: &RuleSet) -> String {
    let mut parts = Vec::new();
    if let Some(code) = &m.defer {
        let period = rules.deferrals.deferral(code).map_or_else(
            || "not in the rules table".to_owned(),
            |k| {
                let mut p = period_text(k.period);
                if let DeferralScope::Products(products) = &k.scope {
                    let names: Vec<&str> = products.iter().map(|c| c.as_str()).collect();
                    p.push_str(&format!(", excludes {}", names.join(", ")));
                }
                p
            },
        );
        let from = m
            .from
            .as_deref()
            .map_or("from the screening day".to_owned(), |q| format!("from {q}"));
        parts.push(format!("defer {code} ({period}, {from})"));
    }
    if m.review {
        parts.push("physician reviews".to_owned());
    }
    parts.join(" + ")
}

fn period_text(p: lifebridge_domain::rules::DeferralPeriod) -> String {
    use lifebridge_domain::rules::DeferralPeriod;
    match p {
        DeferralPeriod::Days(n) => format!("{n} days"),
        DeferralPeriod::Months(n) => format!("{n} months"),
        DeferralPeriod::Permanent => "permanent".to_owned(),
        DeferralPeriod::StationSet => "end date set by the physician".to_owned(),
        DeferralPeriod::UntilEligible => "until eligible".to_owned(),
    }
}

fn type_text(kind: &QuestionKind) -> String {
    match kind {
        QuestionKind::YesNo { .. } => "yes/no".to_owned(),
        QuestionKind::Date => "date or how long ago".to_owned(),
        QuestionKind::Choice { options } => format!(
            "choice: {}",
            options
                .iter()
                .map(|o| o.id.as_str())
                .collect::<Vec<_>>()
                .join(" | ")
        ),
        QuestionKind::Number { min, max, unit } => format!(
            "number {min}–{max}{}",
            unit.as_ref()
                .map(|u| format!(" {}", u.en))
                .unwrap_or_default()
        ),
        QuestionKind::Text { max_length } => format!("text, at most {max_length} characters"),
    }
}

fn print_text(doc: &Questionnaire, rules: &RuleSet) {
    println!("{} — {} / {}", doc.version, doc.title.zh, doc.title.en);
    println!(
        "consent {}: {} / {}",
        doc.consent.version, doc.consent.title.zh, doc.consent.title.en
    );
    println!("deferrals from rules table {}", rules.version);
    for section in &doc.sections {
        println!();
        println!(
            "[{}] {} / {}",
            section.id, section.title.zh, section.title.en
        );
        for q in &section.questions {
            println!("{}\t{}", q.id, type_text(&q.kind));
            println!("\t{}", q.text.zh);
            println!("\t{}", q.text.en);
            if let Some(cond) = &q.when {
                println!("\tasked when {} = {}", cond.question, cond.is);
            }
            if let Some(sex) = q.sex {
                println!("\tasked of {} donors only", sex.as_str());
            }
            for (answer, m) in questionnaire::meanings(q) {
                println!("\t{answer} → {}", meaning_text(m, rules));
            }
        }
    }
}

fn to_json(doc: &Questionnaire, rules: &RuleSet) -> Value {
    let questions: Vec<Value> = doc
        .sections
        .iter()
        .flat_map(|s| s.questions.iter().map(move |q| (s, q)))
        .map(|(s, q)| {
            let meanings: Vec<Value> = questionnaire::meanings(q)
                .into_iter()
                .map(|(answer, m)| {
                    let kind = m.defer.as_deref().and_then(|c| rules.deferrals.deferral(c));
                    json!({
                        "answer": answer,
                        "defer": m.defer,
                        "period": kind.map(|k| k.period),
                        "scope": kind.map(|k| k.scope.clone()),
                        "from": m.from,
                        "review": m.review,
                        "means": meaning_text(m, rules),
                    })
                })
                .collect();
            let mut v = serde_json::to_value(q).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut v {
                map.insert("section".into(), Value::String(s.id.clone()));
                map.insert("meanings".into(), Value::Array(meanings));
            }
            v
        })
        .collect();
    json!({
        "version": doc.version,
        "standard": doc.standard,
        "title": doc.title,
        "consent": doc.consent,
        "rules_version": rules.version,
        "questions": questions,
    })
}
