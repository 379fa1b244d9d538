// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Sex } from "./Sex";

/**
 * An identity document as it is typed or scanned, with what a resident ID encodes.
 */
export type DocumentCheck = { kind: string, number: string, birth_date: string | null, sex: Sex | null, };
