// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * What the physician decided, after seeing the computed eligibility.
 */
export type PhysicianDecision = { "kind": "accept" } | { "kind": "defer", code: string, until: string | null, } | { "kind": "override", overridden_codes: Array<string>, reason: string, };
