// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * Stable identifiers of failing rules. The wire form is the UPPER_SNAKE name; never
 * rename a variant's wire form, tools match on it.
 */
export type ReasonCode = "AGE_BELOW_MIN" | "AGE_ABOVE_MAX" | "WEIGHT_BELOW_MIN" | "SYSTOLIC_LOW" | "SYSTOLIC_HIGH" | "DIASTOLIC_LOW" | "DIASTOLIC_HIGH" | "PULSE_PRESSURE_LOW" | "PULSE_LOW" | "PULSE_HIGH" | "TEMPERATURE_LOW" | "TEMPERATURE_HIGH" | "HEMOGLOBIN_LOW" | "ALT_HIGH" | "HBSAG_POSITIVE" | "VOLUME_NOT_ALLOWED" | "HEMATOCRIT_LOW" | "PLATELET_COUNT_LOW" | "PLATELET_COUNT_HIGH" | "INTERVAL_NOT_MET" | "APHERESIS_YEARLY_COUNT" | "APHERESIS_YEARLY_VOLUME" | "DEFERRAL_ACTIVE" | "DEFERRAL_PERMANENT" | "QUESTIONNAIRE_DEFERRAL" | "QUESTIONNAIRE_INCOMPLETE";
