// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * Deferrals only accumulate: lifting one early is a new entry naming it in `lifts`.
 */
export type Deferral = { id: string, donor_id: string, code: string, reason: string, start: string, 
/**
 * `None` is permanent. The donor may donate again on this date.
 */
until: string | null, screening_id: string | null, recorded_by: string, recorded_at: string, lifts: string | null, };
