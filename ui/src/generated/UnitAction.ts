// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * What a finding does to a unit: it may still be used for less (downgrade), or it may
 * not be used until someone decides (quarantine). Quarantine is the worse of the two.
 */
export type UnitAction = "downgrade" | "quarantine";
