// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
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
review_findings: { [key in string]: string }, };
