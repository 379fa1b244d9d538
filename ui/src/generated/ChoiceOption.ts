// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Meaning } from "./Meaning";
import type { Text } from "./Text";

export type ChoiceOption = { id: string, text: Text, means?: Meaning | null, };
