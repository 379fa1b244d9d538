// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * Text in both languages, as the document gives it (`{"zh", "en"}`).
 */
export type Text = { zh: string, en: string, };
