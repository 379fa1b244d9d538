// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * The answers recorded with a screening, and the questionnaire version they answer.
 */
export type QuestionnaireAnswers = { version: string, answers: Record<string, unknown>, };
