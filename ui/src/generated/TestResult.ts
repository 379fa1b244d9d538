// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * Result of a rapid qualitative test. `NotDone` is what the screener records when the
 * test was not done on the bus (the station's laboratory tests every donation anyway):
 * a real answer, never a default, and never counted as negative on a form.
 */
export type TestResult = "negative" | "positive" | "not_done";
