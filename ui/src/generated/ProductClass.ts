// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * What a transport box carries, which decides the temperature it must stay in
 * (domain.md section 5).
 */
export type ProductClass = "red_cell_whole_blood" | "platelet_whole_blood" | "apheresis_platelets" | "apheresis_plasma";
