// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * Where a DIN range came from: leased by the station to this device, or a roll of
 * labels the station pre-printed and registered for it.
 */
export type DinRangeSource = "leased" | "pre_printed" | "training";
