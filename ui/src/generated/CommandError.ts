// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Message } from "./Message";

export type CommandError = { code: string, field: string | null, message: string, 
/**
 * Extra figures the UI puts into its translated message (attempts left, times).
 */
detail: Record<string, unknown> | null, 
/**
 * The core's own words for the specifics (which bag, which box), as a catalogue
 * message the UI renders in its language; `message` is the same in English.
 */
text: Message | null, };
