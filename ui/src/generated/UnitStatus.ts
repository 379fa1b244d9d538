// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * Where a unit stands: usable as collected, usable for less (downgraded), or held
 * until someone decides (quarantined).
 */
export type UnitStatus = "suitable" | "downgraded" | "quarantined";
