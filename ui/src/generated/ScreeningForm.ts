// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Consent } from "./Consent";
import type { Procedure } from "./Procedure";
import type { RapidTests } from "./RapidTests";
import type { Vitals } from "./Vitals";
import type { JsonValue } from "./serde_json/JsonValue";

/**
 * The physician's screening form as the screening screen sends it: evaluated live
 * (`evaluate_screening`) and, with a decision, recorded (`NewScreening`). The UI's
 * TypeScript type is generated from it (feature `ts`).
 */
export type ScreeningForm = { donor_id: string, drive_id: string, procedure: Procedure, planned_volume_ml: number | null, questionnaire_version: string, answers: { [key in string]: JsonValue }, vitals: Vitals, tests: RapidTests, athlete: boolean, 
/**
 * Product-scoped deferrals found at this screening (antiplatelet drugs): recorded
 * with the decision as deferral records, they exclude products, not the donor.
 */
restrictions: Array<string>, 
/**
 * What the physician found for each answer the decision lists for review (question
 * id → finding): needed to accept or waive.
 */
review_findings: { [key in string]: string }, 
/**
 * The donor's informed consent, signed on the consent screen before the decision:
 * required to accept or waive.
 */
consent: Consent | null, 
/**
 * The witness's PIN when the donor could not sign; checked against their account
 * and never stored.
 */
witness_pin: string | null, 
/**
 * The physician's note on today's rapid ABO/RhD differing from the donor's record:
 * required to accept with a mismatch, stored with the screening.
 */
abo_rh_note: string | null, };
