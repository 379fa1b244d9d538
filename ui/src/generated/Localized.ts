// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * Text given in both languages by data outside the catalogue (the rules table).
 */
export type Localized = { "zh-CN": string, en: string, };
