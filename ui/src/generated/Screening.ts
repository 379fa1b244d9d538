// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Consent } from "./Consent";
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
review_findings?: { [key in string]: string }, 
/**
 * The donor's informed consent (`consent`): required to accept or waive; absent
 * on a deferral the donor did not sign for, and on screenings recorded before it.
 */
consent?: Consent | null, 
/**
 * The physician's note on today's rapid ABO/RhD differing from the group on the
 * donor's record (`blood_group::mismatch`): required to accept with a mismatch.
 */
abo_rh_note?: string | null, };
