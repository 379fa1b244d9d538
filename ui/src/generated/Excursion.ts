// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * A stretch of readings outside the box's range: from the first reading outside to the
 * last one before it came back (or the last reading, if it never did).
 */
export type Excursion = { from: string, to: string, 
/**
 * The reading furthest outside the range.
 */
extreme_c: number, readings: number, };
