// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * How the donor consented.
 */
export type ConsentSignature = { "kind": "signed", strokes: Array<Array<[number, number]>>, } | { "kind": "witnessed", witness_id: string, reason: string, };
