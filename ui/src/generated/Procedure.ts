// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * What is collected at one sitting. Intervals between donations depend on the pair
 * (previous procedure, next procedure), so this is part of every history entry.
 */
export type Procedure = "whole_blood" | "apheresis_platelets" | "apheresis_plasma";
