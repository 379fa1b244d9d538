// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { PrefillAnswer } from "./PrefillAnswer";
import type { QuestionnaireAnswers } from "./QuestionnaireAnswers";

/**
 * The answers a donor brought, for the screening screen: as recorded (the
 * questionnaire's `initial` answers) and in words.
 */
export type PrefilledView = { answers: QuestionnaireAnswers, rows: Array<PrefillAnswer>, };
