//! Reading and checking a rules table whole: every field named with what is allowed.

use std::collections::HashSet;

use chrono::NaiveDate;

use crate::common::{Procedure, Sex};
use crate::product::ProductClass;

use super::*;

impl RuleSet {
    /// GB 18467-2011 as shipped.
    pub fn gb18467_2011() -> RuleSet {
        // The embedded file is part of the build; `embedded_rules_are_valid` proves it
        // parses and validates, so this cannot fail at run time.
        RuleSet::from_json(GB18467_2011_JSON).expect("embedded GB 18467-2011 rules are valid")
    }

    /// Parses a rules file and checks it is internally consistent.
    pub fn from_json(json: &str) -> Result<RuleSet, RulesError> {
        let rules: RuleSet =
            serde_json::from_str(json).map_err(|e| RulesError::Json(e.to_string()))?;
        rules.validate()?;
        Ok(rules)
    }

    /// Minimum interval from a `from` donation to a `to` donation.
    pub fn interval(&self, from: Procedure, to: Procedure) -> Option<Period> {
        self.interval_rule(from, to).map(|r| r.period)
    }

    /// The interval rule from a `from` donation to a `to` donation, with its waiver.
    pub fn interval_rule(&self, from: Procedure, to: Procedure) -> Option<&IntervalRule> {
        self.intervals
            .iter()
            .find(|r| r.from_procedure == from && r.to_procedure == to)
    }

    /// Checks that thresholds make sense together (min below max, fractions below 1,
    /// every interval pair present once, deferral codes unique…).
    pub fn validate(&self) -> Result<(), RulesError> {
        if self.version.trim().is_empty() {
            return Err(invalid("version", "must not be empty"));
        }
        if self.standard.trim().is_empty() {
            return Err(invalid("standard", "must not be empty"));
        }
        let region_ok = !self.region.is_empty()
            && self.region.len() <= 16
            && self
                .region
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if !region_ok {
            return Err(invalid(
                "region",
                format!(
                    "must be CN or a province code such as CN-ZJ (A-Z, 0-9, -), got {:?}",
                    self.region
                ),
            ));
        }
        // Blood is a little denser than water; outside this band the figure is a typo.
        if !(1.0..=1.1).contains(&self.collection.grams_per_ml) {
            return Err(invalid(
                "collection.grams_per_ml",
                "must be between 1.0 and 1.1 (whole blood is about 1.05 g/mL)",
            ));
        }
        for class in ProductClass::ALL {
            let field = format!("cold_chain.classes[{class}]");
            let matching = self.cold_chain.classes.iter().filter(|c| c.class == class);
            let rule = match matching.clone().count() {
                1 => matching.into_iter().next(),
                0 => return Err(invalid(field, "missing: every product class needs a range")),
                _ => return Err(invalid(field, "listed more than once")),
            };
            if let Some(rule) = rule {
                let range = rule.range;
                if !(range.min_c.is_finite()
                    && range.max_c.is_finite()
                    && range.min_c < range.max_c)
                {
                    return Err(invalid(
                        format!("{field}.range"),
                        "min_c must be a number below max_c",
                    ));
                }
                if rule.processing_limit_hours == 0 {
                    return Err(invalid(
                        format!("{field}.processing_limit_hours"),
                        "must be a positive number of hours",
                    ));
                }
                if rule.ffp_separation_hours == Some(0) {
                    return Err(invalid(
                        format!("{field}.ffp_separation_hours"),
                        "must be a positive number of hours",
                    ));
                }
                if rule.over_limit.zh.trim().is_empty() || rule.over_limit.en.trim().is_empty() {
                    return Err(invalid(
                        format!("{field}.over_limit"),
                        "must say what the unit becomes, in zh and en",
                    ));
                }
            }
        }
        self.validate_slow_draw()?;
        self.validate_age()?;
        for (sex, field) in [(Sex::Male, "male"), (Sex::Female, "female")] {
            positive(
                &format!("weight_min_kg.{field}"),
                self.weight_min_kg.get(sex),
            )?;
            positive(
                &format!("hemoglobin_min_g_l.{field}"),
                self.hemoglobin_min_g_l.get(sex),
            )?;
        }
        self.validate_vitals()?;
        positive("alt_max_u_l", self.alt_max_u_l)?;
        self.validate_volumes()?;
        self.validate_apheresis()?;
        self.validate_intervals()?;
        self.validate_deferrals()
    }

