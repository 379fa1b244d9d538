// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * ISBT 128 facility identification number (FIN), 5 characters.
 *
 * Parsing upper-cases its input; serde only accepts the canonical upper-case form
 * because anything stored was written by us.
 */
export type FacilityId = string;
