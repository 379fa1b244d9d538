// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * Where a bag stands at the desk.
 */
export type BagStatus = "received" | "missing" | "extra";
