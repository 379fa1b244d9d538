// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * A piece verified by typing its DIN instead of scanning it: the exception path, with
 * the reason and a second crew member who confirmed it with their PIN.
 */
export type ManualVerification = { reason: string, 
/**
 * The second crew member (not the one at the chair) whose PIN authorised it.
 */
authorised_by: string, };
