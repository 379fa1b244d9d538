// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
/**
 * A bag packed by typing its DIN, with who confirms it (see [`Store::pack_bag_manual`]).
 */
export type ManualPackEntry = { 
/**
 * The DIN as typed from the bag's label, with its check character.
 */
typed: string, reason: string, 
/**
 * The second crew member, who types their own PIN.
 */
witness: string, witness_pin: string, };
