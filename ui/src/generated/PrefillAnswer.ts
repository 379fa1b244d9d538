// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Text } from "./Text";

/**
 * One answer the code holds, as the nurse goes through it with the donor.
 */
export type PrefillAnswer = { question: string, text: Text, 
/**
 * The answer in words (the option's text, yes / no, the day meant).
 */
answer: Text, 
/**
 * The deferral catalogue code the answer calls for, if any.
 */
defers: string | null, 
/**
 * The physician must review this answer.
 */
review: boolean, };
