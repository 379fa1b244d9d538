// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * ISBT 128 Donation Identification Number, always valid once constructed.
 *
 * Ordering is the ordering of the 13-character text, which for one facility and year
 * is sequence order.
 */
export type Din = string;
