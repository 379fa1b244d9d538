// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Localized } from "./Localized";

/**
 * The consent text the consent screen shows: the version the donor signs and the
 * text in both languages (the donor may switch).
 */
export type ConsentView = { version: string, title: Localized, text: Localized, 
/**
 * The signature box and the least a signature must be
 * (`lifebridge_domain::consent`), so the pad scales to the box and enables
 * "signed" exactly when the store would take the signature.
 */
box_width: number, box_height: number, min_points: number, min_extent: number, max_points: number, };