    fn validate_slow_draw(&self) -> Result<(), RulesError> {
        let table = &self.collection.slow_draw;
        if table.is_empty() {
            return Err(invalid(
                "collection.slow_draw",
                "must list at least one volume with its limit",
            ));
        }
        for (i, step) in table.iter().enumerate() {
            let field = format!("collection.slow_draw[{i}]");
            if step.volume_ml == 0 {
                return Err(invalid(field, "volume_ml must be above 0"));
            }
            if i > 0 && step.volume_ml <= table[i - 1].volume_ml {
                return Err(invalid(
                    field,
                    "volumes must be listed in ascending order, each once",
                ));
            }
            if !(step.max_minutes.is_finite() && step.max_minutes > 0.0) {
                return Err(invalid(
                    format!("{field}.max_minutes"),
                    format!(
                        "must be a number of minutes above 0 (got {})",
                        step.max_minutes
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_age(&self) -> Result<(), RulesError> {
        let a = self.age;
        if a.min_years == 0 {
            return Err(invalid("age.min_years", "must be at least 1"));
        }
        if a.max_years_first_time < a.min_years {
            return Err(invalid(
                "age.max_years_first_time",
                format!(
                    "must not be below age.min_years ({} < {})",
                    a.max_years_first_time, a.min_years
                ),
            ));
        }
        if a.max_years_repeat < a.max_years_first_time {
            return Err(invalid(
                "age.max_years_repeat",
                format!(
                    "must not be below age.max_years_first_time ({} < {})",
                    a.max_years_repeat, a.max_years_first_time
                ),
            ));
        }
        if a.max_years_repeat > 120 {
            return Err(invalid(
                "age.max_years_repeat",
                format!("must be at most 120 (got {})", a.max_years_repeat),
            ));
        }
        Ok(())
    }

    fn validate_vitals(&self) -> Result<(), RulesError> {
        let bp = self.blood_pressure;
        ordered(
            "blood_pressure.systolic_min_mmhg",
            bp.systolic_min_mmhg,
            "blood_pressure.systolic_below_mmhg",
            bp.systolic_below_mmhg,
        )?;
        ordered(
            "blood_pressure.diastolic_min_mmhg",
            bp.diastolic_min_mmhg,
            "blood_pressure.diastolic_below_mmhg",
            bp.diastolic_below_mmhg,
        )?;
        non_negative(
            "blood_pressure.pulse_pressure_min_mmhg",
            bp.pulse_pressure_min_mmhg,
        )?;
        let p = self.pulse;
        ordered("pulse.min_bpm", p.min_bpm, "pulse.max_bpm", p.max_bpm)?;
        positive("pulse.athlete_min_bpm", p.athlete_min_bpm)?;
        if p.athlete_min_bpm > p.min_bpm {
            return Err(invalid(
                "pulse.athlete_min_bpm",
                format!(
                    "must not be above pulse.min_bpm ({} > {})",
                    p.athlete_min_bpm, p.min_bpm
                ),
            ));
        }
        let t = self.temperature;
        ordered("temperature.min_c", t.min_c, "temperature.max_c", t.max_c)?;
        if !(30.0..=45.0).contains(&t.min_c) || !(30.0..=45.0).contains(&t.max_c) {
            return Err(invalid(
                "temperature",
                format!(
                    "must lie within 30-45 °C (got {}-{}); is it in Fahrenheit?",
                    t.min_c, t.max_c
                ),
            ));
        }
        Ok(())
    }

    fn validate_volumes(&self) -> Result<(), RulesError> {
        if self.whole_blood_volumes_ml.is_empty() {
            return Err(invalid(
                "whole_blood_volumes_ml",
                "must list at least one volume",
            ));
        }
        let mut seen = HashSet::new();
        for (i, &v) in self.whole_blood_volumes_ml.iter().enumerate() {
            let field = format!("whole_blood_volumes_ml[{i}]");
            if v == 0 || v > 1000 {
                return Err(invalid(field, format!("must be 1-1000 mL (got {v})")));
            }
            if !seen.insert(v) {
                return Err(invalid(field, format!("{v} mL is listed twice")));
            }
        }
        Ok(())
    }

    fn validate_apheresis(&self) -> Result<(), RulesError> {
        let a = self.apheresis;
        if !(a.hematocrit_min > 0.0 && a.hematocrit_min < 1.0) {
            return Err(invalid(
                "apheresis.hematocrit_min",
                format!(
                    "must be a fraction between 0 and 1, e.g. 0.36 (got {})",
                    a.hematocrit_min
                ),
            ));
        }
        ordered(
            "apheresis.platelet_count_min_10e9_l",
            a.platelet_count_min_10e9_l,
            "apheresis.platelet_count_below_10e9_l",
            a.platelet_count_below_10e9_l,
        )?;
        if a.max_donations_per_12_months == 0 {
            return Err(invalid(
                "apheresis.max_donations_per_12_months",
                "must be at least 1",
            ));
        }
        positive(
            "apheresis.max_volume_ml_per_12_months",
            a.max_volume_ml_per_12_months,
        )?;
        let p = self.apheresis_plasma;
        if !(p.hematocrit_min > 0.0 && p.hematocrit_min < 1.0) {
            return Err(invalid(
                "apheresis_plasma.hematocrit_min",
                format!(
                    "must be a fraction between 0 and 1, e.g. 0.36 (got {})",
                    p.hematocrit_min
                ),
            ));
        }
        if p.max_donations_per_12_months == 0 {
            return Err(invalid(
                "apheresis_plasma.max_donations_per_12_months",
                "must be at least 1",
            ));
        }
        positive(
            "apheresis_plasma.max_volume_ml_per_12_months",
            p.max_volume_ml_per_12_months,
        )
    }

    fn validate_intervals(&self) -> Result<(), RulesError> {
        for (i, rule) in self.intervals.iter().enumerate() {
            let duplicate = self.intervals[..i].iter().any(|r| {
                r.from_procedure == rule.from_procedure && r.to_procedure == rule.to_procedure
            });
            if duplicate {
                return Err(invalid(
                    format!("intervals[{i}]"),
                    format!(
                        "{} → {} is listed more than once",
                        rule.from_procedure.as_str(),
                        rule.to_procedure.as_str()
                    ),
                ));
            }
            if let Some(waived) = rule.waivable_to {
                // Compared on a fixed day: months and days cannot be compared otherwise.
                let probe = NaiveDate::from_ymd_opt(2001, 1, 31).unwrap_or_default();
                if waived.after(probe) >= rule.period.after(probe) {
                    return Err(invalid(
                        format!("intervals[{i}].waivable_to"),
                        "must be shorter than the interval's period",
                    ));
                }
            }
        }
        for from in ALL_PROCEDURES {
            for to in ALL_PROCEDURES {
                if self.interval(from, to).is_none() {
                    // A missing pair would silently allow back-to-back donations.
                    return Err(invalid(
                        "intervals",
                        format!(
                            "no interval from {} to {}: every pair of procedures must be listed",
                            from.as_str(),
                            to.as_str()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_deferrals(&self) -> Result<(), RulesError> {
        let mut seen = HashSet::new();
        for (i, kind) in self.deferrals.iter().enumerate() {
            let field = |name: &str| format!("deferrals[{i}].{name}");
            let well_formed = !kind.code.is_empty()
                && kind
                    .code
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if !well_formed {
                return Err(invalid(
                    field("code"),
                    format!(
                        "must be non-empty UPPER_SNAKE_CASE (A-Z, 0-9, _), got {:?}",
                        kind.code
                    ),
                ));
            }
            if !seen.insert(kind.code.as_str()) {
                return Err(invalid(
                    field("code"),
                    format!("{} is listed more than once", kind.code),
                ));
            }
            if kind.zh.trim().is_empty() {
                return Err(invalid(field("zh"), "must not be empty"));
            }
            if kind.en.trim().is_empty() {
                return Err(invalid(field("en"), "must not be empty"));
            }
            if matches!(
                kind.period,
                DeferralPeriod::Days(0) | DeferralPeriod::Months(0)
            ) {
                return Err(invalid(
                    field("period"),
                    "must be at least 1 day or 1 month",
                ));
            }
            if kind.waivable && kind.is_permanent() {
                return Err(invalid(
                    field("waivable"),
                    "a permanent deferral can never be waived",
                ));
            }
            if let DeferralScope::Products(products) = &kind.scope {
                if products.is_empty() {
                    return Err(invalid(
                        field("scope"),
                        "must list at least one product class, or be \"all\"",
                    ));
                }
                if kind.is_permanent() {
                    return Err(invalid(
                        field("scope"),
                        "a permanent deferral rules out every donation: use \"all\"",
                    ));
                }
            }
        }
        Ok(())
    }
}

fn positive(field: &str, value: f64) -> Result<(), RulesError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("must be a number above 0 (got {value})"),
        ))
    }
}

fn non_negative(field: &str, value: f64) -> Result<(), RulesError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("must be a number of 0 or more (got {value})"),
        ))
    }
}

fn ordered(low_field: &str, low: f64, high_field: &str, high: f64) -> Result<(), RulesError> {
    positive(low_field, low)?;
    positive(high_field, high)?;
    if low < high {
        Ok(())
    } else {
        Err(invalid(
            low_field,
            format!("must be below {high_field} ({low} >= {high})"),
        ))
    }
}
