// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Question } from "./Question";
import type { Text } from "./Text";

export type Section = { id: string, title: Text, questions: Array<Question>, };
