// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * An identity document as recorded for a donor.
 *
 * Build it with [`IdentityDocument::parse`] (or deserialise it), which validates the
 * number; the variants' fields are public for matching, not for unchecked construction.
 * Serialised as `{"kind": "passport", "number": "E12345678"}`.
 */
export type IdentityDocument = { kind: string, number: string };
