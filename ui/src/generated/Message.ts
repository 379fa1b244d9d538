// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Param } from "./Param";

/**
 * A sentence for a person: a catalogue code and its parameters.
 */
export type Message = { code: string, params?: { [key in string]: Param }, };
