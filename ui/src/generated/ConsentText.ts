// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Text } from "./Text";

/**
 * The informed consent the donor reads and signs, versioned like the questionnaire.
 */
export type ConsentText = { version: string, title: Text, text: Text, };
