// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * Who signed, by name as well as id: the station may not hold the device's staff list.
 */
export type Signatory = { staff_id: string, name: string, };
