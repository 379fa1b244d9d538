// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { QuestionnaireAnswers } from "./QuestionnaireAnswers";

/**
 * One donor's pass through one drive, from check-in. Where the donor stands in the
 * chair queue is derived from the screening and donation, not stored here.
 */
export type Visit = { id: string, drive_id: string, donor_id: string, checked_in_at: string, checked_in_by: string, 
/**
 * The questionnaire answers the donor brought in a pre-fill QR (checked against the
 * questionnaire at check-in); the screening tablet starts from them.
 */
prefill?: QuestionnaireAnswers, };
