// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Procedure } from "./Procedure";
import type { RapidTests } from "./RapidTests";
import type { Vitals } from "./Vitals";
import type { JsonValue } from "./serde_json/JsonValue";

/**
 * The physician's screening form, evaluated live and recorded with a decision.
 */
export type ScreeningForm = { donor_id: string, drive_id: string, procedure: Procedure, planned_volume_ml: number | null, questionnaire_version: string, answers: { [key in string]: JsonValue }, vitals: Vitals, tests: RapidTests, athlete: boolean, 
/**
 * Product-scoped deferral codes found at this screening (antiplatelet drugs).
 */
restrictions: Array<string>, };
