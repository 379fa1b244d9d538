// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * Which kind of identity document a donor presented.
 */
export type DocumentKind = "resident_id" | "passport" | "hk_macao_permit" | "taiwan_permit" | "foreigner_permanent_residence";
