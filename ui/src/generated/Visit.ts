// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * One donor's pass through one drive, from check-in. Where the donor stands in the
 * chair queue is derived from the screening and donation, not stored here.
 */
export type Visit = { id: string, drive_id: string, donor_id: string, checked_in_at: string, checked_in_by: string, };
