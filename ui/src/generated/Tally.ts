// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * Counts the desk shows at the top, one per kind of line.
 */
export type Tally = { expected: number, received: number, missing: number, extra: number, wrong_box: number, 
/**
 * Received bags whose box left its range.
 */
excursion: number, over_time_limit: number, tubes_missing?: number, 
/**
 * Received units by status.
 */
downgraded?: number, quarantined?: number, };
