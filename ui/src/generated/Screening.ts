// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { PhysicianDecision } from "./PhysicianDecision";
import type { Procedure } from "./Procedure";
import type { RapidTests } from "./RapidTests";
import type { Vitals } from "./Vitals";
import type { JsonValue } from "./serde_json/JsonValue";

export type Screening = { id: string, donor_id: string, drive_id: string, procedure: Procedure, planned_volume_ml: number | null, questionnaire_version: string, answers: { [key in string]: JsonValue }, vitals: Vitals, tests: RapidTests, rules_version: string, 
/**
 * Codes of the rules that failed when the physician decided.
 */
failed_rules: Array<string>, decision: PhysicianDecision, physician_id: string, recorded_at: string, supersedes: string | null, correction_reason: string | null, 
/**
 * What the physician found for each questionnaire answer they had to review
 * (question id → finding); absent in screenings recorded before the questionnaire.
 */
review_findings?: { [key in string]: string }, };
