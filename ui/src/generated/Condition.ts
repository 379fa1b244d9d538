// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * "Asked when question `question` was answered `is`".
 */
export type Condition = { question: string, 
/**
 * `true`/`false` for a yes/no question, an option id for a choice.
 */
is: boolean | string, };
