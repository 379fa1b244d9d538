// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Text } from "./Text";

/**
 * An answer the physician must review and record a finding for.
 */
export type ReviewItem = { question: string, text: Text, 
/**
 * The answer as the donor gave it, in words for the physician (option text, date…).
 */
answer: Text, };
