// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
export type Vitals = { weight_kg: number, systolic_mmhg: number, diastolic_mmhg: number, pulse_bpm: number, temperature_c: number, };
