// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { ConsentSignature } from "./ConsentSignature";

/**
 * The consent the donor gave for this screening.
 */
export type Consent = { 
/**
 * The version of the consent text the donor read.
 */
version: string, signed_at: string, signature: ConsentSignature, };
